//! Running custom checks over a scanned repository. Checks that read file
//! contents (regexes, tree-sitter queries) share one parallel pass: each
//! file any of them wants is read once, parsed at most once per grammar,
//! and handed to every such check.

use super::{CustomCheck, QueryLanguage, Rule, StackFilter};
use crate::checks::{RawFinding, Verdict};
use crate::engine::MAX_CODE_FILE;
use crate::model::{Evidence, Location, Stack};
use crate::repo::Repo;
use crate::walk::{FileEntry, Language};
use rayon::prelude::*;
use std::io::Read;
use std::ops::ControlFlow;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};
use tree_sitter::StreamingIterator;

/// Findings kept per check and file; a pattern matching every line of a
/// generated file says what it needs to in the first few hundred.
const MAX_HITS_PER_FILE: usize = 200;
/// How long one query may run on one file before it is stopped.
const QUERY_BUDGET: Duration = Duration::from_secs(2);
/// Evidence is cut to this many characters.
const EVIDENCE_CHARS: usize = 160;

/// The verdict of each check, in order. A check that panics or cannot read
/// what it needs yields an error, never a pass.
pub fn evaluate(checks: &[&CustomCheck], repo: &Repo<'_>) -> Vec<Result<Verdict, String>> {
    let applicable: Vec<bool> = checks.iter().map(|c| applies(&c.applies_to, &repo.stack)).collect();
    let readers: Vec<usize> = (0..checks.len()).filter(|&i| applicable[i] && reads_contents(&checks[i].rule)).collect();
    let files: Vec<&FileEntry> = repo.files().filter(|e| readers.iter().any(|&i| wants(&checks[i].rule, e))).collect();
    let per_file: Vec<FileResult> = files.par_iter().map(|e| scan_file(e, checks, &readers)).collect();
    checks
        .iter()
        .enumerate()
        .map(|(i, check)| {
            if !applicable[i] {
                return Ok(Verdict::NotApplicable(not_applicable(&check.applies_to)));
            }
            let hits: Vec<(&str, &Hit)> = files
                .iter()
                .zip(&per_file)
                .flat_map(|(e, f)| f.hits.iter().filter(move |h| h.check == i).map(move |h| (e.path.as_str(), h)))
                .collect();
            let errors: Vec<&str> = per_file.iter().filter_map(|f| f.errors.get(&i).map(String::as_str)).collect();
            match catch_unwind(AssertUnwindSafe(|| verdict(check, repo, &files, &hits, &per_file, &errors))) {
                Ok(v) => v,
                Err(_) => Err("the check crashed".into()),
            }
        })
        .collect()
}

fn applies(filter: &StackFilter, stack: &Stack) -> bool {
    let frameworks = filter.frameworks.is_empty() || filter.frameworks.iter().any(|f| stack.frameworks.contains(f));
    let languages = filter.languages.is_empty()
        || filter.languages.iter().any(|l| stack.languages.keys().any(|k| k.eq_ignore_ascii_case(l)));
    frameworks && languages
}

fn not_applicable(filter: &StackFilter) -> String {
    let mut parts = Vec::new();
    if !filter.frameworks.is_empty() {
        parts.push(format!("frameworks {}", filter.frameworks.join(", ")));
    }
    if !filter.languages.is_empty() {
        parts.push(format!("languages {}", filter.languages.join(", ")));
    }
    format!("applies only to {}, which the stack does not include", parts.join(" and "))
}

fn reads_contents(rule: &Rule) -> bool {
    matches!(rule, Rule::ContentMatches { .. } | Rule::ContentRequired { .. } | Rule::TreeSitterQuery { .. })
}

/// The grammar of a file, if it has one a query can use.
fn grammar_of(entry: &FileEntry) -> Option<QueryLanguage> {
    match entry.language? {
        Language::Python => Some(QueryLanguage::Python),
        Language::Go => Some(QueryLanguage::Go),
        Language::Rust => Some(QueryLanguage::Rust),
        Language::JavaScript | Language::TypeScript => match crate::js::Dialect::of(&entry.path)? {
            crate::js::Dialect::JavaScript => Some(QueryLanguage::JavaScript),
            crate::js::Dialect::TypeScript => Some(QueryLanguage::TypeScript),
            crate::js::Dialect::Tsx => Some(QueryLanguage::Tsx),
        },
        Language::Java | Language::Kotlin => None,
    }
}

