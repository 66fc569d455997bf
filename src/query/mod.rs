//! Reads what the user typed into query parts, and turns them into tantivy queries.
//!
//! Syntax, kept small on purpose: whitespace separates parts, and every part must match;
//! `"…"` (ASCII quotes) makes a part a literal phrase that must occur as written; `-词`
//! excludes entries containing 词. Everything else, including `？，“”《》` and unbalanced
//! quotes, is ordinary text, so a natural question is never a syntax error.
//!
//! The index holds one channel, the folded characters with their positions, so every match
//! is a phrase (or one character) over it. Ranking is tiered. The literal tier holds the
//! entries containing every part as written, ranked by BM25 over those phrases, with a match
//! in the heading or sub-head weighing more. When it does not fill the page, the word tier
//! follows: each part is cut into words with jieba, and an entry that lacks a part as written
//! must contain its words instead (all of them for a short, keyword-like part, any of them for
//! a long, question-like one); entries containing every word come first, BM25 orders the
//! rest. A word's weight is that of the word itself: its inverse document frequency is
//! counted from the entries that contain it (estimated from a sample of its candidates when
//! they are many), not summed from its characters, which would make common characters' rare
//! compounds count for little.

use std::collections::HashMap;

use tantivy::query::{BooleanQuery, ConstScoreQuery, EmptyQuery, Occur, Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::tokenizer::Token;
use tantivy::{Searcher, Term};

use crate::analyze::{fold_str, CharTokenizer};
use crate::index::Fields;
use crate::{Error, Result};

mod literal;
mod union;

#[cfg(test)]
pub(crate) use literal::tests as literal_tests;
pub use literal::{AllLiterals, AnyLiterals, Literal};
pub use union::AnyOf;

/// Weight of headings and sub-heads relative to body text.
pub const TITLE_BOOST: f32 = 1.5;
/// Longest query accepted, in characters.
pub const MAX_QUERY_CHARS: usize = 1000;

/// How a part must match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartKind {
    /// Literal occurrence or any of its words.
    Plain,
    /// `"…"`: literal occurrence required.
    Phrase,
    /// `-…`: entries containing it literally are excluded.
    Exclude,
}

/// One part of a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryPart {
    pub text: String,
    pub kind: PartKind,
}

/// Splits a query into parts.
pub fn parse(query: &str) -> Result<Vec<QueryPart>> {
    if query.chars().count() > MAX_QUERY_CHARS {
        return Err(Error::Query(format!(
            "longer than {MAX_QUERY_CHARS} characters"
        )));
    }
    let mut parts = Vec::new();
    let mut rest = query;
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_whitespace());
        if rest.is_empty() {
            break;
        }
        if let Some(after) = rest.strip_prefix('"') {
            let (inside, next) = match after.find('"') {
                Some(end) => (&after[..end], &after[end + 1..]),
                None => (after, ""),
            };
            if !inside.trim().is_empty() {
                parts.push(QueryPart {
                    text: inside.trim().to_string(),
                    kind: PartKind::Phrase,
                });
            }
            rest = next;
            continue;
        }
        let end = rest.find(|c: char| c.is_whitespace()).unwrap_or(rest.len());
        let token = &rest[..end];
        rest = &rest[end..];
        match token.strip_prefix('-') {
            Some(excluded) if !excluded.is_empty() => parts.push(QueryPart {
                text: excluded.trim_matches('"').to_string(),
                kind: PartKind::Exclude,
            }),
            _ => parts.push(QueryPart {
                text: token.to_string(),
                kind: PartKind::Plain,
            }),
        }
    }
    if parts.iter().all(|part| part.kind == PartKind::Exclude) {
        return Err(Error::Query("nothing to search for".into()));
    }
    Ok(parts)
}

/// Restrictions on where hits may come from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters {
    pub yearbook: Option<String>,
    pub year: Option<u64>,
    pub chapter: Option<String>,
}

