//! Hermetic helpers: a `yearbook` command with a scrubbed environment, temporary corpora and
//! indexes, and the real page from the committed sample corpus.

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use tempfile::TempDir;
use yearbook::ingest::IngestOptions;
use yearbook::search::Hit;

/// Options for an in-process ingest. It waits for the writer lock: other tests spawn
/// processes, and a child forked at the wrong moment briefly shares a released lock's
/// file description.
pub fn ingest_options(corpus: impl Into<PathBuf>, index: impl Into<PathBuf>) -> IngestOptions {
    let mut options = IngestOptions::new(corpus, index);
    options.wait = true;
    options
}

/// The real page, committed in the sample corpus.
pub fn real_page_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/nmg-2017-nongmulinshui-fupinkaifa.txt")
}

/// A `yearbook` command that sees none of the caller's colour or pager settings.
pub fn yearbook() -> Command {
    let mut command = Command::cargo_bin("yearbook").expect("the binary is built");
    for variable in ["NO_COLOR", "CLICOLOR", "CLICOLOR_FORCE", "PAGER", "TERM"] {
        command.env_remove(variable);
    }
    command
}

/// A temporary corpus folder and an index folder beside it.
pub struct Workspace {
    pub dir: TempDir,
}

impl Workspace {
    pub fn new() -> Self {
        let dir = TempDir::new().expect("temp dir");
        std::fs::create_dir_all(dir.path().join("corpus")).unwrap();
        Workspace { dir }
    }

    pub fn corpus(&self) -> PathBuf {
        self.dir.path().join("corpus")
    }

    pub fn index(&self) -> PathBuf {
        self.dir.path().join("index")
    }

    /// Writes a corpus file (creating folders).
    pub fn write(&self, relative: &str, bytes: impl AsRef<[u8]>) {
        let path = self.corpus().join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }

    /// Runs `yearbook ingest` on this workspace and returns its output.
    pub fn ingest(&self) -> Output {
        yearbook()
            .arg("ingest")
            .arg("--corpus")
            .arg(self.corpus())
            .arg("--index")
            .arg(self.index())
            .output()
            .unwrap()
    }

    /// Runs `yearbook search QUERY` (human output) on this workspace's index.
    pub fn search_output(&self, query: &str) -> Output {
        yearbook()
            .args(["search", "--index"])
            .arg(self.index())
            .arg(query)
            .output()
            .unwrap()
    }

    /// Runs `yearbook search --json` and deserializes the hits.
    pub fn search(&self, query: &str, extra: &[&str]) -> Vec<Hit> {
        let mut command = yearbook();
        command
            .args(["search", "--json", "--index"])
            .arg(self.index())
            .args(extra);
        if !extra.contains(&"--limit") {
            command.args(["--limit", "1000"]);
        }
        let output = command.arg(query).output().unwrap();
        assert!(
            output.status.code() == Some(0) || output.status.code() == Some(1),
            "search failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        parse_hits(&output.stdout)
    }
}

/// Deserializes JSON Lines hits.
pub fn parse_hits(stdout: &[u8]) -> Vec<Hit> {
    String::from_utf8(stdout.to_vec())
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).expect("every line is a hit"))
        .collect()
}

/// (heading, subheading) of a hit, for comparisons.
pub fn key(hit: &Hit) -> (String, Option<String>) {
    (hit.heading.clone(), hit.subheading.clone())
}
