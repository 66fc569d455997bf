//! One module per subcommand; errors here are `anyhow` with context for the user.

mod ingest;
mod search;
mod show;
mod stats;
mod verify;

use std::any::Any;
use std::process::ExitCode;

use yearbook::cli::Command;

/// What a command achieved, for the exit code.
pub enum Outcome {
    /// Something was found or done.
    Success,
    /// The search found nothing.
    NoHits,
    /// The command ran and found a problem it has reported (exit code 2).
    Failed,
}

impl Outcome {
    pub fn exit_code(self) -> ExitCode {
        match self {
            Outcome::Success => ExitCode::SUCCESS,
            Outcome::NoHits => ExitCode::from(1),
            Outcome::Failed => ExitCode::from(2),
        }
    }
}

/// Exit code when another ingest holds the index (EX_TEMPFAIL).
pub const EXIT_BUSY: u8 = 75;

pub fn run(command: Command) -> anyhow::Result<Outcome> {
    match command {
        Command::Ingest(args) => ingest::run(&args),
        Command::Search(args) => search::run(&args),
        Command::Show(args) => show::run(&args),
        Command::Stats(args) => stats::run(&args),
        Command::Verify(args) => verify::run(&args),
    }
}

pub fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

pub fn exit_code_for(error: &anyhow::Error) -> ExitCode {
    let busy = error.chain().any(|cause| {
        matches!(
            cause.downcast_ref::<yearbook::Error>(),
            Some(yearbook::Error::Busy(_))
        )
    });
    ExitCode::from(if busy { EXIT_BUSY } else { 2 })
}

/// Prints an ingest warning on stderr.
pub fn print_warning(warning: yearbook::ingest::Warning) {
    eprintln!("yearbook: warning: {}: {}", warning.path, warning.reason);
}

/// The text a panic carried.
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    match payload.downcast_ref::<&str>() {
        Some(text) => text.to_string(),
        None => payload
            .downcast_ref::<String>()
            .cloned()
            .unwrap_or_else(|| "unknown failure".into()),
    }
}

/// What the user is told when tantivy panics, as it does on some damaged index files.
pub fn internal_failure(message: &str) -> String {
    format!(
        "internal failure, the index may be damaged ({message}); \
         run `yearbook verify`, then `yearbook ingest --rebuild`"
    )
}
