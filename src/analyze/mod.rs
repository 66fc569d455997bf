//! Text analysis shared by indexing and querying: folding, the character channel, and the
//! words of a query.
//!
//! Folding ([`fold_str`], [`fold_char`]: NFKC, lowercase, traditional → simplified) is done
//! character by character, the same way for pages and for queries.
//!
//! * [`CharTokenizer`] folds a text as it reads it and emits every folded character with its
//!   position. It is the only channel the index holds: a phrase query over it finds any
//!   literal substring, which is what makes the engine never miss what grep finds, and a word
//!   of the query is found as the phrase of its characters.
//! * [`query_words`] cuts a folded query with jieba into the words the ranking weighs. Only
//!   queries are cut: the index needs no segmentation, so ingest does not pay for it, and a
//!   word matches wherever its characters stand together, whatever jieba would have made of
//!   the page.
//!
//! The index keeps no offsets: snippets and highlights are cut from the stored original text
//! by folding it again ([`FoldedText`]), so they show the page as it was printed.

mod fold;
mod lexicon;

use std::sync::Arc;

use jieba_rs::Jieba;
use tantivy::tokenizer::{Token, TokenStream, Tokenizer};

use fold::CharFolder;
pub use fold::{fold_char, fold_str, FoldedText};
pub use lexicon::jieba_for;

/// Name under which [`CharTokenizer`] is registered on the index.
pub const CHAR_TOKENIZER: &str = "yearbook_chars";

/// Version of the analysis chain. Bump it whenever folding or tokenization changes, so that
/// an index built by another version is detected and rebuilt instead of silently answering
/// with mismatched terms.
pub const ANALYZER_VERSION: u32 = 3;

/// Words longer than this (in characters) are not weighed as words: they are runs of Latin
/// text or digits that jieba keeps whole, and the literal match already covers them.
const MAX_WORD_CHARS: usize = 24;

/// True for characters that are not worth a word token of their own.
fn is_separator(c: char) -> bool {
    c.is_whitespace() || c.is_ascii_punctuation() || is_cjk_punctuation(c) || c.is_control()
}

fn is_cjk_punctuation(c: char) -> bool {
    matches!(c as u32,
        0x3000..=0x303F | 0xFF00..=0xFF0F | 0xFF1A..=0xFF20 | 0xFF3B..=0xFF40 | 0xFF5B..=0xFF65
        | 0x2010..=0x206F | 0x00A0..=0x00BF | 0xFE30..=0xFE4F)
}

/// Builds the jieba segmenter with the built-in dictionary and an optional user dictionary
/// in jieba's format (`word [freq] [tag]` per line). Building the dictionary takes 100 to
/// 200 ms, so the plain one is built once per process and shared; a search without a user
/// dictionary uses [`jieba_for`] instead.
pub fn build_jieba(user_dictionary: Option<&str>) -> Result<Arc<Jieba>, jieba_rs::Error> {
    static PLAIN: std::sync::OnceLock<Arc<Jieba>> = std::sync::OnceLock::new();
    match user_dictionary {
        None => Ok(PLAIN.get_or_init(|| Arc::new(Jieba::new())).clone()),
        Some(dictionary) => {
            let mut jieba = Jieba::new();
            jieba.load_dict(&mut dictionary.as_bytes())?;
            Ok(Arc::new(jieba))
        }
    }
}

/// Emits every non-space character of a text, folded, as a token; its position is its index
/// in the folded text (spaces count, so text on either side of a space is not adjacent), and
/// its offsets are those of the original character it came from.
///
/// It folds as it goes, each character as [`fold_char`] does: the text it is given is the
/// page's as printed (or the query's as typed), and no folded copy of it is made.
///
/// Tokens are produced one at a time into a single reused [`Token`]: this channel sees one
/// token per character, so it must not allocate per token.
#[derive(Clone, Default)]
pub struct CharTokenizer;

impl CharTokenizer {
    /// Appends the char tokens of `text` to `tokens` (used to build queries).
    pub fn tokenize_into(text: &str, tokens: &mut Vec<Token>) {
        let mut stream = CharTokenStream::new(text);
        while stream.advance() {
            tokens.push(stream.token.clone());
        }
    }
}

/// The token stream of [`CharTokenizer`].
pub struct CharTokenStream<'a> {
    chars: std::str::CharIndices<'a>,
    folder: CharFolder,
    /// Folded characters of the last original character still to be emitted, last first
    /// (a character folds to several under NFKC, ㈱ to (株)).
    pending: Vec<char>,
    /// Byte range of the last original character.
    original: (usize, usize),
    /// Position the next folded character will take.
    position: usize,
    token: Token,
}

impl<'a> CharTokenStream<'a> {
    fn new(text: &'a str) -> Self {
        CharTokenStream {
            chars: text.char_indices(),
            folder: CharFolder::new(),
            pending: Vec::new(),
            original: (0, 0),
            position: 0,
            token: Token::default(),
        }
    }

