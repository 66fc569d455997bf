//! Literals over the character channel, the queries that find entries holding all or any of
//! a set of them without checking the positions of entries that cannot reach the page, and
//! how many entries hold a literal.
//!
//! Every match is a phrase of characters, and the characters are common: 经济 or 2016年 is a
//! candidate in most entries, so tantivy's phrase scorer reads positions in most entries to
//! count the phrase before it can score it, and an intersection of phrases (the words of
//! 易地扶贫搬迁工程) makes each phrase scan its own candidates ahead of the others. That made
//! these queries the costliest of all, and their cost grow with the shelf.
//!
//! [`AllLiterals`] instead walks the entries holding every character of every literal once,
//! and bounds each entry's score before reading a position: a phrase occurs no more often in
//! an entry than its scarcest character, whose count the postings give, and BM25 grows with
//! the count. When the top-k collector's threshold is known, an entry whose bound does not
//! pass it is skipped unread; the others are counted exactly and scored exactly as the
//! scorer without the bound scores them, so the page is the same.
//!
//! The same bound is taken a block of postings at a time (block-max pruning): the walk goes
//! through the scarcest literal's scarcest character a block (128 entries) at a time, and a
//! block whose best entry cannot pass the threshold, whatever the other literals and the
//! headings add, is skipped without visiting its entries. Once the page holds strong entries,
//! the walk over a common character costs a block, not an entry, so a one-character query
//! over a large shelf does not read most of its postings.
//!
//! [`AnyLiterals`] does the same for a union (the words of a question), and [`doc_freq`]
//! counts a literal's entries for its weight, checking a sample of them when they are many.

use std::sync::Arc;

use tantivy::fieldnorm::FieldNormReader;
use tantivy::postings::{BlockSegmentPostings, Postings, SegmentPostings, TermInfo};
use tantivy::query::{
    Bm25Weight, BooleanQuery, BoostQuery, EnableScoring, Explanation, Occur, PhraseQuery, Query,
    Scorer, TermQuery, Weight,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::tokenizer::Token;
use tantivy::{
    DocId, DocSet, InvertedIndexReader, Score, Searcher, SegmentReader, TantivyError, Term,
    TERMINATED,
};

use super::union::{Finds, FoundScorer};
use super::{AnyOf, TITLE_BOOST};
use crate::index::Fields;

/// A phrase of the character channel: its terms with their offsets in the phrase.
#[derive(Debug, Clone)]
struct Phrase {
    terms: Vec<(usize, Term)>,
}

impl Phrase {
    fn new(field: Field, tokens: &[Token]) -> Phrase {
        Phrase {
            terms: tokens
                .iter()
                .map(|token| (token.position, Term::from_field_text(field, &token.text)))
                .collect(),
        }
    }

    /// The query tantivy runs for it: one term, or a phrase.
    fn query(&self) -> Box<dyn Query> {
        match self.terms.as_slice() {
            [(_, term)] => Box::new(TermQuery::new(term.clone(), IndexRecordOption::WithFreqs)),
            terms => Box::new(PhraseQuery::new_with_offset(terms.to_vec())),
        }
    }

    fn terms(&self) -> Vec<Term> {
        self.terms.iter().map(|(_, term)| term.clone()).collect()
    }

    fn field(&self) -> Field {
        self.terms[0].1.field()
    }
}

/// A literal anywhere in an entry (heading or body), plus the same literal in the heading,
/// which weighs more; each scored by BM25 on how often it occurs, scaled by a boost.
#[derive(Debug, Clone)]
pub struct Literal {
    anywhere: Phrase,
    anywhere_boost: Score,
    /// `None` when a match in the heading is not counted.
    heading: Option<(Phrase, Score)>,
}

impl Literal {
    /// The literal of `tokens` (a text's character tokens): anywhere, and in the heading with
    /// [`TITLE_BOOST`]. `None` for a text without characters.
    pub fn new(fields: &Fields, tokens: &[Token]) -> Option<Literal> {
        (!tokens.is_empty()).then(|| Literal {
            anywhere: Phrase::new(fields.body_chars, tokens),
            anywhere_boost: 1.0,
            heading: Some((Phrase::new(fields.title_chars, tokens), TITLE_BOOST)),
        })
    }

    /// The literal of `tokens` in one character field alone.
    pub fn in_field(field: Field, tokens: &[Token]) -> Option<Literal> {
        (!tokens.is_empty()).then(|| Literal {
            anywhere: Phrase::new(field, tokens),
            anywhere_boost: 1.0,
            heading: None,
        })
    }

    /// The same literal with its scores scaled: `anywhere` for the match anywhere, and
    /// `heading` (on top of [`TITLE_BOOST`]) for the match in the heading, or no heading match
    /// counted at all.
    pub fn weighed(mut self, anywhere: Score, heading: Option<Score>) -> Literal {
        self.anywhere_boost = anywhere;
        self.heading = match (self.heading, heading) {
            (Some((phrase, boost)), Some(scale)) => Some((phrase, boost * scale)),
            _ => None,
        };
        self
    }

    /// The literal anywhere in an entry, as tantivy's own query.
    pub fn anywhere_query(&self) -> Box<dyn Query> {
        boosted(self.anywhere.query(), self.anywhere_boost)
    }

    /// The literal in the heading, as tantivy's own query; `None` when it is not counted.
    pub fn heading_query(&self) -> Option<Box<dyn Query>> {
        self.heading
            .as_ref()
            .map(|(phrase, boost)| boosted(phrase.query(), *boost))
    }

    /// The literal as tantivy's own query: an entry matches when the literal is anywhere in
    /// it, and scores the sum of both matches.
    pub fn query(&self) -> Box<dyn Query> {
        let mut clauses = vec![(Occur::Should, self.anywhere_query())];
        clauses.extend(self.heading_query().map(|query| (Occur::Should, query)));
        Box::new(BooleanQuery::new(clauses))
    }

    /// The literal as [`Self::query`] finds and scores it, as a union that is cheap to seek
    /// into inside an intersection (see [`AnyOf`]).
    pub fn seekable_query(&self) -> Box<dyn Query> {
        let mut clauses = vec![self.anywhere_query()];
        clauses.extend(self.heading_query());
        Box::new(AnyOf::new(clauses, 1))
    }
}

fn boosted(query: Box<dyn Query>, boost: Score) -> Box<dyn Query> {
    if boost == 1.0 {
        query
    } else {
        Box::new(BoostQuery::new(query, boost))
    }
}

/// The entries holding every one of a set of literals, scored by the sum of their scores.
#[derive(Debug, Clone)]
pub struct AllLiterals {
    literals: Vec<Literal>,
}

impl AllLiterals {
    pub fn new(literals: Vec<Literal>) -> AllLiterals {
        assert!(!literals.is_empty(), "at least one literal");
        AllLiterals { literals }
    }
}

impl Query for AllLiterals {
    fn weight(&self, enable_scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(AllLiteralsWeight {
            literals: literal_weights(&self.literals, enable_scoring)?,
        }))
    }
}

/// Each literal's phrases with their BM25 weights (`None` when scoring is disabled).
fn literal_weights(
    literals: &[Literal],
    enable_scoring: EnableScoring<'_>,
) -> tantivy::Result<Vec<LiteralWeight>> {
    let weigh = |phrase: &Phrase, boost: Score| -> tantivy::Result<Option<Bm25Weight>> {
        match enable_scoring {
            EnableScoring::Enabled {
                statistics_provider,
                ..
            } => Ok(Some(
                Bm25Weight::for_terms(statistics_provider, &phrase.terms())?.boost_by(boost),
            )),
            EnableScoring::Disabled { .. } => Ok(None),
        }
    };
    let mut weights = Vec::with_capacity(literals.len());
    for literal in literals {
        weights.push(LiteralWeight {
            anywhere_weight: weigh(&literal.anywhere, literal.anywhere_boost)?,
            heading: match &literal.heading {
                Some((phrase, boost)) => Some((phrase.clone(), weigh(phrase, *boost)?)),
                None => None,
            },
            anywhere: literal.anywhere.clone(),
        });
    }
    Ok(weights)
}

