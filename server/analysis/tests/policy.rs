//! Policy as code on real git repositories: every kind of custom check
//! passes, fails and is not applicable when its stack filter does not
//! match; bad definitions are refused with the file, the line and the
//! check id; effective dates make a check upcoming (shown, not counted);
//! repository-defined checks run only when the policy allows them; custom
//! checks reach the Markdown, JSON and SARIF reports and the policy version.

use chrono::NaiveDate;
use shipshape_analysis::policy::{Origin, PolicyError, parse_document};
use shipshape_analysis::report::{self, Format};
use shipshape_analysis::{Level, Options, Outcome, Policy, Report, analyze};
use shipshape_testkit::GitRepo;
use std::sync::Arc;

const FASTAPI_REQS: (&str, &str) = ("requirements.txt", "fastapi==0.115.0\nrequests==2.32.0\n");
const FASTAPI_APP: (&str, &str) = (
    "app/main.py",
    "from fastapi import FastAPI\n\napp = FastAPI()\n\n\n@app.get(\"/healthz\")\ndef health():\n    print(\"debug\")\n    return {\"ok\": True}\n",
);
const GO_MOD: (&str, &str) =
    ("go.mod", "module example.com/svc\n\ngo 1.22\n\nrequire github.com/gin-gonic/gin v1.10.0\n");
const GO_MAIN: (&str, &str) = (
    "main.go",
    "package main\n\nimport \"github.com/gin-gonic/gin\"\n\nfunc main() {\n\tr := gin.Default()\n\tr.Run()\n}\n",
);

fn policy(text: &str) -> Policy {
    let doc = parse_document("policy.toml", text, Origin::PolicyFile).unwrap_or_else(|e| panic!("{e:#?}"));
    Policy::build(false, vec![doc]).expect("policy builds")
}

fn errors(text: &str) -> Vec<PolicyError> {
    parse_document("policy.toml", text, Origin::PolicyFile).expect_err("the policy is refused")
}

fn scan_with(files: &[(&str, &str)], policy: Policy, today: (i32, u32, u32)) -> Report {
    let r = GitRepo::with_files(files);
    let options = Options {
        today: NaiveDate::from_ymd_opt(today.0, today.1, today.2).unwrap(),
        github: None,
        policy: Arc::new(policy),
    };
    analyze(r.path(), &options).unwrap()
}

fn scan(files: &[(&str, &str)], policy: Policy) -> Report {
    scan_with(files, policy, (2026, 11, 22))
}

#[track_caller]
fn outcome(report: &Report, id: &str) -> Outcome {
    report.check(id).unwrap_or_else(|| panic!("no check {id} in the report")).outcome
}

/// `(path, line)` of each finding of `id`.
fn places(report: &Report, id: &str) -> Vec<(String, Option<u32>)> {
    report
        .check(id)
        .map(|c| {
            c.findings
                .iter()
                .map(|f| f.location.as_ref().map_or((String::new(), None), |l| (l.path.clone(), l.line)))
                .collect()
        })
        .unwrap_or_default()
}

const FILE_CHECKS: &str = r#"
[[checks]]
id = "custom-runbook"
title = "No runbook"
category = "docs"
severity = "medium"
kind = "file-exists"
paths = ["RUNBOOK.md", "docs/runbook*.md"]
rationale = "On-call needs a runbook."
fix = "Write RUNBOOK.md."

[[checks]]
id = "custom-no-dump"
title = "Database dump committed"
category = "secrets"
severity = "high"
kind = "file-absent"
paths = ["**/*.sql.gz", "*.dump"]
rationale = "Dumps hold customer data."
fix = "Delete the dump and rewrite history."
"#;

