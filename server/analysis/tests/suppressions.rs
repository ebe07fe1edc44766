//! Suppressions end to end: inline comments and `.shipshape.toml` entries
//! change outcomes, scores and levels exactly as CHECKS.md says, need a
//! reason, and stop working when they expire.

use chrono::NaiveDate;
use shipshape_analysis::{Level, Options, Outcome, Report, analyze};
use shipshape_testkit::GitRepo;

const REQS: (&str, &str) = ("requirements.txt", "fastapi==0.115.0\n");

fn scan_on(files: &[(&str, &str)], today: (i32, u32, u32)) -> Report {
    let r = GitRepo::with_files(files);
    analyze(
        r.path(),
        &Options {
            today: NaiveDate::from_ymd_opt(today.0, today.1, today.2).unwrap(),
            github: None,
            ..Default::default()
        },
    )
    .unwrap()
}

fn scan(files: &[(&str, &str)]) -> Report {
    scan_on(files, (2026, 11, 22))
}

const WILDCARD: &str = "from fastapi import FastAPI\nfrom fastapi.middleware.cors import CORSMiddleware\n\napp = FastAPI()\napp.add_middleware(CORSMiddleware, allow_origins=[\"*\"])\n";

#[test]
fn an_inline_ignore_with_a_reason_suppresses_and_the_check_passes() {
    let base = scan(&[REQS, ("app/main.py", WILDCARD)]);
    assert_eq!(base.check("cors-wildcard").unwrap().outcome, Outcome::Fail);

    let ignored = WILDCARD.replace(
        "app.add_middleware(",
        "# shipshape: ignore[cors-wildcard] public read-only API, no cookies\napp.add_middleware(",
    );
    let r = scan(&[REQS, ("app/main.py", &ignored)]);
    let check = r.check("cors-wildcard").unwrap();
    assert_eq!(check.outcome, Outcome::Pass, "{}", check.summary);
    let s = check.findings[0].suppression.as_ref().expect("the finding stays visible, marked suppressed");
    assert_eq!((s.source.as_str(), s.reason.as_str()), ("inline", "public read-only API, no cookies"));
    assert!(r.score > base.score, "a suppressed finding does not cost points");
}

#[test]
fn an_inline_ignore_without_a_reason_or_for_another_check_does_not_suppress() {
    let no_reason =
        WILDCARD.replace("allow_origins=[\"*\"])", "allow_origins=[\"*\"])  # shipshape: ignore[cors-wildcard]");
    assert_eq!(scan(&[REQS, ("app/main.py", &no_reason)]).check("cors-wildcard").unwrap().outcome, Outcome::Fail);
    let other =
        WILDCARD.replace("allow_origins=[\"*\"])", "allow_origins=[\"*\"])  # shipshape: ignore[debug-enabled] nope");
    assert_eq!(scan(&[REQS, ("app/main.py", &other)]).check("cors-wildcard").unwrap().outcome, Outcome::Fail);
}

#[test]
fn config_ignores_apply_by_check_and_path_until_they_expire() {
    let config =
        "[[ignore]]\ncheck = \"tests-missing\"\nreason = \"prototype, tests land next sprint\"\nexpires = 2026-12-31\n";
    let files = [REQS, ("app/main.py", "from fastapi import FastAPI\napp = FastAPI()\n"), (".shipshape.toml", config)];
    let before = scan_on(&files, (2026, 12, 1));
    let check = before.check("tests-missing").unwrap();
    assert_eq!(check.outcome, Outcome::Pass);
    let s = check.findings[0].suppression.as_ref().unwrap();
    assert_eq!(s.source, "config");
    assert_eq!(s.expires, NaiveDate::from_ymd_opt(2026, 12, 31));
    assert_ne!(before.level, Level::NotReady, "the only critical failure is suppressed");

    let after = scan_on(&files, (2027, 1, 1));
    assert_eq!(
        after.check("tests-missing").unwrap().outcome,
        Outcome::Fail,
        "an expired suppression stops suppressing"
    );
    assert_eq!(after.level, Level::NotReady);

    let path_scoped = "[[ignore]]\ncheck = \"cors-wildcard\"\npath = \"legacy/**\"\nreason = \"frozen service\"\n";
    let r = scan(&[REQS, ("app/main.py", WILDCARD), ("legacy/old.py", WILDCARD), (".shipshape.toml", path_scoped)]);
    let check = r.check("cors-wildcard").unwrap();
    assert_eq!(check.outcome, Outcome::Fail, "app/main.py is outside the glob");
    let suppressed: Vec<_> =
        check.findings.iter().filter(|f| f.suppression.is_some()).map(|f| f.location.clone().unwrap().path).collect();
    assert_eq!(suppressed, vec!["legacy/old.py"]);
}

#[test]
fn a_broken_config_is_a_note_and_suppresses_nothing() {
    let r = scan(&[REQS, ("app/main.py", WILDCARD), (".shipshape.toml", "[[ignore]\ncheck = 'cors-wildcard'\n")]);
    assert_eq!(r.check("cors-wildcard").unwrap().outcome, Outcome::Fail);
    assert!(
        r.notes.iter().any(|n| n.path == ".shipshape.toml" && n.message.contains("does not parse")),
        "{:?}",
        r.notes
    );
}
