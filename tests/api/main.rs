//! Black-box tests of the server: the real app on a random port, a fresh
//! database per test on SQLite and on Postgres, real HTTP.

mod helpers;

mod cli;
mod health;
mod queue;
mod schema;