#[test]
fn file_exists_and_file_absent_pass_and_fail() {
    const TESTS: (&str, &str) = ("tests/test_main.py", "def test_ok():\n    assert True\n");
    let bad =
        scan(&[FASTAPI_REQS, FASTAPI_APP, TESTS, ("backup/prod.sql.gz", "x"), ("db.dump", "y")], policy(FILE_CHECKS));
    assert_eq!(outcome(&bad, "custom-runbook"), Outcome::Fail);
    assert_eq!(places(&bad, "custom-runbook"), vec![(String::new(), None)], "one repository-level finding");
    let runbook = bad.check("custom-runbook").unwrap();
    assert!(runbook.findings[0].evidence.contains("RUNBOOK.md"), "{:?}", runbook.findings[0]);
    assert_eq!(outcome(&bad, "custom-no-dump"), Outcome::Fail);
    assert_eq!(
        places(&bad, "custom-no-dump"),
        vec![("backup/prod.sql.gz".to_string(), None), ("db.dump".to_string(), None)]
    );
    assert!(bad.level <= Level::Bronze, "a failing high custom check caps the level: {}", bad.level_reason);
    assert!(bad.level_reason.contains("custom-no-dump"), "{}", bad.level_reason);

    let good = scan(&[FASTAPI_REQS, FASTAPI_APP, ("docs/runbook-api.md", "# Runbook\n")], policy(FILE_CHECKS));
    assert_eq!(outcome(&good, "custom-runbook"), Outcome::Pass);
    assert_eq!(good.check("custom-runbook").unwrap().summary, "docs/runbook-api.md exists");
    assert_eq!(outcome(&good, "custom-no-dump"), Outcome::Pass);
    // They count like built-ins: the failing medium docs check costs points.
    let docs = |r: &Report| r.categories.iter().find(|c| c.category.as_str() == "docs").unwrap().score;
    assert!(docs(&good) > docs(&bad), "{} vs {}", docs(&good), docs(&bad));
    assert!(bad.deductions.iter().any(|d| d.check_id == "custom-runbook"));
}

const CONTENT_CHECKS: &str = r#"
[[checks]]
id = "custom-no-print"
title = "print() in service code"
category = "observability"
severity = "low"
kind = "content-matches"
paths = ["app/**/*.py"]
pattern = '^\s*print\('
frameworks = ["fastapi"]
rationale = "print bypasses the log pipeline."
fix = "Use the logger."

[[checks]]
id = "custom-license-header"
title = "No license header"
category = "docs"
severity = "info"
kind = "content-required"
paths = ["app/*.py"]
pattern = "SPDX-License-Identifier"
rationale = "Legal asks for it."
fix = "Add the SPDX line."
"#;

#[test]
fn content_matches_finds_each_line_and_content_required_needs_one() {
    let r =
        scan(&[FASTAPI_REQS, FASTAPI_APP, ("app/util.py", "x = 1\nprint('a')\nprint('b')\n")], policy(CONTENT_CHECKS));
    assert_eq!(outcome(&r, "custom-no-print"), Outcome::Fail);
    assert_eq!(
        places(&r, "custom-no-print"),
        vec![
            ("app/main.py".to_string(), Some(8)),
            ("app/util.py".to_string(), Some(2)),
            ("app/util.py".to_string(), Some(3)),
        ]
    );
    let f = &r.check("custom-no-print").unwrap().findings[0];
    assert_eq!(f.message, "print() in service code");
    assert_eq!(f.evidence, "print(");
    assert_eq!(f.fingerprint.len(), 32);
    assert_eq!(outcome(&r, "custom-license-header"), Outcome::Fail);

    let clean = scan(
        &[
            FASTAPI_REQS,
            ("app/main.py", "# SPDX-License-Identifier: MIT\nfrom fastapi import FastAPI\napp = FastAPI()\n"),
        ],
        policy(CONTENT_CHECKS),
    );
    assert_eq!(outcome(&clean, "custom-no-print"), Outcome::Pass);
    assert_eq!(outcome(&clean, "custom-license-header"), Outcome::Pass);
    let ev = &clean.check("custom-license-header").unwrap().evidence[0];
    assert_eq!(ev.location.as_ref().map(|l| (l.path.as_str(), l.line)), Some(("app/main.py", Some(1))));

    // Not a FastAPI service: the stack filter makes it not applicable.
    let go = scan(&[GO_MOD, GO_MAIN, ("app/x.py", "print('x')\n")], policy(CONTENT_CHECKS));
    assert_eq!(outcome(&go, "custom-no-print"), Outcome::NotApplicable);
    assert!(go.check("custom-no-print").unwrap().summary.contains("fastapi"), "{:?}", go.check("custom-no-print"));
}

