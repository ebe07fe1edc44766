//! Decisions that need the whole repository: the per-file signals combined
//! with manifests and reverse-proxy configs (`security-headers-missing`,
//! `rate-limit-missing`, `rate-limit-in-memory`, `cors-duplicate`,
//! `upload-unbounded`, `localhost-in-config`).

use crate::checks::python_runtime::deps;
use crate::checks::web::{NO_CODE_WEB, code_web};
use crate::checks::{RawFinding, Verdict, from_hits, signal_findings};
use crate::model::{Evidence, Location};
use crate::repo::Repo;
use crate::walk::FileEntry;
use std::collections::BTreeMap;

/// Why a Python-only check does not apply.
pub(super) const NO_PY_WEB: &str = "no Python web framework (FastAPI, Starlette, Flask, Django) detected";

/// Packages whose presence means headers are set.
const HEADER_DEPS: &[&str] = &[
    "secure",
    "flask-talisman",
    "talisman",
    "django-csp",
    "secure-headers",
    "helmet",
    "@fastify/helmet",
    "fastify-helmet",
    "lusca",
];
const LIMIT_DEPS: &[&str] = &[
    "slowapi",
    "fastapi-limiter",
    "flask-limiter",
    "django-ratelimit",
    "limits",
    "asgi-ratelimit",
    "ratelimit",
    "express-rate-limit",
    "rate-limiter-flexible",
    "@nestjs/throttler",
    "@fastify/rate-limit",
    "fastify-rate-limit",
    "express-slow-down",
];
/// Go and Rust limiters, matched with their sub-packages and `/vN` majors.
const LIMIT_MODULES: &[&str] = &[
    "github.com/ulule/limiter",
    "github.com/didip/tollbooth",
    "github.com/go-chi/httprate",
    "github.com/sethvargo/go-limiter",
    "golang.org/x/time",
    "actix-governor",
    "tower_governor",
    "governor",
    "actix-limitation",
    "bucket4j-core",
    "resilience4j-ratelimiter",
];
/// Go header middleware packages.
const HEADER_MODULES: &[&str] = &["github.com/unrolled/secure", "github.com/gin-contrib/secure"];

/// Reverse-proxy and platform files that can set headers or limits for the app.
fn is_proxy_config(e: &FileEntry) -> bool {
    let name = e.file_name().to_ascii_lowercase();
    let path = e.path.to_ascii_lowercase();
    name == "nginx.conf"
        || (name.ends_with(".conf") && path.contains("nginx"))
        || name.starts_with("caddyfile")
        || (name.contains("traefik") && [".yml", ".yaml", ".toml"].iter().any(|x| name.ends_with(x)))
        || matches!(name.as_str(), "_headers" | "netlify.toml" | "vercel.json" | "firebase.json")
}

/// The first proxy config whose text satisfies `pred`, as evidence.
fn proxy_config(repo: &Repo<'_>, what: &str, pred: impl Fn(&str) -> bool) -> Option<Evidence> {
    repo.files().filter(|e| !e.is_test && is_proxy_config(e)).find_map(|e| {
        let text = repo.read_text(e).ok()?.to_ascii_lowercase();
        let line = text.lines().position(|l| !l.trim_start().starts_with('#') && pred(l))? as u32 + 1;
        Some(Evidence::new(format!("{what} in {}:{line}", e.path), Some(Location::at(&e.path, line))))
    })
}

