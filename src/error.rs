//! The library's error type: one variant per failure a user can act on.

use std::path::PathBuf;

/// Errors of the yearbook library.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("no index in {0} (run `yearbook ingest` first)")]
    NoIndex(PathBuf),
    #[error("the index in {dir} cannot be used: {why}")]
    Incompatible { dir: PathBuf, why: String },
    #[error("the index in {dir} was built with {why}; run `yearbook ingest` to rebuild it")]
    Stale { dir: PathBuf, why: String },
    #[error("another ingest is running on {0}")]
    Busy(PathBuf),
    #[error("the index is damaged: {0}; run `yearbook verify`, then `yearbook ingest --rebuild`")]
    Damaged(String),
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("reading the user dictionary {path}: {why}")]
    Dictionary { path: PathBuf, why: String },
    #[error("invalid query: {0}")]
    Query(String),
    #[error("no entry with id {0}")]
    NoSuchEntry(String),
    #[error(transparent)]
    Tantivy(#[from] tantivy::TantivyError),
}

/// Result with the library's error.
pub type Result<T, E = Error> = std::result::Result<T, E>;
