//! The check catalogue: every check's metadata and the function that decides
//! its outcome, plus the per-file analyzers those functions read from.
//!
//! Check ids are the stable kebab-case strings of CHECKS.md. They are stored
//! in databases and SARIF uploads: never rename one.

use crate::engine::FileAnalyzer;
use crate::model::{Category, Evidence, Location, Severity};
use crate::repo::Repo;

pub mod delivery;
pub mod docs;
pub mod github;
pub mod go_rules;
pub mod node_rules;
pub mod python_rules;
pub mod python_runtime;
pub mod python_security;
pub mod rust_rules;
pub mod secrets;
pub mod spring;
pub mod testing;
pub mod web;

/// A check's description, shown in reports, SARIF rules and the dashboard.
#[derive(Debug, Clone, Copy)]
pub struct CheckSpec {
    pub id: &'static str,
    pub title: &'static str,
    pub category: Category,
    pub severity: Severity,
    /// Summary when the check passes without specific evidence.
    pub pass_summary: &'static str,
    /// Why it matters, in two or three sentences.
    pub rationale: &'static str,
    /// How to fix a failure, concretely.
    pub fix: &'static str,
}

/// A check's description as data: a built-in [`CheckSpec`] or a custom
/// check of the policy, with the date it takes effect when it has one.
/// What pages, reports and SARIF rules show about a check.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CheckInfo {
    pub id: String,
    pub title: String,
    pub category: Category,
    pub severity: Severity,
    pub rationale: String,
    pub fix: String,
    /// Before this date the check is `upcoming`: shown, not counted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effective: Option<chrono::NaiveDate>,
    /// Where a custom check was defined; `None` for built-in checks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom: Option<CustomOrigin>,
}

/// Where a custom check comes from and what kind it is.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CustomOrigin {
    /// `file-exists`, `content-matches`, `tree-sitter-query`, …
    pub kind: String,
    /// `config` (the server's policy) or `repository` (`.shipshape.toml`).
    pub source: String,
    /// The file and 1-based line of its definition.
    pub file: String,
    pub line: u32,
}

impl From<&CheckSpec> for CheckInfo {
    fn from(s: &CheckSpec) -> Self {
        CheckInfo {
            id: s.id.to_string(),
            title: s.title.to_string(),
            category: s.category,
            severity: s.severity,
            rationale: s.rationale.to_string(),
            fix: s.fix.to_string(),
            effective: None,
            custom: None,
        }
    }
}

/// What a check decided.
#[derive(Debug)]
pub enum Verdict {
    /// Passing, with positive evidence where there is some.
    Pass(Vec<Evidence>),
    /// Failing with these findings. An empty list is treated as a pass.
    Fail(Vec<RawFinding>),
    /// The check does not apply (no Dockerfile, no such framework…), and why.
    NotApplicable(String),
}

/// A finding before it gets its fingerprint and suppression.
#[derive(Debug, Clone)]
pub struct RawFinding {
    pub location: Option<Location>,
    pub message: String,
    /// Shown to readers; masked if it may hold a secret.
    pub evidence: String,
    /// Identifies the problem across scans; defaults to `evidence`.
    pub identity: String,
    pub severity: Option<Severity>,
}

impl RawFinding {
    /// A finding at a place in a file.
    pub fn at(location: Location, message: impl Into<String>, evidence: impl Into<String>) -> Self {
        let evidence = evidence.into();
        RawFinding {
            location: Some(location),
            message: message.into(),
            identity: evidence.clone(),
            evidence,
            severity: None,
        }
    }

    /// A repository-level finding: something is missing.
    pub fn repo(message: impl Into<String>) -> Self {
        let message = message.into();
        RawFinding { location: None, evidence: message.clone(), identity: String::new(), message, severity: None }
    }

    pub fn with_severity(mut self, severity: Severity) -> Self {
        self.severity = Some(severity);
        self
    }
}

pub type CheckFn = fn(&Repo<'_>) -> Result<Verdict, String>;

/// A check: its spec and its decision function.
pub struct Check {
    pub spec: CheckSpec,
    pub run: CheckFn,
}

/// Every check, in catalogue order (category, then as listed in CHECKS.md).
pub fn all() -> Vec<Check> {
    let mut checks = Vec::new();
    checks.extend(python_rules::checks());
    checks.extend(secrets::checks());
    checks.extend(testing::checks());
    checks.extend(delivery::checks());
    checks.extend(docs::checks());
    checks.extend(github::checks());
    let order =
        |c: &Check| crate::model::Category::ALL.iter().position(|x| *x == c.spec.category).unwrap_or(usize::MAX);
    checks.sort_by_key(order);
    checks
}

/// The spec of a check by id.
pub fn spec(id: &str) -> Option<CheckSpec> {
    all().into_iter().map(|c| c.spec).find(|s| s.id == id)
}

/// Every per-file analyzer the repository's manifests call for.
pub fn analyzers(manifests: &[crate::manifests::Manifest]) -> Vec<Box<dyn FileAnalyzer>> {
    let mut list: Vec<Box<dyn FileAnalyzer>> = Vec::new();
    list.extend(secrets::analyzers());
    list.extend(python_rules::analyzers());
    list.extend(node_rules::analyzers(manifests));
    list.extend(go_rules::analyzers(manifests));
    list.extend(rust_rules::analyzers(manifests));
    list.extend(testing::analyzers());
    list
}

/// One finding at every place the per-file pass recorded signal `key`,
/// with the signal's detail as evidence.
pub fn signal_findings(repo: &Repo<'_>, key: &str, message: &str) -> Vec<RawFinding> {
    repo.signals(key).map(|(e, s)| RawFinding::at(Location::at(&e.path, s.line), message, s.detail.clone())).collect()
}

/// The common shape of a code check: fail with the per-file hits recorded
/// under `id`, pass when there are none, not applicable when `applies` is
/// false (with `why_not`).
pub fn from_hits(
    repo: &Repo<'_>,
    id: &str,
    applies: bool,
    why_not: &str,
    pass: Vec<Evidence>,
) -> Result<Verdict, String> {
    if !applies {
        return Ok(Verdict::NotApplicable(why_not.to_string()));
    }
    let findings: Vec<RawFinding> = repo
        .hits(id)
        .map(|(entry, hit)| RawFinding {
            location: Some(Location::at(&entry.path, hit.line)),
            message: hit.message.clone(),
            evidence: hit.evidence.clone(),
            identity: hit.identity.clone(),
            severity: hit.severity,
        })
        .collect();
    if findings.is_empty() { Ok(Verdict::Pass(pass)) } else { Ok(Verdict::Fail(findings)) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn check_ids_are_unique_kebab_case_and_documented() {
        let mut seen = HashSet::new();
        for c in all() {
            let id = c.spec.id;
            assert!(seen.insert(id), "duplicate check id {id}");
            assert!(!id.starts_with(crate::policy::CUSTOM_PREFIX), "{id} would collide with custom check ids");
            assert!(id.chars().all(|ch| ch.is_ascii_lowercase() || ch == '-'), "{id} is not kebab-case");
            assert!(
                !c.spec.title.is_empty() && !c.spec.rationale.is_empty() && !c.spec.fix.is_empty(),
                "{id} lacks docs"
            );
        }
    }
}
