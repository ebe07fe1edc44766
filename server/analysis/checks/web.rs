//! Which web services the code-level checks can judge: those whose
//! framework's code an analyzer reads (Python, Node, Go and Rust). A check
//! built on per-file hits is `not_applicable`, not a silent pass, for the
//! other stacks (Spring Boot is judged at the structure level only).

use crate::repo::Repo;

/// Python web frameworks the Python analyzer knows.
pub const PYTHON_WEB: &[&str] = &["fastapi", "starlette", "flask", "django", "drf"];
/// Node web frameworks the JavaScript/TypeScript analyzer knows.
pub const NODE_WEB: &[&str] = &["express", "nestjs", "fastify"];
/// Go web frameworks the Go analyzer knows (`net-http` is the standard library's server).
pub const GO_WEB: &[&str] = &["net-http", "gin", "echo", "chi", "fiber"];
/// Rust web frameworks the Rust analyzer knows.
pub const RUST_WEB: &[&str] = &["actix-web", "axum"];

/// Why a code-level check does not apply.
pub const NO_CODE_WEB: &str = "no web framework whose code is analysed (FastAPI, Starlette, Flask, Django, Express, NestJS, Fastify, Go net/http, gin, echo, chi, fiber, actix-web, axum) detected";

/// A Python web framework is in use.
pub fn python_web(repo: &Repo<'_>) -> bool {
    repo.has_language("Python") && PYTHON_WEB.iter().any(|f| repo.has_framework(f))
}

/// A Node web framework is in use, with JavaScript or TypeScript code.
pub fn node_web(repo: &Repo<'_>) -> bool {
    (repo.has_language("JavaScript") || repo.has_language("TypeScript"))
        && NODE_WEB.iter().any(|f| repo.has_framework(f))
}

/// A Go web framework is in use, with Go code.
pub fn go_web(repo: &Repo<'_>) -> bool {
    repo.has_language("Go") && GO_WEB.iter().any(|f| repo.has_framework(f))
}

/// A Rust web framework is in use, with Rust code.
pub fn rust_web(repo: &Repo<'_>) -> bool {
    repo.has_language("Rust") && RUST_WEB.iter().any(|f| repo.has_framework(f))
}

/// A Spring Boot web app (judged from its build files and configuration).
pub fn spring_web(repo: &Repo<'_>) -> bool {
    repo.has_framework("spring-boot")
}

/// A web framework whose code the analyzers read.
pub fn code_web(repo: &Repo<'_>) -> bool {
    python_web(repo) || node_web(repo) || go_web(repo) || rust_web(repo)
}
