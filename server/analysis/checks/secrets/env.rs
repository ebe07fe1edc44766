//! Dotenv and key files, and where the application reads its environment:
//! the per-file facts behind `env-file-committed`, `env-file-not-ignored`
//! and `env-example-missing`.

use super::rules;
use super::values::is_placeholder;
use crate::engine::FileOutput;
use crate::walk::{FileEntry, Language};
use memchr::memmem;

/// Signal: application code reads environment variables (detail: the call).
pub const ENV_READ: &str = "env-read";
/// Signal: something loads a `.env` file (detail: how).
pub const DOTENV_READ: &str = "dotenv-read";

/// Names of committed templates, which are meant to be tracked.
const TEMPLATE_MARKERS: &[&str] = &["example", "sample", "template", "dist", "defaults", "schema", "tmpl", "tpl"];

/// `.env`, `.env.production`, `.env.local.backup`, `prod.env`; not the
/// `.env.example`-style templates.
pub fn is_dotenv_file(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let dotenv = lower == ".env" || lower.starts_with(".env.") || (lower.ends_with(".env") && lower.len() > 4);
    let not_dotenv = ["patch", "diff", "md", "py", "js", "ts", "sh", "go", "rs", "json", "yml", "yaml", "toml"];
    dotenv
        && !lower
            .split('.')
            .filter(|p| *p != "env")
            .any(|part| TEMPLATE_MARKERS.contains(&part) || not_dotenv.contains(&part))
}

/// Files that are templates documenting the environment.
pub fn is_env_template(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    (lower.starts_with(".env") || lower.starts_with("env.") || lower.ends_with(".env"))
        && lower.split('.').any(|part| TEMPLATE_MARKERS.contains(&part))
}

/// Key file names that are private by convention.
pub fn is_key_file_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    matches!(lower.as_str(), "id_rsa" | "id_dsa" | "id_ecdsa" | "id_ed25519")
        || [".pem", ".key", ".p12", ".pfx", ".jks", ".keystore"].iter().any(|e| lower.ends_with(e))
}

/// Words in a dotenv key that make its value a secret.
const SECRET_KEY_PARTS: &[&str] =
    &["PASSWORD", "PASSWD", "PWD", "SECRET", "TOKEN", "API_KEY", "APIKEY", "PRIVATE_KEY", "CREDENTIAL", "ACCESS_KEY"];

/// For a committed dotenv or key file: the first line holding a real
/// secret and what it is (a key name, never the value).
pub fn committed_secret(entry: &FileEntry, text: &str) -> Option<(u32, String)> {
    let name = entry.file_name();
    if is_dotenv_file(name) {
        return dotenv_secret(text);
    }
    if is_key_file_name(name) {
        let at = memmem::find(text.as_bytes(), b"PRIVATE KEY-----")?;
        return Some((line_of(text, at), "a private key block".into()));
    }
    if name.to_ascii_lowercase().ends_with(".json")
        && memmem::find(text.as_bytes(), b"\"service_account\"").is_some()
        && let Some(at) = memmem::find(text.as_bytes(), b"\"private_key\"")
    {
        return Some((line_of(text, at), "a service-account private_key".into()));
    }
    None
}

fn dotenv_secret(text: &str) -> Option<(u32, String)> {
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        let line = line.strip_prefix("export ").unwrap_or(line).trim_start();
        if line.starts_with('#') {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else { continue };
        let key = key.trim();
        let value = unquote(value);
        if value.is_empty() || is_placeholder(value) {
            continue;
        }
        let upper = key.to_ascii_uppercase();
        // Keys shipped to browsers by design (`NEXT_PUBLIC_…`, Supabase's anon
        // key, Stripe's publishable key) are not secrets.
        let public = ["PUBLIC", "PUBLISHABLE", "ANON"].iter().any(|p| upper.contains(p));
        let secret_name =
            SECRET_KEY_PARTS.iter().any(|p| upper.contains(p)) || upper.ends_with("_PASS") || upper.ends_with("_KEY");
        // `JWT_SECRET_EXPIRE_MINUTES_COUNT=15` configures the secret; it is not one.
        let about =
            crate::checks::python_security::is_setting_about_secret(key) || value.chars().all(|c| c.is_ascii_digit());
        let secret_name = secret_name && !public && !about;
        if secret_name || url_has_password(value) {
            return Some((i as u32 + 1, key.to_string()));
        }
    }
    None
}

/// Strips quotes and a trailing ` # comment` from a dotenv value.
fn unquote(value: &str) -> &str {
    let v = value.trim();
    for q in ['"', '\''] {
        if let Some(rest) = v.strip_prefix(q) {
            return rest.split(q).next().unwrap_or("");
        }
    }
    v.split(" #").next().unwrap_or(v).trim()
}

fn url_has_password(value: &str) -> bool {
    let Some((_, rest)) = value.split_once("://") else { return false };
    let Some((userinfo, _)) = rest.split_once('@') else { return false };
    let Some((user, pass)) = userinfo.split_once(':') else { return false };
    !userinfo.contains('/') && !is_placeholder(pass) && !pass.eq_ignore_ascii_case(user)
}

