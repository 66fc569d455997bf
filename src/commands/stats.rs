//! `yearbook stats`: what the index holds.

use std::io::Write;

use anyhow::Context;
use yearbook::cli::IndexArgs;

use super::Outcome;

pub fn run(args: &IndexArgs) -> anyhow::Result<Outcome> {
    let stats = yearbook::stats::stats(&args.index)
        .with_context(|| format!("reading the index in {}", args.index.display()))?;
    let mut out = anstream::stdout().lock();
    if args.json {
        serde_json::to_writer(&mut out, &stats)?;
        writeln!(out)?;
        return Ok(Outcome::Success);
    }
    writeln!(out, "{} files, {} entries", stats.files, stats.entries)?;
    writeln!(out, "\nper volume:")?;
    for volume in &stats.volumes {
        let yearbook = if volume.yearbook.is_empty() {
            "(no yearbook)"
        } else {
            &volume.yearbook
        };
        let name = if volume.volume.is_empty() {
            "(no volume)"
        } else {
            &volume.volume
        };
        writeln!(
            out,
            "  {yearbook} › {name}: {} files, {} entries",
            volume.files, volume.entries
        )?;
    }
    writeln!(out, "\nencodings:")?;
    for (encoding, files) in &stats.encodings {
        writeln!(out, "  {encoding}: {files} files")?;
    }
    writeln!(out, "\nskipped or without entries: {}", stats.skipped.len())?;
    for skipped in &stats.skipped {
        writeln!(out, "  {}: {}", skipped.path, skipped.reason)?;
    }
    Ok(Outcome::Success)
}
