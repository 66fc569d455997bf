//! Walks the corpus folder and lists the pages to ingest.
//!
//! Output is every regular file with a page extension (`.html`, `.htm`, `.shtml`, `.xhtml`,
//! `.txt`, `.jsonl`), sorted by path, with its size and modification time, plus one
//! [`Skipped`] record (path and reason) for everything that could not be looked at: an
//! unreadable folder, a symlink loop, a FIFO, a file that vanished during the walk. Hidden
//! entries and the index folder itself are never descended into.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use walkdir::WalkDir;

/// One file of the corpus, as the walk saw it.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// Absolute (or as given) path used to read the file.
    pub path: PathBuf,
    /// Path relative to the corpus root, as displayed to users.
    pub relative: String,
    /// Key identifying the file in the index: the relative path, or for a name that is not
    /// valid UTF-8, an escaped form of its raw bytes (so two such names never collide).
    pub key: String,
    pub size: u64,
    /// Modification time in nanoseconds since the Unix epoch (0 when unknown).
    pub mtime_ns: i64,
    pub format: Format,
}

/// How a page is to be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Html,
    Text,
    JsonLines,
}

/// Something the walk could not take, and why.
#[derive(Debug, Clone)]
pub struct Skipped {
    pub path: String,
    /// Key of the file in the index when the path is a page that exists but could not be
    /// examined this time (its old entries are kept), else `None`.
    pub key: Option<String>,
    pub reason: String,
}

/// What the walk found.
#[derive(Debug, Default)]
pub struct Discovery {
    pub files: Vec<SourceFile>,
    pub skipped: Vec<Skipped>,
}

/// Classifies a path by its extension.
pub fn format_of(path: &Path) -> Option<Format> {
    let extension = path.extension()?.to_str()?.to_ascii_lowercase();
    match extension.as_str() {
        "html" | "htm" | "shtml" | "xhtml" => Some(Format::Html),
        "txt" => Some(Format::Text),
        "jsonl" => Some(Format::JsonLines),
        _ => None,
    }
}

/// Escapes a relative path into an index key; UTF-8 paths are their own key.
pub fn path_key(relative: &Path) -> (String, String) {
    match relative.to_str() {
        Some(text) => (text.replace('\\', "/"), text.replace('\\', "/")),
        None => {
            let display = relative.to_string_lossy().into_owned();
            let bytes = os_bytes(relative.as_os_str());
            let escaped: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            (format!("\u{0}bytes:{escaped}"), display)
        }
    }
}

#[cfg(unix)]
fn os_bytes(name: &OsStr) -> Vec<u8> {
    use std::os::unix::ffi::OsStrExt;
    name.as_bytes().to_vec()
}

#[cfg(not(unix))]
fn os_bytes(name: &OsStr) -> Vec<u8> {
    name.to_string_lossy().as_bytes().to_vec()
}

/// Walks `root`, never entering `exclude` (the index folder) or hidden entries.
pub fn discover(root: &Path, exclude: Option<&Path>) -> Discovery {
    let exclude = exclude.and_then(|path| path.canonicalize().ok());
    let mut found = Discovery::default();
    let walker = WalkDir::new(root)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|entry| {
            let hidden = entry.depth() > 0
                && entry
                    .file_name()
                    .to_str()
                    .is_some_and(|name| name.starts_with('.'));
            let is_index = exclude.as_ref().is_some_and(|excluded| {
                entry.file_type().is_dir()
                    && entry
                        .path()
                        .canonicalize()
                        .is_ok_and(|path| &path == excluded)
            });
            !hidden && !is_index
        });
    for item in walker {
        let entry = match item {
            Ok(entry) => entry,
            Err(error) => {
                let path = error
                    .path()
                    .map(|p| relative_display(root, p))
                    .unwrap_or_else(|| root.display().to_string());
                let reason = if error.loop_ancestor().is_some() {
                    "symbolic link loop".to_string()
                } else {
                    match error.io_error() {
                        Some(io) => io.to_string(),
                        None => error.to_string(),
                    }
                };
                // A page we cannot stat keeps its old entries: record its key.
                let key = error
                    .path()
                    .filter(|p| format_of(p).is_some())
                    .and_then(|p| p.strip_prefix(root).ok())
                    .map(|rel| path_key(rel).0);
                found.skipped.push(Skipped { path, key, reason });
                continue;
            }
        };
        let path = entry.path();
        let Some(format) = format_of(path) else {
            continue;
        };
        let relative_path = path.strip_prefix(root).unwrap_or(path);
        let (key, relative) = path_key(relative_path);
        if !entry.file_type().is_file() {
            if !entry.file_type().is_dir() {
                found.skipped.push(Skipped {
                    path: relative,
                    key: None,
                    reason: "not a regular file (FIFO, socket or device)".into(),
                });
            }
            continue;
        }
        match entry.metadata() {
            Ok(metadata) => {
                let mtime_ns = metadata
                    .modified()
                    .ok()
                    .and_then(|time| time.duration_since(UNIX_EPOCH).ok())
                    .map(|since| since.as_nanos() as i64)
                    .unwrap_or(0);
                found.files.push(SourceFile {
                    path: path.to_path_buf(),
                    relative,
                    key,
                    size: metadata.len(),
                    mtime_ns,
                    format,
                });
            }
            Err(error) => found.skipped.push(Skipped {
                path: relative,
                key: Some(key),
                reason: error.to_string(),
            }),
        }
    }
    found
}

fn relative_display(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .to_string_lossy()
        .into_owned()
}
