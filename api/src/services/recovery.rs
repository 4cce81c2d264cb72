//! Runs interrupted by a crash: every process has a random owner id and holds a lease on the
//! backtest and sweep sessions it inserted, renewed while they are pending or running. A pending or
//! running session with no owner (written before leases existed) or whose owner's lease has
//! lapsed belongs to a process that died: it is marked `error` with the message
//! "interrupted", and its subscribers are sent the terminal ERROR. A process never marks
//! its own sessions; another replica's live ones are left alone because it keeps renewing.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use entity::{backtest_session, sweep_session};
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

/// A table of runs held under leases: backtest sessions and sweep sessions.
trait Leased: EntityTrait {
    const STATUS: Self::Column;
    const OWNER: Self::Column;
    const LEASE_EXPIRES_AT: Self::Column;
    const ERROR_MESSAGE: Self::Column;
    const COMPLETED_AT: Self::Column;
    fn run_id(model: &Self::Model) -> Uuid;
}

impl Leased for backtest_session::Entity {
    const STATUS: Self::Column = backtest_session::Column::Status;
    const OWNER: Self::Column = backtest_session::Column::Owner;
    const LEASE_EXPIRES_AT: Self::Column = backtest_session::Column::LeaseExpiresAt;
    const ERROR_MESSAGE: Self::Column = backtest_session::Column::ErrorMessage;
    const COMPLETED_AT: Self::Column = backtest_session::Column::CompletedAt;
    fn run_id(model: &Self::Model) -> Uuid {
        model.session_id
    }
}

impl Leased for sweep_session::Entity {
    const STATUS: Self::Column = sweep_session::Column::Status;
    const OWNER: Self::Column = sweep_session::Column::Owner;
    const LEASE_EXPIRES_AT: Self::Column = sweep_session::Column::LeaseExpiresAt;
    const ERROR_MESSAGE: Self::Column = sweep_session::Column::ErrorMessage;
    const COMPLETED_AT: Self::Column = sweep_session::Column::CompletedAt;
    fn run_id(model: &Self::Model) -> Uuid {
        model.sweep_id
    }
}

fn unfinished<E: Leased>() -> Condition {
    Condition::all().add(E::STATUS.is_in([SessionStatus::Pending, SessionStatus::Running]))
}

/// Extends the lease on `lease.owner`'s unfinished runs of one table; returns how many.
async fn renew_in<E: Leased>(
    db: &DatabaseConnection,
    lease: &RunLease,
    now: DateTime<Utc>,
) -> ApiResult<u64> {
    let updated = E::update_many()
        .col_expr(
            E::LEASE_EXPIRES_AT,
            Expr::value(Some(lease.expires_from(now))),
        )
        .filter(unfinished::<E>())
        .filter(E::OWNER.eq(lease.owner.as_str()))
        .exec(db)
        .await?;
    Ok(updated.rows_affected)
}

/// Marks as interrupted every unfinished run of one table with no owner, or of another
/// owner whose lease lapsed before `now`; returns their ids.
async fn reap_in<E: Leased>(
    db: &DatabaseConnection,
    lease: &RunLease,
    now: DateTime<Utc>,
) -> ApiResult<Vec<Uuid>>
where
    E::Model: sea_orm::FromQueryResult + Send + Sync,
{
    let abandoned = Condition::any().add(E::OWNER.is_null()).add(
        Condition::all().add(E::OWNER.ne(lease.owner.as_str())).add(
            Condition::any()
                .add(E::LEASE_EXPIRES_AT.is_null())
                .add(E::LEASE_EXPIRES_AT.lt(now)),
        ),
    );
    let rows = E::update_many()
        .col_expr(E::STATUS, Expr::value(SessionStatus::Error))
        .col_expr(E::ERROR_MESSAGE, Expr::value(Some(INTERRUPTED.to_string())))
        .col_expr(E::COMPLETED_AT, Expr::value(Some(now)))
        .filter(unfinished::<E>())
        .filter(abandoned)
        .exec_with_returning(db)
        .await?;
    Ok(rows.iter().map(E::run_id).collect())
}

/// Extends the lease on `lease.owner`'s unfinished backtest and sweep sessions; returns how
/// many.
pub async fn renew(
    db: &DatabaseConnection,
    lease: &RunLease,
    now: DateTime<Utc>,
) -> ApiResult<u64> {
    Ok(renew_in::<backtest_session::Entity>(db, lease, now).await?
        + renew_in::<sweep_session::Entity>(db, lease, now).await?)
}

/// Marks as interrupted every unfinished backtest session with no owner, or of another
/// owner whose lease lapsed before `now`; returns their session ids.
pub async fn reap(
    db: &DatabaseConnection,
    lease: &RunLease,
    now: DateTime<Utc>,
) -> ApiResult<Vec<Uuid>> {
    reap_in::<backtest_session::Entity>(db, lease, now).await
}

/// The same for sweep sessions (their followers on other replicas read the row).
pub async fn reap_sweeps(
    db: &DatabaseConnection,
    lease: &RunLease,
    now: DateTime<Utc>,
) -> ApiResult<Vec<Uuid>> {
    reap_in::<sweep_session::Entity>(db, lease, now).await
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
    let sweeps = reap_sweeps(db, lease, now).await?;
    if !sweeps.is_empty() {
        tracing::warn!(sweeps = sweeps.len(), "marked interrupted sweeps");
    }
    for session in &interrupted {
        let mut event = BusEvent::new(*session, BusKind::Error);
        event.message = Some(INTERRUPTED.to_string());
        bus.publish(event);
    }
    Ok(interrupted)
}
