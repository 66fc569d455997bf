//! Properties of the sectionizer and the analyzer over generated input.

use proptest::prelude::*;
use tantivy::tokenizer::{TokenStream, Tokenizer};
use yearbook::analyze::{fold_str, CharTokenizer};
use yearbook::parse;
use yearbook::sectionize::sectionize;

const BODY: &[char] = &[
    '农', '业', '产', '量', '增', '长', '，', '。', '1', '2', '%', '万', '吨', '年',
];
const HEAD: &[char] = &['农', '业', '林', '水', '草', '原', '牧', '区', '建', '设'];

fn chars(from: &'static [char], range: std::ops::Range<usize>) -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(from), range).prop_map(|c| c.into_iter().collect())
}

fn entry() -> impl Strategy<Value = (String, Vec<String>, Vec<(String, String)>)> {
    (
        chars(HEAD, 2..8),
        prop::collection::vec(chars(BODY, 1..40), 1..3),
        prop::collection::vec((chars(HEAD, 3..8), chars(BODY, 1..40)), 0..3),
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// A browser-saved page with a trail, bullets, entries, sub-heads, an author line and a
    /// footer, possibly shown twice, yields exactly its entries, once each, nothing lost.
    #[test]
    fn sectionizer_recovers_every_entry_once(entries in prop::collection::vec(entry(), 1..6), twice in any::<bool>()) {
        let mut content = String::new();
        for (heading, lead, parts) in &entries {
            content.push_str(&format!("    【{heading}】\u{a0} {}\n\n", lead.join("\n    ")));
            for (subheading, body) in parts {
                content.push_str(&format!("    {subheading}\u{a0}\u{a0}\u{a0} {body}\n\n"));
            }
        }
        content.push_str("    (撰稿人:某某)\n\n  • 声明: 转载请注明来源\n");
        let mut page = String::from("当前位置:某网 / 某市年鉴 / 2019卷 / 经济\n\n2019卷\n\n  • 农业\n");
        page.push_str(&content);
        if twice {
            page.push_str("  • 农业\n");
            page.push_str(&content);
        }
        page.push_str("\n版权所有:某办公室\n");

        let sectioned = sectionize(&parse::text::parse(&page));
        let mut unique = entries.clone();
        let mut seen = std::collections::HashSet::new();
        unique.retain(|e| seen.insert(e.clone()));
        prop_assert_eq!(sectioned.entries.len(), unique.len());
        for (got, (heading, lead, parts)) in sectioned.entries.iter().zip(&unique) {
            prop_assert_eq!(&got.heading, heading);
            prop_assert_eq!(&got.lead, &lead.join("\n"));
            let got_parts: Vec<(String, String)> = got.parts.iter().map(|p| (p.subheading.clone(), p.body.clone())).collect();
            prop_assert_eq!(&got_parts, parts);
        }
        prop_assert_eq!(sectioned.place.author.as_deref(), Some("某某"));
        prop_assert_eq!(sectioned.place.article.as_deref(), Some("农业"));
    }

    /// Over folded text, the character channel emits every non-space character once, at its
    /// index in the folded text; a query folds what was typed and gets the same tokens.
    #[test]
    fn char_tokens_are_the_folded_characters_at_their_positions(text in "[\\PC\u{a0}\u{3000}ＡＢ１２臺灣，。 a-zA-Z0-9]{0,60}") {
        let folded = fold_str(&text);
        let mut tokenizer = CharTokenizer;
        let mut stream = tokenizer.token_stream(&folded);
        let mut indexed = Vec::new();
        while stream.advance() {
            let token = stream.token();
            indexed.push((token.text.clone(), token.position));
        }
        let expected: Vec<(String, usize)> = folded
            .chars()
            .enumerate()
            .filter(|(_, c)| !c.is_whitespace())
            .map(|(position, c)| (c.to_string(), position))
            .collect();
        prop_assert_eq!(&indexed, &expected);
        let mut queried = Vec::new();
        CharTokenizer::tokenize_into(&text, &mut queried);
        let queried: Vec<(String, usize)> = queried.into_iter().map(|t| (t.text, t.position)).collect();
        prop_assert_eq!(queried, expected);
    }
}
