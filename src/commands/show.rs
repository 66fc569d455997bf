//! `yearbook show ID`: a whole entry with its place and source.

use anyhow::Context;
use yearbook::cli::ShowArgs;
use yearbook::search::Engine;

use super::Outcome;

pub fn run(args: &ShowArgs) -> anyhow::Result<Outcome> {
    let engine = Engine::open(&args.index)
        .with_context(|| format!("opening the index in {}", args.index.display()))?;
    let parts = engine.show(&args.id)?;
    let mut out = anstream::stdout().lock();
    if args.json {
        serde_json::to_writer(&mut out, &parts)?;
        use std::io::Write;
        writeln!(out)?;
    } else {
        yearbook::render::shown(&mut out, &parts)?;
    }
    Ok(Outcome::Success)
}
