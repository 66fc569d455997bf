//! Ingest: bring the index in line with the corpus, re-reading only what changed.
//!
//! The file records in the index ([`crate::index`]) say what each file was when it was last
//! read. A file whose size and modification time are unchanged is not opened again; a file
//! whose bytes hash the same is only re-recorded; a changed file has all its entries replaced;
//! a file that is gone loses its entries; a file that cannot be read this time keeps its old
//! entries. Everything lands in one commit, so an interrupted ingest leaves the index at the
//! previous commit, and the next run converges to what a clean ingest gives.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;
use tantivy::collector::DocSetCollector;
use tantivy::query::TermQuery;
use tantivy::schema::IndexRecordOption;
use tantivy::{doc, Index, IndexWriter, TantivyDocument, Term};

use crate::decode::decode;
use crate::discover::{discover, Format, SourceFile};
use crate::index::{self, BuildInfo, Fields, KIND_DICTIONARY, KIND_ENTRY, KIND_FILE};
use crate::parse::{self, jsonl::JsonEntry};
use crate::place::{place_from_segments, Place};
use crate::sectionize::{sectionize, Entry};
use crate::{Error, Result};

/// Pages nested deeper than this are refused: html5ever's time grows with depth squared.
pub const MAX_HTML_DEPTH: usize = 4000;

/// How to ingest.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    pub corpus: PathBuf,
    pub index: PathBuf,
    /// Start from an empty index.
    pub rebuild: bool,
    /// Wait for another ingest to finish instead of failing at once.
    pub wait: bool,
    /// Files larger than this many bytes are skipped.
    pub max_file_bytes: u64,
    /// Show a progress bar on stderr.
    pub progress: bool,
}

impl IngestOptions {
    pub fn new(corpus: impl Into<PathBuf>, index: impl Into<PathBuf>) -> Self {
        IngestOptions {
            corpus: corpus.into(),
            index: index.into(),
            rebuild: false,
            wait: false,
            max_file_bytes: 64 * 1024 * 1024,
            progress: false,
        }
    }
}

/// A file that was not indexed (or only partly), and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub path: String,
    pub reason: String,
}

/// What an ingest did.
#[derive(Debug, Default, Clone)]
pub struct Summary {
    pub added: usize,
    pub changed: usize,
    pub removed: usize,
    pub unchanged: usize,
    pub skipped: usize,
    /// Files read that held no entry.
    pub empty: usize,
    pub entries_indexed: usize,
    /// Files actually opened and read this run.
    pub files_read: usize,
    pub seconds: f64,
    /// Of `seconds`: walking, reading, parsing and feeding the writer.
    pub feed_seconds: f64,
    /// Of `seconds`: the commit (the writer finishing and serializing its segments).
    pub commit_seconds: f64,
    /// Of `seconds`: waiting for segment merges to finish.
    pub merge_seconds: f64,
    /// Why the whole index was rebuilt, when it was.
    pub rebuilt: Option<String>,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "files: {} added, {} changed, {} removed, {} unchanged, {} skipped",
            self.added, self.changed, self.removed, self.unchanged, self.skipped
        )?;
        if self.empty > 0 {
            write!(f, " ({} without entries)", self.empty)?;
        }
        write!(
            f,
            "; {} entries indexed in {:.2} s",
            self.entries_indexed, self.seconds
        )
    }
}

/// What the index remembers about one file.
#[derive(Debug, Clone)]
struct FileRecord {
    size: u64,
    mtime_ns: i64,
    hash: String,
    entries: u64,
    encoding: String,
    /// Why the file yielded nothing, when it did not.
    note: String,
}

/// The outcome of reading one file.
enum Outcome {
    /// Same bytes as recorded: only the record is refreshed.
    Touched(FileRecord),
    /// New content: its documents and record.
    Indexed {
        documents: Vec<TantivyDocument>,
        record: FileRecord,
    },
    /// Could not be read this time: old entries stay.
    Unreadable(String),
    /// Read, but refused (binary, too large, undecodable …): recorded so it is not re-read.
    Refused(FileRecord),
}

