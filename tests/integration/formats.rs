//! Every page format and encoding the ingester reads, from committed bytes: GBK and Big5
//! pages with their declarations, an undeclared GB18030 page, a UTF-8 page that wrongly
//! declares GBK, JSON Lines with and without ids, and files that must be skipped with a
//! reason while the rest is indexed.

use crate::util::{yearbook, Workspace};

/// `<meta charset="gbk">` page, GBK bytes.
const GBK_PAGE: &[u8] = b"<meta charset=\x22gbk\x22><div>\xb5\xb1\xc7\xb0\xce\xbb\xd6\xc3\xa3\xba\xb2\xe2\xca\xd4\xcd\xf8 &gt; \xb2\xe2\xca\xd4\xca\xd0\xc4\xea\xbc\xf8 &gt; 2019\xbe\xed &gt; \xbe\xad\xbc\xc3</div><h1>\xc5\xa9\xd2\xb5</h1><p>\xa1\xbe\xc1\xb8\xca\xb3\xc9\xfa\xb2\xfa\xa1\xbf\xc8\xab\xc4\xea\xc1\xb8\xca\xb3\xb2\xfa\xc1\xbf86\xcd\xf2\xb6\xd6\xa1\xa3</p>";
/// `<meta charset="big5">` page in traditional characters, Big5 bytes.
const BIG5_PAGE: &[u8] = b"<meta charset=\x22big5\x22><div>\xb1z\xb2{\xa6b\xaa\xba\xa6\xec\xb8m\xa1G\xad\xba\xad\xb6 &raquo; \xb4\xfa\xb8\xd5\xbf\xa4\xa6~\xc5\xb2 &raquo; 2018\xa8\xf7 &raquo; \xb8g\xc0\xd9</div><h1>\xa4u\xb7~</h1><p>\xa1i\xa4u\xb7~\xb8g\xc0\xd9\xa1j\xa9\xf6\xa6a\xa7\xdf\xb3h\xb7h\xbeE\xa6w\xb8m\xb0\xcf\xab\xd8\xa6\xa8\xa8\xae\xb6\xa1\xa1C</p>";
/// A page with no declaration, GB18030 bytes.
const GB18030_UNDECLARED: &[u8] = b"<h1>\xder\x98I</h1><p>\xa1\xbe\xd0\xf3\xc4\xc1\xd2\xb5\xa1\xbf\xc5\xa3\xd1\xf2\xb4\xe6\xc0\xb8\xd4\xf6\xb3\xa4\xa3\xac\xc4\xc1\xc3\xf1\xca\xd5\xc8\xeb\xcc\xe1\xb8\xdf\xa3\xac\xb2\xdd\xd4\xad\xc9\xfa\xcc\xac\xb1\xa3\xb3\xd6\xce\xc8\xb6\xa8\xa1\xa3\xc4\xc1\xc7\xf8\xbd\xa8\xc9\xe8\xbc\xd3\xbf\xec\xcd\xc6\xbd\xf8\xa1\xa3</p>";

#[test]
fn decodes_declared_gbk_and_big5_and_detects_undeclared_gb18030() {
    for (bytes, encoding) in [
        (GBK_PAGE, "GBK"),
        (BIG5_PAGE, "Big5"),
        (GB18030_UNDECLARED, "GBK"),
    ] {
        let decoded = yearbook::decode::decode(bytes).unwrap();
        assert_eq!(decoded.encoding, encoding);
        assert!(!decoded.text.contains('\u{FFFD}'));
    }
    let wrong = "<meta charset=\"gbk\"><p>【概况】正文</p>".as_bytes();
    assert_eq!(yearbook::decode::decode(wrong).unwrap().encoding, "UTF-8");
}

#[test]
fn every_format_is_indexed_and_searchable_across_scripts() {
    let workspace = Workspace::new();
    workspace.write("gbk.html", GBK_PAGE);
    workspace.write("big5.html", BIG5_PAGE);
    workspace.write("测试市年鉴/2021卷/农牧/undeclared.htm", GB18030_UNDECLARED);
    workspace.write(
        "export.jsonl",
        "{\"id\":\"e1\",\"yearbook\":\"测试市年鉴\",\"volume\":\"2022卷\",\"heading\":\"河湖\",\"body\":\"清理河道\"}\n{\"heading\":\"无编号\",\"body\":\"第二行正文\"}\nnot json\n",
    );
    let output = workspace.ingest();
    assert!(output.status.success());
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(stdout.starts_with("files: 4 added"), "{stdout}");

    let gbk = workspace.search("粮食产量", &[]);
    assert_eq!(gbk[0].heading, "粮食生产");
    assert_eq!(gbk[0].yearbook.as_deref(), Some("测试市年鉴"));
    assert_eq!(gbk[0].volume.as_deref(), Some("2019卷"));
    assert_eq!(gbk[0].chapter.as_deref(), Some("经济"));
    assert_eq!(gbk[0].article.as_deref(), Some("农业"));

    // A simplified query finds the Big5 page, highlighted in its own characters.
    let big5 = workspace.search("易地扶贫搬迁", &[]);
    assert_eq!(big5[0].heading, "工業經濟");
    assert_eq!(big5[0].yearbook.as_deref(), Some("測試縣年鑑"));
    let chars: Vec<char> = big5[0].snippet.chars().collect();
    let [start, end] = big5[0].highlights[0];
    assert_eq!(chars[start..end].iter().collect::<String>(), "易地扶貧搬遷");

    // The folder path fills in what the undeclared page does not say.
    let undeclared = workspace.search("畜牧业", &[]);
    assert_eq!(undeclared[0].yearbook.as_deref(), Some("测试市年鉴"));
    assert_eq!(undeclared[0].volume.as_deref(), Some("2021卷"));
    assert_eq!(undeclared[0].chapter.as_deref(), Some("农牧"));

    assert_eq!(workspace.search("清理河道", &[])[0].id, "e1");
    assert!(workspace.search("第二行正文", &[])[0].id.ends_with("-L2"));
}