#[test]
fn inline_and_config_suppressions_apply_to_custom_checks() {
    let r = scan(
        &[
            FASTAPI_REQS,
            (
                "app/main.py",
                "from fastapi import FastAPI\napp = FastAPI()\nprint('boot')  # shipshape: ignore[custom-no-print] start-up banner\n",
            ),
        ],
        policy(CONTENT_CHECKS),
    );
    assert_eq!(outcome(&r, "custom-no-print"), Outcome::Pass, "{:?}", r.check("custom-no-print"));
    assert_eq!(r.check("custom-no-print").unwrap().findings[0].suppression.as_ref().unwrap().source, "inline");
}

const DEPENDENCY_CHECKS: &str = r#"
[[checks]]
id = "custom-sentry"
title = "No error tracker SDK"
category = "observability"
severity = "medium"
kind = "dependency-present"
dependencies = ["sentry-sdk", "@sentry/node", "github.com/getsentry/sentry-go"]
rationale = "The company standard is Sentry."
fix = "Add the Sentry SDK."

[[checks]]
id = "custom-no-requests"
title = "requests is banned"
category = "reliability"
severity = "low"
kind = "dependency-absent"
dependencies = ["requests"]
languages = ["python"]
rationale = "Use httpx, which has timeouts by default."
fix = "Replace requests with httpx."
"#;

#[test]
fn dependency_present_and_absent_read_the_manifests() {
    let r = scan(&[FASTAPI_REQS, FASTAPI_APP], policy(DEPENDENCY_CHECKS));
    assert_eq!(outcome(&r, "custom-sentry"), Outcome::Fail);
    assert_eq!(outcome(&r, "custom-no-requests"), Outcome::Fail);
    assert_eq!(places(&r, "custom-no-requests"), vec![("requirements.txt".to_string(), Some(2))]);
    assert_eq!(r.check("custom-no-requests").unwrap().findings[0].evidence, "requests ==2.32.0");

    let good = scan(
        &[("requirements.txt", "fastapi==0.115.0\nsentry_sdk==2.0.0\nhttpx==0.27.0\n"), FASTAPI_APP],
        policy(DEPENDENCY_CHECKS),
    );
    assert_eq!(outcome(&good, "custom-sentry"), Outcome::Pass);
    assert!(
        good.check("custom-sentry").unwrap().summary.contains("requirements.txt:2"),
        "{:?}",
        good.check("custom-sentry")
    );
    assert_eq!(outcome(&good, "custom-no-requests"), Outcome::Pass);

    // Go: the Python-only check does not apply; the SDK is found in go.mod.
    let go = scan(
        &[("go.mod", "module x\n\ngo 1.22\n\nrequire github.com/getsentry/sentry-go v0.28.0\n"), GO_MAIN],
        policy(DEPENDENCY_CHECKS),
    );
    assert_eq!(outcome(&go, "custom-no-requests"), Outcome::NotApplicable);
    assert_eq!(outcome(&go, "custom-sentry"), Outcome::Pass);
}

const QUERY_CHECKS: &str = r#"
[[checks]]
id = "custom-gin-default"
title = "gin.Default() in production code"
category = "reliability"
severity = "medium"
kind = "tree-sitter-query"
language = "go"
languages = ["go"]
query = '''
(call_expression
  function: (selector_expression
    operand: (identifier) @pkg (#eq? @pkg "gin")
    field: (field_identifier) @fn (#eq? @fn "Default"))) @finding
'''
rationale = "gin.Default logs every request in text."
fix = "Use gin.New() with the JSON logger middleware."

[[checks]]
id = "custom-no-eval"
title = "eval in TypeScript"
category = "security"
severity = "high"
kind = "tree-sitter-query"
language = "typescript"
query = '(call_expression function: (identifier) @f (#eq? @f "eval"))'
rationale = "eval runs strings as code."
fix = "Parse the data instead."
"#;

