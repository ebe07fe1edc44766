//! The data, reliability and observability checks on small real git
//! repositories: each check fails on the pattern it names, passes on the
//! fixed version, and ignores the look-alikes (comments, docstrings, tests,
//! other scopes).

use chrono::NaiveDate;
use shipshape_analysis::{CheckResult, Options, Outcome, Report, analyze};
use shipshape_testkit::GitRepo;

fn scan(files: &[(&str, &str)]) -> Report {
    let repo = GitRepo::with_files(files);
    let options = Options { today: NaiveDate::from_ymd_opt(2026, 11, 22).unwrap(), github: None, ..Default::default() };
    analyze(repo.path(), &options).expect("scan succeeds")
}

fn check<'r>(report: &'r Report, id: &str) -> &'r CheckResult {
    report.check(id).unwrap_or_else(|| panic!("check {id} is registered"))
}

fn outcome(report: &Report, id: &str) -> Outcome {
    check(report, id).outcome
}

/// (path, line) of every finding of a check.
fn found(report: &Report, id: &str) -> Vec<(String, Option<u32>)> {
    check(report, id)
        .findings
        .iter()
        .map(|f| {
            let loc = f.location.as_ref();
            (loc.map(|l| l.path.clone()).unwrap_or_default(), loc.and_then(|l| l.line))
        })
        .collect()
}

fn at(path: &str, line: u32) -> (String, Option<u32>) {
    (path.to_string(), Some(line))
}

const FASTAPI_REQS: (&str, &str) = ("requirements.txt", "fastapi==0.110.0\nuvicorn==0.29.0\n");
const SQLA_REQS: (&str, &str) = ("requirements.txt", "fastapi==0.110.0\nsqlalchemy==2.0.30\npsycopg2-binary==2.9.9\n");

// ---------- data ----------

#[test]
fn migrations_missing_fails_for_sqlalchemy_without_alembic_and_passes_with_it() {
    let models =
        ("app/models.py", "from sqlalchemy.orm import DeclarativeBase\nclass Base(DeclarativeBase):\n    pass\n");
    let r = scan(&[SQLA_REQS, models]);
    assert_eq!(outcome(&r, "migrations-missing"), Outcome::Fail);
    assert_eq!(found(&r, "migrations-missing"), vec![(String::new(), None)]);

    let r = scan(&[SQLA_REQS, models, ("alembic.ini", "[alembic]\n"), ("alembic/env.py", "import app\n")]);
    assert_eq!(outcome(&r, "migrations-missing"), Outcome::Pass);
}

#[test]
fn migrations_missing_knows_django_apps_with_and_without_migration_files() {
    let base = [
        ("requirements.txt", "Django==5.0\n"),
        (
            "blog/models.py",
            "from django.db import models\nclass Post(models.Model):\n    title = models.CharField(max_length=10)\n",
        ),
        ("blog/migrations/__init__.py", ""),
    ];
    let r = scan(&base);
    assert_eq!(outcome(&r, "migrations-missing"), Outcome::Fail, "an empty migrations package is not set up");
    let mut with = base.to_vec();
    with.push(("blog/migrations/0001_initial.py", "from django.db import migrations\n"));
    assert_eq!(outcome(&scan(&with), "migrations-missing"), Outcome::Pass);
}

