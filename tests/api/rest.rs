//! The JSON API under /api/v1 over HTTP, on the demo's real scans: lists and
//! details agree with the database, pagination visits every row once,
//! filters narrow, bad input and unknown ids answer JSON errors, and Rescan
//! queues one coalesced job that the worker runs.

use crate::helpers::*;
use crate::on_both_databases;
use serde_json::Value;
use shipshape_testkit::GitRepo;
use std::collections::HashSet;
use std::time::Duration;

/// The app with the demo's five repositories and 24 scans recorded.
pub async fn demo_app(backend: Backend) -> TestApp {
    let app = spawn_app(backend).await;
    let dir = app.test_db.dir.path().join("demo");
    shipshape::demo::run(&app.db, &dir, chrono::Utc::now()).await.expect("demo seeds");
    app
}

pub async fn json(app: &TestApp, path: &str) -> (u16, Value) {
    let res = app.get(path).await;
    let status = res.status().as_u16();
    (status, res.json().await.expect("JSON body"))
}

async fn ok(app: &TestApp, path: &str) -> Value {
    let (status, body) = json(app, path).await;
    assert_eq!(status, 200, "GET {path}: {body}");
    body
}

/// The id of demo repository `name`.
async fn repo_id(app: &TestApp, name: &str) -> i64 {
    let page = ok(app, &format!("/api/v1/repositories?q={name}")).await;
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{page}");
    items[0]["id"].as_i64().unwrap()
}

/// Follows `Link: rel="next"` from `path`, checking the body's `next` says
/// the same; returns the items of every page and the number of pages.
async fn walk(app: &TestApp, path: &str) -> (Vec<Value>, usize) {
    let (mut items, mut pages, mut next) = (Vec::new(), 0, Some(path.to_string()));
    while let Some(path) = next.take() {
        let res = app.get(&path).await;
        assert_eq!(res.status(), 200, "GET {path}");
        let link = res.headers().get("link").map(|v| v.to_str().unwrap().to_string());
        let body: Value = res.json().await.unwrap();
        pages += 1;
        items.extend(body["items"].as_array().unwrap().iter().cloned());
        match (link, body["next"].as_str()) {
            (Some(link), Some(url)) => {
                assert_eq!(link, format!("<{url}>; rel=\"next\""));
                assert!(body["next_cursor"].is_string());
                next = Some(url.to_string());
            }
            (None, None) => assert!(body["next_cursor"].is_null()),
            other => panic!("Link header and body disagree: {other:?}"),
        }
        assert!(pages < 50, "pagination does not end");
    }
    (items, pages)
}

fn error_code(body: &Value) -> &str {
    assert!(body["error"].as_str().is_some_and(|e| !e.is_empty()), "no error message: {body}");
    body["code"].as_str().unwrap_or_else(|| panic!("no code: {body}"))
}

