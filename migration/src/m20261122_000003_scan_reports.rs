//! The full report of each successful scan, as the analysis core produced
//! it (after dashboard suppressions), so the dashboard's Markdown, JSON and
//! SARIF downloads are rendered by the same code as `shipshape scan` from
//! exactly what was scored, not rebuilt from the normalised rows. A table of
//! its own keeps the wide document out of every query that lists scans.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("scan_reports")
                .col(integer("scan_id").primary_key())
                .col(json_binary("report"))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_scan_reports_scan")
                        .from("scan_reports", "scan_id")
                        .to("scans", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        // The dashboard's suppressions are looked up per finding on every scan.
        m.create_index(
            Index::create().name("ix_suppressions_finding").table("suppressions").col("finding_id").to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(Index::drop().name("ix_suppressions_finding").table("suppressions").to_owned()).await?;
        m.drop_table(Table::drop().table("scan_reports").if_exists().to_owned()).await
    }
}
