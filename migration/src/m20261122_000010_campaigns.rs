//! Campaigns: an admin picks checks, a set of repositories (by team, level,
//! language or an explicit list) and a deadline; pages track how many of
//! those repositories still fail the checks, day by day.
//!
//! The selection is stored as the admin made it (JSON), not as a frozen
//! list, so a repository that joins a team joins its campaigns.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("campaigns")
                .col(pk_auto("id"))
                .col(string_len("title", 200))
                .col(text("description"))
                .col(json("check_ids"))
                .col(json("selection"))
                .col(date("deadline"))
                .col(string_len("created_by", 200))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("closed_at"))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("campaigns").to_owned()).await
    }
}
