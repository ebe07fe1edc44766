//! The docs and testing categories on real git repositories.

use chrono::NaiveDate;
use shipshape_analysis::{Options, Outcome, Report, analyze};
use shipshape_testkit::GitRepo;

fn scan(r: &GitRepo) -> Report {
    analyze(
        r.path(),
        &Options { today: NaiveDate::from_ymd_opt(2026, 11, 22).unwrap(), github: None, ..Default::default() },
    )
    .unwrap()
}

fn outcome(report: &Report, id: &str) -> Outcome {
    report.check(id).unwrap_or_else(|| panic!("no check {id}")).outcome
}

fn summary(report: &Report, id: &str) -> String {
    report.check(id).unwrap().summary.clone()
}

const APP: (&str, &str) = ("app/main.py", "from fastapi import FastAPI\n\napp = FastAPI()\n");

fn readme(extra: &str) -> String {
    format!("# Orders service\n\nTakes orders.\n\nOwned by the payments team.\n\n{extra}\n{}", "More text.\n".repeat(8))
}

#[test]
fn readme_missing_or_short_fails() {
    let none = GitRepo::with_files(&[APP]);
    let report = scan(&none);
    assert_eq!(outcome(&report, "readme-missing"), Outcome::Fail);
    assert_eq!(outcome(&report, "readme-no-setup"), Outcome::NotApplicable);

    let short = GitRepo::with_files(&[APP, ("README.md", "# app\n\nTODO\n")]);
    let report = scan(&short);
    assert_eq!(outcome(&report, "readme-missing"), Outcome::Fail);
    let f = &report.check("readme-missing").unwrap().findings[0];
    assert_eq!(f.location.as_ref().unwrap().path, "README.md");
    assert_eq!(f.message, "README.md has only 2 non-empty lines");
}

#[test]
fn readme_with_setup_section_passes_both_readme_checks() {
    let r = GitRepo::with_files(&[APP, ("README.md", &readme("## Getting started\n\n```sh\npip install -e .\n```\n"))]);
    let report = scan(&r);
    assert_eq!(outcome(&report, "readme-missing"), Outcome::Pass);
    assert!(summary(&report, "readme-missing").starts_with("README.md ("), "{}", summary(&report, "readme-missing"));
    assert_eq!(outcome(&report, "readme-no-setup"), Outcome::Pass);
    assert_eq!(summary(&report, "readme-no-setup"), "setup section at README.md:7");
}

#[test]
fn readme_without_instructions_fails_setup_check() {
    let r = GitRepo::with_files(&[APP, ("README.md", &readme("## Architecture\n\n```python\nprint(1)\n```\n"))]);
    let report = scan(&r);
    assert_eq!(outcome(&report, "readme-missing"), Outcome::Pass);
    assert_eq!(outcome(&report, "readme-no-setup"), Outcome::Fail);
    let f = &report.check("readme-no-setup").unwrap().findings[0];
    assert_eq!(f.location.as_ref().unwrap().path, "README.md");
}

#[test]
fn codeowners_and_security_policy() {
    let bare = GitRepo::with_files(&[APP]);
    let report = scan(&bare);
    assert_eq!(outcome(&report, "codeowners-missing"), Outcome::Fail);
    assert_eq!(outcome(&report, "security-policy-missing"), Outcome::Fail);

    let r = GitRepo::with_files(&[
        APP,
        (".github/CODEOWNERS", "* @acme/payments\n"),
        ("SECURITY.md", "Mail security@acme.test\n"),
    ]);
    let report = scan(&r);
    assert_eq!(outcome(&report, "codeowners-missing"), Outcome::Pass);
    assert_eq!(summary(&report, "codeowners-missing"), "owners declared in .github/CODEOWNERS");
    assert_eq!(outcome(&report, "security-policy-missing"), Outcome::Pass);
    assert_eq!(summary(&report, "security-policy-missing"), "security policy in SECURITY.md");
}

#[test]
fn no_tests_fails_and_dependent_checks_are_not_applicable() {
    let r = GitRepo::with_files(&[
        APP,
        (".github/workflows/ci.yml", "on: push\njobs:\n  b:\n    steps:\n      - run: ruff .\n"),
    ]);
    let report = scan(&r);
    assert_eq!(outcome(&report, "tests-missing"), Outcome::Fail);
    assert_eq!(outcome(&report, "tests-thin"), Outcome::NotApplicable);
    assert_eq!(outcome(&report, "tests-not-in-ci"), Outcome::NotApplicable);
    assert_eq!(outcome(&report, "coverage-not-measured"), Outcome::NotApplicable);

    let docs_only = GitRepo::with_files(&[("README.md", "# notes\n")]);
    assert_eq!(outcome(&scan(&docs_only), "tests-missing"), Outcome::NotApplicable);
}

