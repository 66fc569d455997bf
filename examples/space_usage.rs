//! Where an index's bytes go: per component and per field, summed over segments.
//!
//!     cargo run --release --example space_usage -- /tmp/yearbook-bench/index-200

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{Context, Result};

fn main() -> Result<()> {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .context("usage: space_usage INDEX")?,
    );
    let opened = yearbook::index::open(&dir)?;
    let searcher = opened.reader.searcher();
    let usage = searcher.space_usage()?;
    let mut per_field: BTreeMap<(String, &str), u64> = BTreeMap::new();
    let mut store = 0u64;
    for segment in usage.segments() {
        for (component, fields) in [
            ("terms", segment.termdict()),
            ("postings", segment.postings()),
            ("positions", segment.positions()),
            ("fast", segment.fast_fields()),
            ("fieldnorms", segment.fieldnorms()),
        ] {
            for field in fields.fields() {
                *per_field
                    .entry((field.field_name().to_string(), component))
                    .or_default() += field.total().get_bytes();
            }
        }
        store += segment.store().total().get_bytes();
    }
    let fields = opened.fields;
    for (name, field) in [
        ("body_chars", fields.body_chars),
        ("title_chars", fields.title_chars),
    ] {
        let mut tokens = 0u64;
        let mut terms = 0u64;
        for segment in searcher.segment_readers() {
            let inverted = segment.inverted_index(field)?;
            tokens += inverted.total_num_tokens();
            terms += inverted.terms().num_terms() as u64;
        }
        println!("{name:<16} {tokens:>12} tokens {terms:>9} terms (summed over segments)");
    }
    let mb = |bytes: u64| bytes as f64 / 1e6;
    println!("{:<16} {:<11} {:>9}", "field", "component", "MB");
    for ((field, component), bytes) in &per_field {
        if *bytes >= 100_000 {
            println!("{field:<16} {component:<11} {:>9.2}", mb(*bytes));
        }
    }
    println!("{:<16} {:<11} {:>9.2}", "(all)", "store", mb(store));
    println!(
        "{:<16} {:<11} {:>9.2}",
        "(all)",
        "total",
        mb(usage.total().get_bytes())
    );
    Ok(())
}
