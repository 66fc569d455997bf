//! The first acceptance test: the one real page (../shared/seed, copied into corpus/) must
//! yield exactly what EXPECTED.md lists, and search it the way a researcher expects.

use std::collections::BTreeSet;

use yearbook::analyze::fold_str;
use yearbook::parse;
use yearbook::sectionize::sectionize;

use crate::util::{key, real_page_path, yearbook, Workspace};

const HEADINGS: [&str; 12] = [
    "概况",
    "健全扶贫政策体系",
    "创新扶贫体制机制",
    "扶贫投入",
    "三到村三到户扶贫",
    "易地扶贫搬迁工程",
    "金融扶贫工程",
    "产业扶贫",
    "革命老区扶贫",
    "社会扶贫",
    "扶贫宣传工作",
    "扶贫机构队伍",
];

const SUBHEADS: [&str; 7] = [
    "精准识别贫困机制",
    "健全干部帮扶机制",
    "建立考核评估机制",
    "建立贫困退出机制",
    "建立督查巡查机制",
    "改进扶贫资金监管机制",
    "创新精准扶贫模式",
];

fn real_workspace() -> Workspace {
    let workspace = Workspace::new();
    workspace.write(
        "nmg-2017-nongmulinshui-fupinkaifa.txt",
        std::fs::read(real_page_path()).unwrap(),
    );
    let output = workspace.ingest();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    workspace
}

/// (heading, subheading, text) of every document the page yields.
fn documents() -> Vec<(String, Option<String>, String)> {
    let text = std::fs::read_to_string(real_page_path()).unwrap();
    let sectioned = sectionize(&parse::text::parse(&text));
    let mut documents = Vec::new();
    for entry in &sectioned.entries {
        documents.push((
            entry.heading.clone(),
            None,
            format!("{}\n{}", entry.heading, entry.lead),
        ));
        for part in &entry.parts {
            documents.push((
                entry.heading.clone(),
                Some(part.subheading.clone()),
                format!("{}\n{}", part.subheading, part.body),
            ));
        }
    }
    documents
}

/// The documents a grep of the folded query over heading and text would find.
fn grep(query: &str) -> BTreeSet<(String, Option<String>)> {
    let folded = fold_str(query);
    documents()
        .into_iter()
        .filter(|(_, _, text)| {
            text.split('\n')
                .any(|piece| fold_str(piece).contains(&folded))
        })
        .map(|(heading, subheading, _)| (heading, subheading))
        .collect()
}

#[test]
fn yields_twelve_entries_once_with_place_author_and_subheads() {
    let text = std::fs::read_to_string(real_page_path()).unwrap();
    let sectioned = sectionize(&parse::text::parse(&text));
    let headings: Vec<&str> = sectioned
        .entries
        .iter()
        .map(|e| e.heading.as_str())
        .collect();
    assert_eq!(headings, HEADINGS);
    let place = &sectioned.place;
    assert_eq!(place.site.as_deref(), Some("内蒙古区情网"));
    assert_eq!(place.yearbook.as_deref(), Some("内蒙古年鉴"));
    assert_eq!(place.volume.as_deref(), Some("2017卷"));
    assert_eq!(place.year, Some(2017));
    assert_eq!(place.chapter.as_deref(), Some("农牧林水"));
    assert_eq!(place.article.as_deref(), Some("扶贫开发"));
    assert_eq!(place.author.as_deref(), Some("高凤义"));
    let mechanism = &sectioned.entries[2];
    assert_eq!(
        mechanism.lead, "",
        "创新扶贫体制机制 has no text of its own"
    );
    let subheads: Vec<&str> = mechanism
        .parts
        .iter()
        .map(|p| p.subheading.as_str())
        .collect();
    assert_eq!(subheads, SUBHEADS);
    for entry in &sectioned.entries {
        if entry.heading != "创新扶贫体制机制" {
            assert!(entry.parts.is_empty(), "{} has no sub-heads", entry.heading);
            assert!(!entry.lead.is_empty());
        }
        let all = format!("{entry:?}");
        for chrome in ["撰稿人", "版权所有", "ICP", "声明", "技术支持", "•"] {
            assert!(
                !all.contains(chrome),
                "{chrome} leaked into {}",
                entry.heading
            );
        }
    }
    // Scraping defects stay as they are.
    assert!(sectioned.entries[0].lead.contains("201511月"));
}

