//! Rust checks (actix-web, axum) on small real repositories: each check
//! fails on the pattern and passes on the fix for both frameworks, and the
//! negatives (comments, strings, test code, configuration-driven values,
//! bound SQL parameters, crates without a web framework) stay quiet.

mod common;

use common::{assert_fails_at, assert_passes, findings, outcome, scan_files as scan};
use shipshape_analysis::{Outcome, Report, Severity};

/// A Cargo.toml of a binary crate depending on `deps` (TOML lines).
fn cargo(deps: &[&str]) -> String {
    format!(
        "[package]\nname = \"api\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\n{}\n",
        deps.join("\n")
    )
}

const AXUM: &str = "axum = \"0.7\"";
const ACTIX: &str = "actix-web = \"4\"";

/// A crate with Cargo.lock and `main` as src/main.rs.
fn service(deps: &[&str], main: &str) -> Report {
    service_with(deps, &[("src/main.rs", main)])
}

fn service_with(deps: &[&str], files: &[(&str, &str)]) -> Report {
    let c = cargo(deps);
    let mut all = vec![("Cargo.toml", c.as_str()), ("Cargo.lock", "version = 3\n")];
    all.extend_from_slice(files);
    scan(&all)
}

#[track_caller]
fn assert_missing(report: &Report, id: &str) {
    let f = findings(report, id);
    assert_eq!(outcome(report, id), Outcome::Fail, "{id} should fail");
    assert!(f.len() == 1 && f[0].location.is_none(), "{id}: {f:#?}");
}

fn lines(report: &Report, id: &str) -> Vec<u32> {
    findings(report, id).iter().filter_map(|f| f.location.as_ref().and_then(|l| l.line)).collect()
}

// ---------- stack and scope ----------

#[test]
fn stack_names_rust_frameworks_and_orms() {
    let r = service(&[AXUM, "sqlx = { version = \"0.8\", features = [\"postgres\"] }"], "fn main() {}\n");
    assert_eq!(r.stack.frameworks, vec!["axum"]);
    assert_eq!(r.stack.orms, vec!["sqlx"]);
    let r = service(&[ACTIX, "diesel = \"2\""], "fn main() {}\n");
    assert_eq!(r.stack.frameworks, vec!["actix-web"]);
    assert_eq!(r.stack.orms, vec!["diesel"]);
    // A library without a web framework: code checks do not apply.
    let lib = scan(&[
        ("Cargo.toml", &cargo(&["reqwest = \"0.12\""])),
        ("src/lib.rs", "pub fn f() { let c = reqwest::Client::new(); }\n"),
    ]);
    assert_eq!(outcome(&lib, "outbound-http-no-timeout"), Outcome::NotApplicable);
    assert_eq!(outcome(&lib, "cors-wildcard"), Outcome::NotApplicable);
}

// ---------- cors ----------

#[test]
fn cors_wildcard_actix_and_tower_http() {
    let actix = "use actix_cors::Cors;\nuse actix_web::{App, HttpServer};\n\n// Cors::permissive() is for development only\n#[actix_web::main]\nasync fn main() -> std::io::Result<()> {\n    HttpServer::new(|| App::new().wrap(Cors::permissive()))\n        .bind((\"0.0.0.0\", 8080))?\n        .run()\n        .await\n}\n";
    let f = assert_fails_at(&service(&[ACTIX, "actix-cors = \"0.7\""], actix), "cors-wildcard", "src/main.rs", 7);
    assert_eq!(f.severity, Severity::Critical);
    let any = "use actix_cors::Cors;\nfn cors() -> Cors {\n    Cors::default()\n        .allow_any_origin()\n        .allowed_methods(vec![\"GET\"])\n}\n";
    let f = assert_fails_at(&service(&[ACTIX, "actix-cors = \"0.7\""], any), "cors-wildcard", "src/main.rs", 3);
    assert_eq!(f.severity, Severity::High);
    let tower = "use axum::Router;\nuse tower_http::cors::{Any, CorsLayer};\n\nfn app() -> Router {\n    Router::new().layer(CorsLayer::new().allow_origin(Any).allow_methods(Any))\n}\n";
    assert_fails_at(&service(&[AXUM, "tower-http = \"0.5\""], tower), "cors-wildcard", "src/main.rs", 5);
    let very = "fn app() -> Router {\n    Router::new().layer(CorsLayer::very_permissive())\n}\n";
    let f = assert_fails_at(&service(&[AXUM, "tower-http = \"0.5\""], very), "cors-wildcard", "src/main.rs", 2);
    assert_eq!(f.severity, Severity::Critical);
}

