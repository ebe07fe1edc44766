//! Data, reliability and observability rules for Rust services: SQLite
//! defaults, unbounded list handlers, uploads written to disk, blocking
//! calls in async code, HTTP clients without a timeout, servers that
//! drain nothing on SIGTERM, empty `Err(_)` arms, slow work in handlers,
//! health routes, `println!` logging and debug log levels fixed in code.

use super::{Cx, Route};
use crate::checks::python_runtime::{DEP_WORDS, is_health_path, plausible_health, words};
use crate::engine::{FileOutput, Hit};
use crate::rust::{args, last, macro_string, string_value};
use crate::syntax::line;
use tree_sitter::Node;

/// Records every data, reliability and observability hit and signal of one file.
pub fn analyze(cx: &Cx<'_>, out: &mut FileOutput) {
    let uses_reqwest = cx.src.contains("reqwest");
    for c in &cx.calls {
        sqlite(cx, c.node, &c.name, out);
        storage(cx, c.node, &c.name, out);
        blocking(cx, c.node, &c.name, out);
        if uses_reqwest || c.name.starts_with("ureq::") {
            http_client(cx, c.node, &c.name, out);
        }
        shutdown(cx, c.node, &c.name, out);
        log_level(cx, c.node, &c.name, out);
        slow_work(cx, c.node, &c.name, out);
        list_query(cx, c.node, &c.name, out);
    }
    empty_err_arms(cx, out);
    for r in &cx.routes {
        health(cx, r, out);
    }
    health_functions(cx, out);
    prints(cx, out);
}

fn hit(out: &mut FileOutput, id: &'static str, node: Node<'_>, msg: impl Into<String>, cx: &Cx<'_>) {
    out.hit(Hit::new(id, line(node), msg, cx.snippet(node)));
}

/// `SqlitePool::connect("sqlite://app.db")`, `Connection::open("app.db")`, `Database::connect("sqlite:…")`.
fn sqlite(cx: &Cx<'_>, call: Node<'_>, name: &str, out: &mut FileOutput) {
    let m = last(name);
    if !matches!(m, "connect" | "connect_lazy" | "open" | "from_str" | "new") || cx.conditional(call) {
        return;
    }
    let Some(url) = args(call).first().and_then(|a| string_value(*a, cx.src)) else { return };
    let lower = url.to_ascii_lowercase();
    let sqlite_url = lower.starts_with("sqlite:") && !lower.contains(":memory:") && !lower.contains("mode=memory");
    let sqlite_file = name.ends_with("Connection::open")
        && (lower.ends_with(".db") || lower.ends_with(".sqlite") || lower.ends_with(".sqlite3"));
    if sqlite_url || sqlite_file {
        hit(out, "sqlite-in-production", call, format!("the database is a SQLite file ({url})"), cx);
    }
}

/// A `Multipart` handler that writes files with `File::create` / `fs::write`.
fn storage(cx: &Cx<'_>, call: Node<'_>, name: &str, out: &mut FileOutput) {
    let writes = name.ends_with("File::create")
        || name.ends_with("fs::write")
        || name.ends_with("fs::copy")
        || last(name) == "persist";
    if !writes {
        return;
    }
    let Some(h) = cx.handler_of(call) else { return };
    let params = h.child_by_field_name("parameters").map(|p| cx.text(p)).unwrap_or("");
    if params.contains("Multipart") || params.contains("MultipartForm") {
        hit(out, "local-file-storage", call, "an uploaded file is written to the local disk", cx);
    }
}

/// `std::thread::sleep`, `std::fs::*` and `reqwest::blocking` inside async code.
fn blocking(cx: &Cx<'_>, call: Node<'_>, name: &str, out: &mut FileOutput) {
    if name.contains("()") {
        return; // a method on the result (`std::fs::read(p).unwrap()`), not the call itself
    }
    let what = if name.ends_with("thread::sleep") {
        "std::thread::sleep blocks the async runtime's worker thread"
    } else if name.starts_with("std::fs::") {
        "std::fs blocks the async runtime's worker thread (use tokio::fs)"
    } else if name.starts_with("reqwest::blocking::") {
        "reqwest::blocking inside async code blocks the runtime"
    } else {
        return;
    };
    // Sleeping blocks a runtime worker anywhere; file I/O matters where requests are served
    // (startup code may create a directory before the server runs).
    let counts = if name.ends_with("thread::sleep") { cx.in_async(call) } else { cx.handler_of(call).is_some() };
    if counts {
        hit(out, "blocking-call-in-async", call, what, cx);
    }
}

