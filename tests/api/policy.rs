//! Policy as code end to end, on both databases: custom checks from the
//! server's configuration file are run by the worker off the queue, stored
//! like built-in checks and shown on the repository page, /checks, the
//! finding page, the API and the JSON/SARIF downloads; a check that takes
//! effect later is shown as upcoming without changing the score; checks a
//! repository defines for itself run only when the policy allows them; a
//! bad definition stops the start with the file and the line.

use crate::helpers::*;
use crate::on_both_databases;
use chrono::Utc;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use shipshape::db::entities::{check_results, findings, repositories};
use shipshape::jobs::queue;
use shipshape::jobs::scan_request::{ScanRequest, ScanTrigger};
use shipshape::jobs::worker::{JobOutcome, WorkerConfig, run_once};
use shipshape_analysis::policy::{Origin, parse_document};
use shipshape_analysis::{Options, Policy, analyze};
use shipshape_testkit::GitRepo;
use std::sync::Arc;

/// The server's configuration file: one custom check in effect, one custom
/// check and one built-in check that count only from 2099.
const CONFIG: &str = r#"[server]
bind = "127.0.0.1:0"

[policy.effective]
health-endpoint-missing = 2099-01-01

[[policy.checks]]
id = "custom-no-print"
title = "print() in service code"
category = "observability"
severity = "medium"
kind = "content-matches"
paths = ["app/**/*.py"]
pattern = '^\s*print\('
frameworks = ["fastapi"]
rationale = "print() bypasses the structured log pipeline."
fix = "Use the configured logger."

[[policy.checks]]
id = "custom-runbook"
title = "No on-call runbook"
category = "docs"
severity = "critical"
kind = "file-exists"
paths = ["RUNBOOK.md"]
effective = 2099-01-01
rationale = "On-call engineers need a runbook."
fix = "Write RUNBOOK.md."
"#;

const FILES: &[(&str, &str)] = &[
    ("requirements.txt", "fastapi==0.115.0\n"),
    ("app/main.py", "from fastapi import FastAPI\n\napp = FastAPI()\nprint(\"booting\")\n"),
    ("tests/test_main.py", "def test_ok():\n    assert True\n"),
];

async fn scan_now(db: &DatabaseConnection, repo: i32, worker: &WorkerConfig) {
    let req = ScanRequest { trigger: ScanTrigger::Manual, commit_sha: None, requested_by: Some("test".into()) };
    queue::enqueue_scan(db, repo, &req, Utc::now()).await.unwrap();
    let ran = run_once(db, worker).await.unwrap().expect("a job ran");
    assert!(matches!(ran, JobOutcome::Scanned { .. }), "{ran:?}");
}

async fn text(app: &TestApp, path: &str) -> String {
    let res = app.get(path).await;
    assert_eq!(res.status(), 200, "GET {path}");
    res.text().await.unwrap()
}