#[test]
fn phrase_finds_exactly_the_entry_first() {
    let workspace = real_workspace();
    let hits = workspace.search("易地扶贫搬迁", &[]);
    assert_eq!(hits[0].heading, "易地扶贫搬迁工程");
    assert_eq!(
        hits[0].place(),
        "内蒙古年鉴 › 2017卷 › 农牧林水 › 扶贫开发 › 【易地扶贫搬迁工程】"
    );
    let phrase_hits: Vec<_> = hits.iter().filter(|h| h.matched == "phrase").collect();
    assert_eq!(phrase_hits.len(), 1, "only one entry contains the phrase");
    let snippet: Vec<char> = hits[0].snippet.chars().collect();
    let [start, end] = hits[0].highlights[0];
    assert_eq!(
        snippet[start..end].iter().collect::<String>(),
        "易地扶贫搬迁"
    );
    for hit in &hits[1..] {
        assert!(hit.score <= hits[0].score || hit.matched != "phrase");
    }
}

#[test]
fn subhead_part_ranks_first_with_its_place() {
    let workspace = real_workspace();
    let hits = workspace.search("干部帮扶", &[]);
    assert_eq!(hits[0].subheading.as_deref(), Some("健全干部帮扶机制"));
    assert_eq!(
        hits[0].place(),
        "内蒙古年鉴 › 2017卷 › 农牧林水 › 扶贫开发 › 创新扶贫体制机制 › 健全干部帮扶机制"
    );
    for subhead in SUBHEADS {
        let hits = workspace.search(subhead, &[]);
        assert_eq!(hits[0].subheading.as_deref(), Some(subhead));
    }
}

#[test]
fn chrome_and_metadata_are_not_searchable() {
    let workspace = real_workspace();
    // Keyword-like queries made only of chrome find nothing at all.
    for query in [
        "版权所有",
        "ICP",
        "蒙ICP备",
        "蒙公安备案",
        "技术支持",
        "高凤义",
        "撰稿人",
    ] {
        let output = workspace.search_output(query);
        assert_eq!(output.status.code(), Some(1), "{query} must find nothing");
        assert!(output.stdout.is_empty());
    }
    // Longer chrome lines are read as natural language and may share a word with an entry
    // (政府), but no entry contains them.
    for query in [
        "政府网站标识码",
        "转载请注明来源于",
        "内蒙古传星科技有限公司",
    ] {
        let hits = workspace.search(query, &[]);
        assert!(
            hits.iter().all(|hit| hit.matched != "phrase"),
            "{query}: {hits:?}"
        );
    }
}

#[test]
fn every_entry_grep_would_find_is_found() {
    let workspace = real_workspace();
    for query in [
        "嘎查村",
        "贫",
        "201511月",
        "1.1万名",
        "2834个",
        "万元~5万元",
        "453",
    ] {
        let expected = grep(query);
        assert!(!expected.is_empty(), "{query} occurs on the page");
        let hits = workspace.search(query, &[]);
        let phrase: BTreeSet<_> = hits
            .iter()
            .filter(|h| h.matched == "phrase")
            .map(key)
            .collect();
        assert_eq!(phrase, expected, "query {query}");
        // Literal matches rank above everything else.
        let first_other = hits
            .iter()
            .position(|h| h.matched != "phrase")
            .unwrap_or(hits.len());
        assert_eq!(first_other, expected.len(), "query {query}");
    }
}

#[test]
fn traditional_full_width_and_mixed_queries_find_the_same_entry() {
    let workspace = real_workspace();
    for query in ["易地扶貧搬遷", "易地扶貧搬迁", "易地扶贫搬迁"] {
        let hits = workspace.search(query, &[]);
        assert_eq!(hits[0].heading, "易地扶贫搬迁工程", "query {query}");
        assert_eq!(hits[0].matched, "phrase");
        let snippet: Vec<char> = hits[0].snippet.chars().collect();
        let [start, end] = hits[0].highlights[0];
        // Highlights land on the characters as the page prints them.
        assert_eq!(
            snippet[start..end].iter().collect::<String>(),
            "易地扶贫搬迁"
        );
    }
    let hits = workspace.search("２８３４个贫困村", &[]);
    assert!(hits
        .iter()
        .any(|h| h.heading == "三到村三到户扶贫" && h.matched == "phrase"));
}

