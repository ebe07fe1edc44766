//! The `shipshape` binary as an operator runs it: no config, broken
//! configs, Postgres, signals.

use crate::helpers::*;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn shipshape(dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_shipshape"));
    cmd.current_dir(dir).env_clear().env("PATH", std::env::var("PATH").unwrap_or_default());
    cmd
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Starts `serve`, waits for /readyz 200, then stops it with SIGTERM and
/// expects a clean exit.
async fn serve_until_ready_then_sigterm(mut cmd: Command) {
    let port = free_port();
    let mut child = cmd
        .arg("serve")
        .env("SHIPSHAPE__SERVER__BIND", format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start shipshape serve");
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut ready = false;
    while Instant::now() < deadline {
        if let Ok(res) = client.get(format!("http://127.0.0.1:{port}/readyz")).send().await
            && res.status() == 200
        {
            ready = true;
            break;
        }
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).ok();
            panic!("serve exited early with {status}: {err}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(ready, "/readyz never answered 200");
    let kill = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(kill.success());
    let status = child.wait().expect("wait");
    assert!(status.success(), "graceful shutdown should exit 0, got {status}");
}

#[tokio::test]
async fn serve_with_no_config_starts_on_embedded_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    serve_until_ready_then_sigterm(shipshape(dir.path())).await;
    assert!(dir.path().join("data/shipshape.db").exists(), "the default database is a SQLite file in ./data");
}

#[tokio::test]
async fn serve_with_a_postgres_url_starts_and_is_ready() {
    let db = TestDb::new(Backend::Postgres).await;
    let mut cmd = shipshape(db.dir.path());
    cmd.env("DATABASE_URL", &db.url);
    serve_until_ready_then_sigterm(cmd).await;
}

/// Runs the binary and returns (exit code, stderr).
fn run(cmd: &mut Command) -> (i32, String) {
    let out = cmd.output().expect("run shipshape");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn broken_configs_exit_2_with_one_line_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    // (what, environment, config file, the key the error must name)
    type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, Option<&'a str>, &'a str);
    let cases: Vec<Case> = vec![
        ("bad database URL", vec![("SHIPSHAPE__DATABASE__URL", "mysql://root@db/x")], None, "database.url"),
        ("unknown key in a file", vec![], Some("[server]\nbnd = \"127.0.0.1:1\"\n"), "bnd"),
        ("unknown key in env", vec![("SHIPSHAPE__SERVER__BINDD", "x")], None, "bindd"),
        ("bad bind address", vec![("SHIPSHAPE__SERVER__BIND", "localhost")], None, "SHIPSHAPE__SERVER__BIND"),
        ("production without a session key", vec![("SHIPSHAPE__MODE", "production")], None, "auth.session_key"),
        ("secret in a config file", vec![], Some("[github]\nwebhook_secret = \"s3cret\"\n"), "github.webhook_secret"),
        ("local auth on a public address", vec![("SHIPSHAPE__SERVER__BIND", "0.0.0.0:8080")], None, "auth.mode"),
    ];
    for (what, env, file, key) in cases {
        let mut cmd = shipshape(dir.path());
        cmd.arg("migrate").arg("status").envs(env);
        if let Some(text) = file {
            let path = dir.path().join("bad.toml");
            std::fs::write(&path, text).unwrap();
            cmd.arg("--config").arg(&path);
        }
        let (code, err) = run(&mut cmd);
        assert_eq!(code, 2, "{what}: exit code; stderr: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{what}: one line, got: {err}");
        assert!(err.contains(key), "{what}: the error should name `{key}`: {err}");
        assert!(!err.contains("s3cret"), "{what}: secrets are never echoed: {err}");
    }
}

#[test]
fn migrate_up_status_and_down_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let (code, err) = run(shipshape(dir.path()).args(["migrate", "up"]));
    assert_eq!(code, 0, "{err}");
    let out = shipshape(dir.path()).args(["migrate", "status"]).output().unwrap();
    let status = String::from_utf8_lossy(&out.stdout);
    assert!(status.contains("applied  m20261122_000001_initial"), "{status}");
    let (code, err) = run(shipshape(dir.path()).args(["migrate", "down"]));
    assert_eq!(code, 0, "{err}");
    let out = shipshape(dir.path()).args(["migrate", "status"]).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("pending  m20261122_000003_scan_reports"));
}

#[test]
fn scan_prints_a_report_writes_formats_and_applies_gates() {
    let repo = shipshape_testkit::GitRepo::with_files(&[
        ("README.md", "# demo\n"),
        ("app/main.py", "from fastapi import FastAPI\napp = FastAPI()\n"),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let out = shipshape(dir.path()).arg("scan").arg(repo.path()).output().unwrap();
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("tests-missing"), "the table lists failing checks: {table}");
    assert_eq!(out.status.code(), Some(0), "no gate given: exit 0");

    let json_path = dir.path().join("report.json");
    let (code, err) =
        run(shipshape(dir.path()).arg("scan").arg(repo.path()).args(["--format", "json", "--output"]).arg(&json_path));
    assert_eq!(code, 0, "{err}");
    let report: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
    assert_eq!(report["level"], "not-ready", "no tests is a critical failure");

    let (code, err) =
        run(shipshape(dir.path()).arg("scan").arg(repo.path()).args(["--format", "sarif", "--fail-on", "bronze"]));
    assert_eq!(code, 1, "a not-ready repo fails `--fail-on bronze`: {err}");
    assert!(err.contains("gate failed"), "{err}");
    let (code, _) = run(shipshape(dir.path()).arg("scan").arg(repo.path()).args(["--fail-under", "1"]));
    assert_eq!(code, 0);

    let (code, err) = run(shipshape(dir.path()).args(["scan", "/no/such/dir"]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("/no/such/dir"), "{err}");
    let (code, _) = run(shipshape(dir.path()).arg("scan").arg(repo.path()).args(["--format", "yaml"]));
    assert_eq!(code, 2, "clap rejects an unknown format");
}

/// Shipshape must score gold on itself (a fresh clone: node_modules and
/// build output are ignored by .gitignore).
#[test]
fn shipshape_scores_gold_on_its_own_repository() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let report = shipshape::analysis::analyze(root, &shipshape::analysis::Options::default()).unwrap();
    let failing: Vec<String> = report
        .checks
        .iter()
        .filter(|c| {
            c.outcome != shipshape::analysis::Outcome::Pass && c.outcome != shipshape::analysis::Outcome::NotApplicable
        })
        .map(|c| format!("{} ({:?}): {}", c.check_id, c.outcome, c.summary))
        .collect();
    assert_eq!(report.level, shipshape::analysis::Level::Gold, "{}\n{failing:#?}", report.level_reason);
}
