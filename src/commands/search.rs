//! `yearbook search`: one query, or a batch of them with `--queries`.

use std::collections::BTreeMap;
use std::io::{BufRead, IsTerminal, Write};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{mpsc, Arc, Mutex};

use anyhow::{anyhow, bail, Context};
use yearbook::cli::SearchArgs;
use yearbook::index;
use yearbook::ingest::{ingest, IngestOptions};
use yearbook::place::volume_year;
use yearbook::query::Filters;
use yearbook::search::{Engine, Hit, SearchOptions};

use super::{internal_failure, panic_message, print_warning, Outcome};

pub fn run(args: &SearchArgs) -> anyhow::Result<Outcome> {
    if !index::exists(&args.index) {
        if !args.corpus.is_dir() {
            bail!(yearbook::Error::NoIndex(args.index.clone()));
        }
        eprintln!(
            "yearbook: no index in {}; building it from {} first",
            args.index.display(),
            args.corpus.display()
        );
        let mut options = IngestOptions::new(&args.corpus, &args.index);
        options.progress = std::io::stderr().is_terminal();
        let summary = ingest(&options, &mut print_warning)
            .with_context(|| format!("indexing {}", args.corpus.display()))?;
        eprintln!("yearbook: {summary}");
    }
    let engine = Engine::open(&args.index)
        .with_context(|| format!("opening the index in {}", args.index.display()))?;
    let year = match &args.volume {
        Some(volume) => Some(
            volume
                .trim()
                .parse::<u64>()
                .ok()
                .or_else(|| volume_year(volume))
                .with_context(|| {
                    format!("--volume {volume}: expected a year such as 2017 or 2017卷")
                })?,
        ),
        None => None,
    };
    let options = SearchOptions {
        limit: args.limit,
        filters: Filters {
            yearbook: args.yearbook.clone(),
            year,
            chapter: args.chapter.clone(),
        },
    };
    // Buffered: hits are written in many small pieces, and stdout alone makes a system call
    // per line. Everything is flushed before the command returns (and after each answer in
    // batch mode).
    let mut buffered: Box<dyn Write> = Box::new(std::io::BufWriter::new(std::io::stdout().lock()));
    // JSON goes out as it is: it escapes every control character, so it holds no styling
    // to strip, and passing it through the stripping cost 2.4% of a batch's instructions.
    if let Some(file) = &args.queries {
        return batch(Arc::new(engine), Arc::new(options), file, &mut buffered);
    }
    let query = args.query.join(" ");
    let hits = engine.search(&query, &options)?;
    if args.json {
        yearbook::render::json(&mut buffered, &hits)?;
        buffered.flush()?;
    } else {
        let choice = anstream::AutoStream::choice(&std::io::stdout());
        let mut out = anstream::AutoStream::new(buffered, choice);
        yearbook::render::human(&mut out, &hits)?;
        out.flush()?;
    }
    Ok(if hits.is_empty() {
        Outcome::NoHits
    } else {
        Outcome::Success
    })
}

/// What batch mode prints for one line of input, in input order.
enum Answer {
    Hits(String, yearbook::Result<Vec<Hit>>),
    /// A line that cannot be read or parsed, or a query that failed inside: the batch stops
    /// there.
    Fatal(anyhow::Error),
}

/// Batch mode. Queries are answered on every core while the answers are printed in input
/// order as soon as each is ready, so a script feeding stdin line by line still gets each
/// answer without waiting for a batch to fill. The threads are detached: on an error the
/// command returns at once and the process ends with them.
fn batch(
    engine: Arc<Engine>,
    options: Arc<SearchOptions>,
    file: &std::path::Path,
    out: &mut dyn Write,
) -> anyhow::Result<Outcome> {
    let reader: Box<dyn BufRead + Send> = if file.as_os_str() == "-" {
        Box::new(std::io::BufReader::new(std::io::stdin()))
    } else {
        Box::new(std::io::BufReader::new(
            std::fs::File::open(file).with_context(|| format!("opening {}", file.display()))?,
        ))
    };
    // With a user dictionary, some query of a batch will likely need jieba: it is built from
    // the start on a thread of its own, instead of by the first worker that needs it while
    // the others wait.
    let preparing = engine.clone();
    std::thread::spawn(move || preparing.prepare_words());
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 8);
    let (job_sender, job_receiver) = mpsc::sync_channel::<(usize, String, String)>(workers * 4);
    let job_receiver = Arc::new(Mutex::new(job_receiver));
    let (answer_sender, answer_receiver) = mpsc::channel::<(usize, Answer)>();

    let file_name = file.display().to_string();
    let reader_answers = answer_sender.clone();
    std::thread::spawn(move || {
        let mut sequence = 0;
        for (number, line) in reader.lines().enumerate() {
            let parsed = line
                .with_context(|| format!("reading {file_name}"))
                .and_then(|line| match line.split_once('\t') {
                    _ if line.trim().is_empty() => Ok(None),
                    Some((qid, query)) => Ok(Some((qid.to_string(), query.to_string()))),
                    None => Err(anyhow!(
                        "{file_name} line {}: expected `qid<TAB>query`",
                        number + 1
                    )),
                });
            match parsed {
                Ok(None) => continue,
                Ok(Some((qid, query))) => {
                    if job_sender.send((sequence, qid, query)).is_err() {
                        return;
                    }
                }
                Err(error) => {
                    let _ = reader_answers.send((sequence, Answer::Fatal(error)));
                    return;
                }
            }
            sequence += 1;
        }
    });
    for _ in 0..workers {
        let (engine, options) = (engine.clone(), options.clone());
        let (job_receiver, answer_sender) = (job_receiver.clone(), answer_sender.clone());
        std::thread::spawn(move || loop {
            let job = job_receiver.lock().map(|receiver| receiver.recv());
            let Ok(Ok((sequence, qid, query))) = job else {
                return;
            };
            // tantivy panics on some damaged index files: the batch stops there with the
            // error, in order, instead of losing one answer and going on.
            let answer = match catch_unwind(AssertUnwindSafe(|| engine.search(&query, &options))) {
                Ok(hits) => Answer::Hits(qid, hits),
                Err(panic) => Answer::Fatal(anyhow!(
                    "query {qid}: {}",
                    internal_failure(&panic_message(&*panic))
                )),
            };
            if answer_sender.send((sequence, answer)).is_err() {
                return;
            }
        });
    }
    drop(answer_sender);

    let mut pending: BTreeMap<usize, Answer> = BTreeMap::new();
    let mut next = 0;
    let mut any = false;
    for (sequence, answer) in answer_receiver {
        pending.insert(sequence, answer);
        while let Some(answer) = pending.remove(&next) {
            next += 1;
            let (qid, hits) = match answer {
                Answer::Fatal(error) => return Err(error),
                Answer::Hits(qid, hits) => (qid, hits),
            };
            let mut hits = match hits {
                Ok(hits) => hits,
                Err(yearbook::Error::Query(why)) => {
                    eprintln!("yearbook: warning: query {qid}: {why}");
                    continue;
                }
                Err(error) => return Err(error.into()),
            };
            any |= !hits.is_empty();
            for hit in &mut hits {
                hit.qid = Some(qid.clone());
            }
            yearbook::render::json(out, &hits)?;
        }
        // Each answer is flushed as it is printed: a script waits on it.
        out.flush()?;
    }
    Ok(if any {
        Outcome::Success
    } else {
        Outcome::NoHits
    })
}
