//! (being written)

use super::Check;
use super::python_rules::PyFile;
use crate::engine::FileOutput;

pub fn checks() -> Vec<Check> {
    Vec::new()
}

pub fn analyze(_file: &PyFile<'_>, _out: &mut FileOutput) {}