#[test]
fn rust_inline_tests_count_as_tests() {
    let src = format!(
        "pub fn add(a: i32, b: i32) -> i32 {{\n    a + b\n}}\n\n#[cfg(test)]\nmod tests {{\n{}}}\n",
        "    #[test]\n    fn adds() {\n        assert_eq!(super::add(1, 2), 3);\n    }\n".repeat(2)
    );
    let r = GitRepo::with_files(&[("src/lib.rs", &src)]);
    let report = scan(&r);
    assert_eq!(outcome(&report, "tests-missing"), Outcome::Pass);
    assert_eq!(summary(&report, "tests-missing"), "1 Rust file with inline tests (e.g. src/lib.rs)");
    assert_eq!(outcome(&report, "tests-thin"), Outcome::Pass);
}

#[test]
fn thin_tests_fail_and_proportionate_tests_pass() {
    let app = "x = 1\n".repeat(200);
    let thin =
        GitRepo::with_files(&[("app/service.py", &app), ("tests/test_service.py", "def test_x():\n    assert True\n")]);
    let report = scan(&thin);
    assert_eq!(outcome(&report, "tests-missing"), Outcome::Pass);
    assert_eq!(outcome(&report, "tests-thin"), Outcome::Fail);
    assert!(summary(&report, "tests-thin").contains("2 test lines for 200 application lines"));

    let tests = "def test_x():\n    assert True\n".repeat(15);
    let ok = GitRepo::with_files(&[("app/service.py", &app), ("tests/test_service.py", &tests)]);
    assert_eq!(outcome(&scan(&ok), "tests-thin"), Outcome::Pass);
}

const TESTS: (&str, &str) = ("tests/test_main.py", "def test_root():\n    assert 1\n");

#[test]
fn tests_run_directly_by_ci_pass_with_the_line() {
    let wf = "name: ci\non: [push]\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - run: uv run pytest -q\n";
    let r = GitRepo::with_files(&[APP, TESTS, (".github/workflows/ci.yml", wf)]);
    let report = scan(&r);
    assert_eq!(outcome(&report, "tests-not-in-ci"), Outcome::Pass);
    assert_eq!(summary(&report, "tests-not-in-ci"), "1 test file; pytest run in .github/workflows/ci.yml:8");
}

#[test]
fn ci_that_never_runs_tests_fails() {
    let wf =
        "name: lint\non: [push]\njobs:\n  lint:\n    steps:\n      - run: ruff check .\n      - run: docker build .\n";
    let r = GitRepo::with_files(&[APP, TESTS, (".github/workflows/lint.yml", wf)]);
    let report = scan(&r);
    assert_eq!(outcome(&report, "tests-not-in-ci"), Outcome::Fail);
    assert!(summary(&report, "tests-not-in-ci").contains("checked .github/workflows/lint.yml"));
}

#[test]
fn tests_run_through_a_script_or_make_target_pass() {
    let script = GitRepo::with_files(&[
        APP,
        TESTS,
        (".gitlab-ci.yml", "test:\n  script:\n    - bash .ci/run\n"),
        (".ci/run", "#!/bin/sh\nset -e\npython -m pytest --cov=app\n"),
    ]);
    let report = scan(&script);
    assert_eq!(outcome(&report, "tests-not-in-ci"), Outcome::Pass);
    assert_eq!(
        summary(&report, "tests-not-in-ci"),
        "1 test file; python -m pytest run in .ci/run:3 (called from .gitlab-ci.yml:3)"
    );
    assert_eq!(outcome(&report, "coverage-not-measured"), Outcome::Pass);

    // CI → .ci/run → .ci/test → cargo test: scripts calling scripts are followed.
    let chained = GitRepo::with_files(&[
        APP,
        TESTS,
        (".github/workflows/ci.yml", "on: push\njobs:\n  ci:\n    steps:\n      - run: bash .ci/run\n"),
        (".ci/run", "#!/bin/sh\ncargo fmt --check\nbash .ci/test\n"),
        (".ci/test", "#!/bin/sh\nset -e\npython -m pytest\n"),
    ]);
    let report = scan(&chained);
    assert_eq!(outcome(&report, "tests-not-in-ci"), Outcome::Pass, "{}", summary(&report, "tests-not-in-ci"));
    assert!(summary(&report, "tests-not-in-ci").contains(".ci/test:3 (called from .github/workflows/ci.yml:5)"));
    // A script that calls itself terminates.
    let looping = GitRepo::with_files(&[
        APP,
        TESTS,
        (".github/workflows/ci.yml", "on: push\njobs:\n  ci:\n    steps:\n      - run: bash .ci/run\n"),
        (".ci/run", "#!/bin/sh\nbash .ci/run\n"),
    ]);
    assert_eq!(outcome(&scan(&looping), "tests-not-in-ci"), Outcome::Fail);

    let make = GitRepo::with_files(&[
        ("main.go", "package main\n\nfunc main() {}\n"),
        ("main_test.go", "package main\n"),
        ("Makefile", "build:\n\tgo build ./...\n\nverify: build\n\tgo vet ./...\n\tgo test -race ./...\n"),
        (".circleci/config.yml", "jobs:\n  build:\n    steps:\n      - run: make verify\n"),
    ]);
    let report = scan(&make);
    assert_eq!(outcome(&report, "tests-not-in-ci"), Outcome::Pass, "{}", summary(&report, "tests-not-in-ci"));
    assert!(summary(&report, "tests-not-in-ci").contains("Makefile:6 (called from .circleci/config.yml:4)"));
}

