//! `yearbook verify`: is the index whole?

use yearbook::cli::IndexArgs;

use super::Outcome;

pub fn run(args: &IndexArgs) -> anyhow::Result<Outcome> {
    let report = yearbook::verify::verify(&args.index);
    if args.json {
        println!(
            "{}",
            serde_json::json!({
                "ok": report.is_ok(),
                "segments": report.segments,
                "documents": report.documents,
                "problems": report.problems,
            })
        );
    } else if report.is_ok() {
        println!(
            "ok: {} segments, {} documents, checksums match",
            report.segments, report.documents
        );
    } else {
        for problem in &report.problems {
            println!("damaged: {problem}");
        }
        eprintln!(
            "yearbook: error: the index in {} is damaged ({} problems); run `yearbook ingest --rebuild`",
            args.index.display(),
            report.problems.len()
        );
    }
    Ok(if report.is_ok() {
        Outcome::Success
    } else {
        Outcome::Failed
    })
}
