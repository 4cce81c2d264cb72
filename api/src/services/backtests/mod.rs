//! Backtest runs: the facade over sessions, the cache and single-flight computation.
//!
//! `run` validates and normalises the input, derives the cache key and looks it up (memory →
//! Redis → table). A hit writes a `completed` session with `cache_hit` at once. A miss writes
//! a `pending` session and joins the *flight* for that key, starting one if none is under
//! way ([`runner`]): identical concurrent runs share one computation.
//!
//! Cancelling detaches a session from its flight (`cancelled`); a flight nobody is attached
//! to any more is told to stop at its next progress step.

pub(crate) mod runner;
pub(crate) mod sessions;

use std::{
    future::Future,
    sync::Arc,
    time::{Duration, Instant},
};

use chrono::Utc;
use engine::{
    backtest::{BacktestInput, BacktestResult},
    market::MarketData,
};
use entity::backtest_session;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use uuid::Uuid;

use self::{
    runner::{Outcome, Participant, Runner},
    sessions::NewSession,
};
use super::pagination::{Keyset, Page, PageRequest, total_count};
use crate::{
    bus::{BusEvent, BusKind, ProgressBus},
    cache::ResultCache,
    error::{ApiError, ApiResult},
};

pub use sessions::{SessionRecord, SessionStatus, SessionView, visible_to};

#[derive(Debug, Clone)]
pub struct RunnerSettings {
    pub concurrency: usize,
    pub queue: usize,
    pub step_delay: Duration,
}

/// Everything a backtest run touches; cheap to clone.
#[derive(Clone)]
pub struct Backtests {
    pub db: DatabaseConnection,
    pub market: Arc<MarketData>,
    pub cache: ResultCache,
    pub bus: ProgressBus,
    /// This process's lease on the sessions it inserts (see `services::recovery`).
    pub lease: super::recovery::RunLease,
    /// Slots for large writes (saved results) on this process's database.
    pub(crate) write_slots: crate::db::write_slots::WriteSlots,
    runner: Arc<Runner>,
}

impl Backtests {
    pub fn new(
        db: DatabaseConnection,
        market: Arc<MarketData>,
        cache: ResultCache,
        bus: ProgressBus,
        settings: RunnerSettings,
    ) -> Self {
        Self {
            write_slots: crate::db::write_slots::WriteSlots::for_backend(db.get_database_backend()),
            db,
            market,
            cache,
            bus,
            lease: super::recovery::RunLease::new(Duration::from_secs(60)),
            runner: Arc::new(Runner::new(settings)),
        }
    }

    /// The same runner with a lease of `duration` on the sessions it inserts.
    pub fn with_lease(mut self, duration: Duration) -> Self {
        self.lease = super::recovery::RunLease::new(duration);
        self
    }

    /// A compute slot shared with backtests, for other engine work (`services::risk`).
    pub(crate) async fn compute_slot(&self) -> ApiResult<tokio::sync::OwnedSemaphorePermit> {
        self.runner.slot().await
    }

    /// Validates, normalises and keys an input.
    pub fn prepare(&self, input: &BacktestInput) -> ApiResult<(BacktestInput, String)> {
        let normalized = engine::backtest::normalize(input, &self.market)?;
        let dataset = self.market.dataset(&normalized.ticker)?;
        let key = engine::backtest::cache_key(&normalized, &dataset.fingerprint);
        Ok((normalized, key))
    }

    /// Starts a run for `owner` (None: anonymous). With `wait`, returns once the session is
    /// finished; otherwise at once (a cache hit is COMPLETED either way).
    pub async fn run(
        &self,
        owner: Option<i64>,
        input: &BacktestInput,
        wait: bool,
    ) -> ApiResult<SessionView> {
        let started = Instant::now();
        let (normalized, key) = self.prepare(input)?;
        let session_id = Uuid::new_v4();
        let new_session = |status, hit_started| NewSession {
            session_id,
            owner,
            input: &normalized,
            key: &key,
            status,
            hit_started,
        };
        if let Some(result) = self.cache.get(&key).await {
            let record = sessions::insert(
                &self.db,
                &self.lease,
                new_session(SessionStatus::Completed, Some(started)),
            )
            .await?;
            return Ok(SessionView {
                record,
                result: Some(result),
            });
        }
        // With a free compute slot the run starts now: the row is written as running at once
        // instead of pending and then updated.
        let slot = self.runner.try_slot();
        let initial = if slot.is_some() {
            SessionStatus::Running
        } else {
            SessionStatus::Pending
        };
        let record = sessions::insert(&self.db, &self.lease, new_session(initial, None)).await?;
        let participant = Participant {
            session: session_id,
            started,
        };
        let flight = match self.join(&key, &normalized, Some(participant), slot).await {
            Ok(flight) => flight,
            Err(err) => {
                sessions::finish(
                    &self.db,
                    session_id,
                    SessionStatus::Error,
                    started,
                    Some("the server is busy"),
                )
                .await;
                return Err(err);
            }
        };
        if !wait {
            let record = if initial == SessionStatus::Pending && flight.is_running() {
                sessions::find(&self.db, session_id)
                    .await?
                    .unwrap_or(record)
            } else {
                record
            };
            return Ok(SessionView {
                record,
                result: None,
            });
        }
        let outcome = flight.finished().await;
        let record = match flight.take_finished(session_id) {
            Some(record) => record,
            None => sessions::find(&self.db, session_id)
                .await?
                .ok_or(ApiError::NotFound("backtest session"))?,
        };
        let result = match (record.status, outcome) {
            (SessionStatus::Completed, Some(Outcome::Completed(result))) => Some(result.clone()),
            _ => None,
        };
        Ok(SessionView { record, result })
    }

