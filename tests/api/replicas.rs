//! Scale-out: three real `shipshape serve` processes share one Postgres —
//! a `web` replica, a `worker` and an `all` — with the scheduler running
//! in two of them and the worker in two of them. Each cron slot fires
//! once, each queued scan runs once, and each role serves what it should.

use crate::helpers::*;
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use shipshape_testkit::GitRepo;
use std::fs::File;
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

struct Replica {
    role: &'static str,
    port: u16,
    child: Child,
    log: PathBuf,
}

impl Replica {
    fn start(db: &TestDb, role: &'static str) -> Replica {
        let port = free_port();
        let dir = db.dir.path().join(format!("replica-{role}"));
        std::fs::create_dir_all(&dir).unwrap();
        let log = dir.join("stderr.log");
        let child = shipshape(&dir)
            .args(["serve", "--role", role])
            .env("DATABASE_URL", &db.url)
            .env("SHIPSHAPE__SERVER__BIND", format!("127.0.0.1:{port}"))
            .env("SHIPSHAPE__SERVER__SHUTDOWN_TIMEOUT_SECS", "10")
            .env("SHIPSHAPE__WORKER__IDLE_SECS", "1")
            // Every other second, so several slots pass while the test runs.
            .env("SHIPSHAPE__SCHEDULER__SCAN_ALL", "*/2 * * * * *")
            .env("SHIPSHAPE__LOG__FORMAT", "json")
            .env("HOSTNAME", role)
            .stdout(Stdio::null())
            .stderr(File::create(&log).unwrap())
            .spawn()
            .expect("start shipshape serve");
        Replica { role, port, child, log }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    async fn wait_ready(&mut self, client: &reqwest::Client) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok(res) = client.get(self.url("/readyz")).send().await
                && res.status() == 200
            {
                return;
            }
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("{} replica exited early with {status}: {}", self.role, self.log_text());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{} replica never became ready: {}", self.role, self.log_text());
    }

    fn stop(&mut self) {
        let kill = std::process::Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().unwrap();
        assert!(kill.success());
        let status = self.child.wait().expect("wait");
        assert!(status.success(), "{} replica should exit 0 on SIGTERM, got {status}: {}", self.role, self.log_text());
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// JSON log lines whose message is `message` (and whose `job` field is
    /// `job`, when given).
    fn count_logged(&self, message: &str, job: Option<&str>) -> usize {
        self.log_text()
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|v| v["message"] == message)
            .filter(|v| job.is_none_or(|j| v["job"] == j))
            .count()
    }
}

