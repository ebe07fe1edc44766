//! Suppressions written in the repository: inline comments
//! (`shipshape: ignore[check-id] reason`, on the finding's line or the line
//! above) and `[[ignore]]` entries in `.shipshape.toml`. A suppression
//! without a reason, or past its expiry, does not suppress; a note says why.

use crate::model::{CheckResult, Finding, Note, Outcome, Report, Suppression};
use crate::repo::FileFacts;
use crate::walk::FileIndex;
use chrono::NaiveDate;
use globset::{Glob, GlobMatcher};
use serde::Deserialize;
use std::path::Path;

const MARKER: &str = "shipshape: ignore[";

/// An inline `shipshape: ignore[...]` comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InlineIgnore {
    pub line: u32,
    pub checks: Vec<String>,
    pub reason: String,
}

/// Finds the inline ignore comments of a file.
pub fn inline_ignores(text: &str) -> Vec<InlineIgnore> {
    if memchr::memmem::find(text.as_bytes(), MARKER.as_bytes()).is_none() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let Some(pos) = line.find(MARKER) else { continue };
        let rest = &line[pos + MARKER.len()..];
        let Some(end) = rest.find(']') else { continue };
        let checks = rest[..end].split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
        let reason = rest[end + 1..].trim().trim_end_matches("*/").trim_end_matches("-->").trim().to_string();
        out.push(InlineIgnore { line: i as u32 + 1, checks, reason });
    }
    out
}

/// The repository's `.shipshape.toml`.
#[derive(Debug, Default)]
pub struct RepoConfig {
    pub ignores: Vec<ConfigIgnore>,
    pub notes: Vec<Note>,
    /// The file's text, for the policy's `[[checks]]` (see `policy`).
    pub text: Option<String>,
}

#[derive(Debug)]
pub struct ConfigIgnore {
    pub check: String,
    pub path: Option<GlobMatcher>,
    pub reason: String,
    pub expires: Option<NaiveDate>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    ignore: Vec<RawIgnore>,
    /// Repository-defined checks: read by `policy`, honoured only when the
    /// server's policy allows them.
    #[serde(default)]
    #[allow(dead_code)]
    checks: Option<toml::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIgnore {
    check: String,
    path: Option<String>,
    reason: Option<String>,
    expires: Option<toml::value::Datetime>,
}

pub const CONFIG_FILE: &str = ".shipshape.toml";
/// A suppression config is a few lines; anything bigger is not one.
const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

impl RepoConfig {
    /// Loads `.shipshape.toml` from the root; problems become notes.
    pub fn load(root: &Path) -> RepoConfig {
        let path = root.join(CONFIG_FILE);
        let refuse = |why: String| RepoConfig { ignores: vec![], notes: vec![note(why)], text: None };
        // `symlink_metadata`: a `.shipshape.toml` linking to /etc/passwd
        // must not be read, and a 2 GB one must not be loaded.
        match std::fs::symlink_metadata(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return RepoConfig::default(),
            Err(e) => return refuse(format!("cannot read: {e}")),
            Ok(m) if m.file_type().is_symlink() => {
                return refuse("ignored: it is a symbolic link, and links are never followed".into());
            }
            Ok(m) if !m.is_file() => return refuse("ignored: it is not a regular file".into()),
            Ok(m) if m.len() > MAX_CONFIG_BYTES => {
                return refuse(format!("ignored: {} bytes is over the {MAX_CONFIG_BYTES}-byte limit", m.len()));
            }
            Ok(_) => {}
        }
        match std::fs::read(&path) {
            Ok(bytes) => {
                let text = String::from_utf8_lossy(&bytes).into_owned();
                RepoConfig { text: Some(text.clone()), ..RepoConfig::parse(&text) }
            }
            Err(e) => refuse(format!("cannot read: {e}")),
        }
    }

