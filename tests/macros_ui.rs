//! What the macros accept and what they refuse, with the compiler's
//! messages checked in (`tests/ui/*.stderr`, written by the installed
//! toolchain: `TRYBUILD=overwrite cargo test --test macros_ui` after a
//! deliberate change to a message).
#[test]
fn macros_refuse_mistakes_with_a_message_that_says_what_to_write() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
    cases.pass("tests/ui/pass/*.rs");
}
