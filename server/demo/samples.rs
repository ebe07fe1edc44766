//! The demo's sample services: small but realistic backends of different
//! stacks, each with months of history in which problems are introduced,
//! fixed and sometimes reintroduced, so trends and finding timelines have
//! something to show.

/// One change to a file in a commit.
#[derive(Debug, Clone)]
pub enum Change {
    Write(&'static str, Cow<'static, str>),
    Remove(&'static str),
    Rename(&'static str, &'static str),
}

/// A commit of a sample repository.
#[derive(Debug, Clone)]
pub struct SampleCommit {
    /// Days before "now" at which the commit is dated.
    pub days_ago: i64,
    pub message: &'static str,
    pub author: (&'static str, &'static str),
    pub changes: Vec<Change>,
}

/// A sample repository and the team that owns it.
#[derive(Debug, Clone)]
pub struct SampleRepo {
    pub name: &'static str,
    pub team: &'static str,
    pub commits: Vec<SampleCommit>,
}

use Change::{Remove, Rename};
use std::borrow::Cow;

/// Writes a file; contents are usually constants, sometimes built at run
/// time (the leaked credentials below, so Shipshape's own scan stays clean).
fn write(path: &'static str, contents: impl Into<Cow<'static, str>>) -> Change {
    Change::Write(path, contents.into())
}

const ADA: (&str, &str) = ("Ada Lovelace", "ada@demo.shipshape.dev");
const GRACE: (&str, &str) = ("Grace Hopper", "grace@demo.shipshape.dev");
const LINUS: (&str, &str) = ("Linus Pauling", "linus@demo.shipshape.dev");

fn commit(
    days_ago: i64,
    author: (&'static str, &'static str),
    message: &'static str,
    changes: Vec<Change>,
) -> SampleCommit {
    SampleCommit { days_ago, message, author, changes }
}

/// Every sample repository, oldest commit first in each.
pub fn all() -> Vec<SampleRepo> {
    vec![payments_api(), ml_inference(), shop_admin(), notify_worker(), inventory_api()]
}

const PAY_REQS_LOOSE: &str = "fastapi\nuvicorn\nsqlalchemy\npsycopg[binary]\n";
const PAY_REQS: &str = "fastapi==0.115.0\nuvicorn[standard]==0.30.6\nsqlalchemy==2.0.35\npsycopg[binary]==3.2.3\nalembic==1.13.3\nsentry-sdk==2.14.0\npython-json-logger==2.0.7\nslowapi==0.1.9\nasgi-correlation-id==4.3.3\nprometheus-fastapi-instrumentator==7.0.0\npytest==8.3.3\nhttpx==0.27.2\n";
const PAY_MAIN_V1: &str = r#"from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from app.routes import payments

app = FastAPI(title="payments")
app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_credentials=True)
app.include_router(payments.router)
"#;
const PAY_MAIN_V2: &str = r#"import logging
import os

import sentry_sdk
from asgi_correlation_id import CorrelationIdMiddleware
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from prometheus_fastapi_instrumentator import Instrumentator
from pythonjsonlogger import jsonlogger
from slowapi import Limiter
from slowapi.util import get_remote_address
from sqlalchemy import text

from app.db import engine
from app.routes import payments

handler = logging.StreamHandler()
handler.setFormatter(jsonlogger.JsonFormatter())
logging.basicConfig(handlers=[handler], level=os.environ.get("LOG_LEVEL", "INFO"))
sentry_sdk.init(dsn=os.environ.get("SENTRY_DSN"), traces_sample_rate=0.1)

docs = "/docs" if os.environ.get("ENVIRONMENT") == "development" else None
app = FastAPI(title="payments", docs_url=docs, redoc_url=None, openapi_url=docs and "/openapi.json")
app.add_middleware(CORSMiddleware, allow_origins=os.environ["ALLOWED_ORIGINS"].split(","), allow_credentials=True)
app.add_middleware(CorrelationIdMiddleware)
app.state.limiter = Limiter(key_func=get_remote_address, storage_uri=os.environ["REDIS_URL"])
Instrumentator().instrument(app).expose(app)
app.include_router(payments.router)


@app.middleware("http")
async def security_headers(request, call_next):
    response = await call_next(request)
    response.headers["Strict-Transport-Security"] = "max-age=63072000"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@app.get("/health")