struct LiteralWeight {
    anywhere: Phrase,
    /// `None` when scoring is disabled.
    anywhere_weight: Option<Bm25Weight>,
    heading: Option<(Phrase, Option<Bm25Weight>)>,
}

struct AllLiteralsWeight {
    literals: Vec<LiteralWeight>,
}

/// An upper bound computed in f32 may round below the exact score it bounds by an ulp or
/// two; bounds are raised by this factor before they are trusted to rule an entry out.
const BOUND_MARGIN: Score = 1.0 + 1e-5;

impl Weight for AllLiteralsWeight {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        Ok(match SegmentMatcher::open(reader, &self.literals, boost)? {
            Some(matcher) => Box::new(FoundScorer::new(AllLiteralsFinder {
                matcher,
                score: 0.0,
            })),
            None => Box::new(tantivy::query::EmptyScorer),
        })
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        let mut scorer = self.scorer(reader, 1.0)?;
        if scorer.seek(doc) != doc {
            return Err(TantivyError::InvalidArgument(format!(
                "document {doc} does not hold every literal"
            )));
        }
        Ok(Explanation::new(
            "sum of the literals' BM25 scores anywhere and in the heading",
            scorer.score(),
        ))
    }

    fn for_each_pruning(
        &self,
        mut threshold: Score,
        reader: &SegmentReader,
        callback: &mut dyn FnMut(DocId, Score) -> Score,
    ) -> tantivy::Result<()> {
        let Some(mut matcher) = SegmentMatcher::open(reader, &self.literals, 1.0)? else {
            return Ok(());
        };
        // Until the page is full (the threshold is still `Score::MIN`) no block can be
        // skipped, so candidates are walked without bounding blocks; after, a block at a time.
        let mut target = 0;
        loop {
            let page_full = threshold > Score::MIN;
            let last = if page_full {
                let Some((last, bound)) = matcher.block_bound(target) else {
                    break;
                };
                if bound * BOUND_MARGIN <= threshold {
                    target = last + 1;
                    continue;
                }
                last
            } else {
                TERMINATED - 1
            };
            let next = |matcher: &mut SegmentMatcher, target: DocId, threshold: Score| {
                if page_full {
                    matcher.next_promising(target, last, threshold)
                } else {
                    matcher.next_candidate(target)
                }
            };
            let mut doc = next(&mut matcher, target, threshold);
            while doc <= last {
                if !page_full {
                    if let Some(score) = matcher.score_unbounded(doc) {
                        if score > threshold {
                            threshold = callback(doc, score);
                        }
                    }
                } else if matcher.bound(doc) * BOUND_MARGIN > threshold {
                    matcher.score_headings(doc);
                    if matcher.bound_with_headings() * BOUND_MARGIN > threshold {
                        if let Some(score) = matcher.score(doc, threshold) {
                            if score > threshold {
                                threshold = callback(doc, score);
                            }
                        }
                    }
                }
                doc = next(&mut matcher, doc + 1, threshold);
                if !page_full && threshold > Score::MIN {
                    break;
                }
            }
            if doc == TERMINATED {
                break;
            }
            target = doc;
        }
        Ok(())
    }
}

/// The scorer without bounds: every entry holding every literal, in order.
struct AllLiteralsFinder {
    matcher: SegmentMatcher,
    score: Score,
}

impl Finds for AllLiteralsFinder {
    fn find_from(&mut self, mut target: DocId) -> DocId {
        loop {
            let doc = self.matcher.next_candidate(target);
            if doc == TERMINATED {
                return TERMINATED;
            }
            if let Some(score) = self.matcher.score_unbounded(doc) {
                self.score = score;
                return doc;
            }
            target = doc + 1;
        }
    }

    fn score(&self) -> Score {
        self.score
    }

    fn size_hint(&self) -> u32 {
        self.matcher.size_hint()
    }
}

/// The entries holding at least one of a set of literals, scored by the sum of the scores of
/// those they hold: tantivy's boolean query of the literals as `Should` clauses, with the
/// page's threshold used to skip entries (MaxScore, Turtle and Flood 1995).
///
/// A question cut into words (内蒙古, 自治区, 易地, 扶贫, …, 情况, 如何) reaches almost every
/// entry through its commonest words, and tantivy's union counts every word's phrase in each
/// of them. Here the words are sorted by the most each can add to a score; once the page is
/// full, the weakest words whose most sum to no more than its threshold cannot put an entry
/// on it by themselves, so only entries holding one of the other words are visited, and the
/// weak words are counted in them, strongest first, only while the entry can still pass.
/// The entries reaching the page are scored in full, so the page is tantivy's.
#[derive(Debug, Clone)]
pub struct AnyLiterals {
    literals: Vec<Literal>,
}

impl AnyLiterals {
    pub fn new(literals: Vec<Literal>) -> AnyLiterals {
        assert!(!literals.is_empty(), "at least one literal");
        AnyLiterals { literals }
    }
}

impl Query for AnyLiterals {
    fn weight(&self, enable_scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        let union = BooleanQuery::new(
            self.literals
                .iter()
                .map(|literal| (Occur::Should, literal.query()))
                .collect(),
        );
        Ok(Box::new(AnyLiteralsWeight {
            literals: literal_weights(&self.literals, enable_scoring)?,
            union: union.weight(enable_scoring)?,
        }))
    }
}

struct AnyLiteralsWeight {
    literals: Vec<LiteralWeight>,
    /// tantivy's own union, for everything but the pruned walk of a top-k search.
    union: Box<dyn Weight>,
}

impl Weight for AnyLiteralsWeight {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        self.union.scorer(reader, boost)
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        self.union.explain(reader, doc)
    }

    fn for_each_pruning(
        &self,
        mut threshold: Score,
        reader: &SegmentReader,
        callback: &mut dyn FnMut(DocId, Score) -> Score,
    ) -> tantivy::Result<()> {
        let Some(mut segment) = AnyMatcher::open(reader, &self.literals)? else {
            return self.union.for_each_pruning(threshold, reader, callback);
        };
        let words = &mut segment.words;
        if words.is_empty() {
            return Ok(());
        }
        // most[i]: the most words[..=i] can add to an entry's score together.
        let most: Vec<Score> = words
            .iter()
            .scan(0.0, |sum, word| {
                *sum += word.best;
                Some(*sum)
            })
            .collect();
        // words[leading..] lead the walk: an entry holding none of them cannot pass.
        let mut leading = 0;
        let mut target = 0;
        loop {
            while leading < words.len() && most[leading] * BOUND_MARGIN <= threshold {
                leading += 1;
            }
            if leading == words.len() {
                break;
            }
            let mut doc = TERMINATED;
            for word in &mut words[leading..] {
                if word.candidate < target {
                    word.candidate = word.anywhere.next_candidate(target);
                }
                doc = doc.min(word.candidate);
            }
            if doc == TERMINATED {
                break;
            }
            target = doc + 1;
            // Bound the entry before reading a position, as `AllLiterals` does: first with
            // the leading words' counts and the others' most, then with every word's count.
            let norm = segment.norms.fieldnorm_id(doc);
            let mut bound = 0.0;
            for word in &mut words[leading..] {
                word.bound = word.bound_at(doc, norm, &segment.heading_norms);
                bound += word.bound;
            }
            let weak_most = leading.checked_sub(1).map_or(0.0, |last| most[last]);
            if (bound + weak_most) * BOUND_MARGIN <= threshold {
                continue;
            }
            for word in &mut words[..leading] {
                if word.candidate < doc {
                    word.candidate = word.anywhere.next_candidate(doc);
                }
                word.bound = word.bound_at(doc, norm, &segment.heading_norms);
                bound += word.bound;
            }
            if bound * BOUND_MARGIN <= threshold {
                continue;
            }
            // Then word by word, strongest first, each bound replaced by the exact score.
            let mut score = 0.0;
            let mut held = false;
            let mut passes = true;
            for word in words.iter_mut().rev().filter(|word| word.bound > 0.0) {
                bound -= word.bound;
                if let Some(exact) = word.score(doc, &segment.norms) {
                    score += exact;
                    held = true;
                }
                if (score + bound) * BOUND_MARGIN <= threshold {
                    passes = false;
                    break;
                }
            }
            if passes && held && score > threshold {
                threshold = callback(doc, score);
            }
        }
        Ok(())
    }
}

