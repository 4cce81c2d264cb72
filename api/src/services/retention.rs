//! Retention: deletes rows nobody needs any more, in bounded batches (each statement deletes
//! at most `batch` rows, so a large backlog never holds a long lock; the cache table is the
//! exception, see the last item).
//!
//! - user sessions that ended (past `expires_at`, idle past the idle timeout, or logged out /
//!   revoked) more than the grace period ago; the grace keeps recently ended sessions
//!   visible for a while;
//! - login attempts older than their retention, and never younger than the throttling
//!   window (throttling counts failures from that table);
//! - finished (completed, error, cancelled) backtest sessions older than their retention.
//!   No saved result references a session: saving copies the server's result into the
//!   saved row, so a saved result survives its session;
//! - invites used, or expired (revoking expires them), longer ago than their retention;
//! - expired rows of the backtest cache table ([`crate::cache::sweep`], one unbatched statement).
//!
//! A retention of `None` keeps that kind forever.

use chrono::{DateTime, TimeDelta, Utc};
use entity::{backtest_session, invite_token, login_attempt, user_session};
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter, sea_query::Query,
};

use crate::{config::Config, error::ApiResult, services::backtests::SessionStatus};

#[derive(Debug, Clone)]
pub struct RetentionSettings {
    /// How long an ended user session is kept.
    pub ended_sessions: Option<TimeDelta>,
    /// The idle timeout: a session without a request for this long has ended.
    pub session_idle: TimeDelta,
    /// How long login attempts are kept (at least the throttling window).
    pub login_attempts: Option<TimeDelta>,
    pub backtest_sessions: Option<TimeDelta>,
    pub invites: Option<TimeDelta>,
    /// Most rows one statement deletes.
    pub batch: u64,
}

fn days(days: u64) -> Option<TimeDelta> {
    (days > 0).then(|| TimeDelta::days(i64::try_from(days.min(100 * 365)).unwrap_or(36_500)))
}

fn secs(secs: u64) -> TimeDelta {
    TimeDelta::seconds(i64::try_from(secs.min(10 * 365 * 86_400)).unwrap_or(0))
}

impl RetentionSettings {
    pub fn from_config(config: &Config) -> Self {
        let window = secs(config.login_window_secs);
        Self {
            ended_sessions: days(config.retain_ended_sessions_days),
            session_idle: secs(config.session_idle_secs.max(1)),
            login_attempts: days(config.retain_login_attempts_days).map(|d| d.max(window)),
            backtest_sessions: days(config.retain_backtest_sessions_days),
            invites: days(config.retain_invites_days),
            batch: config.purge_batch.clamp(1, 100_000),
        }
    }
}

/// Rows deleted by one purge, by table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PurgeCounts {
    pub user_sessions: u64,
    pub login_attempts: u64,
    pub backtest_sessions: u64,
    pub invites: u64,
    pub cache_rows: u64,
}

