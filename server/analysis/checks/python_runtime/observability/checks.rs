//! The `observability` checks' specs and repository-level decisions. The
//! dependency-based ones (logging, monitoring, metrics, request ids) apply
//! to web services of any ecosystem.

use super::super::{NO_WEB, deps};
use crate::checks::web::{NO_CODE_WEB, code_web};
use crate::checks::{Check, CheckSpec, RawFinding, Verdict, from_hits};
use crate::model::{Category, Evidence, Location, Severity};
use crate::repo::Repo;

fn spec(
    id: &'static str,
    title: &'static str,
    severity: Severity,
    pass_summary: &'static str,
    rationale: &'static str,
    fix: &'static str,
) -> CheckSpec {
    CheckSpec { id, title, category: Category::Observability, severity, pass_summary, rationale, fix }
}

/// The observability checks, in catalogue order.
pub fn checks() -> Vec<Check> {
    vec![
        Check {
            spec: spec(
                "health-endpoint-missing",
                "No health endpoint",
                Severity::High,
                "the service has a health route",
                "Load balancers, orchestrators and uptime monitors decide whether an instance gets traffic or is restarted by calling a health route; without one a hung or half-started instance keeps receiving requests.",
                "Add a cheap `GET /health` (liveness) route, and a `/ready` route that checks the database, and point the platform's health check at them. Node: `app.get('/health', …)`, a NestJS `@Controller('health')` (@nestjs/terminus), `fastify.get('/health', …)`.",
            ),
            run: health_endpoint_missing,
        },
        Check {
            spec: spec(
                "health-shallow",
                "Health route checks no dependency",
                Severity::Low,
                "a health route checks a dependency",
                "A health route that only returns `{\"status\": \"ok\"}` stays green while the database is down, so traffic keeps flowing to an instance that fails every real request.",
                "Add a readiness route that runs a cheap query (`SELECT 1`) or pings the cache with a short timeout and returns 503 when it fails; keep liveness shallow. Node: run `SELECT 1` through Prisma's `$queryRaw` or a terminus `pingCheck` in the readiness route.",
            ),
            run: health_shallow,
        },
        Check {
            spec: spec(
                "structured-logging-missing",
                "No structured logging",
                Severity::Medium,
                "logs are structured",
                "Plain-text log lines cannot be filtered by field in a log platform: finding every error of one request or one user becomes a grep through free text.",
                "Emit JSON logs: structlog or python-json-logger (or loguru `serialize=True`), pino/winston in Node, zap/zerolog/slog's JSON handler in Go, tracing-subscriber's json layer in Rust.",
            ),
            run: structured_logging,
        },
        Check {
            spec: spec(
                "print-logging",
                "print() or console.log used for logging",
                Severity::Low,
                "server code does not log with print() or console.log",
                "`print` has no level, timestamp or logger name, ignores the logging configuration, and is buffered, so lines arrive late or are lost when the process dies.",
                "Use `logger = logging.getLogger(__name__)` and `logger.info(...)`/`logger.exception(...)`; keep print for CLI scripts. Node: pino or winston instead of `console.log`.",
            ),
            run: print_logging,
        },
        Check {
            spec: spec(
                "error-monitoring-missing",
                "No error monitoring",
                Severity::Medium,
                "an error tracker or APM is set up",
                "Without an error tracker, exceptions in production are only noticed when a user complains, and arrive without stack trace, request or release.",
                "Install an error tracker or APM SDK (Sentry, Rollbar, Bugsnag, Honeybadger, Datadog, New Relic, Elastic APM, OpenTelemetry) and initialise it at startup from an environment DSN.",
            ),
            run: error_monitoring,
        },
        Check {
            spec: spec(
                "metrics-missing",
                "No metrics",
                Severity::Low,
                "the service exports metrics",
                "Without request rates, latencies and error counts there is nothing to alert on or to compare before and after a deploy.",
                "Expose Prometheus metrics (prometheus-fastapi-instrumentator, django-prometheus, prometheus-flask-exporter, prom-client, client_golang, metrics-exporter-prometheus) or send OpenTelemetry metrics.",
            ),
            run: metrics,
        },
        Check {
            spec: spec(
                "request-id-missing",
                "No request id",
                Severity::Low,
                "requests carry a correlation id",
                "Without a request id in every log line, the lines of one failing request cannot be told apart from the others, and cannot be matched with the proxy's or the caller's logs.",
                "Add a request-id middleware (asgi-correlation-id, django-guid, express-request-id, tower-http request-id, tracing-actix-web) that reads or creates `X-Request-ID` and adds it to logs and responses.",
            ),
            run: request_id,
        },
        Check {
            spec: spec(
                "log-level-hardcoded",
                "DEBUG log level hard-coded",
                Severity::Low,
                "the log level is not fixed at DEBUG",
                "DEBUG logging in production floods the log platform, costs money, slows requests and tends to print payloads and secrets.",
                "Read the level from configuration: `logging.basicConfig(level=os.getenv(\"LOG_LEVEL\", \"INFO\"))`. Node: `pino({ level: process.env.LOG_LEVEL ?? 'info' })`.",
            ),
            run: |repo| {
                let code = from_hits(repo, "log-level-hardcoded", code_web(repo), NO_CODE_WEB, vec![]);
                crate::checks::spring::with_config(repo, "log-level-hardcoded", code)
            },
        },
    ]
}

