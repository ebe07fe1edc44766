//! Explained score changes, on both databases: every scan stores its
//! analyzer and policy versions, and the repository page says, for each
//! change of score, which checks changed outcome and why (a fix, a finding
//! back, a suppression, a new analyzer); the trend chart marks the upgrade.

use crate::dashboard::{commit_and_scan, finding};
use crate::helpers::*;
use crate::history::{FROM_ENV, REQS, WILDCARD};
use crate::on_both_databases;
use sea_orm::{ConnectionTrait, EntityTrait};
use shipshape::db::entities::scans;
use shipshape_testkit::GitRepo;

on_both_databases! {
    async fn the_repository_page_explains_each_score_change(backend) {
        let app = spawn_app(backend).await;
        let git = GitRepo::new();
        git.write_all(&[("requirements.txt", REQS), ("app/main.py", WILDCARD), (".env.example", "ORIGINS=x\n")]);
        let id = add_repository(&app.db, "api", &git.url()).await;
        commit_and_scan(&app.db, id, &git, 3).await;
        git.write("app/main.py", FROM_ENV);
        commit_and_scan(&app.db, id, &git, 2).await;
        git.write("app/main.py", WILDCARD);
        commit_and_scan(&app.db, id, &git, 1).await;
        let f = finding(&app.db, id, "cors-wildcard").await;
        let res = app.post(&format!("/findings/{}/suppress", f.id)).form(&[("reason", "internal admin tool"), ("expires", "")]).send().await.unwrap();
        assert_eq!(res.status(), 303);
        git.write("README.md", "# api\n");
        commit_and_scan(&app.db, id, &git, 0).await;

        let stored = scans::Entity::find().all(&app.db).await.unwrap();
        assert!(stored.iter().all(|s| s.analyzer_version == shipshape_analysis::score::ANALYZER_VERSION));
        let policy = shipshape_analysis::Policy::default().version();
        assert!(stored.iter().all(|s| s.policy_version.as_deref() == Some(policy.as_str())), "every scan records the policy version");
        assert_eq!(policy.len(), 12);

        // The scans before the last ran an older analyzer.
        let last = stored.iter().map(|s| s.id).max().unwrap();
        app.db.execute_unprepared(&format!("UPDATE scans SET analyzer_version = '0.0.9' WHERE id < {last}")).await.unwrap();

        let page = app.get("/repos/acme/api").await.text().await.unwrap();
        let why = &page[page.find("id=\"score-changes\"").expect("the changes section")..];
        let why = &why[..why.find("</ol>").unwrap()];
        let items: Vec<&str> = why.split("<li class=\"change").skip(1).collect();
        assert_eq!(items.len(), 3, "fixed, back, suppressed (+ the upgrade): {why}");
        // Newest first: the suppression, scanned by the new analyzer.
        assert!(items[0].contains("change-up") && items[0].contains("cors-wildcard") && items[0].contains("suppressed: internal admin tool"), "{}", items[0]);
        assert!(items[0].contains(&format!("analyzer 0.0.9 → {}", shipshape_analysis::score::ANALYZER_VERSION)), "{}", items[0]);
        assert!(items[1].contains("change-down") && items[1].contains("pass → fail") && items[1].contains("reopened"), "{}", items[1]);
        assert!(items[2].contains("change-up") && items[2].contains("fail → pass") && items[2].contains("1 fixed"), "{}", items[2]);

        let chart = app.get("/charts/repos/acme/api/score.svg?days=30").await.text().await.unwrap();
        assert!(chart.contains(&format!("analyzer {}", shipshape_analysis::score::ANALYZER_VERSION)), "the trend marks the upgrade");
        app.stop().await;
    }
}
