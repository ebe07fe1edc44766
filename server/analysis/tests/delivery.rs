//! Delivery checks (and `dev-server-in-production`) on real git fixtures:
//! each check fails and passes where a reviewer would say so, points at the
//! right file and line, and reports `error` rather than passing on a
//! Dockerfile or workflow it cannot read.

use chrono::NaiveDate;
use shipshape_analysis::{CheckResult, Options, Outcome, Report, Severity, analyze};
use shipshape_testkit::GitRepo;

fn scan(r: &GitRepo) -> Report {
    analyze(
        r.path(),
        &Options { today: NaiveDate::from_ymd_opt(2026, 11, 22).unwrap(), github: None, ..Default::default() },
    )
    .unwrap()
}

fn result<'r>(report: &'r Report, id: &str) -> &'r CheckResult {
    report.check(id).unwrap_or_else(|| panic!("no check {id}"))
}

fn outcome(report: &Report, id: &str) -> Outcome {
    result(report, id).outcome
}

fn scan_files(files: &[(&str, &str)]) -> Report {
    scan(&GitRepo::with_files(files))
}

/// `(path, line)` of every finding of `id`.
fn places(report: &Report, id: &str) -> Vec<(String, Option<u32>)> {
    result(report, id)
        .findings
        .iter()
        .map(|f| {
            let loc = f.location.as_ref().expect("finding has a location");
            (loc.path.clone(), loc.line)
        })
        .collect()
}

fn at(path: &str, line: u32) -> (String, Option<u32>) {
    (path.to_string(), Some(line))
}

const APP: (&str, &str) = ("app/main.py", "from fastapi import FastAPI\napp = FastAPI()\n");
const REQS: (&str, &str) = ("requirements.txt", "fastapi==0.115.0\nuvicorn==0.30.0\n");

const GOOD_DOCKERFILE: &str = "\
# syntax=docker/dockerfile:1
FROM python:3.12-slim AS build
WORKDIR /app
COPY requirements.txt .
RUN pip install --prefix=/install -r requirements.txt

