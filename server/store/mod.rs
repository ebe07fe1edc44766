//! The write side of a scan: everything one scan produced goes into the
//! database in ONE transaction (scan row, check outcomes, category scores,
//! finding upserts and their events), so a scan is either fully recorded or
//! not at all. The finding lifecycle itself is decided by a pure function
//! (`lifecycle::plan`) and only applied here.

pub mod audit;
pub mod lifecycle;
mod record;
pub mod suppression;
pub mod waiver;

pub use record::{Recorded, ScanMeta, StoreError, record_failure, record_success};
