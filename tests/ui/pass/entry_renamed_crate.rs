// A crate that imports corium under another name says so with `crate`.
extern crate corium as rt;

#[rt::main(crate = "rt", flavor = "current_thread")]
async fn main() {
    assert_eq!(
        rt::runtime::Handle::current().runtime_flavor(),
        rt::runtime::RuntimeFlavor::CurrentThread
    );
}
