//! CORS and host allow-lists: `cors-wildcard`, the `cors-middleware`
//! signal behind `cors-duplicate`, `allowed-hosts-wildcard`, and the
//! origin/host half of `localhost-in-config`.
//!
//! Only literal values fire: origins or hosts read from a variable that
//! changes, from settings or from the environment are configuration, which
//! is what these checks ask for.

use super::syntax::{Ctx, is_true, last};
use crate::engine::{FileOutput, Hit};
use crate::model::Severity;
use crate::python;
use tree_sitter::Node;

/// Django settings holding allowed origins or hosts.
pub(super) const DJANGO_HOST_SETTINGS: &[&str] =
    &["ALLOWED_HOSTS", "CORS_ALLOWED_ORIGINS", "CORS_ORIGIN_WHITELIST", "CSRF_TRUSTED_ORIGINS"];

/// Domains that stand for "put your domain here".
const PLACEHOLDER_DOMAINS: &[&str] = &[
    "example.com",
    "example.org",
    "example.net",
    "yourdomain.com",
    "your-domain.com",
    "mydomain.com",
    "my-domain.com",
    "domain.com",
    "yoursite.com",
    "your-site.com",
    "yourapp.com",
    "your-app.com",
    "your-frontend.com",
    "yourfrontend.com",
];

/// Records the CORS and host rules for one file.
pub(super) fn analyze(cx: &Ctx<'_>, out: &mut FileOutput) {
    for (call, name) in &cx.calls {
        let (call, first) = (*call, python::positional_args(*call).first().copied());
        let first_name = first.and_then(|f| python::dotted(f, cx.src)).unwrap_or_default();
        match last(name) {
            "add_middleware" | "Middleware" => {
                let app = if last(name) == "Middleware" {
                    middleware_owner(cx, call)
                } else {
                    name.trim_end_matches(".add_middleware").to_string()
                };
                match last(&first_name) {
                    "CORSMiddleware" => starlette_cors(cx, call, &app, out),
                    "TrustedHostMiddleware" => trusted_hosts(cx, call, out),
                    _ => {}
                }
            }
            // Wrapping an ASGI app directly: `app = CORSMiddleware(app, allow_origins=…)`.
            "CORSMiddleware" if first.is_some() => starlette_cors(cx, call, &first_name, out),
            "TrustedHostMiddleware" if first.is_some() => trusted_hosts(cx, call, out),
            "CORS" if cx.imports("flask_cors") => flask_cors(cx, call, out),
            _ => {}
        }
    }
    if cx.settings_module && !cx.dev_config {
        django(cx, out);
    }
}

/// The app a `Middleware(CORSMiddleware, …)` entry belongs to: the variable
/// assigned the `FastAPI(…)`/`Starlette(…)` call whose `middleware=` list
/// holds it, directly or through a variable.
fn middleware_owner(cx: &Ctx<'_>, call: Node<'_>) -> String {
    let mut cur = cx.parents.parent(call);
    while let Some(n) = cur {
        match n.kind() {
            "call" => {
                let name = python::call_name(n, cx.src).unwrap_or_default();
                if matches!(last(&name), "FastAPI" | "Starlette") {
                    return assigned_to(cx, n).unwrap_or(name);
                }
            }
            "assignment" => {
                let Some(list_var) = cx.target_name(n) else { break };
                // `middleware = [...]` then `app = FastAPI(middleware=middleware)`.
                for (c, cname) in &cx.calls {
                    if matches!(last(cname), "FastAPI" | "Starlette")
                        && python::keyword_arg(*c, "middleware", cx.src).is_some_and(|v| cx.text(v) == list_var)
                    {
                        return assigned_to(cx, *c).unwrap_or_else(|| cname.clone());
                    }
                }
                return list_var.to_string();
            }
            _ => {}
        }
        cur = cx.parents.parent(n);
    }
    String::new()
}

fn assigned_to(cx: &Ctx<'_>, call: Node<'_>) -> Option<String> {
    let parent = call.parent().filter(|p| p.kind() == "assignment")?;
    parent.child_by_field_name("left").map(|l| cx.text(l).to_string())
}

fn starlette_cors(cx: &Ctx<'_>, call: Node<'_>, app: &str, out: &mut FileOutput) {
    out.signal("cors-middleware", python::line(call), app);
    if cx.env_guarded(call) {
        return; // `if settings.DEBUG:` — a development-only policy
    }
    let creds = is_true(python::keyword_arg(call, "allow_credentials", cx.src));
    if let Some(origins) = python::keyword_arg(call, "allow_origins", cx.src)
        && let Some(list) = cx.string_list(origins)
    {
        if list.iter().any(|o| o == "*") {
            wildcard(cx, origins, "allow_origins", creds, out);
        } else if all_local(&list) {
            localhost(cx, origins, "allow_origins", out);
        }
    }
    if let Some(re) = python::keyword_arg(call, "allow_origin_regex", cx.src)
        && python::string_value(cx.resolve(re), cx.src).is_some_and(|r| regex_matches_any(&r))
    {
        wildcard(cx, re, "allow_origin_regex", creds, out);
    }
}

