//! Reading policy documents: TOML with spans, so every error names the
//! file and the line, and every definition is compiled (globs, regexes,
//! tree-sitter queries) before a scan can use it.

use super::{
    CUSTOM_PREFIX, CompiledQuery, CustomCheck, KINDS, MAX_ID_LEN, Paths, PolicyError, QueryLanguage, Rule, StackFilter,
};
use crate::checks::{CheckInfo, CustomOrigin};
use crate::model::{Category, Severity};
use chrono::NaiveDate;
use globset::{Glob, GlobSetBuilder};
use serde::Deserialize;
use serde::de::IgnoredAny;
use std::collections::BTreeMap;
use std::ops::Range;
use toml::Spanned;
use toml::value::Datetime;

/// Where a policy document comes from, which decides its shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The server's configuration file: `[[policy.checks]]` and
    /// `[policy.effective]`; every other key belongs to the configuration.
    ServerConfig,
    /// A policy file named by the configuration: `[[checks]]` and `[effective]`.
    PolicyFile,
    /// A repository's `.shipshape.toml`: `[[checks]]` (its `[[ignore]]`
    /// entries are read by `suppress`).
    Repository,
}

impl Origin {
    fn source(self) -> &'static str {
        match self {
            Origin::ServerConfig | Origin::PolicyFile => "config",
            Origin::Repository => "repository",
        }
    }
}

/// What one document declares, validated and compiled.
#[derive(Debug, Clone, Default)]
pub struct PolicyDocument {
    pub file: String,
    pub checks: Vec<CustomCheck>,
    /// Built-in check id → (date, line of the entry).
    pub effective: BTreeMap<String, (NaiveDate, u32)>,
}

type Dates = BTreeMap<Spanned<String>, Spanned<Datetime>>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicyFile {
    #[serde(default)]
    checks: Vec<Spanned<RawCheck>>,
    #[serde(default)]
    effective: Dates,
}

