//! The report renderers, tested on constructed reports with known findings
//! (exact assertions) and on one fixture repository scanned end to end.
//! JSON is validated against our schema, SARIF against the official SARIF
//! 2.1.0 schema from the pinned npm package (run `npm ci` at the repo root).

use chrono::NaiveDate;
use serde_json::Value;
use shipshape_analysis::report::{self, Format, json, markdown, sarif, table};
use shipshape_analysis::score::{self, SCHEMA_VERSION};
use shipshape_analysis::*;
use shipshape_testkit::GitRepo;
use std::path::PathBuf;

// ---------------------------------------------------------------- builders

fn check(id: &str, category: Category, severity: Severity, outcome: Outcome) -> CheckResult {
    CheckResult {
        check_id: id.into(),
        title: format!("Title of {id}"),
        category,
        severity,
        outcome,
        summary: format!("summary of {id}"),
        evidence: vec![],
        findings: vec![],
        error: None,
        effective: None,
    }
}

fn finding(id: &str, severity: Severity, category: Category, loc: Option<Location>, evidence: &str) -> Finding {
    Finding {
        check_id: id.into(),
        severity,
        category,
        message: format!("{id} found"),
        location: loc,
        evidence: evidence.into(),
        fingerprint: format!("{:032x}", evidence.len() as u128 * 7919 + id.len() as u128),
        content_hash: format!("{:032x}", evidence.len() as u128 * 31 + id.len() as u128),
        suppression: None,
    }
}

fn failing(mut c: CheckResult, findings: Vec<Finding>) -> CheckResult {
    c.summary = findings[0].message.clone();
    c.findings = findings;
    c
}

/// A report with one check of every outcome, several severities, a secret
/// (masked), a repository-level finding, suppressions from both sources,
/// an errored check, notes, and a check with many findings.
fn sample() -> Report {
    let sec = Category::Secrets;
    let secret = failing(
        check("hardcoded-secret", sec, Severity::Critical, Outcome::Fail),
        vec![
            finding("hardcoded-secret", Severity::Critical, sec, Some(Location::at("app/config.py", 12)), "AKIA…(20)"),
            Finding {
                suppression: Some(Suppression {
                    source: "inline".into(),
                    reason: "test fixture key, revoked".into(),
                    expires: None,
                }),
                ..finding(
                    "hardcoded-secret",
                    Severity::Critical,
                    sec,
                    Some(Location::at("tests/keys.py", 3)),
                    "ghp_…(40)",
                )
            },
        ],
    );
    let prints: Vec<Finding> = (1..=8)
        .map(|i| {
            finding(
                "print-logging",
                Severity::Low,
                Category::Observability,
                Some(Location::at("app/routes.py", i * 10)),
                &format!("print(\"step {i} | done\")"),
            )
        })
        .collect();
    let mut health = check("health-endpoint-missing", Category::Observability, Severity::High, Outcome::Pass);
    health.summary = "health route at app/main.py:42".into();
    health.evidence = vec![Evidence::new("health route `/healthz`", Some(Location::at("app/main.py", 42)))];
    let mut errored = check("tests-thin", Category::Testing, Severity::Medium, Outcome::Error);
    errored.error = Some("could not count lines: boom".into());
    errored.summary = "check could not run: could not count lines: boom".into();
    let mut na = check("docker-root-user", Category::Delivery, Severity::High, Outcome::NotApplicable);
    na.summary = "no Dockerfile".into();
    let mut suppressed_pass = check("debug-enabled", Category::Security, Severity::High, Outcome::Pass);
    suppressed_pass.summary = "1 finding(s) suppressed".into();
    suppressed_pass.findings = vec![Finding {
        suppression: Some(Suppression {
            source: "config".into(),
            reason: "dev settings module".into(),
            expires: NaiveDate::from_ymd_opt(2027, 1, 31),
        }),
        ..finding(
            "debug-enabled",
            Severity::High,
            Category::Security,
            Some(Location::at("app/dev.py", 2)),
            "debug=True",
        )
    }];
    let checks = vec![
        failing(
            check("cors-wildcard", Category::Security, Severity::High, Outcome::Fail),
            vec![finding(
                "cors-wildcard",
                Severity::High,
                Category::Security,
                Some(Location::at("app/main.py", 7)),
                "allow_origins=[\"*\"]",
            )],
        ),
        suppressed_pass,
        secret,
        health,
        failing(check("print-logging", Category::Observability, Severity::Low, Outcome::Fail), prints),
        check("tests-missing", Category::Testing, Severity::Critical, Outcome::Pass),
        errored,
        failing(
            check("ci-missing", Category::Delivery, Severity::High, Outcome::Fail),
            vec![finding("ci-missing", Severity::High, Category::Delivery, None, "ci-missing found")],
        ),
        na,
        check("readme-missing", Category::Docs, Severity::Medium, Outcome::Pass),
        failing(
            check("required-checks-missing", Category::Github, Severity::Medium, Outcome::Fail),
            vec![finding("required-checks-missing", Severity::Medium, Category::Github, None, "")],
        ),
    ];
    let stack = Stack {
        languages: [("python".to_string(), 12u32), ("javascript".to_string(), 3)].into_iter().collect(),
        frameworks: vec!["fastapi".into()],
        orms: vec!["sqlalchemy".into()],
        deploy_targets: vec![],
        ci: vec![],
        manifests: vec!["pyproject.toml".into(), "web/package.json".into()],
    };
    let notes = vec![Note { path: "data/dump.sql".into(), message: "not read: 12 MiB is over the 8 MiB limit".into() }];
    let stats = ScanStats { files_seen: 231, files_read: 230, bytes_read: 1_523_000, duration_ms: 42 };
    score::finish("/srv/repos/acme-api".into(), stack, checks, notes, stats)
}

