//! Outgoing notifications end to end: real git repositories scanned through
//! the app's rescan route and the queue, real HTTP receivers on local ports
//! that check what a receiver would check (the HMAC signature over the raw
//! body, the headers, Slack's message shape), on both databases.
//!
//! Every fixture repository starts at bronze (a FastAPI app with a test);
//! committing a hard-coded AWS key drops it to not-ready with a new
//! critical finding, and removing the key brings it back to bronze.

use crate::helpers::*;
use crate::on_both_databases;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use hmac::{Hmac, KeyInit, Mac};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde_json::{Value, json};
use sha2::Sha256;
use shipshape::config::Environment;
use shipshape::db::entities::notification_deliveries::{self as deliveries, DeliveryStatus, NotifyEvent};
use shipshape::db::entities::{repositories, scans, teams};
use shipshape::jobs::worker::{JobOutcome, WorkerConfig, run_once};
use shipshape::notify::Notifier;
use shipshape_testkit::{Commit, GitRepo};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const SECRET: &str = "a shared secret for the receiver";
const AWS_KEY: [&str; 2] = ["AKIA", "Z7QH3M2KXW4TLP9V"];

// ---------------------------------------------------------------- receivers

/// What a receiver got: headers (lower-case names) and the raw body.
#[derive(Debug, Clone)]
struct Received {
    headers: HashMap<String, String>,
    body: Vec<u8>,
}

impl Received {
    fn header(&self, name: &str) -> &str {
        self.headers.get(name).map(String::as_str).unwrap_or_default()
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("the body is JSON")
    }

    /// The check a receiver makes: HMAC-SHA256 of the raw body with the
    /// shared secret, compared in constant time with `sha256=<hex>`.
    fn signed_with(&self, secret: &str) -> bool {
        let Some(hex_digest) = self.header("x-shipshape-signature-256").strip_prefix("sha256=") else { return false };
        let Ok(expected) = hex::decode(hex_digest) else { return false };
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(&self.body);
        mac.verify_slice(&expected).is_ok()
    }
}

#[derive(Clone, Copy)]
enum Behaviour {
    /// 200 to everything.
    Accept,
    /// 500 to the first `n` requests, then 200.
    FailFirst(usize),
    /// Never answers.
    Hang,
}

struct ReceiverState {
    behaviour: Behaviour,
    got: Mutex<Vec<Received>>,
}

/// An HTTP server on a local port that records every request.
struct Receiver {
    url: String,
    state: Arc<ReceiverState>,
    handle: actix_web::dev::ServerHandle,
}

async fn receive(req: HttpRequest, body: web::Bytes, state: web::Data<ReceiverState>) -> HttpResponse {
    let headers = req
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_ascii_lowercase(), v.to_str().unwrap_or_default().to_string()))
        .collect();
    let n = {
        let mut got = state.got.lock().unwrap();
        got.push(Received { headers, body: body.to_vec() });
        got.len()
    };
    match state.behaviour {
        Behaviour::Accept => HttpResponse::Ok().body("ok"),
        Behaviour::FailFirst(k) if n <= k => HttpResponse::InternalServerError().body("receiver is deploying"),
        Behaviour::FailFirst(_) => HttpResponse::Ok().body("ok"),
        Behaviour::Hang => {
            tokio::time::sleep(Duration::from_secs(120)).await;
            HttpResponse::Ok().finish()
        }
    }
}

impl Receiver {
    async fn start(behaviour: Behaviour) -> Receiver {
        Receiver::on(std::net::TcpListener::bind("127.0.0.1:0").unwrap(), behaviour)
    }

    fn on(listener: std::net::TcpListener, behaviour: Behaviour) -> Receiver {
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(ReceiverState { behaviour, got: Mutex::new(Vec::new()) });
        let data = web::Data::from(state.clone());
        let server = HttpServer::new(move || App::new().app_data(data.clone()).default_service(web::to(receive)))
            .workers(1)
            .disable_signals()
            .shutdown_timeout(0)
            .listen(listener)
            .unwrap()
            .run();
        let handle = server.handle();
        tokio::spawn(server);
        Receiver { url: format!("http://127.0.0.1:{port}/hooks/shipshape"), state, handle }
    }

    fn requests(&self) -> Vec<Received> {
        self.state.got.lock().unwrap().clone()
    }

    /// The first `n` requests, waiting up to 20 s for them.
    async fn wait_for(&self, n: usize) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let got = self.requests();
            if got.len() >= n {
                return got;
            }
            assert!(Instant::now() < deadline, "expected {n} requests, got {}: {got:?}", got.len());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let handle = self.handle.clone();
        tokio::spawn(async move { handle.stop(false).await });
    }
}

