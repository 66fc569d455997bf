//! HTML pages, through scraper.
//!
//! The document is flattened to lines the way a browser renders it: block elements
//! (`p`, `div`, `li`, `h1`–`h6`, `tr`, `br` …) end a line, table cells are separated by a
//! space, and runs of ASCII whitespace collapse while no-break and ideographic spaces (which
//! set sub-heads apart) are kept. Scripts, styles, forms, navigation and elements hidden
//! with `display:none` or the `hidden` attribute are dropped. The article title comes from
//! `<h1>`, else from `<title>` without its site suffix.
//!
//! html5ever's time grows with the square of the nesting depth, so [`nesting_depth`] lets
//! the caller refuse pathological pages before parsing them.

use scraper::{ElementRef, Html, Node};

use super::Page;

const SKIPPED_ELEMENTS: &[&str] = &[
    "script", "style", "noscript", "template", "head", "iframe", "select", "option", "button",
    "nav", "svg", "object", "embed", "form", "input", "textarea",
];

const BLOCK_ELEMENTS: &[&str] = &[
    "p",
    "div",
    "br",
    "li",
    "ul",
    "ol",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "tr",
    "table",
    "tbody",
    "thead",
    "section",
    "article",
    "header",
    "footer",
    "main",
    "aside",
    "dl",
    "dt",
    "dd",
    "blockquote",
    "pre",
    "hr",
    "center",
    "body",
    "address",
    "figure",
    "figcaption",
    "caption",
];

const VOID_ELEMENTS: &[&str] = &[
    "br", "img", "meta", "link", "input", "hr", "area", "base", "col", "embed", "source", "track",
    "wbr", "param",
];

/// Estimates the deepest element nesting of an HTML text without parsing it.
pub fn nesting_depth(html: &str) -> usize {
    let bytes = html.as_bytes();
    let (mut depth, mut deepest) = (0usize, 0usize);
    let mut index = 0;
    while let Some(offset) = memchr::memchr(b'<', &bytes[index..]) {
        index += offset + 1;
        let closing = bytes.get(index) == Some(&b'/');
        let name_start = if closing { index + 1 } else { index };
        let name_end = bytes[name_start..]
            .iter()
            .position(|b| !b.is_ascii_alphanumeric())
            .map_or(bytes.len(), |end| name_start + end);
        if name_end == name_start {
            continue;
        }
        let name = &html[name_start..name_end];
        if closing {
            depth = depth.saturating_sub(1);
        } else if !VOID_ELEMENTS
            .iter()
            .any(|void| void.eq_ignore_ascii_case(name))
        {
            depth += 1;
            deepest = deepest.max(depth);
        }
    }
    deepest
}

/// Flattens an HTML page into lines.
pub fn parse(html: &str) -> Page {
    let document = Html::parse_document(html);
    let mut lines = Vec::new();
    let mut current = String::new();
    flatten(document.root_element(), &mut lines, &mut current);
    push_line(&mut lines, &mut current);
    Page {
        title: title_of(&document),
        lines,
    }
}

fn is_hidden(element: &ElementRef) -> bool {
    let value = element.value();
    if value.attr("hidden").is_some() || value.attr("aria-hidden") == Some("true") {
        return true;
    }
    value.attr("style").is_some_and(|style| {
        let style: String = style.chars().filter(|c| !c.is_whitespace()).collect();
        let style = style.to_ascii_lowercase();
        style.contains("display:none") || style.contains("visibility:hidden")
    })
}

fn flatten(element: ElementRef, lines: &mut Vec<String>, current: &mut String) {
    let name = element.value().name();
    if SKIPPED_ELEMENTS.contains(&name) || is_hidden(&element) {
        return;
    }
    let block = BLOCK_ELEMENTS.contains(&name);
    if block {
        push_line(lines, current);
    }
    for child in element.children() {
        match child.value() {
            Node::Text(text) => append_text(current, text),
            Node::Element(_) => {
                if let Some(child_element) = ElementRef::wrap(child) {
                    let child_name = child_element.value().name();
                    if (child_name == "td" || child_name == "th")
                        && !current.is_empty()
                        && !current.ends_with(' ')
                    {
                        current.push(' ');
                    }
                    flatten(child_element, lines, current);
                }
            }
            _ => {}
        }
    }
    if block {
        push_line(lines, current);
    }
}

/// Appends text, collapsing ASCII whitespace runs to one space; U+00A0 and U+3000 are kept.
///
/// The runs between spaces are copied whole: a byte of ASCII whitespace is never part of
/// another character, and most text nodes of a Chinese page hold none.
fn append_text(current: &mut String, text: &str) {
    let mut rest = text;
    while let Some(at) = rest.bytes().position(|b| b.is_ascii_whitespace()) {
        current.push_str(&rest[..at]);
        if !current.is_empty() && !current.ends_with(' ') {
            current.push(' ');
        }
        rest = &rest[at + 1..];
    }
    current.push_str(rest);
}

fn push_line(lines: &mut Vec<String>, current: &mut String) {
    let line = current.trim_matches(' ');
    if !line.is_empty() {
        lines.push(line.to_string());
    }
    current.clear();
}

fn text_of(element: ElementRef) -> String {
    let mut text = String::new();
    for piece in element.text() {
        append_text(&mut text, piece);
    }
    text.trim().to_string()
}

