//! Waivers and the audit log.
//!
//! A waiver is a request, made from a finding's page, to stop counting the
//! finding until a date, with a reason and an owner; an admin approves or
//! rejects it. Approval creates the dashboard suppression that scans apply
//! (`suppression_id`), so an expired waiver reopens its finding through the
//! same lifecycle as any expired suppression.
//!
//! `audit_log` keeps every administrative decision (waivers, suppressions,
//! roles, tokens, enabling repositories): who, what, on what, when.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("waivers")
                .col(pk_auto("id"))
                .col(integer("finding_id"))
                .col(integer("repository_id"))
                .col(string_len("check_id", 64))
                .col(text("reason"))
                .col(string_len("owner", 200))
                .col(timestamp_with_time_zone("expires_at"))
                .col(string_len("status", 16).check(Expr::col("status").is_in([
                    "requested",
                    "approved",
                    "rejected",
                    "withdrawn",
                ])))
                .col(string_len("requested_by", 200))
                .col(timestamp_with_time_zone("requested_at"))
                .col(string_len_null("decided_by", 200))
                .col(timestamp_with_time_zone_null("decided_at"))
                .col(text_null("decision_note"))
                .col(integer_null("suppression_id"))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_waivers_finding")
                        .from("waivers", "finding_id")
                        .to("findings", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_waivers_repository")
                        .from("waivers", "repository_id")
                        .to("repositories", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_waivers_suppression")
                        .from("waivers", "suppression_id")
                        .to("suppressions", "id")
                        .on_delete(ForeignKeyAction::SetNull),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(Index::create().name("ix_waivers_finding").table("waivers").col("finding_id").to_owned())
            .await?;
        m.create_index(Index::create().name("ix_waivers_status").table("waivers").col("status").to_owned()).await?;

        m.create_table(
            Table::create()
                .table("audit_log")
                .col(pk_auto("id"))
                .col(timestamp_with_time_zone("at"))
                .col(string_len("actor", 200))
                .col(string_len("action", 64))
                .col(string_len("subject", 200))
                .col(integer_null("repository_id"))
                .col(text("detail"))
                .to_owned(),
        )
        .await?;
        m.create_index(Index::create().name("ix_audit_log_at").table("audit_log").col("at").to_owned()).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("audit_log").to_owned()).await?;
        m.drop_table(Table::drop().table("waivers").to_owned()).await
    }
}
