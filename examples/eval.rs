//! Retrieval evaluation on the CMRC 2018 passage set, plus a grep-parity check.
//!
//! What it measures, against the folder `passages.jsonl` (pid, title, text), `queries.tsv`
//! (qid TAB question) and `qrels.trec` (`qid 0 pid 1`):
//!
//! 1. **Ingest**: the passages are written to a temporary corpus as one JSON Lines file in
//!    our schema (`id`, `yearbook`, `heading`, `body`) and ingested into a temporary index;
//!    the time is reported.
//! 2. **Ranking**: every question is run with a limit of 10; MRR@10, Recall@1, Recall@10 and
//!    queries per second are printed next to baselines measured on the same machine, with
//!    pass/fail against the target MRR@10 ≥ 0.977.
//! 3. **Queries in the other script**: the same questions converted to traditional
//!    characters (OpenCC `s2t`) against the simplified passages.
//! 4. **Grep parity**: 300 substrings of 1–8 characters, cut at random (fixed seed) from
//!    random passages, and their `s2t` variants. For each, the passages whose folded heading
//!    or folded body contains the folded substring must all be returned (no miss allowed),
//!    and exactly they must be tagged `matched == "phrase"`.
//!
//! Run it with
//!
//! ```text
//! cargo run --release --example eval -- ../shared/corpus/ir-eval/cmrc2018
//! cargo run --release --example eval -- --limit-queries 200 --failures 10
//! ```
//!
//! The folder argument defaults to `../shared/corpus/ir-eval/cmrc2018`; when it is absent the
//! example says so and exits 0. `--limit-queries N` runs only the first N questions;
//! `--failures N` prints N questions whose judged passage is not ranked first, with what was
//! ranked above it. The exit code is 1 when the grep-parity check misses a passage, 2 on an
//! error, else 0.

use std::collections::{BTreeSet, HashMap};
use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use ferrous_opencc::config::BuiltinConfig;
use ferrous_opencc::OpenCC;
use serde::Deserialize;
use yearbook::analyze::fold_str;
use yearbook::ingest::{ingest, IngestOptions};
use yearbook::search::{Engine, Hit, SearchOptions};

/// Where the evaluation set lives when no folder is given.
const DEFAULT_DIR: &str = "../shared/corpus/ir-eval/cmrc2018";
/// The MRR@10 the engine must reach.
const TARGET_MRR: f64 = 0.977;
/// Cut-off of the ranking metrics.
const CUTOFF: usize = 10;
/// MRR@10 of other systems on the same set, measured on this machine.
const BASELINES: &[(&str, f64)] = &[
    ("Lucene CJK bigram", 0.977),
    ("bm25s over jieba", 0.977),
    ("SQLite FTS5 over jieba", 0.977),
    ("SQLite FTS5 trigram", 0.922),
    ("grep-matched word count", 0.860),
];
/// Substrings sampled by the grep-parity check.
const PARITY_SAMPLES: usize = 300;
/// Longest sampled substring, in characters.
const PARITY_MAX_CHARS: usize = 8;
/// Seed of the sampler, fixed so that every run checks the same substrings.
const PARITY_SEED: u64 = 0x2018_c3a1_5eed_0001;
/// Search limit of the parity check: more than the number of passages.
const PARITY_LIMIT: usize = 2000;

/// Command-line arguments.
struct Args {
    dir: PathBuf,
    limit_queries: Option<usize>,
    failures: usize,
}

fn parse_args() -> Result<Args> {
    let mut args = Args {
        dir: PathBuf::from(DEFAULT_DIR),
        limit_queries: None,
        failures: 0,
    };
    let mut dir = None;
    let mut iter = std::env::args().skip(1);
    while let Some(arg) = iter.next() {
        let mut number = |name: &str| -> Result<usize> {
            let value = iter
                .next()
                .with_context(|| format!("{name} needs a number"))?;
            value
                .parse()
                .with_context(|| format!("{name}: {value:?} is not a number"))
        };
        match arg.as_str() {
            "--limit-queries" => args.limit_queries = Some(number("--limit-queries")?),
            "--failures" => args.failures = number("--failures")?,
            "-h" | "--help" => {
                println!(
                    "usage: eval [FOLDER] [--limit-queries N] [--failures N]\n\
                     FOLDER defaults to {DEFAULT_DIR}"
                );
                std::process::exit(0);
            }
            other if other.starts_with("--") => bail!("unknown option {other}"),
            other if dir.is_none() => dir = Some(PathBuf::from(other)),
            other => bail!("unexpected argument {other}"),
        }
    }
    if let Some(dir) = dir {
        args.dir = dir;
    }
    Ok(args)
}

