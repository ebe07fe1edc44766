//! Python security checks (and the two Python secrets checks) on small real
//! repositories: each check fails on the pattern and passes on the fix, and
//! the negatives the catalogue names (comments, docstrings, strings, test
//! files, other scopes, env-driven values, parameterised SQL) stay quiet.

mod common;

use common::{assert_fails_at, assert_passes, findings, outcome, scan_files};
use shipshape_analysis::{Outcome, Report, Severity};

/// A FastAPI service with `main` as app/main.py.
fn fastapi(main: &str) -> Report {
    scan_files(&[("requirements.txt", "fastapi\nuvicorn\n"), ("app/main.py", main)])
}

fn flask(main: &str) -> Report {
    scan_files(&[("requirements.txt", "flask\n"), ("app.py", main)])
}

// ---------- applicability ----------

#[test]
fn checks_are_not_applicable_without_a_python_web_framework() {
    let r = scan_files(&[("tool.py", "import hashlib\nhashlib.md5(password)\n"), ("pkg/lib.py", "x = 1\n")]);
    for id in ["cors-wildcard", "security-headers-missing", "rate-limit-missing", "insecure-default-secret"] {
        assert_eq!(outcome(&r, id), Outcome::NotApplicable, "{id}");
    }
}

// ---------- cors-wildcard ----------

const CORS_STAR: &str = "from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