/// A report where everything applicable passes.
fn clean() -> Report {
    let mut ok = check("tests-missing", Category::Testing, Severity::Critical, Outcome::Pass);
    ok.evidence = vec![Evidence::new("42 test files under tests/", None)];
    score::finish("/srv/repos/tidy".into(), Stack::default(), vec![ok], vec![], ScanStats::default())
}

/// Scans a small fixture repository end to end, with GitHub facts that fail
/// the branch protection checks (repository-level findings).
fn scanned() -> Report {
    let repo = GitRepo::with_files(&[
        ("README.md", "# Acme\n\nAn API.\n\n```sh\npip install -e .\nuvicorn app.main:app\n```\n"),
        ("pyproject.toml", "[project]\nname = \"acme\"\ndependencies = [\"fastapi\", \"uvicorn\"]\n"),
        ("app/__init__.py", ""),
        (
            "app/main.py",
            "from fastapi import FastAPI\n\napp = FastAPI()\n\n@app.get(\"/healthz\")\ndef health():\n    return {\"ok\": True}\n",
        ),
        ("tests/test_main.py", "def test_ok():\n    assert True\n"),
    ]);
    let options = Options {
        today: NaiveDate::from_ymd_opt(2026, 11, 22).unwrap(),
        github: Some(GithubFacts {
            default_branch_protected: false,
            requires_pull_request: Some(false),
            required_status_checks: vec![],
            last_commit: Some("2026-11-01T10:00:00Z".parse().unwrap()),
        }),
        ..Default::default()
    };
    analyze(repo.path(), &options).expect("scan")
}

// ---------------------------------------------------------------- schemas

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn our_schema() -> Value {
    serde_json::from_str(json::SCHEMA).expect("schema.json is JSON")
}

fn sarif_schema() -> Value {
    let path = repo_root().join("node_modules/@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "the SARIF 2.1.0 schema is missing at {} ({e}): run `npm ci` at the repo root \
             (it installs the pinned @microsoft/jest-sarif package that ships it)",
            path.display()
        )
    });
    serde_json::from_str(&text).expect("SARIF schema is JSON")
}

/// Every error of `instance` against `schema`, with where it is.
fn errors(validator: &jsonschema::Validator, instance: &Value) -> Vec<String> {
    validator.iter_errors(instance).map(|e| format!("{} at {}", e, e.instance_path)).collect()
}

fn report_validator() -> jsonschema::Validator {
    jsonschema::draft202012::new(&our_schema()).expect("schema.json is a valid draft 2020-12 schema")
}

fn sarif_validator() -> jsonschema::Validator {
    // The file declares draft-04 and carries an `id`; its refs are all local
    // (#/definitions/...), so nothing is fetched.
    jsonschema::draft4::new(&sarif_schema()).expect("the SARIF schema compiles offline")
}

fn assert_valid_report(r: &Report) {
    let v: Value = serde_json::from_str(&json::render(r)).expect("JSON report parses");
    let errs = errors(&report_validator(), &v);
    assert!(errs.is_empty(), "JSON report does not match schema.json:\n{}", errs.join("\n"));
}

