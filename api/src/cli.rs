//! The `margin-api` command line: serve (default), migrate, purge, schema, backtest,
//! calculate, odds, forward-risk, sweep, create-admin, import-django.
//!
//! Every setting of [`Config`] is a global flag: it may come before or after the subcommand
//! (`margin-api --bind X serve` and `margin-api serve --bind X`), and `--help` never prints
//! the value of an environment variable (they can hold passwords).

use std::io::Write;

use clap::{Arg, Args, Parser, Subcommand};
use migration::{Migrator, MigratorTrait};

use crate::config::Config;

#[derive(Debug, Parser)]
#[command(
    name = "margin-api",
    version,
    about = "Margin analytics GraphQL service",
    mut_args = setting
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub config: Config,
}

/// Applied to every top-level argument (the settings): global, environment values hidden.
fn setting(arg: Arg) -> Arg {
    arg.global(true).hide_env_values(true)
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the GraphQL API (the default).
    Serve,
    /// Apply, roll back or list database migrations and exit.
    Migrate(MigrateArgs),
    /// Delete old sessions, login attempts, backtest sessions, invites and expired cache rows
    /// once (the server does it every MARGIN_PURGE_INTERVAL_SECS) and print the counts.
    Purge,
    /// Print the GraphQL schema (SDL); `schema.graphql` is this output.
    Schema,
    /// Run a backtest with the engine and print the result (no server, no database).
    Backtest(crate::engine_cli::BacktestArgs),
    /// Run the margin calculator and print the result (no server, no database).
    Calculate(crate::engine_cli::CalculateArgs),
    /// Historical odds of a margin call within a horizon from every entry date, and the
    /// largest leverage for a target probability (no server, no database).
    Odds(crate::risk_cli::OddsArgs),
    /// Forward Monte Carlo odds of a margin call within a horizon, along paths resampled from
    /// the ticker's history or drawn from a fitted GBM (no server, no database).
    ForwardRisk(crate::risk_cli::ForwardRiskArgs),
    /// Move the Django apps' data in: users (their passwords keep working), invites, login
    /// attempts, calculations, backtest sessions and saved results (re-run with this engine,
    /// the old numbers kept beside them). Idempotent; `--dry-run` writes nothing.
    ImportDjango(crate::import_django::ImportArgs),
    /// Run a one- or two-parameter grid of backtests and print it (no server, no database):
    /// `--x leverage=1,1.5,2 --y start-year=2000:2020:5 --metric cagr`.
    Sweep(crate::sweep_cli::SweepArgs),
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MigrateDirection {
    Up,
    Down,
    Status,
}

#[derive(Debug, Clone, Args)]
pub struct MigrateArgs {
    #[arg(value_enum, default_value = "up")]
    pub direction: MigrateDirection,
    /// up: apply at most N pending migrations; down: roll back the last N (default 1).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..), conflicts_with = "all")]
    pub steps: Option<u32>,
    /// down: roll back every migration (drops every table and its data).
    #[arg(long)]
    pub all: bool,
    /// down: confirm the rollback (it drops tables or columns and their data).
    #[arg(long)]
    pub yes: bool,
}

/// What `migrate` will do, once its arguments are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MigratePlan {
    /// Apply pending migrations (None: all of them).
    Up(Option<u32>),
    /// Roll back the last N migrations (None: every one).
    Down(Option<u32>),
    Status,
}

impl MigrateArgs {
    /// The plan, or why it is refused: a rollback needs `--yes`, and `--all` / `--yes` are
    /// only for `down`.
    pub fn plan(&self) -> Result<MigratePlan, String> {
        match self.direction {
            MigrateDirection::Down if !self.yes => Err(format!(
                "refusing to roll back {}: it drops tables or columns and their data; \
                 add --yes to confirm",
                if self.all {
                    "every migration".to_string()
                } else {
                    match self.steps.unwrap_or(1) {
                        1 => "the last migration".to_string(),
                        n => format!("the last {n} migrations"),
                    }
                }
            )),
            MigrateDirection::Down if self.all => Ok(MigratePlan::Down(None)),
            MigrateDirection::Down => Ok(MigratePlan::Down(Some(self.steps.unwrap_or(1)))),
            _ if self.all || self.yes => {
                Err("--all and --yes are options of `migrate down`".to_string())
            }
            MigrateDirection::Up => Ok(MigratePlan::Up(self.steps)),
            MigrateDirection::Status if self.steps.is_some() => {
                Err("--steps is an option of `migrate up` and `migrate down`".to_string())
            }
            MigrateDirection::Status => Ok(MigratePlan::Status),
        }
    }
}

/// `margin-api migrate`: checks the arguments before connecting, then applies, rolls back or
/// lists migrations, writing what changed to `out`.
pub async fn migrate(
    config: &Config,
    args: &MigrateArgs,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let plan = args.plan().map_err(anyhow::Error::msg)?;
    let db = crate::db::connect(&config.database_url()).await?;
    let before = applied(&db).await?;
    match plan {
        MigratePlan::Up(steps) => Migrator::up(&db, steps).await?,
        MigratePlan::Down(steps) => Migrator::down(&db, steps).await?,
        MigratePlan::Status => {
            for migration in Migrator::get_migration_with_status(&db).await? {
                writeln!(out, "{} {}", migration.name(), migration.status())?;
            }
            return Ok(());
        }
    }
    let after = applied(&db).await?;
    db.close().await.ok();
    let (verb, changed): (&str, Vec<&String>) = match plan {
        MigratePlan::Up(_) => (
            "applied",
            after.iter().filter(|m| !before.contains(m)).collect(),
        ),
        _ => (
            "rolled back",
            before.iter().rev().filter(|m| !after.contains(m)).collect(),
        ),
    };
    if changed.is_empty() {
        writeln!(out, "nothing to do")?;
    }
    for name in changed {
        writeln!(out, "{verb} {name}")?;
    }
    Ok(())
}

