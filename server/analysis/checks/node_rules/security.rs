//! Security and secrets rules for Node services: CORS (`cors()`,
//! `app.enableCors`, `NestFactory.create(…, { cors })`, `@fastify/cors`,
//! a hand-set `Access-Control-Allow-Origin: *`), hard-coded development
//! mode, unconditional Swagger UI, header and rate-limit middleware,
//! fast password digests, JWT options that skip verification, TLS
//! verification turned off, SQL built from template literals or `+`,
//! `eval` of dynamic code, multer without limits, and secrets that fall
//! back to a literal when the environment lacks them.

use super::Cx;
use crate::checks::python_security::{all_local, is_secret_name, literal_hit};
use crate::engine::{FileOutput, Hit};
use crate::js::{args, env_var, is_constant, is_interpolated, last, options_arg, prop, spreads, string_value};
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
        middleware(cx, c.node, name, out);
        debug_and_docs(cx, c.node, name, out);
        password_hash(cx, c.node, name, out);
        jwt(cx, c.node, name, out);
        sql(cx, c.node, name, out);
        eval(cx, c.node, name, out);
        uploads(cx, c.node, name, out);
    }
    tls(cx, out);
    secret_defaults(cx, out);
}

const CORS_MODULES: &[&str] = &["cors", "@fastify/cors", "fastify-cors"];

/// The app a middleware call is registered on: `app` for `app.use(cors())`.
fn registered_on(cx: &Cx<'_>, node: Node<'_>) -> String {
    let outer = cx.parents.parent(node).filter(|p| p.kind() == "arguments").and_then(|a| cx.parents.parent(a));
    let name = outer.and_then(|o| crate::js::callee(o, cx.src)).unwrap_or_default();
    match name.strip_suffix(".use").or_else(|| name.strip_suffix(".register")) {
        // Route-level `app.get('/x', cors(), h)` is not the app's policy.
        Some(app) if crate::js::args(outer.unwrap_or(node)).first().is_some_and(|f| f.id() == node.id()) => {
            app.to_string()
        }
        _ => String::new(),
    }
}

fn cors(cx: &Cx<'_>, call: Node<'_>, name: &str, out: &mut FileOutput) {
    if !matches!(last(name), "cors" | "enableCors" | "register" | "create" | "header" | "setHeader" | "set") {
        return;
    }
    let a = args(call);
    let (options, app) = match last(name) {
        "cors" if cx.from_module(name, CORS_MODULES) => (a.first().copied(), registered_on(cx, call)),
        // NestJS: `app.enableCors()` uses the cors package's defaults.
        "enableCors" => (a.first().copied(), name.trim_end_matches(".enableCors").to_string()),
        "register" if a.first().is_some_and(|p| cx.from_module(cx.text(*p), CORS_MODULES)) => {
            (a.get(1).copied(), name.trim_end_matches(".register").to_string())
        }
        "create" if name.ends_with("NestFactory.create") => match a.get(1).and_then(|o| prop(*o, "cors", cx.src)) {
            Some(v) if v.kind() == "true" => {
                let app = assigned_name(cx, call).unwrap_or_else(|| "app".into());
                out.signal("cors-middleware", line(call), app);
                if !cx.env_branch(call, &[]) {
                    wildcard(cx, v, "cors: true", false, out);
                }
                return;
            }
            Some(v) if v.kind() == "object" => (Some(v), assigned_name(cx, call).unwrap_or_default()),
            _ => return,
        },
        "header" | "setHeader" | "set" => {
            let is_acao = a
                .first()
                .and_then(|h| string_value(*h, cx.src))
                .is_some_and(|h| h.eq_ignore_ascii_case("access-control-allow-origin"));
            if is_acao
                && a.get(1).and_then(|v| string_value(*v, cx.src)).as_deref() == Some("*")
                && !cx.env_branch(call, &[])
            {
                wildcard(cx, a[1], "Access-Control-Allow-Origin: *", false, out);
            }
            return;
        }
        _ => return,
    };
    // Registrations on exclusive branches (`if (prod) … else …`) are not duplicates.
    let conditional = cx.conditional(call);
    out.signal("cors-middleware", line(call), if conditional { String::new() } else { app });
    if cx.env_branch(call, &[]) {
        return;
    }
    let Some(options) = options.filter(|o| o.kind() == "object") else {
        // `cors()` and `enableCors()` without options allow every origin.
        if options.is_none() {
            wildcard(cx, call, "no options: every origin", false, out);
        }
        return;
    };
    let creds = prop(options, "credentials", cx.src).is_some_and(|v| v.kind() == "true");
    match prop(options, "origin", cx.src) {
        None if !spreads(options) => wildcard(cx, options, "no origin option: every origin", creds, out),
        Some(v) if v.kind() == "true" => wildcard(cx, v, "origin: true reflects every origin", creds, out),
        Some(v) if string_value(v, cx.src).as_deref() == Some("*") => wildcard(cx, v, "origin: '*'", creds, out),
        Some(v) if is_constant(v, cx.src) => {
            let list: Vec<String> = if v.kind() == "array" {
                let mut c = v.walk();
                v.named_children(&mut c).filter_map(|e| string_value(e, cx.src)).collect()
            } else {
                string_value(v, cx.src).into_iter().collect()
            };
            if list.iter().any(|o| o == "*") {
                wildcard(cx, v, "origin: ['*']", creds, out);
            } else if all_local(&list) {
                let msg = "the CORS origin lists only local or placeholder origins and no configuration replaces them";
                out.hit(Hit::new("localhost-in-config", line(v), msg, format!("origin: {}", cx.snippet(v))));
            }
        }
        _ => {}
    }
}