/// Flask-CORS: with no `origins` (and no `resources`) it allows every origin.
fn flask_cors(cx: &Ctx<'_>, call: Node<'_>, out: &mut FileOutput) {
    let app = python::positional_args(call).first().map(|a| cx.text(*a).to_string());
    let app = app.or_else(|| assigned_to(cx, call)).unwrap_or_default();
    out.signal("cors-middleware", python::line(call), app);
    if cx.env_guarded(call) {
        return;
    }
    let creds = is_true(python::keyword_arg(call, "supports_credentials", cx.src));
    if let Some(origins) = python::keyword_arg(call, "origins", cx.src) {
        check_origin_list(cx, origins, "origins", creds, out);
        return;
    }
    let Some(resources) = python::keyword_arg(call, "resources", cx.src) else {
        // Origins may come from the app config instead (`CORS_ORIGINS`).
        if !cx.src.contains("CORS_ORIGINS") {
            let msg = "Flask-CORS is enabled without `origins`, so every origin is allowed";
            let sev = if creds { Severity::Critical } else { Severity::High };
            out.hit(Hit::new("cors-wildcard", python::line(call), msg, cx.snippet(call)).with_severity(sev));
        }
        return;
    };
    let resources = cx.resolve(resources);
    if resources.kind() != "dictionary" {
        // A path pattern or list of them: the default origins ("*") apply.
        if python::is_constant(resources, cx.src) {
            wildcard(cx, resources, "resources", creds, out);
        }
        return;
    }
    let mut c = resources.walk();
    for pair in resources.named_children(&mut c).filter(|p| p.kind() == "pair") {
        let Some(opts) = pair.child_by_field_name("value").filter(|v| v.kind() == "dictionary") else { continue };
        let creds = creds || is_true(dict_get(cx, opts, "supports_credentials"));
        match dict_get(cx, opts, "origins") {
            Some(o) => check_origin_list(cx, o, "origins", creds, out),
            None => wildcard(cx, pair, "resources", creds, out),
        }
    }
}

fn check_origin_list(cx: &Ctx<'_>, origins: Node<'_>, what: &str, creds: bool, out: &mut FileOutput) {
    if let Some(list) = cx.string_list(origins) {
        if list.iter().any(|o| o == "*" || o == ".*") {
            wildcard(cx, origins, what, creds, out);
        } else if all_local(&list) {
            localhost(cx, origins, what, out);
        }
    }
}

/// The value of a string key in a dict literal.
fn dict_get<'t>(cx: &Ctx<'_>, dict: Node<'t>, key: &str) -> Option<Node<'t>> {
    let mut c = dict.walk();
    dict.named_children(&mut c).filter(|p| p.kind() == "pair").find_map(|p| {
        let k = p.child_by_field_name("key")?;
        (python::string_value(k, cx.src).as_deref() == Some(key)).then(|| p.child_by_field_name("value")).flatten()
    })
}

fn trusted_hosts(cx: &Ctx<'_>, call: Node<'_>, out: &mut FileOutput) {
    let Some(hosts) = python::keyword_arg(call, "allowed_hosts", cx.src) else {
        let msg = "TrustedHostMiddleware without `allowed_hosts` accepts any Host header";
        out.hit(Hit::new("allowed-hosts-wildcard", python::line(call), msg, cx.snippet(call)));
        return;
    };
    if let Some(list) = cx.string_list(hosts) {
        if list.iter().any(|h| h == "*") {
            let msg = "TrustedHostMiddleware allows any Host header (\"*\")";
            out.hit(Hit::new("allowed-hosts-wildcard", python::line(hosts), msg, cx.snippet(hosts)));
        } else if all_local(&list) {
            localhost(cx, hosts, "allowed_hosts", out);
        }
    }
}

