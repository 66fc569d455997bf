//! Runs queries against an index and turns tantivy's answers into [`Hit`]s.
//!
//! A [`Engine`] opens the index once (batch mode reuses it for every query) with a manual
//! reload policy: a one-shot search needs no watcher thread. Snippets are cut from the stored
//! original text around the best literal match (else the first word match), about 80
//! characters long, with highlight ranges counted in characters of the snippet.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use jieba_rs::Jieba;

use serde::{Deserialize, Serialize};
use tantivy::collector::TopDocs;
use tantivy::query::{EnableScoring, RegexQuery, TermQuery};
use tantivy::schema::{IndexRecordOption, Value};
use tantivy::{DocAddress, Index, IndexReader, Searcher, TantivyDocument, Term};

use crate::analyze::{build_jieba, jieba_for, query_words, FoldedText};
use crate::index::{self, BuildInfo, Fields};
use crate::query::{self, Filters};
use crate::{Error, Result};

/// Characters of context shown in a snippet.
pub const SNIPPET_CHARS: usize = 80;

/// One search result, as printed by `--json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hit {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub qid: Option<String>,
    pub id: String,
    pub rank: usize,
    pub score: f32,
    /// "phrase" (contains the query literally), "all" (every word) or "some".
    #[serde(rename = "match")]
    pub matched: String,
    pub yearbook: Option<String>,
    pub volume: Option<String>,
    pub year: Option<u64>,
    pub chapter: Option<String>,
    pub article: Option<String>,
    pub heading: String,
    pub subheading: Option<String>,
    pub path: String,
    pub snippet: String,
    /// [start, end) character ranges into `snippet`.
    pub highlights: Vec<[usize; 2]>,
}

impl Hit {
    /// `内蒙古年鉴 › 2017卷 › 农牧林水 › 扶贫开发 › 【易地扶贫搬迁工程】`, with the sub-head last
    /// when the hit is a sub-part.
    pub fn place(&self) -> String {
        let mut parts: Vec<String> = [&self.yearbook, &self.volume, &self.chapter, &self.article]
            .into_iter()
            .flatten()
            .cloned()
            .collect();
        match &self.subheading {
            Some(subheading) => {
                parts.push(self.heading.clone());
                parts.push(subheading.clone());
            }
            None if !self.heading.is_empty() => parts.push(format!("【{}】", self.heading)),
            None => {}
        }
        parts.join(" › ")
    }
}

/// A whole entry, as `yearbook show` prints it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Shown {
    pub hit: Hit,
    pub author: Option<String>,
    pub body: String,
}

/// An index opened for searching.
pub struct Engine {
    pub index: Index,
    pub fields: Fields,
    reader: IndexReader,
    /// The index holds a user dictionary.
    holds_dictionary: bool,
    /// jieba with the index's user dictionary, when it holds one, built by the first query
    /// that needs words (or the error it gave).
    jieba: OnceLock<std::result::Result<Arc<Jieba>, String>>,
}

/// Options of one search.
#[derive(Debug, Clone)]
pub struct SearchOptions {
    pub limit: usize,
    pub filters: Filters,
}

impl Engine {
    /// Opens the index in `dir`; refuses one built by another analyzer.
    pub fn open(dir: &Path) -> Result<Engine> {
        let index::Opened {
            index,
            fields,
            reader,
        } = index::open(dir)?;
        let info = index::build_info(&index)?;
        if let Some(info) = &info {
            if let Some(why) = info.mismatch(&BuildInfo::current(info.dictionary.clone())) {
                return Err(Error::Stale {
                    dir: dir.to_path_buf(),
                    why,
                });
            }
        }
        Ok(Engine {
            index,
            fields,
            reader,
            holds_dictionary: info.is_some_and(|info| info.dictionary.is_some()),
            jieba: OnceLock::new(),
        })
    }

    /// The words of a folded query part. Without a user dictionary, cut by a jieba holding
    /// only the dictionary words inside the part ([`jieba_for`]), which cuts it as the whole
    /// dictionary would; with one, by [`Engine::whole_jieba`].
    fn words_of(&self, folded: &str) -> Result<Vec<String>> {
        if self.holds_dictionary {
            Ok(query_words(self.whole_jieba()?.as_ref(), folded))
        } else {
            Ok(query_words(&jieba_for(folded), folded))
        }
    }

