//! The tantivy side: schema, opening and creating the index, and the per-file records.
//!
//! One document per entry and per sub-part of an entry (kind `entry`), plus one document per
//! source file (kind `file`) recording its path, size, modification time, content hash and
//! entry count, and at most one holding the user dictionary queries are cut with (kind
//! `dictionary`). The file records live in the index and change in the same commit as the
//! entries they describe, so the two can never drift apart after a crash. The commit payload
//! carries the index format and analyzer versions; an index built by another analyzer is
//! detected instead of silently answering with mismatched terms.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use serde::{Deserialize, Serialize};
use tantivy::collector::TopDocs;
use tantivy::directory::error::LockError;
use tantivy::directory::{
    Directory, DirectoryLock, FileHandle, Lock, MmapDirectory, WatchCallback, WatchHandle,
};
use tantivy::query::TermQuery;
use tantivy::schema::Value;
use tantivy::schema::{
    Field, IndexRecordOption, NumericOptions, Schema, TextFieldIndexing, TextOptions, FAST, STORED,
};
use tantivy::store::{Compressor, ZstdCompressor};
use tantivy::tokenizer::TextAnalyzer;
use tantivy::{Index, IndexReader, IndexSettings, ReloadPolicy, Searcher, TantivyDocument, Term};

use crate::analyze::{CharTokenizer, ANALYZER_VERSION, CHAR_TOKENIZER};
use crate::Error;

/// Version of the schema and of what the documents mean. Bump on any change.
pub const FORMAT_VERSION: u32 = 6;

/// The fields of the schema.
#[derive(Debug, Clone, Copy)]
pub struct Fields {
    pub kind: Field,
    pub id: Field,
    pub entry: Field,
    pub ordinal: Field,
    pub path_key: Field,
    pub file_key: Field,
    pub path: Field,
    pub site: Field,
    pub yearbook: Field,
    pub volume: Field,
    pub year: Field,
    pub chapter: Field,
    pub article: Field,
    pub author: Field,
    pub heading: Field,
    pub subheading: Field,
    pub body: Field,
    pub title_chars: Field,
    pub body_chars: Field,
    pub dictionary: Field,
    pub file_size: Field,
    pub file_mtime: Field,
    pub file_hash: Field,
    pub file_entries: Field,
    pub file_encoding: Field,
    pub file_note: Field,
}

/// Value of the `kind` field for entry documents.
pub const KIND_ENTRY: &str = "entry";
/// Value of the `kind` field for file records.
pub const KIND_FILE: &str = "file";
/// Value of the `kind` field for the document holding the user dictionary.
pub const KIND_DICTIONARY: &str = "dictionary";

impl Fields {
    /// Builds the schema and its field handles.
    pub fn schema() -> (Schema, Fields) {
        let mut builder = Schema::builder();
        let chars = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(CHAR_TOKENIZER)
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        );
        // Exact-match keys: no fieldnorms (one byte per document per field, never used).
        let key = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer("raw")
                .set_index_option(IndexRecordOption::Basic)
                .set_fieldnorms(false),
        );
        let year = NumericOptions::default()
            .set_indexed()
            .set_stored()
            .set_fast();
        let fields = Fields {
            kind: builder.add_text_field("kind", key.clone()),
            id: builder.add_text_field("id", key.clone() | STORED),
            // Stored only, and only on a sub-part (`ID.1` → `ID`): `show` finds an entry's
            // sub-parts by their ids; an entry's own is its id.
            entry: builder.add_text_field("entry", STORED),
            ordinal: builder.add_u64_field("ordinal", STORED),
            path_key: builder.add_text_field("path_key", key.clone()),
            file_key: builder.add_text_field("file_key", key.clone() | STORED | FAST),
            path: builder.add_text_field("path", STORED),
            site: builder.add_text_field("site", STORED),
            yearbook: builder.add_text_field("yearbook", key.clone() | STORED),
            volume: builder.add_text_field("volume", STORED),
            year: builder.add_u64_field("year", year),
            chapter: builder.add_text_field("chapter", key.clone() | STORED),
            article: builder.add_text_field("article", STORED),
            author: builder.add_text_field("author", STORED),
            heading: builder.add_text_field("heading", STORED),
            subheading: builder.add_text_field("subheading", STORED),
            // Stored compactly (see [`pack_body`]); never searched directly.
            body: builder.add_bytes_field("body", STORED),
            // The heading (or sub-head) alone, so that a match in it can weigh more.
            title_chars: builder.add_text_field("title_chars", chars.clone()),
            // The heading (or sub-head) and then the body: one phrase query finds a literal in
            // either, and tantivy's position gap between the two values keeps a phrase from
            // spanning them.
            body_chars: builder.add_text_field("body_chars", chars),
            // The user dictionary's text, on its own document.
            dictionary: builder.add_text_field("dictionary", STORED),
            // The file records are read in full by every ingest: columnar (fast) fields
            // make that a scan of a few columns instead of decompressing every record. Only
            // what `stats` reads from the stored record is stored too.
            file_size: builder.add_u64_field("file_size", FAST),
            file_mtime: builder.add_i64_field("file_mtime", FAST),
            // Compared, never searched for: no terms.
            file_hash: builder.add_text_field("file_hash", FAST),
            file_entries: builder.add_u64_field("file_entries", FAST),
            file_encoding: builder.add_text_field("file_encoding", key.clone() | STORED | FAST),
            file_note: builder.add_text_field("file_note", key.clone() | STORED | FAST),
        };
        (builder.build(), fields)
    }
}

