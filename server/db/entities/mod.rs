//! Hand-written SeaORM entities, one file per table, kept free of behaviour:
//! queries live in the modules that own each flow (`store`, `jobs`, …).
//! They mirror `migration/` exactly; a column added there is added here in
//! the same change.
//!
//! Status-like columns are string-backed `DeriveActiveEnum`s rather than
//! native Postgres enums, so SQLite and Postgres store the same text and the
//! migration's CHECK constraints validate it on both (STACK.md, pitfall 18).

pub mod api_tokens;
pub mod audit_log;
pub mod campaigns;
pub mod category_scores;
pub mod check_results;
pub mod digest_deliveries;
pub mod digest_recipients;
pub mod digest_runs;
pub mod finding_events;
pub mod findings;
pub mod jobs;
pub mod notification_deliveries;
pub mod repositories;
pub mod scan_reports;
pub mod scans;
pub mod suppressions;
pub mod teams;
pub mod users;
pub mod waivers;
pub mod webhook_deliveries;