#[test]
fn cors_from_configuration_passes_and_localhost_only_fails() {
    let cfg = "use tower_http::cors::CorsLayer;\nfn app(origins: Vec<HeaderValue>) -> Router {\n    Router::new().layer(CorsLayer::new().allow_origin(origins).allow_credentials(true))\n}\n#[cfg(test)]\nmod tests {\n    fn t() { CorsLayer::permissive(); }\n}\n";
    let r = service(&[AXUM, "tower-http = \"0.5\""], cfg);
    assert_passes(&r, "cors-wildcard");
    assert_passes(&r, "localhost-in-config");
    let local = "use actix_cors::Cors;\nfn cors() -> Cors {\n    Cors::default().allowed_origin(\"http://localhost:3000\")\n}\n";
    assert_fails_at(&service(&[ACTIX, "actix-cors = \"0.7\""], local), "localhost-in-config", "src/main.rs", 3);
}

// ---------- security ----------

#[test]
fn swagger_ui_body_limit_and_headers() {
    let src = "use utoipa_swagger_ui::SwaggerUi;\nfn app() -> Router {\n    Router::new()\n        .merge(SwaggerUi::new(\"/swagger-ui\").url(\"/api.json\", ApiDoc::openapi()))\n        .layer(DefaultBodyLimit::disable())\n}\n";
    let r = service(&[AXUM], src);
    assert_fails_at(&r, "api-docs-exposed", "src/main.rs", 4);
    assert_fails_at(&r, "upload-unbounded", "src/main.rs", 5);
    assert_missing(&r, "security-headers-missing");
    assert_missing(&r, "rate-limit-missing");
    let fixed = "fn app(cfg: &Config) -> Router {\n    let mut r = Router::new()\n        .layer(SetResponseHeaderLayer::overriding(header::X_FRAME_OPTIONS, HeaderValue::from_static(\"DENY\")))\n        .layer(DefaultBodyLimit::max(10 * 1024 * 1024));\n    if cfg.docs {\n        r = r.merge(SwaggerUi::new(\"/swagger-ui\"));\n    }\n    r\n}\n";
    let r = service(&[AXUM, "tower_governor = \"0.4\""], fixed);
    for id in ["api-docs-exposed", "upload-unbounded", "security-headers-missing", "rate-limit-missing"] {
        assert_passes(&r, id);
    }
    // governor keeps its buckets in process memory.
    let gov = "fn app() -> Router {\n    let conf = GovernorConfigBuilder::default().per_second(2).finish().unwrap();\n    Router::new().layer(GovernorLayer { config: conf })\n}\n";
    assert_fails_at(&service(&[AXUM, "tower_governor = \"0.4\""], gov), "rate-limit-in-memory", "src/main.rs", 2);
}

#[test]
fn weak_hash_jwt_tls_and_sql() {
    let src = "async fn login(State(pool): State<PgPool>, Json(body): Json<Login>) -> impl IntoResponse {\n    let digest = Sha256::digest(body.password.as_bytes());\n    let mut v = Validation::default();\n    v.insecure_disable_signature_validation();\n    let client = reqwest::Client::builder().danger_accept_invalid_certs(true).timeout(T).build();\n    let q = format!(\"SELECT * FROM users WHERE email = '{}'\", body.email);\n    sqlx::query(&q).fetch_one(&pool).await;\n    sqlx::query(\"SELECT * FROM users WHERE email = $1\").bind(&body.email).fetch_one(&pool).await;\n}\n";
    let r = service(&[AXUM], src);
    assert_fails_at(&r, "weak-password-hash", "src/main.rs", 2);
    assert_fails_at(&r, "jwt-verification-disabled", "src/main.rs", 4);
    assert_fails_at(&r, "tls-verify-disabled", "src/main.rs", 5);
    assert_fails_at(&r, "sql-injection-risk", "src/main.rs", 7);
    let safe = "fn etag(body: &[u8]) -> Vec<u8> { Sha256::digest(body).to_vec() }\nfn v() -> Validation { Validation::new(Algorithm::HS256) }\n// danger_accept_invalid_certs(true) is not used\nasync fn q(pool: &PgPool, id: i64) { sqlx::query(\"SELECT * FROM t WHERE id = $1\").bind(id).fetch_one(pool).await; }\n";
    let r = service(&[AXUM], safe);
    for id in ["weak-password-hash", "jwt-verification-disabled", "tls-verify-disabled", "sql-injection-risk"] {
        assert_passes(&r, id);
    }
}

