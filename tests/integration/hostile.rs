//! A corpus of 1,000 hostile files, generated here, ingests without a crash: every bad file
//! gets exactly one warning line naming its path and a reason, the summary counts them, the
//! good pages are searchable, and the run finishes in bounded time without reading the file
//! that is over the size cap.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::util::{yearbook, Workspace};

/// A good page: a trail, a title and one entry holding `word`.
fn good_page(word: &str) -> String {
    format!(
        "<html><head><meta charset=\"utf-8\"><title>农业-测试网</title></head><body>\
         <div>当前位置：测试网 &gt; 测试市年鉴 &gt; 2019卷 &gt; 经济</div><h1>农业</h1>\
         <p>【粮食生产】　全年粮食产量86万吨，{word}。</p></body></html>"
    )
}

/// A small deterministic generator (no dependency needed for noise).
struct Noise(u64);

impl Noise {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

/// What a bad file is expected to produce: a warning whose reason contains this text.
type Expected = BTreeMap<String, &'static str>;

fn write_bad_files(workspace: &Workspace, expected: &mut Expected) {
    let mut noise = Noise(0x9e37_79b9_7f4a_7c15);
    // Binary content under page extensions: image, archive and executable headers, and
    // random bytes, all holding NUL bytes.
    let headers: [&[u8]; 5] = [
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR",
        b"\x1f\x8b\x08\0\0\0\0\0\0\x03",
        b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n\0",
        b"\x7fELF\x02\x01\x01\0\0\0\0\0",
        b"PK\x03\x04\x14\0\0\0\x08\0",
    ];
    for n in 0..352 {
        let ext = ["html", "htm", "txt", "shtml", "xhtml"][n % 5];
        let path = format!("binary/{n:04}.{ext}");
        let mut bytes = headers[n % headers.len()].to_vec();
        let mut body = noise.bytes(64 + n % 512);
        body[0] = 0;
        bytes.extend(body);
        workspace.write(&path, bytes);
        expected.insert(path, "binary file");
    }
    for n in 0..250 {
        let path = format!("empty/{n:04}.{}", ["html", "txt", "htm"][n % 3]);
        workspace.write(&path, b"");
        expected.insert(path, "empty file");
    }
    // Undecodable: a UTF-16 byte-order mark over unpaired surrogates.
    for n in 0..250 {
        let path = format!("undecodable/{n:04}.html");
        let mut bytes = b"\xff\xfe".to_vec();
        for _ in 0..(40 + n % 100) {
            bytes.extend_from_slice(b"\x00\xd8");
            bytes.extend_from_slice(&[b'a', 0]);
        }
        workspace.write(&path, bytes);
        expected.insert(path, "undecodable text");
    }
    // Nested deeper than the parser is allowed to go.
    for n in 0..140 {
        let path = format!("deep/{n:04}.html");
        let tag = ["<div>", "<span>", "<table><tr><td>", "<p><b>"][n % 4];
        workspace.write(&path, tag.repeat(4100 + n) + "【深】正文");
        expected.insert(path, "HTML nested");
    }
    // A page that is well-formed but holds no entry: read, and said to hold nothing.
    workspace.write(
        "nav-only.html",
        "<html><body><div class=nav><a>首页</a><a>联系我们</a></div></body></html>",
    );
    expected.insert("nav-only.html".into(), "no entries found");
}

/// Over the size cap (1 MB): sparse files of 2 GiB, so that reading one would show in the
/// time and memory of the run.
fn write_oversized(workspace: &Workspace, expected: &mut Expected) {
    for n in 0..3 {
        let path = format!("huge/{n}.html");
        let full = workspace.corpus().join(&path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        let file = std::fs::File::create(&full).unwrap();
        file.set_len(2 << 30).unwrap();
        expected.insert(path, "larger than the size cap");
    }
}

/// Symbolic link loops, dangling links, a FIFO, a socket, and unreadable entries.
#[cfg(unix)]
fn write_special_files(workspace: &Workspace, expected: &mut Expected) -> Vec<(String, String)> {
    use std::os::unix::fs::{symlink, PermissionsExt};

    let corpus = workspace.corpus();
    std::fs::create_dir_all(corpus.join("loop")).unwrap();
    symlink("..", corpus.join("loop/back")).unwrap();
    expected.insert("loop/back".into(), "symbolic link loop");
    symlink("/nonexistent/page.html", corpus.join("dangling.html")).unwrap();
    expected.insert("dangling.html".into(), "No such file");

    let fifo = corpus.join("fifo.html");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    if made.is_ok_and(|status| status.success()) {
        expected.insert("fifo.html".into(), "not a regular file");
    } else {
        eprintln!("hostile: mkfifo unavailable, FIFO case skipped");
    }
    let socket = std::os::unix::net::UnixListener::bind(corpus.join("socket.html")).unwrap();
    drop(socket);
    expected.insert("socket.html".into(), "not a regular file");

    // Unreadable file and folder. Root reads them anyway: then they are good pages and
    // must be indexed instead of warned about.
    let mut readable_anyway = Vec::new();
    workspace.write("locked/page.html", good_page("锁定目录词"));
    workspace.write("locked-file.html", good_page("锁定文件词"));
    let locked_dir = corpus.join("locked");
    let locked_file = corpus.join("locked-file.html");
    std::fs::set_permissions(&locked_file, std::fs::Permissions::from_mode(0o000)).unwrap();
    std::fs::set_permissions(&locked_dir, std::fs::Permissions::from_mode(0o000)).unwrap();
    if std::fs::read(&locked_file).is_ok() {
        readable_anyway.push(("locked-file.html".to_string(), "锁定文件词".to_string()));
    } else {
        expected.insert("locked-file.html".into(), "ermission denied");
    }
    if std::fs::read_dir(&locked_dir).is_ok() {
        readable_anyway.push(("locked/page.html".to_string(), "锁定目录词".to_string()));
    } else {
        expected.insert("locked".into(), "ermission denied");
    }
    readable_anyway
}

#[cfg(unix)]
fn write_non_utf8_name(workspace: &Workspace) {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    // "第一章.html" in GBK bytes.
    let name = OsStr::from_bytes(b"\xb5\xda\xd2\xbb\xd5\xc2.html");
    std::fs::write(workspace.corpus().join(name), good_page("非法文件名词")).unwrap();
}

/// Restores permissions so that the temporary folder can be removed.
#[cfg(unix)]
fn unlock(workspace: &Workspace) {
    use std::os::unix::fs::PermissionsExt;
    for path in ["locked", "locked-file.html"] {
        let _ = std::fs::set_permissions(
            workspace.corpus().join(path),
            std::fs::Permissions::from_mode(0o755),
        );
    }
}

fn warning_lines<'a>(stderr: &'a str, path: &str) -> Vec<&'a str> {
    let prefix = format!("yearbook: warning: {path}: ");
    stderr
        .lines()
        .filter(|line| line.starts_with(&prefix))
        .collect()
}