/// A literal's matcher in the headings of a segment, with its weight (boosted by `boost`);
/// `None` when its heading is not counted (or scoring is disabled) or no heading of the
/// segment holds it. The headings' field norms are opened into `norms` on first use.
fn open_heading(
    reader: &SegmentReader,
    literal: &LiteralWeight,
    boost: Score,
    norms: &mut Option<FieldNormReader>,
) -> tantivy::Result<Option<(PhraseMatcher, Bm25Weight)>> {
    let Some((phrase, Some(weight))) = &literal.heading else {
        return Ok(None);
    };
    let Some(matcher) = PhraseMatcher::open(reader, phrase)? else {
        return Ok(None);
    };
    if norms.is_none() {
        *norms = Some(reader.get_fieldnorms_reader(phrase.field())?);
    }
    Ok(Some((matcher, weight.boost_by(boost))))
}

/// A literal's score in the heading of entry `doc` (0 where the heading lacks it, or when the
/// heading is not counted). Calls must come in increasing `doc` order.
fn heading_score(
    heading: &mut Option<(PhraseMatcher, Bm25Weight)>,
    norms: &Option<FieldNormReader>,
    doc: DocId,
) -> Score {
    if let (Some((matcher, weight)), Some(norms)) = (heading, norms) {
        if matcher.holds(doc) {
            return weight.score(norms.fieldnorm_id(doc), matcher.count());
        }
    }
    0.0
}

/// [`AnyLiterals`]' words in one segment, weakest first.
struct AnyMatcher {
    words: Vec<WordMatcher>,
    norms: FieldNormReader,
    heading_norms: Option<FieldNormReader>,
}

/// One literal of [`AnyLiterals`] in one segment.
struct WordMatcher {
    anywhere: PhraseMatcher,
    anywhere_weight: Bm25Weight,
    heading: Option<(PhraseMatcher, Bm25Weight)>,
    /// The most it can add to an entry's score.
    best: Score,
    /// At the entry being scored: the most it can add there (0 when it is not a candidate),
    /// and its score in the heading.
    bound: Score,
    in_heading: Score,
    /// Its first candidate at or after where the walk stood when it was last moved.
    candidate: DocId,
}

impl AnyMatcher {
    /// `None` when scoring is disabled; no words when none is in the segment.
    fn open(
        reader: &SegmentReader,
        literals: &[LiteralWeight],
    ) -> tantivy::Result<Option<AnyMatcher>> {
        let mut words = Vec::with_capacity(literals.len());
        let mut heading_norms = None;
        let Some(first) = literals.first() else {
            return Ok(None);
        };
        for literal in literals {
            let Some(anywhere_weight) = literal.anywhere_weight.clone() else {
                return Ok(None);
            };
            let Some(mut anywhere) = PhraseMatcher::open(reader, &literal.anywhere)? else {
                continue;
            };
            let heading = open_heading(reader, literal, 1.0, &mut heading_norms)?;
            let best_heading = heading
                .as_ref()
                .map_or(0.0, |(_, weight)| weight.max_score());
            let best = anywhere_weight.max_score() + best_heading;
            let candidate = anywhere.next_candidate(0);
            words.push(WordMatcher {
                anywhere,
                anywhere_weight,
                heading,
                best,
                bound: 0.0,
                in_heading: 0.0,
                candidate,
            });
        }
        words.sort_by(|a, b| a.best.total_cmp(&b.best));
        Ok(Some(AnyMatcher {
            words,
            norms: reader.get_fieldnorms_reader(first.anywhere.field())?,
            heading_norms,
        }))
    }
}

impl WordMatcher {
    /// The most the word can add to entry `doc` of field norm `norm`: the score of its
    /// scarcest character's count anywhere, plus its score in the heading, which it keeps for
    /// [`Self::score`]; 0 when `doc` is not its candidate. Calls must come in increasing
    /// `doc` order.
    fn bound_at(&mut self, doc: DocId, norm: u8, heading_norms: &Option<FieldNormReader>) -> Score {
        if self.candidate != doc {
            return 0.0;
        }
        self.in_heading = heading_score(&mut self.heading, heading_norms, doc);
        self.anywhere_weight
            .score(norm, self.anywhere.count_bound())
            + self.in_heading
    }

    /// The word's score in candidate `doc` (where its postings stand, after
    /// [`Self::bound_at`]), anywhere and in the heading; `None` when its characters are there
    /// but never in a row.
    fn score(&mut self, doc: DocId, norms: &FieldNormReader) -> Option<Score> {
        let count = self.anywhere.count();
        if count == 0 {
            return None;
        }
        Some(self.anywhere_weight.score(norms.fieldnorm_id(doc), count) + self.in_heading)
    }
}

/// The literals' matchers in one segment.
struct SegmentMatcher {
    literals: Vec<LiteralMatcher>,
    anywhere_norms: Option<FieldNormReader>,
    heading_norms: Option<FieldNormReader>,
    /// When the leading literal's headings are walked with its blocks: its score in the
    /// heading of each entry of the current range that has one, in entry order (the others
    /// have none), and how far the candidates have come through them.
    leader_headings: Option<Vec<(DocId, Score)>>,
    leader_heading_at: usize,
    /// The most the literals after the leading one can add, anywhere and in their headings,
    /// over the current range of candidates (set by [`Self::block_bound`]).
    others_bound: Score,
}

struct LiteralMatcher {
    anywhere: PhraseMatcher,
    anywhere_weight: Option<Bm25Weight>,
    /// Bound the scores anywhere and in the heading over a range of entries, with
    /// `anywhere_weight` and the heading's weight; `None` when not scoring, or for the heading
    /// when no heading of the segment holds the literal.
    blocks: Option<BlockBound>,
    heading_blocks: Option<BlockBound>,
    /// The literal in headings again, walked a block of the leading literal at a time when
    /// this literal leads; `None` as for `heading`.
    heading_walk: Option<PhraseMatcher>,
    /// `None` when the heading is not counted, or no heading of the segment holds it.
    heading: Option<(PhraseMatcher, Bm25Weight)>,
    /// The most the heading match can add at the current range of candidates: after
    /// [`SegmentMatcher::block_bound`], its bound over the range; before, over the segment.
    heading_bound: Score,
    /// At the current candidate: the score anywhere if the literal occurs there as often as
    /// its scarcest character, and its score in the heading.
    anywhere_bound: Score,
    in_heading: Score,
    /// The most the literal can score anywhere over the current range of candidates, from
    /// [`SegmentMatcher::block_bound`] (infinite while not known).
    block_best: Score,
    /// At the current candidate, once counted: the score anywhere.
    counted: Score,
}

impl SegmentMatcher {
    /// `None` when no entry of the segment can hold every literal.
    fn open(
        reader: &SegmentReader,
        literals: &[LiteralWeight],
        boost: Score,
    ) -> tantivy::Result<Option<SegmentMatcher>> {
        let mut matchers = Vec::with_capacity(literals.len());
        let (mut anywhere_norms, mut heading_norms) = (None, None);
        for literal in literals {
            let Some(anywhere) = PhraseMatcher::open(reader, &literal.anywhere)? else {
                return Ok(None);
            };
            let anywhere_weight = literal
                .anywhere_weight
                .as_ref()
                .map(|weight| weight.boost_by(boost));
            if anywhere_weight.is_some() && anywhere_norms.is_none() {
                anywhere_norms = Some(reader.get_fieldnorms_reader(literal.anywhere.field())?);
            }
            let heading = open_heading(reader, literal, boost, &mut heading_norms)?;
            let heading_walk = match (&heading, &literal.heading) {
                (Some(_), Some((phrase, _))) => PhraseMatcher::open(reader, phrase)?,
                _ => None,
            };
            let best_heading = heading
                .as_ref()
                .map_or(0.0, |(_, weight)| weight.max_score());
            let blocks = match (&anywhere_weight, &anywhere_norms) {
                (Some(weight), Some(norms)) => {
                    Some(BlockBound::open_with_stored(&anywhere, weight, norms)?)
                }
                _ => None,
            };
            let heading_blocks = match &heading {
                Some((matcher, _)) => Some(BlockBound::open(matcher)?),
                None => None,
            };
            matchers.push(LiteralMatcher {
                anywhere,
                anywhere_weight,
                blocks,
                heading_blocks,
                heading_walk,
                heading,
                heading_bound: best_heading,
                anywhere_bound: 0.0,
                in_heading: 0.0,
                block_best: Score::INFINITY,
                counted: 0.0,
            });
        }
        // The scarcest literal leads the walk.
        matchers.sort_by_key(|literal| literal.anywhere.size_hint());
        let leader = &matchers[0];
        let walks_headings = leader.heading_walk.is_some() && heading_norms.is_some();
        Ok(Some(SegmentMatcher {
            leader_headings: walks_headings.then(Vec::new),
            leader_heading_at: 0,
            others_bound: Score::INFINITY,
            literals: matchers,
            anywhere_norms,
            heading_norms,
        }))
    }

