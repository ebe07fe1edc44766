//! Black-box tests of the server: the real app on a random port, a fresh
//! database per test on SQLite and on Postgres, real HTTP.

mod helpers;

mod browser;
mod checkout;
mod cli;
mod dashboard;
mod demo;
mod health;
mod history;
mod queue;
mod scheduler;
mod schema;
mod worker;
