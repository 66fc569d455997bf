//! `--json` and `--queries` output, deserialized and checked field by field.

use std::io::Write;

use yearbook::search::Hit;

use crate::util::{parse_hits, yearbook, Workspace};

fn sample() -> Workspace {
    let workspace = Workspace::new();
    workspace.write(
        "内蒙古区情网/内蒙古年鉴/2017卷/农牧林水/page.txt",
        std::fs::read(crate::util::real_page_path()).unwrap(),
    );
    workspace.write(
        "exports/e.jsonl",
        "{\"id\":\"x-1\",\"yearbook\":\"示例年鉴\",\"volume\":\"2021卷\",\"chapter\":\"环境\",\"article\":\"治理\",\"heading\":\"河湖长制\",\"subheading\":\"河道保洁\",\"body\":\"清理河道垃圾2.1万吨。\"}\n",
    );
    assert!(workspace.ingest().status.success());
    workspace
}

#[test]
fn json_hits_carry_the_documented_fields() {
    let workspace = sample();
    let hits = workspace.search("易地扶贫搬迁", &["--limit", "3"]);
    let first: &Hit = &hits[0];
    assert_eq!(first.rank, 1);
    assert_eq!(first.yearbook.as_deref(), Some("内蒙古年鉴"));
    assert_eq!(first.volume.as_deref(), Some("2017卷"));
    assert_eq!(first.year, Some(2017));
    assert_eq!(first.chapter.as_deref(), Some("农牧林水"));
    assert_eq!(first.article.as_deref(), Some("扶贫开发"));
    assert_eq!(first.heading, "易地扶贫搬迁工程");
    assert_eq!(first.subheading, None);
    assert_eq!(
        first.path,
        "内蒙古区情网/内蒙古年鉴/2017卷/农牧林水/page.txt"
    );
    assert_eq!(first.matched, "phrase");
    let ranked = workspace.search("扶贫", &["--limit", "3"]);
    assert_eq!(ranked.iter().map(|h| h.rank).collect::<Vec<_>>(), [1, 2, 3]);
    assert!(ranked.windows(2).all(|pair| pair[0].score >= pair[1].score));
    let chars = first.snippet.chars().count();
    assert!(chars <= 80 && chars > 20);
    for &[start, end] in &first.highlights {
        assert!(start < end && end <= chars);
    }
    // Ids are stable across runs.
    assert_eq!(
        workspace.search("易地扶贫搬迁", &["--limit", "1"])[0].id,
        first.id
    );

    let exported = workspace.search("河道", &[]);
    assert_eq!(exported[0].id, "x-1", "a given id is kept");
    assert_eq!(exported[0].subheading.as_deref(), Some("河道保洁"));
}

#[test]
fn filters_restrict_hits() {
    let workspace = sample();
    assert!(workspace
        .search("清理", &["--yearbook", "内蒙古年鉴"])
        .is_empty());
    assert_eq!(
        workspace.search("清理", &["--yearbook", "示例年鉴"]).len(),
        1
    );
    assert_eq!(workspace.search("清理", &["--volume", "2021"]).len(), 1);
    assert!(workspace.search("清理", &["--volume", "2017卷"]).is_empty());
    assert!(!workspace
        .search("扶贫", &["--chapter", "农牧林水"])
        .is_empty());
    assert!(workspace.search("扶贫", &["--chapter", "环境"]).is_empty());
}

#[test]
fn batch_queries_from_a_file_and_from_stdin() {
    let workspace = sample();
    let file = workspace.dir.path().join("queries.tsv");
    let mut queries = std::fs::File::create(&file).unwrap();
    writeln!(queries, "q1\t扶贫").unwrap();
    writeln!(queries, "q2\t河道保洁").unwrap();
    writeln!(queries, "q3\t量子纠缠").unwrap();
    drop(queries);
    let from_file = yearbook()
        .args(["search", "--limit", "2", "--index"])
        .arg(workspace.index())
        .arg("--queries")
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        from_file.status.success(),
        "{}",
        String::from_utf8_lossy(&from_file.stderr)
    );
    let hits = parse_hits(&from_file.stdout);
    assert_eq!(
        hits.iter()
            .filter(|h| h.qid.as_deref() == Some("q1"))
            .count(),
        2
    );
    assert!(hits[0].heading.contains("扶贫"));
    let q2: Vec<_> = hits
        .iter()
        .filter(|h| h.qid.as_deref() == Some("q2"))
        .collect();
    assert_eq!(q2[0].id, "x-1");
    assert!(hits.iter().all(|h| h.qid.as_deref() != Some("q3")));

    let from_stdin = yearbook()
        .args(["search", "--limit", "2", "--queries", "-", "--index"])
        .arg(workspace.index())
        .write_stdin("q9\t河道保洁\n")
        .output()
        .unwrap();
    let hits = parse_hits(&from_stdin.stdout);
    assert_eq!(hits[0].qid.as_deref(), Some("q9"));
}

