//! A scoring union that is cheap to seek into, for the parts of the word tier.
//!
//! Each plain part of a query with several parts matches an entry by its literal or by its
//! words, and the parts are intersected. tantivy's scoring union, asked for an entry beyond
//! the window it holds, collects the matches of every clause over the next 4,096 entries; a
//! question's words are common, so inside an intersection led by another part that counted
//! every word's phrase in most entries, where the intersection asks about a few. [`AnyOf`]
//! seeks each clause to the entry asked and no further.

use tantivy::query::{EnableScoring, Explanation, Query, Scorer, Weight};
use tantivy::{DocId, DocSet, Score, SegmentReader, TantivyError, TERMINATED};

/// The entries matching at least `minimum` of `clauses`, scored by the sum of the scores of
/// those they match: tantivy's `BooleanQuery::with_minimum_required_clauses` over `Should`
/// clauses.
#[derive(Debug)]
pub struct AnyOf {
    clauses: Vec<Box<dyn Query>>,
    minimum: usize,
}

impl AnyOf {
    pub fn new(clauses: Vec<Box<dyn Query>>, minimum: usize) -> AnyOf {
        AnyOf {
            clauses,
            minimum: minimum.max(1),
        }
    }
}

impl Clone for AnyOf {
    fn clone(&self) -> Self {
        AnyOf {
            clauses: self
                .clauses
                .iter()
                .map(|clause| clause.box_clone())
                .collect(),
            minimum: self.minimum,
        }
    }
}

impl Query for AnyOf {
    fn weight(&self, enable_scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        let weights = self
            .clauses
            .iter()
            .map(|clause| clause.weight(enable_scoring))
            .collect::<tantivy::Result<_>>()?;
        Ok(Box::new(AnyOfWeight {
            weights,
            minimum: self.minimum,
        }))
    }
}

struct AnyOfWeight {
    weights: Vec<Box<dyn Weight>>,
    minimum: usize,
}

impl Weight for AnyOfWeight {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        let clauses = self
            .weights
            .iter()
            .map(|weight| weight.scorer(reader, boost))
            .collect::<tantivy::Result<Vec<_>>>()?;
        Ok(Box::new(FoundScorer::new(AnyOfFinder {
            clauses,
            minimum: self.minimum,
            score: 0.0,
        })))
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        let mut scorer = self.scorer(reader, 1.0)?;
        if scorer.seek(doc) != doc {
            return Err(TantivyError::InvalidArgument(format!(
                "document {doc} matches fewer than {} clauses",
                self.minimum
            )));
        }
        Ok(Explanation::new(
            "sum of the matching clauses' scores",
            scorer.score(),
        ))
    }
}

/// A scorer found entry by entry: the first entry at or after a target that it matches,
/// scored. [`FoundScorer`] makes a tantivy scorer of it.
pub(super) trait Finds: Send + 'static {
    /// The first entry at or after `target` that matches (`TERMINATED` when none), after
    /// which [`Finds::score`] is its score. Targets only ever grow.
    fn find_from(&mut self, target: DocId) -> DocId;
    fn score(&self) -> Score;
    fn size_hint(&self) -> u32;
}

/// The tantivy scorer of a [`Finds`].
pub(super) struct FoundScorer<F> {
    finder: F,
    doc: DocId,
}

impl<F: Finds> FoundScorer<F> {
    pub(super) fn new(mut finder: F) -> FoundScorer<F> {
        let doc = finder.find_from(0);
        FoundScorer { finder, doc }
    }
}

impl<F: Finds> DocSet for FoundScorer<F> {
    fn advance(&mut self) -> DocId {
        if self.doc != TERMINATED {
            self.doc = self.finder.find_from(self.doc + 1);
        }
        self.doc
    }

    fn seek(&mut self, target: DocId) -> DocId {
        if self.doc < target {
            self.doc = self.finder.find_from(target);
        }
        self.doc
    }

    fn doc(&self) -> DocId {
        self.doc
    }

    fn size_hint(&self) -> u32 {
        self.finder.size_hint()
    }
}

impl<F: Finds> Scorer for FoundScorer<F> {
    fn score(&mut self) -> Score {
        self.finder.score()
    }
}

struct AnyOfFinder {
    clauses: Vec<Box<dyn Scorer>>,
    minimum: usize,
    score: Score,
}

impl Finds for AnyOfFinder {
    fn find_from(&mut self, mut target: DocId) -> DocId {
        loop {
            let mut doc = TERMINATED;
            for clause in &mut self.clauses {
                // A clause is only ever sought forward (tantivy's phrase scorer asserts it).
                let at = if clause.doc() < target {
                    clause.seek(target)
                } else {
                    clause.doc()
                };
                doc = doc.min(at);
            }
            if doc == TERMINATED {
                return TERMINATED;
            }
            let matching = self
                .clauses
                .iter()
                .filter(|clause| clause.doc() == doc)
                .count();
            if matching >= self.minimum {
                self.score = 0.0;
                for clause in &mut self.clauses {
                    if clause.doc() == doc {
                        self.score += clause.score();
                    }
                }
                return doc;
            }
            target = doc + 1;
        }
    }

    fn score(&self) -> Score {
        self.score
    }

    fn size_hint(&self) -> u32 {
        self.clauses
            .iter()
            .map(|clause| clause.size_hint())
            .fold(0, u32::saturating_add)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use tantivy::collector::{Count, TopDocs};
    use tantivy::query::{BooleanQuery, Occur};

    use super::*;
    use crate::query::literal::tests::{index_of, literal, same_scores, text};

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

        /// An intersection of two unions, each needing `minimum` of its literals, finds the
        /// entries tantivy's boolean queries find, with the same scores.
        #[test]
        fn intersected_unions_are_tantivys(
            entries in prop::collection::vec((text(4), text(30)), 3..150),
            deleted in prop::collection::vec(0usize..150, 0..10),
            left in prop::collection::vec(text(3), 1..5),
            right in prop::collection::vec(text(3), 1..4),
            minimum in 1usize..3,
            limit in 1usize..12,
        ) {
            let (index, fields) = index_of(&entries, &deleted);
            let searcher = index.reader().unwrap().searcher();
            let clauses = |needles: &[String]| -> Vec<Box<dyn Query>> {
                needles.iter().map(|needle| literal(&fields, needle).query()).collect()
            };
            let minimum = minimum.min(left.len());
            let ours = BooleanQuery::new(vec![
                (Occur::Must, Box::new(AnyOf::new(clauses(&left), minimum)) as Box<dyn Query>),
                (Occur::Must, Box::new(AnyOf::new(clauses(&right), 1))),
            ]);
            let should = |clauses: Vec<Box<dyn Query>>| {
                clauses.into_iter().map(|clause| (Occur::Should, clause)).collect::<Vec<_>>()
            };
            let theirs = BooleanQuery::new(vec![
                (
                    Occur::Must,
                    Box::new(BooleanQuery::with_minimum_required_clauses(should(clauses(&left)), minimum))
                        as Box<dyn Query>,
                ),
                (Occur::Must, Box::new(BooleanQuery::new(should(clauses(&right))))),
            ]);
            prop_assert_eq!(
                searcher.search(&ours, &Count).unwrap(),
                searcher.search(&theirs, &Count).unwrap()
            );
            let page = TopDocs::with_limit(limit).order_by_score();
            same_scores(
                &searcher.search(&ours, &page).unwrap(),
                &searcher.search(&theirs, &page).unwrap(),
            )?;
        }
    }
}