#[derive(Deserialize)]
struct RawServerConfig {
    #[serde(default)]
    policy: Option<RawServerPolicy>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawServerPolicy {
    #[serde(default)]
    checks: Vec<Spanned<RawCheck>>,
    #[serde(default)]
    effective: Dates,
    // Read by the server's configuration loader.
    #[serde(default)]
    #[allow(dead_code)]
    allow_repository_checks: Option<IgnoredAny>,
    #[serde(default)]
    #[allow(dead_code)]
    file: Option<IgnoredAny>,
}

#[derive(Deserialize)]
struct RawRepository {
    #[serde(default)]
    checks: Vec<Spanned<RawCheck>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCheck {
    id: Spanned<String>,
    title: Option<String>,
    category: Option<Spanned<String>>,
    severity: Option<Spanned<String>>,
    kind: Option<Spanned<String>>,
    #[serde(alias = "docs")]
    rationale: Option<String>,
    fix: Option<String>,
    message: Option<String>,
    paths: Option<Spanned<Vec<String>>>,
    pattern: Option<Spanned<String>>,
    dependencies: Option<Spanned<Vec<String>>>,
    language: Option<Spanned<String>>,
    query: Option<Spanned<String>>,
    frameworks: Option<Spanned<Vec<String>>>,
    languages: Option<Spanned<Vec<String>>>,
    effective: Option<Spanned<Datetime>>,
}

/// Longest title, and longest rationale or fix, in characters.
const MAX_TITLE: usize = 200;
const MAX_DOC: usize = 4000;
/// Longest regex or query source, in bytes.
const MAX_SOURCE: usize = 16 * 1024;
/// Compiled regex size limit: a pattern that needs more is refused.
const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// 1-based line of byte `offset`.
fn line_at(text: &str, offset: usize) -> u32 {
    let offset = offset.min(text.len());
    text.as_bytes()[..offset].iter().filter(|b| **b == b'\n').count() as u32 + 1
}

/// Parses one policy document of `file` (its name as shown in errors).
///
/// # Errors
/// Every problem found, each with its line and, once the id is known, the check id.
pub fn parse_document(file: &str, text: &str, origin: Origin) -> Result<PolicyDocument, Vec<PolicyError>> {
    let fail = |e: toml::de::Error| {
        let line = e.span().map_or(1, |s| line_at(text, s.start));
        vec![PolicyError { file: file.into(), line, check: None, message: e.message().trim().to_string() }]
    };
    let (checks, dates) = match origin {
        Origin::PolicyFile => {
            let raw: RawPolicyFile = toml::from_str(text).map_err(fail)?;
            (raw.checks, raw.effective)
        }
        Origin::ServerConfig => {
            let raw: RawServerConfig = toml::from_str(text).map_err(fail)?;
            raw.policy.map(|p| (p.checks, p.effective)).unwrap_or_default()
        }
        Origin::Repository => {
            let raw: RawRepository = toml::from_str(text).map_err(fail)?;
            (raw.checks, Dates::new())
        }
    };
    let mut doc = PolicyDocument { file: file.into(), ..PolicyDocument::default() };
    let mut errors = Vec::new();
    for raw in checks {
        let mut ctx = Ctx { file, text, id: raw.get_ref().id.get_ref().clone(), errors: Vec::new() };
        let check = ctx.check(raw.into_inner(), origin);
        if let Some(first) = doc.checks.iter().find(|c| Some(c.info.id.as_str()) == check.as_ref().map(|c| c.id())) {
            let line = first.info.custom.as_ref().map_or(0, |o| o.line);
            let at = check.as_ref().and_then(|c| c.info.custom.as_ref()).map_or(0, |o| o.line);
            ctx.errors.push(PolicyError {
                file: file.into(),
                line: at,
                check: Some(ctx.id.clone()),
                message: format!("the id is already defined at line {line}"),
            });
        }
        match check {
            Some(c) if ctx.errors.is_empty() => doc.checks.push(c),
            _ => errors.extend(ctx.errors),
        }
    }
    for (id, date) in dates {
        let line = line_at(text, id.span().start);
        let id = id.into_inner();
        let err = |message: String| PolicyError { file: file.into(), line, check: Some(id.clone()), message };
        if id.starts_with(CUSTOM_PREFIX) {
            errors.push(err("a custom check's date goes on the check itself: `effective = YYYY-MM-DD`".into()));
            continue;
        }
        if crate::checks::spec(&id).is_none() {
            errors.push(err("no built-in check has this id (the catalogue is at /checks)".into()));
            continue;
        }
        match date_of(date.get_ref()) {
            Some(d) => {
                doc.effective.insert(id, (d, line));
            }
            None => errors.push(err("the effective date must be a date such as 2027-01-01".into())),
        }
    }
    if errors.is_empty() { Ok(doc) } else { Err(errors) }
}

fn date_of(d: &Datetime) -> Option<NaiveDate> {
    match (d.date, d.time, d.offset) {
        (Some(date), None, None) => {
            NaiveDate::from_ymd_opt(i32::from(date.year), u32::from(date.month), u32::from(date.day))
        }
        _ => None,
    }
}

/// Validation of one definition, collecting its errors.
struct Ctx<'a> {
    file: &'a str,
    text: &'a str,
    id: String,
    errors: Vec<PolicyError>,
}

impl Ctx<'_> {
    fn err(&mut self, span: Range<usize>, message: impl Into<String>) {
        self.errors.push(PolicyError {
            file: self.file.into(),
            line: line_at(self.text, span.start),
            check: Some(self.id.clone()),
            message: message.into(),
        });
    }

    fn required<T>(&mut self, value: Option<T>, at: &Range<usize>, field: &str) -> Option<T> {
        if value.is_none() {
            self.err(at.clone(), format!("`{field}` is missing"));
        }
        value
    }

    fn text_field(&mut self, value: Option<String>, at: &Range<usize>, field: &str, max: usize) -> String {
        match value.map(|v| v.trim().to_string()) {
            Some(v) if v.is_empty() => {
                self.err(at.clone(), format!("`{field}` is empty"));
                String::new()
            }
            Some(v) if v.chars().count() > max => {
                self.err(at.clone(), format!("`{field}` is longer than {max} characters"));
                String::new()
            }
            Some(v) => v,
            None => {
                self.err(at.clone(), format!("`{field}` is missing"));
                String::new()
            }
        }
    }

