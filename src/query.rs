//! Reads what the user typed into query parts, and turns them into a tantivy query.
//!
//! Syntax, kept small on purpose: whitespace separates parts, and every part must match;
//! `"…"` (ASCII quotes) makes a part a literal phrase that must occur as written; `-词`
//! excludes entries containing 词. Everything else, including `？，“”《》` and unbalanced
//! quotes, is ordinary text, so a natural question is never a syntax error.
//!
//! Each part matches an entry that contains it literally (the character channel, up to
//! folding) or that contains its words (the word channel). Ranking is tiered: entries
//! containing every part literally come first, then entries containing every word, then the
//! rest; BM25 orders each tier, with headings and sub-heads weighing more than body text.
//! The words of a part are found by looking its substrings up in the index's own word
//! vocabulary, so no segmenter is loaded to answer a query.

use tantivy::query::{
    BooleanQuery, BoostQuery, ConstScoreQuery, EmptyQuery, Occur, PhraseQuery, Query, TermQuery,
};
use tantivy::schema::IndexRecordOption;
use tantivy::{Searcher, Term};

use crate::analyze::{fold_str, CharTokenizer};
use crate::index::Fields;
use crate::{Error, Result};

/// Score added to entries that contain every word of the query.
pub const ALL_WORDS_BONUS: f32 = 1_000.0;
/// Weight of headings and sub-heads relative to body text.
pub const TITLE_BOOST: f32 = 1.5;
/// Longest word (in characters) looked up in the vocabulary.
const MAX_WORD_CHARS: usize = 12;
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
#[derive(Debug, Clone, Default)]
pub struct Filters {
    pub yearbook: Option<String>,
    pub year: Option<u64>,
    pub chapter: Option<String>,
}

/// A query ready to run, in two tiers, with what the snippet stage needs to highlight.
pub struct Compiled {
    /// Entries containing every part literally (and no excluded text), scored by BM25 over
    /// the literal matches and the query's words.
    pub exact: Box<dyn Query>,
    /// Entries that match each part literally or by its words; `None` when every part is a
    /// `"…"` phrase or no entry outside the literal tier can match. It does not exclude the
    /// literal tier's entries (that would match the phrases a second time): the caller runs
    /// it only when the literal tier did not fill the page, so it has them all, and drops
    /// them. Entries containing every word score [`ALL_WORDS_BONUS`] more.
    pub rest: Option<Box<dyn Query>>,
    /// Folded literal strings to highlight (plain and phrase parts).
    pub literals: Vec<String>,
    /// Folded words to highlight.
    pub words: Vec<String>,
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

/// The literal occurrence of `text` in an entry's heading or body: one character phrase.
fn literal_in(fields: &Fields, text: &str) -> Option<Box<dyn Query>> {
    let mut tokens = Vec::new();
    CharTokenizer::tokenize_into(text, &mut tokens);
    let field = fields.body_chars;
    match tokens.as_slice() {
        [] => None,
        [only] => Some(Box::new(TermQuery::new(
            Term::from_field_text(field, &only.text),
            IndexRecordOption::WithFreqs,
        ))),
        _ => Some(Box::new(PhraseQuery::new_with_offset(
            tokens
                .iter()
                .map(|t| (t.position, Term::from_field_text(field, &t.text)))
                .collect(),
        ))),
    }
}

fn word_in(fields: &Fields, word: &str) -> Box<dyn Query> {
    let term_query = |field, boost: f32| -> Box<dyn Query> {
        Box::new(BoostQuery::new(
            Box::new(TermQuery::new(
                Term::from_field_text(field, word),
                IndexRecordOption::WithFreqs,
            )),
            boost,
        ))
    };
    Box::new(BooleanQuery::new(vec![
        (Occur::Should, term_query(fields.title_words, TITLE_BOOST)),
        (Occur::Should, term_query(fields.body_words, 1.0)),
    ]))
}

fn in_vocabulary(searcher: &Searcher, fields: &Fields, word: &str) -> Result<bool> {
    for field in [fields.body_words, fields.title_words] {
        if searcher.doc_freq(&Term::from_field_text(field, word))? > 0 {
            return Ok(true);
        }
    }
    Ok(false)
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric()
}

/// A unit of a query part: a word the index knows, or a run the index has never seen as a
/// word (which still counts when deciding how many words an entry must share).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unit {
    pub text: String,
    pub known: bool,
}

/// Segments a folded query part by forward maximum matching against the index's own word
/// vocabulary (the words jieba cut the corpus into, up to 12 characters). Characters no
/// known word covers become unknown units of one character.
pub fn segment(searcher: &Searcher, fields: &Fields, folded: &str) -> Result<Vec<Unit>> {
    let chars: Vec<char> = folded.chars().collect();
    let mut units = Vec::new();
    let mut start = 0;
    while start < chars.len() {
        if !is_word_char(chars[start]) {
            start += 1;
            continue;
        }
        let run_end = (start..chars.len())
            .find(|&i| !is_word_char(chars[i]))
            .unwrap_or(chars.len());
        let mut matched = None;
        for len in (1..=MAX_WORD_CHARS.min(run_end - start)).rev() {
            let candidate: String = chars[start..start + len].iter().collect();
            if in_vocabulary(searcher, fields, &candidate)? {
                matched = Some((candidate, len));
                break;
            }
        }
        match matched {
            Some((text, len)) => {
                units.push(Unit { text, known: true });
                start += len;
            }
            None => {
                units.push(Unit {
                    text: chars[start].to_string(),
                    known: false,
                });
                start += 1;
            }
        }
    }
    Ok(units)
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

fn term(field: tantivy::schema::Field, text: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(
        Term::from_field_text(field, text),
        IndexRecordOption::Basic,
    ))
}

