//! Incremental ingest: after adding, changing and removing pages, the index holds exactly
//! what a clean ingest of the new state holds, and a no-change ingest reads nothing.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use yearbook::ingest::{ingest, Summary};
use yearbook::search::{Engine, SearchOptions};

use crate::util::Workspace;

fn page(heading: &str, body: &str) -> String {
    format!(
        "当前位置:测试网 / 测试市年鉴 / 2020卷 / 综合\n\n  • 测试文章\n    【{heading}】\u{a0} {body}\n    (撰稿人:测试)\n"
    )
}

fn run(workspace: &Workspace, rebuild: bool) -> Summary {
    let mut options = crate::util::ingest_options(workspace.corpus(), workspace.index());
    options.rebuild = rebuild;
    let mut warnings = Vec::new();
    let summary = ingest(&options, &mut |w| warnings.push(w)).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    summary
}

/// id → (heading, snippet) of every entry the index returns for a query matching all.
fn contents(index: &std::path::Path) -> BTreeMap<String, (String, String)> {
    let engine = Engine::open(index).unwrap();
    let options = SearchOptions {
        limit: 10_000,
        filters: Default::default(),
    };
    engine
        .search("测", &options)
        .unwrap()
        .into_iter()
        .map(|hit| (hit.id, (hit.heading, hit.snippet)))
        .collect()
}

/// Sets a file's modification time, so that a rewrite within the same clock tick is seen.
fn touch(path: &std::path::Path, seconds_ahead: u64) {
    let file = std::fs::File::options().write(true).open(path).unwrap();
    file.set_modified(SystemTime::now() + Duration::from_secs(seconds_ahead))
        .unwrap();
}

#[test]
fn add_change_remove_converges_to_a_clean_ingest() {
    let workspace = Workspace::new();
    workspace.write("a.txt", page("甲条目", "测试甲的正文"));
    workspace.write("b.txt", page("乙条目", "测试乙的正文"));
    workspace.write("c.txt", page("丙条目", "测试丙的正文"));
    let first = run(&workspace, false);
    assert_eq!((first.added, first.entries_indexed), (3, 3));

    // No change: nothing is read again.
    let again = run(&workspace, false);
    assert_eq!(
        (again.unchanged, again.files_read, again.entries_indexed),
        (3, 0, 0)
    );

    // Add d, change b, remove c.
    workspace.write("d.txt", page("丁条目", "测试丁的正文"));
    workspace.write("b.txt", page("乙条目改", "测试乙的新正文"));
    touch(&workspace.corpus().join("b.txt"), 5);
    std::fs::remove_file(workspace.corpus().join("c.txt")).unwrap();
    let update = run(&workspace, false);
    assert_eq!(
        (
            update.added,
            update.changed,
            update.removed,
            update.unchanged
        ),
        (1, 1, 1, 1)
    );
    assert_eq!(update.files_read, 2);

    let incremental = contents(&workspace.index());
    let headings: Vec<&str> = incremental.values().map(|(h, _)| h.as_str()).collect();
    assert_eq!(headings.len(), 3);
    for expected in ["甲条目", "乙条目改", "丁条目"] {
        assert!(headings.contains(&expected), "{headings:?}");
    }

    // A clean ingest of the same state gives the same ids and texts.
    let clean = Workspace::new();
    for name in ["a.txt", "b.txt", "d.txt"] {
        clean.write(name, std::fs::read(workspace.corpus().join(name)).unwrap());
    }
    run(&clean, true);
    assert_eq!(contents(&clean.index()), incremental);
}

#[test]
fn touched_file_with_same_bytes_is_only_rerecorded() {
    let workspace = Workspace::new();
    workspace.write("a.txt", page("甲条目", "测试甲的正文"));
    run(&workspace, false);
    touch(&workspace.corpus().join("a.txt"), 10);
    let touched = run(&workspace, false);
    assert_eq!(
        (
            touched.unchanged,
            touched.files_read,
            touched.entries_indexed
        ),
        (1, 1, 0)
    );
    let after = run(&workspace, false);
    assert_eq!(after.files_read, 0, "the new mtime was recorded");
    assert_eq!(contents(&workspace.index()).len(), 1);
}

#[test]
fn rebuild_starts_from_nothing_and_says_why() {
    let workspace = Workspace::new();
    workspace.write("a.txt", page("甲条目", "测试甲的正文"));
    run(&workspace, false);
    let rebuilt = run(&workspace, true);
    assert_eq!(rebuilt.rebuilt.as_deref(), Some("--rebuild was given"));
    assert_eq!((rebuilt.added, rebuilt.entries_indexed), (1, 1));
    assert_eq!(contents(&workspace.index()).len(), 1);
}

