//! The `margin-api` command line: serve (default), migrate, schema, backtest, calculate,
//! create-admin.

use clap::{Parser, Subcommand};

use crate::config::Config;

#[derive(Debug, Parser)]
#[command(
    name = "margin-api",
    version,
    about = "Margin analytics GraphQL service"
)]
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
    /// Run a backtest with the engine and print the result (no server, no database).
    Backtest(crate::engine_cli::BacktestArgs),
    /// Run the margin calculator and print the result (no server, no database).
    Calculate(crate::engine_cli::CalculateArgs),
    /// Create an approved admin account (bootstraps the first admin). The password is read
    /// from standard input, so it never appears in the process list or shell history:
    /// `printf '%s\n' "$PASSWORD" | margin-api create-admin --email E --username U --password-stdin`.
    CreateAdmin {
        #[arg(long)]
        email: String,
        #[arg(long)]
        username: String,
        /// Read the password from standard input (first line); required.
        #[arg(long, required = true)]
        password_stdin: bool,
    },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum MigrateDirection {
    Up,
    Down,
    Status,
}

/// `margin-api create-admin`: reads the password (first line of `input`), applies migrations
/// when configured to, creates the admin and prints what it did.
pub async fn create_admin(
    config: &Config,
    email: &str,
    username: &str,
    input: impl std::io::BufRead,
) -> anyhow::Result<()> {
    let password = read_password_line(input)?;
    let db = crate::db::connect(&config.database_url()).await?;
    if config.migrate {
        crate::db::migrate_up(&db).await?;
    }
    let user = crate::services::accounts::admin::create_admin(&db, email, username, password)
        .await
        .map_err(|err| match err {
            crate::error::ApiError::BadUserInput { field, message } => {
                anyhow::anyhow!("{field}: {message}")
            }
            crate::error::ApiError::Internal(cause) => cause.context("creating the admin"),
            other => anyhow::anyhow!("{other}"),
        })?;
    println!(
        "created admin {} <{}> (id {})",
        user.username, user.email, user.id
    );
    Ok(())
}

/// The first line of `input`, without its line ending (nothing else is trimmed: spaces can
/// be part of a password).
pub fn read_password_line(mut input: impl std::io::BufRead) -> anyhow::Result<String> {
    let mut line = String::new();
    input.read_line(&mut line)?;
    let password = line
        .strip_suffix('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .unwrap_or(&line)
        .to_string();
    if password.is_empty() {
        anyhow::bail!("no password on standard input");
    }
    Ok(password)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_is_the_first_line_verbatim() {
        assert_eq!(
            read_password_line(&b"  secret pass \r\nmore"[..]).unwrap(),
            "  secret pass "
        );
        assert_eq!(read_password_line(&b"secret"[..]).unwrap(), "secret");
        assert!(read_password_line(&b"\n"[..]).is_err());
    }

    #[test]
    fn create_admin_needs_password_stdin() {
        use clap::Parser;
        assert!(
            Cli::try_parse_from([
                "margin-api",
                "create-admin",
                "--email",
                "a@b.co",
                "--username",
                "a"
            ])
            .is_err()
        );
        let cli = Cli::try_parse_from([
            "margin-api",
            "create-admin",
            "--email",
            "a@b.co",
            "--username",
            "a",
            "--password-stdin",
        ])
        .unwrap();
        assert!(matches!(cli.command, Some(Command::CreateAdmin { .. })));
    }
}
