//! `spawn_app()` and friends: start the real application against a fresh
//! database and talk to it over HTTP.
//!
//! Postgres comes from `TEST_DATABASE_URL` (default: the local server at
//! 127.0.0.1:5432 as user postgres, maintenance database `test`); every
//! test creates its own uniquely named database and drops it afterwards.

#![allow(dead_code)]

use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use shipshape::config::{Environment, Settings};
use shipshape::startup::Application;
use std::time::Duration;

pub const DEFAULT_PG: &str = "postgres://postgres@127.0.0.1:5432/test";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs the same async test body on SQLite and on Postgres, as two tests.
#[macro_export]
macro_rules! on_both_databases {
    ($(async fn $name:ident($backend:ident) $body:block)*) => {
        $(
            mod $name {
                #[allow(unused_imports)]
                use super::*;
                async fn run($backend: $crate::helpers::Backend) $body
                #[tokio::test]
                async fn sqlite() { run($crate::helpers::Backend::Sqlite).await }
                #[tokio::test]
                async fn postgres() { run($crate::helpers::Backend::Postgres).await }
            }
        )*
    };
}

/// A database of its own for one test; dropped (Postgres) or deleted
/// (SQLite) when the value is dropped.
pub struct TestDb {
    pub url: String,
    pub backend: Backend,
    pg_name: Option<String>,
    admin_url: String,
    pub dir: tempfile::TempDir,
}

impl TestDb {
    pub async fn new(backend: Backend) -> TestDb {
        let dir = tempfile::tempdir().expect("temp dir");
        let admin_url = std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_PG.to_string());
        match backend {
            Backend::Sqlite => {
                let url = format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display());
                TestDb { url, backend, pg_name: None, admin_url, dir }
            }
            Backend::Postgres => {
                let name = format!("shipshape_test_{}", uuid::Uuid::new_v4().simple());
                let admin = Database::connect(&admin_url).await.unwrap_or_else(|e| {
                    panic!("Postgres at {admin_url} is not reachable ({e}); start it (see .ci/run) or set TEST_DATABASE_URL")
                });
                admin.execute_unprepared(&format!("CREATE DATABASE \"{name}\"")).await.expect("create test database");
                admin.close().await.ok();
                let mut url = url::Url::parse(&admin_url).expect("TEST_DATABASE_URL is a URL");
                url.set_path(&format!("/{name}"));
                TestDb { url: url.to_string(), backend, pg_name: Some(name), admin_url, dir }
            }
        }
    }

    pub async fn connect(&self) -> DatabaseConnection {
        Database::connect(&self.url).await.expect("connect to test database")
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some(name) = self.pg_name.take() else { return };
        let admin_url = self.admin_url.clone();
        // Drop cannot await: use a short-lived runtime on another thread.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            rt.block_on(async {
                if let Ok(admin) = Database::connect(&admin_url).await {
                    let _ = admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).await;
                    admin.close().await.ok();
                }
            });
        })
        .join();
    }
}

/// No environment: tests must not depend on the developer's shell.
pub struct NoEnv;

impl Environment for NoEnv {
    fn var(&self, _: &str) -> Option<String> {
        None
    }
}

/// Settings for a test: defaults, a random port, the given database, a temp data dir.
pub fn test_settings(db: &TestDb) -> Settings {
    test_settings_with_env(db, &NoEnv)
}

/// `test_settings` reading secrets from `env`.
pub fn test_settings_with_env(db: &TestDb, env: &dyn Environment) -> Settings {
    test_settings_custom(db, env, |f| f)
}

/// `test_settings` with more values merged last.
pub fn test_settings_with(db: &TestDb, customise: impl FnOnce(figment::Figment) -> figment::Figment) -> Settings {
    test_settings_custom(db, &NoEnv, customise)
}

/// `test_settings` read from a configuration file (`--config`) named `name`
/// holding `text`, as an operator's would be.
///
/// # Errors
/// The configuration error, so tests can check what an operator is told.
pub fn test_settings_from_file(
    db: &TestDb,
    name: &str,
    text: &str,
) -> Result<Settings, shipshape::config::ConfigError> {
    settings_from(db, Some((name.to_string(), text.to_string())), &NoEnv, |f| f)
}

pub fn test_settings_custom(
    db: &TestDb,
    env: &dyn Environment,
    customise: impl FnOnce(figment::Figment) -> figment::Figment,
) -> Settings {
    settings_from(db, None, env, customise).expect("test settings are valid")
}

fn settings_from(
    db: &TestDb,
    file: Option<(String, String)>,
    env: &dyn Environment,
    customise: impl FnOnce(figment::Figment) -> figment::Figment,
) -> Result<Settings, shipshape::config::ConfigError> {
    let url = db.url.clone();
    let data_dir = db.dir.path().join("data");
    Settings::build(file, &[], env, |f| {
        let f = f
            .merge(("server.bind", "127.0.0.1:0"))
            .merge(("server.workers", 1))
            .merge(("server.shutdown_timeout_secs", 1))
            .merge(("worker.enabled", false))
            .merge(("scheduler.enabled", false))
            .merge(("database.url", url))
            .merge(("data_dir", data_dir.display().to_string()));
        customise(f)
    })
}

