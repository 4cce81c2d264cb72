//! Login throttling from the audit table itself: recent failures per account and per IP
//! address in `authentication_loginattempt`, so every replica sees the same counts.
//!
//! - per account: failures for the email within the window since its last successful login;
//! - per IP: failures from the address within the window.
//!
//! Attempts refused by the throttle are written too (reason `throttled`) but do not count, so
//! the lock lifts when the window has passed even while an attacker keeps knocking.

use chrono::{DateTime, Utc};
use entity::login_attempt::{self, Column};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, ExprTrait, QueryFilter, QueryOrder, QuerySelect,
};

use crate::{
    error::{ApiError, ApiResult},
    services::accounts::ThrottleSettings,
};

/// Failure reasons that do not count towards the limits.
pub const NOT_COUNTED: [&str; 2] = [REASON_THROTTLED, "pending_approval"];
pub const REASON_THROTTLED: &str = "throttled";

/// Ok, or RATE_LIMITED with the seconds until one more attempt would be allowed.
pub async fn check(
    db: &DatabaseConnection,
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
    db: &DatabaseConnection,
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