/// Runs an ingest. `warn` receives every file that is skipped or yields nothing.
pub fn ingest(options: &IngestOptions, warn: &mut dyn FnMut(Warning)) -> Result<Summary> {
    let started = Instant::now();
    let dictionary_path = options.corpus.join("dict.txt");
    let dictionary = match std::fs::read(&dictionary_path) {
        Ok(bytes) => Some(String::from_utf8(bytes).map_err(|_| Error::Dictionary {
            path: dictionary_path.clone(),
            why: "not UTF-8".into(),
        })?),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => None,
        Err(error) => {
            return Err(Error::Dictionary {
                path: dictionary_path,
                why: error.to_string(),
            })
        }
    };
    let wanted = BuildInfo::current(
        dictionary
            .as_deref()
            .map(|text| format!("{:016x}", xxhash_rust::xxh3::xxh3_64(text.as_bytes()))),
    );
    if !options.corpus.is_dir() {
        return Err(Error::Io {
            what: format!("reading corpus folder {}", options.corpus.display()),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "not a folder"),
        });
    }

    let (index, fields, stale) = match index::open_for_writing(&options.index, &wanted) {
        // An index of another format cannot be used or updated: it is replaced. One that
        // cannot even be opened (a damaged meta.json) only when the user asks for a rebuild.
        Err(Error::Incompatible { why, .. }) => {
            remove_index_files(&options.index)?;
            let (index, fields, _) = index::open_for_writing(&options.index, &wanted)?;
            (index, fields, Some(why))
        }
        Err(Error::Tantivy(_)) if options.rebuild => {
            remove_index_files(&options.index)?;
            index::open_for_writing(&options.index, &wanted)?
        }
        other => other?,
    };
    // The user dictionary only cuts queries: the index keeps a copy for them, so a new one
    // is checked here and replaces the old one without re-reading any page.
    let held_dictionary = index::build_info(&index)?.and_then(|info| info.dictionary);
    let dictionary_changed =
        stale.is_some() || options.rebuild || held_dictionary != wanted.dictionary;
    if let Some(text) = dictionary.as_deref().filter(|_| dictionary_changed) {
        crate::analyze::build_jieba(Some(text)).map_err(|error| Error::Dictionary {
            path: options.corpus.join("dict.txt"),
            why: error.to_string(),
        })?;
    }
    index::register_analyzers(&index);
    let mut writer = acquire_writer(&index, &options.index, options.wait)?;
    // Leftovers of an interrupted run (orphan segment files) go first.
    let _ = writer.garbage_collect_files().wait();

    // Everything up to the commit: on any failure (a full disk, an I/O error) the writer is
    // dropped unused, the index stays at its last commit, and the files this run wrote are
    // collected so that a full disk does not stay full.
    let updated = (|| -> Result<Summary> {
        let mut summary = Summary::default();
        let rebuild_reason = if options.rebuild {
            Some("--rebuild was given".to_string())
        } else {
            stale
        };
        let records = if let Some(reason) = rebuild_reason {
            writer.delete_all_documents()?;
            summary.rebuilt = Some(reason);
            HashMap::new()
        } else {
            load_records(&index, &fields)?
        };

        if dictionary_changed {
            writer.delete_term(Term::from_field_text(fields.kind, KIND_DICTIONARY));
            if let Some(text) = &dictionary {
                writer.add_document(doc!(
                    fields.kind => KIND_DICTIONARY,
                    fields.dictionary => text.as_str(),
                ))?;
            }
        }

        let discovery = discover(&options.corpus, Some(&options.index));
        let mut kept_keys: HashSet<String> = HashSet::new();
        for skipped in &discovery.skipped {
            summary.skipped += 1;
            if let Some(key) = &skipped.key {
                kept_keys.insert(key.clone());
            }
            warn(Warning {
                path: skipped.path.clone(),
                reason: skipped.reason.clone(),
            });
        }

        let mut to_read: Vec<&SourceFile> = Vec::new();
        for file in &discovery.files {
            kept_keys.insert(file.key.clone());
            match records.get(&file.key) {
                Some(record) if record.size == file.size && record.mtime_ns == file.mtime_ns => {
                    summary.unchanged += 1;
                    if !record.note.is_empty() {
                        if record.entries == 0 && record.encoding.is_empty() {
                            summary.skipped += 1;
                        } else {
                            summary.empty += 1;
                        }
                        warn(Warning {
                            path: file.relative.clone(),
                            reason: format!("{} (unchanged since the last ingest)", record.note),
                        });
                    }
                }
                _ => to_read.push(file),
            }
        }

        let progress = if options.progress {
            let total: u64 = to_read.iter().map(|f| f.size).sum();
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} {binary_bytes_per_sec} ETA {eta} {msg}",
                )
                .expect("static template"),
            );
            bar
        } else {
            ProgressBar::hidden()
        };

        // Files are read and parsed on the rayon pool in chunks while this thread feeds the
        // previous chunk's documents to the writer: parsing and indexing overlap, and at most a
        // few chunks are in memory whatever the corpus size.
        let (sender, receiver) = std::sync::mpsc::sync_channel::<Vec<(&SourceFile, Outcome)>>(2);
        let applied: Result<()> = std::thread::scope(|scope| {
            let records = &records;
            let fields = &fields;
            let to_read = &to_read;
            scope.spawn(move || {
                for chunk in to_read.chunks(64) {
                    let outcomes: Vec<(&SourceFile, Outcome)> = chunk
                        .par_iter()
                        .map(|file| {
                            (
                                *file,
                                read_file(file, records.get(&file.key), fields, options),
                            )
                        })
                        .collect();
                    if sender.send(outcomes).is_err() {
                        break;
                    }
                }
            });
            for outcomes in receiver {
                for (file, outcome) in outcomes {
                    apply(
                        &mut writer,
                        fields,
                        records,
                        file,
                        outcome,
                        &mut summary,
                        warn,
                        &progress,
                    )?;
                }
                progress.set_message(format!(
                    "{} files, {} entries",
                    summary.files_read, summary.entries_indexed
                ));
            }
            Ok(())
        });
        applied?;
        progress.set_message(format!(
            "{} files, {} entries; committing",
            summary.files_read, summary.entries_indexed
        ));
        progress.enable_steady_tick(Duration::from_millis(120));

        for key in records.keys() {
            if !kept_keys.contains(key) {
                summary.removed += 1;
                writer.delete_term(Term::from_field_text(fields.path_key, key));
                writer.delete_term(Term::from_field_text(fields.file_key, key));
            }
        }

        summary.feed_seconds = started.elapsed().as_secs_f64();
        let payload = serde_json::to_string(&wanted).expect("build info serializes");
        let mut prepared = writer.prepare_commit()?;
        prepared.set_payload(&payload);
        prepared.commit()?;
        progress.finish_and_clear();
        Ok(summary)
    })();
    let mut summary = match updated {
        Ok(summary) => summary,
        Err(error) => {
            drop(writer);
            clean_up_after_failure(&index, &options.index);
            return Err(error);
        }
    };
    summary.commit_seconds = started.elapsed().as_secs_f64() - summary.feed_seconds;
    // Merges run in the writer's threads and die with it: let them finish so the segment
    // count stays bounded over many small ingests.
    writer.wait_merging_threads()?;
    sync_dir(&options.index);
    summary.seconds = started.elapsed().as_secs_f64();
    summary.merge_seconds = summary.seconds - summary.feed_seconds - summary.commit_seconds;
    Ok(summary)
}