#[test]
fn secret_fallbacks_in_rust() {
    let src = "fn config() -> Config {\n    let secret = std::env::var(\"JWT_SECRET\")\n        .unwrap_or_else(|_| \"dev-secret-change-me\".to_string());\n    let port = std::env::var(\"PORT\").unwrap_or(\"8080\".into());\n    Config { secret, port }\n}\n";
    assert_fails_at(&service(&[AXUM], src), "insecure-default-secret", "src/main.rs", 3);
    let required = "fn config() -> Config {\n    let secret = std::env::var(\"JWT_SECRET\").expect(\"JWT_SECRET must be set\");\n    Config { secret }\n}\n";
    assert_passes(&service(&[AXUM], required), "insecure-default-secret");
}

// ---------- data ----------

#[test]
fn sqlite_default_unbounded_list_and_migrations() {
    let src = "async fn list_items(State(pool): State<SqlitePool>) -> Json<Vec<Item>> {\n    let items = sqlx::query_as::<_, Item>(\"SELECT id, name FROM items\").fetch_all(&pool).await.unwrap();\n    Json(items)\n}\n#[tokio::main]\nasync fn main() {\n    let pool = SqlitePool::connect(\"sqlite://app.db\").await.unwrap();\n    let app = Router::new().route(\"/items\", get(list_items)).with_state(pool);\n}\n";
    let r = service(&[AXUM, "sqlx = { version = \"0.8\", features = [\"sqlite\"] }"], src);
    assert_fails_at(&r, "unbounded-list-endpoint", "src/main.rs", 2);
    assert_fails_at(&r, "sqlite-in-production", "src/main.rs", 7);
    assert_missing(&r, "migrations-missing");
    let fixed = "async fn list_items(State(pool): State<PgPool>, Query(p): Query<Page>) -> Json<Vec<Item>> {\n    let items = sqlx::query_as::<_, Item>(\"SELECT id, name FROM items LIMIT $1 OFFSET $2\").bind(p.limit).bind(p.offset).fetch_all(&pool).await.unwrap();\n    Json(items)\n}\nasync fn main() {\n    let pool = PgPool::connect(&std::env::var(\"DATABASE_URL\").unwrap()).await.unwrap();\n    sqlx::migrate!().run(&pool).await.unwrap();\n}\n";
    let r = service_with(
        &[AXUM, "sqlx = { version = \"0.8\", features = [\"postgres\"] }"],
        &[("src/main.rs", fixed), ("migrations/20240101_items.sql", "CREATE TABLE items (id bigint);\n")],
    );
    for id in ["unbounded-list-endpoint", "sqlite-in-production", "migrations-missing"] {
        assert_passes(&r, id);
    }
}

#[test]
fn uploads_written_to_local_disk() {
    let src = "async fn upload(mut multipart: Multipart) -> StatusCode {\n    while let Some(field) = multipart.next_field().await.unwrap() {\n        let data = field.bytes().await.unwrap();\n        tokio::fs::write(\"uploads/file.bin\", &data).await.unwrap();\n    }\n    StatusCode::OK\n}\n";
    assert_fails_at(&service(&[AXUM], src), "local-file-storage", "src/main.rs", 4);
    let s3 = service(&[AXUM, "aws-sdk-s3 = \"1\""], src);
    assert_passes(&s3, "local-file-storage");
}

// ---------- reliability ----------

#[test]
fn blocking_calls_timeouts_and_swallowed_errors() {
    let src = "async fn report(State(s): State<AppState>) -> impl IntoResponse {\n    std::thread::sleep(Duration::from_secs(1));\n    let body = std::fs::read_to_string(\"r.txt\").unwrap();\n    let res = reqwest::get(\"https://api.example.org\").await;\n    match save(&body) {\n        Ok(_) => {}\n        Err(_) => {}\n    }\n}\nfn startup() { let cfg = std::fs::read_to_string(\"cfg.toml\"); }\n";
    let r = service(&[AXUM, "reqwest = \"0.12\""], src);
    assert_eq!(lines(&r, "blocking-call-in-async"), vec![2, 3]);
    assert_fails_at(&r, "outbound-http-no-timeout", "src/main.rs", 4);
    assert_fails_at(&r, "swallowed-exceptions", "src/main.rs", 7);
    let ok = "async fn report() {\n    tokio::time::sleep(Duration::from_secs(1)).await;\n    let c = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().unwrap();\n    if let Err(e) = save() { tracing::error!(%e, \"save failed\"); }\n}\n";
    let r = service(&[AXUM, "reqwest = \"0.12\""], ok);
    for id in ["blocking-call-in-async", "outbound-http-no-timeout", "swallowed-exceptions"] {
        assert_passes(&r, id);
    }
}