async fn applied(db: &sea_orm::DatabaseConnection) -> Result<Vec<String>, sea_orm::DbErr> {
    Ok(Migrator::get_applied_migrations(db)
        .await?
        .iter()
        .map(|m| m.name().to_string())
        .collect())
}

/// `margin-api purge`: one retention purge as of now (migrations applied first when
/// configured to); writes one `table rows` line per table to `out` and returns the counts.
pub async fn purge(
    config: &Config,
    out: &mut impl Write,
) -> anyhow::Result<crate::services::retention::PurgeCounts> {
    use crate::services::retention;
    let db = crate::db::connect(&config.database_url()).await?;
    if config.migrate {
        crate::db::migrate_up(&db).await?;
    }
    let settings = retention::RetentionSettings::from_config(config);
    let counts = retention::purge(&db, &settings, chrono::Utc::now())
        .await
        .map_err(|err| anyhow::anyhow!("purging: {err:?}"))?;
    db.close().await.ok();
    for (table, rows) in counts.by_table() {
        writeln!(out, "{table} {rows}")?;
    }
    Ok(counts)
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
            crate::error::ApiError::Internal(cause) => {
                anyhow::anyhow!("creating the admin: {cause:#}")
            }
            other => anyhow::anyhow!("{}", other.message()),
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

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        use clap::Parser;
        Cli::try_parse_from(std::iter::once("margin-api").chain(args.iter().copied()))
    }

    fn migrate_args(args: &[&str]) -> MigrateArgs {
        match parse(args).expect("parses").command {
            Some(Command::Migrate(args)) => args,
            other => panic!("not migrate: {other:?}"),
        }
    }

    #[test]
    fn settings_are_flags_before_and_after_the_subcommand() {
        let after = parse(&["serve", "--bind", "127.0.0.1:9000", "--max-depth", "7"]).unwrap();
        assert!(matches!(after.command, Some(Command::Serve)));
        assert_eq!(after.config.bind.port(), 9000);
        assert_eq!(after.config.max_depth, 7);
        let before = parse(&["--bind", "127.0.0.1:9001", "serve"]).unwrap();
        assert_eq!(before.config.bind.port(), 9001);
        let bare = parse(&["--bind", "127.0.0.1:9002"]).unwrap();
        assert!(bare.command.is_none());
        assert_eq!(bare.config.bind.port(), 9002);
        let migrate = parse(&["migrate", "status", "--database-url", "sqlite://x.db"]).unwrap();
        assert_eq!(
            migrate.config.database_url.as_deref(),
            Some("sqlite://x.db")
        );
        assert!(parse(&["serve", "--no-such-flag"]).is_err());
    }

    #[test]
    fn migrate_down_rolls_back_one_and_needs_yes() {
        assert_eq!(
            migrate_args(&["migrate", "down", "--yes"]).plan(),
            Ok(MigratePlan::Down(Some(1)))
        );
        assert_eq!(
            migrate_args(&["migrate", "down", "--steps", "3", "--yes"]).plan(),
            Ok(MigratePlan::Down(Some(3)))
        );
        assert_eq!(
            migrate_args(&["migrate", "down", "--all", "--yes"]).plan(),
            Ok(MigratePlan::Down(None))
        );
        for refused in [
            &["migrate", "down"][..],
            &["migrate", "down", "--all"],
            &["migrate", "down", "--steps", "2"],
        ] {
            let err = migrate_args(refused).plan().unwrap_err();
            assert!(err.contains("--yes"), "{err}");
        }
        assert!(parse(&["migrate", "down", "--steps", "0", "--yes"]).is_err());
        assert!(parse(&["migrate", "down", "--steps", "2", "--all", "--yes"]).is_err());
        assert_eq!(migrate_args(&["migrate"]).plan(), Ok(MigratePlan::Up(None)));
        assert_eq!(
            migrate_args(&["migrate", "up", "--steps", "1"]).plan(),
            Ok(MigratePlan::Up(Some(1)))
        );
        assert!(migrate_args(&["migrate", "up", "--all"]).plan().is_err());
        assert_eq!(
            migrate_args(&["migrate", "status"]).plan(),
            Ok(MigratePlan::Status)
        );
    }

    #[test]
    fn no_argument_shows_its_environment_value_in_help() {
        use clap::CommandFactory;
        fn check(command: &clap::Command) {
            for arg in command.get_arguments() {
                if arg.get_env().is_some() {
                    assert!(
                        arg.is_hide_env_values_set(),
                        "{} of `{}` would print its environment value",
                        arg.get_id(),
                        command.get_name()
                    );
                }
            }
            for sub in command.get_subcommands() {
                check(sub);
            }
        }
        let mut command = Cli::command();
        command.build();
        check(&command);
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
