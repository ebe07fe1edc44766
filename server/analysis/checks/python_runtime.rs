//! Runtime rules for Python web apps: the `data`, `reliability` and
//! `observability` checks of CHECKS.md (all but `dev-server-in-production`).
//!
//! The per-file part (`analyze`) gets each Python application file already
//! parsed by `python_rules`, indexes its calls, functions and routes once
//! (`syntax::Cx`) and lets each category record hits and signals. The
//! repository-level checks then combine them with manifests and file paths;
//! the ones that can be decided from dependencies alone (logging, error
//! monitoring, metrics, request ids, migrations, task queues) also recognise
//! other ecosystems' packages (`deps`). This module must not depend on the
//! engine's internals beyond `FileOutput` and `Repo`.

mod data;
pub(crate) mod deps;
mod observability;
mod reliability;
mod syntax;

pub(crate) use observability::{DEP_WORDS, is_health_path, plausible_health, words};

use super::Check;
use super::python_rules::PyFile;
use crate::engine::FileOutput;
use crate::repo::Repo;

/// Every check of this module, one per id.
pub fn checks() -> Vec<Check> {
    let mut v = data::checks();
    v.extend(reliability::checks());
    v.extend(observability::checks());
    v
}

/// Records this module's hits and signals for one parsed Python file.
pub fn analyze(file: &PyFile<'_>, out: &mut FileOutput) {
    let cx = syntax::Cx::new(file);
    data::analyze(&cx, out);
    reliability::analyze(&cx, out);
    observability::analyze(&cx, out);
}

/// A Python web framework the code-level checks know.
fn python_web(repo: &Repo<'_>) -> bool {
    crate::checks::web::PYTHON_WEB.iter().any(|f| repo.has_framework(f))
}

const NO_PYTHON_WEB: &str = "no Python web framework (FastAPI, Starlette, Flask, Django) detected";
const NO_WEB: &str = "no web framework detected: not a web service";
