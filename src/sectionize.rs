//! Splits a page's lines into entries (条目) and their sub-parts, and reads its place.
//!
//! An entry starts at a `【heading】` line (or a heading that lost its opening `【`, as on the
//! real 2017 page) and runs until the next entry, the author line or site chrome. Inside an
//! entry, a short un-bracketed head followed by a run of spaces (U+00A0, U+3000) starts a
//! sub-part: `精准识别贫困机制   把建档立卡作为…`. The trail, the volume line, the title and
//! the author line (`(撰稿人:高凤义)`) are metadata, never entry text; footer and statement
//! lines (`版权所有`, `ICP备`, `声明:` …) are chrome and end the current entry. Pages that show
//! their content twice yield each entry once.

use std::collections::HashSet;
use std::sync::LazyLock;

use regex::Regex;

use crate::parse::Page;
use crate::place::{parse_trail, volume_year, Place};

/// One entry of a page.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Entry {
    /// The heading without its brackets.
    pub heading: String,
    /// Text before the first sub-head (the whole text when there are none).
    pub lead: String,
    /// Sub-parts introduced by un-bracketed sub-heads.
    pub parts: Vec<Part>,
}

/// A sub-part of an entry.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Part {
    pub subheading: String,
    pub body: String,
}

/// What a page yields.
#[derive(Debug, Default, Clone)]
pub struct Sectioned {
    pub place: Place,
    pub entries: Vec<Entry>,
}

static ENTRY_HEADING: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^【([^【】]{1,60})】(.*)$").unwrap());
static BROKEN_HEADING: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^([^【】\s，。；、,;：:“”《》（）()]{2,30})】(.*)$").unwrap());
static SUBHEAD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^([^\s，。；：、,;:！？!?“”\x22（）()【】《》]{2,30})[\s\x{a0}\x{3000}]{2,}(\S.*)$",
    )
    .unwrap()
});
static AUTHOR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[（(]?\s*(?:撰稿人|撰稿|供稿人|供稿|撰文|撰写)\s*[:：]?\s*([^）)]+?)\s*[）)]?$")
        .unwrap()
});
static CHROME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"^(?:版权所有|版權所有|Copyright|©)",
        r"|^(?:主办单位|主辦單位|承办单位|技术支持|技術支持|声明|聲明|政府网站标识码|网站标识码|发布时间|發布時間|来源|浏览次数|点击数)\s*[:：]",
        r"|转载请注明|ICP备|ICP证|ICP證|公安备案|公网安备",
        r"|^【?(?:打印|关闭)(?:本页|窗口)?】?$|^(?:联系我们|网站地图)$",
    ))
    .unwrap()
});

const BULLETS: &[char] = &['•', '·', '●', '◆', '■', '▪', '○', '◇'];

fn is_space(c: char) -> bool {
    c.is_whitespace() || c == '\u{a0}' || c == '\u{3000}'
}

/// Trims spaces (including U+00A0 and U+3000) and a leading bullet.
fn clean(line: &str) -> (&str, bool) {
    let trimmed = line.trim_matches(is_space);
    match trimmed.strip_prefix(BULLETS) {
        Some(rest) => (rest.trim_matches(is_space), true),
        None => (trimmed, false),
    }
}

fn is_chrome(line: &str) -> bool {
    line.chars().count() <= 80 && CHROME.is_match(line)
}

/// Recognises an entry heading line; returns the heading and the text after it.
pub fn entry_heading(line: &str) -> Option<(String, String)> {
    let captures = ENTRY_HEADING
        .captures(line)
        .or_else(|| BROKEN_HEADING.captures(line))?;
    let heading = captures[1].trim_matches(is_space).to_string();
    if heading.is_empty() {
        return None;
    }
    Some((heading, captures[2].trim_matches(is_space).to_string()))
}

/// Recognises a sub-head line; returns the sub-head and the text after it.
pub fn subhead(line: &str) -> Option<(String, String)> {
    let captures = SUBHEAD.captures(line)?;
    Some((
        captures[1].to_string(),
        captures[2].trim_matches(is_space).to_string(),
    ))
}

fn append(text: &mut String, line: &str) {
    if !text.is_empty() {
        text.push('\n');
    }
    text.push_str(line);
}

