//! Reads decoded pages into a common shape: the page's lines plus what it says about itself.
//!
//! HTML (through scraper) and browser-saved text both become a [`Page`]: its content as
//! lines in reading order, and the article title when the markup names one. The line-based
//! [`crate::sectionize`] stage then finds the trail, the entries and the chrome the same way
//! for both. JSON Lines exports already hold entries and skip that stage ([`jsonl`]).

pub mod html;
pub mod jsonl;
pub mod text;

/// A page reduced to lines of text.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Page {
    /// The article title when the markup names it (`<h1>`, `<title>`), else `None`.
    pub title: Option<String>,
    /// The visible text, one block per line, in reading order.
    pub lines: Vec<String>,
}
