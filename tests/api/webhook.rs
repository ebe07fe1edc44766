//! `POST /webhooks/github` over real HTTP with payloads shaped like the ones
//! GitHub sends (push, ping, repository), signed at run time with the secret
//! the app was configured with: forged and malformed deliveries are refused
//! before parsing, redeliveries are recognised, pushes queue coalesced scans
//! and a burst of pushes ends with a scan of the newest commit.

use crate::helpers::*;
use crate::on_both_databases;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};
use shipshape::config::Environment;
use shipshape::db::entities::jobs::{self, JobStatus};
use shipshape::db::entities::webhook_deliveries::{self, DeliveryResult};
use shipshape::db::entities::{repositories, scans};
use shipshape::webhook::{deliveries, signature};
use shipshape_testkit::{Commit, GitRepo};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The webhook secret, from the environment variable production reads.
struct SecretEnv(String);

impl Environment for SecretEnv {
    fn var(&self, name: &str) -> Option<String> {
        (name == "SHIPSHAPE__GITHUB__WEBHOOK_SECRET").then(|| self.0.clone())
    }
}

/// An app with a webhook secret made up for this test.
struct Hooked {
    app: TestApp,
    secret: String,
}

async fn spawn_hooked(backend: Backend, worker: bool) -> Hooked {
    let secret = format!("hook-{}", uuid::Uuid::new_v4().simple());
    let test_db = TestDb::new(backend).await;
    let mut settings = test_settings_with_env(&test_db, &SecretEnv(secret.clone()));
    settings.worker.enabled = worker;
    settings.worker.idle_secs = 1;
    Hooked { app: spawn_app_with(test_db, settings).await, secret }
}

impl Hooked {
    /// Delivers `body` as GitHub would: signed, with a fresh delivery id.
    async fn deliver(&self, event: &str, body: &Value) -> reqwest::Response {
        let body = serde_json::to_vec(body).unwrap();
        let id = uuid::Uuid::new_v4().to_string();
        let sig = signature::sign(self.secret.as_bytes(), &body);
        self.send(event, &id, Some(&sig), body).await
    }

    async fn send(&self, event: &str, id: &str, signature: Option<&str>, body: Vec<u8>) -> reqwest::Response {
        let mut req = self
            .app
            .client
            .post(self.app.url("/webhooks/github"))
            .header("Content-Type", "application/json")
            .header("User-Agent", "GitHub-Hookshot/4a2b1c3")
            .header("X-GitHub-Event", event)
            .header("X-GitHub-Delivery", id)
            .header("X-GitHub-Hook-ID", "4242");
        if let Some(sig) = signature {
            req = req.header("X-Hub-Signature-256", sig);
        }
        // Generous: a burst of 100 shares SQLite's one writer with the worker on a loaded machine.
        req.body(body)
            .timeout(Duration::from_secs(60))
            .send()
            .await
            .unwrap_or_else(|e| panic!("delivery {id} failed: {e}"))
    }
}

/// The `repository` object GitHub puts in every repository event.
fn github_repository(full_name: &str) -> Value {
    let (owner, name) = full_name.split_once('/').unwrap();
    let html = format!("https://github.com/{full_name}");
    json!({
        "id": 123456789, "node_id": "R_kgDOHk1x2Q", "name": name, "full_name": full_name, "private": false,
        "owner": { "name": owner, "login": owner, "id": 98765, "type": "Organization",
                   "html_url": format!("https://github.com/{owner}"), "site_admin": false },
        "html_url": html, "description": "The API", "fork": false,
        "url": format!("https://api.github.com/repos/{full_name}"),
        "created_at": 1700000000, "updated_at": "2026-11-20T10:00:00Z", "pushed_at": 1763800000,
        "git_url": format!("git://github.com/{full_name}.git"), "ssh_url": format!("git@github.com:{full_name}.git"),
        "clone_url": format!("{html}.git"), "homepage": null, "size": 412, "stargazers_count": 3,
        "language": "Python", "archived": false, "disabled": false, "open_issues_count": 1,
        "visibility": "public", "default_branch": "main", "master_branch": "main", "organization": owner,
    })
}

