//! Pages saved as text from a browser.
//!
//! The browser has already flattened the markup: each block is a line, list items start with
//! `•`, and no-break spaces (U+00A0) survive. The lines go to the sectionizer as they are;
//! only line endings are normalized.

use super::Page;

/// Splits browser-saved text into lines.
pub fn parse(text: &str) -> Page {
    Page {
        title: None,
        lines: text
            .lines()
            .map(|line| line.trim_end_matches('\r').to_string())
            .collect(),
    }
}
