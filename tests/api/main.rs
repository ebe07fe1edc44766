//! Black-box tests of the server: the real app on a random port, a fresh
//! database per test on SQLite and on Postgres, real HTTP.

mod helpers;

mod auth;
mod badge;
mod browser;
mod campaigns;
mod checkout;
mod cli;
mod dashboard;
mod db_gone;
mod demo;
mod digest;
mod explain;
mod github;
mod health;
mod history;
mod hostile;
mod metrics;
mod notify;
mod openapi;
mod outage;
mod policy;
mod queue;
mod replicas;
mod rest;
mod scheduler;
mod schema;
mod waivers;
mod webhook;
mod worker;
