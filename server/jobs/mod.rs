//! Background work: the durable queue that scans, discovery, digests and
//! retention go through (DESIGN.md, data flow 3).
//!
//! This layer talks to the database only through `crate::db`; the worker
//! that runs claimed jobs and the triggers that enqueue them build on
//! `queue` and must not reach into the `jobs` table themselves.

pub mod periodic;
pub mod queue;
pub mod scan_request;
pub mod worker;
