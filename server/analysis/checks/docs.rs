//! (being written)

use super::Check;
use crate::engine::FileAnalyzer;

pub fn checks() -> Vec<Check> {
    Vec::new()
}

#[allow(dead_code)]
pub fn analyzers() -> Vec<Box<dyn FileAnalyzer>> {
    Vec::new()
}