/// Builds the two tiers of the tantivy query for parsed parts.
///
/// Splitting the tiers, rather than adding a constant to literal matches in one query, means
/// the costly phrase matching runs once, and the second tier runs only when the first does
/// not fill the page of results.
pub fn compile(
    searcher: &Searcher,
    fields: &Fields,
    parts: &[QueryPart],
    filters: &Filters,
) -> Result<Compiled> {
    // No `kind:entry` clause: file records have no text in the word and character fields,
    // so every part's Must clause already keeps them out, and intersecting with a posting
    // list of every entry would cost a seek per candidate.
    let mut common: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    if let Some(yearbook) = &filters.yearbook {
        common.push((Occur::Must, term(fields.yearbook, yearbook)));
    }
    if let Some(chapter) = &filters.chapter {
        common.push((Occur::Must, term(fields.chapter, chapter)));
    }
    if let Some(year) = filters.year {
        common.push((
            Occur::Must,
            Box::new(TermQuery::new(
                Term::from_field_u64(fields.year, year),
                IndexRecordOption::Basic,
            )),
        ));
    }
    let mut exact: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    let mut rest: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    let mut all_words: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    let mut any_plain = false;
    // With one part, every entry containing it literally is in the literal tier, so the rest
    // tier need not look for the literal again (the costliest clause of all).
    let part_literals: Vec<(&QueryPart, Box<dyn Query>)> = parts
        .iter()
        .filter_map(|part| literal_in(fields, &part.text).map(|literal| (part, literal)))
        .collect();
    let matching_parts = part_literals
        .iter()
        .filter(|(part, _)| part.kind != PartKind::Exclude)
        .count();
    let mut rest_can_match = true;
    let mut literals = Vec::new();
    let mut words: Vec<String> = Vec::new();
    for (part, literal) in part_literals {
        match part.kind {
            PartKind::Exclude => {
                exact.push(excluding(literal.box_clone()));
                rest.push(excluding(literal));
            }
            PartKind::Phrase => {
                literals.push(fold_str(&part.text));
                exact.push((Occur::Must, literal.box_clone()));
                rest.push((Occur::Must, literal));
            }
            PartKind::Plain => {
                any_plain = true;
                let folded = fold_str(&part.text);
                let units = segment(searcher, fields, &folded)?;
                let required = required_units(units.len(), folded.chars().count());
                let mut part_words: Vec<String> = Vec::new();
                for unit in units.iter().filter(|unit| unit.known) {
                    if !part_words.contains(&unit.text) {
                        part_words.push(unit.text.clone());
                    }
                }
                let mut either: Vec<(Occur, Box<dyn Query>)> = Vec::new();
                if matching_parts > 1 {
                    either.push((Occur::Should, literal.box_clone()));
                }
                if part_words.len() >= required && required > 0 {
                    let shared: Vec<(Occur, Box<dyn Query>)> = part_words
                        .iter()
                        .map(|word| (Occur::Should, word_in(fields, word)))
                        .collect();
                    either.push((
                        Occur::Should,
                        Box::new(BooleanQuery::with_minimum_required_clauses(
                            shared, required,
                        )),
                    ));
                }
                for word in &part_words {
                    all_words.push((Occur::Must, word_in(fields, word)));
                    if !words.contains(word) {
                        words.push(word.clone());
                    }
                }
                rest_can_match &= !either.is_empty();
                exact.push((Occur::Must, literal));
                rest.push((Occur::Must, Box::new(BooleanQuery::new(either))));
                literals.push(folded);
            }
        }
    }
    if literals.is_empty() {
        return Ok(Compiled {
            exact: Box::new(EmptyQuery),
            rest: None,
            literals,
            words,
        });
    }
    // Within the literal tier, the words rank: headings first, then BM25 over the text.
    for word in &words {
        exact.push((Occur::Should, word_in(fields, word)));
    }
    exact.extend(
        common
            .iter()
            .map(|(occur, query)| (*occur, query.box_clone())),
    );
    let rest = (any_plain && rest_can_match).then(|| {
        if all_words.len() > 1 {
            rest.push((
                Occur::Should,
                Box::new(ConstScoreQuery::new(
                    Box::new(BooleanQuery::new(all_words)),
                    ALL_WORDS_BONUS,
                )),
            ));
        }
        rest.extend(common);
        Box::new(BooleanQuery::new(rest)) as Box<dyn Query>
    });
    Ok(Compiled {
        exact: Box::new(BooleanQuery::new(exact)),
        rest,
        literals,
        words,
    })
}

/// Splits a second-tier score into its tier ("all" or "some") and its BM25 part.
pub fn tier_of(score: f32) -> (&'static str, f32) {
    if score >= ALL_WORDS_BONUS {
        ("all", score - ALL_WORDS_BONUS)
    } else {
        ("some", score)
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
    fn natural_questions_are_plain_text() {
        let parts = parse("《战国无双3》是由哪两个公司合作开发的？“光荣”").unwrap();
        assert_eq!(parts.len(), 1);
        assert_eq!(parts[0].kind, PartKind::Plain);
        assert!(parse("\"未闭合").is_ok());
        assert!(parse("-只排除").is_err());
    }
}
