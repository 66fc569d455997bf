//! `yearbook ingest`: bring the index in line with the corpus.

use std::io::IsTerminal;

use anyhow::Context;
use yearbook::cli::IngestArgs;
use yearbook::ingest::{ingest, IngestOptions};

use super::{print_warning, Outcome};

pub fn run(args: &IngestArgs) -> anyhow::Result<Outcome> {
    let mut options = IngestOptions::new(&args.corpus, &args.index);
    options.rebuild = args.rebuild;
    options.wait = args.wait;
    options.max_file_bytes = args.max_file_mb.saturating_mul(1024 * 1024);
    options.progress = !args.quiet && std::io::stderr().is_terminal();
    let summary = ingest(&options, &mut print_warning).with_context(|| {
        format!(
            "ingesting {} into {}",
            args.corpus.display(),
            args.index.display()
        )
    })?;
    if let Some(reason) = &summary.rebuilt {
        eprintln!("yearbook: rebuilt the index from scratch: {reason}");
    }
    println!("{summary}");
    if std::env::var_os("YEARBOOK_TIMINGS").is_some() {
        eprintln!(
            "yearbook: timings: feed {:.2} s, commit {:.2} s, merge {:.2} s",
            summary.feed_seconds, summary.commit_seconds, summary.merge_seconds
        );
    }
    Ok(Outcome::Success)
}
