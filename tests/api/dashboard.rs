//! The dashboard over HTTP on both databases: the pages a person reads, with
//! real scans of real git repositories behind them, and the actions (Rescan,
//! suppress, enable/disable) going through the real queue and store.

use crate::helpers::*;
use crate::on_both_databases;
use chrono::{Duration, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, Set};
use shipshape::db::entities::findings::{self, FindingState};
use shipshape::db::entities::{finding_events, jobs, repositories};
use shipshape::store::{ScanMeta, record_success};
use shipshape_analysis::{Options, analyze};
use shipshape_testkit::{Commit, GitRepo};

pub const REQS: &str = "fastapi==0.115.0\nuvicorn==0.30.0\n";
pub const WILDCARD: &str = "from fastapi import FastAPI\nfrom fastapi.middleware.cors import CORSMiddleware\n\napp = FastAPI()\napp.add_middleware(CORSMiddleware, allow_origins=[\"*\"])\n";
pub const FROM_ENV: &str = "import os\nfrom fastapi import FastAPI\nfrom fastapi.middleware.cors import CORSMiddleware\n\napp = FastAPI()\napp.add_middleware(CORSMiddleware, allow_origins=os.environ[\"ORIGINS\"].split(\",\"))\n";

/// Three scanned repositories: `acme/api` (team payments, wildcard CORS),
/// `acme/billing` (team payments, origins from the environment) and
/// `acme/web` (team frontend, wildcard CORS fixed yesterday).
pub struct Seeded {
    pub repos: Vec<(i32, GitRepo)>,
}

/// Commits what is staged in `git` and records a scan of it `days_ago`.
pub async fn commit_and_scan(db: &DatabaseConnection, repo_id: i32, git: &GitRepo, days_ago: i64) -> i32 {
    let when = Utc::now() - Duration::days(days_ago);
    let sha = git.commit(Commit::new(format!("change {days_ago} days ago")).at(when.to_rfc3339()));
    let report =
        analyze(git.path(), &Options { today: when.date_naive(), github: None, ..Default::default() }).unwrap();
    let meta = ScanMeta {
        repository_id: repo_id,
        commit_sha: Some(&sha),
        trigger: "demo",
        queued_at: when,
        started_at: when,
        finished_at: when,
        github_api_calls: None,
    };
    record_success(db, &meta, &report).await.expect("scan recorded").scan_id
}

async fn set_team(db: &DatabaseConnection, repo: i32, team: &str) {
    let team_id = shipshape::sources::team_id(db, team).await.unwrap();
    repositories::ActiveModel { id: Set(repo), team_id: Set(Some(team_id)), ..Default::default() }
        .update(db)
        .await
        .unwrap();
}

pub async fn seed(db: &DatabaseConnection) -> Seeded {
    let mut repos = Vec::new();
    for (name, team, first, second) in [
        ("api", "payments", WILDCARD, WILDCARD),
        ("billing", "payments", FROM_ENV, FROM_ENV),
        ("web", "frontend", WILDCARD, FROM_ENV),
    ] {
        let git = GitRepo::new();
        git.write_all(&[
            ("requirements.txt", REQS),
            ("app/main.py", first),
            (".env.example", "ORIGINS=https://a.example\n"),
        ]);
        let id = add_repository(db, name, &git.url()).await;
        set_team(db, id, team).await;
        commit_and_scan(db, id, &git, 10).await;
        git.write("app/main.py", second);
        commit_and_scan(db, id, &git, 1).await;
        repos.push((id, git));
    }
    Seeded { repos }
}

pub async fn finding(db: &DatabaseConnection, repo: i32, check: &str) -> findings::Model {
    findings::Entity::find()
        .filter(findings::Column::RepositoryId.eq(repo))
        .filter(findings::Column::CheckId.eq(check))
        .one(db)
        .await
        .unwrap()
        .expect("finding exists")
}

async fn text(app: &TestApp, path: &str) -> String {
    let res = app.get(path).await;
    assert_eq!(res.status(), 200, "GET {path}");
    res.text().await.unwrap()
}

/// The repository names of the table, in the order shown.
fn table_order(html: &str) -> Vec<&str> {
    html.match_indices("<a href=\"/repos/acme/")
        .map(|(i, _)| {
            let rest = &html[i + "<a href=\"/repos/acme/".len()..];
            &rest[..rest.find('"').unwrap()]
        })
        .collect()
}

