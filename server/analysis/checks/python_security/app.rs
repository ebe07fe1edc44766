//! The application object: `debug-enabled` on `FastAPI(…)`/`Starlette(…)`,
//! `app.run(debug=True)` and Flask's `app.debug`/`app.config["DEBUG"]`;
//! `api-docs-exposed`; and the `security-headers` signal from header names
//! and header libraries used in code.
//!
//! `app.run(debug=True)` fires even under `if __name__ == "__main__":`:
//! `python app.py` is a common production start command (Procfile, Docker
//! CMD), and the guard does not tell development from production. It does
//! not fire under a condition on the environment or settings
//! (`if os.getenv("FLASK_ENV") == "development":`).

use super::syntax::{Ctx, is_true, last};
use crate::engine::{FileOutput, Hit};
use crate::python;
use tree_sitter::Node;

/// The four headers `security-headers-missing` looks for, lower case.
const HEADER_NAMES: &[&str] =
    &["strict-transport-security", "content-security-policy", "x-frame-options", "x-content-type-options"];

/// Imports of libraries that set those headers.
const HEADER_LIBS: &[&str] = &["secure", "flask_talisman", "talisman", "fastapi_security", "starlette_csp"];

/// Records the app-object rules for one file.
pub(super) fn analyze(cx: &Ctx<'_>, out: &mut FileOutput) {
    let flask = cx.imports("flask") || cx.imports("flask_socketio");
    for (call, name) in &cx.calls {
        let call = *call;
        match last(name) {
            "FastAPI" | "Starlette" if cx.imports("fastapi") || cx.imports("starlette") => {
                constructor(cx, call, name, out)
            }
            "run" if flask => {
                if let Some(d) = python::keyword_arg(call, "debug", cx.src).filter(|d| d.kind() == "true")
                    && !cx.env_guarded(call)
                {
                    let msg = "the app runs with debug=True: the Werkzeug debugger executes code sent to it";
                    out.hit(Hit::new("debug-enabled", python::line(d), msg, cx.snippet(call)));
                }
            }
            "update"
                if flask
                    && name.ends_with("config.update")
                    && is_true(python::keyword_arg(call, "DEBUG", cx.src))
                    && !cx.env_guarded(call) =>
            {
                let msg = "DEBUG is set to True in the app config";
                out.hit(Hit::new("debug-enabled", python::line(call), msg, cx.snippet(call)));
            }
            "with_ui" | "get_swaggerui_blueprint" => swagger(cx, call, out),
            "as_view" if name.contains("SpectacularSwaggerView") || name.contains("SpectacularRedocView") => {
                swagger(cx, call, out)
            }
            _ => {}
        }
    }
    if flask {
        for a in &cx.assigns {
            flask_debug_assignment(cx, *a, out);
        }
    }
    for (node, value) in &cx.short_strings {
        let lower = value.to_ascii_lowercase();
        if HEADER_NAMES.contains(&lower.as_str()) {
            out.signal("security-headers", python::line(*node), value.as_str());
        }
    }
    for lib in HEADER_LIBS {
        if cx.imports(lib) {
            out.signal("security-headers", 1, *lib);
        }
    }
}

/// `FastAPI(debug=True)`, and docs left on: FastAPI serves `/docs`, `/redoc`
/// and `/openapi.json` unless `openapi_url` (or both UI urls) is `None`.
/// A non-literal value (a setting, a conditional) counts as configured.
fn constructor(cx: &Ctx<'_>, call: Node<'_>, name: &str, out: &mut FileOutput) {
    if cx.env_guarded(call) {
        return;
    }
    if let Some(d) = python::keyword_arg(call, "debug", cx.src).filter(|d| d.kind() == "true") {
        let msg = format!("{} is created with debug=True: tracebacks are sent to clients", last(name));
        out.hit(Hit::new("debug-enabled", python::line(d), msg, cx.snippet(call)));
    }
    if last(name) != "FastAPI" || has_splat(call) {
        return;
    }
    // Enabled: absent (the default) or a non-empty string literal (FastAPI treats "" as off).
    let enabled = |kw: &str| {
        python::keyword_arg(call, kw, cx.src)
            .is_none_or(|v| v.kind() == "string" && python::string_value(v, cx.src).is_none_or(|s| !s.is_empty()))
    };
    if enabled("openapi_url") && (enabled("docs_url") || enabled("redoc_url")) {
        let msg = "the FastAPI app serves /docs and /openapi.json in every environment";
        out.hit(Hit::new("api-docs-exposed", python::line(call), msg, cx.snippet(call)));
    }
}

fn has_splat(call: Node<'_>) -> bool {
    let Some(args) = call.child_by_field_name("arguments") else { return false };
    let mut c = args.walk();
    args.named_children(&mut c).any(|a| a.kind() == "dictionary_splat")
}

/// Swagger UI mounted outside any environment condition (drf-yasg
/// `schema_view.with_ui`, drf-spectacular views, flask-swagger-ui).
fn swagger(cx: &Ctx<'_>, call: Node<'_>, out: &mut FileOutput) {
    if !cx.env_guarded(call) && cx.parents.enclosing_function(call).is_none() {
        let msg = "Swagger UI is mounted unconditionally";
        out.hit(Hit::new("api-docs-exposed", python::line(call), msg, cx.snippet(call)));
    }
}

/// `app.debug = True`, `app.config["DEBUG"] = True`.
fn flask_debug_assignment(cx: &Ctx<'_>, assign: Node<'_>, out: &mut FileOutput) {
    let (Some(left), Some(right)) = (assign.child_by_field_name("left"), assign.child_by_field_name("right")) else {
        return;
    };
    if right.kind() != "true" || cx.env_guarded(assign) {
        return;
    }
    let is_debug = match left.kind() {
        "attribute" => left.child_by_field_name("attribute").is_some_and(|a| cx.text(a) == "debug"),
        "subscript" => {
            left.child_by_field_name("value").is_some_and(|v| cx.text(v).ends_with("config"))
                && left
                    .child_by_field_name("subscript")
                    .and_then(|s| python::string_value(s, cx.src))
                    .is_some_and(|k| k == "DEBUG")
        }
        _ => false,
    };
    if is_debug {
        let msg = "debug is switched on in code, not by configuration";
        out.hit(Hit::new("debug-enabled", python::line(assign), msg, cx.snippet(assign)));
    }
}
