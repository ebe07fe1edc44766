//! Renderers of a [`crate::Report`]: terminal table, JSON, SARIF 2.1.0 and a
//! Markdown audit, plus the CI gate (`--fail-under`, `--fail-on`).
//!
//! Every renderer is a pure function from a report to a string: no clock, no
//! environment, no I/O, so the same report always renders the same bytes and
//! callers (CLI, server downloads) add dates and write files themselves.

pub mod json;
pub mod markdown;
pub mod sarif;
pub mod table;

mod gate;
mod text;

pub use gate::{GateResult, gate};

use crate::model::Report;

/// An output format of `shipshape scan --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Sarif,
    Markdown,
}

impl Format {
    pub const ALL: [Format; 4] = [Format::Table, Format::Json, Format::Sarif, Format::Markdown];

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Table => "table",
            Format::Json => "json",
            Format::Sarif => "sarif",
            Format::Markdown => "markdown",
        }
    }

    /// Parses a format name; `md` is accepted for `markdown`.
    pub fn parse(s: &str) -> Option<Format> {
        if s == "md" {
            return Some(Format::Markdown);
        }
        Format::ALL.into_iter().find(|f| f.as_str() == s)
    }
}

/// Renders `report` in `format`. `color` only affects the table.
pub fn render(report: &Report, format: Format, color: bool) -> String {
    match format {
        Format::Table => table::render(report, color),
        Format::Json => json::render(report),
        Format::Sarif => sarif::render(report),
        Format::Markdown => markdown::render(report),
    }
}
