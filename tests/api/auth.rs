//! Sign-in, sessions, CSRF, roles and API tokens, end to end: the real app
//! against the fake GitHub (which is also a generic OAuth2 provider), driven
//! the way a browser drives it: cookies kept, every redirect followed by
//! hand so each hop can be checked.

use crate::helpers::*;
use crate::on_both_databases;
use reqwest::{Client, Response, StatusCode};
use sea_orm::EntityTrait;
use serde_json::Value;
use shipshape::config::{AuthMode, Secret, Settings};
use shipshape::db::entities::{api_tokens, users};
use shipshape_testkit::fake_github::FakeGithub;
use shipshape_testkit::fake_oauth::Person;
use std::time::Duration;

const CLIENT_ID: &str = "Iv1.shipshape-test";
const CLIENT_SECRET: &str = "test-client-secret";

/// The fake with its OAuth app and people: alice (acme, admin by config),
/// bob (acme), dave (team other/platform), carol (nowhere).
pub fn provider() -> FakeGithub {
    let fake = FakeGithub::start(100);
    fake.oauth_app(CLIENT_ID, CLIENT_SECRET);
    fake.add_person(Person::new("alice").in_org("acme"));
    fake.add_person(Person::new("bob").in_org("acme"));
    fake.add_person(Person::new("dave").in_team("other/platform"));
    fake.add_person(Person::new("carol").in_org("elsewhere"));
    fake
}

/// The app in `github` mode on a port known in advance, so the callback URL
/// the provider redirects to is the app's own.
pub async fn github_app(backend: Backend, fake: &FakeGithub, customise: impl FnOnce(&mut Settings)) -> TestApp {
    let port = free_port();
    spawn_app_with(backend, |s| {
        s.server.bind = format!("127.0.0.1:{port}").parse().unwrap();
        s.server.public_url = format!("http://127.0.0.1:{port}").parse().unwrap();
        s.github.api_url = fake.url.parse().unwrap();
        s.auth.mode = AuthMode::Github;
        s.auth.client_id = CLIENT_ID.into();
        s.auth.client_secret = Some(Secret::from(CLIENT_SECRET.to_string()));
        s.auth.github.web_url = fake.url.parse().unwrap();
        s.auth.github.allowed_orgs = vec!["acme".into()];
        s.auth.github.allowed_teams = vec!["other/platform".into()];
        s.auth.admins = vec!["alice".into()];
        customise(s);
    })
    .await
}

fn location(res: &Response) -> String {
    res.headers().get("location").map(|l| l.to_str().unwrap().to_string()).unwrap_or_default()
}

fn encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Starts a sign-in in `client` and follows it to the provider, which
/// answers as `who` would; returns the callback URL the provider sent the
/// browser back to (not yet visited).
async fn to_callback(app: &TestApp, fake: &FakeGithub, client: &Client, who: Option<&str>, return_to: &str) -> String {
    fake.sign_in_as(who);
    let start = client.get(app.url(&format!("/auth/login?return_to={}", encode(return_to)))).send().await.unwrap();
    assert_eq!(start.status(), StatusCode::SEE_OTHER);
    let authorize = location(&start);
    assert!(authorize.starts_with(&fake.url), "off to the provider: {authorize}");
    for param in ["code_challenge_method=S256", "state=", &format!("client_id={}", encode(CLIENT_ID))] {
        assert!(authorize.contains(param), "{param} in {authorize}");
    }
    let back = client.get(&authorize).send().await.unwrap();
    assert_eq!(back.status(), StatusCode::FOUND, "{}", back.text().await.unwrap());
    let callback = location(&back);
    assert!(callback.starts_with(&app.url("/auth/callback?")), "{callback}");
    callback
}

/// A complete sign-in in a fresh browser; returns it with the final answer.
async fn sign_in(app: &TestApp, fake: &FakeGithub, who: &str, return_to: &str) -> (Client, Response) {
    let client = browser_client();
    let callback = to_callback(app, fake, &client, Some(who), return_to).await;
    let done = client.get(&callback).send().await.unwrap();
    (client, done)
}

