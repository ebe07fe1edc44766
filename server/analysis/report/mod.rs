//! Renderers of a [`crate::Report`]: terminal table, JSON, SARIF 2.1.0 and a
//! Markdown audit. Pure functions from a report to a string.

pub mod json;
pub mod markdown;
pub mod sarif;
pub mod table;
