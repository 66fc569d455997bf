//! Turns the bytes of a page into text, and says which encoding that took.
//!
//! Order: a byte-order mark; else valid UTF-8 wins; else the charset the page declares
//! (`<meta charset>`, `http-equiv`, an XML declaration) if it decodes without errors; else
//! chardetng's guess. chardetng is never given a top-level-domain hint: with `cn` it reads
//! Big5 as error-free GBK mojibake. Binary files and text that cannot be decoded are
//! refused with a reason, which ingest reports and counts.

use chardetng::{EncodingDetector, Iso2022JpDetection, Utf8Detection};
use encoding_rs::{Encoding, UTF_8};

/// Decoded text and how it was decoded.
#[derive(Debug)]
pub struct Decoded {
    pub text: String,
    /// WHATWG name of the encoding used (e.g. "UTF-8", "GBK", "Big5").
    pub encoding: &'static str,
    /// How the encoding was chosen: "bom", "utf-8", "declared" or "detected".
    pub how: &'static str,
    /// The charset the page declared when it was overruled (it did not decode, or decoded
    /// to mojibake), e.g. "GBK" for Big5 bytes under `<meta charset=gb2312>`.
    pub wrong_declaration: Option<&'static str>,
}

/// Why a page could not be decoded.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DecodeError {
    #[error("binary file (NUL bytes), not a page")]
    Binary,
    #[error("undecodable text: {replaced} of {chars} characters invalid in {encoding}")]
    Undecodable {
        encoding: &'static str,
        replaced: usize,
        chars: usize,
    },
}

