//! The weekly digest end to end: a week of history from real scans of real
//! git repositories, mailed over a real SMTP conversation to aiosmtpd (a
//! local SMTP server from PyPI, see .ci/smtp-sink), read back as MIME.

use crate::helpers::*;
use crate::history::{FROM_ENV, REQS, WILDCARD, commit_and_scan};
use crate::on_both_databases;
use chrono::{DateTime, Duration, Utc};
use mail_parser::{MessageParser, MimeHeaders};
use migration::{Migrator, MigratorTrait};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};
use shipshape::config::Settings;
use shipshape::db::entities::{findings, repositories, teams};
use shipshape::digest::Digests;
use shipshape::digest::period::Week;
use shipshape::jobs::worker::{JobOutcome, run_once_at};
use shipshape::store::{ScanMeta, record_failure};
use shipshape_testkit::GitRepo;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

const ORG: [&str; 2] = ["cto@example.com", "ops@example.com"];
const TEAM: &str = "platform-lead@example.com";
const PUBLIC_URL: &str = "https://ship.example.com";

/// aiosmtpd storing every message it accepts in a maildir.
struct SmtpSink {
    child: Child,
    maildir: PathBuf,
    _dir: tempfile::TempDir,
}

impl SmtpSink {
    fn start(port: u16) -> SmtpSink {
        let python = std::env::var("SHIPSHAPE_TEST_SMTP_PYTHON").unwrap_or_else(|_| {
            format!("{}/.cache/shipshape-smtp-venv/bin/python", std::env::var("HOME").unwrap_or_default())
        });
        assert!(
            std::path::Path::new(&python).exists(),
            "{python} is missing: run `bash .ci/smtp-sink` (bash .ci/test does) to install aiosmtpd"
        );
        let dir = tempfile::tempdir().unwrap();
        let maildir = dir.path().join("mail");
        let child = Command::new(&python)
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}"), "-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&maildir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start aiosmtpd");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(std::time::Instant::now() < deadline, "aiosmtpd did not start listening on {port}");
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        SmtpSink { child, maildir, _dir: dir }
    }

    /// Every message received so far, as (envelope recipients, raw bytes).
    fn messages(&self) -> Vec<(Vec<String>, Vec<u8>)> {
        let mut out = Vec::new();
        for sub in ["new", "cur"] {
            let Ok(entries) = std::fs::read_dir(self.maildir.join(sub)) else { continue };
            for entry in entries {
                let raw = std::fs::read(entry.unwrap().path()).unwrap();
                let parsed = MessageParser::default().parse(&raw).expect("a MIME message");
                let rcpt = parsed.header_raw("X-RcptTo").unwrap_or_default();
                let to = rcpt.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
                out.push((to, raw));
            }
        }
        out
    }

    /// Envelope recipients of every message, sorted.
    fn recipients(&self) -> Vec<String> {
        let mut all: Vec<String> = self.messages().into_iter().flat_map(|(to, _)| to).collect();
        all.sort();
        all
    }

    /// The one message to `to`.
    fn message_to(&self, to: &str) -> Vec<u8> {
        let mut found: Vec<Vec<u8>> =
            self.messages().into_iter().filter(|(rcpt, _)| rcpt.iter().any(|r| r == to)).map(|(_, raw)| raw).collect();
        assert_eq!(found.len(), 1, "exactly one mail to {to}");
        found.remove(0)
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Test settings that mail through 127.0.0.1:`port` to the org and the platform team.
fn settings(db: &TestDb, port: u16) -> Settings {
    test_settings_with(db, |f| {
        f.merge(("server.public_url", PUBLIC_URL))
            .merge(("smtp.host", "127.0.0.1"))
            .merge(("smtp.port", port))
            .merge(("smtp.tls", "none"))
            .merge(("smtp.timeout_secs", 5))
            .merge(("smtp.from", "Shipshape <digest@example.com>"))
            .merge(("digest.recipients", ORG.to_vec()))
            .merge(("digest.teams.platform", vec![TEAM]))
    })
}

async fn migrated(backend: Backend) -> (TestDb, DatabaseConnection) {
    let tdb = TestDb::new(backend).await;
    let db = tdb.connect().await;
    Migrator::up(&db, None).await.unwrap();
    (tdb, db)
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The fixture repositories, kept alive while the test runs.
struct History {
    _repos: Vec<GitRepo>,
    /// The cors-wildcard finding that opened in acme/api during the week.
    opened: i32,
}

/// A week of history ending with `week`, scanned from real git repositories:
/// acme/api (team platform) regresses with a wildcard CORS opened, acme/web
/// improves by fixing it, and acme/legacy last scanned a month ago fails now.
async fn week_of_history(db: &DatabaseConnection, week: Week) -> History {
    let now = shipshape::db::db_time(Utc::now());
    let team = teams::ActiveModel {
        slug: Set("platform".into()),
        name: Set("Platform".into()),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
    let env_example = (".env.example", "ORIGINS=https://app.example.com\n");
    let before = week.start() - Duration::days(4);

    let api_id = add_repository(db, "api", "file:///acme/api").await;
    let mut api: repositories::ActiveModel =
        repositories::Entity::find_by_id(api_id).one(db).await.unwrap().unwrap().into();
    api.team_id = Set(Some(team.id));
    api.update(db).await.unwrap();
    let api = GitRepo::new();
    api.write_all(&[("requirements.txt", REQS), ("app/main.py", FROM_ENV), env_example]);
    commit_and_scan(db, api_id, &api, "origins from env", &rfc3339(before)).await;
    api.write("app/main.py", WILDCARD);
    let opened =
        commit_and_scan(db, api_id, &api, "allow every origin", &rfc3339(week.start() + Duration::days(1))).await;
    assert_eq!(opened.opened, 1, "{opened:?}");

    let web_id = add_repository(db, "web", "file:///acme/web").await;
    let web = GitRepo::new();
    web.write_all(&[("requirements.txt", REQS), ("app/main.py", WILDCARD), env_example]);
    commit_and_scan(db, web_id, &web, "first version", &rfc3339(before)).await;
    web.write("app/main.py", FROM_ENV);
    let fixed = commit_and_scan(db, web_id, &web, "origins from env", &rfc3339(week.start() + Duration::days(2))).await;
    assert_eq!(fixed.fixed, 1, "{fixed:?}");

    let legacy_id = add_repository(db, "legacy", "file:///acme/legacy").await;
    let legacy = GitRepo::new();
    legacy.write_all(&[("requirements.txt", REQS), ("app/main.py", FROM_ENV)]);
    commit_and_scan(db, legacy_id, &legacy, "long ago", &rfc3339(week.start() - Duration::days(30))).await;
    let failed_at = week.start() + Duration::days(3);
    let meta = ScanMeta {
        repository_id: legacy_id,
        commit_sha: None,
        trigger: "schedule",
        queued_at: failed_at,
        started_at: failed_at,
        finished_at: failed_at,
        github_api_calls: None,
    };
    record_failure(db, &meta, "git clone failed: repository not found").await.unwrap();

    let opened = findings::Entity::find()
        .filter(findings::Column::RepositoryId.eq(api_id))
        .filter(findings::Column::CheckId.eq("cors-wildcard"))
        .one(db)
        .await
        .unwrap()
        .expect("the opened finding")
        .id;
    History { _repos: vec![api, web, legacy], opened }
}

struct Parsed {
    subject: String,
    text: String,
    html: String,
    chart: Vec<u8>,
    chart_cid: String,
    list_unsubscribe: String,
}

fn parse(raw: &[u8]) -> Parsed {
    let m = MessageParser::default().parse(raw).expect("a MIME message");
    let chart =
        m.attachments().find(|p| p.content_type().is_some_and(|c| c.ctype() == "image")).expect("an image part");
    Parsed {
        subject: m.subject().unwrap_or_default().to_string(),
        text: m.body_text(0).expect("a text/plain part").into_owned(),
        html: m.body_html(0).expect("a text/html part").into_owned(),
        chart: chart.contents().to_vec(),
        chart_cid: chart.content_id().unwrap_or_default().to_string(),
        list_unsubscribe: m.header_raw("List-Unsubscribe").unwrap_or_default().trim().to_string(),
    }
}

/// The unsubscribe URL of a mail (the one in the text part).
fn unsubscribe_url(p: &Parsed) -> String {
    let at = p.text.find("Unsubscribe: ").expect("an unsubscribe line") + "Unsubscribe: ".len();
    p.text[at..].lines().next().unwrap().trim().to_string()
}

on_both_databases! {
    async fn the_digest_of_a_real_week_is_mailed_with_both_parts_the_chart_links_and_unsubscribe(backend) {
        let port = free_port();
        let sink = SmtpSink::start(port);
        let app = {
            let tdb = TestDb::new(backend).await;
            let s = settings(&tdb, port);
            spawn_app_on(tdb, s).await
        };
        let s = settings(&app.test_db, port);
        let week = Week::last_complete(Utc::now());
        let history = week_of_history(&app.db, week).await;
        let digests = Digests::new(&s).unwrap();

        let done = digests.send_week(&app.db, &s, week, "test").await.unwrap();
        assert_eq!((done.sent, done.remaining), (3, 0), "{done:?}");
        assert_eq!(sink.recipients(), vec![ORG[0], ORG[1], TEAM]);

        let org = parse(&sink.message_to(ORG[1]));
        assert!(org.subject.starts_with(&format!("[Shipshape] All repositories {week}: score ")), "{}", org.subject);
        for part in [&org.text, &org.html] {
            // Regression, improvement, the opened and fixed finding, the failing and stale repository.
            for needed in ["acme/api", "acme/web", "acme/legacy", "git clone failed: repository not found", "last successful scan", "CORS"] {
                assert!(part.contains(needed), "{needed} missing in:\n{part}");
            }
            assert!(part.contains(&format!("{PUBLIC_URL}/repos/acme/api")), "{part}");
            assert!(part.contains(&format!("{PUBLIC_URL}/findings/{}", history.opened)), "{part}");
        }
        let regressions = &org.text[org.text.find("Biggest regressions:").expect("a regressions section")..];
        assert!(regressions.lines().nth(1).unwrap().contains("acme/api"), "{regressions}");
        let improvements = &org.text[org.text.find("Biggest improvements:").expect("an improvements section")..];
        assert!(improvements.lines().nth(1).unwrap().contains("acme/web"), "{improvements}");
        let new = &org.text[org.text.find("New critical and high findings (1):").expect("one new finding")..];
        assert!(new.lines().nth(1).unwrap().starts_with("  [high]"), "{new}");
        assert!(org.text.contains("Fixed (1):"), "{}", org.text);
        assert!(org.text.contains("acme/legacy: latest scan failed") && org.text.contains("acme/legacy: stale"), "{}", org.text);
        // The chart is an inline PNG the HTML refers to; the table carries the same numbers.
        assert_eq!(&org.chart[..8], b"\x89PNG\r\n\x1a\n");
        assert!(org.html.contains(&format!("src=\"cid:{}\"", org.chart_cid)), "{}", org.html);
        assert!(org.html.contains(&week.to_string()));
        let unsubscribe = unsubscribe_url(&org);
        assert!(unsubscribe.starts_with(&format!("{PUBLIC_URL}/digest/unsubscribe/")), "{unsubscribe}");
        assert!(org.html.contains(&unsubscribe));
        assert_eq!(org.list_unsubscribe, format!("<{unsubscribe}>"));
        assert_ne!(unsubscribe, unsubscribe_url(&parse(&sink.message_to(ORG[0]))), "each recipient has their own link");

        // The team's digest covers only the team's repository.
        let team = parse(&sink.message_to(TEAM));
        assert!(team.subject.contains("Team Platform"), "{}", team.subject);
        assert!(team.text.contains("acme/api") && !team.text.contains("acme/web"), "{}", team.text);

        // Sending the week again mails no one: the week is claimed and delivered.
        let again = digests.send_week(&app.db, &s, week, "test-2").await.unwrap();
        assert_eq!((again.sent, sink.messages().len()), (0, 3));

        // The link works without logging in: GET asks, POST unsubscribes.
        let path = unsubscribe.trim_start_matches(PUBLIC_URL);
        let page = app.get(path).await;
        assert_eq!(page.status(), 200);
        assert!(page.text().await.unwrap().contains("Unsubscribe from the weekly digest?"));
        let done = reqwest::Client::new().post(app.url(path)).send().await.unwrap();
        assert_eq!(done.status(), 200);
        assert!(done.text().await.unwrap().contains("You are unsubscribed"));
        assert_eq!(app.get("/digest/unsubscribe/not-a-token").await.status(), 404);

        // The next digest skips the unsubscribed recipient.
        let next = digests.send_week(&app.db, &s, week.previous(), "test").await.unwrap();
        assert_eq!(next.sent, 2, "{next:?}");
        let count = |to: &str| sink.recipients().iter().filter(|r| *r == to).count();
        assert_eq!((count(ORG[1]), count(ORG[0]), count(TEAM)), (1, 2, 2));
    }

    async fn two_senders_and_two_schedulers_racing_mail_each_recipient_once(backend) {
        let port = free_port();
        let sink = SmtpSink::start(port);
        let (tdb, db) = migrated(backend).await;
        let s = settings(&tdb, port);
        let (a, b) = (Digests::new(&s).unwrap(), Digests::new(&s).unwrap());
        let week = Week::last_complete(Utc::now());
        let (x, y) = tokio::join!(a.send_week(&db, &s, week, "replica-a"), b.send_week(&db, &s, week, "replica-b"));
        let (x, y) = (x.unwrap(), y.unwrap());
        assert_eq!(x.sent + y.sent, 3, "{x:?} {y:?}");
        assert_eq!(sink.recipients(), vec![ORG[0], ORG[1], TEAM]);

        // Two replicas' schedulers fire for the next week's slot: one claims it, the workers send once.
        let monday = week.end() + Duration::days(7) + Duration::hours(8);
        let s = Arc::new(s);
        let (ra, rb) = tokio::join!(
            shipshape::scheduler::catch_up(&db, &s, "replica-a", monday),
            shipshape::scheduler::catch_up(&db, &s, "replica-b", monday)
        );
        let ran: Vec<_> = [ra.unwrap(), rb.unwrap()].concat();
        assert_eq!(ran.iter().filter(|t| **t == shipshape::scheduler::Task::Digest).count(), 1, "{ran:?}");
        let dir = tempfile::tempdir().unwrap();
        let worker = |id: &str| shipshape::jobs::worker::WorkerConfig {
            id: id.into(),
            digests: Some(Arc::new(Digests::new(&s).unwrap())),
            ..crate::helpers::worker_config(dir.path(), 100)
        };
        let (w1, w2) = (worker("w1"), worker("w2"));
        loop {
            let (o1, o2) = tokio::join!(run_once_at(&db, &w1, monday), run_once_at(&db, &w2, monday));
            if o1.unwrap().is_none() && o2.unwrap().is_none() {
                break;
            }
        }
        let mut twice: Vec<String> = [ORG[0], ORG[1], TEAM].iter().flat_map(|r| [r.to_string(), r.to_string()]).collect();
        twice.sort();
        assert_eq!(sink.recipients(), twice, "each recipient got one mail per week");
    }

    async fn a_run_waits_out_an_smtp_outage_and_then_mails_each_recipient_once(backend) {
        let port = free_port(); // nothing listens there yet
        let (tdb, db) = migrated(backend).await;
        let s = settings(&tdb, port);
        let now = Utc::now();
        let runs = shipshape::digest::schedule(&db, &s, "replica-a", now).await.unwrap();
        assert_eq!(runs.len(), 2, "the org's and the platform team's");
        let dir = tempfile::tempdir().unwrap();
        let cfg = shipshape::jobs::worker::WorkerConfig {
            digests: Some(Arc::new(Digests::new(&s).unwrap())),
            ..crate::helpers::worker_config(dir.path(), 100)
        };
        for _ in &runs {
            let outcome = run_once_at(&db, &cfg, now).await.unwrap().expect("a digest job ran");
            assert!(
                matches!(&outcome, JobOutcome::Failed { outcome: shipshape::jobs::queue::FailOutcome::Retrying { .. }, error } if error.contains("not sent")),
                "{outcome:?}"
            );
        }
        assert!(run_once_at(&db, &cfg, now).await.unwrap().is_none(), "the retry waits for its back-off");
        let pending = db
            .query_one_raw(sea_orm::Statement::from_string(
                db.get_database_backend(),
                "SELECT COUNT(*) AS n FROM digest_deliveries WHERE status = 'pending' AND last_error IS NOT NULL AND attempts = 1",
            ))
            .await
            .unwrap()
            .unwrap()
            .try_get::<i64>("", "n")
            .unwrap();
        assert_eq!(pending, 3, "every delivery is pending with the SMTP error");

        let sink = SmtpSink::start(port);
        let later = now + Duration::minutes(2);
        let mut sent = 0;
        while let Some(outcome) = run_once_at(&db, &cfg, later).await.unwrap() {
            match outcome {
                JobOutcome::Digested { sent: n, .. } => sent += n,
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(sent, 3);
        assert_eq!(sink.recipients(), vec![ORG[0], ORG[1], TEAM]);
        assert!(run_once_at(&db, &cfg, later + Duration::hours(2)).await.unwrap().is_none(), "nothing left to retry");
    }
}

/// The admin's preview and "send test", and adding a recipient, over HTTP.
#[tokio::test]
async fn admins_preview_the_digest_send_a_test_and_add_recipients() {
    let port = free_port();
    let sink = SmtpSink::start(port);
    let app = {
        let tdb = TestDb::new(Backend::Sqlite).await;
        let s = settings(&tdb, port);
        spawn_app_on(tdb, s).await
    };
    let week = Week::last_complete(Utc::now());
    let _history = week_of_history(&app.db, week).await;

    let preview = app.get("/admin/digest/preview?scope=team:platform").await;
    assert_eq!(preview.status(), 200);
    let csp = preview.headers()["content-security-policy"].to_str().unwrap().to_string();
    assert!(csp.contains("style-src 'unsafe-inline'") && csp.contains("img-src data:"), "{csp}");
    let body = preview.text().await.unwrap();
    assert!(body.contains("Team Platform") && body.contains("acme/api") && !body.contains("acme/web"));
    assert!(body.contains("src=\"data:image/png;base64,"), "the chart is inline in the preview");
    assert_eq!(app.get("/admin/digest/preview?scope=nonsense").await.status(), 400);

    let sent =
        app.post("/admin/digest/test").form(&[("scope", "org"), ("email", "me@example.com")]).send().await.unwrap();
    assert_eq!(sent.status(), 303);
    let test_mail = parse(&sink.message_to("me@example.com"));
    assert!(test_mail.subject.starts_with("[test] [Shipshape] All repositories"), "{}", test_mail.subject);
    assert!(
        test_mail.list_unsubscribe.is_empty() && !test_mail.text.contains("Unsubscribe:"),
        "a test has no subscription"
    );

    let bad = app
        .post("/admin/digest/recipients")
        .form(&[("scope", "org"), ("email", "not an address")])
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    let added = app
        .post("/admin/digest/recipients")
        .form(&[("scope", "team:platform"), ("email", "New@Example.com")])
        .send()
        .await
        .unwrap();
    assert_eq!(added.status(), 303);
    let page = app.get("/admin/digest").await.text().await.unwrap();
    assert!(page.contains("new@example.com") && page.contains("admin page"), "{page}");
    let s = settings(&app.test_db, port);
    let done = Digests::new(&s).unwrap().send_week(&app.db, &s, week, "test").await.unwrap();
    assert_eq!(done.sent, 4, "the configured three and the one added on the admin page");
    assert!(sink.recipients().contains(&"new@example.com".to_string()));
}

/// `shipshape digest --dry-run` prints the digest without mailing anyone;
/// `--send` mails the week's digests once.
#[tokio::test]
async fn the_cli_prints_the_digest_on_a_dry_run_and_sends_it_once() {
    let (tdb, db) = migrated(Backend::Sqlite).await;
    let week = Week::last_complete(Utc::now());
    let history = week_of_history(&db, week).await;
    let port = free_port();
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_shipshape"))
            .current_dir(tdb.dir.path())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("DATABASE_URL", &tdb.url)
            .env("SHIPSHAPE__SERVER__PUBLIC_URL", PUBLIC_URL)
            .env("SHIPSHAPE__LOG__LEVEL", "error")
            .env("SHIPSHAPE__SMTP__HOST", "127.0.0.1")
            .env("SHIPSHAPE__SMTP__PORT", port.to_string())
            .env("SHIPSHAPE__SMTP__TLS", "none")
            .env("SHIPSHAPE__DIGEST__RECIPIENTS", format!("[\"{}\"]", ORG[1]))
            .arg("digest")
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    let text = run(&["--dry-run"]);
    assert!(text.starts_with(&format!("Subject: [Shipshape] All repositories {week}: score ")), "{text}");
    assert!(text.contains(&format!("{PUBLIC_URL}/findings/{}", history.opened)), "{text}");
    assert!(text.contains("acme/legacy: latest scan failed") && !text.contains("Unsubscribe:"), "{text}");
    let team = run(&["--dry-run", "--team", "platform"]);
    assert!(team.contains("Team Platform") && team.contains("acme/api") && !team.contains("acme/web"), "{team}");
    let html = run(&["--dry-run", "--html", "--week", &week.to_string()]);
    assert!(html.starts_with("<!DOCTYPE html>") && html.contains("data:image/png;base64,"), "{html}");
    // Nothing was mailed or claimed.
    let runs = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT COUNT(*) AS n FROM digest_runs",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<i64>("", "n")
        .unwrap();
    assert_eq!(runs, 0);

    let sink = SmtpSink::start(port);
    assert!(run(&["--send"]).contains(&format!("digest {week}: 1 sent")));
    assert!(run(&["--send"]).contains(&format!("digest {week}: 0 sent")), "the week was sent already");
    assert_eq!(sink.recipients(), vec![ORG[1]]);
    assert!(parse(&sink.message_to(ORG[1])).text.contains("acme/legacy: latest scan failed"));

    let bad = Command::new(env!("CARGO_BIN_EXE_shipshape"))
        .args(["digest", "--dry-run", "--week", "2026-47"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("2026-W47"), "the error shows the expected form");
}
