//! The testing category: are there tests, are there enough of them for the
//! code they cover, does CI run them, is coverage measured.
//!
//! Test files come from the walk's classification (`is_test`); Rust keeps
//! unit tests inside source files, so a small analyzer records where a
//! `#[cfg(test)]` module or `#[test]` function starts in each Rust file.

mod ci_runs;

use super::{Check, CheckSpec, RawFinding, Verdict};
use crate::engine::{FileAnalyzer, FileOutput, SourceFile};
use crate::model::{Category, Evidence, Location, Severity};
use crate::repo::Repo;
use crate::walk::{FileEntry, Language};
use regex::bytes::Regex;
use std::sync::LazyLock;

/// Signal: a Rust source file with inline tests; detail = test lines.
const RUST_INLINE_TESTS: &str = "rust-inline-tests";
/// Test code under this share of application code is "thin".
const THIN_RATIO: f64 = 0.10;

pub fn checks() -> Vec<Check> {
    vec![
        Check {
            spec: CheckSpec {
                id: "tests-missing",
                title: "No automated tests",
                category: Category::Testing,
                severity: Severity::Critical,
                pass_summary: "the repository has automated tests",
                rationale: "Without tests every change is verified by hand or in production. Refactors, dependency \
                            upgrades and security fixes become risky, so they stop happening.",
                fix: "Start with a smoke test per entry point (health route, main API call) using the ecosystem's \
                      runner (pytest, vitest/jest, go test, cargo test) and grow from the bugs you fix.",
            },
            run: tests_missing,
        },
        Check {
            spec: CheckSpec {
                id: "tests-thin",
                title: "Little test code for the amount of application code",
                category: Category::Testing,
                severity: Severity::Medium,
                pass_summary: "test code is at least 10% of application code",
                rationale: "When test code is under a tenth of the application code, most paths have never been \
                            executed by a test, whatever the test count says.",
                fix: "Add tests around the most-changed and most critical modules first (request handlers, data \
                      access, billing), and make new code come with its tests.",
            },
            run: tests_thin,
        },
        Check {
            spec: CheckSpec {
                id: "tests-not-in-ci",
                title: "CI does not run the tests",
                category: Category::Testing,
                severity: Severity::High,
                pass_summary: "a CI job runs the test suite",
                rationale: "Tests that only run when someone remembers to run them locally do not stop a broken \
                            change from merging; the suite rots until nobody trusts it.",
                fix: "Add a CI step that runs the suite on every pull request (e.g. `run: pytest` in a GitHub \
                      Actions job) and make it a required status check.",
            },
            run: tests_not_in_ci,
        },
        Check {
            spec: CheckSpec {
                id: "coverage-not-measured",
                title: "Test coverage not measured",
                category: Category::Testing,
                severity: Severity::Info,
                pass_summary: "test coverage is measured",
                rationale: "Coverage shows which code no test executes. Without it, gaps in the suite are found by \
                            incidents rather than by a report.",
                fix: "Turn on coverage in the test run (pytest --cov, vitest --coverage, go test -cover, cargo \
                      llvm-cov, JaCoCo) and publish the report from CI.",
            },
            run: coverage_not_measured,
        },
    ]
}

pub fn analyzers() -> Vec<Box<dyn FileAnalyzer>> {
    vec![Box::new(RustTestAnalyzer)]
}

struct RustTestAnalyzer;

impl FileAnalyzer for RustTestAnalyzer {
    fn name(&self) -> &'static str {
        "testing"
    }

    fn wants(&self, entry: &FileEntry) -> bool {
        entry.language == Some(Language::Rust) && entry.is_app_code()
    }

    fn analyze(&self, file: &SourceFile<'_>, out: &mut FileOutput) {
        let finder = |n: &str| memchr::memmem::find(file.bytes, n.as_bytes());
        let Some(at) = [finder("#[cfg(test)]"), finder("#[test]"), finder("#[tokio::test")].into_iter().flatten().min()
        else {
            return;
        };
        let before = memchr::memchr_iter(b'\n', &file.bytes[..at]).count();
        let total = memchr::memchr_iter(b'\n', file.bytes).count() + 1;
        out.signal(RUST_INLINE_TESTS, before as u32 + 1, (total - before).to_string());
    }
}

