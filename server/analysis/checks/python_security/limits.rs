//! Limits on what clients may send: rate limiting (`rate-limiter`,
//! `rate-limiter-storage` and `limiter-no-storage` signals; hand-written
//! in-memory limiters for `rate-limit-in-memory`) and upload size
//! (`upload-unbounded`).

use super::syntax::{Ctx, last};
use crate::engine::{FileOutput, Hit};
use crate::python;
use regex::Regex;
use std::sync::LazyLock;
use tree_sitter::Node;

/// Imports of rate-limiting libraries.
const LIMITER_IMPORTS: &[&str] =
    &["slowapi", "fastapi_limiter", "flask_limiter", "django_ratelimit", "ratelimit", "limits", "ratelimiter"];

/// A module-level container named for counting requests.
static LIMITER_NAME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i-u)(rate|limit|request|hits|attempt|throttl|bucket)").unwrap());

/// A function or decorator that limits requests.
static HAND_LIMITER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i-u)^_?(rate_?limit(ed|er|s)?|throttle[ds]?|limiter|check_rate(_limit)?)$").unwrap()
});

/// Calls that read the clock, as a hand-written limiter does.
const CLOCK_CALLS: &[&str] = &["time.time", "time.monotonic", "monotonic", "datetime.now", "datetime.utcnow"];

/// Evidence of a size check around an upload read.
static SIZE_CHECK: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(\.size(?-u:\b)|content[-_]length|(?-u:\b)len\([^)]*\)\s*[<>]|[<>]=?\s*len\(|\.tell\(\)|max_(upload|file|content|body)_?(size|bytes|length|mb))",
    )
    .unwrap()
});

/// Records the rate-limit and upload rules for one file.
pub(super) fn analyze(cx: &Ctx<'_>, out: &mut FileOutput) {
    for lib in LIMITER_IMPORTS {
        if cx.imports(lib) {
            out.signal("rate-limiter", 1, *lib);
        }
    }
    if cx.imports("fastapi_limiter") {
        // fastapi-limiter keeps its counters in Redis.
        out.signal("rate-limiter-storage", 1, "fastapi_limiter (Redis)");
    }
    for (call, name) in &cx.calls {
        let call = *call;
        let l = last(name);
        if l == "Limiter" && (cx.imports("slowapi") || cx.imports("flask_limiter")) {
            limiter(cx, call, out);
        } else if is_body_limit(l) {
            out.signal("body-size-limit", python::line(call), l);
        }
    }
    for (node, value) in &cx.short_strings {
        match value.as_str() {
            "RATELIMIT_STORAGE_URI" | "RATELIMIT_STORAGE_URL" => {
                out.signal("rate-limiter-storage", python::line(*node), value.as_str())
            }
            "DEFAULT_THROTTLE_CLASSES" | "DEFAULT_THROTTLE_RATES" => {
                out.signal("rate-limiter", python::line(*node), "Django REST framework throttling")
            }
            "MAX_CONTENT_LENGTH" => out.signal("max-content-length", python::line(*node), value.as_str()),
            _ => {}
        }
    }
    for a in &cx.assigns {
        match cx.target_name(*a) {
            Some("MAX_CONTENT_LENGTH") => out.signal("max-content-length", python::line(*a), "MAX_CONTENT_LENGTH"),
            Some("throttle_classes") => out.signal("rate-limiter", python::line(*a), "throttle_classes"),
            _ => {}
        }
        hand_written(cx, *a, out);
    }
    if cx.imports("flask")
        && let Some(files) = cx.attributes.iter().find(|a| cx.text(**a) == "request.files")
    {
        out.signal("flask-upload", python::line(*files), "request.files");
    }
    for f in &cx.functions {
        fastapi_upload(cx, *f, out);
        // A limiter written by hand (`def ratelimit(...)`, `def throttle(...)`) still limits.
        if let Some(name) = f.child_by_field_name("name").map(|n| cx.text(n))
            && HAND_LIMITER.is_match(name)
        {
            out.signal("rate-limiter", python::line(*f), format!("hand-written limiter `{name}`"));
        }
    }
}

/// Middlewares that cap the request body (`ContentSizeLimitMiddleware`, `LimitUploadSize`).
fn is_body_limit(name: &str) -> bool {
    let l = name.to_ascii_lowercase();
    ["contentsizelimit", "limituploadsize", "maxbodysize", "bodysizelimit", "requestsizelimit"]
        .iter()
        .any(|w| l.contains(w))
}