def health():
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    return {"status": "ok"}
"#;
const PAY_DB: &str = r#"import os

from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

engine = create_engine(os.environ["DATABASE_URL"], pool_pre_ping=True)
SessionLocal = sessionmaker(bind=engine)
"#;
const PAY_ROUTES: &str = r#"from fastapi import APIRouter, Depends
from sqlalchemy.orm import Session

from app.db import SessionLocal
from app.models import Payment

router = APIRouter(prefix="/payments")


def get_db():
    db = SessionLocal()
    try:
        yield db
    finally:
        db.close()


@router.get("/")
def list_payments(limit: int = 50, offset: int = 0, db: Session = Depends(get_db)):
    return db.query(Payment).offset(offset).limit(limit).all()
"#;
const PAY_MODELS: &str = r#"from sqlalchemy import Column, Integer, Numeric, String
from sqlalchemy.orm import declarative_base

Base = declarative_base()


class Payment(Base):
    __tablename__ = "payments"
    id = Column(Integer, primary_key=True)
    amount = Column(Numeric(12, 2), nullable=False)
    currency = Column(String(3), nullable=False)
"#;
const PAY_TESTS: &str = r#"from fastapi.testclient import TestClient


def test_list_payments_is_paginated(client: TestClient):
    response = client.get("/payments/?limit=2")
    assert response.status_code == 200
    assert len(response.json()) <= 2


def test_health_checks_the_database(client: TestClient):
    assert client.get("/health").json() == {"status": "ok"}
"#;
const PAY_CI: &str = r#"name: ci
on: [push, pull_request]
permissions:
  contents: read
jobs:
  test:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.12"
      - run: pip install -r requirements.txt
      - run: pytest --cov=app
"#;
const PAY_DOCKERFILE: &str = r#"FROM python:3.12-slim AS build
WORKDIR /app
COPY requirements.txt .
RUN pip wheel --wheel-dir /wheels -r requirements.txt

FROM python:3.12-slim
RUN useradd --create-home app
WORKDIR /app
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*
COPY app app
USER app
HEALTHCHECK CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=2)"
CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000"]
"#;
const PAY_README: &str = r#"# payments-api

Takes card payments for the shop and the subscription service.

## Getting started

```sh
pip install -r requirements.txt
alembic upgrade head
uvicorn app.main:app --reload
```

## Configuration

| variable | meaning |
|---|---|
| DATABASE_URL | Postgres URL |
| ALLOWED_ORIGINS | comma-separated origins |
| REDIS_URL | rate limiter storage |
| SENTRY_DSN | error reporting |
"#;
const ALEMBIC_INI: &str = "[alembic]\nscript_location = migrations\n";
const PAY_MIGRATION: &str = r#""""create payments"""
from alembic import op
import sqlalchemy as sa

revision = "0001"
down_revision = None


def upgrade():
    op.create_table("payments", sa.Column("id", sa.Integer, primary_key=True), sa.Column("amount", sa.Numeric(12, 2)))


def downgrade():
    op.drop_table("payments")
"#;
/// A committed .env with a real-looking database password and webhook secret.
fn leaked_env() -> String {
    let password = ["Xk93", "mQz7", "LpW2", "vR8t"].concat();
    let webhook = ["whsec_", "9fK2mQ8x", "Lz7Wv3Rt", "6Yp1Nc4Hb5"].concat();
    format!("DATABASE_URL=postgres://payments:{password}@db.internal:5432/payments\nSTRIPE_WEBHOOK_SECRET={webhook}\n")
}

