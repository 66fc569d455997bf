//! Bare single-thread jieba over a corpus folder: the yardstick for ingest speed.
//!
//!     cargo run --release --example jieba_baseline -- /tmp/yearbook-bench/shelf-50 [--machine]
//!
//! What it measures:
//!
//! 1. The time of `Jieba::new()` (dictionary build; excluded from the rates below).
//! 2. Every page file ingest would read (the same walk, `yearbook::discover::discover`:
//!    `.html .htm .shtml .xhtml .txt .jsonl`) is read and decoded
//!    (`yearbook::decode::decode`) into memory first; that time is printed but is not part
//!    of the rates either.
//! 3. On one thread, `cut_for_search(text, true)` over the whole decoded text of every file
//!    (markup included: no HTML parsing), then `cut(text, false)` (what ingest's word
//!    channel called up to index format 3; ingest no longer cuts text) the same way. Each rate is MB/s over the **file bytes** (what ingest
//!    reads from disk, 1 MB = 10^6 bytes), so it compares directly with ingest's MB/s.
//!
//! Options: `--machine` also prints `key=value` lines (for `scripts/bench`);
//! `--max-mb N` uses only the first files up to N MB (a quicker, rougher figure).

use std::hint::black_box;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Context, Result};

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("jieba_baseline: {error:#}");
            ExitCode::from(2)
        }
    }
}

fn run() -> Result<()> {
    let mut folder: Option<PathBuf> = None;
    let mut machine = false;
    let mut max_bytes = u64::MAX;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--machine" => machine = true,
            "--max-mb" => {
                let value: f64 = args
                    .next()
                    .context("--max-mb needs a number")?
                    .parse()
                    .context("--max-mb needs a number")?;
                max_bytes = (value * 1e6) as u64;
            }
            "-h" | "--help" => {
                println!("usage: jieba_baseline FOLDER [--machine] [--max-mb N]");
                return Ok(());
            }
            other if other.starts_with('-') => bail!("unknown option {other}"),
            other => folder = Some(PathBuf::from(other)),
        }
    }
    let Some(folder) = folder else {
        bail!("usage: jieba_baseline FOLDER [--machine] [--max-mb N]");
    };
    if !folder.is_dir() {
        bail!("{} is not a folder", folder.display());
    }

    // 1. Dictionary build.
    let started = Instant::now();
    let jieba = yearbook::analyze::build_jieba(None).context("building jieba")?;
    let new_seconds = started.elapsed().as_secs_f64();

    // 2. Read and decode everything up front.
    let started = Instant::now();
    let discovery = yearbook::discover::discover(&folder, None);
    let mut texts: Vec<String> = Vec::with_capacity(discovery.files.len());
    let mut file_bytes: u64 = 0;
    let mut undecodable = 0usize;
    for file in &discovery.files {
        if file_bytes >= max_bytes {
            break;
        }
        let bytes =
            std::fs::read(&file.path).with_context(|| format!("reading {}", file.relative))?;
        if bytes.is_empty() {
            continue;
        }
        match yearbook::decode::decode(&bytes) {
            Ok(decoded) => {
                file_bytes += bytes.len() as u64;
                texts.push(decoded.text);
            }
            Err(_) => undecodable += 1,
        }
    }
    let load_seconds = started.elapsed().as_secs_f64();
    let text_bytes: usize = texts.iter().map(String::len).sum();
    if texts.is_empty() {
        bail!("no page file in {}", folder.display());
    }

    // 3. Bare jieba, one thread.
    let started = Instant::now();
    let mut search_tokens = 0usize;
    for text in &texts {
        search_tokens += black_box(jieba.cut_for_search(black_box(text), true)).len();
    }
    let search_seconds = started.elapsed().as_secs_f64();

    let started = Instant::now();
    let mut cut_tokens = 0usize;
    for text in &texts {
        cut_tokens += black_box(jieba.cut(black_box(text), false)).len();
    }
    let cut_seconds = started.elapsed().as_secs_f64();

    let mb = file_bytes as f64 / 1e6;
    let search_mbps = mb / search_seconds;
    let cut_mbps = mb / cut_seconds;
    println!(
        "bare jieba (jieba-rs, one thread) over {}",
        folder.display()
    );
    println!(
        "  files: {} ({} undecodable, left out), file bytes: {:.1} MB, decoded text: {:.1} MB",
        texts.len(),
        undecodable,
        mb,
        text_bytes as f64 / 1e6
    );
    println!("  Jieba::new():                  {new_seconds:8.3} s (not counted)");
    println!("  read + decode into memory:     {load_seconds:8.3} s (not counted)");
    println!(
        "  cut_for_search(text, true):    {search_seconds:8.3} s  {search_mbps:7.2} MB/s of file bytes  ({search_tokens} tokens)"
    );
    println!(
        "  cut(text, false):              {cut_seconds:8.3} s  {cut_mbps:7.2} MB/s of file bytes  ({cut_tokens} tokens)"
    );
    if machine {
        println!("files={}", texts.len());
        println!("file_bytes={file_bytes}");
        println!("text_bytes={text_bytes}");
        println!("new_seconds={new_seconds:.4}");
        println!("load_seconds={load_seconds:.4}");
        println!("search_seconds={search_seconds:.4}");
        println!("search_mbps={search_mbps:.3}");
        println!("cut_seconds={cut_seconds:.4}");
        println!("cut_mbps={cut_mbps:.3}");
    }
    Ok(())
}