/// Whether a content-reading rule looks at this file: its globs match, and
/// for a query the file is in the query's language (and application code
/// unless the check names its own paths).
fn wants(rule: &Rule, entry: &FileEntry) -> bool {
    match rule {
        Rule::ContentMatches { paths, .. } | Rule::ContentRequired { paths, .. } => paths.is_match(&entry.path),
        Rule::TreeSitterQuery { query, paths } => {
            grammar_of(entry) == Some(query.language)
                && match paths {
                    Some(p) => p.is_match(&entry.path),
                    None => entry.is_app_code(),
                }
        }
        _ => false,
    }
}

/// One place a content-reading check found something.
struct Hit {
    check: usize,
    line: u32,
    evidence: String,
}

#[derive(Default)]
struct FileResult {
    hits: Vec<Hit>,
    /// Check index → why this file could not be checked.
    errors: std::collections::HashMap<usize, String>,
    /// Not read: over the size limit or binary.
    skipped: bool,
}

fn scan_file(entry: &FileEntry, checks: &[&CustomCheck], readers: &[usize]) -> FileResult {
    let mut out = FileResult::default();
    let mine: Vec<usize> = readers.iter().copied().filter(|&i| wants(&checks[i].rule, entry)).collect();
    if entry.size > MAX_CODE_FILE {
        out.skipped = true;
        return out;
    }
    let mut bytes = Vec::with_capacity(entry.size as usize);
    let read = std::fs::File::open(&entry.abs).and_then(|f| f.take(MAX_CODE_FILE + 1).read_to_end(&mut bytes));
    if let Err(e) = read {
        for &i in &mine {
            out.errors.insert(i, format!("cannot read {}: {e}", entry.path));
        }
        return out;
    }
    if memchr::memchr(0, &bytes[..bytes.len().min(8000)]).is_some() {
        out.skipped = true;
        return out;
    }
    let text = String::from_utf8_lossy(&bytes);
    let mut tree: Option<Option<tree_sitter::Tree>> = None;
    for i in mine {
        let found = catch_unwind(AssertUnwindSafe(|| match &checks[i].rule {
            Rule::ContentMatches { pattern, .. } => Ok(regex_hits(pattern, &text, MAX_HITS_PER_FILE)),
            Rule::ContentRequired { pattern, .. } => Ok(regex_hits(pattern, &text, 1)),
            Rule::TreeSitterQuery { query, .. } => {
                let parsed = tree.get_or_insert_with(|| parse(query.language, &text));
                match parsed {
                    Some(t) => query_hits(query, t, &text),
                    None => Err(format!("{} could not be parsed", entry.path)),
                }
            }
            _ => Ok(Vec::new()),
        }));
        match found {
            Ok(Ok(hits)) => out.hits.extend(hits.into_iter().map(|(line, evidence)| Hit { check: i, line, evidence })),
            Ok(Err(e)) => {
                out.errors.insert(i, e);
            }
            Err(_) => {
                out.errors.insert(i, format!("crashed on {}", entry.path));
            }
        }
    }
    out
}

fn parse(language: QueryLanguage, text: &str) -> Option<tree_sitter::Tree> {
    match language {
        QueryLanguage::Python => crate::python::parse(text),
        QueryLanguage::Go => crate::go::parse(text),
        QueryLanguage::Rust => crate::rust::parse(text),
        QueryLanguage::JavaScript => crate::js::parse(text, crate::js::Dialect::JavaScript),
        QueryLanguage::TypeScript => crate::js::parse(text, crate::js::Dialect::TypeScript),
        QueryLanguage::Tsx => crate::js::parse(text, crate::js::Dialect::Tsx),
    }
}

/// The first line of `s`, trimmed and cut for display.
fn shown(s: &str) -> String {
    let first = s.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or_default();
    if first.chars().count() <= EVIDENCE_CHARS {
        return first.to_string();
    }
    let mut cut: String = first.chars().take(EVIDENCE_CHARS - 1).collect();
    cut.push('…');
    cut
}

