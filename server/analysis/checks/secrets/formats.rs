//! Credential formats with a recognisable shape: provider keys and
//! tokens, PEM private key blocks and JWTs, with the checks that tell a
//! live credential from a documentation example of the same shape.

use super::values::{has_sequence, is_placeholder, looks_random};
use base64::Engine;
use regex::Regex;
use std::sync::LazyLock;

/// Provider formats; the group name is the kind. Anthropic precedes OpenAI
/// so `sk-ant-` is not reported as an OpenAI key.
pub static PROVIDERS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?-u)\b(?:(?P<aws>(?:AKIA|ASIA)[0-9A-Z]{16})\b",
        r"|(?P<github>gh[pousr]_[A-Za-z0-9]{36,251})\b",
        r"|(?P<github_pat>github_pat_[A-Za-z0-9_]{50,255})",
        r"|(?P<gitlab>glpat-[A-Za-z0-9_\-]{20,})",
        r"|(?P<slack>xox[abprs]-[A-Za-z0-9\-]{10,})",
        r"|(?P<slack_webhook>https://hooks\.slack\.com/services/[A-Za-z0-9_/]{20,})",
        r"|(?P<stripe>[rs]k_live_[A-Za-z0-9]{20,})",
        r"|(?P<google>AIza[0-9A-Za-z_\-]{35})",
        r"|(?P<anthropic>sk-ant-[A-Za-z0-9_\-]{32,})",
        r"|(?P<openai>sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{32,})",
        r"|(?P<sendgrid>SG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43})",
        r"|(?P<twilio>SK[0-9a-f]{32})\b)",
    ))
    .expect("provider regex")
});

/// Regex group name → the kind shown in evidence.
pub const PROVIDER_KINDS: &[(&str, &str)] = &[
    ("aws", "AWS access key id"),
    ("github", "GitHub token"),
    ("github_pat", "GitHub fine-grained token"),
    ("gitlab", "GitLab token"),
    ("slack", "Slack token"),
    ("slack_webhook", "Slack webhook URL"),
    ("stripe", "Stripe live key"),
    ("google", "Google API key"),
    ("anthropic", "Anthropic API key"),
    ("openai", "OpenAI API key"),
    ("sendgrid", "SendGrid API key"),
    ("twilio", "Twilio API key"),
];

static PEM_HEADER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"-----BEGIN ((?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY(?: BLOCK)?)-----")
        .expect("pem regex")
});

/// Three base64url parts, the first starting like `{"`.
pub static JWT_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?-u)\beyJ[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{16,}").expect("jwt regex")
});

/// False for documentation keys, placeholders and typed-in sequences.
pub fn provider_value_is_real(group: &str, value: &str) -> bool {
    if is_placeholder(value) || has_sequence(value) {
        return false;
    }
    match group {
        // AWS's documentation keys all end in EXAMPLE.
        "aws" => !value.contains("EXAMPLE"),
        "openai" => looks_random(value.trim_start_matches("sk-")),
        "twilio" | "google" | "anthropic" => looks_random(value) || group == "twilio",
        _ => true,
    }
}

/// True when an AWS key id is followed by a SigV4 credential scope
/// (`/20220405/eu-central-1/s3/aws4_request`): it is part of a pre-signed
/// URL or request, where the key id is public by design.
pub fn is_signing_scope(after: &str) -> bool {
    let rest = after.strip_prefix('/').or_else(|| after.strip_prefix("%2F")).or_else(|| after.strip_prefix("%2f"));
    rest.is_some_and(|r| r.len() >= 8 && r.as_bytes()[..8].iter().all(u8::is_ascii_digit))
}

/// A PEM private key block starting on `line`: its type, cleaned body and
/// byte span in `text`. A header with `...` or code between it and the
/// END line (a parser that mentions the marker) is not a key.
pub fn private_key(text: &str, line_start: usize, line: &str) -> Option<(String, String, (usize, usize))> {
    let caps = PEM_HEADER.captures(line)?;
    let header = caps.get(0)?;
    let body_start = line_start + header.end();
    let window_end = text.len().min(body_start + 64 * 1024);
    let rel_end = memchr::memmem::find(&text.as_bytes()[body_start..window_end], b"-----END")?;
    let body = &text[body_start..body_start + rel_end];
    let mut clean = String::new();
    for part in body.split('\n').flat_map(|l| l.split("\\n")) {
        let part = part.trim().trim_matches(|c: char| "\"'`,+\\;".contains(c) || c.is_whitespace());
        if part.is_empty() || part.contains(": ") {
            continue;
        }
        if !part.bytes().all(|b| b.is_ascii_alphanumeric() || b"+/=".contains(&b)) {
            return None;
        }
        clean.push_str(part);
    }
    if clean.len() < 64 || is_placeholder(&clean) {
        return None;
    }
    Some((caps[1].to_string(), clean, (line_start + header.start(), body_start + rel_end)))
}

/// The kind of a JWT if it is one worth reporting: its header decodes to
/// JSON with `alg`; the jwt.io sample, unsigned tokens and Supabase's
/// public `anon` key are not secrets.
pub fn jwt_kind(token: &str, in_test: bool) -> Option<String> {
    let mut parts = token.split('.');
    let header = decode_json(parts.next()?)?;
    let alg = header.get("alg")?.as_str().unwrap_or("");
    if alg.eq_ignore_ascii_case("none") {
        return None;
    }
    let payload = parts.next().and_then(decode_json).unwrap_or(serde_json::Value::Null);
    let role = payload.get("role").and_then(|r| r.as_str()).unwrap_or("");
    if role == "anon" || payload.get("name").and_then(|n| n.as_str()) == Some("John Doe") {
        return None;
    }
    // Tokens that authenticate anyone name a subject, issuer or lifetime;
    // `{"some": "payload"}` is a library's usage example.
    const CLAIMS: &[&str] =
        &["iss", "sub", "aud", "exp", "iat", "nbf", "jti", "role", "scope", "user_id", "uid", "email", "client_id"];
    if !CLAIMS.iter().any(|c| payload.get(c).is_some()) {
        return None;
    }
    // A session token living a few days (a login response pasted into docs
    // or a test) is long expired by the time anyone reads it; API keys
    // such as Supabase's live for years.
    let claim = |k: &str| payload.get(k).and_then(serde_json::Value::as_i64);
    if let (Some(iat), Some(exp)) = (claim("iat"), claim("exp"))
        && exp - iat <= 30 * 24 * 3600
    {
        return None;
    }
    // Tests sign throwaway tokens with a test secret; only key-like tokens
    // (a service role, or valid for more than a year) are leaks there.
    let long_lived = matches!((claim("iat"), claim("exp")), (Some(i), Some(e)) if e - i > 365 * 24 * 3600);
    if in_test && role != "service_role" && !long_lived {
        return None;
    }
    Some(if role == "service_role" { "Supabase service_role JWT".into() } else { "JWT".into() })
}

fn decode_json(part: &str) -> Option<serde_json::Value> {
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(part.trim_end_matches('=')).ok()?;
    serde_json::from_slice::<serde_json::Value>(&raw).ok().filter(|v| v.is_object())
}