/// 1-based line of byte offset `at`.
pub fn line_of(text: &str, at: usize) -> u32 {
    memchr::memchr_iter(b'\n', &text.as_bytes()[..at]).count() as u32 + 1
}

/// How application code reads its environment, per language: a Rust file
/// that mentions `os.getenv(` in a string is not reading anything.
fn env_reads(language: Option<Language>) -> &'static [&'static str] {
    match language {
        Some(Language::Python) => &["os.environ", "os.getenv(", "BaseSettings", "environ.Env("],
        Some(Language::Go) => &["os.Getenv(", "os.LookupEnv("],
        Some(Language::JavaScript | Language::TypeScript) => &["process.env", "import.meta.env"],
        Some(Language::Rust) => &["env::var(", "env::var_os(", "env::vars("],
        Some(Language::Java | Language::Kotlin) => &["System.getenv("],
        None => &[],
    }
}

/// How a `.env` file gets loaded.
const DOTENV_READS: &[&str] = &[
    "load_dotenv(",
    "dotenv_values(",
    "require('dotenv')",
    "require(\"dotenv\")",
    "dotenv/config",
    "from 'dotenv'",
    "from \"dotenv\"",
    "godotenv.Load(",
    "dotenvy::",
    "dotenv::dotenv",
    "env_file=\".env\"",
    "env_file='.env'",
    "env_file = \".env\"",
    "env_file = '.env'",
    "\"env_file\": \".env\"",
    "read_env(",
];

/// Records [`ENV_READ`] and [`DOTENV_READ`] signals for `entry`: code reads
/// in application code, and compose `env_file:` entries.
pub fn signal_reads(entry: &FileEntry, text: &str, out: &mut FileOutput) {
    let bytes = text.as_bytes();
    if entry.is_app_code() {
        if let Some((at, what)) = first_of(bytes, env_reads(entry.language)) {
            out.signal(ENV_READ, line_of(text, at), what.trim_end_matches('('));
        }
        if let Some((at, what)) = first_of(bytes, DOTENV_READS) {
            out.signal(DOTENV_READ, line_of(text, at), what.trim_end_matches('('));
        }
        return;
    }
    let name = entry.file_name().to_ascii_lowercase();
    let compose = (name.contains("compose") && (name.ends_with(".yml") || name.ends_with(".yaml")))
        && !rules::is_documentation(entry);
    if compose && let Some(at) = memmem::find(bytes, b"env_file:") {
        // Bytes, not str: a 200-byte window may end inside a UTF-8 character.
        let rest = &bytes[at..bytes.len().min(at + 200)];
        if memmem::find(rest, b".env").is_some() {
            out.signal(DOTENV_READ, line_of(text, at), "compose env_file");
        }
    }
}

/// The earliest use of any needle, skipping definitions (`def load_dotenv(`)
/// and `os.environ.setdefault(...)`, which writes a default (every Django
/// `manage.py` and `wsgi.py` sets `DJANGO_SETTINGS_MODULE` so) rather than
/// reading configuration from the deployment.
fn first_of(bytes: &[u8], needles: &[&'static str]) -> Option<(usize, &'static str)> {
    let skipped = |at: usize, n: &str| {
        let before = &bytes[at.saturating_sub(9)..at];
        [&b"def "[..], b"fn ", b"function "].iter().any(|d| before.ends_with(d))
            || bytes[at + n.len()..].starts_with(b".setdefault(")
    };
    needles
        .iter()
        .filter_map(|n| memmem::find_iter(bytes, n.as_bytes()).find(|&at| !skipped(at, n)).map(|at| (at, *n)))
        .min_by_key(|(at, _)| *at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compose_env_file_near_multibyte_text_does_not_panic() {
        let entry = FileEntry::new("compose.yml".into(), "compose.yml".into(), 1);
        let text = format!("env_file:{}\n  - .env\n", "\u{e9}".repeat(100));
        let mut out = FileOutput::default();
        signal_reads(&entry, &text, &mut out);
        assert!(out.signals.is_empty(), ".env is beyond the 200-byte window");
    }

    #[test]
    fn dotenv_names() {
        for n in [".env", ".env.production", ".env.local", ".env.prod.backup", "prod.env"] {
            assert!(is_dotenv_file(n), "{n}");
        }
        for n in [
            ".env.example",
            ".env.sample",
            ".env.template",
            ".envrc",
            "env.py",
            ".environment",
            ".env.patch",
            ".env.d.ts",
        ] {
            assert!(!is_dotenv_file(n), "{n}");
        }
    }

    #[test]
    fn dotenv_values_need_a_secret_key_and_a_real_value() {
        assert_eq!(dotenv_secret("ENVIRONMENT=production\nDEBUG=false\n"), None);
        assert_eq!(dotenv_secret("SECRET_KEY=\nAPI_TOKEN=${TOKEN}\nDB_PASSWORD=changeme\n"), None);
        assert_eq!(dotenv_secret("A=1\nexport STRIPE_API_KEY=\"abc123def\"\n"), Some((2, "STRIPE_API_KEY".into())));
        assert_eq!(
            dotenv_secret(concat!("DATABASE_URL=postgres://app:", "Kq83nd2@db.internal/app\n")),
            Some((1, "DATABASE_URL".into()))
        );
    }
}