/// What the repository holds in tests and application code.
struct Inventory<'a> {
    test_files: Vec<&'a FileEntry>,
    /// Rust files with inline tests: (file, first line, test lines).
    inline: Vec<(&'a FileEntry, u32, u64)>,
    test_lines: u64,
    app_lines: u64,
}

impl Inventory<'_> {
    fn has_tests(&self) -> bool {
        !self.test_files.is_empty() || !self.inline.is_empty()
    }

    fn describe(&self) -> String {
        let mut parts = Vec::new();
        if !self.test_files.is_empty() {
            parts.push(plural(self.test_files.len(), "test file"));
        }
        if !self.inline.is_empty() {
            parts.push(format!("{} with inline tests", plural(self.inline.len(), "Rust file")));
        }
        parts.join(" and ")
    }
}

fn plural(n: usize, what: &str) -> String {
    if n == 1 { format!("1 {what}") } else { format!("{n} {what}s") }
}

fn inventory<'a>(repo: &Repo<'a>) -> Inventory<'a> {
    let lines = |e: &FileEntry| repo.facts_of(e).map_or(0, |f| u64::from(f.lines));
    let mut test_files: Vec<&FileEntry> = repo.files().filter(|f| f.is_test && f.language.is_some()).collect();
    // Cite a file that is plainly a test (`test_api.py`) before helpers and `__init__.py`.
    test_files.sort_by_key(|f| {
        let n = f.file_name();
        !(n.starts_with("test_") || ["_test.", ".test.", ".spec."].iter().any(|m| n.contains(m)))
    });
    let inline: Vec<(&FileEntry, u32, u64)> =
        repo.signals(RUST_INLINE_TESTS).map(|(e, s)| (e, s.line, s.detail.parse().unwrap_or(0))).collect();
    let inline_lines: u64 = inline.iter().map(|i| i.2).sum();
    let test_lines = test_files.iter().map(|f| lines(f)).sum::<u64>() + inline_lines;
    let app_lines = repo.app_code().map(lines).sum::<u64>().saturating_sub(inline_lines);
    Inventory { test_files, inline, test_lines, app_lines }
}

fn tests_missing(repo: &Repo<'_>) -> Result<Verdict, String> {
    let inv = inventory(repo);
    if inv.has_tests() {
        let example = inv.test_files.first().map(|f| f.path.as_str()).or(inv.inline.first().map(|i| i.0.path.as_str()));
        let message = match example {
            Some(p) => format!("{} (e.g. {p})", inv.describe()),
            None => inv.describe(),
        };
        return Ok(Verdict::Pass(vec![Evidence::new(message, example.map(Location::file))]));
    }
    if repo.app_code().next().is_none() {
        return Ok(Verdict::NotApplicable("no application code to test".into()));
    }
    Ok(Verdict::Fail(vec![RawFinding::repo("no test files found")]))
}

fn tests_thin(repo: &Repo<'_>) -> Result<Verdict, String> {
    let inv = inventory(repo);
    if !inv.has_tests() {
        return Ok(Verdict::NotApplicable("there are no tests (see tests-missing)".into()));
    }
    if inv.app_lines == 0 {
        return Ok(Verdict::NotApplicable("no application code".into()));
    }
    let ratio = inv.test_lines as f64 / inv.app_lines as f64;
    let message =
        format!("{} test lines for {} application lines ({:.0}%)", inv.test_lines, inv.app_lines, ratio * 100.0);
    if ratio < THIN_RATIO {
        return Ok(Verdict::Fail(vec![RawFinding::repo(format!("test code is thin: {message}"))]));
    }
    Ok(Verdict::Pass(vec![Evidence::new(message, None)]))
}

