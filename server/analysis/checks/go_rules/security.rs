//! Security and secrets rules for Go services: CORS (rs/cors, go-chi/cors,
//! gin-contrib/cors, echo's and fiber's middleware, a hand-set
//! `Access-Control-Allow-Origin: *`), gin/echo debug mode, unconditional
//! Swagger UI, header and rate-limit middleware, fast password digests,
//! JWTs parsed without verification, `InsecureSkipVerify`, SQL built with
//! `fmt.Sprintf` or `+`, multipart uploads without a size cap, and
//! secrets that fall back to a literal when the environment lacks them.

use super::Cx;
use crate::checks::python_security::{all_local, is_secret_name, literal_hit};
use crate::engine::{FileOutput, Hit};
use crate::go::{self, args, keyed, last, string_list, string_value};
use crate::model::Severity;
use crate::syntax::line;
use regex::Regex;
use std::sync::LazyLock;
use tree_sitter::Node;

/// Records every security and secrets hit and signal of one file.
pub fn analyze(cx: &Cx<'_>, out: &mut FileOutput) {
    for c in &cx.calls {
        let name = c.name.as_str();
        cors(cx, c.node, name, out);
        header_set(cx, c.node, name, out);
        debug_and_docs(cx, c.node, name, out);
        middleware(cx, c.node, name, out);
        password_hash(cx, c.node, name, out);
        jwt(cx, c.node, name, out);
        sql(cx, c.node, name, out);
        uploads(cx, c.node, name, out);
        secret_default_call(cx, c.node, name, out);
    }
    for (lit, _) in &cx.composites {
        tls(cx, *lit, out);
        // fiber.Config{BodyLimit: …}
        if let Some(v) = keyed(*lit, "BodyLimit", cx.src) {
            out.signal("body-size-limit", line(v), cx.snippet(v));
        }
    }
    for a in cx.nodes_of("assignment_statement", None) {
        echo_debug(cx, a, out);
    }
    for s in cx.nodes_of("short_var_declaration", None) {
        secret_default_branch(cx, s, out);
    }
    swagger_values(cx, out);
    if cx.src.contains("UnsafeAllowNoneSignatureType") {
        for n in cx.nodes_of("selector_expression", None) {
            if n.child_by_field_name("field").is_some_and(|f| cx.text(f) == "UnsafeAllowNoneSignatureType") {
                let msg = "the JWT key function allows the `none` algorithm: anyone can forge a token";
                out.hit(Hit::new("jwt-verification-disabled", line(n), msg, cx.snippet(n)));
            }
        }
    }
}

fn wildcard(cx: &Cx<'_>, node: Node<'_>, what: &str, creds: bool, out: &mut FileOutput) {
    let msg = if creds {
        format!("CORS allows any origin ({what}) with credentials: any website can act as the logged-in user")
    } else {
        format!("CORS allows any origin ({what})")
    };
    let mut h = Hit::new("cors-wildcard", line(node), msg, cx.snippet(node));
    if creds {
        h = h.with_severity(Severity::Critical);
    }
    out.hit(h);
}

/// The router a middleware is registered on: `r` for `r.Use(cors.Default())`.
fn registered_on(cx: &Cx<'_>, call: Node<'_>) -> String {
    let outer = cx.parents.parent(call).filter(|p| p.kind() == "argument_list").and_then(|a| cx.parents.parent(a));
    let name = outer.and_then(|o| go::callee(o, cx.src)).unwrap_or_default();
    let func = cx.function_of(call).and_then(|f| f.child_by_field_name("name")).map(|n| cx.text(n)).unwrap_or("");
    match name.strip_suffix(".Use") {
        Some(app) => format!("{app} in {func}"),
        None => String::new(),
    }
}