#[test]
fn graceful_shutdown_axum_and_actix() {
    let axum = "#[tokio::main]\nasync fn main() {\n    let listener = tokio::net::TcpListener::bind(\"0.0.0.0:3000\").await.unwrap();\n    axum::serve(listener, app()).await.unwrap();\n}\n";
    assert_fails_at(&service(&[AXUM], axum), "no-graceful-shutdown", "src/main.rs", 4);
    let drained = "async fn main() {\n    axum::serve(listener, app()).with_graceful_shutdown(shutdown_signal()).await.unwrap();\n}\nasync fn shutdown_signal() { tokio::signal::ctrl_c().await.unwrap(); }\n";
    assert_passes(&service(&[AXUM], drained), "no-graceful-shutdown");
    // actix handles SIGTERM itself; turning that off without a handler fails.
    let actix = "#[actix_web::main]\nasync fn main() -> std::io::Result<()> {\n    HttpServer::new(|| App::new()).bind((\"0.0.0.0\", 8080))?.run().await\n}\n";
    assert_eq!(outcome(&service(&[ACTIX], actix), "no-graceful-shutdown"), Outcome::NotApplicable);
    let disabled = "#[actix_web::main]\nasync fn main() -> std::io::Result<()> {\n    HttpServer::new(|| App::new()).disable_signals().bind((\"0.0.0.0\", 8080))?.run().await\n}\n";
    assert_fails_at(&service(&[ACTIX], disabled), "no-graceful-shutdown", "src/main.rs", 3);
}

// ---------- observability ----------

#[test]
fn health_routes_actix_and_axum() {
    let actix = "use actix_web::{get, HttpResponse, Responder};\n#[get(\"/health\")]\nasync fn health() -> impl Responder { HttpResponse::Ok().finish() }\n";
    assert_passes(&service(&[ACTIX], actix), "health-endpoint-missing");
    let resource = "fn config(cfg: &mut web::ServiceConfig) {\n    cfg.service(web::resource(\"/healthz\").route(web::get().to(health)));\n}\n";
    assert_passes(&service(&[ACTIX], resource), "health-endpoint-missing");
    let axum =
        "fn app() -> Router {\n    Router::new().route(\"/ready\", get(ready)).route(\"/users\", get(users))\n}\n";
    let r = service(&[AXUM, "sqlx = \"0.8\""], axum);
    assert_passes(&r, "health-endpoint-missing");
    assert_fails_at(&r, "health-shallow", "src/main.rs", 2);
    let deep = "fn app() -> Router {\n    Router::new().route(\"/ready\", get(ready))\n}\nasync fn ready(State(pool): State<PgPool>) -> StatusCode {\n    match sqlx::query(\"SELECT 1\").execute(&pool).await { Ok(_) => StatusCode::OK, Err(_) => StatusCode::SERVICE_UNAVAILABLE }\n}\n";
    assert_passes(&service(&[AXUM, "sqlx = \"0.8\""], deep), "health-shallow");
    let none = service(&[AXUM], "fn app() -> Router { Router::new().route(\"/users\", get(users)) }\n");
    assert_missing(&none, "health-endpoint-missing");
}

#[test]
fn println_logging_and_fixed_debug_level() {
    let src = "fn main() {\n".to_string()
        + &"    println!(\"step\");\n".repeat(6)
        + "    tracing_subscriber::fmt().with_max_level(tracing::Level::DEBUG).init();\n}\n";
    let r = service(&[AXUM, "tracing-subscriber = \"0.3\""], &src);
    let f = assert_fails_at(&r, "print-logging", "src/main.rs", 2);
    assert!(f.message.starts_with("6 println!() calls"), "{}", f.message);
    assert_fails_at(&r, "log-level-hardcoded", "src/main.rs", 8);
    assert_missing(&r, "structured-logging-missing");
    let json =
        "fn main() {\n    tracing_subscriber::fmt().json().with_env_filter(EnvFilter::from_default_env()).init();\n}\n";
    let r = service(&[AXUM, "tracing-subscriber = { version = \"0.3\", features = [\"json\", \"env-filter\"] }"], json);
    assert_passes(&r, "log-level-hardcoded");
    assert_passes(&r, "structured-logging-missing");
}

