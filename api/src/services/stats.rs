//! Usage statistics over the backtest sessions of the last N days, per mode.
//!
//! Aggregated by the database in one statement (nothing per session reaches the server):
//! counts per status, cache hits, average and max execution time, and the 95th percentile as
//! `percentile_cont(0.95)`: linear interpolation between the values at ranks
//! `floor(0.95·(n−1))` and `ceil(0.95·(n−1))` of the sorted completed times. PostgreSQL has
//! the function; on SQLite the same arithmetic is done over `ROW_NUMBER()` / `COUNT(*)`
//! windows, so both databases give the same number. The `created_at` index
//! (`idx_backtestsession_created`) and `(user_id, created_at)` index bound the scan.

use chrono::{Duration, Utc};
use entity::stored_enums::BacktestMode;
use sea_orm::{
    DatabaseBackend, DatabaseConnection, FromQueryResult, Iterable, Statement, Value as DbValue,
};

use crate::error::{ApiError, ApiResult};

pub const MAX_DAYS: i32 = 3650;
const PERCENTILE: f64 = 0.95;

#[derive(Debug, Clone, PartialEq)]
pub struct ModeStats {
    pub mode: BacktestMode,
    pub total_runs: u64,
    pub completed: u64,
    pub errors: u64,
    pub cancelled: u64,
    pub cache_hits: u64,
    /// Cache hits per run (0 when there were no runs).
    pub cache_hit_rate: f64,
    pub avg_execution_ms: Option<f64>,
    pub p95_execution_ms: Option<f64>,
    pub max_execution_ms: Option<f64>,
}

impl ModeStats {
    fn empty(mode: BacktestMode) -> Self {
        Self {
            mode,
            total_runs: 0,
            completed: 0,
            errors: 0,
            cancelled: 0,
            cache_hits: 0,
            cache_hit_rate: 0.0,
            avg_execution_ms: None,
            p95_execution_ms: None,
            max_execution_ms: None,
        }
    }
}

#[derive(FromQueryResult)]
struct Row {
    mode: BacktestMode,
    total_runs: i64,
    completed: i64,
    errors: i64,
    cancelled: i64,
    cache_hits: i64,
    avg_ms: Option<f64>,
    max_ms: Option<f64>,
    p95_ms: Option<f64>,
}

const TABLE: &str = "historical_backtest_backtestsession";

/// The per-mode aggregates, common to both databases.
const AGGREGATES: &str = "mode, COUNT(*) AS total_runs, \
    SUM(CASE WHEN status = 'completed' THEN 1 ELSE 0 END) AS completed, \
    SUM(CASE WHEN status = 'error' THEN 1 ELSE 0 END) AS errors, \
    SUM(CASE WHEN status = 'cancelled' THEN 1 ELSE 0 END) AS cancelled, \
    SUM(CASE WHEN cache_hit THEN 1 ELSE 0 END) AS cache_hits, \
    AVG(CASE WHEN status = 'completed' THEN execution_time_ms END) AS avg_ms, \
    MAX(CASE WHEN status = 'completed' THEN execution_time_ms END) AS max_ms";

/// The statement for one backend; `$1` is the start of the period, `$2` the user if any.
fn statement_sql(backend: DatabaseBackend, per_user: bool) -> String {
    let scope = if per_user {
        "created_at >= $1 AND user_id = $2"
    } else {
        "created_at >= $1"
    };
    if backend == DatabaseBackend::Postgres {
        return format!(
            "SELECT {AGGREGATES}, percentile_cont({PERCENTILE}) WITHIN GROUP (ORDER BY execution_time_ms) \
             FILTER (WHERE status = 'completed') AS p95_ms \
             FROM {TABLE} WHERE {scope} GROUP BY mode"
        );
    }
    // rn: 0-based rank among the mode's completed times; pos = 0.95·(n−1); lo = floor(pos)
    // (pos ≥ 0, so CAST truncates to the floor); hi = ceil(pos); the value at lo plus the
    // fraction of the step to the value at hi, as percentile_cont computes it.
    format!(
        "SELECT a.*, p.p95_ms FROM (SELECT {AGGREGATES} FROM {TABLE} WHERE {scope} GROUP BY mode) a \
         LEFT JOIN (\
           SELECT mode, MAX(CASE WHEN rn = lo THEN v END) \
                  + (MAX(CASE WHEN rn = hi THEN v END) - MAX(CASE WHEN rn = lo THEN v END)) * MAX(pos - lo) AS p95_ms \
           FROM (SELECT mode, v, rn, pos, lo, CASE WHEN pos > lo THEN lo + 1 ELSE lo END AS hi \
                 FROM (SELECT mode, v, rn, pos, CAST(pos AS INTEGER) AS lo \
                       FROM (SELECT mode, execution_time_ms AS v, \
                                    ROW_NUMBER() OVER (PARTITION BY mode ORDER BY execution_time_ms) - 1 AS rn, \
                                    {PERCENTILE} * (COUNT(*) OVER (PARTITION BY mode) - 1) AS pos \
                             FROM {TABLE} \
                             WHERE {scope} AND status = 'completed' AND execution_time_ms IS NOT NULL))) \
           WHERE rn = lo OR rn = hi GROUP BY mode\
         ) p ON p.mode = a.mode"
    )
}