/// Which CORS package a call comes from, by import path.
fn cors_package(cx: &Cx<'_>, name: &str) -> Option<&'static str> {
    let path = cx.package_of(name)?;
    Some(match path {
        "github.com/rs/cors" | "github.com/go-chi/cors" => "rs",
        "github.com/gin-contrib/cors" => "gin",
        p if p.starts_with("github.com/labstack/echo") && p.ends_with("/middleware") => "echo",
        p if p.starts_with("github.com/gofiber/fiber") && p.ends_with("/middleware/cors") => "fiber",
        _ => return None,
    })
}

fn cors(cx: &Cx<'_>, call: Node<'_>, name: &str, out: &mut FileOutput) {
    let Some(pkg) = cors_package(cx, name) else { return };
    let func = last(name);
    let is_cors = match pkg {
        "echo" => matches!(func, "CORS" | "CORSWithConfig"),
        _ => matches!(func, "New" | "Default" | "AllowAll" | "Handler"),
    };
    if !is_cors {
        return;
    }
    let conditional = cx.conditional(call);
    out.signal("cors-middleware", line(call), if conditional { String::new() } else { registered_on(cx, call) });
    if conditional {
        return;
    }
    let config = args(call).into_iter().find_map(|a| {
        let lit = if a.kind() == "unary_expression" { a.child_by_field_name("operand")? } else { a };
        (lit.kind() == "composite_literal").then_some(lit)
    });
    let Some(config) = config else {
        // Without options every package's default allows every origin,
        // except gin-contrib's `cors.New` (it refuses to start).
        match (pkg, func) {
            ("rs", "AllowAll") => wildcard(cx, call, "cors.AllowAll()", false, out),
            ("gin", "Default") => wildcard(cx, call, "cors.Default() allows all origins", false, out),
            ("rs", "Default") => wildcard(cx, call, "cors.Default() allows all origins", false, out),
            ("echo", "CORS") => wildcard(cx, call, "middleware.CORS() allows all origins", false, out),
            ("fiber", "New") if args(call).is_empty() => {
                wildcard(cx, call, "cors.New() allows all origins", false, out)
            }
            _ => {}
        }
        return;
    };
    let creds = keyed(config, "AllowCredentials", cx.src).is_some_and(|v| cx.text(v) == "true");
    if keyed(config, "AllowAllOrigins", cx.src).is_some_and(|v| cx.text(v) == "true") {
        wildcard(cx, config, "AllowAllOrigins: true", creds, out);
        return;
    }
    let origins = keyed(config, "AllowedOrigins", cx.src).or_else(|| keyed(config, "AllowOrigins", cx.src));
    let dynamic = ["AllowOriginFunc", "AllowOriginRequestFunc", "AllowOriginVaryRequestFunc", "AllowOriginsFunc"]
        .iter()
        .any(|k| keyed(config, k, cx.src).is_some());
    match origins {
        None if !dynamic && pkg != "gin" => wildcard(cx, config, "no allowed origins set: every origin", creds, out),
        None => {}
        Some(v) => {
            let Some(mut list) = string_list(v, cx.src) else { return };
            if pkg == "fiber" && list.len() == 1 {
                list = list[0].split(',').map(|s| s.trim().to_string()).collect();
            }
            if list.iter().any(|o| o == "*") {
                wildcard(cx, v, "allowed origins \"*\"", creds, out);
            } else if all_local(&list) {
                let msg = "the CORS origins list only local or placeholder origins and no configuration replaces them";
                out.hit(Hit::new("localhost-in-config", line(v), msg, cx.snippet(v)));
            }
        }
    }
}

const SECURITY_HEADERS: &[&str] =
    &["strict-transport-security", "content-security-policy", "x-frame-options", "x-content-type-options"];

/// `w.Header().Set(name, value)`, gin `c.Header(name, value)`, fiber `c.Set(name, value)`.
fn header_set(cx: &Cx<'_>, call: Node<'_>, name: &str, out: &mut FileOutput) {
    if !matches!(last(name), "Set" | "Add" | "Header" | "Append") || cx.is_package(name) {
        return;
    }
    let a = args(call);
    let (Some(h), Some(v)) = (a.first().and_then(|h| string_value(*h, cx.src)), a.get(1)) else { return };
    let h = h.to_ascii_lowercase();
    if SECURITY_HEADERS.contains(&h.as_str()) {
        out.signal("security-headers", line(call), h);
    } else if h == "access-control-allow-origin"
        && string_value(*v, cx.src).as_deref() == Some("*")
        && !cx.conditional(call)
    {
        wildcard(cx, *v, "Access-Control-Allow-Origin: *", false, out);
    }
}

/// `gin.SetMode(gin.DebugMode)`; swag's Swagger UI handlers mounted unconditionally.
fn debug_and_docs(cx: &Cx<'_>, call: Node<'_>, name: &str, out: &mut FileOutput) {
    if cx.is_pkg_call(name, &["github.com/gin-gonic/gin"]) && last(name) == "SetMode" {
        let mode = args(call).first().map(|m| cx.text(*m)).unwrap_or("");
        if (mode.ends_with("DebugMode") || mode == "\"debug\"") && !cx.conditional(call) {
            let msg = "gin is put in debug mode in code instead of by GIN_MODE";
            out.hit(Hit::new("debug-enabled", line(call), msg, cx.snippet(call)));
        }
    }
    let swagger = cx.package_of(name).is_some_and(is_swagger_package);
    if swagger
        && matches!(last(name), "WrapHandler" | "Handler" | "HandlerDefault" | "New" | "EchoWrapHandler")
        && !cx.conditional(call)
    {
        let msg = "Swagger UI is served in every environment";
        out.hit(Hit::new("api-docs-exposed", line(call), msg, cx.snippet(call)));
    }
}

fn is_swagger_package(path: &str) -> bool {
    path.starts_with("github.com/swaggo/") || path.ends_with("/swagger")
}

/// A Swagger handler passed as a value: `route.Get("*", swagger.HandlerDefault)`.
fn swagger_values(cx: &Cx<'_>, out: &mut FileOutput) {
    for sel in cx.nodes_of("selector_expression", None) {
        let (Some(operand), Some(field)) = (sel.child_by_field_name("operand"), sel.child_by_field_name("field"))
        else {
            continue;
        };
        let pkg = cx.imports.get(cx.text(operand)).is_some_and(|p| is_swagger_package(p));
        // An argument of another Swagger call (`ginSwagger.WrapHandler(swaggerFiles.Handler)`) is reported with it.
        let args_of = cx.parents.parent(sel).filter(|p| p.kind() == "argument_list").and_then(|a| cx.parents.parent(a));
        let inside_swagger = args_of
            .and_then(|c| go::callee(c, cx.src))
            .is_some_and(|n| cx.package_of(&n).is_some_and(is_swagger_package));
        let value = args_of.is_some() && !inside_swagger;
        if pkg
            && value
            && matches!(cx.text(field), "HandlerDefault" | "WrapHandler" | "Handler")
            && !cx.conditional(sel)
        {
            out.hit(Hit::new(
                "api-docs-exposed",
                line(sel),
                "Swagger UI is served in every environment",
                cx.snippet(sel),
            ));
        }
    }
}

/// `e.Debug = true` on an echo instance.
fn echo_debug(cx: &Cx<'_>, assign: Node<'_>, out: &mut FileOutput) {
    if !cx.imports_path("github.com/labstack/echo") {
        return;
    }
    let (Some(l), Some(r)) = (assign.child_by_field_name("left"), assign.child_by_field_name("right")) else {
        return;
    };
    if cx.text(l).ends_with(".Debug") && cx.text(r) == "true" && !cx.conditional(assign) {
        out.hit(Hit::new("debug-enabled", line(assign), "echo's debug mode is on in code", cx.snippet(assign)));
    }
}

/// Header, rate-limit and body-size middleware, and in-memory limiter stores.
fn middleware(cx: &Cx<'_>, call: Node<'_>, name: &str, out: &mut FileOutput) {
    let Some(path) = cx.package_of(name).filter(|_| name.matches('.').count() == 1) else { return };
    let func = last(name);
    let echo_mw = path.starts_with("github.com/labstack/echo") && path.ends_with("/middleware");
    let detail = cx.snippet(call);
    let at = line(call);
    if (echo_mw && matches!(func, "Secure" | "SecureWithConfig"))
        || (path.ends_with("/middleware/helmet")
            || path == "github.com/unrolled/secure"
            || path == "github.com/gin-contrib/secure")
            && matches!(func, "New" | "Options")
    {
        out.signal("security-headers", at, detail.clone());
    }
    if echo_mw && matches!(func, "BodyLimit" | "BodyLimitWithConfig")
        || name == "http.MaxBytesReader"
        || name == "http.MaxBytesHandler"
    {
        out.signal("body-size-limit", at, detail.clone());
    }
    let limiter = (echo_mw && matches!(func, "RateLimiter" | "RateLimiterWithConfig"))
        || (path.ends_with("/middleware/limiter") && func == "New")
        || (path == "golang.org/x/time/rate" && func == "NewLimiter")
        || path.starts_with("github.com/go-chi/httprate")
        || path.starts_with("github.com/didip/tollbooth")
        || path.starts_with("github.com/ulule/limiter") && func == "New"
        || path.starts_with("github.com/sethvargo/go-limiter");
    if limiter {
        out.signal("rate-limiter", at, detail.clone());
    }
    let in_memory = (echo_mw && func == "NewRateLimiterMemoryStore")
        || (path.starts_with("github.com/ulule/limiter") && path.ends_with("/memory") && func == "NewStore")
        || (path.starts_with("github.com/sethvargo/go-limiter") && path.ends_with("/memorystore"));
    if in_memory {
        let msg = "the rate limiter keeps its counters in process memory: limits reset on restart and multiply with instances";
        out.hit(Hit::new("rate-limit-in-memory", at, msg, detail.clone()));
        return;
    }
    if path.starts_with("github.com/ulule/limiter") && path.contains("/drivers/store/") && func.starts_with("NewStore")
        || path.starts_with("github.com/go-chi/httprate") && func == "WithLimitCounter"
    {
        out.signal("rate-limiter-storage", at, detail.clone());
    }
    // fiber's limiter without `Storage`, tollbooth and httprate's default counter live in memory.
    let fiber_mem = path.ends_with("/middleware/limiter")
        && func == "New"
        && !args(call).iter().any(|a| a.kind() == "composite_literal" && keyed(*a, "Storage", cx.src).is_some());
    let always_mem = path.starts_with("github.com/didip/tollbooth") && func == "NewLimiter"
        || path.starts_with("github.com/go-chi/httprate")
            && func.starts_with("Limit")
            && !cx.calls.iter().any(|c| last(&c.name) == "WithLimitCounter");
    if fiber_mem || always_mem {
        out.signal("limiter-no-storage", at, detail);
    }
    // A per-client map of x/time/rate limiters is a hand-written in-memory store.
    if path == "golang.org/x/time/rate" && func == "NewLimiter" && cx.src.contains("]*rate.Limiter") {
        let msg = "per-client rate limiters are kept in a map in process memory: limits reset on restart and multiply with instances";
        out.hit(Hit::new("rate-limit-in-memory", at, msg, cx.snippet(call)));
    }
}

static PASSWORD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)(password|passwd|pwd|passphrase)").expect("password regex"));

