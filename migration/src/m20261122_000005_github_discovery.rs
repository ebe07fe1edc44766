//! GitHub discovery: a repository keeps GitHub's numeric id (names change
//! on rename and transfer, the id does not); each listed page keeps its
//! ETag and the repositories it held, so a repeat discovery sends
//! `If-None-Match` and a 304 (free of rate limit) still knows the page's
//! contents; each discovery run and each scan records the API calls it cost.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table("repositories").add_column(big_integer_null("github_id")).to_owned())
            .await?;
        m.create_index(
            Index::create()
                .name("ux_repositories_github_id")
                .table("repositories")
                .col("github_id")
                .unique()
                .to_owned(),
        )
        .await?;
        m.alter_table(Table::alter().table("scans").add_column(integer_null("github_api_calls")).to_owned()).await?;
        m.create_table(
            Table::create()
                .table("github_pages")
                .col(pk_auto("id"))
                .col(string("source"))
                .col(integer("page"))
                .col(string("etag"))
                .col(text_null("next_path"))
                .col(json_binary("repos"))
                .col(timestamp_with_time_zone("fetched_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_github_pages_source_page")
                .table("github_pages")
                .col("source")
                .col("page")
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("discovery_runs")
                .col(pk_auto("id"))
                .col(string("source"))
                .col(string_len("status", 16).check(Expr::col("status").is_in(["succeeded", "failed"])))
                .col(timestamp_with_time_zone("started_at"))
                .col(timestamp_with_time_zone("finished_at"))
                .col(integer("api_calls"))
                .col(integer("not_modified"))
                .col(integer("repos_seen"))
                .col(integer("added"))
                .col(integer("updated"))
                .col(integer("archived"))
                .col(integer("gone"))
                .col(text_null("error"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_discovery_runs_source_time")
                .table("discovery_runs")
                .col("source")
                .col("started_at")
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("discovery_runs").if_exists().to_owned()).await?;
        m.drop_table(Table::drop().table("github_pages").if_exists().to_owned()).await?;
        m.alter_table(Table::alter().table("scans").drop_column("github_api_calls").to_owned()).await?;
        m.drop_index(Index::drop().name("ux_repositories_github_id").table("repositories").to_owned()).await?;
        m.alter_table(Table::alter().table("repositories").drop_column("github_id").to_owned()).await
    }
}
