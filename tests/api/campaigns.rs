//! Campaigns end to end, on both databases: an admin starts one over a
//! team's repositories, its page shows the burn-down and who owns what is
//! left, the overview and the digest show it, a fix scanned through the
//! queue moves it, and closing it takes it off the overview.

use crate::auth::{github_app, provider, signed_in};
use crate::dashboard::seed;
use crate::helpers::*;
use crate::history::FROM_ENV;
use crate::on_both_databases;
use chrono::{Duration, Utc};
use reqwest::{Client, StatusCode};
use sea_orm::EntityTrait;
use shipshape::db::entities::campaigns;
use shipshape_testkit::Commit;

on_both_databases! {
    async fn a_campaign_tracks_a_fix_across_a_team_until_it_is_done(backend) {
        let fake = provider();
        let app = github_app(backend, &fake, |_| {}).await;
        let seeded = seed(&app.db).await;
        let (alice, csrf) = signed_in(&app, &fake, "alice").await;
        let (bob, bob_csrf) = signed_in(&app, &fake, "bob").await;
        let deadline = (Utc::now() + Duration::days(14)).date_naive().to_string();
        let start = |form: Vec<(&'static str, String)>, who: &Client, token: &str| {
            let mut form = form;
            form.push(("csrf_token", token.to_string()));
            who.post(app.url("/admin/campaigns")).form(&form).send()
        };
        let good = || vec![
            ("title", "No wildcard CORS in payments".to_string()),
            ("check", "cors-wildcard".to_string()),
            ("team", "payments".to_string()),
            ("deadline", deadline.clone()),
        ];

        let form = page_text(&alice, app.url("/admin/campaigns/new")).await;
        assert!(form.contains("value=\"cors-wildcard\"") && form.contains("value=\"payments\""), "checks and teams to pick from");
        assert_eq!(start(good(), &bob, &bob_csrf).await.unwrap().status(), StatusCode::FORBIDDEN, "viewers do not start campaigns");
        for (bad, why) in [
            (vec![("title", "x".to_string()), ("team", "payments".to_string()), ("deadline", deadline.clone())], "at least one check"),
            (vec![("title", "x".to_string()), ("check", "no-such-check".to_string()), ("deadline", deadline.clone())], "unknown check"),
            (vec![("title", "x".to_string()), ("check", "cors-wildcard".to_string()), ("deadline", "2020-01-01".to_string())], "in the past"),
            (vec![("title", "x".to_string()), ("check", "cors-wildcard".to_string()), ("team", "nobody".to_string()), ("deadline", deadline.clone())], "matches no repository"),
        ] {
            let res = start(bad, &alice, &csrf).await.unwrap();
            assert_eq!(res.status(), StatusCode::BAD_REQUEST);
            assert!(res.text().await.unwrap().contains(why), "{why}");
        }
        let made = start(good(), &alice, &csrf).await.unwrap();
        assert_eq!(made.status(), StatusCode::SEE_OTHER);
        let href = made.headers()["location"].to_str().unwrap().to_string();
        let id: i32 = href.rsplit('/').next().unwrap().parse().unwrap();

        // api still has wildcard CORS; billing reads origins from the environment.
        let page = page_text(&bob, app.url(&href)).await;
        assert!(page.contains("<strong id=\"progress\">1/2</strong>"), "one of the two payments repositories is done");
        let left = &page[page.find("What is left").unwrap()..];
        assert!(left.contains("payments (1)") && left.contains("acme/api") && left.contains("cors-wildcard") && !left.contains("acme/billing"));
        assert!(!left.contains("acme/web"), "frontend is not in this campaign");
        let chart = bob.get(app.url(&format!("/charts/campaigns/{id}/burndown.svg"))).send().await.unwrap();
        assert_eq!(chart.headers()["content-type"], "image/svg+xml");
        assert!(chart.text().await.unwrap().contains("not done"));
        let overview = page_text(&bob, app.url("/")).await;
        let active = &overview[overview.find("id=\"active-campaigns\"").expect("the overview lists it")..];
        assert!(active.contains("No wildcard CORS in payments") && active.contains("1/2 done"));
        let week = shipshape::digest::period::Week::containing(Utc::now());
        let digest = page_text(&alice, app.url(&format!("/admin/digest/preview?scope=org&week={week}"))).await;
        assert!(digest.contains("Active campaigns") && digest.contains("1/2 repositories done"), "the digest shows it");

        // The fix lands and is scanned through the queue.
        let (api_id, api_git) = &seeded.repos[0];
        api_git.write("app/main.py", FROM_ENV);
        api_git.commit(Commit::new("origins from the environment"));
        let res = bob.post(app.url("/repos/acme/api/rescan")).header("X-CSRF-Token", &bob_csrf).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let cfg = worker_config(&app.test_db.dir.path().join("cache"), 1000);
        let ran = shipshape::jobs::worker::run_once(&app.db, &cfg).await.unwrap().expect("the rescan ran");
        let _ = (ran, api_id);
        let page = page_text(&bob, app.url(&href)).await;
        assert!(page.contains("<strong id=\"progress\">2/2</strong>") && page.contains("Every repository is done"), "done");
        assert!(page.contains("campaign-done"));

        // Closed, it leaves the overview; both decisions are in the audit log.
        let closed = alice.post(app.url(&format!("/admin/campaigns/{id}/close"))).header("X-CSRF-Token", &csrf).send().await.unwrap();
        assert_eq!(closed.status(), StatusCode::SEE_OTHER);
        assert!(campaigns::Entity::find_by_id(id).one(&app.db).await.unwrap().unwrap().closed_at.is_some());
        assert!(!page_text(&bob, app.url("/")).await.contains("id=\"active-campaigns\""));
        assert!(page_text(&bob, app.url("/campaigns")).await.contains(">closed<"));
        let audit = page_text(&alice, app.url("/admin/audit")).await;
        assert!(audit.contains("campaign.created") && audit.contains("campaign.closed"));
        app.stop().await;
    }
}
