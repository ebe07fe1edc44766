//! The dashboard in real headless Chromium, driven through chromedriver
//! (WebDriver) from Rust: sorting and filtering swap the table through htmx
//! and update the URL, a finding's timeline opens, Rescan changes the scan
//! status, and a phone-width viewport never scrolls sideways. Screenshots
//! of the overview, a repository and a finding land in
//! `$CARGO_TARGET_DIR/screenshots` (default `target/screenshots`) for review.
//!
//! Needs Debian's `chromium` and `chromium-driver`; `.ci/test` installs them.
//! Waits are explicit conditions polled until a deadline, never sleeps.

use crate::dashboard::{finding, seed};
use crate::helpers::*;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(15);

/// A chromedriver on a free port, killed on drop.
struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn chromedriver() -> Driver {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver is not installed: apt-get install chromium chromium-driver (bash .ci/test does)");
    let driver = Driver { child, url: format!("http://127.0.0.1:{port}") };
    let http = reqwest::Client::new();
    let deadline = Instant::now() + WAIT;
    while http.get(format!("{}/status", driver.url)).send().await.is_err() {
        assert!(Instant::now() < deadline, "chromedriver did not start within {WAIT:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    driver
}

async fn browser(driver: &Driver) -> Client {
    let mut caps = serde_json::Map::new();
    let binary =
        ["/usr/bin/chromium", "/usr/bin/chromium-browser"].into_iter().find(|p| std::path::Path::new(p).exists());
    let mut options = json!({ "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,1000"] });
    if let Some(b) = binary {
        options["binary"] = json!(b);
    }
    caps.insert("goog:chromeOptions".into(), options);
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    ClientBuilder::new(connector).capabilities(caps).connect(&driver.url).await.expect("start headless Chromium")
}

/// Polls a JavaScript expression until it is true.
async fn wait_for(c: &Client, what: &str, js: &str) {
    let deadline = Instant::now() + WAIT;
    loop {
        let v = c.execute(&format!("return !!({js});"), vec![]).await.expect("script runs");
        if v == json!(true) {
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what} ({js})");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn first_row(c: &Client) -> String {
    c.execute("return document.querySelector('#repo-table tbody tr a').textContent;", vec![])
        .await
        .unwrap()
        .as_str()
        .unwrap()
        .to_string()
}

async fn screenshot(c: &Client, name: &str) {
    let dir = std::path::PathBuf::from(std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into()))
        .join("screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("{name}.png")), c.screenshot().await.unwrap()).unwrap();
}

async fn no_horizontal_overflow(c: &Client, page: &str) {
    let overflow = c
        .execute("return document.documentElement.scrollWidth - document.documentElement.clientWidth;", vec![])
        .await
        .unwrap();
    assert!(overflow.as_i64().unwrap() <= 0, "{page} scrolls sideways on a phone by {overflow}px");
}

#[tokio::test]
async fn the_dashboard_works_in_headless_chromium() {
    let app = spawn_app(Backend::Sqlite).await;
    let seeded = seed(&app.db).await;
    // 25 more, never scanned: 28 repositories make two pages.
    for i in 0..25 {
        add_repository(&app.db, &format!("svc-{i:02}"), &format!("https://git.example.com/svc-{i:02}.git")).await;
    }
    let driver = chromedriver().await;
    let c = browser(&driver).await;

    c.goto(&app.url("/")).await.unwrap();
    wait_for(&c, "the table", "document.querySelectorAll('#repo-table tbody tr').length === 25").await;
    assert_eq!(first_row(&c).await, "acme/api");
    screenshot(&c, "overview").await;

    // The next page, through htmx, with the page in the URL.
    c.find(Locator::Css(".pager a[rel=next]")).await.unwrap().click().await.unwrap();
    wait_for(
        &c,
        "page 2",
        "location.search.includes('page=2') && document.querySelectorAll('#repo-table tbody tr').length === 3",
    )
    .await;
    assert_eq!(first_row(&c).await, "acme/svc-23");

    // Sort by open findings, largest first: a header click swaps the table and updates the URL.
    c.find(Locator::XPath("//th/a[contains(., 'Open findings')]")).await.unwrap().click().await.unwrap();
    wait_for(&c, "sorted URL", "location.search.includes('sort=findings')").await;
    wait_for(&c, "sorted header", "document.querySelector('th[aria-sort=\"descending\"]') !== null").await;
    assert_eq!(first_row(&c).await, "acme/api", "api has the most open findings");
    c.find(Locator::XPath("//th/a[contains(., 'Open findings')]")).await.unwrap().click().await.unwrap();
    wait_for(
        &c,
        "ascending",
        "location.search.includes('dir=asc') && document.querySelector('th[aria-sort=\"ascending\"]')",
    )
    .await;
    assert_ne!(first_row(&c).await, "acme/api");

    // Typing in the filter narrows the table without a page load, keeping the sort.
    c.find(Locator::Css("#filter-q")).await.unwrap().send_keys("bill").await.unwrap();
    wait_for(&c, "filtered table", "document.querySelectorAll('#repo-table tbody tr').length === 1").await;
    assert_eq!(first_row(&c).await, "acme/billing");
    wait_for(&c, "filter in URL", "location.search.includes('q=bill') && location.search.includes('sort=findings')")
        .await;

    // A finding's timeline, from the repository page.
    let (api_id, _) = &seeded.repos[0];
    let f = finding(&app.db, *api_id, "cors-wildcard").await;
    c.goto(&app.url("/repos/acme/api")).await.unwrap();
    wait_for(&c, "repository page", "document.querySelector('#scan-status button') !== null").await;
    screenshot(&c, "repository").await;
    c.find(Locator::Css(&format!("a[href='/findings/{}']", f.id))).await.unwrap().click().await.unwrap();
    wait_for(&c, "the timeline", "document.querySelectorAll('#timeline li').length >= 1").await;
    screenshot(&c, "finding").await;

    // Rescan: the button turns into the polling status.
    c.back().await.unwrap();
    wait_for(&c, "repository page again", "document.querySelector('#scan-status button') !== null").await;
    c.find(Locator::Css("#scan-status button")).await.unwrap().click().await.unwrap();
    wait_for(&c, "queued status", "document.querySelector('#scan-status').textContent.includes('Scan queued')").await;

    // A phone: nothing scrolls sideways.
    c.set_window_size(390, 844).await.unwrap();
    for path in ["/", "/repos/acme/api", &format!("/findings/{}", f.id), "/checks", "/admin"] {
        c.goto(&app.url(path)).await.unwrap();
        wait_for(&c, "page loaded", "document.readyState === 'complete'").await;
        no_horizontal_overflow(&c, path).await;
    }
    c.goto(&app.url("/")).await.unwrap();
    screenshot(&c, "overview-phone").await;
    c.close().await.unwrap();
}

/// Signing in with GitHub in a real browser, on Postgres: the redirects, the
/// cookie and the CSRF header htmx sends from the page all work together.
#[tokio::test]
async fn signing_in_with_github_and_rescanning_in_headless_chromium() {
    let fake = crate::auth::provider();
    let app = crate::auth::github_app(Backend::Postgres, &fake, |_| {}).await;
    seed(&app.db).await;
    fake.sign_in_as(Some("bob"));
    let driver = chromedriver().await;
    let c = browser(&driver).await;

    c.goto(&app.url("/repos/acme/api")).await.unwrap();
    wait_for(&c, "the sign-in page", "document.querySelector('#sign-in') !== null").await;
    screenshot(&c, "sign-in").await;
    c.find(Locator::Id("sign-in")).await.unwrap().click().await.unwrap();
    wait_for(
        &c,
        "back on the repository page",
        "location.pathname === '/repos/acme/api' && document.querySelector('#scan-status button') !== null",
    )
    .await;
    let who = c.execute("return document.querySelector('.who .login').textContent;", vec![]).await.unwrap();
    assert!(who.as_str().unwrap().contains("bob"), "{who}");
    let admin_link = c.execute("return document.querySelector('a[href=\"/admin\"]') === null;", vec![]).await.unwrap();
    assert_eq!(admin_link, json!(true), "bob is a viewer: no Admin entry");

    // Rescan goes through htmx, which sends the page's CSRF token as a header.
    c.find(Locator::Css("#scan-status button")).await.unwrap().click().await.unwrap();
    wait_for(&c, "queued status", "document.querySelector('#scan-status').textContent.includes('Scan queued')").await;

    // Sign out from the header.
    c.find(Locator::Css(".who button")).await.unwrap().click().await.unwrap();
    wait_for(
        &c,
        "signed out",
        "location.pathname === '/login' && document.body.textContent.includes('You are signed out')",
    )
    .await;
    c.goto(&app.url("/")).await.unwrap();
    wait_for(&c, "the sign-in page again", "document.querySelector('#sign-in') !== null").await;
    c.close().await.unwrap();
    app.stop().await;
}
