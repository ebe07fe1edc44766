//! `observability` rules: health routes and whether they touch a
//! dependency, and the signals the repository-level checks combine
//! (structured logging, error monitoring, metrics, request ids, print
//! calls), plus hard-coded DEBUG log levels.

mod checks;

pub use checks::checks;

use super::syntax::{Cx, Func, conditional, in_main_guard, last, scope_of, snippet};
use crate::engine::{FileOutput, Hit};
use crate::python::{self, keyword_arg, positional_args, string_value, text};
use tree_sitter::Node;

/// Records the observability hits and signals of one file.
pub fn analyze(cx: &Cx<'_>, out: &mut FileOutput) {
    health(cx, out);
    logging_signals(cx, out);
    module_signals(cx, out);
    prints(cx, out);
    log_level(cx, out);
}

pub(crate) const HEALTH_SEGMENTS: &[&str] = &[
    "health",
    "healthz",
    "healthcheck",
    "health-check",
    "health_check",
    "livez",
    "live",
    "liveness",
    "ready",
    "readyz",
    "readiness",
    "ping",
    "status",
    "_health",
    "_ping",
];

/// `/health`, `/api/v1/healthz/`, `^ping/?$`; not paths with parameters.
pub fn is_health_path(path: &str) -> bool {
    let p = path.trim_matches(|c| matches!(c, '^' | '$' | '/' | '?')).to_ascii_lowercase();
    if p.is_empty() || p.contains(['{', '<', '(', ':', '*']) {
        return false;
    }
    HEALTH_SEGMENTS.contains(&p.rsplit('/').next().unwrap_or(&p))
}

/// `/status` is as often "orders by status" as a health check: it counts
/// only when the handler's name says nothing else (`status`, `get_status`,
/// `health_status`), not `get_products_by_status`.
pub(crate) fn plausible_health(path: &str, handler: Option<&str>) -> bool {
    const GENERIC: &[&str] = &[
        "get",
        "check",
        "health",
        "healthz",
        "status",
        "ping",
        "alive",
        "live",
        "liveness",
        "ready",
        "readiness",
        "heartbeat",
        "api",
        "app",
        "service",
        "server",
        "system",
        "root",
        "index",
        "endpoint",
        "handler",
        "view",
    ];
    let seg =
        path.trim_matches(|c| matches!(c, '^' | '$' | '/' | '?')).rsplit('/').next().unwrap_or("").to_ascii_lowercase();
    if seg != "status" {
        return true;
    }
    handler.is_some_and(|h| words(last(h)).iter().all(|w| GENERIC.contains(&w.as_str())))
}

fn health_named(f: &Func<'_>) -> bool {
    let name = f.name.to_ascii_lowercase();
    let class = f.class.as_deref().unwrap_or("").to_ascii_lowercase();
    ["health", "readiness", "liveness", "readyz", "livez"].iter().any(|w| name.contains(w) || class.contains(w))
}

pub(crate) const DEP_WORDS: &[&str] = &[
    "db",
    "session",
    "engine",
    "redis",
    "cache",
    "database",
    "cursor",
    "conn",
    "connection",
    "execute",
    "ping",
    "pool",
    "mongo",
    "sql",
    "query",
    "broker",
    "rabbitmq",
    "kafka",
    "postgres",
    "mysql",
    "client",
    "prisma",
    "knex",
    "sequelize",
    "mongoose",
    "orm",
    "datasource",
];

/// True if the function body touches a database, cache or broker.
fn checks_dependency(f: &Func<'_>, src: &str) -> bool {
    let Some(body) = f.node.child_by_field_name("body") else { return false };
    let mut deep = false;
    python::walk(body, |n| match n.kind() {
        "identifier" => deep |= words(python::text(n, src)).iter().any(|w| DEP_WORDS.contains(&w.as_str())),
        "string" => deep |= string_value(n, src).is_some_and(|v| v.to_ascii_lowercase().contains("select 1")),
        _ => {}
    });
    deep
}

