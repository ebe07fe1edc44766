//! Hand-written SeaORM entities for the tables the application reads and
//! writes through the ORM. They mirror `migration/` exactly; a column added
//! there is added here in the same change.
//!
//! Status-like columns are string-backed `DeriveActiveEnum`s rather than
//! native Postgres enums, so SQLite and Postgres store the same text and the
//! migration's CHECK constraints validate it on both (STACK.md, pitfall 18).

pub mod jobs;
pub mod repositories;
