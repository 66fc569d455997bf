//! The `yearbook` binary: parse the command line, run the command, map the outcome to an
//! exit code (0 hits, 1 no hits, 2 error, 75 another ingest is running). A closed pipe is
//! not an error, and a panic (tantivy panics on some damaged index files) becomes a one-line
//! message, never a trace.

mod commands;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::process::ExitCode;
use std::sync::Mutex;

use clap::Parser;
use yearbook::cli::{Cli, ColorWhen};

/// The message of the last panic, kept by the hook for the one-line report.
static PANIC_MESSAGE: Mutex<Option<String>> = Mutex::new(None);

fn main() -> ExitCode {
    let cli = Cli::parse();
    let choice = match cli.color {
        ColorWhen::Auto => anstream::ColorChoice::Auto,
        ColorWhen::Always => anstream::ColorChoice::Always,
        ColorWhen::Never => anstream::ColorChoice::Never,
    };
    choice.write_global();
    if std::env::var_os("YEARBOOK_BACKTRACE").is_none() {
        std::panic::set_hook(Box::new(|info| {
            let message = commands::panic_message(info.payload());
            let place = info
                .location()
                .map(|l| format!(" at {}:{}", l.file(), l.line()));
            *PANIC_MESSAGE.lock().unwrap_or_else(|e| e.into_inner()) =
                Some(format!("{message}{}", place.unwrap_or_default()));
        }));
    }
    match catch_unwind(AssertUnwindSafe(|| commands::run(cli.command))) {
        Ok(Ok(outcome)) => outcome.exit_code(),
        Ok(Err(error)) if commands::is_broken_pipe(&error) => ExitCode::SUCCESS,
        Ok(Err(error)) => {
            eprintln!("yearbook: error: {error:#}");
            commands::exit_code_for(&error)
        }
        Err(_) => {
            let message = PANIC_MESSAGE
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take()
                .unwrap_or_else(|| "unknown failure".into());
            eprintln!("yearbook: error: {}", commands::internal_failure(&message));
            ExitCode::from(2)
        }
    }
}
