//! Database connection and schema management, for SQLite and Postgres
//! alike, and the SeaORM entities (`entities`) the rest of the server uses.

pub mod entities;

use crate::config::DatabaseSettings;
use chrono::{DateTime, SubsecRound, Utc};
use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbErr};
use std::time::Duration;

/// Opens the pool. For SQLite the file's directory is created first.
///
/// # Errors
/// When the database cannot be reached; the message carries the redacted URL.
pub async fn connect(settings: &DatabaseSettings) -> anyhow::Result<DatabaseConnection> {
    use anyhow::Context;
    if settings.is_sqlite()
        && let Some(dir) = sqlite_dir(settings.url.expose())
    {
        std::fs::create_dir_all(&dir).with_context(|| format!("cannot create the database directory {dir}"))?;
    }
    let mut opts = ConnectOptions::new(settings.url.expose().to_string());
    opts.max_connections(settings.max_connections)
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(5))
        .sqlx_logging(false);
    if settings.is_sqlite() {
        // SQLite allows one writer; more pooled connections only queue on its lock.
        opts.max_connections(settings.max_connections.min(4));
    }
    let db = Database::connect(opts).await.with_context(|| format!("cannot connect to {}", settings.redacted()))?;
    if settings.is_sqlite() {
        for pragma in ["PRAGMA journal_mode=WAL", "PRAGMA busy_timeout=5000", "PRAGMA foreign_keys=ON"] {
            db.execute_unprepared(pragma).await?;
        }
    }
    Ok(db)
}

fn sqlite_dir(url: &str) -> Option<String> {
    let path = url.trim_start_matches("sqlite://").trim_start_matches("sqlite:");
    let path = path.split('?').next()?;
    if path.is_empty() || path.starts_with(":memory:") {
        return None;
    }
    std::path::Path::new(path).parent().map(|p| p.display().to_string()).filter(|p| !p.is_empty())
}

/// Applies every pending migration.
///
/// # Errors
/// When a migration fails; nothing after it is applied.
pub async fn migrate_up(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

/// How long a readiness probe waits for the database. Orchestrators give a
/// probe about a second; an answer after their timeout is no answer.
const READINESS_TIMEOUT: Duration = Duration::from_millis(800);

/// Readiness: the database answers promptly and no migration is pending.
pub async fn readiness(db: &DatabaseConnection) -> Result<(), String> {
    tokio::time::timeout(READINESS_TIMEOUT, readiness_checks(db))
        .await
        .unwrap_or_else(|_| Err(format!("database did not answer within {} ms", READINESS_TIMEOUT.as_millis())))
}

async fn readiness_checks(db: &DatabaseConnection) -> Result<(), String> {
    db.execute_unprepared("SELECT 1").await.map_err(|e| format!("database unreachable: {e}"))?;
    let pending = Migrator::get_pending_migrations(db).await.map_err(|e| format!("cannot read migrations: {e}"))?;
    if pending.is_empty() {
        Ok(())
    } else {
        Err(format!("{} migration(s) pending; run `shipshape migrate up`", pending.len()))
    }
}

/// Begins a transaction that will write. On SQLite it takes the write lock
/// at BEGIN (IMMEDIATE): a deferred transaction that reads first and writes
/// later fails with "database is locked" (SQLITE_BUSY_SNAPSHOT) when another
/// writer got in between, and `busy_timeout` cannot wait that out. Postgres
/// ignores the mode.
///
/// # Errors
/// Database errors.
pub async fn begin_write(db: &DatabaseConnection) -> Result<sea_orm::DatabaseTransaction, sea_orm::DbErr> {
    use sea_orm::{SqliteTransactionMode, TransactionOptions, TransactionTrait};
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..Default::default()
    })
    .await
}

/// An instant as the database will store it: UTC, truncated to microseconds.
///
/// Postgres keeps microseconds and SQLite keeps the text as written, so a
/// value truncated before insert reads back equal on both (STACK.md,
/// pitfall 18). Every timestamp written by the server goes through here.
pub fn db_time(t: DateTime<Utc>) -> DateTime<Utc> {
    t.trunc_subsecs(6)
}
