//! `reliability` rules: blocking calls on the event loop, heavy work at
//! import time, outbound HTTP without a timeout, swallowed exceptions, and
//! slow work done inside request handlers.

mod checks;

pub use checks::checks;

use super::syntax::{Call, Cx, Func, async_scope, at_import_time, has_kwarg_or_splat, last, snippet, wrapped_in};
use crate::engine::{FileOutput, Hit};
use crate::python::{keyword_arg, positional_args, text};
use tree_sitter::Node;

/// Records the reliability hits and signals of one file.
pub fn analyze(cx: &Cx<'_>, out: &mut FileOutput) {
    let names = Names::new(cx);
    for c in &cx.calls {
        if let Some(f) = async_scope(&cx.py.parents, c.node)
            && !cx.py.parents.is_awaited(c.node)
            && !wrapped_in(&cx.py.parents, c.node, cx.src, OFFLOADERS)
            && let Some(what) = blocking(cx, &names, c)
        {
            let fname = f.child_by_field_name("name").map(|n| text(n, cx.src)).unwrap_or("?");
            out.hit(Hit::new(
                "blocking-call-in-async",
                cx.line(c.node),
                format!("{what} blocks the event loop inside async def {fname}"),
                snippet(c.node, cx.src),
            ));
        }
        if at_import_time(&cx.py.parents, c.node, cx.src) && heavy(cx, c) {
            out.hit(Hit::new(
                "heavy-work-at-import",
                cx.line(c.node),
                format!("{} runs when the module is imported, delaying startup and every worker boot", c.name),
                snippet(c.node, cx.src),
            ));
        }
        if let Some(why) = no_timeout(cx, &names, c) {
            out.hit(Hit::new("outbound-http-no-timeout", cx.line(c.node), why, snippet(c.node, cx.src)));
        }
    }
    swallowed(cx, out);
    slow_work_in_handlers(cx, &names, out);
    for m in QUEUE_MODULES {
        if let Some(line) = cx.import_line(m) {
            out.signal("task-queue", line, *m);
        }
    }
}

const OFFLOADERS: &[&str] =
    &["run_in_threadpool", "to_thread", "run_in_executor", "run_sync", "sync_to_async", "run_in_thread"];
const QUEUE_MODULES: &[&str] = &[
    "celery",
    "rq",
    "dramatiq",
    "arq",
    "huey",
    "taskiq",
    "django_q",
    "procrastinate",
    "saq",
    "django_rq",
    "flask_rq2",
];
const HTTP_METHODS: &[&str] = &["get", "post", "put", "patch", "delete", "head", "options", "request"];
const DB_CONNECT: &[&str] = &[
    "sqlite3.connect",
    "psycopg2.connect",
    "psycopg.connect",
    "pymysql.connect",
    "MySQLdb.connect",
    "mysql.connector.connect",
    "pyodbc.connect",
    "cx_Oracle.connect",
];

/// Names bound in this file to sync clients, connections and sessions.
struct Names<'c> {
    llm: Vec<&'c str>,
    boto: Vec<&'c str>,
    db: Vec<&'c str>,
    cursors: Vec<String>,
    http_sessions: Vec<&'c str>,
}

impl<'c> Names<'c> {
    fn new(cx: &'c Cx<'_>) -> Self {
        let llm = cx.bound_to(|c| {
            matches!(last(c), "OpenAI" | "AzureOpenAI" | "Anthropic" | "AnthropicBedrock" | "Groq" | "Mistral")
                || matches!(c, "genai.Client" | "cohere.Client")
        });
        let sessions = cx.bound_to(|c| matches!(c, "boto3.Session" | "boto3.session.Session"));
        let boto = cx.bound_to(|c| {
            matches!(last(c), "client" | "resource")
                && (c.starts_with("boto3.")
                    || sessions.iter().any(|s| c.strip_suffix(last(c)) == Some(&format!("{s}."))))
        });
        let db = cx.bound_to(|c| DB_CONNECT.contains(&c));
        let cursors = cx
            .bindings
            .iter()
            .filter(|(_, c)| c.strip_suffix(".cursor").is_some_and(|base| db.contains(&base)))
            .map(|(n, _)| n.clone())
            .collect();
        let http_sessions = cx.bound_to(|c| matches!(c, "requests.Session" | "requests.session"));
        Names { llm, boto, db, cursors, http_sessions }
    }
}

