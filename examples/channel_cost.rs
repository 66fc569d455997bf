//! What the literal (character) channel costs: indexes the entries of a shelf twice, with
//! jieba words only and with words plus positional characters (the real schema's two
//! channels), and prints indexing time and index size for each.
//!
//!     cargo run --release --example channel_cost -- /tmp/shelf50
//!
//! Pages are decoded, parsed and sectionized once, before timing: only the analysis and
//! indexing of the two channels is measured, on two indexing threads like `ingest`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use tantivy::schema::{IndexRecordOption, Schema, TextFieldIndexing, TextOptions, STORED};
use tantivy::tokenizer::TextAnalyzer;
use tantivy::{doc, Index, TantivyDocument};
use yearbook::analyze::{
    build_jieba, fold_str, CharTokenizer, WordTokenizer, CHAR_TOKENIZER, WORD_TOKENIZER,
};
use yearbook::discover::{discover, Format};

fn texts(shelf: &Path) -> (Vec<String>, u64) {
    let found = discover(shelf, None);
    let mut texts = Vec::new();
    let mut bytes = 0;
    for file in &found.files {
        let Ok(raw) = std::fs::read(&file.path) else {
            continue;
        };
        let Ok(decoded) = yearbook::decode::decode(&raw) else {
            continue;
        };
        let page = match file.format {
            Format::Html => yearbook::parse::html::parse(&decoded.text),
            Format::Text => yearbook::parse::text::parse(&decoded.text),
            Format::JsonLines => continue,
        };
        bytes += raw.len() as u64;
        for entry in yearbook::sectionize::sectionize(&page).entries {
            texts.push(entry.heading.clone());
            texts.push(entry.lead.clone());
            for part in entry.parts {
                texts.push(part.subheading);
                texts.push(part.body);
            }
        }
    }
    (texts, bytes)
}

fn run(texts: &[String], with_chars: bool, dir: &Path) -> (f64, u64) {
    let mut builder = Schema::builder();
    let words = builder.add_text_field(
        "words",
        TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(WORD_TOKENIZER)
                .set_index_option(IndexRecordOption::WithFreqs),
        ),
    );
    let chars = builder.add_text_field(
        "chars",
        TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(CHAR_TOKENIZER)
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        ),
    );
    let stored = builder.add_text_field("stored", STORED);
    let index = Index::create_in_dir(dir, builder.build()).expect("index");
    index.tokenizers().register(
        WORD_TOKENIZER,
        TextAnalyzer::builder(WordTokenizer::new(build_jieba(None).unwrap())).build(),
    );
    index
        .tokenizers()
        .register(CHAR_TOKENIZER, TextAnalyzer::builder(CharTokenizer).build());
    let started = Instant::now();
    let mut writer = index
        .writer_with_num_threads(2, 200_000_000)
        .expect("writer");
    for text in texts {
        // As ingest does: the channels index the folded text, folded once.
        let folded = fold_str(text);
        let mut document: TantivyDocument = doc!(words => folded.as_str(), stored => text.as_str());
        if with_chars {
            document.add_text(chars, folded);
        }
        writer.add_document(document).expect("add");
    }
    writer.commit().expect("commit");
    writer.wait_merging_threads().expect("merge");
    let seconds = started.elapsed().as_secs_f64();
    let size = walkdir::WalkDir::new(dir)
        .into_iter()
        .flatten()
        .filter_map(|e| e.metadata().ok())
        .map(|m| m.len())
        .sum();
    (seconds, size)
}

fn main() {
    let shelf = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "/tmp/shelf50".into()),
    );
    if !shelf.is_dir() {
        println!("channel_cost: {} not found (make one with ../shared/tools/make-shelf); nothing measured", shelf.display());
        return;
    }
    let (texts, bytes) = texts(&shelf);
    let mb = bytes as f64 / 1e6;
    println!(
        "{}: {:.1} MB of pages, {} texts",
        shelf.display(),
        mb,
        texts.len()
    );
    let work = tempfile::TempDir::new().expect("temp dir");
    for (name, with_chars) in [("words only", false), ("words + chars", true)] {
        let dir = work.path().join(name.replace(' ', "_"));
        std::fs::create_dir_all(&dir).unwrap();
        let (seconds, size) = run(&texts, with_chars, &dir);
        println!(
            "{name:<14} {seconds:6.2} s  {:6.1} MB/s of pages  index {:6.1} MB ({:.2}x the pages)",
            mb / seconds,
            size as f64 / 1e6,
            size as f64 / bytes as f64
        );
    }
}