#[test]
fn no_ci_makes_tests_not_in_ci_not_applicable() {
    let r = GitRepo::with_files(&[APP, TESTS]);
    assert_eq!(outcome(&scan(&r), "tests-not-in-ci"), Outcome::NotApplicable);
}

#[test]
fn coverage_measured_or_not() {
    let none = GitRepo::with_files(&[APP, TESTS, ("pyproject.toml", "[project]\nname = \"app\"\n")]);
    assert_eq!(outcome(&scan(&none), "coverage-not-measured"), Outcome::Fail);

    let config = GitRepo::with_files(&[
        APP,
        TESTS,
        ("pyproject.toml", "[project]\nname = \"app\"\n\n[tool.coverage.run]\nbranch = true\n"),
    ]);
    let report = scan(&config);
    assert_eq!(outcome(&report, "coverage-not-measured"), Outcome::Pass);
    assert_eq!(summary(&report, "coverage-not-measured"), "coverage ([tool.coverage) in pyproject.toml:4");

    let rc = GitRepo::with_files(&[APP, TESTS, (".coveragerc", "[run]\nbranch = True\n")]);
    assert_eq!(outcome(&scan(&rc), "coverage-not-measured"), Outcome::Pass);
}

#[test]
fn tests_run_by_a_local_composite_action_pass() {
    let wf = "on: push\njobs:\n  e2e:\n    steps:\n      - uses: actions/checkout@v4\n      - uses: './'\n";
    let action =
        "name: e2e\nruns:\n  using: composite\n  steps:\n    - run: pytest -x _integration\n      shell: bash\n";
    let r = GitRepo::with_files(&[APP, TESTS, (".github/workflows/test.yml", wf), ("action.yaml", action)]);
    let report = scan(&r);
    assert_eq!(
        summary(&report, "tests-not-in-ci"),
        "1 test file; pytest run in action.yaml:5 (called from .github/workflows/test.yml:6)"
    );
}

#[test]
fn tests_run_through_a_package_json_script_pass() {
    let r = GitRepo::with_files(&[
        ("src/server.ts", "import express from 'express';\nconst app = express();\n"),
        ("src/server.test.ts", "test('x', () => {});\n"),
        (
            "package.json",
            "{\n  \"name\": \"api\",\n  \"scripts\": {\n    \"verify\": \"tsc && vitest run --coverage\"\n  }\n}\n",
        ),
        (
            ".github/workflows/ci.yml",
            "on: push\njobs:\n  t:\n    steps:\n      - run: npm ci\n      - run: npm run verify\n",
        ),
    ]);
    let report = scan(&r);
    assert_eq!(outcome(&report, "tests-not-in-ci"), Outcome::Pass);
    assert_eq!(
        summary(&report, "tests-not-in-ci"),
        "1 test file; vitest run in package.json:4 (called from .github/workflows/ci.yml:6)"
    );
    assert_eq!(outcome(&report, "coverage-not-measured"), Outcome::Pass);
}

#[test]
fn coverage_upload_in_ci_counts_and_config_file_names_are_not_runs() {
    let wf = "on: push\njobs:\n  t:\n    steps:\n      - uses: actions/cache@v4\n        with:\n          key: ${{ hashFiles('tox.ini') }}\n      - run: pip install pytest-cov\n      - uses: codecov/codecov-action@v4\n";
    let r = GitRepo::with_files(&[APP, TESTS, (".github/workflows/ci.yml", wf)]);
    let report = scan(&r);
    assert_eq!(outcome(&report, "tests-not-in-ci"), Outcome::Fail, "{}", summary(&report, "tests-not-in-ci"));
    assert_eq!(outcome(&report, "coverage-not-measured"), Outcome::Pass);
    assert!(summary(&report, "coverage-not-measured").contains(".github/workflows/ci.yml:"));
}
