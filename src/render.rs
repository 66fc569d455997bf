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
        writeln!(out, "{rest}{ellipsis}")?;
        writeln!(
            out,
            "   {DIM}{} · {} · {} {:.2}{DIM:#}",
            hit.path, hit.id, hit.matched, hit.score
        )?;
    }
    Ok(())
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