/// Applies one file's outcome to the writer and the summary.
#[allow(clippy::too_many_arguments)]
fn apply(
    writer: &mut IndexWriter,
    fields: &Fields,
    records: &HashMap<String, FileRecord>,
    file: &SourceFile,
    outcome: Outcome,
    summary: &mut Summary,
    warn: &mut dyn FnMut(Warning),
    progress: &ProgressBar,
) -> Result<()> {
    progress.inc(file.size);
    // Warnings are printed above the bar, not through it.
    let warn = &mut |warning: Warning| progress.suspend(|| warn(warning));
    let existed = records.contains_key(&file.key);
    let key_terms = (
        Term::from_field_text(fields.path_key, &file.key),
        Term::from_field_text(fields.file_key, &file.key),
    );
    match outcome {
        Outcome::Touched(record) => {
            summary.files_read += 1;
            summary.unchanged += 1;
            writer.delete_term(key_terms.1);
            writer.add_document(record_document(fields, file, &record))?;
        }
        Outcome::Indexed { documents, record } => {
            summary.files_read += 1;
            if existed {
                summary.changed += 1;
            } else {
                summary.added += 1;
            }
            if documents.is_empty() {
                summary.empty += 1;
                warn(Warning {
                    path: file.relative.clone(),
                    reason: record.note.clone(),
                });
            }
            summary.entries_indexed += documents.len();
            // A file without a record has nothing in the index to replace (records and
            // entries change in the same commit); skipping its deletes spares a full ingest
            // one term lookup per file per segment.
            if existed {
                writer.delete_term(key_terms.0);
                writer.delete_term(key_terms.1);
            }
            for document in documents {
                writer.add_document(document)?;
            }
            writer.add_document(record_document(fields, file, &record))?;
        }
        Outcome::Unreadable(reason) => {
            summary.skipped += 1;
            warn(Warning {
                path: file.relative.clone(),
                reason: if existed {
                    format!("{reason}; its entries from the last ingest are kept")
                } else {
                    reason
                },
            });
        }
        Outcome::Refused(record) => {
            summary.files_read += 1;
            summary.skipped += 1;
            warn(Warning {
                path: file.relative.clone(),
                reason: record.note.clone(),
            });
            if existed {
                writer.delete_term(key_terms.0);
                writer.delete_term(key_terms.1);
            }
            writer.add_document(record_document(fields, file, &record))?;
        }
    }
    Ok(())
}

