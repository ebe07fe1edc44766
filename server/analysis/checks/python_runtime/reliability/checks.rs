//! The `reliability` checks' specs and repository-level decisions.

use super::super::{NO_PYTHON_WEB, NO_WEB, deps, python_web};
use crate::checks::web::{NO_CODE_WEB, code_web, go_web, node_web, rust_web, spring_web};
use crate::checks::{Check, CheckSpec, Verdict, from_hits, signal_findings};
use crate::model::{Category, Severity};
use crate::repo::Repo;

/// The reliability checks (all but `dev-server-in-production`), in catalogue order.
pub fn checks() -> Vec<Check> {
    vec![
        Check {
            spec: CheckSpec {
                id: "blocking-call-in-async",
                title: "Blocking call inside async code",
                category: Category::Reliability,
                severity: Severity::High,
                pass_summary: "no known blocking call inside async def",
                rationale: "An `async def` shares one event loop with every other request: a `requests.get`, `time.sleep`, sync LLM/boto3/SMTP client or sync DB cursor inside it freezes the whole worker until it returns, so one slow upstream stalls all users.",
                fix: "Use the async equivalent and await it (httpx.AsyncClient, asyncio.sleep, AsyncOpenAI, aioboto3, aiosmtplib, asyncpg), or move the call off the loop with `await asyncio.to_thread(...)` / `run_in_threadpool(...)`; or make the handler a plain `def`. Node: the `fs.promises`/async APIs instead of `readFileSync`, `execSync`, `pbkdf2Sync` in request handlers (startup code may block).",
            },
            run: |repo| from_hits(repo, "blocking-call-in-async", code_web(repo), NO_CODE_WEB, vec![]),
        },
        Check {
            spec: CheckSpec {
                id: "heavy-work-at-import",
                title: "Models loaded at import time",
                category: Category::Reliability,
                severity: Severity::Medium,
                pass_summary: "no model or heavy resource is loaded at module level",
                rationale: "Loading a model at import makes every worker boot slow and memory-hungry, can exceed the platform's startup timeout, and runs even in tests and CLI commands that never use it.",
                fix: "Load the model lazily on first use (a cached getter) or once in the app's startup/lifespan handler, and report readiness only after it has loaded.",
            },
            run: |repo| from_hits(repo, "heavy-work-at-import", python_web(repo), NO_PYTHON_WEB, vec![]),
        },
        Check {
            spec: CheckSpec {
                id: "outbound-http-no-timeout",
                title: "Outbound HTTP without a timeout",
                category: Category::Reliability,
                severity: Severity::Medium,
                pass_summary: "outbound HTTP calls have timeouts",
                rationale: "`requests` and `urlopen` wait forever by default: one upstream that stops answering holds a worker per request until the pool is exhausted and the service stops responding.",
                fix: "Pass `timeout=` (e.g. `timeout=(3.05, 10)`) to every requests/urlopen call, or use a shared session/client with a default timeout; never pass `timeout=None` to httpx. Node: `axios.create({ timeout: 10_000 })` or `axios.defaults.timeout`.",
            },
            run: outbound_http_no_timeout,
        },
        Check {
            spec: CheckSpec {
                id: "no-graceful-shutdown",
                title: "No graceful shutdown",
                category: Category::Reliability,
                severity: Severity::Low,
                pass_summary: "the server drains in-flight requests on SIGTERM",
                rationale: "Platforms send SIGTERM before every deploy and scale-down: a server that exits at once cuts in-flight requests and leaves half-done work.",
                fix: "Handle SIGTERM: stop accepting connections, let in-flight requests finish within a deadline (Go `http.Server.Shutdown`, Node `server.close`), then exit.",
            },
            run: no_graceful_shutdown,
        },
        Check {
            spec: CheckSpec {
                id: "swallowed-exceptions",
                title: "Exceptions swallowed silently",
                category: Category::Reliability,
                severity: Severity::Low,
                pass_summary: "no broad `except` that silently drops errors",
                rationale: "`except Exception: pass` turns every failure, including bugs and outages, into a silent wrong result that no log or alert ever shows.",
                fix: "Catch the specific exception you expect, and log (`logger.exception(...)`) or re-raise anything else. Node: no empty `catch {}` or `.catch(() => {})`; log or rethrow.",
            },
            run: |repo| from_hits(repo, "swallowed-exceptions", code_web(repo), NO_CODE_WEB, vec![]),
        },
        Check {
            spec: CheckSpec {
                id: "no-background-worker",
                title: "Slow work in request handlers without a task queue",
                category: Category::Reliability,
                severity: Severity::Low,
                pass_summary: "no slow work found in request handlers",
                rationale: "LLM calls, email sending and PDF rendering take seconds and fail transiently: done inside the request they hold a worker, hit client and proxy timeouts, and are lost when they fail. FastAPI `BackgroundTasks` runs in the same process after the response, so it does not count as a queue: the work is lost on restart and never retried.",
                fix: "Enqueue the work on a task queue (Celery, RQ, Dramatiq, arq, Huey, Taskiq) and return 202 with a job id, or at least retry it from a durable queue; keep only fast work in the handler. Node: BullMQ, pg-boss or Temporal for mail, LLM and PDF work.",
            },
            run: no_background_worker,
        },
    ]
}

