//! `data` rules: how a Python app creates its schema, which database it
//! defaults to, whether an async app drives a sync driver, whether list
//! endpoints are bounded, and where uploads go.

mod checks;

pub use checks::checks;

use super::syntax::{Cx, Func, conditional, in_main_guard, last, scope_of, snippet};
use crate::engine::{FileOutput, Hit};
use crate::python::{keyword_arg, positional_args, string_value, text};
use tree_sitter::Node;

/// Records the data hits and signals of one file.
pub fn analyze(cx: &Cx<'_>, out: &mut FileOutput) {
    schema_at_startup(cx, out);
    sqlite(cx, out);
    if cx.py.imports("fastapi") || cx.py.imports("starlette") || cx.funcs.iter().any(|f| f.is_async) {
        sync_driver(cx, out);
    }
    unbounded_lists(cx, out);
    local_files(cx, out);
    for m in [
        "boto3",
        "aioboto3",
        "botocore",
        "minio",
        "storages",
        "s3fs",
        "gcsfs",
        "cloudinary",
        "aiobotocore",
        "google.cloud.storage",
        "azure.storage.blob",
    ] {
        if let Some(line) = cx.import_line(m) {
            out.signal("object-storage", line, m);
        }
    }
}

/// Not on the production path: CLI commands, the `__main__` guard of a
/// script that does not start a server, Django management commands.
fn off_production_path(cx: &Cx<'_>, node: Node<'_>) -> bool {
    if cx.py.entry.path.contains("/management/commands/") {
        return true;
    }
    if let Some(guard) = super::syntax::main_guard(&cx.py.parents, node, cx.src) {
        let t = text(guard, cx.src);
        return !(t.contains(".run(") || t.contains("serve("));
    }
    let mut cur = scope_of(&cx.py.parents, node);
    while let Some(s) = cur {
        if let Some(f) = cx.func_by_id(s.id())
            && (f.name.starts_with("test") || f.decorators.iter().any(|d| last(d) == "command" || d.contains("cli.")))
        {
            return true;
        }
        cur = scope_of(&cx.py.parents, s);
    }
    false
}

fn schema_at_startup(cx: &Cx<'_>, out: &mut FileOutput) {
    for c in &cx.calls {
        let creates = c.name.ends_with("metadata.create_all")
            || c.name.ends_with("db.create_all")
            || c.name.ends_with("generate_schemas")
            || (last(&c.name) == "run_sync"
                && positional_args(c.node).first().is_some_and(|a| text(*a, cx.src).ends_with("metadata.create_all")))
            || (last(&c.name) == "register_tortoise"
                && keyword_arg(c.node, "generate_schemas", cx.src).is_some_and(|v| v.kind() == "true"));
        if !creates || off_production_path(cx, c.node) {
            continue;
        }
        out.hit(Hit::new(
            "schema-created-at-startup",
            cx.line(c.node),
            "tables are created by the app at startup instead of by versioned migrations",
            snippet(c.node, cx.src),
        ));
    }
}

fn sqlite(cx: &Cx<'_>, out: &mut FileOutput) {
    for s in &cx.strings {
        // f-strings too: `f"sqlite:///{BASE_DIR}/app.db"` has no plain value.
        let Some(v) = string_value(*s, cx.src).or_else(|| literal_prefix(text(*s, cx.src))) else { continue };
        let lower = v.to_ascii_lowercase();
        if lower == "django.db.backends.sqlite3" {
            if !conditional(&cx.py.parents, *s, None) {
                out.signal("django-sqlite-db", cx.line(*s), v);
            }
            continue;
        }
        if lower.starts_with("django.db.backends.") || lower.starts_with("django.contrib.gis.db.backends.") {
            out.signal("django-db-switched", cx.line(*s), v);
            continue;
        }
        if !(lower.starts_with("sqlite:") || lower.starts_with("sqlite+")) || !is_db_url_use(cx, *s) {
            continue;
        }
        out.hit(Hit::new(
            "sqlite-in-production",
            cx.line(*s),
            format!("the database URL defaults to SQLite ({v})"),
            snippet(*s, cx.src),
        ));
    }
    for c in &cx.calls {
        if c.name.starts_with("dj_database_url.") || matches!(c.name.as_str(), "env.db" | "env.db_url") {
            out.signal("django-db-switched", cx.line(c.node), c.name.clone());
        }
    }
}

