//! GitHub end to end: the real octocrab client against the fake GitHub of
//! `shipshape-testkit` (a real HTTP server with GitHub's JSON shapes).
//! Discovery pages through `Link`, a repeat costs only 304s, archived
//! repositories are marked, a rate limit is waited out, a 404 keeps what was
//! tracked, a GitHub App token is exchanged once, a GitHub repository's scan
//! gets branch-protection outcomes, and webhook registration is idempotent.

use crate::helpers::*;
use crate::on_both_databases;
use sea_orm::sea_query::Query;
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};
use shipshape::config::{GithubAuth, GithubSource, Secret, Settings};
use shipshape::db::entities::repositories::{self, Provider};
use shipshape::db::entities::{check_results, jobs, scans};
use shipshape::github::Github;
use shipshape::github::discovery::{discover, discover_all};
use shipshape_testkit::GitRepo;
use shipshape_testkit::fake_github::{FakeGithub, FakeRepo, Protection};
use std::time::{Duration, Instant};

fn org(login: &str) -> GithubSource {
    GithubSource {
        org: Some(login.into()),
        user: None,
        include: vec![],
        exclude: vec![],
        forks: false,
        archived: true,
        team: None,
    }
}

/// A token built at run time: no credential-shaped literal in the source.
fn token() -> Secret {
    Secret::from(["ghp", "test", &uuid::Uuid::new_v4().simple().to_string()].join("_"))
}

fn point_at(settings: &mut Settings, fake: &FakeGithub, auth: GithubAuth, sources: Vec<GithubSource>) {
    settings.github.api_url = fake.url.parse().expect("fake url");
    settings.github.auth = auth;
    settings.github.sources = sources;
    settings.github.max_rate_limit_wait_secs = 10;
}

/// acme with seven repositories, listed two per page (four pages): one
/// archived, one fork (not tracked by default).
fn acme(fake: &FakeGithub) {
    fake.add_org("acme");
    for (id, name) in [(101, "api"), (102, "web"), (103, "billing"), (104, "worker"), (105, "docs")] {
        fake.put_repo(FakeRepo::new(id, "acme", name));
    }
    fake.put_repo(FakeRepo { archived: true, ..FakeRepo::new(106, "acme", "legacy") });
    fake.put_repo(FakeRepo { fork: true, ..FakeRepo::new(107, "acme", "fork-of-x") });
}

async fn github_repos(db: &DatabaseConnection) -> Vec<repositories::Model> {
    repositories::Entity::find()
        .filter(repositories::Column::Provider.eq(Provider::Github))
        .order_by_asc(repositories::Column::GithubId)
        .all(db)
        .await
        .unwrap()
}

async fn queued_scans(db: &DatabaseConnection) -> usize {
    jobs::Entity::find().all(db).await.unwrap().len()
}

