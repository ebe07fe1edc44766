//! Black-box tests of the server: the real app on a random port, a fresh
//! database per test on SQLite and on Postgres, real HTTP.

mod helpers;

mod badge;
mod checkout;
mod cli;
mod demo;
mod health;
mod history;
mod metrics;
mod openapi;
mod queue;
mod rest;
mod scheduler;
mod schema;
mod worker;
