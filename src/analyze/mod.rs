//! Text analysis shared by indexing and querying: folding and the two token channels.
//!
//! Text is folded once ([`fold_str`]: NFKC, lowercase, traditional → simplified) before it
//! reaches a tokenizer: ingest folds each entry once and hands the folded text to both
//! channels, and queries fold what the user typed the same way.
//!
//! * [`WordTokenizer`] cuts the folded text with jieba. Its terms carry the ranking (BM25 over
//!   words), and because jieba sees simplified, half-width text, traditional pages segment as
//!   well as simplified ones.
//! * [`CharTokenizer`] emits every folded character with its position. Phrase queries over
//!   it find any literal substring whatever jieba made of it; this channel is what makes the
//!   engine never miss what grep finds.
//!
//! The index keeps no offsets: snippets and highlights are cut from the stored original text
//! by folding it again ([`FoldedText`]), so they show the page as it was printed.

mod fold;

use std::sync::Arc;

use jieba_rs::Jieba;
use tantivy::tokenizer::{Token, TokenStream, Tokenizer};

pub use fold::{fold_char, fold_str, FoldedText};

/// Name under which [`WordTokenizer`] is registered on the index.
pub const WORD_TOKENIZER: &str = "yearbook_words";
/// Name under which [`CharTokenizer`] is registered on the index.
pub const CHAR_TOKENIZER: &str = "yearbook_chars";

/// Version of the analysis chain. Bump it whenever folding or tokenization changes, so that
/// an index built by another version is detected and rebuilt instead of silently answering
/// with mismatched terms.
pub const ANALYZER_VERSION: u32 = 2;

/// Words longer than this (in bytes) are not indexed as words: they are runs of Latin text or
/// digits that jieba keeps whole. The character channel still finds them.
const MAX_WORD_BYTES: usize = 64;

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
/// in jieba's format (`word [freq] [tag]` per line). Building the dictionary takes about
/// 100 ms, so the plain one is built once per process and shared.
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

/// Tokens collected for one field value, handed to tantivy one at a time.
pub struct CollectedTokens<'a> {
    tokens: &'a mut [Token],
    next: usize,
}

impl TokenStream for CollectedTokens<'_> {
    fn advance(&mut self) -> bool {
        self.next += 1;
        self.next <= self.tokens.len()
    }

    fn token(&self) -> &Token {
        &self.tokens[self.next - 1]
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.next - 1]
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
            if c.is_whitespace() {
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

/// Cuts a folded text with jieba into word tokens.
#[derive(Clone)]
pub struct WordTokenizer {
    jieba: Arc<Jieba>,
    tokens: Vec<Token>,
}

impl WordTokenizer {
    pub fn new(jieba: Arc<Jieba>) -> Self {
        WordTokenizer {
            jieba,
            tokens: Vec::new(),
        }
    }
}

impl Tokenizer for WordTokenizer {
    type TokenStream<'a> = CollectedTokens<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> CollectedTokens<'a> {
        // Token strings are reused from the previous value: one allocation per new word
        // slot, not per word.
        let mut used = 0;
        for word in self.jieba.cut(text, false) {
            if word.word.len() > MAX_WORD_BYTES || word.word.chars().all(is_separator) {
                continue;
            }
            if used == self.tokens.len() {
                self.tokens.push(Token::default());
            }
            let token = &mut self.tokens[used];
            token.offset_from = word.byte_start;
            token.offset_to = word.byte_end;
            token.position = used;
            token.position_length = 1;
            token.text.clear();
            token.text.push_str(word.word);
            used += 1;
        }
        CollectedTokens {
            tokens: &mut self.tokens[..used],
            next: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(mut tokenizer: impl Tokenizer, text: &str) -> Vec<(String, usize, usize, usize)> {
        let mut stream = tokenizer.token_stream(text);
        let mut out = Vec::new();
        while stream.advance() {
            let token = stream.token();
            out.push((
                token.text.clone(),
                token.position,
                token.offset_from,
                token.offset_to,
            ));
        }
        out
    }

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
    fn folded_traditional_text_segments_like_simplified() {
        let jieba = build_jieba(None).unwrap();
        let words = |text: &str| -> Vec<String> {
            texts(WordTokenizer::new(jieba.clone()), &fold_str(text))
                .into_iter()
                .map(|t| t.0)
                .collect()
        };
        let simplified = words("易地扶贫搬迁工程");
        assert_eq!(words("易地扶貧搬遷工程"), simplified);
        assert!(simplified.contains(&"扶贫".to_string()));
    }
}
