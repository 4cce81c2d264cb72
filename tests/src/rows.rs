//! Rows written straight into the database, for states the API cannot reach on its own
//! (a run left behind by a crash, a session months old).

use chrono::{NaiveDate, Utc};
use entity::backtest_session::{self, BacktestMode, SessionStatus};
use sea_orm::Set;
use serde_json::json;
use uuid::Uuid;

/// An anonymous SPY fresh-capital session in `status`, created now, with a new session id;
/// set the fields a test is about before inserting it.
pub fn backtest_session(status: SessionStatus) -> backtest_session::ActiveModel {
    let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).expect("a calendar day");
    backtest_session::ActiveModel {
        session_id: Set(Uuid::new_v4()),
        user_id: Set(None),
        mode: Set(BacktestMode::FreshCapital),
        etf: Set("SPY".into()),
        start_date: Set(day(2020, 1, 2)),
        end_date: Set(day(2020, 12, 31)),
        parameters: Set(json!({})),
        status: Set(status),
        cache_key: Set(None),
        cache_hit: Set(false),
        error_message: Set(None),
        created_at: Set(Utc::now()),
        completed_at: Set(None),
        execution_time_ms: Set(None),
        owner: Set(None),
        lease_expires_at: Set(None),
        ..Default::default()
    }
}