    /// jieba with its dictionary and the one the index holds, built on first use (100 to
    /// 200 ms). Threads asking at the same time wait for the one build.
    fn whole_jieba(&self) -> Result<Arc<Jieba>> {
        let built = self.jieba.get_or_init(|| {
            let dictionary = index::stored_dictionary(&self.reader.searcher(), &self.fields)
                .map_err(|error| error.to_string())?;
            build_jieba(dictionary.as_deref()).map_err(|error| error.to_string())
        });
        built.clone().map_err(|why| Error::Dictionary {
            path: std::path::PathBuf::from("dict.txt (as the index holds it)"),
            why,
        })
    }

    /// With a user dictionary, builds jieba now: batch mode calls it on a thread of its own
    /// at the start, so that no query waits for it later.
    pub fn prepare_words(&self) -> Result<()> {
        if self.holds_dictionary {
            self.whole_jieba()?;
        }
        Ok(())
    }

    /// Runs one query.
    pub fn search(&self, text: &str, options: &SearchOptions) -> Result<Vec<Hit>> {
        let parts = query::parse(text)?;
        let searcher = self.reader.searcher();
        let compiled = query::compile(&self.fields, &parts, &options.filters);
        let limit = options.limit.max(1);
        let exact = top_docs(&searcher, compiled.exact.as_ref(), limit)?;
        let mut ranked: Vec<(&str, f32, tantivy::DocAddress)> = exact
            .into_iter()
            .map(|(score, address)| ("phrase", score, address))
            .collect();
        let mut words = Vec::new();
        if ranked.len() < limit && compiled.has_word_tier() {
            let words_of = |folded: &str| self.words_of(folded);
            if let Some(tier) = compiled.word_tier(&searcher, &self.fields, &words_of)? {
                // Each step runs only when the steps before it did not fill the page, so it
                // has all of their entries in `ranked`; it finds them again, and they are
                // dropped here.
                for (name, step) in tier.steps() {
                    if ranked.len() >= limit {
                        break;
                    }
                    let before: Vec<tantivy::DocAddress> =
                        ranked.iter().map(|&(_, _, address)| address).collect();
                    let more = top_docs(&searcher, step, limit)?;
                    for (score, address) in more
                        .into_iter()
                        .filter(|(_, address)| !before.contains(address))
                        .take(limit - before.len())
                    {
                        ranked.push((name, score, address));
                    }
                }
                words = tier.words;
            }
        }
        let mut hits = Vec::with_capacity(ranked.len());
        let mut folded = FoldedText::default();
        for (rank, (matched, score, address)) in ranked.into_iter().enumerate() {
            let document: TantivyDocument = searcher.doc(address)?;
            let mut hit = self.hit_from(&document, rank + 1, score, matched);
            let mut body = index::stored_body(&document, &self.fields);
            if body.is_empty() && self.entry_of(&document) == hit.id {
                // An entry whose text is all in its sub-parts is shown by theirs.
                body = self
                    .parts_of(&searcher, &hit.id)?
                    .iter()
                    .map(|part| index::stored_body(part, &self.fields))
                    .filter(|text| !text.is_empty())
                    .collect::<Vec<_>>()
                    .join("\n");
            }
            let (snippet, highlights) = snippet(&body, &compiled.literals, &words, &mut folded);
            hit.snippet = snippet;
            hit.highlights = highlights;
            hits.push(hit);
        }
        Ok(hits)
    }

    /// Every document of the entry `id` (the entry and its sub-parts), in page order.
    pub fn show(&self, id: &str) -> Result<Vec<Shown>> {
        let searcher = self.reader.searcher();
        let by_id = TermQuery::new(
            Term::from_field_text(self.fields.id, id),
            IndexRecordOption::Basic,
        );
        let found = searcher.search(&by_id, &TopDocs::with_limit(1).order_by_score())?;
        let Some((_, address)) = found.first() else {
            return Err(Error::NoSuchEntry(id.to_string()));
        };
        let document: TantivyDocument = searcher.doc(*address)?;
        // Showing a sub-part shows just it; showing an entry shows it with its sub-parts.
        let documents = if self.entry_of(&document) != id {
            vec![document]
        } else {
            self.parts_of(&searcher, id)?
        };
        Ok(documents
            .iter()
            .map(|document| Shown {
                hit: self.hit_from(document, 0, 0.0, ""),
                author: index::stored_text(document, self.fields.author),
                body: index::stored_body(document, &self.fields),
            })
            .collect())
    }

