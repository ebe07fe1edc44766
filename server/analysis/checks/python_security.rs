//! Security checks for Python web apps (FastAPI/Starlette, Flask, Django),
//! plus the two Python-code checks of the secrets category
//! (`insecure-default-secret`, `localhost-in-config`).
//!
//! The Python analyzer parses each application file once and calls
//! [`analyze`]; the rule modules record hits (a finding at a line) and
//! signals (facts the repository-level checks combine, such as
//! `security-headers` or `cors-middleware` with the app variable). Every
//! check here is not applicable unless a Python web framework is detected.
//! This module depends only on the syntax helpers in `crate::python`.

mod app;
mod cors;
mod crypto;
mod injection;
mod limits;
mod repo_level;
mod secret_default;
mod settings;
mod syntax;

use super::python_rules::PyFile;
use super::{Check, CheckSpec, from_hits};
use crate::checks::web::{NO_CODE_WEB, code_web, python_web};
use crate::engine::FileOutput;
use crate::model::{Category, Severity};
use crate::repo::Repo;
use repo_level::NO_PY_WEB;

/// What the JavaScript rules share with the Python ones.
pub(crate) use cors::all_local;
pub(crate) use secret_default::{is_secret_name, is_setting_about_secret, literal_hit};

/// Runs every rule over one parsed application file.
pub fn analyze(file: &PyFile<'_>, out: &mut FileOutput) {
    let cx = syntax::Ctx::new(file);
    if cx.is_alembic_revision() {
        return; // a migration in a directory the walk does not know as one
    }
    let first_hit = out.hits.len();
    cors::analyze(&cx, out);
    settings::analyze(&cx, out);
    app::analyze(&cx, out);
    limits::analyze(&cx, out);
    crypto::analyze(&cx, out);
    injection::analyze(&cx, out);
    secret_default::analyze(&cx, out);
    settings::mark_assignments(&cx, first_hit, out);
}

/// A check that fails with its per-file hits when a Python web framework is present.
fn code_check(spec: CheckSpec, run: super::CheckFn) -> Check {
    Check { spec, run }
}

macro_rules! hits_of {
    ($id:literal) => {
        |repo: &Repo<'_>| from_hits(repo, $id, code_web(repo), NO_CODE_WEB, vec![])
    };
}

/// Like `hits_of!`, for checks that Django settings files can override.
macro_rules! settings_hits_of {
    ($id:literal) => {
        |repo: &Repo<'_>| repo_level::settings_aware(repo, $id, code_web(repo), NO_CODE_WEB)
    };
}

