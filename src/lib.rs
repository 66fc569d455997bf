//! yearbook: local full-text search for Chinese regional yearbooks (地方年鉴).
//!
//! The pipeline follows the data:
//!
//! | stage | module | in → out |
//! |---|---|---|
//! | discover | [`discover`] | corpus folder → files with size and mtime, skips with reasons |
//! | decode | [`decode`] | bytes → text (BOM, UTF-8, declared charset, detection) |
//! | parse | [`parse`] | HTML / browser text → lines; JSON Lines → entries |
//! | sectionize | [`sectionize`], [`place`] | lines → entries, sub-parts and their place |
//! | analyze | [`analyze`] | text → folded character tokens; a query → its words |
//! | index | [`index`], [`ingest`] | entries → tantivy documents, incremental commits |
//! | query | [`query`], [`search`] | user query → ranked hits with snippets |
//! | render | [`render`] | hits → terminal text or JSON Lines |

pub mod analyze;
pub mod cli;
pub mod decode;
pub mod discover;
mod error;
pub mod index;
pub mod ingest;
pub mod parse;
pub mod place;
pub mod query;
pub mod render;
pub mod search;
pub mod sectionize;
pub mod stats;
pub mod verify;

pub use error::{Error, Result};
