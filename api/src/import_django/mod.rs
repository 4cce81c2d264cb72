//! `margin-api import-django --from URL [--from URL] [--dry-run] [--report FILE]` (issue #12):
//! moves the Django apps' data into the configured database.
//!
//! Tables go in dependency order, each in one transaction: users (the map of old ids to ids
//! here comes out of it), invite templates, invites, login attempts, calculations, backtest
//! sessions, saved results (and the quota counters recomputed from the rows). Rows are
//! matched by natural key (email, token hash, session id, result id, and for the tables
//! without one the key of the old row, see `legacy_import_key`), so a second run imports
//! nothing and says so. A row that cannot be imported is skipped whole, with its id and the
//! reason in the report. User sessions (not valid here) and the 24-hour cache are left
//! behind and counted. `--dry-run` runs all of it inside one transaction that is rolled back.
//!
//! Saved results and calculations are re-run with our engine from their stored parameters:
//! the server's numbers are what is stored and served; the legacy ones are kept beside them
//! with the difference of the headline metrics (`services::legacy_imports`).

mod accounts;
mod calculations;
pub mod mapping;
pub mod report;
mod results;
pub mod source;
mod users;

use std::{io::Write, path::PathBuf, sync::Arc, time::Instant};

use chrono::{DateTime, Utc};
use engine::market::MarketData;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use sea_orm::{ConnectionTrait, DatabaseConnection, TransactionTrait};
use sha2::{Digest, Sha256};

pub use report::Report;
use report::{SkippedTable, TableReport};
use source::Sources;

use crate::{config::Config, error::ApiError};

/// `margin-api import-django`.
#[derive(Debug, Clone, clap::Args)]
pub struct ImportArgs {
    /// The Django database: `sqlite:///path/to/db.sqlite3` (opened read-only) or
    /// `postgres://user@host/db`. Twice when the umbrella app (accounts) and the margin app
    /// kept separate databases: a table is read from the first that has it.
    #[arg(long = "from", value_name = "URL", required = true)]
    pub from: Vec<String>,
    /// Do everything inside a transaction that is rolled back, and print the same report.
    #[arg(long)]
    pub dry_run: bool,
    /// Also write the report as JSON to this file.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
}

/// How an import runs.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    pub dry_run: bool,
    /// The saved-results quota in force (`MARGIN_SAVED_RESULTS_QUOTA`).
    pub quota: u32,
    /// Progress bars on standard error (drawn only on a terminal).
    pub progress: bool,
}

/// What every table import shares.
pub(crate) struct Context<'a> {
    pub source: &'a Sources,
    pub market: Arc<MarketData>,
    pub quota: u32,
    pub progress: &'a Progress,
    /// When this import ran (`imported_at`).
    pub now: DateTime<Utc>,
}

/// The import's progress bars, on standard error when it is a terminal.
pub(crate) struct Progress {
    bars: Option<MultiProgress>,
}

