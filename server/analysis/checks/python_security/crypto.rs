//! Cryptography misuse: `weak-password-hash`, `jwt-verification-disabled`
//! and `tls-verify-disabled`.
//!
//! A fast digest only fires when it is applied to a password: the argument
//! names one (`password`, `passwd`, `pwd`), or the enclosing function is a
//! password hasher (`hash_password`, `verify_password`) and the argument is
//! not a token. md5 for cache keys or ETags does not fire.

use super::syntax::{Ctx, last};
use crate::engine::{FileOutput, Hit};
use crate::python;
use regex::Regex;
use std::collections::BTreeSet;
use std::sync::LazyLock;
use tree_sitter::Node;

const FAST_DIGESTS: &[&str] =
    &["md5", "sha1", "sha224", "sha256", "sha384", "sha512", "sha3_256", "sha3_512", "blake2b", "blake2s"];

/// passlib schemes that are fast or unsalted digests.
const WEAK_PASSLIB: &[&str] = &[
    "md5_crypt",
    "ldap_md5",
    "ldap_salted_md5",
    "hex_md5",
    "hex_sha1",
    "hex_sha256",
    "hex_sha512",
    "ldap_sha1",
    "ldap_salted_sha1",
    "des_crypt",
    "plaintext",
    "apr_md5_crypt",
];

static PASSWORD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i-u)(password|passwd|passphrase|pwd|\bpw\b)").unwrap());
static NOT_PASSWORD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i-u)(token|reset|otp|nonce|email|cache|etag|file|url|key|code|session)").unwrap());
/// `password_reset_token` names a token, not a password.
static RESET_TOKEN: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?i-u)(token|reset|otp|nonce)").unwrap());
static HASHER_FN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i-u)((hash|verify|check|encrypt|encode|make|set|compare)_?(password|passwd|pwd|pw)|(password|pwd)_?(hash|digest))")
        .unwrap()
});

/// Records the hashing, JWT and TLS rules for one file.
pub(super) fn analyze(cx: &Ctx<'_>, out: &mut FileOutput) {
    let mut tls_lines = BTreeSet::new();
    for (call, name) in &cx.calls {
        let call = *call;
        weak_hash(cx, call, name, out);
        if last(name) == "decode" && (name.contains("jwt") || name.contains("jose")) {
            jwt_decode(cx, call, out);
        } else {
            tls_call(cx, call, name, &mut tls_lines, out);
        }
    }
    for attr in &cx.attributes {
        let t = cx.text(*attr);
        let what = match t {
            "ssl._create_unverified_context" => "ssl._create_unverified_context",
            // Set, not compared: `ctx.verify_mode = ssl.CERT_NONE`, `cert_reqs=ssl.CERT_NONE`.
            "ssl.CERT_NONE" if attr.parent().is_some_and(|p| matches!(p.kind(), "assignment" | "keyword_argument")) => {
                "ssl.CERT_NONE"
            }
            _ => continue,
        };
        let line = python::line(*attr);
        if tls_lines.insert(line) {
            let msg = format!("{what} turns off certificate verification");
            out.hit(Hit::new("tls-verify-disabled", line, msg, cx.snippet(attr.parent().unwrap_or(*attr))));
        }
    }
    for a in &cx.assigns {
        // `session.verify = False` on a requests/httpx session.
        let (Some(l), Some(r)) = (a.child_by_field_name("left"), a.child_by_field_name("right")) else { continue };
        let http = cx.imports("requests") || cx.imports("httpx");
        if http && l.kind() == "attribute" && cx.text(l).ends_with(".verify") && r.kind() == "false" {
            let line = python::line(*a);
            if tls_lines.insert(line) {
                let msg = "the HTTP session skips TLS certificate verification";
                out.hit(Hit::new("tls-verify-disabled", line, msg, cx.snippet(*a)));
            }
        }
    }
}