#[test]
fn tree_sitter_queries_report_their_captures_in_code_only() {
    let r = scan(
        &[
            GO_MOD,
            GO_MAIN,
            (
                "internal/comment.go",
                "package internal\n\n// gin.Default() is what we used to call\nvar s = \"gin.Default()\"\n",
            ),
            ("main_test.go", "package main\n\nimport \"github.com/gin-gonic/gin\"\n\nvar _ = gin.Default()\n"),
        ],
        policy(QUERY_CHECKS),
    );
    assert_eq!(outcome(&r, "custom-gin-default"), Outcome::Fail);
    // Not in a comment, a string or a test file: syntax, not text.
    assert_eq!(places(&r, "custom-gin-default"), vec![("main.go".to_string(), Some(6))]);
    assert_eq!(r.check("custom-gin-default").unwrap().findings[0].evidence, "gin.Default()");
    assert_eq!(outcome(&r, "custom-no-eval"), Outcome::NotApplicable, "no TypeScript here");

    let ts = scan(
        &[
            ("package.json", "{\"dependencies\":{\"express\":\"4.0.0\"}}"),
            ("src/a.ts", "const x: number = 1;\nconst y = eval(\"1+1\");\n"),
        ],
        policy(QUERY_CHECKS),
    );
    assert_eq!(outcome(&ts, "custom-no-eval"), Outcome::Fail);
    // Without an @finding capture, each match's first capture is the finding.
    assert_eq!(places(&ts, "custom-no-eval"), vec![("src/a.ts".to_string(), Some(2))]);
    assert_eq!(outcome(&ts, "custom-gin-default"), Outcome::NotApplicable, "no Go here");

    let clean = scan(
        &[
            GO_MOD,
            ("main.go", "package main\n\nimport \"github.com/gin-gonic/gin\"\n\nfunc main() { gin.New().Run() }\n"),
        ],
        policy(QUERY_CHECKS),
    );
    assert_eq!(outcome(&clean, "custom-gin-default"), Outcome::Pass);
}