const HEALTH_LIBS: &[&str] = &[
    "django-health-check",
    "fastapi-health",
    "py-healthcheck",
    "healthcheck",
    "flask-healthz",
    "django-healthchecks",
    "@nestjs/terminus",
    "@godaddy/terminus",
    "express-healthcheck",
    "express-actuator",
    "fastify-healthcheck",
];

fn health_evidence(repo: &Repo<'_>) -> Option<Evidence> {
    repo.signals("health-route")
        .next()
        .map(|(e, s)| {
            Evidence::new(
                format!("health route {} at {}:{}", s.detail, e.path, s.line),
                Some(Location::at(&e.path, s.line)),
            )
        })
        .or_else(|| deps::first(repo, HEALTH_LIBS))
}

fn health_endpoint_missing(repo: &Repo<'_>) -> Result<Verdict, String> {
    if !code_web(repo) {
        if let Some(ev) = deps::first(repo, &["spring-boot-starter-actuator"]) {
            return Ok(Verdict::Pass(vec![ev]));
        }
        if crate::checks::web::spring_web(repo) {
            // Structure level: a mapping annotation on a health path.
            let mappings = [
                "Mapping(\"/health",
                "Mapping(\"/healthz",
                "Mapping(\"/ready",
                "Mapping(\"/ping",
                "Mapping(value = \"/health",
            ];
            let needles: Vec<(&str, &str)> = mappings.iter().map(|m| (*m, "health mapping")).collect();
            use crate::walk::Language::{Java, Kotlin};
            return Ok(match deps::code_mentions(repo, &[Java, Kotlin], &needles, false) {
                Some(ev) => Verdict::Pass(vec![ev]),
                None => Verdict::Fail(vec![RawFinding::repo(
                    "no health endpoint: neither spring-boot-starter-actuator nor a /health mapping",
                )]),
            });
        }
        return Ok(Verdict::NotApplicable(
            "health routes are only detected in Python, Node, Go, Rust and Spring Boot web apps so far".into(),
        ));
    }
    match health_evidence(repo) {
        Some(ev) => Ok(Verdict::Pass(vec![ev])),
        None => Ok(Verdict::Fail(vec![RawFinding::repo(
            "no health route (/health, /healthz, /ready, /ping, /status) is declared",
        )])),
    }
}

const DATA_DEPS: &[&str] = &[
    "psycopg2",
    "psycopg2-binary",
    "psycopg",
    "asyncpg",
    "pymysql",
    "mysqlclient",
    "aiomysql",
    "redis",
    "aioredis",
    "pymongo",
    "motor",
    "databases",
    "aiosqlite",
    "elasticsearch",
    "django-redis",
    "pg",
    "mysql2",
    "ioredis",
    "mongodb",
    "github.com/jackc/pgx",
    "github.com/lib/pq",
    "github.com/go-sql-driver/mysql",
    "github.com/redis/go-redis",
    "github.com/go-redis/redis",
    "go.mongodb.org/mongo-driver",
    "tokio-postgres",
    "deadpool-postgres",
    "mysql_async",
    "postgresql",
    "mysql-connector-j",
    "spring-boot-starter-data-redis",
];