/// `md5.Sum([]byte(password))`, `sha256.Sum256(…password…)`.
fn password_hash(cx: &Cx<'_>, call: Node<'_>, name: &str, out: &mut FileOutput) {
    let fast = cx.is_pkg_call(name, &["crypto/md5", "crypto/sha1", "crypto/sha256", "crypto/sha512"])
        && last(name).starts_with("Sum");
    if !fast {
        return;
    }
    if args(call).iter().any(|a| PASSWORD.is_match(cx.text(*a))) {
        let algo = cx.package_of(name).unwrap_or("").trim_start_matches("crypto/");
        let msg = format!("a password is hashed with {algo}, a fast digest that is cheap to crack");
        out.hit(Hit::new("weak-password-hash", line(call), msg, cx.snippet(call)));
    }
}

/// `jwt.ParseUnverified`, `parser.ParseUnverified`, `jwt.WithoutClaimsValidation()`.
fn jwt(cx: &Cx<'_>, call: Node<'_>, name: &str, out: &mut FileOutput) {
    let from_jwt = cx.imports_path("github.com/golang-jwt/jwt") || cx.imports_path("github.com/dgrijalva/jwt-go");
    if !from_jwt {
        return;
    }
    let msg = match last(name) {
        "ParseUnverified" => "a JWT is parsed without verifying its signature",
        "WithoutClaimsValidation" => "JWT claims (expiry, not-before) are not validated",
        _ => return,
    };
    out.hit(Hit::new("jwt-verification-disabled", line(call), msg, cx.snippet(call)));
}