fn weak_hash(cx: &Ctx<'_>, call: Node<'_>, name: &str, out: &mut FileOutput) {
    let digest = if let Some(d) = name.strip_prefix("hashlib.") {
        d
    } else if cx.imports("hashlib") && !name.contains('.') {
        name
    } else if name == "hashlib.new" || (name == "new" && cx.imports("hashlib")) {
        ""
    } else {
        return passlib(cx, call, name, out);
    };
    let digest = if digest == "new" || digest.is_empty() {
        let Some(alg) = python::positional_args(call).first().and_then(|a| python::string_value(*a, cx.src)) else {
            return;
        };
        alg.to_ascii_lowercase()
    } else {
        digest.to_string()
    };
    if !FAST_DIGESTS.contains(&digest.as_str()) {
        return;
    }
    // `usedforsecurity=False` declares a non-security use (cache keys, session ids).
    if python::keyword_arg(call, "usedforsecurity", cx.src).is_some_and(|v| v.kind() == "false") {
        return;
    }
    let args = call.child_by_field_name("arguments").map(|a| cx.text(a)).unwrap_or("");
    // Hashing an already-hashed password (`password_hash`) is not storing a password.
    let lower = args.to_ascii_lowercase();
    let hashed_already = ["password_hash", "hashed_password", "password_digest", "pwd_hash", "passwd_hash"]
        .iter()
        .fold(lower, |acc, w| acc.replace(w, ""));
    let mut hashed = PASSWORD.is_match(&hashed_already) && !RESET_TOKEN.is_match(args);
    if !hashed && args.trim_matches(['(', ')', ' ']).is_empty() {
        // `h = hashlib.sha256(); h.update(password.encode())`
        hashed = updated_with_password(cx, call);
    }
    if !hashed {
        let in_hasher = cx
            .parents
            .enclosing_function(call)
            .and_then(|f| f.child_by_field_name("name"))
            .is_some_and(|n| HASHER_FN.is_match(cx.text(n)));
        hashed = in_hasher && !NOT_PASSWORD.is_match(args) && !args.trim_matches(['(', ')', ' ']).is_empty();
    }
    if hashed {
        let msg = format!("passwords are hashed with {digest}, a fast digest: use bcrypt, argon2 or scrypt");
        out.hit(Hit::new("weak-password-hash", python::line(call), msg, cx.snippet(call)));
    }
}

fn updated_with_password(cx: &Ctx<'_>, call: Node<'_>) -> bool {
    let Some(var) = call.parent().filter(|p| p.kind() == "assignment").and_then(|a| cx.target_name(a)) else {
        return false;
    };
    let scope = cx.parents.enclosing_function(call);
    cx.calls.iter().any(|(c, n)| {
        *n == format!("{var}.update")
            && cx.parents.enclosing_function(*c) == scope
            && c.child_by_field_name("arguments").is_some_and(|a| PASSWORD.is_match(cx.text(a)))
    })
}

/// passlib weak schemes: `md5_crypt.hash(pw)`, `CryptContext(schemes=["md5_crypt"])`.
fn passlib(cx: &Ctx<'_>, call: Node<'_>, name: &str, out: &mut FileOutput) {
    if !cx.imports("passlib") {
        return;
    }
    let scheme = if last(name) == "CryptContext" {
        python::keyword_arg(call, "schemes", cx.src)
            .and_then(|s| cx.string_list(s))
            .and_then(|l| l.into_iter().next())
            .filter(|s| WEAK_PASSLIB.contains(&s.as_str()))
    } else {
        name.split('.')
            .find(|p| WEAK_PASSLIB.contains(p))
            .filter(|_| matches!(last(name), "hash" | "encrypt"))
            .map(String::from)
    };
    if let Some(s) = scheme {
        let msg = format!("passwords are hashed with the passlib scheme {s}: use bcrypt or argon2");
        out.hit(Hit::new("weak-password-hash", python::line(call), msg, cx.snippet(call)));
    }
}