/// Per-mode numbers over the sessions created in the last `days` days, for one user or
/// (None) for everyone. Execution-time figures cover completed runs.
pub async fn by_mode(
    db: &DatabaseConnection,
    days: i32,
    user_id: Option<i64>,
) -> ApiResult<Vec<ModeStats>> {
    if !(1..=MAX_DAYS).contains(&days) {
        return Err(ApiError::input(
            "days",
            format!("must be between 1 and {MAX_DAYS}"),
        ));
    }
    let since = Utc::now() - Duration::days(i64::from(days));
    let backend = db.get_database_backend();
    let mut values: Vec<DbValue> = vec![since.into()];
    values.extend(user_id.map(DbValue::from));
    let rows = Row::find_by_statement(Statement::from_sql_and_values(
        backend,
        statement_sql(backend, user_id.is_some()),
        values,
    ))
    .all(db)
    .await?;
    Ok(BacktestMode::iter()
        .map(|mode| {
            let Some(row) = rows.iter().find(|r| r.mode == mode) else {
                return ModeStats::empty(mode);
            };
            let count = |n: i64| u64::try_from(n).unwrap_or(0);
            let total_runs = count(row.total_runs);
            let cache_hits = count(row.cache_hits);
            ModeStats {
                mode,
                total_runs,
                completed: count(row.completed),
                errors: count(row.errors),
                cancelled: count(row.cancelled),
                cache_hits,
                cache_hit_rate: if total_runs > 0 {
                    cache_hits as f64 / total_runs as f64
                } else {
                    0.0
                },
                avg_execution_ms: row.avg_ms,
                p95_execution_ms: row.p95_ms,
                max_execution_ms: row.max_ms,
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, Utc};
    use entity::backtest_session::{self, SessionStatus};
    use sea_orm::{ActiveModelTrait, Set};
    use uuid::Uuid;

    use super::*;
    use crate::services::test_db;

    async fn session(
        db: &DatabaseConnection,
        user_id: i64,
        mode: BacktestMode,
        status: SessionStatus,
        cache_hit: bool,
        ms: Option<f64>,
        days_ago: i64,
    ) {
        let day = NaiveDate::from_ymd_opt(2024, 1, 2).expect("a date");
        backtest_session::ActiveModel {
            session_id: Set(Uuid::new_v4()),
            user_id: Set(Some(user_id)),
            mode: Set(mode),
            etf: Set("SPY".into()),
            start_date: Set(day),
            end_date: Set(day),
            parameters: Set(serde_json::json!({})),
            status: Set(status),
            cache_hit: Set(cache_hit),
            created_at: Set(Utc::now() - Duration::days(days_ago)),
            execution_time_ms: Set(ms),
            ..Default::default()
        }
        .insert(db)
        .await
        .expect("a session row");
    }

    #[tokio::test]
    async fn counts_rates_and_the_interpolated_95th_percentile() {
        let db = test_db::memory().await;
        let alice = test_db::user(&db, "alice").await;
        let bob = test_db::user(&db, "bob").await;
        // Twenty completed runs of 1..=20 ms: p95 sits at rank 0.95·19 = 18.05, between 19 and 20.
        for ms in 1..=20 {
            session(
                &db,
                alice,
                BacktestMode::FreshCapital,
                SessionStatus::Completed,
                ms % 4 == 0,
                Some(f64::from(ms)),
                1,
            )
            .await;
        }
        session(
            &db,
            alice,
            BacktestMode::FreshCapital,
            SessionStatus::Error,
            false,
            None,
            1,
        )
        .await;
        session(
            &db,
            alice,
            BacktestMode::FreshCapital,
            SessionStatus::Cancelled,
            false,
            Some(9_999.0),
            1,
        )
        .await;
        // Outside the period, and another user's: counted only where they belong.
        session(
            &db,
            alice,
            BacktestMode::FreshCapital,
            SessionStatus::Completed,
            false,
            Some(50_000.0),
            40,
        )
        .await;
        session(
            &db,
            bob,
            BacktestMode::FreshCapital,
            SessionStatus::Completed,
            false,
            Some(70_000.0),
            1,
        )
        .await;

        let stats = by_mode(&db, 30, Some(alice)).await.expect("stats");
        assert_eq!(stats.len(), 3, "every mode is listed");
        let fresh = stats
            .iter()
            .find(|s| s.mode == BacktestMode::FreshCapital)
            .expect("the mode");
        assert_eq!(
            (
                fresh.total_runs,
                fresh.completed,
                fresh.errors,
                fresh.cancelled
            ),
            (22, 20, 1, 1)
        );
        assert_eq!(fresh.cache_hits, 5);
        assert!((fresh.cache_hit_rate - 5.0 / 22.0).abs() < 1e-12);
        assert_eq!(fresh.max_execution_ms, Some(20.0), "completed runs only");
        assert!((fresh.avg_execution_ms.expect("an average") - 10.5).abs() < 1e-9);
        assert!((fresh.p95_execution_ms.expect("a p95") - 19.05).abs() < 1e-9);
        let idle = stats
            .iter()
            .find(|s| s.mode == BacktestMode::ProfitThreshold)
            .expect("the mode");
        assert_eq!(
            (idle.total_runs, idle.cache_hit_rate, idle.p95_execution_ms),
            (0, 0.0, None)
        );

        let everyone = by_mode(&db, 30, None).await.expect("stats");
        let fresh = everyone
            .iter()
            .find(|s| s.mode == BacktestMode::FreshCapital)
            .expect("the mode");
        assert_eq!(fresh.total_runs, 23);
        assert_eq!(fresh.max_execution_ms, Some(70_000.0));
    }

    #[tokio::test]
    async fn the_period_is_bounded() {
        let db = test_db::memory().await;
        for days in [0, MAX_DAYS + 1] {
            match by_mode(&db, days, None).await {
                Err(ApiError::BadUserInput { field, .. }) => assert_eq!(field, "days"),
                other => panic!("{days}: {other:?}"),
            }
        }
    }
}