/// `InsecureSkipVerify: true` in any TLS config.
fn tls(cx: &Cx<'_>, lit: Node<'_>, out: &mut FileOutput) {
    if let Some(v) = keyed(lit, "InsecureSkipVerify", cx.src).filter(|v| cx.text(*v) == "true") {
        let msg = "TLS certificate verification is disabled (InsecureSkipVerify: true)";
        out.hit(Hit::new("tls-verify-disabled", line(v), msg, "InsecureSkipVerify: true"));
    }
}

static SQL_TEXT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(\bselect\b.+\bfrom\b|\binsert\s+into\b|\bupdate\b.+\bset\b|\bdelete\s+from\b|\bwhere\b|\border\s+by\b|=\s*'?%)")
        .expect("sql regex")
});

const SQL_CALLS: &[&str] = &[
    "Query",
    "QueryContext",
    "QueryRow",
    "QueryRowContext",
    "Exec",
    "ExecContext",
    "Raw",
    "Queryx",
    "QueryRowx",
    "Select",
    "Get",
    "MustExec",
    "Where",
    "Order",
    "Having",
    "Prepare",
    "PrepareContext",
];

/// SQL text built with `fmt.Sprintf("…%s…", v)` or `"…" + v` and passed to a query call.
fn sql(cx: &Cx<'_>, call: Node<'_>, name: &str, out: &mut FileOutput) {
    if !SQL_CALLS.contains(&last(name)) || !name.contains('.') || cx.is_package(name) {
        return;
    }
    let a = args(call);
    // `db.QueryContext(ctx, q, …)`, pgx's `pool.Query(r.Context(), q, …)`: the query follows the context.
    let q = match a.first() {
        Some(f)
            if last(name).ends_with("Context")
                || cx.text(*f).to_ascii_lowercase().contains("ctx")
                || cx.text(*f).contains("Context") =>
        {
            a.get(1)
        }
        f => f,
    };
    let Some(q) = q.map(|q| resolve(cx, *q, call)) else { return };
    if built_sql(cx, q) {
        let msg = format!("SQL text is built from values and passed to {}: use placeholders and arguments", last(name));
        out.hit(Hit::new("sql-injection-risk", line(call), msg, cx.snippet(call)));
    }
}