#[test]
fn bad_files_are_reported_counted_and_never_cost_the_others() {
    let workspace = Workspace::new();
    workspace.write("good.html", GBK_PAGE);
    workspace.write("empty.html", b"");
    workspace.write("binary.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR");
    workspace.write("deep.html", "<div>".repeat(5000) + "【深】正文");
    workspace.write("nothing.html", "<p>只有一句话，没有条目。</p>");
    workspace.write("bad.jsonl", "not json at all\n");
    workspace.write("notes.md", "ignored: not a page extension");
    let output = workspace.ingest();
    assert!(output.status.success());
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        stdout.contains("2 added") && stdout.contains("4 skipped"),
        "{stdout}"
    );
    assert!(stdout.contains("(1 without entries)"), "{stdout}");
    let stderr = String::from_utf8(output.stderr).unwrap();
    for expected in [
        "empty.html: empty file",
        "binary.txt: binary file",
        "deep.html: HTML nested 5000 levels deep",
        "nothing.html: no entries found on this page",
        "bad.jsonl: no valid JSON line",
    ] {
        assert!(
            stderr.contains(expected),
            "missing {expected:?} in {stderr}"
        );
    }
    assert_eq!(workspace.search("粮食", &[])[0].heading, "粮食生产");

    // The bad files are remembered: a second run reads nothing and says so again.
    let again = workspace.ingest();
    let stdout = String::from_utf8(again.stdout).unwrap();
    assert!(
        stdout.contains("6 unchanged, 4 skipped (1 without entries)"),
        "{stdout}"
    );
}

#[test]
fn the_index_folder_inside_the_corpus_is_never_indexed() {
    let workspace = Workspace::new();
    workspace.write("good.html", GBK_PAGE);
    let inner = workspace.corpus().join("index");
    for _ in 0..2 {
        let output = yearbook()
            .arg("ingest")
            .arg("--corpus")
            .arg(workspace.corpus())
            .arg("--index")
            .arg(&inner)
            .output()
            .unwrap();
        assert!(output.status.success());
        let stdout = String::from_utf8(output.stdout).unwrap();
        assert!(
            !stdout.contains("skipped") || stdout.contains("0 skipped"),
            "{stdout}"
        );
    }
}

fn replace(bytes: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let at = bytes
        .windows(from.len())
        .position(|w| w == from)
        .expect("present");
    [&bytes[..at], to, &bytes[at + from.len()..]].concat()
}

#[test]
fn stats_show_encodings_skips_and_contradicted_declarations() {
    let workspace = Workspace::new();
    workspace.write("gbk.html", GBK_PAGE);
    workspace.write(
        "big5-declared-gb2312.html",
        replace(BIG5_PAGE, b"charset=\"big5\"", b"charset=\"gb2312\""),
    );
    workspace.write("empty.html", b"");
    assert!(workspace.ingest().status.success());
    // The Big5 page is read as Big5 despite its declaration.
    assert_eq!(workspace.search("易地扶贫搬迁", &[])[0].heading, "工業經濟");
    let output = yearbook()
        .args(["stats", "--json", "--index"])
        .arg(workspace.index())
        .output()
        .unwrap();
    assert!(output.status.success());
    let stats: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(stats["files"], 3);
    assert_eq!(stats["entries"], 2);
    assert_eq!(stats["encodings"]["GBK"], 1);
    assert_eq!(stats["encodings"]["Big5 (declared GBK)"], 1);
    assert_eq!(stats["skipped"][0]["path"], "empty.html");
    assert_eq!(stats["skipped"][0]["reason"], "empty file");
    let volumes = stats["volumes"].as_array().unwrap();
    assert!(volumes
        .iter()
        .any(|v| v["yearbook"] == "测试市年鉴" && v["volume"] == "2019卷" && v["entries"] == 1));
}