/// `jwt.decode(…)` with the signature check off, `verify=False`, `none`
/// allowed, or expiry checks off.
fn jwt_decode(cx: &Ctx<'_>, call: Node<'_>, out: &mut FileOutput) {
    let mut problem: Option<(Node<'_>, &str)> = None;
    if let Some(v) = python::keyword_arg(call, "verify", cx.src).filter(|v| v.kind() == "false") {
        problem = Some((v, "verify=False"));
    }
    if let Some(opts) = python::keyword_arg(call, "options", cx.src) {
        let opts = cx.resolve(opts);
        for (key, value) in option_entries(cx, opts) {
            if value.kind() == "false" {
                match key.as_str() {
                    "verify_signature" | "verify" => problem = Some((value, "signature verification is off")),
                    "verify_exp" if problem.is_none() => problem = Some((value, "expiry is not checked")),
                    _ => {}
                }
            }
        }
    }
    if let Some(algs) = python::keyword_arg(call, "algorithms", cx.src)
        && cx.string_list(algs).is_some_and(|l| l.iter().any(|a| a.eq_ignore_ascii_case("none")))
    {
        problem = Some((algs, "the \"none\" algorithm is accepted"));
    }
    if let Some((node, why)) = problem {
        let msg = format!("JWT decoded without verification: {why}");
        out.hit(Hit::new("jwt-verification-disabled", python::line(node), msg, cx.snippet(call)));
    }
}

/// Keys and values of `{"verify_signature": False}` or `dict(verify_signature=False)`.
fn option_entries<'t>(cx: &Ctx<'_>, opts: Node<'t>) -> Vec<(String, Node<'t>)> {
    let mut v = Vec::new();
    let mut c = opts.walk();
    match opts.kind() {
        "dictionary" => {
            for p in opts.named_children(&mut c).filter(|p| p.kind() == "pair") {
                if let (Some(k), Some(val)) = (p.child_by_field_name("key"), p.child_by_field_name("value"))
                    && let Some(k) = python::string_value(k, cx.src)
                {
                    v.push((k, val));
                }
            }
        }
        "call" if python::call_name(opts, cx.src).is_some_and(|n| n == "dict") => {
            if let Some(args) = opts.child_by_field_name("arguments") {
                let mut c = args.walk();
                for kw in args.named_children(&mut c).filter(|a| a.kind() == "keyword_argument") {
                    if let (Some(k), Some(val)) = (kw.child_by_field_name("name"), kw.child_by_field_name("value")) {
                        v.push((cx.text(k).to_string(), val));
                    }
                }
            }
        }
        _ => {}
    }
    v
}

/// `verify=False` on an HTTP client call, aiohttp `ssl=False`,
/// Elasticsearch `verify_certs=False`, urllib3 `cert_reqs="CERT_NONE"`.
fn tls_call(cx: &Ctx<'_>, call: Node<'_>, name: &str, seen: &mut BTreeSet<u32>, out: &mut FileOutput) {
    const HTTP: &[&str] = &["requests", "httpx", "urllib3", "aiohttp", "boto3", "botocore", "elasticsearch", "openai"];
    if !HTTP.iter().any(|m| cx.imports(m)) || name.contains("jwt") {
        return;
    }
    let off = ["verify", "verify_ssl", "verify_certs"]
        .iter()
        .filter_map(|kw| python::keyword_arg(call, kw, cx.src))
        .find(|v| v.kind() == "false")
        .or_else(|| python::keyword_arg(call, "ssl", cx.src).filter(|v| v.kind() == "false" && cx.imports("aiohttp")))
        .or_else(|| {
            python::keyword_arg(call, "cert_reqs", cx.src)
                .filter(|v| python::string_value(*v, cx.src).is_some_and(|s| s == "CERT_NONE"))
        });
    if let Some(v) = off {
        let line = python::line(v);
        if seen.insert(line) {
            let msg = format!("{} skips TLS certificate verification", if name.is_empty() { "the call" } else { name });
            out.hit(Hit::new("tls-verify-disabled", line, msg, cx.snippet(call)));
        }
    }
}