fn payments_api() -> SampleRepo {
    SampleRepo {
        name: "payments-api",
        team: "payments",
        commits: vec![
            commit(
                170,
                ADA,
                "First version of the payments API",
                vec![
                    write("requirements.txt", PAY_REQS_LOOSE),
                    write("app/__init__.py", ""),
                    write("app/main.py", PAY_MAIN_V1),
                    write("app/db.py", PAY_DB),
                    write("app/models.py", PAY_MODELS),
                    write("app/routes/__init__.py", ""),
                    write("app/routes/payments.py", PAY_ROUTES),
                ],
            ),
            commit(
                150,
                GRACE,
                "Add tests and CI",
                vec![write("tests/test_payments.py", PAY_TESTS), write(".github/workflows/ci.yml", PAY_CI)],
            ),
            commit(
                120,
                ADA,
                "Pin dependencies, add Alembic",
                vec![
                    write("requirements.txt", PAY_REQS),
                    write("alembic.ini", ALEMBIC_INI),
                    write("migrations/versions/0001_create_payments.py", PAY_MIGRATION),
                ],
            ),
            commit(
                95,
                GRACE,
                "Container image, README",
                vec![
                    write("Dockerfile", PAY_DOCKERFILE),
                    write(".dockerignore", ".git\n.env\n__pycache__\n"),
                    write("README.md", PAY_README),
                    write(".gitignore", "__pycache__/\n.venv/\n"),
                ],
            ),
            commit(
                70,
                ADA,
                "Production hardening: CORS from env, health, logs, Sentry, limits",
                vec![write("app/main.py", PAY_MAIN_V2)],
            ),
            commit(40, LINUS, "Local settings for the staging debug session", vec![write(".env", leaked_env())]),
            commit(
                33,
                GRACE,
                "Remove committed .env, ignore it",
                vec![Remove(".env"), write(".gitignore", "__pycache__/\n.venv/\n.env\n")],
            ),
            commit(
                12,
                ADA,
                "Ownership, security policy, dependency updates",
                vec![
                    write("CODEOWNERS", "* @demo/payments\n"),
                    write("SECURITY.md", "# Security\n\nReport vulnerabilities to security@demo.shipshape.dev.\n"),
                    write(
                        ".github/dependabot.yml",
                        "version: 2\nupdates:\n  - package-ecosystem: pip\n    directory: /\n    schedule:\n      interval: weekly\n",
                    ),
                    write(".env.example", "DATABASE_URL=\nALLOWED_ORIGINS=\nREDIS_URL=\nSENTRY_DSN=\n"),
                ],
            ),
        ],
    }
}

const ML_REQS: &str = "fastapi\nuvicorn\nopenai\ntransformers\ntorch\nsqlalchemy\n";
const ML_MAIN_V1: &str = r#"import os
import time

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from openai import OpenAI
from transformers import pipeline

from app.db import Base, engine

SECRET_KEY = os.getenv("SECRET_KEY", "dev-secret-change-me")
client = OpenAI()
sentiment = pipeline("sentiment-analysis")

app = FastAPI()
app.add_middleware(CORSMiddleware, allow_origins=["*"])
app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["*"])
Base.metadata.create_all(bind=engine)

hits = {}


@app.middleware("http")
async def rate_limit(request, call_next):
    now = time.time()
    ip = request.client.host
    hits[ip] = [t for t in hits.get(ip, []) if now - t < 60] + [now]
    return await call_next(request)


@app.post("/summarize")
async def summarize(text: str):
    result = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": text}])
    return {"summary": result.choices[0].message.content, "mood": sentiment(text)[0]}
"#;
const ML_MAIN_V2: &str = r#"import os
import time

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from openai import AsyncOpenAI
from transformers import pipeline

from app.db import Base, engine

SECRET_KEY = os.getenv("SECRET_KEY", "dev-secret-change-me")
client = AsyncOpenAI()
sentiment = pipeline("sentiment-analysis")

app = FastAPI()
app.add_middleware(CORSMiddleware, allow_origins=os.environ["ALLOWED_ORIGINS"].split(","))
Base.metadata.create_all(bind=engine)

hits = {}


@app.middleware("http")
async def rate_limit(request, call_next):
    now = time.time()
    ip = request.client.host
    hits[ip] = [t for t in hits.get(ip, []) if now - t < 60] + [now]
    return await call_next(request)


@app.get("/healthz")
async def healthz():
    return {"ok": True}


@app.post("/summarize")
async def summarize(text: str):
    result = await client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": text}])
    return {"summary": result.choices[0].message.content, "mood": sentiment(text)[0]}
"#;
const ML_DB: &str = r#"from sqlalchemy import create_engine
from sqlalchemy.orm import declarative_base

engine = create_engine("sqlite:///./app.db")
Base = declarative_base()
"#;