/// Finds the charset a page declares in its first 4 KiB.
pub fn declared_charset(bytes: &[u8]) -> Option<&'static Encoding> {
    let head = &bytes[..bytes.len().min(4096)];
    let lower: Vec<u8> = head.iter().map(|b| b.to_ascii_lowercase()).collect();
    for needle in [&b"charset="[..], &b"encoding="[..]] {
        let mut from = 0;
        while let Some(found) = find(&lower[from..], needle) {
            let start = from + found + needle.len();
            let rest = &head[start..];
            let rest = rest
                .strip_prefix(b"\"")
                .or_else(|| rest.strip_prefix(b"'"))
                .unwrap_or(rest);
            let end = rest
                .iter()
                .position(|b| !(b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_'))
                .unwrap_or(rest.len());
            if let Some(encoding) = Encoding::for_label(&rest[..end]) {
                return Some(encoding);
            }
            from = start;
        }
    }
    None
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

/// Decodes a page's bytes.
pub fn decode(bytes: &[u8]) -> Result<Decoded, DecodeError> {
    if bytes[..bytes.len().min(8192)].contains(&0) && Encoding::for_bom(bytes).is_none() {
        return Err(DecodeError::Binary);
    }
    if let Some((encoding, _)) = Encoding::for_bom(bytes) {
        let (text, _, _) = encoding.decode(bytes);
        return checked(text.into_owned(), encoding, "bom");
    }
    // Most pages are UTF-8, and checking it is a pass over every byte: simdutf8 makes it
    // several times cheaper than the standard library's check.
    if let Ok(text) = simdutf8::basic::from_utf8(bytes) {
        return Ok(Decoded {
            text: text.to_string(),
            encoding: UTF_8.name(),
            how: "utf-8",
            wrong_declaration: None,
        });
    }
    let declared = declared_charset(bytes);
    let legacy = declared.filter(|&encoding| encoding != UTF_8);
    // Each reading is made at most once: the declared one, and the detector's when needed.
    let own = legacy.map(|encoding| encoding.decode_without_bom_handling(bytes));
    let detection = std::cell::OnceCell::new();
    let detected = || {
        detection.get_or_init(|| {
            let encoding = detect(bytes);
            let (text, had_errors) = encoding.decode_without_bom_handling(bytes);
            (encoding, text, had_errors)
        })
    };
    if let (Some(encoding), Some((text, false))) = (legacy, &own) {
        // Legacy CJK encodings accept each other's bytes without errors (Big5 read as GBK
        // is valid mojibake): text made of uncommon characters is checked against the
        // detector, and the reading made of common characters wins.
        let overruled = commonness(text, 600) < SUSPICIOUS && {
            let (other_encoding, other, other_errors) = detected();
            *other_encoding != encoding
                && !other_errors
                && commonness(other, 4000) > commonness(text, 4000) + 0.2
        };
        if !overruled {
            let (text, _) = own.expect("matched above");
            return Ok(Decoded {
                text: text.into_owned(),
                encoding: encoding.name(),
                how: "declared",
                wrong_declaration: None,
            });
        }
    }
    let (detected_encoding, detected_text, _) = detected();
    if let (Some(encoding), Some((text, _))) = (legacy, &own) {
        // A few stray bytes in a page that is otherwise what it says: keep the declared
        // reading unless the detector's is clearly better.
        let broken = text.chars().filter(|&c| c == '\u{FFFD}').count();
        if encoding != *detected_encoding
            && (broken <= 8 || broken * 50 <= text.chars().count())
            && commonness(text, 4000) + 0.2 >= commonness(detected_text, 4000)
        {
            return checked(text.to_string(), encoding, "declared");
        }
    }
    let mut decoded = checked(detected_text.to_string(), detected_encoding, "detected")?;
    decoded.wrong_declaration = declared
        .filter(|&e| e != *detected_encoding)
        .map(Encoding::name);
    Ok(decoded)
}

/// chardetng's guess, never with a top-level-domain hint, from the start of the page: the
/// chunks up to its first [`DETECTION_NON_ASCII`] non-ASCII bytes.
fn detect(bytes: &[u8]) -> &'static Encoding {
    let mut detector = EncodingDetector::new(Iso2022JpDetection::Deny);
    let mut non_ascii = 0;
    let mut chunks = bytes.chunks(1024).peekable();
    while let Some(chunk) = chunks.next() {
        // `last` only with the page's true end: a prefix ends where the page goes on.
        detector.feed(chunk, chunks.peek().is_none());
        non_ascii += chunk.iter().filter(|byte| !byte.is_ascii()).count();
        if non_ascii >= DETECTION_NON_ASCII {
            break;
        }
    }
    detector.guess(None, Utf8Detection::Allow)
}

/// How much of a page chardetng reads: about a thousand Chinese characters. Reading whole
/// pages was 5.7% of an ingest's CPU (make-shelf 50 MB, where one page in forty is legacy
/// text without a declared charset). Over the 4,092 legacy pages of the 200 MB shelf and the
/// real GB2312 and Big5 pages of `../shared`, guesses from the first 512 non-ASCII bytes
/// were already those from whole pages.
const DETECTION_NON_ASCII: usize = 2048;

/// Below this share of common characters a declared decoding is checked (real text in
/// either script scores about 0.9, mojibake about 0.3).
const SUSPICIOUS: f64 = 0.7;

/// The share of a text's first `sample` non-ASCII characters that are common: CJK punctuation
/// and full-width forms, or ideographs of the frequent levels of GB2312 (level 1) or Big5
/// (level 1). Mojibake is mostly kana, Greek, box drawing, private-use and rare ideographs.
pub fn commonness(text: &str, sample: usize) -> f64 {
    let mut seen = 0usize;
    let mut common = 0usize;
    for c in text.chars().filter(|c| !c.is_ascii()).take(sample) {
        seen += 1;
        let frequent = match c as u32 {
            0x3000..=0x303F | 0xFF00..=0xFFEF | 0x2010..=0x2027 | 0xA0 => true,
            0x4E00..=0x9FFF => in_level_one(c),
            _ => false,
        };
        common += usize::from(frequent);
    }
    if seen == 0 {
        1.0
    } else {
        common as f64 / seen as f64
    }
}

/// True for an ideograph of level 1 of GB2312 (the 3,755 most frequent simplified characters)
/// or of Big5 (the 5,401 most frequent traditional ones).
fn in_level_one(c: char) -> bool {
    static TABLE: std::sync::OnceLock<Vec<u64>> = std::sync::OnceLock::new();
    let table = TABLE.get_or_init(|| {
        let mut table = vec![0u64; (0x9FFF - 0x4E00 + 1) / 64 + 1];
        let mut mark = |encoding: &'static Encoding, lead: u8, trail: u8| {
            let pair = [lead, trail];
            let (text, malformed) = encoding.decode_without_bom_handling(&pair);
            if let (false, Some(c)) = (malformed, text.chars().next()) {
                if let Some(index) = (c as usize)
                    .checked_sub(0x4E00)
                    .filter(|&i| i <= 0x9FFF - 0x4E00)
                {
                    table[index / 64] |= 1 << (index % 64);
                }
            }
        };
        // GB2312 level 1: rows 0xB0–0xD7, cells 0xA1–0xFE.
        for lead in 0xB0..=0xD7u8 {
            for trail in 0xA1..=0xFEu8 {
                mark(encoding_rs::GBK, lead, trail);
            }
        }
        // Big5 level 1: 0xA440–0xC67E.
        for code in 0xA440u16..=0xC67E {
            let [lead, trail] = code.to_be_bytes();
            if (0x40..=0x7E).contains(&trail) || (0xA1..=0xFE).contains(&trail) {
                mark(encoding_rs::BIG5, lead, trail);
            }
        }
        table
    });
    let index = c as usize - 0x4E00;
    table[index / 64] & (1 << (index % 64)) != 0
}