/// Splits a page into entries and reads its place.
pub fn sectionize(page: &Page) -> Sectioned {
    let mut trail: Option<Place> = None;
    let mut volume_line: Option<String> = None;
    let mut bullet_title: Option<String> = None;
    let mut author: Option<String> = None;
    let mut entries: Vec<Entry> = Vec::new();
    let mut current: Option<Entry> = None;

    for raw in &page.lines {
        let (line, bulleted) = clean(raw);
        if line.is_empty() {
            continue;
        }
        if trail.is_none() && current.is_none() {
            if let Some(place) = parse_trail(line) {
                trail = Some(place);
                continue;
            }
        }
        if is_chrome(line) {
            entries.extend(current.take());
            continue;
        }
        if let Some(captures) = AUTHOR.captures(line) {
            if line.chars().count() <= 40 {
                author.get_or_insert_with(|| captures[1].trim().to_string());
                entries.extend(current.take());
                continue;
            }
        }
        if let Some((heading, rest)) = entry_heading(line) {
            entries.extend(current.take());
            current = Some(Entry {
                heading,
                lead: rest,
                parts: Vec::new(),
            });
            continue;
        }
        match current.as_mut() {
            Some(entry) => match subhead(line) {
                Some((subheading, body)) => entry.parts.push(Part { subheading, body }),
                None => match entry.parts.last_mut() {
                    Some(part) => append(&mut part.body, line),
                    None => append(&mut entry.lead, line),
                },
            },
            None => {
                if volume_year(line).is_some() {
                    volume_line.get_or_insert_with(|| line.to_string());
                } else if bulleted && bullet_title.is_none() && line.chars().count() <= 30 {
                    bullet_title = Some(line.to_string());
                }
            }
        }
    }
    entries.extend(current.take());

    let mut seen = HashSet::new();
    entries.retain(|entry| seen.insert(entry.clone()));

    let mut place = trail.unwrap_or_default();
    if place.volume.is_none() {
        if let Some(volume) = volume_line {
            place.year = volume_year(&volume);
            place.volume = Some(volume);
        }
    }
    if let Some(title) = page.title.clone().or(bullet_title) {
        place.article = Some(title);
    }
    place.author = author;
    Sectioned { place, entries }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(lines: &[&str]) -> Page {
        Page {
            title: None,
            lines: lines.iter().map(|l| l.to_string()).collect(),
        }
    }

    #[test]
    fn splits_entries_subheads_author_and_chrome() {
        let sectioned = sectionize(&page(&[
            "当前位置:某区情网 / 某市年鉴 / 2019卷 / 经济",
            "2019卷",
            "  • 农业",
            "  • 【概况】\u{a0} 全市农业。",
            "    【机制】\u{a0}",
            "    识别机制\u{a0}\u{a0}\u{a0} 识别正文。",
            "    帮扶机制\u{a0}\u{a0} 帮扶正文。",
            "    续行。",
            "    三到户扶贫】\u{a0} 无括号正文。",
            "    (撰稿人:张三)",
            "  • 声明: 转载请注明来源",
            "  • 【概况】\u{a0} 全市农业。",
            "版权所有:某办公室",
        ]));
        let place = &sectioned.place;
        assert_eq!(place.yearbook.as_deref(), Some("某市年鉴"));
        assert_eq!(place.article.as_deref(), Some("农业"));
        assert_eq!(place.author.as_deref(), Some("张三"));
        let headings: Vec<&str> = sectioned
            .entries
            .iter()
            .map(|e| e.heading.as_str())
            .collect();
        assert_eq!(headings, ["概况", "机制", "三到户扶贫"]);
        let parts = &sectioned.entries[1].parts;
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[1].subheading, "帮扶机制");
        assert_eq!(parts[1].body, "帮扶正文。\n续行。");
        assert_eq!(sectioned.entries[1].lead, "");
    }

    #[test]
    fn body_text_mentioning_support_is_not_chrome() {
        let sectioned = sectionize(&page(&[
            "【科技】为企业提供技术支持。",
            "技术支持单位逐步增加，覆盖全市。",
        ]));
        assert!(
            sectioned.entries[0].lead.contains("覆盖全市"),
            "{:?}",
            sectioned.entries
        );
    }
}
