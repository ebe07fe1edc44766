//! Outgoing notifications (signed webhooks, Slack): one row per message a
//! channel is to get, or was kept from getting by its rate limit.
//!
//! The table is the notifications' outbox and their memory at once:
//! - `dedup_key` (channel, scan, event) is unique, so planning the
//!   notifications of one scan twice inserts nothing the second time;
//! - `ix_notification_deliveries_window` finds the last delivery of an
//!   event for a (channel, repository) pair, which is how `min_interval_hours`
//!   holds across replicas and restarts;
//! - a row is taken by one sender at a time (`sending` with `claimed_at`),
//!   and one left `pending`/`retrying` by a process that died is found by
//!   `ix_notification_deliveries_due` and sent by another.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("notification_deliveries")
                .col(pk_auto("id"))
                .col(string_len("channel", 100))
                .col(integer_null("repository_id"))
                .col(integer_null("scan_id"))
                .col(string_len("event", 32).check(Expr::col("event").is_in(["level_changed", "new_critical", "test"])))
                .col(string_len_uniq("dedup_key", 255))
                .col(string_len("delivery_id", 36))
                .col(string_len("status", 16).check(Expr::col("status").is_in([
                    "pending",
                    "sending",
                    "retrying",
                    "sent",
                    "failed",
                    "suppressed",
                ])))
                .col(integer("attempts").default(0))
                .col(text("payload"))
                .col(text("summary"))
                .col(integer_null("response_status"))
                .col(text_null("error"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("next_attempt_at"))
                .col(timestamp_with_time_zone_null("claimed_at"))
                .col(timestamp_with_time_zone_null("sent_at"))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_notification_deliveries_repository")
                        .from("notification_deliveries", "repository_id")
                        .to("repositories", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_notification_deliveries_scan")
                        .from("notification_deliveries", "scan_id")
                        .to("scans", "id")
                        .on_delete(ForeignKeyAction::SetNull),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_notification_deliveries_window")
                .table("notification_deliveries")
                .col("channel")
                .col("repository_id")
                .col("event")
                .col("created_at")
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_notification_deliveries_due")
                .table("notification_deliveries")
                .col("status")
                .col("next_attempt_at")
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_notification_deliveries_created")
                .table("notification_deliveries")
                .col("created_at")
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("notification_deliveries").if_exists().to_owned()).await
    }
}