#[test]
fn migrations_missing_recognises_other_ecosystems_and_is_not_applicable_without_a_db() {
    let node = [
        ("package.json", r#"{"dependencies":{"express":"^4.19.0","@prisma/client":"^5.0.0"}}"#),
        ("prisma/schema.prisma", "model User { id Int @id }\n"),
    ];
    assert_eq!(outcome(&scan(&node), "migrations-missing"), Outcome::Fail);
    let mut node_ok = node.to_vec();
    node_ok.push(("prisma/migrations/20240101_init/migration.sql", "CREATE TABLE users (id int);\n"));
    assert_eq!(outcome(&scan(&node_ok), "migrations-missing"), Outcome::Pass);

    let rust = [
        (
            "Cargo.toml",
            "[package]\nname='x'\nversion='0.1.0'\n[dependencies]\naxum = \"0.7\"\nsqlx = { version = \"0.8\", features = [\"postgres\"] }\n",
        ),
        ("migrations/20240101_init.sql", "CREATE TABLE t (id int);\n"),
    ];
    assert_eq!(outcome(&scan(&rust), "migrations-missing"), Outcome::Pass);

    assert_eq!(
        outcome(&scan(&[FASTAPI_REQS, ("main.py", "import fastapi\n")]), "migrations-missing"),
        Outcome::NotApplicable
    );
    assert_eq!(outcome(&scan(&[("lib.py", "import sqlalchemy\n")]), "migrations-missing"), Outcome::NotApplicable);
}

const STARTUP_CREATE_ALL: &str = r#"from fastapi import FastAPI
from contextlib import asynccontextmanager
from .db import Base, engine, async_engine

app = FastAPI()

@app.on_event("startup")
def startup():
    Base.metadata.create_all(bind=engine)

@asynccontextmanager
async def lifespan(app):
    async with async_engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    yield
"#;

#[test]
fn schema_created_at_startup_fires_in_startup_and_lifespan_but_not_in_tests_or_scripts() {
    let conftest = "import pytest\nfrom app.db import Base, engine\n\n@pytest.fixture\ndef db():\n    Base.metadata.create_all(bind=engine)\n    yield\n";
    let script = "from app.db import Base, engine\nBase.metadata.create_all(bind=engine)\n";
    let r = scan(&[
        FASTAPI_REQS,
        ("app/main.py", STARTUP_CREATE_ALL),
        ("tests/conftest.py", conftest),
        ("scripts/init_db.py", script),
    ]);
    assert_eq!(outcome(&r, "schema-created-at-startup"), Outcome::Fail);
    assert_eq!(found(&r, "schema-created-at-startup"), vec![at("app/main.py", 9), at("app/main.py", 14)]);

    let r = scan(&[
        FASTAPI_REQS,
        (
            "app/main.py",
            "from fastapi import FastAPI\n# Base.metadata.create_all(bind=engine)\napp = FastAPI()\n\"\"\"Base.metadata.create_all() is for tests.\"\"\"\n",
        ),
        ("tests/conftest.py", conftest),
    ]);
    assert_eq!(outcome(&r, "schema-created-at-startup"), Outcome::Pass);
}

#[test]
fn sqlite_in_production_fires_for_a_sqlite_default_url_and_unswitched_django_settings() {
    let db = "import os\nfrom sqlalchemy import create_engine\nURL = os.getenv(\"DATABASE_URL\", \"sqlite:///./app.db\")\nengine = create_engine(URL)\n";
    let r = scan(&[FASTAPI_REQS, ("app/db.py", db), ("app/main.py", "from fastapi import FastAPI\n")]);
    assert_eq!(found(&r, "sqlite-in-production"), vec![at("app/db.py", 3)]);

    let fstr = "from sqlalchemy import create_engine\nBASE = \"/data\"\nengine = create_engine(f\"sqlite:///{BASE}/app.db\")\n";
    let r = scan(&[FASTAPI_REQS, ("app/db.py", fstr), ("app/main.py", "from fastapi import FastAPI\n")]);
    assert_eq!(found(&r, "sqlite-in-production"), vec![at("app/db.py", 3)]);

    let ok = "import os\nfrom sqlalchemy import create_engine\nURL = os.environ[\"DATABASE_URL\"]\nargs = {\"check_same_thread\": False} if URL.startswith(\"sqlite://\") else {}\nengine = create_engine(URL, connect_args=args)\n";
    let r = scan(&[FASTAPI_REQS, ("app/db.py", ok), ("app/main.py", "from fastapi import FastAPI\n")]);
    assert_eq!(outcome(&r, "sqlite-in-production"), Outcome::Pass);

    let configs = "import os\nclass ProdConfig:\n    SQLALCHEMY_DATABASE_URI = os.environ[\"DATABASE_URL\"]\nclass DevConfig:\n    SQLALCHEMY_DATABASE_URI = \"sqlite:///dev.db\"\nclass TestConfig:\n    SQLALCHEMY_DATABASE_URI = \"sqlite://\"\nTEST_DATABASE_URL = \"sqlite://\"\n";
    let r = scan(&[("requirements.txt", "flask\n"), ("config.py", configs), ("app.py", "from flask import Flask\n")]);
    assert_eq!(outcome(&r, "sqlite-in-production"), Outcome::Pass, "dev and test configurations may use SQLite");

    let settings = "DEBUG = False\nDATABASES = {\n    \"default\": {\n        \"ENGINE\": \"django.db.backends.sqlite3\",\n        \"NAME\": BASE_DIR / \"db.sqlite3\",\n    }\n}\n";
    let django = [("requirements.txt", "Django==5.0\n"), ("mysite/settings.py", settings)];
    let r = scan(&django);
    assert_eq!(found(&r, "sqlite-in-production"), vec![at("mysite/settings.py", 4)]);
    let mut switched = django.to_vec();
    switched.push(("mysite/settings_prod.py", "import dj_database_url\nfrom .settings import *\nDATABASES = {\"default\": dj_database_url.config(conn_max_age=600)}\n"));
    assert_eq!(outcome(&scan(&switched), "sqlite-in-production"), Outcome::Pass);
}

#[test]
fn sync_driver_in_async_app_fires_for_a_sync_session_in_async_def_only() {
    let bad = "from fastapi import FastAPI, Depends\nfrom sqlalchemy.orm import Session\napp = FastAPI()\n\n@app.get(\"/items/{item_id}\")\nasync def read_item(item_id: int, db: Session = Depends(get_db)):\n    return db.get(Item, item_id)\n";
    let r = scan(&[SQLA_REQS, ("app/main.py", bad)]);
    assert_eq!(found(&r, "sync-driver-in-async-app"), vec![at("app/main.py", 7)]);

    let good = "from fastapi import FastAPI, Depends\nfrom sqlalchemy.orm import Session\nfrom sqlalchemy.ext.asyncio import AsyncSession\napp = FastAPI()\n\n@app.get(\"/items/{item_id}\")\ndef read_item(item_id: int, db: Session = Depends(get_db)):\n    return db.get(Item, item_id)\n\n@app.get(\"/other/{item_id}\")\nasync def other(item_id: int, db: AsyncSession = Depends(get_db)):\n    return await db.get(Item, item_id)\n";
    assert_eq!(outcome(&scan(&[SQLA_REQS, ("app/main.py", good)]), "sync-driver-in-async-app"), Outcome::Pass);
    let flask = [("requirements.txt", "flask\n"), ("app.py", "from flask import Flask\napp = Flask(__name__)\n")];
    assert_eq!(outcome(&scan(&flask), "sync-driver-in-async-app"), Outcome::NotApplicable);
}

#[test]
fn sync_driver_in_async_app_accepts_an_async_sessionmaker_named_session_local() {
    // The async tutorial keeps the sync tutorial's name for the factory.
    let db = "from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine\nengine = create_async_engine(URL)\nSessionLocal = async_sessionmaker(engine)\n\nasync def get_session():\n    async with SessionLocal() as session:\n        yield session\n";
    let r = scan(&[SQLA_REQS, ("app/db.py", db)]);
    assert_eq!(outcome(&r, "sync-driver-in-async-app"), Outcome::Pass);
    // Entered with `async with` in another module: async by construction.
    let route = "from fastapi import FastAPI\nfrom app.db import SessionLocal\napp = FastAPI()\n\n@app.get(\"/n\")\nasync def n():\n    async with SessionLocal() as s:\n        return await s.scalar(q)\n";
    assert_eq!(outcome(&scan(&[SQLA_REQS, ("app/main.py", route)]), "sync-driver-in-async-app"), Outcome::Pass);
    // A sync factory called in async def still fires.
    let sync = "from fastapi import FastAPI\nfrom app.db import SessionLocal\napp = FastAPI()\n\n@app.get(\"/n\")\nasync def n():\n    db = SessionLocal()\n    return db.scalar(q)\n";
    assert_eq!(
        found(&scan(&[SQLA_REQS, ("app/main.py", sync)]), "sync-driver-in-async-app"),
        vec![at("app/main.py", 7)]
    );
}

#[test]
fn unbounded_list_endpoint_fires_without_pagination_and_passes_with_limit_and_offset() {
    let bad = "from fastapi import FastAPI, Depends\napp = FastAPI()\n\n@app.get(\"/items\")\ndef list_items(db = Depends(get_db)):\n    items = db.query(Item).all()\n    return items\n\n@app.post(\"/items/bulk\")\ndef bulk(db = Depends(get_db)):\n    return db.query(Item).all()\n";
    let r = scan(&[SQLA_REQS, ("app/main.py", bad)]);
    assert_eq!(found(&r, "unbounded-list-endpoint"), vec![at("app/main.py", 6)], "POST routes are not list endpoints");

    let good = "from fastapi import FastAPI, Depends\napp = FastAPI()\n\n@app.get(\"/items\")\ndef list_items(skip: int = 0, limit: int = 100, db = Depends(get_db)):\n    return db.query(Item).offset(skip).limit(limit).all()\n\n@app.get(\"/stats\")\ndef stats(db = Depends(get_db)):\n    roles = db.query(Role).all()\n    return {\"count\": 3}\n";
    assert_eq!(outcome(&scan(&[SQLA_REQS, ("app/main.py", good)]), "unbounded-list-endpoint"), Outcome::Pass);

    let view = "from django.shortcuts import render\nfrom .models import Post\n\ndef post_list(request):\n    posts = Post.objects.all()\n    return render(request, \"blog/list.html\", {\"posts\": posts})\n\ndef latest(request):\n    posts = Post.objects.order_by(\"-id\")[:10]\n    return render(request, \"blog/list.html\", {\"posts\": posts})\n";
    let r = scan(&[("requirements.txt", "Django==5.0\n"), ("blog/views.py", view)]);
    assert_eq!(found(&r, "unbounded-list-endpoint"), vec![at("blog/views.py", 5)]);
}

#[test]
fn local_file_storage_fires_for_uploads_to_disk_unless_object_storage_is_used() {
    let upload = "import shutil\nfrom fastapi import FastAPI, UploadFile\napp = FastAPI()\nUPLOAD_DIR = \"uploads\"\n\n@app.post(\"/upload\")\nasync def upload(file: UploadFile):\n    with open(f\"{UPLOAD_DIR}/{file.filename}\", \"wb\") as out:\n        shutil.copyfileobj(file.file, out)\n    return {\"ok\": True}\n\ndef read_config():\n    with open(\"config.json\") as f:\n        return f.read()\n";
    let r = scan(&[FASTAPI_REQS, ("app/main.py", upload)]);
    assert_eq!(found(&r, "local-file-storage"), vec![at("app/main.py", 8), at("app/main.py", 9)]);

    let r = scan(&[("requirements.txt", "fastapi\nboto3\n"), ("app/main.py", upload)]);
    assert_eq!(outcome(&r, "local-file-storage"), Outcome::Pass);
    assert!(check(&r, "local-file-storage").summary.contains("boto3"));

    let flask = "import os\nfrom flask import Flask, request\napp = Flask(__name__)\n\n@app.route(\"/avatar\", methods=[\"POST\"])\ndef avatar():\n    f = request.files[\"file\"]\n    f.save(os.path.join(app.config[\"UPLOAD_FOLDER\"], f.filename))\n    return \"ok\"\n";
    let r = scan(&[("requirements.txt", "flask\n"), ("app.py", flask)]);
    assert_eq!(found(&r, "local-file-storage"), vec![at("app.py", 8)]);

    let thumbnail = "import io\nfrom PIL import Image\nfrom fastapi import FastAPI, UploadFile\napp = FastAPI()\n\n@app.post(\"/avatar\")\nasync def avatar(file: UploadFile):\n    image = Image.open(file.file)\n    buffer = io.BytesIO()\n    image.save(buffer, format=\"JPEG\")\n    return {\"size\": buffer.tell()}\n";
    assert_eq!(outcome(&scan(&[FASTAPI_REQS, ("app/main.py", thumbnail)]), "local-file-storage"), Outcome::Pass);
}

// ---------- reliability ----------

const BLOCKING: &str = r#"import asyncio, time, smtplib, sqlite3
import requests, boto3, httpx
from openai import OpenAI, AsyncOpenAI
from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

app = FastAPI()
client = OpenAI()
aclient = AsyncOpenAI()
s3 = boto3.client("s3")

@app.get("/a")
async def a(url: str):
    r = requests.get(url, timeout=5)
    time.sleep(1)
    out = client.chat.completions.create(model="m", messages=[])
    s3.put_object(Bucket="b", Key="k", Body=b"")
    smtp = smtplib.SMTP("mail", 25)
    conn = sqlite3.connect("x.db")
    cur = conn.cursor()
    cur.execute("SELECT 1")
    return r.text

@app.get("/b")
async def b(url: str):
    # requests.get(url) would block here
    """time.sleep(1) is what not to do."""
    async with httpx.AsyncClient() as h:
        await h.get(url)
    await asyncio.sleep(1)
    await aclient.chat.completions.create(model="m", messages=[])
    await asyncio.to_thread(requests.get, url, timeout=5)
    await run_in_threadpool(lambda: requests.get(url, timeout=5))

    def helper():
        time.sleep(1)
    return helper

def sync_helper(url):
    return requests.get(url, timeout=5)
"#;

#[test]
fn blocking_call_in_async_fires_on_sync_calls_in_async_def_only() {
    let test_file = "import time\nasync def test_x():\n    time.sleep(1)\n";
    let r = scan(&[FASTAPI_REQS, ("app/main.py", BLOCKING), ("tests/test_main.py", test_file)]);
    assert_eq!(outcome(&r, "blocking-call-in-async"), Outcome::Fail);
    let lines: Vec<u32> = found(&r, "blocking-call-in-async")
        .iter()
        .map(|(p, l)| {
            assert_eq!(p, "app/main.py");
            l.unwrap()
        })
        .collect();
    assert_eq!(lines, vec![14, 15, 16, 17, 18, 19, 20, 21]);

    let fine = "import asyncio, httpx\nfrom fastapi import FastAPI\napp = FastAPI()\n\n@app.get(\"/\")\nasync def index():\n    await asyncio.sleep(0)\n    return {}\n";
    assert_eq!(outcome(&scan(&[FASTAPI_REQS, ("app/main.py", fine)]), "blocking-call-in-async"), Outcome::Pass);
}

#[test]
fn heavy_work_at_import_fires_at_module_level_not_in_functions_or_main_guard() {
    let bad = "import spacy\nfrom sentence_transformers import SentenceTransformer\nfrom fastapi import FastAPI\napp = FastAPI()\nnlp = spacy.load(\"en_core_web_sm\")\nmodel = SentenceTransformer(\"all-MiniLM-L6-v2\")\n";
    let r = scan(&[FASTAPI_REQS, ("app/main.py", bad)]);
    assert_eq!(found(&r, "heavy-work-at-import"), vec![at("app/main.py", 5), at("app/main.py", 6)]);

    let good = "import spacy\nfrom functools import lru_cache\nfrom fastapi import FastAPI\napp = FastAPI()\n\n@lru_cache\ndef nlp():\n    return spacy.load(\"en_core_web_sm\")\n\nif __name__ == \"__main__\":\n    spacy.load(\"en_core_web_sm\")\n";
    assert_eq!(outcome(&scan(&[FASTAPI_REQS, ("app/main.py", good)]), "heavy-work-at-import"), Outcome::Pass);
}

#[test]
fn outbound_http_no_timeout_fires_for_requests_without_timeout_and_httpx_timeout_none() {
    let src = "import requests, httpx\nfrom fastapi import FastAPI\napp = FastAPI()\n\ndef fetch(url, **kw):\n    a = requests.get(url)\n    b = requests.post(url, json={}, timeout=10)\n    c = httpx.get(url)\n    d = httpx.get(url, timeout=None)\n    e = requests.get(url, **kw)\n    return a, b, c, d, e\n";
    let r = scan(&[FASTAPI_REQS, ("app/client.py", src), ("app/main.py", "from fastapi import FastAPI\n")]);
    assert_eq!(found(&r, "outbound-http-no-timeout"), vec![at("app/client.py", 6), at("app/client.py", 9)]);
    let ok = "import requests\n\ndef fetch(url):\n    return requests.get(url, timeout=(3, 10))\n";
    let r = scan(&[FASTAPI_REQS, ("app/client.py", ok), ("app/main.py", "from fastapi import FastAPI\n")]);
    assert_eq!(outcome(&r, "outbound-http-no-timeout"), Outcome::Pass);
}

#[test]
fn no_graceful_shutdown_is_not_applicable_with_a_reason() {
    let r = scan(&[FASTAPI_REQS, ("app/main.py", "from fastapi import FastAPI\n")]);
    assert_eq!(outcome(&r, "no-graceful-shutdown"), Outcome::NotApplicable);
    assert!(check(&r, "no-graceful-shutdown").summary.contains("uvicorn"));
    let r = scan(&[("package.json", r#"{"dependencies":{"express":"^4"}}"#)]);
    assert!(check(&r, "no-graceful-shutdown").summary.contains("not yet analysed"));
}

#[test]
fn swallowed_exceptions_fires_on_broad_empty_handlers_in_app_code() {
    let src = "import logging\nlog = logging.getLogger(__name__)\n\ndef a():\n    try:\n        x()\n    except Exception:\n        pass\n    try:\n        x()\n    except:\n        ...\n    try:\n        x()\n    except ValueError:\n        pass\n    try:\n        x()\n    except Exception as e:\n        log.exception(\"x failed\")\n";
    let test = "def test_x():\n    try:\n        x()\n    except Exception:\n        pass\n";
    let r = scan(&[
        FASTAPI_REQS,
        ("app/util.py", src),
        ("app/main.py", "from fastapi import FastAPI\n"),
        ("tests/test_util.py", test),
    ]);
    assert_eq!(found(&r, "swallowed-exceptions"), vec![at("app/util.py", 7), at("app/util.py", 11)]);
    let r = scan(&[FASTAPI_REQS, ("app/main.py", "from fastapi import FastAPI\n"), ("tests/test_util.py", test)]);
    assert_eq!(outcome(&r, "swallowed-exceptions"), Outcome::Pass);
}

#[test]
fn no_background_worker_fires_for_email_in_a_handler_without_a_queue() {
    let src = "import smtplib\nfrom fastapi import FastAPI, BackgroundTasks\napp = FastAPI()\n\n@app.post(\"/signup\")\ndef signup(email: str):\n    with smtplib.SMTP(\"mail\", 25) as s:\n        s.sendmail(\"a\", email, \"hi\")\n    return {}\n";
    let r = scan(&[FASTAPI_REQS, ("app/main.py", src)]);
    assert_eq!(found(&r, "no-background-worker"), vec![at("app/main.py", 7)]);
    let r = scan(&[("requirements.txt", "fastapi\ncelery[redis]==5.4\n"), ("app/main.py", src)]);
    assert_eq!(outcome(&r, "no-background-worker"), Outcome::Pass);

    let deferred = "import smtplib\nfrom fastapi import FastAPI, BackgroundTasks\napp = FastAPI()\n\ndef send(email):\n    with smtplib.SMTP(\"mail\", 25) as s:\n        s.sendmail(\"a\", email, \"hi\")\n\n@app.post(\"/signup\")\ndef signup(email: str, tasks: BackgroundTasks):\n    tasks.add_task(send, email)\n    return {}\n";
    assert_eq!(outcome(&scan(&[FASTAPI_REQS, ("app/main.py", deferred)]), "no-background-worker"), Outcome::Pass);

    let express = [("package.json", r#"{"dependencies":{"express":"^4"}}"#)];
    assert_eq!(outcome(&scan(&express), "no-background-worker"), Outcome::NotApplicable);
    let bull = [("package.json", r#"{"dependencies":{"express":"^4","bullmq":"^5"}}"#)];
    assert_eq!(outcome(&scan(&bull), "no-background-worker"), Outcome::Pass);
}

// ---------- observability ----------

#[test]
fn health_endpoint_missing_fails_without_a_route_and_passes_with_one() {
    let none = "from fastapi import FastAPI\napp = FastAPI()\n# @app.get(\"/health\")\n\n@app.get(\"/items/{id}/status\")\ndef status(id: int):\n    return {}\n";
    let r = scan(&[FASTAPI_REQS, ("app/main.py", none)]);
    assert_eq!(outcome(&r, "health-endpoint-missing"), Outcome::Fail);

    let some = "from fastapi import FastAPI\napp = FastAPI()\n\n@app.get(\"/api/health\")\ndef health():\n    return {\"status\": \"ok\"}\n";
    let r = scan(&[FASTAPI_REQS, ("app/main.py", some)]);
    assert_eq!(outcome(&r, "health-endpoint-missing"), Outcome::Pass);
    assert_eq!(check(&r, "health-endpoint-missing").summary, "health route /api/health at app/main.py:4");

    let urls = "from django.urls import path\nfrom . import views\nurlpatterns = [\n    path(\"healthz/\", views.healthz),\n]\n";
    let r = scan(&[("requirements.txt", "Django==5.0\n"), ("mysite/urls.py", urls)]);
    assert_eq!(outcome(&r, "health-endpoint-missing"), Outcome::Pass);
    assert_eq!(
        outcome(&scan(&[("go.mod", "module x\n\ngo 1.22\n")]), "health-endpoint-missing"),
        Outcome::NotApplicable
    );
}

#[test]
fn health_shallow_fails_when_no_health_route_touches_the_database() {
    let shallow = "from fastapi import FastAPI\napp = FastAPI()\n\n@app.get(\"/health\")\ndef health():\n    return {\"status\": \"ok\"}\n";
    let r = scan(&[SQLA_REQS, ("app/main.py", shallow)]);
    assert_eq!(found(&r, "health-shallow"), vec![at("app/main.py", 4)]);

    let deep = "from fastapi import FastAPI, Depends\nfrom sqlalchemy import text\napp = FastAPI()\n\n@app.get(\"/health\")\ndef health():\n    return {\"status\": \"ok\"}\n\n@app.get(\"/ready\")\ndef ready(db = Depends(get_db)):\n    db.execute(text(\"SELECT 1\"))\n    return {\"status\": \"ok\"}\n";
    assert_eq!(outcome(&scan(&[SQLA_REQS, ("app/main.py", deep)]), "health-shallow"), Outcome::Pass);

    let no_route = "from fastapi import FastAPI\napp = FastAPI()\n";
    assert_eq!(outcome(&scan(&[SQLA_REQS, ("app/main.py", no_route)]), "health-shallow"), Outcome::NotApplicable);
    assert_eq!(
        outcome(&scan(&[FASTAPI_REQS, ("app/main.py", shallow)]), "health-shallow"),
        Outcome::NotApplicable,
        "no database to check"
    );
}

#[test]
fn structured_logging_missing_recognises_python_go_and_rust_setups() {
    let plain = [FASTAPI_REQS, ("app/main.py", "import logging\nfrom fastapi import FastAPI\napp = FastAPI()\n")];
    assert_eq!(outcome(&scan(&plain), "structured-logging-missing"), Outcome::Fail);
    assert_eq!(
        outcome(&scan(&[("requirements.txt", "fastapi\nstructlog\n")]), "structured-logging-missing"),
        Outcome::Pass
    );

    let formatter = "import json, logging\nclass JsonFormatter(logging.Formatter):\n    def format(self, record):\n        return json.dumps({\"msg\": record.getMessage()})\n";
    let r = scan(&[FASTAPI_REQS, ("app/logs.py", formatter), ("app/main.py", "from fastapi import FastAPI\n")]);
    assert_eq!(outcome(&r, "structured-logging-missing"), Outcome::Pass);

    let go = "module x\n\ngo 1.22\n\nrequire (\n\tgithub.com/gin-gonic/gin v1.9.1\n\tgo.uber.org/zap v1.27.0\n)\n";
    assert_eq!(outcome(&scan(&[("go.mod", go)]), "structured-logging-missing"), Outcome::Pass);

    let cargo = |features: &str| {
        format!(
            "[package]\nname='x'\nversion='0.1.0'\n[dependencies]\naxum = \"0.7\"\ntracing-subscriber = {{ version = \"0.3\", features = [{features}] }}\n"
        )
    };
    assert_eq!(
        outcome(&scan(&[("Cargo.toml", &cargo("\"env-filter\", \"json\""))]), "structured-logging-missing"),
        Outcome::Pass
    );
    assert_eq!(
        outcome(&scan(&[("Cargo.toml", &cargo("\"env-filter\""))]), "structured-logging-missing"),
        Outcome::Fail
    );
    assert_eq!(outcome(&scan(&[("lib.py", "import logging\n")]), "structured-logging-missing"), Outcome::NotApplicable);
}

#[test]
fn print_logging_counts_prints_in_server_code_only() {
    let server = "from fastapi import FastAPI\napp = FastAPI()\n\n@app.get(\"/\")\ndef index():\n    print(\"a\")\n    print(\"b\")\n    print(\"c\")\n    print(\"d\")\n    return {}\n\ndef other():\n    print(\"e\")\n    print(\"f\")\n";
    let r = scan(&[FASTAPI_REQS, ("app/main.py", server)]);
    assert_eq!(outcome(&r, "print-logging"), Outcome::Fail);
    assert_eq!(found(&r, "print-logging"), vec![at("app/main.py", 6)]);
    assert!(check(&r, "print-logging").findings[0].message.starts_with("6 print() calls"));

    let cli = "from app.db import seed\n\ndef main():\n    for i in range(9):\n        print(i)\n    print(\"a\"); print(\"b\"); print(\"c\"); print(\"d\"); print(\"e\"); print(\"f\")\n\nif __name__ == \"__main__\":\n    main()\n";
    let few = "from fastapi import FastAPI\napp = FastAPI()\nprint(\"starting\")\n";
    let r = scan(&[
        FASTAPI_REQS,
        ("app/main.py", few),
        ("app/seed.py", cli),
        ("scripts/report.py", cli),
        ("manage.py", cli),
    ]);
    assert_eq!(outcome(&r, "print-logging"), Outcome::Pass);
}

#[test]
fn error_monitoring_missing_recognises_sdks_in_several_ecosystems() {
    let plain = [FASTAPI_REQS, ("app/main.py", "from fastapi import FastAPI\n")];
    assert_eq!(outcome(&scan(&plain), "error-monitoring-missing"), Outcome::Fail);
    assert_eq!(
        outcome(&scan(&[("requirements.txt", "fastapi\nsentry-sdk[fastapi]==2.0\n")]), "error-monitoring-missing"),
        Outcome::Pass
    );
    let init = "import sentry_sdk\nfrom fastapi import FastAPI\nsentry_sdk.init(dsn=None)\n";
    assert_eq!(outcome(&scan(&[FASTAPI_REQS, ("app/main.py", init)]), "error-monitoring-missing"), Outcome::Pass);
    let node = [("package.json", r#"{"dependencies":{"express":"^4","@sentry/node":"^8"}}"#)];
    assert_eq!(outcome(&scan(&node), "error-monitoring-missing"), Outcome::Pass);
    let go = "module x\n\ngo 1.22\n\nrequire (\n\tgithub.com/gin-gonic/gin v1.9.1\n\tgithub.com/getsentry/sentry-go v0.27.0\n)\n";
    assert_eq!(outcome(&scan(&[("go.mod", go)]), "error-monitoring-missing"), Outcome::Pass);
}

#[test]
fn metrics_missing_recognises_prometheus_exporters() {
    let plain = [FASTAPI_REQS, ("app/main.py", "from fastapi import FastAPI\n")];
    assert_eq!(outcome(&scan(&plain), "metrics-missing"), Outcome::Fail);
    assert_eq!(
        outcome(&scan(&[("requirements.txt", "fastapi\nprometheus-fastapi-instrumentator\n")]), "metrics-missing"),
        Outcome::Pass
    );
    let go = "module x\n\ngo 1.22\n\nrequire (\n\tgithub.com/go-chi/chi/v5 v5.0.12\n\tgithub.com/prometheus/client_golang v1.19.0\n)\n";
    assert_eq!(outcome(&scan(&[("go.mod", go)]), "metrics-missing"), Outcome::Pass);
    let rust = "[package]\nname='x'\nversion='0.1.0'\n[dependencies]\nactix-web = \"4\"\nmetrics-exporter-prometheus = \"0.15\"\n";
    assert_eq!(outcome(&scan(&[("Cargo.toml", rust)]), "metrics-missing"), Outcome::Pass);
}

#[test]
fn request_id_missing_recognises_middleware_and_header_handling() {
    let plain = [FASTAPI_REQS, ("app/main.py", "from fastapi import FastAPI\n")];
    assert_eq!(outcome(&scan(&plain), "request-id-missing"), Outcome::Fail);
    assert_eq!(
        outcome(&scan(&[("requirements.txt", "fastapi\nasgi-correlation-id\n")]), "request-id-missing"),
        Outcome::Pass
    );
    let mw = "import uuid\nfrom fastapi import FastAPI, Request\napp = FastAPI()\n\n@app.middleware(\"http\")\nasync def rid(request: Request, call_next):\n    rid = request.headers.get(\"X-Request-ID\") or str(uuid.uuid4())\n    response = await call_next(request)\n    response.headers[\"X-Request-ID\"] = rid\n    return response\n";
    assert_eq!(outcome(&scan(&[FASTAPI_REQS, ("app/main.py", mw)]), "request-id-missing"), Outcome::Pass);
    let comment_only = "from fastapi import FastAPI\n# TODO: propagate X-Request-ID\napp = FastAPI()\n";
    assert_eq!(outcome(&scan(&[FASTAPI_REQS, ("app/main.py", comment_only)]), "request-id-missing"), Outcome::Fail);
    let rust = "[package]\nname='x'\nversion='0.1.0'\n[dependencies]\naxum = \"0.7\"\ntower-http = { version = \"0.5\", features = [\"request-id\", \"trace\"] }\n";
    assert_eq!(outcome(&scan(&[("Cargo.toml", rust)]), "request-id-missing"), Outcome::Pass);
    // A hand-written actix middleware that propagates the header.
    let actix = "[package]\nname='x'\nversion='0.1.0'\n[dependencies]\nactix-web = \"4\"\n";
    let mw = "pub const REQUEST_ID: &str = \"x-request-id\";\nfn main() {}\n";
    assert_eq!(outcome(&scan(&[("Cargo.toml", actix), ("src/main.rs", mw)]), "request-id-missing"), Outcome::Pass);
    assert_eq!(
        outcome(&scan(&[("Cargo.toml", actix), ("src/main.rs", "fn main() {}\n")]), "request-id-missing"),
        Outcome::Fail
    );
}

#[test]
fn log_level_hardcoded_fires_for_a_fixed_debug_level_only() {
    let bad = "import logging\nlogging.basicConfig(level=logging.DEBUG)\nlogger = logging.getLogger(__name__)\nlogger.setLevel(\"DEBUG\")\n";
    let r = scan(&[FASTAPI_REQS, ("app/log.py", bad), ("app/main.py", "from fastapi import FastAPI\n")]);
    assert_eq!(found(&r, "log-level-hardcoded"), vec![at("app/log.py", 2), at("app/log.py", 4)]);

    let good = "import logging, os\nlogging.basicConfig(level=logging.INFO)\nlogging.getLogger().setLevel(os.getenv(\"LOG_LEVEL\", \"INFO\"))\nif os.getenv(\"DEBUG\"):\n    logging.getLogger().setLevel(logging.DEBUG)\n";
    let r = scan(&[FASTAPI_REQS, ("app/log.py", good), ("app/main.py", "from fastapi import FastAPI\n")]);
    assert_eq!(outcome(&r, "log-level-hardcoded"), Outcome::Pass);
}

#[test]
fn health_routes_are_found_by_keyword_path_and_router_prefix_but_not_by_an_orders_status_route() {
    let keyword = "from fastapi import FastAPI\napp = FastAPI()\n\n@app.get(path=\"/healthz\")\nasync def healthz():\n    return {}\n";
    assert_eq!(outcome(&scan(&[FASTAPI_REQS, ("app/main.py", keyword)]), "health-endpoint-missing"), Outcome::Pass);

    let prefixed = "from fastapi import APIRouter\nrouter = APIRouter(prefix=\"/health\", tags=[\"health\"])\n\n@router.get(\"/\")\nasync def check():\n    return {}\n";
    let r = scan(&[FASTAPI_REQS, ("app/health/router.py", prefixed)]);
    assert_eq!(check(&r, "health-endpoint-missing").summary, "health route /health at app/health/router.py:2");

    let orders = "from fastapi import APIRouter\nrouter = APIRouter(prefix=\"/products\")\n\n@router.get(\"/status\")\ndef get_products_by_status(status: str):\n    return []\n";
    assert_eq!(outcome(&scan(&[FASTAPI_REQS, ("app/products.py", orders)]), "health-endpoint-missing"), Outcome::Fail);
    let status =
        "from flask import Flask\napp = Flask(__name__)\n\n@app.route(\"/status\")\ndef status():\n    return \"ok\"\n";
    assert_eq!(
        outcome(&scan(&[("requirements.txt", "flask\n"), ("app.py", status)]), "health-endpoint-missing"),
        Outcome::Pass
    );
}

#[test]
fn no_background_worker_follows_one_helper_in_the_same_file() {
    let src = "from openai import OpenAI\nfrom fastapi import FastAPI\napp = FastAPI()\nclient = OpenAI()\n\ndef summarise(text):\n    return client.chat.completions.create(model=\"m\", messages=[{\"role\": \"user\", \"content\": text}])\n\n@app.post(\"/summaries\")\ndef create_summary(text: str):\n    result = summarise(text)\n    return {\"summary\": result}\n";
    let r = scan(&[FASTAPI_REQS, ("app/main.py", src)]);
    assert_eq!(found(&r, "no-background-worker"), vec![at("app/main.py", 11)]);
    assert!(check(&r, "no-background-worker").findings[0].message.contains("calls an LLM (in summarise)"));
}

#[test]
fn flask_create_all_fires_at_import_but_not_in_a_cli_command() {
    let app = "from flask import Flask\nfrom flask_sqlalchemy import SQLAlchemy\napp = Flask(__name__)\ndb = SQLAlchemy(app)\nwith app.app_context():\n    db.create_all()\n";
    let r = scan(&[("requirements.txt", "flask\nflask-sqlalchemy\n"), ("app.py", app)]);
    assert_eq!(found(&r, "schema-created-at-startup"), vec![at("app.py", 6)]);
    let cli = "from flask import Flask\nfrom flask_sqlalchemy import SQLAlchemy\napp = Flask(__name__)\ndb = SQLAlchemy(app)\n\n@app.cli.command(\"init-db\")\ndef init_db():\n    db.create_all()\n";
    let r = scan(&[("requirements.txt", "flask\nflask-sqlalchemy\n"), ("app.py", cli)]);
    assert_eq!(outcome(&r, "schema-created-at-startup"), Outcome::Pass);
}

#[test]
fn urlopen_without_timeout_and_heavy_class_attributes_are_found() {
    let src = "import urllib.request\nfrom transformers import pipeline\nfrom fastapi import FastAPI\napp = FastAPI()\n\nclass Classifier:\n    model = pipeline(\"sentiment-analysis\")\n\ndef fetch(url):\n    return urllib.request.urlopen(url).read()\n\ndef fetch_ok(url):\n    return urllib.request.urlopen(url, timeout=5).read()\n";
    let r = scan(&[FASTAPI_REQS, ("app/main.py", src)]);
    assert_eq!(found(&r, "outbound-http-no-timeout"), vec![at("app/main.py", 10)]);
    assert_eq!(found(&r, "heavy-work-at-import"), vec![at("app/main.py", 7)]);
}

#[test]
fn language_neutral_checks_read_node_and_go_services() {
    let node = [(
        "package.json",
        r#"{"dependencies":{"express":"^4","pino":"^9","prom-client":"^15","express-request-id":"^3"}}"#,
    )];
    let r = scan(&node);
    for id in ["structured-logging-missing", "metrics-missing", "request-id-missing"] {
        assert_eq!(outcome(&r, id), Outcome::Pass, "{id}");
    }
    assert_eq!(outcome(&r, "error-monitoring-missing"), Outcome::Fail);
    assert_eq!(outcome(&r, "print-logging"), Outcome::NotApplicable, "print() is a Python check");

    let go_mod = "module x\n\ngo 1.22\n\nrequire github.com/go-chi/chi/v5 v5.0.12\n";
    let main = "package main\n\nimport (\n\t\"log/slog\"\n\t\"os\"\n\t\"github.com/go-chi/chi/v5/middleware\"\n)\n\nfunc main() {\n\tlogger := slog.New(slog.NewJSONHandler(os.Stdout, nil))\n\t_ = logger\n\t_ = middleware.RequestID\n}\n";
    let r = scan(&[("go.mod", go_mod), ("main.go", main)]);
    assert_eq!(outcome(&r, "structured-logging-missing"), Outcome::Pass);
    assert_eq!(outcome(&r, "request-id-missing"), Outcome::Pass);
    assert_eq!(check(&r, "request-id-missing").summary, "request id middleware at main.go:12");

    let plain = [("lib.py", "def f():\n    print(1)\n")];
    for id in ["error-monitoring-missing", "metrics-missing", "request-id-missing", "no-background-worker"] {
        assert_eq!(outcome(&scan(&plain), id), Outcome::NotApplicable, "{id}");
    }
}

#[test]
fn loguru_serialize_counts_as_structured_logging_and_debug_sink_is_hardcoded() {
    let src = "import sys\nfrom loguru import logger\nfrom fastapi import FastAPI\napp = FastAPI()\nlogger.add(sys.stdout, serialize=True, level=\"DEBUG\")\n";
    let r = scan(&[FASTAPI_REQS, ("app/main.py", src)]);
    assert_eq!(outcome(&r, "structured-logging-missing"), Outcome::Pass);
    assert_eq!(found(&r, "log-level-hardcoded"), vec![at("app/main.py", 5)]);
}

#[test]
fn blocking_db_cursor_via_with_statement_and_uploads_moved_into_an_upload_dir() {
    let src = "import sqlite3, shutil\nfrom fastapi import FastAPI\napp = FastAPI()\nUPLOAD_DIR = \"/srv/uploads\"\n\nasync def count():\n    with sqlite3.connect(\"x.db\") as conn:\n        rows = conn.execute(\"SELECT 1\").fetchall()\n    return rows\n\ndef keep(tmp_path, name):\n    shutil.move(tmp_path, f\"{UPLOAD_DIR}/{name}\")\n\ndef backup(a, b):\n    shutil.copy(a, b)\n";
    let r = scan(&[FASTAPI_REQS, ("app/main.py", src)]);
    assert_eq!(found(&r, "blocking-call-in-async"), vec![at("app/main.py", 7), at("app/main.py", 8)]);
    assert_eq!(found(&r, "local-file-storage"), vec![at("app/main.py", 12)]);
}