/// The literal tier of a query, ready to run, with what the word tier and the snippet stage
/// need.
pub struct Compiled {
    /// Entries containing every part literally (and no excluded text), scored by BM25 over
    /// the literal matches, with matches in headings weighing more.
    pub exact: Box<dyn Query>,
    /// Folded literal strings to highlight (plain and phrase parts).
    pub literals: Vec<String>,
    parts: Vec<QueryPart>,
    filters: Filters,
}

/// The word tier of a query, in two steps: entries holding every word, then the others.
pub struct WordTier {
    /// Entries holding every word of every plain part (and what the parts require besides),
    /// scored as in `others`; `None` when that is every entry of `others` (one part, all of
    /// its words required) or there is only one word.
    pub every_word: Option<Box<dyn Query>>,
    /// Entries that match each part literally or by its words. Neither step excludes the
    /// entries of the steps before it (that would match their phrases and words a second
    /// time): the caller runs a step only when the ones before it did not fill the page, so
    /// it has all of their entries, and drops them.
    pub others: Box<dyn Query>,
    /// Folded words to highlight.
    pub words: Vec<String>,
    /// Every entry of `others` holds every word (one part, all of its words required).
    every_word_required: bool,
}

impl WordTier {
    /// The steps in order, each with the name its hits are shown with.
    pub fn steps(&self) -> Vec<(&'static str, &dyn Query)> {
        match &self.every_word {
            Some(every_word) => vec![("all", every_word.as_ref()), ("some", self.others.as_ref())],
            None if self.every_word_required => vec![("all", self.others.as_ref())],
            None => vec![("some", self.others.as_ref())],
        }
    }
}

/// Wraps a query whose scorer is used as an exclusion set (`MustNot`).
///
/// tantivy 0.27's exclusion calls `seek_danger` on the excluded scorer, and its phrase scorer
/// asserts (in debug builds) that the target is not behind its current document, which the
/// `seek_danger` contract allows. This wrapper only ever seeks forward and relies on the
/// default, safe `seek_danger`.
#[derive(Debug)]
struct ForwardOnly(Box<dyn Query>);

impl Clone for ForwardOnly {
    fn clone(&self) -> Self {
        ForwardOnly(self.0.box_clone())
    }
}

struct ForwardOnlyWeight(Box<dyn tantivy::query::Weight>);

struct ForwardOnlyScorer(Box<dyn tantivy::query::Scorer>);

impl Query for ForwardOnly {
    fn weight(
        &self,
        enable_scoring: tantivy::query::EnableScoring<'_>,
    ) -> tantivy::Result<Box<dyn tantivy::query::Weight>> {
        Ok(Box::new(ForwardOnlyWeight(self.0.weight(enable_scoring)?)))
    }
}

impl tantivy::query::Weight for ForwardOnlyWeight {
    fn scorer(
        &self,
        reader: &tantivy::SegmentReader,
        boost: tantivy::Score,
    ) -> tantivy::Result<Box<dyn tantivy::query::Scorer>> {
        Ok(Box::new(ForwardOnlyScorer(self.0.scorer(reader, boost)?)))
    }

    fn explain(
        &self,
        reader: &tantivy::SegmentReader,
        doc: tantivy::DocId,
    ) -> tantivy::Result<tantivy::query::Explanation> {
        self.0.explain(reader, doc)
    }
}

impl tantivy::DocSet for ForwardOnlyScorer {
    fn advance(&mut self) -> tantivy::DocId {
        self.0.advance()
    }

    fn seek(&mut self, target: tantivy::DocId) -> tantivy::DocId {
        let doc = self.0.doc();
        if doc >= target {
            doc
        } else {
            self.0.seek(target)
        }
    }

    fn doc(&self) -> tantivy::DocId {
        self.0.doc()
    }

    fn size_hint(&self) -> u32 {
        self.0.size_hint()
    }
}

