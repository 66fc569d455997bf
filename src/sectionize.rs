//! Splits a page's lines into entries (条目) and their sub-parts, and reads its place.
//!
//! An entry starts at a `【heading】` line (or a heading that lost its opening `【`, as on the
//! real 2017 page) and runs until the next entry, the author line or site chrome. Inside an
//! entry, a short un-bracketed head followed by a run of spaces (U+00A0, U+3000) starts a
//! sub-part: `精准识别贫困机制   把建档立卡作为…`. The trail, the volume line, the title and
//! the author line (`(撰稿人:高凤义)`) are metadata, never entry text; footer and statement
//! lines (`版权所有`, `ICP备`, `声明:` …) are chrome and end the current entry. Pages that show
//! their content twice yield each entry once.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use regex::Regex;
use xxhash_rust::xxh3::Xxh3DefaultBuilder;

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

static BROKEN_HEADING: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^([^【】\s，。；、,;：:“”《》（）()]{2,30})】(.*)$").unwrap());
static AUTHOR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[（(]?\s*(?:撰稿人|撰稿|供稿人|供稿|撰文|撰写)\s*[:：]?\s*([^）)]+?)\s*[）)]?$")
        .unwrap()
});
static CHROME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"^(?:版权所有|版權所有|Copyright|©)",
        r"|^(?:主办单位|主辦單位|主办|主辦|承办单位|承辦單位|技术支持|技術支持|声明|聲明|政府网站标识码|网站标识码|發布時間|发布时间|发布日期|發布日期|来源|來源|信息来源|浏览次数|瀏覽次數|点击数|點擊數|分享到|上一篇|下一篇)\s*[:：]",
        r"|转载请注明|轉載請註明|ICP备|ICP備|ICP证|ICP證|公安备案|公網安備|公网安备",
        r"|^(?:【\s*(?:(?:打印|关闭|關閉|返回|收藏|加入收藏|推荐|推薦|分享|保存|纠错|糾錯|评论|評論|字体|字體|字号|字號)[^【】]{0,4}|[大中小])\s*】\s*)+$",
        r"|^(?:打印|关闭|關閉)(?:本页|本頁|窗口)$|^(?:联系我们|聯繫我們|网站地图|網站地圖|相关文章|相關文章|相关链接|相關鏈接|返回顶部)$",
    ))
    .unwrap()
});
/// A line of page metadata (`时间：2018-07-03　来源：某网　字号：大 中 小`): a metadata key
/// and a colon, then a date or a second key. A single key alone (`时间：`) may begin text.
static META_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"^(?:发布|發布|更新|上传|上傳)?(?:时间|時間|日期)\s*[:：]\s*\d{4}\s*[-/.年]\s*\d{1,2}",
        r"|^(?:发布|發布|更新)?(?:时间|時間|日期|作者|编辑|編輯|责任编辑|責任編輯|信息来源|來源|来源|点击|點擊|阅读|閱讀|浏览|瀏覽)\s*[:：].{0,60}(?:来源|來源|作者|点击|點擊|浏览|瀏覽|阅读|閱讀|字号|字號|字体|字體|编辑|編輯)(?:数|數|次数|次數|量)?\s*[:：]",
    ))
    .unwrap()
});
/// A 大事记 day: `1日`, `3—5日`, `3―4日`, `9月1日`, then its text.
static DAY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^((?:\d{1,2}月)?\d{1,2}(?:\s*[—―–\-~～至]\s*(?:\d{1,2}月)?\d{1,2})?日)(?:[\s\x{a0}\x{3000}]+(.*)|([^\s\d，,、：:日].*))?$",
    )
    .unwrap()
});
/// A further entry of the same day in a 大事记: `△`, `□`, `▲`.
static SAME_DAY: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^([△□▲▽])[\s\x{a0}\x{3000}]*(.*)$").unwrap());

/// Chinese numerals of numbered headings.
const NUMERALS: &str = "一二三四五六七八九十百零〇两";

/// Numbering kinds, highest first: 第X编/篇, 第X章, 第X节, 一、, （一）.
static NUMBERED: LazyLock<[Regex; 5]> = LazyLock::new(|| {
    const N: &str = "[一二三四五六七八九十百零〇两]+";
    [
        Regex::new(&format!(r"^第(?:{N}|\d+)[编編篇](?:\s|$|[^，。])")).unwrap(),
        Regex::new(&format!(r"^第(?:{N}|\d+)章(?:\s|$|[^，。])")).unwrap(),
        Regex::new(&format!(r"^第(?:{N}|\d+)[节節](?:\s|$|[^，。])")).unwrap(),
        Regex::new(&format!(r"^{N}、")).unwrap(),
        Regex::new(&format!(r"^[（(]{N}[）)]")).unwrap(),
    ]
});
/// Numbered headings are short; a longer line that starts with a number is a paragraph.
const NUMBERED_MAX_CHARS: usize = 40;

const BULLETS: &[char] = &['•', '·', '●', '◆', '■', '▪', '○', '◇'];
/// What ends a line of prose for good, when joining hard-wrapped lines: CJK sentence and
/// clause ends (an ASCII `.` is more often a decimal point or part of an address).
const WRAP_CLOSING: &[char] = &[
    '。', '！', '？', '!', '?', '；', ';', '：', ':', '…', '”', '’', '」', '』', '）', ')', '》',
];