    fn size_hint(&self) -> u32 {
        self.literals[0].anywhere.size_hint()
    }

    /// From `target` on, the entries of the leading literal's current block of postings: the
    /// last of them, and the most any candidate among them can score. `None` past the last
    /// candidate. Calls must come with increasing `target`, and before the candidates they
    /// cover are visited.
    fn block_bound(&mut self, target: DocId) -> Option<(DocId, Score)> {
        let (leader, others) = self.literals.split_first_mut().expect("a literal");
        let (Some(blocks), Some(weight), Some(norms)) = (
            &mut leader.blocks,
            &leader.anywhere_weight,
            &self.anywhere_norms,
        ) else {
            // Not scoring: one range holding everything, never skipped.
            return (target < TERMINATED).then_some((TERMINATED - 1, Score::INFINITY));
        };
        // The leading literal's heading is scored entry by entry, with its count anywhere: a
        // common character's entries often have it in the heading too, and the sum of the
        // best anywhere and the best of that character in a heading kept most blocks of such
        // literals (的一) from being skipped; the literal itself is seldom in a heading.
        let heading = match (
            &mut leader.heading_walk,
            &leader.heading,
            &self.heading_norms,
            &mut self.leader_headings,
        ) {
            (Some(matcher), Some((_, weight)), Some(norms), Some(scores)) => Some(HeadingWalk {
                matcher,
                weight,
                norms,
                scores,
            }),
            _ => None,
        };
        let (first, last, mut bound, leader_heading) =
            blocks.leading_block(weight, norms, target, heading)?;
        self.leader_heading_at = 0;
        // Each literal's heading bound over the range, for `bound` to use at the candidates:
        // where no heading of the range holds a literal, its candidates are bounded without
        // looking their headings up. The leading literal's is known entry by entry.
        if self.leader_headings.is_some() {
            leader.heading_bound = leader_heading;
        }
        for literal in others.iter_mut() {
            literal.block_best = match (&mut literal.blocks, &literal.anywhere_weight) {
                (Some(blocks), Some(weight)) => blocks.best_within(weight, norms, first, last),
                _ => Score::INFINITY,
            };
            bound += literal.block_best;
        }
        if let Some(norms) = &self.heading_norms {
            for literal in others.iter_mut() {
                if let (Some(blocks), Some((_, weight))) =
                    (&mut literal.heading_blocks, &literal.heading)
                {
                    literal.heading_bound = blocks.best_within(weight, norms, first, last);
                    bound += literal.heading_bound;
                }
            }
        }
        self.others_bound = others
            .iter()
            .map(|literal| literal.heading_bound + literal.block_best)
            .sum();
        Some((last, bound))
    }

    /// The first entry at or after `target` holding every character of every literal.
    fn next_candidate(&mut self, target: DocId) -> DocId {
        first_in_all(&mut self.literals, target, |literal, target| {
            literal.anywhere.next_candidate(target)
        })
    }

    /// The first candidate at or after `target` up to `last` (the end of the range
    /// [`Self::block_bound`] bounded last) that may score above `threshold`, or an entry past
    /// `last` where the walk goes on.
    ///
    /// Each entry of the leading character is judged before the other characters are sought
    /// there: by that character's count, which bounds the leading literal's, the leading
    /// literal's own score in the entry's heading when its headings were walked, and the
    /// other literals and their headings at their bounds over the range. On a common
    /// character most of its entries fall short once the page holds strong entries (65% of
    /// the candidates the walk visited in the benchmark's batch on the 800 MB shelf), and
    /// each one skipped so spares a seek in every other character's postings. The candidates
    /// left are bounded again as before.
    fn next_promising(&mut self, mut target: DocId, last: DocId, threshold: Score) -> DocId {
        let rest = self.others_bound;
        loop {
            let leader = &mut self.literals[0];
            let leading = &mut leader.anywhere.postings[0].0;
            let mut doc = seek_forward(leading, target);
            if let (Some(weight), Some(norms)) = (&leader.anywhere_weight, &self.anywhere_norms) {
                while doc <= last {
                    let heading = match &self.leader_headings {
                        Some(headings) => score_at(headings, &mut self.leader_heading_at, doc),
                        None => leader.heading_bound,
                    };
                    let anywhere = weight.score(norms.fieldnorm_id(doc), leading.term_freq());
                    if (anywhere + heading + rest) * BOUND_MARGIN > threshold {
                        break;
                    }
                    doc = leading.advance();
                }
            }
            if doc > last {
                return doc;
            }
            let candidate = self.next_candidate(doc);
            if candidate == doc {
                return doc;
            }
            target = candidate;
        }
    }

    /// The most candidate `doc` can score, before looking at positions or headings (each
    /// heading at its bound over the current range of candidates).
    fn bound(&mut self, doc: DocId) -> Score {
        let norm = norm_of(&self.anywhere_norms, doc);
        let mut bound = 0.0;
        for literal in &mut self.literals {
            literal.anywhere_bound = match (&literal.anywhere_weight, norm) {
                (Some(weight), Some(norm)) => weight.score(norm, literal.anywhere.count_bound()),
                _ => 0.0,
            };
            bound += literal.anywhere_bound + literal.heading_bound;
        }
        bound
    }

    /// Scores each literal in the heading of candidate `doc` (0 where it is not there).
    /// Calls must come in increasing `doc` order.
    fn score_headings(&mut self, doc: DocId) {
        for literal in &mut self.literals {
            literal.in_heading = heading_score(&mut literal.heading, &self.heading_norms, doc);
        }
    }

    /// The most the candidate can score, with its headings scored (after [`Self::bound`] and
    /// [`Self::score_headings`]).
    fn bound_with_headings(&self) -> Score {
        self.literals
            .iter()
            .map(|literal| literal.anywhere_bound + literal.in_heading)
            .sum()
    }

    /// The score of candidate `doc` when no threshold bounds it (`None` when some literal
    /// does not occur), as [`Self::score`] gives it with [`Score::MIN`]: every literal is
    /// counted before any heading is looked up. A rare phrase of common characters is
    /// missing from nearly all of its candidates, and with fewer entries than the page
    /// holds, the page never fills and each candidate is scored so; counted first, they
    /// are ruled out without a lookup in the heading channel (8% of 一同推进 on the 800 MB
    /// shelf, five entries).
    fn score_unbounded(&mut self, doc: DocId) -> Option<Score> {
        let norm = norm_of(&self.anywhere_norms, doc);
        for literal in &mut self.literals {
            let count = literal.anywhere.count();
            if count == 0 {
                return None;
            }
            literal.counted = match (&literal.anywhere_weight, norm) {
                (Some(weight), Some(norm)) => weight.score(norm, count),
                _ => 0.0,
            };
        }
        self.score_headings(doc);
        // Summed in the order `score` sums, for the same score to the last bit.
        let mut score = 0.0;
        for literal in &self.literals {
            score += literal.counted + literal.in_heading;
        }
        Some(score)
    }

