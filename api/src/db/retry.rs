//! Running a whole transaction again when it lost a race (serialization failure, deadlock,
//! SQLite busy): such a failure rolls the transaction back, so a new attempt starts from
//! nothing. Only for operations whose every statement is inside the transaction.

use std::{future::Future, time::Duration};

use rand::Rng;

use crate::error::{ApiError, ApiResult};

/// Attempts in all (the first and up to three retries).
pub const ATTEMPTS: u32 = 4;

/// Runs `attempt` until it succeeds, fails with anything but contention, or [`ATTEMPTS`] ran.
/// Waits a few milliseconds (growing, jittered) between attempts so the racers spread out.
pub async fn transaction<T, F, Fut>(mut attempt: F) -> ApiResult<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ApiResult<T>>,
{
    let mut tried = 1;
    loop {
        match attempt().await {
            Err(err) if tried < ATTEMPTS && is_contention(&err) => {
                let base = 5u64 << tried;
                let pause = base + rand::rng().random_range(0..=base);
                tracing::debug!(
                    attempt = tried,
                    pause_ms = pause,
                    "transaction lost a race; retrying"
                );
                tokio::time::sleep(Duration::from_millis(pause)).await;
                tried += 1;
            }
            other => return other,
        }
    }
}

fn is_contention(err: &ApiError) -> bool {
    matches!(err, ApiError::Unavailable(Some(db)) if super::errors::is_contention(db))
}

#[cfg(test)]
mod tests {
    use std::sync::{
        Mutex,
        atomic::{AtomicU32, Ordering},
    };

    use sea_orm::{
        ConnectOptions, ConnectionTrait, Database, DatabaseConnection, TransactionTrait,
    };

    use super::*;

    /// Two pools on one SQLite file: `holder` (the server's settings) and `racer`, whose busy
    /// timeout is zero so a write fails with SQLITE_BUSY at once while `holder` writes.
    async fn two_writers() -> (DatabaseConnection, DatabaseConnection) {
        let file = std::env::temp_dir().join(format!("retry-{}.sqlite", uuid::Uuid::new_v4()));
        let url = format!("sqlite://{}?mode=rwc", file.display());
        let holder = crate::db::connect(&url).await.unwrap();
        holder
            .execute_unprepared("CREATE TABLE t (x INTEGER)")
            .await
            .unwrap();
        let mut options = ConnectOptions::new(url);
        options.map_sqlx_sqlite_opts(|o| o.busy_timeout(Duration::ZERO));
        (holder, Database::connect(options).await.unwrap())
    }

    #[tokio::test]
    async fn a_transaction_that_lost_a_race_runs_again() {
        let (holder, racer) = two_writers().await;
        let lock = holder.begin().await.unwrap();
        lock.execute_unprepared("INSERT INTO t VALUES (1)")
            .await
            .unwrap();
        let lock = Mutex::new(Some(lock));
        let calls = AtomicU32::new(0);
        let result = transaction(|| async {
            if calls.fetch_add(1, Ordering::SeqCst) == 1 {
                let held = lock.lock().unwrap().take();
                if let Some(held) = held {
                    held.commit().await?;
                }
            }
            let txn = racer.begin().await?;
            txn.execute_unprepared("INSERT INTO t VALUES (2)").await?;
            txn.commit().await?;
            Ok(())
        })
        .await;
        assert!(result.is_ok(), "{result:?}");
        assert_eq!(calls.load(Ordering::SeqCst), 2, "lost once, then won");
    }

    #[tokio::test]
    async fn a_race_lost_every_time_is_unavailable_after_the_last_attempt() {
        let (holder, racer) = two_writers().await;
        let lock = holder.begin().await.unwrap();
        lock.execute_unprepared("INSERT INTO t VALUES (1)")
            .await
            .unwrap();
        let calls = AtomicU32::new(0);
        let result = transaction(|| async {
            calls.fetch_add(1, Ordering::SeqCst);
            racer.execute_unprepared("INSERT INTO t VALUES (2)").await?;
            Ok(())
        })
        .await;
        assert_eq!(calls.load(Ordering::SeqCst), ATTEMPTS);
        let err = result.unwrap_err();
        assert_eq!(err.code(), "SERVICE_UNAVAILABLE");
        lock.rollback().await.unwrap();
    }

    #[tokio::test]
    async fn other_errors_are_not_retried() {
        let calls = AtomicU32::new(0);
        let result: ApiResult<()> = transaction(|| async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(ApiError::NotFound("x"))
        })
        .await;
        assert!(matches!(result, Err(ApiError::NotFound(_))));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        let result: ApiResult<()> = transaction(|| async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(ApiError::Unavailable(None))
        })
        .await;
        assert!(matches!(result, Err(ApiError::Unavailable(None))));
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }
}
