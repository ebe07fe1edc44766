//! GitHub through its REST API (octocrab): one client wrapper (`client`)
//! that every call goes through, counted and rate-limit aware; discovery of
//! organisations' and users' repositories (`discovery`); the facts the
//! GitHub-only checks need for a scan (`facts`); webhook registration
//! (`hooks`).

pub mod client;
pub mod discovery;
pub mod facts;
pub mod hooks;

pub use client::{Github, GithubError, Session};
