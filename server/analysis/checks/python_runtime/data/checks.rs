//! The `data` checks' specs and repository-level decisions.

use super::super::{NO_WEB, deps};
use crate::checks::web::{NO_CODE_WEB, code_web};
use crate::checks::{Check, CheckSpec, RawFinding, Verdict, from_hits};
use crate::model::{Category, Location, Severity};
use crate::repo::Repo;

/// The data checks, in catalogue order.
pub fn checks() -> Vec<Check> {
    vec![
        Check {
            spec: CheckSpec {
                id: "migrations-missing",
                title: "Database used without migrations",
                category: Category::Data,
                severity: Severity::High,
                pass_summary: "a migration tool manages the schema",
                rationale: "Without versioned migrations the production schema drifts from the models: a new column exists on a laptop but not in the database, and the first deploy that needs it fails or loses data.",
                fix: "Set up the migration tool of your stack (Alembic via `alembic init`, `manage.py makemigrations`, `prisma migrate`, golang-migrate/goose, sqlx/diesel/sea-orm migrations, Flyway/Liquibase), commit the migrations and run them in the deploy step.",
            },
            run: migrations_missing,
        },
        Check {
            spec: CheckSpec {
                id: "schema-created-at-startup",
                title: "Schema created by the app at startup",
                category: Category::Data,
                severity: Severity::Medium,
                pass_summary: "the app does not create its tables at startup",
                rationale: "`metadata.create_all()` only creates missing tables: it never alters a changed one, so the schema silently diverges from the code, and several instances starting together race to create it.",
                fix: "Remove `create_all` from module level and startup/lifespan handlers; create and change tables with migrations (Alembic, Flask-Migrate) run once per deploy. Keep `create_all` in test fixtures only. Node: TypeORM `synchronize: false` with migrations, no `sequelize.sync({ alter/force })`; `prisma migrate deploy` in the release step.",
            },
            run: |repo| {
                let code = from_hits(repo, "schema-created-at-startup", code_web(repo), NO_CODE_WEB, vec![]);
                crate::checks::spring::with_config(repo, "schema-created-at-startup", code)
            },
        },
        Check {
            spec: CheckSpec {
                id: "sqlite-in-production",
                title: "SQLite is the default database",
                category: Category::Data,
                severity: Severity::Medium,
                pass_summary: "the default database is not SQLite",
                rationale: "A SQLite file lives on the instance's disk: it vanishes on redeploy on most platforms, cannot be shared by several instances, and locks the whole database on every write.",
                fix: "Read the database URL from the environment with no SQLite fallback (fail at startup when it is missing) and use a networked database such as PostgreSQL in production; keep SQLite for tests only. Node: a PostgreSQL/MySQL datasource for Prisma, TypeORM, Sequelize or knex.",
            },
            run: |repo| crate::checks::spring::with_config(repo, "sqlite-in-production", sqlite_in_production(repo)),
        },
        Check {
            spec: CheckSpec {
                id: "sync-driver-in-async-app",
                title: "Synchronous database access in async handlers",
                category: Category::Data,
                severity: Severity::Low,
                pass_summary: "async handlers do not use a synchronous database session",
                rationale: "An `async def` handler runs on the event loop: a synchronous SQLAlchemy session or psycopg2/pymysql query inside it stops every other request until the query returns.",
                fix: "Use an async engine and session (`create_async_engine`, `AsyncSession`, asyncpg/aiomysql) and await the queries, or declare the handler with plain `def` so FastAPI runs it in its threadpool.",
            },
            run: |repo| {
                let applies = repo.has_framework("fastapi") || repo.has_framework("starlette");
                from_hits(
                    repo,
                    "sync-driver-in-async-app",
                    applies,
                    "no async Python framework (FastAPI, Starlette) detected",
                    vec![],
                )
            },
        },
        Check {
            spec: CheckSpec {
                id: "unbounded-list-endpoint",
                title: "List endpoint returns every row",
                category: Category::Data,
                severity: Severity::Medium,
                pass_summary: "list endpoints are bounded or paginated",
                rationale: "A list route that returns `.all()` is fast with ten rows and times out, or exhausts memory, with a million; clients cannot ask for less.",
                fix: "Accept `limit`/`offset` (or a cursor/page) with a maximum, apply `.limit()`/`.offset()` or a slice, or use a pagination helper (fastapi-pagination, Flask-SQLAlchemy `paginate`, Django `Paginator`/DRF pagination). Node: `findMany({ take, skip })`, `find({ take })`, `.limit()`, read from the query string with a maximum.",
            },
            run: |repo| from_hits(repo, "unbounded-list-endpoint", code_web(repo), NO_CODE_WEB, vec![]),
        },
        Check {
            spec: CheckSpec {
                id: "local-file-storage",
                title: "Uploads stored on the local filesystem",
                category: Category::Data,
                severity: Severity::Medium,
                pass_summary: "uploads are not written to the local filesystem",
                rationale: "Container filesystems are ephemeral and per instance: files written to an uploads directory disappear on the next deploy and are missing on the other replicas.",
                fix: "Store uploads in object storage (S3 via boto3, Google Cloud Storage, Azure Blob, MinIO, django-storages) and keep only the object key in the database, or mount a persistent volume and document it. Node: multer-s3 or `@aws-sdk/client-s3` instead of `multer.diskStorage`/`dest`.",
            },
            run: local_file_storage,
        },
    ]
}

