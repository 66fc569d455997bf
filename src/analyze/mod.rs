//! Text analysis shared by indexing and querying: folding, the character channel, and the
//! words of a query.
//!
//! Text is folded once ([`fold_str`]: NFKC, lowercase, traditional → simplified) before it
//! reaches a tokenizer: ingest folds each entry once, and queries fold what the user typed
//! the same way.
//!
//! * [`CharTokenizer`] emits every folded character with its position. It is the only
//!   channel the index holds: a phrase query over it finds any literal substring, which is
//!   what makes the engine never miss what grep finds, and a word of the query is found as
//!   the phrase of its characters.
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

/// Emits every non-space character of a folded text as a token; its position is its index
/// in the text (spaces count, so text on either side of a space is not adjacent).
///
/// Tokens are produced one at a time into a single reused [`Token`]: this channel sees one
/// token per character, so it must not allocate per token.
#[derive(Clone, Default)]
pub struct CharTokenizer;

impl CharTokenizer {
    /// Folds `text` and appends its char tokens to `tokens` (used to build queries).
    pub fn tokenize_into(text: &str, tokens: &mut Vec<Token>) {
        let folded = fold_str(text);
        let mut stream = CharTokenStream::new(&folded);
        while stream.advance() {
            tokens.push(stream.token.clone());
        }
    }
}

/// The token stream of [`CharTokenizer`].
pub struct CharTokenStream<'a> {
    chars: std::str::CharIndices<'a>,
    /// Position the next character will take.
    position: usize,
    token: Token,
}

impl<'a> CharTokenStream<'a> {
    fn new(text: &'a str) -> Self {
        CharTokenStream {
            chars: text.char_indices(),
            position: 0,
            token: Token::default(),
        }
    }
}

impl TokenStream for CharTokenStream<'_> {
    fn advance(&mut self) -> bool {
        for (offset, c) in self.chars.by_ref() {
            let position = self.position;
            self.position += 1;
            // Every Unicode space is at or below U+3000: the Chinese characters after it,
            // most of the text, skip the table lookup.
            if c <= '\u{3000}' && c.is_whitespace() {
                continue;
            }
            self.token.text.clear();
            self.token.text.push(c);
            self.token.offset_from = offset;
            self.token.offset_to = offset + c.len_utf8();
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
