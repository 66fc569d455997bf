//! JSON Lines exports: one entry per line, already structured.
//!
//! Each line is `{"id"?, "yearbook", "volume", "chapter", "article", "heading",
//! "subheading"?, "body", "author"?, "year"?}`. A given `id` is kept as the entry id. A line
//! that is not such an object is reported with its line number and skipped; the other lines
//! are kept.

use serde::Deserialize;

use crate::place::{volume_year, Place};

/// One line of a JSON Lines export.
#[derive(Debug, Clone, Deserialize)]
pub struct JsonEntry {
    #[serde(default, alias = "pid")]
    pub id: Option<String>,
    #[serde(default)]
    pub yearbook: Option<String>,
    #[serde(default, deserialize_with = "string_or_number")]
    pub volume: Option<String>,
    #[serde(default)]
    pub year: Option<u64>,
    #[serde(default)]
    pub chapter: Option<String>,
    #[serde(default)]
    pub article: Option<String>,
    #[serde(default, alias = "title")]
    pub heading: Option<String>,
    #[serde(default)]
    pub subheading: Option<String>,
    #[serde(alias = "text", alias = "content")]
    pub body: String,
    #[serde(default)]
    pub author: Option<String>,
}

fn string_or_number<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    let value = Option::<serde_json::Value>::deserialize(deserializer)?;
    Ok(match value {
        Some(serde_json::Value::String(text)) => Some(text),
        Some(serde_json::Value::Number(number)) => Some(number.to_string()),
        _ => None,
    })
}

impl JsonEntry {
    /// The place this entry names.
    pub fn place(&self) -> Place {
        let year = self
            .year
            .or_else(|| self.volume.as_deref().and_then(volume_year))
            .or_else(|| {
                let volume = self.volume.as_deref()?;
                volume.get(..4)?.parse().ok()
            });
        Place {
            site: None,
            yearbook: self.yearbook.clone(),
            volume: self.volume.clone(),
            year,
            chapter: self.chapter.clone(),
            article: self.article.clone(),
            author: self.author.clone(),
        }
    }
}

/// Entries read from a file, and the lines that could not be read.
#[derive(Debug, Default)]
pub struct JsonLines {
    pub entries: Vec<JsonEntry>,
    /// (1-based line number, reason)
    pub bad_lines: Vec<(usize, String)>,
}

/// Parses a JSON Lines text.
pub fn parse(text: &str) -> JsonLines {
    let mut out = JsonLines::default();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        match serde_json::from_str::<JsonEntry>(line) {
            Ok(entry) => out.entries.push(entry),
            Err(error) => out.bad_lines.push((index + 1, error.to_string())),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_good_lines_and_reports_bad_ones() {
        let parsed = parse(
            "{\"id\":\"a1\",\"yearbook\":\"某年鉴\",\"volume\":\"2019卷\",\"heading\":\"概况\",\"body\":\"正文\"}\n\
             not json\n\
             {\"title\":\"t\",\"text\":\"passage\",\"volume\":2020}\n",
        );
        assert_eq!(parsed.entries.len(), 2);
        assert_eq!(parsed.bad_lines.len(), 1);
        assert_eq!(parsed.bad_lines[0].0, 2);
        assert_eq!(parsed.entries[0].place().year, Some(2019));
        assert_eq!(parsed.entries[1].place().year, Some(2020));
        assert_eq!(parsed.entries[1].heading.as_deref(), Some("t"));
    }
}