    /// The score of candidate `doc` once the page is full (after [`Self::bound`] and
    /// [`Self::score_headings`]): the literals in order, each anywhere then in the heading;
    /// `None` when some literal does not occur. Before the page is full, candidates are
    /// scored by [`Self::score_unbounded`].
    ///
    /// Also `None` as soon as the positions read show that the entry cannot score above
    /// `threshold`: a literal's count can only fall as each of its characters' positions is
    /// matched, and the literals not counted yet add at most their bounds. An entry dropped
    /// so could not have entered the page, so the page is the same, and the positions of the
    /// characters after the one that showed it are not read.
    fn score(&mut self, doc: DocId, threshold: Score) -> Option<Score> {
        let norm = norm_of(&self.anywhere_norms, doc);
        let mut score = 0.0;
        // What the literals not counted yet add at most, as `bound_with_headings` sums it.
        let mut others = self.bound_with_headings();
        for literal in &mut self.literals {
            others -= literal.anywhere_bound + literal.in_heading;
            let count = match (&literal.anywhere_weight, norm) {
                (Some(weight), Some(norm)) => {
                    let fixed = score + literal.in_heading + others;
                    literal.anywhere.count_reaching(|count| {
                        (fixed + weight.score(norm, count)) * BOUND_MARGIN > threshold
                    })
                }
                _ => literal.anywhere.count(),
            };
            if count == 0 {
                return None;
            }
            let anywhere = match (&literal.anywhere_weight, norm) {
                (Some(weight), Some(norm)) => weight.score(norm, count),
                _ => 0.0,
            };
            score += anywhere + literal.in_heading;
        }
        Some(score)
    }
}

/// The score listed for `doc` in `scores` (entries in increasing order), 0 when it is not
/// listed; `at` is where the previous lookup stopped, and lookups come in increasing order.
fn score_at(scores: &[(DocId, Score)], at: &mut usize, doc: DocId) -> Score {
    while *at < scores.len() && scores[*at].0 < doc {
        *at += 1;
    }
    match scores.get(*at) {
        Some(&(entry, score)) if entry == doc => score,
        _ => 0.0,
    }
}

/// The field norm of `doc`, when scoring (the norms are read only then).
fn norm_of(norms: &Option<FieldNormReader>, doc: DocId) -> Option<u8> {
    norms.as_ref().map(|norms| norms.fieldnorm_id(doc))
}

/// The first entry at or after `target` that every one of `sets` holds, `seek` moving one
/// set to its first entry at or after a target. The first set leads (the scarcest, so that
/// the others are seeked least).
fn first_in_all<T>(
    sets: &mut [T],
    mut target: DocId,
    seek: impl Fn(&mut T, DocId) -> DocId,
) -> DocId {
    let (leader, others) = sets.split_first_mut().expect("at least one set");
    'candidates: loop {
        let doc = seek(leader, target);
        if doc == TERMINATED {
            return TERMINATED;
        }
        for other in others.iter_mut() {
            let found = seek(other, doc);
            if found != doc {
                target = found;
                continue 'candidates;
            }
        }
        return doc;
    }
}

/// Moves `postings` to its first entry at or after `target`; tantivy's postings may not be
/// asked to seek behind where they stand.
fn seek_forward(postings: &mut SegmentPostings, target: DocId) -> DocId {
    let doc = postings.doc();
    if doc >= target {
        doc
    } else {
        postings.seek(target)
    }
}

/// A literal's scarcest character read a block of postings at a time, to bound the literal's
/// score over a range of entries: a literal occurs in an entry no more often than that
/// character, so its score there is at most the score of the character's count. The bound is
/// computed from the decoded block, or from the block's best pair tantivy stored (see
/// [`StoredBest`]), so it holds whatever the segment's statistics.
struct BlockBound {
    blocks: BlockSegmentPostings,
    /// `None` for a bound over entries taken one by one.
    stored: Option<StoredBest>,
}

impl BlockBound {
    /// The blocks of `phrase`'s scarcest character, bounded entry by entry.
    fn open(phrase: &PhraseMatcher) -> tantivy::Result<BlockBound> {
        let blocks = phrase
            .inverted
            .read_block_postings_from_terminfo(&phrase.scarcest, IndexRecordOption::WithFreqs)?;
        Ok(BlockBound {
            blocks,
            stored: None,
        })
    }

    /// The blocks of `phrase`'s scarcest character, bounded by what tantivy stored for each
    /// block when the query's weight is `weight`.
    fn open_with_stored(
        phrase: &PhraseMatcher,
        weight: &Bm25Weight,
        norms: &FieldNormReader,
    ) -> tantivy::Result<BlockBound> {
        let mut bound = BlockBound::open(phrase)?;
        bound.stored = StoredBest::new(phrase, weight, norms);
        Ok(bound)
    }

    /// The block holding the character's first entry at or after `target`: that entry, the
    /// block's last entry, a bound of the scores from that entry to the block's end, with the
    /// literal's score in the heading added entry by entry when `heading` finds the literal
    /// in headings (a matcher of its own, walked forward block by block; each entry's score
    /// is listed in its `scores`), and the best of those heading scores alone (0 when none).
    /// `None` when no entry at or after `target` holds the character.
    fn leading_block(
        &mut self,
        weight: &Bm25Weight,
        norms: &FieldNormReader,
        target: DocId,
        heading: Option<HeadingWalk<'_>>,
    ) -> Option<(DocId, DocId, Score, Score)> {
        let start = self.blocks.seek(target);
        let docs = self.blocks.docs();
        if start >= docs.len() {
            return None;
        }
        let (first, last) = (docs[start], docs[docs.len() - 1]);
        let stored_bound = match &self.stored {
            Some(stored) => stored.bound(self.blocks.block_max_score(norms, &stored.segment)),
            None => None,
        };
        let mut best = stored_bound.unwrap_or_else(|| self.best_from(weight, norms, start, last));
        let mut best_heading: Score = 0.0;
        if let Some(HeadingWalk {
            matcher: heading,
            weight: heading_weight,
            norms: heading_norms,
            scores,
        }) = heading
        {
            scores.clear();
            let (docs, counts) = (&self.blocks.docs()[start..], &self.blocks.freqs()[start..]);
            let mut entry = heading.next_candidate(first);
            while entry <= last {
                // An entry whose body lacks the character does not hold the literal.
                if let Ok(at) = docs.binary_search(&entry) {
                    let in_heading = heading.count();
                    if in_heading > 0 {
                        let heading_score =
                            heading_weight.score(heading_norms.fieldnorm_id(entry), in_heading);
                        best = best.max(
                            weight.score(norms.fieldnorm_id(entry), counts[at]) + heading_score,
                        );
                        best_heading = best_heading.max(heading_score);
                        scores.push((entry, heading_score));
                    }
                }
                entry = heading.next_candidate(entry + 1);
            }
        }
        Some((first, last, best, best_heading))
    }

    /// The best score over the character's entries in `first..=last`; the postings only move
    /// forward, so ranges must come in increasing order.
    fn best_within(
        &mut self,
        weight: &Bm25Weight,
        norms: &FieldNormReader,
        first: DocId,
        last: DocId,
    ) -> Score {
        let mut start = self.blocks.seek(first);
        let mut best: Score = 0.0;
        loop {
            let docs = self.blocks.docs();
            if start >= docs.len() || docs[start] > last {
                return best;
            }
            best = best.max(self.best_from(weight, norms, start, last));
            if docs[docs.len() - 1] >= last {
                return best;
            }
            self.blocks.advance();
            start = 0;
        }
    }

    /// The best score over the loaded block's entries from index `start` up to entry `last`.
    fn best_from(
        &self,
        weight: &Bm25Weight,
        norms: &FieldNormReader,
        start: usize,
        last: DocId,
    ) -> Score {
        let docs = self.blocks.docs();
        let counts = self.blocks.freqs();
        docs[start..]
            .iter()
            .zip(&counts[start..])
            .take_while(|(&doc, _)| doc <= last)
            .map(|(&doc, &count)| weight.score(norms.fieldnorm_id(doc), count))
            .fold(0.0, Score::max)
    }
}

/// A literal's headings walked along with the blocks of its scarcest character
/// ([`BlockBound::leading_block`]): its matcher in the heading channel, the weight and norms
/// it is scored with there, and where each entry's score is listed.
struct HeadingWalk<'a> {
    matcher: &'a mut PhraseMatcher,
    weight: &'a Bm25Weight,
    norms: &'a FieldNormReader,
    scores: &'a mut Vec<(DocId, Score)>,
}