/// What the index records about how it was built (the commit payload).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildInfo {
    pub format: u32,
    pub analyzer: u32,
    /// Hash of the user dictionary (`dict.txt`) the index holds for cutting queries, if any.
    /// It is not part of what must match: queries are cut with whatever the index holds.
    pub dictionary: Option<String>,
}

impl BuildInfo {
    pub fn current(dictionary: Option<String>) -> Self {
        BuildInfo {
            format: FORMAT_VERSION,
            analyzer: ANALYZER_VERSION,
            dictionary,
        }
    }

    /// Why an index built as `self` cannot be used by this program with `wanted`, if so.
    pub fn mismatch(&self, wanted: &BuildInfo) -> Option<String> {
        if self.format != wanted.format {
            Some(format!(
                "index format {} (this program writes {})",
                self.format, wanted.format
            ))
        } else if self.analyzer != wanted.analyzer {
            Some(format!(
                "analyzer version {} (this program uses {})",
                self.analyzer, wanted.analyzer
            ))
        } else {
            None
        }
    }
}

/// True when `dir` holds a tantivy index.
pub fn exists(dir: &Path) -> bool {
    dir.join("meta.json").is_file()
}

/// Reads the build info of the last commit; `None` for an index never committed by us.
///
/// Only the payload is read out of meta.json: tantivy's own reading of it builds the schema
/// and every segment's record, and opening an index already does that twice, which a
/// one-shot search pays on every query.
pub fn build_info(index: &Index) -> Result<Option<BuildInfo>, Error> {
    #[derive(serde::Deserialize)]
    struct PayloadOnly {
        payload: Option<String>,
    }
    let bytes = index
        .directory()
        .atomic_read(Path::new("meta.json"))
        .map_err(|error| Error::Tantivy(error.into()))?;
    let metas: PayloadOnly = serde_json::from_slice(&bytes)
        .map_err(|error| Error::Tantivy(tantivy::TantivyError::InternalError(error.to_string())))?;
    Ok(metas
        .payload
        .as_deref()
        .and_then(|payload| serde_json::from_str(payload).ok()))
}

/// A directory that takes no locks: for reading an index where lock files cannot be
/// written (a read-only mount, a folder the user may not write). Safe only because nothing
/// can write there either.
#[derive(Debug, Clone)]
struct ReadOnlyDirectory(MmapDirectory);

impl Directory for ReadOnlyDirectory {
    fn get_file_handle(
        &self,
        path: &Path,
    ) -> Result<Arc<dyn FileHandle>, tantivy::directory::error::OpenReadError> {
        self.0.get_file_handle(path)
    }
    fn delete(&self, path: &Path) -> Result<(), tantivy::directory::error::DeleteError> {
        self.0.delete(path)
    }
    fn exists(&self, path: &Path) -> Result<bool, tantivy::directory::error::OpenReadError> {
        self.0.exists(path)
    }
    fn open_write(
        &self,
        path: &Path,
    ) -> Result<tantivy::directory::WritePtr, tantivy::directory::error::OpenWriteError> {
        self.0.open_write(path)
    }
    fn atomic_read(
        &self,
        path: &Path,
    ) -> Result<Vec<u8>, tantivy::directory::error::OpenReadError> {
        self.0.atomic_read(path)
    }
    fn atomic_write(&self, path: &Path, data: &[u8]) -> std::io::Result<()> {
        self.0.atomic_write(path, data)
    }
    fn sync_directory(&self) -> std::io::Result<()> {
        self.0.sync_directory()
    }
    fn acquire_lock(&self, _lock: &Lock) -> Result<DirectoryLock, LockError> {
        Ok(DirectoryLock::from(Box::new(())))
    }
    fn watch(&self, callback: WatchCallback) -> tantivy::Result<WatchHandle> {
        self.0.watch(callback)
    }
}