// ---------- testing, delivery ----------

#[test]
fn rust_tests_and_lock_file() {
    let main = "fn main() {}\n#[cfg(test)]\nmod tests {\n    #[test]\n    fn works() {}\n}\n";
    let r = service(&[AXUM], main);
    assert_passes(&r, "tests-missing");
    assert_passes(&r, "lockfile-missing");
    let integration =
        service_with(&[AXUM], &[("src/main.rs", "fn main() {}\n"), ("tests/api.rs", "#[test]\nfn health() {}\n")]);
    assert_passes(&integration, "tests-missing");
    let no_lock = scan(&[("Cargo.toml", &cargo(&[AXUM])), ("src/main.rs", "fn main() {}\n")]);
    assert_eq!(outcome(&no_lock, "lockfile-missing"), Outcome::Fail);
    let untested = service(&[AXUM], "fn main() {}\n");
    assert_missing(&untested, "tests-missing");
}

// ---------- found on real services ----------

#[test]
fn query_macros_head_a_fetch_chain() {
    // realworld-axum-sqlx: GET /api/tags returns every distinct tag.
    let src = "pub fn router() -> Router {\n    Router::new().route(\"/api/tags\", get(get_tags))\n}\nasync fn get_tags(ctx: Extension<ApiContext>) -> Result<Json<TagsBody>> {\n    let tags = sqlx::query_scalar!(\n        r#\"select distinct tag from article, unnest (article.tag_list) tags(tag) order by tag\"#\n    )\n    .fetch_all(&ctx.db)\n    .await?;\n    Ok(Json(TagsBody { tags }))\n}\n";
    assert_fails_at(&service(&[AXUM, "sqlx = \"0.5\""], src), "unbounded-list-endpoint", "src/main.rs", 5);
}

#[test]
fn actix_scopes_prefix_their_routes() {
    // realworld-v1-rust-actix-web-diesel: GET /api/healthcheck declared through nested scopes.
    let src = "pub fn api(cfg: &mut web::ServiceConfig) {\n    cfg.service(\n        web::scope(\"/api\")\n            .service(web::scope(\"/healthcheck\").route(\"\", get().to(healthcheck::index)))\n            .service(web::scope(\"/tags\").route(\"\", get().to(tag::index))),\n    );\n}\n";
    assert_passes(&service(&[ACTIX], src), "health-endpoint-missing");
    let no_health = src.replace("/healthcheck", "/users");
    assert_missing(&service(&[ACTIX], &no_health), "health-endpoint-missing");
}

#[test]
fn shipshapes_own_patterns_single_item_routes_and_cli_output() {
    // Found scanning this repository (actix-web): a string naming `axum::serve`
    // imports nothing, `GET /findings/{id}` lists one finding's events, startup
    // code may create a directory, and a clap command prints its output.
    let src = "use actix_web::{get, web};\nconst NOTE: &str = \"axum::serve is not used here\";\n#[get(\"/findings/{id}\")]\nasync fn get_finding(state: web::Data<AppState>, id: web::Path<i32>) -> Result<web::Json<Detail>, AppError> {\n    let events = finding_events::Entity::find().filter(Column::FindingId.eq(*id)).all(&state.db).await?;\n    Ok(web::Json(Detail { events }))\n}\npub async fn connect(dir: &str) { std::fs::create_dir_all(dir).unwrap(); }\n";
    let cli = "#[derive(Debug, clap::Args)]\npub struct ScanArgs {}\npub fn run() {\n".to_string()
        + &"    println!(\"line\");\n".repeat(8)
        + "}\n";
    let r = service_with(&[ACTIX], &[("src/main.rs", src), ("src/scan_cmd.rs", &cli)]);
    assert_eq!(r.stack.frameworks, vec!["actix-web"]);
    for id in ["unbounded-list-endpoint", "blocking-call-in-async", "print-logging"] {
        assert_passes(&r, id);
    }
}

#[test]
fn absurdly_nested_rust_is_skipped_with_a_note() {
    let deep = format!("fn main() {{ let cors = {}1{}; }}\n", "(".repeat(5_000), ")".repeat(5_000));
    let r = service(&[AXUM], &deep);
    assert!(r.notes.iter().any(|n| n.path == "src/main.rs" && n.message.contains("nests too deep")), "{:#?}", r.notes);
}
