//! Decoding: byte-order marks, declarations that are right, wrong or missing (meta charset,
//! http-equiv, an XML declaration), raw GBK / GB18030 / Big5 bytes written by hand, and the
//! real legacy-encoded pages in ../shared/corpus/encodings when that folder is there.

use std::path::Path;

use yearbook::decode::decode;

/// "【人口】年末总人口38.6万人。" in GBK.
const GBK_TEXT: &[u8] =
    b"\xa1\xbe\xc8\xcb\xbf\xda\xa1\xbf\xc4\xea\xc4\xa9\xd7\xdc\xc8\xcb\xbf\xda38.6\xcd\xf2\xc8\xcb\xa1\xa3";
/// "【人口】年末總人口38.6萬人。" in Big5.
const BIG5_TEXT: &[u8] = b"\xa1i\xa4H\xa4f\xa1j\xa6~\xa5\xbd\xc1`\xa4H\xa4f38.6\xb8U\xa4H\xa1C";
/// GB18030 four-byte sequences: 𠀀 (U+20000) and € (0x80 in GBK is €, in GB18030 too).
const GB18030_FOUR_BYTE: &[u8] = b"\x95\x32\x82\x36";

fn page(head: &str, body: &[u8]) -> Vec<u8> {
    let mut bytes = format!("<html><head>{head}</head><body><p>").into_bytes();
    // Enough text for the detector to be sure.
    for _ in 0..8 {
        bytes.extend_from_slice(body);
    }
    bytes.extend_from_slice(b"</p></body></html>");
    bytes
}

fn decoded(bytes: &[u8]) -> yearbook::decode::Decoded {
    decode(bytes).unwrap_or_else(|error| panic!("{error}"))
}

#[test]
fn declared_charsets_are_used_when_right() {
    for head in [
        "<meta charset=\"gbk\">",
        "<meta charset=gb2312>",
        "<meta http-equiv=\"Content-Type\" content=\"text/html; charset=GB2312\">",
    ] {
        let d = decoded(&page(head, GBK_TEXT));
        assert_eq!((d.encoding, d.how), ("GBK", "declared"), "{head}");
        assert!(d.text.contains("【人口】年末总人口38.6万人。"), "{head}");
    }
    let d = decoded(&page("<meta charset=\"big5\">", BIG5_TEXT));
    assert_eq!((d.encoding, d.how), ("Big5", "declared"));
    assert!(d.text.contains("【人口】年末總人口38.6萬人。"));

    let mut xml = b"<?xml version=\"1.0\" encoding=\"gb2312\"?><rss><item>".to_vec();
    xml.extend_from_slice(GBK_TEXT);
    xml.extend_from_slice(b"</item></rss>");
    let d = decoded(&xml);
    assert_eq!((d.encoding, d.how), ("GBK", "declared"));
    assert!(d.text.contains("年末总人口"));
}

#[test]
fn wrong_declarations_fall_back_to_detection() {
    // GBK bytes declared UTF-8: not valid UTF-8, so the declaration is wrong.
    let d = decoded(&page("<meta charset=\"utf-8\">", GBK_TEXT));
    assert_eq!(d.encoding, "GBK");
    assert_eq!(d.wrong_declaration, Some("UTF-8"));
    assert!(d.text.contains("年末总人口38.6万人"));

    // Big5 bytes declared GBK: they decode as GBK without a single error, to mojibake
    // (private-use and rare characters). The reading made of common characters wins.
    let d = decoded(&page("<meta charset=\"gbk\">", BIG5_TEXT));
    assert_eq!(d.encoding, "Big5", "{}", d.text);
    assert_eq!(d.wrong_declaration, Some("GBK"));
    assert!(d.text.contains("年末總人口38.6萬人"));

    // GBK bytes declared Big5: errors in Big5, so detection.
    let d = decoded(&page("<meta charset=\"big5\">", GBK_TEXT));
    assert_eq!(d.encoding, "GBK", "{}", d.text);
    assert!(d.text.contains("年末总人口"));

    // UTF-8 declared Big5 or GBK: valid UTF-8 wins.
    for head in ["<meta charset=\"big5\">", "<meta charset=\"gbk\">"] {
        let d = decoded(&page(head, "【人口】年末总人口38.6万人。".as_bytes()));
        assert_eq!((d.encoding, d.how), ("UTF-8", "utf-8"), "{head}");
        assert!(d.text.contains("年末总人口"));
    }
}

#[test]
fn missing_declarations_are_detected_without_a_cn_hint() {
    let d = decoded(&page("", GBK_TEXT));
    assert_eq!((d.encoding, d.how), ("GBK", "detected"));
    assert!(d.text.contains("年末总人口38.6万人"));
    // With a `cn` hint chardetng reads Big5 as error-free GBK; we give none.
    let d = decoded(&page("", BIG5_TEXT));
    assert_eq!((d.encoding, d.how), ("Big5", "detected"), "{}", d.text);
    assert!(d.text.contains("年末總人口38.6萬人"));
    // GB18030 four-byte characters decode (GBK and GB18030 share a decoder).
    let mut bytes = page("<meta charset=\"gb18030\">", GBK_TEXT);
    bytes.extend_from_slice(GB18030_FOUR_BYTE);
    let d = decoded(&bytes);
    assert!(d.text.contains('\u{20000}'), "{}", d.text);
}

