//! Data, reliability and observability rules for Go services: GORM
//! `AutoMigrate` and ent schema creation at startup, SQLite defaults,
//! unbounded list handlers, uploads saved to disk, outbound HTTP without a
//! timeout, servers started without SIGTERM handling, errors discarded with
//! `_`, slow work in handlers, health routes, `fmt.Println` logging and
//! debug log levels fixed in code.

use super::{Cx, Route};
use crate::checks::python_runtime::{DEP_WORDS, is_health_path, plausible_health, words};
use crate::engine::{FileOutput, Hit};
use crate::go::{args, keyed, last, string_value};
use crate::syntax::line;
use tree_sitter::Node;

/// Records every data, reliability and observability hit and signal of one file.
pub fn analyze(cx: &Cx<'_>, out: &mut FileOutput) {
    for c in &cx.calls {
        schema(cx, c.node, &c.name, out);
        sqlite(cx, c.node, &c.name, out);
        storage(cx, c.node, &c.name, out);
        http_client(cx, c.node, &c.name, out);
        shutdown(cx, c.node, &c.name, out);
        log_level(cx, c.node, &c.name, out);
        slow_work(cx, c.node, &c.name, out);
        list_query(cx, c.node, &c.name, out);
    }
    for (lit, ty) in &cx.composites {
        if ty == "http.Client" && keyed(*lit, "Timeout", cx.src).is_none() && !cx.conditional(*lit) {
            let msg = "an http.Client without a Timeout waits forever on a server that stops answering";
            out.hit(Hit::new("outbound-http-no-timeout", line(*lit), msg, cx.snippet(*lit)));
        }
        if ty == "slog.HandlerOptions"
            && let Some(v) = keyed(*lit, "Level", cx.src).filter(|v| cx.text(*v).ends_with("LevelDebug"))
            && !cx.conditional(*lit)
        {
            let msg = "the log level is fixed at debug instead of read from configuration";
            out.hit(Hit::new("log-level-hardcoded", line(v), msg, cx.snippet(v)));
        }
        if ty == "http.Server" {
            out.signal("server-listen", line(*lit), cx.snippet(*lit));
        }
    }
    discarded_errors(cx, out);
    for r in &cx.routes {
        health(cx, r, out);
    }
    health_functions(cx, out);
    prints(cx, out);
}

fn hit(out: &mut FileOutput, id: &'static str, node: Node<'_>, msg: impl Into<String>, cx: &Cx<'_>) {
    out.hit(Hit::new(id, line(node), msg, cx.snippet(node)));
}

/// GORM `db.AutoMigrate(&User{})`, ent `client.Schema.Create(ctx)`.
fn schema(cx: &Cx<'_>, call: Node<'_>, name: &str, out: &mut FileOutput) {
    let ent = name.ends_with(".Schema.Create") && cx.imports.values().any(|p| p.contains("/ent"));
    // `AutoMigrate` is GORM's name; the receiver is often a `*gorm.DB` from another package.
    let gorm = last(name) == "AutoMigrate" && name.contains('.') && !args(call).is_empty();
    if (gorm || ent) && !cx.conditional(call) {
        let what = if ent { "ent creates the schema" } else { "GORM AutoMigrate changes the schema" };
        hit(out, "schema-created-at-startup", call, format!("{what} at startup instead of versioned migrations"), cx);
    }
}

/// `sqlite.Open("app.db")`, `sql.Open("sqlite3", "app.db")`.
fn sqlite(cx: &Cx<'_>, call: Node<'_>, name: &str, out: &mut FileOutput) {
    let a = args(call);
    let target = match name {
        // `gorm.Open("sqlite3", "app.db")` is GORM v1 (github.com/jinzhu/gorm).
        "sql.Open" | "sqlx.Open" | "sqlx.Connect" | "gorm.Open" => {
            let driver = a.first().and_then(|d| string_value(*d, cx.src)).unwrap_or_default();
            if !driver.starts_with("sqlite") {
                return;
            }
            a.get(1)
        }
        _ if last(name) == "Open" && cx.package_of(name).is_some_and(|p| p.ends_with("/sqlite")) => a.first(),
        _ => return,
    };
    let Some(dsn) = target.and_then(|t| string_value(*t, cx.src)) else { return };
    if dsn.contains(":memory:") || dsn.contains("mode=memory") || cx.conditional(call) {
        return;
    }
    // A helper that opens the tests' database (`TestDBInit`, `gorm_test.db`) is not the production default.
    let func =
        cx.function_of(call).and_then(|f| f.child_by_field_name("name")).map(|n| cx.text(n).to_ascii_lowercase());
    if func.is_some_and(|f| f.contains("test")) || dsn.to_ascii_lowercase().contains("test") {
        return;
    }
    hit(out, "sqlite-in-production", call, format!("the database is a SQLite file ({dsn})"), cx);
}

