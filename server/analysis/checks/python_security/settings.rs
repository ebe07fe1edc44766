//! Settings modules and config classes: `DEBUG = True` and `debug: bool =
//! True` (`debug-enabled`), Django's security middleware and `SECURE_*`
//! settings (signals for `security-headers-missing`) and weak
//! `PASSWORD_HASHERS` (`weak-password-hash`).
//!
//! Files or classes meant for development (`settings/dev.py`,
//! `local_settings.py`, `class TestingConfig`) are skipped: debug there is
//! the point.

use super::secret_default::{class_fields, field_default, is_config_class, overridden_in_sibling};
use super::syntax::{Ctx, is_dev_name, last};
use crate::engine::{FileOutput, Hit};
use crate::python;
use tree_sitter::Node;

/// Django hashers that store fast, unsalted or salted digests.
const WEAK_DJANGO_HASHERS: &[&str] =
    &["MD5PasswordHasher", "UnsaltedMD5PasswordHasher", "SHA1PasswordHasher", "UnsaltedSHA1PasswordHasher"];

/// Records the settings-module and config-class rules for one file.
pub(super) fn analyze(cx: &Ctx<'_>, out: &mut FileOutput) {
    if cx.settings_module && !cx.dev_config {
        module_settings(cx, out);
    }
    for class in &cx.classes {
        config_class(cx, *class, out);
    }
}

fn module_settings(cx: &Ctx<'_>, out: &mut FileOutput) {
    for (name, value, assign) in cx.module_assignments() {
        match name {
            "DEBUG" if !cx.env_guarded(assign) => {
                if value.kind() == "true" {
                    let msg = "DEBUG = True in a settings module: tracebacks and settings leak to visitors";
                    out.hit(Hit::new("debug-enabled", python::line(assign), msg, cx.snippet(assign)));
                } else if truthy_env_default(cx, value) {
                    let msg = "DEBUG is on whenever the environment variable is missing";
                    out.hit(Hit::new("debug-enabled", python::line(assign), msg, cx.snippet(assign)));
                }
            }
            "MIDDLEWARE" | "MIDDLEWARE_CLASSES" => {
                for entry in cx.string_list(value).unwrap_or_default() {
                    if entry == "django.middleware.security.SecurityMiddleware" {
                        out.signal("django-security-middleware", python::line(assign), entry);
                    } else if entry.starts_with("csp.middleware")
                        // Sends `X-Frame-Options: DENY` on every response.
                        || entry == "django.middleware.clickjacking.XFrameOptionsMiddleware"
                    {
                        out.signal("security-headers", python::line(assign), entry);
                    }
                }
            }
            "PASSWORD_HASHERS" => {
                let first = cx.string_list(value).and_then(|l| l.into_iter().next());
                if let Some(h) = first.filter(|h| WEAK_DJANGO_HASHERS.contains(&last(h))) {
                    let msg = format!("new passwords are hashed with {}", last(&h));
                    out.hit(Hit::new("weak-password-hash", python::line(assign), msg, cx.snippet(assign)));
                }
            }
            n if n.starts_with("SECURE_") => out.signal("django-secure-setting", python::line(assign), n),
            n if n.starts_with("CSP_") || n == "X_FRAME_OPTIONS" => {
                out.signal("security-headers", python::line(assign), n)
            }
            _ => {}
        }
    }
}

/// Settings whose module-level assignment another settings file may override.
fn overridable(name: &str) -> bool {
    matches!(name, "DEBUG" | "SECRET_KEY" | "CORS_ALLOW_ALL_ORIGINS" | "CORS_ORIGIN_ALLOW_ALL")
        || super::cors::DJANGO_HOST_SETTINGS.contains(&name)
        || super::secret_default::is_secret_name(name)
}

/// After the rules ran: marks each overridable module-level setting as
/// flagged (some hit of this file lies on it; detail `NAME:last_line`) or
/// safe, so the checks can drop a base-settings finding that a production
/// settings file replaces.
pub(super) fn mark_assignments(cx: &Ctx<'_>, first_hit: usize, out: &mut FileOutput) {
    if !cx.settings_module || cx.dev_config {
        return;
    }
    for (name, _, assign) in cx.module_assignments() {
        if !overridable(name) {
            continue;
        }
        let (start, end) = (python::line(assign), assign.end_position().row as u32 + 1);
        if out.hits[first_hit..].iter().any(|h| (start..=end).contains(&h.line)) {
            out.signal("django-setting-flagged", start, format!("{name}:{end}"));
        } else {
            out.signal("django-setting-safe", start, name);
        }
    }
}

/// An env lookup of a DEBUG-like key whose default is on:
/// `env.bool("DEBUG", default=True)`, `os.getenv("DEBUG", "True") == "True"`.
fn truthy_env_default(cx: &Ctx<'_>, value: Node<'_>) -> bool {
    let mut found = false;
    python::walk(value, |n| {
        if n.kind() != "call" || found {
            return;
        }
        let name = python::call_name(n, cx.src).unwrap_or_default();
        let Some((key, default)) = cx.env_read(n, &name) else { return };
        if !key.to_ascii_uppercase().contains("DEBUG") {
            return;
        }
        found = default.is_some_and(|d| {
            d.kind() == "true"
                || python::string_value(d, cx.src)
                    .is_some_and(|s| matches!(s.to_ascii_lowercase().as_str(), "true" | "1" | "yes" | "on"))
        });
    });
    found
}

/// `debug: bool = True` in a pydantic settings class, `DEBUG = True` in a
/// Flask config class that is not the development one.
fn config_class<'a>(cx: &Ctx<'a>, class: Node<'a>, out: &mut FileOutput) {
    let name = class.child_by_field_name("name").map(|n| cx.text(n)).unwrap_or("");
    if !is_config_class(cx, class) || is_dev_name(name) {
        return;
    }
    for (field, value) in class_fields(cx, class) {
        if field.eq_ignore_ascii_case("debug")
            && field_default(cx, value).kind() == "true"
            && !overridden_in_sibling(cx, class, field, |v| v.kind() == "true")
        {
            let msg = format!("{name}.{field} defaults to True: debug is on unless the environment turns it off");
            let assign = value.parent().unwrap_or(value);
            out.hit(Hit::new("debug-enabled", python::line(value), msg, cx.snippet(assign)));
        }
    }
}