/// Signs in and checks it worked; returns the browser and its CSRF token.
pub async fn signed_in(app: &TestApp, fake: &FakeGithub, who: &str) -> (Client, String) {
    let (client, done) = sign_in(app, fake, who, "/").await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER, "{who} signs in: {}", done.text().await.unwrap());
    let csrf = csrf_of(&client, &app.url("/checks")).await;
    (client, csrf)
}

/// The token a page shows once, after it was made.
fn new_token(html: &str) -> String {
    const MARK: &str = "<code id=\"new-token\" class=\"secret\">";
    let start = html.find(MARK).expect("the new token is shown") + MARK.len();
    html[start..start + html[start..].find('<').unwrap()].to_string()
}

fn param(url: &str, name: &str) -> String {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

pub async fn body(res: Response) -> String {
    res.text().await.unwrap()
}

on_both_databases! {
    async fn a_full_github_sign_in_brings_people_back_where_they_were_going(backend) {
        let fake = provider();
        let app = github_app(backend, &fake, |_| {}).await;
        let repo = add_repository(&app.db, "api", "https://git.example.com/api.git").await;

        // Nobody signed in: people are sent to sign in, programs get 401, probes and badges stay open.
        let anonymous = browser_client();
        let page = anonymous.get(app.url("/repos/acme/api?range=30")).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&page), "/login?return_to=%2Frepos%2Facme%2Fapi%3Frange%3D30");
        let api = anonymous.get(app.url("/api/v1/repositories")).send().await.unwrap();
        assert_eq!(api.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(api.headers()["www-authenticate"], "Bearer realm=\"shipshape\"");
        assert_eq!(api.json::<Value>().await.unwrap()["code"], "unauthorized");
        assert_eq!(anonymous.get(app.url("/healthz")).send().await.unwrap().status(), 200);
        assert_eq!(anonymous.get(app.url("/readyz")).send().await.unwrap().status(), 200);
        assert_eq!(anonymous.get(app.url("/metrics")).send().await.unwrap().status(), StatusCode::UNAUTHORIZED, "metrics are private by default");
        assert_ne!(anonymous.get(app.url("/badge/acme/api.svg")).send().await.unwrap().status(), StatusCode::UNAUTHORIZED, "badges are public by default");
        let htmx = anonymous.get(app.url("/repos/acme/api/scan-status")).header("HX-Request", "true").send().await.unwrap();
        assert_eq!(htmx.status(), StatusCode::UNAUTHORIZED);
        assert!(htmx.headers()["hx-redirect"].to_str().unwrap().starts_with("/login?return_to="));
        let login = body(anonymous.get(app.url("/login?return_to=%2Frepos%2Facme%2Fapi")).send().await.unwrap()).await;
        assert!(login.contains("Sign in with GitHub") && login.contains("/auth/login?return_to=%2Frepos%2Facme%2Fapi"), "{login}");

        // alice signs in and lands on the page she asked for.
        let (alice, done) = sign_in(&app, &fake, "alice", "/repos/acme/api?range=30").await;
        assert_eq!(done.status(), StatusCode::SEE_OTHER, "{}", body(done).await);
        assert_eq!(location(&done), "/repos/acme/api?range=30");
        let cookie = done.headers().get_all("set-cookie").iter().map(|c| c.to_str().unwrap().to_string())
            .find(|c| c.starts_with("shipshape_session=")).expect("a session cookie");
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && !cookie.contains("Secure"), "{cookie}");
        assert!(!cookie.contains("alice"), "the cookie is encrypted: {cookie}");
        let page = alice.get(app.url("/repos/acme/api")).send().await.unwrap();
        assert_eq!(page.status(), 200);
        let html = body(page).await;
        assert!(html.contains("alice") && html.contains("Sign out") && html.contains("href=\"/admin\""), "header shows alice, an admin");
        assert_eq!(alice.get(app.url("/api/v1/repositories")).send().await.unwrap().status(), 200, "the session works for the API too");
        assert_eq!(alice.get(app.url("/metrics")).send().await.unwrap().status(), 200);
        assert_eq!(alice.get(app.url("/login")).send().await.unwrap().status(), StatusCode::SEE_OTHER, "signed in: no sign-in page");

        let alice_row = users::Entity::find().all(&app.db).await.unwrap();
        assert_eq!(alice_row.len(), 1);
        assert_eq!((alice_row[0].login.as_str(), alice_row[0].role, alice_row[0].provider.as_str()), ("alice", users::Role::Admin, "github"));
        assert_eq!(alice_row[0].email.as_deref(), Some("alice@example.com"));

        // bob (same org) is a viewer: he reads and rescans, but cannot administer.
        let (bob, bob_csrf) = signed_in(&app, &fake, "bob").await;
        let html = body(bob.get(app.url("/")).send().await.unwrap()).await;
        assert!(html.contains("bob") && !html.contains("href=\"/admin\""), "no Admin entry for a viewer");
        let admin = bob.get(app.url("/admin")).send().await.unwrap();
        assert_eq!(admin.status(), StatusCode::FORBIDDEN);
        assert!(body(admin).await.contains("bob is a viewer"), "a page that says why");
        let disable = bob.post(app.url(&format!("/admin/repos/{repo}/enabled"))).header("X-CSRF-Token", &bob_csrf).form(&[("enabled", "false")]).send().await.unwrap();
        assert_eq!(disable.status(), StatusCode::FORBIDDEN, "a viewer posting to an admin route");
        assert!(shipshape::db::entities::repositories::Entity::find_by_id(repo).one(&app.db).await.unwrap().unwrap().enabled);
        let rescan = bob.post(app.url("/repos/acme/api/rescan")).header("X-CSRF-Token", &bob_csrf).send().await.unwrap();
        assert_eq!(rescan.status(), StatusCode::SEE_OTHER, "viewers may queue a rescan");

        // dave gets in through his team; alice promotes him; he administers at once.
        let (dave, dave_csrf) = signed_in(&app, &fake, "dave").await;
        assert_eq!(dave.get(app.url("/admin")).send().await.unwrap().status(), StatusCode::FORBIDDEN);
        let alice_csrf = csrf_of(&alice, &app.url("/admin/users")).await;
        let dave_id = users::Entity::find().all(&app.db).await.unwrap().into_iter().find(|u| u.login == "dave").unwrap().id;
        let promote = alice.post(app.url(&format!("/admin/users/{dave_id}/role"))).form(&[("role", "admin"), ("csrf_token", alice_csrf.as_str())]).send().await.unwrap();
        assert_eq!(promote.status(), StatusCode::SEE_OTHER);
        assert_eq!(dave.get(app.url("/admin")).send().await.unwrap().status(), 200, "the new role applies to the open session");
        let alice_id = users::Entity::find().all(&app.db).await.unwrap().into_iter().find(|u| u.login == "alice").unwrap().id;
        let demote_alice = dave.post(app.url(&format!("/admin/users/{alice_id}/role"))).header("X-CSRF-Token", &dave_csrf).form(&[("role", "viewer")]).send().await.unwrap();
        assert_eq!(demote_alice.status(), StatusCode::CONFLICT, "a configured admin cannot be demoted in the UI");

        // Signing out ends the session.
        let out = alice.post(app.url("/logout")).header("X-CSRF-Token", &alice_csrf).send().await.unwrap();
        assert_eq!((out.status(), location(&out).as_str()), (StatusCode::SEE_OTHER, "/login?signed_out=1"));
        let after = alice.get(app.url("/")).send().await.unwrap();
        assert_eq!((after.status(), location(&after).as_str()), (StatusCode::SEE_OTHER, "/login?return_to=%2F"));
        app.stop().await;
    }

    async fn api_tokens_are_shown_once_stored_hashed_scoped_and_revocable(backend) {
        let fake = provider();
        let app = github_app(backend, &fake, |_| {}).await;
        let repo = add_repository(&app.db, "api", "https://git.example.com/api.git").await;
        let (alice, csrf) = signed_in(&app, &fake, "alice").await;

        let make = |name: &'static str, scope: &'static str| {
            alice.post(app.url("/admin/tokens")).form(&[("name", name), ("scope", scope), ("expires_in_days", "30"), ("csrf_token", csrf.as_str())]).send()
        };
        let read_page = make("prometheus", "read").await.unwrap();
        assert_eq!(read_page.status(), 200);
        assert_eq!(read_page.headers()["cache-control"], "no-store");
        let html = body(read_page).await;
        let read = new_token(&html);
        assert!(read.starts_with("ssp_") && read.len() > 40, "{read}");
        let admin_token = new_token(&body(make("release-ci", "admin").await.unwrap()).await);

        let listing = body(alice.get(app.url("/admin/tokens")).send().await.unwrap()).await;
        assert!(!listing.contains(&read) && listing.contains(&read[..12]), "listed by prefix, never shown again");
        let stored = api_tokens::Entity::find().all(&app.db).await.unwrap();
        assert_eq!(stored.len(), 2);
        assert!(stored.iter().all(|t| !t.token_hash.contains(&read[4..]) && t.token_hash.len() == 64), "only hashes are stored");
        assert!(stored.iter().all(|t| t.expires_at.is_some()));

        // Programs use them without any cookie.
        let program = reqwest::Client::new();
        let list = program.get(app.url("/api/v1/repositories")).bearer_auth(&read).send().await.unwrap();
        assert_eq!(list.status(), 200);
        assert_eq!(list.json::<Value>().await.unwrap()["items"][0]["name"], "api");
        assert_eq!(program.get(app.url("/metrics")).bearer_auth(&read).send().await.unwrap().status(), 200, "Prometheus scrapes with a read token");
        let scan = format!("/api/v1/repositories/{repo}/scans");
        let refused = program.post(app.url(&scan)).bearer_auth(&read).send().await.unwrap();
        assert_eq!(refused.status(), StatusCode::FORBIDDEN, "a read token does not write");
        assert!(body(refused).await.contains("read-only"));
        let queued = program.post(app.url(&scan)).bearer_auth(&admin_token).send().await.unwrap();
        assert_eq!(queued.status(), StatusCode::ACCEPTED, "an admin token writes without a CSRF token");
        let job_id = queued.json::<Value>().await.unwrap()["job"]["id"].as_i64().unwrap() as i32;
        let job = shipshape::db::entities::jobs::Entity::find_by_id(job_id).one(&app.db).await.unwrap().unwrap();
        assert_eq!(job.payload.unwrap()["requested_by"], "alice", "on its owner's behalf");
        let used = api_tokens::Entity::find().all(&app.db).await.unwrap();
        assert!(used.iter().all(|t| t.last_used_at.is_some()), "last use is recorded");

        // Revoked, it stops working at once; an unknown one never worked.
        let id = used.iter().find(|t| t.name == "prometheus").unwrap().id;
        let revoke = alice.post(app.url(&format!("/admin/tokens/{id}/revoke"))).header("X-CSRF-Token", &csrf).send().await.unwrap();
        assert_eq!(revoke.status(), StatusCode::SEE_OTHER);
        let gone = program.get(app.url("/api/v1/repositories")).bearer_auth(&read).send().await.unwrap();
        assert_eq!(gone.status(), StatusCode::UNAUTHORIZED);
        assert!(body(gone).await.contains("unknown, revoked or expired"));
        let forged = format!("ssp_{}", "A".repeat(43));
        assert_eq!(program.get(app.url("/api/v1/repositories")).bearer_auth(&forged).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);

        // Only admins make tokens.
        let (bob, bob_csrf) = signed_in(&app, &fake, "bob").await;
        let by_viewer = bob.post(app.url("/admin/tokens")).form(&[("name", "mine"), ("scope", "admin"), ("csrf_token", bob_csrf.as_str())]).send().await.unwrap();
        assert_eq!(by_viewer.status(), StatusCode::FORBIDDEN);
        assert_eq!(api_tokens::Entity::find().all(&app.db).await.unwrap().len(), 2);
        app.stop().await;
    }
}

