//! The `linres` command line. Commands live in `cmd/`; this file only reports errors.

mod cmd;

use std::process::ExitCode;

fn main() -> ExitCode {
    match cmd::run() {
        Ok(code) => code,
        Err(e) => {
            cmd::out::errln!("error: {e:#}");
            ExitCode::from(cmd::exit_code_of(&e))
        }
    }
}
