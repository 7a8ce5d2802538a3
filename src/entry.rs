//! What `#[corium::main]` and `#[corium::test]` expand to call. Hidden: the
//! attributes are the API.
use std::future::Future;
use std::io;

use crate::runtime::{Builder, Runtime};

/// Builds `main`'s runtime. A build error (an invalid `CORIUM_FLAVOR`, say)
/// is a startup error: the message on stderr and exit status 1, not a panic.
pub fn main_runtime(builder: io::Result<Builder>) -> Runtime {
    match builder.and_then(|mut builder| builder.build()) {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            std::process::exit(1)
        }
    }
}

/// Builds a test's runtime; a build error fails the test.
#[track_caller]
pub fn test_runtime(builder: io::Result<Builder>) -> Runtime {
    match builder.and_then(|mut builder| builder.build()) {
        Ok(runtime) => runtime,
        Err(e) => panic!("#[corium::test]: cannot start the runtime: {e}"),
    }
}

/// Returns `body` unchanged; naming `T` tells the compiler the async block's
/// output before it checks the block, so `?` in the body converts errors
/// into the function's return type.
pub fn with_output<T, F: Future<Output = T>>(body: F) -> F {
    body
}
