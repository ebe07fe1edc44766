//! The sign-in half of the fake GitHub, which also plays a generic OAuth2 /
//! OpenID Connect provider: the authorization code flow with PKCE as the
//! providers implement it, so the real `oauth2` client runs against it.
//!
//! There is no login form: the test says who approves the next
//! authorization (`sign_in_as`), and `/login/oauth/authorize` answers with
//! the redirect a browser would follow after the user clicked Authorize.
//! Codes are single-use and bound to the PKCE challenge, the client and
//! the redirect URI; GitHub's token endpoint reports errors with status 200
//! (as github.com does), the generic one with 400 (RFC 6749).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use base64::Engine;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};

/// A person who can sign in.
#[derive(Debug, Clone, Default)]
pub struct Person {
    pub login: String,
    pub name: String,
    pub email: String,
    pub email_verified: bool,
    /// Organisations with an active membership.
    pub orgs: HashSet<String>,
    /// `org/team` slugs.
    pub teams: HashSet<String>,
}

impl Person {
    pub fn new(login: &str) -> Person {
        Person {
            login: login.into(),
            name: format!("{login} Example"),
            email: format!("{login}@example.com"),
            email_verified: true,
            ..Person::default()
        }
    }

    pub fn in_org(mut self, org: &str) -> Person {
        self.orgs.insert(org.to_ascii_lowercase());
        self
    }

    pub fn in_team(mut self, org_team: &str) -> Person {
        self.teams.insert(org_team.to_ascii_lowercase());
        self
    }

    pub fn email(mut self, email: &str, verified: bool) -> Person {
        self.email = email.into();
        self.email_verified = verified;
        self
    }
}

#[derive(Debug, Clone)]
struct Grant {
    login: String,
    challenge: String,
    redirect_uri: String,
    used: bool,
}

#[derive(Debug, Default)]
pub(crate) struct Provider {
    client_id: String,
    client_secret: String,
    people: HashMap<String, Person>,
    /// Who clicks Authorize next; `None`: the user denies access.
    approver: Option<String>,
    codes: HashMap<String, Grant>,
    /// Access token → login.
    tokens: HashMap<String, String>,
    issued: u32,
    /// Codes redeemed successfully (for assertions).
    pub(crate) exchanges: u32,
}

fn query(req: &HttpRequest) -> HashMap<String, String> {
    url::form_urlencoded::parse(req.query_string().as_bytes()).into_owned().collect()
}