#[test]
fn bad_definitions_are_refused_with_file_line_and_id() {
    let e = errors(
        "[[checks]]\nid = \"custom-bad-regex\"\ntitle = \"t\"\ncategory = \"security\"\nseverity = \"low\"\nkind = \"content-matches\"\npaths = [\"**/*.py\"]\npattern = \"print(\"\nrationale = \"r\"\nfix = \"f\"\n",
    );
    assert_eq!(e.len(), 1, "{e:#?}");
    assert_eq!((e[0].file.as_str(), e[0].line, e[0].check.as_deref()), ("policy.toml", 8, Some("custom-bad-regex")));
    assert!(
        e[0].to_string().starts_with("policy.toml:8: check custom-bad-regex: `pattern` is not a valid regex"),
        "{}",
        e[0]
    );

    // A query error names the line inside the multi-line query.
    let e = errors(
        "\n[[checks]]\nid = \"custom-bad-query\"\ntitle = \"t\"\ncategory = \"security\"\nseverity = \"low\"\nkind = \"tree-sitter-query\"\nlanguage = \"python\"\nquery = '''\n(call\n  function: (nonsense_node) @finding)\n'''\nrationale = \"r\"\nfix = \"f\"\n",
    );
    assert_eq!((e[0].line, e[0].check.as_deref()), (11, Some("custom-bad-query")), "{e:#?}");
    assert!(e[0].message.contains("not a valid python tree-sitter query"), "{}", e[0]);

    // Several problems at once, each on its own line.
    let e = errors(
        "[[checks]]\nid = \"no-prefix\"\ntitle = \"t\"\ncategory = \"speed\"\nseverity = \"urgent\"\nkind = \"file-exists\"\npaths = [\"README.md\"]\nframeworks = [\"fast-api\"]\nrationale = \"r\"\nfix = \"f\"\n",
    );
    let lines: Vec<(u32, &str)> = e.iter().map(|x| (x.line, x.message.as_str())).collect();
    assert!(lines.iter().any(|(l, m)| *l == 2 && m.contains("must start with `custom-`")), "{lines:?}");
    assert!(lines.iter().any(|(l, m)| *l == 4 && m.contains("unknown category `speed`")), "{lines:?}");
    assert!(lines.iter().any(|(l, m)| *l == 5 && m.contains("unknown severity `urgent`")), "{lines:?}");
    assert!(lines.iter().any(|(l, m)| *l == 8 && m.contains("unknown `fast-api`")), "{lines:?}");

    // Unknown keys, fields a kind does not use, missing ones, duplicates.
    let e = errors("[[checks]]\nid = \"custom-x\"\ntitel = \"t\"\n");
    assert_eq!(e[0].line, 3, "{e:#?}");
    assert!(e[0].message.contains("unknown field `titel`"), "{}", e[0]);
    let e = errors(
        "[[checks]]\nid = \"custom-x\"\ntitle = \"t\"\ncategory = \"docs\"\nseverity = \"low\"\nkind = \"file-exists\"\npaths = [\"a\"]\npattern = \"b\"\nrationale = \"r\"\n",
    );
    assert!(e.iter().any(|x| x.line == 8 && x.message.contains("`pattern` is not used by kind file-exists")), "{e:#?}");
    assert!(e.iter().any(|x| x.line == 2 && x.message.contains("`fix` is missing")), "{e:#?}");
    let one = "id = \"custom-x\"\ntitle = \"t\"\ncategory = \"docs\"\nseverity = \"low\"\nkind = \"file-exists\"\npaths = [\"a\"]\nrationale = \"r\"\nfix = \"f\"\n";
    let e = errors(&format!("[[checks]]\n{one}\n[[checks]]\n{one}"));
    assert_eq!((e[0].line, e[0].message.as_str()), (12, "the id is already defined at line 2"), "{e:#?}");
    // Effective dates are for known built-in checks.
    let e = errors("[effective]\nrate-limit-missing = 2027-01-01\nno-such-check = 2027-01-01\n");
    assert_eq!((e.len(), e[0].line, e[0].check.as_deref()), (1, 3, Some("no-such-check")), "{e:#?}");
    // A regex that matches everywhere is a mistake.
    let e = errors(
        "[[checks]]\nid = \"custom-x\"\ntitle = \"t\"\ncategory = \"docs\"\nseverity = \"low\"\nkind = \"content-matches\"\npaths = [\"*\"]\npattern = \"a*\"\nrationale = \"r\"\nfix = \"f\"\n",
    );
    assert!(e[0].message.contains("matches the empty string"), "{e:#?}");
}

#[test]
fn server_config_checks_are_read_from_the_policy_section_and_ids_stay_unique() {
    let config = format!(
        "[server]\nbind = \"127.0.0.1:8080\"\n\n[policy]\nallow_repository_checks = true\n\n{}",
        FILE_CHECKS.replace("[[checks]]", "[[policy.checks]]")
    );
    let doc = parse_document("shipshape.toml", &config, Origin::ServerConfig).unwrap();
    assert_eq!(doc.checks.iter().map(|c| c.id()).collect::<Vec<_>>(), vec!["custom-runbook", "custom-no-dump"]);
    assert_eq!(doc.checks[0].info.custom.as_ref().map(|o| (o.file.as_str(), o.line)), Some(("shipshape.toml", 9)));
    let file = parse_document("policy.toml", FILE_CHECKS, Origin::PolicyFile).unwrap();
    let e = Policy::build(true, vec![doc, file]).expect_err("the same ids twice");
    assert_eq!(e.len(), 2);
    assert!(
        e[0].to_string()
            .starts_with("policy.toml:3: check custom-runbook: the id is already defined at shipshape.toml:9"),
        "{}",
        e[0]
    );
}

