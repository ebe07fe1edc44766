//! Policy as code: custom checks declared in TOML instead of written in
//! Rust, and effective dates that let a check (built-in or custom) be
//! announced before it counts.
//!
//! A policy comes from the server's configuration (`[[policy.checks]]`,
//! `[policy.effective]`, or a policy file with `[[checks]]` and
//! `[effective]`), and, only when the policy allows it, from the scanned
//! repository's `.shipshape.toml` (`[[checks]]`). Every definition is
//! validated when it is loaded: a bad regex, glob or tree-sitter query, an
//! unknown field, category or framework is an error naming the file, the
//! line and the check id, never a check that silently passes.
//!
//! Custom checks run after the built-in ones, over the same file index,
//! manifests and stack, and their results are ordinary [`CheckResult`]s:
//! they are suppressed, scored, levelled and rendered like built-ins.
//!
//! [`CheckResult`]: crate::model::CheckResult

mod load;
mod run;

pub use load::{Origin, PolicyDocument, parse_document};
pub use run::evaluate;

use crate::checks::{self, CheckInfo};
use crate::model::Note;
use chrono::NaiveDate;
use globset::GlobSet;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Every custom check id starts with this, so it can never collide with a
/// built-in id (none starts with it: a unit test of the catalogue says so).
pub const CUSTOM_PREFIX: &str = "custom-";
/// Check ids are stored in a 64-character column.
pub const MAX_ID_LEN: usize = 64;
/// A repository may define at most this many checks.
pub const MAX_REPOSITORY_CHECKS: usize = 50;

/// A validation error: where, which check, what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyError {
    pub file: String,
    /// 1-based line of the definition or the offending value.
    pub line: u32,
    pub check: Option<String>,
    pub message: String,
}

impl std::fmt::Display for PolicyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.check {
            Some(id) => write!(f, "{}:{}: check {id}: {}", self.file, self.line, self.message),
            None => write!(f, "{}:{}: {}", self.file, self.line, self.message),
        }
    }
}

impl std::error::Error for PolicyError {}

/// The errors of a policy, one per line.
pub fn describe(errors: &[PolicyError]) -> String {
    errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")
}

/// Which stacks a custom check applies to: every list that is not empty
/// must share an entry with the detected stack.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StackFilter {
    /// Framework ids as the stack reports them (`fastapi`, `gin`, `axum`…).
    pub frameworks: Vec<String>,
    /// Language names, lower case (`python`, `go`, `typescript`…).
    pub languages: Vec<String>,
}

/// A tree-sitter grammar a query can be written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryLanguage {
    Python,
    JavaScript,
    TypeScript,
    Tsx,
    Go,
    Rust,
}

impl QueryLanguage {
    pub const ALL: [QueryLanguage; 6] = [
        QueryLanguage::Python,
        QueryLanguage::JavaScript,
        QueryLanguage::TypeScript,
        QueryLanguage::Tsx,
        QueryLanguage::Go,
        QueryLanguage::Rust,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            QueryLanguage::Python => "python",
            QueryLanguage::JavaScript => "javascript",
            QueryLanguage::TypeScript => "typescript",
            QueryLanguage::Tsx => "tsx",
            QueryLanguage::Go => "go",
            QueryLanguage::Rust => "rust",
        }
    }

    pub fn parse(s: &str) -> Option<QueryLanguage> {
        QueryLanguage::ALL.into_iter().find(|l| l.as_str() == s)
    }

    pub(crate) fn grammar(self) -> tree_sitter::Language {
        match self {
            QueryLanguage::Python => tree_sitter_python::LANGUAGE.into(),
            QueryLanguage::JavaScript => tree_sitter_javascript::LANGUAGE.into(),
            QueryLanguage::TypeScript => tree_sitter_typescript::LANGUAGE_TYPESCRIPT.into(),
            QueryLanguage::Tsx => tree_sitter_typescript::LANGUAGE_TSX.into(),
            QueryLanguage::Go => tree_sitter_go::LANGUAGE.into(),
            QueryLanguage::Rust => tree_sitter_rust::LANGUAGE.into(),
        }
    }
}