pub struct TestApp {
    pub address: String,
    pub port: u16,
    pub db: DatabaseConnection,
    /// Keeps cookies like a browser; in local mode it holds a session whose
    /// CSRF token is `csrf`.
    pub client: reqwest::Client,
    pub csrf: String,
    pub backend: Backend,
    handle: actix_web::dev::ServerHandle,
    pub test_db: TestDb,
    pub settings: Settings,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.expect("request sent")
    }

    /// A POST as the dashboard's own pages send it: the session cookie and
    /// its CSRF token.
    pub fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.client.post(self.url(path)).header("X-CSRF-Token", &self.csrf)
    }

    pub async fn stop(&self) {
        self.handle.stop(true).await;
    }
}

/// Starts the real application on a random port against a fresh database.
pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |_| {}).await
}

/// [`spawn_app`] with the test settings adjusted first (e.g. pointed at a fake GitHub).
pub async fn spawn_app_with(backend: Backend, customise: impl FnOnce(&mut Settings)) -> TestApp {
    let test_db = TestDb::new(backend).await;
    let mut settings = test_settings(&test_db);
    customise(&mut settings);
    spawn_app_on(test_db, settings).await
}

/// Starts the real application with the given settings on `test_db`.
pub async fn spawn_app_on(test_db: TestDb, settings: Settings) -> TestApp {
    let backend = test_db.backend;
    let app = Application::build(settings.clone()).await.expect("application builds");
    let port = app.port();
    let db = app.db.clone();
    let handle = app.handle();
    tokio::spawn(app.run_until_stopped());
    let client = browser_client();
    let address = format!("http://127.0.0.1:{port}");
    let csrf = if settings.auth.mode == shipshape::config::AuthMode::Local {
        csrf_of(&client, &format!("{address}/checks")).await
    } else {
        String::new()
    };
    TestApp { address, port, db, client, csrf, backend, handle, test_db, settings }
}

/// A client that keeps cookies and does not follow redirects, so tests see them.
pub fn browser_client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client")
}

/// A page's HTML as `client` sees it; the page must answer 200.
pub async fn page_text(client: &reqwest::Client, url: String) -> String {
    let res = client.get(&url).send().await.expect("page request");
    assert_eq!(res.status(), 200, "{url}");
    res.text().await.expect("page body")
}

/// The CSRF token a page gives `client` (from its `csrf-token` meta tag).
pub async fn csrf_of(client: &reqwest::Client, url: &str) -> String {
    let page = client.get(url).send().await.expect("page request").text().await.expect("page body");
    csrf_in(&page).unwrap_or_else(|| panic!("{url} has no csrf-token meta tag"))
}

/// The CSRF token in a rendered page.
pub fn csrf_in(page: &str) -> Option<String> {
    let start = page.find("<meta name=\"csrf-token\" content=\"")? + "<meta name=\"csrf-token\" content=\"".len();
    let len = page[start..].find('"')?;
    Some(page[start..start + len].to_string()).filter(|t| !t.is_empty())
}

/// Inserts a tracked repository `acme/<name>` cloned from `url`; returns its id.
pub async fn add_repository(db: &DatabaseConnection, name: &str, url: &str) -> i32 {
    use sea_orm::{ActiveModelTrait, Set};
    use shipshape::db::entities::repositories::{ActiveModel, Provider};
    let now = shipshape::db::db_time(chrono::Utc::now());
    let provider = if url.starts_with("file://") { Provider::Local } else { Provider::Git };
    ActiveModel {
        provider: Set(provider),
        owner: Set("acme".into()),
        name: Set(name.into()),
        clone_url: Set(url.into()),
        default_branch: Set("main".into()),
        archived: Set(false),
        enabled: Set(true),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("insert repository")
    .id
}

/// The real `shipshape` binary, run in `dir` with an empty environment but
/// PATH, as an operator's fresh shell would.
pub fn shipshape(dir: &std::path::Path) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_shipshape"));
    cmd.current_dir(dir).env_clear().env("PATH", std::env::var("PATH").unwrap_or_default());
    cmd
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A worker on a cache dir with local clones allowed, no GitHub and no mail:
/// what most tests run `run_once` with (set `github` or `lease` on it as needed).
pub fn worker_config(cache: &std::path::Path, max_files: u64) -> shipshape::jobs::worker::WorkerConfig {
    shipshape::jobs::worker::WorkerConfig {
        id: "worker-test".into(),
        lease: Duration::from_secs(60),
        checkout: shipshape::checkout::CheckoutPolicy {
            cache_dir: cache.to_path_buf(),
            max_bytes: 50 * 1024 * 1024,
            max_files,
            timeout: Duration::from_secs(30),
            allow_local: true,
        },
        github: None,
        digests: None,
        metrics: Default::default(),
        notify: None,
        policy: Default::default(),
    }
}