fn ml_inference() -> SampleRepo {
    SampleRepo {
        name: "ml-inference",
        team: "data",
        commits: vec![
            commit(
                120,
                LINUS,
                "Hackathon prototype: summaries and sentiment",
                vec![
                    write("requirements.txt", ML_REQS),
                    write("app/__init__.py", ""),
                    write("app/main.py", ML_MAIN_V1),
                    write("app/db.py", ML_DB),
                ],
            ),
            commit(
                90,
                LINUS,
                "README",
                vec![write(
                    "README.md",
                    "# ml-inference\n\nSummaries and sentiment for support tickets.\n\nRun with `uvicorn app.main:app`.\n",
                )],
            ),
            commit(
                60,
                GRACE,
                "Async OpenAI client, CORS from env, health route",
                vec![write("app/main.py", ML_MAIN_V2)],
            ),
            commit(
                25,
                LINUS,
                "Tests for the summarizer",
                vec![write(
                    "tests/test_summarize.py",
                    "def test_summarize_returns_a_summary(client):\n    assert 'summary' in client.post('/summarize', params={'text': 'hi'}).json()\n",
                )],
            ),
        ],
    }
}

const SHOP_SETTINGS_V1: &str = r#"from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY = "django-insecure-8x!f0z@q2m#v7k$w1p&r4t^y6u*i9o(l"
DEBUG = True
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = ["django.contrib.admin", "django.contrib.auth", "django.contrib.contenttypes", "store"]
MIDDLEWARE = ["django.middleware.common.CommonMiddleware"]
ROOT_URLCONF = "shop.urls"
DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", "NAME": "shop"}}
"#;
const SHOP_SETTINGS_V2: &str = r#"import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]
DEBUG = os.environ.get("DJANGO_DEBUG") == "1"
ALLOWED_HOSTS = os.environ["DJANGO_ALLOWED_HOSTS"].split(",")
INSTALLED_APPS = ["django.contrib.admin", "django.contrib.auth", "django.contrib.contenttypes", "store"]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
SECURE_HSTS_SECONDS = 31536000
ROOT_URLCONF = "shop.urls"
DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", "NAME": os.environ.get("DB_NAME", "shop")}}
"#;
const SHOP_VIEWS: &str = r#"from django.http import JsonResponse

from store.models import Product


def products(request):
    print("listing products")
    print(request.GET)
    items = list(Product.objects.all().values())
    print(len(items))
    print("done")
    print("returning")
    print(items[:1])
    return JsonResponse({"items": items})
"#;
const SHOP_MODELS: &str = r#"from django.db import models


class Product(models.Model):
    name = models.CharField(max_length=200)
    price = models.DecimalField(max_digits=10, decimal_places=2)
"#;

fn shop_admin() -> SampleRepo {
    SampleRepo {
        name: "shop-admin",
        team: "commerce",
        commits: vec![
            commit(
                160,
                GRACE,
                "Django back office",
                vec![
                    write("requirements.txt", "django\npsycopg2\ngunicorn\n"),
                    write(
                        "manage.py",
                        "import os\nimport sys\n\nif __name__ == '__main__':\n    os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'shop.settings')\n    from django.core.management import execute_from_command_line\n    execute_from_command_line(sys.argv)\n",
                    ),
                    write("shop/__init__.py", ""),
                    write("shop/settings.py", SHOP_SETTINGS_V1),
                    write(
                        "shop/urls.py",
                        "from django.urls import path\n\nfrom store import views\n\nurlpatterns = [path('products/', views.products)]\n",
                    ),
                    write("store/__init__.py", ""),
                    write("store/models.py", SHOP_MODELS),
                    write("store/views.py", SHOP_VIEWS),
                    write("store/migrations/__init__.py", ""),
                    write(
                        "store/migrations/0001_initial.py",
                        "from django.db import migrations, models\n\n\nclass Migration(migrations.Migration):\n    initial = True\n    dependencies = []\n    operations = [migrations.CreateModel(name='Product', fields=[('id', models.AutoField(primary_key=True))])]\n",
                    ),
                    write("Procfile", "web: python manage.py runserver 0.0.0.0:$PORT\n"),
                ],
            ),
            commit(100, GRACE, "Settings from the environment", vec![write("shop/settings.py", SHOP_SETTINGS_V2)]),
            commit(
                80,
                ADA,
                "Serve with gunicorn",
                vec![write("Procfile", "web: gunicorn shop.wsgi --bind 0.0.0.0:$PORT\n")],
            ),
            commit(20, LINUS, "Quick debugging on production", vec![write("shop/settings.py", SHOP_SETTINGS_V1)]),
        ],
    }
}