/// A SQLite URL used as a value, not tested against (`url.startswith("sqlite:")`)
/// and not chosen by an `if` (a test or dev branch).
fn is_db_url_use(cx: &Cx<'_>, s: Node<'_>) -> bool {
    let mut cur = cx.py.parents.parent(s);
    while let Some(n) = cur {
        match n.kind() {
            "comparison_operator" => return false,
            "call" => {
                let name = crate::python::call_name(n, cx.src).unwrap_or_default();
                if matches!(last(&name), "startswith" | "endswith" | "replace" | "split") {
                    return false;
                }
            }
            "if_statement" | "elif_clause" | "else_clause" => return false,
            // `class TestConfig: SQLALCHEMY_DATABASE_URI = "sqlite://"` is not the production default.
            "class_definition" if n.child_by_field_name("name").is_some_and(|c| dev_or_test(text(c, cx.src))) => {
                return false;
            }
            "assignment" if n.child_by_field_name("left").is_some_and(|l| dev_or_test(text(l, cx.src))) => {
                return false;
            }
            "function_definition" if cx.func_by_id(n.id()).is_some_and(|f| f.name.starts_with("test")) => {
                return false;
            }
            _ => {}
        }
        cur = cx.py.parents.parent(n);
    }
    !in_main_guard(&cx.py.parents, s, cx.src)
}

/// The text of a string literal without prefix and opening quote, for
/// literals with interpolations.
fn literal_prefix(raw: &str) -> Option<String> {
    let body = raw.trim_start_matches(|c: char| "rRbBfFuU".contains(c));
    let quote = ["\"\"\"", "'''", "\"", "'"].iter().find(|q| body.starts_with(**q))?;
    Some(body[quote.len()..].trim_end_matches(['"', '\'']).to_string())
}

fn dev_or_test(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    ["test", "dev", "local", "debug"].iter().any(|w| lower.contains(w))
}

const SYNC_CONNECT: &[&str] = &["psycopg2.connect", "pymysql.connect", "MySQLdb.connect", "mysql.connector.connect"];

fn sync_driver(cx: &Cx<'_>, out: &mut FileOutput) {
    let sync_engines = cx.bound_to(|c| last(c) == "create_engine");
    let async_file = cx.calls.iter().any(|c| last(&c.name) == "create_async_engine");
    // `SessionLocal = async_sessionmaker(engine)` is the async factory
    // under the tutorial's name.
    let async_factories = cx.bound_to(|c| last(c) == "async_sessionmaker");
    for f in cx.funcs.iter().filter(|f| f.is_async) {
        let sessions: Vec<&str> = f
            .params
            .iter()
            .filter(|(_, ty)| ty.as_deref().is_some_and(|t| last(t.trim()) == "Session"))
            .map(|(n, _)| n.as_str())
            .collect();
        let first = cx.calls_in(f).find(|c| {
            if cx.py.parents.is_awaited(c.node) {
                return false;
            }
            let base = c.name.split('.').next().unwrap_or("");
            SYNC_CONNECT.contains(&c.name.as_str())
                || (sessions.contains(&base) && c.name.contains('.'))
                || (last(&c.name) == "SessionLocal"
                    && !async_factories.contains(&c.name.as_str())
                    && !in_async_with(c.node))
                || (c.name == "Session" && !async_file && (cx.py.imports("sqlalchemy") || cx.py.imports("sqlmodel")))
                || (sync_engines.contains(&base) && matches!(last(&c.name), "connect" | "begin" | "execute"))
        });
        if let Some(c) = first {
            out.hit(Hit::new(
                "sync-driver-in-async-app",
                cx.line(c.node),
                format!(
                    "async def {} uses a synchronous database session or driver: every query blocks the event loop",
                    f.name
                ),
                snippet(c.node, cx.src),
            ));
        }
    }
}

/// True for the context expression of an `async with`: a sync `Session`
/// cannot be entered that way, so whatever is entered there is async.
fn in_async_with(call: Node<'_>) -> bool {
    let mut cur = call.parent();
    while let Some(n) = cur {
        match n.kind() {
            "as_pattern" | "with_item" | "with_clause" => cur = n.parent(),
            "with_statement" => return n.child(0).is_some_and(|c| c.kind() == "async"),
            _ => return false,
        }
    }
    false
}

const PAGE_PARAMS: &[&str] = &[
    "limit",
    "offset",
    "page",
    "page_size",
    "per_page",
    "size",
    "cursor",
    "skip",
    "take",
    "after",
    "before",
    "start",
    "max_results",
    "page_number",
    "pagination",
    "params",
    "paginator",
];

fn unbounded_lists(cx: &Cx<'_>, out: &mut FileOutput) {
    for f in cx.funcs.iter().filter(|f| f.handler && f.route.as_ref().is_none_or(|r| r.get)) {
        if paginated(cx, f) {
            continue;
        }
        let body = text(f.node, cx.src);
        for c in cx.calls_in(f) {
            let name = last(&c.name);
            let django_qs = c.name.contains(".objects.")
                && matches!(name, "all" | "filter" | "exclude" | "order_by" | "values" | "values_list");
            let all = name == "all" && positional_args(c.node).is_empty();
            if !(all || django_qs) || outer_chain(c.node) {
                continue;
            }
            let chain = text(c.node, cx.src);
            // `.filter(pk=...)` / `.filter(id=...)` selects one row.
            if django_qs && ["pk=", "id=", "pk =", "id ="].iter().any(|k| chain.contains(k)) {
                continue;
            }
            if [".limit(", ".offset(", ".slice(", ".paginate(", "[:"].iter().any(|m| chain.contains(m))
                || cx.py.parents.parent(c.node).is_some_and(|p| p.kind() == "subscript")
                || !returned(cx, c.node, body)
            {
                continue;
            }
            out.hit(Hit::new(
                "unbounded-list-endpoint",
                cx.line(c.node),
                format!(
                    "{} returns every row ({}) and takes no limit/offset/page parameter",
                    f.name,
                    snippet(c.node, cx.src)
                ),
                snippet(c.node, cx.src),
            ));
            break;
        }
    }
}

