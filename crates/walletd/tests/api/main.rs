//! Integration tests: the real server on a random port, driven over HTTP through the SDK,
//! on SQLite and on PostgreSQL.

mod browser;
mod helpers;

mod allowance_callbacks;
mod allowances;
mod app_pages;
mod auth;
mod authorising;
mod callbacks;
mod cash_out;
mod cli;
mod errors;
mod fields;
mod flash;
mod freezes;
mod inquiries;
mod instances;
mod ledger;
mod lifecycle;
mod limits;
mod lockouts;
mod lookups;
mod oauth;
mod openapi;
mod ops;
mod pages;
mod passwords;
mod payments;
mod people;
mod process;
mod receipts;
mod restrictions;
mod retries;
mod scopes;
mod time;
mod tokens;
mod users;
mod wallets;