impl PurgeCounts {
    /// (table name, rows deleted), in a fixed order.
    pub fn by_table(&self) -> [(&'static str, u64); 5] {
        [
            ("authentication_usersession", self.user_sessions),
            ("authentication_loginattempt", self.login_attempts),
            (
                "historical_backtest_backtestsession",
                self.backtest_sessions,
            ),
            ("authentication_invitetoken", self.invites),
            ("historical_backtest_backtestcache", self.cache_rows),
        ]
    }

    pub fn total(&self) -> u64 {
        self.by_table().iter().map(|(_, n)| n).sum()
    }
}

/// Runs every deletion once, as of `now`.
pub async fn purge(
    db: &DatabaseConnection,
    settings: &RetentionSettings,
    now: DateTime<Utc>,
) -> ApiResult<PurgeCounts> {
    Ok(PurgeCounts {
        user_sessions: purge_user_sessions(db, settings, now).await?,
        login_attempts: purge_login_attempts(db, settings, now).await?,
        backtest_sessions: purge_backtest_sessions(db, settings, now).await?,
        invites: purge_invites(db, settings, now).await?,
        cache_rows: crate::cache::sweep(db).await?,
    })
}

pub async fn purge_user_sessions(
    db: &DatabaseConnection,
    settings: &RetentionSettings,
    now: DateTime<Utc>,
) -> ApiResult<u64> {
    let Some(keep) = settings.ended_sessions else {
        return Ok(0);
    };
    use user_session::Column as C;
    let cutoff = now - keep;
    let ended = Condition::any()
        .add(C::ExpiresAt.lt(cutoff))
        .add(C::LastActivity.lt(cutoff - settings.session_idle))
        .add(
            Condition::all()
                .add(C::IsActive.eq(false))
                .add(C::LastActivity.lt(cutoff)),
        );
    delete_batched::<user_session::Entity>(db, C::Id, ended, settings.batch).await
}

pub async fn purge_login_attempts(
    db: &DatabaseConnection,
    settings: &RetentionSettings,
    now: DateTime<Utc>,
) -> ApiResult<u64> {
    let Some(keep) = settings.login_attempts else {
        return Ok(0);
    };
    use login_attempt::Column as C;
    let old = Condition::all().add(C::AttemptedAt.lt(now - keep));
    delete_batched::<login_attempt::Entity>(db, C::Id, old, settings.batch).await
}

pub async fn purge_backtest_sessions(
    db: &DatabaseConnection,
    settings: &RetentionSettings,
    now: DateTime<Utc>,
) -> ApiResult<u64> {
    let Some(keep) = settings.backtest_sessions else {
        return Ok(0);
    };
    use backtest_session::Column as C;
    let old = Condition::all()
        .add(C::CreatedAt.lt(now - keep))
        .add(C::Status.is_in([
            SessionStatus::Completed,
            SessionStatus::Error,
            SessionStatus::Cancelled,
        ]));
    delete_batched::<backtest_session::Entity>(db, C::Id, old, settings.batch).await
}

pub async fn purge_invites(
    db: &DatabaseConnection,
    settings: &RetentionSettings,
    now: DateTime<Utc>,
) -> ApiResult<u64> {
    let Some(keep) = settings.invites else {
        return Ok(0);
    };
    use invite_token::Column as C;
    let cutoff = now - keep;
    let done = Condition::any()
        .add(C::UsedAt.lt(cutoff))
        .add(C::ExpiresAt.lt(cutoff));
    delete_batched::<invite_token::Entity>(db, C::Id, done, settings.batch).await
}

/// Deletes the rows matching `condition`, at most `batch` per statement, until none is left.
async fn delete_batched<E: EntityTrait>(
    db: &DatabaseConnection,
    id: E::Column,
    condition: Condition,
    batch: u64,
) -> ApiResult<u64> {
    let mut total = 0;
    loop {
        let ids = Query::select()
            .column(id)
            .from(E::default())
            .cond_where(condition.clone())
            .limit(batch)
            .to_owned();
        let deleted = E::delete_many()
            .filter(id.in_subquery(ids))
            .exec(db)
            .await?
            .rows_affected;
        total += deleted;
        if deleted < batch {
            return Ok(total);
        }
        tokio::task::yield_now().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_attempts_are_kept_at_least_for_the_throttling_window() {
        let mut config = Config::defaults();
        config.retain_login_attempts_days = 1;
        config.login_window_secs = 3 * 86_400;
        let settings = RetentionSettings::from_config(&config);
        assert_eq!(settings.login_attempts, Some(TimeDelta::days(3)));
        config.retain_login_attempts_days = 0;
        assert_eq!(RetentionSettings::from_config(&config).login_attempts, None);
    }

    #[test]
    fn defaults_keep_what_the_readme_says() {
        let settings = RetentionSettings::from_config(&Config::defaults());
        assert_eq!(settings.ended_sessions, Some(TimeDelta::days(7)));
        assert_eq!(settings.login_attempts, Some(TimeDelta::days(90)));
        assert_eq!(settings.backtest_sessions, Some(TimeDelta::days(30)));
        assert_eq!(settings.invites, Some(TimeDelta::days(30)));
        assert_eq!(settings.batch, 1000);
    }
}