fn health_shallow(repo: &Repo<'_>) -> Result<Verdict, String> {
    if !code_web(repo) {
        return Ok(Verdict::NotApplicable(NO_CODE_WEB.into()));
    }
    let library =
        deps::first(repo, &["django-health-check", "fastapi-health", "django-healthchecks", "@nestjs/terminus"]);
    if !repo.has_signal("health-route") && library.is_none() {
        return Ok(Verdict::NotApplicable("no health route to inspect".into()));
    }
    if let Some(ev) =
        deps::signal(repo, "health-route-checks-dependency", "health handler checks a dependency").or(library)
    {
        return Ok(Verdict::Pass(vec![ev]));
    }
    if repo.stack.orms.is_empty() && deps::first(repo, DATA_DEPS).is_none() {
        return Ok(Verdict::NotApplicable("the service uses no database or cache for a health route to check".into()));
    }
    Ok(Verdict::Fail(
        repo.signals("health-route")
            .map(|(e, s)| {
                RawFinding::at(
                    Location::at(&e.path, s.line),
                    format!("health route {} answers without checking the database or cache", s.detail),
                    format!("health route {}", s.detail),
                )
            })
            .collect(),
    ))
}

fn absent(repo: &Repo<'_>, evidence: Option<Evidence>, missing: &str) -> Result<Verdict, String> {
    if !repo.is_web_service() {
        return Ok(Verdict::NotApplicable(NO_WEB.into()));
    }
    Ok(match evidence {
        Some(ev) => Verdict::Pass(vec![ev]),
        None => Verdict::Fail(vec![RawFinding::repo(missing)]),
    })
}

const JSON_LOG_DEPS: &[&str] = &[
    "structlog",
    "python-json-logger",
    "json-log-formatter",
    "ecs-logging",
    "pino",
    "pino-http",
    "nestjs-pino",
    "winston",
    "bunyan",
    "go.uber.org/zap",
    "github.com/rs/zerolog",
    "tracing-bunyan-formatter",
    "slog-json",
    "json_env_logger",
    "logstash-logback-encoder",
    "log4j-layout-template-json",
    "logback-ecs-encoder",
];

fn structured_logging(repo: &Repo<'_>) -> Result<Verdict, String> {
    if !repo.is_web_service() {
        return Ok(Verdict::NotApplicable(NO_WEB.into()));
    }
    let ev = deps::signal(repo, "json-logging", "JSON logging")
        .or_else(|| deps::first(repo, JSON_LOG_DEPS))
        .or_else(|| deps::cargo_feature(repo, "tracing-subscriber", "json"))
        .or_else(|| {
            deps::go_code_mentions(
                repo,
                &[("slog.NewJSONHandler", "slog JSON handler"), ("logrus.JSONFormatter", "logrus JSON formatter")],
            )
        });
    absent(repo, ev, "no structured (JSON) logging is configured")
}

fn print_logging(repo: &Repo<'_>) -> Result<Verdict, String> {
    if !code_web(repo) {
        return Ok(Verdict::NotApplicable(NO_CODE_WEB.into()));
    }
    // Per file: the first call's line and the count, for print(), console.log(), fmt.Println() and println!().
    let files: Vec<_> = repo
        .signals("print-call")
        .map(|(e, s)| (e, s, "print()"))
        .chain(repo.signals("console-call").map(|(e, s)| (e, s, "console.log()")))
        .chain(repo.signals("go-print-call").map(|(e, s)| (e, s, "fmt.Println()")))
        .chain(repo.signals("rust-print-call").map(|(e, s)| (e, s, "println!()")))
        .collect();
    let total: usize = files.iter().map(|(_, s, _)| s.detail.parse::<usize>().unwrap_or(0)).sum();
    if total <= 5 {
        let kinds: std::collections::BTreeSet<&str> = files.iter().map(|(_, _, w)| *w).collect();
        let what =
            if kinds.is_empty() { "print()".to_string() } else { kinds.into_iter().collect::<Vec<_>>().join("/") };
        return Ok(Verdict::Pass(vec![Evidence::new(
            format!("{total} {what} calls in server code (threshold 5)"),
            None,
        )]));
    }
    Ok(Verdict::Fail(
        files
            .into_iter()
            .map(|(e, s, what)| {
                let mut f = RawFinding::at(
                    Location::at(&e.path, s.line),
                    format!("{} {what} calls in {} (first here); {total} in server code", s.detail, e.path),
                    format!("{} {what} calls", s.detail),
                );
                // The count changes with every edit; the file is the identity.
                f.identity = format!("{what} calls");
                f
            })
            .collect(),
    ))
}