impl tantivy::query::Scorer for ForwardOnlyScorer {
    fn score(&mut self) -> tantivy::Score {
        self.0.score()
    }
}

/// `MustNot` over a query, safe for phrase queries (see [`ForwardOnly`]).
fn excluding(query: Box<dyn Query>) -> (Occur, Box<dyn Query>) {
    (Occur::MustNot, Box::new(ForwardOnly(query)))
}

/// The [`Literal`] of `text`; `None` when it has no character.
fn literal(fields: &Fields, text: &str) -> Option<Literal> {
    let mut tokens = Vec::new();
    CharTokenizer::tokenize_into(text, &mut tokens);
    Literal::new(fields, &tokens)
}

/// True when a query's entries are those holding every part literally (or, in the word
/// tier, every word): no exclusion and no filter, which [`AllLiterals`] does not take.
fn is_plain_conjunction(parts: &[QueryPart], filters: &Filters) -> bool {
    parts.iter().all(|part| part.kind != PartKind::Exclude) && *filters == Filters::default()
}

/// BM25's inverse document frequency, as tantivy computes it.
fn idf(doc_freq: u64, docs: u64) -> f32 {
    let x = (docs.saturating_sub(doc_freq) as f32 + 0.5) / (doc_freq as f32 + 0.5);
    (1.0 + x).ln()
}

/// Finds words as phrases of the character channel, weighted as words.
struct WordFinder<'a> {
    searcher: &'a Searcher,
    fields: &'a Fields,
    /// Documents in the index, counted as tantivy's BM25 counts them.
    docs: u64,
    /// Each word's literal, or `None` when no entry contains it.
    found: HashMap<String, Option<Literal>>,
}

impl<'a> WordFinder<'a> {
    fn new(searcher: &'a Searcher, fields: &'a Fields) -> Self {
        let docs = searcher
            .segment_readers()
            .iter()
            .map(|reader| u64::from(reader.max_doc()))
            .sum();
        WordFinder {
            searcher,
            fields,
            docs,
            found: HashMap::new(),
        }
    }

    /// How much the word's phrase in one character field is to be scaled to weigh as the
    /// word: tantivy weighs a phrase by the sum of its terms' IDFs, so by the word's own IDF
    /// over that sum. `None` when no document holds it, or when it is a character too common
    /// to count.
    fn scale_in(&self, field: Field, tokens: &[Token]) -> Result<Option<f32>> {
        // In a question-like part a character standing alone as a word (的, 是, 在) and held
        // by more than half of the entries tells them apart no better than chance (its
        // Robertson–Spärck Jones weight is negative), while its union is the costliest clause
        // of the tier: it is dropped, as a stopword would be. Words of two characters or more
        // are kept however common: in a corpus about one subject (a 扶贫 chapter) the
        // subject's words are in most entries and still matter. Headings are not counted.
        let too_common = |doc_freq: u64| {
            field == self.fields.body_chars && doc_freq.saturating_mul(2) > self.docs
        };
        let Some(literal) = Literal::in_field(field, tokens) else {
            return Ok(None);
        };
        if let [only] = tokens {
            let df = self
                .searcher
                .doc_freq(&Term::from_field_text(field, &only.text))?;
            return Ok((df > 0 && !too_common(df)).then_some(1.0));
        }
        let doc_freq = literal::doc_freq(self.searcher, &literal)?;
        if doc_freq == 0 {
            return Ok(None);
        }
        let mut summed = 0.0;
        for token in tokens {
            let term = Term::from_field_text(field, &token.text);
            summed += idf(self.searcher.doc_freq(&term)?, self.docs);
        }
        Ok(Some(idf(doc_freq, self.docs) / summed))
    }

