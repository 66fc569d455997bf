//! `verify`: says whether an index is whole, and what is damaged when it is not.
//!
//! tantivy does not check checksums when it opens an index: a flipped bit in a doc store
//! panics when the document is read, one in a term dictionary is served silently. So verify
//! checks every managed file's checksum, opens every segment, walks every term dictionary
//! and reads every stored document, catching panics, and reports each problem it finds.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use tantivy::schema::Field;
use tantivy::{DocAddress, Index, TantivyDocument};

use crate::index::{self, Fields};

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

/// Checks the index in `dir`.
pub fn verify(dir: &Path) -> Report {
    let mut report = Report::default();
    let opened = catch_unwind(|| index::open(dir));
    let (index, fields) = match opened {
        Ok(Ok(opened)) => opened,
        Ok(Err(error)) => {
            report
                .problems
                .push(format!("cannot open the index: {error}"));
            return report;
        }
        Err(payload) => {
            report
                .problems
                .push(format!("cannot open the index: {}", panic_message(payload)));
            return report;
        }
    };
    match catch_unwind(AssertUnwindSafe(|| index.validate_checksum())) {
        Ok(Ok(damaged)) => {
            let mut damaged: Vec<_> = damaged.into_iter().collect();
            damaged.sort();
            for path in damaged {
                report
                    .problems
                    .push(format!("checksum mismatch in {}", path.display()));
            }
        }
        Ok(Err(error)) => report.problems.push(format!("checking checksums: {error}")),
        Err(payload) => report
            .problems
            .push(format!("checking checksums: {}", panic_message(payload))),
    }
    match catch_unwind(AssertUnwindSafe(|| {
        read_everything(&index, &fields, &mut report)
    })) {
        Ok(Ok(())) => {}
        Ok(Err(error)) => report.problems.push(format!("reading the index: {error}")),
        Err(payload) => report
            .problems
            .push(format!("reading the index: {}", panic_message(payload))),
    }
    report
}

fn read_everything(index: &Index, fields: &Fields, report: &mut Report) -> tantivy::Result<()> {
    let reader = index
        .reader_builder()
        .reload_policy(tantivy::ReloadPolicy::Manual)
        .try_into()?;
    let searcher = reader.searcher();
    let text_fields: [Field; 4] = [
        fields.title_words,
        fields.title_chars,
        fields.body_words,
        fields.body_chars,
    ];
    for (ordinal, segment) in searcher.segment_readers().iter().enumerate() {
        report.segments += 1;
        let id = segment.segment_id().short_uuid_string();
        for field in text_fields {
            let walked = catch_unwind(AssertUnwindSafe(|| -> tantivy::Result<()> {
                let inverted = segment.inverted_index(field)?;
                let mut terms = inverted.terms().stream()?;
                while terms.advance() {
                    let _ = terms.value();
                }
                Ok(())
            }));
            match walked {
                Ok(Ok(())) => {}
                Ok(Err(error)) => report
                    .problems
                    .push(format!("segment {id}: terms: {error}")),
                Err(payload) => report
                    .problems
                    .push(format!("segment {id}: terms: {}", panic_message(payload))),
            }
        }
        for doc in 0..segment.max_doc() {
            if segment.is_deleted(doc) {
                continue;
            }
            let address = DocAddress::new(ordinal as u32, doc);
            match catch_unwind(AssertUnwindSafe(|| {
                searcher.doc::<TantivyDocument>(address)
            })) {
                Ok(Ok(_)) => report.documents += 1,
                Ok(Err(error)) => {
                    report
                        .problems
                        .push(format!("segment {id}: document {doc}: {error}"));
                    break;
                }
                Err(payload) => {
                    report.problems.push(format!(
                        "segment {id}: document {doc}: {}",
                        panic_message(payload)
                    ));
                    break;
                }
            }
        }
    }
    Ok(())
}