// ------------------------------------------------------------------- set-up

/// The environment the channel URLs and secrets are read from.
struct Vars(HashMap<String, String>);

impl Environment for Vars {
    fn var(&self, name: &str) -> Option<String> {
        self.0.get(name).cloned()
    }
}

/// The app with `[notify]` set to `notify` (a JSON table) and `vars` as
/// its environment.
async fn app_with(backend: Backend, notify: Value, vars: &[(&str, &str)]) -> TestApp {
    let tdb = TestDb::new(backend).await;
    let env = Vars(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect());
    let settings =
        test_settings_custom(&tdb, &env, |f| f.merge(figment::providers::Serialized::default("notify", notify)));
    spawn_app_on(tdb, settings).await
}

fn notify(channels: Value) -> Value {
    json!({ "timeout_secs": 5, "max_attempts": 3, "retry_secs": 0, "channels": channels })
}

/// The worker the app would run, with its notifier.
fn worker(app: &TestApp) -> WorkerConfig {
    WorkerConfig {
        notify: Some(Arc::new(Notifier::new(&app.settings).expect("notifier"))),
        ..worker_config(&app.test_db.dir.path().join("cache"), 1000)
    }
}

/// A repository at bronze, tracked as acme/`name` in team `team`.
async fn bronze_repository(app: &TestApp, name: &str, team: Option<&str>) -> GitRepo {
    let remote = GitRepo::with_files(&[
        ("requirements.txt", "fastapi==0.115.0\nuvicorn==0.30.0\n"),
        ("app/main.py", "from fastapi import FastAPI\napp = FastAPI()\n"),
        ("tests/test_main.py", "def test_ok():\n    assert True\n"),
    ]);
    let id = add_repository(&app.db, name, &remote.url()).await;
    if let Some(slug) = team {
        let team = match teams::Entity::find().filter(teams::Column::Slug.eq(slug)).one(&app.db).await.unwrap() {
            Some(t) => t,
            None => teams::ActiveModel {
                slug: Set(slug.into()),
                name: Set(slug.to_uppercase()),
                created_at: Set(shipshape::db::db_time(chrono::Utc::now())),
                ..Default::default()
            }
            .insert(&app.db)
            .await
            .unwrap(),
        };
        let mut repo: repositories::ActiveModel =
            repositories::Entity::find_by_id(id).one(&app.db).await.unwrap().unwrap().into();
        repo.team_id = Set(Some(team.id));
        repo.update(&app.db).await.unwrap();
    }
    remote
}

/// Presses Rescan on the repository's page and lets the worker run the job;
/// returns the level the scan recorded.
async fn rescan(app: &TestApp, cfg: &WorkerConfig, name: &str) -> String {
    let response = app.post(&format!("/repos/acme/{name}/rescan")).send().await.unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::SEE_OTHER, "{:?}", response.text().await);
    let outcome = run_once(&app.db, cfg).await.unwrap().expect("the scan job ran");
    let JobOutcome::Scanned { scan_id, .. } = outcome else { panic!("{outcome:?}") };
    scans::Entity::find_by_id(scan_id).one(&app.db).await.unwrap().unwrap().level.unwrap()
}

fn leak_key(remote: &GitRepo) {
    remote.write("app/settings.py", format!("AWS_ACCESS_KEY_ID = \"{}\"\n", AWS_KEY.concat()));
    remote.commit(Commit::new("configure S3"));
}

fn remove_key(remote: &GitRepo) {
    remote.remove("app/settings.py");
    remote.commit(Commit::new("key from the environment"));
}

async fn rows(db: &DatabaseConnection) -> Vec<deliveries::Model> {
    deliveries::Entity::find().order_by_asc(deliveries::Column::Id).all(db).await.unwrap()
}

/// Waits up to 20 s until no delivery is still on its way.
async fn settled(db: &DatabaseConnection) -> Vec<deliveries::Model> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let all = rows(db).await;
        let busy = all
            .iter()
            .any(|r| matches!(r.status, DeliveryStatus::Pending | DeliveryStatus::Sending | DeliveryStatus::Retrying));
        if !busy {
            return all;
        }
        assert!(Instant::now() < deadline, "deliveries still in flight: {all:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn by_event(got: &[Received], event: &str) -> Received {
    got.iter()
        .find(|r| r.header("x-shipshape-event") == event)
        .cloned()
        .unwrap_or_else(|| panic!("no {event} in {got:?}"))
}

