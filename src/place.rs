//! Where an entry sits: yearbook › volume › chapter › article, read from the page itself.
//!
//! The trail (`当前位置:内蒙古区情网 / 数字史志 / 年鉴 / 内蒙古年鉴 / 2017卷 / 农牧林水`) names
//! the site, the yearbook, the volume and the chapter; the title names the article; the
//! author line names the author. The folder path is only a fallback for what the page does
//! not say.

use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

/// The place of a page (and of every entry on it).
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Place {
    pub site: Option<String>,
    pub yearbook: Option<String>,
    /// The volume as the page prints it, e.g. "2017卷".
    pub volume: Option<String>,
    pub year: Option<u64>,
    pub chapter: Option<String>,
    pub article: Option<String>,
    pub author: Option<String>,
}

impl Place {
    /// Fills every field this place lacks from `other`.
    pub fn fill_from(&mut self, other: &Place) {
        fn fill<T: Clone>(slot: &mut Option<T>, value: &Option<T>) {
            if slot.is_none() {
                slot.clone_from(value);
            }
        }
        fill(&mut self.site, &other.site);
        fill(&mut self.yearbook, &other.yearbook);
        fill(&mut self.volume, &other.volume);
        fill(&mut self.year, &other.year);
        fill(&mut self.chapter, &other.chapter);
        fill(&mut self.article, &other.article);
        fill(&mut self.author, &other.author);
    }
}

static VOLUME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:(\d{4})|([〇○零一二三四五六七八九]{4}))\s*年?\s*(?:卷|年鉴|年鑑)$").unwrap()
});

static TRAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:当前位置|當前位置|您现在的位置|您現在的位置|您的位置|现在位置|所在位置|位置)\s*(?:是)?\s*[:：]?\s*(.+)$")
        .unwrap()
});

const TRAIL_SEPARATORS: &[char] = &['/', '>', '»', '›', '＞', '→', '|', '／', '\\'];

/// Recognises a volume name and returns its year: "2017卷", "2017年卷", "二〇一七卷", "2017年鉴".
pub fn volume_year(segment: &str) -> Option<u64> {
    let captures = VOLUME.captures(segment.trim())?;
    if let Some(digits) = captures.get(1) {
        return digits.as_str().parse().ok();
    }
    let numerals = captures.get(2)?.as_str();
    numerals.chars().try_fold(0u64, |year, c| {
        let digit = "〇一二三四五六七八九"
            .chars()
            .position(|d| d == c)
            .or(match c {
                '○' | '零' => Some(0),
                _ => None,
            })?;
        Some(year * 10 + digit as u64)
    })
}

fn is_yearbook_name(segment: &str) -> bool {
    let generic = [
        "年鉴",
        "年鑑",
        "地方志",
        "志书",
        "方志",
        "数字史志",
        "數字史志",
    ];
    !generic.contains(&segment)
        && (segment.ends_with("年鉴")
            || segment.ends_with("年鑑")
            || segment.ends_with('志')
            || segment.ends_with("年报"))
}

/// Parses a trail line, if `line` is one, into the place it names.
pub fn parse_trail(line: &str) -> Option<Place> {
    let line = line.trim_matches(|c: char| c.is_whitespace() || c == '•');
    let rest = TRAIL.captures(line)?.get(1)?.as_str();
    let segments: Vec<String> = rest
        .replace("&gt;", ">")
        .split(TRAIL_SEPARATORS)
        .map(|segment| {
            segment
                .trim_matches(|c: char| c.is_whitespace())
                .to_string()
        })
        .filter(|segment| {
            !segment.is_empty()
                && !matches!(segment.as_str(), "首页" | "首頁" | "网站首页" | "主页")
        })
        .collect();
    if segments.is_empty() {
        return None;
    }
    Some(place_from_segments(&segments, true))
}

/// Reads a place from path-like segments (a trail, or the folders above a file).
pub fn place_from_segments(segments: &[String], first_is_site: bool) -> Place {
    let mut place = Place::default();
    let volume_at = segments.iter().position(|s| volume_year(s).is_some());
    let yearbook_at = segments[..volume_at.unwrap_or(segments.len())]
        .iter()
        .rposition(|s| is_yearbook_name(s));
    if let Some(at) = volume_at {
        place.volume = Some(segments[at].clone());
        place.year = volume_year(&segments[at]);
    }
    if let Some(at) = yearbook_at {
        place.yearbook = Some(segments[at].clone());
    }
    if first_is_site && yearbook_at != Some(0) && volume_at != Some(0) {
        place.site = Some(segments[0].clone());
    }
    let after = volume_at.or(yearbook_at).map(|at| at + 1);
    if let Some(after) = after {
        place.chapter = segments.get(after).cloned();
        place.article = segments.get(after + 1).cloned();
    }
    place
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_real_trail() {
        let place = parse_trail(
            "当前位置:内蒙古区情网\u{a0} / \u{a0}数字史志\u{a0} / \u{a0}年鉴\u{a0} / \u{a0}内蒙古年鉴\u{a0} / \u{a0}2017卷\u{a0} / \u{a0}农牧林水",
        )
        .unwrap();
        assert_eq!(place.site.as_deref(), Some("内蒙古区情网"));
        assert_eq!(place.yearbook.as_deref(), Some("内蒙古年鉴"));
        assert_eq!(place.volume.as_deref(), Some("2017卷"));
        assert_eq!(place.year, Some(2017));
        assert_eq!(place.chapter.as_deref(), Some("农牧林水"));
        assert_eq!(place.article, None);
    }

    #[test]
    fn reads_volume_forms() {
        assert_eq!(volume_year("2017卷"), Some(2017));
        assert_eq!(volume_year("2017年卷"), Some(2017));
        assert_eq!(volume_year("二〇一七卷"), Some(2017));
        assert_eq!(volume_year("2017年鉴"), Some(2017));
        assert_eq!(volume_year("农牧林水"), None);
    }

    #[test]
    fn reads_arrow_trails_with_home() {
        let place = parse_trail("您现在的位置：首页 > 广州年鉴 > 2019卷 > 经济 > 农业").unwrap();
        assert_eq!(place.site, None);
        assert_eq!(place.yearbook.as_deref(), Some("广州年鉴"));
        assert_eq!(place.chapter.as_deref(), Some("经济"));
        assert_eq!(place.article.as_deref(), Some("农业"));
    }
}