/// `get_db` → [get, db]; `SessionLocal` → [session, local].
pub(crate) fn words(ident: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for ch in ident.chars() {
        let boundary = ch == '_' || (ch.is_ascii_uppercase() && !cur.ends_with(|c: char| c.is_ascii_uppercase()));
        if boundary && !cur.is_empty() {
            out.push(std::mem::take(&mut cur).to_ascii_lowercase());
        }
        if ch != '_' {
            cur.push(ch);
        }
    }
    if !cur.is_empty() {
        out.push(cur.to_ascii_lowercase());
    }
    out
}

fn decl_line(f: &Func<'_>) -> u32 {
    let n = f.node.parent().filter(|p| p.kind() == "decorated_definition").unwrap_or(f.node);
    python::line(n)
}

fn health(cx: &Cx<'_>, out: &mut FileOutput) {
    for f in &cx.funcs {
        let path = f
            .route
            .as_ref()
            .and_then(|r| r.path.as_deref())
            .filter(|p| is_health_path(p) && plausible_health(p, Some(&f.name)));
        if let Some(p) = path {
            out.signal("health-route", decl_line(f), p);
        }
        if (path.is_some() || health_named(f)) && checks_dependency(f, cx.src) {
            out.signal("health-route-checks-dependency", decl_line(f), f.name.clone());
        }
    }
    let django = cx.py.imports("django");
    for c in &cx.calls {
        let args = positional_args(c.node);
        let (path, handler) = match last(&c.name) {
            "add_api_route" | "add_url_rule" | "add_route" | "Route" | "APIRoute" => {
                let handler = args.get(1).copied().or_else(|| keyword_arg(c.node, "endpoint", cx.src));
                (args.first().copied().or_else(|| keyword_arg(c.node, "path", cx.src)), handler)
            }
            "path" | "re_path" | "url" if django && !c.name.contains('.') => {
                (args.first().copied(), args.get(1).copied())
            }
            // A router or blueprint mounted under a health prefix: `APIRouter(prefix="/health")`.
            "APIRouter" | "include_router" => (keyword_arg(c.node, "prefix", cx.src), None),
            "Blueprint" | "register_blueprint" => (keyword_arg(c.node, "url_prefix", cx.src), None),
            _ => continue,
        };
        let handler = handler.map(|h| text(h, cx.src));
        let path = path.and_then(|p| string_value(p, cx.src));
        if let Some(p) = path.filter(|p| is_health_path(p) && plausible_health(p, handler.or(Some("health")))) {
            out.signal("health-route", cx.line(c.node), if p.starts_with('/') { p } else { format!("/{p}") });
        }
    }
}

fn logging_signals(cx: &Cx<'_>, out: &mut FileOutput) {
    for m in ["structlog", "pythonjsonlogger", "json_log_formatter", "ecs_logging"] {
        if let Some(line) = cx.import_line(m) {
            out.signal("json-logging", line, m);
        }
    }
    for c in &cx.calls {
        // DRF also has a `JSONRenderer`, for responses: only structlog's counts.
        let structlog_json = last(&c.name) == "JSONRenderer" && cx.import_line("structlog").is_some();
        let json = matches!(last(&c.name), "JsonFormatter" | "JSONFormatter" | "StdlibFormatter")
            || structlog_json
            || (last(&c.name) == "add" && keyword_arg(c.node, "serialize", cx.src).is_some_and(|v| v.kind() == "true"));
        if json {
            out.signal("json-logging", cx.line(c.node), c.name.clone());
        }
    }
    for s in &cx.strings {
        let v = string_value(*s, cx.src).unwrap_or_default();
        if ["pythonjsonlogger", "jsonlogger", "json_log_formatter", "structlog.processors.JSONRenderer", "ecs_logging"]
            .iter()
            .any(|m| v.contains(m))
        {
            out.signal("json-logging", cx.line(*s), v);
        }
    }
    for (class, sup) in &cx.classes {
        if sup.contains("Formatter") && text(*class, cx.src).contains("json.dumps") {
            out.signal("json-logging", cx.line(*class), "a logging.Formatter that writes JSON");
        }
    }
}

