//! `insecure-default-secret`: a secret setting that silently falls back to a
//! literal when the environment does not provide it, or is a literal outright
//! in a settings module or config class.
//!
//! Forms recognised: `os.getenv("SECRET_KEY", "…")`, `os.environ.get(…, "…")`,
//! `os.environ.setdefault(…)`, python-decouple `config("…", default="…")`,
//! django-environ `env("…", default="…")` / `environ.Env(KEY=(str, "…"))`,
//! `os.getenv("…") or "…"`, pydantic/config-class fields
//! (`jwt_secret_key: str = "…"`, `SECRET_KEY = "…"`), module-level
//! `SECRET_KEY = "…"` in a settings module, `app.secret_key = "…"` and
//! `app.config["SECRET_KEY"] = "…"`.
//!
//! The finding's line is the line of the literal itself (not of the call
//! that holds it), so a call written across five lines points at the value
//! to delete. Evidence masks the literal unless it is an obvious placeholder
//! such as `changeme`, which is shown as is: it is still a finding.

use super::syntax::{Ctx, arg, is_dev_name, last};
use crate::engine::{FileOutput, Hit};
use crate::{mask, python};
use regex::Regex;
use std::sync::LazyLock;
use tree_sitter::Node;

const ID: &str = "insecure-default-secret";

static SECRET_NAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i-u)(secret|jwt|token|passw|pwd|api_?key|apikey|private_?key|signing|session_?key|credential|encryption_?key|fernet_?key)").unwrap()
});

/// Names that contain a secret word but hold a setting *about* the secret.
static NOT_SECRET_SUFFIX: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i-u)(^|_)(timeout|expires?|expires?_in|expired|expiry|expiration|ttl|lifetime|minutes|hours|days|seconds|algorithms?|alg|name|url|uri|host|port|length|len|age|issuer|audience|header|prefix|domain|path|file|dir|enabled|type|limit|version|samesite|secure|httponly|backend|engine|model|location|id|user|username|cookie|scheme|mode|size|count|rounds|min|max|serializer|class|field|fields|placeholder|mask|pattern|regex|param|env|var)$",
    )
    .unwrap()
});

static PLACEHOLDER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)^(change[-_ .]?(me|it|this)|.*change[-_ ]?in[-_ ]?prod.*|your[-_ ].*|.*[-_ ]here|x{3,}|\*+|secret|password|dev|development|test|default|insecure.*|placeholder|replace[-_ ]?me|todo|super[-_ ]?secret.*|my[-_ ]?secret.*|secret[-_ ]?key|<.*>|\$\{.*\})$",
    )
    .unwrap()
});

/// Records every insecure secret default of one file.
pub(super) fn analyze(cx: &Ctx<'_>, out: &mut FileOutput) {
    for (call, name) in &cx.calls {
        env_call(cx, *call, name, out);
    }
    for op in &cx.or_operators {
        or_fallback(cx, *op, out);
    }
    for (name, value, assign) in cx.module_assignments() {
        if cx.settings_module && !cx.dev_config && !cx.env_guarded(assign) && is_secret_name(name) {
            literal(cx, name, value, "is a literal in a settings module", out);
        }
    }
    for class in &cx.classes {
        config_class(cx, *class, out);
    }
    for a in &cx.assigns {
        app_attribute(cx, *a, out);
    }
}

/// True for names of settings *about* a secret: `JWT_SECRET_EXPIRE_MINUTES_COUNT`, `TOKEN_TTL`.
pub(crate) fn is_setting_about_secret(name: &str) -> bool {
    NOT_SECRET_SUFFIX.is_match(name)
}

/// True for names such as `SECRET_KEY`, `jwt_secret`, `DB_PASSWORD`, but not
/// `ACCESS_TOKEN_EXPIRE_MINUTES` or `JWT_ALGORITHM`.
pub(crate) fn is_secret_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    // `PWD` is the working directory; a tokenizer is not a token.
    let not_secret = matches!(lower.as_str(), "pwd" | "oldpwd") || lower.contains("tokeniz");
    SECRET_NAME.is_match(name) && !NOT_SECRET_SUFFIX.is_match(name) && !not_secret
}

