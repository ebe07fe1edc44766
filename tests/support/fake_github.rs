//! A small stateful GitHub: a real HTTP server on 127.0.0.1 answering the
//! REST endpoints Shipshape uses, with GitHub's JSON shapes and headers, so
//! tests run the real octocrab client against it (production code only sees
//! a different `github.api_url`).
//!
//! It paginates repository listings with `Link` headers, answers 304 to a
//! matching `If-None-Match`, rate-limits on request (403 with the
//! `x-ratelimit-*` headers until the reset), answers 404 for unknown
//! accounts, holds branch protection, rulesets and hooks per repository,
//! exchanges a GitHub App JWT for installation tokens, and checks every
//! request's bearer token. Every request is logged for counting.

use actix_web::http::StatusCode;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// One request the fake answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub method: String,
    /// Path and query as sent.
    pub path: String,
    pub status: u16,
}

/// How a repository's default branch is protected.
#[derive(Debug, Clone, Default)]
pub struct Protection {
    /// A classic branch protection rule applies.
    pub protected: bool,
    /// The classic rule requires pull request reviews.
    pub requires_pull_request: bool,
    /// Required status check contexts.
    pub required_checks: Vec<String>,
    /// Whether the token may read the rule (admin rights); otherwise 403.
    pub readable: bool,
    /// A ruleset requires a pull request on the branch.
    pub ruleset_requires_pull_request: bool,
}

/// A repository the fake knows.
#[derive(Debug, Clone)]
pub struct FakeRepo {
    pub id: i64,
    pub owner: String,
    pub name: String,
    pub default_branch: String,
    pub archived: bool,
    pub fork: bool,
    pub private: bool,
    /// Committer date of the branch head, RFC 3339.
    pub last_commit: String,
    pub protection: Protection,
    /// The clone URL handed out (tests point it at a local git repository).
    pub clone_url: Option<String>,
}

impl FakeRepo {
    pub fn new(id: i64, owner: &str, name: &str) -> FakeRepo {
        FakeRepo {
            id,
            owner: owner.into(),
            name: name.into(),
            default_branch: "main".into(),
            archived: false,
            fork: false,
            private: false,
            last_commit: "2026-11-01T10:00:00Z".into(),
            protection: Protection::default(),
            clone_url: None,
        }
    }
}

#[derive(Default)]
struct State {
    base: String,
    page_size: usize,
    /// Account login (lower case) → is an organisation.
    accounts: HashMap<String, bool>,
    repos: BTreeMap<i64, FakeRepo>,
    hooks: HashMap<i64, Vec<Value>>,
    /// Bearer tokens accepted on the API; empty: anything goes.
    tokens: HashSet<String>,
    /// GitHub App installations: id → account login.
    installations: BTreeMap<u64, String>,
    tokens_issued: u32,
    /// Until then every request is answered 403 rate limited.
    limited_until: Option<u64>,
    /// How long a branch request takes (a slow GitHub mid-scan).
    branch_delay: Duration,
    calls: Vec<Call>,
    /// Sign-in: OAuth apps, people, codes and user tokens.
    oauth: crate::fake_oauth::Provider,
}

/// The fake; stops when dropped.
pub struct FakeGithub {
    pub url: String,
    state: Arc<Mutex<State>>,
    handle: actix_web::dev::ServerHandle,
}

impl FakeGithub {
    /// Starts on a free port; `page_size` repositories per listed page.
    /// Must be called inside a Tokio runtime.
    pub fn start(page_size: usize) -> FakeGithub {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the fake GitHub");
        let url = format!("http://127.0.0.1:{}", listener.local_addr().expect("address").port());
        let state = Arc::new(Mutex::new(State { base: url.clone(), page_size, ..State::default() }));
        let shared = web::Data::new(state.clone());
        let server = HttpServer::new(move || App::new().app_data(shared.clone()).default_service(web::to(answer)))
            .listen(listener)
            .expect("listen")
            .workers(1)
            .disable_signals()
            .run();
        let handle = server.handle();
        tokio::spawn(server);
        FakeGithub { url, state, handle }
    }

