//! The policy version of each scan: a fingerprint of the check catalogue
//! the scan ran with, beside the analyzer version already stored, so the
//! repository page can explain a score change by a new or re-weighted check.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table("scans").add_column(string_len_null("policy_version", 32)).to_owned()).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table("scans").drop_column("policy_version").to_owned()).await
    }
}