// Most lines are prose that no pattern below matches. Running a regex costs a cache from a
// shared pool and, for captures, an allocation, even when it fails at the first character;
// these checks of what each pattern must start with or contain rule such lines out first.

/// `DAY` starts with a digit (`\d` is any Unicode decimal digit).
fn starts_with_digit(line: &str) -> bool {
    line.starts_with(char::is_numeric)
}

fn is_day(line: &str) -> bool {
    starts_with_digit(line) && DAY.is_match(line)
}

fn starts_same_day(line: &str) -> bool {
    line.starts_with(['△', '□', '▲', '▽'])
}

fn is_same_day(line: &str) -> bool {
    starts_same_day(line) && SAME_DAY.is_match(line)
}

/// `AUTHOR` names the writer with 撰… or 供….
fn may_be_author(line: &str) -> bool {
    // Two searches for one character each (a byte search) cost less than one for either
    // (a decode of every character): most lines are long paragraphs holding neither.
    line.contains('撰') || line.contains('供')
}

/// A line naming the page's author is short: at most this many characters.
const AUTHOR_LINE_MAX_CHARS: usize = 40;

/// Whether `line` may hold at most `max_chars` characters, judged by its length alone: a
/// character takes at most four bytes, so a paragraph is ruled out before any scan of its
/// text.
fn may_fit_in(line: &str, max_chars: usize) -> bool {
    line.len() <= 4 * max_chars
}

fn is_author(line: &str) -> bool {
    may_be_author(line) && AUTHOR.is_match(line)
}

/// Characters a sub-head's head never holds: clause punctuation and brackets.
const NOT_IN_SUBHEAD: &[char] = &['，', '。', '；', '：', ',', ';', ':', '【', '】'];

/// Splits a sub-head line into its head and its text: the head runs to the line's first
/// space and holds two to thirty characters, none of [`NOT_IN_SUBHEAD`]; at least two spaces
/// follow; the text is the rest of the line (empty when the head stands alone on its line).
///
/// This is the pattern `^([^\s，。；：,;:【】]{2,30}?)\s{2,}(\S.*)?$` read by hand: it is
/// tried on every line of a page, and as a regex with captures it cost about three times
/// the instructions (callgrind, with the copies `subhead` makes).
fn split_subhead(line: &str) -> Option<(&str, &str)> {
    // The first space, looked for only where a head can end: most lines are long paragraphs.
    let (head_chars, (head_end, _)) = line
        .char_indices()
        .take(31)
        .enumerate()
        .find(|(_, (_, c))| c.is_whitespace())?;
    let (head, after) = line.split_at(head_end);
    let text = after.trim_start_matches(char::is_whitespace);
    let spaces = after[..after.len() - text.len()].chars().count();
    (head_chars >= 2 && spaces >= 2 && !head.contains(NOT_IN_SUBHEAD) && !text.contains('\n'))
        .then_some((head, text))
}

fn is_space(c: char) -> bool {
    c.is_whitespace() || c == '\u{a0}' || c == '\u{3000}'
}

/// Trims spaces (including U+00A0 and U+3000) and a leading bullet.
fn clean(line: &str) -> (&str, bool) {
    let trimmed = line.trim_matches(is_space);
    // `•` is always a bullet; `·` and the like only when a space follows (a line may start
    // with the `·` of a name cut by hard wrapping: `·纳瓦夫`).
    match trimmed.strip_prefix(BULLETS) {
        Some(rest) if trimmed.starts_with('•') || rest.is_empty() || rest.starts_with(is_space) => {
            (rest.trim_matches(is_space), true)
        }
        _ => (trimmed, false),
    }
}

/// What every line `CHROME` or `META_LINE` matches starts with (the first characters of
/// their anchored words)...
const CHROME_FIRST: &[char] = &[
    '版', 'C', '©', '主', '承', '技', '声', '聲', '政', '网', '網', '發', '发', '来', '來', '信',
    '浏', '瀏', '点', '點', '分', '上', '下', '【', '打', '关', '關', '联', '聯', '相', '返', '更',
    '时', '時', '日', '作', '编', '編', '责', '責', '阅', '閱',
];
/// ... unless it holds one of the words `CHROME` finds anywhere, which start with these.
const CHROME_ANYWHERE_START: &[&str] = &["ICP", "转载", "轉載", "公安", "公網", "公网"];

/// Whether `line` may be one `CHROME` or `META_LINE` matches: the check before the regexes.
fn may_be_chrome(line: &str) -> bool {
    line.starts_with(CHROME_FIRST)
        || CHROME_ANYWHERE_START
            .iter()
            .any(|start| line.contains(start))
}

/// Chrome lines are short: at most this many characters.
const CHROME_MAX_CHARS: usize = 80;

fn is_chrome(line: &str) -> bool {
    may_fit_in(line, CHROME_MAX_CHARS)
        && may_be_chrome(line)
        && line.chars().count() <= CHROME_MAX_CHARS
        && (CHROME.is_match(line) || META_LINE.is_match(line))
}

