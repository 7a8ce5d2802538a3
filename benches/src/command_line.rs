//! How the benchmark programs answer their command line: `--help` prints
//! the usage to stdout and succeeds; a bad argument prints what is wrong
//! and the usage to stderr and exits with status 2.

use std::process::ExitCode;

/// Reads the program's arguments (without its name) with `parse`, which
/// returns `Ok(None)` for `--help` and `Err` with the message to print for
/// a bad argument. Returns the options and the arguments (for the report's
/// command line), or, once the usage is printed, the code to exit with.
pub fn parse<T>(
    usage: &str,
    parse: impl FnOnce(Vec<String>) -> Result<Option<T>, String>,
) -> Result<(T, Vec<String>), ExitCode> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match parse(args.clone()) {
        Ok(Some(options)) => Ok((options, args)),
        Ok(None) => {
            println!("{usage}");
            Err(ExitCode::SUCCESS)
        }
        Err(message) => {
            eprintln!("{message}\n\n{usage}");
            Err(ExitCode::from(2))
        }
    }
}