/// True if the call is part of a longer chain (`q.all()` inside `q.all().count()`)
/// or wrapped in a bounding call.
fn outer_chain(call: Node<'_>) -> bool {
    call.parent().is_some_and(|p| p.kind() == "attribute")
}

fn paginated(cx: &Cx<'_>, f: &Func<'_>) -> bool {
    if f.params.iter().any(|(p, ty)| {
        PAGE_PARAMS.contains(&p.as_str()) || ty.as_deref().is_some_and(|t| t.contains("Params") || t.contains("Page"))
    }) {
        return true;
    }
    cx.strings_within(f.node)
        .iter()
        .any(|s| string_value(*s, cx.src).is_some_and(|v| PAGE_PARAMS.contains(&v.to_ascii_lowercase().as_str())))
        || cx
            .calls_within(f.node)
            .iter()
            .any(|c| matches!(last(&c.name), "paginate" | "Paginator" | "paginate_queryset" | "limit"))
}

/// True if the call's value reaches a `return` of the handler: directly, or
/// through a name assigned from it.
fn returned(cx: &Cx<'_>, call: Node<'_>, _body: &str) -> bool {
    let mut cur = cx.py.parents.parent(call);
    let mut assigned = None;
    while let Some(n) = cur {
        match n.kind() {
            "return_statement" => return true,
            "assignment" => {
                assigned = n.child_by_field_name("left").map(|l| text(l, cx.src).to_string());
                break;
            }
            "function_definition" | "lambda" => return false,
            _ => {}
        }
        cur = cx.py.parents.parent(n);
    }
    let (Some(name), Some(func)) = (assigned, scope_of(&cx.py.parents, call)) else { return false };
    let mut found = false;
    crate::python::walk(func, |n| {
        if n.kind() == "return_statement" && scope_of(&cx.py.parents, n).is_some_and(|s| s.id() == func.id()) {
            crate::python::walk(n, |m| found |= m.kind() == "identifier" && text(m, cx.src) == name);
        }
    });
    found
}

fn local_files(cx: &Cx<'_>, out: &mut FileOutput) {
    for c in &cx.calls {
        let func = cx.func_of(c.node);
        let upload_handler = func.is_some_and(|f| is_upload_handler(cx, f));
        let args = positional_args(c.node);
        let first_arg = args.first().map(|a| text(*a, cx.src).to_ascii_lowercase()).unwrap_or_default();
        let writes_local = match c.name.as_str() {
            "open" | "aiofiles.open" | "io.open" => {
                let mode = args.get(1).copied().or_else(|| keyword_arg(c.node, "mode", cx.src));
                mode.and_then(|m| string_value(m, cx.src)).is_some_and(|m| m.contains(['w', 'a', 'x']))
            }
            "shutil.copyfileobj" | "shutil.copy" | "shutil.move" => {
                upload_handler || args.iter().any(|a| text(*a, cx.src).to_ascii_lowercase().contains("upload"))
            }
            n if last(n) == "write_bytes" => true,
            // Flask's `FileStorage.save(path)`; not PIL's `image.save(buffer)` or a Django storage backend.
            n if last(n) == "save" => {
                let receiver = n.strip_suffix(".save").unwrap_or("");
                let body = func.map(|f| text(f.node, cx.src)).unwrap_or("");
                let from_request = [format!("{receiver} = request.files"), format!("{receiver} in request.files")]
                    .iter()
                    .any(|p| body.contains(p.as_str()));
                let receiver = receiver.to_ascii_lowercase();
                upload_handler
                    && (from_request || receiver.contains("file") || receiver.contains("upload"))
                    && !receiver.contains("storage")
                    && !first_arg.contains("buffer")
                    && !first_arg.contains("bytesio")
            }
            _ => false,
        };
        let to_uploads = first_arg.contains("upload") || c.name.starts_with("shutil.");
        if !writes_local || !(upload_handler || to_uploads) {
            continue;
        }
        out.hit(Hit::new(
            "local-file-storage",
            cx.line(c.node),
            "an uploaded file is written to the local filesystem, which is lost on redeploy and not shared between instances",
            snippet(c.node, cx.src),
        ));
    }
}

fn is_upload_handler(cx: &Cx<'_>, f: &Func<'_>) -> bool {
    f.params.iter().any(|(_, ty)| ty.as_deref().is_some_and(|t| t.contains("UploadFile"))) || {
        let body = text(f.node, cx.src);
        body.contains("request.files") || body.contains("request.FILES")
    }
}