#[tokio::test]
async fn a_wrong_state_a_replayed_or_stolen_code_and_a_refusal_sign_nobody_in() {
    let fake = provider();
    let app = github_app(Backend::Sqlite, &fake, |_| {}).await;

    // The state in the answer is not this browser's.
    let browser = browser_client();
    let callback = to_callback(&app, &fake, &browser, Some("alice"), "/").await;
    let tampered = regex::Regex::new("state=[^&]+").unwrap().replace(&callback, "state=forged").to_string();
    let res = browser.get(&tampered).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(body(res).await.contains("state mismatch"));
    assert_eq!(browser.get(app.url("/")).send().await.unwrap().status(), StatusCode::SEE_OTHER, "not signed in");
    assert_eq!(fake.code_exchanges(), 0, "the code was never redeemed");

    // A callback this browser never started (a link from someone else).
    let stranger = browser_client();
    let res = stranger.get(&callback).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(body(res).await.contains("not started here"));

    // A code stolen from one browser, redeemed in an attacker's own sign-in: PKCE stops it.
    let victim = browser_client();
    let victims = to_callback(&app, &fake, &victim, Some("alice"), "/").await;
    let code = param(&victims, "code");
    let attacker = browser_client();
    let own = to_callback(&app, &fake, &attacker, Some("carol"), "/").await;
    let state = param(&own, "state");
    let swapped = app.url(&format!("/auth/callback?code={code}&state={state}"));
    let res = attacker.get(&swapped).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(body(res).await.contains("did not accept the sign-in code"));
    assert_eq!(attacker.get(app.url("/")).send().await.unwrap().status(), StatusCode::SEE_OTHER);

    // A code used once cannot be used again: not in the same browser (nothing is pending
    // any more), not with the state of a fresh sign-in (the provider refuses it).
    let bob = browser_client();
    let bobs = to_callback(&app, &fake, &bob, Some("bob"), "/").await;
    assert_eq!(bob.get(&bobs).send().await.unwrap().status(), StatusCode::SEE_OTHER);
    let replay = bob.get(&bobs).send().await.unwrap();
    assert_eq!(replay.status(), StatusCode::BAD_REQUEST);
    let again = browser_client();
    let fresh = to_callback(&app, &fake, &again, Some("bob"), "/").await;
    let replayed = app.url(&format!("/auth/callback?code={}&state={}", param(&bobs, "code"), param(&fresh, "state")));
    let res = again.get(&replayed).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(body(res).await.contains("incorrect or expired"), "the provider refuses a used code");
    assert_eq!(again.get(app.url("/")).send().await.unwrap().status(), StatusCode::SEE_OTHER);

    // The user clicks Cancel at the provider.
    let cancelled = browser_client();
    let back = to_callback(&app, &fake, &cancelled, None, "/").await;
    let res = cancelled.get(&back).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(body(res).await.contains("denied your application access"));
    assert_eq!(users::Entity::find().all(&app.db).await.unwrap().len(), 1, "only bob ever signed in");
    app.stop().await;
}

