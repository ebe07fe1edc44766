//! Shipshape's analysis core: given a directory, it walks the files, detects
//! the stack, runs every readiness check of the catalogue (CHECKS.md) and
//! returns a [`Report`] with outcomes, findings, scores and a level.
//!
//! This crate is pure by construction: it has no database, HTTP or async
//! dependency, reads only the directory it is given and never executes
//! anything in it. The server and the `shipshape scan` CLI are its callers.

#![forbid(unsafe_code)]

pub mod checks;
pub mod ci;
pub mod dockerfile;
pub mod engine;
pub mod fingerprint;
pub mod go;
pub mod js;
pub mod manifests;
pub mod mask;
pub mod model;
pub mod policy;
pub mod python;
pub mod repo;
pub mod report;
pub mod rust;
pub mod score;
pub mod stack;
pub mod suppress;
pub mod syntax;
pub mod walk;

pub use engine::{AnalysisError, GithubFacts, Options, analyze};
pub use model::*;
pub use policy::Policy;