#[test]
fn summary_line_and_exit_code() {
    let workspace = Workspace::new();
    workspace.write("a.txt", page("甲条目", "测试甲的正文"));
    workspace.write("bad.html", b"\x00\x01\x02binary\x00");
    let output = workspace.ingest();
    assert!(output.status.success());
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        stdout.starts_with(
            "files: 1 added, 0 changed, 0 removed, 0 unchanged, 1 skipped; 1 entries indexed in "
        ),
        "{stdout}"
    );
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("bad.html: binary file"), "{stderr}");
}

fn set_payload_analyzer(index: &std::path::Path, analyzer: u32) {
    let path = index.join("meta.json");
    let mut meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let mut payload: serde_json::Value =
        serde_json::from_str(meta["payload"].as_str().unwrap()).unwrap();
    payload["analyzer"] = analyzer.into();
    meta["payload"] = payload.to_string().into();
    std::fs::write(&path, meta.to_string()).unwrap();
}

#[test]
fn an_index_built_by_another_analyzer_is_detected_and_rebuilt() {
    let workspace = Workspace::new();
    workspace.write("a.txt", page("甲条目", "测试甲的正文"));
    assert!(workspace.ingest().status.success());
    set_payload_analyzer(&workspace.index(), 0);

    let search = workspace.search_output("甲");
    assert_eq!(search.status.code(), Some(2));
    let stderr = String::from_utf8(search.stderr).unwrap();
    assert!(
        stderr.contains("analyzer version 0") && stderr.contains("run `yearbook ingest`"),
        "{stderr}"
    );

    let ingest = workspace.ingest();
    assert!(ingest.status.success());
    let stderr = String::from_utf8(ingest.stderr).unwrap();
    assert!(
        stderr.contains("rebuilt the index from scratch: analyzer version 0"),
        "{stderr}"
    );
    assert_eq!(workspace.search("甲条目", &[]).len(), 1);
}

#[test]
fn a_new_user_dictionary_cuts_queries_without_a_rebuild() {
    let workspace = Workspace::new();
    // 嘎查 and 村 are not adjacent: the text has no 嘎查村.
    workspace.write("a.txt", page("莫力达瓦旗", "测试嘎查 村集体经济"));
    assert!(workspace.ingest().status.success());
    // jieba's own dictionary cuts 嘎查村经济 into characters and 经济, all in the entry.
    let before = workspace.search("嘎查村经济", &[]);
    assert_eq!(before.len(), 1);
    assert_eq!(before[0].matched, "all");

    // With 嘎查村 a word, the query needs that word, which the entry lacks.
    workspace.write("dict.txt", "嘎查村 1000000 ns\n");
    let ingest = workspace.ingest();
    assert!(ingest.status.success());
    let stderr = String::from_utf8(ingest.stderr).unwrap();
    assert!(!stderr.contains("rebuilt"), "{stderr}");
    assert!(workspace.search("嘎查村经济", &[]).is_empty());
    // Literal matches do not depend on the dictionary.
    assert_eq!(workspace.search("村集体", &[])[0].matched, "phrase");

    // A dictionary jieba refuses stops the ingest before anything is written.
    workspace.write("dict.txt", "嘎查村 many ns\n");
    workspace.write("b.txt", page("乙条目", "乙的正文"));
    let refused = workspace.ingest();
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8(refused.stderr)
        .unwrap()
        .contains("dict.txt"));
    assert!(workspace.search("乙的正文", &[]).is_empty());
    assert!(workspace.search("嘎查村经济", &[]).is_empty());

    // Removing it brings jieba's own cut back.
    std::fs::remove_file(workspace.corpus().join("dict.txt")).unwrap();
    assert!(workspace.ingest().status.success());
    assert_eq!(workspace.search("嘎查村经济", &[]).len(), 1);
}

#[test]
fn an_index_of_another_format_is_replaced_saying_why() {
    let workspace = Workspace::new();
    workspace.write("a.txt", page("甲条目", "测试甲的正文"));
    std::fs::create_dir_all(workspace.index()).unwrap();
    let mut builder = tantivy::schema::Schema::builder();
    builder.add_text_field("old", tantivy::schema::TEXT);
    tantivy::Index::create_in_dir(workspace.index(), builder.build()).unwrap();

    let search = workspace.search_output("甲");
    assert_eq!(search.status.code(), Some(2));
    assert!(String::from_utf8(search.stderr)
        .unwrap()
        .contains("another version"));

    let ingest = workspace.ingest();
    assert!(ingest.status.success());
    let stderr = String::from_utf8(ingest.stderr).unwrap();
    assert!(
        stderr
            .contains("rebuilt the index from scratch: its format was written by another version"),
        "{stderr}"
    );
    assert_eq!(workspace.search("甲条目", &[]).len(), 1);
}