/// One line of `passages.jsonl`.
#[derive(Deserialize)]
struct Passage {
    pid: String,
    title: String,
    text: String,
}

/// One line of `queries.tsv`.
struct Question {
    qid: String,
    text: String,
}

fn read(path: &Path) -> Result<String> {
    fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
}

fn load_passages(path: &Path) -> Result<Vec<Passage>> {
    let text = read(path)?;
    let mut passages = Vec::new();
    for (number, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let passage = serde_json::from_str(line)
            .with_context(|| format!("{} line {}", path.display(), number + 1))?;
        passages.push(passage);
    }
    Ok(passages)
}

fn load_questions(path: &Path) -> Result<Vec<Question>> {
    let text = read(path)?;
    let mut questions = Vec::new();
    for (number, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let Some((qid, question)) = line.split_once('\t') else {
            bail!("{} line {}: no tab", path.display(), number + 1);
        };
        questions.push(Question {
            qid: qid.to_string(),
            text: question.to_string(),
        });
    }
    Ok(questions)
}

/// Relevant passages of each question (`qid 0 pid relevance`, relevance > 0).
fn load_qrels(path: &Path) -> Result<HashMap<String, BTreeSet<String>>> {
    let text = read(path)?;
    let mut qrels: HashMap<String, BTreeSet<String>> = HashMap::new();
    for (number, line) in text.lines().enumerate() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        match fields.as_slice() {
            [] => continue,
            [qid, _, pid, relevance] => {
                let relevance: i64 = relevance.parse().with_context(|| {
                    format!("{} line {}: bad relevance", path.display(), number + 1)
                })?;
                if relevance > 0 {
                    qrels
                        .entry(qid.to_string())
                        .or_default()
                        .insert(pid.to_string());
                }
            }
            _ => bail!("{} line {}: expected 4 fields", path.display(), number + 1),
        }
    }
    Ok(qrels)
}