fn assert_valid_sarif(r: &Report) -> Value {
    let v: Value = serde_json::from_str(&sarif::render(r)).expect("SARIF parses");
    let errs = errors(&sarif_validator(), &v);
    assert!(errs.is_empty(), "SARIF does not match the 2.1.0 schema:\n{}", errs.join("\n"));
    v
}

// ---------------------------------------------------------------- JSON

#[test]
fn json_reports_validate_against_the_schema() {
    assert_valid_report(&sample());
    assert_valid_report(&clean());
    assert_valid_report(&scanned());
}

#[test]
fn json_round_trips_and_keeps_the_schema_version() {
    let r = sample();
    let text = json::render(&r);
    assert!(text.ends_with("}\n"));
    let back: Report = serde_json::from_str(&text).expect("deserialises");
    assert_eq!(back.schema_version, SCHEMA_VERSION);
    assert_eq!(back.failing_check_ids(), r.failing_check_ids());
    assert_eq!(back.findings().count(), r.findings().count());
    assert_eq!(json::render(&back), text, "render is deterministic");
}

#[test]
fn schema_version_in_the_schema_matches_the_code() {
    let s = our_schema();
    assert_eq!(s["$schema"], "https://json-schema.org/draft/2020-12/schema");
    assert_eq!(s["properties"]["schema_version"]["const"], SCHEMA_VERSION, "bump schema.json with SCHEMA_VERSION");
}

#[test]
fn schema_rejects_reports_that_drift_from_it() {
    let validator = report_validator();
    let good: Value = serde_json::from_str(&json::render(&sample())).unwrap();
    let broken = |f: &dyn Fn(&mut Value)| {
        let mut v = good.clone();
        f(&mut v);
        errors(&validator, &v)
    };
    assert!(!broken(&|v| v["level"] = "platinum".into()).is_empty());
    assert!(!broken(&|v| v["schema_version"] = 2.into()).is_empty());
    assert!(!broken(&|v| v["checks"][0]["surprise"] = true.into()).is_empty(), "unknown fields are drift");
    assert!(!broken(&|v| v["checks"][0]["findings"][0]["location"]["line"] = 0.into()).is_empty());
    assert!(!broken(&|v| v["score"] = 101.into()).is_empty());
    assert!(!broken(&|v| drop(v.as_object_mut().unwrap().remove("deductions"))).is_empty());
}

// ---------------------------------------------------------------- SARIF

#[test]
fn sarif_validates_against_the_official_schema() {
    assert_valid_sarif(&sample());
    assert_valid_sarif(&clean());
    assert_valid_sarif(&scanned());
}

#[test]
fn sarif_validation_is_not_vacuous() {
    let validator = sarif_validator();
    let good: Value = serde_json::from_str(&sarif::render(&sample())).unwrap();
    let mut bad = good.clone();
    bad["runs"][0]["results"][0]["level"] = "fatal".into();
    assert!(!errors(&validator, &bad).is_empty());
    let mut bad = good.clone();
    bad["version"] = "2.0.0".into();
    assert!(!errors(&validator, &bad).is_empty());
    let mut bad = good;
    bad["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] = 0.into();
    assert!(!errors(&validator, &bad).is_empty());
}

#[test]
fn sarif_lists_every_catalogue_check_as_a_rule() {
    let v = assert_valid_sarif(&clean());
    let run = &v["runs"][0];
    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "Shipshape");
    assert_eq!(driver["version"], score::ANALYZER_VERSION);
    assert!(driver["informationUri"].as_str().unwrap().starts_with("https://"));
    let rules = driver["rules"].as_array().unwrap();
    let catalogue = checks::all();
    assert_eq!(rules.len(), catalogue.len());
    for (rule, c) in rules.iter().zip(&catalogue) {
        assert_eq!(rule["id"], c.spec.id);
        assert_eq!(rule["shortDescription"]["text"], c.spec.title);
        assert_eq!(rule["fullDescription"]["text"], c.spec.rationale);
        assert!(rule["help"]["text"].as_str().unwrap().contains(c.spec.fix));
        assert_eq!(rule["properties"]["category"], c.spec.category.as_str());
        assert!(rule["properties"]["tags"].as_array().unwrap().iter().any(|t| t == c.spec.category.as_str()));
        assert_eq!(rule["defaultConfiguration"]["level"], sarif::level(c.spec.severity));
    }
    assert_eq!(run["results"].as_array().unwrap().len(), 0);
    assert_eq!(run["properties"]["level"], "gold");
}