/// An index opened for reading.
pub struct Opened {
    pub index: Index,
    pub fields: Fields,
    pub reader: IndexReader,
}

/// Opens an existing index for reading, with a manual reload policy (a one-shot command
/// needs no watcher thread). Where the reader's lock file cannot be created (a read-only
/// mount, a folder the user may not write), the index is opened again without locks.
pub fn open(dir: &Path) -> Result<Opened, Error> {
    if !exists(dir) {
        return Err(Error::NoIndex(dir.to_path_buf()));
    }
    let index = Index::open_in_dir(dir)?;
    let (schema, fields) = Fields::schema();
    if index.schema() != schema {
        return Err(Error::Incompatible {
            dir: dir.to_path_buf(),
            why: "its schema was written by another version".into(),
        });
    }
    let (index, reader) = match reader(&index) {
        Ok(reader) => (index, reader),
        Err(tantivy::TantivyError::LockFailure(LockError::IoError(_), _)) => {
            let directory = MmapDirectory::open(dir).map_err(|error| Error::Io {
                what: format!("opening {}", dir.display()),
                source: std::io::Error::other(error.to_string()),
            })?;
            let index = Index::open(ReadOnlyDirectory(directory))?;
            let reader = reader(&index)?;
            (index, reader)
        }
        Err(error) => return Err(error.into()),
    };
    Ok(Opened {
        index,
        fields,
        reader,
    })
}

/// A reader that reloads only when asked.
pub fn reader(index: &Index) -> tantivy::Result<IndexReader> {
    index
        .reader_builder()
        .reload_policy(ReloadPolicy::Manual)
        .try_into()
}

/// The first stored text value of `field`, if any.
pub fn stored_text(document: &TantivyDocument, field: Field) -> Option<String> {
    document
        .get_first(field)
        .and_then(|value| value.as_str())
        .map(str::to_string)
}

/// First byte of a packed body: how the rest is encoded.
const PACKED_GB18030: u8 = 1;
const PACKED_UTF8: u8 = 0;

/// Packs an entry's original text for the doc store: GB18030 when that encodes it exactly
/// (two bytes per Chinese character instead of UTF-8's three), else UTF-8. zstd compresses
/// the two-byte form about a tenth smaller at a third of the cost of a higher level on UTF-8,
/// so the store is both smaller and faster to write.
pub fn pack_body(text: &str) -> Vec<u8> {
    match two_byte_codes(text.len()) {
        Some(codes) => pack_two_byte(codes, text).unwrap_or_else(|| pack_with_encoder(text)),
        None => pack_with_encoder(text),
    }
}

/// The two-byte table, once this process has packed enough text to be worth building it
/// (building it costs what packing about a megabyte with encoding_rs costs more than with it,
/// and both ways give the same bytes): a small ingest does not pay for it.
fn two_byte_codes(more_bytes: usize) -> Option<&'static [u16]> {
    static PACKED_BYTES: AtomicUsize = AtomicUsize::new(0);
    if let Some(codes) = TWO_BYTE_CODES.get() {
        return Some(codes);
    }
    let packed = PACKED_BYTES.fetch_add(more_bytes, Ordering::Relaxed) + more_bytes;
    (packed > 1 << 20).then(|| TWO_BYTE_CODES.get_or_init(two_byte_table).as_slice())
}

/// [`pack_body`] by encoding_rs's encoder, for any text.
fn pack_with_encoder(text: &str) -> Vec<u8> {
    let mut packed = Vec::with_capacity(text.len() * 2 / 3 + 2);
    packed.push(PACKED_GB18030);
    let mut encoder = encoding_rs::GB18030.new_encoder();
    let mut input = text;
    // GB18030 encodes every scalar value except U+E5E5 (WHATWG); a text holding one, or one
    // whose bytes would not decode back to the same text, is kept as UTF-8.
    loop {
        let (result, read) =
            encoder.encode_from_utf8_to_vec_without_replacement(input, &mut packed, true);
        input = &input[read..];
        match result {
            encoding_rs::EncoderResult::InputEmpty => break,
            encoding_rs::EncoderResult::OutputFull => packed.reserve(input.len() + 16),
            encoding_rs::EncoderResult::Unmappable(_) => return utf8_packed(text),
        }
    }
    // The 18 code points whose GB18030 bytes decode to another character are all in the
    // private use area (U+E000–U+F8FF, UTF-8 EE xx xx or EF 80–A3 xx): only a text holding
    // one is decoded again to check.
    if has_private_use(text) {
        let (decoded, malformed) = encoding_rs::GB18030.decode_without_bom_handling(&packed[1..]);
        if malformed || decoded != text {
            return utf8_packed(text);
        }
    }
    packed
}