/// `const app = await NestFactory.create(…)` → `app`.
fn assigned_name(cx: &Cx<'_>, call: Node<'_>) -> Option<String> {
    let decl = cx.parents.ancestors(call).take(3).find(|n| n.kind() == "variable_declarator")?;
    decl.child_by_field_name("name").map(|n| cx.text(n).to_string())
}

fn wildcard(cx: &Cx<'_>, node: Node<'_>, what: &str, creds: bool, out: &mut FileOutput) {
    let (msg, sev) = if creds {
        (format!("CORS allows any origin ({what}) together with credentials"), Severity::Critical)
    } else {
        (format!("CORS allows any origin ({what})"), Severity::High)
    };
    out.hit(Hit::new("cors-wildcard", line(node), msg, cx.snippet(node)).with_severity(sev));
}

const HELMET: &[&str] = &["helmet", "@fastify/helmet", "fastify-helmet"];
const LIMITERS: &[&str] = &["express-rate-limit", "@fastify/rate-limit", "fastify-rate-limit", "express-slow-down"];
const SECURITY_HEADERS: &[&str] =
    &["strict-transport-security", "content-security-policy", "x-frame-options", "x-content-type-options"];

/// Signals for the repository-level header and rate-limit checks.
fn middleware(cx: &Cx<'_>, call: Node<'_>, name: &str, out: &mut FileOutput) {
    let method = last(name);
    let candidate = matches!(method, "register" | "setHeader" | "header" | "set" | "forRoot" | "forRootAsync")
        || method.starts_with("RateLimiter")
        || cx.from_module(name, HELMET)
        || cx.from_module(name, LIMITERS);
    if !candidate {
        return;
    }
    let a = args(call);
    let registered = (last(name) == "register").then(|| a.first().map(|p| cx.text(*p))).flatten();
    if cx.from_module(name, HELMET) || registered.is_some_and(|p| cx.from_module(p, HELMET)) {
        out.signal("security-headers", line(call), "helmet");
    }
    if matches!(last(name), "setHeader" | "header" | "set")
        && a.first()
            .and_then(|h| string_value(*h, cx.src))
            .is_some_and(|h| SECURITY_HEADERS.contains(&h.to_ascii_lowercase().as_str()))
    {
        out.signal("security-headers", line(call), cx.snippet(a[0]));
    }
    let (limiter, options, storage_key) = if cx.from_module(name, &["express-rate-limit", "express-slow-down"]) {
        (true, a.first().copied(), "store")
    } else if registered.is_some_and(|p| cx.from_module(p, LIMITERS)) {
        (true, a.get(1).copied(), "redis")
    } else if name.ends_with("ThrottlerModule.forRoot") || name.ends_with("ThrottlerModule.forRootAsync") {
        (true, a.first().copied(), "storage")
    } else if last(name) == "RateLimiterMemory" {
        out.signal("rate-limiter", line(call), "rate-limiter-flexible");
        let msg = "RateLimiterMemory keeps the counters in process memory: limits reset on restart and multiply with instances";
        out.hit(Hit::new("rate-limit-in-memory", line(call), msg, cx.snippet(call)));
        return;
    } else if last(name).starts_with("RateLimiter") && cx.from_module(name, &["rate-limiter-flexible"]) {
        out.signal("rate-limiter", line(call), "rate-limiter-flexible");
        out.signal("rate-limiter-storage", line(call), last(name).to_string());
        return;
    } else {
        (false, None, "")
    };
    if !limiter {
        return;
    }
    out.signal("rate-limiter", line(call), last(name).to_string());
    let stored = options.filter(|o| o.kind() == "object").is_some_and(|o| {
        prop(o, storage_key, cx.src).is_some() || spreads(o) || (storage_key == "storage" && name.ends_with("Async"))
    });
    if stored {
        out.signal("rate-limiter-storage", line(call), storage_key);
    } else {
        out.signal("limiter-no-storage", line(call), cx.snippet(call));
    }
}