on_both_databases! {
    async fn repositories_scans_findings_and_checks_reflect_the_demo_history(backend) {
        let app = demo_app(backend).await;
        let repos = ok(&app, "/api/v1/repositories").await;
        let names: Vec<&str> = repos["items"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["payments-api", "ml-inference", "shop-admin", "notify-worker", "inventory-api"]);
        for r in repos["items"].as_array().unwrap() {
            assert!(r["score"].as_f64().is_some_and(|s| (0.0..=100.0).contains(&s)), "{r}");
            assert!(["not-ready", "bronze", "silver", "gold"].contains(&r["level"].as_str().unwrap()), "{r}");
            assert_eq!(r["badge_url"], format!("/badge/demo/{}.svg", r["name"].as_str().unwrap()));
        }

        let shop = repo_id(&app, "shop-admin").await;
        let detail = ok(&app, &format!("/api/v1/repositories/{shop}")).await;
        assert_eq!(detail["owner"], "demo");
        assert!(!detail["categories"].as_array().unwrap().is_empty(), "{detail}");
        let open: i64 = detail["open_findings"].as_array().unwrap().iter().map(|c| c["count"].as_i64().unwrap()).sum();
        let listed = ok(&app, &format!("/api/v1/findings?repository_id={shop}&state=open&limit=200")).await;
        assert_eq!(open as usize, listed["items"].as_array().unwrap().len(), "open counts agree with the list");

        // Every commit of shop-admin's history scanned, newest first; the latest is the repository's.
        let scans = ok(&app, &format!("/api/v1/scans?repository_id={shop}")).await;
        let scans = scans["items"].as_array().unwrap();
        assert_eq!(scans.len(), 4);
        let ids: Vec<i64> = scans.iter().map(|s| s["id"].as_i64().unwrap()).collect();
        assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first: {ids:?}");
        assert_eq!(ids[0], detail["last_scan_id"].as_i64().unwrap());
        assert!(scans.iter().all(|s| s["status"] == "succeeded" && s["trigger"] == "demo" && s["commit_sha"].as_str().is_some_and(|c| c.len() == 40)));
        let scan = ok(&app, &format!("/api/v1/scans/{}", ids[0])).await;
        assert_eq!(scan["score"], detail["score"]);
        let checks = scan["checks"].as_array().unwrap();
        assert!(checks.iter().any(|c| c["check_id"] == "debug-enabled" && c["outcome"] == "fail"), "DEBUG = True is back in the last commit");

        // DEBUG = True: opened, fixed, then reopened.
        let debug = ok(&app, &format!("/api/v1/findings?repository_id={shop}&check=debug-enabled")).await;
        let debug = debug["items"].as_array().unwrap();
        assert_eq!(debug.len(), 1, "{debug:?}");
        assert_eq!(debug[0]["state"], "open");
        let finding = ok(&app, &format!("/api/v1/findings/{}", debug[0]["id"])).await;
        let kinds: Vec<&str> = finding["events"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["opened", "fixed", "reopened"]);
        assert!(finding["path"].as_str().is_some_and(|p| p.ends_with(".py")), "{finding}");

        // The catalogue counts shop-admin among the repositories failing the check.
        let catalogue = ok(&app, "/api/v1/checks").await;
        let entry = catalogue["items"].as_array().unwrap().iter().find(|c| c["id"] == "debug-enabled").expect("debug-enabled listed");
        assert!(entry["failing_repositories"].as_u64().unwrap() >= 1);
        assert!(!entry["fix"].as_str().unwrap().is_empty());
        let campaign = ok(&app, "/api/v1/checks/debug-enabled").await;
        let failing: Vec<&str> = campaign["failing"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
        assert!(failing.contains(&"shop-admin"), "{campaign}");
        assert_eq!(campaign["failing_repositories"].as_u64().unwrap() as usize, failing.len());
        let security = ok(&app, "/api/v1/checks?category=secrets&severity=critical").await;
        let security = security["items"].as_array().unwrap();
        assert!(!security.is_empty() && security.iter().all(|c| c["category"] == "secrets" && c["severity"] == "critical"));
        app.stop().await;
    }

    async fn pagination_visits_every_row_once_and_keeps_the_filters(backend) {
        let app = demo_app(backend).await;
        let (all, pages) = walk(&app, "/api/v1/scans?limit=3").await;
        assert_eq!((all.len(), pages), (24, 8));
        let ids: Vec<i64> = all.iter().map(|s| s["id"].as_i64().unwrap()).collect();
        assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first, no repeats: {ids:?}");

        let shop = repo_id(&app, "shop-admin").await;
        let (filtered, pages) = walk(&app, &format!("/api/v1/scans?repository_id={shop}&limit=2")).await;
        assert_eq!((filtered.len(), pages), (4, 2));
        assert!(filtered.iter().all(|s| s["repository_id"] == shop));

        let (repos, pages) = walk(&app, "/api/v1/repositories?limit=1").await;
        assert_eq!((repos.len(), pages), (5, 5));
        let (findings, _) = walk(&app, "/api/v1/findings?limit=7").await;
        let unique: HashSet<i64> = findings.iter().map(|f| f["id"].as_i64().unwrap()).collect();
        assert_eq!(unique.len(), findings.len());
        let (everything, _) = walk(&app, "/api/v1/findings?limit=200").await;
        assert_eq!(everything.len(), findings.len());
        app.stop().await;
    }

    async fn filters_narrow_the_lists_and_bad_values_are_json_400s(backend) {
        let app = demo_app(backend).await;
        for (query, field, value) in [("state=open", "state", "open"), ("state=fixed", "state", "fixed"), ("severity=high", "severity", "high"), ("category=secrets", "category", "secrets")] {
            let page = ok(&app, &format!("/api/v1/findings?{query}&limit=200")).await;
            let items = page["items"].as_array().unwrap();
            assert!(!items.is_empty(), "the demo has findings with {query}");
            assert!(items.iter().all(|f| f[field] == value), "{query}: {page}");
        }
        let gold_or_not = ok(&app, "/api/v1/repositories?level=not-ready").await;
        assert!(gold_or_not["items"].as_array().unwrap().iter().all(|r| r["level"] == "not-ready"));
        assert_eq!(ok(&app, "/api/v1/repositories?q=NOTHING-LIKE-IT").await["items"], serde_json::json!([]));
        assert_eq!(ok(&app, "/api/v1/repositories?q=SHOP").await["items"].as_array().unwrap().len(), 1, "q ignores case");
        assert_eq!(ok(&app, "/api/v1/scans?status=failed").await["items"], serde_json::json!([]));

        for bad in ["/api/v1/findings?state=bogus", "/api/v1/findings?severity=urgent", "/api/v1/scans?limit=0",
                    "/api/v1/scans?limit=201", "/api/v1/scans?cursor=not-a-cursor", "/api/v1/repositories?team_id=x",
                    "/api/v1/repositories/abc"] {
            let (status, body) = json(&app, bad).await;
            assert_eq!(status, 400, "{bad}: {body}");
            assert_eq!(error_code(&body), "bad_request", "{bad}");
        }
        app.stop().await;
    }

    async fn unknown_resources_and_routes_are_json_404s(backend) {
        let app = spawn_app(backend).await;
        for missing in ["/api/v1/repositories/999", "/api/v1/scans/999", "/api/v1/findings/999", "/api/v1/jobs/999", "/api/v1/checks/no-such-check"] {
            let (status, body) = json(&app, missing).await;
            assert_eq!(status, 404, "{missing}");
            assert_eq!(error_code(&body), "not_found", "{missing}: {body}");
        }
        let (status, body) = json(&app, "/api/v1/no-such-thing").await;
        assert_eq!((status, error_code(&body)), (404, "no_route"), "{body}");
        let res = app.post("/api/v1/repositories/999/scans").send().await.unwrap();
        assert_eq!(res.status(), 404);
        assert_eq!(error_code(&res.json().await.unwrap()), "not_found");
        // An empty database lists nothing rather than failing.
        let empty = ok(&app, "/api/v1/repositories").await;
        assert_eq!(empty, serde_json::json!({ "items": [], "next_cursor": null, "next": null }));
        app.stop().await;
    }

    async fn rescan_queues_one_coalesced_job_and_refuses_disabled_repositories(backend) {
        let app = spawn_app(backend).await;
        let remote = GitRepo::with_files(&[("README.md", "# api\n")]);
        let repo = add_repository(&app.db, "api", &remote.url()).await;
        let first = app.post(&format!("/api/v1/repositories/{repo}/scans")).send().await.unwrap();
        assert_eq!(first.status(), 202);
        let location = first.headers()["location"].to_str().unwrap().to_string();
        let first: Value = first.json().await.unwrap();
        assert_eq!(first["coalesced"], false);
        assert_eq!(first["job"]["status"], "queued");
        assert_eq!(first["job"]["kind"], "scan");
        assert_eq!(location, format!("/api/v1/jobs/{}", first["job"]["id"]));
        let second: Value = app.post(&format!("/api/v1/repositories/{repo}/scans")).send().await.unwrap().json().await.unwrap();
        assert_eq!(second["coalesced"], true);
        assert_eq!(second["job"]["id"], first["job"]["id"]);
        assert_eq!(ok(&app, &location).await["repository_id"], repo);

        use sea_orm::{ActiveModelTrait, Set};
        use shipshape::db::entities::repositories;
        repositories::ActiveModel { id: Set(repo), enabled: Set(false), ..Default::default() }.update(&app.db).await.unwrap();
        let refused = app.post(&format!("/api/v1/repositories/{repo}/scans")).send().await.unwrap();
        assert_eq!(refused.status(), 409);
        let body: Value = refused.json().await.unwrap();
        assert_eq!(error_code(&body), "conflict");
        assert!(body["error"].as_str().unwrap().contains("disabled"), "{body}");
        app.stop().await;
    }
}

/// Waits for the job at `location` to finish; returns it.
pub async fn finished_job(app: &TestApp, location: &str) -> Value {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let job = ok(app, location).await;
        if job["finished_at"].is_string() {
            return job;
        }
        assert!(std::time::Instant::now() < deadline, "job not finished within 60 s: {job}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
