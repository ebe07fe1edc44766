//! Finding credentials in the text of one file: provider key formats,
//! private key blocks, JWTs, URLs with inline passwords and secret-named
//! assignments.
//!
//! Every file of a repository passes through here (up to 8 MiB), so one
//! Aho-Corasick automaton over literal anchors picks the few lines worth a
//! regex; nothing else is run on the rest. Values leave this module only to
//! be masked and hashed by the caller.

use super::formats::{
    JWT_RE, PROVIDER_KINDS, PROVIDERS, is_signing_scope, jwt_kind, private_key, provider_value_is_real,
};
use super::values::{is_placeholder, looks_random, looks_real, looks_real_in};
use crate::walk::FileEntry;
use aho_corasick::{AhoCorasick, AhoCorasickBuilder};
use base64::Engine;
use regex::Regex;
use std::sync::LazyLock;

/// A credential found at a line. `value` is the secret itself: callers mask
/// it and must not store it.
#[derive(Debug, Clone)]
pub struct Found {
    pub line: u32,
    pub kind: String,
    pub value: String,
}

const PROVIDER: u8 = 1;
const PEM: u8 = 2;
const JWT: u8 = 4;
const URL: u8 = 8;
const KEYWORD: u8 = 16;

/// Literal anchors: (text, rule bits, must match case exactly).
const ANCHORS: &[(&str, u8, bool)] = &[
    ("AKIA", PROVIDER, true),
    ("ASIA", PROVIDER, true),
    ("ghp_", PROVIDER, true),
    ("gho_", PROVIDER, true),
    ("ghu_", PROVIDER, true),
    ("ghs_", PROVIDER, true),
    ("ghr_", PROVIDER, true),
    ("github_pat_", PROVIDER, true),
    ("glpat-", PROVIDER, true),
    ("xox", PROVIDER, true),
    ("hooks.slack.com", PROVIDER, false),
    ("sk_live_", PROVIDER, true),
    ("rk_live_", PROVIDER, true),
    ("AIza", PROVIDER, true),
    ("sk-", PROVIDER, true),
    ("SG.", PROVIDER, true),
    ("SK", PROVIDER, true),
    ("eyJ", JWT, true),
    ("-----BEGIN", PEM, true),
    ("://", URL, true),
    ("pass", KEYWORD, false),
    ("pwd", KEYWORD, false),
    ("secret", KEYWORD, false),
    ("token", KEYWORD, false),
    ("apikey", KEYWORD, false),
    ("api_key", KEYWORD, false),
    ("api-key", KEYWORD, false),
    ("accesskey", KEYWORD, false),
    ("access_key", KEYWORD, false),
    ("privatekey", KEYWORD, false),
    ("private_key", KEYWORD, false),
    ("credential", KEYWORD, false),
];

static PREFILTER: LazyLock<AhoCorasick> = LazyLock::new(|| {
    AhoCorasickBuilder::new().ascii_case_insensitive(true).build(ANCHORS.iter().map(|a| a.0)).expect("anchors compile")
});

static URL_CREDS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]{1,30})://(?P<user>[^\s:/@'"`<>{}]*):(?P<pass>[^\s@/'"`]+)@(?P<host>[^\s/'"`<>:?#,;)]+)"#)
        .expect("url regex")
});

/// `key = "value"`, `key: value`, `"key": "value"`, `key := "value"`.
static ASSIGNMENT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r#"(?i)(?P<key>[A-Za-z0-9_.\-]*(?:pass|pwd|secret|token|api[_\-]?key|access[_\-]?key|private[_\-]?key|credential)[A-Za-z0-9_\-]*)"#,
        r#"["']?\]?[ \t]*(?P<sep>:=|=>|=|:)[ \t]*"#,
        r#"(?:[bfru]?(?P<q>["'`])(?P<qv>[^"'`\r\n]*)["'`]|(?P<uv>[^\s"'`,;#]+))"#,
    ))
    .expect("assignment regex")
});

/// What may follow the secret word in a key name and still name the
/// secret itself (`SECRET_KEY`, `api_key_value`), not a setting about it
/// (`token_url`, `password_reset_template`).
const KEY_TAILS: &[&str] =
    &["key", "value", "val", "str", "string", "b64", "base64", "hex", "raw", "plain", "plaintext", "prod", "live"];

