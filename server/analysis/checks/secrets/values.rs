//! Judging a candidate value: is it a placeholder someone left for the
//! reader to fill in, or does it look like a credential that works?
//!
//! Shared by the hard-coded secret rules and the dotenv rules so that both
//! agree on what `changeme` or `${DB_PASSWORD}` means.

/// Exact values (lower case) that only ever stand in for a credential.
const PLACEHOLDER_WORDS: &[&str] = &[
    "password",
    "pass",
    "passwd",
    "pwd",
    "secret",
    "changeme",
    "admin",
    "root",
    "postgres",
    "mysql",
    "redis",
    "rabbitmq",
    "mongo",
    "guest",
    "user",
    "username",
    "test",
    "default",
    "none",
    "null",
    "nil",
    "true",
    "false",
    "undefined",
    "empty",
    "string",
    "str",
    "dev",
    "development",
    "local",
    "localhost",
    "token",
    "key",
    "value",
    "foo",
    "bar",
    "foobar",
    "abc123",
    "123456",
    "12345678",
    "qwerty",
    "letmein",
    "hunter2",
    "s3cr3t",
    "sa",
];

/// Fragments (lower case) that mark a value as an example or a template.
const PLACEHOLDER_PARTS: &[&str] = &[
    "changeme",
    "change_me",
    "change-me",
    "changethis",
    "change_this",
    "change-this",
    "your_",
    "your-",
    "yourkey",
    "yoursecret",
    "yourpass",
    "yourtoken",
    "example",
    "sample",
    "dummy",
    "placeholder",
    "replace",
    "xxx",
    "***",
    "...",
    "\u{2026}",
    "redacted",
    "fixme",
    "todo",
    "insert",
    "fake",
    "mock",
    "notreal",
    "not-real",
    "not_real",
    "notasecret",
    "opensesame",
    "supersecret",
    "mysecret",
    "topsecret",
    "secretkey",
    "secret-key",
    "secret_key",
    "mypassword",
    "yourpassword",
    "not-a-secret",
    "not_a_secret",
    "test",
    "${",
    "{{",
    "}}",
    "%(",
    "$(",
    "<",
    ">",
];

/// True when `value` is obviously not a real credential: empty, a variable
/// reference (`${X}`, `$X`, `{{ x }}`, `<pass>`), or a stock example value.
pub fn is_placeholder(value: &str) -> bool {
    let v = value.trim();
    if v.is_empty() || v.starts_with('$') || v.starts_with('%') || v.starts_with('!') {
        return true;
    }
    let lower = v.to_ascii_lowercase();
    if PLACEHOLDER_WORDS.contains(&lower.as_str()) || PLACEHOLDER_PARTS.iter().any(|p| lower.contains(p)) {
        return true;
    }
    if lower.ends_with("here") || (lower.starts_with('{') && lower.ends_with('}')) {
        return true;
    }
    // `xxxxxxxx`, `00000000`, `********`.
    let first = v.as_bytes()[0];
    v.bytes().all(|b| b == first)
}

/// True when `s` holds a run of six or more consecutive characters
/// (`ABCDEF`, `123456`): typed by a person writing an example, not generated.
pub fn has_sequence(s: &str) -> bool {
    let b = s.as_bytes();
    let mut run = 1;
    for w in b.windows(2) {
        run = if w[1] == w[0].wrapping_add(1) && w[0].is_ascii_alphanumeric() { run + 1 } else { 1 };
        if run >= 6 {
            return true;
        }
    }
    false
}

/// Shannon entropy of the bytes of `s`, in bits per byte.
pub fn entropy(s: &str) -> f64 {
    if s.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for b in s.bytes() {
        counts[b as usize] += 1;
    }
    let n = s.len() as f64;
    counts.iter().filter(|&&c| c > 0).map(|&c| f64::from(c) / n).map(|p| -p * p.log2()).sum()
}

/// How many of lower case, upper case, digits and other characters occur.
pub fn char_classes(s: &str) -> usize {
    let has = |f: fn(&u8) -> bool| usize::from(s.as_bytes().iter().any(f));
    has(u8::is_ascii_lowercase)
        + has(u8::is_ascii_uppercase)
        + has(u8::is_ascii_digit)
        + has(|b| !b.is_ascii_alphanumeric())
}

