//! The scan itself: one parallel pass over the files (each file read once,
//! handed to every analyzer that wants it, then dropped; a binary file only
//! as far as its first 8000 bytes), then the repository-level checks over
//! what that pass collected.
//!
//! Analyzers and checks never panic the scan: a panic in an analyzer becomes
//! a note on that file, a panic or error in a check becomes its `error`
//! outcome.

use crate::checks::{Check, Verdict};
use crate::model::*;
use crate::policy::{CustomCheck, Policy};
use crate::repo::{FileFacts, Repo};
use crate::walk::{self, FileEntry};
use crate::{fingerprint, manifests, score, stack, suppress};
use rayon::prelude::*;
use std::io::Read;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::time::Instant;

/// Files larger than this are not parsed by code checks (CHECKS.md).
pub const MAX_CODE_FILE: u64 = 1024 * 1024;
/// Files larger than this are not read at all; a note says so.
pub const MAX_READ_FILE: u64 = 8 * 1024 * 1024;

/// What the caller knows that the checkout does not say.
#[derive(Debug, Clone)]
pub struct Options {
    /// "Today" for suppression expiry and for which checks are in effect
    /// (see `policy`); injected so scans are reproducible.
    pub today: chrono::NaiveDate,
    /// Facts from the GitHub API; `None` makes the github checks not applicable.
    pub github: Option<GithubFacts>,
    /// Custom checks and effective dates; the default is the built-in
    /// catalogue alone, every check in effect.
    pub policy: std::sync::Arc<Policy>,
}

impl Default for Options {
    fn default() -> Self {
        Options { today: chrono::Utc::now().date_naive(), github: None, policy: Default::default() }
    }
}

/// What the GitHub API said about the repository, gathered by the caller.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct GithubFacts {
    /// A branch protection rule or a ruleset applies to the default branch
    /// (GitHub shows this to anyone who can read the repository).
    pub default_branch_protected: bool,
    /// Whether merging needs a pull request; `None` when the branch is
    /// protected but its rules cannot be read (they need admin rights).
    pub requires_pull_request: Option<bool>,
    pub required_status_checks: Vec<String>,
    pub last_commit: Option<chrono::DateTime<chrono::Utc>>,
}

/// A file as an analyzer sees it: its entry and its contents.
pub struct SourceFile<'a> {
    pub entry: &'a FileEntry,
    pub bytes: &'a [u8],
    /// The contents as text; invalid UTF-8 sequences are replaced.
    pub text: &'a str,
}

/// A candidate finding produced while reading one file.
#[derive(Debug, Clone)]
pub struct Hit {
    pub check: &'static str,
    /// 1-based line.
    pub line: u32,
    pub message: String,
    /// What a reader is shown; must already be masked if it may hold a secret.
    pub evidence: String,
    /// What identifies the problem across scans (normalised into the
    /// fingerprint). Defaults to the evidence; secrets use a hash of the value.
    pub identity: String,
    /// Overrides the catalogue severity for this finding.
    pub severity: Option<Severity>,
}

impl Hit {
    pub fn new(check: &'static str, line: u32, message: impl Into<String>, evidence: impl Into<String>) -> Self {
        let evidence = evidence.into();
        Hit { check, line, message: message.into(), identity: evidence.clone(), evidence, severity: None }
    }

    pub fn with_identity(mut self, identity: impl Into<String>) -> Self {
        self.identity = identity.into();
        self
    }

    pub fn with_severity(mut self, severity: Severity) -> Self {
        self.severity = Some(severity);
        self
    }
}

/// A fact noticed in a file that repository-level checks and stack detection
/// combine: `framework:fastapi`, `health-route`, `sentry`, …
#[derive(Debug, Clone)]
pub struct Signal {
    pub key: &'static str,
    pub line: u32,
    pub detail: String,
}

/// What analyzers write for one file.
#[derive(Debug, Default)]
pub struct FileOutput {
    pub hits: Vec<Hit>,
    pub signals: Vec<Signal>,
    /// Notes on this file for the report (e.g. why an analyzer skipped it).
    pub notes: Vec<String>,
}

impl FileOutput {
    pub fn hit(&mut self, hit: Hit) {
        self.hits.push(hit);
    }

    pub fn signal(&mut self, key: &'static str, line: u32, detail: impl Into<String>) {
        self.signals.push(Signal { key, line, detail: detail.into() });
    }

    pub fn note(&mut self, message: impl Into<String>) {
        self.notes.push(message.into());
    }
}

