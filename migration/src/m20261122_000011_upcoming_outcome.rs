//! A fifth check outcome, `upcoming`: a check that takes effect on a later
//! date (policy as code) runs and is shown, but counts in neither scores
//! nor levels yet. `check_results.outcome` has a CHECK constraint listing
//! the outcomes, so it is widened here.
//!
//! Postgres changes the constraint in place (a column CHECK is named
//! `<table>_<column>_check`). SQLite cannot alter a constraint: the table is
//! rebuilt with the same columns, rows, ids and indexes (nothing references
//! `check_results`, so moving it aside and dropping it breaks no foreign key).

use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

const BEFORE: &[&str] = &["pass", "fail", "not_applicable", "error"];
const AFTER: &[&str] = &["pass", "fail", "not_applicable", "error", "upcoming"];
const SEVERITIES: &[&str] = &["critical", "high", "medium", "low", "info"];

fn quoted(values: &[&str]) -> String {
    values.iter().map(|v| format!("'{v}'")).collect::<Vec<_>>().join(", ")
}

/// `check_results` as 000001 created it, under `name`, with `outcomes` allowed.
fn table(name: &'static str, outcomes: &[&'static str]) -> TableCreateStatement {
    Table::create()
        .table(name)
        .col(pk_auto("id"))
        .col(integer("scan_id"))
        .col(string_len("check_id", 64))
        .col(string_len("category", 16))
        .col(string_len("severity", 16).check(Expr::col("severity").is_in(SEVERITIES.iter().copied())))
        .col(string_len("outcome", 16).check(Expr::col("outcome").is_in(outcomes.iter().copied())))
        .col(text("summary"))
        .col(json_binary_null("evidence"))
        .col(integer("findings_count").default(0))
        .foreign_key(
            ForeignKey::create()
                .name("fk_check_results_scan")
                .from(name, "scan_id")
                .to("scans", "id")
                .on_delete(ForeignKeyAction::Cascade),
        )
        .to_owned()
}

async fn rebuild_sqlite(m: &SchemaManager<'_>, outcomes: &[&'static str]) -> Result<(), DbErr> {
    // The old table steps aside (taking its indexes), the new one takes its
    // name, the rows move over with their ids, the old table goes. One batch,
    // so every statement runs on the same pooled connection and sees the
    // schema the previous one left.
    let unique = Index::create()
        .name("ux_check_results_scan_check")
        .table("check_results")
        .col("scan_id")
        .col("check_id")
        .unique()
        .to_owned();
    let by_outcome = Index::create()
        .name("ix_check_results_check_outcome")
        .table("check_results")
        .col("check_id")
        .col("outcome")
        .to_owned();
    let batch = [
        "ALTER TABLE check_results RENAME TO check_results_before_000011".to_string(),
        table("check_results", outcomes).to_string(SqliteQueryBuilder),
        "INSERT INTO check_results (id, scan_id, check_id, category, severity, outcome, summary, evidence, findings_count) \
         SELECT id, scan_id, check_id, category, severity, outcome, summary, evidence, findings_count \
         FROM check_results_before_000011"
            .to_string(),
        "DROP TABLE check_results_before_000011".to_string(),
        unique.to_string(SqliteQueryBuilder),
        by_outcome.to_string(SqliteQueryBuilder),
    ]
    .join(";\n");
    m.get_connection().execute_unprepared(&batch).await.map(|_| ())
}

async fn widen_postgres(m: &SchemaManager<'_>, outcomes: &[&str]) -> Result<(), DbErr> {
    m.get_connection()
        .execute_unprepared(&format!(
            "ALTER TABLE check_results DROP CONSTRAINT IF EXISTS check_results_outcome_check, \
             ADD CONSTRAINT check_results_outcome_check CHECK (outcome IN ({}))",
            quoted(outcomes)
        ))
        .await
        .map(|_| ())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        match m.get_database_backend() {
            DatabaseBackend::Sqlite => rebuild_sqlite(m, AFTER).await,
            _ => widen_postgres(m, AFTER).await,
        }
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // An upcoming check did not count: that is what not_applicable says.
        m.get_connection()
            .execute_unprepared("UPDATE check_results SET outcome = 'not_applicable' WHERE outcome = 'upcoming'")
            .await?;
        match m.get_database_backend() {
            DatabaseBackend::Sqlite => rebuild_sqlite(m, BEFORE).await,
            _ => widen_postgres(m, BEFORE).await,
        }
    }
}