// -------------------------------------------------------------------- tests

on_both_databases! {
    async fn a_level_drop_and_a_leaked_key_reach_a_signed_webhook_and_slack(backend) {
        let hook = Receiver::start(Behaviour::Accept).await;
        let slack = Receiver::start(Behaviour::Accept).await;
        let app = app_with(backend, notify(json!([
            { "name": "audit-hook", "kind": "webhook", "url_env": "AUDIT_HOOK_URL", "secret_env": "AUDIT_HOOK_SECRET" },
            { "name": "platform-slack", "kind": "slack", "url_env": "SLACK_PLATFORM_URL" },
        ])), &[("AUDIT_HOOK_URL", &hook.url), ("AUDIT_HOOK_SECRET", SECRET), ("SLACK_PLATFORM_URL", &slack.url)]).await;
        let cfg = worker(&app);
        let remote = bronze_repository(&app, "api", Some("platform")).await;

        assert_eq!(rescan(&app, &cfg, "api").await, "bronze");
        assert!(rows(&app.db).await.is_empty(), "a first scan is the baseline: nothing to say yet");

        leak_key(&remote);
        assert_eq!(rescan(&app, &cfg, "api").await, "not-ready");
        let got = hook.wait_for(2).await;
        assert_eq!(got.len(), 2, "one level change and one new critical finding");
        for r in &got {
            assert!(r.signed_with(SECRET), "the signature verifies with the shared secret: {r:?}");
            assert!(!r.signed_with("another secret"));
            assert_eq!(r.header("content-type"), "application/json");
            assert_eq!(r.json()["delivery"], r.header("x-shipshape-delivery"));
            assert_eq!(r.json()["event"], r.header("x-shipshape-event"));
        }
        assert_ne!(got[0].header("x-shipshape-delivery"), got[1].header("x-shipshape-delivery"));

        let level = by_event(&got, "level_changed").json();
        assert_eq!(level["repository"]["full_name"], "acme/api");
        assert_eq!(level["repository"]["team"], "platform");
        assert_eq!(level["repository"]["url"], "http://127.0.0.1:8080/repos/acme/api");
        assert_eq!(level["level_change"]["from"], "bronze");
        assert_eq!(level["level_change"]["to"], "not-ready");
        assert_eq!(level["level_change"]["direction"], "down");
        assert_eq!(level["scan"]["commit"], remote.head());
        assert_eq!(level["summary"], "acme/api dropped from bronze to not-ready");

        let critical = by_event(&got, "new_critical").json();
        let findings = critical["findings"].as_array().unwrap();
        assert_eq!(findings.len(), 1, "{critical}");
        assert_eq!(findings[0]["check_id"], "hardcoded-secret");
        assert_eq!(findings[0]["severity"], "critical");
        assert_eq!(findings[0]["path"], "app/settings.py");
        assert!(!String::from_utf8_lossy(&by_event(&got, "new_critical").body).contains(&AWS_KEY.concat()), "the key itself is never sent");

        let messages = slack.wait_for(2).await;
        for m in &messages {
            assert!(m.header("x-shipshape-signature-256").is_empty(), "Slack gets no signature header");
            let body = m.json();
            assert!(body["text"].is_string(), "{body}");
            assert_eq!(body["blocks"][0]["type"], "section");
            assert_eq!(body["blocks"][0]["text"]["type"], "mrkdwn");
        }
        let texts: Vec<String> = messages.iter().map(|m| m.json()["text"].as_str().unwrap().to_string()).collect();
        assert!(texts.contains(&"acme/api dropped from bronze to not-ready".to_string()), "{texts:?}");
        assert!(texts.contains(&"acme/api: 1 new critical finding".to_string()), "{texts:?}");
        let drop = messages.iter().map(Received::json).find(|b| b["text"].as_str().unwrap().contains("dropped")).unwrap();
        assert!(drop["blocks"][0]["text"]["text"].as_str().unwrap().contains("<http://127.0.0.1:8080/repos/acme/api|acme/api>"), "{drop}");

        let all = settled(&app.db).await;
        assert_eq!(all.len(), 4);
        assert!(all.iter().all(|r| r.status == DeliveryStatus::Sent && r.attempts == 1 && r.response_status == Some(200)), "{all:?}");

        // The admin page lists them, and a test message goes out from it.
        let page = app.get("/admin/notifications").await.text().await.unwrap();
        assert!(page.contains("acme/api dropped from bronze to not-ready"), "{page}");
        assert!(page.contains("SLACK_PLATFORM_URL") && !page.contains(&slack.url), "the variable is shown, never the URL");
        assert_eq!(page.matches(">sent<").count(), 4, "{page}");
        let csrf = csrf_in(&page).unwrap();
        let tested = app.client.post(app.url("/admin/notifications/test")).form(&[("csrf_token", csrf.as_str()), ("channel", "audit-hook")]).send().await.unwrap();
        assert_eq!(tested.status(), reqwest::StatusCode::SEE_OTHER);
        let test = hook.wait_for(3).await.pop().unwrap();
        assert_eq!(test.header("x-shipshape-event"), "test");
        assert!(test.signed_with(SECRET));
        let after = app.get(tested.headers()["location"].to_str().unwrap()).await.text().await.unwrap();
        assert!(after.contains("Test notification: sent to audit-hook."), "{after}");
    }

    async fn the_same_event_is_sent_once_per_interval_and_only_to_the_repositorys_team(backend) {
        let platform = Receiver::start(Behaviour::Accept).await;
        let payments = Receiver::start(Behaviour::Accept).await;
        let app = app_with(backend, notify(json!([
            { "name": "platform", "kind": "webhook", "url_env": "PLATFORM_URL", "secret_env": "HOOK_SECRET",
              "teams": ["platform"], "events": ["level_changed"], "min_interval_hours": 24 },
            { "name": "payments", "kind": "webhook", "url_env": "PAYMENTS_URL", "secret_env": "HOOK_SECRET",
              "teams": ["payments"] },
        ])), &[("PLATFORM_URL", &platform.url), ("PAYMENTS_URL", &payments.url), ("HOOK_SECRET", SECRET)]).await;
        let cfg = worker(&app);
        let api = bronze_repository(&app, "api", Some("platform")).await;
        let _ledger = bronze_repository(&app, "ledger", Some("payments")).await;
        assert_eq!(rescan(&app, &cfg, "api").await, "bronze");

        leak_key(&api);
        assert_eq!(rescan(&app, &cfg, "api").await, "not-ready");
        remove_key(&api);
        assert_eq!(rescan(&app, &cfg, "api").await, "bronze", "back up within the hour");
        let all = settled(&app.db).await;

        let got = platform.wait_for(1).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let got_now = platform.requests();
        assert_eq!(got_now.len(), 1, "two level changes within 24 h page the team once: {got_now:?}");
        assert_eq!(got[0].json()["level_change"]["to"], "not-ready");
        assert!(got[0].signed_with(SECRET));
        assert!(payments.requests().is_empty(), "the payments channel hears nothing about a platform repository");
        assert!(all.iter().all(|r| r.channel == "platform" && r.event == NotifyEvent::LevelChanged), "{all:?}");
        assert_eq!(all.iter().map(|r| r.status).collect::<Vec<_>>(), vec![DeliveryStatus::Sent, DeliveryStatus::Suppressed]);
        assert!(all[1].error.as_deref().unwrap().starts_with("rate limited: level_changed"), "{:?}", all[1].error);

        // Once the window has passed (moved back in time here), the next change is sent.
        app.db.execute_unprepared("UPDATE notification_deliveries SET created_at = '2026-01-01T00:00:00Z'").await.unwrap();
        leak_key(&api);
        assert_eq!(rescan(&app, &cfg, "api").await, "not-ready");
        assert_eq!(platform.wait_for(2).await.len(), 2);

        let page = app.get("/admin/notifications").await.text().await.unwrap();
        assert!(page.contains(">suppressed<") && page.contains("rate limited"), "{page}");
    }

    async fn a_receiver_that_answers_500_gets_the_same_delivery_again(backend) {
        let hook = Receiver::start(Behaviour::FailFirst(1)).await;
        let app = app_with(backend, notify(json!([
            { "name": "flaky", "kind": "webhook", "url_env": "FLAKY_URL", "secret_env": "FLAKY_SECRET", "events": ["new_critical"] },
        ])), &[("FLAKY_URL", &hook.url), ("FLAKY_SECRET", SECRET)]).await;
        let cfg = worker(&app);
        let remote = bronze_repository(&app, "api", None).await;
        rescan(&app, &cfg, "api").await;
        leak_key(&remote);
        rescan(&app, &cfg, "api").await;

        let got = hook.wait_for(2).await;
        let all = settled(&app.db).await;
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].header("x-shipshape-delivery"), got[1].header("x-shipshape-delivery"), "a retry is the same delivery");
        assert_eq!(got[0].body, got[1].body);
        assert!(got.iter().all(|r| r.signed_with(SECRET)));
        assert_eq!(all.len(), 1);
        assert_eq!((all[0].status, all[0].attempts, all[0].response_status), (DeliveryStatus::Sent, 2, Some(200)));
    }

    async fn a_receiver_that_hangs_times_out_and_the_scan_does_not_wait_for_it(backend) {
        let stuck = Receiver::start(Behaviour::Hang).await;
        let fine = Receiver::start(Behaviour::Accept).await;
        let mut settings = notify(json!([
            { "name": "stuck", "kind": "webhook", "url_env": "STUCK_URL", "secret_env": "HOOK_SECRET", "events": ["level_changed"] },
            { "name": "fine", "kind": "slack", "url_env": "FINE_URL", "events": ["level_changed"] },
        ]));
        settings["timeout_secs"] = json!(1);
        settings["max_attempts"] = json!(2);
        let app = app_with(backend, settings, &[("STUCK_URL", &stuck.url), ("FINE_URL", &fine.url), ("HOOK_SECRET", SECRET)]).await;
        let cfg = worker(&app);
        let remote = bronze_repository(&app, "api", None).await;
        rescan(&app, &cfg, "api").await;
        leak_key(&remote);
        let started = Instant::now();
        assert_eq!(rescan(&app, &cfg, "api").await, "not-ready");
        assert!(started.elapsed() < Duration::from_secs(20), "the scan was recorded without waiting for the receivers");
        assert_eq!(fine.wait_for(1).await.len(), 1, "the other channel is not held up");

        let all = settled(&app.db).await;
        let stuck_row = all.iter().find(|r| r.channel == "stuck").unwrap();
        assert_eq!(stuck_row.status, DeliveryStatus::Failed);
        assert_eq!(stuck_row.attempts, 2);
        assert_eq!(stuck_row.error.as_deref(), Some("gave up after 2 attempts: timed out after 1 s"));
        assert_eq!(stuck.requests().len(), 2, "each attempt reached the receiver");
        let page = app.get("/admin/notifications").await.text().await.unwrap();
        assert!(page.contains("gave up after 2 attempts: timed out after 1 s"), "{page}");
    }

    async fn a_delivery_a_stopped_sender_left_behind_is_sent_by_a_sweep(backend) {
        // Nothing listens on the channel's port at first: the attempts fail
        // and the row waits to be retried in an hour.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let url = format!("http://127.0.0.1:{port}/hooks/shipshape");
        let mut settings = notify(json!([
            { "name": "later", "kind": "webhook", "url_env": "LATER_URL", "secret_env": "HOOK_SECRET", "events": ["level_changed"] },
        ]));
        settings["retry_secs"] = json!(3600);
        let app = app_with(backend, settings, &[("LATER_URL", &url), ("HOOK_SECRET", SECRET)]).await;
        let cfg = worker(&app);
        let remote = bronze_repository(&app, "api", None).await;
        rescan(&app, &cfg, "api").await;
        leak_key(&remote);
        rescan(&app, &cfg, "api").await;
        let deadline = Instant::now() + Duration::from_secs(20);
        let row = loop {
            let r = rows(&app.db).await.pop().expect("a delivery was planned");
            if r.status == DeliveryStatus::Retrying {
                break r;
            }
            assert!(Instant::now() < deadline, "{r:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        assert_eq!(row.attempts, 1);
        assert!(row.error.as_deref().unwrap().contains("error sending request"), "{:?}", row.error);
        assert!(!row.error.as_deref().unwrap().contains(&url), "the URL is a secret and is not recorded");

        // The worker that planned it is gone (a deploy) and an hour passes;
        // the receiver is back, and another worker's sweep sends the row.
        let hook = Receiver::on(std::net::TcpListener::bind(("127.0.0.1", port)).unwrap(), Behaviour::Accept);
        app.db.execute_unprepared("UPDATE notification_deliveries SET next_attempt_at = '2026-01-01T00:00:00Z'").await.unwrap();
        let other = Arc::new(Notifier::new(&app.settings).unwrap());
        assert_eq!(other.sweep(&app.db, chrono::Utc::now()).await.unwrap(), 1);
        let got = hook.wait_for(1).await;
        assert!(got[0].signed_with(SECRET));
        assert_eq!(got[0].header("x-shipshape-delivery"), row.delivery_id);
        let all = settled(&app.db).await;
        assert_eq!((all[0].status, all[0].attempts), (DeliveryStatus::Sent, 2));
        assert_eq!(other.sweep(&app.db, chrono::Utc::now()).await.unwrap(), 0, "nothing left behind");
    }
}