/// Batch mode answers on several threads: the answers must still come in input order, and
/// each must be what a one-query search gives.
#[test]
fn batch_answers_keep_input_order_and_equal_single_searches() {
    let workspace = sample();
    let words = [
        "扶贫",
        "河道保洁",
        "量子纠缠",
        "搬迁",
        "工程",
        "贫",
        "清理",
        "干部帮扶",
    ];
    let mut lines = String::new();
    for round in 0..25 {
        for (number, word) in words.iter().enumerate() {
            lines.push_str(&format!("r{round}w{number}\t{word}\n"));
        }
    }
    let output = yearbook()
        .args(["search", "--limit", "3", "--queries", "-", "--index"])
        .arg(workspace.index())
        .write_stdin(lines)
        .output()
        .unwrap();
    assert!(output.status.success());
    let hits = parse_hits(&output.stdout);
    let mut expected = Vec::new();
    let mut single: Vec<Vec<Hit>> = Vec::new();
    for word in words {
        single.push(workspace.search(word, &["--limit", "3"]));
    }
    for round in 0..25 {
        for (number, answers) in single.iter().enumerate() {
            for hit in answers {
                expected.push((format!("r{round}w{number}"), hit.id.clone(), hit.rank));
            }
        }
    }
    let got: Vec<(String, String, usize)> = hits
        .iter()
        .map(|hit| (hit.qid.clone().unwrap(), hit.id.clone(), hit.rank))
        .collect();
    assert_eq!(got, expected);
}

#[test]
fn a_bad_batch_line_stops_the_batch_after_the_answers_before_it() {
    let workspace = sample();
    let output = yearbook()
        .args(["search", "--queries", "-", "--index"])
        .arg(workspace.index())
        .write_stdin("q1\t扶贫\nno tab here\nq3\t扶贫\n")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("line 2"), "{stderr}");
    let hits = parse_hits(&output.stdout);
    assert!(!hits.is_empty());
    assert!(hits.iter().all(|h| h.qid.as_deref() == Some("q1")));
}

#[test]
fn errors_are_one_clear_line_with_exit_code_two() {
    let workspace = Workspace::new();
    let output = yearbook()
        .args(["search", "扶贫", "--corpus"])
        .arg(workspace.dir.path().join("absent"))
        .arg("--index")
        .arg(workspace.dir.path().join("no-index"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("no index in"), "{stderr}");
}

#[test]
fn search_builds_the_index_when_there_is_none() {
    let workspace = Workspace::new();
    workspace.write(
        "page.txt",
        std::fs::read(crate::util::real_page_path()).unwrap(),
    );
    let output = yearbook()
        .args(["search", "--json", "--corpus"])
        .arg(workspace.corpus())
        .arg("--index")
        .arg(workspace.index())
        .arg("易地扶贫搬迁")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&output.stderr).contains("building it from"));
    assert_eq!(parse_hits(&output.stdout)[0].heading, "易地扶贫搬迁工程");
}

