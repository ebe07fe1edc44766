//! The vocabulary of a scan: severities, categories, outcomes, findings and
//! the report. Everything here is plain data that serialises to the JSON
//! report schema (see `report::json::SCHEMA_VERSION`), so renaming a field is
//! a schema change.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How bad a failing check is. Ordered from worst to least bad.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Critical,
    High,
    Medium,
    Low,
    Info,
}

impl Severity {
    pub const ALL: [Severity; 5] =
        [Severity::Critical, Severity::High, Severity::Medium, Severity::Low, Severity::Info];

    /// Weight of a check of this severity inside its category (CHECKS.md).
    pub fn weight(self) -> u32 {
        match self {
            Severity::Critical => 10,
            Severity::High => 6,
            Severity::Medium => 3,
            Severity::Low => 1,
            Severity::Info => 0,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
            Severity::Info => "info",
        }
    }

    pub fn parse(s: &str) -> Option<Severity> {
        Severity::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// The area of readiness a check belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Category {
    Security,
    Secrets,
    Data,
    Reliability,
    Observability,
    Testing,
    Delivery,
    Docs,
    Github,
}

impl Category {
    pub const ALL: [Category; 9] = [
        Category::Security,
        Category::Secrets,
        Category::Data,
        Category::Reliability,
        Category::Observability,
        Category::Testing,
        Category::Delivery,
        Category::Docs,
        Category::Github,
    ];

    /// Weight of the category in the overall score (CHECKS.md). The `github`
    /// category is not in the spec's list; its checks count toward levels
    /// but carry no weight in the overall score.
    pub fn weight(self) -> u32 {
        match self {
            Category::Security => 20,
            Category::Secrets => 20,
            Category::Data => 10,
            Category::Reliability => 10,
            Category::Observability => 15,
            Category::Testing => 10,
            Category::Delivery => 10,
            Category::Docs => 5,
            Category::Github => 0,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Category::Security => "security",
            Category::Secrets => "secrets",
            Category::Data => "data",
            Category::Reliability => "reliability",
            Category::Observability => "observability",
            Category::Testing => "testing",
            Category::Delivery => "delivery",
            Category::Docs => "docs",
            Category::Github => "github",
        }
    }

    pub fn parse(s: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// The result of one check on one repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Pass,
    Fail,
    NotApplicable,
    Error,
    /// The check takes effect on a later date (its `effective` date): it
    /// ran and its findings are shown, but it counts in neither scores nor
    /// levels yet, so teams see it coming.
    Upcoming,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Fail => "fail",
            Outcome::NotApplicable => "not_applicable",
            Outcome::Error => "error",
            Outcome::Upcoming => "upcoming",
        }
    }
}

/// Readiness level: a gate on the worst failing severity, not an average.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Level {
    NotReady,
    Bronze,
    Silver,
    Gold,
}

impl Level {
    pub const ALL: [Level; 4] = [Level::NotReady, Level::Bronze, Level::Silver, Level::Gold];

    pub fn as_str(self) -> &'static str {
        match self {
            Level::NotReady => "not-ready",
            Level::Bronze => "bronze",
            Level::Silver => "silver",
            Level::Gold => "gold",
        }
    }

    pub fn parse(s: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// A place in the repository. `line` is 1-based; absent for file-level facts.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Location {
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
}

impl Location {
    pub fn file(path: impl Into<String>) -> Self {
        Location { path: path.into(), line: None }
    }

    pub fn at(path: impl Into<String>, line: u32) -> Self {
        Location { path: path.into(), line: Some(line) }
    }
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}", self.path, line),
            None => f.write_str(&self.path),
        }
    }
}

/// Positive evidence for a passing check ("health route at app/main.py:42").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
}

impl Evidence {
    pub fn new(message: impl Into<String>, location: Option<Location>) -> Self {
        Evidence { message: message.into(), location }
    }
}

/// Why a finding does not count against the score.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suppression {
    /// `inline`, `config` (.shipshape.toml) or `dashboard`.
    pub source: String,
    pub reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires: Option<chrono::NaiveDate>,
}

/// One problem, with where it is and a stable identity across scans.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub check_id: String,
    pub severity: Severity,
    pub category: Category,
    pub message: String,
    /// `None` for repository-level findings (an absence).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    /// What was seen, masked where it could be a secret. Safe to store and show.
    pub evidence: String,
    /// hash(check, path, normalised evidence, occurrence index); see `fingerprint`.
    pub fingerprint: String,
    /// The same hash without the path: recognises a finding whose file was
    /// renamed or whose code moved to another file.
    pub content_hash: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suppression: Option<Suppression>,
}

