//! Shipshape's schema, one migration per change, applied identically to
//! SQLite and Postgres. Migrations are append-only: once merged, a migration
//! is never edited; a change is a new file.

pub use sea_orm_migration::prelude::*;

mod m20261122_000001_initial;
mod m20261122_000002_schedule_runs;
mod m20261122_000003_scan_reports;
mod m20261122_000005_github_discovery;
mod m20261122_000006_digest_recipients;
mod m20261122_000007_waivers_audit;
mod m20261122_000008_notifications;
mod m20261122_000009_policy_version;
mod m20261122_000010_campaigns;
mod m20261122_000011_upcoming_outcome;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_initial::Migration),
            Box::new(m20261122_000002_schedule_runs::Migration),
            Box::new(m20261122_000003_scan_reports::Migration),
            Box::new(m20261122_000005_github_discovery::Migration),
            Box::new(m20261122_000006_digest_recipients::Migration),
            Box::new(m20261122_000007_waivers_audit::Migration),
            Box::new(m20261122_000008_notifications::Migration),
            Box::new(m20261122_000009_policy_version::Migration),
            Box::new(m20261122_000010_campaigns::Migration),
            Box::new(m20261122_000011_upcoming_outcome::Migration),
        ]
    }
}
