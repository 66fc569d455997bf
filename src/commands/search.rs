//! `yearbook search`: one query, or a batch of them with `--queries`.

use std::io::{BufRead, IsTerminal, Write};

use anyhow::{bail, Context};
use yearbook::cli::SearchArgs;
use yearbook::index;
use yearbook::ingest::{ingest, IngestOptions};
use yearbook::place::volume_year;
use yearbook::query::Filters;
use yearbook::search::{Engine, SearchOptions};

use super::{print_warning, Outcome};

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
    let mut out = anstream::stdout().lock();
    if let Some(file) = &args.queries {
        return batch(&engine, &options, file, &mut out);
    }
    let query = args.query.join(" ");
    let hits = engine.search(&query, &options)?;
    if args.json {
        yearbook::render::json(&mut out, &hits)?;
    } else {
        yearbook::render::human(&mut out, &hits)?;
    }
    out.flush()?;
    Ok(if hits.is_empty() {
        Outcome::NoHits
    } else {
        Outcome::Success
    })
}

fn batch(
    engine: &Engine,
    options: &SearchOptions,
    file: &std::path::Path,
    out: &mut dyn Write,
) -> anyhow::Result<Outcome> {
    let reader: Box<dyn BufRead> = if file.as_os_str() == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(std::io::BufReader::new(
            std::fs::File::open(file).with_context(|| format!("opening {}", file.display()))?,
        ))
    };
    let mut any = false;
    for (number, line) in reader.lines().enumerate() {
        let line = line.with_context(|| format!("reading {}", file.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        let Some((qid, query)) = line.split_once('\t') else {
            bail!(
                "{} line {}: expected `qid<TAB>query`",
                file.display(),
                number + 1
            );
        };
        let mut hits = match engine.search(query, options) {
            Ok(hits) => hits,
            Err(yearbook::Error::Query(why)) => {
                eprintln!("yearbook: warning: query {qid}: {why}");
                continue;
            }
            Err(error) => return Err(error.into()),
        };
        any |= !hits.is_empty();
        for hit in &mut hits {
            hit.qid = Some(qid.to_string());
        }
        yearbook::render::json(out, &hits)?;
    }
    out.flush()?;
    Ok(if any {
        Outcome::Success
    } else {
        Outcome::NoHits
    })
}