async fn post_form(app: &TestApp, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
    app.post(path).form(form).send().await.unwrap()
}

on_both_databases! {
    async fn the_overview_table_sorts_filters_and_shares_its_state_in_the_url(backend) {
        let app = spawn_app(backend).await;
        let _seeded = seed(&app.db).await;
        let page = text(&app, "/").await;
        assert!(page.contains("Org score") && page.contains("Needs attention"), "summary sections");
        assert_eq!(table_order(&page), ["api", "billing", "web"], "alphabetical by default");
        assert!(page.contains("cors-wildcard"), "the new high finding of acme/api needs attention");

        let by_findings = text(&app, "/?sort=findings&dir=asc").await;
        let order = table_order(&by_findings);
        assert_eq!(order.last(), Some(&"api"), "api has the most open findings: {order:?}");
        assert!(by_findings.contains("aria-sort=\"ascending\""));

        let payments = text(&app, "/?team=payments").await;
        assert_eq!(table_order(&payments), ["api", "billing"]);
        let searched = text(&app, "/?q=BILL").await;
        assert_eq!(table_order(&searched), ["billing"]);
        let none = text(&app, "/?q=nothing-like-this").await;
        assert!(none.contains("No repository matches these filters"));

        // htmx asks for the table alone; the sort state comes along out of band.
        let partial = app.client.get(app.url("/?sort=score&dir=desc")).header("HX-Request", "true").header("HX-Target", "repo-table")
            .send().await.unwrap().text().await.unwrap();
        assert!(!partial.contains("<html"), "a fragment, not a page");
        assert!(partial.contains("id=\"filter-sort\" name=\"sort\" value=\"score\" hx-swap-oob=\"true\""));
        assert_eq!(table_order(&partial).first(), Some(&"billing"));
        // web fixed its wildcard CORS yesterday: its score went up over 7 days.
        let web_row = &page[page.find("/repos/acme/web\"").unwrap()..];
        assert!(web_row[..web_row.find("</tr>").unwrap()].contains("▲ +"), "web's 7-day change is positive");
    }

    async fn the_repository_page_links_evidence_and_serves_the_report_downloads(backend) {
        let app = spawn_app(backend).await;
        let seeded = seed(&app.db).await;
        let (api_id, api_git) = &seeded.repos[0];
        let page = text(&app, "/repos/acme/api").await;
        for expected in ["Open findings", "cors-wildcard", "Strengths", "Scan history", "Suppressed findings", "Categories", "fastapi", "Rescan"] {
            assert!(page.contains(expected), "repository page shows {expected}");
        }
        let f = finding(&app.db, *api_id, "cors-wildcard").await;
        let local = format!("{}/app/main.py:{}", api_git.path().display(), f.line.unwrap());
        assert!(page.contains(&local), "evidence points at the local file and line: {local}");

        let md = app.get("/repos/acme/api/report.md").await;
        assert_eq!(md.status(), 200);
        assert!(md.headers()["content-disposition"].to_str().unwrap().contains("api-shipshape.md"));
        assert!(md.text().await.unwrap().contains("cors-wildcard"));
        let json: serde_json::Value = app.get("/repos/acme/api/report.json").await.json().await.unwrap();
        assert!(json["score"].as_f64().is_some());
        let sarif: serde_json::Value = app.get("/repos/acme/api/report.sarif").await.json().await.unwrap();
        assert_eq!(sarif["version"], "2.1.0");
        assert_eq!(app.get("/repos/acme/api/report.pdf").await.status(), 404);
    }

    async fn a_findings_timeline_and_a_dashboard_suppression_that_survives_rescans(backend) {
        let app = spawn_app(backend).await;
        let seeded = seed(&app.db).await;
        let (web_id, _) = &seeded.repos[2];
        let fixed = finding(&app.db, *web_id, "cors-wildcard").await;
        let page = text(&app, &format!("/findings/{}", fixed.id)).await;
        let timeline = &page[page.find("id=\"timeline\"").unwrap()..];
        let (opened, fixed_at) = (timeline.find("<strong>opened</strong>").unwrap(), timeline.find("<strong>fixed</strong>").unwrap());
        assert!(opened < fixed_at, "opened, then fixed");
        assert!(page.contains("How to fix"), "the check's documentation");

        let (api_id, api_git) = &seeded.repos[0];
        let f = finding(&app.db, *api_id, "cors-wildcard").await;
        let before = repositories::Entity::find_by_id(*api_id).one(&app.db).await.unwrap().unwrap().score.unwrap();
        let path = format!("/findings/{}/suppress", f.id);
        assert_eq!(post_form(&app, &path, &[("reason", "  "), ("expires", "")]).await.status(), 400, "a reason is required");
        let res = post_form(&app, &path, &[("reason", "internal tool behind VPN"), ("expires", "")]).await;
        assert_eq!(res.status(), 303);
        let page = text(&app, &format!("/findings/{}", f.id)).await;
        assert!(page.contains("<strong>suppressed</strong>") && page.contains("internal tool behind VPN"));

        // A later scan keeps it suppressed, adds no event, and scores without it.
        let events = |id| finding_events::Entity::find().filter(finding_events::Column::FindingId.eq(id)).count(&app.db);
        let n = events(f.id).await.unwrap();
        api_git.write("README.md", "# api\n");
        commit_and_scan(&app.db, *api_id, api_git, 0).await;
        let after = finding(&app.db, *api_id, "cors-wildcard").await;
        assert_eq!(after.state, FindingState::Suppressed);
        assert_eq!(events(f.id).await.unwrap(), n, "no event for a finding that stays suppressed");
        let now = repositories::Entity::find_by_id(*api_id).one(&app.db).await.unwrap().unwrap().score.unwrap();
        assert!(now > before, "the suppressed finding no longer costs points: {before} -> {now}");
        let repo_page = text(&app, "/repos/acme/api").await;
        let supp = &repo_page[repo_page.find("Suppressed findings").unwrap()..];
        assert!(supp.contains("internal tool behind VPN") && supp.contains("dashboard"));

        // Revoked: open again at once, and the next scan keeps it open.
        assert_eq!(post_form(&app, &format!("/findings/{}/unsuppress", f.id), &[]).await.status(), 303);
        assert_eq!(post_form(&app, &format!("/findings/{}/unsuppress", f.id), &[]).await.status(), 409);
        api_git.write("README.md", "# api v2\n");
        commit_and_scan(&app.db, *api_id, api_git, 0).await;
        assert_eq!(finding(&app.db, *api_id, "cors-wildcard").await.state, FindingState::Open);
        let page = text(&app, &format!("/findings/{}", f.id)).await;
        assert!(page.contains("<strong>unsuppressed</strong>"));
    }

    async fn rescan_queues_one_job_and_the_status_fragment_reports_the_finished_scan(backend) {
        let app = spawn_app(backend).await;
        let seeded = seed(&app.db).await;
        let (api_id, _) = &seeded.repos[0];
        let last = repositories::Entity::find_by_id(*api_id).one(&app.db).await.unwrap().unwrap().last_scan_id.unwrap();
        for _ in 0..2 {
            let res = app.post("/repos/acme/api/rescan").header("HX-Request", "true").send().await.unwrap();
            assert_eq!(res.status(), 200);
            let body = res.text().await.unwrap();
            assert!(body.contains("Scan queued") && body.contains("hx-trigger=\"every 2s\""), "{body}");
        }
        let queued = jobs::Entity::find().filter(jobs::Column::RepositoryId.eq(*api_id)).count(&app.db).await.unwrap();
        assert_eq!(queued, 1, "two presses, one job");
        let polling = app.get(&format!("/repos/acme/api/scan-status?after={last}")).await.text().await.unwrap();
        assert!(polling.contains("Scan queued"));

        let cfg = worker_config(&app.test_db.dir.path().join("cache"), 1000);
        shipshape::jobs::worker::run_once(&app.db, &cfg).await.unwrap().expect("the rescan ran");
        let done = app.get(&format!("/repos/acme/api/scan-status?after={last}")).await;
        assert_eq!(done.headers().get("hx-refresh").map(|v| v.to_str().unwrap()), Some("true"));
        assert!(done.text().await.unwrap().contains("Scan finished"));
        let page = text(&app, "/repos/acme/api").await;
        assert!(page.contains("<td data-label=\"Trigger\">manual</td>"), "the manual scan is in the history");
    }

    async fn scan_checks_teams_and_admin_pages(backend) {
        let app = spawn_app(backend).await;
        let seeded = seed(&app.db).await;
        let (web_id, _) = &seeded.repos[2];
        let web = repositories::Entity::find_by_id(*web_id).one(&app.db).await.unwrap().unwrap();
        let scan = text(&app, &format!("/scans/{}", web.last_scan_id.unwrap())).await;
        let fixed = &scan[scan.find("Fixed findings").unwrap()..];
        assert!(fixed.starts_with("Fixed findings (1)") && fixed.contains("cors-wildcard"), "{fixed}");
        assert!(scan.contains("succeeded") && scan.contains("Previous scan"));

        let checks = text(&app, "/checks").await;
        let row = &checks[checks.find(">cors-wildcard<").unwrap()..];
        assert!(row[..row.find("</tr>").unwrap()].contains("<td data-label=\"Failing\" class=\"num\">1</td>"), "only api fails it now");
        let campaign = text(&app, "/checks/cors-wildcard").await;
        assert_eq!(table_order(&campaign), ["api"]);
        assert_eq!(app.get("/checks/no-such-check").await.status(), 404);

        let teams = text(&app, "/teams").await;
        assert!(teams.contains("payments") && teams.contains("frontend"));

        let admin = text(&app, "/admin").await;
        assert!(admin.contains("Queue") && admin.contains("Weekly digest"));
        let res = post_form(&app, &format!("/admin/repos/{web_id}/enabled"), &[("enabled", "false")]).await;
        assert_eq!(res.status(), 303);
        assert!(!repositories::Entity::find_by_id(*web_id).one(&app.db).await.unwrap().unwrap().enabled);
        assert_eq!(app.post("/repos/acme/web/rescan").send().await.unwrap().status(), 409, "a disabled repository is not rescanned");
        let cross_site = app.client.post(app.url(&format!("/admin/repos/{web_id}/enabled"))).header("Origin", "https://evil.example")
            .form(&[("enabled", "true")]).send().await.unwrap();
        assert_eq!(cross_site.status(), 403);
    }

    async fn errors_are_helpful_pages_for_people_and_json_for_programs(backend) {
        let app = spawn_app(backend).await;
        let empty = text(&app, "/").await;
        assert!(empty.contains("No repositories yet"), "empty state");
        let res = app.get("/no/such/page").await;
        assert_eq!(res.status(), 404);
        assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
        let body = res.text().await.unwrap();
        assert!(body.contains("there is no page at /no/such/page") && body.contains("Go to the overview"));
        let repo = app.get("/repos/acme/ghost").await;
        assert_eq!(repo.status(), 404);
        assert!(repo.text().await.unwrap().contains("no repository acme/ghost"));
        let api = app.get("/api/v1/nothing").await;
        assert_eq!(api.status(), 404);
        let json: serde_json::Value = api.json().await.unwrap();
        assert_eq!(json["code"], "no_route", "{json}");
        assert_eq!(app.get("/findings/424242").await.status(), 404);
        assert_eq!(app.get("/repos/acme/ghost/rescan").await.status(), 404, "actions are POST only");
    }

    async fn charts_are_cacheable_svg_images(backend) {
        let app = spawn_app(backend).await;
        let _seeded = seed(&app.db).await;
        for path in ["/charts/org.svg?days=30", "/charts/repos/acme/api/score.svg", "/charts/repos/acme/web/categories.svg?days=365", "/charts/repos/acme/api/spark.svg"] {
            let res = app.get(path).await;
            assert_eq!(res.status(), 200, "{path}");
            assert_eq!(res.headers()["content-type"], "image/svg+xml");
            assert!(res.headers()["cache-control"].to_str().unwrap().contains("max-age"));
            let svg = res.text().await.unwrap();
            assert!(svg.contains("<svg") && svg.contains("<polyline"), "{path} draws a line");
        }
        let cats = text(&app, "/charts/repos/acme/web/categories.svg").await;
        assert!(cats.contains("security"), "one labelled line per category");
        assert_eq!(app.get("/charts/repos/acme/ghost/score.svg").await.status(), 404);
        let htmx = app.get("/static/htmx.min.js").await;
        assert_eq!(htmx.status(), 200);
        assert!(htmx.headers()["content-type"].to_str().unwrap().contains("javascript"));
        assert!(htmx.text().await.unwrap().contains("htmx"));
        let css = app.get("/").await;
        assert!(css.headers()["content-security-policy"].to_str().unwrap().contains("script-src 'self'"));
    }
}
