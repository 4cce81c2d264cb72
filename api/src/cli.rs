//! The `margin-api` command line: serve (default), migrate, schema.

use clap::{Parser, Subcommand};

use crate::config::Config;

#[derive(Debug, Parser)]
#[command(name = "margin-api", version, about = "Margin analytics GraphQL service")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub config: Config,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the GraphQL API (the default).
    Serve,
    /// Apply database migrations and exit.
    Migrate {
        #[arg(value_enum, default_value = "up")]
        direction: MigrateDirection,
    },
    /// Print the GraphQL schema (SDL); `schema.graphql` is this output.
    Schema,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum MigrateDirection {
    Up,
    Down,
    Status,
}
