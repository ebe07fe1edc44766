//! Security and secrets rules for Rust services: CORS (actix-cors
//! `Cors::permissive()`/`allow_any_origin()`, tower-http
//! `CorsLayer::permissive()`/`very_permissive()`/`allow_origin(Any)`, a
//! hand-set `Access-Control-Allow-Origin: *`), unconditional Swagger UI,
//! header and rate-limit layers, fast password digests, jsonwebtoken
//! validation turned off, `danger_accept_invalid_certs(true)`, SQL built
//! with `format!`, axum's body limit disabled, and secrets that fall back
//! to a literal when the environment lacks them.

use super::Cx;
use crate::checks::python_security::{all_local, is_secret_name, literal_hit};
use crate::engine::{FileOutput, Hit};
use crate::model::Severity;
use crate::rust::{args, last, macro_string, string_value};
use crate::syntax::line;
use regex::Regex;
use std::sync::LazyLock;
use tree_sitter::Node;

/// Records every security and secrets hit and signal of one file.
pub fn analyze(cx: &Cx<'_>, out: &mut FileOutput) {
    for c in &cx.calls {
        let name = c.name.as_str();
        cors(cx, c.node, name, out);
        layers(cx, c.node, name, out);
        password_hash(cx, c.node, name, out);
        jwt_and_tls(cx, c.node, name, out);
        sql(cx, c.node, name, out);
        secret_default(cx, c.node, name, out);
    }
    header_pairs(cx, out);
    jwt_fields(cx, out);
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

/// The app a CORS layer is added to: `.wrap(cors)` / `.layer(cors)` in one function.
fn registered_on(cx: &Cx<'_>, node: Node<'_>) -> String {
    let func = cx
        .parents
        .ancestors(node)
        .find(|a| a.kind() == "function_item")
        .and_then(|f| f.child_by_field_name("name"))
        .map(|n| cx.text(n))
        .unwrap_or("");
    let wrapped = cx.parents.ancestors(node).take(4).find(|a| a.kind() == "call_expression").and_then(|outer| {
        let name = crate::rust::callee(outer, cx.src)?;
        matches!(last(&name), "wrap" | "layer").then_some(())
    });
    if wrapped.is_some() { format!("the app built in {func}") } else { String::new() }
}

fn cors(cx: &Cx<'_>, call: Node<'_>, name: &str, out: &mut FileOutput) {
    let m = last(name);
    let constructor = name.ends_with("Cors::permissive")
        || name.ends_with("Cors::default")
        || name.ends_with("CorsLayer::new")
        || name.ends_with("CorsLayer::permissive")
        || name.ends_with("CorsLayer::very_permissive");
    if constructor && name.split('.').count() == 1 {
        let top = cx.chain_top(call);
        let conditional = cx.conditional(call);
        out.signal("cors-middleware", line(call), if conditional { String::new() } else { registered_on(cx, top) });
        if conditional {
            return;
        }
        let chain = cx.text(top);
        let creds =
            chain.contains("supports_credentials") || chain.replace(' ', "").contains("allow_credentials(true)");
        match m {
            // actix-cors' permissive() supports credentials; tower-http's very_permissive() mirrors the origin with them.
            "permissive" if name.ends_with("CorsLayer::permissive") => {
                wildcard(cx, call, "CorsLayer::permissive()", creds, out)
            }
            "permissive" => wildcard(cx, call, "Cors::permissive() also allows credentials", true, out),
            "very_permissive" => {
                wildcard(cx, call, "CorsLayer::very_permissive() mirrors any origin with credentials", true, out)
            }
            _ => origins(cx, top, creds, out),
        }
    }
}

/// The origin calls of a CORS builder chain.
fn origins(cx: &Cx<'_>, top: Node<'_>, creds: bool, out: &mut FileOutput) {
    let mut literals = Vec::new();
    let mut dynamic = false;
    for c in cx.calls_within(top) {
        let m = last(&c.name);
        match m {
            "allow_any_origin" => return wildcard(cx, c.node, "allow_any_origin()", creds, out),
            "send_wildcard" => return wildcard(cx, c.node, "send_wildcard()", creds, out),
            "allow_origin" | "allowed_origin" | "allowed_origin_fn" => {
                let a = args(c.node);
                let Some(arg) = a.first() else { continue };
                let t = cx.text(*arg).replace(' ', "");
                if t == "Any"
                    || t.ends_with("::Any")
                    || t.ends_with("AllowOrigin::any()")
                    || t.ends_with("::mirror_request()")
                {
                    return wildcard(cx, c.node, &format!("{m}({t})"), creds, out);
                }
                let strings: Vec<String> =
                    cx.nodes_of("string_literal", Some(*arg)).filter_map(|s| string_value(s, cx.src)).collect();
                if strings.iter().any(|s| s == "*") {
                    return wildcard(cx, c.node, "origin \"*\"", creds, out);
                }
                if strings.is_empty() || m == "allowed_origin_fn" {
                    dynamic = true;
                }
                literals.extend(strings.into_iter().map(|s| (s, c.node)));
            }
            _ => {}
        }
    }
    let list: Vec<String> = literals.iter().map(|(s, _)| s.clone()).collect();
    if !dynamic && all_local(&list) {
        let node = literals[0].1;
        let msg = "the CORS origins list only local or placeholder origins and no configuration replaces them";
        out.hit(Hit::new("localhost-in-config", line(node), msg, cx.snippet(node)));
    }
}

/// Header, rate-limit and body-limit layers; Swagger UI served unconditionally.
fn layers(cx: &Cx<'_>, call: Node<'_>, name: &str, out: &mut FileOutput) {
    let at = line(call);
    if name.ends_with("SwaggerUi::new")
        || name.ends_with("RapiDoc::new")
        || name.ends_with("Redoc::with_url")
        || name.ends_with("Scalar::with_url")
    {
        if !cx.conditional(call) {
            out.hit(Hit::new(
                "api-docs-exposed",
                at,
                "Swagger UI / API docs are served in every environment",
                cx.snippet(call),
            ));
        }
        return;
    }
    let governor = name.contains("Governor") && (last(name) == "new" || last(name) == "default")
        || name.ends_with("GovernorConfigBuilder::default");
    if governor || name.ends_with("RateLimitLayer::new") || name.ends_with("RateLimiter::new") {
        out.signal("rate-limiter", at, cx.snippet(call));
        // governor keeps its buckets in the process.
        if governor {
            out.signal("limiter-no-storage", at, cx.snippet(call));
        }
    }
    if name.ends_with("DefaultBodyLimit::disable") {
        let msg = "the request body limit is disabled: uploads and JSON bodies of any size are accepted";
        out.hit(Hit::new("upload-unbounded", at, msg, cx.snippet(call)));
    }
    if name.ends_with("DefaultBodyLimit::max")
        || name.ends_with("RequestBodyLimitLayer::new")
        || last(name) == "total_limit"
    {
        out.signal("body-size-limit", at, cx.snippet(call));
    }
}

const SECURITY_HEADERS: &[&str] =
    &["strict-transport-security", "content-security-policy", "x-frame-options", "x-content-type-options"];

/// Security headers named anywhere (`header::X_FRAME_OPTIONS`, `("X-Frame-Options", "DENY")`),
/// and a hand-set `Access-Control-Allow-Origin: *`.
fn header_pairs(cx: &Cx<'_>, out: &mut FileOutput) {
    let header_name = |n: Node<'_>| -> Option<String> {
        let t = match n.kind() {
            "string_literal" => string_value(n, cx.src)?,
            "scoped_identifier" | "identifier" => last(cx.text(n)).to_string(),
            _ => return None,
        };
        Some(t.to_ascii_lowercase().replace('_', "-"))
    };
    let mut seen = false;
    for kind in ["arguments", "tuple_expression"] {
        for group in cx.nodes_of(kind, None) {
            let mut c = group.walk();
            let items: Vec<Node<'_>> = group.named_children(&mut c).collect();
            let Some(first) = items.first().and_then(|f| header_name(*f)) else { continue };
            if SECURITY_HEADERS.contains(&first.as_str()) && !seen {
                out.signal("security-headers", line(group), first);
                seen = true;
            } else if first == "access-control-allow-origin"
                && items.get(1).is_some_and(|v| {
                    cx.nodes_of("string_literal", Some(*v)).any(|s| string_value(s, cx.src).as_deref() == Some("*"))
                })
                && !cx.conditional(group)
            {
                wildcard(cx, group, "Access-Control-Allow-Origin: *", false, out);
            }
        }
    }
}