const KEY_WORDS: &[&str] = &[
    "password",
    "passwd",
    "pass",
    "pwd",
    "secret",
    "token",
    "apikey",
    "api_key",
    "api-key",
    "accesskey",
    "access_key",
    "access-key",
    "privatekey",
    "private_key",
    "private-key",
    "credentials",
    "credential",
];

/// Scans `text` (the whole file) and returns every credential occurrence.
pub fn scan(entry: &FileEntry, text: &str) -> Vec<Found> {
    let scope = Scope::of(entry);
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    let mut line_no = 1u32;
    let mut counted_to = 0usize;
    let mut current: Option<(usize, usize, u8)> = None;
    let mut skip_until = 0usize;
    let flush = |line: (usize, usize, u8), line_no: u32, skip_until: &mut usize, found: &mut Vec<Found>| {
        if line.0 >= *skip_until {
            scan_line(text, line, line_no, scope, skip_until, found);
        }
    };
    for m in PREFILTER.find_overlapping_iter(text) {
        let (pattern, bits, exact) = ANCHORS[m.pattern().as_usize()];
        if exact && &bytes[m.start()..m.end()] != pattern.as_bytes() {
            continue;
        }
        match current {
            Some((start, end, b)) if m.start() >= start && m.start() < end => {
                current = Some((start, end, b | bits));
                continue;
            }
            Some(line) => flush(line, line_no, &mut skip_until, &mut found),
            None => {}
        }
        let start = memchr::memrchr(b'\n', &bytes[..m.start()]).map_or(0, |i| i + 1);
        let end = memchr::memchr(b'\n', &bytes[m.start()..]).map_or(bytes.len(), |i| m.start() + i);
        line_no += memchr::memchr_iter(b'\n', &bytes[counted_to..start]).count() as u32;
        counted_to = start;
        current = Some((start, end, bits));
    }
    if let Some(line) = current {
        flush(line, line_no, &mut skip_until, &mut found);
    }
    found
}

/// Which rules a file gets. Docs and tests get provider formats only: an
/// example password in an install guide or a login test is not a leak.
#[derive(Clone, Copy)]
struct Scope {
    generic: bool,
    urls: bool,
    /// Unquoted `key: value` counts only outside code, where it is config.
    unquoted: bool,
    /// Python, where `name: "..."` after an unquoted name is an annotation.
    python: bool,
    test: bool,
    /// Documentation: generic assignments count only for machine-generated
    /// values (see [`generated_secret`]), quoted or not.
    docs: bool,
    /// A dotenv file: an unquoted value runs to the next blank, brackets
    /// and `#` included (Django keys contain both).
    dotenv: bool,
}

impl Scope {
    fn of(entry: &FileEntry) -> Scope {
        let name = entry.file_name().to_ascii_lowercase();
        let docs = is_documentation(entry);
        let template = ["example", "sample", "template", ".dist"].iter().any(|m| name.contains(m));
        let lockfile = name.ends_with(".lock")
            || ["package-lock.json", "pnpm-lock.yaml", "go.sum", "npm-shrinkwrap.json"].contains(&name.as_str());
        Scope {
            generic: !docs && !template && !lockfile && !entry.is_test,
            urls: !docs && !template,
            unquoted: is_config_file(&name),
            python: entry.language == Some(crate::walk::Language::Python),
            test: entry.is_test,
            docs: docs && !template && !entry.is_test,
            dotenv: name.starts_with(".env") || name.ends_with(".env"),
        }
    }
}

/// Config formats where `key: value` without quotes is a literal; in code
/// (C, CSS, shell…) the same text is an expression or a selector.
fn is_config_file(name: &str) -> bool {
    let ext = name.rsplit_once('.').map_or("", |(_, e)| e);
    name.starts_with(".env")
        || matches!(ext, "env" | "ini" | "cfg" | "conf" | "properties" | "yaml" | "yml" | "toml" | "tfvars")
}

/// Markdown, reStructuredText and anything under a docs folder (CHECKS.md);
/// a `.txt` file elsewhere is not documentation for this purpose.
pub fn is_documentation(entry: &FileEntry) -> bool {
    let lower = entry.path.to_ascii_lowercase();
    [".md", ".markdown", ".rst", ".adoc", ".mdx"].iter().any(|e| lower.ends_with(e))
        || lower.split('/').rev().skip(1).any(|d| matches!(d, "docs" | "doc" | "documentation"))
}

