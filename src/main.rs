//! The `yearbook` binary: parse the command line, run the command, map the outcome to an
//! exit code (0 hits, 1 no hits, 2 error, 75 another ingest is running). A closed pipe is
//! not an error.

mod commands;

use std::process::ExitCode;

use clap::Parser;
use yearbook::cli::{Cli, ColorWhen};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let choice = match cli.color {
        ColorWhen::Auto => anstream::ColorChoice::Auto,
        ColorWhen::Always => anstream::ColorChoice::Always,
        ColorWhen::Never => anstream::ColorChoice::Never,
    };
    choice.write_global();
    match commands::run(cli.command) {
        Ok(outcome) => outcome.exit_code(),
        Err(error) if commands::is_broken_pipe(&error) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("yearbook: error: {error:#}");
            commands::exit_code_for(&error)
        }
    }
}