/// Words that open a report's preamble, never its title.
const PREAMBLE_HEADINGS: &[&str] = &[
    "前言", "概述", "概況", "概况", "序", "序言", "引言", "綜述", "综述", "總述", "总述",
];

/// A line that can be a page's title: short, not a sentence, not a numbered heading.
fn is_title_like(line: &str) -> bool {
    line.chars().count() <= 40
        && !line.ends_with(['。', '！', '？', '；', '：', ':', '，', ','])
        && !PREAMBLE_HEADINGS.contains(&line)
        && numbered_kind(line).is_none()
        && !is_day(line)
        && !is_same_day(line)
}

/// Splits `【heading】rest` at the bracket that closes the opening one, so that headings
/// holding brackets of their own (`【【聚焦两会】代表委员…】`) stay whole.
fn bracketed(line: &str) -> Option<(&str, &str)> {
    let inner = line.strip_prefix('【')?;
    let mut depth = 1usize;
    for (at, c) in inner.char_indices() {
        match c {
            '【' => depth += 1,
            '】' => {
                depth -= 1;
                if depth == 0 {
                    return Some((&inner[..at], &inner[at + '】'.len_utf8()..]));
                }
            }
            _ => {}
        }
    }
    // Unbalanced (a heading cut short inside an inner bracket): the first `】` that is
    // followed by spaces or the end of the line closes the heading.
    let mut from = 0;
    while let Some(found) = inner[from..].find('】') {
        let at = from + found;
        let rest = &inner[at + '】'.len_utf8()..];
        if rest.is_empty() || rest.starts_with(is_space) {
            return Some((&inner[..at], rest));
        }
        from = at + '】'.len_utf8();
    }
    None
}

/// Recognises an entry heading line; returns the heading and the text after it.
///
/// `【】` alone (an untitled piece, such as a poem 無題) is an entry with an empty heading.
pub fn entry_heading(line: &str) -> Option<(String, String)> {
    if let Some((heading, rest)) = bracketed(line) {
        if heading.chars().count() <= 80 {
            return Some((
                heading.trim_matches(is_space).to_string(),
                rest.trim_matches(is_space).to_string(),
            ));
        }
    }
    if !line.contains('】') {
        return None;
    }
    let captures = BROKEN_HEADING.captures(line)?;
    let heading = captures[1].trim_matches(is_space).to_string();
    if heading.is_empty() {
        return None;
    }
    Some((heading, captures[2].trim_matches(is_space).to_string()))
}

/// Recognises a sub-head line; returns the sub-head and the text after it.
///
/// `line` is the line as the page has it (leading spaces may remain): a head followed by a
/// run of spaces and nothing else is a sub-head whose text is empty.
pub fn subhead(line: &str) -> Option<(String, String)> {
    let line = line.trim_start_matches(is_space);
    let line = line
        .strip_prefix(BULLETS)
        .map_or(line, |rest| rest.trim_start_matches(is_space));
    let (head, body) = split_subhead(line)?;
    if head.ends_with([
        '。', '！', '？', '!', '?', '；', ';', '：', ':', '，', ',', '…',
    ]) {
        return None;
    }
    Some((head.to_string(), body.trim_matches(is_space).to_string()))
}

/// A 大事记 line: the day (or the same-day mark) and its text.
fn chronicle_line(line: &str) -> Option<(String, String)> {
    if let Some(captures) = starts_with_digit(line)
        .then(|| DAY.captures(line))
        .flatten()
    {
        let rest = captures
            .get(2)
            .or_else(|| captures.get(3))
            .map_or("", |m| m.as_str());
        return Some((
            captures[1].to_string(),
            rest.trim_matches(is_space).to_string(),
        ));
    }
    if !starts_same_day(line) {
        return None;
    }
    let captures = SAME_DAY.captures(line)?;
    Some((
        captures[1].to_string(),
        captures[2].trim_matches(is_space).to_string(),
    ))
}

/// The numbering kind of a short numbered heading line (0 = highest), if it is one.
fn numbered_kind(line: &str) -> Option<usize> {
    if !line.starts_with(|c: char| c == '第' || c == '（' || c == '(' || NUMERALS.contains(c)) {
        return None;
    }
    if line.chars().count() >= NUMBERED_MAX_CHARS {
        return None;
    }
    NUMBERED.iter().position(|pattern| pattern.is_match(line))
}

/// How a page marks its entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// `【heading】` entries (the usual yearbook page).
    Bracketed,
    /// 大事记: a day starts an entry, `△` another entry of the same day.
    Chronicle,
    /// Reports and 志 chapters: numbered headings of the given kind start entries.
    Numbered(usize),
    /// No entry marks at all: the text under a short heading line is one entry.
    Plain,
}