app = FastAPI(docs_url=None, openapi_url=None)
app.add_middleware(
    CORSMiddleware,
    allow_origins=[\"*\"],
    allow_methods=[\"*\"],
)
";

#[test]
fn cors_wildcard_fails_high_on_star_origins() {
    let f = assert_fails_at(&fastapi(CORS_STAR), "cors-wildcard", "app/main.py", 7);
    assert_eq!(f.severity, Severity::High);
}

#[test]
fn cors_wildcard_is_critical_with_credentials_and_via_a_variable() {
    let src = "from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
origins = [\"*\"]
app = FastAPI()
app.add_middleware(CORSMiddleware, allow_origins=origins, allow_credentials=True)
";
    let f = assert_fails_at(&fastapi(src), "cors-wildcard", "app/main.py", 5);
    assert_eq!(f.severity, Severity::Critical);
}

#[test]
fn cors_wildcard_regex_and_starlette_middleware_list() {
    let src = "from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
middleware = [Middleware(CORSMiddleware, allow_origin_regex=\".*\")]
app = Starlette(middleware=middleware)
";
    let r = scan_files(&[("requirements.txt", "starlette\n"), ("app/main.py", src)]);
    assert_fails_at(&r, "cors-wildcard", "app/main.py", 4);
}

#[test]
fn cors_origins_from_settings_or_env_pass() {
    let src = "import os
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from .config import settings
app = FastAPI()
app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_credentials=True)
origins = os.getenv(\"CORS_ORIGINS\", \"\").split(\",\")
# app.add_middleware(CORSMiddleware, allow_origins=[\"*\"])
";
    let r = fastapi(src);
    assert_passes(&r, "cors-wildcard");
    assert_passes(&r, "localhost-in-config");
}

#[test]
fn flask_cors_without_origins_fails_and_with_origins_passes() {
    let bad = "from flask import Flask\nfrom flask_cors import CORS\napp = Flask(__name__)\nCORS(app, supports_credentials=True)\n";
    let f = assert_fails_at(&flask(bad), "cors-wildcard", "app.py", 4);
    assert_eq!(f.severity, Severity::Critical);
    let res = "from flask import Flask\nfrom flask_cors import CORS\napp = Flask(__name__)\nCORS(app, resources={r\"/api/*\": {\"origins\": \"*\"}})\n";
    assert_fails_at(&flask(res), "cors-wildcard", "app.py", 4);
    let good = "import os\nfrom flask import Flask\nfrom flask_cors import CORS\napp = Flask(__name__)\nCORS(app, origins=os.environ[\"FRONTEND_ORIGINS\"].split(\",\"))\n";
    assert_passes(&flask(good), "cors-wildcard");
}

#[test]
fn django_cors_allow_all_fails_critical_with_credentials() {
    let settings = "DEBUG = False\nSECRET_KEY = os.environ['SECRET_KEY']\nALLOWED_HOSTS = os.environ['ALLOWED_HOSTS'].split(',')\nCORS_ALLOW_ALL_ORIGINS = True\nCORS_ALLOW_CREDENTIALS = True\n";
    let r = scan_files(&[("requirements.txt", "django\ndjango-cors-headers\n"), ("mysite/settings.py", settings)]);
    let f = assert_fails_at(&r, "cors-wildcard", "mysite/settings.py", 4);
    assert_eq!(f.severity, Severity::Critical);
    assert_passes(&r, "debug-enabled");
    assert_passes(&r, "insecure-default-secret");
    assert_passes(&r, "allowed-hosts-wildcard");
}

#[test]
fn cors_in_a_test_file_or_docstring_does_not_fire() {
    let main = "\"\"\"Set allow_origins=[\"*\"] for CORSMiddleware? No.\"\"\"\nfrom fastapi import FastAPI\napp = FastAPI(docs_url=None, openapi_url=None)\n";
    let r = scan_files(&[("requirements.txt", "fastapi\n"), ("app/main.py", main), ("tests/test_cors.py", CORS_STAR)]);
    assert_passes(&r, "cors-wildcard");
    assert_passes(&r, "cors-duplicate");
}

// ---------- cors-duplicate ----------

#[test]
fn cors_duplicate_fails_at_the_second_registration() {
    let src = "from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from .config import settings
app = FastAPI()
app.add_middleware(CORSMiddleware, allow_origins=settings.origins)
app.add_middleware(CORSMiddleware, allow_origins=settings.other_origins)
";
    assert_fails_at(&fastapi(src), "cors-duplicate", "app/main.py", 6);
}

#[test]
fn cors_on_two_different_apps_is_not_a_duplicate() {
    let src = "from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from .config import settings
app = FastAPI()
admin = FastAPI()
app.add_middleware(CORSMiddleware, allow_origins=settings.origins)
admin.add_middleware(CORSMiddleware, allow_origins=settings.origins)
";
    assert_passes(&fastapi(src), "cors-duplicate");
}

// ---------- debug-enabled ----------

#[test]
fn debug_enabled_fastapi_and_flask_run() {
    let r = fastapi("from fastapi import FastAPI\napp = FastAPI(\n    title=\"x\",\n    debug=True,\n)\n");
    assert_fails_at(&r, "debug-enabled", "app/main.py", 4);
    let r = flask(
        "from flask import Flask\napp = Flask(__name__)\n\nif __name__ == \"__main__\":\n    app.run(host=\"0.0.0.0\", debug=True)\n",
    );
    assert_fails_at(&r, "debug-enabled", "app.py", 5);
}

#[test]
fn debug_from_env_or_under_env_condition_passes() {
    let r = flask(
        "import os\nfrom flask import Flask\napp = Flask(__name__)\nif os.getenv(\"FLASK_ENV\") == \"development\":\n    app.run(debug=True)\napp.run(debug=os.getenv(\"DEBUG\") == \"1\")\n",
    );
    assert_passes(&r, "debug-enabled");
}

#[test]
fn django_debug_true_fails_but_not_in_dev_settings_or_from_env() {
    let base = "import os\nSECRET_KEY = os.environ['SECRET_KEY']\nDEBUG = True\nALLOWED_HOSTS = os.environ['HOSTS'].split(',')\n";
    let r = scan_files(&[("requirements.txt", "django\n"), ("mysite/settings.py", base)]);
    assert_fails_at(&r, "debug-enabled", "mysite/settings.py", 3);
    let r = scan_files(&[
        ("requirements.txt", "django\n"),
        (
            "mysite/settings/base.py",
            "import os\nDEBUG = os.getenv('DJANGO_DEBUG') == '1'\nSECRET_KEY = os.environ['SECRET_KEY']\n",
        ),
        (
            "mysite/settings/dev.py",
            "from .base import *\nDEBUG = True\nSECRET_KEY = 'dev-only'\nALLOWED_HOSTS = ['*']\n",
        ),
    ]);
    assert_passes(&r, "debug-enabled");
    assert_passes(&r, "insecure-default-secret");
    assert_passes(&r, "allowed-hosts-wildcard");
}

#[test]
fn django_debug_env_default_true_fails() {
    let s = "import environ\nenv = environ.Env()\nDEBUG = env.bool(\"DEBUG\", default=True)\nSECRET_KEY = env(\"SECRET_KEY\")\n";
    let r = scan_files(&[("requirements.txt", "django\ndjango-environ\n"), ("core/settings.py", s)]);
    assert_fails_at(&r, "debug-enabled", "core/settings.py", 3);
}

#[test]
fn pydantic_settings_debug_true_fails() {
    let cfg = "from pydantic_settings import BaseSettings\n\nclass Settings(BaseSettings):\n    app_name: str = \"api\"\n    debug: bool = True\n";
    let r = scan_files(&[
        ("requirements.txt", "fastapi\npydantic-settings\n"),
        ("app/core/config.py", cfg),
        ("app/main.py", "from fastapi import FastAPI\napp = FastAPI(docs_url=None, openapi_url=None)\n"),
    ]);
    assert_fails_at(&r, "debug-enabled", "app/core/config.py", 5);
}

// ---------- api-docs-exposed ----------

#[test]
fn api_docs_exposed_by_default_and_hidden_by_condition() {
    let r = fastapi("from fastapi import FastAPI\n\napp = FastAPI(title=\"Orders\")\n");
    assert_fails_at(&r, "api-docs-exposed", "app/main.py", 3);
    let r = fastapi(
        "from fastapi import FastAPI\nfrom .config import settings\napp = FastAPI(docs_url=\"/docs\" if settings.debug else None, openapi_url=settings.openapi_url)\n",
    );
    assert_passes(&r, "api-docs-exposed");
    let r = fastapi("from fastapi import FastAPI\napp = FastAPI(openapi_url=None)\n");
    assert_passes(&r, "api-docs-exposed");
}

// ---------- security-headers-missing ----------

#[test]
fn security_headers_missing_then_set_by_middleware_or_proxy() {
    let plain = "from fastapi import FastAPI\napp = FastAPI(openapi_url=None)\n";
    let r = fastapi(plain);
    assert_eq!(outcome(&r, "security-headers-missing"), Outcome::Fail);
    assert!(findings(&r, "security-headers-missing")[0].location.is_none(), "repo-level finding");

    let mw = "from fastapi import FastAPI, Request\napp = FastAPI(openapi_url=None)\n@app.middleware(\"http\")\nasync def headers(request: Request, call_next):\n    response = await call_next(request)\n    response.headers[\"X-Content-Type-Options\"] = \"nosniff\"\n    return response\n";
    assert_passes(&fastapi(mw), "security-headers-missing");

    let r = scan_files(&[
        ("requirements.txt", "fastapi\n"),
        ("app/main.py", plain),
        (
            "deploy/nginx/site.conf",
            "server {\n  add_header Strict-Transport-Security \"max-age=63072000\" always;\n}\n",
        ),
    ]);
    assert_passes(&r, "security-headers-missing");
}

#[test]
fn security_headers_a_comment_does_not_count_but_django_security_settings_do() {
    let r = fastapi(
        "from fastapi import FastAPI\n# TODO: add Strict-Transport-Security\napp = FastAPI(openapi_url=None)\n",
    );
    assert_eq!(outcome(&r, "security-headers-missing"), Outcome::Fail);
    let s = "import os\nSECRET_KEY = os.environ['SECRET_KEY']\nDEBUG = False\nMIDDLEWARE = [\n    'django.middleware.security.SecurityMiddleware',\n]\nSECURE_HSTS_SECONDS = 31536000\n";
    let r = scan_files(&[("requirements.txt", "django\n"), ("proj/settings.py", s)]);
    assert_passes(&r, "security-headers-missing");
}

#[test]
fn security_headers_django_clickjacking_middleware_sets_x_frame_options() {
    // startproject's MIDDLEWARE: XFrameOptionsMiddleware sends X-Frame-Options.
    let s = "import os\nSECRET_KEY = os.environ['SECRET_KEY']\nMIDDLEWARE = [\n    'django.middleware.security.SecurityMiddleware',\n    'django.middleware.clickjacking.XFrameOptionsMiddleware',\n]\n";
    let r = scan_files(&[("requirements.txt", "django\n"), ("proj/settings.py", s)]);
    assert_passes(&r, "security-headers-missing");
    // Without it (and without SECURE_* settings) nothing names a header.
    let bare = "import os\nSECRET_KEY = os.environ['SECRET_KEY']\nMIDDLEWARE = [\n    'django.middleware.common.CommonMiddleware',\n]\n";
    let r = scan_files(&[("requirements.txt", "django\n"), ("proj/settings.py", bare)]);
    assert_eq!(outcome(&r, "security-headers-missing"), Outcome::Fail);
}

// ---------- rate limits ----------

#[test]
fn rate_limit_missing_then_slowapi_in_memory_then_redis() {
    let plain = "from fastapi import FastAPI\napp = FastAPI(openapi_url=None)\n";
    let r = fastapi(plain);
    assert_eq!(outcome(&r, "rate-limit-missing"), Outcome::Fail);
    assert_eq!(outcome(&r, "rate-limit-in-memory"), Outcome::NotApplicable);

    let mem = "from fastapi import FastAPI\nfrom slowapi import Limiter\nfrom slowapi.util import get_remote_address\n\nlimiter = Limiter(key_func=get_remote_address)\napp = FastAPI(openapi_url=None)\n";
    let r = fastapi(mem);
    assert_passes(&r, "rate-limit-missing");
    assert_fails_at(&r, "rate-limit-in-memory", "app/main.py", 5);

    let redis = mem.replace("get_remote_address)", "get_remote_address, storage_uri=settings.redis_url)");
    assert_passes(&fastapi(&redis), "rate-limit-in-memory");
}

#[test]
fn hand_written_dict_limiter_is_in_memory() {
    let src = "import time
from collections import defaultdict
from fastapi import FastAPI, HTTPException, Request

app = FastAPI(openapi_url=None)
request_log = defaultdict(list)

@app.middleware(\"http\")
async def limit(request: Request, call_next):
    now = time.time()
    hits = [t for t in request_log[request.client.host] if now - t < 60]
    if len(hits) > 100:
        raise HTTPException(429)
    request_log[request.client.host] = hits + [now]
    return await call_next(request)
";
    let r = fastapi(src);
    assert_passes(&r, "rate-limit-missing");
    assert_fails_at(&r, "rate-limit-in-memory", "app/main.py", 6);
}

#[test]
fn rate_limit_by_dependency_or_nginx_passes() {
    let r = scan_files(&[
        ("requirements.txt", "flask\nflask-limiter\n"),
        ("app.py", "from flask import Flask\napp = Flask(__name__)\n"),
    ]);
    assert_passes(&r, "rate-limit-missing");
    let r = scan_files(&[
        ("requirements.txt", "flask\n"),
        ("app.py", "from flask import Flask\napp = Flask(__name__)\n"),
        ("nginx.conf", "http {\n  limit_req_zone $binary_remote_addr zone=api:10m rate=10r/s;\n}\n"),
    ]);
    assert_passes(&r, "rate-limit-missing");
}

// ---------- allowed-hosts-wildcard & localhost-in-config ----------

#[test]
fn allowed_hosts_star_fails() {
    let s = "import os\nSECRET_KEY = os.environ['SECRET_KEY']\nDEBUG = False\nALLOWED_HOSTS = [\"*\"]\n";
    let r = scan_files(&[("requirements.txt", "django\n"), ("proj/settings.py", s)]);
    assert_fails_at(&r, "allowed-hosts-wildcard", "proj/settings.py", 4);
    let r = fastapi(
        "from fastapi import FastAPI\nfrom starlette.middleware.trustedhost import TrustedHostMiddleware\napp = FastAPI(openapi_url=None)\napp.add_middleware(TrustedHostMiddleware, allowed_hosts=[\"*\"])\n",
    );
    assert_fails_at(&r, "allowed-hosts-wildcard", "app/main.py", 4);
}

#[test]
fn localhost_only_hosts_fail_unless_env_or_another_settings_file_replaces_them() {
    let s = "import os\nSECRET_KEY = os.environ['SECRET_KEY']\nDEBUG = False\nALLOWED_HOSTS = [\"localhost\", \"127.0.0.1\"]\n";
    let r = scan_files(&[("requirements.txt", "django\n"), ("proj/settings.py", s)]);
    assert_fails_at(&r, "localhost-in-config", "proj/settings.py", 4);
    assert_passes(&r, "allowed-hosts-wildcard");

    let env = format!(
        "{s}if os.getenv(\"ALLOWED_HOSTS\"):\n    ALLOWED_HOSTS = os.environ[\"ALLOWED_HOSTS\"].split(\",\")\n"
    );
    let r = scan_files(&[("requirements.txt", "django\n"), ("proj/settings.py", &env)]);
    assert_passes(&r, "localhost-in-config");

    let r = scan_files(&[
        ("requirements.txt", "django\n"),
        ("proj/settings/base.py", s),
        ("proj/settings/prod.py", "from .base import *\nALLOWED_HOSTS = os.environ['ALLOWED_HOSTS'].split(',')\n"),
    ]);
    assert_passes(&r, "localhost-in-config");
}

#[test]
fn localhost_cors_origins_fail_and_db_url_default_does_not() {
    let src = "import os
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
DATABASE_URL = os.getenv(\"DATABASE_URL\", \"postgresql://localhost:5432/app\")
app = FastAPI(openapi_url=None)
app.add_middleware(CORSMiddleware, allow_origins=[\"http://localhost:3000\", \"http://127.0.0.1:3000\"])
";
    assert_fails_at(&fastapi(src), "localhost-in-config", "app/main.py", 6);
    let ok = src.replace(
        "allow_origins=[\"http://localhost:3000\", \"http://127.0.0.1:3000\"]",
        "allow_origins=[\"https://app.acme.io\"]",
    );
    assert_passes(&fastapi(&ok), "localhost-in-config");
}

// ---------- weak-password-hash ----------

#[test]
fn weak_password_hash_fires_on_passwords_not_on_cache_keys() {
    let src = "import hashlib
from fastapi import FastAPI
app = FastAPI(openapi_url=None)

def hash_password(pw: str) -> str:
    return hashlib.sha256(pw.encode()).hexdigest()

def etag(body: bytes) -> str:
    return hashlib.md5(body).hexdigest()

def reset_password(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
";
    assert_fails_at(&fastapi(src), "weak-password-hash", "app/main.py", 6);
    let good = "import hashlib, os\nfrom fastapi import FastAPI\napp = FastAPI(openapi_url=None)\n\ndef hash_password(password: str) -> bytes:\n    return hashlib.pbkdf2_hmac(\"sha256\", password.encode(), os.urandom(16), 600_000)\n";
    assert_passes(&fastapi(good), "weak-password-hash");
}

#[test]
fn weak_password_hash_md5_of_password_and_passlib_md5_crypt() {
    let r = flask(
        "import hashlib\nfrom flask import Flask\napp = Flask(__name__)\nstored = hashlib.md5(request_password.encode()).hexdigest()\n",
    );
    assert_fails_at(&r, "weak-password-hash", "app.py", 4);
    let r = flask(
        "from flask import Flask\nfrom passlib.context import CryptContext\napp = Flask(__name__)\nctx = CryptContext(schemes=[\"md5_crypt\"])\n",
    );
    assert_fails_at(&r, "weak-password-hash", "app.py", 4);
}

// ---------- jwt-verification-disabled ----------

#[test]
fn jwt_decode_without_verification_fails_critical() {
    let src = "import jwt
from fastapi import FastAPI
app = FastAPI(openapi_url=None)

def current_user(token: str):
    return jwt.decode(
        token,
        options={\"verify_signature\": False},
    )
";
    let f = assert_fails_at(&fastapi(src), "jwt-verification-disabled", "app/main.py", 8);
    assert_eq!(f.severity, Severity::Critical);
    let none = "import jwt\nfrom fastapi import FastAPI\napp = FastAPI(openapi_url=None)\nclaims = jwt.decode(t, key, algorithms=[\"none\", \"HS256\"])\n";
    assert_fails_at(&fastapi(none), "jwt-verification-disabled", "app/main.py", 4);
    let good = "import jwt\nfrom fastapi import FastAPI\napp = FastAPI(openapi_url=None)\nclaims = jwt.decode(t, key, algorithms=[\"HS256\"])\n";
    assert_passes(&fastapi(good), "jwt-verification-disabled");
}

// ---------- tls-verify-disabled ----------

#[test]
fn tls_verify_disabled_on_requests_and_httpx_and_ssl() {
    let src = "import requests, httpx, ssl
from fastapi import FastAPI
app = FastAPI(openapi_url=None)
r = requests.get(\"https://x\", timeout=5, verify=False)
client = httpx.AsyncClient(verify=False)
ctx = ssl._create_unverified_context()
";
    let r = fastapi(src);
    let lines: Vec<u32> =
        findings(&r, "tls-verify-disabled").iter().filter_map(|f| f.location.as_ref()?.line).collect();
    assert_eq!(lines, vec![4, 5, 6]);
    let good = "import requests\nfrom fastapi import FastAPI\napp = FastAPI(openapi_url=None)\nr = requests.get(\"https://x\", timeout=5, verify=\"/etc/ca.pem\")\n";
    assert_passes(&fastapi(good), "tls-verify-disabled");
}

// ---------- sql-injection-risk ----------

#[test]
fn sql_injection_fstring_format_percent_and_concat_fail() {
    let src = "from fastapi import FastAPI
from sqlalchemy import text
app = FastAPI(openapi_url=None)

def a(cur, name):
    cur.execute(f\"SELECT * FROM users WHERE name = '{name}'\")

def b(cur, uid):
    q = \"SELECT * FROM users WHERE id = %s\" % uid
    cur.execute(q)

def c(session, uid):
    return session.execute(text(\"DELETE FROM t WHERE id = {}\".format(uid)))

def d(cur, name):
    cur.execute(\"SELECT * FROM users WHERE name = '\" + name + \"'\")
";
    let r = fastapi(src);
    let lines: Vec<u32> = findings(&r, "sql-injection-risk").iter().filter_map(|f| f.location.as_ref()?.line).collect();
    assert_eq!(lines, vec![6, 10, 13, 16]);
}

#[test]
fn parameterised_sql_passes() {
    let src = "from fastapi import FastAPI
from sqlalchemy import text
app = FastAPI(openapi_url=None)
TABLE = \"users\"

def a(cur, uid, ids):
    cur.execute(\"SELECT * FROM users WHERE id = %s\", (uid,))
    cur.execute(f\"SELECT * FROM {TABLE} WHERE id = %s\", (uid,))
    placeholders = \", \".join(\"?\" * len(ids))
    cur.execute(f\"SELECT * FROM users WHERE id IN ({placeholders})\", ids)

def b(session, uid):
    return session.execute(text(\"SELECT * FROM users WHERE id = :id\"), {\"id\": uid})

def c(log, name):
    log.info(f\"select from {name}\")
";
    assert_passes(&fastapi(src), "sql-injection-risk");
}

// ---------- unsafe-deserialization ----------

#[test]
fn unsafe_deserialization_on_input_fails_but_constants_and_safe_loaders_pass() {
    let src = "import pickle, yaml
from fastapi import FastAPI, Request
app = FastAPI(openapi_url=None)

@app.post(\"/load\")
async def load(request: Request):
    body = await request.body()
    obj = pickle.loads(body)
    cfg = yaml.load(body)
    return eval(body.decode())
";
    let r = fastapi(src);
    let lines: Vec<u32> =
        findings(&r, "unsafe-deserialization").iter().filter_map(|f| f.location.as_ref()?.line).collect();
    assert_eq!(lines, vec![8, 9, 10]);
    let good = "import pickle, yaml
from fastapi import FastAPI
app = FastAPI(openapi_url=None)
with open(\"model.pkl\", \"rb\") as f:
    model = pickle.load(f)
cfg = yaml.load(data, Loader=yaml.SafeLoader)
other = yaml.safe_load(data)
x = eval(\"1 + 1\")
";
    assert_passes(&fastapi(good), "unsafe-deserialization");
}

// ---------- upload-unbounded ----------

#[test]
fn fastapi_upload_read_without_size_check_fails() {
    let src = "from fastapi import FastAPI, File, UploadFile
app = FastAPI(openapi_url=None)

@app.post(\"/upload\")
async def upload(file: UploadFile = File(...)):
    content = await file.read()
    return {\"n\": len(content)}
";
    assert_fails_at(&fastapi(src), "upload-unbounded", "app/main.py", 6);
    let checked = src.replace(
        "    content = await file.read()\n",
        "    if file.size and file.size > MAX_BYTES:\n        raise HTTPException(413)\n    content = await file.read()\n",
    );
    assert_passes(&fastapi(&checked), "upload-unbounded");
}

#[test]
fn flask_upload_needs_max_content_length() {
    let src = "from flask import Flask, request\napp = Flask(__name__)\n\n@app.post(\"/up\")\ndef up():\n    f = request.files[\"file\"]\n    return f.filename\n";
    assert_fails_at(&flask(src), "upload-unbounded", "app.py", 6);
    let ok = src.replace(
        "app = Flask(__name__)\n",
        "app = Flask(__name__)\napp.config[\"MAX_CONTENT_LENGTH\"] = 16 * 1024 * 1024\n",
    );
    assert_passes(&flask(&ok), "upload-unbounded");
}

// ---------- insecure-default-secret ----------

#[test]
fn getenv_default_secret_fires_on_one_line_and_across_five() {
    let one = "import os\nfrom fastapi import FastAPI\napp = FastAPI(openapi_url=None)\nSECRET_KEY = os.getenv(\"SECRET_KEY\", \"x\")\n";
    let f = assert_fails_at(&fastapi(one), "insecure-default-secret", "app/main.py", 4);
    assert_eq!(f.severity, Severity::Critical);
    let five = "import os
from fastapi import FastAPI
app = FastAPI(openapi_url=None)
JWT_SECRET = os.getenv(
    \"JWT_SECRET\",
    \"a8f5f167f44f4964e6c998dee827110c\",
)
";
    let f = assert_fails_at(&fastapi(five), "insecure-default-secret", "app/main.py", 6);
    assert!(!f.evidence.contains("a8f5f167f44f4964e6c998dee827110c"), "evidence must be masked: {}", f.evidence);
    assert!(f.evidence.contains("a8f5…"), "{}", f.evidence);
}

#[test]
fn placeholder_default_is_shown_and_still_a_finding() {
    let src = "import os\nfrom flask import Flask\napp = Flask(__name__)\napp.config[\"SECRET_KEY\"] = os.environ.get(\"SECRET_KEY\") or \"changeme\"\n";
    let f = assert_fails_at(&flask(src), "insecure-default-secret", "app.py", 4);
    assert!(f.evidence.contains("\"changeme\""), "{}", f.evidence);
}

#[test]
fn pydantic_and_django_literal_secrets_fail() {
    let cfg = "from pydantic_settings import BaseSettings\n\nclass Settings(BaseSettings):\n    database_url: str\n    jwt_secret_key: str = \"super-secret-jwt\"\n    access_token_expire_minutes: int = 30\n";
    let r = scan_files(&[("requirements.txt", "fastapi\n"), ("app/config.py", cfg)]);
    assert_fails_at(&r, "insecure-default-secret", "app/config.py", 5);
    let s = "DEBUG = False\nSECRET_KEY = 'django-insecure-3x!q9w#k2m@z8p$v7r&t6y^u5i*o4'\nALLOWED_HOSTS = []\n";
    let r = scan_files(&[("requirements.txt", "django\n"), ("mysite/settings.py", s)]);
    let f = assert_fails_at(&r, "insecure-default-secret", "mysite/settings.py", 2);
    assert!(!f.evidence.contains("3x!q9w"), "{}", f.evidence);
}

#[test]
fn secrets_the_app_requires_pass() {
    let src = "import os
from fastapi import FastAPI
app = FastAPI(openapi_url=None)
SECRET_KEY = os.environ[\"SECRET_KEY\"]
JWT_SECRET = os.getenv(\"JWT_SECRET\")
if not JWT_SECRET:
    raise RuntimeError(\"JWT_SECRET is required\")
ALGORITHM = os.getenv(\"JWT_ALGORITHM\", \"HS256\")
EXPIRE = int(os.getenv(\"ACCESS_TOKEN_EXPIRE_MINUTES\", \"30\"))
# SECRET_KEY = os.getenv(\"SECRET_KEY\", \"dev\")
DEV_KEY = os.getenv(\"SIGNING_KEY\", \"dev\") if settings.DEBUG else os.environ[\"SIGNING_KEY\"]
HELP = 'use os.getenv(\"SECRET_KEY\", \"dev\") locally'
";
    let r = scan_files(&[
        ("requirements.txt", "fastapi\n"),
        ("app/main.py", src),
        ("tests/conftest.py", "import os\nSECRET = os.getenv(\"SECRET_KEY\", \"test-secret\")\n"),
    ]);
    assert_passes(&r, "insecure-default-secret");
}

// ---------- scopes, conditions and near-misses ----------

#[test]
fn dev_only_cors_and_function_scoped_settings_do_not_fire() {
    let src = "from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from .config import settings
app = FastAPI(openapi_url=None)
if settings.DEBUG:
    app.add_middleware(CORSMiddleware, allow_origins=[\"*\"])
";
    assert_passes(&fastapi(src), "cors-wildcard");
    let s = "import os\nSECRET_KEY = os.environ['SECRET_KEY']\nDEBUG = False\nALLOWED_HOSTS = os.environ['H'].split(',')\n\ndef for_tests():\n    DEBUG = True\n    SECRET_KEY = 'abc123'\n    return DEBUG, SECRET_KEY\n";
    let r = scan_files(&[("requirements.txt", "django\n"), ("proj/settings.py", s)]);
    assert_passes(&r, "debug-enabled");
    assert_passes(&r, "insecure-default-secret");
}

#[test]
fn env_defaults_that_are_not_secrets_do_not_fire() {
    let src = "import os
from fastapi import FastAPI
app = FastAPI(openapi_url=None)
workdir = os.getenv(\"PWD\", \"/app\")
creds = os.getenv(\"GOOGLE_APPLICATION_CREDENTIALS\", \"credentials.json\")
tok = os.getenv(\"TOKENIZER_NAME\", \"cl100k_base\")
issuer = os.getenv(\"JWT_ISSUER\", \"orders-api\")
store = os.getenv(\"SESSION_STORE\", \"redis\")
";
    assert_passes(&fastapi(src), "insecure-default-secret");
}

#[test]
fn hashing_a_reset_token_is_not_a_password_hash() {
    let src = "import hashlib\nfrom fastapi import FastAPI\napp = FastAPI(openapi_url=None)\ndigest = hashlib.sha256(user.password_reset_token.encode()).hexdigest()\nsid = hashlib.md5(f\"{user.email},{user.password_hash}\".encode()).hexdigest()\nkey = hashlib.md5(password.encode(), usedforsecurity=False).hexdigest()\n";
    assert_passes(&fastapi(src), "weak-password-hash");
}

#[test]
fn base_settings_overridden_by_production_settings_do_not_fire() {
    let base = "import environ\nenv = environ.Env()\nSECRET_KEY = \"=ug_ucl@yi6^mrcjyz%(u0%&g2adt#bz3@yos%#@*t#t!ypx=a\"\nDEBUG = env.bool(\"DJANGO_DEBUG\", default=True)\nALLOWED_HOSTS = [\"*\"]\nCORS_ALLOW_ALL_ORIGINS = True\n";
    let prod = "from .base import *\nDEBUG = env.bool(\"DJANGO_DEBUG\", default=False)\nSECRET_KEY = env(\"SECRET_KEY\")\nALLOWED_HOSTS = env.list(\"ALLOWED_HOSTS\", default=[])\nCORS_ALLOW_ALL_ORIGINS = False\n";
    let only_base = scan_files(&[("requirements.txt", "django\n"), ("config/django/base.py", base)]);
    let with_prod = scan_files(&[
        ("requirements.txt", "django\n"),
        ("config/django/base.py", base),
        ("config/django/production.py", prod),
    ]);
    for id in ["debug-enabled", "insecure-default-secret", "allowed-hosts-wildcard", "cors-wildcard"] {
        assert_eq!(outcome(&only_base, id), Outcome::Fail, "{id} fails with base settings only");
        assert_passes(&with_prod, id);
    }
}

#[test]
fn project_env_helpers_count_as_env_reads() {
    let s = "import os\n\ndef envbool(s, default):\n    return os.getenv(s, default=default) == \"True\"\n\ndef envsecret(s, default):\n    return os.getenv(s, default)\n\nSECRET_KEY = envsecret(\"SECRET_KEY\", \"---\")\nDEBUG = envbool(\"DEBUG\", \"True\")\nALLOWED_HOSTS = [os.environ[\"SITE_DOMAIN\"]]\n";
    let r = scan_files(&[("requirements.txt", "django\n"), ("hc/settings.py", s)]);
    assert_fails_at(&r, "debug-enabled", "hc/settings.py", 10);
    assert_fails_at(&r, "insecure-default-secret", "hc/settings.py", 9);
}

#[test]
fn empty_openapi_url_disables_docs_and_alembic_revisions_are_skipped() {
    let rev = "from alembic import op\nrevision = \"b0b\"\ndown_revision = \"a0a\"\n\ndef upgrade():\n    conn = op.get_bind()\n    for r in conn.execute(\"select id, slug from org\"):\n        conn.execute(f\"update org set slug = '{r[1]}' where id = {r[0]}\")\n";
    let r = scan_files(&[
        ("requirements.txt", "fastapi\n"),
        ("app/main.py", "from fastapi import FastAPI\napp = FastAPI(openapi_url=\"\")\n"),
        ("app/database/revisions/versions/2021_b0b.py", rev),
    ]);
    assert_passes(&r, "api-docs-exposed");
    assert_passes(&r, "sql-injection-risk");
}

#[test]
fn decouple_and_environ_defaults_fire() {
    let s = "from decouple import config\nDEBUG = config(\"DEBUG\", default=False, cast=bool)\nSECRET_KEY = config(\n    \"SECRET_KEY\",\n    default=\"k3y-0f-th3-d4y-9f8e7d6c\",\n)\nALLOWED_HOSTS = config(\"ALLOWED_HOSTS\").split(\",\")\n";
    let r = scan_files(&[("requirements.txt", "django\npython-decouple\n"), ("proj/settings.py", s)]);
    assert_fails_at(&r, "insecure-default-secret", "proj/settings.py", 5);
    assert_passes(&r, "debug-enabled");
}

#[test]
fn hashlib_new_md5_on_a_password_fires() {
    let src = "import hashlib\nfrom fastapi import FastAPI\napp = FastAPI(openapi_url=None)\n\ndef store(user, password):\n    user.pw = hashlib.new(\"md5\", password.encode()).hexdigest()\n";
    assert_fails_at(&fastapi(src), "weak-password-hash", "app/main.py", 6);
}

#[test]
fn cors_in_the_middleware_list_and_add_middleware_is_a_duplicate() {
    let src = "from fastapi import FastAPI
from fastapi.middleware import Middleware
from fastapi.middleware.cors import CORSMiddleware
from .config import settings
app = FastAPI(openapi_url=None, middleware=[Middleware(CORSMiddleware, allow_origins=settings.origins)])
app.add_middleware(CORSMiddleware, allow_origins=settings.origins)
";
    let f = assert_fails_at(&fastapi(src), "cors-duplicate", "app/main.py", 6);
    assert!(f.message.contains("app/main.py:5"), "{}", f.message);
}

#[test]
fn swagger_ui_mounted_unconditionally_is_exposed_docs() {
    let urls = "from django.conf import settings\nfrom django.urls import path\nfrom drf_yasg.views import get_schema_view\nschema_view = get_schema_view(public=True)\nurlpatterns = [\n    path(\"swagger/\", schema_view.with_ui(\"swagger\", cache_timeout=0)),\n]\n";
    let r = scan_files(&[("requirements.txt", "django\ndrf-yasg\n"), ("proj/urls.py", urls)]);
    assert_fails_at(&r, "api-docs-exposed", "proj/urls.py", 6);
    let guarded = urls.replace(
        "urlpatterns = [\n    path(\"swagger/\", schema_view.with_ui(\"swagger\", cache_timeout=0)),\n]\n",
        "urlpatterns = []\nif settings.DEBUG:\n    urlpatterns += [path(\"swagger/\", schema_view.with_ui(\"swagger\"))]\n",
    );
    let r = scan_files(&[("requirements.txt", "django\ndrf-yasg\n"), ("proj/urls.py", &guarded)]);
    assert_passes(&r, "api-docs-exposed");
}

#[test]
fn flask_base_config_overridden_by_production_config_does_not_fire() {
    let cfg = "import os\n\nclass Config:\n    DEBUG = True\n    SECRET_KEY = \"dev-key-123\"\n\nclass ProductionConfig(Config):\n    DEBUG = False\n    SECRET_KEY = os.environ[\"SECRET_KEY\"]\n\nclass DevelopmentConfig(Config):\n    SECRET_KEY = \"dev\"\n";
    let r = scan_files(&[
        ("requirements.txt", "flask\n"),
        ("config.py", cfg),
        ("app.py", "from flask import Flask\napp = Flask(__name__)\n"),
    ]);
    assert_passes(&r, "debug-enabled");
    assert_passes(&r, "insecure-default-secret");
    let base_only = cfg.split("class ProductionConfig").next().unwrap();
    let r = scan_files(&[
        ("requirements.txt", "flask\n"),
        ("config.py", base_only),
        ("app.py", "from flask import Flask\napp = Flask(__name__)\n"),
    ]);
    assert_fails_at(&r, "debug-enabled", "config.py", 4);
    assert_fails_at(&r, "insecure-default-secret", "config.py", 5);
}

#[test]
fn comparing_with_cert_none_is_not_disabling_tls() {
    let src = "import ssl, requests\nfrom fastapi import FastAPI\napp = FastAPI(openapi_url=None)\nctx = ssl.create_default_context()\nassert ctx.verify_mode != ssl.CERT_NONE\n";
    assert_passes(&fastapi(src), "tls-verify-disabled");
    let bad = src.replace("assert ctx.verify_mode != ssl.CERT_NONE", "ctx.verify_mode = ssl.CERT_NONE");
    assert_fails_at(&fastapi(&bad), "tls-verify-disabled", "app/main.py", 5);
}

#[test]
fn query_sink_and_int_cast_values() {
    let src = "from fastapi import FastAPI\napp = FastAPI(openapi_url=None)\n\ndef purge(db, entry, name):\n    config_id = int(entry[\"id\"])\n    db.query(f\"DELETE FROM config WHERE id={config_id}\")\n    db.query(f\"DELETE FROM config WHERE name='{name}'\")\n    db.query(Config).filter(Config.name == name).delete()\n";
    assert_fails_at(&fastapi(src), "sql-injection-risk", "app/main.py", 7);
}

#[test]
fn a_hand_written_rate_limit_decorator_counts_as_rate_limiting() {
    let src = "from functools import wraps\nfrom flask import Flask\nfrom .cache import cache\napp = Flask(__name__)\n\ndef ratelimit(limit=50, interval=300):\n    def deco(f):\n        @wraps(f)\n        def inner(*a, **kw):\n            if cache.incr(\"rl\") > limit:\n                return \"slow down\", 429\n            return f(*a, **kw)\n        return inner\n    return deco\n";
    let r = flask(src);
    assert_passes(&r, "rate-limit-missing");
    assert_passes(&r, "rate-limit-in-memory");
}

#[test]
fn debug_only_wildcard_hosts_and_starlette_debug() {
    let s = "import os\nSECRET_KEY = os.environ['SECRET_KEY']\nDEBUG = os.getenv('DEBUG') == '1'\nALLOWED_HOSTS = os.environ['HOSTS'].split(',')\nif DEBUG:\n    ALLOWED_HOSTS = ['*']\n";
    let r = scan_files(&[("requirements.txt", "django\n"), ("proj/settings.py", s)]);
    assert_passes(&r, "allowed-hosts-wildcard");
    let app = "from starlette.applications import Starlette\napp = Starlette(debug=True, routes=[])\n";
    let r = scan_files(&[("requirements.txt", "starlette\n"), ("app.py", app)]);
    assert_fails_at(&r, "debug-enabled", "app.py", 2);
    assert_passes(&r, "api-docs-exposed");
}