/// After a failed run: with the writer lock held again (so no other ingest is writing),
/// collect tantivy's garbage and remove segment files no commit refers to. On a full disk
/// tantivy may not even have managed to record the files it created, so its own collection
/// alone can leave them behind.
fn clean_up_after_failure(index: &Index, dir: &Path) {
    let deadline = Instant::now() + Duration::from_secs(5);
    let cleaner = loop {
        match index.writer_with_num_threads::<TantivyDocument>(1, 15_000_000) {
            Ok(writer) => break writer,
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
            Err(_) => return,
        }
    };
    let _ = cleaner.garbage_collect_files().wait();
    let Ok(metas) = index.load_metas() else {
        return;
    };
    let live: HashSet<String> = metas
        .segments
        .iter()
        .map(|s| s.id().uuid_string())
        .collect();
    let _ = remove_files(dir, |name| {
        segment_of(name).is_some_and(|segment| !live.contains(segment))
    });
    drop(cleaner);
}

/// Memory of the indexing threads together, before each writes its segment out: it bounds
/// the ingest's memory whatever the corpus size and the number of cores. On two cores a
/// thread's segment holds about 200 MB of pages, which [`BoundedMerges`] leaves alone.
const WRITER_MEMORY_BYTES: usize = 500_000_000;

fn acquire_writer(index: &Index, dir: &Path, wait: bool) -> Result<IndexWriter> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .clamp(1, 4);
    loop {
        match index.writer_with_num_threads(threads, WRITER_MEMORY_BYTES) {
            Ok(writer) => {
                writer.set_merge_policy(Box::new(BoundedMerges::new(dir)));
                return Ok(writer);
            }
            Err(tantivy::TantivyError::LockFailure(
                tantivy::directory::error::LockError::LockBusy,
                _,
            )) => {
                if !wait {
                    return Err(Error::Busy(dir.to_path_buf()));
                }
                std::thread::sleep(Duration::from_millis(200));
            }
            Err(error) => return Err(error.into()),
        }
    }
}

/// The merge policy: tantivy's log-size levels, over small segments only, with every merge
/// bounded in size.
///
/// tantivy's default merges eight segments of a size into one, and those into one of eight
/// times the size, without end: each entry is rewritten once per level, so ingest time
/// grows faster than the corpus, and a merge maps all of its input at once (at 800 MB, one
/// merge read 600 MB of segments). Here a segment larger than half of [`MAX_MERGE_BYTES`]
/// is never merged again, and a merge takes the smallest segments of its level up to that
/// size: ingest stays linear in the corpus and its memory bounded, at the price of one
/// segment for every 128 to 256 MiB of index. A large segment that has lost most of its
/// entries (files changed or removed) is rewritten alone, to give their space back.
#[derive(Debug)]
struct BoundedMerges {
    dir: PathBuf,
    levels: tantivy::indexer::LogMergePolicy,
}

/// Largest merge, in bytes of its input segments.
const MAX_MERGE_BYTES: u64 = 256 * 1024 * 1024;