#[cfg(unix)]
#[test]
fn a_thousand_hostile_files_cost_nothing_but_their_warnings() {
    let workspace = Workspace::new();
    let mut expected = Expected::new();
    write_bad_files(&workspace, &mut expected);
    write_oversized(&workspace, &mut expected);
    let mut good: Vec<(String, String)> = write_special_files(&workspace, &mut expected);
    write_non_utf8_name(&workspace);
    for n in 0..5 {
        let word = format!("良好页面{}号词", ["甲", "乙", "丙", "丁", "戊"][n]);
        let path = format!("good/{n}.html");
        workspace.write(&path, good_page(&word));
        good.push((path, word));
    }
    let bad_count = expected.len();
    assert!(bad_count >= 1000, "{bad_count} hostile files");

    let started = Instant::now();
    let output = yearbook()
        .arg("ingest")
        .arg("--corpus")
        .arg(workspace.corpus())
        .arg("--index")
        .arg(workspace.index())
        .args(["--max-file-mb", "1"])
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    let elapsed = started.elapsed();
    unlock(&workspace);
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        elapsed < Duration::from_secs(60),
        "ingest of the hostile corpus took {elapsed:?}"
    );

    // Exactly one warning per bad file, naming it and why.
    let mut problems = Vec::new();
    for (path, reason) in &expected {
        let lines = warning_lines(&stderr, path);
        if lines.len() != 1 || !lines[0].contains(reason) {
            problems.push(format!("{path} (want one line with {reason:?}): {lines:?}"));
        }
    }
    assert!(
        problems.is_empty(),
        "{} of {bad_count} bad files not reported as expected:\n{}\n--- stderr ---\n{}",
        problems.len(),
        problems[..problems.len().min(20)].join("\n"),
        stderr.lines().take(40).collect::<Vec<_>>().join("\n")
    );
    let warnings = stderr
        .lines()
        .filter(|l| l.starts_with("yearbook: warning: "))
        .count();
    assert_eq!(warnings, bad_count, "one warning per bad file and no more");

    // The summary counts them: everything but the page without entries is skipped.
    let skipped = bad_count - 1;
    let added = good.len() + 2; // the good pages, the non-UTF-8 name, the page without entries
    assert!(
        stdout.contains(&format!("files: {added} added, 0 changed, 0 removed, 0 unchanged, {skipped} skipped (1 without entries)")),
        "{stdout}"
    );

    let phrase_hits = |word: &str| -> Vec<String> {
        workspace
            .search(word, &[])
            .into_iter()
            .filter(|hit| hit.matched == "phrase")
            .map(|hit| hit.path)
            .collect()
    };
    for (path, word) in &good {
        assert_eq!(
            phrase_hits(word),
            vec![path.clone()],
            "{path} is searchable by {word}"
        );
    }
    let gbk_name = phrase_hits("非法文件名词");
    assert_eq!(
        gbk_name.len(),
        1,
        "the page with a GBK file name is indexed"
    );
    assert!(gbk_name[0].ends_with(".html"), "{gbk_name:?}");
}