const MONITORING: &[&str] = &[
    "sentry_sdk",
    "raven",
    "rollbar",
    "bugsnag",
    "honeybadger",
    "ddtrace",
    "newrelic",
    "elasticapm",
    "opentelemetry",
    "scout_apm",
    "logfire",
    "appsignal",
    "airbrake",
];
const METRICS: &[&str] = &[
    "prometheus_client",
    "prometheus_fastapi_instrumentator",
    "starlette_exporter",
    "starlette_prometheus",
    "django_prometheus",
    "prometheus_flask_exporter",
    "aioprometheus",
    "statsd",
    "datadog",
    "opentelemetry.metrics",
    "opentelemetry.sdk.metrics",
    "opentelemetry.exporter.prometheus",
];
const REQUEST_ID: &[&str] =
    &["asgi_correlation_id", "django_guid", "log_request_id", "request_id", "flask_request_id", "starlette_context"];

fn module_signals(cx: &Cx<'_>, out: &mut FileOutput) {
    let groups: [(&'static str, &[&str]); 3] =
        [("error-monitoring", MONITORING), ("metrics", METRICS), ("request-id", REQUEST_ID)];
    for (key, modules) in groups {
        if let Some((m, line)) = modules.iter().find_map(|m| cx.import_line(m).map(|l| (m, l))) {
            out.signal(key, line, *m);
        }
    }
    for s in &cx.strings {
        let v = string_value(*s, cx.src).unwrap_or_default().to_ascii_lowercase();
        if ["x-request-id", "x-correlation-id", "http_x_request_id", "request_id.middleware", "django_guid.middleware"]
            .iter()
            .any(|m| v.contains(m))
        {
            out.signal("request-id", cx.line(*s), v);
        }
    }
}

/// Prints in server code: not in `manage.py`, not in a CLI script (a file
/// with a `__main__` guard that imports no web framework), not under the
/// guard and not in CLI commands.
fn prints(cx: &Cx<'_>, out: &mut FileOutput) {
    if cx.py.entry.file_name() == "manage.py" {
        return;
    }
    let web = ["fastapi", "starlette", "flask", "django", "uvicorn", "gunicorn", "rest_framework"]
        .iter()
        .any(|m| cx.py.imports(m));
    let calls: Vec<Node<'_>> = cx
        .calls
        .iter()
        .filter(|c| c.name == "print")
        .map(|c| c.node)
        .filter(|n| !in_main_guard(&cx.py.parents, *n, cx.src) && !in_cli_command(cx, *n))
        .collect();
    let script = !web && cx.calls.iter().any(|c| in_main_guard(&cx.py.parents, c.node, cx.src));
    if script || calls.is_empty() {
        return;
    }
    out.signal("print-call", cx.line(calls[0]), calls.len().to_string());
}

fn in_cli_command(cx: &Cx<'_>, n: Node<'_>) -> bool {
    let mut cur = scope_of(&cx.py.parents, n);
    while let Some(s) = cur {
        if cx
            .func_by_id(s.id())
            .is_some_and(|f| f.decorators.iter().any(|d| last(d) == "command" || d.contains("cli.")))
        {
            return true;
        }
        cur = scope_of(&cx.py.parents, s);
    }
    false
}

fn is_debug_level(v: Node<'_>, src: &str) -> bool {
    let t = text(v, src);
    t == "logging.DEBUG"
        || t == "DEBUG" && v.kind() == "identifier"
        || t == "10"
        || string_value(v, src).is_some_and(|s| s.eq_ignore_ascii_case("debug"))
}

fn log_level(cx: &Cx<'_>, out: &mut FileOutput) {
    for c in &cx.calls {
        let level = match c.name.as_str() {
            "logging.basicConfig" => keyword_arg(c.node, "level", cx.src),
            n if last(n) == "setLevel" => positional_args(c.node).first().copied(),
            n if last(n) == "add" && cx.py.imports("loguru") => keyword_arg(c.node, "level", cx.src),
            _ => None,
        };
        if level.is_some_and(|v| is_debug_level(v, cx.src)) && !conditional(&cx.py.parents, c.node, None) {
            out.hit(Hit::new(
                "log-level-hardcoded",
                cx.line(c.node),
                "the log level is fixed at DEBUG instead of read from configuration",
                snippet(c.node, cx.src),
            ));
        }
    }
}