#[tokio::test]
async fn people_outside_the_allowed_orgs_and_teams_are_refused() {
    let fake = provider();
    let app = github_app(Backend::Sqlite, &fake, |_| {}).await;
    let (carol, refused) = sign_in(&app, &fake, "carol", "/").await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let page = body(refused).await;
    assert!(page.contains("carol is not allowed to use this Shipshape"), "{page}");
    assert_eq!(carol.get(app.url("/")).send().await.unwrap().status(), StatusCode::SEE_OTHER, "no session");
    assert!(users::Entity::find().all(&app.db).await.unwrap().is_empty(), "no user row for a refused sign-in");
    app.stop().await;

    // Named users get in without any membership.
    let app = github_app(Backend::Sqlite, &fake, |s| s.auth.github.allowed_users = vec!["Carol".into()]).await;
    let (_, ok) = sign_in(&app, &fake, "carol", "/").await;
    assert_eq!(ok.status(), StatusCode::SEE_OTHER, "logins compare case-insensitively");
    app.stop().await;
}

#[tokio::test]
async fn state_changes_need_the_sessions_csrf_token_in_a_header_or_the_form() {
    let fake = provider();
    let app = github_app(Backend::Postgres, &fake, |_| {}).await;
    let repo = add_repository(&app.db, "api", "https://git.example.com/api.git").await;
    let (alice, csrf) = signed_in(&app, &fake, "alice").await;
    let path = app.url(&format!("/admin/repos/{repo}/enabled"));
    let enabled = || async {
        shipshape::db::entities::repositories::Entity::find_by_id(repo).one(&app.db).await.unwrap().unwrap().enabled
    };

    let missing = alice.post(&path).form(&[("enabled", "false")]).send().await.unwrap();
    assert_eq!(missing.status(), StatusCode::FORBIDDEN);
    let page = body(missing).await;
    assert!(page.contains("CSRF token") && page.contains("<html"), "people get a page saying what to do: {page}");
    let wrong =
        alice.post(&path).header("X-CSRF-Token", "not-the-token").form(&[("enabled", "false")]).send().await.unwrap();
    assert_eq!(wrong.status(), StatusCode::FORBIDDEN);
    // Another user's token is no good either.
    let (_, bobs) = signed_in(&app, &fake, "bob").await;
    let other = alice.post(&path).form(&[("enabled", "false"), ("csrf_token", bobs.as_str())]).send().await.unwrap();
    assert_eq!(other.status(), StatusCode::FORBIDDEN);
    assert!(enabled().await, "nothing changed");

    // The form field (plain HTML forms) and the header (htmx) both work, and the handler still reads the form.
    let by_form = alice.post(&path).form(&[("csrf_token", csrf.as_str()), ("enabled", "false")]).send().await.unwrap();
    assert_eq!(by_form.status(), StatusCode::SEE_OTHER);
    assert!(!enabled().await);
    let by_header = alice.post(&path).header("X-CSRF-Token", &csrf).form(&[("enabled", "true")]).send().await.unwrap();
    assert_eq!(by_header.status(), StatusCode::SEE_OTHER);
    assert!(enabled().await);

    // Every form the pages render carries the token.
    for page in ["/admin", "/admin/tokens", "/admin/users", "/admin/digest", "/repos/acme/api"] {
        let html = body(alice.get(app.url(page)).send().await.unwrap()).await;
        let forms = html.matches("method=\"post\"").count();
        let tokens = html.matches(&format!("name=\"csrf_token\" value=\"{csrf}\"")).count();
        assert!(forms > 0 && tokens >= forms, "{page}: {forms} forms, {tokens} tokens");
    }
    app.stop().await;
}

