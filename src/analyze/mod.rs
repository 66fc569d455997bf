//! Text analysis shared by indexing and querying: folding and the two token channels.
//!
//! Every entry is indexed through two tokenizers over the same folded text:
//!
//! * [`WordTokenizer`] cuts the folded text with jieba. Its terms carry the ranking (BM25 over
//!   words), and because jieba sees simplified, half-width text, traditional pages segment as
//!   well as simplified ones.
//! * [`CharTokenizer`] emits every folded character with its position. Phrase queries over
//!   it find any literal substring whatever jieba made of it; this channel is what makes the
//!   engine never miss what grep finds.
//!
//! Both report offsets into the *original* text, so snippets and highlights show the page as
//! it was printed.

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

/// Emits every folded, non-space character as a token; its position is its index in the
/// folded text (spaces count, so text on either side of a space is not adjacent).
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
    text: &'a str,
    /// Byte offset of the next original character to fold.
    next: usize,
    /// Folded characters of the current original character not yet emitted.
    pending: [char; 20],
    pending_len: usize,
    pending_at: usize,
    /// Range of the original character the pending folded characters came from.
    origin: (usize, usize),
    /// Position the next folded character will take.
    position: usize,
    token: Token,
}

impl<'a> CharTokenStream<'a> {
    fn new(text: &'a str) -> Self {
        CharTokenStream {
            text,
            next: 0,
            pending: ['\0'; 20],
            pending_len: 0,
            pending_at: 0,
            origin: (0, 0),
            position: 0,
            token: Token::default(),
        }
    }
}

impl TokenStream for CharTokenStream<'_> {
    fn advance(&mut self) -> bool {
        loop {
            while self.pending_at < self.pending_len {
                let folded = self.pending[self.pending_at];
                self.pending_at += 1;
                let position = self.position;
                self.position += 1;
                if folded.is_whitespace() {
                    continue;
                }
                self.token.text.clear();
                self.token.text.push(folded);
                self.token.offset_from = self.origin.0;
                self.token.offset_to = self.origin.1;
                self.token.position = position;
                self.token.position_length = 1;
                return true;
            }
            let Some(c) = self.text[self.next..].chars().next() else {
                return false;
            };
            let start = self.next;
            self.next += c.len_utf8();
            self.origin = (start, self.next);
            self.pending_len = 0;
            self.pending_at = 0;
            let (pending, len) = (&mut self.pending, &mut self.pending_len);
            fold_char(c, &mut |folded| {
                if *len < pending.len() {
                    pending[*len] = folded;
                    *len += 1;
                }
            });
        }
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

/// Cuts the folded text with jieba and reports each word with its original offsets.
#[derive(Clone)]
pub struct WordTokenizer {
    jieba: Arc<Jieba>,
    folded: FoldedText,
    tokens: Vec<Token>,
}

impl WordTokenizer {
    pub fn new(jieba: Arc<Jieba>) -> Self {
        WordTokenizer {
            jieba,
            folded: FoldedText::default(),
            tokens: Vec::new(),
        }
    }
}

impl Tokenizer for WordTokenizer {
    type TokenStream<'a> = CollectedTokens<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> CollectedTokens<'a> {
        self.folded.fold_from(text);
        // Token strings are reused from the previous value: one allocation per new word
        // slot, not per word.
        let mut used = 0;
        for word in self.jieba.cut(&self.folded.text, false) {
            if word.word.len() > MAX_WORD_BYTES || word.word.chars().all(is_separator) {
                continue;
            }
            let (offset_from, offset_to) =
                self.folded.original_range(word.byte_start, word.byte_end);
            if used == self.tokens.len() {
                self.tokens.push(Token::default());
            }
            let token = &mut self.tokens[used];
            token.offset_from = offset_from;
            token.offset_to = offset_to;
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
    fn char_tokens_fold_and_keep_offsets() {
        let tokens = texts(CharTokenizer, "貧 Ａ1");
        assert_eq!(
            tokens,
            vec![
                ("贫".into(), 0, 0, 3),
                ("a".into(), 2, 4, 7),
                ("1".into(), 3, 7, 8)
            ]
        );
    }

    #[test]
    fn word_tokens_segment_traditional_like_simplified() {
        let jieba = build_jieba(None).unwrap();
        let traditional: Vec<String> = texts(WordTokenizer::new(jieba.clone()), "易地扶貧搬遷工程")
            .into_iter()
            .map(|t| t.0)
            .collect();
        let simplified: Vec<String> = texts(WordTokenizer::new(jieba), "易地扶贫搬迁工程")
            .into_iter()
            .map(|t| t.0)
            .collect();
        assert_eq!(traditional, simplified);
        assert!(simplified.contains(&"扶贫".to_string()));
    }
}