/// The bound of a block of postings from what tantivy stored with it, without scoring its
/// entries one by one.
///
/// For each full block tantivy stores the (length, count) pair of its entries that scores
/// best with BM25 over the segment's own average length, and a bound from it spares scoring
/// every entry of every block of a common character (on the 800 MB shelf a one-shot 年 spent
/// 13% of its time doing that; callgrind: 21.6 → 15.3 M instructions). The query scores with
/// the whole index's average, under which another pair of the block may score best, so the
/// stored pair's score is not used as it is. BM25 scores an entry `w·t/(t + N(length))`, and
/// the stored pair gives `M`, the most any entry of the block reaches of `t/(t + N_segment)`.
/// When the query's `N` is at least `r` times the segment's for every length,
/// `t/(t + N_query) <= M/(M + r·(1 − M))` for every entry of the block: that, times the
/// query's `w`, is the bound. `w`, the `N`s and `r` are read from the two weights' own
/// scores, so nothing of tantivy's constants is repeated here.
struct StoredBest {
    /// The character's BM25 weight over the segment's average length, as tantivy built it
    /// when it wrote the segment.
    segment: Bm25Weight,
    /// `w` of `segment` and of the query.
    segment_scale: Score,
    query_scale: Score,
    /// `r`: the least ratio of the query's `N` to the segment's, over every length.
    ratio: Score,
}

impl StoredBest {
    /// `None` when the segment has no entry, or the weights' scores give no scale to read
    /// `w` and `r` from (then blocks are bounded entry by entry).
    fn new(phrase: &PhraseMatcher, weight: &Bm25Weight, norms: &FieldNormReader) -> Option<Self> {
        let entries = norms.num_docs();
        if entries == 0 {
            return None;
        }
        // The average tantivy's postings serializer computed: the field's tokens over the
        // entries of the segment's field norms.
        let average = phrase.inverted.total_num_tokens() as Score / entries as Score;
        let segment = Bm25Weight::for_one_term_without_explain(
            u64::from(phrase.scarcest.doc_freq),
            u64::from(entries),
            average,
        );
        // A count no entry reaches in the shortest entry scores `w` to within f32.
        let scale = |weight: &Bm25Weight| weight.score(0, u32::MAX);
        let (segment_scale, query_scale) = (scale(&segment), scale(weight));
        // One occurrence scores `w/(1 + N)`.
        let norm =
            |weight: &Bm25Weight, scale: Score, length: u8| scale / weight.score(length, 1) - 1.0;
        let ratio = (0..=u8::MAX)
            .map(|length| norm(weight, query_scale, length) / norm(&segment, segment_scale, length))
            .fold(Score::INFINITY, Score::min);
        (segment_scale > 0.0 && query_scale > 0.0 && ratio.is_finite() && ratio > 0.0).then_some(
            StoredBest {
                segment,
                segment_scale,
                query_scale,
                ratio,
            },
        )
    }

    /// The query's bound over a block whose best score with `segment` is `segment_best`;
    /// `None` when that score says nothing (a block stored without it scores 0).
    fn bound(&self, segment_best: Score) -> Option<Score> {
        (segment_best > 0.0).then(|| {
            let most = (segment_best / self.segment_scale).min(1.0);
            self.query_scale * most / (most + self.ratio * (1.0 - most))
        })
    }
}

/// The index's entries holding a literal's scarcest character (each segment's own), up to
/// which [`doc_freq`] checks each one for the literal; beyond, it checks a sample of about as
/// many.
const COUNTED_ENTRIES: u32 = 4096;

/// The fewest entries holding the literal the samples must find for their rate to stand for
/// the segments sampled; with fewer, every entry is checked after all.
const SAMPLED_MATCHES: u64 = 64;

/// How many live entries hold `literal` anywhere, for its inverse document frequency.
///
/// A literal of common characters (工程, 情况) has candidates in most entries, and checking
/// each one's positions was most of the cost of a question over a large shelf (83% of
/// 易地扶贫搬迁工程 on the 800 MB shelf). So when the entries holding the literal's
/// scarcest character (each segment's own) number more than [`COUNTED_ENTRIES`], only every
/// n-th of them is checked, n chosen to check about that many in all, spread over every
/// segment; the literal's rate among them is taken for all of them. Such a literal is in
/// hundreds of entries, where a few percent more or less move its IDF by about a hundredth of
/// itself. When the samples find fewer than [`SAMPLED_MATCHES`] entries, they are too thin to
/// trust: the entries are sampled again, densely enough to find about twice as many, and
/// counted one by one when the first samples found none.
pub fn doc_freq(searcher: &Searcher, literal: &Literal) -> tantivy::Result<u64> {
    let open_all = || -> tantivy::Result<Vec<(&SegmentReader, PhraseMatcher)>> {
        let mut matchers = Vec::new();
        for reader in searcher.segment_readers() {
            if let Some(matcher) = PhraseMatcher::open(reader, &literal.anywhere)? {
                matchers.push((reader, matcher));
            }
        }
        Ok(matchers)
    };
    let mut matchers = open_all()?;
    let entries: u64 = matchers
        .iter()
        .map(|(_, matcher)| u64::from(matcher.size_hint()))
        .sum();
    let mut stride = (entries / u64::from(COUNTED_ENTRIES)).max(1);
    loop {
        let (mut matches, mut estimate) = (0, 0);
        for (reader, matcher) in &mut matchers {
            let sample = Sample::take(matcher, reader, stride)?;
            matches += sample.matches;
            estimate += sample.estimate();
        }
        if stride == 1 || matches >= SAMPLED_MATCHES {
            return Ok(estimate);
        }
        stride = (stride * matches / (2 * SAMPLED_MATCHES)).max(1);
        // A phrase's postings only move forward: sampling again reads them afresh.
        matchers = open_all()?;
    }
}

/// Every `stride`-th live entry holding a phrase's scarcest character in one segment, checked
/// for the phrase.
struct Sample {
    /// Live entries holding the scarcest character, those checked, and those holding the
    /// phrase among them.
    entries: u64,
    checked: u64,
    matches: u64,
}

impl Sample {
    fn take(
        matcher: &mut PhraseMatcher,
        reader: &SegmentReader,
        stride: u64,
    ) -> tantivy::Result<Sample> {
        let alive = reader.alive_bitset();
        let mut sample = Sample {
            entries: 0,
            checked: 0,
            matches: 0,
        };
        // The scarcest character's entries are read a block at a time, without positions;
        // only the entries checked are sought in the phrase's postings.
        let mut blocks = matcher
            .inverted
            .read_block_postings_from_terminfo(&matcher.scarcest, IndexRecordOption::Basic)?;
        // A countdown rather than `entries % stride`, which divides once per entry.
        let mut until_checked = 0;
        while !blocks.docs().is_empty() {
            for &doc in blocks.docs() {
                if alive.is_some_and(|alive| alive.is_deleted(doc)) {
                    continue;
                }
                if until_checked == 0 {
                    until_checked = stride;
                    sample.checked += 1;
                    if matcher.holds(doc) && matcher.count() > 0 {
                        sample.matches += 1;
                    }
                }
                until_checked -= 1;
                sample.entries += 1;
            }
            blocks.advance();
        }
        Ok(sample)
    }

    /// The entries holding the phrase, at the sample's rate.
    fn estimate(&self) -> u64 {
        if self.checked == self.entries {
            return self.matches;
        }
        (self.matches as f64 * self.entries as f64 / self.checked as f64).round() as u64
    }
}

/// Finds one phrase's entries in a segment: the entries holding all of its characters, and
/// in each, how often the phrase occurs.
struct PhraseMatcher {
    /// Each term's postings with how far its position lies from the phrase's last term,
    /// scarcest term first.
    postings: Vec<(SegmentPostings, u32)>,
    /// The field's inverted index, and the dictionary entry of the scarcest term.
    inverted: Arc<InvertedIndexReader>,
    scarcest: TermInfo,
    /// Phrase positions still possible, and one term's positions (reused buffers).
    ends: Vec<u32>,
    positions: Vec<u32>,
}