    fn with<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        f(&mut self.state.lock().expect("fake state"))
    }

    /// Registers the OAuth app Shipshape signs in with.
    pub fn oauth_app(&self, client_id: &str, client_secret: &str) {
        self.with(|s| s.oauth.app(client_id, client_secret));
    }

    /// A person who can sign in (and whose memberships the API reports).
    pub fn add_person(&self, person: crate::fake_oauth::Person) {
        self.with(|s| s.oauth.add(person));
    }

    /// Who approves the next authorization; `None`: the user clicks Cancel.
    pub fn sign_in_as(&self, login: Option<&str>) {
        self.with(|s| s.oauth.approve_as(login));
    }

    /// Sign-in codes redeemed for a token so far.
    pub fn code_exchanges(&self) -> u32 {
        self.with(|s| s.oauth.exchanges)
    }

    pub fn add_org(&self, login: &str) {
        self.with(|s| s.accounts.insert(login.to_ascii_lowercase(), true));
    }

    pub fn add_user(&self, login: &str) {
        self.with(|s| s.accounts.insert(login.to_ascii_lowercase(), false));
    }

    /// Adds or replaces a repository (by id: a rename keeps the id).
    pub fn put_repo(&self, repo: FakeRepo) {
        self.with(|s| s.repos.insert(repo.id, repo));
    }

    pub fn remove_repo(&self, id: i64) {
        self.with(|s| s.repos.remove(&id));
    }

    pub fn repo(&self, id: i64) -> Option<FakeRepo> {
        self.with(|s| s.repos.get(&id).cloned())
    }

    /// Requires this bearer token on API calls (a personal token).
    pub fn accept_token(&self, token: &str) {
        self.with(|s| s.tokens.insert(token.to_string()));
    }

    /// Installs the GitHub App on `login`.
    pub fn install_app(&self, installation: u64, login: &str) {
        self.with(|s| s.installations.insert(installation, login.to_string()));
    }

    /// Installation tokens handed out so far.
    pub fn tokens_issued(&self) -> u32 {
        self.with(|s| s.tokens_issued)
    }

    /// Answers every request with 403 rate limited until `for_` has passed
    /// (whole seconds, as `x-ratelimit-reset` is); zero lifts the limit.
    pub fn rate_limit(&self, for_: Duration) {
        let reset = (!for_.is_zero()).then(|| now_secs() + for_.as_secs().max(1));
        self.with(|s| s.limited_until = reset);
    }

    /// Makes every branch request take `delay`: a scan is then known to be
    /// in flight (checked out, asking GitHub) for that long.
    pub fn delay_branches(&self, delay: Duration) {
        self.with(|s| s.branch_delay = delay);
    }

    /// The webhooks of a repository, as GitHub lists them.
    pub fn hooks(&self, repo_id: i64) -> Vec<Value> {
        self.with(|s| s.hooks.get(&repo_id).cloned().unwrap_or_default())
    }

    pub fn calls(&self) -> Vec<Call> {
        self.with(|s| s.calls.clone())
    }

    pub fn clear_calls(&self) {
        self.with(|s| s.calls.clear());
    }
}

impl Drop for FakeGithub {
    fn drop(&mut self) {
        let handle = self.handle.clone();
        tokio::spawn(async move { handle.stop(false).await });
    }
}

fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default()
}

fn message(status: StatusCode, text: &str) -> HttpResponse {
    HttpResponse::build(status).json(
        json!({ "message": text, "documentation_url": "https://docs.github.com/rest", "status": status.as_str() }),
    )
}

async fn answer(req: HttpRequest, body: web::Bytes, state: web::Data<Arc<Mutex<State>>>) -> HttpResponse {
    let delay = state.lock().expect("fake state").branch_delay;
    if req.path().contains("/branches/") && !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let mut s = state.lock().expect("fake state");
    let path = req.uri().path_and_query().map(|p| p.as_str().to_string()).unwrap_or_default();
    let response = route(&mut s, &req, &body);
    s.calls.push(Call { method: req.method().to_string(), path, status: response.status().as_u16() });
    response
}

