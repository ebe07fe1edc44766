//! Composite fixtures: three small but realistic backends, each scanned end
//! to end, asserting the exact set of failing checks, the level and where
//! the key findings are. Each fixture starts with what a careful human
//! auditor would write about the repository; the scanner must agree.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::NaiveDate;
use shipshape_analysis::report::{Format, render};
use shipshape_analysis::{CheckResult, Level, Options, Outcome, Report, analyze};
use shipshape_testkit::GitRepo;

fn scan(files: &[(&str, &str)]) -> Report {
    let repo = GitRepo::with_files(files);
    let options = Options { today: NaiveDate::from_ymd_opt(2026, 11, 22).unwrap(), github: None, ..Default::default() };
    analyze(repo.path(), &options).expect("scan succeeds")
}

fn check<'r>(report: &'r Report, id: &str) -> &'r CheckResult {
    report.check(id).unwrap_or_else(|| panic!("check {id} is registered"))
}

/// `path:line` of every active finding of a check, sorted.
fn places(report: &Report, id: &str) -> Vec<String> {
    let mut out: Vec<String> = check(report, id)
        .active_findings()
        .map(|f| f.location.as_ref().map_or_else(|| "repository".to_string(), |l| l.to_string()))
        .collect();
    out.sort();
    out
}

/// Everything that failed, with its findings, for a readable assertion message.
fn dump(report: &Report) -> String {
    let mut out = String::new();
    for c in report.checks.iter().filter(|c| c.outcome != Outcome::NotApplicable) {
        out.push_str(&format!("{} {:?} {:?}: {}\n", c.check_id, c.outcome, c.severity, c.summary));
        for f in &c.findings {
            let at = f.location.as_ref().map_or_else(|| "repository".to_string(), |l| l.to_string());
            out.push_str(&format!("    {at}: {} [{}]\n", f.message, f.evidence));
        }
    }
    out
}

fn assert_failing(report: &Report, expected: &[&str]) {
    assert_eq!(report.failing_check_ids(), expected, "\n{}", dump(report));
}

// ------------------------------------------------------------------ (a)
//
// "Prototype that grew up": a FastAPI chat/analysis service.
//
// Auditor's notes, before running the scanner:
// - security: CORSMiddleware with allow_origins=["*"] AND allow_credentials
//   (critical), registered a second time further down (cors-duplicate); no
//   security headers anywhere; the only rate limiting is a dict of
//   timestamps in process memory (rate-limit-in-memory; rate limiting does
//   exist, so rate-limit-missing passes). `FastAPI(title=...)` leaves
//   /docs and /openapi.json on in every environment (api-docs-exposed, low).
//   (First draft said defaults were fine; the spec's "left enabled" covers
//   defaults, so the scanner's finding was accepted.)
// - secrets: SECRET_KEY = os.getenv("SECRET_KEY", "<literal>") signs the
//   JWTs (insecure-default-secret, critical); the code reads env vars but
//   there is no .env.example (env-example-missing). .env is git-ignored.
// - data: SQLAlchemy without Alembic (migrations-missing), create_all() at
//   startup (schema-created-at-startup). DB routes are plain `def`, so no
//   sync driver is used from async handlers; list routes take skip/limit.
// - reliability: the sync OpenAI client is called inside `async def` routes
//   (blocking-call-in-async), a transformers pipeline is built at import
//   (heavy-work-at-import), LLM calls run in request handlers with no task
//   queue (no-background-worker).
// - observability: no health route, no JSON logs, no error tracker, no
//   metrics, no request ids.
// - testing: no tests at all (tests-missing, critical).
// - delivery: no CI, no Dockerfile or platform config, requirements are
//   unpinned, no Dependabot/Renovate.
// - docs: README has setup; no CODEOWNERS; no SECURITY.md.
// Level: not-ready (three critical failures).

const A_README: &str = "# Insight API

Backend for the Insight dashboard: chat with your documents and get a
sentiment breakdown of customer feedback.

## Setup

```bash
python -m venv .venv && source .venv/bin/activate
pip install -r requirements.txt
export OPENAI_API_KEY=...
uvicorn app.main:app --reload
```

The API is served on http://localhost:8000 and the docs on /docs.
";

const A_REQUIREMENTS: &str = "fastapi
uvicorn[standard]
sqlalchemy
psycopg2-binary
openai
transformers
torch
python-jose[cryptography]
passlib[bcrypt]
python-dotenv
";

const A_GITIGNORE: &str = "__pycache__/\n*.pyc\n.venv/\n.env\n*.db\n";

const A_SETTINGS: &str = r#"import os

from dotenv import load_dotenv

load_dotenv()

SECRET_KEY = os.getenv("SECRET_KEY", "insight-dev-8f3k2j5h7g")
ALGORITHM = "HS256"
ACCESS_TOKEN_EXPIRE_MINUTES = int(os.getenv("ACCESS_TOKEN_EXPIRE_MINUTES", "60"))
DATABASE_URL = os.environ["DATABASE_URL"]
OPENAI_MODEL = os.getenv("OPENAI_MODEL", "gpt-4o-mini")
"#;

const A_DATABASE: &str = r#"from sqlalchemy import create_engine
from sqlalchemy.orm import declarative_base, sessionmaker

from app.settings import DATABASE_URL

engine = create_engine(DATABASE_URL, pool_pre_ping=True)
SessionLocal = sessionmaker(bind=engine, autoflush=False, autocommit=False)
Base = declarative_base()


def get_db():
    db = SessionLocal()
    try:
        yield db
    finally:
        db.close()
"#;

const A_MODELS: &str = r#"from datetime import datetime

from sqlalchemy import Column, DateTime, ForeignKey, Integer, String, Text

from app.database import Base


class User(Base):
    __tablename__ = "users"

    id = Column(Integer, primary_key=True)
    email = Column(String(255), unique=True, nullable=False)
    hashed_password = Column(String(255), nullable=False)
    created_at = Column(DateTime, default=datetime.utcnow)


class Document(Base):
    __tablename__ = "documents"

    id = Column(Integer, primary_key=True)
    owner_id = Column(Integer, ForeignKey("users.id"), nullable=False)
    title = Column(String(255), nullable=False)
    body = Column(Text, nullable=False)
"#;

const A_MAIN: &str = r#"import logging

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from app.database import Base, engine
from app.routers import auth, chat, documents, feedback

logging.basicConfig(level=logging.INFO)
logger = logging.getLogger(__name__)

app = FastAPI(title="Insight API")

app.add_middleware(
    CORSMiddleware,
    allow_origins=["*"],
    allow_credentials=True,
    allow_methods=["*"],
    allow_headers=["*"],
)


@app.on_event("startup")
def on_startup():
    Base.metadata.create_all(bind=engine)
    logger.info("database ready")


app.include_router(auth.router)
app.include_router(chat.router)
app.include_router(documents.router)
app.include_router(feedback.router)

# Added when the frontend moved to its own domain.
app.add_middleware(
    CORSMiddleware,
    allow_origins=["*"],
    allow_methods=["GET", "POST"],
)
"#;

const A_RATELIMIT: &str = r#"import time
from collections import defaultdict

from fastapi import HTTPException, Request

WINDOW_SECONDS = 60
MAX_REQUESTS = 20

_requests: dict[str, list[float]] = defaultdict(list)


def rate_limit(request: Request):
    now = time.time()
    key = request.client.host
    recent = [t for t in _requests[key] if now - t < WINDOW_SECONDS]
    if len(recent) >= MAX_REQUESTS:
        raise HTTPException(status_code=429, detail="Too many requests")
    recent.append(now)
    _requests[key] = recent
"#;

const A_AUTH: &str = r#"from datetime import datetime, timedelta

from fastapi import APIRouter, Depends, HTTPException
from jose import jwt
from passlib.context import CryptContext
from pydantic import BaseModel
from sqlalchemy.orm import Session

