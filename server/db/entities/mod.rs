//! SeaORM entities, one file per table, kept free of behaviour: queries
//! live in the modules that own each flow (`store`, `jobs`, …).

pub mod category_scores;
pub mod check_results;
pub mod finding_events;
pub mod findings;
pub mod scans;
