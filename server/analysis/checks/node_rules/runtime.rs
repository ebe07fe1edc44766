//! Data, reliability and observability rules for Node services: schema
//! sync at startup, SQLite defaults, unbounded list routes, uploads on
//! disk, sync I/O in handlers, axios without timeouts, servers without
//! SIGTERM handling, empty `catch`, slow work in handlers, health routes,
//! `console.log` logging and hard-coded debug log levels.

use super::{Cx, Route};
use crate::checks::python_runtime::{DEP_WORDS, is_health_path, plausible_health, words};
use crate::engine::{FileOutput, Hit};
use crate::js::{args, is_constant, last, options_arg, prop, string_value};
use crate::syntax::line;
use tree_sitter::Node;

/// Records every data, reliability and observability hit and signal of one file.
pub fn analyze(cx: &Cx<'_>, out: &mut FileOutput) {
    for c in &cx.calls {
        schema_sync(cx, c.node, &c.name, out);
        storage(cx, c.node, &c.name, out);
        blocking(cx, c.node, &c.name, out);
        timeouts(cx, c.node, &c.name, out);
        shutdown(cx, c.node, &c.name, out);
        log_level(cx, c.node, &c.name, out);
    }
    option_pairs(cx, out);
    if cx.imports("axios") {
        axios_defaults(cx, out);
    }
    empty_catches(cx, out);
    for r in &cx.routes {
        list_route(cx, r, out);
        slow_work(cx, r, out);
        health(cx, r, out);
    }
    consoles(cx, out);
}

fn hit(out: &mut FileOutput, id: &'static str, node: Node<'_>, msg: impl Into<String>, cx: &Cx<'_>) {
    out.hit(Hit::new(id, line(node), msg, cx.snippet(node)));
}

/// `sequelize.sync({ alter: true })` / `{ force: true }` outside tests.
fn schema_sync(cx: &Cx<'_>, call: Node<'_>, name: &str, out: &mut FileOutput) {
    if last(name) != "sync" || !name.to_ascii_lowercase().contains("sequelize") || cx.conditional(call) {
        return;
    }
    let forced = options_arg(call)
        .is_some_and(|o| ["alter", "force"].iter().any(|k| prop(o, k, cx.src).is_some_and(|v| v.kind() == "true")));
    if forced {
        hit(
            out,
            "schema-created-at-startup",
            call,
            "Sequelize alters or recreates the tables at startup instead of running migrations",
            cx,
        );
    }
}

/// Literal options of ORM and driver configs: TypeORM `synchronize: true`,
/// a SQLite `type`/`dialect`/`client`.
fn option_pairs(cx: &Cx<'_>, out: &mut FileOutput) {
    for pair in cx.nodes_of("pair", None) {
        let key = pair.child_by_field_name("key").map(|k| crate::js::key_name(k, cx.src)).unwrap_or("");
        if !matches!(key, "synchronize" | "type" | "dialect" | "client") {
            continue;
        }
        let Some(value) = pair.child_by_field_name("value") else { continue };
        if cx.conditional(pair) {
            continue;
        }
        if key == "synchronize" && value.kind() == "true" {
            hit(
                out,
                "schema-created-at-startup",
                pair,
                "TypeORM synchronizes the schema at startup (synchronize: true) instead of running migrations",
                cx,
            );
        }
        let v = string_value(value, cx.src).unwrap_or_default().to_ascii_lowercase();
        let sqlite = match key {
            "type" => matches!(v.as_str(), "sqlite" | "better-sqlite3" | "sqljs"),
            "dialect" => v == "sqlite",
            "client" => matches!(v.as_str(), "sqlite3" | "better-sqlite3"),
            _ => false,
        };
        if sqlite {
            hit(out, "sqlite-in-production", pair, format!("the database is SQLite ({key}: '{v}')"), cx);
        }
    }
}

/// multer's `diskStorage` or `dest`: uploads kept on the instance's disk.
fn storage(cx: &Cx<'_>, call: Node<'_>, name: &str, out: &mut FileOutput) {
    if !cx.from_module(name, &["multer"]) {
        return;
    }
    if last(name) == "diskStorage" {
        hit(out, "local-file-storage", call, "uploads are written to the local disk (multer.diskStorage)", cx);
    } else if !name.contains('.')
        && let Some(dest) = options_arg(call).and_then(|o| prop(o, "dest", cx.src))
    {
        hit(out, "local-file-storage", dest, "uploads are written to the local disk (multer dest)", cx);
    }
}

/// Node's synchronous I/O inside a request handler or async function.
fn blocking(cx: &Cx<'_>, call: Node<'_>, name: &str, out: &mut FileOutput) {
    let method = last(name);
    let sync_api = method.ends_with("Sync")
        && method.len() > 4
        && (cx.from_module(
            name,
            &["fs", "node:fs", "child_process", "node:child_process", "crypto", "node:crypto", "zlib"],
        ) || name.starts_with("fs."));
    if !sync_api {
        return;
    }
    // Startup code may block; a request handler may not.
    if cx.route_of(call).is_some() {
        hit(
            out,
            "blocking-call-in-async",
            call,
            format!("{method} blocks the event loop while a request is served"),
            cx,
        );
    }
}