/// GB18030's two-byte code of every BMP character that has one and reads back as itself (0
/// for the others), taken from encoding_rs's own decoder and encoder. encoding_rs encodes a
/// Chinese character by searching its tables, which made packing a twentieth of ingest; a
/// lookup here does the same per character in a few instructions.
static TWO_BYTE_CODES: OnceLock<Vec<u16>> = OnceLock::new();

fn two_byte_table() -> Vec<u16> {
    let mut codes = vec![0u16; 0x1_0000];
    for lead in 0x81u8..=0xFE {
        for trail in (0x40u8..=0x7E).chain(0x80..=0xFE) {
            let bytes = [lead, trail];
            let (decoded, malformed) = encoding_rs::GB18030.decode_without_bom_handling(&bytes);
            let mut chars = decoded.chars();
            let (Some(c), None, false) = (chars.next(), chars.next(), malformed) else {
                continue;
            };
            let mut encoder = encoding_rs::GB18030.new_encoder();
            let mut encoded = [0u8; 8];
            let (result, _, written) = encoder.encode_from_utf8_without_replacement(
                c.encode_utf8(&mut [0u8; 4]),
                &mut encoded,
                true,
            );
            if result == encoding_rs::EncoderResult::InputEmpty
                && encoded[..written] == bytes
                && (c as u32) < 0x1_0000
            {
                codes[c as usize] = u16::from_be_bytes(bytes);
            }
        }
    }
    codes
}

/// [`pack_body`] for a text of ASCII and characters with two-byte codes (almost every
/// entry); `None` for any other.
fn pack_two_byte(codes: &[u16], text: &str) -> Option<Vec<u8>> {
    let mut packed = Vec::with_capacity(text.len() * 2 / 3 + 2);
    packed.push(PACKED_GB18030);
    for c in text.chars() {
        if c.is_ascii() {
            packed.push(c as u8);
        } else {
            match codes.get(c as usize) {
                Some(&code) if code != 0 => packed.extend_from_slice(&code.to_be_bytes()),
                _ => return None,
            }
        }
    }
    Some(packed)
}

fn has_private_use(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.iter().enumerate().any(|(at, &byte)| {
        byte == 0xEE || (byte == 0xEF && bytes.get(at + 1).is_some_and(|&next| next <= 0xA3))
    })
}

fn utf8_packed(text: &str) -> Vec<u8> {
    let mut packed = Vec::with_capacity(text.len() + 1);
    packed.push(PACKED_UTF8);
    packed.extend_from_slice(text.as_bytes());
    packed
}

/// The text [`pack_body`] packed; damaged bytes decode with replacement characters.
pub fn unpack_body(packed: &[u8]) -> String {
    match packed.split_first() {
        Some((&PACKED_GB18030, bytes)) => encoding_rs::GB18030
            .decode_without_bom_handling(bytes)
            .0
            .into_owned(),
        Some((_, bytes)) => String::from_utf8_lossy(bytes).into_owned(),
        None => String::new(),
    }
}

/// The stored original text of an entry document.
pub fn stored_body(document: &TantivyDocument, fields: &Fields) -> String {
    document
        .get_first(fields.body)
        .and_then(|value| value.as_bytes())
        .map(unpack_body)
        .unwrap_or_default()
}

