//! The database goes away under a running server: a private Postgres
//! cluster (so the shared one the other tests use stays up) is stopped in
//! the middle of scans and started again. The server stays alive, says
//! "not ready" while the database is gone, recovers by itself, and every
//! queued scan is recorded exactly once.

use crate::helpers::*;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};
use shipshape_testkit::GitRepo;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A throwaway Postgres cluster owned by the `postgres` user (initdb
/// refuses to run as root), listening on a free port.
struct PrivatePostgres {
    bin: PathBuf,
    data: PathBuf,
    port: u16,
    _dir: tempfile::TempDir,
}

impl PrivatePostgres {
    fn create() -> PrivatePostgres {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .expect("Postgres server binaries under /usr/lib/postgresql")
            .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
            .max()
            .expect("a Postgres version");
        let dir = tempfile::Builder::new().prefix("shipshape-pg-").tempdir().unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir(&data).unwrap();
        run(Command::new("chown").args(["-R", "postgres:postgres"]).arg(dir.path()));
        run(Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(bin.join("initdb"))
            .args(["--no-sync", "-A", "trust", "-U", "postgres", "-D"])
            .arg(&data));
        let pg = PrivatePostgres { bin, data, port: free_port(), _dir: dir };
        pg.start();
        pg
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    fn pg_ctl(&self, args: &[&str]) {
        let options = format!("-p {} -c listen_addresses=127.0.0.1 -k {}", self.port, self.data.display());
        run(Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(&self.data)
            .args(["-o", &options, "-l"])
            .arg(self.data.join("server.log"))
            .args(args));
    }

    fn start(&self) {
        self.pg_ctl(&["-w", "start"]);
    }

    /// `immediate`: the server dies as in a crash, connections cut.
    fn crash(&self) {
        self.pg_ctl(&["-m", "immediate", "-w", "stop"]);
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let _ = Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(&self.data)
            .args(["-m", "immediate", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

fn run(cmd: &mut Command) {
    let out = cmd.output().expect("run command");
    assert!(out.status.success(), "{cmd:?} failed: {}", String::from_utf8_lossy(&out.stderr));
}

async fn count(db: &DatabaseConnection, sql: &str) -> i64 {
    let row = db.query_one_raw(Statement::from_string(db.get_database_backend(), sql)).await.unwrap().unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

async fn wait_for(what: &str, limit: Duration, mut ok: impl AsyncFnMut() -> bool) {
    let started = Instant::now();
    while !ok().await {
        assert!(started.elapsed() < limit, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    eprintln!("{what}: {:.1} s", started.elapsed().as_secs_f64());
}

async fn status(client: &reqwest::Client, url: &str) -> Option<u16> {
    client.get(url).send().await.ok().map(|r| r.status().as_u16())
}

fn fixture(i: usize) -> GitRepo {
    let files: Vec<(String, String)> =
        (0..400).map(|n| (format!("svc/m{n}.py"), format!("def f{n}(x):\n    return x * {n}\n"))).collect();
    let repo = GitRepo::with_files(&[("README.md", &format!("# service {i}\n")), ("requirements.txt", "fastapi\n")]);
    let refs: Vec<(&str, &str)> = files.iter().map(|(p, c)| (p.as_str(), c.as_str())).collect();
    repo.write_all(&refs);
    repo.commit(shipshape_testkit::Commit::new("modules"));
    repo
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_restarted_during_scans_the_server_recovers_and_loses_nothing() {
    let pg = PrivatePostgres::create();
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let log = dir.path().join("stderr.log");
    let mut server = shipshape(dir.path())
        .args(["serve", "--role", "all"])
        .env("DATABASE_URL", pg.url())
        .env("SHIPSHAPE__SERVER__BIND", format!("127.0.0.1:{port}"))
        .env("SHIPSHAPE__SCHEDULER__ENABLED", "false")
        .env("SHIPSHAPE__SERVER__SHUTDOWN_TIMEOUT_SECS", "5")
        .env("SHIPSHAPE__WORKER__IDLE_SECS", "1")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("start shipshape serve");
    let client = reqwest::Client::builder().timeout(Duration::from_secs(3)).build().unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let server_log = || std::fs::read_to_string(&log).unwrap_or_default();
    wait_for("the server to be ready", Duration::from_secs(60), async || {
        status(&client, &format!("{base}/readyz")).await == Some(200)
    })
    .await;

    let db = Database::connect(pg.url()).await.unwrap();
    let repos: Vec<GitRepo> = (0..6).map(fixture).collect();
    let request = shipshape::jobs::scan_request::ScanRequest {
        trigger: shipshape::jobs::scan_request::ScanTrigger::Manual,
        commit_sha: None,
        requested_by: Some("test".into()),
    };
    for (i, repo) in repos.iter().enumerate() {
        let id = add_repository(&db, &format!("svc-{i}"), &repo.url()).await;
        shipshape::jobs::queue::enqueue_scan(&db, id, &request, chrono::Utc::now()).await.unwrap();
    }
    // Crash the database once the worker is busy with the first scans.
    wait_for("a scan to start", Duration::from_secs(30), async || {
        count(&db, "SELECT COUNT(*) FROM jobs WHERE status <> 'queued'").await > 0
    })
    .await;
    drop(db);
    pg.crash();

    wait_for("/readyz to say 503", Duration::from_secs(15), async || {
        status(&client, &format!("{base}/readyz")).await == Some(503)
    })
    .await;
    let body: serde_json::Value = client.get(format!("{base}/readyz")).send().await.unwrap().json().await.unwrap();
    assert_eq!(body["status"], "unavailable", "{body}");
    assert_eq!(status(&client, &format!("{base}/healthz")).await, Some(200), "the process itself is alive");
    // A few seconds of outage: the worker keeps failing to reach the queue.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(server.try_wait().unwrap().is_none(), "the server must survive the outage: {}", server_log());

    pg.start();
    wait_for("the server to recover by itself", Duration::from_secs(30), async || {
        status(&client, &format!("{base}/readyz")).await == Some(200)
    })
    .await;
    let db = Database::connect(pg.url()).await.unwrap();
    // A scan cut off by the crash keeps its lease (30 s at least); moving it
    // into the past stands in for waiting it out.
    db.execute_unprepared("UPDATE jobs SET lease_expires_at = NOW() - INTERVAL '1 second' WHERE status = 'running'")
        .await
        .unwrap();
    wait_for("every queued scan to finish", Duration::from_secs(120), async || {
        count(&db, "SELECT COUNT(*) FROM jobs WHERE status IN ('queued', 'running')").await == 0
    })
    .await;
    assert_eq!(count(&db, "SELECT COUNT(*) FROM jobs WHERE status = 'failed'").await, 0, "{}", server_log());
    assert_eq!(count(&db, "SELECT COUNT(DISTINCT repository_id) FROM scans WHERE status = 'succeeded'").await, 6);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM scans").await, 6, "one scan per repository: nothing doubled");
    let shapes = "SELECT COUNT(DISTINCT n) FROM (SELECT scan_id, COUNT(*) AS n FROM check_results GROUP BY scan_id) t";
    assert_eq!(count(&db, shapes).await, 1, "every scan has its full set of check results: none half-written");

    let kill = Command::new("kill").args(["-TERM", &server.id().to_string()]).status().unwrap();
    assert!(kill.success());
    assert!(server.wait().unwrap().success(), "clean exit after the outage: {}", server_log());
}