const AXIOS_VERBS: &[&str] = &["get", "post", "put", "patch", "delete", "head", "options", "request"];

/// axios calls and instances with no timeout (axios waits forever by default).
fn timeouts(cx: &Cx<'_>, call: Node<'_>, name: &str, out: &mut FileOutput) {
    if !cx.from_module(name, &["axios"]) {
        return;
    }
    let has_timeout =
        |o: Option<Node<'_>>| o.is_some_and(|o| prop(o, "timeout", cx.src).is_some() || crate::js::spreads(o));
    let a = args(call);
    let config = match (name.contains('.'), last(name)) {
        // `axios(config)`; not `new AxiosError(…)` or another named export.
        (false, _) if call.kind() == "call_expression" && name.starts_with(char::is_lowercase) => {
            a.iter().copied().find(|x| x.kind() == "object")
        }
        (false, _) => return,
        (true, "create") => a.first().copied(),
        (true, v) if AXIOS_VERBS.contains(&v) && name.matches('.').count() == 1 => {
            a.iter().copied().rfind(|x| x.kind() == "object")
        }
        _ => return,
    };
    if !has_timeout(config) {
        out.signal("axios-no-timeout", line(call), cx.snippet(call));
    }
}

/// `axios.defaults.timeout = …` sets a timeout for every call of the process.
fn axios_defaults(cx: &Cx<'_>, out: &mut FileOutput) {
    let set = cx.nodes_of("assignment_expression", None).find(|a| {
        a.child_by_field_name("left")
            .is_some_and(|l| cx.text(l).replace(char::is_whitespace, "").ends_with("axios.defaults.timeout"))
    });
    if let Some(a) = set {
        out.signal("http-default-timeout", line(a), "axios.defaults.timeout");
    }
}

const SHUTDOWN_MODULES: &[&str] =
    &["close-with-grace", "stoppable", "http-terminator", "@godaddy/terminus", "lightship"];

/// `listen` calls of a server, and the SIGTERM handling that drains it.
fn shutdown(cx: &Cx<'_>, call: Node<'_>, name: &str, out: &mut FileOutput) {
    let method = last(name);
    let candidate = matches!(
        method,
        "listen" | "on" | "once" | "addListener" | "enableShutdownHooks" | "createTerminus" | "createHttpTerminator"
    ) || cx.from_module(name, SHUTDOWN_MODULES);
    if !candidate {
        return;
    }
    let a = args(call);
    if method == "listen" && name.contains('.') && !a.is_empty() {
        out.signal("server-listen", line(call), cx.snippet(call));
    }
    let on_signal = matches!(method, "on" | "once" | "addListener")
        && name.starts_with("process.")
        && a.first().and_then(|s| string_value(*s, cx.src)).is_some_and(|s| matches!(s.as_str(), "SIGTERM" | "SIGINT"));
    let helper = matches!(method, "enableShutdownHooks" | "createTerminus" | "createHttpTerminator")
        || cx.from_module(name, SHUTDOWN_MODULES);
    if on_signal || helper {
        out.signal("sigterm-handler", line(call), cx.snippet(call));
    }
}

/// `catch (e) {}` and `.catch(() => {})`: errors dropped without a trace.
/// A block holding only a comment says why the error does not matter: a
/// decision, not an accident.
fn empty_catches(cx: &Cx<'_>, out: &mut FileOutput) {
    let empty = |block: Node<'_>| block.kind() == "statement_block" && block.named_child_count() == 0;
    for clause in cx.nodes_of("catch_clause", None) {
        if clause.child_by_field_name("body").is_some_and(empty) {
            hit(out, "swallowed-exceptions", clause, "an empty catch block drops the error without logging it", cx);
        }
    }
    for c in cx.calls.iter().filter(|c| last(&c.name) == "catch" && c.name.contains('.')) {
        let handler = args(c.node).first().copied();
        let body =
            handler.filter(|h| crate::js::FUNCTIONS.contains(&h.kind())).and_then(|h| h.child_by_field_name("body"));
        if body.is_some_and(empty) {
            hit(out, "swallowed-exceptions", c.node, "a promise's errors are caught and dropped without logging", cx);
        }
    }
}

const PAGE_WORDS: &[&str] = &[
    "limit",
    "offset",
    "page",
    "cursor",
    "take",
    "skip",
    "size",
    "paginate",
    "pagination",
    "after",
    "before",
    "first",
];

