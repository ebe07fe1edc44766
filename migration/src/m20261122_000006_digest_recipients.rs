//! Who gets the weekly digest, and what happened to each mail of a run.
//!
//! `digest_recipients` holds one row per (email, scope), whether it came
//! from the configuration or the admin page; its random token is the
//! unsubscribe link, and `unsubscribed_at` is honoured by every later send.
//! `digest_deliveries` holds one row per recipient of a `digest_runs` row:
//! a retry after an SMTP failure sends only the rows not yet `sent`, and a
//! row is taken (`sending`) by one sender at a time, so no one gets a mail twice.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("digest_recipients")
                .col(pk_auto("id"))
                .col(string_len("email", 254))
                .col(string_len("scope", 100))
                .col(string_len("source", 16).check(Expr::col("source").is_in(["config", "admin"])))
                .col(string_len_uniq("token", 64))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("unsubscribed_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_digest_recipients_email_scope")
                .table("digest_recipients")
                .col("email")
                .col("scope")
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("digest_deliveries")
                .col(pk_auto("id"))
                .col(integer("run_id"))
                .col(integer("recipient_id"))
                .col(
                    string_len("status", 16)
                        .check(Expr::col("status").is_in(["pending", "sending", "sent", "skipped"])),
                )
                .col(integer("attempts").default(0))
                .col(string_null("claimed_by"))
                .col(timestamp_with_time_zone_null("claimed_at"))
                .col(timestamp_with_time_zone_null("sent_at"))
                .col(text_null("last_error"))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_digest_deliveries_run")
                        .from("digest_deliveries", "run_id")
                        .to("digest_runs", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_digest_deliveries_recipient")
                        .from("digest_deliveries", "recipient_id")
                        .to("digest_recipients", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_digest_deliveries_run_recipient")
                .table("digest_deliveries")
                .col("run_id")
                .col("recipient_id")
                .unique()
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("digest_deliveries").if_exists().to_owned()).await?;
        m.drop_table(Table::drop().table("digest_recipients").if_exists().to_owned()).await
    }
}