/// Module-level django-cors-headers and host settings.
fn django(cx: &Ctx<'_>, out: &mut FileOutput) {
    let creds = cx.module_assignments().any(|(n, v, _)| n == "CORS_ALLOW_CREDENTIALS" && v.kind() == "true");
    let mut host_assignments = std::collections::BTreeMap::<&str, usize>::new();
    for a in cx.assigns.iter().filter(|a| cx.parents.is_module_level(**a)) {
        if let Some(name) = cx.target_name(*a).filter(|n| DJANGO_HOST_SETTINGS.contains(n)) {
            *host_assignments.entry(name).or_default() += 1;
        }
    }
    for (name, value, assign) in cx.module_assignments() {
        if cx.env_guarded(assign) {
            continue;
        }
        match name {
            "CORS_ALLOW_ALL_ORIGINS" | "CORS_ORIGIN_ALLOW_ALL" if value.kind() == "true" => {
                let msg = format!("{name} = True lets every origin call the API");
                let sev = if creds { Severity::Critical } else { Severity::High };
                out.hit(Hit::new("cors-wildcard", python::line(assign), msg, cx.snippet(assign)).with_severity(sev));
            }
            n if DJANGO_HOST_SETTINGS.contains(&n) => {
                let Some(list) = cx.string_list(value) else { continue };
                if n == "ALLOWED_HOSTS" && list.iter().any(|h| h == "*") {
                    let msg = "ALLOWED_HOSTS contains \"*\": any Host header is accepted";
                    out.hit(Hit::new("allowed-hosts-wildcard", python::line(assign), msg, cx.snippet(assign)));
                } else if all_local(&list)
                    && host_assignments.get(n) == Some(&1)
                    && !cx.mutated(n)
                    && !cx.assigns.iter().any(|a| a.kind() == "augmented_assignment" && cx.target_name(*a) == Some(n))
                {
                    let msg = format!("{n} lists only local or placeholder hosts and nothing replaces it");
                    out.hit(Hit::new("localhost-in-config", python::line(assign), msg, cx.snippet(assign)));
                }
            }
            _ => {}
        }
    }
}

fn wildcard(cx: &Ctx<'_>, node: Node<'_>, what: &str, creds: bool, out: &mut FileOutput) {
    let (msg, sev) = if creds {
        (format!("CORS allows any origin ({what}) together with credentials"), Severity::Critical)
    } else {
        (format!("CORS allows any origin ({what})"), Severity::High)
    };
    let line = python::line(node);
    out.hit(Hit::new("cors-wildcard", line, msg, format!("{what}={}", cx.snippet(node))).with_severity(sev));
}

fn localhost(cx: &Ctx<'_>, node: Node<'_>, what: &str, out: &mut FileOutput) {
    let msg = format!("{what} lists only local or placeholder origins and no configuration replaces them");
    out.hit(Hit::new("localhost-in-config", python::line(node), msg, format!("{what}={}", cx.snippet(node))));
}

/// A regex that matches every origin: `.*`, `^.*$`, `https?://.*`.
fn regex_matches_any(re: &str) -> bool {
    let mut r = re.trim_start_matches('^').trim_end_matches('$');
    for scheme in ["(https?://)", "https?://", "https?:\\/\\/", "https://", "http://"] {
        r = r.strip_prefix(scheme).unwrap_or(r);
    }
    matches!(r, ".*" | ".+" | "(.*)" | "(.+)" | ".*?")
}

/// True if every entry is a local address or a placeholder domain (and there is at least one).
pub(crate) fn all_local(list: &[String]) -> bool {
    !list.is_empty() && list.iter().all(|e| is_local(e))
}

fn is_local(entry: &str) -> bool {
    let lower = entry.trim().to_ascii_lowercase();
    let rest = lower.split_once("://").map(|(_, r)| r).unwrap_or(&lower);
    let host_port = rest.split('/').next().unwrap_or(rest);
    let host = if let Some(v6) = host_port.strip_prefix('[') {
        v6.split(']').next().unwrap_or(v6)
    } else {
        host_port.rsplit_once(':').map(|(h, _)| h).unwrap_or(host_port)
    };
    let host = host.trim_start_matches("*.").trim_start_matches('.');
    matches!(host, "localhost" | "127.0.0.1" | "0.0.0.0" | "::1" | "testserver")
        || host.ends_with(".localhost")
        || PLACEHOLDER_DOMAINS.iter().any(|d| host == *d || host.ends_with(&format!(".{d}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_entries() {
        let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert!(all_local(&v(&["http://localhost:3000", "http://127.0.0.1:8000", "[::1]"])));
        assert!(all_local(&v(&["https://api.yourdomain.com", ".example.com"])));
        assert!(!all_local(&v(&["http://localhost:3000", "https://app.acme.io"])));
        assert!(!all_local(&v(&[])));
        assert!(regex_matches_any("https?://.*"));
        assert!(regex_matches_any("^.*$"));
        assert!(!regex_matches_any("https://.*\\.acme\\.io"));
    }
}
