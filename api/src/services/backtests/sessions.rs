//! The `backtest_session` rows: their status, who may see them, and the writes a run makes
//! (insert, pending → running, → a final status).

use std::{sync::Arc, time::Instant};

use chrono::Utc;
use engine::backtest::{BacktestInput, BacktestResult};
use entity::backtest_session;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set,
    sea_query::Expr,
};
use uuid::Uuid;

use crate::{
    error::{ApiError, ApiResult},
    services::recovery::RunLease,
};

pub type SessionRecord = backtest_session::Model;

pub use entity::backtest_session::SessionStatus;

/// A session row and, when at hand, its result.
#[derive(Clone)]
pub struct SessionView {
    pub record: SessionRecord,
    pub result: Option<Arc<BacktestResult>>,
}

impl SessionView {
    pub fn status(&self) -> SessionStatus {
        self.record.status
    }
}

/// Whether `caller` may see a session: its owner, or anyone holding the id of an anonymous one.
pub fn visible_to(session: &SessionRecord, caller: Option<i64>) -> bool {
    match session.user_id {
        None => true,
        Some(owner) => caller == Some(owner),
    }
}

/// Milliseconds since `started`, to the microsecond.
pub(crate) fn millis(started: Instant) -> f64 {
    (started.elapsed().as_secs_f64() * 1000.0 * 1000.0).round() / 1000.0
}

/// A session row about to be written.
pub(super) struct NewSession<'a> {
    pub session_id: Uuid,
    pub owner: Option<i64>,
    pub input: &'a BacktestInput,
    pub key: &'a str,
    pub status: SessionStatus,
    /// Set for a cache hit: the row is written finished, timed from this instant.
    pub hit_started: Option<Instant>,
}

pub(super) async fn insert(
    db: &DatabaseConnection,
    lease: &RunLease,
    new: NewSession<'_>,
) -> ApiResult<SessionRecord> {
    let parameters = serde_json::to_value(new.input).map_err(ApiError::internal)?;
    let hit = new.hit_started.is_some();
    let record = backtest_session::ActiveModel {
        session_id: Set(new.session_id),
        user_id: Set(new.owner),
        mode: Set(new.input.mode.into()),
        etf: Set(new.input.ticker.clone()),
        start_date: Set(new.input.start_date),
        end_date: Set(new.input.end_date),
        parameters: Set(parameters),
        status: Set(new.status),
        cache_key: Set(Some(new.key.to_string())),
        cache_hit: Set(hit),
        error_message: Set(None),
        created_at: Set(Utc::now()),
        completed_at: Set(hit.then(Utc::now)),
        execution_time_ms: Set(new.hit_started.map(millis)),
        owner: Set(Some(lease.owner.clone())),
        lease_expires_at: Set(Some(lease.expires_from(Utc::now()))),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(record)
}

/// Moves the sessions that are still pending to running (a failure is logged: the status
/// catches up when the session finishes).
pub(super) async fn mark_running(db: &DatabaseConnection, sessions: &[Uuid]) {
    let updated = backtest_session::Entity::update_many()
        .col_expr(
            backtest_session::Column::Status,
            Expr::value(SessionStatus::Running),
        )
        .filter(backtest_session::Column::SessionId.is_in(sessions.iter().copied()))
        .filter(backtest_session::Column::Status.eq(SessionStatus::Pending))
        .exec(db)
        .await;
    if let Err(err) = updated {
        tracing::warn!(error = %err, "could not mark backtest sessions running");
    }
}

/// Moves a session that is still pending or running to a final status and returns the
/// row; None when it had already finished (e.g. cancelled meanwhile).
pub(super) async fn finish(
    db: &DatabaseConnection,
    session: Uuid,
    status: SessionStatus,
    started: Instant,
    message: Option<&str>,
) -> Option<SessionRecord> {
    let updated = backtest_session::Entity::update_many()
        .col_expr(backtest_session::Column::Status, Expr::value(status))
        .col_expr(
            backtest_session::Column::CompletedAt,
            Expr::value(Some(Utc::now())),
        )
        .col_expr(
            backtest_session::Column::ExecutionTimeMs,
            Expr::value(Some(millis(started))),
        )
        .col_expr(
            backtest_session::Column::ErrorMessage,
            Expr::value(message.map(str::to_owned)),
        )
        .filter(backtest_session::Column::SessionId.eq(session))
        .filter(
            backtest_session::Column::Status
                .is_in([SessionStatus::Pending, SessionStatus::Running]),
        )
        .exec_with_returning(db)
        .await;
    match updated {
        Ok(mut rows) => rows.pop(),
        Err(err) => {
            tracing::error!(error = %err, "could not finish a backtest session");
            None
        }
    }
}

pub(super) async fn find(
    db: &DatabaseConnection,
    session: Uuid,
) -> ApiResult<Option<SessionRecord>> {
    Ok(backtest_session::Entity::find()
        .filter(backtest_session::Column::SessionId.eq(session))
        .one(db)
        .await?)
}