/// The checks of this module, in catalogue order.
pub fn checks() -> Vec<Check> {
    use Category::{Secrets, Security};
    use Severity::{Critical, High, Low, Medium};
    let spec = |id, title, category, severity, pass_summary, rationale, fix| CheckSpec {
        id,
        title,
        category,
        severity,
        pass_summary,
        rationale,
        fix,
    };
    vec![
        code_check(
            spec(
                "cors-wildcard",
                "CORS allows any origin",
                Security,
                High,
                "CORS is limited to named origins",
                "With `*` origins any website a user visits can call the API from their browser and read the answers. Together with credentials (cookies, auth headers) that is account takeover from a link; this finding is then critical.",
                "List the front-end origins explicitly, read them from configuration (`allow_origins=settings.cors_origins`, `CORS_ALLOWED_ORIGINS` from env), and only allow credentials for those origins. Node: `cors({ origin: process.env.CORS_ORIGINS.split(',') })`, `app.enableCors({ origin: … })`, `fastify.register(cors, { origin: … })`.",
            ),
            settings_hits_of!("cors-wildcard"),
        ),
        code_check(
            spec(
                "cors-duplicate",
                "Two CORS middlewares on one app",
                Security,
                Medium,
                "a single CORS middleware per app",
                "When two CORS layers wrap the same app, one answers preflight requests and the other the real ones, so the policy in force is whichever ran last, not the one you reviewed.",
                "Keep one CORS registration per app (one `add_middleware(CORSMiddleware, …)` or one `CORS(app)`) and delete the other. Node: one `app.use(cors(…))`, `enableCors` or `register(cors)` per app.",
            ),
            repo_level::cors_duplicate,
        ),
        code_check(
            spec(
                "debug-enabled",
                "Debug mode on by default",
                Security,
                High,
                "debug is off unless configuration turns it on",
                "Debug mode shows stack traces, settings and sometimes an interactive console (Werkzeug's debugger runs arbitrary code) to anyone who triggers an error. A default of on means a missing env var in production turns it on.",
                "Default debug to off and read it from the environment: `DEBUG = os.getenv(\"DEBUG\") == \"1\"`, `debug: bool = False`, `FastAPI(debug=settings.debug)`; never pass `debug=True` to `app.run` in code that production runs. Node: never `app.set('env', 'development')` in code; let `NODE_ENV` decide.",
            ),
            |repo: &Repo<'_>| {
                let code = repo_level::settings_aware(repo, "debug-enabled", code_web(repo), NO_CODE_WEB);
                crate::checks::spring::with_config(repo, "debug-enabled", code)
            },
        ),
        code_check(
            spec(
                "api-docs-exposed",
                "Interactive API docs public in production",
                Security,
                Low,
                "API docs are disabled or depend on the environment",
                "FastAPI serves /docs, /redoc and /openapi.json by default. In production they hand an attacker a map of every endpoint and a console to call them.",
                "Disable them outside development: `FastAPI(docs_url=None if settings.is_prod else \"/docs\", openapi_url=…)`, or mount Swagger UI only behind an environment check or authentication. Node: call `SwaggerModule.setup` / mount swagger-ui-express only when `NODE_ENV !== 'production'`.",
            ),
            |repo: &Repo<'_>| {
                let code = from_hits(repo, "api-docs-exposed", code_web(repo), NO_CODE_WEB, vec![]);
                crate::checks::spring::with_config(repo, "api-docs-exposed", code)
            },
        ),
        code_check(
            spec(
                "security-headers-missing",
                "No security headers",
                Security,
                Medium,
                "security headers are set",
                "Without HSTS, a content security policy, X-Frame-Options and X-Content-Type-Options the browser's defences against downgrade, injected scripts, clickjacking and MIME sniffing stay off.",
                "Add them in one place: the `secure` package or a small middleware for FastAPI/Starlette, flask-talisman for Flask, `SecurityMiddleware` with `SECURE_HSTS_SECONDS` etc. for Django, or `add_header` in the reverse proxy config kept in the repo. Node: `app.use(helmet())`, `fastify.register(helmet)`.",
            ),
            repo_level::security_headers,
        ),
        code_check(
            spec(
                "rate-limit-missing",
                "No rate limiting",
                Security,
                Medium,
                "requests are rate limited",
                "Without a limit one client can brute-force logins, scrape everything or run up the bill of paid APIs the app calls.",
                "Add a limiter (slowapi or fastapi-limiter, flask-limiter, django-ratelimit or DRF throttling) on login and expensive routes, or `limit_req` in the reverse proxy. Node: express-rate-limit, rate-limiter-flexible, @nestjs/throttler or @fastify/rate-limit.",
            ),
            repo_level::rate_limit_missing,
        ),
        code_check(
            spec(
                "rate-limit-in-memory",
                "Rate limits kept in process memory",
                Security,
                Medium,
                "rate-limit counters live in a shared store",
                "Counters in a Python dict or the limiter's default memory storage reset on every deploy and are kept per worker: with four workers a limit of 10/minute is really 40.",
                "Give the limiter a shared store: `Limiter(key_func=…, storage_uri=\"redis://…\")` (slowapi, flask-limiter) or `RATELIMIT_STORAGE_URI`, and drop hand-written dicts of timestamps. Node: give express-rate-limit a `store` (rate-limit-redis), @nestjs/throttler a `storage`, @fastify/rate-limit a `redis`, and use `RateLimiterRedis` instead of `RateLimiterMemory`.",
            ),
            repo_level::rate_limit_in_memory,
        ),
        code_check(
            spec(
                "allowed-hosts-wildcard",
                "Any Host header accepted",
                Security,
                High,
                "allowed hosts are listed explicitly",
                "Accepting any Host header enables host-header injection: password-reset links and absolute URLs can be made to point at an attacker's domain, and caches can be poisoned.",
                "List the real hostnames, read from the environment: `ALLOWED_HOSTS = os.environ[\"ALLOWED_HOSTS\"].split(\",\")`, `TrustedHostMiddleware(allowed_hosts=settings.allowed_hosts)`.",
            ),
            |repo: &Repo<'_>| repo_level::settings_aware(repo, "allowed-hosts-wildcard", python_web(repo), NO_PY_WEB),
        ),
        code_check(
            spec(
                "weak-password-hash",
                "Passwords hashed with a fast digest",
                Security,
                High,
                "no password hashed with a fast digest",
                "md5, sha1 and sha256 are built to be fast: a leaked table of such hashes is cracked at billions of guesses per second, salted or not.",
                "Hash passwords with bcrypt, argon2 or scrypt (passlib `CryptContext(schemes=[\"argon2\", \"bcrypt\"])`, `argon2-cffi`, Django's default PBKDF2/Argon2 hashers), and rehash on next login. Node: bcrypt/bcryptjs, argon2 or `crypto.scrypt` instead of `createHash`.",
            ),
            hits_of!("weak-password-hash"),
        ),
        code_check(
            spec(
                "jwt-verification-disabled",
                "JWT accepted without verification",
                Security,
                Critical,
                "JWTs are decoded with verification",
                "A token decoded without checking its signature (or with the `none` algorithm allowed) can be forged by anyone: they write their own claims and become any user.",
                "Always pass the key and a fixed algorithm list: `jwt.decode(token, key, algorithms=[\"HS256\"])`; never set `verify_signature`/`verify_exp` to False outside tests. Node: `jwt.verify(token, key, { algorithms: ['HS256'] })`, never `'none'` or `ignoreExpiration: true`.",
            ),
            hits_of!("jwt-verification-disabled"),
        ),
        code_check(
            spec(
                "tls-verify-disabled",
                "TLS certificate verification disabled",
                Security,
                High,
                "outbound TLS verifies certificates",
                "With verification off anyone on the network path can impersonate the remote service and read or change the traffic, API keys included.",
                "Remove `verify=False`/`CERT_NONE`; if the server uses a private CA, pass its bundle: `verify=\"/path/ca.pem\"` or `ssl.create_default_context(cafile=…)`. Node: drop `rejectUnauthorized: false` and `NODE_TLS_REJECT_UNAUTHORIZED=0`; pass `ca` for a private CA.",
            ),
            hits_of!("tls-verify-disabled"),
        ),
        code_check(
            spec(
                "sql-injection-risk",
                "SQL built from strings",
                Security,
                High,
                "SQL is parameterised",
                "Splicing values into SQL text with f-strings, `%`, `.format` or `+` lets input rewrite the query: read other users' data, bypass login or drop tables.",
                "Pass values as parameters: `cursor.execute(\"… WHERE id = %s\", (user_id,))`, `session.execute(text(\"… WHERE id = :id\"), {\"id\": user_id})`, or use the ORM's query API. Node: `pool.query('… WHERE id = $1', [id])`, Prisma's tagged `$queryRaw` instead of `$queryRawUnsafe`, knex bindings.",
            ),
            hits_of!("sql-injection-risk"),
        ),
        code_check(
            spec(
                "unsafe-deserialization",
                "Unsafe deserialization or eval",
                Security,
                High,
                "no unsafe deserialization of dynamic data",
                "pickle, marshal, jsonpickle, `yaml.load` with the default loader and `eval`/`exec` run code chosen by whoever wrote the data; on request data that is remote code execution.",
                "Use JSON or `yaml.safe_load` for data, `ast.literal_eval` for literals, and keep pickle to files the app wrote itself and nobody else can write. Node: `JSON.parse` instead of `eval`/`new Function`/node-serialize.",
            ),
            hits_of!("unsafe-deserialization"),
        ),
        code_check(
            spec(
                "upload-unbounded",
                "Uploads without a size limit",
                Security,
                Medium,
                "uploads are size-limited",
                "An upload read whole into memory (or copied to disk) with no limit lets one request exhaust the worker's memory or the disk.",
                "Check `file.size` or read in chunks up to a maximum and reject with 413; for Flask set `MAX_CONTENT_LENGTH`; or cap bodies with `client_max_body_size` in the proxy. Node: `multer({ limits: { fileSize: … } })`.",
            ),
            repo_level::upload_unbounded,
        ),
        code_check(
            spec(
                "insecure-default-secret",
                "Secret falls back to a literal default",
                Secrets,
                Critical,
                "secrets have no literal fallback",
                "A literal fallback such as `os.getenv(\"SECRET_KEY\", \"dev\")` means a deploy that forgets the variable runs with a key printed in the repository: anyone can sign sessions and tokens.",
                "Read the secret without a default and fail at startup when it is missing: `SECRET_KEY = os.environ[\"SECRET_KEY\"]`, a pydantic field with no default, or raise if `os.getenv` returns None. Node: `const secret = process.env.JWT_SECRET; if (!secret) throw new Error('JWT_SECRET is required')`, not `|| 'dev'`.",
            ),
            settings_hits_of!("insecure-default-secret"),
        ),
        code_check(
            spec(
                "localhost-in-config",
                "Origins or hosts hard-coded to localhost",
                Secrets,
                Medium,
                "allowed origins and hosts come from configuration",
                "A literal list of localhost or example.com origins/hosts means the deployed app either rejects its real front end or gets patched to `*` in a hurry.",
                "Read allowed origins and hosts from the environment (`CORS_ORIGINS`, `ALLOWED_HOSTS`) and keep localhost only as a development default. Node: `cors({ origin: process.env.CORS_ORIGINS.split(',') })`.",
            ),
            settings_hits_of!("localhost-in-config"),
        ),
    ]
}
