//! Runs interrupted by a crash: every process has a random owner id and holds a lease on the
//! backtest sessions it inserted, renewed while they are pending or running. A pending or
//! running session with no owner (written before leases existed) or whose owner's lease has
//! lapsed belongs to a process that died: it is marked `error` with the message
//! "interrupted", and its subscribers are sent the terminal ERROR. A process never marks
//! its own sessions; another replica's live ones are left alone because it keeps renewing.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use entity::backtest_session::{self, Column};
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter, sea_query::Expr,
};
use uuid::Uuid;

use crate::{
    bus::{BusEvent, BusKind, ProgressBus},
    error::ApiResult,
    services::backtests::SessionStatus,
};

/// The error message of an interrupted session.
pub const INTERRUPTED: &str = "interrupted";

/// This process's claim on the sessions it runs.
#[derive(Debug, Clone)]
pub struct RunLease {
    /// Random per process start, so a restarted process is a new owner.
    pub owner: String,
    pub duration: Duration,
}

impl RunLease {
    pub fn new(duration: Duration) -> Self {
        Self {
            owner: Uuid::new_v4().simple().to_string(),
            duration: duration.max(Duration::from_secs(1)),
        }
    }

    /// When a lease taken or renewed at `now` lapses.
    pub fn expires_from(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        now + TimeDelta::from_std(self.duration).unwrap_or(TimeDelta::seconds(60))
    }

    /// How often to renew: a third of the lease, so two renewals can fail before it lapses.
    pub fn renew_every(&self) -> Duration {
        (self.duration / 3).max(Duration::from_millis(200))
    }
}

fn unfinished() -> Condition {
    Condition::all().add(Column::Status.is_in([SessionStatus::Pending, SessionStatus::Running]))
}

/// Extends the lease on `lease.owner`'s unfinished sessions; returns how many.
pub async fn renew(
    db: &DatabaseConnection,
    lease: &RunLease,
    now: DateTime<Utc>,
) -> ApiResult<u64> {
    let updated = backtest_session::Entity::update_many()
        .col_expr(
            Column::LeaseExpiresAt,
            Expr::value(Some(lease.expires_from(now))),
        )
        .filter(unfinished())
        .filter(Column::Owner.eq(lease.owner.as_str()))
        .exec(db)
        .await?;
    Ok(updated.rows_affected)
}

/// Marks as interrupted every unfinished session with no owner, or of another owner whose
/// lease lapsed before `now`; returns their session ids.
pub async fn reap(
    db: &DatabaseConnection,
    lease: &RunLease,
    now: DateTime<Utc>,
) -> ApiResult<Vec<Uuid>> {
    let abandoned = Condition::any().add(Column::Owner.is_null()).add(
        Condition::all()
            .add(Column::Owner.ne(lease.owner.as_str()))
            .add(
                Condition::any()
                    .add(Column::LeaseExpiresAt.is_null())
                    .add(Column::LeaseExpiresAt.lt(now)),
            ),
    );
    let rows = backtest_session::Entity::update_many()
        .col_expr(Column::Status, Expr::value(SessionStatus::Error))
        .col_expr(
            Column::ErrorMessage,
            Expr::value(Some(INTERRUPTED.to_string())),
        )
        .col_expr(Column::CompletedAt, Expr::value(Some(now)))
        .filter(unfinished())
        .filter(abandoned)
        .exec_with_returning(db)
        .await?;
    Ok(rows.into_iter().map(|row| row.session_id).collect())
}

/// One round: renews this process's lease, marks abandoned sessions interrupted and sends
/// their subscribers the terminal ERROR. Returns the interrupted sessions.
pub async fn recover(
    db: &DatabaseConnection,
    bus: &ProgressBus,
    lease: &RunLease,
) -> ApiResult<Vec<Uuid>> {
    let now = Utc::now();
    renew(db, lease, now).await?;
    let interrupted = reap(db, lease, now).await?;
    for session in &interrupted {
        let mut event = BusEvent::new(*session, BusKind::Error);
        event.message = Some(INTERRUPTED.to_string());
        bus.publish(event);
    }
    Ok(interrupted)
}
