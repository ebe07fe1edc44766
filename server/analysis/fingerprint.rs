//! Finding identity across scans (DESIGN.md, "Finding identity"):
//! hash(check id, repo-relative path, normalised evidence — whitespace
//! collapsed, no line numbers — and the occurrence index among equal
//! candidates in that file). Repository-level findings hash the check id
//! alone, so "no tests" stays one finding however often it is seen.

use crate::checks::RawFinding;
use crate::model::{Category, Finding, Severity};
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// Collapses runs of whitespace so re-indenting a line keeps its identity.
pub fn normalise(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The fingerprint of one finding.
pub fn compute(check: &str, path: Option<&str>, identity: &str, occurrence: usize) -> String {
    let mut h = Sha256::new();
    h.update(check.as_bytes());
    if let Some(path) = path {
        h.update([0]);
        h.update(path.as_bytes());
        h.update([0]);
        h.update(normalise(identity).as_bytes());
        h.update([0]);
        h.update(occurrence.to_string().as_bytes());
    }
    hex::encode(&h.finalize()[..16])
}

/// hash(check id, normalised evidence, occurrence index): the fingerprint
/// without the path, so a finding that moved to another file can be
/// recognised as the same problem.
pub fn content_hash(check: &str, identity: &str, occurrence: usize) -> String {
    let mut h = Sha256::new();
    h.update(check.as_bytes());
    h.update([0]);
    h.update(normalise(identity).as_bytes());
    h.update([0]);
    h.update(occurrence.to_string().as_bytes());
    hex::encode(&h.finalize()[..16])
}

/// Turns raw findings of check `id` into findings with fingerprints, sorted
/// by location; `severity` is the check's, unless a finding says otherwise.
pub fn assign(id: &str, category: Category, severity: Severity, mut raw: Vec<RawFinding>) -> Vec<Finding> {
    raw.sort_by(|a, b| a.location.cmp(&b.location));
    let mut seen: HashMap<(Option<String>, String), usize> = HashMap::new();
    raw.into_iter()
        .map(|r| {
            let path = r.location.as_ref().map(|l| l.path.clone());
            let key = (path.clone(), normalise(&r.identity));
            let occurrence = *seen.entry(key).and_modify(|n| *n += 1).or_insert(0);
            Finding {
                check_id: id.to_string(),
                severity: r.severity.unwrap_or(severity),
                category,
                fingerprint: compute(id, path.as_deref(), &r.identity, occurrence),
                content_hash: content_hash(id, &r.identity, occurrence),
                message: r.message,
                location: r.location,
                evidence: r.evidence,
                suppression: None,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whitespace_and_line_do_not_change_identity_but_path_and_occurrence_do() {
        let a = compute("cors-wildcard", Some("app.py"), "allow_origins=[\"*\"]", 0);
        assert_eq!(a, compute("cors-wildcard", Some("app.py"), "  allow_origins=[\"*\"]\n", 0));
        assert_ne!(a, compute("cors-wildcard", Some("main.py"), "allow_origins=[\"*\"]", 0));
        assert_ne!(a, compute("cors-wildcard", Some("app.py"), "allow_origins=[\"*\"]", 1));
        assert_eq!(compute("tests-missing", None, "x", 0), compute("tests-missing", None, "y", 3));
        // The content hash ignores the path: a moved finding keeps it.
        assert_eq!(content_hash("cors-wildcard", "a  b", 0), content_hash("cors-wildcard", "a b", 0));
        assert_ne!(content_hash("cors-wildcard", "a b", 0), content_hash("debug-enabled", "a b", 0));
    }
}