impl BoundedMerges {
    fn new(dir: &Path) -> BoundedMerges {
        BoundedMerges {
            dir: dir.to_path_buf(),
            levels: tantivy::indexer::LogMergePolicy::default(),
        }
    }

    /// The bytes of a segment's files.
    fn bytes_of(&self, segment: &tantivy::SegmentMeta) -> u64 {
        use tantivy::index::SegmentComponent::*;
        [Postings, Positions, FastFields, FieldNorms, Terms, Store]
            .into_iter()
            .filter_map(|component| {
                std::fs::metadata(self.dir.join(segment.relative_path(component))).ok()
            })
            .map(|metadata| metadata.len())
            .sum()
    }
}

impl tantivy::indexer::MergePolicy for BoundedMerges {
    fn compute_merge_candidates(
        &self,
        segments: &[tantivy::SegmentMeta],
    ) -> Vec<tantivy::indexer::MergeCandidate> {
        let bytes: HashMap<tantivy::index::SegmentId, u64> = segments
            .iter()
            .map(|segment| (segment.id(), self.bytes_of(segment)))
            .collect();
        let (small, large): (Vec<_>, Vec<_>) = segments
            .iter()
            .cloned()
            .partition(|segment| bytes[&segment.id()] <= MAX_MERGE_BYTES / 2);
        let mut candidates: Vec<tantivy::indexer::MergeCandidate> = self
            .levels
            .compute_merge_candidates(&small)
            .into_iter()
            .filter_map(|tantivy::indexer::MergeCandidate(mut ids)| {
                // The smallest segments, up to the bound, stay in the candidate, in the order
                // tantivy listed them (largest first): the merged segment takes the delete
                // cursor of the first one listed, and with the smallest (often the newest)
                // first, deletes made before it was written were never applied to the
                // others' entries, which came back next to their new versions.
                let mut smallest_first = ids.clone();
                smallest_first.sort_by_key(|id| bytes[id]);
                let mut total = 0;
                let kept: HashSet<tantivy::index::SegmentId> = smallest_first
                    .into_iter()
                    .take_while(|id| {
                        total += bytes[id];
                        total <= MAX_MERGE_BYTES
                    })
                    .collect();
                ids.retain(|id| kept.contains(id));
                (ids.len() >= 2).then_some(tantivy::indexer::MergeCandidate(ids))
            })
            .collect();
        candidates.extend(
            large
                .iter()
                .filter(|segment| segment.num_deleted_docs() * 2 > segment.max_doc())
                .map(|segment| tantivy::indexer::MergeCandidate(vec![segment.id()])),
        );
        candidates
    }
}

/// Makes the rename of meta.json durable (tantivy does not fsync the directory).
fn sync_dir(dir: &Path) {
    if let Ok(handle) = std::fs::File::open(dir) {
        let _ = handle.sync_all();
    }
}

/// Removes an incompatible index's files (never anything that is not tantivy's).
fn remove_index_files(dir: &Path) -> Result<()> {
    remove_files(dir, |name| {
        name == "meta.json" || name == ".managed.json" || segment_of(name).is_some()
    })
}

/// The segment a file of the index folder belongs to: `<32 hex digits>.<extension>`.
fn segment_of(name: &str) -> Option<&str> {
    let (stem, _) = name.split_once('.')?;
    (stem.len() == 32 && stem.bytes().all(|b| b.is_ascii_hexdigit())).then_some(stem)
}

/// Removes the files of `dir` whose names `doomed` selects.
fn remove_files(dir: &Path, doomed: impl Fn(&str) -> bool) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|source| Error::Io {
        what: format!("listing {}", dir.display()),
        source,
    })?;
    for entry in entries.flatten() {
        if doomed(&entry.file_name().to_string_lossy()) {
            std::fs::remove_file(entry.path()).map_err(|source| Error::Io {
                what: format!("removing {}", entry.path().display()),
                source,
            })?;
        }
    }
    Ok(())
}