    pub fn parse(text: &str) -> RepoConfig {
        let raw: RawConfig = match toml::from_str(text) {
            Ok(r) => r,
            Err(e) => {
                return RepoConfig {
                    ignores: vec![],
                    notes: vec![note(format!("ignored, it does not parse: {}", e.message()))],
                    text: None,
                };
            }
        };
        let mut cfg = RepoConfig::default();
        for (i, r) in raw.ignore.into_iter().enumerate() {
            let reason = r.reason.unwrap_or_default().trim().to_string();
            if reason.is_empty() {
                cfg.notes.push(note(format!(
                    "[[ignore]] #{} for {} has no reason and does not suppress",
                    i + 1,
                    r.check
                )));
                continue;
            }
            let path = match r.path.as_deref().map(Glob::new) {
                None => None,
                Some(Ok(g)) => Some(g.compile_matcher()),
                Some(Err(e)) => {
                    cfg.notes.push(note(format!("[[ignore]] #{} has a bad path glob: {e}", i + 1)));
                    continue;
                }
            };
            let expires = match r.expires {
                None => None,
                Some(d) => match d.date {
                    Some(date) => {
                        NaiveDate::from_ymd_opt(i32::from(date.year), u32::from(date.month), u32::from(date.day))
                    }
                    None => {
                        cfg.notes.push(note(format!("[[ignore]] #{} has an expiry without a date", i + 1)));
                        continue;
                    }
                },
            };
            cfg.ignores.push(ConfigIgnore { check: r.check, path, reason, expires });
        }
        cfg
    }
}

impl RepoConfig {
    /// One note per `[[ignore]]` entry whose expiry is before `today`: it
    /// no longer suppresses, and the reader should know why a finding came back.
    pub fn expired_notes(&self, today: NaiveDate) -> Vec<Note> {
        self.ignores
            .iter()
            .filter_map(|ig| ig.expires.filter(|d| *d < today).map(|d| (ig, d)))
            .map(|(ig, d)| note(format!("[[ignore]] for {} expired on {d} and no longer suppresses", ig.check)))
            .collect()
    }
}

fn note(message: String) -> Note {
    Note { path: CONFIG_FILE.into(), message }
}

/// Marks suppressed findings and turns a check whose every finding is
/// suppressed into a pass.
pub fn apply(
    results: &mut [CheckResult],
    facts: &[FileFacts],
    index: &FileIndex,
    config: &RepoConfig,
    today: NaiveDate,
) {
    for result in results.iter_mut().filter(|r| r.outcome == Outcome::Fail) {
        for finding in &mut result.findings {
            let path = finding.location.as_ref().map(|l| l.path.as_str());
            let line = finding.location.as_ref().and_then(|l| l.line);
            if let (Some(path), Some(line)) = (path, line) {
                let inline = index.files.binary_search_by(|f| f.path.as_str().cmp(path)).ok().and_then(|i| {
                    facts[i].inline_ignores.iter().find(|ig| {
                        (ig.line == line || ig.line + 1 == line) && ig.checks.iter().any(|c| c == &result.check_id)
                    })
                });
                if let Some(ig) = inline.filter(|ig| !ig.reason.is_empty()) {
                    finding.suppression =
                        Some(Suppression { source: "inline".into(), reason: ig.reason.clone(), expires: None });
                    continue;
                }
            }
            let configured = config.ignores.iter().find(|ig| {
                ig.check == result.check_id
                    && match (&ig.path, path) {
                        (None, _) => true,
                        (Some(glob), Some(p)) => glob.is_match(p),
                        (Some(_), None) => false,
                    }
            });
            if let Some(ig) = configured
                && ig.expires.is_none_or(|d| d >= today)
            {
                finding.suppression =
                    Some(Suppression { source: "config".into(), reason: ig.reason.clone(), expires: ig.expires });
            }
        }
        pass_if_all_suppressed(result);
    }
}

/// A check whose every finding is suppressed passes.
fn pass_if_all_suppressed(result: &mut CheckResult) {
    if result.findings.iter().all(|f| f.suppression.is_some()) {
        result.outcome = Outcome::Pass;
        result.summary = format!("{} finding(s) suppressed", result.findings.len());
    }
}

/// A suppression made in the dashboard for one finding. It follows the
/// finding by fingerprint, or by check and content hash once the finding
/// has moved to another file. Expiry and revocation are the caller's
/// business: only suppressions in force are passed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DashboardIgnore {
    pub fingerprint: String,
    pub check_id: String,
    pub content_hash: String,
    pub reason: String,
    pub expires: Option<NaiveDate>,
}

impl DashboardIgnore {
    fn matches(&self, f: &Finding) -> bool {
        self.fingerprint == f.fingerprint || (self.check_id == f.check_id && self.content_hash == f.content_hash)
    }
}