/// A per-file pass. `wants` is called for every text file; `analyze` only
/// for those it wants. Must be cheap to share across threads.
pub trait FileAnalyzer: Sync + Send {
    fn name(&self) -> &'static str;
    fn wants(&self, entry: &FileEntry) -> bool;
    fn analyze(&self, file: &SourceFile<'_>, out: &mut FileOutput);
}

/// Errors that stop a scan as a whole (a single bad file never does).
#[derive(Debug, thiserror::Error)]
pub enum AnalysisError {
    #[error("cannot read the repository at {path}: {source}")]
    Root { path: String, source: std::io::Error },
}

/// Scans the directory at `root` and returns its report.
///
/// # Errors
/// Only when `root` itself cannot be listed.
pub fn analyze(root: &Path, options: &Options) -> Result<Report, AnalysisError> {
    let started = Instant::now();
    let index = walk::walk(root).map_err(|source| AnalysisError::Root { path: root.display().to_string(), source })?;
    // Manifests first: they decide which language analyzers the files need.
    let manifests = manifests::load(root, &index);
    let analyzers = crate::checks::analyzers(&manifests);
    let facts: Vec<FileFacts> = index.files.par_iter().map(|entry| read_and_analyze(entry, &analyzers)).collect();
    let stack = stack::detect(&index, &facts, &manifests);
    let config = suppress::RepoConfig::load(root);
    let repo = Repo::new(root, &index, &facts, stack, manifests, options);
    let checks = crate::checks::all();
    let mut results: Vec<CheckResult> = checks.iter().map(|c| run_check(c, &repo)).collect();
    // Custom checks: the server's policy, then the repository's own when allowed.
    let policy = &options.policy;
    let (repo_checks, policy_notes) = policy.repository_checks(config.text.as_deref());
    let custom: Vec<&CustomCheck> = policy.checks.iter().chain(&repo_checks).collect();
    for (check, verdict) in custom.iter().zip(crate::policy::evaluate(&custom, &repo)) {
        let i = &check.info;
        results.push(result_of(&i.id, &i.title, i.category, i.severity, "passes", Ok(verdict)));
    }
    // Catalogue order: by category, custom checks after the built-in ones.
    results.sort_by_key(|r| Category::ALL.iter().position(|c| *c == r.category));
    suppress::apply(&mut results, &facts, &index, &config, options.today);
    // A failing check weighs as much as its worst unsuppressed finding
    // (wildcard CORS with credentials is critical, not high).
    for r in results.iter_mut().filter(|r| r.outcome == Outcome::Fail) {
        if let Some(worst) = r.active_findings().map(|f| f.severity).min() {
            r.severity = worst;
        }
    }
    let effective = |id: &str| {
        custom.iter().find(|c| c.info.id == id).and_then(|c| c.info.effective).or_else(|| policy.effective_of(id))
    };
    for r in &mut results {
        if let Some(date) = effective(&r.check_id) {
            mark_upcoming(r, date, options.today);
        }
    }
    let mut notes = index.notes.clone();
    notes.extend(config.notes.iter().cloned());
    notes.extend(policy_notes);
    notes.extend(config.expired_notes(options.today));
    // A manifest that cannot be read or parsed declares no dependency; say
    // so, or the checks that look for one would fail or pass without a word.
    notes.extend(repo.manifests.iter().filter_map(|m| {
        m.error.as_ref().map(|e| Note { path: m.path.clone(), message: format!("dependencies not read: {e}") })
    }));
    for (entry, f) in index.files.iter().zip(&facts) {
        notes.extend(f.notes.iter().map(|m| Note { path: entry.path.clone(), message: m.clone() }));
    }
    let stats = ScanStats {
        files_seen: index.files.len() as u64,
        files_read: facts.iter().filter(|f| f.read).count() as u64,
        bytes_read: facts.iter().filter(|f| f.read).map(|f| f.bytes).sum(),
        duration_ms: started.elapsed().as_millis() as u64,
    };
    let mut report = score::finish(root.display().to_string(), repo.stack.clone(), results, notes, stats);
    report.custom_checks = custom.iter().map(|c| c.info.clone()).collect();
    report.policy_version = score::policy_version(policy, &repo_checks);
    Ok(report)
}

/// Gives a check its effective date; before it, the check is `upcoming`:
/// what it would say today stays in the summary and its findings, and it
/// counts in neither scores nor levels. A check that does not apply stays
/// not applicable (it would not count either way).
fn mark_upcoming(r: &mut CheckResult, date: chrono::NaiveDate, today: chrono::NaiveDate) {
    r.effective = Some(date);
    if today >= date {
        return;
    }
    let would = match r.outcome {
        Outcome::Pass => "would pass",
        Outcome::Fail => "would fail",
        Outcome::Error => "could not run",
        Outcome::NotApplicable | Outcome::Upcoming => return,
    };
    r.summary = format!("takes effect on {date}; today it {would}: {}", r.summary);
    r.outcome = Outcome::Upcoming;
}

fn read_and_analyze(entry: &FileEntry, analyzers: &[Box<dyn FileAnalyzer>]) -> FileFacts {
    let mut facts = FileFacts::default();
    if entry.size > MAX_READ_FILE {
        facts.notes.push(format!(
            "not read: {} MiB is over the {} MiB limit",
            entry.size / (1024 * 1024),
            MAX_READ_FILE / (1024 * 1024)
        ));
        return facts;
    }
    let wanted: Vec<&dyn FileAnalyzer> = analyzers.iter().map(|a| a.as_ref()).filter(|a| a.wants(entry)).collect();
    if wanted.is_empty() {
        return facts;
    }
    // The first `SNIFF_BYTES` decide whether the file is binary; only a text
    // file is read on. `take` bounds the read even if the file grew since it
    // was listed.
    let mut bytes = Vec::with_capacity(entry.size.min(SNIFF_BYTES) as usize);
    let read = std::fs::File::open(&entry.abs).and_then(|mut f| {
        f.by_ref().take(SNIFF_BYTES).read_to_end(&mut bytes)?;
        if bytes.len() as u64 == SNIFF_BYTES && !is_binary(&bytes) {
            bytes.reserve(entry.size.saturating_sub(SNIFF_BYTES) as usize);
            f.take(MAX_READ_FILE + 1 - SNIFF_BYTES).read_to_end(&mut bytes)?;
        }
        Ok(())
    });
    if let Err(err) = read {
        facts.notes.push(format!("not read: {err}"));
        return facts;
    }
    facts.read = true;
    facts.bytes = bytes.len() as u64;
    if is_binary(&bytes) {
        facts.binary = true;
        // An image is binary as expected; a `.py` that is binary (compiled,
        // encrypted, mislabelled) would otherwise pass every code check silently.
        if entry.language.is_some() {
            facts.notes.push("code checks skipped: binary content (a NUL byte near the start)".into());
        }
        return facts;
    }
    facts.lines =
        memchr::memchr_iter(b'\n', &bytes).count() as u32 + u32::from(!bytes.is_empty() && !bytes.ends_with(b"\n"));
    let text = String::from_utf8_lossy(&bytes);
    facts.inline_ignores = suppress::inline_ignores(&text);
    let file = SourceFile { entry, bytes: &bytes, text: &text };
    let mut out = FileOutput::default();
    for analyzer in wanted {
        if entry.size > MAX_CODE_FILE && analyzer.name() != "secrets" {
            continue;
        }
        if let Err(panic) = catch_unwind(AssertUnwindSafe(|| analyzer.analyze(&file, &mut out))) {
            facts.notes.push(format!("analyzer {} failed on this file: {}", analyzer.name(), panic_message(&panic)));
        }
    }
    if entry.size > MAX_CODE_FILE && entry.language.is_some() {
        facts.notes.push("code checks skipped: file is over 1 MiB".into());
    }
    facts.notes.extend(out.notes);
    facts.hits = out.hits;
    facts.signals = out.signals;
    facts
}

/// How much of a file is read to tell binary from text (git's 8000 bytes).
const SNIFF_BYTES: u64 = 8000;

/// Git's heuristic: a NUL byte in the first 8000 bytes means binary.
fn is_binary(bytes: &[u8]) -> bool {
    memchr::memchr(0, &bytes[..bytes.len().min(SNIFF_BYTES as usize)]).is_some()
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".into())
}

fn run_check(check: &Check, repo: &Repo<'_>) -> CheckResult {
    let spec = &check.spec;
    let verdict = catch_unwind(AssertUnwindSafe(|| (check.run)(repo)));
    result_of(spec.id, spec.title, spec.category, spec.severity, spec.pass_summary, verdict)
}

/// The result of a check from what it decided (or how it crashed).
fn result_of(
    id: &str,
    title: &str,
    category: Category,
    severity: Severity,
    pass_summary: &str,
    verdict: std::thread::Result<Result<Verdict, String>>,
) -> CheckResult {
    let mut result = CheckResult {
        check_id: id.to_string(),
        title: title.to_string(),
        category,
        severity,
        outcome: Outcome::Pass,
        summary: String::new(),
        evidence: Vec::new(),
        findings: Vec::new(),
        error: None,
        effective: None,
    };
    match verdict {
        Ok(Ok(Verdict::Pass(evidence))) => {
            result.summary = evidence.first().map(|e| e.message.clone()).unwrap_or_else(|| pass_summary.to_string());
            result.evidence = evidence;
        }
        Ok(Ok(Verdict::NotApplicable(reason))) => {
            result.outcome = Outcome::NotApplicable;
            result.summary = reason;
        }
        Ok(Ok(Verdict::Fail(raw))) if raw.is_empty() => {
            result.summary = pass_summary.to_string();
        }
        Ok(Ok(Verdict::Fail(raw))) => {
            result.outcome = Outcome::Fail;
            result.findings = fingerprint::assign(id, category, severity, raw);
            result.summary = match result.findings.len() {
                1 => result.findings[0].message.clone(),
                n => format!("{n} findings: {}", result.findings[0].message),
            };
        }
        Ok(Err(err)) => {
            result.outcome = Outcome::Error;
            result.summary = format!("check could not run: {err}");
            result.error = Some(err);
        }
        Err(panic) => {
            let msg = panic_message(&panic);
            result.outcome = Outcome::Error;
            result.summary = format!("check crashed: {msg}");
            result.error = Some(msg);
        }
    }
    result
}