fn regex_hits(pattern: &regex::Regex, text: &str, max: usize) -> Vec<(u32, String)> {
    let mut line = 1u32;
    let mut counted = 0usize;
    pattern
        .find_iter(text)
        .take(max)
        .map(|m| {
            line += memchr::memchr_iter(b'\n', &text.as_bytes()[counted..m.start()]).count() as u32;
            counted = m.start();
            (line, shown(m.as_str()))
        })
        .collect()
}

fn query_hits(
    query: &super::CompiledQuery,
    tree: &tree_sitter::Tree,
    text: &str,
) -> Result<Vec<(u32, String)>, String> {
    let mut cursor = tree_sitter::QueryCursor::new();
    cursor.set_match_limit(256);
    let started = Instant::now();
    let mut timed_out = false;
    let mut budget = |_: &tree_sitter::QueryCursorState| {
        if started.elapsed() > QUERY_BUDGET {
            timed_out = true;
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    };
    let options = tree_sitter::QueryCursorOptions::new().progress_callback(&mut budget);
    let mut matches = cursor.matches_with_options(&query.query, tree.root_node(), text.as_bytes(), options);
    let mut out: Vec<(u32, String)> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    while let Some(m) = matches.next() {
        let nodes: Vec<tree_sitter::Node<'_>> = match query.finding {
            Some(idx) => m.captures().iter().filter(|c| c.index == idx).map(|c| c.node).collect(),
            None => m.captures().first().map(|c| c.node).into_iter().collect(),
        };
        for node in nodes {
            if !seen.insert(node.id()) {
                continue;
            }
            let line = node.start_position().row as u32 + 1;
            out.push((line, shown(node.utf8_text(text.as_bytes()).unwrap_or_default())));
            if out.len() >= MAX_HITS_PER_FILE {
                return Ok(out);
            }
        }
    }
    drop(matches);
    if timed_out {
        return Err(format!("the query ran over {} s on a file and was stopped", QUERY_BUDGET.as_secs()));
    }
    out.sort();
    Ok(out)
}