/// A local variable's value, when it is assigned once in the same function.
fn resolve<'t>(cx: &Cx<'t>, node: Node<'t>, at: Node<'_>) -> Node<'t> {
    if node.kind() != "identifier" {
        return node;
    }
    let Some(func) = cx.function_of(at) else { return node };
    let name = cx.text(node);
    let mut found = None;
    for s in cx.nodes_of("short_var_declaration", Some(func)).chain(cx.nodes_of("assignment_statement", Some(func))) {
        let (Some(l), Some(r)) = (s.child_by_field_name("left"), s.child_by_field_name("right")) else { continue };
        if cx.text(l) == name && s.start_byte() < at.start_byte() {
            found = r.named_child(0);
        }
    }
    found.unwrap_or(node)
}

fn built_sql(cx: &Cx<'_>, q: Node<'_>) -> bool {
    match q.kind() {
        "call_expression" => {
            let name = go::callee(q, cx.src).unwrap_or_default();
            if name != "fmt.Sprintf" {
                return false;
            }
            let a = args(q);
            let fmt = a.first().and_then(|f| string_value(*f, cx.src)).unwrap_or_default();
            // A query builder that quotes identifiers and binds values
            // (GORM's `scope.Quote(…)`, `scope.AddToVars(…)`) composes SQL on purpose.
            let builder = a.iter().skip(1).any(|v| {
                let t = cx.text(*v);
                t.contains("Quote") || t.contains("AddToVars(") || t.contains("Placeholder")
            });
            a.len() > 1
                && !builder
                && SQL_TEXT.is_match(&fmt)
                && (fmt.contains("%s") || fmt.contains("%v") || fmt.contains("%q"))
        }
        "binary_expression" => {
            let mut literal_sql = false;
            let mut dynamic = false;
            crate::syntax::walk(q, |n| match n.kind() {
                "interpreted_string_literal" | "raw_string_literal" => {
                    literal_sql |= string_value(n, cx.src).is_some_and(|s| SQL_TEXT.is_match(&s))
                }
                "identifier" | "selector_expression" | "call_expression" => dynamic = true,
                _ => {}
            });
            literal_sql && dynamic
        }
        _ => false,
    }
}