#[tokio::test]
async fn return_urls_cannot_send_people_to_another_site() {
    let fake = provider();
    let app = github_app(Backend::Sqlite, &fake, |_| {}).await;
    for hostile in ["https://evil.example/phish", "//evil.example/phish", "/\\evil.example", "javascript:alert(1)"] {
        let (_, done) = sign_in(&app, &fake, "bob", hostile).await;
        assert_eq!(done.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&done), "/", "{hostile} is refused");
    }
    let login =
        body(browser_client().get(app.url("/login?return_to=https%3A%2F%2Fevil.example")).send().await.unwrap()).await;
    assert!(login.contains("/auth/login?return_to=%2F\""), "the sign-in page drops it too");
    app.stop().await;
}

#[tokio::test]
async fn sessions_end_when_idle_and_at_their_maximum_age() {
    let fake = provider();
    let app = github_app(Backend::Sqlite, &fake, |s| {
        s.auth.session_idle_secs = 2;
        s.auth.session_max_age_secs = 4;
    })
    .await;
    // Idle: unused for longer than the idle timeout.
    let (idle, _) = signed_in(&app, &fake, "bob").await;
    tokio::time::sleep(Duration::from_millis(3100)).await;
    let res = idle.get(app.url("/checks")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/login?return_to=%2Fchecks&expired=1");
    assert!(body(idle.get(app.url("/login?expired=1")).send().await.unwrap()).await.contains("Your session ended"));
    assert_eq!(
        idle.get(app.url("/checks")).send().await.unwrap().status(),
        StatusCode::SEE_OTHER,
        "and it stays ended"
    );

    // Maximum age: used every second, it still ends.
    let (busy, _) = signed_in(&app, &fake, "bob").await;
    let started = std::time::Instant::now();
    let mut last = StatusCode::OK;
    while started.elapsed() < Duration::from_millis(5500) && last == StatusCode::OK {
        tokio::time::sleep(Duration::from_millis(900)).await;
        last = busy.get(app.url("/checks")).send().await.unwrap().status();
    }
    assert_eq!(last, StatusCode::SEE_OTHER, "ended at its maximum age");
    assert!(started.elapsed() >= Duration::from_secs(4), "not before it: {:?}", started.elapsed());
    app.stop().await;
}

#[tokio::test]
async fn any_oauth2_provider_signs_in_through_the_same_code_path() {
    let fake = provider();
    fake.add_person(Person::new("erin").email("erin@corp.example", true));
    fake.add_person(Person::new("frank").email("frank@corp.example", false));
    let app = github_app(Backend::Postgres, &fake, |s| {
        s.auth.mode = AuthMode::Oauth2;
        s.auth.admins = vec![];
        s.auth.oauth2.name = "Corp SSO".into();
        s.auth.oauth2.authorize_url = format!("{}/oauth/authorize", fake.url);
        s.auth.oauth2.token_url = format!("{}/oauth/token", fake.url);
        s.auth.oauth2.userinfo_url = format!("{}/oauth/userinfo", fake.url);
        s.auth.oauth2.allowed_email_domains = vec!["corp.example".into()];
    })
    .await;
    let login = body(browser_client().get(app.url("/login")).send().await.unwrap()).await;
    assert!(login.contains("Sign in with Corp SSO"));
    let (erin, done) = sign_in(&app, &fake, "erin", "/checks").await;
    assert_eq!((done.status(), location(&done).as_str()), (StatusCode::SEE_OTHER, "/checks"));
    assert!(body(erin.get(app.url("/checks")).send().await.unwrap()).await.contains("erin"));
    let row = users::Entity::find().all(&app.db).await.unwrap();
    assert_eq!((row[0].provider.as_str(), row[0].login.as_str(), row[0].role), ("oauth2", "erin", users::Role::Viewer));

    let (_, refused) = sign_in(&app, &fake, "frank", "/").await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN, "an unverified email proves nothing");
    let (_, outsider) = sign_in(&app, &fake, "carol", "/").await;
    assert_eq!(outsider.status(), StatusCode::FORBIDDEN);
    app.stop().await;
}