fn scan_line(
    text: &str,
    (start, end, bits): (usize, usize, u8),
    line_no: u32,
    scope: Scope,
    skip_until: &mut usize,
    found: &mut Vec<Found>,
) {
    let line = &text[start..end];
    let mut handled: Vec<(usize, usize)> = Vec::new();
    let mut push = |kind: String, value: &str| found.push(Found { line: line_no, kind, value: value.to_string() });
    if bits & PEM != 0
        && let Some((kind, value, span)) = private_key(text, start, line)
    {
        push(format!("private key ({kind})"), &value);
        handled.push(span);
        *skip_until = span.1;
    }
    let overlaps = |handled: &[(usize, usize)], s: usize, e: usize| handled.iter().any(|&(a, b)| s < b && a < e);
    if bits & PROVIDER != 0 {
        for caps in PROVIDERS.captures_iter(line) {
            let Some((group, kind)) = PROVIDER_KINDS.iter().find(|(g, _)| caps.name(g).is_some()) else { continue };
            let m = caps.name(group).expect("group matched");
            let (s, e) = (start + m.start(), start + m.end());
            if overlaps(&handled, s, e) {
                continue;
            }
            handled.push((s, e));
            if provider_value_is_real(group, m.as_str()) && !is_signing_scope(&line[m.end()..]) {
                push((*kind).to_string(), m.as_str());
            }
        }
    }
    if bits & JWT != 0 {
        for m in JWT_RE.find_iter(line) {
            let (s, e) = (start + m.start(), start + m.end());
            if overlaps(&handled, s, e) {
                continue;
            }
            handled.push((s, e));
            if let Some(kind) = jwt_kind(m.as_str(), scope.test) {
                push(kind, m.as_str());
            }
        }
    }
    if bits & URL != 0 && scope.urls {
        for caps in URL_CREDS.captures_iter(line) {
            let pass = caps.name("pass").expect("pass group");
            let (s, e) = (start + pass.start(), start + pass.end());
            if overlaps(&handled, s, e) {
                continue;
            }
            handled.push((start + caps.get(0).map_or(0, |m| m.start()), e));
            let user = caps.name("user").map_or("", |m| m.as_str());
            let host = caps.name("host").map_or("", |m| m.as_str());
            if url_password_is_real(user, pass.as_str(), host, scope.test) {
                let scheme = caps.name("scheme").map_or("", |m| m.as_str()).to_ascii_lowercase();
                push(format!("password in {scheme} URL"), pass.as_str());
            }
        }
    }
    if bits & KEYWORD != 0 && (scope.generic || scope.docs) {
        for caps in ASSIGNMENT.captures_iter(line) {
            let key = caps.name("key").expect("key group").as_str();
            let value = match (caps.name("qv"), caps.name("uv")) {
                (Some(v), _) => v,
                (None, Some(v)) if (scope.unquoted || scope.docs) && !v.as_str().starts_with(':') => v,
                _ => continue,
            };
            let raw = match caps.name("uv") {
                Some(_) if scope.dotenv => line[value.start()..].split(char::is_whitespace).next().unwrap_or(""),
                _ => value.as_str(),
            };
            let (s, e) = (start + value.start(), start + value.start() + raw.len());
            let key_start = caps.name("key").map_or(0, |m| m.start());
            let quoted_key = line[..key_start].ends_with(['"', '\'']);
            // `private_key: "_RSAPrivateKey"` in Python is a type annotation.
            let annotation = scope.python && !quoted_key && caps.name("sep").is_some_and(|m| m.as_str() == ":");
            if annotation
                || overlaps(&handled, s, e)
                || !secret_key_name(key)
                || !looks_real_in(raw, scope.dotenv)
                || encodes_placeholder(raw)
                || (!scope.generic && !generated_secret(raw))
            {
                continue;
            }
            handled.push((s, e));
            let short = key.rsplit(['.', '>']).next().unwrap_or(key);
            push(format!("hard-coded value for {short}"), raw);
        }
    }
}

/// A value no one types as an example: 32+ characters mixing upper case,
/// lower case and digits. A deployment guide that lists
/// `JWT_SECRET=<64 random characters>` publishes the signing key, while
/// `password: hK3v9qLm2xP7` in an install guide is an example (CHECKS.md).
fn generated_secret(value: &str) -> bool {
    value.len() >= 32 && looks_random(value)
}