/// Passes on header signals from code, Django security settings, a header
/// package, or a proxy config that adds the headers.
pub(super) fn security_headers(repo: &Repo<'_>) -> Result<Verdict, String> {
    if !code_web(repo) {
        return Ok(Verdict::NotApplicable(NO_CODE_WEB.into()));
    }
    let found = repo
        .signal_evidence("security-headers", "security headers set")
        .or_else(|| {
            let both = repo.has_signal("django-security-middleware") && repo.has_signal("django-secure-setting");
            let (e, s) = repo.signals("django-secure-setting").next().filter(|_| both)?;
            let msg = format!("Django SecurityMiddleware with {} at {}:{}", s.detail, e.path, s.line);
            Some(Evidence::new(msg, Some(Location::at(&e.path, s.line))))
        })
        .or_else(|| HEADER_DEPS.iter().find_map(|d| repo.dependency_evidence(d)))
        .or_else(|| deps::first(repo, HEADER_MODULES))
        .or_else(|| {
            proxy_config(repo, "security headers set by the proxy", |l| {
                ["strict-transport-security", "content-security-policy", "x-frame-options", "x-content-type-options"]
                    .iter()
                    .any(|h| l.contains(h))
            })
        });
    Ok(match found {
        Some(ev) => Verdict::Pass(vec![ev]),
        None => Verdict::Fail(vec![RawFinding::repo(
            "the app sets none of Strict-Transport-Security, Content-Security-Policy, X-Frame-Options, X-Content-Type-Options",
        )]),
    })
}

/// Passes on a limiter dependency, a limiter seen in code, or a proxy limit.
pub(super) fn rate_limit_missing(repo: &Repo<'_>) -> Result<Verdict, String> {
    if !code_web(repo) {
        return Ok(Verdict::NotApplicable(NO_CODE_WEB.into()));
    }
    let found = LIMIT_DEPS
        .iter()
        .find_map(|d| repo.dependency_evidence(d))
        .or_else(|| deps::first(repo, LIMIT_MODULES))
        .or_else(|| repo.signal_evidence("rate-limiter", "rate limiting"))
        .or_else(|| {
            proxy_config(repo, "rate limiting in the proxy", |l| {
                l.contains("limit_req") || l.contains("ratelimit") || l.contains("rate_limit")
            })
        });
    Ok(match found {
        Some(ev) => Verdict::Pass(vec![ev]),
        None => Verdict::Fail(vec![RawFinding::repo("no rate limiting: any client can send unlimited requests")]),
    })
}

/// Limiters without a storage URI fail unless a storage is configured elsewhere
/// (flask-limiter's `RATELIMIT_STORAGE_URI`); hand-written dicts always fail.
/// Without any rate limiter there is nothing to judge: `rate-limit-missing` covers that.
pub(super) fn rate_limit_in_memory(repo: &Repo<'_>) -> Result<Verdict, String> {
    if !code_web(repo) {
        return Ok(Verdict::NotApplicable(NO_CODE_WEB.into()));
    }
    let limiter = repo.has_signal("rate-limiter")
        || LIMIT_DEPS.iter().any(|d| repo.has_dependency(d))
        || deps::first(repo, LIMIT_MODULES).is_some();
    if !limiter {
        return Ok(Verdict::NotApplicable("no rate limiter found (see rate-limit-missing)".into()));
    }
    let mut findings = match from_hits(repo, "rate-limit-in-memory", true, "", vec![])? {
        Verdict::Fail(f) => f,
        _ => vec![],
    };
    let storage = repo.signal_evidence("rate-limiter-storage", "rate-limit storage");
    if storage.is_none() {
        findings.extend(no_storage_findings(repo));
    }
    Ok(if findings.is_empty() { Verdict::Pass(storage.into_iter().collect()) } else { Verdict::Fail(findings) })
}

fn no_storage_findings(repo: &Repo<'_>) -> Vec<RawFinding> {
    signal_findings(
        repo,
        "limiter-no-storage",
        "the rate limiter keeps its counters in process memory (no shared store such as Redis configured): limits reset on restart and multiply with workers",
    )
}

/// The service a file belongs to: the deepest directory holding a manifest.
fn service_root<'r>(repo: &'r Repo<'_>, path: &str) -> &'r str {
    repo.manifests
        .iter()
        .map(|m| m.dir())
        .filter(|d| d.is_empty() || path.starts_with(&format!("{d}/")))
        .max_by_key(|d| d.len())
        .unwrap_or("")
}

