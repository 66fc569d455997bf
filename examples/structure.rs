//! Measures how much of a generated shelf's structure the parser recovers.
//!
//!     ../shared/tools/make-shelf --out /tmp/shelf50 --size-mb 50
//!     cargo run --release --example structure -- /tmp/shelf50 [--failures N]
//!     cargo run --release --example structure -- --truth OTHER/truth.jsonl /tmp/shelf50
//!     cargo run --release --example structure -- --page /tmp/shelf50/some/page.html
//!
//! `--truth` scores the shelf against another truth file (paths stay relative to the shelf);
//! `--page` prints how one page decodes, its lines and the entries we read, for debugging.
//! The layouts written by `scripts/make-layouts` each carry their own truth.jsonl, so
//! `structure -- /tmp/layouts/table` scores one layout.
//!
//! For every page in the shelf's `truth.jsonl` the page is decoded, parsed and sectionized
//! the way ingest does it (folder place as the fallback), then compared with the truth. A
//! truth entry is recovered when an entry of ours has the same heading, the same sub-heads in
//! order and the same first 30 characters of lead text (its first paragraph, whitespace
//! trimmed and collapsed), and the page's yearbook, volume, chapter and article are right.
//! Entries of ours that match no truth entry are counted as extra.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use rayon::prelude::*;
use serde::Deserialize;
use yearbook::sectionize::{sectionize, Entry};

#[derive(Debug, Deserialize)]
struct TruthEntry {
    heading: String,
    #[serde(default)]
    subheads: Vec<String>,
    #[serde(default)]
    first: String,
}

#[derive(Debug, Deserialize)]
struct TruthPage {
    path: String,
    encoding: String,
    format: String,
    #[serde(default)]
    twice: bool,
    yearbook: Option<String>,
    volume: Option<String>,
    chapter: Option<String>,
    article: Option<String>,
    author: Option<String>,
    entries: Vec<TruthEntry>,
}

/// The comparable shape of an entry: heading, sub-heads, first 30 characters.
type Key = (String, Vec<String>, String);

