//! The initial data model of DESIGN.md: tracked repositories, scans and
//! their results, findings with their event history, suppressions, users and
//! API tokens, webhook deliveries, the job queue, digest runs and teams.
//!
//! Status-like columns are short strings with CHECK constraints, so SQLite
//! rejects bad values just as Postgres would. Two partial unique indexes
//! make the queue's promises hold in the database itself: at most one
//! queued and one running scan job per repository.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn one_of(col: &'static str, values: &[&'static str]) -> SimpleExpr {
    Expr::col(col).is_in(values.iter().copied())
}

fn fk(
    name: &'static str,
    from: (&'static str, &'static str),
    to: &'static str,
    cascade: bool,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(from.0, from.1)
        .to(to, "id")
        .on_delete(if cascade { ForeignKeyAction::Cascade } else { ForeignKeyAction::SetNull })
        .to_owned()
}

const SEVERITIES: &[&str] = &["critical", "high", "medium", "low", "info"];

/// Tables in creation order; dropped in reverse.
const TABLES: &[&str] = &[
    "teams",
    "repositories",
    "scans",
    "check_results",
    "category_scores",
    "findings",
    "finding_events",
    "users",
    "suppressions",
    "api_tokens",
    "webhook_deliveries",
    "jobs",
    "digest_runs",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("teams")
                .col(pk_auto("id"))
                .col(string_len_uniq("slug", 100))
                .col(string("name"))
                .col(text_null("description"))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("repositories")
                .col(pk_auto("id"))
                .col(string_len("provider", 16).check(one_of("provider", &["github", "git", "local"])))
                .col(string("owner"))
                .col(string("name"))
                .col(text("clone_url"))
                .col(string("default_branch"))
                .col(integer_null("team_id"))
                .col(boolean("archived").default(false))
                .col(boolean("enabled").default(true))
                .col(integer_null("last_scan_id"))
                .col(timestamp_with_time_zone_null("last_scanned_at"))
                .col(double_null("score"))
                .col(string_len_null("level", 16))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(&mut fk("fk_repositories_team", ("repositories", "team_id"), "teams", false))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_repositories_identity")
                .table("repositories")
                .col("provider")
                .col("owner")
                .col("name")
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(Index::create().name("ix_repositories_team").table("repositories").col("team_id").to_owned())
            .await?;

        m.create_table(
            Table::create()
                .table("scans")
                .col(pk_auto("id"))
                .col(integer("repository_id"))
                .col(string_len_null("commit_sha", 64))
                .col(
                    string_len("trigger", 16)
                        .check(one_of("trigger", &["schedule", "webhook", "manual", "api", "demo"])),
                )
                .col(string_len("status", 16).check(one_of("status", &["queued", "running", "succeeded", "failed"])))
                .col(timestamp_with_time_zone("queued_at"))
                .col(timestamp_with_time_zone_null("started_at"))
                .col(timestamp_with_time_zone_null("finished_at"))
                .col(big_integer_null("duration_ms"))
                .col(text_null("error"))
                .col(string_len("analyzer_version", 32))
                .col(double_null("overall_score"))
                .col(string_len_null("level", 16))
                .col(json_binary_null("stack"))
                .col(big_integer_null("files_scanned"))
                .foreign_key(&mut fk("fk_scans_repository", ("scans", "repository_id"), "repositories", true))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_scans_repository_time")
                .table("scans")
                .col("repository_id")
                .col("queued_at")
                .to_owned(),
        )
        .await?;
        m.create_index(Index::create().name("ix_scans_status").table("scans").col("status").to_owned()).await?;

        m.create_table(
            Table::create()
                .table("check_results")
                .col(pk_auto("id"))
                .col(integer("scan_id"))
                .col(string_len("check_id", 64))
                .col(string_len("category", 16))
                .col(string_len("severity", 16).check(one_of("severity", SEVERITIES)))
                .col(string_len("outcome", 16).check(one_of("outcome", &["pass", "fail", "not_applicable", "error"])))
                .col(text("summary"))
                .col(json_binary_null("evidence"))
                .col(integer("findings_count").default(0))
                .foreign_key(&mut fk("fk_check_results_scan", ("check_results", "scan_id"), "scans", true))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_check_results_scan_check")
                .table("check_results")
                .col("scan_id")
                .col("check_id")
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_check_results_check_outcome")
                .table("check_results")
                .col("check_id")
                .col("outcome")
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("category_scores")
                .col(pk_auto("id"))
                .col(integer("scan_id"))
                .col(string_len("category", 16))
                .col(double("score"))
                .foreign_key(&mut fk("fk_category_scores_scan", ("category_scores", "scan_id"), "scans", true))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_category_scores_scan_category")
                .table("category_scores")
                .col("scan_id")
                .col("category")
                .unique()
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("findings")
                .col(pk_auto("id"))
                .col(integer("repository_id"))
                .col(string_len("fingerprint", 64))
                .col(string_len("content_hash", 64))
                .col(string_len("check_id", 64))
                .col(string_len("category", 16))
                .col(string_len("severity", 16).check(one_of("severity", SEVERITIES)))
                .col(string_len("state", 16).check(one_of("state", &["open", "fixed", "suppressed"])))
                .col(text("message"))
                .col(text_null("path"))
                .col(integer_null("line"))
                .col(text("evidence"))
                .col(integer("first_seen_scan_id"))
                .col(integer("last_seen_scan_id"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(&mut fk("fk_findings_repository", ("findings", "repository_id"), "repositories", true))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_findings_repository_fingerprint")
                .table("findings")
                .col("repository_id")
                .col("fingerprint")
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_findings_repository_state")
                .table("findings")
                .col("repository_id")
                .col("state")
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create().name("ix_findings_check_state").table("findings").col("check_id").col("state").to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("finding_events")
                .col(pk_auto("id"))
                .col(integer("finding_id"))
                .col(integer_null("scan_id"))
                .col(
                    string_len("kind", 16)
                        .check(one_of("kind", &["opened", "fixed", "reopened", "suppressed", "unsuppressed", "moved"])),
                )
                .col(text_null("path"))
                .col(integer_null("line"))
                .col(string_len_null("commit_sha", 64))
                .col(string_null("actor"))
                .col(text_null("note"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk("fk_finding_events_finding", ("finding_events", "finding_id"), "findings", true))
                .foreign_key(&mut fk("fk_finding_events_scan", ("finding_events", "scan_id"), "scans", false))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_finding_events_finding_time")
                .table("finding_events")
                .col("finding_id")
                .col("created_at")
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("users")
                .col(pk_auto("id"))
                .col(string_len("provider", 16))
                .col(string("login"))
                .col(string_null("name"))
                .col(string_null("email"))
                .col(string_len("role", 16).check(one_of("role", &["admin", "viewer"])))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("last_login_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_users_provider_login")
                .table("users")
                .col("provider")
                .col("login")
                .unique()
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("suppressions")
                .col(pk_auto("id"))
                .col(integer("repository_id"))
                .col(integer_null("finding_id"))
                .col(string_len_null("check_id", 64))
                .col(text_null("path_glob"))
                .col(text("reason"))
                .col(timestamp_with_time_zone_null("expires_at"))
                .col(integer_null("created_by"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("revoked_at"))
                .foreign_key(&mut fk(
                    "fk_suppressions_repository",
                    ("suppressions", "repository_id"),
                    "repositories",
                    true,
                ))
                .foreign_key(&mut fk("fk_suppressions_finding", ("suppressions", "finding_id"), "findings", true))
                .foreign_key(&mut fk("fk_suppressions_user", ("suppressions", "created_by"), "users", false))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create().name("ix_suppressions_repository").table("suppressions").col("repository_id").to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("api_tokens")
                .col(pk_auto("id"))
                .col(integer("user_id"))
                .col(string("name"))
                .col(string_len_uniq("token_hash", 64))
                .col(string_len("prefix", 16))
                .col(string_len("scope", 16).check(one_of("scope", &["read", "admin"])))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("last_used_at"))
                .col(timestamp_with_time_zone_null("expires_at"))
                .col(timestamp_with_time_zone_null("revoked_at"))
                .foreign_key(&mut fk("fk_api_tokens_user", ("api_tokens", "user_id"), "users", true))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("webhook_deliveries")
                .col(pk_auto("id"))
                .col(string_len_uniq("delivery_id", 100))
                .col(string_len("event", 50))
                .col(string_null("repository"))
                .col(integer_null("repository_id"))
                .col(
                    string_len("result", 16).check(one_of("result", &["accepted", "ignored", "rejected", "duplicate"])),
                )
                .col(text("reason"))
                .col(timestamp_with_time_zone("received_at"))
                .foreign_key(&mut fk(
                    "fk_webhook_deliveries_repository",
                    ("webhook_deliveries", "repository_id"),
                    "repositories",
                    false,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_webhook_deliveries_received")
                .table("webhook_deliveries")
                .col("received_at")
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("jobs")
                .col(pk_auto("id"))
                .col(string_len("kind", 16).check(one_of("kind", &["scan", "discover", "digest", "retention"])))
                .col(integer_null("repository_id"))
                .col(json_binary_null("payload"))
                .col(string_len("status", 16).check(one_of("status", &["queued", "running", "succeeded", "failed"])))
                .col(integer("priority").default(0))
                .col(integer("attempts").default(0))
                .col(integer("max_attempts").default(3))
                .col(timestamp_with_time_zone("run_after"))
                .col(string_null("locked_by"))
                .col(timestamp_with_time_zone_null("lease_expires_at"))
                .col(text_null("last_error"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .col(timestamp_with_time_zone_null("finished_at"))
                .foreign_key(&mut fk("fk_jobs_repository", ("jobs", "repository_id"), "repositories", true))
                .to_owned(),
        )
        .await?;
        m.create_index(Index::create().name("ix_jobs_claim").table("jobs").col("status").col("run_after").to_owned())
            .await?;
        m.create_index(
            Index::create().name("ix_jobs_repository").table("jobs").col("repository_id").col("status").to_owned(),
        )
        .await?;
        // Coalescing and one-at-a-time are enforced by the database, not only by code.
        let conn = m.get_connection();
        conn.execute_unprepared(
            "CREATE UNIQUE INDEX ux_jobs_one_queued_scan ON jobs (repository_id) WHERE kind = 'scan' AND status = 'queued'",
        )
        .await?;
        conn.execute_unprepared(
            "CREATE UNIQUE INDEX ux_jobs_one_running_scan ON jobs (repository_id) WHERE kind = 'scan' AND status = 'running'",
        )
        .await?;

        m.create_table(
            Table::create()
                .table("digest_runs")
                .col(pk_auto("id"))
                .col(string_len("iso_week", 8))
                .col(string_len("scope", 100))
                .col(string_len("status", 16).check(one_of("status", &["claimed", "sent", "failed"])))
                .col(string_null("claimed_by"))
                .col(timestamp_with_time_zone("claimed_at"))
                .col(timestamp_with_time_zone_null("sent_at"))
                .col(integer("recipients").default(0))
                .col(text_null("error"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_digest_runs_week_scope")
                .table("digest_runs")
                .col("iso_week")
                .col("scope")
                .unique()
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in TABLES.iter().rev() {
            m.drop_table(Table::drop().table(*table).if_exists().to_owned()).await?;
        }
        Ok(())
    }
}