#[test]
fn sarif_results_carry_level_location_fingerprint_and_suppressions() {
    let r = sample();
    let v = assert_valid_sarif(&r);
    let run = &v["runs"][0];
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), r.findings().count(), "one result per finding, suppressed included");
    let by_rule = |id: &'static str| results.iter().filter(move |x| x["ruleId"] == id);

    let cors = by_rule("cors-wildcard").next().unwrap();
    assert_eq!(cors["level"], "error");
    let loc = &cors["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], "app/main.py");
    assert_eq!(loc["artifactLocation"]["uriBaseId"], "%SRCROOT%");
    assert_eq!(loc["region"]["startLine"], 7);
    let fp = &r.check("cors-wildcard").unwrap().findings[0].fingerprint;
    assert_eq!(cors["partialFingerprints"][sarif::FINGERPRINT_KEY], fp.as_str());
    assert!(cors["message"]["text"].as_str().unwrap().contains("allow_origins"));

    assert_eq!(by_rule("print-logging").count(), 8);
    assert!(by_rule("print-logging").all(|x| x["level"] == "note"));
    assert!(by_rule("required-checks-missing").all(|x| x["level"] == "warning"));

    // GitHub needs a location even for an absence: the root manifest.
    let ci = by_rule("ci-missing").next().unwrap();
    assert_eq!(ci["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], "pyproject.toml");
    assert!(ci["locations"][0]["physicalLocation"].get("region").is_none());
    assert_eq!(ci["properties"]["repositoryLevel"], true);

    let secrets: Vec<&Value> = by_rule("hardcoded-secret").collect();
    assert!(secrets[0].get("suppressions").is_none());
    let inline = &secrets[1]["suppressions"][0];
    assert_eq!(inline["kind"], "inSource");
    assert_eq!(inline["justification"], "test fixture key, revoked");
    let config = &by_rule("debug-enabled").next().unwrap()["suppressions"][0];
    assert_eq!(config["kind"], "external");
    assert_eq!(config["properties"]["expires"], "2027-01-31");

    assert_eq!(run["properties"]["score"], r.score);
    assert_eq!(run["properties"]["level"], "not-ready");
    let notes = run["invocations"][0]["toolExecutionNotifications"].as_array().unwrap();
    assert_eq!(notes.len(), 1);
    assert!(notes[0]["message"]["text"].as_str().unwrap().contains("tests-thin could not run: could not count lines"));
}

#[test]
fn sarif_paths_are_uri_references() {
    let odd = failing(
        check("hardcoded-secret", Category::Secrets, Severity::Critical, Outcome::Fail),
        vec![finding(
            "hardcoded-secret",
            Severity::Critical,
            Category::Secrets,
            Some(Location::at("docs/set up#1.md", 4)),
            "sk_l…(32)",
        )],
    );
    let r = score::finish("/x".into(), Stack::default(), vec![odd], vec![], ScanStats::default());
    let v = assert_valid_sarif(&r);
    let uri = &v["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"];
    assert_eq!(uri, "docs/set%20up%231.md");
    // no manifest and no known file: repository-level findings fall back to README.md
    let mut ci = check("ci-missing", Category::Delivery, Severity::High, Outcome::Fail);
    ci.findings = vec![finding("ci-missing", Severity::High, Category::Delivery, None, "")];
    let r = score::finish("/x".into(), Stack::default(), vec![ci], vec![], ScanStats::default());
    let v = assert_valid_sarif(&r);
    assert_eq!(v["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], "README.md");
}

#[test]
fn sarif_rule_indices_point_at_their_rules() {
    let v = assert_valid_sarif(&scanned());
    let run = &v["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let results = run["results"].as_array().unwrap();
    assert!(!results.is_empty(), "the fixture's GitHub facts fail branch protection");
    for res in results {
        let i = res["ruleIndex"].as_u64().expect("catalogue checks have an index") as usize;
        assert_eq!(rules[i]["id"], res["ruleId"]);
        assert_eq!(res["locations"].as_array().unwrap().len(), 1, "GitHub requires a location");
    }
    let bp = results.iter().find(|x| x["ruleId"] == "branch-protection-missing").unwrap();
    assert_eq!(bp["level"], "error");
    assert_eq!(bp["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], "pyproject.toml");
}

// ---------------------------------------------------------------- table

#[test]
fn table_reads_without_colour() {
    let r = sample();
    let t = table::render(&r, false);
    assert!(!t.contains('\x1b'), "no ANSI codes without colour");
    assert!(t.contains("/srv/repos/acme-api"));
    assert!(t.contains(&format!("Score {:.1}/100", r.score)));
    assert!(t.contains("Level NOT-READY"));
    assert!(t.contains(&r.level_reason));
    assert!(t.contains("languages  python (12), javascript (3)"));
    assert!(t.contains("frameworks fastapi"));
    // category bars
    let security = t.lines().find(|l| l.starts_with("security")).unwrap();
    assert!(security.contains('[') && security.contains('#') && security.contains('.'), "{security}");
    assert!(t.lines().any(|l| l.starts_with("github") && l.ends_with("not scored")));
    // failing checks by severity, findings capped
    let pos = |s: &str| t.find(s).unwrap_or_else(|| panic!("{s} missing from\n{t}"));
    assert!(pos("Title of hardcoded-secret") < pos("Title of cors-wildcard"));
    assert!(pos("Title of cors-wildcard") < pos("Title of required-checks-missing"));
    assert!(pos("Title of required-checks-missing") < pos("Title of print-logging"));
    assert!(t.contains("app/config.py:12  hardcoded-secret found  [AKIA…(20)]"));
    assert!(!t.contains("tests/keys.py"), "suppressed findings are not listed as failures");
    assert!(t.contains("app/routes.py:50"));
    assert!(!t.contains("app/routes.py:60"));
    assert!(t.contains("+3 more"));
    assert!(t.contains("repository  ci-missing found\n"), "repository-level finding without a repeated evidence");
    assert!(t.contains("Suppressed: 2 findings"));
    assert!(t.contains("Could not run (1)") && t.contains("tests-thin  could not count lines: boom"));
    assert!(t.contains("Notes: 1 about files not fully read"));
    assert!(t.contains("Scanned 231 files (230 read, 1.5 MB) in 42 ms"));
}

#[test]
fn table_colours_only_when_asked() {
    let r = sample();
    let t = table::render(&r, true);
    assert!(t.contains("\x1b[1;31mCRITICAL"));
    let stripped = strip_ansi(&t);
    assert_eq!(stripped, table::render(&r, false), "colour adds codes, never words");
    assert!(table::render(&clean(), false).contains("No failing checks."));
}

fn strip_ansi(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            for d in chars.by_ref() {
                if d == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

// ---------------------------------------------------------------- markdown

#[test]
fn markdown_reads_like_an_audit() {
    let r = sample();
    let md = markdown::render(&r);
    let pos = |s: &str| md.find(s).unwrap_or_else(|| panic!("{s:?} missing from\n{md}"));
    assert!(md.starts_with("# Production-readiness audit: acme-api\n"));
    let sections = [
        "## Verdict",
        "## Stack",
        "## Strengths",
        "## Gaps by priority",
        "## Checklist",
        "## Scores",
        "## Not applicable",
        "## Could not run",
        "## Suppressed findings",
        "## Notes",
    ];
    for pair in sections.windows(2) {
        assert!(pos(pair[0]) < pos(pair[1]), "{} before {}", pair[0], pair[1]);
    }
    // verdict: level, score, why in words, top three risks in priority order
    assert!(md.contains(&format!("**Not ready**, score **{:.1}/100**", r.score)));
    assert!(md.contains("At least one critical check fails"));
    assert!(md.contains("1. **Title of hardcoded-secret** (critical)"));
    assert!(md.contains("2. **Title of ci-missing** (high)") || md.contains("2. **Title of cors-wildcard** (high)"));
    assert!(md.contains("3. "));
    assert!(!md.contains("4. **"));
    // stack
    assert!(md.contains("- **Languages:** python (12 files), javascript (3 files)"));
    assert!(md.contains("- **Deploy targets:** none detected"));
    // strengths grouped by category with their evidence
    assert!(
        md.contains(
            "### observability\n\n- health route \\`/healthz\\` (`app/main.py:42`) (`health-endpoint-missing`)"
        )
    );
    assert!(md.contains("- summary of tests-missing (`tests-missing`)"));
    assert!(!md.contains("(`debug-enabled`)\n"), "a pass by suppression is no strength");
    // gaps: severity headings in order, evidence masked, capped
    assert!(pos("### Critical (1)") < pos("### High (2)"));
    assert!(pos("### High (2)") < pos("### Medium (1)"));
    assert!(pos("### Medium (1)") < pos("### Low (1)"));
    assert!(md.contains("- `app/config.py:12`: hardcoded-secret found (`AKIA…(20)`)"));
    assert!(md.contains("- `app/routes.py:10`: print-logging found (`print(\"step 1 | done\")`)"));
    assert!(md.contains("- ci-missing found\n"));
    // scores and deductions
    assert!(md.contains("| Category | Score | Weight | Passed / applicable weight |"));
    assert!(md.contains("| github | 0.0 | not scored | 0 / 3 |"));
    assert!(md.contains(&format!("| **overall** | **{:.1}** | | |", r.score)));
    let top = &r.deductions[0];
    assert!(md.contains(&format!(
        "| `{}` | {} | {} | -{:.1} |",
        top.check_id,
        top.category.as_str(),
        top.severity.as_str(),
        top.points
    )));
    // the rest
    assert!(md.contains("- **Title of docker-root-user** (`docker-root-user`): no Dockerfile"));
    assert!(md.contains("- **Title of tests-thin** (`tests-thin`): could not count lines: boom"));
    assert!(md.contains("| `hardcoded-secret` | `tests/keys.py:3` | inline | test fixture key, revoked |  |"));
    assert!(md.contains("| `debug-enabled` | `app/dev.py:2` | config | dev settings module | 2027-01-31 |"));
    assert!(md.contains("- `data/dump.sql`: not read: 12 MiB is over the 8 MiB limit"));
    assert!(md.contains("Scanned 231 files (230 read, 1.5 MB) in 42 ms."));
    assert!(!md.contains("ghp_"), "suppressed evidence only appears masked, and not in the gaps");
}

#[test]
fn markdown_checklist_puts_the_most_points_first() {
    let r = sample();
    let md = markdown::render(&r);
    let list: Vec<&str> = md.lines().filter(|l| l.starts_with("- [ ] ")).collect();
    assert_eq!(list.len(), r.failing_check_ids().len(), "one item per failing check");
    let expected: Vec<&str> = r.deductions.iter().map(|d| d.check_id.as_str()).collect();
    for (item, id) in list.iter().zip(&expected) {
        assert!(item.contains(&format!("(`{id}`,")), "{item} should be {id}");
    }
    let points: Vec<f64> = r.deductions.iter().map(|d| d.points).collect();
    assert!(points.windows(2).all(|w| w[0] >= w[1]));
    assert!(md.contains("| `required-checks-missing` | github | medium | 0.0 | -100.0 |"), "no negative zero");
}

#[test]
fn markdown_uses_the_catalogue_for_why_and_fix() {
    let r = scanned();
    let md = markdown::render(&r);
    let spec = checks::spec("branch-protection-missing").unwrap();
    assert!(md.contains("#### Default branch is not protected (`branch-protection-missing`)"));
    assert!(md.contains("**Why it matters.** Without protection anyone with write access"));
    assert!(md.contains("**Fix.** Add a branch protection rule"));
    assert!(md.contains(&format!("- [ ] **{}** (`branch-protection-missing`, high,", spec.title)));
    assert!(md.contains("## Strengths"));
    assert!(md.contains("last commit 21 days ago"), "repo-stale passes with its evidence");
}

#[test]
fn markdown_of_a_clean_report_says_so() {
    let md = markdown::render(&clean());
    assert!(md.contains("**Gold**, score **100.0/100**."));
    assert!(md.contains("No check fails."));
    assert!(md.contains("None: every applicable check passes."));
    assert!(!md.contains("## Checklist"));
    assert!(md.contains("42 test files under tests/"));
}

// ---------------------------------------------------------------- end to end

#[test]
fn a_scanned_repository_renders_in_every_format_and_gates() {
    let r = scanned();
    assert_eq!(r.check("branch-protection-missing").unwrap().outcome, Outcome::Fail);
    for f in Format::ALL {
        let out = report::render(&r, f, false);
        assert!(!out.is_empty(), "{} is empty", f.as_str());
        assert_eq!(Format::parse(f.as_str()), Some(f));
    }
    assert_eq!(Format::parse("md"), Some(Format::Markdown));
    assert_eq!(Format::parse("xml"), None);
    // branch protection is high: bronze, which --fail-on bronze blocks
    assert_eq!(r.level, Level::Bronze);
    let g = report::gate(&r, None, Some(Level::Bronze));
    assert!(!g.passed);
    assert!(g.reasons[0].contains("branch-protection-missing"));
    assert!(report::gate(&r, None, Some(Level::NotReady)).passed);
    assert!(report::gate(&r, Some(0.0), None).passed);
}