impl PhraseMatcher {
    /// `None` when some term of the phrase is in no entry of the segment.
    fn open(reader: &SegmentReader, phrase: &Phrase) -> tantivy::Result<Option<PhraseMatcher>> {
        let inverted = reader.inverted_index(phrase.field())?;
        let option = if phrase.terms.len() == 1 {
            IndexRecordOption::WithFreqs
        } else {
            IndexRecordOption::WithFreqsAndPositions
        };
        let last = phrase
            .terms
            .iter()
            .map(|&(offset, _)| offset)
            .max()
            .unwrap_or(0);
        let mut postings = Vec::with_capacity(phrase.terms.len());
        for (offset, term) in &phrase.terms {
            let Some(info) = inverted.get_term_info(term)? else {
                return Ok(None);
            };
            let found = inverted.read_postings_from_terminfo(&info, option)?;
            postings.push((found, (last - offset) as u32, info));
        }
        postings.sort_by_key(|(postings, _, _)| postings.doc_freq());
        let scarcest = postings[0].2.clone();
        Ok(Some(PhraseMatcher {
            postings: postings
                .into_iter()
                .map(|(postings, shift, _)| (postings, shift))
                .collect(),
            inverted,
            scarcest,
            ends: Vec::new(),
            positions: Vec::new(),
        }))
    }

    fn size_hint(&self) -> u32 {
        self.postings[0].0.doc_freq()
    }

    /// The first entry at or after `target` that holds every term.
    fn next_candidate(&mut self, target: DocId) -> DocId {
        first_in_all(&mut self.postings, target, |(postings, _), target| {
            seek_forward(postings, target)
        })
    }

    /// Whether entry `doc` holds every term; calls must come in increasing `doc` order.
    fn holds(&mut self, doc: DocId) -> bool {
        self.next_candidate(doc) == doc
    }

    /// At a candidate: the most the phrase can occur, the count of its scarcest term there.
    fn count_bound(&self) -> u32 {
        self.postings
            .iter()
            .map(|(postings, _)| postings.term_freq())
            .min()
            .unwrap_or(0)
    }

    /// At a candidate: how often the phrase occurs (0 when its characters are there but never
    /// in a row).
    fn count(&mut self) -> u32 {
        self.count_reaching(|_| true)
    }

