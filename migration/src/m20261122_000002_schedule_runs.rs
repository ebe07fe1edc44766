//! One row per cron slot that fired. The unique (job, slot) pair is how
//! replicas agree that exactly one of them runs a scheduled job, and how a
//! restarted server knows whether it missed the latest slot.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("schedule_runs")
                .col(pk_auto("id"))
                .col(string_len("job", 64))
                .col(timestamp_with_time_zone("slot"))
                .col(string("claimed_by"))
                .col(timestamp_with_time_zone("claimed_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_schedule_runs_job_slot")
                .table("schedule_runs")
                .col("job")
                .col("slot")
                .unique()
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("schedule_runs").if_exists().to_owned()).await
    }
}