/// `app.set('env', 'development')` and Swagger UI served unconditionally.
fn debug_and_docs(cx: &Cx<'_>, call: Node<'_>, name: &str, out: &mut FileOutput) {
    if !matches!(last(name), "set" | "setup" | "register") {
        return;
    }
    let a = args(call);
    let values: Vec<Option<String>> = a.iter().map(|n| string_value(*n, cx.src)).collect();
    if last(name) == "set"
        && values.first().is_some_and(|v| v.as_deref() == Some("env"))
        && values.get(1).is_some_and(|v| v.as_deref() == Some("development"))
        && !cx.conditional(call)
    {
        let msg = "the app is put in development mode in code: Express then sends stack traces to clients";
        out.hit(Hit::new("debug-enabled", line(call), msg, cx.snippet(call)));
    }
    let swagger = name.ends_with("SwaggerModule.setup")
        || (last(name) == "setup" && cx.from_module(name, &["swagger-ui-express"]))
        || (last(name) == "register"
            && a.first().is_some_and(|p| cx.from_module(cx.text(*p), &["@fastify/swagger-ui", "fastify-swagger"])));
    if swagger && !cx.conditional(call) {
        let msg = "Swagger UI is served in every environment, production included";
        out.hit(Hit::new("api-docs-exposed", line(call), msg, cx.snippet(call)));
    }
}

const WEAK_DIGESTS: &[&str] = &["md5", "sha1", "sha256", "sha512", "sha-1", "sha-256"];

/// `crypto.createHash('sha256').update(password)`.
fn password_hash(cx: &Cx<'_>, call: Node<'_>, name: &str, out: &mut FileOutput) {
    if last(name) != "createHash" {
        return;
    }
    let Some(alg) = args(call).first().and_then(|a| string_value(*a, cx.src)) else { return };
    if !WEAK_DIGESTS.contains(&alg.to_ascii_lowercase().as_str()) {
        return;
    }
    // The data hashed: `.update(x)` chained on the hash.
    let update = cx
        .parents
        .parent(call)
        .filter(|m| m.kind() == "member_expression")
        .and_then(|m| cx.parents.parent(m))
        .filter(|u| u.kind() == "call_expression");
    let data = update.map(|u| args(u).iter().map(|a| cx.text(*a).to_ascii_lowercase()).collect::<String>());
    let func = cx.parents.enclosing_function(call).and_then(|f| function_name(cx, f)).unwrap_or_default();
    let about_passwords = |t: &str| t.contains("password") || t.contains("passwd") || t.contains("pwd");
    if data.as_deref().is_some_and(about_passwords) || about_passwords(&func.to_ascii_lowercase()) {
        let msg = format!("a password is hashed with {alg}, a fast digest that leaked hashes fall to quickly");
        out.hit(Hit::new("weak-password-hash", line(call), msg, cx.snippet(update.unwrap_or(call))));
    }
}

/// The name of a function: declared, a method, or the variable it is assigned to.
fn function_name(cx: &Cx<'_>, f: Node<'_>) -> Option<String> {
    if let Some(n) = f.child_by_field_name("name") {
        return Some(cx.text(n).to_string());
    }
    let parent = cx.parents.parent(f)?;
    (parent.kind() == "variable_declarator")
        .then(|| parent.child_by_field_name("name"))
        .flatten()
        .map(|n| cx.text(n).to_string())
}