/// Trims and collapses whitespace (ASCII, U+00A0, U+3000) to one space.
fn norm(text: &str) -> String {
    let mut out = String::new();
    for word in text
        .split(|c: char| c.is_whitespace() || c == '\u{a0}' || c == '\u{3000}')
        .filter(|w| !w.is_empty())
    {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

fn first30(text: &str) -> String {
    let paragraph = text.split('\n').find(|l| !norm(l).is_empty()).unwrap_or("");
    norm(&paragraph.chars().take(30).collect::<String>())
}

/// Whether our lead's start agrees with truth's `first` (30 characters of the raw first
/// paragraph, which may count spaces that a page collapses): equal once whitespace is
/// normalised, or, when truth was cut at 30, our first paragraph starts with it.
fn same_start(ours: &str, truth_first: &str) -> bool {
    let truth = norm(truth_first);
    let paragraph = ours.split('\n').find(|l| !norm(l).is_empty()).unwrap_or("");
    let paragraph = norm(paragraph);
    if truth_first.chars().count() >= 30 {
        paragraph.starts_with(&truth)
    } else {
        paragraph == truth
    }
}

fn truth_key(entry: &TruthEntry) -> Key {
    (
        norm(&entry.heading),
        entry.subheads.iter().map(|s| norm(s)).collect(),
        first30(&entry.first),
    )
}

fn our_key(entry: &Entry) -> Key {
    (
        norm(&entry.heading),
        entry.parts.iter().map(|p| norm(&p.subheading)).collect(),
        first30(&entry.lead),
    )
}

fn kind_of(page: &TruthPage) -> &'static str {
    match page.chapter.as_deref() {
        Some("大事记") => "chronicle (大事记)",
        Some("特载") => "report (特载)",
        Some("藝文") => "poems (藝文)",
        Some("社会生活") => "web news (社会生活)",
        _ => "entries (【】)",
    }
}

/// The outcome for one page.
struct Checked {
    kind: &'static str,
    format_encoding: String,
    twice: bool,
    truth: usize,
    recovered: usize,
    extra: usize,
    /// Recovered on heading and sub-heads alone (truth's first paragraph is empty).
    lenient: usize,
    place_ok: bool,
    author_ok: bool,
    failures: Vec<String>,
}

fn check(shelf: &Path, page: &TruthPage) -> Checked {
    let mut checked = Checked {
        kind: kind_of(page),
        format_encoding: format!("{} {}", page.format, page.encoding),
        twice: page.twice,
        truth: page.entries.len(),
        recovered: 0,
        extra: 0,
        lenient: 0,
        place_ok: false,
        author_ok: false,
        failures: Vec::new(),
    };
    let bytes = match std::fs::read(shelf.join(&page.path)) {
        Ok(bytes) => bytes,
        Err(error) => {
            checked
                .failures
                .push(format!("{}: cannot read: {error}", page.path));
            return checked;
        }
    };
    let decoded = match yearbook::decode::decode(&bytes) {
        Ok(decoded) => decoded,
        Err(error) => {
            checked
                .failures
                .push(format!("{}: cannot decode: {error}", page.path));
            return checked;
        }
    };
    let parsed = if page.path.ends_with(".html") || page.path.ends_with(".htm") {
        yearbook::parse::html::parse(&decoded.text)
    } else {
        yearbook::parse::text::parse(&decoded.text)
    };
    let mut sectioned = sectionize(&parsed);
    sectioned
        .place
        .fill_from(&yearbook::ingest::folder_place(&page.path));
    let place = &sectioned.place;
    let same = |ours: &Option<String>, truth: &Option<String>| {
        ours.as_deref().map(norm) == truth.as_deref().map(norm)
    };
    let place_checks = [
        ("yearbook", &place.yearbook, &page.yearbook),
        ("volume", &place.volume, &page.volume),
        ("chapter", &place.chapter, &page.chapter),
        ("article", &place.article, &page.article),
    ];
    checked.place_ok = true;
    for (name, ours, truth) in place_checks {
        if !same(ours, truth) {
            checked.place_ok = false;
            checked.failures.push(format!(
                "{} [{}]: {name} is {ours:?}, truth {truth:?}",
                page.path, checked.format_encoding
            ));
        }
    }
    checked.author_ok = same(&place.author, &page.author);

    // Exact matches first; then truth entries whose first paragraph is empty (the generator
    // keeps an empty paragraph that no page shows, so the lead we read starts with the next
    // one) match on heading and sub-heads alone.
    let mut used = vec![false; sectioned.entries.len()];
    let mut missing = Vec::new();
    let mut empty_first = Vec::new();
    for entry in &page.entries {
        let key = truth_key(entry);
        let found = sectioned.entries.iter().enumerate().position(|(at, ours)| {
            !used[at] && {
                let our = our_key(ours);
                our.0 == key.0 && our.1 == key.1 && same_start(&ours.lead, &entry.first)
            }
        });
        match found {
            Some(at) => {
                used[at] = true;
                if checked.place_ok {
                    checked.recovered += 1;
                }
            }
            None if key.2.is_empty() => empty_first.push(key),
            None => missing.push(key),
        }
    }
    for key in empty_first {
        let found = sectioned.entries.iter().enumerate().position(|(at, ours)| {
            !used[at] && {
                let our = our_key(ours);
                our.0 == key.0 && our.1 == key.1
            }
        });
        match found {
            Some(at) => {
                used[at] = true;
                checked.lenient += 1;
                if checked.place_ok {
                    checked.recovered += 1;
                }
            }
            None => missing.push(key),
        }
    }
    let extras: Vec<Key> = sectioned
        .entries
        .iter()
        .zip(&used)
        .filter(|(_, used)| !**used)
        .map(|(entry, _)| our_key(entry))
        .collect();
    checked.extra = extras.len();
    for key in missing.iter().take(3) {
        checked.failures.push(format!(
            "{} [{}]: missing {:?} {:?} {:?}",
            page.path, checked.format_encoding, key.0, key.1, key.2
        ));
    }
    for key in extras.iter().take(3) {
        checked.failures.push(format!(
            "{} [{}]: extra   {:?} {:?} {:?}",
            page.path, checked.format_encoding, key.0, key.1, key.2
        ));
    }
    checked
}

#[derive(Default)]
struct Tally {
    pages: usize,
    truth: usize,
    recovered: usize,
    extra: usize,
    place_wrong: usize,
}

impl Tally {
    fn add(&mut self, checked: &Checked) {
        self.pages += 1;
        self.truth += checked.truth;
        self.recovered += checked.recovered;
        self.extra += checked.extra;
        self.place_wrong += usize::from(!checked.place_ok);
    }

    fn line(&self, name: &str) -> String {
        let percent = if self.truth == 0 {
            100.0
        } else {
            100.0 * self.recovered as f64 / self.truth as f64
        };
        format!(
            "  {name:<28} {percent:7.2}%  {:>7}/{:<7} entries  {:>6} pages  {:>5} extra  {:>4} place wrong",
            self.recovered, self.truth, self.pages, self.extra, self.place_wrong
        )
    }
}

/// Prints one page as the pipeline sees it.
fn print_page(path: &Path) {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(error) => return println!("cannot read {}: {error}", path.display()),
    };
    let decoded = match yearbook::decode::decode(&bytes) {
        Ok(decoded) => decoded,
        Err(error) => return println!("cannot decode {}: {error}", path.display()),
    };
    println!(
        "encoding {} ({}), wrong declaration {:?}",
        decoded.encoding, decoded.how, decoded.wrong_declaration
    );
    let text = path.to_string_lossy();
    let parsed = if text.ends_with(".html") || text.ends_with(".htm") {
        yearbook::parse::html::parse(&decoded.text)
    } else {
        yearbook::parse::text::parse(&decoded.text)
    };
    println!("title {:?}", parsed.title);
    for line in &parsed.lines {
        println!("  | {line}");
    }
    let sectioned = sectionize(&parsed);
    println!("{:?}", sectioned.place);
    for entry in &sectioned.entries {
        let lead: String = entry.lead.chars().take(40).collect();
        println!("  【{}】 {lead:?}", entry.heading);
        for part in &entry.parts {
            let body: String = part.body.chars().take(30).collect();
            println!("      {} / {body:?}", part.subheading);
        }
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mut shelf = None;
    let mut truth = None;
    let mut show = 12usize;
    while let Some(arg) = args.next() {
        if arg == "--failures" {
            show = args.next().and_then(|n| n.parse().ok()).unwrap_or(show);
        } else if arg == "--truth" {
            truth = args.next();
        } else if arg == "--page" {
            if let Some(page) = args.next() {
                print_page(Path::new(&page));
            }
            return;
        } else {
            shelf = Some(arg);
        }
    }
    let shelf = shelf.unwrap_or_else(|| "/tmp/shelf50".to_string());
    let shelf = Path::new(&shelf);
    let truth_path = truth.map_or_else(|| shelf.join("truth.jsonl"), Into::into);
    let text = match std::fs::read_to_string(&truth_path) {
        Ok(text) => text,
        Err(error) => {
            println!(
                "no shelf at {} ({error}); make one with ../shared/tools/make-shelf --out {} --size-mb 50",
                truth_path.display(),
                shelf.display()
            );
            return;
        }
    };
    let pages: Vec<TruthPage> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .filter_map(|l| match serde_json::from_str(l) {
            Ok(page) => Some(page),
            Err(error) => {
                eprintln!("bad truth line: {error}");
                None
            }
        })
        .collect();
    let started = std::time::Instant::now();
    let results: Vec<Checked> = pages.par_iter().map(|page| check(shelf, page)).collect();

    let mut overall = Tally::default();
    let mut by_format: BTreeMap<String, Tally> = BTreeMap::new();
    let mut by_kind: BTreeMap<&str, Tally> = BTreeMap::new();
    let mut by_twice: BTreeMap<&str, Tally> = BTreeMap::new();
    let mut authors_wrong = 0;
    let mut lenient = 0;
    for checked in &results {
        overall.add(checked);
        by_format
            .entry(checked.format_encoding.clone())
            .or_default()
            .add(checked);
        by_kind.entry(checked.kind).or_default().add(checked);
        by_twice
            .entry(if checked.twice {
                "shown twice"
            } else {
                "shown once"
            })
            .or_default()
            .add(checked);
        authors_wrong += usize::from(!checked.author_ok);
        lenient += checked.lenient;
    }
    println!(
        "shelf {}: {} pages checked in {:.1} s",
        shelf.display(),
        results.len(),
        started.elapsed().as_secs_f64()
    );
    println!("{}", overall.line("overall"));
    println!("by format and encoding:");
    for (name, tally) in &by_format {
        println!("{}", tally.line(name));
    }
    println!("by page kind:");
    for (name, tally) in &by_kind {
        println!("{}", tally.line(name));
    }
    for (name, tally) in &by_twice {
        println!("{}", tally.line(name));
    }
    println!("pages with a wrong author: {authors_wrong}");
    println!(
        "entries matched on heading and sub-heads alone (truth's first paragraph empty): {lenient}"
    );

    // A few failures, spread over kinds so one kind does not hide the others.
    let mut shown: HashMap<&str, usize> = HashMap::new();
    let failing: Vec<&Checked> = results.iter().filter(|c| !c.failures.is_empty()).collect();
    if !failing.is_empty() {
        println!("example failures ({} pages with any):", failing.len());
        let per_kind = show.div_ceil(by_kind.len().max(1)).max(1);
        let mut printed = 0;
        for checked in failing {
            if printed >= show {
                break;
            }
            let count = shown.entry(checked.kind).or_default();
            if *count >= per_kind {
                continue;
            }
            *count += 1;
            printed += 1;
            for failure in checked.failures.iter().take(4) {
                println!("  {failure}");
            }
        }
    }
}