fn s256(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

impl Provider {
    pub(crate) fn app(&mut self, client_id: &str, client_secret: &str) {
        self.client_id = client_id.into();
        self.client_secret = client_secret.into();
    }

    pub(crate) fn add(&mut self, person: Person) {
        self.people.insert(person.login.to_ascii_lowercase(), person);
    }

    pub(crate) fn approve_as(&mut self, login: Option<&str>) {
        self.approver = login.map(str::to_ascii_lowercase);
    }

    fn person_for(&self, req: &HttpRequest) -> Option<&Person> {
        let auth = req.headers().get("authorization")?.to_str().ok()?;
        let token = auth.strip_prefix("Bearer ").or_else(|| auth.strip_prefix("token "))?;
        self.people.get(self.tokens.get(token.trim())?)
    }

    /// Answers the sign-in and identity endpoints; `None` for other paths.
    pub(crate) fn route(&mut self, req: &HttpRequest, seg: &[&str], body: &[u8]) -> Option<HttpResponse> {
        let method = req.method().as_str();
        Some(match (method, seg) {
            ("GET", ["login", "oauth", "authorize"]) | ("GET", ["oauth", "authorize"]) => self.authorize(req),
            ("POST", ["login", "oauth", "access_token"]) => self.token(req, body, true),
            ("POST", ["oauth", "token"]) => self.token(req, body, false),
            ("GET", ["user"]) => match self.person_for(req) {
                Some(p) => HttpResponse::Ok().json(json!({
                    "login": p.login, "id": 1000 + p.login.len(), "node_id": "U_fake", "type": "User",
                    "name": p.name, "email": p.email, "site_admin": false
                })),
                None => unauthorized(),
            },
            ("GET", ["oauth", "userinfo"]) => match self.person_for(req) {
                Some(p) => HttpResponse::Ok().json(json!({
                    "sub": format!("sub-{}", p.login), "preferred_username": p.login, "name": p.name,
                    "email": p.email, "email_verified": p.email_verified
                })),
                None => unauthorized(),
            },
            ("GET", ["user", "memberships", "orgs", org]) => match self.person_for(req) {
                Some(p) if p.orgs.contains(&org.to_ascii_lowercase()) => HttpResponse::Ok().json(json!({
                    "state": "active", "role": "member", "organization": { "login": org },
                    "user": { "login": p.login }
                })),
                Some(_) => not_found(),
                None => unauthorized(),
            },
            ("GET", ["orgs", org, "teams", team, "memberships", login]) => {
                if self.person_for(req).is_none() {
                    return Some(unauthorized());
                }
                let key = format!("{org}/{team}").to_ascii_lowercase();
                match self.people.get(&login.to_ascii_lowercase()) {
                    Some(p) if p.teams.contains(&key) => {
                        HttpResponse::Ok().json(json!({ "state": "active", "role": "member" }))
                    }
                    _ => not_found(),
                }
            }
            _ => return None,
        })
    }

    fn authorize(&mut self, req: &HttpRequest) -> HttpResponse {
        let q = query(req);
        let get = |k: &str| q.get(k).cloned().unwrap_or_default();
        if get("client_id") != self.client_id || get("response_type") != "code" {
            return HttpResponse::BadRequest().body("unknown client_id or response_type");
        }
        if get("code_challenge_method") != "S256" || get("code_challenge").len() < 43 {
            return HttpResponse::BadRequest().body("PKCE with S256 is required");
        }
        let redirect = get("redirect_uri");
        let mut to = match url::Url::parse(&redirect) {
            Ok(u) => u,
            Err(_) => return HttpResponse::BadRequest().body("redirect_uri is not a URL"),
        };
        match self.approver.clone() {
            Some(login) if self.people.contains_key(&login) => {
                self.issued += 1;
                let code = format!("code{}x{}", self.issued, get("state").len());
                self.codes.insert(
                    code.clone(),
                    Grant { login, challenge: get("code_challenge"), redirect_uri: redirect, used: false },
                );
                to.query_pairs_mut().append_pair("code", &code).append_pair("state", &get("state"));
            }
            _ => {
                to.query_pairs_mut()
                    .append_pair("error", "access_denied")
                    .append_pair("error_description", "The user has denied your application access.")
                    .append_pair("state", &get("state"));
            }
        }
        HttpResponse::Found().insert_header(("location", to.to_string())).finish()
    }

    fn token(&mut self, req: &HttpRequest, body: &[u8], github: bool) -> HttpResponse {
        let form: HashMap<String, String> = url::form_urlencoded::parse(body).into_owned().collect();
        let get = |k: &str| form.get(k).cloned().unwrap_or_default();
        let fail = |error: &str, description: &str| {
            let status = if github { StatusCode::OK } else { StatusCode::BAD_REQUEST };
            HttpResponse::build(status).json(json!({ "error": error, "error_description": description }))
        };
        // Client authentication: HTTP Basic or the form body.
        let basic = req
            .headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Basic "))
            .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|s| s.split_once(':').map(|(a, b)| (a.to_string(), b.to_string())));
        let (id, secret) = basic.unwrap_or_else(|| (get("client_id"), get("client_secret")));
        let decode = |s: String| url::form_urlencoded::parse(s.as_bytes()).map(|(k, _)| k.into_owned()).next();
        let (id, secret) = (decode(id.clone()).unwrap_or(id), decode(secret.clone()).unwrap_or(secret));
        if id != self.client_id || secret != self.client_secret {
            return fail("incorrect_client_credentials", "The client_id and/or client_secret passed are incorrect.");
        }
        if get("grant_type") != "authorization_code" {
            return fail("unsupported_grant_type", "only authorization_code");
        }
        let Some(grant) = self.codes.get_mut(&get("code")) else {
            return fail("bad_verification_code", "The code passed is incorrect or expired.");
        };
        if grant.used {
            return fail("bad_verification_code", "The code passed is incorrect or expired.");
        }
        grant.used = true;
        if grant.redirect_uri != get("redirect_uri") {
            return fail("redirect_uri_mismatch", "The redirect_uri MUST match the registered callback URL.");
        }
        if s256(&get("code_verifier")) != grant.challenge {
            return fail("invalid_grant", "The code_verifier does not match the code_challenge.");
        }
        let login = grant.login.clone();
        self.issued += 1;
        self.exchanges += 1;
        let token = format!("gho_fake{}{}", self.issued, "x".repeat(20));
        self.tokens.insert(token.clone(), login);
        HttpResponse::Ok()
            .json(json!({ "access_token": token, "token_type": "bearer", "scope": "read:org,read:user,user:email" }))
    }
}

fn unauthorized() -> HttpResponse {
    HttpResponse::Unauthorized()
        .json(json!({ "message": "Bad credentials", "documentation_url": "https://docs.github.com/rest" }))
}

fn not_found() -> HttpResponse {
    HttpResponse::NotFound()
        .json(json!({ "message": "Not Found", "documentation_url": "https://docs.github.com/rest" }))
}
