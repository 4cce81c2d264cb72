//! Login throttling from the audit table itself: recent failures per account and per IP
//! address in `authentication_loginattempt`, so every replica sees the same counts.
//!
//! - per account: failures for the email within the window since its last successful login;
//! - per IP: failures from the address within the window.
//!
//! An attempt is *admitted* before its password is verified: in one transaction that is
//! serialised per email and per address (SQLite: an IMMEDIATE transaction holds the one write
//! lock; PostgreSQL: transaction-scoped advisory locks on the email, then on the address), the
//! counted failures are read and the attempt is written as `checking`, which counts as a
//! failure until [`finish`] records the outcome. So N concurrent guesses never get more than
//! the limit verified, and a process that dies mid-verification leaves a counted failure.
//!
//! Attempts refused by the throttle are written too (reason `throttled`) but do not count, so
//! the lock lifts when the window has passed even while an attacker keeps knocking.

use chrono::{DateTime, Utc};
use entity::login_attempt::{self, Column};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection,
    EntityTrait, ExprTrait, QueryFilter, QueryOrder, QuerySelect, Set, SqliteTransactionMode,
    Statement, TransactionOptions, TransactionTrait, sea_query::Expr,
};

use crate::{
    error::{ApiError, ApiResult},
    services::accounts::ThrottleSettings,
};

/// Failure reasons that do not count towards the limits.
pub const NOT_COUNTED: [&str; 2] = [REASON_THROTTLED, "pending_approval"];
pub const REASON_THROTTLED: &str = "throttled";
/// An admitted attempt whose password is being verified: counted as a failure until it is
/// finished.
pub const REASON_CHECKING: &str = "checking";

/// Who is trying to sign in, as written to the audit table.
pub struct Attempt<'a> {
    pub email: &'a str,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

impl Attempt<'_> {
    /// Writes a finished attempt (one that was never admitted: bad input).
    pub async fn record(
        &self,
        db: &impl ConnectionTrait,
        success: bool,
        reason: Option<&str>,
        user_id: Option<i64>,
    ) -> ApiResult<i64> {
        let row = login_attempt::ActiveModel {
            email: Set(self.email.chars().take(254).collect()),
            ip_address: Set(self.ip.clone()),
            user_agent: Set(self.user_agent.clone()),
            success: Set(success),
            failure_reason: Set(reason.map(str::to_owned)),
            attempted_at: Set(Utc::now()),
            user_id: Set(user_id),
            ..Default::default()
        }
        .insert(db)
        .await?;
        Ok(row.id)
    }
}

/// Admits `attempt` (Ok with its audit row, reason `checking`) or refuses it with
/// RATE_LIMITED (the row then says `throttled`).
pub async fn admit(
    db: &DatabaseConnection,
    settings: &ThrottleSettings,
    attempt: &Attempt<'_>,
    now: DateTime<Utc>,
) -> ApiResult<i64> {
    let txn = db
        .begin_with_options(TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..Default::default()
        })
        .await?;
    if txn.get_database_backend() == DatabaseBackend::Postgres {
        // Always the email first, then the address, so two admissions never wait on each
        // other in opposite orders.
        let mut keys = vec![format!("login:email:{}", attempt.email)];
        if let Some(ip) = &attempt.ip {
            keys.push(format!("login:ip:{ip}"));
        }
        for key in keys {
            txn.execute_raw(Statement::from_sql_and_values(
                DatabaseBackend::Postgres,
                "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
                [key.into()],
            ))
            .await?;
        }
    }
    let verdict = check(&txn, settings, attempt.email, attempt.ip.as_deref(), now).await;
    let reason = match verdict {
        Ok(()) => REASON_CHECKING,
        Err(_) => REASON_THROTTLED,
    };
    let id = attempt.record(&txn, false, Some(reason), None).await?;
    txn.commit().await?;
    verdict.map(|()| id)
}

/// Records the outcome of an admitted attempt.
pub async fn finish(
    db: &DatabaseConnection,
    attempt_id: i64,
    success: bool,
    reason: Option<&str>,
    user_id: Option<i64>,
) -> ApiResult<()> {
    login_attempt::Entity::update_many()
        .col_expr(Column::Success, Expr::value(success))
        .col_expr(
            Column::FailureReason,
            Expr::value(reason.map(str::to_owned)),
        )
        .col_expr(Column::UserId, Expr::value(user_id))
        .filter(Column::Id.eq(attempt_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Ok, or RATE_LIMITED with the seconds until one more attempt would be allowed.
async fn check(
    db: &impl ConnectionTrait,
    settings: &ThrottleSettings,
    email: &str,
    ip: Option<&str>,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let since = now - settings.window;
    let last_success = login_attempt::Entity::find()
        .select_only()
        .column(Column::AttemptedAt)
        .filter(Column::Email.eq(email))
        .filter(Column::Success.eq(true))
        .filter(Column::AttemptedAt.gt(since))
        .order_by_desc(Column::AttemptedAt)
        .into_tuple::<DateTime<Utc>>()
        .one(db)
        .await?;
    let account_since = last_success.map_or(since, |t| Ord::max(t, since));
    let mut retry_after = None;
    let by_account = failures(
        db,
        Column::Email.eq(email),
        account_since,
        settings.max_failures_per_account,
    )
    .await?;
    if let Some(oldest) = by_account {
        retry_after = Some(oldest + settings.window - now);
    }
    if let Some(ip) = ip {
        let by_ip = failures(
            db,
            Column::IpAddress.eq(ip),
            since,
            settings.max_failures_per_ip,
        )
        .await?;
        if let Some(oldest) = by_ip {
            let wait = oldest + settings.window - now;
            retry_after = Some(retry_after.map_or(wait, |w: chrono::TimeDelta| Ord::max(w, wait)));
        }
    }
    match retry_after {
        None => Ok(()),
        Some(wait) => Err(ApiError::RateLimited {
            retry_after_secs: Ord::max(u64::try_from(wait.num_seconds() + 1).unwrap_or(1), 1),
        }),
    }
}

/// When at least `limit` counted failures match since `since`: the time of the `limit`-th most
/// recent one (the one whose leaving the window lifts the limit).
async fn failures(
    db: &impl ConnectionTrait,
    scope: sea_orm::sea_query::SimpleExpr,
    since: DateTime<Utc>,
    limit: u64,
) -> ApiResult<Option<DateTime<Utc>>> {
    let times = login_attempt::Entity::find()
        .select_only()
        .column(Column::AttemptedAt)
        .filter(scope)
        .filter(Column::Success.eq(false))
        .filter(Column::AttemptedAt.gt(since))
        .filter(
            Column::FailureReason
                .is_null()
                .or(Column::FailureReason.is_not_in(NOT_COUNTED)),
        )
        .order_by_desc(Column::AttemptedAt)
        .limit(limit)
        .into_tuple::<DateTime<Utc>>()
        .all(db)
        .await?;
    let enough = u64::try_from(times.len()).unwrap_or(u64::MAX) >= limit;
    Ok(if enough { times.last().copied() } else { None })
}