    /// [`Self::count`], or 0 as soon as the occurrences still possible are too few for
    /// `reaches`, which must hold for a count whenever it holds for a smaller one.
    fn count_reaching(&mut self, reaches: impl Fn(u32) -> bool) -> u32 {
        if let [(only, _)] = self.postings.as_slice() {
            return only.term_freq();
        }
        let (first, others) = self
            .postings
            .split_first_mut()
            .expect("a phrase has a term");
        // Each position is moved to where the phrase's last term would stand, so that the
        // phrase's occurrences are the positions every term shares.
        first.0.positions_with_offset(first.1, &mut self.ends);
        for (postings, shift) in others {
            postings.positions_with_offset(*shift, &mut self.positions);
            let mut kept = 0;
            let mut at = 0;
            for index in 0..self.ends.len() {
                let end = self.ends[index];
                while at < self.positions.len() && self.positions[at] < end {
                    at += 1;
                }
                if at < self.positions.len() && self.positions[at] == end {
                    self.ends[kept] = end;
                    kept += 1;
                }
            }
            let shrank = kept < self.ends.len();
            self.ends.truncate(kept);
            if kept == 0 || (shrank && !reaches(kept as u32)) {
                return 0;
            }
        }
        self.ends.len() as u32
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use proptest::prelude::*;
    use tantivy::collector::{Count, TopDocs};
    use tantivy::{doc, DocAddress, Index, IndexWriter, TantivyDocument};

    use super::*;
    use crate::analyze::CharTokenizer;

    const ALPHABET: &[char] = &['扶', '贫', '搬', '迁', '年', '2', '0', '1', '6', '，', 'g'];

    pub(crate) fn text(max: usize) -> impl Strategy<Value = String> {
        prop::collection::vec(prop::sample::select(ALPHABET), 1..max)
            .prop_map(|chars| chars.into_iter().collect())
    }

    /// An index of (heading, body) entries in three segments, some entries deleted.
    pub(crate) fn index_of(entries: &[(String, String)], deleted: &[usize]) -> (Index, Fields) {
        let (schema, fields) = Fields::schema();
        let index = Index::create_in_ram(schema);
        crate::index::register_analyzers(&index);
        let mut writer: IndexWriter<TantivyDocument> =
            index.writer_with_num_threads(1, 15_000_000).unwrap();
        writer.set_merge_policy(Box::new(tantivy::indexer::NoMergePolicy));
        for (number, (heading, body)) in entries.iter().enumerate() {
            writer
                .add_document(doc!(
                    fields.id => number.to_string(),
                    fields.title_chars => heading.as_str(),
                    fields.body_chars => heading.as_str(),
                    fields.body_chars => body.as_str(),
                ))
                .unwrap();
            if number % (entries.len() / 3 + 1) == 0 {
                writer.commit().unwrap();
            }
        }
        for number in deleted {
            writer.delete_term(Term::from_field_text(fields.id, &number.to_string()));
        }
        writer.commit().unwrap();
        (index, fields)
    }

    pub(crate) fn literal(fields: &Fields, text: &str) -> Literal {
        let mut tokens = Vec::new();
        CharTokenizer::tokenize_into(text, &mut tokens);
        Literal::new(fields, &tokens).unwrap()
    }

    /// Up to `count - 1` needles of up to `chars - 1` characters, each with a boost anywhere
    /// and maybe one in the heading.
    fn needles(
        chars: usize,
        count: usize,
    ) -> impl Strategy<Value = Vec<(String, f32, Option<f32>)>> {
        prop::collection::vec(
            (text(chars), 0.5f32..2.0, prop::option::of(0.5f32..2.0)),
            1..count,
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

        /// The pruned top k are tantivy's own top k for the same literals: the same scores in
        /// the same order, and every entry's score the one tantivy gives it.
        #[test]
        fn pruned_pages_are_tantivys_pages(
            entries in prop::collection::vec((text(4), text(40)), 3..40),
            deleted in prop::collection::vec(0usize..40, 0..4),
            needles in needles(4, 4),
            limit in 1usize..6,
        ) {
            same_pages(&entries, &deleted, &needles, limit)?;
        }

        /// The union's pruned top k are tantivy's own top k for the same literals as `Should`
        /// clauses.
        #[test]
        fn pages_of_any_literal_are_tantivys_pages(
            entries in prop::collection::vec((text(4), text(30)), 3..150),
            deleted in prop::collection::vec(0usize..150, 0..10),
            needles in needles(4, 6),
            limit in 1usize..12,
        ) {
            same_pages_of(Occur::Should, &entries, &deleted, &needles, limit)?;
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

        /// The same over segments of several hundred entries, so that the characters' postings
        /// span many blocks and whole blocks are skipped.
        #[test]
        fn pages_pruned_by_blocks_are_tantivys_pages(
            entries in prop::collection::vec((text(3), text(12)), 300..1200),
            deleted in prop::collection::vec(0usize..1200, 0..30),
            needles in needles(3, 3),
            limit in 1usize..12,
        ) {
            same_pages(&entries, &deleted, &needles, limit)?;
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

        /// Below the sampling size, a literal's document frequency is the count of the live
        /// entries tantivy's phrase query finds.
        #[test]
        fn doc_freq_of_few_entries_is_their_count(
            entries in prop::collection::vec((text(4), text(40)), 3..60),
            deleted in prop::collection::vec(0usize..60, 0..6),
            needle in text(4),
        ) {
            let (index, fields) = index_of(&entries, &deleted);
            let searcher = index.reader().unwrap().searcher();
            let literal = literal(&fields, &needle);
            let counted = searcher.search(&literal.anywhere_query(), &Count).unwrap() as u64;
            prop_assert_eq!(doc_freq(&searcher, &literal).unwrap(), counted);
        }
    }

    /// Entries `扶…贫…` (every one holds both characters), `扶贫` in those `holds` picks, and
    /// the document frequency of 扶贫 as [`doc_freq`] gives it and as tantivy counts it.
    fn doc_freq_over_many(entries: usize, holds: impl Fn(usize) -> bool) -> (u64, u64) {
        let entries: Vec<(String, String)> = (0..entries)
            .map(|number| {
                let body = if holds(number) {
                    "年扶贫水"
                } else {
                    "扶年水贫"
                };
                (String::new(), body.to_string())
            })
            .collect();
        let deleted: Vec<usize> = (0..entries.len()).step_by(97).collect();
        let (index, fields) = index_of(&entries, &deleted);
        let searcher = index.reader().unwrap().searcher();
        let literal = literal(&fields, "扶贫");
        let counted = searcher.search(&literal.anywhere_query(), &Count).unwrap() as u64;
        (doc_freq(&searcher, &literal).unwrap(), counted)
    }

    #[test]
    fn doc_freq_of_many_entries_is_sampled_close_to_their_count() {
        // Three segments of about 9,000 entries: every sixth one is checked, about 4,096 in
        // all.
        let (estimated, counted) = doc_freq_over_many(27_000, |number| number % 7 < 3);
        assert!(counted > 10_000, "{counted}");
        assert_ne!(estimated, counted, "the count was not sampled");
        let error = (estimated as f64 - counted as f64).abs() / counted as f64;
        assert!(error < 0.05, "{estimated} against {counted}");
    }

    #[test]
    fn doc_freq_of_a_thinly_sampled_literal_is_sampled_again() {
        // About one entry in 80, scattered: the first samples (every sixth entry) find 53,
        // too few, and the second (every other entry) 155; no need to count every entry.
        let scattered = |number: usize| number.wrapping_mul(2_654_435_761) % 1000 < 12;
        let (estimated, counted) = doc_freq_over_many(27_000, scattered);
        assert!((250..400).contains(&counted), "{counted}");
        assert_ne!(estimated, counted, "the count was not sampled");
        let error = (estimated as f64 - counted as f64).abs() / counted as f64;
        assert!(error < 0.25, "{estimated} against {counted}");
    }

    #[test]
    fn stored_block_bound_holds_over_segments_of_other_average_lengths() {
        // Three segments: short entries, then both, then long ones, so that each segment's
        // average length differs from the index's and tantivy's stored best pairs were chosen
        // with other lengths than the query scores with. 贫 is in every entry, 1 to 5 times.
        let entries: Vec<(String, String)> = (0..1_500)
            .map(|number: usize| {
                let filler = if number < 750 {
                    number % 13
                } else {
                    40 + number * 31 % 200
                };
                let body = "贫".repeat(1 + number * 7_919 % 5) + &"年".repeat(filler);
                (String::new(), body)
            })
            .collect();
        let (index, fields) = index_of(&entries, &[]);
        let searcher = index.reader().unwrap().searcher();
        let literal = literal(&fields, "贫");
        let weight = Bm25Weight::for_terms(&searcher, &literal.anywhere.terms()).unwrap();
        let mut blocks_bounded = 0;
        for reader in searcher.segment_readers() {
            let matcher = PhraseMatcher::open(reader, &literal.anywhere)
                .unwrap()
                .unwrap();
            let norms = reader.get_fieldnorms_reader(fields.body_chars).unwrap();
            let mut stored = BlockBound::open_with_stored(&matcher, &weight, &norms).unwrap();
            let mut exact = BlockBound::open(&matcher).unwrap();
            assert!(stored.stored.is_some());
            let mut target = 0;
            while let Some((first, last, bound, _)) =
                stored.leading_block(&weight, &norms, target, None)
            {
                let (_, _, best, _) = exact.leading_block(&weight, &norms, target, None).unwrap();
                assert!(
                    bound * BOUND_MARGIN >= best,
                    "entries {first}..={last}: bound {bound} below the best score {best}"
                );
                assert!(bound < weight.max_score(), "the bound says nothing");
                blocks_bounded += 1;
                target = last + 1;
            }
        }
        // A segment of the first entry, then three of about 500: three full blocks and a
        // partial one in each.
        assert_eq!(blocks_bounded, 13);
    }

    #[test]
    fn doc_freq_of_a_literal_too_rare_to_sample_is_its_count() {
        let (estimated, counted) = doc_freq_over_many(27_000, |number| number % 1000 == 1);
        assert_eq!(counted, 27);
        assert_eq!(estimated, counted);
    }

    /// [`same_pages_of`] for [`AllLiterals`].
    fn same_pages(
        entries: &[(String, String)],
        deleted: &[usize],
        needles: &[(String, f32, Option<f32>)],
        limit: usize,
    ) -> Result<(), TestCaseError> {
        same_pages_of(Occur::Must, entries, deleted, needles, limit)
    }

    /// Checks that [`AllLiterals`] (`Must`) or [`AnyLiterals`] (`Should`) finds the entries
    /// tantivy's boolean query of the same literals finds, and that its pruned page is
    /// tantivy's page.
    fn same_pages_of(
        occur: Occur,
        entries: &[(String, String)],
        deleted: &[usize],
        needles: &[(String, f32, Option<f32>)],
        limit: usize,
    ) -> Result<(), TestCaseError> {
        let (index, fields) = index_of(entries, deleted);
        let searcher = index.reader().unwrap().searcher();
        let literals: Vec<Literal> = needles
            .iter()
            .map(|(needle, anywhere, heading)| {
                literal(&fields, needle).weighed(*anywhere, *heading)
            })
            .collect();
        let ours: Box<dyn Query> = match occur {
            Occur::Should => Box::new(AnyLiterals::new(literals.clone())),
            _ => Box::new(AllLiterals::new(literals.clone())),
        };
        let theirs = BooleanQuery::new(
            literals
                .iter()
                .map(|literal| (occur, literal.query()))
                .collect(),
        );
        prop_assert_eq!(
            searcher.search(ours.as_ref(), &Count).unwrap(),
            searcher.search(&theirs, &Count).unwrap()
        );
        let everything = TopDocs::with_limit(entries.len()).order_by_score();
        let reference: std::collections::HashMap<_, f32> = searcher
            .search(&theirs, &everything)
            .unwrap()
            .into_iter()
            .map(|(score, address)| (address, score))
            .collect();
        let page = TopDocs::with_limit(limit).order_by_score();
        let pruned = searcher.search(ours.as_ref(), &page).unwrap();
        same_scores(&pruned, &searcher.search(&theirs, &page).unwrap())?;
        for (score, address) in &pruned {
            prop_assert!(close(*score, reference[address]));
        }
        Ok(())
    }

    /// Two pages as long as each other, whose scores agree in order up to rounding.
    pub(crate) fn same_scores(
        found: &[(f32, DocAddress)],
        expected: &[(f32, DocAddress)],
    ) -> Result<(), TestCaseError> {
        prop_assert_eq!(found.len(), expected.len());
        for ((score, _), (expected_score, _)) in found.iter().zip(expected) {
            prop_assert!(
                close(*score, *expected_score),
                "{score} vs {expected_score}"
            );
        }
        Ok(())
    }

    /// Equal up to f32 rounding of sums taken in another order.
    fn close(a: f32, b: f32) -> bool {
        (a - b).abs() <= 1e-5 * a.abs().max(b.abs()).max(1.0)
    }

    #[test]
    fn one_literal_scores_exactly_as_tantivys_boolean_query() {
        let entries: Vec<(String, String)> = [
            ("扶贫", "扶贫搬迁，扶贫"),
            ("年", "2016年扶贫"),
            ("搬迁", "搬迁扶贫扶贫扶贫"),
            ("", "扶"),
        ]
        .iter()
        .map(|(heading, body)| (heading.to_string(), body.to_string()))
        .collect();
        let (index, fields) = index_of(&entries, &[]);
        let searcher = index.reader().unwrap().searcher();
        for needle in ["扶贫", "扶", "2016年", "贫搬"] {
            let ours = AllLiterals::new(vec![literal(&fields, needle)]);
            let mut tokens = Vec::new();
            CharTokenizer::tokenize_into(needle, &mut tokens);
            let theirs = BooleanQuery::new(vec![
                (Occur::Must, Phrase::new(fields.body_chars, &tokens).query()),
                (
                    Occur::Should,
                    Box::new(BoostQuery::new(
                        Phrase::new(fields.title_chars, &tokens).query(),
                        TITLE_BOOST,
                    )),
                ),
            ]);
            let page = TopDocs::with_limit(10).order_by_score();
            let expected = searcher.search(&theirs, &page).unwrap();
            assert!(!expected.is_empty(), "{needle}");
            assert_eq!(searcher.search(&ours, &page).unwrap(), expected, "{needle}");
        }
    }
}