on_both_databases! {
    async fn configured_custom_and_upcoming_checks_run_off_the_queue_and_show_everywhere(backend) {
        let test_db = TestDb::new(backend).await;
        let settings = test_settings_from_file(&test_db, "shipshape.toml", CONFIG).expect("the policy validates");
        let app = spawn_app_on(test_db, settings).await;
        let git = GitRepo::with_files(FILES);
        let id = add_repository(&app.db, "api", &git.url()).await;
        let cache = tempfile::tempdir().unwrap();
        let worker = WorkerConfig { policy: app.settings.policy.clone(), ..worker_config(cache.path(), 1000) };
        scan_now(&app.db, id, &worker).await;

        // Stored like a built-in check: a result row and an open finding at its line.
        let repo = repositories::Entity::find_by_id(id).one(&app.db).await.unwrap().unwrap();
        let scan = repo.last_scan_id.unwrap();
        let rows = check_results::Entity::find().filter(check_results::Column::ScanId.eq(scan)).all(&app.db).await.unwrap();
        let row = |check: &str| rows.iter().find(|r| r.check_id == check).unwrap_or_else(|| panic!("no row for {check}")).clone();
        assert_eq!(row("custom-no-print").outcome, "fail");
        assert_eq!((row("custom-runbook").outcome.as_str(), row("custom-runbook").findings_count), ("upcoming", 1));
        assert_eq!(row("health-endpoint-missing").outcome, "upcoming");
        let open = findings::Entity::find().filter(findings::Column::RepositoryId.eq(id)).all(&app.db).await.unwrap();
        let custom = open.iter().find(|f| f.check_id == "custom-no-print").expect("the custom finding is tracked");
        assert_eq!((custom.path.as_deref(), custom.line), (Some("app/main.py"), Some(4)));
        assert!(!open.iter().any(|f| f.check_id == "custom-runbook" || f.check_id == "health-endpoint-missing"), "upcoming checks open no finding");

        // The upcoming checks do not change the score or the level: they are
        // those of the same policy without the upcoming custom check (and
        // with the built-in one upcoming too), and both count from 2099.
        let runbook_at = CONFIG.find("[[policy.checks]]\nid = \"custom-runbook\"").unwrap();
        let without = parse_document("c.toml", &CONFIG[..runbook_at], Origin::ServerConfig).unwrap();
        let without = Policy::build(false, vec![without]).unwrap();
        let expected = analyze(git.path(), &Options { policy: Arc::new(without), ..Default::default() }).unwrap();
        assert_eq!((repo.score, repo.level.as_deref()), (Some(expected.score), Some(expected.level.as_str())));
        let later = Options {
            today: chrono::NaiveDate::from_ymd_opt(2099, 1, 1).unwrap(),
            policy: app.settings.policy.clone(),
            ..Default::default()
        };
        let later = analyze(git.path(), &later).unwrap();
        assert!(later.score < expected.score, "{} vs {}", later.score, expected.score);
        assert_eq!(later.level, shipshape_analysis::Level::NotReady, "from 2099 the critical runbook check counts");
        assert_ne!(repo.level.as_deref(), Some("not-ready"));

        // The repository page: the custom finding and the upcoming checks.
        let page = text(&app, "/repos/acme/api").await;
        assert!(page.contains("custom-no-print") && page.contains("print() in service code"), "the open finding is listed");
        let upcoming = &page[page.find("id=\"upcoming\"").expect("an upcoming section")..];
        assert!(upcoming.contains("Upcoming checks (2)"), "{upcoming}");
        assert!(upcoming.contains("custom-runbook") && upcoming.contains("from 2099-01-01"), "{upcoming}");
        assert!(upcoming.contains("health-endpoint-missing"), "{upcoming}");

        // /checks lists the custom checks; /checks/{id} shows who fails or would fail.
        let catalogue = text(&app, "/checks").await;
        assert!(catalogue.contains("href=\"/checks/custom-no-print\"") && catalogue.contains("upcoming from 2099-01-01"), "{catalogue}");
        let check = text(&app, "/checks/custom-no-print").await;
        assert!(check.contains("print() bypasses the structured log pipeline.") && check.contains("Repositories failing it (1)") && check.contains("acme/api"), "{check}");
        assert!(check.contains("custom content-matches, defined at shipshape.toml:8"), "{check}");
        let later = text(&app, "/checks/custom-runbook").await;
        assert!(later.contains("Repositories it would fail (1)") && later.contains("acme/api") && later.contains("counts from 2099-01-01"), "{later}");
        let builtin = text(&app, "/checks/health-endpoint-missing").await;
        assert!(builtin.contains("Repositories it would fail (1)"), "{builtin}");
        assert_eq!(app.get("/checks/custom-nope").await.status(), 404);

        // The finding page documents the custom check.
        let finding = text(&app, &format!("/findings/{}", custom.id)).await;
        assert!(finding.contains("print() bypasses the structured log pipeline.") && finding.contains("Use the configured logger."), "{finding}");

        // The API's catalogue.
        let api: serde_json::Value = app.get("/api/v1/checks").await.json().await.unwrap();
        let items = api["items"].as_array().unwrap();
        let c = items.iter().find(|c| c["id"] == "custom-no-print").expect("the API lists the custom check");
        assert_eq!((c["custom"].as_bool(), c["failing_repositories"].as_u64()), (Some(true), Some(1)));
        let h = items.iter().find(|c| c["id"] == "health-endpoint-missing").unwrap();
        assert_eq!((h["custom"].as_bool(), h["effective"].as_str()), (Some(false), Some("2099-01-01")));

        // Downloads: JSON and SARIF carry the custom rules and the upcoming results.
        let json: serde_json::Value = app.get("/repos/acme/api/report.json").await.json().await.unwrap();
        assert!(json["custom_checks"].as_array().unwrap().iter().any(|c| c["id"] == "custom-runbook"));
        let runbook = json["checks"].as_array().unwrap().iter().find(|c| c["check_id"] == "custom-runbook").unwrap();
        assert_eq!((runbook["outcome"].as_str(), runbook["effective"].as_str()), (Some("upcoming"), Some("2099-01-01")));
        assert_eq!(json["policy_version"].as_str(), Some(app.settings.policy.version().as_str()));
        let sarif: serde_json::Value = app.get("/repos/acme/api/report.sarif").await.json().await.unwrap();
        let run = &sarif["runs"][0];
        let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
        assert!(rules.iter().any(|r| r["id"] == "custom-no-print" && r["properties"]["custom"]["kind"] == "content-matches"));
        let results = run["results"].as_array().unwrap();
        assert!(results.iter().any(|r| r["ruleId"] == "custom-no-print" && r["level"] == "warning"));
        assert!(results.iter().any(|r| r["ruleId"] == "custom-runbook" && r["level"] == "note" && r["properties"]["upcoming"] == true));

        // Every scan records the policy it ran with.
        let scans = shipshape::db::entities::scans::Entity::find().all(&app.db).await.unwrap();
        assert_eq!(scans[0].policy_version.as_deref(), Some(app.settings.policy.version().as_str()));
        assert_ne!(app.settings.policy.version(), Policy::default().version());
        app.stop().await;
    }

    async fn repository_defined_checks_run_only_when_the_policy_allows_them(backend) {
        let app = spawn_app(backend).await;
        let git = GitRepo::with_files(FILES);
        git.write(
            ".shipshape.toml",
            "[[checks]]\nid = \"custom-own-todo\"\ntitle = \"TODO in code\"\ncategory = \"docs\"\nseverity = \"low\"\nkind = \"content-matches\"\npaths = [\"app/**\"]\npattern = \"booting\"\nrationale = \"Ours.\"\nfix = \"Remove it.\"\n",
        );
        git.commit(shipshape_testkit::Commit::new("our own check"));
        let id = add_repository(&app.db, "api", &git.url()).await;
        let cache = tempfile::tempdir().unwrap();

        // The default policy: ignored, and the report says so.
        assert!(!app.settings.policy.allow_repository_checks);
        let worker = WorkerConfig { policy: app.settings.policy.clone(), ..worker_config(cache.path(), 1000) };
        scan_now(&app.db, id, &worker).await;
        let ours = || async {
            findings::Entity::find().filter(findings::Column::CheckId.eq("custom-own-todo")).all(&app.db).await.unwrap()
        };
        assert!(ours().await.is_empty());
        let json: serde_json::Value = app.get("/repos/acme/api/report.json").await.json().await.unwrap();
        assert!(json["checks"].as_array().unwrap().iter().all(|c| c["check_id"] != "custom-own-todo"));
        assert!(json["notes"].to_string().contains("does not allow repository checks"), "{}", json["notes"]);

        // An admin allows them: the next scan runs the repository's check.
        let allowed = test_settings_with(&app.test_db, |f| f.merge(("policy.allow_repository_checks", true)));
        assert!(allowed.policy.allow_repository_checks);
        let worker = WorkerConfig { policy: allowed.policy.clone(), ..worker_config(cache.path(), 1000) };
        scan_now(&app.db, id, &worker).await;
        let found = ours().await;
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].path.as_deref(), found[0].line), (Some("app/main.py"), Some(4)));
        // Its documentation comes from the scan's report.
        let page = text(&app, &format!("/findings/{}", found[0].id)).await;
        assert!(page.contains("TODO in code") && page.contains("Remove it."), "{page}");
        app.stop().await;
    }
}