from app import models
from app.database import get_db
from app.ratelimit import rate_limit
from app.settings import ACCESS_TOKEN_EXPIRE_MINUTES, ALGORITHM, SECRET_KEY

router = APIRouter(prefix="/auth", tags=["auth"])
pwd_context = CryptContext(schemes=["bcrypt"], deprecated="auto")


class Credentials(BaseModel):
    email: str
    password: str


@router.post("/login", dependencies=[Depends(rate_limit)])
def login(body: Credentials, db: Session = Depends(get_db)):
    user = db.query(models.User).filter(models.User.email == body.email).first()
    if user is None or not pwd_context.verify(body.password, user.hashed_password):
        raise HTTPException(status_code=401, detail="Invalid credentials")
    expires = datetime.utcnow() + timedelta(minutes=ACCESS_TOKEN_EXPIRE_MINUTES)
    token = jwt.encode({"sub": str(user.id), "exp": expires}, SECRET_KEY, algorithm=ALGORITHM)
    return {"access_token": token, "token_type": "bearer"}
"#;

const A_CHAT: &str = r#"from fastapi import APIRouter, Depends
from openai import OpenAI
from pydantic import BaseModel

from app.ratelimit import rate_limit
from app.settings import OPENAI_MODEL

router = APIRouter(prefix="/chat", tags=["chat"])
client = OpenAI()


class Question(BaseModel):
    question: str
    context: str = ""


@router.post("/ask", dependencies=[Depends(rate_limit)])
async def ask(body: Question):
    completion = client.chat.completions.create(
        model=OPENAI_MODEL,
        messages=[
            {"role": "system", "content": "Answer using the given context."},
            {"role": "user", "content": f"{body.context}\n\n{body.question}"},
        ],
    )
    return {"answer": completion.choices[0].message.content}


@router.post("/summarize", dependencies=[Depends(rate_limit)])
async def summarize(body: Question):
    completion = client.chat.completions.create(
        model=OPENAI_MODEL,
        messages=[{"role": "user", "content": f"Summarize:\n{body.context}"}],
    )
    return {"summary": completion.choices[0].message.content}
"#;

const A_DOCUMENTS: &str = r#"from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel
from sqlalchemy.orm import Session

from app import models
from app.database import get_db

router = APIRouter(prefix="/documents", tags=["documents"])


class DocumentIn(BaseModel):
    owner_id: int
    title: str
    body: str


@router.get("/")
def list_documents(skip: int = 0, limit: int = 50, db: Session = Depends(get_db)):
    return db.query(models.Document).offset(skip).limit(limit).all()


@router.get("/{document_id}")
def get_document(document_id: int, db: Session = Depends(get_db)):
    document = db.get(models.Document, document_id)
    if document is None:
        raise HTTPException(status_code=404, detail="Not found")
    return document


@router.post("/")
def create_document(body: DocumentIn, db: Session = Depends(get_db)):
    document = models.Document(**body.model_dump())
    db.add(document)
    db.commit()
    db.refresh(document)
    return document
"#;

const A_SENTIMENT: &str = r#"from transformers import pipeline

classifier = pipeline("sentiment-analysis", model="distilbert-base-uncased-finetuned-sst-2-english")


def score(texts: list[str]) -> list[dict]:
    return classifier(texts)
"#;

const A_FEEDBACK: &str = r#"from fastapi import APIRouter
from pydantic import BaseModel

from app.sentiment import score

router = APIRouter(prefix="/feedback", tags=["feedback"])


class Feedback(BaseModel):
    comments: list[str]


@router.post("/sentiment")
def sentiment(body: Feedback):
    results = score(body.comments)
    positive = sum(1 for r in results if r["label"] == "POSITIVE")
    return {"positive": positive, "negative": len(results) - positive, "details": results}
"#;

fn fixture_a() -> Vec<(&'static str, &'static str)> {
    vec![
        ("README.md", A_README),
        ("requirements.txt", A_REQUIREMENTS),
        (".gitignore", A_GITIGNORE),
        ("app/__init__.py", ""),
        ("app/settings.py", A_SETTINGS),
        ("app/database.py", A_DATABASE),
        ("app/models.py", A_MODELS),
        ("app/main.py", A_MAIN),
        ("app/ratelimit.py", A_RATELIMIT),
        ("app/sentiment.py", A_SENTIMENT),
        ("app/routers/__init__.py", ""),
        ("app/routers/auth.py", A_AUTH),
        ("app/routers/chat.py", A_CHAT),
        ("app/routers/documents.py", A_DOCUMENTS),
        ("app/routers/feedback.py", A_FEEDBACK),
    ]
}

#[test]
fn a_prototype_fastapi_service_is_not_ready() {
    let r = scan(&fixture_a());
    assert_failing(
        &r,
        &[
            "api-docs-exposed",
            "blocking-call-in-async",
            "ci-missing",
            "codeowners-missing",
            "cors-duplicate",
            "cors-wildcard",
            "dependencies-unpinned",
            "dependency-updates-missing",
            "deploy-config-missing",
            "env-example-missing",
            "error-monitoring-missing",
            "health-endpoint-missing",
            "heavy-work-at-import",
            "insecure-default-secret",
            "metrics-missing",
            "migrations-missing",
            "no-background-worker",
            "rate-limit-in-memory",
            "request-id-missing",
            "schema-created-at-startup",
            "security-headers-missing",
            "security-policy-missing",
            "structured-logging-missing",
            "tests-missing",
        ],
    );
    assert_eq!(r.level, Level::NotReady);

    // Wildcard with credentials is critical; both registrations are found.
    assert_eq!(check(&r, "cors-wildcard").severity, shipshape_analysis::Severity::Critical);
    assert_eq!(places(&r, "cors-wildcard"), ["app/main.py:16", "app/main.py:37"]);
    assert_eq!(places(&r, "cors-duplicate"), ["app/main.py:35"]);
    assert_eq!(places(&r, "insecure-default-secret"), ["app/settings.py:7"]);
    assert_eq!(places(&r, "schema-created-at-startup"), ["app/main.py:25"]);
    assert_eq!(places(&r, "blocking-call-in-async"), ["app/routers/chat.py:19", "app/routers/chat.py:31"]);
    assert_eq!(places(&r, "heavy-work-at-import"), ["app/sentiment.py:3"]);
    assert_eq!(places(&r, "rate-limit-in-memory"), ["app/ratelimit.py:9"]);
    assert_eq!(places(&r, "api-docs-exposed"), ["app/main.py:12"]);
    for absent in ["tests-missing", "ci-missing", "health-endpoint-missing", "migrations-missing"] {
        assert_eq!(places(&r, absent), ["repository"], "{absent}");
    }
    // The secret's value never reaches the report.
    let json = render(&r, Format::Json, false);
    assert!(!json.contains("insight-dev-8f3k2j5h7g"));
    // What the auditor checked and found right.
    for ok in ["rate-limit-missing", "env-file-not-ignored", "unbounded-list-endpoint", "sync-driver-in-async-app"] {
        assert_eq!(check(&r, ok).outcome, Outcome::Pass, "{ok}\n{}", dump(&r));
    }
}

// ------------------------------------------------------------------ (b)
//
// "Mostly right" FastAPI orders service on Supabase Postgres.
//
// Auditor's notes, before running the scanner:
// - Everything a reviewer looks for is there: origins from settings,
//   Alembic with a versions/ dir, pytest (with coverage) run by GitHub
//   Actions with read-only token permissions, multi-stage non-root
//   Dockerfile with HEALTHCHECK and a pinned base, .dockerignore, Sentry,
//   JSON logs (python-json-logger), /health that queries the DB, request
//   ids (asgi-correlation-id), Prometheus instrumentator, slowapi backed by
//   Redis, pinned requirements, Dependabot, CODEOWNERS, SECURITY.md,
//   .env.example, a README with setup, security headers middleware, docs
//   only outside production.
// - But the Supabase service_role key (a JWT that bypasses row-level
//   security) is committed in a maintenance script and in the deployment
//   guide, next to the project's JWT signing secret: hardcoded-secret,
//   critical, so not-ready. The anon key next to them is public by design
//   (Supabase ships it to browsers) and is not a finding.
// - Deliberate low failure: the workflow uses a third-party action
//   (codecov/codecov-action@v4) by tag, not by commit SHA
//   (ci-actions-unpinned). First-party actions/* by tag are accepted.
// Level: not-ready, failing exactly hardcoded-secret and ci-actions-unpinned.