const QUEUE_DEPS: &[&str] = &[
    "celery",
    "rq",
    "dramatiq",
    "arq",
    "huey",
    "taskiq",
    "django-q",
    "django-q2",
    "django-rq",
    "flask-rq2",
    "procrastinate",
    "saq",
    "temporalio",
    "bullmq",
    "bull",
    "bee-queue",
    "agenda",
    "pg-boss",
    "graphile-worker",
    "@nestjs/bull",
    "@nestjs/bullmq",
    "@temporalio/worker",
    "github.com/hibiken/asynq",
    "github.com/riverqueue/river",
    "github.com/richardknop/machinery",
    "github.com/gocraft/work",
    "go.temporal.io/sdk",
    "apalis",
    "faktory",
];

fn no_background_worker(repo: &Repo<'_>) -> Result<Verdict, String> {
    if !repo.is_web_service() {
        return Ok(Verdict::NotApplicable(NO_WEB.into()));
    }
    if let Some(ev) = deps::signal(repo, "task-queue", "task queue").or_else(|| deps::first(repo, QUEUE_DEPS)) {
        return Ok(Verdict::Pass(vec![ev]));
    }
    let why =
        "no task queue found, and slow work in handlers is only detected in Python, Node, Go and Rust code so far";
    from_hits(repo, "no-background-worker", code_web(repo), why, vec![])
}

/// Per-file hits, plus Node axios calls without a timeout unless the
/// process sets a default (`axios.defaults.timeout`).
fn outbound_http_no_timeout(repo: &Repo<'_>) -> Result<Verdict, String> {
    let verdict = from_hits(repo, "outbound-http-no-timeout", code_web(repo), NO_CODE_WEB, vec![])?;
    if !matches!(verdict, Verdict::Pass(_) | Verdict::Fail(_)) || repo.has_signal("http-default-timeout") {
        return Ok(verdict);
    }
    let mut findings = match verdict {
        Verdict::Fail(f) => f,
        _ => Vec::new(),
    };
    findings.extend(signal_findings(
        repo,
        "axios-no-timeout",
        "axios has no timeout by default: this request waits forever on a server that stops answering",
    ));
    Ok(if findings.is_empty() { Verdict::Pass(vec![]) } else { Verdict::Fail(findings) })
}

const SHUTDOWN_DEPS: &[&str] = &[
    "@godaddy/terminus",
    "http-terminator",
    "stoppable",
    "close-with-grace",
    "lightship",
    "fastify-graceful-shutdown",
    "github.com/fvbock/endless",
    "github.com/tylerb/graceful",
];

/// Python servers drain on SIGTERM themselves; a Node or Go server that
/// calls `listen` needs its own handler (or a helper package), and so does
/// an axum server or an actix server whose signal handling is turned off.
fn no_graceful_shutdown(repo: &Repo<'_>) -> Result<Verdict, String> {
    let coded = node_web(repo) || go_web(repo) || rust_web(repo);
    if spring_web(repo) && !coded {
        return Ok(Verdict::NotApplicable(
            "Spring Boot is judged at the structure level: its embedded server's shutdown mode is configuration (server.shutdown)".into(),
        ));
    }
    if python_web(repo) && !coded {
        return Ok(Verdict::NotApplicable(
            "Python apps run under uvicorn/gunicorn/daphne, which drain in-flight requests on SIGTERM".into(),
        ));
    }
    if !coded {
        let why = if repo.is_web_service() {
            format!("not yet analysed for {}", repo.stack.frameworks.join(", "))
        } else {
            NO_WEB.to_string()
        };
        return Ok(Verdict::NotApplicable(why));
    }
    if !repo.has_signal("server-listen") {
        return Ok(Verdict::NotApplicable("the service starts no server of its own (no listen call found)".into()));
    }
    if let Some(ev) =
        deps::signal(repo, "sigterm-handler", "SIGTERM handling").or_else(|| deps::first(repo, SHUTDOWN_DEPS))
    {
        return Ok(Verdict::Pass(vec![ev]));
    }
    Ok(Verdict::Fail(signal_findings(
        repo,
        "server-listen",
        "the server listens but nothing handles SIGTERM: deploys cut in-flight requests",
    )))
}