/// Accepts text with a few replacement characters (real pages have stray bytes), refuses
/// text that is mostly broken.
fn checked(
    text: String,
    encoding: &'static Encoding,
    how: &'static str,
) -> Result<Decoded, DecodeError> {
    let chars = text.chars().count();
    let replaced = text.chars().filter(|&c| c == '\u{FFFD}').count();
    if replaced > 16 && replaced * 20 > chars {
        return Err(DecodeError::Undecodable {
            encoding: encoding.name(),
            replaced,
            chars,
        });
    }
    Ok(Decoded {
        text,
        encoding: encoding.name(),
        how,
        wrong_declaration: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_declared_charsets() {
        let meta = b"<html><head><meta charset=\"gbk\"></head>";
        assert_eq!(declared_charset(meta), Some(encoding_rs::GBK));
        let http = b"<meta http-equiv=\"Content-Type\" content=\"text/html; charset=big5\">";
        assert_eq!(declared_charset(http), Some(encoding_rs::BIG5));
        let xml = b"<?xml version=\"1.0\" encoding='gb2312'?>";
        assert_eq!(declared_charset(xml), Some(encoding_rs::GBK));
        assert_eq!(declared_charset(b"<p>charset=nonsense</p>"), None);
    }

    #[test]
    fn utf8_wins_over_a_wrong_declaration() {
        let page = "<meta charset=\"gbk\"><p>扶贫开发</p>".as_bytes();
        let decoded = decode(page).unwrap();
        assert_eq!(decoded.encoding, "UTF-8");
        assert!(decoded.text.contains("扶贫开发"));
    }

    #[test]
    fn a_long_undeclared_page_is_detected_from_its_start_and_decoded_whole() {
        // Big5, then more text than detection reads; the page's last line must decode too.
        let paragraph = "本年度扶貧開發工作取得顯著成效，易地扶貧搬遷工程全面完成。\n";
        let text = format!("{}結語：脫貧攻堅\n", paragraph.repeat(100));
        let (bytes, _, _) = encoding_rs::BIG5.encode(&text);
        assert!(bytes.iter().filter(|b| !b.is_ascii()).count() > 2 * DETECTION_NON_ASCII);
        let decoded = decode(&bytes).unwrap();
        assert_eq!((decoded.encoding, decoded.how), ("Big5", "detected"));
        assert_eq!(decoded.text, text);
    }

    #[test]
    fn refuses_binary() {
        assert_eq!(
            decode(b"\x89PNG\r\n\x1a\n\0\0\0").unwrap_err(),
            DecodeError::Binary
        );
    }
}
