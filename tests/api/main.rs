//! Black-box tests of the server: the real app on a random port, a fresh
//! database per test on SQLite and on Postgres, real HTTP.

mod helpers;

mod checkout;
mod cli;
mod db_gone;
mod demo;
mod github;
mod digest;
mod health;
mod history;
mod hostile;
mod outage;
mod queue;
mod replicas;
mod scheduler;
mod schema;
mod webhook;
mod worker;