    /// The documents of entry `entry`: it and its sub-parts, in page order.
    fn parts_of(&self, searcher: &Searcher, entry: &str) -> Result<Vec<TantivyDocument>> {
        // Its sub-parts' ids are `ID.1`, `ID.2` …; an entry of another file whose own id
        // happens to look like that is told apart by its stored entry.
        let pattern = format!("{}(\\.[0-9]+)?", regex::escape(entry));
        let by_entry = RegexQuery::from_pattern(&pattern, self.fields.id)?;
        let all = searcher.search(&by_entry, &TopDocs::with_limit(10_000).order_by_score())?;
        let mut documents = Vec::with_capacity(all.len());
        for (_, address) in all {
            let document = searcher.doc::<TantivyDocument>(address)?;
            if self.entry_of(&document) == entry {
                documents.push(document);
            }
        }
        documents.sort_by_key(|d| d.get_first(self.fields.ordinal).and_then(|v| v.as_u64()));
        Ok(documents)
    }

    /// Number of entry documents in the index.
    pub fn entry_count(&self) -> Result<usize> {
        let searcher = self.reader.searcher();
        let query = TermQuery::new(
            Term::from_field_text(self.fields.kind, index::KIND_ENTRY),
            IndexRecordOption::Basic,
        );
        Ok(searcher.search(&query, &tantivy::collector::Count)?)
    }

    /// The id of the entry a document belongs to: its own, unless it is a sub-part.
    fn entry_of(&self, document: &TantivyDocument) -> String {
        index::stored_text(document, self.fields.entry)
            .unwrap_or_else(|| self.text(document, self.fields.id))
    }

    fn text(&self, document: &TantivyDocument, field: tantivy::schema::Field) -> String {
        index::stored_text(document, field).unwrap_or_default()
    }

    fn hit_from(&self, document: &TantivyDocument, rank: usize, score: f32, matched: &str) -> Hit {
        let f = &self.fields;
        Hit {
            qid: None,
            id: self.text(document, f.id),
            rank,
            score,
            matched: matched.to_string(),
            yearbook: index::stored_text(document, f.yearbook),
            volume: index::stored_text(document, f.volume),
            year: document.get_first(f.year).and_then(|v| v.as_u64()),
            chapter: index::stored_text(document, f.chapter),
            article: index::stored_text(document, f.article),
            heading: self.text(document, f.heading),
            subheading: index::stored_text(document, f.subheading),
            path: self.text(document, f.path),
            snippet: String::new(),
            highlights: Vec::new(),
        }
    }
}

/// The `limit` best entries for `query`, best first; entries of equal score in index order,
/// so that a page does not depend on how the search was spread over threads (batch mode).
///
/// The segments are walked in index order with one page for them all: a segment starts
/// with the score the page's last entry already has, so it reads only what can enter the
/// page. tantivy's collector gives each segment a page of its own, starting from nothing,
/// and a segment's last page entry can score far below the whole index's (家人对 on the
/// 800 MB shelf: 0.93 against 1.82), which leaves most of its candidates to be checked.
fn top_docs(
    searcher: &tantivy::Searcher,
    query: &dyn tantivy::query::Query,
    limit: usize,
) -> Result<Vec<(f32, tantivy::DocAddress)>> {
    let weight = query.weight(EnableScoring::enabled_from_searcher(searcher))?;
    let mut page = Page::new(limit);
    for (ordinal, reader) in searcher.segment_readers().iter().enumerate() {
        let segment = ordinal as u32;
        let alive = reader.alive_bitset();
        weight.for_each_pruning(page.threshold(), reader, &mut |doc, score| {
            if !alive.is_some_and(|alive| alive.is_deleted(doc)) {
                page.offer(score, DocAddress::new(segment, doc));
            }
            page.threshold()
        })?;
    }
    Ok(page.into_ranked())
}

/// The best `limit` (score, address) pairs offered, higher scores first and equal scores in
/// index order.
struct Page {
    limit: usize,
    /// The worst entry on top.
    entries: BinaryHeap<Reverse<Ranked>>,
}

/// Ordered from worse to better: a lower score, or an equal score later in the index.
#[derive(PartialEq)]
struct Ranked(f32, DocAddress);

impl Eq for Ranked {}

impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Ranked {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0
            .total_cmp(&other.0)
            .then_with(|| other.1.cmp(&self.1))
    }
}

impl Page {
    fn new(limit: usize) -> Page {
        Page {
            limit,
            entries: BinaryHeap::with_capacity(limit + 1),
        }
    }

    fn offer(&mut self, score: f32, address: DocAddress) {
        self.entries.push(Reverse(Ranked(score, address)));
        if self.entries.len() > self.limit {
            self.entries.pop();
        }
    }

    /// What an entry must score above to enter the page: its last entry's score once it is
    /// full (an equal score comes later in the index, and loses).
    fn threshold(&self) -> f32 {
        match self.entries.peek() {
            Some(Reverse(Ranked(score, _))) if self.entries.len() >= self.limit => *score,
            _ => f32::MIN,
        }
    }