static PASSWORD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)(password|passwd|pwd|passphrase)").expect("password regex"));

/// `Sha256::digest(password)`, `md5::compute(password)`.
fn password_hash(cx: &Cx<'_>, call: Node<'_>, name: &str, out: &mut FileOutput) {
    let lower = name.to_ascii_lowercase();
    let fast = ["md5", "sha1", "sha256", "sha512", "sha2"].iter().any(|a| lower.contains(a))
        && matches!(last(name), "digest" | "compute" | "hash" | "update" | "chain_update");
    if fast && args(call).iter().any(|a| PASSWORD.is_match(cx.text(*a))) {
        let msg = "a password is hashed with a fast digest that is cheap to crack";
        out.hit(Hit::new("weak-password-hash", line(call), msg, cx.snippet(call)));
    }
}

/// jsonwebtoken's insecure switches; reqwest/native-tls accepting any certificate.
fn jwt_and_tls(cx: &Cx<'_>, call: Node<'_>, name: &str, out: &mut FileOutput) {
    let m = last(name);
    let msg = match m {
        "insecure_disable_signature_validation" => "JWT signatures are not validated",
        "dangerous_insecure_decode" | "insecure_decode" | "dangerous_unsafe_decode" => {
            "a JWT is decoded without verifying its signature"
        }
        "danger_accept_invalid_certs" | "danger_accept_invalid_hostnames" => {
            if args(call).first().is_some_and(|a| cx.text(*a) == "true") {
                let msg = format!("TLS certificate verification is disabled ({m}(true))");
                out.hit(Hit::new("tls-verify-disabled", line(call), msg, cx.snippet(call)));
            }
            return;
        }
        _ => return,
    };
    out.hit(Hit::new("jwt-verification-disabled", line(call), msg, cx.snippet(call)));
}