fn env_call(cx: &Ctx<'_>, call: Node<'_>, name: &str, out: &mut FileOutput) {
    if let Some((key, Some(default))) = cx.env_read(call, name) {
        // A fallback chosen only in development (`… if settings.DEBUG else os.environ[…]`) is deliberate.
        if is_secret_name(&key) && !cx.env_guarded(call) {
            literal(cx, &key, default, "falls back to a literal when the environment variable is missing", out);
        }
        return;
    }
    // django-environ schemes: `environ.Env(SECRET_KEY=(str, "dev"))`.
    if cx.imports("environ") && last(name) == "Env" {
        let Some(args) = call.child_by_field_name("arguments") else { return };
        let mut c = args.walk();
        for kw in args.named_children(&mut c).filter(|a| a.kind() == "keyword_argument") {
            let (Some(k), Some(v)) = (kw.child_by_field_name("name"), kw.child_by_field_name("value")) else {
                continue;
            };
            if v.kind() == "tuple"
                && is_secret_name(cx.text(k))
                && let Some(default) = v.named_child(1)
            {
                literal(cx, cx.text(k), default, "has a literal default in environ.Env", out);
            }
        }
    }
}

/// `os.getenv("SECRET_KEY") or "dev-secret"`.
fn or_fallback(cx: &Ctx<'_>, op: Node<'_>, out: &mut FileOutput) {
    let (Some(left), Some(right)) = (op.child_by_field_name("left"), op.child_by_field_name("right")) else {
        return;
    };
    if left.kind() != "call" {
        return;
    }
    let name = python::call_name(left, cx.src).unwrap_or_default();
    if let Some((key, None)) = cx.env_read(left, &name)
        && is_secret_name(&key)
        && !cx.env_guarded(op)
    {
        literal(cx, &key, right, "falls back to a literal when the environment variable is missing", out);
    }
}

/// Fields of a settings/config class: `jwt_secret_key: str = "…"`, `SECRET_KEY = "…"`,
/// `secret: SecretStr = Field("…")`.
fn config_class<'a>(cx: &Ctx<'a>, class: Node<'a>, out: &mut FileOutput) {
    let Some(class_name) = class.child_by_field_name("name").map(|n| cx.text(n)) else { return };
    if !is_config_class(cx, class) || is_dev_name(class_name) {
        return;
    }
    for (field, value) in class_fields(cx, class) {
        let value = field_default(cx, value);
        if is_secret_name(field) && !overridden_in_sibling(cx, class, field, |v| is_flaggable_literal(cx, v)) {
            literal(cx, field, value, &format!("has a literal default in {class_name}"), out);
        }
    }
}

/// True if another non-development config class of the file sets `field`
/// to a value `bad` rejects: `class Config: SECRET_KEY = "dev"` with
/// `class ProductionConfig(Config): SECRET_KEY = os.environ["SECRET_KEY"]`
/// is the usual Flask layout, and production uses the subclass.
pub(super) fn overridden_in_sibling<'a>(
    cx: &Ctx<'a>,
    class: Node<'a>,
    field: &str,
    bad: impl Fn(Node<'a>) -> bool,
) -> bool {
    cx.classes.iter().filter(|c| **c != class && is_config_class(cx, **c)).any(|c| {
        let name = c.child_by_field_name("name").map(|n| cx.text(n)).unwrap_or("");
        !is_dev_name(name) && class_fields(cx, *c).iter().any(|(f, v)| *f == field && !bad(field_default(cx, *v)))
    })
}

/// A value `literal` would report: a non-empty string literal.
fn is_flaggable_literal(cx: &Ctx<'_>, value: Node<'_>) -> bool {
    python::string_value(value, cx.src).is_some_and(|v| !v.trim().is_empty())
}

/// A pydantic `BaseSettings` subclass or a class named like a config (`Settings`, `ProductionConfig`).
pub(super) fn is_config_class(cx: &Ctx<'_>, class: Node<'_>) -> bool {
    let name = class.child_by_field_name("name").map(|n| cx.text(n)).unwrap_or("");
    let bases = class.child_by_field_name("superclasses").map(|n| cx.text(n)).unwrap_or("");
    bases.contains("Settings")
        || bases.contains("Config")
        || ["Settings", "Config", "Configuration"].iter().any(|s| name.ends_with(s))
}

/// `name = value` / `name: T = value` directly in a class body.
pub(super) fn class_fields<'a>(cx: &Ctx<'a>, class: Node<'a>) -> Vec<(&'a str, Node<'a>)> {
    let Some(body) = class.child_by_field_name("body") else { return vec![] };
    let mut c = body.walk();
    body.named_children(&mut c)
        .filter(|s| s.kind() == "expression_statement")
        .filter_map(|stmt| {
            let a = stmt.named_child(0).filter(|a| a.kind() == "assignment")?;
            let (l, r) = (a.child_by_field_name("left")?, a.child_by_field_name("right")?);
            (l.kind() == "identifier").then(|| (cx.text(l), r))
        })
        .collect()
}

/// The default inside `Field("…")` / `Field(default="…")`, else the value itself.
pub(super) fn field_default<'t>(cx: &Ctx<'_>, value: Node<'t>) -> Node<'t> {
    if value.kind() == "call"
        && python::call_name(value, cx.src).is_some_and(|n| last(&n) == "Field")
        && let Some(d) = arg(value, 0, "default", cx.src)
    {
        return d;
    }
    value
}