/// Fails at every CORS registration after the first on the same app of one service.
pub(super) fn cors_duplicate(repo: &Repo<'_>) -> Result<Verdict, String> {
    if !code_web(repo) {
        return Ok(Verdict::NotApplicable(NO_CODE_WEB.into()));
    }
    let mut by_app: BTreeMap<(String, String), Vec<(String, u32)>> = BTreeMap::new();
    for (e, s) in repo.signals("cors-middleware").filter(|(_, s)| !s.detail.is_empty()) {
        let key = (service_root(repo, &e.path).to_string(), s.detail.clone());
        by_app.entry(key).or_default().push((e.path.clone(), s.line));
    }
    let mut findings = Vec::new();
    for ((_, app), mut regs) in by_app {
        regs.sort();
        let (first_path, first_line) = regs[0].clone();
        for (path, line) in regs.into_iter().skip(1) {
            findings.push(RawFinding::at(
                Location::at(&path, line),
                format!("a second CORS middleware is registered on `{app}` (first at {first_path}:{first_line})"),
                format!("second CORS registration on {app}"),
            ));
        }
    }
    if findings.is_empty() {
        let ev = repo.signal_evidence("cors-middleware", "one CORS middleware");
        Ok(Verdict::Pass(ev.into_iter().collect()))
    } else {
        Ok(Verdict::Fail(findings))
    }
}

/// FastAPI reads without a size check, unless a body-size middleware or the
/// proxy caps requests; Flask `request.files` without `MAX_CONTENT_LENGTH`.
pub(super) fn upload_unbounded(repo: &Repo<'_>) -> Result<Verdict, String> {
    if !code_web(repo) {
        return Ok(Verdict::NotApplicable(NO_CODE_WEB.into()));
    }
    let proxy = proxy_config(repo, "request body capped by the proxy", |l| l.contains("client_max_body_size"));
    if let Some(ev) = proxy {
        return Ok(Verdict::Pass(vec![ev]));
    }
    let capped = repo.signal_evidence("body-size-limit", "request body size limit");
    let mut findings: Vec<RawFinding> = Vec::new();
    if capped.is_none()
        && let Verdict::Fail(f) = from_hits(repo, "upload-unbounded", true, "", vec![])?
    {
        findings = f;
    }
    if !repo.has_signal("max-content-length") {
        for (e, s) in repo.signals("flask-upload") {
            findings.push(RawFinding::at(
                Location::at(&e.path, s.line),
                "Flask accepts uploads of any size: MAX_CONTENT_LENGTH is not configured",
                "request.files without MAX_CONTENT_LENGTH",
            ));
        }
    }
    if findings.is_empty() {
        let ev = capped.or_else(|| repo.signal_evidence("max-content-length", "upload size limit"));
        Ok(Verdict::Pass(ev.into_iter().collect()))
    } else {
        Ok(Verdict::Fail(findings))
    }
}

/// Runs a per-file check, then drops findings on a Django setting that
/// another (non-development) settings file of the same service assigns
/// safely: `settings/base.py` with `DEBUG = True` and `settings/production.py`
/// with `DEBUG = env.bool("DEBUG", default=False)` is the usual layout, and
/// production runs the second.
pub(super) fn settings_aware(repo: &Repo<'_>, id: &str, applies: bool, why_not: &str) -> Result<Verdict, String> {
    let verdict = from_hits(repo, id, applies, why_not, vec![])?;
    let Verdict::Fail(findings) = verdict else { return Ok(verdict) };
    let kept: Vec<RawFinding> = findings.into_iter().filter(|f| !overridden(repo, f)).collect();
    Ok(if kept.is_empty() { Verdict::Pass(vec![]) } else { Verdict::Fail(kept) })
}

fn overridden(repo: &Repo<'_>, finding: &RawFinding) -> bool {
    let Some(Location { path, line: Some(line) }) = &finding.location else { return false };
    let flagged = repo.signals("django-setting-flagged").find_map(|(e, s)| {
        let (name, end) = s.detail.split_once(':')?;
        let end: u32 = end.parse().ok()?;
        (e.path == *path && (s.line..=end).contains(line)).then_some(name)
    });
    let Some(name) = flagged else { return false };
    let root = service_root(repo, path);
    repo.signals("django-setting-safe")
        .any(|(e, s)| s.detail == name && e.path != *path && service_root(repo, &e.path) == root)
}
