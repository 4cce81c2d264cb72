//! Database connection and migrations.

pub(crate) mod errors;
pub(crate) mod outage;
pub(crate) mod retry;
pub(crate) mod write_slots;

use std::{path::Path, time::Duration};

use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, Database, DatabaseConnection, DbErr,
    sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous},
};

/// How long a caller waits for a connection unless configured otherwise
/// (`MARGIN_DB_ACQUIRE_TIMEOUT_MS`).
pub const DEFAULT_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(2);

/// Connects to `url` with the default acquire timeout (command-line tools).
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    connect_with(url, DEFAULT_ACQUIRE_TIMEOUT).await
}

/// Connects to `url`, creating the parent folder of a SQLite file on first start. A caller
/// waits at most `acquire_timeout` for a connection, opening one included (sqlx retries a
/// refused connection until then), so a database that is down costs a request that long and
/// no more before it answers SERVICE_UNAVAILABLE; the pool reconnects by itself once the
/// database is back.
pub async fn connect_with(
    url: &str,
    acquire_timeout: Duration,
) -> Result<DatabaseConnection, DbErr> {
    if let Some(path) = sqlite_file_path(url)
        && let Some(parent) = Path::new(path).parent()
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent)
            .map_err(|e| DbErr::Custom(format!("cannot create {}: {e}", parent.display())))?;
    }
    let mut options = ConnectOptions::new(url.to_string());
    options
        .max_connections(if url.starts_with("sqlite") { 8 } else { 32 })
        .min_connections(1)
        .connect_timeout(acquire_timeout)
        .acquire_timeout(acquire_timeout)
        .sqlx_logging(false)
        // sqlx pings every connection it hands out, one extra round trip per query; ping only
        // those idle long enough for a server, proxy or firewall to have dropped them.
        .test_before_acquire_if_idle_for(Duration::from_secs(30))
        // …and, once a connection failure has been seen, those pooled since before it, so
        // the pool hands out no connection that died with the database.
        .map_sqlx_postgres_before_acquire(|conn, meta| {
            Box::pin(async move {
                if outage::idle_through_failure(meta.idle_for) {
                    use sea_orm::sqlx::Connection;
                    conn.ping().await?;
                }
                Ok(true)
            })
        })
        // WAL lets readers run beside the one writer, and NORMAL syncs at checkpoints rather
        // than on every commit: a crash keeps the database consistent and may lose only the
        // last commits before a power failure, never a committed row on a process crash.
        .map_sqlx_sqlite_opts(|opts| {
            opts.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(5))
        });
    // A driver error may quote the URL; its password never leaves this function.
    Database::connect(options).await.map_err(|err| {
        let text = err.to_string();
        let scrubbed = crate::redact::scrub(&text, url);
        if scrubbed == text {
            err
        } else {
            DbErr::Custom(scrubbed)
        }
    })
}

pub async fn migrate_up(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

fn sqlite_file_path(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or(rest);
    (!path.is_empty() && path != ":memory:").then_some(path)
}

#[cfg(test)]
mod tests {
    use super::sqlite_file_path;

    #[test]
    fn finds_the_file_of_a_sqlite_url() {
        assert_eq!(
            sqlite_file_path("sqlite://./var/a.sqlite?mode=rwc"),
            Some("./var/a.sqlite")
        );
        assert_eq!(sqlite_file_path("sqlite::memory:"), None);
        assert_eq!(sqlite_file_path("postgres://localhost/test"), None);
    }
}