/// Applies dashboard suppressions to a finished report and scores it again,
/// exactly as if they had been written in the repository; `None` when none
/// of them matches an unsuppressed finding (the report stands as it is).
pub fn apply_dashboard(report: &Report, ignores: &[DashboardIgnore]) -> Option<Report> {
    let find = |f: &Finding| ignores.iter().find(|i| i.matches(f));
    if !report.findings().any(|f| f.suppression.is_none() && find(f).is_some()) {
        return None;
    }
    let mut checks = report.checks.clone();
    for result in checks.iter_mut().filter(|r| r.outcome == Outcome::Fail) {
        for finding in result.findings.iter_mut().filter(|f| f.suppression.is_none()) {
            if let Some(i) = find(finding) {
                finding.suppression =
                    Some(Suppression { source: "dashboard".into(), reason: i.reason.clone(), expires: i.expires });
            }
        }
        pass_if_all_suppressed(result);
        // The check weighs as its worst finding still counting (engine.rs).
        let catalogue = report.info(&result.check_id).map(|s| s.severity);
        if let Some(worst) = result.active_findings().map(|f| f.severity).min().or(catalogue) {
            result.severity = worst;
        }
    }
    let mut rescored = crate::score::finish(
        report.root.clone(),
        report.stack.clone(),
        checks,
        report.notes.clone(),
        report.stats.clone(),
    );
    rescored.custom_checks = report.custom_checks.clone();
    rescored.policy_version = report.policy_version.clone();
    Some(rescored)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dashboard_suppression_rescores_and_passes_a_fully_suppressed_check() {
        use crate::model::{Category, Location, Severity, Stack};
        let finding = Finding {
            check_id: "debug-enabled".into(),
            severity: Severity::High,
            category: Category::Security,
            message: "debug on".into(),
            location: Some(Location::at("app.py", 3)),
            evidence: "DEBUG = True".into(),
            fingerprint: "fp".into(),
            content_hash: "ch".into(),
            suppression: None,
        };
        let check = CheckResult {
            check_id: "debug-enabled".into(),
            title: "t".into(),
            category: Category::Security,
            severity: Severity::High,
            outcome: Outcome::Fail,
            summary: "debug on".into(),
            evidence: vec![],
            findings: vec![finding],
            error: None,
            effective: None,
        };
        let report = crate::score::finish("r".into(), Stack::default(), vec![check], vec![], Default::default());
        assert!(report.score < 100.0);
        let ignore = |fp: &str, hash: &str| DashboardIgnore {
            fingerprint: fp.into(),
            check_id: "debug-enabled".into(),
            content_hash: hash.into(),
            reason: "staging only".into(),
            expires: None,
        };
        assert!(apply_dashboard(&report, &[ignore("other", "other")]).is_none());
        let after = apply_dashboard(&report, &[ignore("moved-fp", "ch")]).expect("matches by content hash");
        assert_eq!(after.checks[0].outcome, Outcome::Pass);
        assert_eq!(after.checks[0].findings[0].suppression.as_ref().unwrap().source, "dashboard");
        assert_eq!(after.score, 100.0);
        assert!(apply_dashboard(&after, &[ignore("fp", "ch")]).is_none(), "already suppressed");
    }

    #[test]
    fn inline_ignore_needs_check_and_keeps_reason() {
        let text = "a = 1\nx = f()  # shipshape: ignore[cors-wildcard, debug-enabled] public read-only API\n";
        let got = inline_ignores(text);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].line, 2);
        assert_eq!(got[0].checks, vec!["cors-wildcard", "debug-enabled"]);
        assert_eq!(got[0].reason, "public read-only API");
    }

    #[test]
    fn config_without_reason_or_with_bad_toml_is_a_note() {
        let cfg = RepoConfig::parse("[[ignore]]\ncheck = \"tests-missing\"\n");
        assert!(cfg.ignores.is_empty());
        assert!(cfg.notes[0].message.contains("no reason"));
        let cfg = RepoConfig::parse("[[ignore]\n");
        assert!(cfg.notes[0].message.contains("does not parse"));
        let cfg =
            RepoConfig::parse("[[ignore]]\ncheck = \"x\"\nreason = \"r\"\npath = \"docs/**\"\nexpires = 2030-01-01\n");
        assert_eq!(cfg.ignores.len(), 1);
        assert_eq!(cfg.ignores[0].expires, NaiveDate::from_ymd_opt(2030, 1, 1));
    }
}