/// A compiled tree-sitter query and the capture that marks a finding.
#[derive(Clone)]
pub struct CompiledQuery {
    pub language: QueryLanguage,
    pub query: Arc<tree_sitter::Query>,
    /// The `@finding` capture; without one, every match's first capture.
    pub finding: Option<u32>,
}

impl std::fmt::Debug for CompiledQuery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompiledQuery").field("language", &self.language).field("finding", &self.finding).finish()
    }
}

/// Globs over repo-relative paths, as written and compiled.
#[derive(Debug, Clone)]
pub struct Paths {
    pub shown: Vec<String>,
    pub set: GlobSet,
}

impl Paths {
    pub fn is_match(&self, path: &str) -> bool {
        self.set.is_match(path)
    }

    /// `a, b` for messages.
    pub fn list(&self) -> String {
        self.shown.join(", ")
    }
}

/// What a custom check looks for.
#[derive(Debug, Clone)]
pub enum Rule {
    /// Passes when a file matches one of the globs; fails (one
    /// repository-level finding) when none does.
    FileExists { paths: Paths },
    /// Each file matching a glob is a finding.
    FileAbsent { paths: Paths },
    /// Each match of the regex in a file matching the globs is a finding at
    /// its line. Not applicable when no file matches the globs.
    ContentMatches { paths: Paths, pattern: regex::Regex },
    /// Passes when some file matching the globs contains a match; fails
    /// (one repository-level finding) when none does.
    ContentRequired { paths: Paths, pattern: regex::Regex },
    /// Passes when a manifest declares one of the dependencies.
    DependencyPresent { names: Vec<String> },
    /// Each declaration of one of the dependencies is a finding.
    DependencyAbsent { names: Vec<String> },
    /// Each `@finding` capture (or each match) of the query in the
    /// language's application code (narrowed by `paths`) is a finding.
    TreeSitterQuery { query: CompiledQuery, paths: Option<Paths> },
}

impl Rule {
    pub fn kind(&self) -> &'static str {
        match self {
            Rule::FileExists { .. } => "file-exists",
            Rule::FileAbsent { .. } => "file-absent",
            Rule::ContentMatches { .. } => "content-matches",
            Rule::ContentRequired { .. } => "content-required",
            Rule::DependencyPresent { .. } => "dependency-present",
            Rule::DependencyAbsent { .. } => "dependency-absent",
            Rule::TreeSitterQuery { .. } => "tree-sitter-query",
        }
    }
}

/// The kinds a definition may name.
pub const KINDS: [&str; 7] = [
    "file-exists",
    "file-absent",
    "content-matches",
    "content-required",
    "dependency-present",
    "dependency-absent",
    "tree-sitter-query",
];

/// A custom check, validated and compiled.
#[derive(Debug, Clone)]
pub struct CustomCheck {
    pub info: CheckInfo,
    pub rule: Rule,
    pub applies_to: StackFilter,
    /// The message of each finding; the title when not given.
    pub message: Option<String>,
    /// The definition in canonical form, hashed into the policy version.
    pub(crate) canonical: String,
}

impl CustomCheck {
    pub fn id(&self) -> &str {
        &self.info.id
    }
}

/// The policy a scan runs with.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    /// Honour `[[checks]]` in the scanned repository's `.shipshape.toml`.
    pub allow_repository_checks: bool,
    /// Custom checks of the server's policy, in definition order.
    pub checks: Vec<CustomCheck>,
    /// Effective dates of built-in checks, by id.
    pub effective: BTreeMap<String, NaiveDate>,
}

impl Policy {
    /// Combines parsed documents (the config file, a policy file) into one
    /// policy, refusing an id defined twice or a date for an unknown check.
    ///
    /// # Errors
    /// Every problem found, each with its file and line.
    pub fn build(allow_repository_checks: bool, documents: Vec<PolicyDocument>) -> Result<Policy, Vec<PolicyError>> {
        let mut policy = Policy { allow_repository_checks, ..Policy::default() };
        let mut errors = Vec::new();
        for doc in documents {
            for check in doc.checks {
                if let Some(first) = policy.checks.iter().find(|c| c.info.id == check.info.id) {
                    let at = first.info.custom.as_ref().map(|o| format!("{}:{}", o.file, o.line)).unwrap_or_default();
                    errors.push(PolicyError {
                        file: doc.file.clone(),
                        line: check.info.custom.as_ref().map_or(0, |o| o.line),
                        check: Some(check.info.id.clone()),
                        message: format!("the id is already defined at {at}"),
                    });
                    continue;
                }
                policy.checks.push(check);
            }
            for (id, (date, line)) in doc.effective {
                if policy.effective.insert(id.clone(), date).is_some() {
                    errors.push(PolicyError {
                        file: doc.file.clone(),
                        line,
                        check: Some(id),
                        message: "its effective date is already set in another policy document".into(),
                    });
                }
            }
        }
        // A date for a custom check belongs on the check (`effective = …`);
        // here only built-in ids are known.
        if errors.is_empty() { Ok(policy) } else { Err(errors) }
    }