/// Writes the passages as one JSON Lines file in our schema.
fn write_corpus(passages: &[Passage], corpus: &Path) -> Result<()> {
    let path = corpus.join("cmrc2018.jsonl");
    let file = fs::File::create(&path).with_context(|| format!("creating {}", path.display()))?;
    let mut out = BufWriter::new(file);
    for passage in passages {
        let line = serde_json::json!({
            "id": passage.pid,
            "yearbook": "CMRC2018",
            "heading": passage.title,
            "body": passage.text,
        });
        writeln!(out, "{line}").with_context(|| format!("writing {}", path.display()))?;
    }
    out.flush()
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// Ranking metrics of one run over the questions.
struct Ranking {
    questions: usize,
    mrr: f64,
    recall_1: f64,
    recall_10: f64,
    seconds: f64,
    errors: usize,
    /// Questions whose first relevant passage is not at rank 1: (question, its rank, hits).
    misranked: Vec<(String, Option<usize>, Vec<Hit>)>,
}

impl Ranking {
    fn per_second(&self) -> f64 {
        self.questions as f64 / self.seconds.max(1e-9)
    }
}

/// Runs every judged question (converted by `convert` when given) and scores the top 10.
fn rank(
    engine: &Engine,
    questions: &[Question],
    qrels: &HashMap<String, BTreeSet<String>>,
    convert: Option<&OpenCC>,
) -> Ranking {
    let options = SearchOptions {
        limit: CUTOFF,
        filters: Default::default(),
    };
    let mut ranking = Ranking {
        questions: 0,
        mrr: 0.0,
        recall_1: 0.0,
        recall_10: 0.0,
        seconds: 0.0,
        errors: 0,
        misranked: Vec::new(),
    };
    // Conversion happens before the clock starts: only the engine is timed.
    let texts: Vec<String> = questions
        .iter()
        .map(|q| match convert {
            Some(opencc) => opencc.convert(&q.text),
            None => q.text.clone(),
        })
        .collect();
    let started = Instant::now();
    for (question, text) in questions.iter().zip(&texts) {
        let Some(relevant) = qrels.get(&question.qid) else {
            continue;
        };
        ranking.questions += 1;
        let hits = match engine.search(text, &options) {
            Ok(hits) => hits,
            Err(error) => {
                ranking.errors += 1;
                let why = if text.trim().is_empty() {
                    "the question is empty".to_string()
                } else {
                    error.to_string()
                };
                eprintln!("eval: question {} not run: {why}", question.qid);
                Vec::new()
            }
        };
        let first = hits.iter().position(|hit| relevant.contains(&hit.id));
        if let Some(position) = first {
            ranking.mrr += 1.0 / (position + 1) as f64;
        }
        let found = |k: usize| {
            hits.iter()
                .take(k)
                .filter(|hit| relevant.contains(&hit.id))
                .count() as f64
                / relevant.len() as f64
        };
        ranking.recall_1 += found(1);
        ranking.recall_10 += found(CUTOFF);
        if first != Some(0) {
            ranking
                .misranked
                .push((text.clone(), first.map(|p| p + 1), hits));
        }
    }
    ranking.seconds = started.elapsed().as_secs_f64();
    let n = ranking.questions.max(1) as f64;
    ranking.mrr /= n;
    ranking.recall_1 /= n;
    ranking.recall_10 /= n;
    ranking
}

/// A small deterministic generator (xorshift64), so that no crate is needed for sampling.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// Uniform-enough integer in `0..n` (`n` > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// A passage folded the way the index folds it, heading and body kept apart.
struct Folded {
    pid: String,
    title: String,
    body: String,
}

/// Samples `count` substrings of 1–8 characters from random passages (their body, or now and
/// then their title), skipping those with whitespace.
fn sample_substrings(passages: &[Passage], count: usize) -> Vec<String> {
    let mut rng = XorShift(PARITY_SEED);
    let mut samples = Vec::with_capacity(count);
    let mut attempts = 0;
    while samples.len() < count && attempts < count * 100 {
        attempts += 1;
        let passage = &passages[rng.below(passages.len())];
        let source = if rng.below(8) == 0 {
            &passage.title
        } else {
            &passage.text
        };
        let chars: Vec<char> = source.chars().collect();
        if chars.is_empty() {
            continue;
        }
        let length = 1 + rng.below(PARITY_MAX_CHARS.min(chars.len()));
        let start = rng.below(chars.len() - length + 1);
        let sample: String = chars[start..start + length].iter().collect();
        if sample.chars().any(char::is_whitespace)
            || fold_str(&sample).chars().any(char::is_whitespace)
        {
            continue;
        }
        samples.push(sample);
    }
    samples
}

/// The query that asks for `text` literally, or `None` when the query syntax cannot say it
/// (a leading `"` opens a phrase that would end at the next `"`).
fn literal_query(text: &str) -> Option<String> {
    if text.starts_with('"') || (text.starts_with('-') && text.contains('"')) {
        None
    } else if text.starts_with('-') {
        // `-x` would exclude x: quote it to ask for it.
        Some(format!("\"{text}\""))
    } else {
        Some(text.to_string())
    }
}

/// Outcome of the grep-parity check for one script.
#[derive(Default)]
struct Parity {
    checked: usize,
    /// Substrings the query syntax cannot express.
    skipped: usize,
    /// Passages that contain the substring, summed over substrings.
    expected: usize,
    /// Containing passages not returned at all.
    misses: usize,
    /// Containing passages returned but not tagged "phrase".
    untagged: usize,
    /// Passages tagged "phrase" that do not contain the substring.
    extra_phrase: usize,
    errors: usize,
    seconds: f64,
    /// Descriptions of the first problems.
    examples: Vec<String>,
}

fn check_parity(engine: &Engine, folded: &[Folded], substrings: &[String]) -> Parity {
    let options = SearchOptions {
        limit: PARITY_LIMIT,
        filters: Default::default(),
    };
    let mut parity = Parity::default();
    let started = Instant::now();
    for substring in substrings {
        let Some(query) = literal_query(substring) else {
            parity.skipped += 1;
            continue;
        };
        let needle = fold_str(substring);
        if needle.is_empty() {
            parity.skipped += 1;
            continue;
        }
        parity.checked += 1;
        let expected: BTreeSet<&str> = folded
            .iter()
            .filter(|p| p.title.contains(&needle) || p.body.contains(&needle))
            .map(|p| p.pid.as_str())
            .collect();
        parity.expected += expected.len();
        let hits = match engine.search(&query, &options) {
            Ok(hits) => hits,
            Err(error) => {
                parity.errors += 1;
                parity
                    .examples
                    .push(format!("{substring:?}: search failed: {error}"));
                Vec::new()
            }
        };
        let returned: BTreeSet<&str> = hits.iter().map(|hit| hit.id.as_str()).collect();
        let phrase: BTreeSet<&str> = hits
            .iter()
            .filter(|hit| hit.matched == "phrase")
            .map(|hit| hit.id.as_str())
            .collect();
        let misses = expected.difference(&returned).count();
        let untagged = expected
            .iter()
            .filter(|pid| returned.contains(*pid) && !phrase.contains(*pid))
            .count();
        let extra = phrase.difference(&expected).count();
        parity.misses += misses;
        parity.untagged += untagged;
        parity.extra_phrase += extra;
        if (misses + untagged + extra) > 0 && parity.examples.len() < 5 {
            parity.examples.push(format!(
                "{substring:?} (folded {needle:?}): {} expected, {misses} missed, \
                 {untagged} not tagged phrase, {extra} extra phrase hits",
                expected.len()
            ));
        }
    }
    parity.seconds = started.elapsed().as_secs_f64();
    parity
}

fn print_parity(label: &str, parity: &Parity) {
    println!(
        "  {label:<12} {:>4} checked ({} skipped), {:>6} passages expected: \
         {} missed, {} not tagged phrase, {} extra phrase hits, {} errors ({:.2} s)",
        parity.checked,
        parity.skipped,
        parity.expected,
        parity.misses,
        parity.untagged,
        parity.extra_phrase,
        parity.errors,
        parity.seconds
    );
    for example in &parity.examples {
        println!("    ! {example}");
    }
}

fn print_misranked(ranking: &Ranking, titles: &HashMap<&str, &str>, count: usize) {
    if count == 0 || ranking.misranked.is_empty() {
        return;
    }
    println!();
    println!(
        "first {} of {} questions whose judged passage is not at rank 1:",
        count.min(ranking.misranked.len()),
        ranking.misranked.len()
    );
    for (question, rank, hits) in ranking.misranked.iter().take(count) {
        let rank = rank.map_or("not in top 10".to_string(), |r| format!("rank {r}"));
        println!("  {question}  [judged passage: {rank}]");
        for hit in hits.iter().take(3) {
            println!(
                "    {:>2}. {:<16} {:<6} {:>7.2}  {}",
                hit.rank,
                hit.id,
                hit.matched,
                hit.score,
                titles.get(hit.id.as_str()).copied().unwrap_or("?")
            );
        }
    }
}

fn run() -> Result<ExitCode> {
    let args = parse_args()?;
    let dir = &args.dir;
    if !dir.is_dir() {
        println!("eval: {} not found; nothing to evaluate", dir.display());
        return Ok(ExitCode::SUCCESS);
    }
    let total = Instant::now();
    let passages = load_passages(&dir.join("passages.jsonl"))?;
    let mut questions = load_questions(&dir.join("queries.tsv"))?;
    let qrels = load_qrels(&dir.join("qrels.trec"))?;
    if let Some(limit) = args.limit_queries {
        questions.truncate(limit);
    }
    let unjudged = questions
        .iter()
        .filter(|q| !qrels.contains_key(&q.qid))
        .count();
    println!(
        "CMRC 2018 from {}: {} passages, {} questions ({} without judgement, not scored)",
        dir.display(),
        passages.len(),
        questions.len(),
        unjudged
    );

    // 1. Ingest into a temporary corpus and index.
    let work = tempfile::tempdir().context("creating a temporary folder")?;
    let corpus = work.path().join("corpus");
    let index_dir = work.path().join("index");
    fs::create_dir_all(&corpus).context("creating the temporary corpus folder")?;
    write_corpus(&passages, &corpus)?;
    let started = Instant::now();
    let summary = ingest(&IngestOptions::new(&corpus, &index_dir), &mut |warning| {
        eprintln!("eval: ingest warning: {}: {}", warning.path, warning.reason)
    })
    .context("ingesting the passages")?;
    let ingest_seconds = started.elapsed().as_secs_f64();
    println!(
        "ingest: {} entries in {:.2} s ({:.0} passages/s)",
        summary.entries_indexed,
        ingest_seconds,
        summary.entries_indexed as f64 / ingest_seconds.max(1e-9)
    );
    let engine = Engine::open(&index_dir).context("opening the index")?;

    // 2. Ranking with the questions as given.
    let ranking = rank(&engine, &questions, &qrels, None);
    // 3. The same questions in traditional characters.
    let opencc = OpenCC::from_config(BuiltinConfig::S2t).context("loading OpenCC s2t")?;
    let traditional = rank(&engine, &questions, &qrels, Some(&opencc));

    println!();
    println!(
        "{:<32} {:>7} {:>7} {:>7} {:>9}",
        "system", "MRR@10", "R@1", "R@10", "q/s"
    );
    for (label, r) in [
        ("yearbook (this build)", &ranking),
        ("yearbook, queries in s2t", &traditional),
    ] {
        println!(
            "{label:<32} {:>7.3} {:>7.3} {:>7.3} {:>9.0}",
            r.mrr,
            r.recall_1,
            r.recall_10,
            r.per_second()
        );
    }
    for (label, mrr) in BASELINES {
        println!("{label:<32} {mrr:>7.3} {:>7} {:>7} {:>9}", "-", "-", "-");
    }
    println!();
    let verdict = |mrr: f64| if mrr >= TARGET_MRR { "PASS" } else { "FAIL" };
    println!(
        "target MRR@10 >= {TARGET_MRR}: {} ({:.4}; {} questions, {} errors)",
        verdict(ranking.mrr),
        ranking.mrr,
        ranking.questions,
        ranking.errors
    );
    println!(
        "queries in the other script (s2t, passages simplified): MRR@10 {:.4} ({}; {} errors)",
        traditional.mrr,
        verdict(traditional.mrr),
        traditional.errors
    );

    // 4. Grep parity.
    let folded: Vec<Folded> = passages
        .iter()
        .map(|p| Folded {
            pid: p.pid.clone(),
            title: fold_str(&p.title),
            body: fold_str(&p.text),
        })
        .collect();
    let simplified = sample_substrings(&passages, PARITY_SAMPLES);
    let converted: Vec<String> = simplified.iter().map(|s| opencc.convert(s)).collect();
    let changed = simplified
        .iter()
        .zip(&converted)
        .filter(|(s, t)| s != t)
        .count();
    let fold_differs = simplified
        .iter()
        .zip(&converted)
        .filter(|(s, t)| fold_str(s) != fold_str(t))
        .count();
    println!();
    println!(
        "grep parity: {} substrings of 1-{PARITY_MAX_CHARS} characters (seed {PARITY_SEED:#x}), \
         search limit {PARITY_LIMIT}",
        simplified.len()
    );
    let parity_simplified = check_parity(&engine, &folded, &simplified);
    print_parity("as sampled", &parity_simplified);
    let parity_traditional = check_parity(&engine, &folded, &converted);
    print_parity("s2t", &parity_traditional);
    println!(
        "  ({changed} substrings changed under s2t; {fold_differs} of those fold to other \
         text than the simplified original)"
    );
    let misses = parity_simplified.misses + parity_traditional.misses;
    let mismatches = misses
        + parity_simplified.untagged
        + parity_traditional.untagged
        + parity_simplified.extra_phrase
        + parity_traditional.extra_phrase;
    println!(
        "grep parity: {} ({misses} missed, {mismatches} mismatches in all)",
        if misses == 0 { "PASS" } else { "FAIL" }
    );

    let titles: HashMap<&str, &str> = passages
        .iter()
        .map(|p| (p.pid.as_str(), p.title.as_str()))
        .collect();
    print_misranked(&ranking, &titles, args.failures);

    println!();
    println!("total time {:.1} s", total.elapsed().as_secs_f64());
    Ok(if misses > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(error) => {
            eprintln!("eval: {error:#}");
            ExitCode::from(2)
        }
    }
}