/// `jwt.verify(t, k, { algorithms: ['none'] })`, `{ ignoreExpiration: true }`.
fn jwt(cx: &Cx<'_>, call: Node<'_>, name: &str, out: &mut FileOutput) {
    if !matches!(last(name), "verify" | "verifyAsync" | "decode" | "sign" | "register") {
        return;
    }
    let jwt_lib = cx.from_module(name, &["jsonwebtoken", "@nestjs/jwt"]) || name.to_ascii_lowercase().contains("jwt");
    if !jwt_lib {
        return;
    }
    for o in args(call).into_iter().filter(|a| a.kind() == "object") {
        let none_alg = ["algorithms", "algorithm"].iter().filter_map(|k| prop(o, k, cx.src)).any(|v| {
            let t = cx.text(v).to_ascii_lowercase();
            t.contains("'none'") || t.contains("\"none\"")
        });
        if none_alg {
            let msg = "the JWT `none` algorithm is allowed: anyone can forge an unsigned token";
            out.hit(Hit::new("jwt-verification-disabled", line(o), msg, cx.snippet(o)));
        }
        if let Some(v) = prop(o, "ignoreExpiration", cx.src).filter(|v| v.kind() == "true") {
            let msg = "JWTs are accepted after they expire (ignoreExpiration: true)";
            out.hit(Hit::new("jwt-verification-disabled", line(v), msg, "ignoreExpiration: true"));
        }
    }
}

const TLS_WORDS: &[&str] = &["ssl", "tls", "verify", "insecure"];

/// `rejectUnauthorized: false`, `strictSSL: false`, `NODE_TLS_REJECT_UNAUTHORIZED = '0'`.
fn tls(cx: &Cx<'_>, out: &mut FileOutput) {
    for pair in cx.nodes_of("pair", None) {
        let key = pair.child_by_field_name("key").map(|k| crate::js::key_name(k, cx.src)).unwrap_or("");
        // A branch for `sslmode=require` (encrypt, do not verify) is the operator's choice.
        if matches!(key, "rejectUnauthorized" | "strictSSL")
            && pair.child_by_field_name("value").is_some_and(|v| v.kind() == "false")
            && !cx.env_branch(pair, TLS_WORDS)
        {
            let msg = format!("TLS certificate verification is turned off ({key}: false)");
            out.hit(Hit::new("tls-verify-disabled", line(pair), msg, cx.snippet(pair)));
        }
    }
    for a in cx.nodes_of("assignment_expression", None) {
        let (Some(l), Some(r)) = (a.child_by_field_name("left"), a.child_by_field_name("right")) else { continue };
        if env_var(l, cx.src) == Some("NODE_TLS_REJECT_UNAUTHORIZED")
            && string_value(r, cx.src).is_some_and(|v| v == "0")
        {
            let msg = "NODE_TLS_REJECT_UNAUTHORIZED=0 turns off certificate verification for every request";
            out.hit(Hit::new("tls-verify-disabled", line(a), msg, cx.snippet(a)));
        }
    }
}

static SQL_WORDS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(select\s.+\sfrom|insert\s+into|update\s+\w+\s+set|delete\s+from|\swhere\s)").unwrap()
});

const SQL_SINKS: &[&str] =
    &["query", "execute", "raw", "$queryRawUnsafe", "$executeRawUnsafe", "whereRaw", "unsafe", "exec"];

/// SQL text assembled from strings and values and handed to a query API.
fn sql(cx: &Cx<'_>, call: Node<'_>, name: &str, out: &mut FileOutput) {
    if !SQL_SINKS.contains(&last(name)) || !name.contains('.') {
        return;
    }
    let Some(first) = args(call).first().copied() else { return };
    let built = if spliced_sql(cx, first) {
        Some(first)
    } else if first.kind() == "identifier" {
        // `const sql = `SELECT … ${id}`; db.query(sql)` in the same function.
        let scope = cx.parents.enclosing_function(call);
        let wanted = cx.text(first);
        cx.nodes_of("variable_declarator", scope).find_map(|d| {
            let is_it = d.child_by_field_name("name").is_some_and(|n| cx.text(n) == wanted);
            d.child_by_field_name("value").filter(|v| is_it && spliced_sql(cx, *v))
        })
    } else {
        None
    };
    if let Some(b) = built {
        let msg = format!("SQL text built from values is passed to {}: input can rewrite the query", last(name));
        out.hit(Hit::new("sql-injection-risk", line(call), msg, cx.snippet(b)));
    }
}

/// A template literal with `${…}` or a `+` concatenation with a value, holding SQL.
fn spliced_sql(cx: &Cx<'_>, n: Node<'_>) -> bool {
    (is_interpolated(n) || (n.kind() == "binary_expression" && concatenates_value(cx, n)))
        && SQL_WORDS.is_match(cx.text(n))
}