FROM python:3.12-slim
RUN useradd --create-home app
COPY --from=build /install /usr/local
COPY . /app
USER app
HEALTHCHECK CMD curl -fsS http://localhost:8000/health || exit 1
CMD [\"gunicorn\", \"-k\", \"uvicorn.workers.UvicornWorker\", \"app.main:app\"]
";

const DOCKER_CHECKS: &[&str] = &[
    "docker-root-user",
    "docker-healthcheck-missing",
    "docker-unpinned-base",
    "dockerignore-missing",
    "docker-secret-in-env",
];

// ---- Docker ----------------------------------------------------------------

#[test]
fn multi_stage_non_root_dockerfile_with_healthcheck_passes_every_docker_check() {
    let report = scan_files(&[APP, REQS, ("Dockerfile", GOOD_DOCKERFILE), (".dockerignore", ".git\n.env\n")]);
    for id in DOCKER_CHECKS {
        assert_eq!(outcome(&report, id), Outcome::Pass, "{id}: {:?}", result(&report, id).summary);
    }
    assert_eq!(outcome(&report, "dev-server-in-production"), Outcome::Pass);
    assert_eq!(outcome(&report, "deploy-config-missing"), Outcome::Pass);
}

#[test]
fn docker_checks_are_not_applicable_without_a_dockerfile() {
    let report = scan_files(&[APP, REQS]);
    for id in DOCKER_CHECKS.iter().chain(&["docker-single-stage"]) {
        assert_eq!(outcome(&report, id), Outcome::NotApplicable, "{id}");
    }
}

#[test]
fn root_user_fails_without_user_with_user_root_and_with_user_only_in_the_builder() {
    let none = scan_files(&[APP, ("Dockerfile", "FROM python:3.12-slim\nCOPY . /app\nCMD python app.py\n")]);
    assert_eq!(places(&none, "docker-root-user"), vec![at("Dockerfile", 1)]);
    assert!(result(&none, "docker-root-user").findings[0].evidence.contains("FROM python:3.12-slim"));

    let root = scan_files(&[
        APP,
        ("Dockerfile", "FROM python:3.12-slim\nUSER app\nRUN whoami\nUSER root\nCMD python app.py\n"),
    ]);
    assert_eq!(places(&root, "docker-root-user"), vec![at("Dockerfile", 4)]);

    let builder_only = scan_files(&[
        APP,
        (
            "deploy/api.Dockerfile",
            "FROM python:3.12 AS build\nUSER app\nRUN pip wheel .\n\nFROM python:3.12-slim\nCOPY --from=build /w /w\n",
        ),
    ]);
    assert_eq!(places(&builder_only, "docker-root-user"), vec![at("deploy/api.Dockerfile", 5)]);
}

#[test]
fn root_user_passes_with_a_numeric_user_or_one_inherited_from_an_earlier_stage() {
    let numeric = scan_files(&[APP, ("Dockerfile", "FROM python:3.12-slim\nUSER 10001:10001\n")]);
    assert_eq!(outcome(&numeric, "docker-root-user"), Outcome::Pass);
    let inherited =
        scan_files(&[APP, ("Dockerfile", "FROM python:3.12-slim AS base\nUSER app\nFROM base AS final\nCMD x\n")]);
    assert_eq!(outcome(&inherited, "docker-root-user"), Outcome::Pass);
}

#[test]
fn each_dockerfile_is_judged_and_test_or_dev_dockerfiles_are_ignored() {
    let report = scan_files(&[
        APP,
        ("Dockerfile", GOOD_DOCKERFILE),
        ("worker/Containerfile", "FROM python:3.12-slim\nCMD celery worker\n"),
        ("tests/Dockerfile", "FROM python\n"),
        ("Dockerfile.dev", "FROM python\n"),
        (".devcontainer/Dockerfile", "FROM python\n"),
        ("deploy/Dockerfile.j2", "FROM {{ base }}\n{% if x %}RUN x{% endif %}\n"),
    ]);
    assert_eq!(places(&report, "docker-root-user"), vec![at("worker/Containerfile", 1)]);
    assert_eq!(outcome(&report, "docker-unpinned-base"), Outcome::Pass);
}

#[test]
fn an_unparseable_dockerfile_is_an_error_unless_another_one_fails() {
    let broken = ("Dockerfile", "FROM python:3.12-slim\nUSER app\nRUNN pip install x\n");
    let report = scan_files(&[APP, broken]);
    let r = result(&report, "docker-root-user");
    assert_eq!(r.outcome, Outcome::Error);
    assert!(r.error.as_deref().unwrap().starts_with("Dockerfile:3: unknown instruction"), "{:?}", r.error);

    let report = scan_files(&[APP, broken, ("worker/Dockerfile", "FROM python:3.12-slim\n")]);
    assert_eq!(outcome(&report, "docker-root-user"), Outcome::Fail);
    assert_eq!(places(&report, "docker-root-user"), vec![at("worker/Dockerfile", 1)]);
}

#[test]
fn healthcheck_missing_fails_without_one_and_passes_with_a_platform_check() {
    let bare = ("Dockerfile", "FROM python:3.12-slim\nUSER app\nCMD x\n");
    let report = scan_files(&[APP, bare]);
    assert_eq!(places(&report, "docker-healthcheck-missing"), vec![at("Dockerfile", 1)]);

    let disabled = scan_files(&[APP, ("Dockerfile", "FROM python:3.12-slim\nHEALTHCHECK NONE\n")]);
    assert_eq!(outcome(&disabled, "docker-healthcheck-missing"), Outcome::Fail);

    for (path, text) in [
        ("docker-compose.yml", "services:\n  api:\n    build: .\n    healthcheck:\n      test: [\"CMD\", \"true\"]\n"),
        ("fly.toml", "app = 'x'\n[[http_service.checks]]\n  path = '/health'\n"),
        ("render.yaml", "services:\n  - type: web\n    healthCheckPath: /health\n"),
        ("k8s/deployment.yaml", "kind: Deployment\nspec:\n  containers:\n    - livenessProbe:\n        httpGet: {}\n"),
    ] {
        let report = scan_files(&[APP, bare, (path, text)]);
        assert_eq!(outcome(&report, "docker-healthcheck-missing"), Outcome::Pass, "{path}");
    }
    let db_only = scan_files(&[
        APP,
        bare,
        (
            "compose.yaml",
            "services:\n  db:\n    image: postgres:16\n    healthcheck:\n      test: pg_isready\n  api:\n    build: .\n",
        ),
    ]);
    assert_eq!(
        outcome(&db_only, "docker-healthcheck-missing"),
        Outcome::Fail,
        "a database health check is not the app's"
    );
    let other_dockerfile = scan_files(&[
        APP,
        bare,
        ("worker/Dockerfile", "FROM python:3.12-slim\nUSER app\n"),
        (
            "deploy/compose.yaml",
            "services:\n  api:\n    build:\n      context: ..\n      dockerfile: ./Dockerfile\n    healthcheck:\n      test: curl -f localhost\n",
        ),
    ]);
    assert_eq!(places(&other_dockerfile, "docker-healthcheck-missing"), vec![at("worker/Dockerfile", 1)]);
    let commented = scan_files(&[APP, bare, ("docker-compose.yml", "services:\n  api:\n    # healthcheck: later\n")]);
    assert_eq!(outcome(&commented, "docker-healthcheck-missing"), Outcome::Fail);
}

#[test]
fn unpinned_base_fails_on_no_tag_and_latest_but_not_on_tags_digests_scratch_or_stages() {
    let report = scan_files(&[
        APP,
        (
            "Dockerfile",
            "FROM python AS a\nFROM node:latest AS b\nFROM registry.local:5000/team/img AS c\nFROM python:3.12-slim AS d\n",
        ),
    ]);
    assert_eq!(
        places(&report, "docker-unpinned-base"),
        vec![at("Dockerfile", 1), at("Dockerfile", 2), at("Dockerfile", 3)]
    );

    let ok = scan_files(&[
        APP,
        (
            "Dockerfile",
            "ARG PY=3.12\nARG BASE\nFROM python:${PY}-slim AS build\nFROM $BASE AS chosen\nFROM golang@sha256:0123abcd AS go\nFROM scratch AS empty\nFROM build\n",
        ),
    ]);
    assert_eq!(outcome(&ok, "docker-unpinned-base"), Outcome::Pass, "{:?}", places(&ok, "docker-unpinned-base"));

    let arg_latest = scan_files(&[APP, ("Dockerfile", "ARG IMG=python\nFROM ${IMG}\n")]);
    assert_eq!(places(&arg_latest, "docker-unpinned-base"), vec![at("Dockerfile", 2)]);
}

#[test]
fn single_stage_fails_when_a_compiled_app_is_built_and_shipped_in_one_stage() {
    let gomod = ("go.mod", "module example.com/x\n\ngo 1.22\n\nrequire github.com/go-chi/chi/v5 v5.0.12\n");
    let one = scan_files(&[
        gomod,
        ("main.go", "package main\nfunc main() {}\n"),
        ("Dockerfile", "FROM golang:1.22\nWORKDIR /src\nCOPY . .\nRUN go build -o /app .\nCMD [\"/app\"]\n"),
    ]);
    assert_eq!(places(&one, "docker-single-stage"), vec![at("Dockerfile", 4)]);

    let multi = scan_files(&[
        gomod,
        ("main.go", "package main\nfunc main() {}\n"),
        (
            "Dockerfile",
            "FROM golang:1.22 AS build\nCOPY . .\nRUN go build -o /app .\nFROM gcr.io/distroless/static:nonroot\nCOPY --from=build /app /app\n",
        ),
    ]);
    assert_eq!(outcome(&multi, "docker-single-stage"), Outcome::Pass);
    assert_eq!(outcome(&multi, "docker-root-user"), Outcome::Pass, "distroless nonroot");

    let node = scan_files(&[
        ("package.json", r#"{"scripts":{"build":"tsc","start":"node dist/index.js"},"dependencies":{"express":"4"}}"#),
        ("package-lock.json", "{}"),
        ("Dockerfile", "FROM node:20-slim\nCOPY . .\nRUN npm ci && npm run build\nCMD [\"npm\", \"start\"]\n"),
    ]);
    assert_eq!(places(&node, "docker-single-stage"), vec![at("Dockerfile", 3)]);

    let python = scan_files(&[APP, REQS, ("Dockerfile", "FROM python:3.12-slim\nCOPY . .\n")]);
    assert_eq!(outcome(&python, "docker-single-stage"), Outcome::NotApplicable);
}

#[test]
fn dockerignore_missing_fails_on_copy_dot_and_is_medium_with_env_files() {
    let dockerfile = ("Dockerfile", "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\n");
    let report = scan_files(&[APP, dockerfile]);
    assert_eq!(places(&report, "dockerignore-missing"), vec![at("Dockerfile", 3)]);
    assert_eq!(result(&report, "dockerignore-missing").findings[0].severity, Severity::Low);

    let with_env = scan_files(&[APP, dockerfile, (".env", "DEBUG=1\n")]);
    assert_eq!(result(&with_env, "dockerignore-missing").findings[0].severity, Severity::Medium);

    let ignored = scan_files(&[APP, dockerfile, (".dockerignore", ".git\n")]);
    assert_eq!(outcome(&ignored, "dockerignore-missing"), Outcome::Pass);
    let in_dir =
        scan_files(&[APP, ("svc/Dockerfile", "FROM python:3.12-slim\nADD ./ /app\n"), ("svc/.dockerignore", ".git\n")]);
    assert_eq!(outcome(&in_dir, "dockerignore-missing"), Outcome::Pass);
    let json_form = scan_files(&[APP, ("Dockerfile", "FROM python:3.12-slim\nCOPY [\".\", \"/app\"]\n")]);
    assert_eq!(places(&json_form, "dockerignore-missing"), vec![at("Dockerfile", 2)]);
    let beside = scan_files(&[APP, dockerfile, ("Dockerfile.dockerignore", ".git\n")]);
    assert_eq!(
        outcome(&beside, "dockerignore-missing"),
        Outcome::Pass,
        "{:?}",
        result(&beside, "dockerignore-missing")
    );
    let narrow = scan_files(&[APP, ("Dockerfile", "FROM python:3.12-slim\nCOPY app/ /app/\n")]);
    assert_eq!(outcome(&narrow, "dockerignore-missing"), Outcome::Pass);
}

#[test]
fn secret_in_env_flags_literal_values_and_masks_them() {
    let report = scan_files(&[
        APP,
        (
            "Dockerfile",
            "FROM python:3.12-slim\nARG NPM_TOKEN\nENV API_KEY=sk_live_abcdefghijklmnop DEBUG=0\nENV DB_PASSWORD ${DB_PASSWORD}\nENV SECRET_KEY_FILE=/run/secrets/key\nARG GITHUB_TOKEN=ghp_notempty123\nENV JWT_SECRET=\"\"\n",
        ),
    ]);
    assert_eq!(places(&report, "docker-secret-in-env"), vec![at("Dockerfile", 3), at("Dockerfile", 6)]);
    let evidence = &result(&report, "docker-secret-in-env").findings[0].evidence;
    assert_eq!(evidence, "ENV API_KEY=sk_l… (24 chars)");
    assert!(!serde_json::to_string(&report).unwrap().contains("abcdefghijklmnop"));

    let clean = scan_files(&[APP, ("Dockerfile", "FROM python:3.12-slim\nENV TOKEN=$TOKEN PORT=8000\n")]);
    assert_eq!(outcome(&clean, "docker-secret-in-env"), Outcome::Pass);
}

// ---- dev-server-in-production ------------------------------------------------

#[test]
fn procfile_with_reload_runs_a_dev_server() {
    let report =
        scan_files(&[APP, REQS, ("Procfile", "release: alembic upgrade head\nweb: uvicorn app:app --reload\n")]);
    assert_eq!(places(&report, "dev-server-in-production"), vec![at("Procfile", 2)]);
    let r = result(&report, "dev-server-in-production");
    assert_eq!(r.category, shipshape_analysis::Category::Reliability);

    let good = scan_files(&[APP, REQS, ("Procfile", "web: gunicorn -k uvicorn.workers.UvicornWorker app.main:app\n")]);
    assert_eq!(outcome(&good, "dev-server-in-production"), Outcome::Pass);
}

#[test]
fn dev_servers_in_dockerfiles_and_platform_configs_fail() {
    for (path, text, line) in [
        ("Dockerfile", "FROM python:3.12-slim\nCMD [\"flask\", \"run\", \"--host=0.0.0.0\"]\n", 2),
        ("Dockerfile", "FROM python:3.12-slim\nENTRYPOINT [\"python\", \"manage.py\"]\nCMD [\"runserver\"]\n", 3),
        ("Dockerfile", "FROM python:3.12-slim AS base\nCMD fastapi dev app/main.py\nFROM base\nUSER app\n", 2),
        (
            "render.yaml",
            "services:\n  - type: web\n    name: api\n    startCommand: python manage.py runserver 0.0.0.0:$PORT\n",
            4,
        ),
        ("railway.json", "{\n  \"deploy\": {\n    \"startCommand\": \"npm run dev\"\n  }\n}\n", 3),
        ("railway.toml", "[deploy]\nstartCommand = \"nodemon server.js\"\n", 2),
        ("fly.toml", "app = 'x'\n[processes]\n  app = 'uvicorn app:app --reload'\n", 3),
    ] {
        let report = scan_files(&[APP, REQS, (path, text)]);
        assert_eq!(places(&report, "dev-server-in-production"), vec![at(path, line)], "{path}: {text}");
    }
}

#[test]
fn package_json_start_counts_only_when_it_is_the_production_command() {
    let pkg = (
        "package.json",
        "{\n  \"scripts\": {\n    \"start\": \"ts-node src/index.ts\"\n  },\n  \"dependencies\": {\"express\": \"4\"}\n}\n",
    );
    let alone = scan_files(&[pkg, ("package-lock.json", "{}")]);
    assert_eq!(places(&alone, "dev-server-in-production"), vec![at("package.json", 3)]);

    let docker_runs_node = scan_files(&[pkg, ("Dockerfile", "FROM node:20-slim\nCMD [\"node\", \"dist/index.js\"]\n")]);
    assert_eq!(outcome(&docker_runs_node, "dev-server-in-production"), Outcome::Pass);

    let docker_runs_npm_start = scan_files(&[pkg, ("Dockerfile", "FROM node:20-slim\nCMD npm start\n")]);
    assert_eq!(places(&docker_runs_npm_start, "dev-server-in-production"), vec![at("package.json", 3)]);
}

#[test]
fn dev_server_is_not_applicable_without_a_start_command_and_ignores_dev_dockerfiles() {
    let report = scan_files(&[APP, REQS]);
    assert_eq!(outcome(&report, "dev-server-in-production"), Outcome::NotApplicable);
    let dev_only = scan_files(&[APP, ("Dockerfile.dev", "FROM python:3.12\nCMD uvicorn app:app --reload\n")]);
    assert_eq!(outcome(&dev_only, "dev-server-in-production"), Outcome::NotApplicable);
}

// ---- deploy config ---------------------------------------------------------------

#[test]
fn deploy_config_missing_for_a_service_without_dockerfile_or_platform_config() {
    let report = scan_files(&[APP, REQS]);
    assert_eq!(outcome(&report, "deploy-config-missing"), Outcome::Fail);
    assert!(result(&report, "deploy-config-missing").findings[0].location.is_none());

    for (path, text) in
        [("Procfile", "web: gunicorn app:app\n"), ("fly.toml", "app='x'\n"), ("k8s/api.yaml", "kind: Deployment\n")]
    {
        let report = scan_files(&[APP, REQS, (path, text)]);
        assert_eq!(outcome(&report, "deploy-config-missing"), Outcome::Pass, "{path}");
    }
    let publish =
        "on: push\npermissions: {}\njobs:\n  p:\n    steps:\n      - uses: pypa/gh-action-pypi-publish@release/v1\n";
    let published = scan_files(&[APP, REQS, (".github/workflows/publish.yml", publish)]);
    assert_eq!(outcome(&published, "deploy-config-missing"), Outcome::NotApplicable);
    let library = scan_files(&[
        ("pyproject.toml", "[project]\nname='lib'\ndependencies=['attrs>=23']\n"),
        ("lib/core.py", "X = 1\n"),
    ]);
    assert_eq!(outcome(&library, "deploy-config-missing"), Outcome::NotApplicable);
}

// ---- CI ----------------------------------------------------------------------------

const SHA: &str = "8f4b7f84864484a7bf31766abe9204da3cbe65b3";

fn workflow(extra_top: &str, uses: &str) -> String {
    format!(
        "name: ci\non: [push, pull_request]\n{extra_top}jobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - uses: {uses}\n      - run: pytest\n"
    )
}

#[test]
fn ci_missing_fails_without_ci_and_passes_with_any_supported_system() {
    let report = scan_files(&[APP, REQS]);
    assert_eq!(outcome(&report, "ci-missing"), Outcome::Fail);
    for (path, text) in [
        (".github/workflows/ci.yml", workflow("", "actions/setup-python@v5").as_str()),
        (".gitlab-ci.yml", "test:\n  script: pytest\n"),
        ("Jenkinsfile", "pipeline {}\n"),
    ] {
        let report = scan_files(&[APP, REQS, (path, text)]);
        assert_eq!(outcome(&report, "ci-missing"), Outcome::Pass, "{path}");
    }
}

#[test]
fn third_party_actions_must_be_pinned_to_a_full_sha() {
    let wf = workflow("permissions:\n  contents: read\n", "some/action@v3");
    let report = scan_files(&[APP, (".github/workflows/ci.yml", &wf)]);
    assert_eq!(places(&report, "ci-actions-unpinned"), vec![at(".github/workflows/ci.yml", 10)]);
    assert_eq!(result(&report, "ci-actions-unpinned").findings[0].evidence, "uses: some/action@v3");

    let pinned = workflow("permissions:\n  contents: read\n", &format!("some/action@{SHA} # v3.1.0"));
    let report = scan_files(&[APP, (".github/workflows/ci.yml", &pinned)]);
    assert_eq!(outcome(&report, "ci-actions-unpinned"), Outcome::Pass);
    assert_eq!(outcome(&report, "ci-token-permissions"), Outcome::Pass);
}

#[test]
fn github_actions_checks_are_not_applicable_without_workflows() {
    let report = scan_files(&[APP, (".gitlab-ci.yml", "test:\n  script: pytest\n")]);
    assert_eq!(outcome(&report, "ci-actions-unpinned"), Outcome::NotApplicable);
    assert_eq!(outcome(&report, "ci-token-permissions"), Outcome::NotApplicable);
}

#[test]
fn token_permissions_fail_when_missing_or_write_all() {
    let missing = scan_files(&[APP, (".github/workflows/ci.yml", &workflow("", "actions/setup-python@v5"))]);
    assert_eq!(places(&missing, "ci-token-permissions"), vec![at(".github/workflows/ci.yml", 1)]);

    let write_all = scan_files(&[
        APP,
        (".github/workflows/ci.yml", &workflow("permissions: write-all\n", "actions/setup-python@v5")),
    ]);
    assert_eq!(places(&write_all, "ci-token-permissions"), vec![at(".github/workflows/ci.yml", 3)]);

    let per_job = "on: push\njobs:\n  a:\n    permissions:\n      contents: read\n    runs-on: x\n    steps:\n      - run: make\n";
    let report = scan_files(&[APP, (".github/workflows/a.yaml", per_job)]);
    assert_eq!(outcome(&report, "ci-token-permissions"), Outcome::Pass);
}

#[test]
fn an_unparseable_workflow_is_an_error_unless_another_workflow_fails() {
    let broken = (".github/workflows/broken.yml", "on: push\njobs:\n  a:\n    steps: [\n");
    let good = workflow("permissions: read-all\n", &format!("some/action@{SHA}"));
    let report = scan_files(&[APP, broken, (".github/workflows/ok.yml", &good)]);
    let r = result(&report, "ci-actions-unpinned");
    assert_eq!(r.outcome, Outcome::Error);
    assert!(r.error.as_deref().unwrap().starts_with(".github/workflows/broken.yml:"), "{:?}", r.error);

    let bad = workflow("", "some/action@main");
    let report = scan_files(&[APP, broken, (".github/workflows/ok.yml", &bad)]);
    assert_eq!(outcome(&report, "ci-actions-unpinned"), Outcome::Fail);
    assert_eq!(outcome(&report, "ci-token-permissions"), Outcome::Fail);
}

#[test]
fn dependency_updates_need_dependabot_or_renovate() {
    let report = scan_files(&[APP, REQS]);
    assert_eq!(outcome(&report, "dependency-updates-missing"), Outcome::Fail);
    for (path, text) in [
        (".github/dependabot.yml", "version: 2\n"),
        ("renovate.json", "{}"),
        (".github/renovate.json5", "{}"),
        ("package.json", r#"{"renovate":{"extends":["config:recommended"]}}"#),
    ] {
        let report = scan_files(&[APP, REQS, (path, text)]);
        assert_eq!(outcome(&report, "dependency-updates-missing"), Outcome::Pass, "{path}");
    }
    let nothing = scan_files(&[("README.md", "# notes\n")]);
    assert_eq!(outcome(&nothing, "dependency-updates-missing"), Outcome::NotApplicable);
}

// ---- dependencies ------------------------------------------------------------------

#[test]
fn lockfile_missing_per_ecosystem() {
    let cases: &[(&[(&str, &str)], &str)] = &[
        (&[("package.json", r#"{"dependencies":{"express":"^4"}}"#)], "package.json"),
        (
            &[("pyproject.toml", "[tool.poetry]\nname='x'\n[tool.poetry.dependencies]\npython='^3.12'\nfastapi='*'\n")],
            "pyproject.toml",
        ),
        (&[("pyproject.toml", "[project]\nname='x'\ndependencies=['fastapi']\n[tool.pdm]\n")], "pyproject.toml"),
        (
            &[("pyproject.toml", "[project]\nname='x'\ndependencies=['fastapi']\n[tool.uv]\ndev-dependencies=[]\n")],
            "pyproject.toml",
        ),
        (&[("Pipfile", "[packages]\nflask = '*'\n")], "Pipfile"),
        (
            &[("Cargo.toml", "[package]\nname='x'\n[dependencies]\naxum='0.7'\n"), ("src/main.rs", "fn main() {}\n")],
            "Cargo.toml",
        ),
        (&[("go.mod", "module x\n\nrequire github.com/gin-gonic/gin v1.9.1\n")], "go.mod"),
    ];
    for (files, manifest) in cases {
        let report = scan_files(files);
        assert_eq!(outcome(&report, "lockfile-missing"), Outcome::Fail, "{files:?}");
        assert_eq!(places(&report, "lockfile-missing"), vec![(manifest.to_string(), None)], "{files:?}");
    }
}

#[test]
fn lockfile_present_or_not_needed_passes() {
    let pass: &[&[(&str, &str)]] = &[
        &[("package.json", r#"{"dependencies":{"express":"^4"}}"#), ("yarn.lock", "")],
        &[("web/package.json", r#"{"dependencies":{"react":"18"}}"#), ("pnpm-lock.yaml", ""), ("package.json", "{}")],
        &[
            ("pyproject.toml", "[tool.poetry]\nname='x'\n[tool.poetry.dependencies]\nfastapi='*'\n"),
            ("poetry.lock", ""),
        ],
        &[
            ("Cargo.toml", "[workspace]\nmembers=['app']\n"),
            ("app/Cargo.toml", "[package]\nname='a'\n"),
            ("app/src/main.rs", ""),
            ("Cargo.lock", ""),
        ],
        &[("go.mod", "module x\n\nrequire github.com/gin-gonic/gin v1.9.1\n"), ("go.sum", "")],
        &[("Pipfile", "[packages]\nflask = '*'\n"), ("Pipfile.lock", "{}")],
    ];
    for files in pass {
        let report = scan_files(files);
        assert_eq!(outcome(&report, "lockfile-missing"), Outcome::Pass, "{files:?}");
    }
    let not_needed: &[&[(&str, &str)]] = &[
        &[("package.json", r#"{"scripts":{"lint":"eslint ."}}"#)],
        &[("Cargo.toml", "[package]\nname='lib'\n[dependencies]\nserde='1'\n"), ("src/lib.rs", "")],
        &[("fuzz/Cargo.toml", "[package]\nname='f'\n[package.metadata]\ncargo-fuzz = true\n[[bin]]\nname='t'\n")],
        &[(
            "pyproject.toml",
            "[project]\nname='lib'\ndependencies=['attrs']\n[build-system]\nrequires=['hatchling']\n",
        )],
        &[REQS],
    ];
    for files in not_needed {
        let report = scan_files(files);
        assert_eq!(outcome(&report, "lockfile-missing"), Outcome::NotApplicable, "{files:?}");
    }
}

#[test]
fn uv_in_ci_makes_a_pyproject_need_uv_lock() {
    let pyproject = ("pyproject.toml", "[project]\nname='x'\ndependencies=['fastapi']\n");
    let wf = workflow("permissions: read-all\n", "astral-sh/setup-uv@v5");
    let report = scan_files(&[pyproject, (".github/workflows/ci.yml", &wf)]);
    assert_eq!(outcome(&report, "lockfile-missing"), Outcome::Fail);
    let report = scan_files(&[pyproject, (".github/workflows/ci.yml", &wf), ("uv.lock", "")]);
    assert_eq!(outcome(&report, "lockfile-missing"), Outcome::Pass);
}

#[test]
fn unpinned_requirements_are_reported_per_line() {
    let report = scan_files(&[
        APP,
        ("requirements.txt", "# deps\nfastapi==0.115.0\nuvicorn[standard]>=0.29\n-r base.txt\nhttpx\nattrs===23.1.0\n"),
    ]);
    assert_eq!(places(&report, "dependencies-unpinned"), vec![at("requirements.txt", 3), at("requirements.txt", 5)]);
    assert_eq!(result(&report, "dependencies-unpinned").findings[0].evidence, "uvicorn[standard]>=0.29");
}

#[test]
fn requirements_covered_by_constraints_locks_or_pip_tools_pass() {
    let loose = ("requirements.txt", "fastapi>=0.100\n");
    let cases: &[&[(&str, &str)]] = &[
        &[("requirements.txt", "-c constraints.txt\nfastapi\n"), ("constraints.txt", "fastapi==0.115.0\n")],
        &[loose, ("requirements.in", "fastapi\n")],
        &[loose, ("uv.lock", "")],
        &[("requirements.txt", "# This file is autogenerated by pip-compile\nfastapi==0.115.0\n")],
        &[REQS],
    ];
    for files in cases {
        let report = scan_files(files);
        assert_eq!(outcome(&report, "dependencies-unpinned"), Outcome::Pass, "{files:?}");
    }
    let none = scan_files(&[("pyproject.toml", "[project]\nname='x'\n")]);
    assert_eq!(outcome(&none, "dependencies-unpinned"), Outcome::NotApplicable);
}
