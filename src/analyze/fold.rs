//! Character folding shared by indexing and querying.
//!
//! Folding maps each character of the original text to zero or more folded characters:
//! NFKC (full-width ＡＢＣ１２３ → ABC123, compatibility ideographs → unified ones), Latin
//! lowercase, and traditional → simplified (a table built from OpenCC by `build.rs`).
//! It is applied character by character, never to phrases, so that it is a homomorphism on
//! strings: a folded query is a substring of a folded text exactly when the query matches
//! the text literally up to folding. That is what grep parity rests on. The original text is
//! never rewritten; [`FoldedText`] keeps, for every folded byte, the byte range of the
//! original character it came from, so highlights land on the characters as printed.

use std::sync::atomic::{AtomicU32, Ordering};

use unicode_normalization::UnicodeNormalization;

include!(concat!(env!("OUT_DIR"), "/t2s_table.rs"));

/// First code point of the dense lookup table (CJK Extension A).
const DENSE_START: u32 = 0x3400;
/// One past the last code point of the dense table (end of the unified ideographs block).
const DENSE_END: u32 = 0xA000;

/// The common ideographs, looked up in O(1): for each code point in
/// `DENSE_START..DENSE_END`, the simplified code point (or itself).
static DENSE: std::sync::LazyLock<Vec<u32>> = std::sync::LazyLock::new(|| {
    let mut table: Vec<u32> = (DENSE_START..DENSE_END).collect();
    for &(from, to) in T2S_TABLE {
        let code = from as u32;
        if (DENSE_START..DENSE_END).contains(&code) {
            table[(code - DENSE_START) as usize] = to as u32;
        }
    }
    table
});

/// The simplified form of `c`, a code point of the dense table, read from `dense` (the
/// table itself: a caller folding many characters takes it once).
#[inline]
fn dense_simplified(dense: &[u32], c: char) -> char {
    char::from_u32(dense[(c as u32 - DENSE_START) as usize]).unwrap_or(c)
}

fn traditional_to_simplified(c: char) -> char {
    if (DENSE_START..DENSE_END).contains(&(c as u32)) {
        return dense_simplified(&DENSE, c);
    }
    match T2S_TABLE.binary_search_by_key(&c, |&(from, _)| from) {
        Ok(index) => T2S_TABLE[index].1,
        Err(_) => c,
    }
}

fn is_common_ideograph(c: char) -> bool {
    matches!(c as u32, 0x3400..=0x4DBF | 0x4E00..=0x9FFF)
}

/// Folds one character, handing each folded character to `emit`.
///
/// ```
/// let mut out = String::new();
/// for c in "ＡＢ１２臺灣 x".chars() {
///     yearbook::analyze::fold_char(c, &mut |f| out.push(f));
/// }
/// assert_eq!(out, "ab12台湾 x");
/// ```
#[inline]
pub fn fold_char(c: char, emit: &mut impl FnMut(char)) {
    if c.is_ascii() {
        emit(c.to_ascii_lowercase());
    } else if is_common_ideograph(c) {
        emit(traditional_to_simplified(c));
    } else if let Some(slot) = punctuation_slot(c) {
        // Chinese text is about a tenth punctuation and full-width forms, and NFKC is the slow
        // path: each of these characters is folded the slow way once per process, and
        // remembered when it folds to exactly one character.
        match PUNCTUATION[slot].load(Ordering::Relaxed) {
            UNKNOWN => {
                let mut folded = [None, None];
                let mut count = 0;
                fold_slowly(c, &mut |f| {
                    if count < 2 {
                        folded[count] = Some(f);
                    }
                    count += 1;
                    emit(f);
                });
                let remembered = match (count, folded[0]) {
                    (1, Some(single)) => single as u32,
                    _ => SEVERAL,
                };
                PUNCTUATION[slot].store(remembered, Ordering::Relaxed);
            }
            SEVERAL => fold_slowly(c, emit),
            single => emit(char::from_u32(single).expect("stored from a char")),
        }
    } else {
        fold_slowly(c, emit);
    }
}

/// NFKC, then lowercase, then traditional → simplified.
fn fold_slowly(c: char, emit: &mut impl FnMut(char)) {
    for normalized in std::iter::once(c).nfkc() {
        if normalized.is_ascii() {
            emit(normalized.to_ascii_lowercase());
        } else if normalized.is_uppercase() {
            for lower in normalized.to_lowercase() {
                emit(lower);
            }
        } else {
            emit(traditional_to_simplified(normalized));
        }
    }
}