fn base_in(name: &str, bases: &[&str]) -> bool {
    bases.iter().any(|b| name.strip_prefix(b).is_some_and(|r| r.starts_with('.')))
}

/// What makes a call blocking, if it is one of the known sync APIs.
fn blocking(cx: &Cx<'_>, n: &Names<'_>, c: &Call<'_>) -> Option<String> {
    let name = c.name.as_str();
    let method = last(name);
    let imported_fn =
        |module: &str, f: &str| method == name && name == f && cx.src.contains(&format!("from {module} import"));
    let hit = (name.starts_with("requests.") && HTTP_METHODS.contains(&method) && cx.py.imports("requests"))
        || (base_in(name, &n.http_sessions) && HTTP_METHODS.contains(&method))
        || name == "time.sleep"
        || imported_fn("time", "sleep")
        || name == "urllib.request.urlopen"
        || imported_fn("urllib.request", "urlopen")
        || (name.starts_with("openai.") && method == "create" && !name.contains("Async"))
        || (base_in(name, &n.llm) && matches!(method, "create" | "parse" | "generate_content" | "embed_content"))
        || (method == "generate_content" && !name.contains(".aio."))
        || (name.starts_with("boto3.") && name.contains("()."))
        || base_in(name, &n.boto)
        || matches!(name, "smtplib.SMTP" | "smtplib.SMTP_SSL")
        || DB_CONNECT.contains(&name)
        || (base_in(name, &n.db)
            && matches!(method, "execute" | "executemany" | "executescript" | "commit" | "cursor"))
        || (n.cursors.iter().any(|cur| name.strip_prefix(cur.as_str()).is_some_and(|r| r.starts_with('.')))
            && (method.starts_with("execute") || method.starts_with("fetch")));
    hit.then(|| format!("`{name}`"))
}

fn heavy(cx: &Cx<'_>, c: &Call<'_>) -> bool {
    let name = c.name.as_str();
    let method = last(name);
    let args = || text(c.node, cx.src).to_ascii_lowercase();
    (method == "pipeline" && cx.py.imports("transformers") && (name == "pipeline" || name.starts_with("transformers")))
        || matches!(
            name,
            "spacy.load"
                | "torch.load"
                | "joblib.load"
                | "whisper.load_model"
                | "fasttext.load_model"
                | "hub.load"
                | "faiss.read_index"
                | "tf.saved_model.load"
        )
        || name.ends_with("keras.models.load_model")
        || (name == "load_model" && (cx.py.imports("keras") || cx.py.imports("tensorflow")))
        || matches!(method, "SentenceTransformer" | "CrossEncoder" | "from_pretrained")
        || (matches!(method, "YOLO" | "Llama") && name == method)
        || (name == "pickle.load"
            && (args().contains("model") || args().contains(".pkl") || args().contains(".pickle")))
        || (name.starts_with("gensim.") && method.starts_with("load"))
}

fn no_timeout(cx: &Cx<'_>, n: &Names<'_>, c: &Call<'_>) -> Option<String> {
    let name = c.name.as_str();
    let method = last(name);
    let requests_call = (name.starts_with("requests.") && cx.py.imports("requests") && HTTP_METHODS.contains(&method))
        || (base_in(name, &n.http_sessions) && HTTP_METHODS.contains(&method));
    if requests_call && !has_kwarg_or_splat(c.node, "timeout", cx.src) {
        return Some(format!("{name}() has no timeout: requests waits forever on a server that stops answering"));
    }
    if name.starts_with("httpx.")
        && (HTTP_METHODS.contains(&method) || matches!(method, "stream" | "Client" | "AsyncClient"))
        && keyword_arg(c.node, "timeout", cx.src).is_some_and(|v| v.kind() == "none")
    {
        return Some(format!("{name}(timeout=None) disables httpx's default timeout"));
    }
    let urlopen =
        name == "urllib.request.urlopen" || (name == "urlopen" && cx.src.contains("from urllib.request import"));
    if urlopen && positional_args(c.node).len() < 3 && !has_kwarg_or_splat(c.node, "timeout", cx.src) {
        return Some("urlopen() has no timeout: it waits forever on a server that stops answering".into());
    }
    None
}