/// `reqwest::get(url)` and `Client::new()` have no timeout; a builder chain without `.timeout(…)` neither.
fn http_client(cx: &Cx<'_>, call: Node<'_>, name: &str, out: &mut FileOutput) {
    let flagged = match name {
        "reqwest::get" | "ureq::get" | "ureq::post" | "ureq::put" | "ureq::delete" => true,
        "reqwest::Client::new" | "Client::new" if cx.src.contains("reqwest::Client") || name.starts_with("reqwest") => {
            true
        }
        "reqwest::Client::builder" | "Client::builder" | "reqwest::ClientBuilder::new" | "ClientBuilder::new"
            if cx.src.contains("reqwest") =>
        {
            let chain = cx.text(cx.chain_top(call));
            !(chain.contains(".timeout(") || chain.contains("read_timeout(") || chain.contains("connect_timeout("))
        }
        _ => false,
    };
    if flagged && !cx.conditional(call) {
        hit(
            out,
            "outbound-http-no-timeout",
            call,
            format!("{name} has no request timeout: a stalled server hangs the call forever"),
            cx,
        );
    }
}

/// axum/hyper serve calls and actix with its signal handling disabled, and
/// the shutdown hooks that drain them.
fn shutdown(cx: &Cx<'_>, call: Node<'_>, name: &str, out: &mut FileOutput) {
    let m = last(name);
    let serve = name == "axum::serve" || name.ends_with("Server::bind") || m == "disable_signals";
    if serve {
        out.signal("server-listen", line(call), cx.snippet(call));
    }
    if m == "with_graceful_shutdown"
        || name.ends_with("signal::ctrl_c")
        || m == "terminate"
        || name.ends_with("SignalKind::terminate")
    {
        out.signal("sigterm-handler", line(call), cx.snippet(call));
    }
}

/// `tracing_subscriber::fmt().with_max_level(Level::DEBUG)`, env_logger `filter_level(LevelFilter::Debug)`.
fn log_level(cx: &Cx<'_>, call: Node<'_>, name: &str, out: &mut FileOutput) {
    if !matches!(last(name), "with_max_level" | "filter_level" | "max_level") {
        return;
    }
    let Some(a) = args(call).into_iter().next() else { return };
    let t = cx.text(a).to_ascii_lowercase();
    if (t.ends_with("debug") || t.ends_with("trace")) && !cx.conditional(call) {
        hit(out, "log-level-hardcoded", a, "the log level is fixed at debug instead of read from configuration", cx);
    }
}

/// LLM calls and email sending inside a request handler.
fn slow_work(cx: &Cx<'_>, call: Node<'_>, name: &str, out: &mut FileOutput) {
    let kind = if name.contains("chat().create")
        || name.contains("completions().create")
        || last(name) == "generate_content"
    {
        "calls an LLM"
    } else if last(name) == "send" && (name.contains("mailer") || name.contains("smtp") || name.contains("transport")) {
        "sends email"
    } else {
        return;
    };
    if cx.handler_of(call).is_some() {
        hit(out, "no-background-worker", call, format!("a request handler {kind} while the client waits"), cx);
    }
}

const PAGE_WORDS: &[&str] = &["limit", "offset", "page", "cursor", "size", "paginate", "pagination", "after", "per"];

/// `fetch_all` of a query without LIMIT, SeaORM `.all(db)` or diesel `.load(conn)`
/// without `.limit(`, in a list handler that reads no paging parameter.
fn list_query(cx: &Cx<'_>, call: Node<'_>, name: &str, out: &mut FileOutput) {
    let m = last(name);
    if !matches!(m, "fetch_all" | "all" | "load") || !name.contains('.') {
        return;
    }
    let Some(h) = cx.handler_of(call) else { return };
    // `GET /findings/{id}` answers one item; lists under it belong to that item.
    let single = cx.routes.iter().any(|r| r.handler.is_some_and(|x| x.id() == h.id()) && ends_with_param(&r.path));
    if single {
        return;
    }
    let chain = cx.text(call).to_ascii_lowercase();
    if chain.contains("limit") || chain.contains("paginate") || chain.contains(".take(") {
        return;
    }
    let query_text = cx
        .macros
        .iter()
        .filter(|(n, _)| n.start_byte() >= call.start_byte() && n.end_byte() <= call.end_byte())
        .filter_map(|(n, _)| macro_string(*n, cx.src))
        .chain(cx.nodes_of("string_literal", Some(call)).filter_map(|s| string_value(s, cx.src)))
        .collect::<Vec<_>>()
        .join(" ");
    let is_query = match m {
        "fetch_all" => query_text.to_ascii_lowercase().contains("select"),
        "all" => chain.contains("find()"),
        _ => chain.contains(".load"),
    };
    if !is_query || query_text.to_ascii_lowercase().contains("limit") {
        return;
    }
    let fname = h.child_by_field_name("name").map(|n| cx.text(n).to_ascii_lowercase()).unwrap_or_default();
    let routed_get = cx.routes.iter().any(|r| {
        r.methods.iter().any(|x| x == "get")
            && (r.handler.is_some_and(|x| x.id() == h.id()) || r.name.as_deref().is_some_and(|n| last(n) == fname))
    });
    let listy = ["list", "get_all", "all", "index", "search"].iter().any(|p| fname.starts_with(p));
    if !routed_get && !listy {
        return;
    }
    let paged = ["identifier", "field_identifier"]
        .iter()
        .any(|k| cx.nodes_of(k, Some(h)).any(|n| words(cx.text(n)).iter().any(|w| PAGE_WORDS.contains(&w.as_str()))));
    if !paged {
        hit(
            out,
            "unbounded-list-endpoint",
            call,
            "a list handler returns every row and takes no limit/offset/page parameter",
            cx,
        );
    }
}

