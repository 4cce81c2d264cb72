//! Usage statistics over the backtest sessions of the last N days, per mode.

use chrono::{Duration, Utc};
use entity::backtest_session;
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, FromQueryResult, QueryFilter, QueryOrder,
    QuerySelect,
};

use crate::error::{ApiError, ApiResult};

pub const MAX_DAYS: i32 = 3650;

#[derive(Debug, Clone, PartialEq)]
pub struct ModeStats {
    pub mode: String,
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

#[derive(FromQueryResult)]
struct Row {
    mode: String,
    status: String,
    cache_hit: bool,
    execution_time_ms: Option<f64>,
}

/// Linear-interpolation percentile of sorted values.
fn percentile(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let pos = q * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    let frac = pos - lo as f64;
    Some(sorted[lo] + (sorted[hi] - sorted[lo]) * frac)
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
    let mut query = backtest_session::Entity::find()
        .select_only()
        .columns([
            backtest_session::Column::Mode,
            backtest_session::Column::Status,
            backtest_session::Column::CacheHit,
            backtest_session::Column::ExecutionTimeMs,
        ])
        .filter(backtest_session::Column::CreatedAt.gte(since))
        .order_by_asc(backtest_session::Column::Mode);
    if let Some(user_id) = user_id {
        query = query.filter(backtest_session::Column::UserId.eq(user_id));
    }
    let rows = query.into_model::<Row>().all(db).await?;
    let mut out: Vec<(ModeStats, Vec<f64>)> = Vec::new();
    for mode in ["LIQUIDATION_REENTRY", "FRESH_CAPITAL", "PROFIT_THRESHOLD"] {
        out.push((
            ModeStats {
                mode: mode.to_string(),
                total_runs: 0,
                completed: 0,
                errors: 0,
                cancelled: 0,
                cache_hits: 0,
                cache_hit_rate: 0.0,
                avg_execution_ms: None,
                p95_execution_ms: None,
                max_execution_ms: None,
            },
            Vec::new(),
        ));
    }
    for row in rows {
        let Some((stats, times)) = out.iter_mut().find(|(s, _)| s.mode == row.mode) else {
            continue;
        };
        stats.total_runs += 1;
        match row.status.as_str() {
            "completed" => {
                stats.completed += 1;
                if let Some(ms) = row.execution_time_ms.filter(|v| v.is_finite()) {
                    times.push(ms);
                }
            }
            "error" => stats.errors += 1,
            "cancelled" => stats.cancelled += 1,
            _ => {}
        }
        if row.cache_hit {
            stats.cache_hits += 1;
        }
    }
    Ok(out
        .into_iter()
        .map(|(mut stats, mut times)| {
            if stats.total_runs > 0 {
                stats.cache_hit_rate = stats.cache_hits as f64 / stats.total_runs as f64;
            }
            times.sort_by(f64::total_cmp);
            if !times.is_empty() {
                stats.avg_execution_ms = Some(times.iter().sum::<f64>() / times.len() as f64);
                stats.max_execution_ms = times.last().copied();
                stats.p95_execution_ms = percentile(&times, 0.95);
            }
            stats
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::percentile;

    #[test]
    fn percentiles_interpolate() {
        assert_eq!(percentile(&[], 0.95), None);
        assert_eq!(percentile(&[5.0], 0.95), Some(5.0));
        let v: Vec<f64> = (1..=21).map(f64::from).collect();
        assert_eq!(percentile(&v, 0.95), Some(20.0));
    }
}