fn route(s: &mut State, req: &HttpRequest, body: &[u8]) -> HttpResponse {
    if let Some(reset) = s.limited_until {
        if now_secs() < reset {
            return HttpResponse::Forbidden()
                .insert_header(("x-ratelimit-limit", "5000"))
                .insert_header(("x-ratelimit-remaining", "0"))
                .insert_header(("x-ratelimit-used", "5000"))
                .insert_header(("x-ratelimit-reset", reset.to_string()))
                .insert_header(("x-ratelimit-resource", "core"))
                .json(json!({
                    "message": "API rate limit exceeded for installation ID 1.",
                    "documentation_url": "https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting"
                }));
        }
        s.limited_until = None;
    }
    let auth = req.headers().get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let bearer = auth.strip_prefix("Bearer ").unwrap_or_default().to_string();
    let segments: Vec<String> = req.path().trim_matches('/').split('/').map(str::to_string).collect();
    let seg: Vec<&str> = segments.iter().map(String::as_str).collect();
    let method = req.method().as_str();
    if seg.first() == Some(&"app") {
        // App endpoints take the App's JWT: three base64url parts.
        if bearer.split('.').count() != 3 {
            return message(StatusCode::UNAUTHORIZED, "A JSON web token could not be decoded");
        }
        return match (method, seg.as_slice()) {
            ("GET", ["app", "installations"]) => {
                let list: Vec<Value> = s
                    .installations
                    .iter()
                    .map(|(id, login)| json!({ "id": id, "account": { "login": login, "type": "Organization" }, "app_id": 1 }))
                    .collect();
                HttpResponse::Ok().json(list)
            }
            ("POST", ["app", "installations", id, "access_tokens"]) => {
                if !id.parse::<u64>().is_ok_and(|id| s.installations.contains_key(&id)) {
                    return message(StatusCode::NOT_FOUND, "Not Found");
                }
                s.tokens_issued += 1;
                let token = format!("ghs_fake{}x{}", s.tokens_issued, now_secs());
                s.tokens.insert(token.clone());
                let expires = chrono::Utc::now() + chrono::Duration::hours(1);
                HttpResponse::Created().json(json!({
                    "token": token,
                    "expires_at": expires.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    "permissions": { "metadata": "read", "administration": "read", "contents": "read" },
                    "repository_selection": "all"
                }))
            }
            _ => message(StatusCode::NOT_FOUND, "Not Found"),
        };
    }
    if let Some(answer) = s.oauth.route(req, &seg, body) {
        return answer;
    }
    if !s.tokens.is_empty() && !s.tokens.contains(&bearer) {
        return message(StatusCode::UNAUTHORIZED, "Bad credentials");
    }
    match (method, seg.as_slice()) {
        ("GET", ["orgs", login, "repos"]) => list(s, req, login, true),
        ("GET", ["users", login, "repos"]) => list(s, req, login, false),
        ("GET", ["repos", owner, name, "branches", branch]) => {
            with_repo(s, owner, name, |r| HttpResponse::Ok().json(branch_json(r, branch)))
        }
        ("GET", ["repos", owner, name, "branches", _, "protection"]) => with_repo(s, owner, name, |r| {
            let p = &r.protection;
            if !p.protected {
                message(StatusCode::NOT_FOUND, "Branch not protected")
            } else if !p.readable {
                message(StatusCode::FORBIDDEN, "Resource not accessible by integration")
            } else {
                let mut v = json!({
                    "url": format!("https://api.github.com/repos/{}/{}/branches/{}/protection", r.owner, r.name, r.default_branch),
                    "required_status_checks": {
                        "strict": true,
                        "contexts": p.required_checks,
                        "checks": p.required_checks.iter().map(|c| json!({ "context": c, "app_id": null })).collect::<Vec<_>>()
                    },
                    "enforce_admins": { "enabled": false },
                });
                if p.requires_pull_request {
                    v["required_pull_request_reviews"] =
                        json!({ "dismiss_stale_reviews": true, "required_approving_review_count": 1 });
                }
                HttpResponse::Ok().json(v)
            }
        }),
        ("GET", ["repos", owner, name, "rules", "branches", _]) => with_repo(s, owner, name, |r| {
            let rules: Vec<Value> = if r.protection.ruleset_requires_pull_request {
                vec![json!({
                    "type": "pull_request",
                    "ruleset_source_type": "Organization",
                    "ruleset_source": r.owner,
                    "ruleset_id": 42,
                    "parameters": { "required_approving_review_count": 1, "dismiss_stale_reviews_on_push": true }
                })]
            } else {
                Vec::new()
            };
            HttpResponse::Ok().json(rules)
        }),
        ("GET", ["repos", owner, name, "hooks"]) => {
            let Some(id) = find(s, owner, name) else { return message(StatusCode::NOT_FOUND, "Not Found") };
            HttpResponse::Ok().json(s.hooks.get(&id).cloned().unwrap_or_default())
        }
        ("POST", ["repos", owner, name, "hooks"]) => {
            let Some(id) = find(s, owner, name) else { return message(StatusCode::NOT_FOUND, "Not Found") };
            let Ok(mut hook) = serde_json::from_slice::<Value>(body) else {
                return message(StatusCode::BAD_REQUEST, "Problems parsing JSON");
            };
            let hooks = s.hooks.entry(id).or_default();
            if hook["config"]["url"].as_str().is_none() {
                return message(StatusCode::UNPROCESSABLE_ENTITY, "Validation Failed");
            }
            hook["id"] = json!(1000 + hooks.len());
            hook["type"] = json!("Repository");
            // GitHub never echoes the secret.
            hook["config"]["secret"] = json!("********");
            hooks.push(hook.clone());
            HttpResponse::Created().json(hook)
        }
        _ => message(StatusCode::NOT_FOUND, "Not Found"),
    }
}

fn find(s: &State, owner: &str, name: &str) -> Option<i64> {
    s.repos.values().find(|r| r.owner.eq_ignore_ascii_case(owner) && r.name.eq_ignore_ascii_case(name)).map(|r| r.id)
}