fn swallowed(cx: &Cx<'_>, out: &mut FileOutput) {
    for e in &cx.excepts {
        let mut c = e.walk();
        let kids: Vec<Node<'_>> = e.named_children(&mut c).filter(|k| k.kind() != "comment").collect();
        let Some(block) = kids.iter().find(|k| k.kind() == "block") else { continue };
        let caught: Vec<&Node<'_>> = kids.iter().filter(|k| k.kind() != "block").collect();
        let broad = match caught.first() {
            None => true,
            Some(t) => {
                let t = if t.kind() == "as_pattern" { t.named_child(0).unwrap_or(**t) } else { **t };
                matches!(text(t, cx.src), "Exception" | "BaseException")
            }
        };
        let mut bc = block.walk();
        let empty = block.named_children(&mut bc).filter(|s| s.kind() != "comment").all(|s| match s.kind() {
            "pass_statement" | "continue_statement" => true,
            "expression_statement" => s.named_child(0).is_some_and(|x| x.kind() == "ellipsis"),
            _ => false,
        });
        if broad && empty {
            let head = snippet(*e, cx.src);
            out.hit(Hit::new(
                "swallowed-exceptions",
                cx.line(*e),
                "every exception is caught and dropped without logging: failures become silent wrong results",
                head,
            ));
        }
    }
}

/// Slow work a handler does inline: the kind, if any.
fn slow(cx: &Cx<'_>, n: &Names<'_>, c: &Call<'_>) -> Option<&'static str> {
    let name = c.name.as_str();
    let method = last(name);
    let llm = (name.starts_with("openai.") && method == "create")
        || (base_in(name, &n.llm) && matches!(method, "create" | "parse" | "generate_content"))
        || ["chat.completions.create", "messages.create", "responses.create", "embeddings.create"]
            .iter()
            .any(|s| name.ends_with(s))
        || method == "generate_content"
        || (matches!(method, "invoke" | "ainvoke" | "predict")
            && cx.py.imports.iter().any(|m| m.starts_with("langchain")));
    if llm {
        return Some("calls an LLM");
    }
    let email =
        matches!(name, "smtplib.SMTP" | "smtplib.SMTP_SSL" | "send_mail" | "send_mass_mail" | "resend.Emails.send")
            || name.ends_with("mail.send")
            || (method == "send_message" && cx.py.imports("fastapi_mail"))
            || (method == "send" && cx.py.imports("sendgrid"))
            || name.ends_with("EmailMessage().send");
    if email {
        return Some("sends email");
    }
    let pdf = matches!(method, "write_pdf" | "CreatePDF")
        || name.starts_with("pdfkit.")
        || (cx.py.imports("reportlab") && matches!(method, "SimpleDocTemplate" | "Canvas"));
    pdf.then_some("renders a PDF")
}

/// Slow calls made directly in a handler, or through one helper defined in
/// the same file (`send_welcome_email(user)`). A helper handed to
/// `BackgroundTasks.add_task` is not called by the handler and does not count.
fn slow_work_in_handlers(cx: &Cx<'_>, n: &Names<'_>, out: &mut FileOutput) {
    let first_slow = |f: &Func<'_>| cx.calls_in(f).find_map(|c| slow(cx, n, c).map(|k| (c, k)));
    let helpers: Vec<(&str, &'static str)> = cx
        .funcs
        .iter()
        .filter(|f| !f.handler)
        .filter_map(|f| first_slow(f).map(|(_, kind)| (f.name.as_str(), kind)))
        .collect();
    for f in cx.funcs.iter().filter(|f| f.handler) {
        let direct = first_slow(f).map(|(c, kind)| (c, kind.to_string()));
        let via = || {
            cx.calls_in(f).find_map(|c| {
                let callee = c.name.strip_prefix("self.").unwrap_or(&c.name);
                let helper = helpers.iter().find(|(h, _)| *h == callee && *h != f.name);
                helper.map(|(h, kind)| (c, format!("{kind} (in {h})")))
            })
        };
        if let Some((c, kind)) = direct.or_else(via) {
            out.hit(Hit::new(
                "no-background-worker",
                cx.line(c.node),
                format!("handler {} {kind} while the client waits", f.name),
                snippet(c.node, cx.src),
            ));
        }
    }
}