async fn count(db: &DatabaseConnection, sql: &str) -> i64 {
    let row = db.query_one_raw(Statement::from_string(db.get_database_backend(), sql)).await.unwrap().unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_replicas_on_one_postgres_fire_each_slot_once_and_run_each_scan_once() {
    let db = TestDb::new(Backend::Postgres).await;
    let conn = db.connect().await;
    let repos: Vec<GitRepo> = (0..6)
        .map(|i| {
            GitRepo::with_files(&[
                ("README.md", &format!("# service {i}\n")),
                ("app.py", "from fastapi import FastAPI\napp = FastAPI()\n"),
                ("requirements.txt", "fastapi==0.110.0\n"),
            ])
        })
        .collect();
    // Migrations run in the first replica; repositories go in once it is up.
    let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
    let mut web = Replica::start(&db, "web");
    web.wait_ready(&client).await;
    for (i, repo) in repos.iter().enumerate() {
        add_repository(&conn, &format!("svc-{i}"), &repo.url()).await;
    }
    let mut worker = Replica::start(&db, "worker");
    let mut all = Replica::start(&db, "all");
    worker.wait_ready(&client).await;
    all.wait_ready(&client).await;

    // Let several cron slots pass and every repository get scanned.
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let slots = count(&conn, "SELECT COUNT(*) FROM schedule_runs WHERE job = 'scan_all'").await;
        let scanned = count(&conn, "SELECT COUNT(DISTINCT repository_id) FROM scans WHERE status = 'succeeded'").await;
        if slots >= 4 && scanned == repos.len() as i64 {
            break;
        }
        assert!(Instant::now() < deadline, "after 90 s: {slots} slots, {scanned} repositories scanned");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }

    // What each role serves, checked while all three run.
    assert_eq!(client.get(worker.url("/healthz")).send().await.unwrap().status(), 200);
    assert_eq!(client.get(worker.url("/readyz")).send().await.unwrap().status(), 200);

    for r in [&mut web, &mut worker, &mut all] {
        r.stop();
    }

    // Each cron slot ran exactly once across the two schedulers, including
    // one claimed while its replica was stopping: a replica finishes the
    // slot it claimed, or releases the claim (the row goes) if it cannot.
    let slots = count(&conn, "SELECT COUNT(*) FROM schedule_runs WHERE job = 'scan_all'").await as usize;
    let fired: usize = ["scheduled job ran", "scheduled job failed"]
        .iter()
        .map(|m| web.count_logged(m, Some("scan_all")) + all.count_logged(m, Some("scan_all")))
        .sum();
    assert_eq!(fired, slots, "{fired} runs for {slots} claimed slots");
    let seconds =
        count(&conn, "SELECT COUNT(DISTINCT date_trunc('second', slot)) FROM schedule_runs WHERE job = 'scan_all'")
            .await as usize;
    assert_eq!(seconds, slots, "two replicas claimed one cron second as different slots");
    assert_eq!(worker.count_logged("scheduled job ran", None), 0, "a worker replica runs no scheduler");

    // Each scan job ran exactly once across the two workers.
    let recorded = worker.count_logged("scan recorded", None) + all.count_logged("scan recorded", None);
    let scans = count(&conn, "SELECT COUNT(*) FROM scans WHERE status = 'succeeded'").await as usize;
    let jobs = count(&conn, "SELECT COUNT(*) FROM jobs WHERE kind = 'scan' AND status = 'succeeded'").await as usize;
    assert_eq!(recorded, scans, "each recorded scan is one row");
    assert_eq!(scans, jobs, "one scan per finished job: none ran twice");
    let retried = count(&conn, "SELECT COUNT(*) FROM jobs WHERE status = 'succeeded' AND attempts <> 1").await;
    assert_eq!(retried, 0, "no job was claimed twice");
    assert_eq!(web.count_logged("scan recorded", None), 0, "a web replica runs no scans");
    eprintln!(
        "{slots} cron slots; {scans} scans: worker {}, all {}",
        worker.count_logged("scan recorded", None),
        all.count_logged("scan recorded", None)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_mid_scan_loses_nothing_another_takes_the_job_over() {
    let db = TestDb::new(Backend::Postgres).await;
    let conn = db.connect().await;
    // Big enough that checkout and analysis take a while in a debug build,
    // so the kill lands mid-scan (asserted below, not assumed).
    let repo = GitRepo::with_files(&[("README.md", "# big service\n"), ("requirements.txt", "fastapi==0.110.0\n")]);
    let files: Vec<(String, String)> = (0..3000)
        .map(|i| (format!("pkg/m{}/mod_{i}.py", i / 200), format!("def f{i}(x):\n    return x + {i}\n")))
        .collect();
    let refs: Vec<(&str, &str)> = files.iter().map(|(p, c)| (p.as_str(), c.as_str())).collect();
    repo.write_all(&refs);
    repo.commit(shipshape_testkit::Commit::new("many modules"));

    let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
    let mut victim = Replica::start(&db, "worker");
    victim.wait_ready(&client).await;
    let id = add_repository(&conn, "big", &repo.url()).await;
    let request = shipshape::jobs::scan_request::ScanRequest {
        trigger: shipshape::jobs::scan_request::ScanTrigger::Manual,
        commit_sha: None,
        requested_by: Some("test".into()),
    };
    shipshape::jobs::queue::enqueue_scan(&conn, id, &request, chrono::Utc::now()).await.unwrap();

    let enqueued_at = Instant::now();
    let deadline = Instant::now() + Duration::from_secs(30);
    while count(&conn, "SELECT COUNT(*) FROM jobs WHERE status = 'running'").await == 0 {
        assert!(Instant::now() < deadline, "the worker never claimed the job: {}", victim.log_text());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    eprintln!("claimed {:?} after enqueue", enqueued_at.elapsed());
    victim.child.kill().unwrap(); // SIGKILL: no cleanup, no lease release
    let killed_at = Instant::now();
    victim.child.wait().unwrap();
    assert_eq!(
        count(&conn, "SELECT COUNT(*) FROM jobs WHERE status = 'running'").await,
        1,
        "the kill must land mid-scan; the job finished first: {}",
        victim.log_text()
    );
    assert_eq!(count(&conn, "SELECT COUNT(*) FROM scans").await, 0, "nothing of the killed scan was written");

    // The lease (30 s minimum) runs out; moving it into the past stands in
    // for waiting it out.
    conn.execute_unprepared("UPDATE jobs SET lease_expires_at = NOW() - INTERVAL '1 second' WHERE status = 'running'")
        .await
        .unwrap();
    let mut rescuer = Replica::start(&db, "worker");
    rescuer.wait_ready(&client).await;
    let deadline = Instant::now() + Duration::from_secs(120);
    while count(&conn, "SELECT COUNT(*) FROM jobs WHERE status = 'succeeded'").await == 0 {
        assert!(Instant::now() < deadline, "the job was never taken over: {}", rescuer.log_text());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    rescuer.stop();
    eprintln!("taken over and finished {:?} after the kill", killed_at.elapsed());
    assert_eq!(count(&conn, "SELECT COUNT(*) FROM scans").await, 1, "exactly one scan row");
    assert_eq!(count(&conn, "SELECT COUNT(*) FROM scans WHERE status = 'succeeded'").await, 1);
    let attempts = count(&conn, "SELECT CAST(attempts AS BIGINT) FROM jobs").await;
    let why: Option<String> = conn
        .query_one_raw(sea_orm::Statement::from_string(conn.get_database_backend(), "SELECT last_error FROM jobs"))
        .await
        .unwrap()
        .and_then(|r| r.try_get::<Option<String>>("", "last_error").ok().flatten());
    assert_eq!(
        attempts,
        2,
        "the killed attempt and the one that finished; a failed one in between: {why:?}\n{}",
        rescuer.log_text()
    );
    let check_results = count(&conn, "SELECT COUNT(*) FROM check_results").await;
    let distinct = count(&conn, "SELECT COUNT(DISTINCT check_id) FROM check_results").await;
    assert_eq!(check_results, distinct, "no duplicate check results");
}
