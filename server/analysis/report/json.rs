//! The JSON report: the serde form of [`Report`], pretty-printed. Its shape
//! is described by `schema.json` (JSON Schema draft 2020-12), documented in
//! `SCHEMA.md` and versioned by [`crate::score::SCHEMA_VERSION`], which every
//! report carries as `schema_version`.

use crate::model::Report;

pub use crate::score::SCHEMA_VERSION;

/// The JSON Schema of the report, for callers that publish or serve it.
pub const SCHEMA: &str = include_str!("schema.json");

/// Renders the report as pretty-printed JSON, ending with a newline.
pub fn render(report: &Report) -> String {
    // A Report is plain data (strings, numbers, maps with string keys), so
    // serialisation cannot fail; a non-finite score would become `null`.
    let mut out = serde_json::to_string_pretty(report).expect("a Report always serialises");
    out.push('\n');
    out
}
