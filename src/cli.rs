//! The command line, as clap derive types. No logic lives here: every `///` line is help text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Local full-text search for Chinese regional yearbooks (地方年鉴).
///
/// Ingest a folder of yearbook pages (HTML in UTF-8/GBK/Big5, pages saved as text from a
/// browser, JSON Lines exports) and search their entries, ranked, with their place in the
/// yearbook and a highlighted snippet.
#[derive(Debug, Parser)]
#[command(name = "yearbook", version)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// When to colour output: auto (only on a terminal, never with NO_COLOR), always, never.
    #[arg(long, global = true, value_enum, default_value_t = ColorWhen::Auto)]
    pub color: ColorWhen,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorWhen {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Index the corpus folder; run again when volumes arrive: only what changed is re-read.
    Ingest(IngestArgs),
    /// Search the entries, best first.
    Search(SearchArgs),
    /// Print a whole entry (with its sub-parts) by id.
    Show(ShowArgs),
    /// Files and entries per yearbook and volume, encodings seen, files skipped and why.
    Stats(IndexArgs),
    /// Check the index: checksums, every segment, every stored entry.
    Verify(IndexArgs),
}

#[derive(Debug, Args)]
pub struct IndexArgs {
    /// Folder holding the index.
    #[arg(long, default_value = "index")]
    pub index: PathBuf,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct IngestArgs {
    /// Folder of yearbook pages to index.
    #[arg(long, default_value = "corpus")]
    pub corpus: PathBuf,
    /// Folder holding the index.
    #[arg(long, default_value = "index")]
    pub index: PathBuf,
    /// Start from an empty index instead of updating it.
    #[arg(long)]
    pub rebuild: bool,
    /// If another ingest is running on the index, wait for it instead of exiting (code 75).
    #[arg(long)]
    pub wait: bool,
    /// Skip files larger than this many megabytes.
    #[arg(long, default_value_t = 64)]
    pub max_file_mb: u64,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct SearchArgs {
    /// What to look for. Words separated by spaces must all match; "…" requires the exact
    /// phrase; -word excludes entries containing it (quote the query or put it after `--`).
    #[arg(required_unless_present = "queries")]
    pub query: Vec<String>,
    /// Folder holding the index.
    #[arg(long, default_value = "index")]
    pub index: PathBuf,
    /// Corpus to index first when there is no index yet.
    #[arg(long, default_value = "corpus")]
    pub corpus: PathBuf,
    /// Number of hits to show.
    #[arg(long, short = 'n', default_value_t = 10)]
    pub limit: usize,
    /// Only entries of this yearbook (e.g. 内蒙古年鉴).
    #[arg(long)]
    pub yearbook: Option<String>,
    /// Only entries of this volume: a year (2017) or the volume name (2017卷).
    #[arg(long)]
    pub volume: Option<String>,
    /// Only entries of this chapter (e.g. 农牧林水).
    #[arg(long)]
    pub chapter: Option<String>,
    /// Print JSON Lines, one object per hit (schema in the README).
    #[arg(long)]
    pub json: bool,
    /// Batch mode: read `qid<TAB>query` lines from FILE (- for stdin) and print JSON Lines
    /// hits carrying their qid; the index is opened once.
    #[arg(long, value_name = "FILE")]
    pub queries: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The entry id, as `search` prints it.
    pub id: String,
    /// Folder holding the index.
    #[arg(long, default_value = "index")]
    pub index: PathBuf,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}