/// Reads the whole page once to tell how it marks its entries.
fn page_mode(lines: &[(&str, &str, bool)]) -> Mode {
    let mut bracketed = 0;
    let mut days = 0;
    let mut same_days = 0;
    let mut numbered = [0usize; 5];
    for (line, _, _) in lines {
        if bracketed_heading(line) {
            bracketed += 1;
        } else if is_day(line) {
            days += 1;
        } else if is_same_day(line) {
            same_days += 1;
        } else if let Some(kind) = numbered_kind(line) {
            numbered[kind] += 1;
        }
    }
    if bracketed > 0 {
        return Mode::Bracketed;
    }
    if days >= 2 || (days >= 1 && same_days >= 1) {
        return Mode::Chronicle;
    }
    // The highest numbering present splits the page, except that a single 第X编/章/节 over
    // lower numbering is the page's own title (`第四章 档案`), not one of its parts.
    let lower = |kind: usize| numbered[kind + 1..].iter().any(|&count| count > 0);
    match (0..numbered.len())
        .find(|&kind| numbered[kind] >= 2 || (numbered[kind] == 1 && (kind >= 3 || !lower(kind))))
    {
        Some(kind) => Mode::Numbered(kind),
        None => Mode::Plain,
    }
}

fn bracketed_heading(line: &str) -> bool {
    // Every entry heading holds a `】`: most lines are ruled out before the chrome regexes.
    line.contains('】') && !is_chrome(line) && entry_heading(line).is_some()
}

/// The width a hard-wrapped page wraps its lines at, if it is one: most lines of twelve
/// characters or more share one length (or one less, a trailing space), and hardly any
/// line is longer, as text cut at a fixed width is.
fn wrap_width(raws: &[&str]) -> Option<usize> {
    let lengths: Vec<usize> = raws
        .iter()
        .map(|raw| raw.chars().count())
        .filter(|&n| n >= 12)
        .collect();
    let mut counts: HashMap<usize, usize> = HashMap::new();
    for &n in &lengths {
        *counts.entry(n).or_default() += 1;
    }
    let (&width, _) = counts
        .iter()
        .max_by_key(|&(&n, &count)| (count + counts.get(&(n + 1)).copied().unwrap_or(0), n))?;
    let width = if counts.contains_key(&(width + 1)) {
        width + 1
    } else {
        width
    };
    let full: Vec<&str> = raws
        .iter()
        .copied()
        .filter(|raw| {
            let n = raw.chars().count();
            n + 1 >= width && n <= width
        })
        .collect();
    let longer = lengths.iter().filter(|&&n| n > width).count();
    // Text cut at a width breaks mid-sentence; verse and lists of equal lines do not.
    let mid_sentence = full
        .iter()
        .filter(|raw| {
            let raw = raw.trim_end();
            !raw.ends_with(WRAP_CLOSING) && !raw.ends_with(['，', '、', ','])
        })
        .count();
    (width >= 16
        && full.len() >= 3
        && full.len() * 3 >= lengths.len()
        && longer <= 1 + lengths.len() / 10
        && mid_sentence * 2 >= full.len())
    .then_some(width)
}

/// A `【heading` cut before its `】`: the next line finishes it (`登樓賦】張九齡`).
fn heading_continues(previous: Option<&UnwrappedLine>, line: &str) -> bool {
    previous.is_some_and(|(previous, _, _)| {
        previous.starts_with('【') && !previous.contains('】') && previous.chars().count() >= 12
    }) && line
        .find('】')
        .is_some_and(|at| !line[..at].contains('【') && line[..at].chars().count() <= 40)
}

/// A line that starts something of its own: an entry, a day, a numbered heading, an author
/// line.
fn opens_something(line: &str) -> bool {
    line.starts_with('【')
        || is_day(line)
        || is_same_day(line)
        || numbered_kind(line).is_some()
        || is_author(line)
}

/// A paragraph's first line, set in by spaces (a hard-wrapped line that continues its
/// paragraph starts at the margin).
fn indented(raw: &str) -> bool {
    raw.starts_with(['\u{3000}', '\u{a0}', '\t']) || raw.starts_with("  ")
}

/// A line after [`unwrap_lines`]: cleaned, as the page has it, and whether it was bulleted.
/// Both texts borrow the page's line unless lines were joined into it.
type UnwrappedLine<'a> = (Cow<'a, str>, Cow<'a, str>, bool);