/// slowapi / flask-limiter `Limiter(…)`: counters live in process memory
/// unless `storage_uri` points elsewhere.
fn limiter(cx: &Ctx<'_>, call: Node<'_>, out: &mut FileOutput) {
    out.signal("rate-limiter", python::line(call), "Limiter");
    match python::keyword_arg(call, "storage_uri", cx.src) {
        None => out.signal("limiter-no-storage", python::line(call), cx.snippet(call)),
        Some(v) if python::string_value(v, cx.src).is_some_and(|s| s.starts_with("memory://")) => {
            out.signal("limiter-no-storage", python::line(call), cx.snippet(call))
        }
        Some(v) => out.signal("rate-limiter-storage", python::line(v), cx.snippet(v)),
    }
}

/// A dict/defaultdict named for counting requests, at module level or on
/// `self` in a limiter class, that some function fills with clock readings.
fn hand_written(cx: &Ctx<'_>, assign: Node<'_>, out: &mut FileOutput) {
    let (Some(left), Some(right)) = (assign.child_by_field_name("left"), assign.child_by_field_name("right")) else {
        return;
    };
    let name = match left.kind() {
        "identifier" if cx.parents.is_module_level(assign) => cx.text(left),
        "attribute" if cx.text(left).starts_with("self.") => {
            let in_limiter_class = class_of(cx, assign)
                .is_some_and(|c| c.child_by_field_name("name").is_some_and(|n| LIMITER_NAME.is_match(cx.text(n))));
            if !in_limiter_class && !LIMITER_NAME.is_match(cx.text(left)) {
                return;
            }
            cx.text(left)
        }
        _ => return,
    };
    let container = match right.kind() {
        "dictionary" => right.named_child_count() == 0,
        "call" => python::call_name(right, cx.src)
            .is_some_and(|n| matches!(last(&n), "dict" | "defaultdict" | "OrderedDict" | "deque" | "TTLCache")),
        _ => false,
    };
    if !container || !(LIMITER_NAME.is_match(name) || name.starts_with("self.")) {
        return;
    }
    let attr = name.trim_start_matches("self.");
    let used_with_clock = cx.functions.iter().any(|f| {
        let text = cx.text(*f);
        text.contains(attr) && cx.calls.iter().any(|(c, n)| CLOCK_CALLS.contains(&n.as_str()) && Ctx::within(*c, *f))
    });
    if used_with_clock {
        out.signal("rate-limiter", python::line(assign), format!("hand-written limiter `{name}`"));
        let msg = format!("request counts live in process memory (`{name}`): they reset on restart and are per worker");
        out.hit(Hit::new("rate-limit-in-memory", python::line(assign), msg, cx.snippet(assign)));
    }
}

fn class_of<'a>(cx: &Ctx<'a>, node: Node<'_>) -> Option<Node<'a>> {
    let mut cur = cx.parents.parent(node);
    while let Some(n) = cur {
        if n.kind() == "class_definition" {
            return Some(n);
        }
        cur = cx.parents.parent(n);
    }
    None
}

/// A handler taking `UploadFile` that reads it whole with no size check.
fn fastapi_upload(cx: &Ctx<'_>, func: Node<'_>, out: &mut FileOutput) {
    let mut names = upload_params(cx, func);
    if names.is_empty() {
        return;
    }
    // `for f in files:` binds each upload of a list to `f`.
    python::walk(func, |n| {
        if n.kind() == "for_statement" {
            let (Some(l), Some(r)) = (n.child_by_field_name("left"), n.child_by_field_name("right")) else { return };
            if l.kind() == "identifier" && names.iter().any(|p| p == cx.text(r)) {
                names.push(cx.text(l).to_string());
            }
        }
    });
    if SIZE_CHECK.is_match(cx.text(func)) {
        return;
    }
    let unbounded = cx.calls.iter().find(|(c, n)| {
        if !Ctx::within(*c, func) {
            return false;
        }
        let no_args = python::positional_args(*c).is_empty();
        names.iter().any(|p| {
            (no_args && (*n == format!("{p}.read") || *n == format!("{p}.file.read")))
                || (last(n) == "copyfileobj"
                    && python::positional_args(*c).first().is_some_and(|a| cx.text(*a) == format!("{p}.file")))
        })
    });
    if let Some((c, _)) = unbounded {
        let msg = "the upload is read whole with no size limit: one request can exhaust memory or disk";
        out.hit(Hit::new("upload-unbounded", python::line(*c), msg, cx.snippet(*c)));
    }
}

/// Parameters annotated with `UploadFile` (also `list[UploadFile]`, `Annotated[UploadFile, File()]`).
fn upload_params(cx: &Ctx<'_>, func: Node<'_>) -> Vec<String> {
    let Some(params) = func.child_by_field_name("parameters") else { return vec![] };
    let mut c = params.walk();
    params
        .named_children(&mut c)
        .filter_map(|p| {
            let ty = p.child_by_field_name("type")?;
            if !cx.text(ty).contains("UploadFile") {
                return None;
            }
            let name = p.child_by_field_name("name").or_else(|| p.named_child(0))?;
            Some(cx.text(name).to_string())
        })
        .collect()
}