/// Opens the index in `dir` for writing, creating it when absent. Returns whether it had to
/// be created and, for an existing index, why it must be rebuilt (schema or analyzer).
pub fn open_for_writing(
    dir: &Path,
    wanted: &BuildInfo,
) -> Result<(Index, Fields, Option<String>), Error> {
    std::fs::create_dir_all(dir).map_err(|source| Error::Io {
        what: format!("creating index folder {}", dir.display()),
        source,
    })?;
    let (schema, fields) = Fields::schema();
    if !exists(dir) {
        // Chinese text compresses poorly with lz4; zstd on bodies packed as GB18030 (see
        // `pack_body`) does well. tantivy compresses each block with a fresh zstd context,
        // and at level 9 that was a fifth of ingest's instructions; level 4 (zstd's
        // double-fast matcher) takes a third as many. Every hit shown decompresses its whole
        // block, half of a one-shot search's instructions, so blocks stay at 32 KiB: a search
        // took 5.69 ms there, 6.12 ms on 48 KiB blocks. On the 50 MB shelf the store is 18.79
        // MB (level 9 stored 18.82 MB with the record fields and entry ids now left out).
        let settings = IndexSettings {
            docstore_compression: Compressor::Zstd(ZstdCompressor {
                compression_level: Some(4),
            }),
            docstore_blocksize: 32 * 1024,
            ..IndexSettings::default()
        };
        let index = Index::builder()
            .schema(schema)
            .settings(settings)
            .create_in_dir(dir)?;
        return Ok((index, fields, None));
    }
    let index = Index::open_in_dir(dir)?;
    if index.schema() != schema {
        // The schema itself changed: the old files cannot take our documents, and this
        // program cannot search them either. Start a new index in their place.
        return Err(Error::Incompatible {
            dir: dir.to_path_buf(),
            why: "its format was written by another version of yearbook".into(),
        });
    }
    let reason = match build_info(&index)? {
        Some(info) => info.mismatch(wanted),
        None if index.load_metas()?.segments.is_empty() => None,
        None => Some("it records no build information".to_string()),
    };
    Ok((index, fields, reason))
}

/// The user dictionary the index holds for cutting queries, if any.
pub fn stored_dictionary(searcher: &Searcher, fields: &Fields) -> Result<Option<String>, Error> {
    let query = TermQuery::new(
        Term::from_field_text(fields.kind, KIND_DICTIONARY),
        IndexRecordOption::Basic,
    );
    let Some((_, address)) = searcher
        .search(&query, &TopDocs::with_limit(1).order_by_score())?
        .into_iter()
        .next()
    else {
        return Ok(None);
    };
    let document: TantivyDocument = searcher.doc(address)?;
    Ok(stored_text(&document, fields.dictionary))
}

/// Registers the analyzer on an index that will be written to.
pub fn register_analyzers(index: &Index) {
    index
        .tokenizers()
        .register(CHAR_TOKENIZER, TextAnalyzer::builder(CharTokenizer).build());
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn chinese_bodies_pack_to_two_bytes_a_character() {
        let text = "启动新一轮易地扶贫搬迁工程，搬遷 ２０１７年";
        let packed = pack_body(text);
        assert_eq!(packed[0], PACKED_GB18030);
        assert!(packed.len() < text.len() * 3 / 4, "{} bytes", packed.len());
        assert_eq!(unpack_body(&packed), text);
    }

    #[test]
    fn the_two_byte_table_packs_as_the_encoder_does() {
        let mut tabled = 0;
        let codes = two_byte_table();
        for c in (0..0x1_0000u32).filter_map(char::from_u32) {
            let text = format!("a{c}贫");
            if let Some(packed) = pack_two_byte(&codes, &text) {
                assert_eq!(packed, pack_with_encoder(&text), "U+{:04X}", c as u32);
                tabled += 1;
            }
        }
        // GBK's two-byte codes, ASCII aside.
        assert!(tabled > 21_000, "{tabled}");
    }

    #[test]
    fn text_gb18030_cannot_encode_is_kept_as_utf8() {
        // U+E5E5 is the one scalar value the WHATWG GB18030 encoder refuses.
        let text = "扶贫\u{E5E5}开发";
        let packed = pack_body(text);
        assert_eq!(packed[0], PACKED_UTF8);
        assert_eq!(unpack_body(&packed), text);
    }

    #[test]
    fn every_private_use_character_round_trips() {
        let all: String = (0xE000..=0xF8FF).filter_map(char::from_u32).collect();
        assert!(has_private_use(&all));
        for c in all.chars() {
            let text = format!("扶贫{c}开发");
            assert_eq!(unpack_body(&pack_body(&text)), text, "U+{:04X}", c as u32);
        }
        assert!(!has_private_use("扶贫，开发（ＡＢ）\u{F900}"));
    }

    proptest! {
        #[test]
        fn any_text_round_trips(text in any::<String>()) {
            prop_assert_eq!(unpack_body(&pack_body(&text)), text);
        }

        #[test]
        fn cjk_and_private_use_text_round_trips(
            text in proptest::collection::vec(
                prop_oneof![
                    0x4E00u32..0xA000,
                    0xE000u32..0xF900,
                    0x3000u32..0x3100,
                    0xFF00u32..0xFFF0,
                    0x20u32..0x7F,
                ],
                0..200,
            )
            .prop_map(|codes| codes.into_iter().filter_map(char::from_u32).collect::<String>())
        ) {
            prop_assert_eq!(unpack_body(&pack_body(&text)), text);
        }
    }
}