#[tokio::test]
async fn behind_https_cookies_are_secure_and_a_session_works_on_every_replica() {
    let fake = provider();
    const KEY: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    let app = github_app(Backend::Postgres, &fake, |s| s.auth.session_key = Some(Secret::from(KEY.to_string()))).await;
    let (bob, _) = signed_in(&app, &fake, "bob").await;

    // A second replica: same database, same key, another port.
    let mut second = app.settings.clone();
    second.server.bind = "127.0.0.1:0".parse().unwrap();
    let replica = shipshape::startup::Application::build(second).await.unwrap();
    let other = format!("http://127.0.0.1:{}", replica.port());
    let handle = replica.handle();
    tokio::spawn(replica.run_until_stopped());
    let res = bob.get(format!("{other}/checks")).send().await.unwrap();
    assert_eq!(res.status(), 200, "the cookie from one replica is good on another");
    assert!(body(res).await.contains("bob"));
    handle.stop(true).await;

    // Served over https (behind a TLS proxy), the cookie is Secure and HSTS is on.
    let https =
        github_app(Backend::Sqlite, &fake, |s| s.server.public_url = "https://shipshape.example.com".parse().unwrap())
            .await;
    let res = browser_client().get(https.url("/login")).send().await.unwrap();
    assert!(res.headers().contains_key("strict-transport-security"));
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.contains("Secure") && cookie.contains("HttpOnly"), "{cookie}");
    https.stop().await;
    app.stop().await;
}

#[tokio::test]
async fn local_mode_needs_no_sign_in_but_still_a_csrf_token() {
    let app = spawn_app(Backend::Sqlite).await;
    let repo = add_repository(&app.db, "api", "https://git.example.com/api.git").await;
    assert_eq!(app.get("/admin").await.status(), 200, "the demo's user is the local admin");
    // A page on another site can make the browser post here, but cannot read the token.
    let forged = reqwest::Client::new()
        .post(app.url(&format!("/admin/repos/{repo}/enabled")))
        .form(&[("enabled", "false")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let ok = app.post(&format!("/admin/repos/{repo}/enabled")).form(&[("enabled", "false")]).send().await.unwrap();
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    // Tokens made in local mode belong to the local admin and work as Bearer.
    let made =
        body(app.post("/admin/tokens").form(&[("name", "script"), ("scope", "read")]).send().await.unwrap()).await;
    let token = new_token(&made);
    let res = reqwest::Client::new().get(app.url("/api/v1/repositories")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let owner = users::Entity::find().all(&app.db).await.unwrap();
    assert_eq!((owner[0].login.as_str(), owner[0].role), ("local", users::Role::Admin));
    app.stop().await;
}
