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

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;
    use sea_orm::PaginatorTrait;

    use super::*;
    use crate::services::test_db;

    fn settings() -> ThrottleSettings {
        ThrottleSettings {
            window: TimeDelta::minutes(15),
            max_failures_per_account: 3,
            max_failures_per_ip: 5,
        }
    }

    fn attempt<'a>(email: &'a str, ip: &str) -> Attempt<'a> {
        Attempt {
            email,
            ip: Some(ip.to_string()),
            user_agent: None,
        }
    }

    /// Admits and fails one attempt; Err when the throttle refused it.
    async fn wrong_password(
        db: &DatabaseConnection,
        who: &Attempt<'_>,
        now: DateTime<Utc>,
    ) -> ApiResult<()> {
        let id = admit(db, &settings(), who, now).await?;
        finish(db, id, false, Some("wrong_password"), None).await
    }

    #[tokio::test]
    async fn an_account_is_locked_after_its_limit_and_the_refusals_do_not_count() {
        let db = test_db::memory().await;
        let now = Utc::now();
        let tom = attempt("tom@example.com", "10.0.0.1");
        for _ in 0..3 {
            wrong_password(&db, &tom, now)
                .await
                .expect("within the limit");
        }
        for _ in 0..4 {
            match wrong_password(&db, &tom, now).await {
                Err(ApiError::RateLimited { retry_after_secs }) => {
                    assert!(
                        (1..=15 * 60 + 1).contains(&retry_after_secs),
                        "{retry_after_secs}"
                    );
                }
                other => panic!("{other:?}"),
            }
        }
        let throttled = login_attempt::Entity::find()
            .filter(Column::FailureReason.eq(REASON_THROTTLED))
            .count(&db)
            .await
            .expect("count");
        assert_eq!(throttled, 4, "refusals are audited");
        // Once the window has passed the lock lifts, although the refusals kept coming.
        let later = now + settings().window + TimeDelta::seconds(1);
        wrong_password(&db, &tom, later)
            .await
            .expect("the window has passed");
    }

    #[tokio::test]
    async fn a_success_starts_the_account_count_again() {
        let db = test_db::memory().await;
        let now = Utc::now();
        let ann = attempt("ann@example.com", "10.0.0.2");
        for _ in 0..2 {
            wrong_password(&db, &ann, now)
                .await
                .expect("within the limit");
        }
        let id = admit(&db, &settings(), &ann, now).await.expect("admitted");
        finish(&db, id, true, None, None).await.expect("recorded");
        let after = now + TimeDelta::seconds(1);
        for _ in 0..3 {
            wrong_password(&db, &ann, after)
                .await
                .expect("counted from the success");
        }
    }

    #[tokio::test]
    async fn an_address_is_limited_across_emails() {
        let db = test_db::memory().await;
        let now = Utc::now();
        let emails: Vec<String> = (0..7).map(|i| format!("ghost{i}@example.com")).collect();
        let mut refused = 0;
        for email in &emails {
            if wrong_password(&db, &attempt(email, "10.0.0.3"), now)
                .await
                .is_err()
            {
                refused += 1;
            }
        }
        assert_eq!(refused, 2, "5 of 7 from one address are verified");
        // Another address is not affected.
        wrong_password(&db, &attempt("ghost0@example.com", "10.0.0.4"), now)
            .await
            .expect("another address");
    }

    #[tokio::test]
    async fn an_admitted_attempt_counts_until_it_is_finished() {
        let db = test_db::memory().await;
        let now = Utc::now();
        let eve = attempt("eve@example.com", "10.0.0.5");
        // Three admitted and never finished (a process that died mid-verification).
        for _ in 0..3 {
            admit(&db, &settings(), &eve, now).await.expect("admitted");
        }
        assert!(matches!(
            admit(&db, &settings(), &eve, now).await,
            Err(ApiError::RateLimited { .. })
        ));
    }
}