fn load_records(index: &Index, fields: &Fields) -> Result<HashMap<String, FileRecord>> {
    let searcher = index::reader(index)?.searcher();
    let query = TermQuery::new(
        Term::from_field_text(fields.kind, KIND_FILE),
        IndexRecordOption::Basic,
    );
    let mut by_segment: HashMap<u32, Vec<u32>> = HashMap::new();
    for address in searcher.search(&query, &DocSetCollector)? {
        by_segment
            .entry(address.segment_ord)
            .or_default()
            .push(address.doc_id);
    }
    let mut records = HashMap::new();
    for (segment_ord, docs) in by_segment {
        let columns = searcher.segment_reader(segment_ord).fast_fields();
        let strings = |name: &str| -> Result<tantivy::columnar::StrColumn> {
            columns.str(name)?.ok_or_else(|| {
                Error::Damaged(format!("the file records lack their `{name}` column"))
            })
        };
        let (key, hash, encoding, note) = (
            strings("file_key")?,
            strings("file_hash")?,
            strings("file_encoding")?,
            strings("file_note")?,
        );
        let size = columns.u64("file_size")?;
        let mtime = columns.i64("file_mtime")?;
        let entries = columns.u64("file_entries")?;
        let text = |column: &tantivy::columnar::StrColumn, doc: u32| -> String {
            let mut out = String::new();
            if let Some(ordinal) = column.term_ords(doc).next() {
                let _ = column.ord_to_str(ordinal, &mut out);
            }
            out
        };
        for doc in docs {
            records.insert(
                text(&key, doc),
                FileRecord {
                    size: size.first(doc).unwrap_or(0),
                    mtime_ns: mtime.first(doc).unwrap_or(0),
                    hash: text(&hash, doc),
                    entries: entries.first(doc).unwrap_or(0),
                    encoding: text(&encoding, doc),
                    note: text(&note, doc),
                },
            );
        }
    }
    Ok(records)
}

fn record_document(fields: &Fields, file: &SourceFile, record: &FileRecord) -> TantivyDocument {
    doc!(
        fields.kind => KIND_FILE,
        fields.file_key => file.key.as_str(),
        fields.path => file.relative.as_str(),
        fields.file_size => record.size,
        fields.file_mtime => record.mtime_ns,
        fields.file_hash => record.hash.as_str(),
        fields.file_entries => record.entries,
        fields.file_encoding => record.encoding.as_str(),
        fields.file_note => record.note.as_str(),
    )
}

fn refused(file: &SourceFile, hash: String, note: String) -> Outcome {
    Outcome::Refused(FileRecord {
        size: file.size,
        mtime_ns: file.mtime_ns,
        hash,
        entries: 0,
        encoding: String::new(),
        note,
    })
}

fn read_file(
    file: &SourceFile,
    previous: Option<&FileRecord>,
    fields: &Fields,
    options: &IngestOptions,
) -> Outcome {
    if file.size > options.max_file_bytes {
        return refused(
            file,
            String::new(),
            format!(
                "larger than the size cap ({} MB > {} MB; see --max-file-mb)",
                file.size / (1024 * 1024),
                options.max_file_bytes / (1024 * 1024)
            ),
        );
    }
    let bytes = match std::fs::read(&file.path) {
        Ok(bytes) => bytes,
        Err(error) => return Outcome::Unreadable(format!("cannot read: {error}")),
    };
    let hash = format!("{:032x}", xxhash_rust::xxh3::xxh3_128(&bytes));
    let mut file = file.clone();
    // The size may have changed between the walk and the read.
    file.size = bytes.len() as u64;
    if let Some(previous) = previous {
        if previous.hash == hash && previous.note.is_empty() {
            let mut record = previous.clone();
            record.size = file.size;
            record.mtime_ns = file.mtime_ns;
            return Outcome::Touched(record);
        }
    }
    if bytes.is_empty() {
        return refused(&file, hash, "empty file".into());
    }
    let decoded = match decode(&bytes) {
        Ok(decoded) => decoded,
        Err(error) => return refused(&file, hash, error.to_string()),
    };
    let fallback = folder_place(&file.relative);
    let documents = match file.format {
        Format::JsonLines => {
            let parsed = parse::jsonl::parse(&decoded.text);
            let mut documents = Vec::with_capacity(parsed.entries.len());
            for (line, entry) in parsed.entries.iter().enumerate() {
                documents.push(json_document(fields, &file, line + 1, entry, &fallback));
            }
            if !parsed.bad_lines.is_empty() && documents.is_empty() {
                let (line, why) = &parsed.bad_lines[0];
                return refused(
                    &file,
                    hash,
                    format!("no valid JSON line (line {line}: {why})"),
                );
            }
            documents
        }
        Format::Html | Format::Text => {
            let page = if file.format == Format::Html {
                let depth = parse::html::nesting_depth(&decoded.text);
                if depth > MAX_HTML_DEPTH {
                    return refused(
                        &file,
                        hash,
                        format!("HTML nested {depth} levels deep (limit {MAX_HTML_DEPTH})"),
                    );
                }
                parse::html::parse(&decoded.text)
            } else {
                parse::text::parse(&decoded.text)
            };
            let mut sectioned = sectionize(&page);
            sectioned.place.fill_from(&fallback);
            page_documents(fields, &file, &sectioned.place, &sectioned.entries)
        }
    };
    let note = if documents.is_empty() {
        "no entries found on this page".to_string()
    } else {
        String::new()
    };
    Outcome::Indexed {
        record: FileRecord {
            size: file.size,
            mtime_ns: file.mtime_ns,
            hash,
            entries: documents.len() as u64,
            // A declaration the bytes contradicted is kept in the record, for `stats`.
            encoding: match decoded.wrong_declaration {
                Some(declared) => format!("{} (declared {declared})", decoded.encoding),
                None => decoded.encoding.to_string(),
            },
            note,
        },
        documents,
    }
}