/// Not folded yet in this process.
const UNKNOWN: u32 = u32::MAX;
/// Folds to zero or several characters: always folded the slow way.
const SEVERAL: u32 = u32::MAX - 1;

/// The blocks of punctuation and forms Chinese text is full of: general punctuation
/// (“”‘’—…), CJK symbols and punctuation (、。《》【】), vertical and small forms, and
/// half-/full-width forms (，：；（）０-９Ａ-Ｚ).
const PUNCTUATION_BLOCKS: [(u32, u32); 4] = [
    (0x2000, 0x206F),
    (0x3000, 0x303F),
    (0xFE10, 0xFE6F),
    (0xFF00, 0xFFEF),
];
const PUNCTUATION_SLOTS: usize = 0x70 + 0x40 + 0x60 + 0xF0;

static PUNCTUATION: [AtomicU32; PUNCTUATION_SLOTS] =
    [const { AtomicU32::new(UNKNOWN) }; PUNCTUATION_SLOTS];

fn punctuation_slot(c: char) -> Option<usize> {
    let code = c as u32;
    let mut base = 0;
    for (first, last) in PUNCTUATION_BLOCKS {
        if (first..=last).contains(&code) {
            return Some(base + (code - first) as usize);
        }
        base += (last - first + 1) as usize;
    }
    None
}

/// Folds a whole string (used for queries and for comparing texts, and on every entry that
/// ingest indexes).
pub fn fold_str(text: &str) -> String {
    // Most characters are common ideographs: their table is looked up here once per text,
    // not once per character as `fold_char` does.
    let dense: &[u32] = &DENSE;
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if is_common_ideograph(c) {
            out.push(dense_simplified(dense, c));
        } else {
            fold_char(c, &mut |f| out.push(f));
        }
    }
    out
}

/// Folds text one character at a time for a consumer that takes one folded character at a
/// time (the character tokenizer): the same characters as [`fold_str`], without building the
/// folded string.
#[derive(Clone, Copy)]
pub(crate) struct CharFolder {
    dense: &'static [u32],
}

impl CharFolder {
    pub(crate) fn new() -> CharFolder {
        CharFolder { dense: &DENSE }
    }

    /// The first character `c` folds to (`None` when it folds to nothing); any further ones
    /// are pushed on `rest` last first, so that popping `rest` yields them in order.
    #[inline]
    pub(crate) fn fold(self, c: char, rest: &mut Vec<char>) -> Option<char> {
        if is_common_ideograph(c) {
            return Some(dense_simplified(self.dense, c));
        }
        let mut first = None;
        let pushed_from = rest.len();
        fold_char(c, &mut |f| match first {
            None => first = Some(f),
            Some(_) => rest.push(f),
        });
        rest[pushed_from..].reverse();
        first
    }
}

/// A folded copy of a text that remembers where each folded byte came from. The text can be
/// folded a prefix at a time ([`FoldedText::start`], [`FoldedText::fold_until`]): a snippet
/// needs the text only up to its window, and a long entry's first match is usually near its
/// start.
#[derive(Debug, Default, Clone)]
pub struct FoldedText {
    /// The folded text (of the original's first [`FoldedText::folded_len`] bytes).
    pub text: String,
    /// For each byte of `text`: the start of the original character it came from.
    origin: Vec<u32>,
    /// How many bytes of the original are folded: the end of the last folded character.
    folded_upto: u32,
    /// Length of the original text.
    original_len: u32,
}

impl FoldedText {
    /// Starts over on `original`, with nothing of it folded yet.
    pub fn start(&mut self, original: &str) {
        self.text.clear();
        self.origin.clear();
        self.folded_upto = 0;
        self.original_len = original.len() as u32;
    }

    /// Folds `original` (the text given to [`FoldedText::start`]) on to byte `end`, or to the
    /// end of the character `end` falls in.
    pub fn fold_until(&mut self, original: &str, end: usize) {
        let mut end = end.min(original.len());
        while !original.is_char_boundary(end) {
            end += 1;
        }
        let from = self.folded_upto as usize;
        if end <= from {
            return;
        }
        self.origin.reserve(end - from + 8);
        for (offset, c) in original[from..end].char_indices() {
            let start = (from + offset) as u32;
            let (text, origin) = (&mut self.text, &mut self.origin);
            fold_char(c, &mut |f| {
                text.push(f);
                origin.extend(std::iter::repeat_n(start, f.len_utf8()));
            });
        }
        self.folded_upto = end as u32;
    }