/// `validation.validate_exp = false` and `Validation { validate_exp: false, .. }`.
fn jwt_fields(cx: &Cx<'_>, out: &mut FileOutput) {
    if !cx.src.contains("validate_exp") {
        return;
    }
    for a in cx.nodes_of("assignment_expression", None) {
        let (Some(l), Some(r)) = (a.child_by_field_name("left"), a.child_by_field_name("right")) else { continue };
        if cx.text(l).ends_with(".validate_exp") && cx.text(r) == "false" {
            out.hit(Hit::new("jwt-verification-disabled", line(a), "JWT expiry is not validated", cx.snippet(a)));
        }
    }
    for f in cx.nodes_of("field_initializer", None) {
        let (Some(k), Some(v)) = (f.child_by_field_name("field"), f.child_by_field_name("value")) else { continue };
        if cx.text(k) == "validate_exp" && cx.text(v) == "false" {
            out.hit(Hit::new("jwt-verification-disabled", line(f), "JWT expiry is not validated", cx.snippet(f)));
        }
    }
}

static SQL_TEXT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(\bselect\b.+\bfrom\b|\binsert\s+into\b|\bupdate\b.+\bset\b|\bdelete\s+from\b|\bwhere\b|\border\s+by\b)",
    )
    .expect("sql regex")
});