/// gin `c.SaveUploadedFile`, fiber `c.SaveFile`, or `os.Create` in an upload handler.
fn storage(cx: &Cx<'_>, call: Node<'_>, name: &str, out: &mut FileOutput) {
    let save = matches!(last(name), "SaveUploadedFile" | "SaveFile") && !cx.is_package(name);
    let create = name == "os.Create" || name == "os.WriteFile" || name == "os.OpenFile";
    if !save && !create {
        return;
    }
    let Some(h) = cx.handler_of(call) else { return };
    let upload = save || cx.calls_within(h).any(|c| matches!(last(&c.name), "FormFile" | "MultipartForm"));
    if upload {
        hit(out, "local-file-storage", call, "an uploaded file is written to the local disk", cx);
    }
}

/// `http.Get(url)` and friends use the default client, which has no timeout.
fn http_client(cx: &Cx<'_>, call: Node<'_>, name: &str, out: &mut FileOutput) {
    let default_client = matches!(name, "http.Get" | "http.Post" | "http.Head" | "http.PostForm")
        || name.starts_with("http.DefaultClient.");
    if default_client && cx.imports.get("http").is_some_and(|p| p == "net/http") {
        hit(out, "outbound-http-no-timeout", call, format!("{name} uses the default client, which has no timeout"), cx);
    }
}

/// Where a server starts listening, and what drains it on SIGTERM.
fn shutdown(cx: &Cx<'_>, call: Node<'_>, name: &str, out: &mut FileOutput) {
    let method = last(name);
    let one_dot = name.matches('.').count() == 1;
    let listen = matches!(name, "http.ListenAndServe" | "http.ListenAndServeTLS")
        || (cx.imports_path("github.com/gin-gonic/gin") && method == "Run" && one_dot && !cx.is_package(name))
        || (cx.imports_path("github.com/labstack/echo") && matches!(method, "Start" | "StartTLS") && one_dot)
        || (cx.imports_path("github.com/gofiber/fiber") && matches!(method, "Listen" | "ListenTLS") && one_dot);
    if listen {
        out.signal("server-listen", line(call), cx.snippet(call));
    }
    let drains = matches!(name, "signal.Notify" | "signal.NotifyContext")
        || matches!(method, "Shutdown" | "ShutdownWithContext" | "ShutdownWithTimeout" | "GracefulStop")
        || cx.package_of(name).is_some_and(|p| p.contains("graceful") || p.contains("endless"));
    if drains {
        out.signal("sigterm-handler", line(call), cx.snippet(call));
    }
}

/// `zerolog.SetGlobalLevel(zerolog.DebugLevel)`, `logrus.SetLevel(logrus.DebugLevel)`, `zap.NewDevelopment()`.
fn log_level(cx: &Cx<'_>, call: Node<'_>, name: &str, out: &mut FileOutput) {
    let set = matches!(last(name), "SetGlobalLevel" | "SetLevel")
        && args(call).first().is_some_and(|a| {
            let t = cx.text(*a);
            t.ends_with("DebugLevel") || t.ends_with("TraceLevel")
        });
    let dev = cx.is_pkg_call(name, &["go.uber.org/zap"]) && last(name) == "NewDevelopment";
    if (set || dev) && !cx.conditional(call) {
        hit(out, "log-level-hardcoded", call, "the log level is fixed at debug instead of read from configuration", cx);
    }
}

/// Email, LLM calls and similar slow work inside a request handler.
fn slow_work(cx: &Cx<'_>, call: Node<'_>, name: &str, out: &mut FileOutput) {
    let kind = if name == "smtp.SendMail" || last(name) == "DialAndSend" {
        "sends email"
    } else if matches!(last(name), "CreateChatCompletion" | "CreateCompletion" | "GenerateContent")
        || name.ends_with("Chat.Completions.New")
        || name.ends_with("Messages.New")
    {
        "calls an LLM"
    } else {
        return;
    };
    if cx.handler_of(call).is_some() {
        hit(out, "no-background-worker", call, format!("a request handler {kind} while the client waits"), cx);
    }
}

const PAGE_WORDS: &[&str] = &["limit", "offset", "page", "cursor", "size", "paginate", "pagination", "after", "per"];