/// Joins the lines of a hard-wrapped page back into paragraphs: a line cut at the page's
/// wrap width (not ending a sentence) continues on the next line unless that one is set in,
/// bulleted or after a blank line. Returns (line, raw line, bulleted) triples, blank lines
/// dropped.
fn unwrap_lines(raws: &[String]) -> Vec<UnwrappedLine<'_>> {
    let trimmed: Vec<&str> = raws.iter().map(|raw| raw.as_str()).collect();
    let width = wrap_width(&trimmed);
    let mut out: Vec<UnwrappedLine> = Vec::with_capacity(raws.len());
    let mut gap = true;
    // The previous physical line: whether it was cut at the wrap width, and whether it
    // ended a sentence.
    let mut cut = false;
    let mut closed = false;
    // A page that sets its paragraphs in says with its margin where a paragraph starts:
    // there a full line that happens to end on a 。 or ” still continues.
    let indents = width.is_some() && raws.iter().filter(|raw| indented(raw)).count() >= 3;
    for raw in raws {
        let (line, bulleted) = clean(raw);
        if line.is_empty() {
            gap = true;
            continue;
        }
        let joins = !gap
            && !bulleted
            && (cut
                && !indented(raw)
                && bracketed(line).is_none()
                && (!closed || (indents && !opens_something(line)))
                || heading_continues(out.last(), line));
        gap = false;
        cut = width.is_some_and(|width| {
            let n = raw.chars().count();
            n + 1 >= width && n <= width
        });
        closed = line.ends_with(WRAP_CLOSING);
        if joins {
            let (previous, previous_raw, _) = out.last_mut().expect("checked above");
            // A space the cut fell on stays one space.
            let space = previous_raw.ends_with(|c: char| c.is_ascii_whitespace())
                || raw.starts_with(|c: char| c.is_ascii_whitespace());
            let joint = if space { " " } else { "" };
            let previous = previous.to_mut();
            previous.push_str(joint);
            previous.push_str(line);
            let previous_raw = previous_raw.to_mut();
            let kept = previous_raw.trim_end().len();
            previous_raw.truncate(kept);
            previous_raw.push_str(joint);
            previous_raw.push_str(raw.trim());
        } else {
            out.push((Cow::Borrowed(line), Cow::Borrowed(raw.as_str()), bulleted));
        }
    }
    out
}

/// Appends a paragraph to an entry's text.
fn append(text: &mut String, line: &str) {
    if !text.is_empty() {
        text.push('\n');
    }
    text.push_str(line);
}

/// Builds the entry that opens a numbered page from the lines before its first heading:
/// a short first line (`前言`, `概述`) is its heading, else the article title is (when
/// `title` is given).
fn preamble(lines: &[String], title: Option<&str>) -> Option<Entry> {
    let (first, rest) = lines.split_first()?;
    let heading_like = first.chars().count() <= 12
        && !first.contains(['，', '。', '；', '：', ',', ';', ':', ' ', '\u{3000}']);
    let (heading, body) = if heading_like {
        if rest.is_empty() {
            return None;
        }
        (first.clone(), rest)
    } else {
        (title?.to_string(), lines)
    };
    Some(Entry {
        heading,
        lead: body.join("\n"),
        parts: Vec::new(),
    })
}

/// Drops the second showing of a page's content. A page shown twice yields the same run of
/// entries again: that run goes. Otherwise an entry identical to an earlier one goes, except
/// in a 大事记, where two days may well carry the same item.
fn remove_repeats(entries: &mut Vec<Entry>, mode: Mode) {
    let n = entries.len();
    for copies in [2, 3] {
        if n >= copies && n.is_multiple_of(copies) {
            let period = n / copies;
            if (period..n).all(|at| entries[at] == entries[at - period]) {
                entries.truncate(period);
                return;
            }
        }
    }
    if mode != Mode::Chronicle {
        // Entries are compared where they stand, not copied into the set, and hashed with
        // xxh3: this runs over every page's whole text.
        let mut seen = HashSet::with_capacity_and_hasher(n, Xxh3DefaultBuilder);
        let kept: Vec<bool> = entries
            .iter()
            .map(|entry| {
                let trivial = entry.lead.is_empty() && entry.parts.is_empty();
                trivial || seen.insert(entry)
            })
            .collect();
        drop(seen);
        let mut kept = kept.into_iter();
        entries.retain(|_| kept.next().expect("one flag per entry"));
    }
}

