//! Waivers end to end, on both databases: a viewer asks from a finding's
//! page, an admin decides on the queue, the decision holds through scans
//! run by the worker from the queue, an expired waiver reopens its finding
//! and appears in the digest, and every step is in the audit log.

use crate::auth::{github_app, provider, signed_in};
use crate::dashboard::{finding, seed};
use crate::helpers::*;
use crate::on_both_databases;
use chrono::{Duration, Utc};
use reqwest::{Client, StatusCode};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use shipshape::db::entities::findings::{self, FindingState};
use shipshape::db::entities::{repositories, suppressions, waivers};

/// Queues a rescan of acme/api as `client` and lets the worker run it.
async fn rescan(app: &TestApp, client: &Client, csrf: &str) {
    let res = client.post(app.url("/repos/acme/api/rescan")).header("X-CSRF-Token", csrf).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let cfg = worker_config(&app.test_db.dir.path().join("cache"), 1000);
    shipshape::jobs::worker::run_once(&app.db, &cfg).await.unwrap().expect("the rescan ran");
}

on_both_databases! {
    async fn a_waiver_is_asked_decided_honoured_by_scans_and_expires_into_the_digest(backend) {
        let fake = provider();
        let app = github_app(backend, &fake, |_| {}).await;
        let seeded = seed(&app.db).await;
        let (api_id, _) = &seeded.repos[0];
        let f = finding(&app.db, *api_id, "cors-wildcard").await;
        let other = findings::Entity::find()
            .filter(findings::Column::RepositoryId.eq(*api_id))
            .filter(findings::Column::State.eq(FindingState::Open))
            .filter(findings::Column::Id.ne(f.id))
            .one(&app.db).await.unwrap().expect("a second open finding");
        let (bob, bob_csrf) = signed_in(&app, &fake, "bob").await;
        let (alice, alice_csrf) = signed_in(&app, &fake, "alice").await;
        let ask = |finding: i32, form: Vec<(&'static str, String)>| {
            let mut form = form;
            form.push(("csrf_token", bob_csrf.clone()));
            bob.post(app.url(&format!("/findings/{finding}/waivers"))).form(&form).send()
        };
        let in_days = |d: i64| (Utc::now() + Duration::days(d)).date_naive().to_string();

        // A viewer asks; bad requests say what is wrong.
        let page = page_text(&bob, app.url(&format!("/findings/{}", f.id))).await;
        assert!(page.contains("Ask for a waiver") && page.contains("An admin can suppress"), "viewers ask, admins suppress");
        let no_owner = ask(f.id, vec![("reason", "legacy".into()), ("owner", " ".into()), ("expires", in_days(30))]).await.unwrap();
        assert_eq!(no_owner.status(), StatusCode::BAD_REQUEST);
        let forever = ask(f.id, vec![("reason", "legacy".into()), ("owner", "team-payments".into()), ("expires", in_days(400))]).await.unwrap();
        assert_eq!(forever.status(), StatusCode::BAD_REQUEST, "a waiver runs a year at most");
        let asked = ask(f.id, vec![("reason", "partner widget needs it until Q1".into()), ("owner", "team-payments".into()), ("expires", in_days(30))]).await.unwrap();
        assert_eq!(asked.status(), StatusCode::SEE_OTHER);
        let again = ask(f.id, vec![("reason", "again".into()), ("owner", "x".into()), ("expires", in_days(30))]).await.unwrap();
        assert_eq!(again.status(), StatusCode::CONFLICT, "one pending request per finding");
        let w = waivers::Entity::find().one(&app.db).await.unwrap().unwrap();
        assert_eq!((w.requested_by.as_str(), w.owner.as_str()), ("bob", "team-payments"));
        assert_eq!(finding(&app.db, *api_id, "cors-wildcard").await.state, FindingState::Open, "asking changes nothing yet");

        // Only admins decide.
        let by_viewer = bob.post(app.url(&format!("/admin/waivers/{}", w.id))).form(&[("decision", "approve"), ("csrf_token", bob_csrf.as_str())]).send().await.unwrap();
        assert_eq!(by_viewer.status(), StatusCode::FORBIDDEN);
        let queue = page_text(&alice, app.url("/admin/waivers")).await;
        assert!(queue.contains("partner widget needs it until Q1") && queue.contains(&format!("waiver-{}", w.id)));
        let approve = alice.post(app.url(&format!("/admin/waivers/{}", w.id)))
            .form(&[("decision", "approve"), ("note", "ok until the partner migrates"), ("csrf_token", alice_csrf.as_str())]).send().await.unwrap();
        assert_eq!(approve.status(), StatusCode::SEE_OTHER);
        let twice = alice.post(app.url(&format!("/admin/waivers/{}", w.id))).form(&[("decision", "reject"), ("csrf_token", alice_csrf.as_str())]).send().await.unwrap();
        assert_eq!(twice.status(), StatusCode::CONFLICT, "decided once");
        assert_eq!(finding(&app.db, *api_id, "cors-wildcard").await.state, FindingState::Suppressed);

        // Scans from the queue honour it; it shows wherever the finding is counted.
        let before = repositories::Entity::find_by_id(*api_id).one(&app.db).await.unwrap().unwrap().score.unwrap();
        rescan(&app, &bob, &bob_csrf).await;
        assert_eq!(finding(&app.db, *api_id, "cors-wildcard").await.state, FindingState::Suppressed, "still waived after a scan");
        let after = repositories::Entity::find_by_id(*api_id).one(&app.db).await.unwrap().unwrap().score.unwrap();
        assert!(after >= before, "{before} -> {after}");
        let page = page_text(&bob, app.url(&format!("/findings/{}", f.id))).await;
        assert!(page.contains(&format!("#{} approved", w.id)) && page.contains("ok until the partner migrates"), "the finding page shows the waiver");
        let repo_page = page_text(&bob, app.url("/repos/acme/api")).await;
        let suppressed = &repo_page[repo_page.find("Suppressed findings").unwrap()..];
        assert!(suppressed.contains(&format!("Waiver #{} (owner team-payments, approved by alice)", w.id)), "the repository page too");

        // A rejection leaves the finding counted.
        ask(other.id, vec![("reason", "not now".into()), ("owner", "bob".into()), ("expires", in_days(10))]).await.unwrap();
        let second = waivers::Entity::find().filter(waivers::Column::FindingId.eq(other.id)).one(&app.db).await.unwrap().unwrap();
        let reject = alice.post(app.url(&format!("/admin/waivers/{}", second.id)))
            .form(&[("decision", "reject"), ("note", "fix it instead"), ("csrf_token", alice_csrf.as_str())]).send().await.unwrap();
        assert_eq!(reject.status(), StatusCode::SEE_OTHER);
        assert_eq!(findings::Entity::find_by_id(other.id).one(&app.db).await.unwrap().unwrap().state, FindingState::Open);

        // Time passes: the waiver (and its suppression) end yesterday. The next scan reopens the finding.
        let ended = Utc::now() - Duration::hours(20);
        let approved = waivers::Entity::find_by_id(w.id).one(&app.db).await.unwrap().unwrap();
        waivers::ActiveModel { id: Set(w.id), expires_at: Set(ended), ..Default::default() }.update(&app.db).await.unwrap();
        suppressions::ActiveModel { id: Set(approved.suppression_id.unwrap()), expires_at: Set(Some(ended)), ..Default::default() }.update(&app.db).await.unwrap();
        rescan(&app, &bob, &bob_csrf).await;
        assert_eq!(finding(&app.db, *api_id, "cors-wildcard").await.state, FindingState::Open, "an expired waiver reopens its finding");
        let page = page_text(&bob, app.url(&format!("/findings/{}", f.id))).await;
        assert!(page.contains(&format!("#{} expired", w.id)) && page.contains("<strong>unsuppressed</strong>"));
        assert!(page_text(&alice, app.url("/admin/waivers")).await.contains(">expired<"));

        // The digest of that week says so.
        let week = shipshape::digest::period::Week::containing(ended);
        let preview = page_text(&alice, app.url(&format!("/admin/digest/preview?scope=org&week={week}"))).await;
        assert!(preview.contains("Waivers that expired") && preview.contains("cors-wildcard waiver (owner team-payments) expired"), "{preview}");

        // Every step is in the audit log, with who did it.
        let audit = page_text(&alice, app.url("/admin/audit")).await;
        for (who, action) in [("bob", "waiver.requested"), ("alice", "waiver.approved"), ("alice", "waiver.rejected")] {
            assert!(audit.contains(&format!("<td data-label=\"Who\">{who}</td><td data-label=\"Action\"><code>{action}</code>")), "{who} {action}");
        }
        assert_eq!(bob.get(app.url("/admin/audit")).send().await.unwrap().status(), StatusCode::FORBIDDEN);
        app.stop().await;
    }
}
