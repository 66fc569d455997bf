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
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok(Decoded {
            text: text.to_string(),
            encoding: UTF_8.name(),
            how: "utf-8",
        });
    }
    if let Some(encoding) = declared_charset(bytes) {
        if encoding != UTF_8 {
            let (text, had_errors) = encoding.decode_without_bom_handling(bytes);
            if !had_errors {
                return Ok(Decoded {
                    text: text.into_owned(),
                    encoding: encoding.name(),
                    how: "declared",
                });
            }
        }
    }
    let mut detector = EncodingDetector::new(Iso2022JpDetection::Deny);
    detector.feed(bytes, true);
    let encoding = detector.guess(None, Utf8Detection::Allow);
    let (text, _) = encoding.decode_without_bom_handling(bytes);
    checked(text.into_owned(), encoding, "detected")
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
    fn refuses_binary() {
        assert_eq!(
            decode(b"\x89PNG\r\n\x1a\n\0\0\0").unwrap_err(),
            DecodeError::Binary
        );
    }
}
