//! Which web services the code-level checks can judge: those whose
//! framework's code an analyzer reads (Python and Node so far). A check
//! built on per-file hits is `not_applicable`, not a silent pass, for the
//! other stacks.

use crate::repo::Repo;

/// Python web frameworks the Python analyzer knows.
pub const PYTHON_WEB: &[&str] = &["fastapi", "starlette", "flask", "django", "drf"];
/// Node web frameworks the JavaScript/TypeScript analyzer knows.
pub const NODE_WEB: &[&str] = &["express", "nestjs", "fastify"];

/// Why a code-level check does not apply.
pub const NO_CODE_WEB: &str =
    "no web framework whose code is analysed (FastAPI, Starlette, Flask, Django, Express, NestJS, Fastify) detected";

/// A Python web framework is in use.
pub fn python_web(repo: &Repo<'_>) -> bool {
    repo.has_language("Python") && PYTHON_WEB.iter().any(|f| repo.has_framework(f))
}

/// A Node web framework is in use, with JavaScript or TypeScript code.
pub fn node_web(repo: &Repo<'_>) -> bool {
    (repo.has_language("JavaScript") || repo.has_language("TypeScript"))
        && NODE_WEB.iter().any(|f| repo.has_framework(f))
}

/// A web framework whose code the analyzers read.
pub fn code_web(repo: &Repo<'_>) -> bool {
    python_web(repo) || node_web(repo)
}
