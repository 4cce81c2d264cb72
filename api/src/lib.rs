//! The margin analytics GraphQL service.

pub mod app;
mod auth;
pub mod bus;
pub mod cache;
pub mod cli;
pub mod config;
pub mod db;
pub mod engine_cli;
mod error;
pub(crate) mod export;
pub mod graphql;
mod http;
pub mod import_django;
pub mod metrics;
pub mod rate_limit;
mod redact;
pub mod risk_cli;
pub mod services;
pub mod state;
pub mod sweep_cli;

pub use app::Application;
pub use config::Config;
pub use graphql::schema;

/// The service's version, reported by `version` and `/livez`.
pub const SERVICE_VERSION: &str = env!("CARGO_PKG_VERSION");
