//! Helpers the per-check test files share: scan a small real repository
//! and assert a check's outcome and where its findings are.

#![allow(dead_code)] // each test file uses its own subset

use chrono::NaiveDate;
use shipshape_analysis::{Finding, Options, Outcome, Report, analyze};
use shipshape_testkit::GitRepo;

/// Scans a fresh git repository holding `files`, on a fixed "today".
pub fn scan_files(files: &[(&str, &str)]) -> Report {
    let r = GitRepo::with_files(files);
    analyze(
        r.path(),
        &Options { today: NaiveDate::from_ymd_opt(2026, 11, 22).unwrap(), github: None, ..Default::default() },
    )
    .unwrap()
}

pub fn outcome(report: &Report, id: &str) -> Outcome {
    report.check(id).unwrap_or_else(|| panic!("no check {id}")).outcome
}

pub fn findings<'r>(report: &'r Report, id: &str) -> Vec<&'r Finding> {
    report.check(id).map(|c| c.findings.iter().collect()).unwrap_or_default()
}

/// Asserts the check failed with exactly one finding at `path:line`.
#[track_caller]
pub fn assert_fails_at(report: &Report, id: &str, path: &str, line: u32) -> Finding {
    let f = findings(report, id);
    assert_eq!(outcome(report, id), Outcome::Fail, "{id} should fail");
    assert_eq!(f.len(), 1, "{id}: expected one finding, got {f:#?}");
    let loc = f[0].location.as_ref().expect("finding has a location");
    assert_eq!((loc.path.as_str(), loc.line), (path, Some(line)), "{id} location");
    f[0].clone()
}

#[track_caller]
pub fn assert_passes(report: &Report, id: &str) {
    assert_eq!(outcome(report, id), Outcome::Pass, "{id} should pass, findings: {:#?}", findings(report, id));
}