    /// The word anywhere in an entry, or in its heading (weighing [`TITLE_BOOST`] more),
    /// weighed as tantivy weighs a phrase (by the sum of its characters' IDFs). For the words
    /// of a keyword-like part: every entry of the tier holds all of them, so their weights
    /// only balance their counts against each other, and counting the entries that hold each
    /// word (a scan per word) would cost more than the search.
    fn unweighed(&self, word: &str) -> Option<Literal> {
        literal(self.fields, word)
    }

    /// The word anywhere in an entry, or in its heading (weighing [`TITLE_BOOST`] more),
    /// weighed by its own IDF; `None` when no entry contains it, or when it is a single
    /// character more than half of them hold.
    fn find(&mut self, word: &str) -> Result<Option<Literal>> {
        if let Some(known) = self.found.get(word) {
            return Ok(known.clone());
        }
        let mut tokens = Vec::new();
        CharTokenizer::tokenize_into(word, &mut tokens);
        let found = match self.scale_in(self.fields.body_chars, &tokens)? {
            None => None,
            Some(anywhere) => {
                let heading = self.scale_in(self.fields.title_chars, &tokens)?;
                Literal::new(self.fields, &tokens).map(|literal| literal.weighed(anywhere, heading))
            }
        };
        self.found.insert(word.to_string(), found.clone());
        Ok(found)
    }
}

/// True for a folded part that is its own only word: one character, or a run of ASCII
/// letters and digits (`gdp`, `xq7731`), which is read as one word the way a Western
/// tokenizer would, not cut by jieba into pieces its dictionary happens to know. The word
/// tier finds nothing more for such a part than the literal tier, so a query made of them
/// never needs jieba.
fn is_one_word(folded: &str) -> bool {
    let mut chars = folded.chars();
    let single = chars.next().is_some() && chars.next().is_none();
    single || folded.chars().all(|c| c.is_ascii_alphanumeric())
}

/// Parts at least this long (in characters) are read as natural language: an entry that
/// lacks them literally needs to share only one of their words, and BM25 ranks it.
pub const NATURAL_LANGUAGE_CHARS: usize = 6;

/// How many of a part's `units` an entry must share when it lacks the part literally: every
/// unit of a short, keyword-like part (版权所有 must not find entries that merely say 所有),
/// any one of a long, question-like part.
pub fn required_units(units: usize, part_chars: usize) -> usize {
    if part_chars >= NATURAL_LANGUAGE_CHARS {
        units.min(1)
    } else {
        units
    }
}

fn term(field: Field, text: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(
        Term::from_field_text(field, text),
        IndexRecordOption::Basic,
    ))
}

fn filter_clauses(fields: &Fields, filters: &Filters) -> Vec<(Occur, Box<dyn Query>)> {
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    if let Some(yearbook) = &filters.yearbook {
        clauses.push((Occur::Must, term(fields.yearbook, yearbook)));
    }
    if let Some(chapter) = &filters.chapter {
        clauses.push((Occur::Must, term(fields.chapter, chapter)));
    }
    if let Some(year) = filters.year {
        clauses.push((
            Occur::Must,
            Box::new(TermQuery::new(
                Term::from_field_u64(fields.year, year),
                IndexRecordOption::Basic,
            )),
        ));
    }
    clauses
}