/// Multipart uploads read without a body cap (fiber caps bodies at 4 MB by default).
fn uploads(cx: &Cx<'_>, call: Node<'_>, name: &str, out: &mut FileOutput) {
    if !matches!(last(name), "FormFile" | "MultipartForm" | "ParseMultipartForm")
        || cx.imports_path("github.com/gofiber/fiber")
    {
        return;
    }
    let Some(h) = cx.handler_of(call) else { return };
    // A size check on the file header in the handler bounds it.
    let checked = cx
        .nodes_of("selector_expression", Some(h))
        .any(|s| s.child_by_field_name("field").is_some_and(|f| cx.text(f) == "Size"))
        || cx.calls_within(h).any(|c| c.name == "http.MaxBytesReader" || last(&c.name).contains("Size"));
    if !checked {
        let msg = "an upload is read with no size limit (no http.MaxBytesReader or BodyLimit middleware)";
        out.hit(Hit::new("upload-unbounded", line(call), msg, cx.snippet(call)));
    }
}

/// The secret name a call reads: `os.Getenv("JWT_SECRET")` → `JWT_SECRET`.
fn env_key(cx: &Cx<'_>, node: Node<'_>) -> Option<String> {
    if node.kind() != "call_expression" {
        return None;
    }
    let name = go::callee(node, cx.src)?;
    if !matches!(name.as_str(), "os.Getenv" | "os.LookupEnv") {
        return None;
    }
    args(node).first().and_then(|k| string_value(*k, cx.src))
}

/// `getEnv("JWT_SECRET", "dev")`, `cmp.Or(os.Getenv("JWT_SECRET"), "dev")`,
/// `viper.SetDefault("jwt_secret", "dev")`.
fn secret_default_call(cx: &Cx<'_>, call: Node<'_>, name: &str, out: &mut FileOutput) {
    let a = args(call);
    let why = "falls back to a literal when the environment variable is missing";
    let lower = name.to_ascii_lowercase();
    let (key, fallback) = if name == "cmp.Or" {
        (a.first().and_then(|f| env_key(cx, *f)), a.get(1))
    } else if a.len() == 2
        && (last(&lower).contains("env") || last(name) == "SetDefault")
        && !cx.is_pkg_call(name, &["os"])
    {
        (a.first().and_then(|k| string_value(*k, cx.src)), a.get(1))
    } else {
        return;
    };
    let (Some(key), Some(fallback)) = (key, fallback) else { return };
    if !is_secret_name(&key) || cx.conditional(call) {
        return;
    }
    if let Some(v) = string_value(*fallback, cx.src)
        && let Some(hit) = literal_hit(&key, &v, line(*fallback), why)
    {
        out.hit(hit);
    }
}

/// `secret := os.Getenv("JWT_SECRET")` followed by `if secret == "" { secret = "dev" }`.
fn secret_default_branch(cx: &Cx<'_>, decl: Node<'_>, out: &mut FileOutput) {
    let (Some(l), Some(r)) = (decl.child_by_field_name("left"), decl.child_by_field_name("right")) else { return };
    let Some(key) = r.named_child(0).and_then(|v| env_key(cx, v)) else { return };
    let var = cx.text(l).split(',').next().unwrap_or("").trim();
    if !is_secret_name(&key) || var.is_empty() {
        return;
    }
    let Some(scope) = cx.parents.parent(decl) else { return };
    for stmt in cx.nodes_of("if_statement", Some(scope)) {
        let cond = stmt.child_by_field_name("condition").map(|c| cx.text(c).replace(' ', "")).unwrap_or_default();
        if stmt.start_byte() < decl.end_byte() || !(cond == format!("{var}==\"\"") || cond == format!("!{}", "ok")) {
            continue;
        }
        let Some(body) = stmt.child_by_field_name("consequence") else { continue };
        for a in cx.nodes_of("assignment_statement", Some(body)) {
            let (Some(al), Some(ar)) = (a.child_by_field_name("left"), a.child_by_field_name("right")) else {
                continue;
            };
            if cx.text(al) != var {
                continue;
            }
            if let Some(v) = ar.named_child(0).and_then(|v| string_value(v, cx.src))
                && let Some(hit) =
                    literal_hit(&key, &v, line(a), "falls back to a literal when the environment variable is missing")
            {
                out.hit(hit);
            }
        }
    }
}
