//! What a repository is built with: languages, web frameworks, ORMs, deploy
//! targets and CI systems. Frameworks and ORMs come from declared
//! dependencies and from imports seen by the per-file pass
//! (`framework:<id>` and `orm:<id>` signals), so an app that vendors its
//! requirements elsewhere is still recognised.

use crate::manifests::Manifest;
use crate::model::Stack;
use crate::repo::FileFacts;
use crate::walk::FileIndex;
use std::collections::BTreeSet;

/// Dependency name → framework id.
const FRAMEWORK_DEPS: &[(&str, &str)] = &[
    ("fastapi", "fastapi"),
    ("starlette", "starlette"),
    ("flask", "flask"),
    ("django", "django"),
    ("djangorestframework", "drf"),
    ("express", "express"),
    ("@nestjs/core", "nestjs"),
    ("fastify", "fastify"),
    ("github.com/gin-gonic/gin", "gin"),
    ("github.com/labstack/echo", "echo"),
    ("github.com/labstack/echo/v4", "echo"),
    ("github.com/labstack/echo/v5", "echo"),
    ("github.com/go-chi/chi/v5", "chi"),
    ("github.com/go-chi/chi", "chi"),
    ("github.com/gofiber/fiber/v2", "fiber"),
    ("github.com/gofiber/fiber/v3", "fiber"),
    ("actix-web", "actix-web"),
    ("axum", "axum"),
    ("spring-boot-starter-web", "spring-boot"),
    ("spring-boot-starter-webflux", "spring-boot"),
    ("spring-boot-starter-webmvc", "spring-boot"),
    ("spring-boot-starter-jersey", "spring-boot"),
];

/// Dependency name → ORM / DB layer id.
const ORM_DEPS: &[(&str, &str)] = &[
    ("sqlalchemy", "sqlalchemy"),
    ("flask-sqlalchemy", "sqlalchemy"),
    ("sqlmodel", "sqlmodel"),
    ("tortoise-orm", "tortoise"),
    ("peewee", "peewee"),
    ("prisma", "prisma"),
    ("@prisma/client", "prisma"),
    ("typeorm", "typeorm"),
    ("sequelize", "sequelize"),
    ("drizzle-orm", "drizzle"),
    ("knex", "knex"),
    ("@mikro-orm/core", "mikro-orm"),
    ("objection", "objection"),
    ("github.com/uptrace/bun", "bun"),
    ("github.com/jmoiron/sqlx", "sqlx"),
    ("mongoose", "mongoose"),
    ("gorm.io/gorm", "gorm"),
    ("github.com/jinzhu/gorm", "gorm"),
    ("entgo.io/ent", "ent"),
    ("sqlx", "sqlx"),
    ("diesel", "diesel"),
    ("sea-orm", "sea-orm"),
    ("spring-boot-starter-data-jpa", "jpa"),
    ("spring-boot-starter-data-jdbc", "jdbc"),
    ("spring-boot-starter-jdbc", "jdbc"),
    ("mybatis-spring-boot-starter", "mybatis"),
];

fn deploy_target(path: &str, name: &str) -> Option<&'static str> {
    Some(match name {
        "Dockerfile" | "Containerfile" => "docker",
        n if n.starts_with("Dockerfile.") || n.ends_with(".Dockerfile") => "docker",
        "docker-compose.yml" | "docker-compose.yaml" | "compose.yml" | "compose.yaml" => "docker-compose",
        "Procfile" => "procfile",
        "fly.toml" => "fly.io",
        "render.yaml" => "render",
        "railway.json" | "railway.toml" => "railway",
        "app.yaml" => "app-engine",
        "vercel.json" => "vercel",
        "netlify.toml" => "netlify",
        "serverless.yml" | "serverless.yaml" => "serverless",
        "Chart.yaml" => "helm",
        n if (n.ends_with(".yaml") || n.ends_with(".yml"))
            && (path.starts_with("k8s/")
                || path.contains("/k8s/")
                || path.starts_with("kubernetes/")
                || path.starts_with("deploy/k8s")) =>
        {
            "kubernetes"
        }
        _ => return None,
    })
}

/// The CI system a file configures, if any.
pub fn ci_system(path: &str) -> Option<&'static str> {
    Some(match path {
        p if p.starts_with(".github/workflows/") && (p.ends_with(".yml") || p.ends_with(".yaml")) => "github-actions",
        ".gitlab-ci.yml" => "gitlab-ci",
        p if p.starts_with(".circleci/") => "circleci",
        "Jenkinsfile" => "jenkins",
        "azure-pipelines.yml" | "azure-pipelines.yaml" => "azure-pipelines",
        p if p.starts_with(".buildkite/") => "buildkite",
        "bitbucket-pipelines.yml" => "bitbucket-pipelines",
        ".drone.yml" => "drone",
        ".travis.yml" => "travis-ci",
        ".woodpecker.yml" | ".woodpecker.yaml" => "woodpecker",
        p if p.starts_with(".woodpecker/") => "woodpecker",
        _ => return None,
    })
}

/// Frameworks recognised from code alone (no dependency names them).
const CODE_FRAMEWORKS: &[&str] = &["net-http"];

/// Every framework id the stack can report, sorted: what a custom check's
/// stack filter may name.
pub fn known_frameworks() -> Vec<&'static str> {
    let mut all: Vec<&'static str> =
        FRAMEWORK_DEPS.iter().map(|(_, fw)| *fw).chain(CODE_FRAMEWORKS.iter().copied()).collect();
    all.sort_unstable();
    all.dedup();
    all
}

pub fn detect(index: &FileIndex, facts: &[FileFacts], manifests: &[Manifest]) -> Stack {
    let mut stack = Stack::default();
    let mut frameworks = BTreeSet::new();
    let mut orms = BTreeSet::new();
    let mut deploy = BTreeSet::new();
    let mut ci = BTreeSet::new();
    for (entry, f) in index.files.iter().zip(facts) {
        if let Some(lang) = entry.language.filter(|_| !entry.is_docs) {
            *stack.languages.entry(lang.name().to_string()).or_insert(0) += 1;
        }
        if let Some(t) = deploy_target(&entry.path, entry.file_name()) {
            deploy.insert(t);
        }
        if let Some(c) = ci_system(&entry.path) {
            ci.insert(c);
        }
        for s in &f.signals {
            if let Some(fw) = s.key.strip_prefix("framework:") {
                frameworks.insert(fw.to_string());
            } else if let Some(orm) = s.key.strip_prefix("orm:") {
                orms.insert(orm.to_string());
            }
        }
    }
    for m in manifests {
        for (dep, fw) in FRAMEWORK_DEPS {
            if m.has(dep) {
                frameworks.insert(fw.to_string());
            }
        }
        for (dep, orm) in ORM_DEPS {
            if m.has(dep) {
                orms.insert(orm.to_string());
            }
        }
    }
    if frameworks.contains("django") && index.files.iter().any(|f| f.file_name() == "models.py" && f.is_app_code()) {
        orms.insert("django-orm".into());
    }
    stack.frameworks = frameworks.into_iter().collect();
    stack.orms = orms.into_iter().collect();
    stack.deploy_targets = deploy.into_iter().map(String::from).collect();
    stack.ci = ci.into_iter().map(String::from).collect();
    stack.manifests = manifests.iter().map(|m| m.path.clone()).collect();
    stack
}