fn verdict(
    check: &CustomCheck,
    repo: &Repo<'_>,
    files: &[&FileEntry],
    hits: &[(&str, &Hit)],
    per_file: &[FileResult],
    errors: &[&str],
) -> Result<Verdict, String> {
    let message = || check.message.clone().unwrap_or_else(|| check.info.title.clone());
    let at = |path: &str, line: u32, evidence: &str| {
        RawFinding::at(Location::at(path, line), message(), evidence.to_string())
    };
    let repo_level = |evidence: String| RawFinding {
        location: None,
        message: message(),
        identity: String::new(),
        evidence,
        severity: None,
    };
    if let Some(first) = errors.first() {
        return Err((*first).to_string());
    }
    // The files a content-reading check looked at, and their hits, by path.
    let looked: Vec<(&FileEntry, &FileResult)> =
        files.iter().zip(per_file).filter(|(e, _)| wants(&check.rule, e)).map(|(e, r)| (*e, r)).collect();
    let skipped = looked.iter().filter(|(_, r)| r.skipped).count();
    match &check.rule {
        Rule::FileExists { paths } => match repo.files().find(|e| paths.is_match(&e.path)) {
            Some(e) => {
                Ok(Verdict::Pass(vec![Evidence::new(format!("{} exists", e.path), Some(Location::file(&e.path)))]))
            }
            None => Ok(Verdict::Fail(vec![repo_level(format!("no file matches {}", paths.list()))])),
        },
        Rule::FileAbsent { paths } => {
            let found: Vec<RawFinding> = repo
                .files()
                .filter(|e| paths.is_match(&e.path))
                .map(|e| RawFinding::at(Location::file(&e.path), message(), e.path.clone()))
                .collect();
            if found.is_empty() {
                Ok(Verdict::Pass(vec![Evidence::new(format!("no file matches {}", paths.list()), None)]))
            } else {
                Ok(Verdict::Fail(found))
            }
        }
        Rule::ContentMatches { paths, .. } => {
            if looked.is_empty() {
                return Ok(Verdict::NotApplicable(format!("no file matches {}", paths.list())));
            }
            let found: Vec<RawFinding> = hits.iter().map(|(path, h)| at(path, h.line, &h.evidence)).collect();
            if found.is_empty() {
                Ok(Verdict::Pass(vec![Evidence::new(no_match(looked.len(), skipped), None)]))
            } else {
                Ok(Verdict::Fail(found))
            }
        }
        Rule::ContentRequired { paths, .. } => match hits.first() {
            Some(&(path, h)) => Ok(Verdict::Pass(vec![Evidence::new(
                format!("found at {path}:{}: {}", h.line, h.evidence),
                Some(Location::at(path, h.line)),
            )])),
            None => Ok(Verdict::Fail(vec![repo_level(format!(
                "no file matching {} contains the required pattern{}",
                paths.list(),
                skipped_note(skipped)
            ))])),
        },
        Rule::DependencyPresent { names } => {
            if repo.manifests.is_empty() {
                return Ok(Verdict::NotApplicable("no dependency manifest".into()));
            }
            for m in &repo.manifests {
                for name in names {
                    if let Some(d) = m.deps.iter().find(|d| dep_matches(&d.name, name)) {
                        let loc = d.line.map_or_else(|| Location::file(&m.path), |l| Location::at(&m.path, l));
                        return Ok(Verdict::Pass(vec![Evidence::new(format!("{name} declared in {loc}"), Some(loc))]));
                    }
                }
            }
            unreadable(repo)?;
            Ok(Verdict::Fail(vec![repo_level(format!("no manifest declares {}", names.join(" or ")))]))
        }
        Rule::DependencyAbsent { names } => {
            if repo.manifests.is_empty() {
                return Ok(Verdict::NotApplicable("no dependency manifest".into()));
            }
            let mut found = Vec::new();
            for m in &repo.manifests {
                for d in m.deps.iter().filter(|d| names.iter().any(|n| dep_matches(&d.name, n))) {
                    let evidence = format!("{} {}", d.name, d.spec).trim().to_string();
                    let loc = d.line.map_or_else(|| Location::file(&m.path), |l| Location::at(&m.path, l));
                    found.push(RawFinding::at(loc, message(), evidence));
                }
            }
            if !found.is_empty() {
                return Ok(Verdict::Fail(found));
            }
            unreadable(repo)?;
            Ok(Verdict::Pass(vec![Evidence::new(
                format!("no manifest declares {} ({} read)", names.join(" or "), repo.manifests.len()),
                None,
            )]))
        }
        Rule::TreeSitterQuery { query, .. } => {
            if looked.is_empty() {
                let what = if matches!(&check.rule, Rule::TreeSitterQuery { paths: Some(_), .. }) {
                    "file matching its paths"
                } else {
                    "application code"
                };
                return Ok(Verdict::NotApplicable(format!("no {} {what}", query.language.as_str())));
            }
            let found: Vec<RawFinding> = hits.iter().map(|(path, h)| at(path, h.line, &h.evidence)).collect();
            if found.is_empty() {
                Ok(Verdict::Pass(vec![Evidence::new(no_match(looked.len(), skipped), None)]))
            } else {
                Ok(Verdict::Fail(found))
            }
        }
    }
}

/// A dependency name as stored (normalised) against a name as written.
fn dep_matches(stored: &str, wanted: &str) -> bool {
    stored == crate::manifests::normalise(wanted) || stored == wanted.trim().to_ascii_lowercase()
}

/// A dependency check cannot conclude "not declared" when a manifest could not be read.
fn unreadable(repo: &Repo<'_>) -> Result<(), String> {
    match repo.manifests.iter().find(|m| m.error.is_some()) {
        Some(m) => Err(format!("{} could not be read: {}", m.path, m.error.as_deref().unwrap_or_default())),
        None => Ok(()),
    }
}

fn no_match(files: usize, skipped: usize) -> String {
    let n = files - skipped;
    format!("nothing found in {n} file{}{}", if n == 1 { "" } else { "s" }, skipped_note(skipped))
}

fn skipped_note(skipped: usize) -> String {
    match skipped {
        0 => String::new(),
        n => format!(" ({n} binary or over 1 MiB, not read)"),
    }
}