fn sender() -> Value {
    json!({ "login": "ada", "id": 1, "node_id": "MDQ6VXNlcjE=", "type": "User", "site_admin": false })
}

/// A `push` event of `after` to `git_ref`.
fn push(full_name: &str, git_ref: &str, before: &str, after: &str) -> Value {
    let deleted = after.bytes().all(|b| b == b'0');
    let commit = json!({
        "id": after, "tree_id": "5f2a1b4c3d6e7f8091a2b3c4d5e6f708192a3b4c", "distinct": true,
        "message": "Tighten the health check", "timestamp": "2026-11-22T04:00:00Z",
        "url": format!("https://github.com/{full_name}/commit/{after}"),
        "author": { "name": "Ada Lovelace", "email": "ada@example.com", "username": "ada" },
        "committer": { "name": "Ada Lovelace", "email": "ada@example.com", "username": "ada" },
        "added": [], "removed": [], "modified": ["app/main.py"],
    });
    json!({
        "ref": git_ref, "before": before, "after": after,
        "repository": github_repository(full_name),
        "pusher": { "name": "ada", "email": "ada@example.com" },
        "sender": sender(),
        "created": false, "deleted": deleted, "forced": false, "base_ref": null,
        "compare": format!("https://github.com/{full_name}/compare/{}...{}", &before[..12], &after[..12]),
        "commits": if deleted { json!([]) } else { json!([commit]) },
        "head_commit": if deleted { Value::Null } else { commit },
    })
}

fn ping(full_name: &str) -> Value {
    json!({
        "zen": "Keep it logically awesome.", "hook_id": 4242,
        "hook": { "type": "Repository", "id": 4242, "name": "web", "active": true, "events": ["push", "repository"],
                  "config": { "content_type": "json", "insecure_ssl": "0", "url": "https://shipshape.example/webhooks/github" } },
        "repository": github_repository(full_name),
        "sender": sender(),
    })
}

/// A `repository` event; `changes` as GitHub sends for renamed and transferred.
fn repository_event(action: &str, full_name: &str, changes: Value) -> Value {
    let mut repository = github_repository(full_name);
    repository["archived"] = json!(action == "archived");
    let mut event = json!({ "action": action, "repository": repository, "sender": sender() });
    if !changes.is_null() {
        event["changes"] = changes;
    }
    event
}

const BEFORE: &str = "0d1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c";
const AFTER: &str = "9f8e7d6c5b4a39281706f5e4d3c2b1a098765432";
const ZEROS: &str = "0000000000000000000000000000000000000000";

async fn delivery_rows(db: &DatabaseConnection) -> Vec<webhook_deliveries::Model> {
    webhook_deliveries::Entity::find().order_by_asc(webhook_deliveries::Column::Id).all(db).await.unwrap()
}

async fn scan_jobs(db: &DatabaseConnection, repo: i32) -> Vec<jobs::Model> {
    jobs::Entity::find()
        .filter(jobs::Column::RepositoryId.eq(repo))
        .order_by_asc(jobs::Column::Id)
        .all(db)
        .await
        .unwrap()
}

async fn repository(db: &DatabaseConnection, id: i32) -> repositories::Model {
    repositories::Entity::find_by_id(id).one(db).await.unwrap().unwrap()
}

async fn answer(resp: reqwest::Response) -> (u16, Value) {
    let status = resp.status().as_u16();
    (status, resp.json().await.expect("a JSON answer"))
}