/// SQL text built with `format!` and passed to sqlx, tokio-postgres, diesel or SeaORM.
fn sql(cx: &Cx<'_>, call: Node<'_>, name: &str, out: &mut FileOutput) {
    let m = last(name);
    let sink = matches!(
        m,
        "query"
            | "query_as"
            | "query_scalar"
            | "query_one"
            | "query_opt"
            | "execute"
            | "batch_execute"
            | "sql_query"
            | "prepare"
    ) || name.ends_with("Statement::from_string")
        || name.ends_with("Statement::from_sql_and_values");
    if !sink {
        return;
    }
    let a = args(call);
    let q = if name.contains("Statement::") { a.get(1) } else { a.first() };
    let Some(q) = q else { return };
    if let Some(mac) = format_macro(cx, *q, call)
        && macro_string(mac, cx.src).is_some_and(|s| SQL_TEXT.is_match(&s) && s.contains('{'))
    {
        let msg = format!("SQL text is built with format! and passed to {m}: bind values as parameters");
        out.hit(Hit::new("sql-injection-risk", line(call), msg, cx.snippet(call)));
    }
}

/// The `format!` a query argument is: inline (`&format!(…)`), or a local
/// `let q = format!(…)` of the same function.
fn format_macro<'t>(cx: &Cx<'t>, arg: Node<'t>, call: Node<'_>) -> Option<Node<'t>> {
    let mut node = arg;
    while matches!(node.kind(), "reference_expression" | "call_expression" | "field_expression") {
        // `&q`, `q.as_str()`.
        node = match node.kind() {
            "reference_expression" => node.child_by_field_name("value")?,
            "call_expression" => node.child_by_field_name("function")?,
            _ => node.child_by_field_name("value")?,
        };
    }
    match node.kind() {
        "macro_invocation" => (crate::rust::macro_name(node, cx.src) == Some("format")).then_some(node),
        "identifier" => {
            let func = cx.parents.ancestors(call).find(|a| a.kind() == "function_item")?;
            let var = cx.text(node);
            cx.nodes_of("let_declaration", Some(func))
                .filter(|l| l.start_byte() < call.start_byte())
                .filter(|l| {
                    l.child_by_field_name("pattern").is_some_and(|p| cx.text(p).trim_start_matches("mut ") == var)
                })
                .filter_map(|l| l.child_by_field_name("value"))
                .filter(|v| v.kind() == "macro_invocation" && crate::rust::macro_name(*v, cx.src) == Some("format"))
                .last()
        }
        _ => None,
    }
}

/// `env::var("JWT_SECRET").unwrap_or("dev".into())`,
/// `.unwrap_or_else(|_| "dev".to_string())`, config's `set_default("jwt_secret", "dev")`.
fn secret_default(cx: &Cx<'_>, call: Node<'_>, name: &str, out: &mut FileOutput) {
    let why = "falls back to a literal when the environment variable is missing";
    let m = last(name);
    let a = args(call);
    let (key, fallback) = if matches!(m, "unwrap_or" | "unwrap_or_else") {
        let Some(read) = cx.calls_within(call).find(|c| {
            matches!(last(&c.name), "var" | "var_os") && (c.name.contains("env::") || c.name.starts_with("dotenv"))
        }) else {
            return;
        };
        (args(read.node).first().and_then(|k| string_value(*k, cx.src)), a.first().copied())
    } else if m == "set_default" {
        (a.first().and_then(|k| string_value(*k, cx.src)), a.get(1).copied())
    } else {
        return;
    };
    let (Some(key), Some(fallback)) = (key, fallback) else { return };
    if !is_secret_name(&key) || cx.conditional(call) {
        return;
    }
    let Some(lit) = cx.nodes_of("string_literal", Some(fallback)).next() else { return };
    if let Some(v) = string_value(lit, cx.src)
        && let Some(hit) = literal_hit(&key, &v, line(lit), why)
    {
        out.hit(hit);
    }
}
