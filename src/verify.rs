//! `verify`: says whether an index is whole, and what is damaged when it is not.
//!
//! tantivy does not check checksums when it opens an index: a flipped bit in a doc store
//! panics when the document is read, one in a term dictionary is served silently. So verify
//! checks every managed file's checksum, opens every segment, walks every term dictionary
//! and reads every stored document, catching panics, and reports each problem it finds.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use tantivy::schema::Field;
use tantivy::{DocAddress, TantivyDocument};

use crate::index;

/// What `verify` found.
#[derive(Debug, Default)]
pub struct Report {
    pub segments: usize,
    pub documents: u64,
    /// One line per problem.
    pub problems: Vec<String>,
}

impl Report {
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }
}

fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "unknown panic".into())
}

/// Runs one check; an error or a panic becomes a problem line starting with `what`.
fn check<T, E: std::fmt::Display>(
    problems: &mut Vec<String>,
    what: &str,
    run: impl FnOnce() -> Result<T, E>,
) -> Option<T> {
    match catch_unwind(AssertUnwindSafe(run)) {
        Ok(Ok(value)) => Some(value),
        Ok(Err(error)) => {
            problems.push(format!("{what}: {error}"));
            None
        }
        Err(payload) => {
            problems.push(format!("{what}: {}", panic_message(payload)));
            None
        }
    }
}

/// Checks the index in `dir`.
pub fn verify(dir: &Path) -> Report {
    let mut report = Report::default();
    let Some(opened) = check(&mut report.problems, "cannot open the index", || {
        index::open(dir)
    }) else {
        return report;
    };
    if let Some(damaged) = check(&mut report.problems, "checking checksums", || {
        opened.index.validate_checksum()
    }) {
        let mut damaged: Vec<_> = damaged.into_iter().collect();
        damaged.sort();
        for path in damaged {
            report
                .problems
                .push(format!("checksum mismatch in {}", path.display()));
        }
    }
    read_everything(&opened, &mut report);
    report
}

fn read_everything(opened: &index::Opened, report: &mut Report) {
    let searcher = opened.reader.searcher();
    let fields = &opened.fields;
    let text_fields: [Field; 2] = [fields.title_chars, fields.body_chars];
    for (ordinal, segment) in searcher.segment_readers().iter().enumerate() {
        report.segments += 1;
        let id = segment.segment_id().short_uuid_string();
        for field in text_fields {
            check(
                &mut report.problems,
                &format!("segment {id}: terms"),
                || {
                    let inverted = segment.inverted_index(field)?;
                    let mut terms = inverted.terms().stream()?;
                    while terms.advance() {
                        let _ = terms.value();
                    }
                    tantivy::Result::Ok(())
                },
            );
        }
        for doc in 0..segment.max_doc() {
            if segment.is_deleted(doc) {
                continue;
            }
            let address = DocAddress::new(ordinal as u32, doc);
            let what = format!("segment {id}: document {doc}");
            if check(&mut report.problems, &what, || {
                searcher.doc::<TantivyDocument>(address)
            })
            .is_none()
            {
                break;
            }
            report.documents += 1;
        }
    }
}
