//! Grep parity as a property: for generated entries and substrings (1–8 characters, across
//! word boundaries, with traditional and full-width variants), an entry is returned as a
//! literal ("phrase") match exactly when its folded heading or text contains the folded
//! substring, and such entries rank above all others.

use std::collections::BTreeSet;

use proptest::prelude::*;
use yearbook::analyze::fold_str;
use yearbook::ingest::ingest;
use yearbook::search::{Engine, SearchOptions};

use crate::util::Workspace;

/// Characters chosen so that substrings recur across entries and cross jieba's words:
/// simplified and traditional forms, full-width and half-width digits and Latin, punctuation.
const ALPHABET: &[char] = &[
    '扶', '贫', '貧', '搬', '迁', '遷', '易', '地', '万', '萬', '山', '区', '區', '年', '末', '1',
    '2', '.', '5', 'G', 'g', 'Ｇ', '２', '网', '络', '網', '，', '嘎', '查', '村', '工', '程',
    '人', '口',
];

/// Traditional or full-width variant of a character, if it has one in the alphabet's world.
fn variant(c: char) -> char {
    match c {
        '贫' => '貧',
        '迁' => '遷',
        '万' => '萬',
        '区' => '區',
        '网' => '網',
        '程' => '程',
        '2' => '２',
        'G' => 'Ｇ',
        'g' => 'ｇ',
        '1' => '１',
        '5' => '５',
        other => other,
    }
}

fn text(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(ALPHABET), 1..max)
        .prop_map(|chars| chars.into_iter().collect())
}

fn corpus() -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::vec((text(6), text(60)), 4..14)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    #[test]
    fn literal_matches_are_exactly_grep_matches(
        entries in corpus(),
        picks in prop::collection::vec((any::<prop::sample::Index>(), any::<prop::sample::Index>(), 1usize..=8, any::<bool>()), 6),
    ) {
        let workspace = Workspace::new();
        let lines: String = entries
            .iter()
            .enumerate()
            .map(|(i, (heading, body))| {
                serde_json::json!({"id": format!("e{i}"), "heading": heading, "body": body}).to_string() + "\n"
            })
            .collect();
        workspace.write("generated.jsonl", lines);
        ingest(&crate::util::ingest_options(workspace.corpus(), workspace.index()), &mut |w| panic!("{w:?}")).unwrap();
        let engine = Engine::open(&workspace.index()).unwrap();
        let options = SearchOptions { limit: 1000, filters: Default::default() };

        for (entry_pick, start_pick, len, use_variant) in picks {
            let (heading, body) = &entries[entry_pick.index(entries.len())];
            let source: Vec<char> = if body.chars().count() >= len { body.chars().collect() } else { heading.chars().collect() };
            let len = len.min(source.len());
            let start = start_pick.index(source.len() - len + 1);
            let mut query: String = source[start..start + len].iter().collect();
            if use_variant {
                query = query.chars().map(variant).collect();
            }
            let folded = fold_str(&query);
            if folded.chars().all(|c| c == '，' || c == '.') {
                continue;
            }
            let expected: BTreeSet<String> = entries
                .iter()
                .enumerate()
                .filter(|(_, (h, b))| fold_str(h).contains(&folded) || fold_str(b).contains(&folded))
                .map(|(i, _)| format!("e{i}"))
                .collect();
            let hits = engine.search(&query, &options).unwrap();
            let phrase: BTreeSet<String> = hits.iter().filter(|h| h.matched == "phrase").map(|h| h.id.clone()).collect();
            prop_assert_eq!(&phrase, &expected, "query {:?}", query);
            let literal_prefix = hits.iter().take_while(|h| h.matched == "phrase").count();
            prop_assert_eq!(literal_prefix, expected.len(), "literal matches rank first for {:?}", query);
            let distinct: BTreeSet<&String> = hits.iter().map(|h| &h.id).collect();
            prop_assert_eq!(distinct.len(), hits.len(), "no entry is listed twice for {:?}", query);
        }
    }
}