const NOTIFY_APP_V1: &str = r#"import requests
from flask import Flask, request

app = Flask(__name__)


@app.route("/notify", methods=["POST"])
def notify():
    try:
        requests.post("https://hooks.example.com/notify", json=request.json)
    except Exception:
        pass
    return {"queued": True}
"#;
const NOTIFY_APP_V2: &str = r#"import logging

import requests
import sentry_sdk
from flask import Flask, request

sentry_sdk.init()
app = Flask(__name__)
log = logging.getLogger(__name__)


@app.route("/health")
def health():
    return {"ok": True}


@app.route("/notify", methods=["POST"])
def notify():
    try:
        requests.post("https://hooks.example.com/notify", json=request.json, timeout=5)
    except requests.RequestException:
        log.exception("notification failed")
    return {"queued": True}


if __name__ == "__main__":
    app.run(host="0.0.0.0", port=8080, debug=True)
"#;

fn notify_worker() -> SampleRepo {
    SampleRepo {
        name: "notify-worker",
        team: "platform",
        commits: vec![
            commit(
                140,
                ADA,
                "Notification relay",
                vec![
                    write("requirements.txt", "flask==3.0.3\nrequests==2.32.3\n"),
                    write("app.py", NOTIFY_APP_V1),
                    write("README.md", "# notify-worker\n\nRelays notifications to the hooks service.\n"),
                ],
            ),
            commit(
                110,
                LINUS,
                "Timeouts, error reporting, health route",
                vec![
                    write("requirements.txt", "flask==3.0.3\nrequests==2.32.3\nsentry-sdk==2.14.0\n"),
                    write("app.py", NOTIFY_APP_V2),
                ],
            ),
            commit(
                50,
                ADA,
                "Move the app into a package",
                vec![Rename("app.py", "notify/app.py"), write("notify/__init__.py", "")],
            ),
            commit(
                15,
                GRACE,
                "Tests",
                vec![write(
                    "tests/test_notify.py",
                    "def test_health(client):\n    assert client.get('/health').json == {'ok': True}\n",
                )],
            ),
        ],
    }
}

const INV_GOMOD_V1: &str = "module example.com/inventory\n\ngo 1.22\n\nrequire (\n\tgithub.com/go-chi/chi/v5 v5.0.12\n\tgithub.com/jackc/pgx/v5 v5.6.0\n\tgithub.com/rs/cors v1.11.0\n)\n";
const INV_GOMOD_V2: &str = "module example.com/inventory\n\ngo 1.22\n\nrequire (\n\tgithub.com/go-chi/chi/v5 v5.0.12\n\tgithub.com/jackc/pgx/v5 v5.6.0\n\tgithub.com/pressly/goose/v3 v3.21.1\n\tgithub.com/rs/cors v1.11.0\n)\n";
const INV_GOSUM: &str = "github.com/go-chi/chi/v5 v5.0.12 h1:9euLV5sTrTNTRUU9POmDUvfxyj6LAABLUcEWO+JJb4s=\n";
const INV_MAIN_V1: &str = r#"package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rs/cors"
)

var pool *pgxpool.Pool

func listItems(w http.ResponseWriter, r *http.Request) {
	rows, _ := pool.Query(r.Context(), "SELECT id, name FROM items")
	defer rows.Close()
	json.NewEncoder(w).Encode(rows.RawValues())
}

func main() {
	pool, _ = pgxpool.New(nil, os.Getenv("DATABASE_URL"))
	r := chi.NewRouter()
	r.Get("/items", listItems)
	fmt.Println("listening on :8080")
	http.ListenAndServe(":8080", cors.AllowAll().Handler(r))
}
"#;
const INV_MAIN_V2: &str = r#"package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rs/cors"
)

var (
	pool *pgxpool.Pool
	log  = slog.New(slog.NewJSONHandler(os.Stdout, nil))
)

func listItems(w http.ResponseWriter, r *http.Request) {
	rows, err := pool.Query(r.Context(), "SELECT id, name FROM items ORDER BY id LIMIT $1", 100)
	if err != nil {
		http.Error(w, "unavailable", http.StatusServiceUnavailable)
		return
	}
	defer rows.Close()
	json.NewEncoder(w).Encode(rows.RawValues())
}

