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

fn traditional_to_simplified(c: char) -> char {
    let code = c as u32;
    if (DENSE_START..DENSE_END).contains(&code) {
        let mapped = DENSE[(code - DENSE_START) as usize];
        return char::from_u32(mapped).unwrap_or(c);
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
    } else {
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
}

/// Folds a whole string (used for queries and for comparing texts).
pub fn fold_str(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        fold_char(c, &mut |f| out.push(f));
    }
    out
}

/// A folded copy of a text that remembers where each folded byte came from.
#[derive(Debug, Default, Clone)]
pub struct FoldedText {
    /// The folded text.
    pub text: String,
    /// For each byte of `text`: the start of the original character it came from.
    origin_start: Vec<u32>,
    /// For each byte of `text`: the end of the original character it came from.
    origin_end: Vec<u32>,
}

impl FoldedText {
    /// Folds `original`, reusing this value's buffers.
    pub fn fold_from(&mut self, original: &str) {
        self.text.clear();
        self.origin_start.clear();
        self.origin_end.clear();
        for (start, c) in original.char_indices() {
            let end = (start + c.len_utf8()) as u32;
            let start = start as u32;
            let (text, origin_start, origin_end) =
                (&mut self.text, &mut self.origin_start, &mut self.origin_end);
            fold_char(c, &mut |f| {
                text.push(f);
                for _ in 0..f.len_utf8() {
                    origin_start.push(start);
                    origin_end.push(end);
                }
            });
        }
    }

    /// Maps a byte range of the folded text to the byte range of the original text.
    pub fn original_range(&self, folded_start: usize, folded_end: usize) -> (usize, usize) {
        debug_assert!(folded_start < folded_end);
        (
            self.origin_start[folded_start] as usize,
            self.origin_end[folded_end - 1] as usize,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn keeps_original_ranges() {
        let mut folded = FoldedText::default();
        folded.fold_from("ａ臺b");
        assert_eq!(folded.text, "a台b");
        // "台" is folded bytes 1..4 and came from original bytes 3..6.
        assert_eq!(folded.original_range(1, 4), (3, 6));
        assert_eq!(folded.original_range(0, 5), (0, 7));
    }
}