    /// A session the caller may see; NOT_FOUND otherwise (the same for missing and foreign).
    pub async fn session(&self, caller: Option<i64>, session: Uuid) -> ApiResult<SessionRecord> {
        match sessions::find(&self.db, session).await? {
            Some(record) if visible_to(&record, caller) => Ok(record),
            _ => Err(ApiError::NotFound("backtest session")),
        }
    }

    /// Cancels a pending or running session; a finished one is returned unchanged.
    pub async fn cancel(&self, caller: Option<i64>, session: Uuid) -> ApiResult<SessionRecord> {
        let record = self.session(caller, session).await?;
        if record.status.is_terminal() {
            return Ok(record);
        }
        let started = Instant::now()
            .checked_sub(
                (Utc::now() - record.created_at)
                    .to_std()
                    .unwrap_or(Duration::ZERO),
            )
            .unwrap_or_else(Instant::now);
        if sessions::finish(&self.db, session, SessionStatus::Cancelled, started, None)
            .await
            .is_some()
        {
            self.runner.detach(session);
            self.bus.publish(BusEvent::new(session, BusKind::Cancelled));
        }
        self.session(caller, session).await
    }

    /// The caller's sessions, newest first.
    pub async fn list(
        &self,
        user_id: i64,
        status: Option<SessionStatus>,
        page: &PageRequest,
    ) -> ApiResult<Page<SessionRecord>> {
        let mut query =
            backtest_session::Entity::find().filter(backtest_session::Column::UserId.eq(user_id));
        if let Some(status) = status {
            query = query.filter(backtest_session::Column::Status.eq(status));
        }
        let total = total_count(&self.db, query.clone());
        let query = Keyset::newest_first(backtest_session::Column::Id).select(query, page)?;
        Ok(Page::from_rows(query.all(&self.db).await?, page, total))
    }

    /// The result of a session: the one at hand, or for a completed session the cached one,
    /// looked up once by its key with `lookup` (so a caller can batch lookups, e.g. through a
    /// DataLoader), and recomputed when the cache has let it go.
    pub async fn result_of_view<F, Fut>(
        &self,
        view: &SessionView,
        lookup: F,
    ) -> ApiResult<Option<Arc<BacktestResult>>>
    where
        F: FnOnce(String) -> Fut,
        Fut: Future<Output = Option<Arc<BacktestResult>>>,
    {
        if let Some(result) = &view.result {
            return Ok(Some(result.clone()));
        }
        self.result_with(&view.record, lookup).await
    }

    /// The result of a completed session: from the cache, or recomputed from the stored
    /// parameters when the cache has let it go (the result is deterministic, and the key
    /// pins the engine version and the dataset). None when the data or engine changed.
    pub async fn result_of(
        &self,
        record: &SessionRecord,
    ) -> ApiResult<Option<Arc<BacktestResult>>> {
        self.result_with(record, |key| async move { self.cache.get(&key).await })
            .await
    }

    async fn result_with<F, Fut>(
        &self,
        record: &SessionRecord,
        lookup: F,
    ) -> ApiResult<Option<Arc<BacktestResult>>>
    where
        F: FnOnce(String) -> Fut,
        Fut: Future<Output = Option<Arc<BacktestResult>>>,
    {
        if record.status != SessionStatus::Completed {
            return Ok(None);
        }
        let Some(key) = record.cache_key.as_deref() else {
            return Ok(None);
        };
        if let Some(result) = lookup(key.to_string()).await {
            return Ok(Some(result));
        }
        self.recompute(key, &record.parameters).await
    }

    /// Recomputes a result whose cache entries have expired.
    pub async fn recompute(
        &self,
        key: &str,
        parameters: &serde_json::Value,
    ) -> ApiResult<Option<Arc<BacktestResult>>> {
        let Ok(input) = serde_json::from_value::<BacktestInput>(parameters.clone()) else {
            return Ok(None);
        };
        let Ok((normalized, now_key)) = self.prepare(&input) else {
            return Ok(None);
        };
        if now_key != key {
            return Ok(None);
        }
        let flight = self.join(key, &normalized, None, None).await?;
        Ok(match flight.finished().await {
            Some(Outcome::Completed(result)) => Some(result.clone()),
            _ => None,
        })
    }

    /// Engine runs started by this process so far.
    pub fn computations(&self) -> u64 {
        self.runner.computations()
    }

    /// Flights computing or waiting in this process.
    pub fn flights_in_progress(&self) -> usize {
        self.runner.flights_in_progress()
    }
}