fn tests_not_in_ci(repo: &Repo<'_>) -> Result<Verdict, String> {
    let inv = inventory(repo);
    if !inv.has_tests() {
        return Ok(Verdict::NotApplicable("there are no tests to run".into()));
    }
    let ci = ci_runs::ci_files(repo);
    if ci.is_empty() {
        return Ok(Verdict::NotApplicable("no CI configuration (see ci-missing)".into()));
    }
    if let Some(hit) = ci_runs::search_ci(repo, &ci_runs::RUNNERS) {
        let message = format!("{}; {}", inv.describe(), hit.describe("run in"));
        return Ok(Verdict::Pass(vec![Evidence::new(message, Some(Location::at(&hit.path, hit.line)))]));
    }
    let checked: Vec<&str> = ci.iter().map(|f| f.path.as_str()).collect();
    Ok(Verdict::Fail(vec![RawFinding::repo(format!(
        "{} exist but no CI job runs them (checked {})",
        inv.describe(),
        checked.join(", ")
    ))]))
}

/// Coverage tools and settings, in any configuration file or CI step.
static COVERAGE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(--cov\b|pytest-cov|coverage (?:run|report|xml|html|combine|json)|\[tool\.coverage|\[coverage:",
        r"|--coverage|collectCoverage|coverageThreshold|coverageProvider|\bc8\b|\bnyc\b|-coverprofile|-covermode",
        r"|\s-cover\b|llvm-cov|tarpaulin|jacoco|codecov|coveralls|kover|\bcoverage\s*:\s*\{)",
    ))
    .expect("coverage regex")
});

/// Files whose presence alone means coverage is configured.
const COVERAGE_FILES: &[&str] = &[
    ".coveragerc",
    "codecov.yml",
    ".codecov.yml",
    ".nycrc",
    ".nycrc.json",
    ".nycrc.yml",
    ".c8rc",
    ".c8rc.json",
    "tarpaulin.toml",
    ".tarpaulin.toml",
];

/// Configuration files that may switch coverage on.
fn may_configure_coverage(f: &FileEntry) -> bool {
    let name = f.file_name();
    matches!(
        name,
        "pyproject.toml"
            | "setup.cfg"
            | "tox.ini"
            | "pytest.ini"
            | "noxfile.py"
            | "package.json"
            | "Makefile"
            | "justfile"
            | "pom.xml"
            | "build.gradle"
            | "build.gradle.kts"
            | "Cargo.toml"
    ) || ["jest.config.", "vitest.config.", "vite.config.", "karma.conf."].iter().any(|p| name.starts_with(p))
}

fn coverage_not_measured(repo: &Repo<'_>) -> Result<Verdict, String> {
    if !inventory(repo).has_tests() {
        return Ok(Verdict::NotApplicable("there are no tests to measure".into()));
    }
    let pass = |what: String, loc: Location| Ok(Verdict::Pass(vec![Evidence::new(what, Some(loc))]));
    if let Some(f) = repo.files().find(|f| COVERAGE_FILES.contains(&f.file_name())) {
        return pass(format!("coverage configured in {}", f.path), Location::file(&f.path));
    }
    for name in ["pytest-cov", "coverage", "nyc", "c8", "@vitest/coverage-v8", "@vitest/coverage-istanbul"] {
        if let Some(ev) = repo.dependency_evidence(name) {
            let loc = ev.location.clone().unwrap_or_else(|| Location::file(""));
            return pass(format!("coverage tool: {}", ev.message), loc);
        }
    }
    for f in repo.files().filter(|f| may_configure_coverage(f) && !f.is_test && !f.is_docs && !f.is_example) {
        let Ok(text) = repo.read_text(f) else { continue };
        if let Some((line, what)) = ci_runs::find_line(&text, &COVERAGE) {
            return pass(format!("coverage ({what}) in {}:{line}", f.path), Location::at(&f.path, line));
        }
    }
    if let Some(hit) = ci_runs::search_ci(repo, &COVERAGE) {
        return pass(format!("coverage measured: {}", hit.describe("in")), Location::at(&hit.path, hit.line));
    }
    Ok(Verdict::Fail(vec![RawFinding::repo("no coverage configuration or coverage step found")]))
}