/// `app.secret_key = "…"`, `app.config["SECRET_KEY"] = "…"`.
fn app_attribute(cx: &Ctx<'_>, assign: Node<'_>, out: &mut FileOutput) {
    let (Some(left), Some(right)) = (assign.child_by_field_name("left"), assign.child_by_field_name("right")) else {
        return;
    };
    let key = match left.kind() {
        "attribute" => left.child_by_field_name("attribute").map(|a| cx.text(a).to_string()),
        "subscript" if left.child_by_field_name("value").is_some_and(|v| cx.text(v).ends_with("config")) => {
            left.child_by_field_name("subscript").and_then(|s| python::string_value(s, cx.src))
        }
        _ => None,
    };
    if let Some(key) = key.filter(|k| k == "secret_key" || (left.kind() == "subscript" && is_secret_name(k)))
        && !cx.env_guarded(assign)
    {
        literal(cx, &key, right, "is set to a literal in code", out);
    }
}

/// Records a finding if `value` is a non-empty string literal that looks like a value, not a setting.
fn literal(cx: &Ctx<'_>, name: &str, value: Node<'_>, why: &str, out: &mut FileOutput) {
    let Some(v) = python::string_value(value, cx.src) else { return };
    if let Some(hit) = literal_hit(name, &v, python::line(value), why) {
        out.hit(hit);
    }
}

/// The finding for secret `name` falling back to the literal `v` (at `line`
/// of any language), unless the literal is no secret value: empty, a
/// number or boolean, an algorithm name, a path or URL.
pub(crate) fn literal_hit(name: &str, v: &str, line: u32, why: &str) -> Option<Hit> {
    let t = v.trim();
    let not_a_secret = t.is_empty()
        || t.chars().all(|c| c.is_ascii_digit())
        || matches!(t.to_ascii_lowercase().as_str(), "true" | "false" | "none" | "null")
        || is_algorithm_name(t)
        || is_duration(t)
        || looks_like_path_or_url(t);
    if not_a_secret {
        return None;
    }
    let shown = if PLACEHOLDER.is_match(t) { format!("\"{v}\"") } else { mask::mask(v) };
    let msg = format!("{name} {why}");
    Some(
        Hit::new(ID, line, msg, format!("{name} = {shown}"))
            .with_identity(format!("{name} {}", mask::secret_identity(v))),
    )
}

/// A default such as `/run/secrets/key`, `credentials.json` or `https://…`
/// names where the secret lives; it is not the secret.
fn looks_like_path_or_url(v: &str) -> bool {
    let lower = v.to_ascii_lowercase();
    ["/", "./", "../", "~/", "http://", "https://"].iter().any(|p| lower.starts_with(p))
        || [".json", ".pem", ".key", ".crt", ".txt", ".yaml", ".yml", ".p12"].iter().any(|e| lower.ends_with(e))
}

/// `1h`, `15m`, `30d`: how long a token lives, not the token.
fn is_duration(v: &str) -> bool {
    let digits = v.trim_end_matches(['s', 'm', 'h', 'd', 'w']);
    digits.len() < v.len() && !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit())
}

fn is_algorithm_name(v: &str) -> bool {
    matches!(v, "HS256" | "HS384" | "HS512" | "RS256" | "RS384" | "RS512" | "ES256" | "ES384" | "EdDSA")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_names() {
        for n in ["SECRET_KEY", "jwt_secret_key", "DB_PASSWORD", "GITHUB_TOKEN", "api_key", "SESSION_SECRET"] {
            assert!(is_secret_name(n), "{n}");
        }
        assert!(is_duration("1h") && is_duration("30d") && !is_duration("h") && !is_duration("s3cr3t"));
        for n in [
            "ACCESS_TOKEN_EXPIRE_MINUTES",
            "JWT_EXPIRES_IN",
            "JWT_ALGORITHM",
            "TOKEN_URL",
            "SESSION_COOKIE_NAME",
            "DEBUG",
            "PWD",
        ] {
            assert!(!is_secret_name(n), "{n}");
        }
        for n in [
            "SECRET_PLACEHOLDER",
            "SECRET_KEY_ENV_VAR",
            "session_store",
            "tokenizer_name",
            "SESSION_TYPE",
            "GOOGLE_CREDENTIALS_FILE",
        ] {
            assert!(!is_secret_name(n), "{n}");
        }
        assert!(looks_like_path_or_url("credentials.json"));
        assert!(PLACEHOLDER.is_match("changeme"));
        assert!(PLACEHOLDER.is_match("your-secret-key-here"));
        assert!(!PLACEHOLDER.is_match("8f2a9c1d7e"));
    }
}