on_both_databases! {
    async fn forged_or_malformed_deliveries_are_refused_before_parsing(backend) {
        let h = spawn_hooked(backend, false).await;
        let repo = add_repository(&h.app.db, "api", "https://github.com/acme/api.git").await;
        let body = serde_json::to_vec(&push("acme/api", "refs/heads/main", BEFORE, AFTER)).unwrap();
        let good = signature::sign(h.secret.as_bytes(), &body);

        let wrong = signature::sign(b"not the configured secret", &body);
        let (status, err) = answer(h.send("push", "d-wrong", Some(&wrong), body.clone()).await).await;
        assert_eq!((status, err["error"].as_str().unwrap()), (401, "the X-Hub-Signature-256 signature does not match the body and the configured secret"));

        let (status, err) = answer(h.send("push", "d-missing", None, body.clone()).await).await;
        assert_eq!((status, err["error"].as_str().unwrap()), (401, "the X-Hub-Signature-256 header is missing"));

        for malformed in [good.trim_start_matches("sha256=").to_string(), format!("sha1={}", &good[7..47]), "sha256=zz".into(), format!("{}ff", good)] {
            let (status, err) = answer(h.send("push", "d-malformed", Some(&malformed), body.clone()).await).await;
            assert_eq!(status, 401, "{malformed}");
            assert!(err["error"].as_str().unwrap().contains("not `sha256=` followed by 64 hex digits"), "{err}");
        }

        // A body cut short in transit no longer matches its signature.
        let truncated = body[..body.len() / 2].to_vec();
        let (status, _) = answer(h.send("push", "d-truncated", Some(&good), truncated).await).await;
        assert_eq!(status, 401);

        assert!(delivery_rows(&h.app.db).await.is_empty(), "unsigned deliveries leave no trace but the log");
        assert!(scan_jobs(&h.app.db, repo).await.is_empty());

        // Correctly signed but not JSON (a form-encoded webhook): 400, logged as rejected.
        let form = b"payload=%7B%22ref%22%3A%22refs%2Fheads%2Fmain%22%7D".to_vec();
        let sig = signature::sign(h.secret.as_bytes(), &form);
        let (status, err) = answer(h.send("push", "d-form", Some(&sig), form).await).await;
        assert_eq!(status, 400);
        assert!(err["error"].as_str().unwrap().contains("set the webhook's content type to application/json"), "{err}");
        // JSON, but not a push: 400 naming the missing field.
        let (status, err) = answer(h.deliver("push", &json!({ "zen": "hi" })).await).await;
        assert_eq!(status, 400);
        assert!(err["error"].as_str().unwrap().contains("not a GitHub push payload: missing field `ref`"), "{err}");
        let rows = delivery_rows(&h.app.db).await;
        assert_eq!(rows.iter().map(|r| (r.delivery_id.as_str(), r.result)).collect::<Vec<_>>()[0], ("d-form", DeliveryResult::Rejected));
        assert_eq!(rows.len(), 2);

        // The correctly signed original is accepted.
        let (status, _) = answer(h.send("push", "d-good", Some(&good), body).await).await;
        assert_eq!(status, 202);
        assert_eq!(scan_jobs(&h.app.db, repo).await.len(), 1);
    }

    async fn without_a_secret_the_endpoint_says_it_is_not_configured(backend) {
        let app = spawn_app(backend).await;
        let resp = app.client.post(app.url("/webhooks/github")).header("X-GitHub-Event", "ping").body("{}").send().await.unwrap();
        let (status, err) = answer(resp).await;
        assert_eq!(status, 503);
        assert!(err["error"].as_str().unwrap().contains("set SHIPSHAPE__GITHUB__WEBHOOK_SECRET"), "{err}");
    }

    async fn bodies_over_githubs_25_mb_are_refused(backend) {
        let h = spawn_hooked(backend, false).await;
        let huge = vec![b' '; 25 * 1024 * 1024 + 1];
        let sig = signature::sign(h.secret.as_bytes(), &huge);
        let (status, err) = answer(h.send("push", "d-huge", Some(&sig), huge).await).await;
        assert_eq!(status, 413);
        assert!(err["error"].as_str().unwrap().contains("larger than GitHub's limit"), "{err}");
    }

    async fn pings_and_pushes_are_answered_deduplicated_and_logged(backend) {
        let h = spawn_hooked(backend, false).await;
        let db = &h.app.db;
        let repo = add_repository(db, "api", "https://github.com/acme/api.git").await;

        let (status, pong) = answer(h.deliver("ping", &ping("acme/api")).await).await;
        assert_eq!(status, 200);
        assert_eq!(pong["result"], "accepted");
        assert_eq!(pong["reason"], "pong: webhook 4242 reaches Shipshape; acme/api is tracked");

        // A push to the default branch queues a scan of the pushed commit.
        let body = serde_json::to_vec(&push("acme/api", "refs/heads/main", BEFORE, AFTER)).unwrap();
        let sig = signature::sign(h.secret.as_bytes(), &body);
        let (status, queued) = answer(h.send("push", "delivery-1", Some(&sig), body.clone()).await).await;
        assert_eq!(status, 202, "{queued}");
        assert_eq!((queued["result"].as_str(), queued["coalesced"].as_bool()), (Some("accepted"), Some(false)));
        let job = scan_jobs(db, repo).await.pop().expect("a scan job");
        assert_eq!(Some(job.id), queued["job_id"].as_i64().map(|id| id as i32));
        assert_eq!(job.status, JobStatus::Queued);
        let payload = job.payload.unwrap();
        assert_eq!((payload["trigger"].as_str(), payload["commit_sha"].as_str()), (Some("webhook"), Some(AFTER)));

        // GitHub redelivers with the same id: answered, not acted on twice.
        let (status, dup) = answer(h.send("push", "delivery-1", Some(&sig), body).await).await;
        assert_eq!((status, dup["result"].as_str()), (200, Some("duplicate")));
        assert!(dup["reason"].as_str().unwrap().starts_with("duplicate delivery"), "{dup}");
        assert_eq!(scan_jobs(db, repo).await.len(), 1);

        // A second push while the first scan waits is folded into it.
        let newer = "1234567890abcdef1234567890abcdef12345678";
        let (_, folded) = answer(h.deliver("push", &push("acme/api", "refs/heads/main", AFTER, newer)).await).await;
        assert_eq!((folded["job_id"].as_i64(), folded["coalesced"].as_bool()), (Some(job.id.into()), Some(true)));
        assert_eq!(scan_jobs(db, repo).await[0].payload.as_ref().unwrap()["commit_sha"], newer);

        let ignored = [
            (push("acme/api", "refs/heads/feature/login", BEFORE, AFTER), "push to refs/heads/feature/login, not to the default branch main"),
            (push("acme/api", "refs/tags/v1.0.0", BEFORE, AFTER), "push to refs/tags/v1.0.0, not to the default branch main"),
            (push("acme/api", "refs/heads/main", AFTER, ZEROS), "refs/heads/main was deleted; there is nothing to scan"),
            (push("globex/web", "refs/heads/main", BEFORE, AFTER), "repository globex/web is not tracked by Shipshape"),
        ];
        for (body, reason) in &ignored {
            let (status, got) = answer(h.deliver("push", body).await).await;
            assert_eq!((status, got["result"].as_str(), got["reason"].as_str()), (202, Some("ignored"), Some(*reason)));
        }
        let (status, other) = answer(h.deliver("issues", &json!({ "action": "opened" })).await).await;
        assert_eq!((status, other["result"].as_str()), (202, Some("ignored")));
        assert_eq!(scan_jobs(db, repo).await.len(), 1, "nothing else queued a scan");

        // Every delivery is in the log the admin page lists, newest first.
        let log = deliveries::recent(db, 100).await.unwrap();
        let results: Vec<_> = log.iter().map(|d| (d.event.as_str(), d.result)).collect();
        use DeliveryResult::*;
        assert_eq!(results, [("issues", Ignored), ("push", Ignored), ("push", Ignored), ("push", Ignored), ("push", Ignored), ("push", Accepted), ("push", Accepted), ("ping", Accepted)]);
        assert_eq!(log[1].repository.as_deref(), Some("globex/web"));
        assert_eq!((log[2].repository_id, log[7].repository_id), (Some(repo), Some(repo)));
        assert_eq!(log[6].delivery_id, "delivery-1");
        assert_eq!(deliveries::recent(db, 2).await.unwrap().len(), 2);
    }

    async fn repository_events_archive_rename_transfer_and_delete_the_tracked_repository(backend) {
        let h = spawn_hooked(backend, false).await;
        let db = &h.app.db;
        let repo = add_repository(db, "api", "git@github.com:acme/api.git").await;

        let (status, got) = answer(h.deliver("repository", &repository_event("archived", "acme/api", Value::Null)).await).await;
        assert_eq!((status, got["result"].as_str()), (200, Some("accepted")), "{got}");
        assert!(repository(db, repo).await.archived);
        let (_, got) = answer(h.deliver("push", &push("acme/api", "refs/heads/main", BEFORE, AFTER)).await).await;
        assert_eq!(got["reason"], "repository acme/api is archived and is not scanned");
        h.deliver("repository", &repository_event("unarchived", "acme/api", Value::Null)).await;
        assert!(!repository(db, repo).await.archived);

        let renamed = json!({ "repository": { "name": { "from": "api" } } });
        let (_, got) = answer(h.deliver("repository", &repository_event("renamed", "acme/shop-api", renamed)).await).await;
        assert_eq!(got["reason"], "renamed on GitHub from acme/api to acme/shop-api");
        let row = repository(db, repo).await;
        assert_eq!((row.owner.as_str(), row.name.as_str(), row.clone_url.as_str()), ("acme", "shop-api", "git@github.com:acme/shop-api.git"));
        // Pushes under the new name reach the same repository.
        let (status, got) = answer(h.deliver("push", &push("acme/shop-api", "refs/heads/main", BEFORE, AFTER)).await).await;
        assert_eq!((status, got["repository_id"].as_i64()), (202, Some(repo.into())));

        let transferred = json!({ "owner": { "from": { "organization": { "login": "acme", "id": 98765 } } } });
        let (_, got) = answer(h.deliver("repository", &repository_event("transferred", "globex/shop-api", transferred)).await).await;
        assert!(got["reason"].as_str().unwrap().contains("from acme/shop-api to globex/shop-api: disabled"), "{got}");
        let row = repository(db, repo).await;
        assert_eq!((row.owner.as_str(), row.clone_url.as_str(), row.enabled), ("globex", "git@github.com:globex/shop-api.git", false));

        // Deleted: disabled, never removed, so its scans stay readable.
        let other = add_repository(db, "web", "https://github.com/acme/web.git").await;
        let (_, got) = answer(h.deliver("repository", &repository_event("deleted", "acme/web", Value::Null)).await).await;
        assert_eq!(got["reason"], "acme/web was deleted on GitHub: disabled, its history is kept");
        let row = repository(db, other).await;
        assert!(!row.enabled && !row.archived);

        let (status, got) = answer(h.deliver("repository", &repository_event("archived", "acme/unknown", Value::Null)).await).await;
        assert_eq!((status, got["result"].as_str()), (202, Some("ignored")));
        let (_, got) = answer(h.deliver("repository", &repository_event("publicized", "acme/web", Value::Null)).await).await;
        assert_eq!(got["reason"], "repository action publicized changes nothing Shipshape tracks");
    }

    async fn a_burst_of_100_pushes_ends_with_a_scan_of_the_newest_commit(backend) {
        let h = Arc::new(spawn_hooked(backend, true).await);
        let remote = Arc::new(GitRepo::with_files(&[
            ("requirements.txt", "fastapi==0.115.0\n"),
            ("app/main.py", "from fastapi import FastAPI\napp = FastAPI()\n"),
        ]));
        let repo = add_repository(&h.app.db, "api", &remote.url()).await;

        // Watches the queue the whole time: never two queued or two running scans.
        let (done_tx, done_rx) = tokio::sync::watch::channel(false);
        let watcher = {
            let db = h.app.db.clone();
            tokio::spawn(async move {
                let (mut queued, mut running) = (0, 0);
                while !*done_rx.borrow() {
                    let jobs = scan_jobs(&db, repo).await;
                    queued = queued.max(jobs.iter().filter(|j| j.status == JobStatus::Queued).count());
                    running = running.max(jobs.iter().filter(|j| j.status == JobStatus::Running).count());
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                (queued, running)
            })
        };

        // Each push is sent as soon as its commit exists, without waiting for
        // the answer to the previous one: up to 100 requests in flight while
        // the worker scans.
        let mut before = remote.head();
        let mut pushes = tokio::task::JoinSet::new();
        for i in 1..=100 {
            let r = Arc::clone(&remote);
            let after = tokio::task::spawn_blocking(move || {
                r.write("app/main.py", format!("from fastapi import FastAPI\napp = FastAPI()\nVERSION = {i}\n"));
                r.commit(Commit::new(format!("release {i}")))
            })
            .await
            .unwrap();
            let h = Arc::clone(&h);
            let body = push("acme/api", "refs/heads/main", &before, &after);
            pushes.spawn(async move { answer(h.deliver("push", &body).await).await });
            before = after;
        }
        let newest = before;
        let mut jobs_named = std::collections::BTreeSet::new();
        while let Some(done) = pushes.join_next().await {
            let (status, got) = done.unwrap();
            assert_eq!(status, 202, "{got}");
            jobs_named.insert(got["job_id"].as_i64().unwrap());
        }

        // The worker drains the queue.
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let jobs = scan_jobs(&h.app.db, repo).await;
            if jobs.iter().all(|j| matches!(j.status, JobStatus::Succeeded | JobStatus::Failed)) {
                break;
            }
            assert!(Instant::now() < deadline, "the queue was not drained within 120 s: {jobs:?}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        done_tx.send(true).unwrap();
        let (max_queued, max_running) = watcher.await.unwrap();
        assert!(max_queued <= 1 && max_running <= 1, "queued {max_queued}, running {max_running} at once");

        let jobs = scan_jobs(&h.app.db, repo).await;
        assert!(jobs.iter().all(|j| j.status == JobStatus::Succeeded), "{jobs:?}");
        assert_eq!(jobs.len(), jobs_named.len(), "every job is one some push was told about");
        assert!(jobs.len() < 100, "pushes were coalesced: {} scans for 100 pushes", jobs.len());
        let scans = scans::Entity::find().filter(scans::Column::RepositoryId.eq(repo)).order_by_asc(scans::Column::Id).all(&h.app.db).await.unwrap();
        assert_eq!(scans.len(), jobs.len());
        assert!(scans.iter().all(|s| s.trigger == "webhook"));
        let last = scans.last().unwrap();
        assert_eq!(last.commit_sha.as_deref(), Some(newest.as_str()), "the last scan is of the newest commit");
        // What pages and the API read: the repository's latest scan.
        assert_eq!(repository(&h.app.db, repo).await.last_scan_id, Some(last.id));
        assert_eq!(delivery_rows(&h.app.db).await.len(), 100);
    }

    async fn old_deliveries_are_pruned_by_retention(backend) {
        let h = spawn_hooked(backend, false).await;
        h.deliver("ping", &ping("acme/api")).await;
        let now = chrono::Utc::now();
        assert_eq!(shipshape::jobs::periodic::retention(&h.app.db, now, 90).await.unwrap(), 0);
        let later = now + chrono::Duration::days(91);
        assert_eq!(shipshape::jobs::periodic::retention(&h.app.db, later, 90).await.unwrap(), 1);
        assert!(deliveries::recent(&h.app.db, 10).await.unwrap().is_empty());
    }
}