#[tokio::test]
async fn a_bad_policy_stops_the_start_with_the_file_and_the_line() {
    let test_db = TestDb::new(Backend::Sqlite).await;
    let bad = CONFIG.replace("pattern = '^\\s*print\\('", "pattern = '^\\s*print('");
    let err = test_settings_from_file(&test_db, "shipshape.toml", &bad).expect_err("refused").to_string();
    assert!(err.contains("shipshape.toml:14: check custom-no-print: `pattern` is not a valid regex"), "{err}");
    let unknown = CONFIG.replace("health-endpoint-missing = 2099-01-01", "no-such-check = 2099-01-01");
    let err = test_settings_from_file(&test_db, "shipshape.toml", &unknown).expect_err("refused").to_string();
    assert!(err.contains("shipshape.toml:5: check no-such-check: no built-in check has this id"), "{err}");

    // A policy file named by the configuration, relative to the working directory.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("policy.toml");
    std::fs::write(&file, "[[checks]]\nid = \"custom-x\"\nkind = \"file-exists\"\n").unwrap();
    let config = format!("[policy]\nfile = \"{}\"\n", file.display());
    let err = test_settings_from_file(&test_db, "shipshape.toml", &config).expect_err("refused").to_string();
    assert!(err.contains(&format!("{}:2: check custom-x: `title` is missing", file.display())), "{err}");
    std::fs::write(
        &file,
        CONFIG
            .replace("[policy.effective]", "[effective]")
            .replace("[[policy.checks]]", "[[checks]]")
            .replace("[server]\nbind = \"127.0.0.1:0\"\n", ""),
    )
    .unwrap();
    let ok = test_settings_from_file(&test_db, "shipshape.toml", &config).expect("a valid policy file");
    assert_eq!(ok.policy.checks.len(), 2);
    assert_eq!(ok.policy.effective.len(), 1);
}