impl Progress {
    fn new(enabled: bool) -> Self {
        let bars = (enabled && std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
        Self { bars }
    }

    /// A bar for `table`, hidden when progress is off.
    pub fn bar(&self, table: &str, total: u64) -> ProgressBar {
        let Some(bars) = &self.bars else {
            return ProgressBar::hidden();
        };
        let style = ProgressStyle::with_template(
            "{msg:<40} [{bar:30}] {pos:>7}/{len:7} {per_sec:>10} eta {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
        bars.add(
            ProgressBar::new(total)
                .with_style(style)
                .with_message(table.to_string()),
        )
    }
}

/// The natural key recorded for a row of a table without a unique column of its own.
pub(crate) fn key_of(table: &str, identity: &str) -> String {
    hex::encode(Sha256::digest(format!("{table}|{identity}").as_bytes()))
}

/// Which UUIDs in the `key` column of a batch of old rows are already in `column` of `E`
/// (rows an earlier import brought over), in one query.
pub(crate) async fn already_present<E, C>(
    conn: &C,
    rows: &[source::LegacyRow],
    key: &str,
    column: E::Column,
) -> Result<std::collections::HashSet<uuid::Uuid>, sea_orm::DbErr>
where
    E: sea_orm::EntityTrait,
    C: ConnectionTrait,
{
    use sea_orm::{ColumnTrait, QueryFilter, QuerySelect};
    let ids: Vec<uuid::Uuid> = rows.iter().filter_map(|r| r.uuid(key).ok()).collect();
    Ok(E::find()
        .select_only()
        .column(column)
        .filter(column.is_in(ids))
        .into_tuple::<uuid::Uuid>()
        .all(conn)
        .await?
        .into_iter()
        .collect())
}

/// The reason text of a validation error.
pub(crate) fn why(err: ApiError) -> String {
    match err {
        ApiError::BadUserInput { field, message } => format!("{field}: {message}"),
        ApiError::Internal(cause) => format!("{cause:#}"),
        other => other.message(),
    }
}

/// Tables of the Django apps left behind on purpose, and why.
const LEFT_BEHIND: [(&str, &str); 2] = [
    (
        "authentication_usersession",
        "old sessions are not valid here: users sign in again (their passwords work)",
    ),
    (
        "historical_backtest_backtestcache",
        "a 24-hour cache of the old engine's results",
    ),
];

/// `margin-api import-django`: opens both databases (migrating the target when configured
/// to), imports, prints the summary to `out` and writes the JSON report when asked to.
pub async fn run(
    config: &Config,
    args: &ImportArgs,
    out: &mut impl Write,
) -> anyhow::Result<Report> {
    let target_url = config.database_url();
    if args
        .from
        .iter()
        .any(|from| same_database(from, &target_url))
    {
        anyhow::bail!("--from is the configured database itself; point it at the Django database");
    }
    let source = Sources::open(&args.from).await?;
    let target = crate::db::connect(&target_url).await.map_err(|err| {
        anyhow::anyhow!(
            "cannot open the database {}: {}",
            crate::redact::mask_url(&target_url),
            crate::redact::scrub(&err.to_string(), &target_url)
        )
    })?;
    if config.migrate {
        crate::db::migrate_up(&target).await?;
    }
    let market = Arc::new(MarketData::load_dir(&config.data_dir)?);
    let options = ImportOptions {
        dry_run: args.dry_run,
        quota: config.saved_results_quota,
        progress: true,
    };
    let report = import(&source, &target, market, &options).await;
    target.close().await.ok();
    source.close().await;
    let mut report = report?;
    report.source = args
        .from
        .iter()
        .map(|from| crate::redact::mask_url(from))
        .collect::<Vec<_>>()
        .join(", ");
    writeln!(out, "{}", report.summary())?;
    if let Some(path) = &args.report {
        std::fs::write(path, serde_json::to_vec_pretty(&report)?).map_err(|err| {
            anyhow::anyhow!("cannot write the report to {}: {err}", path.display())
        })?;
    }
    Ok(report)
}

fn same_database(from: &str, target: &str) -> bool {
    let strip = |url: &str| {
        url.split('?')
            .next()
            .unwrap_or(url)
            .trim_end_matches('/')
            .to_string()
    };
    strip(from) == strip(target)
}

/// Imports everything from `source` into `target` (whose schema is up to date).
pub async fn import(
    source: &Sources,
    target: &DatabaseConnection,
    market: Arc<MarketData>,
    options: &ImportOptions,
) -> anyhow::Result<Report> {
    let started = Instant::now();
    let mut report = Report::new(String::new(), options.dry_run, options.quota);
    let progress = Progress::new(options.progress);
    let ctx = Context {
        source,
        market,
        quota: options.quota,
        progress: &progress,
        now: Utc::now(),
    };
    if options.dry_run {
        let outer = target.begin().await?;
        let done = tables(&ctx, &outer, &mut report).await;
        outer.rollback().await?;
        done?;
    } else {
        tables(&ctx, target, &mut report).await?;
    }
    for (table, why) in LEFT_BEHIND {
        report.skipped_tables.push(SkippedTable {
            table: table.to_string(),
            rows: source.count(table).await?,
            why: why.to_string(),
        });
    }
    report.elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    Ok(report)
}

/// Every table, in dependency order, each in its own transaction on `conn`.
async fn tables<C: ConnectionTrait + TransactionTrait>(
    ctx: &Context<'_>,
    conn: &C,
    report: &mut Report,
) -> anyhow::Result<()> {
    let mut table = TableReport::new(users::TABLE);
    let started = Instant::now();
    let users = users::import(ctx, conn, &mut table, &mut report.matched_users).await?;
    finish(report, table, started);

    let mut table = TableReport::new(accounts::TEMPLATES);
    let started = Instant::now();
    accounts::import_templates(ctx, conn, &users, &mut table).await?;
    finish(report, table, started);

    let mut table = TableReport::new(accounts::INVITES);
    let started = Instant::now();
    accounts::import_invites(ctx, conn, &users, &mut table).await?;
    finish(report, table, started);

    let mut table = TableReport::new(accounts::ATTEMPTS);
    let started = Instant::now();
    accounts::import_attempts(ctx, conn, &users, &mut table).await?;
    finish(report, table, started);

    let mut table = TableReport::new(calculations::TABLE);
    let started = Instant::now();
    calculations::import(ctx, conn, &users, &mut table).await?;
    finish(report, table, started);

    let mut table = TableReport::new(results::SESSIONS);
    let started = Instant::now();
    results::import_sessions(ctx, conn, &users, &mut table).await?;
    finish(report, table, started);

    let mut table = TableReport::new(results::SAVED);
    let started = Instant::now();
    let mut legacy_only = Vec::new();
    results::import_saved(ctx, conn, &users, &mut table, &mut legacy_only).await?;
    report.legacy_only_results = legacy_only;
    finish(report, table, started);
    Ok(())
}

fn finish(report: &mut Report, mut table: TableReport, started: Instant) {
    table.elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    report.tables.push(table);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_source_must_not_be_the_target() {
        assert!(same_database("sqlite:///a.db", "sqlite:///a.db?mode=rwc"));
        assert!(!same_database("sqlite:///a.db", "sqlite:///b.db"));
    }

    #[test]
    fn natural_keys_depend_on_table_and_identity() {
        assert_eq!(key_of("t", "1"), key_of("t", "1"));
        assert_ne!(key_of("t", "1"), key_of("u", "1"));
        assert_eq!(key_of("t", "1").len(), 64);
    }
}