/// Builds the literal tier of the query for parsed parts.
///
/// Splitting the tiers, rather than adding a constant to literal matches in one query, means
/// the costly phrase matching runs once, and the word tier (and jieba) runs only when the
/// literal tier does not fill the page of results.
pub fn compile(fields: &Fields, parts: &[QueryPart], filters: &Filters) -> Compiled {
    // No `kind:entry` clause: file records have no text in the character fields, so every
    // part's Must clause already keeps them out, and intersecting with a posting list of
    // every entry would cost a seek per candidate.
    let mut found: Vec<(PartKind, Literal)> = Vec::new();
    let mut literals = Vec::new();
    for part in parts {
        let Some(literal) = literal(fields, &part.text) else {
            continue;
        };
        if part.kind != PartKind::Exclude {
            literals.push(fold_str(&part.text));
        }
        found.push((part.kind, literal));
    }
    let exact: Box<dyn Query> = if literals.is_empty() {
        Box::new(EmptyQuery)
    } else if is_plain_conjunction(parts, filters) {
        // Only literals to find: one walk over their characters, pruned by the page.
        Box::new(AllLiterals::new(
            found.into_iter().map(|(_, literal)| literal).collect(),
        ))
    } else {
        let mut exact: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for (kind, literal) in &found {
            if *kind == PartKind::Exclude {
                exact.push(excluding(literal.anywhere_query()));
            } else {
                exact.push((Occur::Must, literal.anywhere_query()));
                exact.extend(literal.heading_query().map(|query| (Occur::Should, query)));
            }
        }
        exact.extend(filter_clauses(fields, filters));
        Box::new(BooleanQuery::new(exact))
    };
    Compiled {
        exact,
        literals,
        parts: parts.to_vec(),
        filters: filters.clone(),
    }
}

impl Compiled {
    /// True when the word tier may find entries the literal tier does not: some plain part
    /// has words other than itself.
    pub fn has_word_tier(&self) -> bool {
        !self.literals.is_empty()
            && self
                .parts
                .iter()
                .any(|part| part.kind == PartKind::Plain && !is_one_word(&fold_str(&part.text)))
    }