#[test]
fn human_output_is_stable() {
    let workspace = real_workspace();
    let output = yearbook()
        .args(["search", "--color", "never", "--limit", "2", "--index"])
        .arg(workspace.index())
        .arg("易地扶贫搬迁")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    insta::assert_snapshot!(String::from_utf8(output.stdout).unwrap());
}

#[test]
fn color_only_when_asked_and_never_with_no_color() {
    let workspace = real_workspace();
    let run = |color: &str, no_color: bool| {
        let mut command = yearbook();
        command
            .args(["search", "--color", color, "--index"])
            .arg(workspace.index())
            .arg("搬迁");
        if no_color {
            command.env("NO_COLOR", "1");
        }
        String::from_utf8(command.output().unwrap().stdout).unwrap()
    };
    assert!(run("always", false).contains("\u{1b}["));
    // Not a terminal: auto means no colour.
    assert!(!run("auto", false).contains("\u{1b}["));
    assert!(!run("auto", true).contains("\u{1b}["));
}

#[test]
fn an_entry_whose_text_is_in_its_sub_parts_has_their_snippet() {
    let workspace = real_workspace();
    let hits = workspace.search("易地扶贫搬迁", &["--limit", "20"]);
    let entry = hits
        .iter()
        .find(|hit| hit.heading == "创新扶贫体制机制" && hit.subheading.is_none())
        .expect("the entry is a hit by the word 扶贫 in its heading");
    assert!(
        entry.snippet.starts_with("把建档立卡作为精准扶贫"),
        "{}",
        entry.snippet
    );
    let chars: Vec<char> = entry.snippet.chars().collect();
    let highlighted: Vec<String> = entry
        .highlights
        .iter()
        .map(|[start, end]| chars[*start..*end].iter().collect())
        .collect();
    assert!(
        highlighted.iter().any(|text| text == "扶贫"),
        "{highlighted:?}"
    );
}

#[test]
fn show_prints_the_whole_entry_with_its_parts() {
    let workspace = real_workspace();
    let hits = workspace.search("创新扶贫体制机制", &[]);
    let entry = hits.iter().find(|h| h.subheading.is_none()).unwrap();
    let output = yearbook()
        .args(["show", "--color", "never", "--index"])
        .arg(workspace.index())
        .arg(&entry.id)
        .output()
        .unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.starts_with("内蒙古年鉴 › 2017卷 › 农牧林水 › 扶贫开发 › 【创新扶贫体制机制】"));
    for subhead in SUBHEADS {
        assert!(text.contains(subhead));
    }
    assert!(text.contains("撰稿人:高凤义"));
    let missing = yearbook()
        .args(["show", "--index"])
        .arg(workspace.index())
        .arg("no-such-id")
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no entry with id no-such-id"));
}

#[test]
fn exclusions_and_required_phrases_follow_grep() {
    let workspace = real_workspace();
    let with = grep("扶贫");
    let without: BTreeSet<_> = with.difference(&grep("金融")).cloned().collect();
    let hits = workspace.search("扶贫 -金融", &[]);
    let phrase: BTreeSet<_> = hits
        .iter()
        .filter(|h| h.matched == "phrase")
        .map(key)
        .collect();
    assert_eq!(phrase, without);
    assert!(hits.iter().all(|hit| !grep("金融").contains(&key(hit))));

    let required = workspace.search("\"嘎查村\" 扶贫", &[]);
    let both: BTreeSet<_> = grep("嘎查村")
        .intersection(&grep("扶贫"))
        .cloned()
        .collect();
    let found: BTreeSet<_> = required.iter().map(key).collect();
    assert!(
        found.is_subset(&grep("嘎查村")),
        "a quoted part is required"
    );
    let phrase: BTreeSet<_> = required
        .iter()
        .filter(|h| h.matched == "phrase")
        .map(key)
        .collect();
    assert_eq!(phrase, both);
}