/// The place the folders above a file suggest: `site/yearbook/volume/chapter/page`.
pub fn folder_place(relative: &str) -> Place {
    let mut folders: Vec<String> = relative.split('/').map(str::to_string).collect();
    folders.pop();
    if folders.is_empty() {
        return Place::default();
    }
    let mut place = place_from_segments(&folders, true);
    // A folder named after the file's article is not a chapter we can trust over the page.
    place.article = None;
    place
}

/// A short stable prefix for the ids of a file's entries.
pub fn file_id(key: &str) -> String {
    format!("{:016x}", xxhash_rust::xxh3::xxh3_64(key.as_bytes()))[..10].to_string()
}

struct EntryDoc<'a> {
    id: String,
    entry: String,
    ordinal: u64,
    place: &'a Place,
    heading: &'a str,
    subheading: Option<&'a str>,
    body: &'a str,
}

fn entry_document(fields: &Fields, file: &SourceFile, entry: EntryDoc) -> TantivyDocument {
    // The document holds the body twice (as text for the character channel, and packed for
    // the store) and the heading up to four times: sized for that at once, it is not copied
    // over as it grows.
    let mut document = TantivyDocument::with_capacity(
        2 * entry.body.len() + 4 * entry.heading.len() + 2 * file.relative.len() + 256,
    );
    document.add_text(fields.kind, KIND_ENTRY);
    document.add_text(fields.id, &entry.id);
    document.add_u64(fields.ordinal, entry.ordinal);
    document.add_text(fields.path_key, &file.key);
    document.add_text(fields.path, &file.relative);
    document.add_text(fields.heading, entry.heading);
    document.add_bytes(fields.body, &index::pack_body(entry.body));
    if entry.entry != entry.id {
        document.add_text(fields.entry, &entry.entry);
    }
    // The heading is indexed twice: alone, so that it can weigh more, and as the first value
    // of the body channel, so that one phrase query finds a literal anywhere in the entry.
    // The character tokenizer folds the text as it reads it.
    let title = entry.subheading.unwrap_or(entry.heading);
    document.add_text(fields.title_chars, title);
    document.add_text(fields.body_chars, title);
    document.add_text(fields.body_chars, entry.body);
    if let Some(subheading) = entry.subheading {
        document.add_text(fields.subheading, subheading);
    }
    let place = entry.place;
    for (field, value) in [
        (fields.site, &place.site),
        (fields.yearbook, &place.yearbook),
        (fields.volume, &place.volume),
        (fields.chapter, &place.chapter),
        (fields.article, &place.article),
        (fields.author, &place.author),
    ] {
        if let Some(value) = value {
            document.add_text(field, value);
        }
    }
    if let Some(year) = place.year {
        document.add_u64(fields.year, year);
    }
    document
}

