use crate::helpers::*;
use crate::on_both_databases;
use migration::{Migrator, MigratorTrait};

on_both_databases! {
    async fn healthz_and_readyz_answer_200_on_a_migrated_database(backend) {
        let app = spawn_app(backend).await;
        let live = app.get("/healthz").await;
        assert_eq!(live.status(), 200);
        let ready = app.get("/readyz").await;
        assert_eq!(ready.status(), 200);
        let body: serde_json::Value = ready.json().await.unwrap();
        assert_eq!(body["status"], "ready");
    }

    async fn readyz_answers_503_with_the_reason_when_a_migration_is_pending(backend) {
        let app = spawn_app(backend).await;
        Migrator::down(&app.db, Some(1)).await.expect("roll back");
        let ready = app.get("/readyz").await;
        assert_eq!(ready.status(), 503);
        let body: serde_json::Value = ready.json().await.unwrap();
        assert!(body["reason"].as_str().unwrap().contains("pending"), "{body}");
        // Liveness does not depend on the database.
        assert_eq!(app.get("/healthz").await.status(), 200);
    }
}

#[tokio::test]
async fn every_response_carries_a_request_id_and_security_headers() {
    let app = spawn_app(Backend::Sqlite).await;
    for path in ["/healthz", "/readyz", "/no-such-page"] {
        let res = app.get(path).await;
        let h = res.headers();
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"), "{path}: {csp}");
        assert_eq!(h["x-request-id"].len(), 32, "{path}: a generated id");
        // Served over plain HTTP: no HSTS.
        assert!(h.get("strict-transport-security").is_none());
    }
}

#[tokio::test]
async fn a_plain_incoming_request_id_is_kept_and_a_hostile_one_replaced() {
    let app = spawn_app(Backend::Sqlite).await;
    let res = app.client.get(app.url("/healthz")).header("x-request-id", "trace-42_a").send().await.unwrap();
    assert_eq!(res.headers()["x-request-id"], "trace-42_a");
    let res = app.client.get(app.url("/healthz")).header("x-request-id", "evil\" injected=1").send().await.unwrap();
    let id = res.headers()["x-request-id"].to_str().unwrap().to_string();
    assert_ne!(id, "evil\" injected=1");
    assert!(id.chars().all(|c| c.is_ascii_hexdigit()));
}