#[test]
fn byte_order_marks_win_over_everything() {
    let text = "<meta charset=\"gbk\"><p>【人口】年末总人口38.6万人。</p>";
    let mut utf8 = b"\xef\xbb\xbf".to_vec();
    utf8.extend_from_slice(text.as_bytes());
    let d = decoded(&utf8);
    assert_eq!((d.encoding, d.how), ("UTF-8", "bom"));
    assert!(!d.text.starts_with('\u{feff}'));
    assert!(d.text.contains("年末总人口"));

    type Unit = fn(u16) -> [u8; 2];
    let boms: [(&[u8], Unit); 2] = [
        (b"\xff\xfe", u16::to_le_bytes),
        (b"\xfe\xff", u16::to_be_bytes),
    ];
    for (bom, encode) in boms {
        let mut bytes = bom.to_vec();
        for unit in text.encode_utf16() {
            bytes.extend_from_slice(&encode(unit));
        }
        // UTF-16 is full of NUL bytes: the BOM says it is text, not binary.
        let d = decoded(&bytes);
        assert_eq!(d.how, "bom");
        assert!(d.text.contains("年末总人口38.6万人"), "{}", d.encoding);
    }
}

#[test]
fn broken_bytes_are_tolerated_or_refused_with_a_reason() {
    // A few stray bytes in a GBK page: decoded, a handful of U+FFFD at most.
    let mut bytes = page("<meta charset=\"gbk\">", GBK_TEXT);
    let middle = bytes.len() / 2;
    bytes.insert(middle, 0xff);
    let d = decoded(&bytes);
    assert!(d.text.chars().filter(|&c| c == '\u{fffd}').count() <= 3);
    assert!(
        d.text.contains("年末总人口"),
        "{} {} {}",
        d.encoding,
        d.how,
        d.text
    );
    // A multibyte sequence cut off at the end of the file.
    let mut cut = page("<meta charset=\"gbk\">", GBK_TEXT);
    cut.push(0xb5);
    assert!(decoded(&cut).text.contains("年末总人口"));
    // Mostly broken text behind a BOM: refused with a reason, never a panic.
    let mut broken = b"\xff\xfe".to_vec();
    for _ in 0..100 {
        broken.extend_from_slice(b"\x00\xd8a\x00");
    }
    let error = decode(&broken).unwrap_err();
    assert!(error.to_string().starts_with("undecodable text"), "{error}");
    // NUL bytes without a BOM: binary.
    assert!(decode(b"GIF89a\x01\x00\x01\x00\x00\x00")
        .unwrap_err()
        .to_string()
        .starts_with("binary file"));
}

/// Files of ../shared/corpus/encodings/<folder>, or `None` (printing why) when absent.
fn shared_corpus(folder: &str) -> Option<Vec<(String, Vec<u8>)>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/corpus/encodings")
        .join(folder);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        eprintln!("skipped: {} is not there", dir.display());
        return None;
    };
    let mut files: Vec<(String, Vec<u8>)> = entries
        .flatten()
        .filter(|entry| entry.path().is_file())
        .map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            (name, std::fs::read(entry.path()).unwrap())
        })
        .collect();
    files.sort();
    Some(files)
}

/// Decodes every file of a folder of real legacy pages and checks the script family.
fn check_shared(folder: &str, family: &[&str]) {
    let Some(files) = shared_corpus(folder) else {
        return;
    };
    assert!(!files.is_empty());
    let mut report = Vec::new();
    for (name, bytes) in &files {
        if bytes.is_ascii() {
            continue;
        }
        let d = match decode(bytes) {
            Ok(d) => d,
            Err(error) => {
                report.push(format!("{name}: {error}"));
                continue;
            }
        };
        let chars = d.text.chars().count().max(1);
        let replaced = d.text.chars().filter(|&c| c == '\u{fffd}').count();
        let private = d
            .text
            .chars()
            .filter(|&c| ('\u{e000}'..='\u{f8ff}').contains(&c))
            .count();
        if !family.contains(&d.encoding) {
            report.push(format!("{name}: decoded as {} ({})", d.encoding, d.how));
        }
        if replaced * 1000 > chars || private * 200 > chars {
            report.push(format!(
                "{name}: {replaced} U+FFFD and {private} private-use of {chars} characters"
            ));
        }
    }
    assert!(
        report.is_empty(),
        "{folder}: {} of {} files wrong:\n{}",
        report.len(),
        files.len(),
        report.join("\n")
    );
}

#[test]
fn real_gb2312_pages_decode_as_gbk() {
    check_shared("gb2312", &["GBK", "gb18030"]);
}

#[test]
fn real_big5_pages_decode_as_big5_never_gbk() {
    check_shared("big5", &["Big5"]);
}