    /// How many bytes of the original are folded.
    pub fn folded_len(&self) -> usize {
        self.folded_upto as usize
    }

    /// True when the whole original is folded.
    pub fn is_complete(&self) -> bool {
        self.folded_upto == self.original_len
    }

    /// Maps a byte range of the folded text to the byte range of the original text.
    pub fn original_range(&self, folded_start: usize, folded_end: usize) -> (usize, usize) {
        debug_assert!(folded_start < folded_end);
        let last = self.origin[folded_end - 1];
        // The original character `last` starts ends where the next one starts.
        let end = self.origin[folded_end..]
            .iter()
            .copied()
            .find(|&start| start != last)
            .unwrap_or(self.folded_upto);
        (self.origin[folded_start] as usize, end as usize)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// Folding a text a prefix at a time, with cuts anywhere (inside a character too),
        /// gives the same folded text and the same original ranges as folding it whole.
        #[test]
        fn folding_by_prefixes_is_folding_whole(
            text in "[a-zＡ-Ｚ０-９臺灣扶贫 ㈱①\n]{0,40}",
            cuts in prop::collection::vec(0usize..130, 0..6),
        ) {
            let mut whole = FoldedText::default();
            whole.start(&text);
            whole.fold_until(&text, text.len());
            let mut parts = FoldedText::default();
            parts.start(&text);
            let mut cuts = cuts;
            cuts.sort_unstable();
            for cut in cuts {
                parts.fold_until(&text, cut);
                prop_assert!(whole.text.starts_with(&parts.text));
            }
            parts.fold_until(&text, text.len());
            prop_assert!(parts.is_complete());
            prop_assert_eq!(&parts.text, &whole.text);
            for end in 1..=whole.text.len() {
                if whole.text.is_char_boundary(end) {
                    prop_assert_eq!(parts.original_range(0, end), whole.original_range(0, end));
                }
            }
        }
    }

    #[test]
    fn folds_width_case_and_script() {
        assert_eq!(fold_str("易地扶貧搬遷"), "易地扶贫搬迁");
        assert_eq!(fold_str("２０１６年ＡＢＣ"), "2016年abc");
        assert_eq!(fold_str("5G網絡"), "5g网络");
        assert_eq!(fold_str("臺灣統計年鑑"), "台湾统计年鉴");
        // Characters standard in simplified text are left alone.
        assert_eq!(fold_str("什么著名抬头"), "什么著名抬头");
        assert_eq!(fold_str("什麼"), "什么");
    }

    #[test]
    fn whole_strings_fold_as_their_characters_do() {
        let all: String = (0..=0x2_FFFF).filter_map(char::from_u32).collect();
        let mut by_character = String::new();
        for c in all.chars() {
            fold_char(c, &mut |f| by_character.push(f));
        }
        assert_eq!(fold_str(&all), by_character);
    }

    #[test]
    fn punctuation_folds_the_same_from_the_remembered_table() {
        for code in PUNCTUATION_BLOCKS
            .iter()
            .flat_map(|&(first, last)| first..=last)
        {
            let Some(c) = char::from_u32(code) else {
                continue;
            };
            let mut slow = String::new();
            fold_slowly(c, &mut |f| slow.push(f));
            // Twice: the first call fills the table, the second reads it.
            for _ in 0..2 {
                let mut fast = String::new();
                fold_char(c, &mut |f| fast.push(f));
                assert_eq!(fast, slow, "U+{code:04X}");
            }
        }
        assert_eq!(fold_str("，（２０１６）“年”"), ",(2016)“年”");
    }

    #[test]
    fn keeps_original_ranges() {
        let mut folded = FoldedText::default();
        folded.start("ａ臺b");
        folded.fold_until("ａ臺b", "ａ臺b".len());
        assert_eq!(folded.text, "a台b");
        // "台" is folded bytes 1..4 and came from original bytes 3..6.
        assert_eq!(folded.original_range(1, 4), (3, 6));
        assert_eq!(folded.original_range(0, 5), (0, 7));
    }
}