fn with_repo(s: &State, owner: &str, name: &str, f: impl FnOnce(&FakeRepo) -> HttpResponse) -> HttpResponse {
    match find(s, owner, name).and_then(|id| s.repos.get(&id)) {
        Some(r) => f(r),
        None => message(StatusCode::NOT_FOUND, "Not Found"),
    }
}

/// One page of an account's repositories, with `Link` and a weak ETag.
fn list(s: &State, req: &HttpRequest, login: &str, org: bool) -> HttpResponse {
    if s.accounts.get(&login.to_ascii_lowercase()) != Some(&org) {
        return message(StatusCode::NOT_FOUND, "Not Found");
    }
    let query: HashMap<String, String> =
        url::form_urlencoded::parse(req.query_string().as_bytes()).into_owned().collect();
    let per_page = query.get("per_page").and_then(|p| p.parse::<usize>().ok()).unwrap_or(30).min(s.page_size).max(1);
    let page = query.get("page").and_then(|p| p.parse::<usize>().ok()).unwrap_or(1).max(1);
    let all: Vec<&FakeRepo> = s.repos.values().filter(|r| r.owner.eq_ignore_ascii_case(login)).collect();
    let last = all.len().div_ceil(per_page).max(1);
    let items: Vec<Value> =
        all.iter().skip((page - 1) * per_page).take(per_page).map(|r| repo_json(r, &s.base)).collect();
    let body = serde_json::to_string(&items).unwrap_or_default();
    let etag = format!("W/\"{:016x}\"", fnv(body.as_bytes()));
    let kind = if org { "orgs" } else { "users" };
    let link_to = |p: usize| format!("<{}/{kind}/{login}/repos?per_page={per_page}&page={p}>", s.base);
    let mut links = Vec::new();
    if page > 1 {
        links.push(format!("{}; rel=\"prev\"", link_to(page - 1)));
        links.push(format!("{}; rel=\"first\"", link_to(1)));
    }
    if page < last {
        links.push(format!("{}; rel=\"next\"", link_to(page + 1)));
        links.push(format!("{}; rel=\"last\"", link_to(last)));
    }
    let not_modified = req.headers().get("if-none-match").and_then(|v| v.to_str().ok()) == Some(etag.as_str());
    let mut response = if not_modified { HttpResponse::NotModified() } else { HttpResponse::Ok() };
    response
        .insert_header(("etag", etag))
        .insert_header(("x-ratelimit-limit", "5000"))
        .insert_header(("x-ratelimit-remaining", "4999"))
        .insert_header(("x-ratelimit-reset", (now_secs() + 3600).to_string()));
    if !links.is_empty() {
        response.insert_header(("link", links.join(", ")));
    }
    if not_modified {
        return response.finish();
    }
    response.content_type("application/json; charset=utf-8").body(body)
}

fn repo_json(r: &FakeRepo, base: &str) -> Value {
    let full = format!("{}/{}", r.owner, r.name);
    json!({
        "id": r.id,
        "node_id": format!("R_kgDO{}", r.id),
        "name": r.name,
        "full_name": full,
        "private": r.private,
        "owner": { "login": r.owner, "id": 1, "type": "Organization" },
        "html_url": format!("https://github.com/{full}"),
        "description": null,
        "fork": r.fork,
        "url": format!("{base}/repos/{full}"),
        "clone_url": r.clone_url.clone().unwrap_or_else(|| format!("https://github.com/{full}.git")),
        "ssh_url": format!("git@github.com:{full}.git"),
        "default_branch": r.default_branch,
        "archived": r.archived,
        "disabled": false,
        "visibility": if r.private { "private" } else { "public" },
        "pushed_at": r.last_commit,
        "permissions": { "admin": r.protection.readable, "push": true, "pull": true }
    })
}

fn branch_json(r: &FakeRepo, branch: &str) -> Value {
    let p = &r.protection;
    json!({
        "name": branch,
        "commit": {
            "sha": format!("{:040x}", r.id),
            "commit": {
                "author": { "name": "Dev", "email": "dev@example.com", "date": r.last_commit },
                "committer": { "name": "Dev", "email": "dev@example.com", "date": r.last_commit },
                "message": "latest"
            }
        },
        "protected": p.protected,
        "protection": {
            "enabled": p.protected,
            "required_status_checks": {
                "enforcement_level": if p.protected { "non_admins" } else { "off" },
                "contexts": p.required_checks,
                "checks": p.required_checks.iter().map(|c| json!({ "context": c, "app_id": null })).collect::<Vec<_>>()
            }
        },
        "protection_url": format!("https://api.github.com/repos/{}/{}/branches/{branch}/protection", r.owner, r.name)
    })
}

/// FNV-1a: a stable content hash for ETags without another dependency.
fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3))
}