    /// The next folded character, or `None` at the end of the text.
    #[inline]
    fn next_folded(&mut self) -> Option<char> {
        if let Some(folded) = self.pending.pop() {
            return Some(folded);
        }
        for (offset, c) in self.chars.by_ref() {
            self.original = (offset, offset + c.len_utf8());
            if let Some(folded) = self.folder.fold(c, &mut self.pending) {
                return Some(folded);
            }
        }
        None
    }
}

impl TokenStream for CharTokenStream<'_> {
    fn advance(&mut self) -> bool {
        while let Some(c) = self.next_folded() {
            let position = self.position;
            self.position += 1;
            // Every Unicode space is at or below U+3000: the Chinese characters after it,
            // most of the text, skip the table lookup.
            if c <= '\u{3000}' && c.is_whitespace() {
                continue;
            }
            self.token.text.clear();
            self.token.text.push(c);
            (self.token.offset_from, self.token.offset_to) = self.original;
            self.token.position = position;
            self.token.position_length = 1;
            return true;
        }
        false
    }

    fn token(&self) -> &Token {
        &self.token
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.token
    }
}

impl Tokenizer for CharTokenizer {
    type TokenStream<'a> = CharTokenStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> CharTokenStream<'a> {
        CharTokenStream::new(text)
    }
}

/// The words of a folded query part, in order, as jieba cuts it in search mode (a long word
/// also yields the dictionary words inside it, so an entry using only 人民 still shares a
/// word with 人民政府) and without its HMM, which would invent words for unknown runs and
/// then find no entry holding them. Punctuation and spaces are dropped, and so are runs too
/// long to be words.
pub fn query_words(jieba: &Jieba, folded: &str) -> Vec<String> {
    jieba
        .cut_for_search(folded, false)
        .into_iter()
        .map(|token| token.word)
        .filter(|word| !word.chars().all(is_separator) && word.chars().count() <= MAX_WORD_CHARS)
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_char_tokens_are_folded_and_spaces_keep_their_position() {
        let mut tokens = Vec::new();
        CharTokenizer::tokenize_into("貧 Ａ1", &mut tokens);
        let tokens: Vec<(String, usize)> =
            tokens.into_iter().map(|t| (t.text, t.position)).collect();
        assert_eq!(
            tokens,
            vec![("贫".into(), 0), ("a".into(), 2), ("1".into(), 3)]
        );
    }

    /// The tokens of a text are its folded text's non-space characters, each at its index
    /// in the folded text: what indexing and querying both rely on.
    fn tokens_of_the_folded_text(text: &str) -> Vec<(String, usize)> {
        fold_str(text)
            .chars()
            .enumerate()
            .filter(|(_, c)| !c.is_whitespace())
            .map(|(position, c)| (c.to_string(), position))
            .collect()
    }

    fn tokens(text: &str) -> Vec<Token> {
        let mut tokens = Vec::new();
        CharTokenizer::tokenize_into(text, &mut tokens);
        tokens
    }

    proptest::proptest! {
        /// Folding as the tokenizer reads gives the tokens of the folded text, whatever
        /// the characters fold to: another one (臺, Ａ), several (㈱, ﷺ, ﬁ), a space
        /// (U+3000), or themselves (U+200B, U+00AD, 々).
        #[test]
        fn tokens_are_those_of_the_folded_text(
            text in "[a-zＡ-Ｚ０-９臺灣扶贫年鑑 \u{3000}\t\n㈱①ﷺ\u{200B}\u{00AD}，。·…—ﬁ々〇𠀀-𠀃]{0,40}",
        ) {
            let folded: Vec<(String, usize)> =
                tokens(&text).into_iter().map(|t| (t.text, t.position)).collect();
            proptest::prop_assert_eq!(folded, tokens_of_the_folded_text(&text));
        }

        /// Each token's offsets are those of the original character it came from.
        #[test]
        fn token_offsets_are_the_original_characters(text in "[a-zＡ-Ｚ臺扶 ㈱①ﷺ]{0,30}") {
            for token in tokens(&text) {
                let original = &text[token.offset_from..token.offset_to];
                proptest::prop_assert_eq!(original.chars().count(), 1);
                proptest::prop_assert!(fold_str(original).contains(token.text.as_str()));
            }
        }
    }

    #[test]
    fn no_space_comes_after_the_ideographic_space() {
        let last_space = (0..=0x10_FFFF)
            .filter_map(char::from_u32)
            .filter(|c| c.is_whitespace())
            .max();
        assert_eq!(last_space, Some('\u{3000}'));
    }

    #[test]
    fn folded_traditional_queries_cut_like_simplified_ones() {
        let jieba = build_jieba(None).unwrap();
        let simplified = query_words(&jieba, &fold_str("易地扶贫搬迁工程，"));
        assert_eq!(
            query_words(&jieba, &fold_str("易地扶貧搬遷工程，")),
            simplified
        );
        assert!(simplified.contains(&"扶贫".to_string()), "{simplified:?}");
        assert!(!simplified.iter().any(|word| word.contains('，')));
    }
}