    fn into_ranked(self) -> Vec<(f32, DocAddress)> {
        self.entries
            .into_sorted_vec()
            .into_iter()
            .map(|Reverse(Ranked(score, address))| (score, address))
            .collect()
    }
}

/// Cuts a snippet of about [`SNIPPET_CHARS`] characters from `body` around the best match and
/// returns it with the highlighted character ranges.
///
/// The window opens a little before the first literal match (else the first word match), and
/// every literal and word match inside it is highlighted. The body is folded only as far as
/// that takes: up to the first literal match, then to the window's end.
pub fn snippet(
    body: &str,
    literals: &[String],
    words: &[String],
    folded: &mut FoldedText,
) -> (String, Vec<[usize; 2]>) {
    let literals = || literals.iter().filter(|needle| !needle.is_empty());
    let words = || words.iter().filter(|needle| !needle.is_empty());
    let longest = literals()
        .chain(words())
        .map(String::len)
        .max()
        .unwrap_or(0);
    folded.start(body);

    // The first literal match, folding a growing prefix until one is found whole: any match
    // starting earlier would then be whole too.
    let mut chunk = 512;
    let mut scan_from = 0;
    let anchor = loop {
        folded.fold_until(body, folded.folded_len() + chunk);
        chunk *= 2;
        let first = literals()
            .filter_map(|needle| {
                let at = folded.text[scan_from..].find(needle.as_str())?;
                Some((scan_from + at, needle.len()))
            })
            .min();
        // No match starts before here: the next round looks again only at where one could
        // have been cut by the end of the folded text.
        scan_from = folded.text.len().saturating_sub(longest);
        while !folded.text.is_char_boundary(scan_from) {
            scan_from -= 1;
        }
        match first {
            Some((at, len)) if folded.is_complete() || at + longest <= folded.text.len() => {
                break Some(folded.original_range(at, at + len).0);
            }
            _ if folded.is_complete() => break None,
            _ => {}
        }
    };
    let anchor = anchor.or_else(|| {
        words()
            .filter_map(|needle| {
                folded
                    .text
                    .find(needle.as_str())
                    .map(|at| (at, needle.len()))
            })
            .min()
            .map(|(at, len)| folded.original_range(at, at + len).0)
    });

    // The window, in characters and in bytes of the body.
    let total = body.chars().count();
    let window_start = anchor
        .map(|byte| {
            body[..byte]
                .chars()
                .count()
                .saturating_sub(SNIPPET_CHARS / 4)
        })
        .unwrap_or(0)
        .min(total.saturating_sub(SNIPPET_CHARS));
    let window_len = SNIPPET_CHARS.min(total - window_start);
    let byte_of = |chars: usize| {
        body.char_indices()
            .nth(chars)
            .map_or(body.len(), |(i, _)| i)
    };
    let start_byte = byte_of(window_start);
    let end_byte = start_byte
        + body[start_byte..]
            .char_indices()
            .nth(window_len)
            .map_or(body.len() - start_byte, |(i, _)| i);

    // Every match that reaches into the window; a folded byte comes from at most four bytes
    // of the body, so folding that much past the window finds the matches it cuts.
    folded.fold_until(body, end_byte + 4 * longest);
    let relative = |byte: usize| {
        body[start_byte..byte.clamp(start_byte, end_byte)]
            .chars()
            .count()
    };
    let mut marks: Vec<[usize; 2]> = Vec::new();
    for needle in literals().chain(words()) {
        let mut from = 0;
        while let Some(found) = folded.text[from..].find(needle.as_str()) {
            let at = from + found;
            let (start, end) = folded.original_range(at, at + needle.len());
            if start >= end_byte {
                break;
            }
            if end > start_byte {
                marks.push([relative(start), relative(end)]);
            }
            from = at + needle.len();
        }
    }
    marks.sort_unstable();
    let mut merged: Vec<[usize; 2]> = Vec::new();
    for mark in marks {
        match merged.last_mut() {
            Some(last) if mark[0] <= last[1] => last[1] = last[1].max(mark[1]),
            _ => merged.push(mark),
        }
    }
    let text: String = body[start_byte..end_byte]
        .chars()
        .map(|c| if c == '\n' || c == '\r' { ' ' } else { c })
        .collect();
    (text, merged)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::literal_tests::{index_of, literal, text};
    use crate::query::AllLiterals;
    use proptest::prelude::*;
    use tantivy::query::{BooleanQuery, Occur, Query};

    /// Every entry `query` finds, best first and equal scores in index order, as tantivy's
    /// own collector scores them, cut to `limit`.
    fn tantivys_page(
        searcher: &Searcher,
        query: &dyn Query,
        entries: usize,
        limit: usize,
    ) -> Vec<(f32, DocAddress)> {
        let everything = TopDocs::with_limit(entries.max(1)).order_by_score();
        let mut all = searcher.search(query, &everything).unwrap();
        all.sort_by(|(a, a_address), (b, b_address)| {
            b.total_cmp(a).then_with(|| a_address.cmp(b_address))
        });
        all.truncate(limit);
        all
    }

    #[test]
    fn equal_scores_across_segments_keep_index_order() {
        // Thirty equal entries in four segments, one deleted: every score is equal, and the
        // page is the first segment's.
        let entries = vec![(String::new(), "扶贫".to_string()); 30];
        let (index, fields) = index_of(&entries, &[1]);
        let searcher = index.reader().unwrap().searcher();
        assert!(searcher.segment_readers().len() > 2);
        let query = AllLiterals::new(vec![literal(&fields, "扶贫")]);
        let page = top_docs(&searcher, &query, 3).unwrap();
        assert_eq!(page, tantivys_page(&searcher, &query, entries.len(), 3));
        assert!(
            page.iter().all(|(_, address)| address.segment_ord == 0),
            "{page:?}"
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// One page carried over the segments: the same entries, scores and order as
        /// ranking every entry, over three segments with deletions and many ties, for our
        /// literal walk and for tantivy's own union.
        #[test]
        fn one_page_over_all_segments_is_the_page_of_every_entry(
            entries in prop::collection::vec((text(4), text(30)), 1..240),
            deleted in prop::collection::vec(0usize..240, 0..40),
            needles in prop::collection::vec(text(3), 1..3),
            limit in 1usize..12,
        ) {
            let (index, fields) = index_of(&entries, &deleted);
            let searcher = index.reader().unwrap().searcher();
            let literals: Vec<_> = needles.iter().map(|needle| literal(&fields, needle)).collect();
            let all = AllLiterals::new(literals.clone());
            let any = BooleanQuery::new(
                literals.iter().map(|literal| (Occur::Should, literal.query())).collect(),
            );
            for query in [&all as &dyn Query, &any] {
                prop_assert_eq!(
                    top_docs(&searcher, query, limit).unwrap(),
                    tantivys_page(&searcher, query, entries.len(), limit)
                );
            }
        }
    }

    #[test]
    fn snippet_highlights_original_characters() {
        let mut folded = FoldedText::default();
        let (text, marks) = snippet(
            "啟動易地扶貧搬遷工程。",
            &["易地扶贫搬迁".into()],
            &[],
            &mut folded,
        );
        assert_eq!(text, "啟動易地扶貧搬遷工程。");
        assert_eq!(marks, vec![[2, 8]]);
        let highlighted: String = text.chars().skip(2).take(6).collect();
        assert_eq!(highlighted, "易地扶貧搬遷");
    }

    #[test]
    fn snippet_finds_a_match_deep_in_a_long_text_and_the_words_around_it() {
        // 3,000 bytes before the match: several rounds of folding a longer prefix.
        let body = format!("{}目标词后后{}", "前".repeat(1000), "后".repeat(100));
        let mut folded = FoldedText::default();
        let (text, marks) = snippet(&body, &["目标词".into()], &["后".into()], &mut folded);
        assert_eq!(text.chars().count(), SNIPPET_CHARS);
        let marked: Vec<String> = marks
            .iter()
            .map(|&[start, end]| text.chars().skip(start).take(end - start).collect())
            .collect();
        // The literal, then the word's run up to the window's end.
        let run = SNIPPET_CHARS - SNIPPET_CHARS / 4 - 3;
        assert_eq!(marked[0], format!("目标词{}", "后".repeat(run)));
        assert_eq!(marks.len(), 1);
        assert_eq!(marks[0], [SNIPPET_CHARS / 4, SNIPPET_CHARS]);
    }

    #[test]
    fn snippet_windows_long_text_around_the_match() {
        let body = format!("{}目标词{}", "前".repeat(200), "后".repeat(200));
        let mut folded = FoldedText::default();
        let (text, marks) = snippet(&body, &["目标词".into()], &[], &mut folded);
        assert_eq!(text.chars().count(), SNIPPET_CHARS);
        let [start, end] = marks[0];
        let marked: String = text.chars().skip(start).take(end - start).collect();
        assert_eq!(marked, "目标词");
    }
}