    /// The description of check `id`: built-in (with its effective date
    /// from this policy) or custom.
    pub fn info(&self, id: &str) -> Option<CheckInfo> {
        if let Some(spec) = checks::spec(id) {
            let mut info = CheckInfo::from(&spec);
            info.effective = self.effective.get(id).copied();
            return Some(info);
        }
        self.checks.iter().find(|c| c.info.id == id).map(|c| c.info.clone())
    }

    /// Every check of this policy: the built-in catalogue, then the custom
    /// checks, ordered by category like the catalogue.
    pub fn catalogue(&self) -> Vec<CheckInfo> {
        let mut all: Vec<CheckInfo> = checks::all()
            .iter()
            .map(|c| {
                let mut info = CheckInfo::from(&c.spec);
                info.effective = self.effective.get(c.spec.id).copied();
                info
            })
            .collect();
        all.extend(self.checks.iter().map(|c| c.info.clone()));
        let order = |c: &CheckInfo| crate::model::Category::ALL.iter().position(|x| *x == c.category);
        all.sort_by_key(order);
        all
    }

    /// The effective date of check `id`, if the policy gives it one.
    pub fn effective_of(&self, id: &str) -> Option<NaiveDate> {
        self.effective.get(id).copied().or_else(|| self.checks.iter().find(|c| c.info.id == id)?.info.effective)
    }

    /// The fingerprint of this policy (see [`crate::score::policy_version`]).
    pub fn version(&self) -> String {
        crate::score::policy_version(self, &[])
    }

    /// The custom checks a repository's `.shipshape.toml` defines, when
    /// this policy allows them, with notes for what was refused. Ids of
    /// the server's own checks cannot be redefined.
    pub fn repository_checks(&self, text: Option<&str>) -> (Vec<CustomCheck>, Vec<Note>) {
        let file = crate::suppress::CONFIG_FILE;
        let Some(text) = text else { return (Vec::new(), Vec::new()) };
        let note = |message: String| Note { path: file.into(), message };
        if !self.allow_repository_checks {
            let defined = toml::from_str::<toml::Table>(text)
                .ok()
                .and_then(|t| t.get("checks").and_then(|c| c.as_array()).map(Vec::len))
                .unwrap_or(0);
            if defined == 0 {
                return (Vec::new(), Vec::new());
            }
            return (
                Vec::new(),
                vec![note(format!(
                    "{defined} repository-defined check(s) in [[checks]] ignored: this server's policy does not allow repository checks (policy.allow_repository_checks)"
                ))],
            );
        }
        let doc = match parse_document(file, text, Origin::Repository) {
            Ok(doc) => doc,
            Err(errors) => {
                return (Vec::new(), errors.iter().map(|e| note(format!("[[checks]] ignored: {e}"))).collect());
            }
        };
        let mut notes = Vec::new();
        let mut out: Vec<CustomCheck> = Vec::new();
        for check in doc.checks {
            let line = check.info.custom.as_ref().map_or(0, |o| o.line);
            if self.checks.iter().any(|c| c.info.id == check.info.id) || out.iter().any(|c| c.info.id == check.info.id)
            {
                notes.push(note(format!(
                    "[[checks]] at line {line}: {} is already defined by the server's policy or above; ignored",
                    check.info.id
                )));
                continue;
            }
            if out.len() == MAX_REPOSITORY_CHECKS {
                notes.push(note(format!(
                    "[[checks]] at line {line} and after ignored: at most {MAX_REPOSITORY_CHECKS} repository checks"
                )));
                break;
            }
            out.push(check);
        }
        (out, notes)
    }
}