    fn check(&mut self, raw: RawCheck, origin: Origin) -> Option<CustomCheck> {
        let at = raw.id.span();
        let line = line_at(self.text, at.start);
        let id = raw.id.get_ref().clone();
        let kebab = id.strip_prefix(CUSTOM_PREFIX).is_some_and(|rest| {
            rest.split('-').all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()))
        });
        if !kebab {
            self.err(
                at.clone(),
                format!(
                    "the id must start with `{CUSTOM_PREFIX}` and be kebab-case (lower-case letters, digits, single dashes), e.g. `custom-no-print`"
                ),
            );
        } else if id.len() > MAX_ID_LEN {
            self.err(at.clone(), format!("the id is longer than {MAX_ID_LEN} characters"));
        }
        let title = self.text_field(raw.title, &at, "title", MAX_TITLE);
        let rationale = self.text_field(raw.rationale, &at, "rationale", MAX_DOC);
        let fix = self.text_field(raw.fix, &at, "fix", MAX_DOC);
        let category = self.required(raw.category, &at, "category").and_then(|c| {
            let parsed = Category::parse(c.get_ref());
            if parsed.is_none() {
                let all: Vec<&str> = Category::ALL.iter().map(|c| c.as_str()).collect();
                self.err(c.span(), format!("unknown category `{}`; use one of {}", c.get_ref(), all.join(", ")));
            }
            parsed
        });
        let severity = self.required(raw.severity, &at, "severity").and_then(|s| {
            let parsed = Severity::parse(s.get_ref());
            if parsed.is_none() {
                self.err(
                    s.span(),
                    format!("unknown severity `{}`; use critical, high, medium, low or info", s.get_ref()),
                );
            }
            parsed
        });
        let effective = raw.effective.and_then(|d| {
            let parsed = date_of(d.get_ref());
            if parsed.is_none() {
                self.err(d.span(), "`effective` must be a date such as 2027-01-01");
            }
            parsed
        });
        let applies_to = StackFilter {
            frameworks: self.names(raw.frameworks, "frameworks", &crate::stack::known_frameworks()),
            languages: self.names(raw.languages, "languages", &KNOWN_LANGUAGES),
        };
        let mut canonical = format!(
            "{id}|{}|{}|{}|{effective:?}|{:?}|{:?}|{}",
            raw.kind.as_ref().map(|k| k.get_ref().as_str()).unwrap_or_default(),
            category.map(Category::as_str).unwrap_or_default(),
            severity.map(Severity::as_str).unwrap_or_default(),
            applies_to.frameworks,
            applies_to.languages,
            raw.message.as_deref().unwrap_or_default(),
        );
        let kind = self.required(raw.kind, &at, "kind")?;
        let rule = self.rule(
            &kind,
            Fields {
                paths: raw.paths,
                pattern: raw.pattern,
                dependencies: raw.dependencies,
                language: raw.language,
                query: raw.query,
            },
            &mut canonical,
        );
        let (rule, category, severity) = (rule?, category?, severity?);
        if !self.errors.is_empty() {
            return None;
        }
        Some(CustomCheck {
            info: CheckInfo {
                id,
                title,
                category,
                severity,
                rationale,
                fix,
                effective,
                custom: Some(CustomOrigin {
                    kind: rule.kind().to_string(),
                    source: origin.source().to_string(),
                    file: self.file.to_string(),
                    line,
                }),
            },
            rule,
            applies_to,
            message: raw.message.map(|m| m.trim().to_string()).filter(|m| !m.is_empty()),
            canonical,
        })
    }

    /// A list of stack names, each checked against the known ones.
    fn names(&mut self, list: Option<Spanned<Vec<String>>>, field: &str, known: &[&str]) -> Vec<String> {
        let Some(list) = list else { return Vec::new() };
        let span = list.span();
        let mut out = Vec::new();
        for name in list.into_inner() {
            let lower = name.trim().to_ascii_lowercase();
            if known.contains(&lower.as_str()) {
                out.push(lower);
            } else {
                self.err(span.clone(), format!("`{field}`: unknown `{name}`; known: {}", known.join(", ")));
            }
        }
        out
    }

    fn rule(&mut self, kind: &Spanned<String>, f: Fields, canonical: &mut String) -> Option<Rule> {
        let span = kind.span();
        let kind = kind.get_ref().as_str();
        if !KINDS.contains(&kind) {
            self.err(span, format!("unknown kind `{kind}`; use one of {}", KINDS.join(", ")));
            return None;
        }
        // Fields the kind does not read are mistakes, not decoration.
        let used: &[&str] = match kind {
            "file-exists" | "file-absent" => &["paths"],
            "content-matches" | "content-required" => &["paths", "pattern"],
            "dependency-present" | "dependency-absent" => &["dependencies"],
            _ => &["language", "query", "paths"],
        };
        for (name, present) in [
            ("paths", f.paths.as_ref().map(Spanned::span)),
            ("pattern", f.pattern.as_ref().map(Spanned::span)),
            ("dependencies", f.dependencies.as_ref().map(Spanned::span)),
            ("language", f.language.as_ref().map(Spanned::span)),
            ("query", f.query.as_ref().map(Spanned::span)),
        ] {
            if let Some(at) = present
                && !used.contains(&name)
            {
                self.err(at, format!("`{name}` is not used by kind {kind}"));
            }
        }
        let _ = std::fmt::Write::write_fmt(
            canonical,
            format_args!(
                "|{:?}|{:?}|{:?}|{:?}|{:?}",
                f.paths.as_ref().map(Spanned::get_ref),
                f.pattern.as_ref().map(Spanned::get_ref),
                f.dependencies.as_ref().map(Spanned::get_ref),
                f.language.as_ref().map(Spanned::get_ref),
                f.query.as_ref().map(Spanned::get_ref),
            ),
        );
        match kind {
            "file-exists" | "file-absent" | "content-matches" | "content-required" => {
                let paths = self.paths(f.paths, &span, true)?;
                match kind {
                    "file-exists" => Some(Rule::FileExists { paths }),
                    "file-absent" => Some(Rule::FileAbsent { paths }),
                    _ => {
                        let pattern = self.regex(f.pattern, &span)?;
                        if kind == "content-matches" {
                            Some(Rule::ContentMatches { paths, pattern })
                        } else {
                            Some(Rule::ContentRequired { paths, pattern })
                        }
                    }
                }
            }
            "dependency-present" | "dependency-absent" => {
                let deps = self.required(f.dependencies, &span, "dependencies")?;
                let at = deps.span();
                let names: Vec<String> =
                    deps.into_inner().iter().map(|d| d.trim().to_string()).filter(|d| !d.is_empty()).collect();
                if names.is_empty() {
                    self.err(at, "`dependencies` lists no dependency");
                    return None;
                }
                if kind == "dependency-present" {
                    Some(Rule::DependencyPresent { names })
                } else {
                    Some(Rule::DependencyAbsent { names })
                }
            }
            _ => {
                let language = self.required(f.language, &span, "language")?;
                let Some(lang) = QueryLanguage::parse(&language.get_ref().to_ascii_lowercase()) else {
                    let all: Vec<&str> = QueryLanguage::ALL.iter().map(|l| l.as_str()).collect();
                    self.err(
                        language.span(),
                        format!("unknown language `{}`; use one of {}", language.get_ref(), all.join(", ")),
                    );
                    return None;
                };
                let query = self.query(lang, f.query, &span)?;
                let paths = match f.paths {
                    Some(p) => Some(self.paths(Some(p), &span, false)?),
                    None => None,
                };
                Some(Rule::TreeSitterQuery { query, paths })
            }
        }
    }

    fn paths(&mut self, paths: Option<Spanned<Vec<String>>>, kind_at: &Range<usize>, required: bool) -> Option<Paths> {
        let Some(paths) = paths else {
            if required {
                self.err(kind_at.clone(), "`paths` is missing (glob patterns such as \"**/*.py\")");
            }
            return None;
        };
        let at = paths.span();
        let shown = paths.into_inner();
        if shown.is_empty() {
            self.err(at, "`paths` lists no glob");
            return None;
        }
        let mut set = GlobSetBuilder::new();
        for g in &shown {
            match Glob::new(g.trim_start_matches("./")) {
                Ok(glob) => {
                    set.add(glob);
                }
                Err(e) => {
                    self.err(at.clone(), format!("bad glob `{g}`: {}", e.kind()));
                    return None;
                }
            }
        }
        match set.build() {
            Ok(set) => Some(Paths { shown, set }),
            Err(e) => {
                self.err(at, format!("bad globs: {e}"));
                None
            }
        }
    }

    fn regex(&mut self, pattern: Option<Spanned<String>>, kind_at: &Range<usize>) -> Option<regex::Regex> {
        let pattern = self.required(pattern, kind_at, "pattern")?;
        let at = pattern.span();
        if pattern.get_ref().len() > MAX_SOURCE {
            self.err(at, format!("`pattern` is longer than {MAX_SOURCE} bytes"));
            return None;
        }
        match regex::RegexBuilder::new(pattern.get_ref()).multi_line(true).size_limit(REGEX_SIZE_LIMIT).build() {
            Ok(re) if re.is_match("") => {
                self.err(at, "`pattern` matches the empty string, so it would match everywhere");
                None
            }
            Ok(re) => Some(re),
            Err(e) => {
                let why = e.to_string().lines().last().unwrap_or_default().trim().to_string();
                self.err(at, format!("`pattern` is not a valid regex: {why}"));
                None
            }
        }
    }

    fn query(
        &mut self,
        language: QueryLanguage,
        query: Option<Spanned<String>>,
        kind_at: &Range<usize>,
    ) -> Option<CompiledQuery> {
        let query = self.required(query, kind_at, "query")?;
        let at = query.span();
        let source = query.get_ref();
        if source.len() > MAX_SOURCE {
            self.err(at, format!("`query` is longer than {MAX_SOURCE} bytes"));
            return None;
        }
        let compiled = match tree_sitter::Query::new(&language.grammar(), source) {
            Ok(q) => q,
            Err(e) => {
                // The query's own row, counted from where its text starts
                // in the file (a multi-line string starts on the next line).
                let raw = &self.text[at.clone()];
                let first =
                    usize::from(["'''\n", "'''\r\n", "\"\"\"\n", "\"\"\"\r\n"].iter().any(|p| raw.starts_with(p)));
                let line = line_at(self.text, at.start) as usize + first + e.row;
                self.errors.push(PolicyError {
                    file: self.file.into(),
                    line: line as u32,
                    check: Some(self.id.clone()),
                    message: format!(
                        "`query` is not a valid {} tree-sitter query ({:?} error at row {}, column {}): {}",
                        language.as_str(),
                        e.kind,
                        e.row + 1,
                        e.column + 1,
                        e.message.trim()
                    ),
                });
                return None;
            }
        };
        if compiled.capture_names().is_empty() {
            self.err(at, "`query` captures nothing: name the node to report `@finding`");
            return None;
        }
        let finding = compiled.capture_index_for_name("finding");
        Some(CompiledQuery { language, query: std::sync::Arc::new(compiled), finding })
    }
}

struct Fields {
    paths: Option<Spanned<Vec<String>>>,
    pattern: Option<Spanned<String>>,
    dependencies: Option<Spanned<Vec<String>>>,
    language: Option<Spanned<String>>,
    query: Option<Spanned<String>>,
}

/// Language names a stack filter may use (the stack's languages, lower case).
const KNOWN_LANGUAGES: [&str; 7] = ["python", "javascript", "typescript", "go", "rust", "java", "kotlin"];