#[test]
fn the_scan_command_runs_a_policy_file_and_refuses_a_bad_one() {
    let repo = GitRepo::with_files(FILES);
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.toml");
    std::fs::write(
        &policy,
        CONFIG
            .replace("[policy.effective]", "[effective]")
            .replace("[[policy.checks]]", "[[checks]]")
            .replace("[server]\nbind = \"127.0.0.1:0\"\n", ""),
    )
    .unwrap();
    let out = shipshape(dir.path())
        .arg("scan")
        .arg(repo.path())
        .arg("--policy")
        .arg(&policy)
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let outcome = |id: &str| {
        report["checks"].as_array().unwrap().iter().find(|c| c["check_id"] == id).map(|c| c["outcome"].clone())
    };
    assert_eq!(outcome("custom-no-print"), Some("fail".into()));
    assert_eq!(outcome("custom-runbook"), Some("upcoming".into()));
    assert_eq!(outcome("health-endpoint-missing"), Some("upcoming".into()));

    std::fs::write(&policy, "[[checks]]\nid = \"custom-x\"\ntitle = \"t\"\ncategory = \"docs\"\nseverity = \"low\"\nkind = \"tree-sitter-query\"\nlanguage = \"cobol\"\nquery = \"(x)\"\nrationale = \"r\"\nfix = \"f\"\n").unwrap();
    let out = shipshape(dir.path()).arg("scan").arg(repo.path()).arg("--policy").arg(&policy).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains(&format!("{}:7: check custom-x: unknown language `cobol`", policy.display())), "{err}");
}