const OBJECT_STORAGE_DEPS: &[&str] = &[
    "boto3",
    "aioboto3",
    "google-cloud-storage",
    "azure-storage-blob",
    "minio",
    "django-storages",
    "s3fs",
    "gcsfs",
    "cloudinary",
    "fsspec",
    "@aws-sdk/client-s3",
    "aws-sdk",
    "@google-cloud/storage",
    "@azure/storage-blob",
    "multer-s3",
    "@supabase/supabase-js",
    "github.com/aws/aws-sdk-go-v2/service/s3",
    "github.com/aws/aws-sdk-go",
    "cloud.google.com/go/storage",
    "github.com/minio/minio-go",
    "aws-sdk-s3",
    "rust-s3",
    "object_store",
    "google-cloud-storage",
    "software.amazon.awssdk",
    "s3",
];

fn local_file_storage(repo: &Repo<'_>) -> Result<Verdict, String> {
    if !code_web(repo) {
        return Ok(Verdict::NotApplicable(NO_CODE_WEB.into()));
    }
    if repo.hits("local-file-storage").next().is_some() {
        let storage = deps::signal(repo, "object-storage", "object-storage client")
            .or_else(|| deps::first(repo, OBJECT_STORAGE_DEPS));
        if let Some(ev) = storage {
            return Ok(Verdict::Pass(vec![ev]));
        }
    }
    from_hits(repo, "local-file-storage", true, "", vec![])
}

fn sqlite_in_production(repo: &Repo<'_>) -> Result<Verdict, String> {
    if !code_web(repo) {
        return Ok(Verdict::NotApplicable(NO_CODE_WEB.into()));
    }
    let verdict = from_hits(repo, "sqlite-in-production", true, "", vec![])?;
    let mut findings = match verdict {
        Verdict::Fail(f) => f,
        _ => Vec::new(),
    };
    // A sqlite3 ENGINE in one settings module is fine when another module
    // (production settings, dj-database-url) replaces it.
    if !repo.has_signal("django-db-switched") {
        for (e, s) in repo.signals("django-sqlite-db") {
            findings.push(RawFinding::at(
                Location::at(&e.path, s.line),
                "Django DATABASES uses the sqlite3 engine and nothing switches it from the environment",
                s.detail.clone(),
            ));
        }
    }
    findings.extend(prisma_sqlite(repo));
    if findings.is_empty() { Ok(Verdict::Pass(vec![])) } else { Ok(Verdict::Fail(findings)) }
}