on_both_databases! {
    async fn discovery_pages_through_the_org_and_a_repeat_costs_only_304s(backend) {
        let test_db = TestDb::new(backend).await;
        let db = test_db.connect().await;
        shipshape::db::migrate_up(&db).await.unwrap();
        let fake = FakeGithub::start(2);
        acme(&fake);
        let pat = token();
        fake.accept_token(pat.expose());
        let mut settings = test_settings(&test_db);
        point_at(&mut settings, &fake, GithubAuth::Token(pat), vec![org("acme")]);
        let github = Github::new(&settings.github).unwrap();

        let first = discover(&db, &github, &settings.github.sources[0]).await.expect("first discovery");
        let calls = fake.calls();
        assert_eq!(calls.len(), 4, "seven repositories, two per page: {calls:?}");
        assert!(calls.iter().all(|c| c.status == 200), "{calls:?}");
        assert!(calls[3].path.ends_with("page=4"), "the Link header was followed: {calls:?}");
        assert_eq!((first.api_calls, first.not_modified, first.repos_seen), (4, 0, 7));
        assert_eq!((first.added, first.archived, first.scans_queued), (6, 1, 5), "{first:?}");
        let rows = github_repos(&db).await;
        let names: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["api", "web", "billing", "worker", "docs", "legacy"], "the fork is not tracked");
        let legacy = rows.iter().find(|r| r.name == "legacy").unwrap();
        assert!(legacy.archived, "archived on GitHub, archived here");
        assert_eq!(rows[0].clone_url, "https://github.com/acme/api.git");
        assert_eq!(rows[0].default_branch, "main");
        assert_eq!(queued_scans(&db).await, 5, "a first scan for each active repository, none for the archived one");

        fake.clear_calls();
        let repeat = discover(&db, &github, &settings.github.sources[0]).await.expect("repeat discovery");
        let calls = fake.calls();
        assert_eq!(calls.len(), 4, "{calls:?}");
        assert!(calls.iter().all(|c| c.status == 304), "nothing changed: only 304s {calls:?}");
        assert_eq!((repeat.api_calls, repeat.not_modified, repeat.repos_seen), (4, 4, 7));
        assert_eq!((repeat.added, repeat.updated, repeat.gone), (0, 0, 0), "{repeat:?}");
        assert_eq!(github_repos(&db).await, rows, "rows untouched");

        // A rename keeps GitHub's id: the same row follows it. A deletion disables.
        fake.put_repo(FakeRepo::new(102, "acme", "storefront"));
        fake.remove_repo(104);
        fake.clear_calls();
        let changed = discover(&db, &github, &settings.github.sources[0]).await.expect("discovery after changes");
        assert_eq!((changed.added, changed.updated, changed.gone), (0, 1, 1), "{changed:?}");
        let after = github_repos(&db).await;
        let renamed = after.iter().find(|r| r.github_id == Some(102)).unwrap();
        assert_eq!((renamed.id, renamed.name.as_str()), (rows[1].id, "storefront"));
        assert!(!after.iter().find(|r| r.github_id == Some(104)).unwrap().enabled, "deleted on GitHub: disabled");
        assert!(fake.calls().iter().any(|c| c.status == 200), "changed pages were fetched again");
    }

    async fn a_rate_limit_is_waited_out_and_a_404_keeps_what_was_tracked(backend) {
        let test_db = TestDb::new(backend).await;
        let db = test_db.connect().await;
        shipshape::db::migrate_up(&db).await.unwrap();
        let fake = FakeGithub::start(2);
        acme(&fake);
        let mut settings = test_settings(&test_db);
        point_at(&mut settings, &fake, GithubAuth::Token(token()), vec![org("acme")]);
        let github = Github::new(&settings.github).unwrap();

        fake.rate_limit(Duration::from_secs(2));
        let started = Instant::now();
        let done = discover(&db, &github, &settings.github.sources[0]).await.expect("discovery after the reset");
        assert!(started.elapsed() >= Duration::from_secs(1), "waited for the reset: {:?}", started.elapsed());
        let statuses: Vec<u16> = fake.calls().iter().map(|c| c.status).collect();
        assert_eq!(statuses, [403, 200, 200, 200, 200], "one refused call, then the pages");
        assert_eq!(done.api_calls, 5, "the refused call counts");
        assert_eq!(github_repos(&db).await.len(), 6);

        // A reset too far away is not waited for: a clear error instead.
        fake.rate_limit(Duration::from_secs(3600));
        let err = discover(&db, &github, &settings.github.sources[0]).await.unwrap_err().to_string();
        assert!(err.contains("rate limit") && err.contains("max_rate_limit_wait_secs"), "{err}");
        fake.rate_limit(Duration::ZERO);

        // The organisation disappears (renamed, or the token lost access).
        let mut gone = settings.clone();
        gone.github.sources = vec![org("acme"), org("ghost")];
        let github = Github::new(&gone.github).unwrap();
        let results = discover_all(&db, &github).await;
        let err = results[1].as_ref().unwrap_err().to_string();
        assert!(err.contains("org:ghost") && err.contains("404") && err.contains("/orgs/ghost/repos"), "{err}");
        assert!(results[0].is_ok(), "the other source still ran");
        let rows = github_repos(&db).await;
        assert_eq!(rows.len(), 6);
        assert!(rows.iter().all(|r| r.enabled), "a failed discovery changes nothing");
        let runs = db
            .query_all(&Query::select().columns(["source", "status", "api_calls", "not_modified", "error"]).from("discovery_runs").order_by("id", sea_orm::Order::Asc).to_owned())
            .await
            .unwrap();
        let last: Vec<(String, String)> = runs[runs.len() - 2..]
            .iter()
            .map(|r| (r.try_get::<String>("", "source").unwrap(), r.try_get::<String>("", "status").unwrap()))
            .collect();
        assert_eq!(last, [("org:acme".into(), "succeeded".into()), ("org:ghost".into(), "failed".into())]);
        let acme_calls: i32 = runs[runs.len() - 2].try_get("", "api_calls").unwrap();
        let acme_304: i32 = runs[runs.len() - 2].try_get("", "not_modified").unwrap();
        assert_eq!((acme_calls, acme_304), (4, 4), "the run records its cost");
    }

    async fn a_github_app_token_is_exchanged_once_and_used_for_discovery(backend) {
        let test_db = TestDb::new(backend).await;
        let db = test_db.connect().await;
        shipshape::db::migrate_up(&db).await.unwrap();
        let fake = FakeGithub::start(100);
        acme(&fake);
        fake.install_app(777, "acme");
        fake.accept_token("not-the-installation-token");
        let mut settings = test_settings(&test_db);
        let auth = GithubAuth::App { app_id: 4242, private_key: rsa_key(), installation_id: None };
        point_at(&mut settings, &fake, auth, vec![org("acme")]);
        let github = Github::new(&settings.github).unwrap();

        let first = discover(&db, &github, &settings.github.sources[0]).await.expect("discovery as the App");
        let paths: Vec<String> = fake.calls().iter().map(|c| format!("{} {} {}", c.method, c.path, c.status)).collect();
        assert_eq!(
            paths,
            [
                "GET /app/installations?per_page=100 200",
                "POST /app/installations/777/access_tokens 201",
                "GET /orgs/acme/repos?type=all&per_page=100 200"
            ]
        );
        assert_eq!((first.api_calls, first.added), (3, 6));
        discover(&db, &github, &settings.github.sources[0]).await.expect("repeat");
        assert_eq!(fake.tokens_issued(), 1, "the installation token is cached until near expiry");

        let mut elsewhere = settings.clone();
        elsewhere.github.sources = vec![org("other")];
        fake.add_org("other");
        let err = discover(&db, &Github::new(&elsewhere.github).unwrap(), &elsewhere.github.sources[0])
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("not installed on other"), "{err}");
    }

    async fn a_github_repository_scan_gets_branch_protection_outcomes(backend) {
        let test_db = TestDb::new(backend).await;
        let db = test_db.connect().await;
        shipshape::db::migrate_up(&db).await.unwrap();
        let fake = FakeGithub::start(100);
        fake.add_org("acme");
        let source = GitRepo::with_files(&[("README.md", "# svc\n")]);
        let url = source.url();
        let protected = Protection {
            protected: true,
            requires_pull_request: true,
            required_checks: vec!["ci / test".into()],
            readable: true,
            ruleset_requires_pull_request: false,
        };
        fake.put_repo(FakeRepo { protection: protected.clone(), clone_url: Some(url.clone()), ..FakeRepo::new(1, "acme", "guarded") });
        let unreadable = Protection { readable: false, requires_pull_request: false, required_checks: vec![], ..protected };
        fake.put_repo(FakeRepo { protection: unreadable, clone_url: Some(url.clone()), ..FakeRepo::new(2, "acme", "opaque") });
        fake.put_repo(FakeRepo {
            clone_url: Some(url.clone()),
            last_commit: "2025-01-01T00:00:00Z".into(),
            ..FakeRepo::new(3, "acme", "open")
        });
        let pat = token();
        fake.accept_token(pat.expose());
        let mut settings = test_settings(&test_db);
        point_at(&mut settings, &fake, GithubAuth::Token(pat), vec![org("acme")]);
        let github = Github::new(&settings.github).unwrap();
        discover(&db, &github, &settings.github.sources[0]).await.unwrap();
        fake.clear_calls();

        let cfg = shipshape::jobs::worker::WorkerConfig {
            github: Some(github),
            ..worker_config(&test_db.dir.path().join("cache"), 1000)
        };
        for _ in 0..3 {
            let outcome = shipshape::jobs::worker::run_once(&db, &cfg).await.unwrap();
            assert!(matches!(outcome, Some(shipshape::jobs::worker::JobOutcome::Scanned { .. })), "{outcome:?}");
        }
        let outcome = |repo: &'static str, check: &'static str| {
            let db = db.clone();
            async move {
                let r = repositories::Entity::find().filter(repositories::Column::Name.eq(repo)).one(&db).await.unwrap().unwrap();
                let scan = scans::Entity::find_by_id(r.last_scan_id.unwrap()).one(&db).await.unwrap().unwrap();
                let result = check_results::Entity::find()
                    .filter(check_results::Column::ScanId.eq(scan.id))
                    .filter(check_results::Column::CheckId.eq(check))
                    .one(&db)
                    .await
                    .unwrap()
                    .unwrap();
                (result.outcome, scan.github_api_calls)
            }
        };
        assert_eq!(outcome("guarded", "branch-protection-missing").await, ("pass".into(), Some(3)));
        assert_eq!(outcome("guarded", "required-checks-missing").await.0, "pass");
        assert_eq!(outcome("guarded", "repo-stale").await.0, "pass");
        // Protected, but without admin rights its rule cannot be read.
        assert_eq!(outcome("opaque", "branch-protection-missing").await, ("not_applicable".into(), Some(3)));
        assert_eq!(outcome("opaque", "required-checks-missing").await.0, "fail");
        // Unprotected: known to any reader, so a fail; and stale since 2025-01.
        assert_eq!(outcome("open", "branch-protection-missing").await, ("fail".into(), Some(2)));
        assert_eq!(outcome("open", "repo-stale").await.0, "fail");
        let statuses: Vec<u16> = fake.calls().iter().map(|c| c.status).collect();
        assert_eq!(statuses.iter().filter(|s| **s == 403).count(), 1, "{:?}", fake.calls());
        assert_eq!(fake.calls().len(), 8, "3 + 3 + 2 calls for three scans");
    }

    async fn webhook_registration_creates_missing_hooks_once(backend) {
        let fake = FakeGithub::start(100);
        acme(&fake);
        let pat = token();
        fake.accept_token(pat.expose());
        let app = spawn_app_with(backend, |s| {
            point_at(s, &fake, GithubAuth::Token(pat.clone()), vec![org("acme")]);
            s.github.webhook_secret = Some(Secret::from(uuid::Uuid::new_v4().to_string()));
            s.server.public_url = "https://shipshape.example.com/".parse().unwrap();
        })
        .await;
        let github = Github::new(&app.settings.github).unwrap();
        discover(&app.db, &github, &app.settings.github.sources[0]).await.unwrap();
        fake.clear_calls();
        let register = || app.post("/admin/github/webhooks/register").send();
        let first: serde_json::Value = register().await.unwrap().json().await.unwrap();
        assert_eq!(first["repositories"], 5, "archived repositories are read-only on GitHub: skipped");
        assert_eq!((first["created"].as_u64(), first["already_present"].as_u64()), (Some(5), Some(0)), "{first}");
        assert_eq!(first["api_calls"], 10, "a list and a create per repository");
        let hook = &fake.hooks(101)[0];
        assert_eq!(hook["config"]["url"], "https://shipshape.example.com/webhooks/github");
        assert_eq!(hook["config"]["content_type"], "json");
        assert_eq!(hook["events"], serde_json::json!(["push", "repository"]));
        let second: serde_json::Value = register().await.unwrap().json().await.unwrap();
        assert_eq!((second["created"].as_u64(), second["already_present"].as_u64()), (Some(0), Some(5)), "{second}");
        assert_eq!(second["api_calls"], 5, "only the lists");
        assert_eq!(fake.hooks(101).len(), 1, "idempotent");
        app.stop().await;
    }
}

/// A GitHub App private key in GitHub's format (PKCS#1 PEM), made at run time.
fn rsa_key() -> Secret {
    let out = std::process::Command::new("openssl")
        .args(["genrsa", "-traditional", "2048"])
        .stderr(std::process::Stdio::null())
        .output()
        .expect("openssl is installed (.ci/test checks)");
    assert!(out.status.success(), "openssl genrsa failed");
    Secret::from(String::from_utf8(out.stdout).expect("PEM is text"))
}
