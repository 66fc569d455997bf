//! The integration tests: one binary built from modules (ripgrep's layout).

mod encodings;
mod formats;
mod grep_parity;
mod hostile;
mod incremental;
mod json;
mod real_page;
mod reliability;
mod sectionize_props;
mod util;