const MONITORING_DEPS: &[&str] = &[
    "sentry*",
    "raven",
    "rollbar",
    "bugsnag",
    "honeybadger",
    "ddtrace",
    "newrelic",
    "elastic-apm",
    "logfire",
    "scout-apm",
    "opentelemetry-sdk",
    "opentelemetry-distro",
    "opentelemetry-instrumentation*",
    "opentelemetry-otlp",
    "opentelemetry",
    "@sentry/*",
    "dd-trace",
    "elastic-apm-node",
    "@opentelemetry/*",
    "@bugsnag/*",
    "@honeybadger-io/*",
    "@newrelic/*",
    "github.com/getsentry/sentry-go",
    "go.opentelemetry.io/otel",
    "gopkg.in/datadog/dd-trace-go.v1",
    "github.com/datadog/dd-trace-go",
    "github.com/newrelic/go-agent",
    "github.com/rollbar/rollbar-go",
    "github.com/bugsnag/bugsnag-go",
    "github.com/honeybadger-io/honeybadger-go",
    "go.elastic.co/apm",
    "opentelemetry-javaagent",
    "dd-java-agent",
];

fn error_monitoring(repo: &Repo<'_>) -> Result<Verdict, String> {
    let ev =
        deps::signal(repo, "error-monitoring", "error monitoring SDK").or_else(|| deps::first(repo, MONITORING_DEPS));
    absent(repo, ev, "no error tracker or APM SDK is set up")
}

const METRICS_DEPS: &[&str] = &[
    "prometheus-client",
    "prometheus-fastapi-instrumentator",
    "starlette-exporter",
    "starlette-prometheus",
    "django-prometheus",
    "prometheus-flask-exporter",
    "aioprometheus",
    "statsd",
    "datadog",
    "opentelemetry-exporter-prometheus",
    "prom-client",
    "express-prom-bundle",
    "@opentelemetry/exporter-prometheus",
    "@opentelemetry/sdk-metrics",
    "hot-shots",
    "github.com/prometheus/client_golang",
    "go.opentelemetry.io/otel/exporters/prometheus",
    "go.opentelemetry.io/otel/sdk/metric",
    "prometheus",
    "metrics-exporter-prometheus",
    "opentelemetry-prometheus",
    "actix-web-prom",
    "axum-prometheus",
    "autometrics",
    "micrometer-registry-*",
];

fn metrics(repo: &Repo<'_>) -> Result<Verdict, String> {
    let ev = deps::signal(repo, "metrics", "metrics library")
        .or_else(|| deps::first(repo, METRICS_DEPS))
        .or_else(|| crate::checks::spring::actuator_metrics(repo));
    absent(repo, ev, "no metrics exporter or endpoint is set up")
}

const REQUEST_ID_DEPS: &[&str] = &[
    "asgi-correlation-id",
    "django-guid",
    "django-log-request-id",
    "django-request-id",
    "flask-request-id",
    "flask-request-id-header",
    "starlette-context",
    "express-request-id",
    "cls-rtracer",
    "pino-http",
    "github.com/gin-contrib/requestid",
    "tracing-actix-web",
    "actix-request-identifier",
    "spring-cloud-starter-sleuth",
];

fn request_id(repo: &Repo<'_>) -> Result<Verdict, String> {
    let ev = deps::signal(repo, "request-id", "request id handling")
        .or_else(|| deps::first(repo, REQUEST_ID_DEPS))
        .or_else(|| deps::cargo_feature(repo, "tower-http", "request-id"))
        .or_else(|| deps::go_code_mentions(repo, &[("middleware.RequestID", "request id middleware")]))
        .or_else(|| {
            // A hand-written middleware that propagates the header.
            use crate::walk::Language::*;
            let headers =
                [("x-request-id", "X-Request-Id handling"), ("x-correlation-id", "X-Correlation-Id handling")];
            deps::code_mentions(repo, &[Rust, Go, JavaScript, TypeScript, Java, Kotlin], &headers, true)
        });
    absent(repo, ev, "no request or correlation id middleware is set up")
}