/// GORM `db.Find(&items)` with no `Limit` in a list handler that reads no paging parameter.
fn list_query(cx: &Cx<'_>, call: Node<'_>, name: &str, out: &mut FileOutput) {
    if last(name) != "Find" || args(call).len() != 1 || !cx.imports_path("gorm.io/") {
        return;
    }
    let Some(h) = cx.handler_of(call) else { return };
    let single = cx.routes.iter().any(|r| {
        r.handler.is_some_and(|x| x.id() == h.id())
            && r.path.trim_end_matches('/').rsplit('/').next().is_some_and(|s| s.starts_with([':', '{']))
    });
    if single
        || name.contains("Limit()")
        || name.contains("Scopes()")
        || name.contains("Where()") && name.contains("First")
    {
        return;
    }
    let fname = h.child_by_field_name("name").map(|n| cx.text(n).to_ascii_lowercase()).unwrap_or_default();
    let routed_get = cx.routes.iter().any(|r| {
        r.method == "get"
            && (r.handler.is_some_and(|x| x.id() == h.id())
                || r.name.as_deref().is_some_and(|n| last(n).eq_ignore_ascii_case(&fname)))
    });
    let listy = ["list", "getall", "all", "index", "search"].iter().any(|p| fname.starts_with(p));
    if !routed_get && !listy {
        return;
    }
    let paged = ["identifier", "field_identifier", "interpreted_string_literal_content"]
        .iter()
        .any(|k| cx.nodes_of(k, Some(h)).any(|n| words(cx.text(n)).iter().any(|w| PAGE_WORDS.contains(&w.as_str()))));
    if !paged {
        hit(
            out,
            "unbounded-list-endpoint",
            call,
            "a list handler returns every row (Find without Limit) and takes no limit/offset/page parameter",
            cx,
        );
    }
}

/// I/O whose error is worth handling; `_ = w.Write(…)` on a response is idiomatic and not listed.
const IO_CALLS: &[&str] = &[
    "ReadAll",
    "ReadFile",
    "WriteFile",
    "Unmarshal",
    "Decode",
    "Exec",
    "ExecContext",
    "Scan",
    "Remove",
    "RemoveAll",
    "Rename",
    "MkdirAll",
    "Mkdir",
    "Commit",
    "Do",
    "SendMail",
    "Publish",
    "Copy",
    "Bind",
    "ShouldBind",
    "ShouldBindJSON",
    "BindJSON",
    "BodyParser",
];

/// `_ = err` and `x, _ := io.ReadAll(…)`: errors of I/O dropped without a trace.
fn discarded_errors(cx: &Cx<'_>, out: &mut FileOutput) {
    for s in cx.nodes_of("assignment_statement", None).chain(cx.nodes_of("short_var_declaration", None)) {
        let (Some(l), Some(r)) = (s.child_by_field_name("left"), s.child_by_field_name("right")) else { continue };
        let left = cx.text(l).replace(' ', "");
        if !(left == "_" || left.ends_with(",_")) {
            continue;
        }
        let Some(value) = r.named_child(0) else { continue };
        if left == "_" && cx.text(value) == "err" {
            hit(out, "swallowed-exceptions", s, "an error is assigned to _ and dropped", cx);
            continue;
        }
        if value.kind() != "call_expression" {
            continue;
        }
        let name = crate::go::callee(value, cx.src).unwrap_or_default();
        if IO_CALLS.contains(&last(&name)) {
            hit(out, "swallowed-exceptions", s, format!("the error of {} is discarded with _", last(&name)), cx);
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

/// A health handler defined away from its route: a function named
/// `Health`, `Readiness`… that pings a dependency.
fn health_functions(cx: &Cx<'_>, out: &mut FileOutput) {
    for (name, f) in &cx.functions {
        let lower = name.to_ascii_lowercase();
        let named = ["health", "readiness", "ready", "liveness"].iter().any(|w| lower.contains(w));
        if named && cx.is_handler(*f) && checks_dependency(cx, *f) {
            out.signal("health-route-checks-dependency", line(*f), name.to_string());
        }
    }
}

fn checks_dependency(cx: &Cx<'_>, h: Node<'_>) -> bool {
    ["identifier", "field_identifier"]
        .iter()
        .any(|k| cx.nodes_of(k, Some(h)).any(|n| words(cx.text(n)).iter().any(|w| DEP_WORDS.contains(&w.as_str()))))
        || cx
            .nodes_of("interpreted_string_literal_content", Some(h))
            .any(|s| cx.text(s).to_ascii_lowercase().contains("select 1"))
}

/// `fmt.Println`/`Printf`/`Print` in server code.
fn prints(cx: &Cx<'_>, out: &mut FileOutput) {
    if cx.imports.get("fmt").is_none_or(|p| p != "fmt") {
        return;
    }
    let calls: Vec<Node<'_>> = cx
        .calls
        .iter()
        .filter(|c| matches!(c.name.as_str(), "fmt.Println" | "fmt.Printf" | "fmt.Print"))
        .map(|c| c.node)
        .collect();
    if let Some(first) = calls.first() {
        out.signal("go-print-call", line(*first), calls.len().to_string());
    }
}
