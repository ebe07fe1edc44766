//! Shipshape: continuous production-readiness scoring for many repositories.
//!
//! The module list reads as the architecture: `config` and `telemetry` start
//! the process, `auth` decides who may do what, `db` owns the schema and the
//! entities, `jobs` the work queue, `startup` builds the server, `web` holds the routes, and the
//! analysis core lives in its own crate (`shipshape_analysis`) so it cannot
//! reach the database or HTTP.

#![forbid(unsafe_code)]

pub mod auth;
pub mod campaigns;
pub mod checkout;
pub mod cli;
pub mod codeowners;
pub mod config;
pub mod db;
pub mod demo;
pub mod digest;
pub mod error;
pub mod github;
pub mod jobs;
pub mod metrics;
pub mod notify;
pub mod read;
pub mod scan_cmd;
pub mod scheduler;
pub mod sources;
pub mod startup;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod web;
pub mod webhook;

pub use shipshape_analysis as analysis;