/// A Prisma schema whose datasource provider is `sqlite`.
fn prisma_sqlite(repo: &Repo<'_>) -> Vec<RawFinding> {
    let schemas = repo.files().filter(|f| f.file_name().ends_with(".prisma") && !f.is_test && !f.is_example);
    schemas
        .filter_map(|f| {
            let text = repo.read_text(f).ok()?;
            let mut in_datasource = false;
            for (i, l) in text.lines().enumerate() {
                let t = l.trim();
                if t.starts_with("datasource ") {
                    in_datasource = true;
                } else if t.starts_with('}') {
                    in_datasource = false;
                } else if in_datasource && t.replace(' ', "") == "provider=\"sqlite\"" {
                    return Some(RawFinding::at(
                        Location::at(&f.path, i as u32 + 1),
                        "the Prisma datasource is SQLite",
                        t.to_string(),
                    ));
                }
            }
            None
        })
        .collect()
}

const SQL_DRIVERS: &[&str] = &[
    "psycopg2",
    "psycopg2-binary",
    "psycopg",
    "asyncpg",
    "pymysql",
    "mysqlclient",
    "aiomysql",
    "databases",
    "pg",
    "mysql2",
    "postgres",
    "better-sqlite3",
    "github.com/jackc/pgx",
    "github.com/lib/pq",
    "github.com/go-sql-driver/mysql",
    "tokio-postgres",
    "mysql_async",
    "rusqlite",
    "postgresql",
    "mysql-connector-j",
    "spring-boot-starter-jdbc",
];

const MIGRATION_DIRS: &[&str] = &["migrations", "migration", "migrate", "db_migrations", "alembic"];
const MIGRATION_DEPS: &[&str] = &[
    "github.com/golang-migrate/migrate",
    "github.com/pressly/goose",
    "ariga.io/atlas",
    "sea-orm-migration",
    "refinery",
    "diesel_migrations",
    "flyway-core",
    "liquibase-core",
    "aerich",
    "yoyo-migrations",
    "peewee-migrate",
    "migrate-mongo",
];

fn migration_file(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    let parts: Vec<&str> = lower.split('/').collect();
    let (dirs, name) = parts.split_at(parts.len() - 1);
    let name = name[0];
    if name == "alembic.ini" || name == "atlas.hcl" || lower.contains("prisma/migrations/") {
        return true;
    }
    let liquibase = lower.contains("db/changelog") || name.starts_with("db.changelog") || lower.contains("liquibase");
    if liquibase && [".xml", ".yaml", ".yml", ".json", ".sql"].iter().any(|e| name.ends_with(e)) {
        return true;
    }
    let in_dir = dirs.iter().any(|d| MIGRATION_DIRS.contains(d));
    let real = !matches!(name, "__init__.py" | ".gitkeep" | ".keep" | "readme" | "readme.md")
        && [".py", ".sql", ".js", ".ts", ".go", ".rs", ".xml", ".yaml", ".yml", ".toml", ".mako"]
            .iter()
            .any(|e| name.ends_with(e));
    (in_dir && real) || (dirs.contains(&"drizzle") && name.ends_with(".sql"))
}

fn migrations_missing(repo: &Repo<'_>) -> Result<Verdict, String> {
    if !repo.is_web_service() {
        return Ok(Verdict::NotApplicable(NO_WEB.into()));
    }
    let mut orms: Vec<String> = repo.stack.orms.iter().filter(|o| o.as_str() != "mongoose").cloned().collect();
    if orms.is_empty() {
        // Raw SQL through a driver needs migrations just as much as an ORM.
        match deps::first(repo, SQL_DRIVERS) {
            Some(ev) => orms.push(ev.message.split(' ').next().unwrap_or("a SQL driver").to_string()),
            None => return Ok(Verdict::NotApplicable("no relational ORM or database layer detected".into())),
        }
    }
    let evidence = deps::file(repo, "migrations", migration_file).or_else(|| deps::first(repo, MIGRATION_DEPS));
    match evidence {
        Some(ev) => Ok(Verdict::Pass(vec![ev])),
        None => {
            let names: Vec<&str> = orms.iter().map(|s| s.as_str()).collect();
            Ok(Verdict::Fail(vec![RawFinding::repo(format!(
                "the app uses {} but no migration tool is set up (no Alembic, Django, Prisma, golang-migrate/goose, sqlx/diesel/SeaORM, Flyway or Liquibase migrations)",
                names.join(", ")
            ))]))
        }
    }
}
