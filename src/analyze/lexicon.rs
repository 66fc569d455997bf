//! jieba's dictionary, embedded, and a jieba holding only the words one query can use.
//!
//! Building jieba with its whole dictionary (349,045 words) takes 100 to 200 ms, more than
//! the rest of a one-shot search. But jieba cuts a text using only the dictionary words that
//! occur inside it, with their frequencies and the dictionary's frequency total. So
//! [`jieba_for`] looks up every substring of the query in the sorted dictionary text and
//! builds a jieba of just those words, plus one entry no query contains carrying the rest of
//! the total: it cuts that query exactly as the full dictionary does, in a fraction of a
//! millisecond.
//!
//! `jieba-dict.txt` is the dictionary jieba-rs 0.11 embeds (`src/data/dict.txt`, MIT licence,
//! from the original jieba project), byte for byte. It is sorted by word, which
//! [`frequency`] relies on; a test checks the order and that cuts agree with
//! `Jieba::new()`.

use jieba_rs::Jieba;

/// The dictionary: `word frequency tag` lines, sorted by word.
static DICTIONARY: &str = include_str!("jieba-dict.txt");

/// Longest dictionary word, in characters.
const LONGEST_WORD_CHARS: usize = 16;

/// The dictionary's frequency of `word`, found by bisecting the sorted text.
fn frequency(word: &str) -> Option<usize> {
    let bytes = DICTIONARY.as_bytes();
    let (mut low, mut high) = (0, bytes.len());
    while low < high {
        let middle = low + (high - low) / 2;
        let start = bytes[..middle]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |newline| newline + 1);
        let end = bytes[start..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(bytes.len(), |newline| start + newline);
        let line = &DICTIONARY[start..end];
        let mut fields = line.split(' ');
        let entry = fields.next().unwrap_or("");
        match entry.cmp(word) {
            std::cmp::Ordering::Equal => return fields.next()?.parse().ok(),
            std::cmp::Ordering::Less => low = end + 1,
            std::cmp::Ordering::Greater => high = start,
        }
    }
    None
}

/// Sum of the dictionary's frequencies, which jieba divides every word's frequency by.
/// Summing the file takes longer than the rest of a search, so the sum is written here and a
/// test checks it.
const TOTAL_FREQUENCY: usize = 60_101_964;

/// A jieba that cuts `text` exactly as one built with the whole dictionary would.
pub fn jieba_for(text: &str) -> Jieba {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut jieba = Jieba::empty();
    let mut found = 0;
    for (index, &(start, _)) in chars.iter().enumerate() {
        for length in 1..=LONGEST_WORD_CHARS.min(chars.len() - index) {
            let end = chars
                .get(index + length)
                .map_or(text.len(), |&(offset, _)| offset);
            let word = &text[start..end];
            if let Some(frequency) = frequency(word) {
                if !jieba.has_word(word) {
                    jieba.add_word(word, Some(frequency), None);
                    found += frequency;
                }
            }
        }
    }
    // The rest of the total, on an entry `text` does not contain, so that every word's share
    // of the total is what it is in the full dictionary.
    let mut filler = String::from('\u{F8FF}');
    while text.contains(&filler) {
        filler.push('\u{F8FF}');
    }
    jieba.add_word(
        &filler,
        Some(TOTAL_FREQUENCY.saturating_sub(found).max(1)),
        None,
    );
    jieba
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dictionary_is_sorted_its_words_short_and_its_total_right() {
        let mut previous = "";
        for line in DICTIONARY.lines() {
            let word = line.split(' ').next().unwrap();
            assert!(previous < word, "{previous} then {word}");
            assert!(word.chars().count() <= LONGEST_WORD_CHARS, "{word}");
            previous = word;
        }
        let total: usize = DICTIONARY
            .lines()
            .map(|line| line.split(' ').nth(1).unwrap().parse::<usize>().unwrap())
            .sum();
        assert_eq!(total, TOTAL_FREQUENCY);
        assert_eq!(frequency("扶贫"), Some(717));
        assert_eq!(frequency("1号店"), Some(3));
        assert_eq!(frequency("不是一个词吧"), None);
    }

    #[test]
    fn cuts_like_the_whole_dictionary() {
        let whole = Jieba::new();
        let texts = [
            "易地扶贫搬迁工程",
            "积极推进企业改革，转换和完善经营机制",
            "《战国无双3》是由哪两个公司合作开发的？",
            "中华人民共和国国务院关于全面建成小康社会的决定",
            "南京市长江大桥",
            "他司职什么位置？gdp增长2016年1.2万",
            "坚持以人民为中心的发展思想",
        ];
        for text in texts {
            let sparse = jieba_for(text);
            let words = |jieba: &Jieba, search_mode: bool| -> Vec<String> {
                let tokens = if search_mode {
                    jieba.cut_for_search(text, false)
                } else {
                    jieba.cut(text, false)
                };
                tokens
                    .into_iter()
                    .map(|token| token.word.to_string())
                    .collect()
            };
            for search_mode in [true, false] {
                assert_eq!(
                    words(&sparse, search_mode),
                    words(&whole, search_mode),
                    "{text}, search mode {search_mode}"
                );
            }
        }
    }
}