/// Kubernetes Secrets and similar hold base64: `cGFzc3dvcmQ=` is "password".
fn encodes_placeholder(value: &str) -> bool {
    let Ok(raw) = base64::engine::general_purpose::STANDARD.decode(value) else { return false };
    std::str::from_utf8(&raw).is_ok_and(|t| t.chars().all(|c| c.is_ascii_graphic()) && !looks_real(t))
}

/// A URL password counts unless it is a placeholder or repeats the user
/// name (`guest:guest`); in tests, local throwaway databases do not count.
fn url_password_is_real(user: &str, pass: &str, host: &str, test: bool) -> bool {
    if is_placeholder(pass) || pass.eq_ignore_ascii_case(user) || pass.chars().count() < 3 {
        return false;
    }
    let host = host.to_ascii_lowercase();
    if ["example", "your", "domain.com", "host.com"].iter().any(|p| host.contains(p)) {
        return false;
    }
    let local = host == "localhost" || host.starts_with("127.") || host == "0.0.0.0" || !host.contains('.');
    !(test && local)
}

/// True when `key` names a secret: the last secret word in it is a whole
/// word (or ends a camelCase run) and only [`KEY_TAILS`] follow it.
fn secret_key_name(key: &str) -> bool {
    let lower = key.to_ascii_lowercase();
    let lower = lower.trim_matches(|c: char| c == '"' || c == '\'');
    let Some((at, word)) =
        KEY_WORDS.iter().filter_map(|w| lower.rfind(w).map(|i| (i, *w))).max_by_key(|(i, w)| (*i + w.len(), w.len()))
    else {
        return false;
    };
    let before = lower[..at].chars().last();
    let sep = |c: char| matches!(c, '_' | '-' | '.');
    // `pass`/`pwd` must stand alone: `bypass`, `compass`, `passport` are not secrets.
    if matches!(word, "pass" | "pwd") && before.is_some_and(|c| !sep(c)) {
        return false;
    }
    let rest = &lower[at + word.len()..];
    rest.is_empty()
        || rest.bytes().all(|b| b.is_ascii_digit())
        || (rest.starts_with(sep) && rest.split(sep).filter(|s| !s.is_empty()).all(|s| KEY_TAILS.contains(&s)))
        || (!rest.starts_with(sep) && KEY_TAILS.contains(&rest))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn scan_as(path: &str, text: &str) -> Vec<Found> {
        scan(&FileEntry::new(PathBuf::from(path), path.to_string(), text.len() as u64), text)
    }

    #[test]
    fn secret_key_names() {
        for k in ["password", "DB_PASSWORD", "SECRET_KEY", "apiKey", "clientSecret", "db_pass", "AUTH_TOKEN"] {
            assert!(secret_key_name(k), "{k} names a secret");
        }
        for k in
            ["token_url", "password_reset_template", "tokenizer", "bypass", "max_tokens", "passport", "apiKeyHeader"]
        {
            assert!(!secret_key_name(k), "{k} does not name a secret");
        }
    }

    #[test]
    fn finds_provider_keys_with_lines() {
        let f = scan_as("config.py", concat!("x = 1\nAWS = 'AKIA", "Z7QH3M2KXW4TLP9V'\n"));
        assert_eq!(f.len(), 1);
        assert_eq!((f[0].line, f[0].kind.as_str()), (2, "AWS access key id"));
        assert!(scan_as("config.py", "AWS = 'AKIAIOSFODNN7EXAMPLE'\n").is_empty());
    }

    #[test]
    fn generic_assignments_need_real_values() {
        assert_eq!(scan_as("settings.yaml", "db:\n  password: hK3v9qLm2xP7\n").len(), 1);
        assert!(scan_as("settings.yaml", "db:\n  password: ${DB_PASSWORD}\n").is_empty());
        assert!(scan_as("app.py", "password = get_password()\n").is_empty());
        assert!(scan_as("rsa.py", "def load(private_key: \"_RSAPrivateKeyX9\"):\n").is_empty());
        assert_eq!(scan_as("app.py", "CONF = {\"api_key\": \"a8f5f167f44f4964e6c998dee827110c\"}\n").len(), 1);
        assert!(scan_as("README.md", "password: hK3v9qLm2xP7\n").is_empty());
        // base64 of "password" in a Kubernetes Secret; base64 of a real value counts.
        assert!(scan_as("k8s/secret.yaml", "data:\n  password: cGFzc3dvcmQ=\n").is_empty());
        assert_eq!(scan_as("k8s/secret.yaml", "data:\n  password: aEszdjlxTG0yeFA3\n").len(), 1);
    }
}
