//! Prints hits for people (place, highlighted snippet, source) or for scripts (JSON Lines).
//!
//! Styling is written as ANSI sequences into an `anstream` stream, which strips them when
//! the output is not a terminal or `NO_COLOR` is set; nothing here decides about colour.

use std::io::{self, Write};

use anstyle::{AnsiColor, Style};

use crate::search::{Hit, Shown, SNIPPET_CHARS};

const PLACE: Style = Style::new().bold();
const MATCH: Style = Style::new()
    .bold()
    .fg_color(Some(anstyle::Color::Ansi(AnsiColor::Red)));
const DIM: Style = Style::new().dimmed();

/// Writes hits for a terminal.
pub fn human(out: &mut dyn Write, hits: &[Hit]) -> io::Result<()> {
    for hit in hits {
        writeln!(out, "{}. {PLACE}{}{PLACE:#}", hit.rank, hit.place())?;
        // An entry whose text is all in its sub-parts has no snippet of its own: no empty
        // line for it.
        if !hit.snippet.is_empty() {
            snippet(out, hit)?;
        }
        writeln!(
            out,
            "   {DIM}{} · {} · {} {:.2}{DIM:#}",
            hit.path, hit.id, hit.matched, hit.score
        )?;
    }
    Ok(())
}

/// Writes a hit's snippet on a line of its own, matches highlighted.
fn snippet(out: &mut dyn Write, hit: &Hit) -> io::Result<()> {
    write!(out, "   ")?;
    let chars: Vec<char> = hit.snippet.chars().collect();
    let mut at = 0;
    for &[start, end] in &hit.highlights {
        let plain: String = chars[at..start].iter().collect();
        let marked: String = chars[start..end].iter().collect();
        write!(out, "{plain}{MATCH}{marked}{MATCH:#}")?;
        at = end;
    }
    let rest: String = chars[at..].iter().collect();
    let ellipsis = if chars.len() >= SNIPPET_CHARS {
        "…"
    } else {
        ""
    };
    writeln!(out, "{rest}{ellipsis}")
}

/// Writes hits as JSON Lines.
pub fn json(out: &mut dyn Write, hits: &[Hit]) -> io::Result<()> {
    for hit in hits {
        serde_json::to_writer(&mut *out, hit)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

/// Writes a whole entry (and its sub-parts) for a terminal.
pub fn shown(out: &mut dyn Write, parts: &[Shown]) -> io::Result<()> {
    let Some(first) = parts.first() else {
        return Ok(());
    };
    writeln!(out, "{PLACE}{}{PLACE:#}", first.hit.place())?;
    let mut source = format!("{} · {}", first.hit.path, first.hit.id);
    if let Some(author) = &first.author {
        source.push_str(&format!(" · 撰稿人:{author}"));
    }
    writeln!(out, "{DIM}{source}{DIM:#}")?;
    for part in parts {
        writeln!(out)?;
        if part.hit.subheading.is_some() && parts.len() > 1 {
            writeln!(
                out,
                "{PLACE}{}{PLACE:#}  ({})",
                part.hit.subheading.as_deref().unwrap_or(""),
                part.hit.id
            )?;
        }
        if !part.body.is_empty() {
            writeln!(out, "{}", part.body)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hit(snippet: &str, highlights: &str) -> Hit {
        serde_json::from_str(&format!(
            r#"{{"id":"a-03","rank":9,"score":2.27,"match":"some","yearbook":"内蒙古年鉴",
            "volume":null,"year":null,"chapter":null,"article":null,"heading":"创新扶贫体制机制",
            "subheading":null,"path":"p.txt","snippet":"{snippet}","highlights":{highlights}}}"#
        ))
        .unwrap()
    }

    #[test]
    fn an_entry_without_text_of_its_own_prints_no_empty_snippet_line() {
        let mut out = Vec::new();
        human(&mut out, &[hit("", "[]"), hit("扶贫工作", "[[0,2]]")]).unwrap();
        let text = anstream::adapter::strip_str(std::str::from_utf8(&out).unwrap()).to_string();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines,
            vec![
                "9. 内蒙古年鉴 › 【创新扶贫体制机制】",
                "   p.txt · a-03 · some 2.27",
                "9. 内蒙古年鉴 › 【创新扶贫体制机制】",
                "   扶贫工作",
                "   p.txt · a-03 · some 2.27",
            ]
        );
    }

    /// `search` writes JSON without stripping styling sequences: a page's text holding one
    /// must come out escaped, never as the raw escape character a terminal would obey.
    #[test]
    fn json_holds_no_raw_control_characters() {
        let mut hit = hit("扶贫", "[[0,2]]");
        hit.snippet = "\u{1b}[31m扶贫\u{1b}[0m\u{7}".to_string();
        let mut out = Vec::new();
        json(&mut out, &[hit]).unwrap();
        assert!(out.contains(&b'\n'), "one line per hit");
        assert!(
            !out[..out.len() - 1]
                .iter()
                .any(|byte| byte.is_ascii_control()),
            "{}",
            String::from_utf8_lossy(&out)
        );
        assert!(String::from_utf8_lossy(&out).contains(r"\u001b[31m扶贫"));
    }
}