#[test]
fn a_closed_pipe_is_not_an_error() {
    use std::io::Read;
    // Far more output than a pipe buffer holds, so the writer meets the closed pipe.
    let workspace = Workspace::new();
    let page: String = (0..400)
        .map(|n| {
            format!(
                "{{\"heading\":\"贫困{n}\",\"body\":\"{}\"}}\n",
                "扶贫开发".repeat(60)
            )
        })
        .collect();
    workspace.write("many.jsonl", page);
    assert!(workspace.ingest().status.success());
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("yearbook"))
        .args(["search", "--json", "--limit", "1000", "--index"])
        .arg(workspace.index())
        .arg("贫")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 16];
    stdout.read_exact(&mut first).unwrap();
    drop(stdout);
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert!(
        output.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A corpus of one JSON Lines export, ingested.
fn exported(lines: &str) -> Workspace {
    let workspace = Workspace::new();
    workspace.write("exports/e.jsonl", lines);
    assert!(workspace.ingest().status.success());
    workspace
}

#[test]
fn show_keeps_entries_whose_ids_look_like_sub_parts_apart() {
    let workspace = exported(concat!(
        "{\"id\":\"a+b\",\"heading\":\"甲条目\",\"body\":\"甲的正文。\"}\n",
        "{\"id\":\"a+b.1\",\"heading\":\"乙条目\",\"body\":\"乙的正文。\"}\n",
        "{\"id\":\"aab.1\",\"heading\":\"丙条目\",\"body\":\"丙的正文。\"}\n",
    ));
    let show = |id: &str| {
        let output = yearbook()
            .args(["show", "--color", "never", "--index"])
            .arg(workspace.index())
            .arg(id)
            .output()
            .unwrap();
        assert!(output.status.success(), "{id}");
        String::from_utf8(output.stdout).unwrap()
    };
    let first = show("a+b");
    assert!(first.contains("甲的正文"), "{first}");
    assert!(
        !first.contains("乙的正文") && !first.contains("丙的正文"),
        "{first}"
    );
    let second = show("a+b.1");
    assert!(
        second.contains("乙的正文") && !second.contains("甲的正文"),
        "{second}"
    );
}

#[test]
fn a_word_of_the_query_is_found_wherever_its_characters_stand_together() {
    let workspace = exported(concat!(
        // jieba cuts this as 开发/展览会/在/本市/举办: 发展 is not one of its words.
        "{\"id\":\"a\",\"heading\":\"甲条目\",\"body\":\"开发展览会在本市举办。\"}\n",
        "{\"id\":\"b\",\"heading\":\"乙条目\",\"body\":\"本市发展规划。\"}\n",
        "{\"id\":\"c\",\"heading\":\"丙条目\",\"body\":\"举办活动。\"}\n",
    ));
    // Not in any entry as written; a short query needs every one of its words.
    let hits = workspace.search("发展举办", &[]);
    let found: Vec<(&str, &str)> = hits
        .iter()
        .map(|hit| (hit.id.as_str(), hit.matched.as_str()))
        .collect();
    assert_eq!(found, vec![("a", "all")]);
    let chars: Vec<char> = hits[0].snippet.chars().collect();
    let highlighted: Vec<String> = hits[0]
        .highlights
        .iter()
        .map(|[start, end]| chars[*start..*end].iter().collect())
        .collect();
    assert_eq!(highlighted, vec!["发展", "举办"]);
}

#[test]
fn a_question_does_not_match_entries_by_words_most_entries_hold() {
    let workspace = exported(concat!(
        "{\"id\":\"a\",\"heading\":\"交通\",\"body\":\"本市的交通。\"}\n",
        "{\"id\":\"b\",\"heading\":\"教育\",\"body\":\"本市的教育。\"}\n",
        "{\"id\":\"c\",\"heading\":\"卫生\",\"body\":\"全市的医疗。\"}\n",
    ));
    // A question (any of its words will do): 的 is in every entry and counts for nothing.
    let hits = workspace.search("请问医疗的情况如何", &[]);
    let ids: Vec<&str> = hits.iter().map(|hit| hit.id.as_str()).collect();
    assert_eq!(ids, vec!["c"]);
    assert_eq!(hits[0].matched, "some");
}

#[test]
fn a_question_with_a_keyword_needs_the_keyword_and_one_of_its_words() {
    let workspace = exported(concat!(
        "{\"id\":\"a\",\"heading\":\"交通\",\"body\":\"本市的交通与医疗。\"}\n",
        "{\"id\":\"b\",\"heading\":\"教育\",\"body\":\"本市的教育与医疗情况。\"}\n",
        "{\"id\":\"c\",\"heading\":\"卫生\",\"body\":\"全市的交通情况。\"}\n",
        "{\"id\":\"d\",\"heading\":\"其他\",\"body\":\"医疗交通情况报告。\"}\n",
    ));
    // Two parts: 医疗 (required, as written or as its word) and a question, any of whose
    // words will do; c holds the question's words but not 医疗. d holds every word found in
    // the entries (请问 and 如何 are in none), so it comes first.
    let hits = workspace.search("医疗 请问交通的情况如何", &[]);
    let found: Vec<(&str, &str)> = hits
        .iter()
        .map(|hit| (hit.id.as_str(), hit.matched.as_str()))
        .collect();
    assert_eq!(found.len(), 3, "{found:?}");
    assert_eq!(found[0], ("d", "all"));
    let mut rest = found[1..].to_vec();
    rest.sort();
    assert_eq!(rest, vec![("a", "some"), ("b", "some")]);
}