/// True if a `+` chain has an operand that is not a literal.
fn concatenates_value(cx: &Cx<'_>, n: Node<'_>) -> bool {
    let mut stack = vec![n];
    while let Some(e) = stack.pop() {
        let plus =
            e.kind() == "binary_expression" && e.child_by_field_name("operator").is_some_and(|o| cx.text(o) == "+");
        if plus {
            stack.extend(e.child_by_field_name("left"));
            stack.extend(e.child_by_field_name("right"));
        } else if !is_constant(e, cx.src) {
            return true;
        }
    }
    false
}

/// `eval(x)`, `new Function(x)`, `vm.runInNewContext(x)` and node-serialize on dynamic input.
fn eval(cx: &Cx<'_>, call: Node<'_>, name: &str, out: &mut FileOutput) {
    let runs_code =
        matches!(name, "eval" | "Function" | "vm.runInNewContext" | "vm.runInThisContext" | "vm.runInContext")
            || (last(name) == "unserialize" && cx.from_module(name, &["node-serialize"]));
    if runs_code && args(call).iter().any(|x| !is_constant(*x, cx.src)) {
        let msg = format!("{name}() runs code built from dynamic input");
        out.hit(Hit::new("unsafe-deserialization", line(call), msg, cx.snippet(call)));
    }
}

/// multer without `limits`.
fn uploads(cx: &Cx<'_>, call: Node<'_>, name: &str, out: &mut FileOutput) {
    if !cx.from_module(name, &["multer"]) || name.contains('.') {
        return;
    }
    let options = options_arg(call);
    if options.is_some_and(|o| prop(o, "limits", cx.src).is_some() || spreads(o)) {
        return;
    }
    let msg = "multer accepts uploads of any size: no `limits.fileSize` is set";
    out.hit(Hit::new("upload-unbounded", line(call), msg, cx.snippet(call)));
}

const FALLBACK: &str = "falls back to a literal when the environment variable is missing";

/// `process.env.JWT_SECRET || "dev"`, `?? "dev"`, a ternary, a destructuring
/// default, and the same through a variable that holds the env value.
fn secret_defaults(cx: &Cx<'_>, out: &mut FileOutput) {
    // `const secret = process.env.JWT_SECRET` → secret reads JWT_SECRET.
    let aliases: Vec<(&str, &str)> = cx
        .nodes_of("variable_declarator", None)
        .filter_map(|d| {
            let n = d.child_by_field_name("name").filter(|n| n.kind() == "identifier")?;
            Some((cx.text(n), env_var(d.child_by_field_name("value")?, cx.src)?))
        })
        .collect();
    let secret_read = |n: Node<'_>| -> Option<String> {
        let key = env_var(n, cx.src).or_else(|| {
            (n.kind() == "identifier")
                .then(|| aliases.iter().find(|(a, _)| *a == cx.text(n)))
                .flatten()
                .map(|(_, k)| *k)
        })?;
        is_secret_name(key).then(|| key.to_string())
    };
    let mut report = |key: &str, value: Node<'_>| {
        if let Some(v) = string_value(value, cx.src)
            && let Some(hit) = literal_hit(key, &v, line(value), FALLBACK)
        {
            out.hit(hit);
        }
    };
    for b in cx.nodes_of("binary_expression", None) {
        let op = b.child_by_field_name("operator").map(|o| cx.text(o)).unwrap_or("");
        let (Some(l), Some(r)) = (b.child_by_field_name("left"), b.child_by_field_name("right")) else { continue };
        if matches!(op, "||" | "??")
            && let Some(key) = secret_read(l)
        {
            report(&key, r);
        }
    }
    for t in cx.nodes_of("ternary_expression", None) {
        let (Some(c), Some(alt)) = (t.child_by_field_name("condition"), t.child_by_field_name("alternative")) else {
            continue;
        };
        if let Some(key) = secret_read(c) {
            report(&key, alt);
        }
    }
    // `const { JWT_SECRET = "dev" } = process.env`.
    for d in cx.nodes_of("variable_declarator", None) {
        let (Some(pattern), Some(value)) = (d.child_by_field_name("name"), d.child_by_field_name("value")) else {
            continue;
        };
        if pattern.kind() != "object_pattern" || cx.text(value).replace(char::is_whitespace, "") != "process.env" {
            continue;
        }
        let mut c = pattern.walk();
        for p in pattern.named_children(&mut c).filter(|p| p.kind() == "object_assignment_pattern") {
            let (Some(k), Some(v)) = (p.child_by_field_name("left"), p.child_by_field_name("right")) else { continue };
            let key = cx.text(k);
            if is_secret_name(key) {
                report(key, v);
            }
        }
    }
}