/// True when a literal assigned to a secret-named key looks like a working
/// credential rather than a label, a reference or an example. The
/// thresholds keep `Passwort` (a translation) and `my-app-name` out while
/// `hK3v9qLm2x` and 40-character random strings count.
pub fn looks_real(value: &str) -> bool {
    looks_real_in(value, false)
}

/// [`looks_real`] for a value known to be a literal (a dotenv value), where
/// brackets are characters of the secret, not an expression.
pub fn looks_real_in(value: &str, literal: bool) -> bool {
    let v = value.trim();
    let len = v.chars().count();
    // Brackets and escapes mean an expression or a byte-string test vector.
    let code_like = !literal && v.contains(['(', ')', '[', ']', '\\']);
    if !(8..=200).contains(&len) || code_like || v.chars().any(char::is_whitespace) || is_placeholder(v) {
        return false;
    }
    let lower = v.to_ascii_lowercase();
    // A value that names what it is (`my-jwt-secret`, `db_password_prod`) is a
    // label or a stock default, and literal defaults in code have their own check.
    if ["secret", "password", "passwd", "token", "django-insecure"].iter().any(|w| lower.contains(w)) {
        return false;
    }
    // References to something else: paths, URLs, env var names, dotted settings.
    if v.starts_with('/') || v.starts_with("./") || v.starts_with("../") || v.starts_with('~') || v.contains("://") {
        return false;
    }
    if v.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_') {
        return false;
    }
    if v.bytes().all(|b| b.is_ascii_lowercase() || b == b'.' || b == b'_') && v.contains('.') {
        return false;
    }
    if looks_like_identifier(v) {
        return false;
    }
    let e = entropy(v);
    e >= 3.0 && (char_classes(v) >= 2 || (len >= 20 && e >= 3.5))
}

/// `_RSAPrivateKey`, `PrivateKeyType`, `signing_key_name`: letters and
/// underscores only, with word boundaries (camel humps or underscores). Such
/// values name a type or a setting; generated secrets carry digits or symbols.
fn looks_like_identifier(v: &str) -> bool {
    let b = v.as_bytes();
    if !b.iter().all(|c| c.is_ascii_alphabetic() || *c == b'_') {
        return false;
    }
    let humps = b.windows(2).filter(|w| w[0].is_ascii_lowercase() && w[1].is_ascii_uppercase()).count();
    let underscores = b.iter().filter(|c| **c == b'_').count();
    humps + underscores >= 1 && humps <= 4
}

/// True when `token` looks machine-generated: mixed case and digits. Used
/// for formats whose prefix alone (`sk-`) also starts ordinary words.
pub fn looks_random(token: &str) -> bool {
    let b = token.as_bytes();
    b.iter().any(u8::is_ascii_lowercase) && b.iter().any(u8::is_ascii_uppercase) && b.iter().any(u8::is_ascii_digit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_not_secrets_but_random_strings_are() {
        assert!(!looks_real("_RSAPrivateKey"));
        assert!(!looks_real("signing_key_name"));
        assert!(looks_real("q8Zr2LmX0vTn4Ws7"));
    }

    #[test]
    fn placeholders_are_recognised() {
        for v in ["", "changeme", "${DB_PASSWORD}", "<password>", "your-api-key-here", "xxxxxxxx", "{{ token }}"] {
            assert!(is_placeholder(v), "{v:?} should be a placeholder");
        }
        for v in ["hK3v9qLm2xP", "Zx81!kqPw"] {
            assert!(!is_placeholder(v), "{v:?} is not a placeholder");
        }
    }

    #[test]
    fn real_values_need_length_and_entropy() {
        assert!(looks_real("hK3v9qLm2xP7"));
        assert!(looks_real("a8f5f167f44f4964e6c998dee827110c"));
        assert!(!looks_real("short"));
        assert!(!looks_real("Passwort"));
        assert!(!looks_real("GITHUB_TOKEN"));
        assert!(!looks_real("Please enter a password"));
        assert!(!looks_real("settings.api.key"));
        assert!(!looks_real("super-secret-key"));
        assert!(has_sequence("AKIAABCDEFGHIJKLMNOP"));
        assert!(!has_sequence("u8jzPde0IgxLd6GncfBAepfJBd0Kh8oOOL8d"));
    }
}