func healthz(w http.ResponseWriter, r *http.Request) {
	if err := pool.Ping(r.Context()); err != nil {
		http.Error(w, "database unavailable", http.StatusServiceUnavailable)
		return
	}
	w.Write([]byte("ok"))
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	pool, _ = pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
	r := chi.NewRouter()
	r.Get("/healthz", healthz)
	r.Get("/items", listItems)
	origins := cors.New(cors.Options{AllowedOrigins: strings.Split(os.Getenv("CORS_ORIGINS"), ",")})
	srv := &http.Server{Addr: ":8080", Handler: origins.Handler(r), ReadTimeout: 10 * time.Second}
	go srv.ListenAndServe()
	log.Info("listening", "addr", srv.Addr)
	<-ctx.Done()
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	srv.Shutdown(shutdown)
}
"#;
const INV_SEARCH: &str = r#"package main

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// searchItems backs the admin search box.
func searchItems(w http.ResponseWriter, r *http.Request) {
	q := fmt.Sprintf("SELECT id, name FROM items WHERE name LIKE '%%%s%%' LIMIT 50", r.URL.Query().Get("q"))
	rows, err := pool.Query(r.Context(), q)
	if err != nil {
		http.Error(w, "unavailable", http.StatusServiceUnavailable)
		return
	}
	defer rows.Close()
	json.NewEncoder(w).Encode(rows.RawValues())
}
"#;
const INV_DOCKERFILE: &str = "FROM golang:1.22-alpine AS build\nWORKDIR /src\nCOPY go.mod go.sum ./\nRUN go mod download\nCOPY . .\nRUN CGO_ENABLED=0 go build -o /inventory .\n\nFROM gcr.io/distroless/static-debian12:nonroot\nCOPY --from=build /inventory /inventory\nUSER nonroot\nHEALTHCHECK CMD [\"/inventory\", \"-healthcheck\"]\nENTRYPOINT [\"/inventory\"]\n";
const INV_CI: &str = "name: ci\non: [push, pull_request]\npermissions:\n  contents: read\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683\n      - uses: actions/setup-go@41dfa10bad2bb2ae585af6ee5bb4d7d973ad74ed\n      - run: go test -cover ./...\n";

fn inventory_api() -> SampleRepo {
    SampleRepo {
        name: "inventory-api",
        team: "commerce",
        commits: vec![
            commit(
                130,
                LINUS,
                "Inventory API in Go",
                vec![
                    write("go.mod", INV_GOMOD_V1),
                    write("go.sum", INV_GOSUM),
                    write("main.go", INV_MAIN_V1),
                    write(
                        "README.md",
                        "# inventory-api\n\nStock levels for the shop, in Go (chi + pgx).\n\n## Run\n\n```sh\nDATABASE_URL=postgres://localhost/inventory go run .\n```\n\n## Configuration\n\n- `DATABASE_URL`: PostgreSQL connection string\n- `CORS_ORIGINS`: comma-separated front-end origins\n\n## Endpoints\n\n- `GET /healthz`: readiness (pings the database)\n- `GET /items`: the first 100 items\n",
                    ),
                ],
            ),
            commit(
                90,
                ADA,
                "Health check, graceful shutdown, JSON logs, migrations",
                vec![
                    write("go.mod", INV_GOMOD_V2),
                    write("main.go", INV_MAIN_V2),
                    write(
                        "main_test.go",
                        "package main\n\nimport \"testing\"\n\nfunc TestHealthz(t *testing.T) {\n\tt.Skip(\"needs a database\")\n}\n",
                    ),
                    write(
                        "migrations/00001_items.sql",
                        "-- +goose Up\nCREATE TABLE items (id bigserial PRIMARY KEY, name text NOT NULL);\n",
                    ),
                    write("Dockerfile", INV_DOCKERFILE),
                    write(".dockerignore", ".git\n"),
                ],
            ),
            commit(45, GRACE, "CI", vec![write(".github/workflows/ci.yml", INV_CI)]),
            commit(12, LINUS, "Admin search", vec![write("search.go", INV_SEARCH)]),
        ],
    }
}