/// GET list routes that return every row of a table.
fn list_route(cx: &Cx<'_>, r: &Route<'_>, out: &mut FileOutput) {
    let Some(h) = r.handler else { return };
    if r.method != "get" || r.path.rsplit('/').next().is_some_and(|s| s.starts_with(':')) {
        return;
    }
    let paged = [
        "identifier",
        "property_identifier",
        "shorthand_property_identifier_pattern",
        "shorthand_property_identifier",
        "string_fragment",
    ]
    .iter()
    .any(|k| cx.nodes_of(k, Some(h)).any(|n| words(cx.text(n)).iter().any(|w| PAGE_WORDS.contains(&w.as_str()))));
    if paged {
        return;
    }
    let all = cx.calls_within(h).find(|c| {
        let a = args(c.node);
        matches!(last(&c.name), "findMany" | "find" | "findAll" | "findAndCountAll")
            && c.name.contains('.')
            && !a.first().is_some_and(|f| crate::js::FUNCTIONS.contains(&f.kind()))
            && !chained_bound(cx, c.node)
    });
    if let Some(c) = all {
        let msg =
            format!("GET {} returns every row ({}) and takes no limit/offset/page parameter", r.path, last(&c.name));
        hit(out, "unbounded-list-endpoint", c.node, msg, cx);
    }
}

/// `Model.find().limit(20)`: the chain bounds the query.
fn chained_bound(cx: &Cx<'_>, call: Node<'_>) -> bool {
    let chain = cx.parents.ancestors(call).take_while(|n| matches!(n.kind(), "member_expression" | "call_expression"));
    chain.filter(|n| n.kind() == "member_expression").any(|m| {
        m.child_by_field_name("property").is_some_and(|p| matches!(cx.text(p), "limit" | "skip" | "paginate" | "take"))
    })
}

/// Slow work a handler does while the client waits.
fn slow_work(cx: &Cx<'_>, r: &Route<'_>, out: &mut FileOutput) {
    let Some(h) = r.handler else { return };
    let found = cx.calls_within(h).find_map(|c| {
        let n = c.name.as_str();
        let kind = if ["chat.completions.create", "messages.create", "responses.create", "completions.create"]
            .iter()
            .any(|s| n.ends_with(s))
            || last(n) == "generateContent"
        {
            "calls an LLM"
        } else if last(n) == "sendMail" || n.ends_with("sgMail.send") || n.ends_with("emails.send") {
            "sends email"
        } else if last(n) == "pdf" && n.contains("page") || n.ends_with("puppeteer.launch") {
            "renders a PDF"
        } else {
            return None;
        };
        Some((c, kind))
    });
    if let Some((c, kind)) = found {
        let msg = format!("handler {} {} {kind} while the client waits", r.method.to_ascii_uppercase(), r.path);
        hit(out, "no-background-worker", c.node, msg, cx);
    }
}

fn health(cx: &Cx<'_>, r: &Route<'_>, out: &mut FileOutput) {
    if !is_health_path(&r.path) || !plausible_health(&r.path, r.name.as_deref().or(Some("health"))) {
        return;
    }
    out.signal("health-route", r.line, r.path.clone());
    let Some(h) = r.handler else { return };
    let deep = ["identifier", "property_identifier"]
        .iter()
        .any(|k| cx.nodes_of(k, Some(h)).any(|n| words(cx.text(n)).iter().any(|w| DEP_WORDS.contains(&w.as_str()))))
        || cx.nodes_of("string_fragment", Some(h)).any(|s| cx.text(s).to_ascii_lowercase().contains("select 1"));
    if deep {
        out.signal("health-route-checks-dependency", r.line, r.path.clone());
    }
}

/// `console.log` calls in server code (not a CLI script with a shebang).
fn consoles(cx: &Cx<'_>, out: &mut FileOutput) {
    if cx.src.starts_with("#!") {
        return;
    }
    let calls: Vec<Node<'_>> = cx
        .calls
        .iter()
        .filter(|c| matches!(c.name.as_str(), "console.log" | "console.info" | "console.debug"))
        .map(|c| c.node)
        .collect();
    if let Some(first) = calls.first() {
        out.signal("console-call", line(*first), calls.len().to_string());
    }
}

/// `pino({ level: 'debug' })`, `winston.createLogger({ level: 'debug' })`,
/// `Fastify({ logger: { level: 'debug' } })` not chosen by configuration.
fn log_level(cx: &Cx<'_>, call: Node<'_>, name: &str, out: &mut FileOutput) {
    let logger = cx.from_module(name, &["pino", "winston", "fastify", "bunyan"]) || last(name) == "createLogger";
    if !logger {
        return;
    }
    let Some(o) = options_arg(call) else { return };
    let level = prop(o, "level", cx.src).or_else(|| prop(o, "logger", cx.src).and_then(|l| prop(l, "level", cx.src)));
    let Some(v) = level.filter(|v| is_constant(*v, cx.src)) else { return };
    if string_value(v, cx.src).is_some_and(|s| matches!(s.to_ascii_lowercase().as_str(), "debug" | "trace"))
        && !cx.conditional(call)
    {
        hit(out, "log-level-hardcoded", v, "the log level is fixed at debug instead of read from configuration", cx);
    }
}