fn title_of(document: &Html) -> Option<String> {
    let h1 = scraper::Selector::parse("h1").expect("static selector");
    if let Some(heading) = document.select(&h1).map(text_of).find(|t| !t.is_empty()) {
        return Some(heading);
    }
    let title = scraper::Selector::parse("title").expect("static selector");
    let text = document.select(&title).map(text_of).next()?;
    strip_title_suffix(&text)
}

/// Separators that always set a site or section name off a page title.
const STRONG_SEPARATORS: &[&str] = &["_", "|", "｜", " - ", " – ", " — ", "--", "——", " · "];
/// Separators that do only when what follows reads as a site or section name (a title may
/// itself hold `1-2月` or `中国—东盟`).
const WEAK_SEPARATORS: &[&str] = &["-", "—", "－"];
/// How site and section names end.
const SITE_SUFFIXES: &[&str] = &[
    "网",
    "網",
    "站",
    "馆",
    "館",
    "年鉴",
    "年鑑",
    "志",
    "办公室",
    "辦公室",
    "政府",
    "委员会",
    "委員會",
    "中心",
    "频道",
    "頻道",
    "首页",
    "首頁",
    "栏目",
    "欄目",
    "数据库",
    "數據庫",
];

fn looks_like_site(part: &str) -> bool {
    let part = part.trim();
    !part.is_empty() && SITE_SUFFIXES.iter().any(|suffix| part.ends_with(suffix))
}

/// The article part of a `<title>`: site and section names after separators go
/// (`扶贫开发_农牧林水_内蒙古年鉴_内蒙古区情网`, `扶贫开发-内蒙古区情网`), a title's own
/// dashes stay (`1-2月我国服务贸易-某网`).
fn strip_title_suffix(text: &str) -> Option<String> {
    let mut rest = text.trim();
    loop {
        let strong = STRONG_SEPARATORS
            .iter()
            .filter_map(|sep| rest.find(sep).map(|at| (at, sep.len())))
            .min();
        if let Some((at, len)) = strong {
            let before = rest[..at].trim();
            rest = if before.is_empty() {
                rest[at + len..].trim()
            } else {
                before
            };
            continue;
        }
        let weak = WEAK_SEPARATORS
            .iter()
            .filter_map(|sep| rest.rfind(sep).map(|at| (at, sep.len())))
            .max();
        match weak {
            Some((at, len))
                if looks_like_site(&rest[at + len..]) && !rest[..at].trim().is_empty() =>
            {
                rest = rest[..at].trim();
            }
            _ => break,
        }
    }
    (!rest.is_empty()).then(|| rest.to_string())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// Appending a run at a time is appending a character at a time.
        #[test]
        fn text_is_appended_as_character_by_character(
            start in "[ a\t]{0,2}",
            pieces in prop::collection::vec(prop::sample::select(&[" ", "\t", "\n", "\r\n", "扶贫", "\u{3000}", "\u{a0}", "a", "年"][..]), 0..16),
        ) {
            let text: String = pieces.concat();
            let mut expected = start.clone();
            for c in text.chars() {
                if c.is_ascii_whitespace() {
                    if !expected.is_empty() && !expected.ends_with(' ') {
                        expected.push(' ');
                    }
                } else {
                    expected.push(c);
                }
            }
            let mut appended = start;
            append_text(&mut appended, &text);
            prop_assert_eq!(appended, expected);
        }
    }

    #[test]
    fn flattens_blocks_and_drops_scripts_and_hidden_copies() {
        let page = parse(
            "<html><head><title>扶贫开发-内蒙古区情网</title><script>var x=1;</script></head>\
             <body><div class=nav>首页</div><div><p>【概况】\u{3000}正文<b>加粗</b>。</p>\
             <p>精准识别&nbsp;&nbsp;内容<br>下一行</p></div>\
             <div style=\"display: none\"><p>【概况】\u{3000}正文加粗。</p></div></body></html>",
        );
        assert_eq!(page.title.as_deref(), Some("扶贫开发"));
        assert_eq!(
            page.lines,
            vec![
                "首页",
                "【概况】\u{3000}正文加粗。",
                "精准识别\u{a0}\u{a0}内容",
                "下一行"
            ]
        );
    }

    #[test]
    fn titles_lose_site_names_but_keep_their_own_dashes() {
        for (title, article) in [
            ("扶贫开发-内蒙古区情网", "扶贫开发"),
            ("扶贫开发_农牧林水_内蒙古年鉴_内蒙古区情网", "扶贫开发"),
            ("1-2月我国服务贸易-内蒙古区情网", "1-2月我国服务贸易"),
            ("李强出席中国—印度尼_政治_某年鉴", "李强出席中国—印度尼"),
            ("人口 - 某县年鉴 - 山东地情网", "人口"),
            ("中国—东盟博览会", "中国—东盟博览会"),
        ] {
            assert_eq!(
                strip_title_suffix(title).as_deref(),
                Some(article),
                "{title}"
            );
        }
    }

    #[test]
    fn measures_nesting() {
        assert_eq!(nesting_depth("<div><p>a<br>b</p></div><div></div>"), 2);
        assert_eq!(nesting_depth(&"<div>".repeat(500)), 500);
    }
}