    /// Builds the word tier, cutting the plain parts with `words_of` (a folded part → its
    /// words, see [`crate::analyze::query_words`]); `None` when no entry outside the literal
    /// tier can match.
    pub fn word_tier(
        &self,
        searcher: &Searcher,
        fields: &Fields,
        words_of: &dyn Fn(&str) -> Result<Vec<String>>,
    ) -> Result<Option<WordTier>> {
        if !self.has_word_tier() {
            return Ok(None);
        }
        let mut finder = WordFinder::new(searcher, fields);
        let part_literals: Vec<(&QueryPart, Box<dyn Query>)> = self
            .parts
            .iter()
            .filter_map(|part| {
                literal(fields, &part.text).map(|literal| (part, literal.anywhere_query()))
            })
            .collect();
        let matching_parts = part_literals
            .iter()
            .filter(|(part, _)| part.kind != PartKind::Exclude)
            .count();
        let mut rest: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let mut all_words: Vec<Literal> = Vec::new();
        let mut words: Vec<String> = Vec::new();
        let mut every_word_required = true;
        for (part, literal) in part_literals {
            match part.kind {
                PartKind::Exclude => rest.push(excluding(literal)),
                PartKind::Phrase => rest.push((Occur::Must, literal)),
                PartKind::Plain => {
                    let folded = fold_str(&part.text);
                    let units = if is_one_word(&folded) {
                        vec![folded.clone()]
                    } else {
                        words_of(&folded)?
                    };
                    let mut unique: Vec<&String> = Vec::new();
                    for unit in &units {
                        if !unique.contains(&unit) {
                            unique.push(unit);
                        }
                    }
                    let required = required_units(unique.len(), folded.chars().count());
                    let keyword_like = required == unique.len();
                    every_word_required &= keyword_like;
                    let mut part_words: Vec<(String, Literal)> = Vec::new();
                    for unit in unique {
                        let query = if keyword_like {
                            finder.unweighed(unit)
                        } else {
                            finder.find(unit)?
                        };
                        if let Some(literal) = query {
                            part_words.push((unit.clone(), literal));
                        }
                    }
                    let mut either: Vec<Box<dyn Query>> = Vec::new();
                    // With one part, every entry containing it literally is in the literal
                    // tier, so this tier need not look for the literal again (the costliest
                    // clause of all).
                    if matching_parts > 1 {
                        either.push(literal);
                    }
                    if part_words.len() >= required && required > 0 {
                        let shared: Vec<Box<dyn Query>> = part_words
                            .iter()
                            .map(|(_, literal)| literal.seekable_query())
                            .collect();
                        either.push(Box::new(AnyOf::new(shared, required)));
                    }
                    if either.is_empty() {
                        return Ok(None);
                    }
                    for (word, literal) in part_words {
                        all_words.push(literal);
                        if !words.contains(&word) {
                            words.push(word);
                        }
                    }
                    rest.push((Occur::Must, Box::new(AnyOf::new(either, 1))));
                }
            }
        }
        // With one part whose words are all required, every entry of the tier holds every
        // word, so there is no first step to take.
        let every_word_required = every_word_required && matching_parts == 1;
        // With one plain part and nothing else, an entry holding every word scores the sum of
        // the words' scores, which is what `AllLiterals` finds, with one walk over their
        // characters instead of one phrase scan per word.
        let only_words = matches!(self.parts.as_slice(), [part] if part.kind == PartKind::Plain)
            && is_plain_conjunction(&self.parts, &self.filters);
        rest.extend(filter_clauses(fields, &self.filters));
        let every_word = (all_words.len() > 1 && !every_word_required).then(|| {
            if only_words {
                return Box::new(AllLiterals::new(all_words.clone())) as Box<dyn Query>;
            }
            let mut clauses: Vec<(Occur, Box<dyn Query>)> = rest
                .iter()
                .map(|(occur, query)| (*occur, query.box_clone()))
                .collect();
            // A filter that adds nothing to the score, which stays that of `others`.
            let every: Vec<(Occur, Box<dyn Query>)> = all_words
                .iter()
                .map(|literal| (Occur::Must, literal.seekable_query()))
                .collect();
            clauses.push((
                Occur::Must,
                Box::new(ConstScoreQuery::new(
                    Box::new(BooleanQuery::new(every)),
                    0.0,
                )),
            ));
            Box::new(BooleanQuery::new(clauses)) as Box<dyn Query>
        });
        // When every entry of `others` holds every word, it is their conjunction too; when it
        // needs any one of them (a question), their union, walked with the page's threshold.
        let others: Box<dyn Query> = if only_words && (every_word_required || all_words.len() == 1)
        {
            Box::new(AllLiterals::new(all_words))
        } else if only_words {
            Box::new(AnyLiterals::new(all_words))
        } else {
            Box::new(BooleanQuery::new(rest))
        };
        Ok(Some(WordTier {
            every_word,
            others,
            words,
            every_word_required,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_parts_phrases_and_exclusions() {
        let parts = parse("扶贫  \"易地 搬迁\" -金融 -").unwrap();
        assert_eq!(
            parts,
            vec![
                QueryPart {
                    text: "扶贫".into(),
                    kind: PartKind::Plain
                },
                QueryPart {
                    text: "易地 搬迁".into(),
                    kind: PartKind::Phrase
                },
                QueryPart {
                    text: "金融".into(),
                    kind: PartKind::Exclude
                },
                QueryPart {
                    text: "-".into(),
                    kind: PartKind::Plain
                },
            ]
        );
    }

    #[test]
    fn only_parts_with_words_of_their_own_need_the_word_tier() {
        let (_, fields) = Fields::schema();
        let needs_words = |query: &str| {
            compile(&fields, &parse(query).unwrap(), &Filters::default()).has_word_tier()
        };
        assert!(!needs_words("贫"));
        assert!(!needs_words("xq7731 GDP -5G"));
        assert!(!needs_words("\"扶贫搬迁\""));
        assert!(needs_words("量子纠缠态"));
        assert!(needs_words("GDP 增长"));
    }

    #[test]
    fn natural_questions_are_plain_text() {
        let parts = parse("《战国无双3》是由哪两个公司合作开发的？“光荣”").unwrap();
        assert_eq!(parts.len(), 1);
        assert_eq!(parts[0].kind, PartKind::Plain);
        assert!(parse("\"未闭合").is_ok());
        assert!(parse("-只排除").is_err());
    }
}