/// Deterministic filler so no literal credential lives in this repository.
fn pseudo_random(seed: u64, len: usize, alphabet: &[u8]) -> String {
    let mut x = seed;
    (0..len)
        .map(|_| {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            alphabet[((x >> 33) % alphabet.len() as u64) as usize] as char
        })
        .collect()
}

/// A Supabase-shaped HS256 JWT for `role`, assembled at test time.
fn supabase_jwt(role: &str, seed: u64) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let payload =
        format!(r#"{{"iss":"supabase","ref":"qwhdkzmbnvtplrxa","role":"{role}","iat":1719403200,"exp":2034979200}}"#);
    let payload = URL_SAFE_NO_PAD.encode(payload.as_bytes());
    let sig_bytes: Vec<u8> = pseudo_random(seed, 32, b"0123456789abcdef").bytes().map(|b| b.wrapping_mul(7)).collect();
    format!("{header}.{payload}.{}", URL_SAFE_NO_PAD.encode(sig_bytes))
}

fn service_role_key() -> String {
    supabase_jwt("service_role", 11)
}

fn anon_key() -> String {
    supabase_jwt("anon", 12)
}

fn jwt_signing_secret() -> String {
    pseudo_random(13, 64, b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
}

const B_README: &str = "# Orders service

Order intake and fulfilment API for the storefront. FastAPI + SQLAlchemy
(async) on Supabase Postgres, Redis for rate limits.

## Getting started

```bash
cp .env.example .env            # fill in the values
pip install -r requirements.txt -r requirements-dev.txt
alembic upgrade head
uvicorn app.main:app --reload
```

Run the tests with `pytest`. Deployment is described in docs/DEPLOY.md.
";

const B_REQUIREMENTS: &str = "fastapi==0.115.0
uvicorn[standard]==0.30.6
gunicorn==23.0.0
sqlalchemy[asyncio]==2.0.35
asyncpg==0.29.0
alembic==1.13.2
pydantic-settings==2.5.2
sentry-sdk[fastapi]==2.14.0
python-json-logger==2.0.7
asgi-correlation-id==4.3.3
prometheus-fastapi-instrumentator==7.0.0
slowapi==0.1.9
redis==5.0.8
";

const B_REQUIREMENTS_DEV: &str = "pytest==8.3.3\npytest-asyncio==0.24.0\npytest-cov==5.0.0\nhttpx==0.27.2\n";

const B_ENV_EXAMPLE: &str = "ENVIRONMENT=development
DATABASE_URL=postgresql+asyncpg://postgres:<password>@localhost:5432/orders
REDIS_URL=redis://localhost:6379/0
CORS_ORIGINS=[\"http://localhost:3000\"]
SENTRY_DSN=
SUPABASE_URL=https://<project>.supabase.co
SUPABASE_SERVICE_ROLE_KEY=
";

const B_GITIGNORE: &str = "__pycache__/\n*.pyc\n.venv/\n.env\n.coverage\ncoverage.xml\n";

const B_DOCKERIGNORE: &str = ".git\n.venv\n.env\n__pycache__\ntests\ndocs\n";

const B_DOCKERFILE: &str = r#"FROM python:3.12.6-slim-bookworm AS builder
WORKDIR /build
COPY requirements.txt .
RUN pip install --no-cache-dir --prefix=/install -r requirements.txt

FROM python:3.12.6-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
RUN useradd --create-home --uid 10001 app
WORKDIR /app
COPY --from=builder /install /usr/local
COPY . .
USER app
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --retries=3 CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=2)"
CMD ["gunicorn", "app.main:app", "-k", "uvicorn.workers.UvicornWorker", "-b", "0.0.0.0:8000", "--workers", "2"]
"#;

const B_CI: &str = "name: CI

on:
  push:
    branches: [main]
  pull_request:

permissions:
  contents: read

jobs:
  test:
    runs-on: ubuntu-latest
    services:
      postgres:
        image: postgres:16
        env:
          POSTGRES_PASSWORD: postgres
        ports: ['5432:5432']
      redis:
        image: redis:7
        ports: ['6379:6379']
    env:
      DATABASE_URL: postgresql+asyncpg://postgres:postgres@localhost:5432/postgres
      REDIS_URL: redis://localhost:6379/0
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: '3.12'
          cache: pip
      - run: pip install -r requirements.txt -r requirements-dev.txt
      - run: alembic upgrade head
      - run: pytest --cov=app --cov-report=xml
      - uses: codecov/codecov-action@v4
        with:
          files: coverage.xml
";

const B_DEPENDABOT: &str = "version: 2
updates:
  - package-ecosystem: pip
    directory: /
    schedule:
      interval: weekly
  - package-ecosystem: github-actions
    directory: /
    schedule:
      interval: weekly
";

const B_CODEOWNERS: &str = "* @storefront/backend\n/alembic/ @storefront/backend @storefront/dba\n";

const B_SECURITY: &str = "# Security policy

Please report vulnerabilities privately to security@storefront.example
rather than in a public issue. We answer within two working days.
";

const B_ALEMBIC_INI: &str = "[alembic]
script_location = alembic
prepend_sys_path = .

[loggers]
keys = root
";

const B_ALEMBIC_ENV: &str = r#"import asyncio

from alembic import context
from sqlalchemy.ext.asyncio import create_async_engine

from app.models import Base
from app.settings import settings

target_metadata = Base.metadata


def do_run_migrations(connection):
    context.configure(connection=connection, target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()


async def run_migrations_online():
    engine = create_async_engine(settings.database_url)
    async with engine.connect() as connection:
        await connection.run_sync(do_run_migrations)
    await engine.dispose()


asyncio.run(run_migrations_online())
"#;

const B_MIGRATION: &str = r#""""create orders

Revision ID: 3f1c2a7d9b10
Revises:
Create Date: 2024-09-01 10:12:00
"""
import sqlalchemy as sa
from alembic import op

revision = "3f1c2a7d9b10"
down_revision = None


def upgrade():
    op.create_table(
        "orders",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("customer_email", sa.String(255), nullable=False),
        sa.Column("total_cents", sa.Integer, nullable=False),
        sa.Column("status", sa.String(32), nullable=False, server_default="pending"),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
    )


def downgrade():
    op.drop_table("orders")
"#;

const B_SETTINGS: &str = r#"from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env")

    environment: str = "development"
    database_url: str
    redis_url: str
    cors_origins: list[str] = []
    sentry_dsn: str | None = None
    log_level: str = "INFO"


settings = Settings()
"#;

const B_LOGGING: &str = r#"import logging

from pythonjsonlogger import jsonlogger

from app.settings import settings


def configure_logging() -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(jsonlogger.JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s %(correlation_id)s"))
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(settings.log_level)
"#;

const B_DB: &str = r#"from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from app.settings import settings

engine = create_async_engine(settings.database_url, pool_pre_ping=True)
SessionLocal = async_sessionmaker(engine, expire_on_commit=False)


async def get_session():
    async with SessionLocal() as session:
        yield session
"#;

const B_MODELS: &str = r#"from datetime import datetime

from sqlalchemy import DateTime, Integer, String, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Order(Base):
    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_email: Mapped[str] = mapped_column(String(255))
    total_cents: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(32), default="pending")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
"#;

const B_LIMITER: &str = r#"from slowapi import Limiter
from slowapi.util import get_remote_address

from app.settings import settings

limiter = Limiter(key_func=get_remote_address, storage_uri=settings.redis_url, default_limits=["120/minute"])
"#;

const B_MAIN: &str = r#"import logging

import sentry_sdk
from asgi_correlation_id import CorrelationIdMiddleware
from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from prometheus_fastapi_instrumentator import Instrumentator
from slowapi import _rate_limit_exceeded_handler
from slowapi.errors import RateLimitExceeded
from slowapi.middleware import SlowAPIMiddleware

from app.limiter import limiter
from app.logging_config import configure_logging
from app.routers import health, orders
from app.settings import settings

configure_logging()
logger = logging.getLogger(__name__)

if settings.sentry_dsn:
    sentry_sdk.init(dsn=settings.sentry_dsn, environment=settings.environment, traces_sample_rate=0.1)

is_production = settings.environment == "production"
app = FastAPI(
    title="Orders service",
    docs_url=None if is_production else "/docs",
    redoc_url=None if is_production else "/redoc",
    openapi_url=None if is_production else "/openapi.json",
)
app.state.limiter = limiter
app.add_exception_handler(RateLimitExceeded, _rate_limit_exceeded_handler)
app.add_middleware(SlowAPIMiddleware)
app.add_middleware(CorrelationIdMiddleware)
app.add_middleware(
    CORSMiddleware,
    allow_origins=settings.cors_origins,
    allow_credentials=True,
    allow_methods=["GET", "POST", "PATCH"],
    allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
)


@app.middleware("http")
async def security_headers(request: Request, call_next):
    response = await call_next(request)
    response.headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    return response


app.include_router(health.router)
app.include_router(orders.router)
Instrumentator().instrument(app).expose(app, endpoint="/metrics")
"#;

const B_HEALTH: &str = r#"from fastapi import APIRouter, Depends
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import get_session

router = APIRouter(tags=["health"])


@router.get("/health")
async def health(session: AsyncSession = Depends(get_session)):
    await session.execute(text("SELECT 1"))
    return {"status": "ok"}
"#;

const B_ORDERS: &str = r#"import logging

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, EmailStr
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import get_session
from app.limiter import limiter
from app.models import Order

router = APIRouter(prefix="/orders", tags=["orders"])
logger = logging.getLogger(__name__)


class OrderIn(BaseModel):
    customer_email: EmailStr
    total_cents: int


class OrderOut(OrderIn):
    id: int
    status: str


@router.get("/", response_model=list[OrderOut])
async def list_orders(
    limit: int = Query(50, le=200),
    offset: int = 0,
    session: AsyncSession = Depends(get_session),
):
    rows = await session.scalars(select(Order).order_by(Order.id).limit(limit).offset(offset))
    return rows.all()


@router.get("/{order_id}", response_model=OrderOut)
async def get_order(order_id: int, session: AsyncSession = Depends(get_session)):
    order = await session.get(Order, order_id)
    if order is None:
        raise HTTPException(status_code=404, detail="order not found")
    return order


@router.post("/", response_model=OrderOut, status_code=201)
@limiter.limit("10/minute")
async def create_order(request: Request, body: OrderIn, session: AsyncSession = Depends(get_session)):
    order = Order(customer_email=body.customer_email, total_cents=body.total_cents)
    session.add(order)
    await session.commit()
    await session.refresh(order)
    logger.info("order created", extra={"order_id": order.id})
    return order
"#;

const B_CONFTEST: &str = r#"import os

import pytest
from httpx import ASGITransport, AsyncClient

os.environ.setdefault("DATABASE_URL", "postgresql+asyncpg://postgres:postgres@localhost:5432/postgres")
os.environ.setdefault("REDIS_URL", "redis://localhost:6379/0")

from app.main import app  # noqa: E402


@pytest.fixture
async def client():
    transport = ASGITransport(app=app)
    async with AsyncClient(transport=transport, base_url="http://test") as c:
        yield c
"#;

const B_TEST_HEALTH: &str = r#"import pytest

pytestmark = pytest.mark.asyncio


async def test_health_checks_the_database(client):
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_metrics_are_exposed(client):
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert "http_requests_total" in response.text


async def test_security_headers_are_set(client):
    response = await client.get("/health")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
"#;

const B_TEST_ORDERS: &str = r#"import pytest

pytestmark = pytest.mark.asyncio


async def test_create_then_fetch_order(client):
    created = await client.post("/orders/", json={"customer_email": "a@b.test", "total_cents": 1299})
    assert created.status_code == 201
    order_id = created.json()["id"]
    fetched = await client.get(f"/orders/{order_id}")
    assert fetched.status_code == 200
    assert fetched.json()["total_cents"] == 1299


async def test_missing_order_is_404(client):
    response = await client.get("/orders/999999")
    assert response.status_code == 404


async def test_list_is_paginated(client):
    response = await client.get("/orders/?limit=1")
    assert response.status_code == 200
    assert len(response.json()) <= 1


async def test_limit_is_capped(client):
    response = await client.get("/orders/?limit=1000")
    assert response.status_code == 422
"#;

fn b_backfill_script() -> String {
    format!(
        r#""""One-off: copy customer emails from Supabase auth.users into orders.

Run from a laptop with network access to the project.
"""
import httpx

SUPABASE_URL = "https://qwhdkzmbnvtplrxa.supabase.co"
SUPABASE_SERVICE_ROLE_KEY = "{}"


def main():
    headers = {{"apikey": SUPABASE_SERVICE_ROLE_KEY, "Authorization": f"Bearer {{SUPABASE_SERVICE_ROLE_KEY}}"}}
    users = httpx.get(f"{{SUPABASE_URL}}/auth/v1/admin/users", headers=headers, timeout=10).json()
    for user in users["users"]:
        print(user["email"])


if __name__ == "__main__":
    main()
"#,
        service_role_key()
    )
}

fn b_deploy_guide() -> String {
    format!(
        "# Deploying the orders service

The service runs as a Docker image on Render, next to a Redis instance.

## Environment

Set these on the Render service (Settings -> Environment):

```
ENVIRONMENT=production
DATABASE_URL=postgresql+asyncpg://postgres:<password>@db.qwhdkzmbnvtplrxa.supabase.co:5432/postgres
SUPABASE_URL=https://qwhdkzmbnvtplrxa.supabase.co
SUPABASE_ANON_KEY={}
SUPABASE_SERVICE_ROLE_KEY={}
SUPABASE_JWT_SECRET={}
```

## Migrations

Run `alembic upgrade head` as the pre-deploy command.
",
        anon_key(),
        service_role_key(),
        jwt_signing_secret()
    )
}

fn fixture_b() -> Vec<(&'static str, String)> {
    let fixed: &[(&str, &str)] = &[
        ("README.md", B_README),
        ("requirements.txt", B_REQUIREMENTS),
        ("requirements-dev.txt", B_REQUIREMENTS_DEV),
        (".env.example", B_ENV_EXAMPLE),
        (".gitignore", B_GITIGNORE),
        (".dockerignore", B_DOCKERIGNORE),
        ("Dockerfile", B_DOCKERFILE),
        (".github/workflows/ci.yml", B_CI),
        (".github/dependabot.yml", B_DEPENDABOT),
        (".github/CODEOWNERS", B_CODEOWNERS),
        ("SECURITY.md", B_SECURITY),
        ("alembic.ini", B_ALEMBIC_INI),
        ("alembic/env.py", B_ALEMBIC_ENV),
        ("alembic/versions/3f1c2a7d9b10_create_orders.py", B_MIGRATION),
        ("app/__init__.py", ""),
        ("app/settings.py", B_SETTINGS),
        ("app/logging_config.py", B_LOGGING),
        ("app/db.py", B_DB),
        ("app/models.py", B_MODELS),
        ("app/limiter.py", B_LIMITER),
        ("app/main.py", B_MAIN),
        ("app/routers/__init__.py", ""),
        ("app/routers/health.py", B_HEALTH),
        ("app/routers/orders.py", B_ORDERS),
        ("tests/__init__.py", ""),
        ("tests/conftest.py", B_CONFTEST),
        ("tests/test_health.py", B_TEST_HEALTH),
        ("tests/test_orders.py", B_TEST_ORDERS),
    ];
    let mut files: Vec<(&'static str, String)> = fixed.iter().map(|(p, c)| (*p, c.to_string())).collect();
    files.push(("scripts/backfill_emails.py", b_backfill_script()));
    files.push(("docs/DEPLOY.md", b_deploy_guide()));
    files
}

fn scan_owned(files: &[(&str, String)]) -> Report {
    let borrowed: Vec<(&str, &str)> = files.iter().map(|(p, c)| (*p, c.as_str())).collect();
    scan(&borrowed)
}

#[test]
fn b_mostly_right_service_fails_only_on_committed_service_keys() {
    let files = fixture_b();
    let r = scan_owned(&files);
    assert_failing(&r, &["ci-actions-unpinned", "hardcoded-secret"]);
    assert_eq!(r.level, Level::NotReady);
    assert_eq!(check(&r, "hardcoded-secret").severity, shipshape_analysis::Severity::Critical);
    // The service_role key twice and the signing secret; the anon key on
    // docs/DEPLOY.md:13 is public by design and not reported.
    assert_eq!(
        places(&r, "hardcoded-secret"),
        ["docs/DEPLOY.md:14", "docs/DEPLOY.md:15", "scripts/backfill_emails.py:8"]
    );
    let kinds: Vec<&str> = check(&r, "hardcoded-secret").findings.iter().map(|f| f.evidence.as_str()).collect();
    assert!(kinds.iter().filter(|e| e.starts_with("Supabase service_role JWT: eyJh")).count() == 2, "{kinds:?}");
    assert!(kinds.iter().any(|e| e.starts_with("hard-coded value for SUPABASE_JWT_SECRET")), "{kinds:?}");
    assert_eq!(places(&r, "ci-actions-unpinned"), [".github/workflows/ci.yml:35"]);
    // Nothing of the secrets' values reaches any rendering.
    for format in [Format::Json, Format::Sarif, Format::Markdown] {
        let out = render(&r, format, false);
        for secret in [service_role_key(), anon_key(), jwt_signing_secret()] {
            assert!(!out.contains(&secret), "{format:?} leaks a secret");
        }
    }
    // Every medium-or-worse check the auditor ticked passes, with evidence.
    let strengths = [
        "cors-wildcard",
        "localhost-in-config",
        "migrations-missing",
        "sync-driver-in-async-app",
        "tests-not-in-ci",
        "docker-root-user",
        "docker-unpinned-base",
        "docker-healthcheck-missing",
        "dockerignore-missing",
        "error-monitoring-missing",
        "structured-logging-missing",
        "health-shallow",
        "request-id-missing",
        "metrics-missing",
        "rate-limit-in-memory",
        "dependencies-unpinned",
        "dependency-updates-missing",
        "codeowners-missing",
        "security-policy-missing",
        "env-example-missing",
        "readme-no-setup",
        "coverage-not-measured",
    ];
    for id in strengths {
        assert_eq!(check(&r, id).outcome, Outcome::Pass, "{id}\n{}", dump(&r));
    }
}

// ------------------------------------------------------------------ (c)
//
// A Django + DRF shop deployed on Heroku-style hosting with a Procfile.
//
// Auditor's notes, before running the scanner:
// - secrets: `.env` is committed and holds the real DJANGO_SECRET_KEY and
//   the database password (env-file-committed, critical); the same lines
//   are live credentials in a tracked file (hardcoded-secret, critical);
//   settings load `.env` but .gitignore does not ignore it
//   (env-file-not-ignored); there is no .env.example (env-example-missing).
//   settings.py itself reads SECRET_KEY from the environment, no fallback.
// - security: `DEBUG = True` hard-coded (debug-enabled),
//   `ALLOWED_HOSTS = ['*']` (allowed-hosts-wildcard), a public API with no
//   throttling (rate-limit-missing). SecurityMiddleware and
//   XFrameOptionsMiddleware are on, so security headers are present.
// - data: Django migrations exist, Postgres from env, the product list is
//   paginated by DRF's PageNumberPagination.
// - observability: print() for diagnostics in the views (print-logging),
//   no JSON logs, no error tracker, no metrics, no request ids, no health
//   route.
// - testing: store/tests.py has real tests but nothing measures coverage
//   (coverage-not-measured); there is no CI at all (ci-missing).
// - delivery: gunicorn from a Procfile (no dev server); requirements are
//   unpinned; no Dependabot/Renovate.
// - docs: README with setup; no CODEOWNERS; no SECURITY.md.
// Level: not-ready.

fn django_secret_key() -> String {
    pseudo_random(21, 50, b"abcdefghijklmnopqrstuvwxyz0123456789!@#%^&*(-_=+)")
}

fn db_password() -> String {
    pseudo_random(22, 24, b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
}

fn c_env() -> String {
    format!(
        "DJANGO_SECRET_KEY={}\nDEBUG=True\nDB_NAME=shop\nDB_USER=shop\nDB_PASSWORD={}\nDB_HOST=shop-db.c9xk2m4tq1ze.eu-west-1.rds.amazonaws.com\n",
        django_secret_key(),
        db_password()
    )
}

const C_README: &str = "# Shop

Django + Django REST framework backend for the shop front.

## Running locally

```bash
pip install -r requirements.txt
python manage.py migrate
python manage.py createsuperuser
python manage.py runserver
```

The API lives under /api/ and the admin under /admin/.
";

const C_REQUIREMENTS: &str = "Django>=4.2\ndjangorestframework\npsycopg2-binary\ngunicorn\npython-dotenv\n";

const C_GITIGNORE: &str = "__pycache__/\n*.pyc\ndb.sqlite3\nstaticfiles/\n";

const C_PROCFILE: &str = "release: python manage.py migrate --noinput\nweb: gunicorn shop.wsgi --log-file -\n";

const C_MANAGE: &str = r#"#!/usr/bin/env python
import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
"#;

const C_SETTINGS: &str = r#"import os
from pathlib import Path

from dotenv import load_dotenv

BASE_DIR = Path(__file__).resolve().parent.parent
load_dotenv(BASE_DIR / ".env")

SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]

DEBUG = True

ALLOWED_HOSTS = ['*']

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "store",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "shop.urls"
WSGI_APPLICATION = "shop.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": os.environ.get("DB_NAME"),
        "USER": os.environ.get("DB_USER"),
        "PASSWORD": os.environ.get("DB_PASSWORD"),
        "HOST": os.environ.get("DB_HOST"),
        "PORT": os.environ.get("DB_PORT", "5432"),
    }
}

REST_FRAMEWORK = {
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
}

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
"#;

const C_URLS: &str = r#"from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("store.urls")),
]
"#;

const C_WSGI: &str = r#"import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")

application = get_wsgi_application()
"#;

const C_APPS: &str = r#"from django.apps import AppConfig


class StoreConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "store"
"#;

const C_MODELS: &str = r#"from django.db import models


class Product(models.Model):
    name = models.CharField(max_length=200)
    price_cents = models.PositiveIntegerField()
    stock = models.PositiveIntegerField(default=0)

    def __str__(self):
        return self.name


class Order(models.Model):
    product = models.ForeignKey(Product, on_delete=models.PROTECT)
    quantity = models.PositiveIntegerField()
    email = models.EmailField()
    created_at = models.DateTimeField(auto_now_add=True)
"#;

const C_ADMIN: &str = r#"from django.contrib import admin

from store.models import Order, Product

admin.site.register(Product)
admin.site.register(Order)
"#;

const C_SERIALIZERS: &str = r#"from rest_framework import serializers

from store.models import Order, Product


class ProductSerializer(serializers.ModelSerializer):
    class Meta:
        model = Product
        fields = ["id", "name", "price_cents", "stock"]


class OrderSerializer(serializers.ModelSerializer):
    class Meta:
        model = Order
        fields = ["id", "product", "quantity", "email", "created_at"]
"#;

const C_VIEWS: &str = r#"from django.db import transaction
from rest_framework import generics, status
from rest_framework.response import Response

from store.models import Product
from store.serializers import OrderSerializer, ProductSerializer


class ProductList(generics.ListAPIView):
    queryset = Product.objects.order_by("name")
    serializer_class = ProductSerializer


class OrderCreate(generics.CreateAPIView):
    serializer_class = OrderSerializer

    def create(self, request, *args, **kwargs):
        print("new order request", request.data)
        serializer = self.get_serializer(data=request.data)
        if not serializer.is_valid():
            print("invalid order", serializer.errors)
            return Response(serializer.errors, status=status.HTTP_400_BAD_REQUEST)
        with transaction.atomic():
            product = Product.objects.select_for_update().get(pk=serializer.validated_data["product"].pk)
            print("stock before", product.stock)
            if product.stock < serializer.validated_data["quantity"]:
                print("out of stock", product.pk)
                return Response({"detail": "out of stock"}, status=status.HTTP_409_CONFLICT)
            product.stock -= serializer.validated_data["quantity"]
            product.save()
            order = serializer.save()
        print("order saved", order.pk)
        print("stock after", product.stock)
        return Response(self.get_serializer(order).data, status=status.HTTP_201_CREATED)
"#;

const C_STORE_URLS: &str = r#"from django.urls import path

from store import views

urlpatterns = [
    path("products/", views.ProductList.as_view()),
    path("orders/", views.OrderCreate.as_view()),
]
"#;

const C_MIGRATION: &str = r#"import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = []

    operations = [
        migrations.CreateModel(
            name="Product",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False)),
                ("name", models.CharField(max_length=200)),
                ("price_cents", models.PositiveIntegerField()),
                ("stock", models.PositiveIntegerField(default=0)),
            ],
        ),
        migrations.CreateModel(
            name="Order",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False)),
                ("quantity", models.PositiveIntegerField()),
                ("email", models.EmailField(max_length=254)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("product", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, to="store.product")),
            ],
        ),
    ]
"#;

const C_TESTS: &str = r#"from django.test import TestCase
from rest_framework.test import APIClient

from store.models import Product


class OrderTests(TestCase):
    def setUp(self):
        self.client = APIClient()
        self.product = Product.objects.create(name="Mug", price_cents=1200, stock=2)

    def test_order_decrements_stock(self):
        response = self.client.post("/api/orders/", {"product": self.product.pk, "quantity": 1, "email": "a@b.test"})
        self.assertEqual(response.status_code, 201)
        self.product.refresh_from_db()
        self.assertEqual(self.product.stock, 1)

    def test_out_of_stock_is_a_conflict(self):
        response = self.client.post("/api/orders/", {"product": self.product.pk, "quantity": 5, "email": "a@b.test"})
        self.assertEqual(response.status_code, 409)

    def test_products_are_listed(self):
        response = self.client.get("/api/products/")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json()["count"], 1)
"#;

fn fixture_c() -> Vec<(&'static str, String)> {
    let fixed: &[(&str, &str)] = &[
        ("README.md", C_README),
        ("requirements.txt", C_REQUIREMENTS),
        (".gitignore", C_GITIGNORE),
        ("Procfile", C_PROCFILE),
        ("manage.py", C_MANAGE),
        ("shop/__init__.py", ""),
        ("shop/settings.py", C_SETTINGS),
        ("shop/urls.py", C_URLS),
        ("shop/wsgi.py", C_WSGI),
        ("store/__init__.py", ""),
        ("store/apps.py", C_APPS),
        ("store/admin.py", C_ADMIN),
        ("store/models.py", C_MODELS),
        ("store/serializers.py", C_SERIALIZERS),
        ("store/views.py", C_VIEWS),
        ("store/urls.py", C_STORE_URLS),
        ("store/migrations/__init__.py", ""),
        ("store/migrations/0001_initial.py", C_MIGRATION),
        ("store/tests.py", C_TESTS),
    ];
    let mut files: Vec<(&'static str, String)> = fixed.iter().map(|(p, c)| (*p, c.to_string())).collect();
    files.push((".env", c_env()));
    files
}

#[test]
fn c_django_shop_with_committed_env_is_not_ready() {
    let r = scan_owned(&fixture_c());
    assert_failing(
        &r,
        &[
            "allowed-hosts-wildcard",
            "ci-missing",
            "codeowners-missing",
            "coverage-not-measured",
            "debug-enabled",
            "dependencies-unpinned",
            "dependency-updates-missing",
            "env-example-missing",
            "env-file-committed",
            "env-file-not-ignored",
            "error-monitoring-missing",
            "hardcoded-secret",
            "health-endpoint-missing",
            "metrics-missing",
            "print-logging",
            "rate-limit-missing",
            "request-id-missing",
            "security-policy-missing",
            "structured-logging-missing",
        ],
    );
    assert_eq!(r.level, Level::NotReady);
    assert_eq!(check(&r, "env-file-committed").severity, shipshape_analysis::Severity::Critical);
    assert_eq!(places(&r, "env-file-committed"), [".env:1"]);
    // The Django key (brackets, `#` and all) and the database password.
    assert_eq!(places(&r, "hardcoded-secret"), [".env:1", ".env:5"]);
    assert_eq!(places(&r, "debug-enabled"), ["shop/settings.py:11"]);
    assert_eq!(places(&r, "allowed-hosts-wildcard"), ["shop/settings.py:13"]);
    assert_eq!(places(&r, "env-file-not-ignored"), ["shop/settings.py:7"]);
    assert_eq!(places(&r, "print-logging"), ["store/views.py:18"]);
    assert_eq!(places(&r, "dependencies-unpinned").len(), 5);
    // The settings read the environment; manage.py's setdefault is a write.
    assert!(check(&r, "env-example-missing").summary.contains("os.environ at shop/settings.py:9"), "{}", dump(&r));
    // Default Django middleware sends X-Frame-Options and nosniff.
    for ok in ["security-headers-missing", "migrations-missing", "unbounded-list-endpoint", "dev-server-in-production"]
    {
        assert_eq!(check(&r, ok).outcome, Outcome::Pass, "{ok}\n{}", dump(&r));
    }
    let json = render(&r, Format::Json, false);
    assert!(!json.contains(&django_secret_key()) && !json.contains(&db_password()));
}

// ------------------------------------------------------------------ renderings

#[test]
fn a_renderings_name_every_failing_check_and_the_checklist_is_ordered_by_points() {
    let r = scan(&fixture_a());
    let failing: Vec<String> = r.failing_check_ids().into_iter().map(String::from).collect();
    assert!(failing.len() > 20, "fixture (a) fails broadly");

    // JSON: the failing checks, as data.
    let json: serde_json::Value = serde_json::from_str(&render(&r, Format::Json, false)).expect("JSON");
    let mut in_json: Vec<String> = json["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .filter(|c| c["outcome"] == "fail")
        .map(|c| c["check_id"].as_str().expect("id").to_string())
        .collect();
    in_json.sort();
    assert_eq!(in_json, failing);

    // SARIF: at least one result per failing check (absences included).
    let sarif: serde_json::Value = serde_json::from_str(&render(&r, Format::Sarif, false)).expect("SARIF");
    let results = sarif["runs"][0]["results"].as_array().expect("results");
    for id in &failing {
        assert!(results.iter().any(|x| x["ruleId"] == id.as_str()), "SARIF has no result for {id}");
    }

    // Markdown: every failing id named, and one checklist item per failing
    // check, most points lost first.
    let md = render(&r, Format::Markdown, false);
    for id in &failing {
        assert!(md.contains(&format!("`{id}`")), "markdown does not name {id}");
    }
    let checklist = md.split("## Checklist").nth(1).expect("a checklist").split("\n## ").next().unwrap();
    let items: Vec<(String, f64)> = checklist
        .lines()
        .filter(|l| l.starts_with("- [ ] "))
        .map(|l| {
            // `- [ ] **Title** (`id`, severity, 12.3 points): fix`
            let inner = l.split("(`").nth(1).and_then(|x| x.split(')').next()).expect("(`id`, severity, N points)");
            let parts: Vec<&str> = inner.split(", ").collect();
            let id = parts[0].trim_end_matches('`').to_string();
            let points = parts[2].strip_suffix(" points").unwrap_or_else(|| panic!("points in {l}"));
            (id, points.parse::<f64>().expect("points"))
        })
        .collect();
    let mut ids: Vec<String> = items.iter().map(|(id, _)| id.clone()).collect();
    ids.sort();
    assert_eq!(ids, failing, "one checklist item per failing check");
    for pair in items.windows(2) {
        assert!(pair[0].1 >= pair[1].1, "checklist out of order: {:?} before {:?}", pair[0], pair[1]);
    }
    // The order is the report's own deductions, and the worst item is the
    // critical gap that costs most.
    let top = r.deductions.iter().map(|d| d.points).fold(0.0, f64::max);
    assert!((items[0].1 - top).abs() < 0.05, "{:?} vs {top}", items[0]);
    assert!(items[0].1 > 0.0);
}

// ------------------------------------------------------------------ (d)
//
// "Typical Express/TypeScript API": a blog backend on Prisma/PostgreSQL
// with JWT auth, built by tsc into a two-stage Docker image, tested with
// jest + supertest on GitHub Actions.
//
// Auditor's notes, before running the scanner:
// - secrets: src/config.ts signs JWTs with `process.env.JWT_SECRET ||
//   'blog-dev-…'`, the fallback written across two lines
//   (insecure-default-secret, critical: not-ready). Everything else reads
//   the environment; .env is ignored and .env.example lists the variables.
// - security: helmet and cors with origins from CORS_ORIGIN are fine; there
//   is no rate limiting on /api/auth/login (rate-limit-missing). Passwords
//   go through bcrypt and JWTs are verified with a fixed algorithm.
// - data: Prisma with committed migrations; but GET /api/posts returns
//   every post with no take/limit (unbounded-list-endpoint).
// - reliability: the GitHub avatar lookup uses axios with no timeout
//   (outbound-http-no-timeout); the server listens without any SIGTERM
//   handling (no-graceful-shutdown). The only catch blocks answer 401.
// - observability: /health answers without touching the database
//   (health-shallow); logging is console.log (only two calls, under the
//   threshold) with no JSON logger, no error tracker, no metrics and no
//   request id (structured-logging-missing, error-monitoring-missing,
//   metrics-missing, request-id-missing).
// - delivery: the Dockerfile has no HEALTHCHECK (docker-healthcheck-missing);
//   the workflow sets no token permissions (ci-token-permissions); there is
//   no Dependabot/Renovate (dependency-updates-missing); third-party actions
//   are not used, so ci-actions-unpinned passes.
// - docs: README with setup, but no CODEOWNERS and no SECURITY.md.
// Level: not-ready (the critical secret fallback).

const D_PACKAGE: &str = r#"{
  "name": "blog-api",
  "version": "1.0.0",
  "private": true,
  "scripts": {
    "build": "tsc -p tsconfig.json",
    "start": "node dist/server.js",
    "dev": "ts-node-dev --respawn src/server.ts",
    "test": "jest --coverage",
    "migrate": "prisma migrate deploy"
  },
  "dependencies": {
    "@prisma/client": "^5.14.0",
    "axios": "^1.7.2",
    "bcryptjs": "^2.4.3",
    "cors": "^2.8.5",
    "dotenv": "^16.4.5",
    "express": "^4.19.2",
    "helmet": "^7.1.0",
    "jsonwebtoken": "^9.0.2",
    "zod": "^3.23.8"
  },
  "devDependencies": {
    "@types/express": "^4.17.21",
    "@types/jest": "^29.5.12",
    "jest": "^29.7.0",
    "prisma": "^5.14.0",
    "supertest": "^7.0.0",
    "ts-jest": "^29.1.4",
    "ts-node-dev": "^2.0.0",
    "typescript": "^5.4.5"
  }
}
"#;

const D_README: &str = "# blog-api

The API behind the blog: posts, comments and accounts.

## Getting started

```sh
cp .env.example .env
npm ci
npx prisma migrate deploy
npm run dev
```

Tests: `npm test`. Production: `docker build -t blog-api .`, then run the
image with `DATABASE_URL`, `JWT_SECRET` and `CORS_ORIGIN` set.
";

const D_SCHEMA: &str = r#"generator client {
  provider = "prisma-client-js"
}

datasource db {
  provider = "postgresql"
  url      = env("DATABASE_URL")
}

model User {
  id        Int      @id @default(autoincrement())
  email     String   @unique
  password  String
  posts     Post[]
}

model Post {
  id        Int      @id @default(autoincrement())
  title     String
  body      String
  author    User     @relation(fields: [authorId], references: [id])
  authorId  Int
  createdAt DateTime @default(now())
}
"#;

const D_MIGRATION: &str = "CREATE TABLE \"User\" (\"id\" SERIAL PRIMARY KEY, \"email\" TEXT NOT NULL, \"password\" TEXT NOT NULL);
CREATE TABLE \"Post\" (\"id\" SERIAL PRIMARY KEY, \"title\" TEXT NOT NULL, \"body\" TEXT NOT NULL, \"authorId\" INTEGER NOT NULL, \"createdAt\" TIMESTAMP NOT NULL DEFAULT now());
";

const D_CONFIG: &str = "import 'dotenv/config';

export const config = {
  port: Number(process.env.PORT) || 4000,
  databaseUrl: process.env.DATABASE_URL,
  corsOrigins: (process.env.CORS_ORIGIN ?? '').split(','),
  jwtSecret:
    process.env.JWT_SECRET ||
    'blog-dev-7d1f9c2e4a',
  jwtExpiresIn: process.env.JWT_EXPIRES_IN || '1h',
};
";

const D_APP: &str = "import express from 'express';
import cors from 'cors';
import helmet from 'helmet';
import { config } from './config';
import { authRouter } from './routes/auth';
import { postsRouter } from './routes/posts';

export const app = express();

app.use(helmet());
app.use(cors({ origin: config.corsOrigins, credentials: true }));
app.use(express.json());

app.get('/health', (_req, res) => {
  res.json({ status: 'ok' });
});

app.use('/api/auth', authRouter);
app.use('/api/posts', postsRouter);
";

const D_SERVER: &str = "import { app } from './app';
import { config } from './config';

app.listen(config.port, () => {
  console.log(`blog-api listening on ${config.port}`);
});
";

const D_PRISMA: &str = "import { PrismaClient } from '@prisma/client';

export const prisma = new PrismaClient();
";

const D_AUTH_MW: &str = "import { Request, Response, NextFunction } from 'express';
import jwt from 'jsonwebtoken';
import { config } from '../config';

export function requireAuth(req: Request, res: Response, next: NextFunction) {
  const token = req.headers.authorization?.replace('Bearer ', '');
  if (!token) {
    return res.status(401).json({ error: 'missing token' });
  }
  try {
    const payload = jwt.verify(token, config.jwtSecret, { algorithms: ['HS256'] });
    (req as any).user = payload;
    next();
  } catch (err) {
    return res.status(401).json({ error: 'invalid token' });
  }
}
";

const D_AUTH: &str = "import { Router } from 'express';
import bcrypt from 'bcryptjs';
import jwt from 'jsonwebtoken';
import { z } from 'zod';
import { prisma } from '../lib/prisma';
import { config } from '../config';
import { avatarFor } from '../services/github';

export const authRouter = Router();

const Credentials = z.object({ email: z.string().email(), password: z.string().min(8) });

authRouter.post('/register', async (req, res) => {
  const { email, password } = Credentials.parse(req.body);
  const hash = await bcrypt.hash(password, 12);
  const user = await prisma.user.create({ data: { email, password: hash } });
  const avatar = await avatarFor(email);
  res.status(201).json({ id: user.id, email, avatar });
});

authRouter.post('/login', async (req, res) => {
  const { email, password } = Credentials.parse(req.body);
  const user = await prisma.user.findUnique({ where: { email } });
  if (!user || !(await bcrypt.compare(password, user.password))) {
    return res.status(401).json({ error: 'invalid credentials' });
  }
  const token = jwt.sign({ sub: user.id }, config.jwtSecret, { expiresIn: config.jwtExpiresIn });
  res.json({ token });
});
";

const D_POSTS: &str = "import { Router } from 'express';
import { prisma } from '../lib/prisma';
import { requireAuth } from '../middleware/auth';

export const postsRouter = Router();

postsRouter.get('/', async (_req, res) => {
  const posts = await prisma.post.findMany({ include: { author: { select: { email: true } } } });
  res.json(posts);
});

postsRouter.get('/:id', async (req, res) => {
  const post = await prisma.post.findUnique({ where: { id: Number(req.params.id) } });
  if (!post) return res.status(404).end();
  res.json(post);
});

postsRouter.post('/', requireAuth, async (req, res) => {
  const post = await prisma.post.create({
    data: { title: req.body.title, body: req.body.body, authorId: (req as any).user.sub },
  });
  console.log('created post', post.id);
  res.status(201).json(post);
});
";

const D_GITHUB: &str = "import axios from 'axios';

export async function avatarFor(email: string): Promise<string | null> {
  const { data } = await axios.get(`https://api.github.com/search/users?q=${encodeURIComponent(email)}`);
  return data.items?.[0]?.avatar_url ?? null;
}
";

const D_TEST: &str = "import request from 'supertest';
import { app } from '../app';

jest.mock('../lib/prisma', () => ({
  prisma: {
    post: {
      findMany: jest.fn().mockResolvedValue([{ id: 1, title: 't', body: 'b' }]),
      findUnique: jest.fn().mockResolvedValue(null),
    },
    user: {
      findUnique: jest.fn().mockResolvedValue(null),
      create: jest.fn(),
    },
  },
}));

describe('health', () => {
  it('answers ok', async () => {
    const res = await request(app).get('/health');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
  });
});

describe('posts', () => {
  it('lists posts', async () => {
    const res = await request(app).get('/api/posts');
    expect(res.status).toBe(200);
    expect(res.body).toHaveLength(1);
  });

  it('answers 404 for a missing post', async () => {
    const res = await request(app).get('/api/posts/42');
    expect(res.status).toBe(404);
  });

  it('refuses to create a post without a token', async () => {
    const res = await request(app).post('/api/posts').send({ title: 't', body: 'b' });
    expect(res.status).toBe(401);
  });
});

describe('auth', () => {
  it('rejects unknown users', async () => {
    const res = await request(app).post('/api/auth/login').send({ email: 'a@b.co', password: 'long-enough' });
    expect(res.status).toBe(401);
  });
});
";

const D_DOCKERFILE: &str = "FROM node:20.14-alpine AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY . .
RUN npx prisma generate && npm run build

FROM node:20.14-alpine
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/prisma ./prisma
COPY package.json ./
USER node
EXPOSE 4000
CMD [\"sh\", \"-c\", \"npx prisma migrate deploy && node dist/server.js\"]
";

const D_WORKFLOW: &str = "name: ci
on:
  push:
    branches: [main]
  pull_request:
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-node@v4
        with:
          node-version: 20
          cache: npm
      - run: npm ci
      - run: npx prisma generate
      - run: npm test
      - run: npm run build
";

fn fixture_d() -> Vec<(&'static str, &'static str)> {
    vec![
        ("package.json", D_PACKAGE),
        ("package-lock.json", "{\"name\": \"blog-api\", \"lockfileVersion\": 3, \"packages\": {}}\n"),
        (
            "tsconfig.json",
            "{\"compilerOptions\": {\"outDir\": \"dist\", \"strict\": true, \"esModuleInterop\": true}}\n",
        ),
        ("jest.config.js", "module.exports = { preset: 'ts-jest', testEnvironment: 'node' };\n"),
        ("README.md", D_README),
        (".gitignore", "node_modules/\ndist/\n.env\ncoverage/\n"),
        (".dockerignore", "node_modules\ndist\n.env\n.git\n"),
        (
            ".env.example",
            "DATABASE_URL=postgresql://user:pass@localhost:5432/blog\nJWT_SECRET=\nCORS_ORIGIN=http://localhost:5173\n",
        ),
        ("Dockerfile", D_DOCKERFILE),
        (".github/workflows/ci.yml", D_WORKFLOW),
        ("prisma/schema.prisma", D_SCHEMA),
        ("prisma/migrations/20240601120000_init/migration.sql", D_MIGRATION),
        ("prisma/migrations/migration_lock.toml", "provider = \"postgresql\"\n"),
        ("src/config.ts", D_CONFIG),
        ("src/app.ts", D_APP),
        ("src/server.ts", D_SERVER),
        ("src/lib/prisma.ts", D_PRISMA),
        ("src/middleware/auth.ts", D_AUTH_MW),
        ("src/routes/auth.ts", D_AUTH),
        ("src/routes/posts.ts", D_POSTS),
        ("src/services/github.ts", D_GITHUB),
        ("src/__tests__/api.test.ts", D_TEST),
    ]
}

#[test]
fn d_typical_express_typescript_api_is_not_ready_for_its_secret_fallback() {
    let r = scan(&fixture_d());
    assert_eq!(r.stack.frameworks, ["express"], "{:?}", r.stack);
    assert_eq!(r.stack.orms, ["prisma"]);
    assert_failing(
        &r,
        &[
            "ci-token-permissions",
            "codeowners-missing",
            "dependency-updates-missing",
            "docker-healthcheck-missing",
            "error-monitoring-missing",
            "health-shallow",
            "insecure-default-secret",
            "metrics-missing",
            "no-graceful-shutdown",
            "outbound-http-no-timeout",
            "rate-limit-missing",
            "request-id-missing",
            "security-policy-missing",
            "structured-logging-missing",
            "unbounded-list-endpoint",
        ],
    );
    assert_eq!(r.level, Level::NotReady);
    assert_eq!(places(&r, "insecure-default-secret"), ["src/config.ts:9"]);
    assert_eq!(places(&r, "unbounded-list-endpoint"), ["src/routes/posts.ts:8"]);
    assert_eq!(places(&r, "outbound-http-no-timeout"), ["src/services/github.ts:4"]);
    assert_eq!(places(&r, "no-graceful-shutdown"), ["src/server.ts:4"]);
    assert_eq!(places(&r, "health-shallow"), ["src/app.ts:14"]);
    // The fallback's value never reaches any rendering; each names the finding.
    for format in [Format::Json, Format::Sarif, Format::Markdown] {
        let out = render(&r, format, false);
        assert!(!out.contains("blog-dev-7d1f9c2e4a"), "{format:?}");
        assert!(out.contains("insecure-default-secret") && out.contains("src/config.ts"), "{format:?}");
    }
    // What the auditor checked and found right.
    for ok in [
        "cors-wildcard",
        "security-headers-missing",
        "jwt-verification-disabled",
        "weak-password-hash",
        "sql-injection-risk",
        "migrations-missing",
        "schema-created-at-startup",
        "swallowed-exceptions",
        "print-logging",
        "health-endpoint-missing",
        "tests-missing",
        "tests-not-in-ci",
        "docker-root-user",
        "docker-single-stage",
        "lockfile-missing",
        "dev-server-in-production",
        "env-example-missing",
        "localhost-in-config",
    ] {
        assert_eq!(check(&r, ok).outcome, Outcome::Pass, "{ok}\n{}", dump(&r));
    }
}