#[test]
fn upcoming_checks_show_what_they_find_but_do_not_count() {
    let text = r#"
[effective]
health-endpoint-missing = 2027-01-01

[[checks]]
id = "custom-runbook"
title = "No runbook"
category = "docs"
severity = "critical"
kind = "file-exists"
paths = ["RUNBOOK.md"]
effective = 2027-03-01
rationale = "On-call needs a runbook."
fix = "Write RUNBOOK.md."
"#;
    let files = [
        FASTAPI_REQS,
        ("app/main.py", "from fastapi import FastAPI\napp = FastAPI()\n"),
        ("tests/test_a.py", "def test_a():\n    assert True\n"),
    ];
    let none = scan(&files, Policy::default());
    let before = scan_with(&files, policy(text), (2026, 12, 31));
    assert_eq!(none.check("health-endpoint-missing").unwrap().outcome, Outcome::Fail);
    assert_eq!(outcome(&before, "health-endpoint-missing"), Outcome::Upcoming);
    assert_eq!(outcome(&before, "custom-runbook"), Outcome::Upcoming);
    let hc = before.check("health-endpoint-missing").unwrap();
    assert_eq!(hc.effective, NaiveDate::from_ymd_opt(2027, 1, 1));
    assert!(hc.summary.starts_with("takes effect on 2027-01-01; today it would fail"), "{}", hc.summary);
    assert_eq!(hc.findings.len(), 1, "what it would find is kept");
    // Neither scores nor level move: the upcoming critical check does not make it not-ready.
    assert!(before.score > none.score, "{} vs {}", before.score, none.score);
    assert!(
        !before.deductions.iter().any(|d| d.check_id == "health-endpoint-missing" || d.check_id == "custom-runbook")
    );
    assert!(
        !before.level_reason.contains("custom-runbook") && !before.level_reason.contains("health-endpoint-missing"),
        "{}",
        before.level_reason
    );
    assert_eq!(before.findings().filter(|f| f.check_id == "health-endpoint-missing").count(), 0, "not a finding yet");
    assert_eq!(before.upcoming().count(), 2);

    // On the day, they count.
    let after = scan_with(&files, policy(text), (2027, 3, 1));
    assert_eq!(outcome(&after, "health-endpoint-missing"), Outcome::Fail);
    assert_eq!(outcome(&after, "custom-runbook"), Outcome::Fail);
    assert_eq!(after.level, Level::NotReady, "{}", after.level_reason);
    assert_eq!(after.check("custom-runbook").unwrap().effective, NaiveDate::from_ymd_opt(2027, 3, 1));

    // Reports show them as upcoming.
    let md = report::render(&before, Format::Markdown, false);
    let up = &md[md.find("## Upcoming checks").expect("an upcoming section")..];
    assert!(up.contains("No runbook (`custom-runbook`)") && up.contains("counts from 2027-03-01: would fail"), "{up}");
    let sarif: serde_json::Value = serde_json::from_str(&report::render(&before, Format::Sarif, false)).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let hc =
        results.iter().find(|r| r["ruleId"] == "health-endpoint-missing").expect("the upcoming finding is a result");
    assert_eq!(hc["level"], "note");
    assert_eq!(hc["properties"]["upcoming"], true);
    assert_eq!(hc["properties"]["effective"], "2027-01-01");
    let table = report::render(&before, Format::Table, false);
    assert!(table.contains("Upcoming, not counted yet (2)"), "{table}");
}

