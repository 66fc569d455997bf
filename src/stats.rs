//! `stats`: what the index holds, per yearbook and volume, which encodings were seen, and
//! which files were skipped and why. Everything comes from the index itself (the entries
//! and the per-file records), so it describes exactly what searches see.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::Serialize;
use tantivy::collector::DocSetCollector;
use tantivy::query::TermQuery;
use tantivy::schema::IndexRecordOption;
use tantivy::{TantivyDocument, Term};

use crate::index::{self, KIND_ENTRY, KIND_FILE};
use crate::Result;

/// Files and entries of one volume.
#[derive(Debug, Default, Clone, Serialize)]
pub struct VolumeStats {
    pub yearbook: String,
    pub volume: String,
    pub files: usize,
    pub entries: usize,
}

/// A file that yielded nothing, and why.
#[derive(Debug, Clone, Serialize)]
pub struct SkippedFile {
    pub path: String,
    pub reason: String,
}

/// What the index holds.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Stats {
    pub files: usize,
    pub entries: usize,
    pub volumes: Vec<VolumeStats>,
    /// Encoding name → number of files decoded with it.
    pub encodings: BTreeMap<String, usize>,
    pub skipped: Vec<SkippedFile>,
}

/// Gathers the statistics of the index in `dir`.
pub fn stats(dir: &Path) -> Result<Stats> {
    let index::Opened { fields, reader, .. } = index::open(dir)?;
    let searcher = reader.searcher();
    let text =
        |document: &TantivyDocument, field| index::stored_text(document, field).unwrap_or_default();
    let mut out = Stats::default();
    let files = searcher.search(
        &TermQuery::new(
            Term::from_field_text(fields.kind, KIND_FILE),
            IndexRecordOption::Basic,
        ),
        &DocSetCollector,
    )?;
    for address in files {
        let document: TantivyDocument = searcher.doc(address)?;
        out.files += 1;
        let encoding = text(&document, fields.file_encoding);
        let note = text(&document, fields.file_note);
        if !encoding.is_empty() {
            *out.encodings.entry(encoding).or_default() += 1;
        }
        if !note.is_empty() {
            out.skipped.push(SkippedFile {
                path: text(&document, fields.path),
                reason: note,
            });
        }
    }
    out.skipped.sort_by(|a, b| a.path.cmp(&b.path));

    let entries = searcher.search(
        &TermQuery::new(
            Term::from_field_text(fields.kind, KIND_ENTRY),
            IndexRecordOption::Basic,
        ),
        &DocSetCollector,
    )?;
    let mut volumes: BTreeMap<(String, String), (BTreeSet<String>, usize)> = BTreeMap::new();
    for address in entries {
        let document: TantivyDocument = searcher.doc(address)?;
        out.entries += 1;
        let slot = volumes
            .entry((
                text(&document, fields.yearbook),
                text(&document, fields.volume),
            ))
            .or_default();
        slot.0.insert(text(&document, fields.path));
        slot.1 += 1;
    }
    out.volumes = volumes
        .into_iter()
        .map(|((yearbook, volume), (files, entries))| VolumeStats {
            yearbook,
            volume,
            files: files.len(),
            entries,
        })
        .collect();
    Ok(out)
}