/// The outcome of one check, with its findings or its positive evidence.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CheckResult {
    pub check_id: String,
    pub title: String,
    pub category: Category,
    /// The check's catalogue severity, raised when a finding is worse
    /// (e.g. wildcard CORS with credentials is critical).
    pub severity: Severity,
    pub outcome: Outcome,
    /// One line a reader understands without the findings.
    pub summary: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<Evidence>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<Finding>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The date the check takes effect, when the policy gives it one;
    /// before it the outcome is `upcoming`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effective: Option<chrono::NaiveDate>,
}

impl CheckResult {
    /// Findings that are not suppressed (of an upcoming check too: what it
    /// would count once in effect).
    pub fn active_findings(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| f.suppression.is_none())
    }

    /// An upcoming check: shown, not counted.
    pub fn is_upcoming(&self) -> bool {
        self.outcome == Outcome::Upcoming
    }
}

/// What the repository is built with, as detected.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stack {
    /// Language name → number of source files.
    pub languages: BTreeMap<String, u32>,
    pub frameworks: Vec<String>,
    pub orms: Vec<String>,
    pub deploy_targets: Vec<String>,
    pub ci: Vec<String>,
    /// Dependency manifests found (repo-relative paths).
    pub manifests: Vec<String>,
}

/// A category's score: 100 × passing weight / applicable weight.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CategoryScore {
    pub category: Category,
    pub score: f64,
    pub passed_weight: u32,
    pub applicable_weight: u32,
}

/// How much one failing check took off the overall score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Deduction {
    pub check_id: String,
    pub category: Category,
    pub severity: Severity,
    /// Points of the overall score (0–100) lost because this check failed.
    pub points: f64,
    /// Points of its category's score lost.
    pub category_points: f64,
}

/// Something the scanner wants a reader to know about a file it could not
/// fully read (too big, binary, unreadable, not UTF-8…).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    pub path: String,
    pub message: String,
}

/// Everything one scan of one repository produced.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    pub schema_version: u32,
    pub analyzer_version: String,
    /// Fingerprint of the policy the scan ran with: the built-in catalogue,
    /// effective dates and custom checks (`score::policy_version`). Empty in
    /// reports written before it existed.
    #[serde(default)]
    pub policy_version: String,
    pub root: String,
    pub stack: Stack,
    pub score: f64,
    pub level: Level,
    /// Why the level is what it is, in one sentence.
    pub level_reason: String,
    pub categories: Vec<CategoryScore>,
    pub deductions: Vec<Deduction>,
    pub checks: Vec<CheckResult>,
    pub notes: Vec<Note>,
    pub stats: ScanStats,
    /// The descriptions of the custom checks that ran (from the server's
    /// policy or the repository's `.shipshape.toml`), so renderers and pages
    /// can show their documentation like a built-in check's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub custom_checks: Vec<crate::checks::CheckInfo>,
}

impl Report {
    pub fn check(&self, id: &str) -> Option<&CheckResult> {
        self.checks.iter().find(|c| c.check_id == id)
    }

    /// The description of a check of this report: a built-in one, or a
    /// custom one the report carries.
    pub fn info(&self, id: &str) -> Option<crate::checks::CheckInfo> {
        crate::checks::spec(id)
            .map(|s| crate::checks::CheckInfo::from(&s))
            .or_else(|| self.custom_checks.iter().find(|c| c.id == id).cloned())
    }

    /// Checks that take effect later: shown with what they would find, not counted.
    pub fn upcoming(&self) -> impl Iterator<Item = &CheckResult> {
        self.checks.iter().filter(|c| c.is_upcoming())
    }

    /// Ids of the checks that failed, sorted: what tests and gates compare.
    pub fn failing_check_ids(&self) -> Vec<&str> {
        let mut ids: Vec<&str> =
            self.checks.iter().filter(|c| c.outcome == Outcome::Fail).map(|c| c.check_id.as_str()).collect();
        ids.sort_unstable();
        ids
    }

    /// Findings of the checks in effect (an upcoming check's findings are
    /// not findings yet: see [`Report::upcoming`]).
    pub fn findings(&self) -> impl Iterator<Item = &Finding> {
        self.checks.iter().filter(|c| !c.is_upcoming()).flat_map(|c| c.findings.iter())
    }
}

/// Counters of the walk, for the report footer and the benchmark.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanStats {
    pub files_seen: u64,
    pub files_read: u64,
    pub bytes_read: u64,
    pub duration_ms: u64,
}