/// A path whose last segment is a parameter (`/items/{id}`, `/items/:id`, `/items/<id>`).
pub fn ends_with_param(path: &str) -> bool {
    path.trim_end_matches('/').rsplit('/').next().is_some_and(|s| s.starts_with(['{', ':', '<']))
}

/// `Err(_) => {}` / `Err(_) => ()`: an error matched and dropped.
fn empty_err_arms(cx: &Cx<'_>, out: &mut FileOutput) {
    for arm in cx.nodes_of("match_arm", None) {
        let (Some(p), Some(v)) = (arm.child_by_field_name("pattern"), arm.child_by_field_name("value")) else {
            continue;
        };
        let pat = cx.text(p).replace(' ', "");
        let empty = matches!(v.kind(), "block" | "unit_expression") && v.named_child_count() == 0;
        if (pat == "Err(_)" || pat == "Err(_e)") && empty {
            hit(out, "swallowed-exceptions", arm, "an error is matched and dropped without logging it", cx);
        }
    }
}

fn health(cx: &Cx<'_>, r: &Route<'_>, out: &mut FileOutput) {
    if !is_health_path(&r.path) || !plausible_health(&r.path, r.name.as_deref().or(Some("health"))) {
        return;
    }
    out.signal("health-route", r.line, r.path.clone());
    if r.handler.is_some_and(|h| checks_dependency(cx, h)) {
        out.signal("health-route-checks-dependency", r.line, r.path.clone());
    }
}

/// A health handler defined away from its route that queries a dependency.
fn health_functions(cx: &Cx<'_>, out: &mut FileOutput) {
    for (name, f) in &cx.functions {
        let named = ["health", "readiness", "ready", "liveness"].iter().any(|w| name.contains(w));
        if named && cx.is_handler(*f) && checks_dependency(cx, *f) {
            out.signal("health-route-checks-dependency", line(*f), name.to_string());
        }
    }
}

fn checks_dependency(cx: &Cx<'_>, h: Node<'_>) -> bool {
    ["identifier", "field_identifier"]
        .iter()
        .any(|k| cx.nodes_of(k, Some(h)).any(|n| words(cx.text(n)).iter().any(|w| DEP_WORDS.contains(&w.as_str()))))
        || cx.nodes_of("string_literal", Some(h)).any(|s| cx.text(s).to_ascii_lowercase().contains("select 1"))
        || cx.macros.iter().any(|(n, _)| {
            n.start_byte() >= h.start_byte()
                && n.end_byte() <= h.end_byte()
                && macro_string(*n, cx.src).is_some_and(|s| s.to_ascii_lowercase().contains("select 1"))
        })
}

/// `println!`, `print!`, `eprintln!` and `dbg!` in server code.
fn prints(cx: &Cx<'_>, out: &mut FileOutput) {
    // A command-line entry point prints its output on purpose.
    if cx.src.contains("clap::") || cx.src.contains("use clap") || cx.src.contains("std::env::args") {
        return;
    }
    let calls: Vec<Node<'_>> = cx
        .macros
        .iter()
        .filter(|(_, m)| matches!(*m, "println" | "print" | "eprintln" | "eprint" | "dbg"))
        .map(|(n, _)| *n)
        .collect();
    if let Some(first) = calls.first() {
        out.signal("rust-print-call", line(*first), calls.len().to_string());
    }
}
