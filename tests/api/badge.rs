//! /badge/{owner}/{repo}.svg over HTTP: well-formed SVG with the level and
//! score of the latest scan, cacheable, revalidated by ETag; a grey "not
//! scanned" badge for a tracked repository without scans; 404 otherwise.

use crate::helpers::*;
use crate::on_both_databases;
use crate::rest::{demo_app, json};

/// The visible texts of a badge, parsed as XML.
fn texts(svg: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse(svg).unwrap_or_else(|e| panic!("badge is not well-formed XML ({e}): {svg}"));
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    assert_eq!(doc.root_element().tag_name().namespace(), Some("http://www.w3.org/2000/svg"));
    doc.descendants()
        .filter(|n| n.has_tag_name("text") && n.attribute("aria-hidden").is_none())
        .filter_map(|n| n.text().map(str::to_string))
        .collect()
}

on_both_databases! {
    async fn a_scanned_repository_shows_its_level_and_score(backend) {
        let app = demo_app(backend).await;
        let (_, repos) = json(&app, "/api/v1/repositories?q=shop-admin").await;
        let repo = &repos["items"][0];
        let expected = format!("{} {:.0}", repo["level"].as_str().unwrap(), repo["score"].as_f64().unwrap());

        let res = app.get("/badge/demo/shop-admin.svg").await;
        assert_eq!(res.status(), 200);
        assert!(res.headers()["content-type"].to_str().unwrap().starts_with("image/svg+xml"));
        assert_eq!(res.headers()["cache-control"], "public, max-age=300");
        let etag = res.headers()["etag"].to_str().unwrap().to_string();
        let svg = res.text().await.unwrap();
        assert_eq!(texts(&svg), ["shipshape", expected.as_str()]);

        // The same badge again: 304 without a body.
        let again = app.client.get(app.url("/badge/demo/shop-admin.svg")).header("If-None-Match", &etag).send().await.unwrap();
        assert_eq!(again.status(), 304);
        assert_eq!(again.headers()["etag"].to_str().unwrap(), etag);
        // Owner and name are matched regardless of case, as on GitHub.
        let upper = app.get("/badge/Demo/Shop-Admin.svg").await;
        assert_eq!(upper.status(), 200);
        assert_eq!(upper.text().await.unwrap(), svg);
        // Another repository, another badge and tag.
        let other = app.get("/badge/demo/payments-api.svg").await;
        assert_ne!(other.headers()["etag"].to_str().unwrap(), etag);
        app.stop().await;
    }

    async fn an_unscanned_repository_gets_a_not_scanned_badge_and_an_unknown_one_a_404(backend) {
        let app = spawn_app_with(backend, |s| s.badge.max_age_secs = 60).await;
        add_repository(&app.db, "fresh", "https://example.invalid/acme/fresh.git").await;
        let res = app.get("/badge/acme/fresh.svg").await;
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["cache-control"], "public, max-age=60");
        assert_eq!(texts(&res.text().await.unwrap()), ["shipshape", "not scanned"]);

        let (status, body) = json(&app, "/badge/acme/nothing.svg").await;
        assert_eq!(status, 404);
        assert_eq!(body["code"], "not_found");
        assert!(body["error"].as_str().unwrap().contains("acme/nothing"), "{body}");
        app.stop().await;
    }
}