fn page_documents(
    fields: &Fields,
    file: &SourceFile,
    place: &Place,
    entries: &[Entry],
) -> Vec<TantivyDocument> {
    let prefix = file_id(&file.key);
    let mut documents = Vec::new();
    let mut ordinal = 0u64;
    for (number, entry) in entries.iter().enumerate() {
        let entry_id = format!("{prefix}-{:02}", number + 1);
        documents.push(entry_document(
            fields,
            file,
            EntryDoc {
                id: entry_id.clone(),
                entry: entry_id.clone(),
                ordinal,
                place,
                heading: &entry.heading,
                subheading: None,
                body: &entry.lead,
            },
        ));
        ordinal += 1;
        for (part_number, part) in entry.parts.iter().enumerate() {
            documents.push(entry_document(
                fields,
                file,
                EntryDoc {
                    id: format!("{entry_id}.{}", part_number + 1),
                    entry: entry_id.clone(),
                    ordinal,
                    place,
                    heading: &entry.heading,
                    subheading: Some(&part.subheading),
                    body: &part.body,
                },
            ));
            ordinal += 1;
        }
    }
    documents
}

fn json_document(
    fields: &Fields,
    file: &SourceFile,
    line: usize,
    entry: &JsonEntry,
    fallback: &Place,
) -> TantivyDocument {
    let id = entry
        .id
        .clone()
        .unwrap_or_else(|| format!("{}-L{line}", file_id(&file.key)));
    let mut place = entry.place();
    place.fill_from(fallback);
    entry_document(
        fields,
        file,
        EntryDoc {
            id: id.clone(),
            entry: id,
            ordinal: line as u64,
            place: &place,
            heading: entry.heading.as_deref().unwrap_or(""),
            subheading: entry.subheading.as_deref(),
            body: &entry.body,
        },
    )
}

#[cfg(test)]
mod tests {
    use tantivy::index::SegmentId;
    use tantivy::indexer::{MergeCandidate, MergePolicy};
    use tantivy::SegmentMeta;

    use super::*;

    const MB: u64 = 1024 * 1024;

    /// Segments of the given sizes (in MB) and deleted fractions, their files written as
    /// sparse files of those sizes in `dir`.
    fn segments(dir: &Path, shapes: &[(u64, f32)]) -> Vec<SegmentMeta> {
        let index = Index::create_in_ram(crate::index::Fields::schema().0);
        shapes
            .iter()
            .map(|&(megabytes, deleted)| {
                let meta = index.new_segment_meta(SegmentId::generate_random(), 1000);
                let meta = meta.with_delete_meta((1000.0 * deleted) as u32, 1);
                let store = std::fs::File::create(
                    dir.join(meta.relative_path(tantivy::index::SegmentComponent::Store)),
                )
                .unwrap();
                store.set_len(megabytes * MB).unwrap();
                meta
            })
            .collect()
    }

    fn merged_megabytes(dir: &Path, all: &[SegmentMeta]) -> Vec<Vec<u64>> {
        let size = |id: &SegmentId| {
            let meta = all.iter().find(|meta| meta.id() == *id).unwrap();
            let store = meta.relative_path(tantivy::index::SegmentComponent::Store);
            std::fs::metadata(dir.join(store)).unwrap().len() / MB
        };
        let mut merges: Vec<Vec<u64>> = BoundedMerges::new(dir)
            .compute_merge_candidates(all)
            .into_iter()
            .map(|MergeCandidate(ids)| ids.iter().map(size).collect())
            .collect();
        merges.iter_mut().for_each(|merge| merge.sort_unstable());
        merges
    }

    #[test]
    fn small_segments_merge_up_to_the_bound_and_large_ones_never() {
        let dir = tempfile::tempdir().unwrap();
        // Eight small segments of a level: merged, smallest first, up to 256 MB in all.
        let small = segments(dir.path(), &[(10, 0.0); 8]);
        assert_eq!(merged_megabytes(dir.path(), &small), vec![vec![10; 8]]);
        let mid = segments(dir.path(), &[(100, 0.0); 8]);
        assert_eq!(merged_megabytes(dir.path(), &mid), vec![vec![100, 100]]);
        // Segments over half the bound are never merged, however many.
        let large = segments(dir.path(), &[(200, 0.0); 12]);
        assert!(merged_megabytes(dir.path(), &large).is_empty());
        // Unless most of a segment's entries are gone: then it is rewritten alone.
        let emptied = segments(dir.path(), &[(200, 0.6), (200, 0.4)]);
        assert_eq!(merged_megabytes(dir.path(), &emptied), vec![vec![200]]);
    }
}