#[test]
fn custom_checks_reach_the_json_and_sarif_reports_and_the_policy_version() {
    let p = policy(CONTENT_CHECKS);
    let r = scan(&[FASTAPI_REQS, FASTAPI_APP], p.clone());
    let json: serde_json::Value = serde_json::from_str(&report::render(&r, Format::Json, false)).unwrap();
    let schema: serde_json::Value = serde_json::from_str(shipshape_analysis::report::json::SCHEMA).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let problems: Vec<String> = validator.iter_errors(&json).map(|e| format!("{e} at {}", e.instance_path)).collect();
    assert!(problems.is_empty(), "{problems:#?}");
    assert_eq!(json["custom_checks"][0]["id"], "custom-no-print");
    assert_eq!(json["custom_checks"][0]["custom"]["kind"], "content-matches");
    assert_eq!(json["custom_checks"][0]["custom"]["line"], 3);
    let sarif: serde_json::Value = serde_json::from_str(&report::render(&r, Format::Sarif, false)).unwrap();
    let rules = sarif["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap();
    let idx = rules.iter().position(|x| x["id"] == "custom-no-print").expect("a SARIF rule for the custom check");
    assert_eq!(rules[idx]["help"]["text"], "print bypasses the log pipeline.\n\nFix: Use the logger.");
    let result =
        sarif["runs"][0]["results"].as_array().unwrap().iter().find(|x| x["ruleId"] == "custom-no-print").unwrap();
    assert_eq!(result["ruleIndex"], idx);
    assert_eq!(result["locations"][0]["physicalLocation"]["region"]["startLine"], 8);
    let md = report::render(&r, Format::Markdown, false);
    assert!(
        md.contains("#### print() in service code (`custom-no-print`)") && md.contains("**Fix.** Use the logger."),
        "{md}"
    );

    // The policy version: the built-in one without custom checks, another with them.
    let builtin = Policy::default().version();
    assert_eq!(scan(&[FASTAPI_REQS], Policy::default()).policy_version, builtin);
    assert_eq!(r.policy_version, p.version());
    assert_ne!(p.version(), builtin);
    assert_ne!(policy(&CONTENT_CHECKS.replace("severity = \"low\"", "severity = \"high\"")).version(), p.version());
    assert_eq!(
        policy(&CONTENT_CHECKS.replace("print bypasses", "print() bypasses")).version(),
        p.version(),
        "docs do not change the version"
    );
}

const REPO_CONFIG: &str = r#"
[[ignore]]
check = "custom-repo-todo"
path = "legacy/**"
reason = "legacy code, frozen"

[[checks]]
id = "custom-repo-todo"
title = "TODO left in code"
category = "docs"
severity = "low"
kind = "content-matches"
paths = ["**/*.py"]
pattern = "TODO"
rationale = "Track work in the issue tracker."
fix = "Open an issue and remove the TODO."
"#;

#[test]
fn repository_checks_run_only_when_the_policy_allows_them() {
    let files = [
        FASTAPI_REQS,
        ("app/main.py", "from fastapi import FastAPI\napp = FastAPI()  # TODO tidy\n"),
        ("legacy/old.py", "# TODO never\n"),
        (".shipshape.toml", REPO_CONFIG),
    ];
    let off = scan(&files, Policy::default());
    assert!(off.check("custom-repo-todo").is_none());
    assert!(
        off.notes.iter().any(|n| n.path == ".shipshape.toml"
            && n.message.contains("1 repository-defined check(s) in [[checks]] ignored")),
        "{:#?}",
        off.notes
    );
    let allowed = Policy { allow_repository_checks: true, ..Policy::default() };
    let on = scan(&files, allowed.clone());
    assert_eq!(outcome(&on, "custom-repo-todo"), Outcome::Fail);
    let c = on.check("custom-repo-todo").unwrap();
    // The repository's own [[ignore]] applies to its own check.
    assert_eq!(c.active_findings().count(), 1);
    assert_eq!(c.findings.iter().filter(|f| f.suppression.is_some()).count(), 1);
    assert_eq!(on.custom_checks[0].custom.as_ref().unwrap().source, "repository");
    assert_ne!(on.policy_version, off.policy_version, "the repository's checks are part of its policy");

    // A bad repository definition is a note, not a failed scan; server ids cannot be redefined.
    let bad = REPO_CONFIG.replace("pattern = \"TODO\"", "pattern = \"(TODO\"");
    let r = scan(&[FASTAPI_REQS, (".shipshape.toml", &bad)], allowed.clone());
    assert!(r.check("custom-repo-todo").is_none());
    assert!(
        r.notes
            .iter()
            .any(|n| n.message.contains(".shipshape.toml:14: check custom-repo-todo: `pattern` is not a valid regex")),
        "{:#?}",
        r.notes
    );
    let server = Policy {
        allow_repository_checks: true,
        ..policy(&REPO_CONFIG.replace(
            "[[ignore]]\ncheck = \"custom-repo-todo\"\npath = \"legacy/**\"\nreason = \"legacy code, frozen\"\n",
            "",
        ))
    };
    let r = scan(&files, server);
    assert!(
        r.notes.iter().any(|n| n.message.contains("custom-repo-todo is already defined by the server's policy")),
        "{:#?}",
        r.notes
    );
    assert_eq!(r.custom_checks.len(), 1);
    assert_eq!(r.custom_checks[0].custom.as_ref().unwrap().source, "config");
}