/// Splits a page into entries and reads its place.
pub fn sectionize(page: &Page) -> Sectioned {
    let unwrapped = unwrap_lines(&page.lines);
    let lines: Vec<(&str, &str, bool)> = unwrapped
        .iter()
        .map(|(line, raw, bulleted)| (line.as_ref(), raw.as_ref(), *bulleted))
        .collect();
    let mode = page_mode(&lines);

    let mut trail: Option<Place> = None;
    let mut volume_line: Option<String> = None;
    let mut bullet_title: Option<String> = None;
    let mut author: Option<String> = None;
    let mut entries: Vec<Entry> = Vec::new();
    let mut current: Option<Entry> = None;
    // Lines after the page's own metadata and before the first entry (a numbered page's
    // preamble).
    let mut pending: Vec<String> = Vec::new();
    // A plain title line: on a page whose markup names no title, the first short line
    // after the trail (before any entry) is the article's title.
    let mut line_title: Option<String> = None;

    for &(line, raw, bulleted) in &lines {
        if trail.is_none() && current.is_none() {
            if let Some(place) = parse_trail(line) {
                trail = Some(place);
                pending.clear();
                continue;
            }
        }
        let author_line = (may_fit_in(line, AUTHOR_LINE_MAX_CHARS) && may_be_author(line))
            .then(|| AUTHOR.captures(line))
            .flatten()
            .filter(|_| line.chars().count() <= AUTHOR_LINE_MAX_CHARS);
        if author_line.is_some() || is_chrome(line) {
            if let Some(captures) = author_line {
                author.get_or_insert_with(|| captures[1].trim().to_string());
            }
            entries.extend(current.take());
            if mode == Mode::Plain {
                // Only a headed text makes an entry: a lone sentence is not one.
                entries.extend(preamble(&pending, None));
            }
            pending.clear();
            continue;
        }
        let opened = match mode {
            Mode::Bracketed => entry_heading(line),
            Mode::Chronicle => chronicle_line(line),
            Mode::Numbered(kind) => {
                (numbered_kind(line) == Some(kind)).then(|| (line.to_string(), String::new()))
            }
            Mode::Plain => None,
        };
        if let Some((heading, rest)) = opened {
            entries.extend(current.take());
            if !pending.is_empty() {
                let title = page
                    .title
                    .as_deref()
                    .or(bullet_title.as_deref())
                    .or(line_title.as_deref());
                entries.extend(preamble(&pending, title));
                pending.clear();
            }
            current = Some(Entry {
                heading,
                lead: rest,
                parts: Vec::new(),
            });
            continue;
        }
        match current.as_mut() {
            Some(entry) => {
                let sub = if mode == Mode::Chronicle {
                    None
                } else {
                    subhead(raw)
                };
                match sub {
                    Some((subheading, body)) => entry.parts.push(Part { subheading, body }),
                    None => match entry.parts.last_mut() {
                        Some(part) => append(&mut part.body, line),
                        None => append(&mut entry.lead, line),
                    },
                }
            }
            None => {
                if volume_year(line).is_some() {
                    volume_line.get_or_insert_with(|| line.to_string());
                    pending.clear();
                } else if page.title.as_deref() == Some(line) {
                    pending.clear();
                } else if bulleted && bullet_title.is_none() && line.chars().count() <= 60 {
                    bullet_title = Some(line.to_string());
                    pending.clear();
                } else if bulleted && bullet_title.as_deref() == Some(line) {
                    pending.clear();
                } else if !bulleted
                    && trail.is_some()
                    && pending.is_empty()
                    && page.title.is_none()
                    && bullet_title.is_none()
                    && line_title.is_none()
                    && entries.is_empty()
                    && is_title_like(line)
                {
                    line_title = Some(line.to_string());
                } else if matches!(mode, Mode::Numbered(_) | Mode::Plain) && author.is_none() {
                    // After the author line only site chrome and lists of other pages follow.
                    pending.push(line.to_string());
                }
            }
        }
    }
    entries.extend(current.take());
    if mode == Mode::Plain {
        // Only a headed text makes an entry: a lone sentence is not one.
        entries.extend(preamble(&pending, None));
    }
    remove_repeats(&mut entries, mode);

    let mut place = trail.unwrap_or_default();
    if place.volume.is_none() {
        if let Some(volume) = volume_line {
            place.year = volume_year(&volume);
            place.volume = Some(volume);
        }
    }
    if let Some(title) = page.title.clone().or(bullet_title).or(line_title) {
        place.article = Some(title);
    }
    place.author = author;
    Sectioned { place, entries }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Characters that make up every pattern's openings, and prose around them.
    const PIECES: &[&str] = &[
        "撰稿",
        "供稿人",
        "：",
        ":",
        "（",
        "(",
        "）",
        "第",
        "三",
        "十",
        "章",
        "节",
        "、",
        "1",
        "２",
        "月",
        "日",
        "—",
        "△",
        "▲",
        "】",
        "【",
        " ",
        "  ",
        "\u{3000}",
        "\u{a0}",
        "扶贫",
        "。",
        "，",
        "工作",
        "a",
        "\t",
        "\n",
        "版权所有",
        "Copyright",
        "来源",
        "发布时间",
        "时间",
        "2018",
        "-",
        "ICP备",
        "转载请注明",
        "公网安备",
        "【打印】",
        "上一篇",
        "责任编辑",
        "字号",
        "网站地图",
    ];

    /// [`split_subhead`]'s pattern as a regex: the reading by hand must agree with it.
    static SUBHEAD: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^([^\s，。；：,;:【】]{2,30}?)[\s\x{a0}\x{3000}]{2,}(\S.*)?$").unwrap()
    });

    proptest! {
        /// The checks before each regex never rule out a line the regex matches, and the
        /// sub-head is read as its regex reads it.
        #[test]
        fn prefilters_never_reject_a_match(pieces in prop::collection::vec(prop::sample::select(PIECES), 0..24)) {
            let line: String = pieces.concat();
            let line = line.as_str();
            prop_assert!(!AUTHOR.is_match(line) || may_be_author(line));
            prop_assert!(!(CHROME.is_match(line) || META_LINE.is_match(line)) || may_be_chrome(line));
            prop_assert!(!DAY.is_match(line) || starts_with_digit(line));
            prop_assert!(!SAME_DAY.is_match(line) || starts_same_day(line));
            prop_assert!(!BROKEN_HEADING.is_match(line) || line.contains('】'));
            let by_regex = SUBHEAD.captures(line).map(|captures| {
                (captures.get(1).unwrap().as_str(), captures.get(2).map_or("", |m| m.as_str()))
            });
            prop_assert_eq!(split_subhead(line), by_regex);
            let numbered = NUMBERED.iter().any(|pattern| pattern.is_match(line));
            prop_assert_eq!(numbered_kind(line).is_some(), numbered && line.chars().count() < NUMBERED_MAX_CHARS);
        }
    }

    /// A line for every word of `CHROME` and `META_LINE`: each is chrome, past the check of
    /// its first characters too.
    #[test]
    fn every_chrome_word_passes_the_first_character_check() {
        let mut lines: Vec<String> = Vec::new();
        for word in ["版权所有", "版權所有", "Copyright", "©"] {
            lines.push(format!("{word} 2018 某区情网"));
        }
        for word in [
            "主办单位",
            "主辦單位",
            "主办",
            "主辦",
            "承办单位",
            "承辦單位",
            "技术支持",
            "技術支持",
            "声明",
            "聲明",
            "政府网站标识码",
            "网站标识码",
            "發布時間",
            "发布时间",
            "发布日期",
            "發布日期",
            "来源",
            "來源",
            "信息来源",
            "浏览次数",
            "瀏覽次數",
            "点击数",
            "點擊數",
            "分享到",
            "上一篇",
            "下一篇",
        ] {
            lines.push(format!("{word}：某某"));
        }
        for word in [
            "转载请注明",
            "轉載請註明",
            "ICP备",
            "ICP備",
            "ICP证",
            "ICP證",
            "公安备案",
            "公網安備",
            "公网安备",
        ] {
            lines.push(format!("本站{word}12345号"));
        }
        for line in [
            "【打印】【关闭】",
            "【大】【中】【小】",
            "打印本页",
            "关闭窗口",
            "關閉本頁",
            "联系我们",
            "聯繫我們",
            "网站地图",
            "網站地圖",
            "相关文章",
            "相關文章",
            "相关链接",
            "相關鏈接",
            "返回顶部",
        ] {
            lines.push(line.to_string());
        }
        for prefix in ["", "发布", "發布", "更新", "上传", "上傳"] {
            for key in ["时间", "時間", "日期"] {
                lines.push(format!("{prefix}{key}：2018-07-03"));
            }
        }
        for prefix in ["", "发布", "發布", "更新"] {
            for key in [
                "时间",
                "時間",
                "日期",
                "作者",
                "编辑",
                "編輯",
                "责任编辑",
                "責任編輯",
                "信息来源",
                "來源",
                "来源",
                "点击",
                "點擊",
                "阅读",
                "閱讀",
                "浏览",
                "瀏覽",
            ] {
                lines.push(format!("{prefix}{key}：某某 字号："));
            }
        }
        for line in &lines {
            assert!(
                CHROME.is_match(line) || META_LINE.is_match(line),
                "not a chrome line: {line}"
            );
            assert!(is_chrome(line), "{line} ruled out before the regexes");
        }
    }

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

    fn headings(sectioned: &Sectioned) -> Vec<&str> {
        sectioned
            .entries
            .iter()
            .map(|e| e.heading.as_str())
            .collect()
    }

    #[test]
    fn chronicle_days_and_same_day_marks_start_entries() {
        let sectioned = sectionize(&page(&[
            "当前位置:某网 / 某年鉴 / 2021卷 / 大事记",
            "• 9月",
            "1日\u{3000}自治区召开会议。",
            "△\u{3000}新春新愿",
            "3—5日 全区开展检查。",
            "3―4日 另一项。",
            "□ 新春新愿",
            "△\u{3000}新春新愿",
        ]));
        assert_eq!(
            headings(&sectioned),
            ["1日", "△", "3—5日", "3―4日", "□", "△"],
            "{:?}",
            sectioned.entries
        );
        assert_eq!(sectioned.entries[0].lead, "自治区召开会议。");
        assert_eq!(sectioned.place.article.as_deref(), Some("9月"));
    }

    #[test]
    fn numbered_reports_split_at_their_top_numbering_with_a_preamble() {
        let sectioned = sectionize(&page(&[
            "• 政府工作报告",
            "前言",
            "各位代表：",
            "一、过去一年工作回顾",
            "过去一年，很不平凡。",
            "（一）稳增长",
            "二、今年工作",
            "今年是关键一年。",
        ]));
        assert_eq!(
            headings(&sectioned),
            ["前言", "一、过去一年工作回顾", "二、今年工作"]
        );
        assert_eq!(
            sectioned.entries[1].lead,
            "过去一年，很不平凡。\n（一）稳增长"
        );
        assert_eq!(sectioned.place.article.as_deref(), Some("政府工作报告"));
    }

    #[test]
    fn a_single_chapter_title_does_not_split_its_sections() {
        let sectioned = sectionize(&page(&[
            "第四章 档案",
            "第一节 机构",
            "档案馆成立于1958年。",
            "第二节 馆藏",
            "馆藏档案十万卷。",
        ]));
        assert_eq!(headings(&sectioned), ["第一节 机构", "第二节 馆藏"]);
    }

    #[test]
    fn nested_brackets_stay_in_the_heading_and_untitled_pieces_count() {
        let sectioned = sectionize(&page(&[
            "【【聚焦两会】代表委员点赞】\u{3000}正文。",
            "【】\u{3000}儲光羲",
        ]));
        assert_eq!(headings(&sectioned), ["【聚焦两会】代表委员点赞", ""]);
        assert_eq!(sectioned.entries[1].lead, "儲光羲");
    }

    #[test]
    fn sub_heads_may_hold_quotes_and_stand_alone() {
        let sectioned = sectionize(&page(&[
            "【要闻】\u{3000}正文。",
            "\u{3000}\u{3000}新线织密“八纵八横”\u{a0}\u{a0}\u{a0}\u{a0}铁路正文。",
            "\u{3000}\u{3000}国际联播快讯\u{a0}\u{a0}\u{a0}\u{a0}",
        ]));
        let parts: Vec<&str> = sectioned.entries[0]
            .parts
            .iter()
            .map(|p| p.subheading.as_str())
            .collect();
        assert_eq!(parts, ["新线织密“八纵八横”", "国际联播快讯"]);
        assert_eq!(sectioned.entries[0].parts[1].body, "");
    }

    #[test]
    fn a_page_shown_twice_keeps_repeated_items_of_one_showing() {
        let lines = ["1日 甲事。", "△ 同一项", "2日 乙事。", "△ 同一项"];
        let mut twice = lines.to_vec();
        twice.push("声明: 转载请注明来源");
        twice.extend(lines);
        let sectioned = sectionize(&page(&twice));
        assert_eq!(headings(&sectioned), ["1日", "△", "2日", "△"]);
    }

    #[test]
    fn hard_wrapped_lines_are_joined_back_but_not_across_headings() {
        let sectioned = sectionize(&page(&[
            "【人口】\u{3000}年末全县总人口为三十八万8",
            ".60万人，比上年增加一千二百人其中",
            "男性十九万人，女性十九万六千人，性别",
            "比为九十六点九，人口自然增长率千分之",
            "三点一，出生率与上年相比基本持平。",
            "【民族】\u{3000}全县有汉族、回族、满族、蒙",
            "古族等民族，少数民族人口占总人口的千",
            "分之二。",
        ]));
        assert_eq!(headings(&sectioned), ["人口", "民族"]);
        assert!(
            sectioned.entries[0]
                .lead
                .starts_with("年末全县总人口为三十八万8.60万人，比上年"),
            "{:?}",
            sectioned.entries[0].lead
        );
        assert!(!sectioned.entries[0].lead.contains('\n'));
        assert_eq!(
            sectioned.entries[1].lead,
            "全县有汉族、回族、满族、蒙古族等民族，少数民族人口占总人口的千分之二。"
        );
    }

    #[test]
    fn site_chrome_of_other_layouts_is_not_content() {
        let sectioned = sectionize(&page(&[
            "栏目导航",
            "您现在的位置：首页 > 某区情网 > 年鉴 > 某市年鉴 > 2019卷 > 经济",
            "发布日期：2018-7-3　　信息来源：某区情网　　点击数：",
            "时间：2018-07-03来源：某区情网字号：大 中 小",
            "前言",
            "各位代表：",
            "一、过去一年",
            "正文。",
            "二、今年工作",
            "正文。",
            "供稿：李四",
            "【打印本页】【关闭窗口】",
            "主办单位：某地方志办公室　技术支持：某公司",
        ]));
        assert_eq!(
            headings(&sectioned),
            ["前言", "一、过去一年", "二、今年工作"]
        );
        assert_eq!(sectioned.place.author.as_deref(), Some("李四"));
        // 【中共中央】 is an entry, not a 【中】 font-size link.
        let sectioned = sectionize(&page(&["【中共中央】　正文。", "【打印】【关闭】"]));
        assert_eq!(headings(&sectioned), ["中共中央"]);
    }

    #[test]
    fn a_hard_wrapped_archive_reads_its_title_and_joins_indented_paragraphs() {
        let sectioned = sectionize(&page(&[
            "位置：首页 > 山东地情 > 某县年鉴 > 2019年卷 > 人口",
            "",
            "人口概况",
            "",
            "【人口】年末全县总人口为三十八万人，比上年增加一千二百人，其中男性",
            "十九万人，女性十九万人，国务院总理李强在致电艾哈迈德·纳瓦夫·艾哈",
            "·迈德时说，“人口自然增长率千分之三点一。”",
            "　　出生率与上年相比基本持平，死亡率略有下降，人口结构继续优化，老",
            "龄化程度加深，全县六十岁以上的人口占比百分之二十一点五，比上年提高",
            "零点八个百分点。",
            "【民族与宗教信仰的基本情况以及少数民族人口的分布变化和今后",
            "发展趋势】全县有汉族、回族等民族。",
        ]));
        assert_eq!(sectioned.place.article.as_deref(), Some("人口概况"));
        assert_eq!(sectioned.place.volume.as_deref(), Some("2019年卷"));
        assert_eq!(sectioned.place.year, Some(2019));
        let entries = &sectioned.entries;
        assert_eq!(entries.len(), 2, "{entries:?}");
        assert!(
            entries[0].lead.contains("艾哈迈德·纳瓦夫·艾哈·迈德"),
            "{entries:?}"
        );
        assert!(entries[0].lead.contains("\n出生率"), "{entries:?}");
        assert!(entries[0].lead.contains("人口结构继续优化，老龄化程度"));
        assert!(entries[1].heading.ends_with("今后发展趋势"), "{entries:?}");
    }
}
