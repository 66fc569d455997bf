//! The integration tests: one binary built from modules (ripgrep's layout).

mod formats;
mod grep_parity;
mod incremental;
mod json;
mod real_page;
mod reliability;
mod sectionize_props;
mod util;
