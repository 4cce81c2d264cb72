//! Backtest runs: sessions, the cache, single-flight computation and progress.
//!
//! `run` validates and normalises the input, derives the cache key and looks it up (memory →
//! Redis → table). A hit writes a `completed` session with `cache_hit` at once. A miss writes
//! a `pending` session and joins the *flight* for that key, starting one if none is under
//! way: identical concurrent runs share one computation. A flight waits for a compute slot
//! (a semaphore; a bounded number of flights may wait, beyond that RATE_LIMITED), marks its
//! sessions `running`, computes on the blocking pool, stores the result, and finishes every
//! session still attached to it (`completed`/`error`), publishing progress and the terminal
//! event for each on the bus. No database transaction is open while the engine runs.
//!
//! Cancelling detaches a session from its flight (`cancelled`); a flight nobody is attached
//! to any more is told to stop at its next progress step.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex, MutexGuard, OnceLock,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use chrono::Utc;
use engine::{
    backtest::{BacktestError, BacktestInput, BacktestResult, Progress},
    market::MarketData,
};
use entity::backtest_session;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set,
    sea_query::Expr,
};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use uuid::Uuid;

use super::pagination::{Keyset, Page, PageRequest};
use crate::{
    bus::{BusEvent, BusKind, ProgressBus},
    cache::ResultCache,
    error::{ApiError, ApiResult},
};

pub type SessionRecord = backtest_session::Model;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SessionStatus {
    Pending,
    Running,
    Completed,
    Error,
    Cancelled,
}

impl SessionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SessionStatus::Pending => "pending",
            SessionStatus::Running => "running",
            SessionStatus::Completed => "completed",
            SessionStatus::Error => "error",
            SessionStatus::Cancelled => "cancelled",
        }
    }

    /// The stored text; anything unknown reads as an error.
    pub fn parse(text: &str) -> SessionStatus {
        match text {
            "pending" => SessionStatus::Pending,
            "running" => SessionStatus::Running,
            "completed" => SessionStatus::Completed,
            "cancelled" => SessionStatus::Cancelled,
            _ => SessionStatus::Error,
        }
    }

    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            SessionStatus::Completed | SessionStatus::Error | SessionStatus::Cancelled
        )
    }
}

/// A session row and, when at hand, its result.
#[derive(Clone)]
pub struct SessionView {
    pub record: SessionRecord,
    pub result: Option<Arc<BacktestResult>>,
}

impl SessionView {
    pub fn status(&self) -> SessionStatus {
        SessionStatus::parse(&self.record.status)
    }
}

/// Whether `caller` may see a session: its owner, or anyone holding the id of an anonymous one.
pub fn visible_to(session: &SessionRecord, caller: Option<i64>) -> bool {
    match session.user_id {
        None => true,
        Some(owner) => caller == Some(owner),
    }
}

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
    runner: Arc<Runner>,
}

struct Runner {
    permits: Arc<Semaphore>,
    waiting: AtomicUsize,
    computed: std::sync::atomic::AtomicU64,
    queue: usize,
    step_delay: Duration,
    flights: Mutex<HashMap<String, Arc<Flight>>>,
    by_session: Mutex<HashMap<Uuid, Arc<Flight>>>,
}

struct Participant {
    session: Uuid,
    started: Instant,
}

struct Flight {
    key: String,
    input: BacktestInput,
    cancel: AtomicBool,
    running: AtomicBool,
    participants: Mutex<Vec<Participant>>,
    /// Rows as the flight left them, so a waiting request need not read its row back.
    finished: Mutex<HashMap<Uuid, SessionRecord>>,
    outcome: OnceLock<Outcome>,
    done: watch::Sender<bool>,
}

#[derive(Clone)]
enum Outcome {
    Completed(Arc<BacktestResult>),
    Failed(String),
    Cancelled,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    match mutex.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}

fn millis(started: Instant) -> f64 {
    (started.elapsed().as_secs_f64() * 1000.0 * 1000.0).round() / 1000.0
}

impl Backtests {
    pub fn new(
        db: DatabaseConnection,
        market: Arc<MarketData>,
        cache: ResultCache,
        bus: ProgressBus,
        settings: RunnerSettings,
    ) -> Self {
        let concurrency = if settings.concurrency == 0 {
            std::thread::available_parallelism().map_or(2, |n| n.get())
        } else {
            settings.concurrency
        };
        Self {
            db,
            market,
            cache,
            bus,
            lease: super::recovery::RunLease::new(Duration::from_secs(60)),
            runner: Arc::new(Runner {
                permits: Arc::new(Semaphore::new(concurrency)),
                waiting: AtomicUsize::new(0),
                computed: std::sync::atomic::AtomicU64::new(0),
                queue: settings.queue.max(1),
                step_delay: settings.step_delay,
                flights: Mutex::new(HashMap::new()),
                by_session: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// The same runner with a lease of `duration` on the sessions it inserts.
    pub fn with_lease(mut self, duration: Duration) -> Self {
        self.lease = super::recovery::RunLease::new(duration);
        self
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
        if let Some(result) = self.cache.get(&key).await {
            let record = self
                .insert_session(
                    session_id,
                    owner,
                    &normalized,
                    &key,
                    SessionStatus::Completed,
                    Some(started),
                )
                .await?;
            return Ok(SessionView {
                record,
                result: Some(result),
            });
        }
        // With a free compute slot the run starts now: the row is written as running at once
        // instead of pending and then updated.
        let slot = self.runner.permits.clone().try_acquire_owned().ok();
        let initial = if slot.is_some() {
            SessionStatus::Running
        } else {
            SessionStatus::Pending
        };
        let record = self
            .insert_session(session_id, owner, &normalized, &key, initial, None)
            .await?;
        let participant = Participant {
            session: session_id,
            started,
        };
        let flight = match self.join(&key, &normalized, Some(participant), slot).await {
            Ok(flight) => flight,
            Err(err) => {
                self.finish_session(
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
            let record =
                if initial == SessionStatus::Pending && flight.running.load(Ordering::Acquire) {
                    self.find_session(session_id).await?.unwrap_or(record)
                } else {
                    record
                };
            return Ok(SessionView {
                record,
                result: None,
            });
        }
        let mut done = flight.done.subscribe();
        let _ = done.wait_for(|finished| *finished).await;
        let left = lock(&flight.finished).remove(&session_id);
        let record = match left {
            Some(record) => record,
            None => self
                .find_session(session_id)
                .await?
                .ok_or(ApiError::NotFound("backtest session"))?,
        };
        let result = match (SessionStatus::parse(&record.status), flight.outcome.get()) {
            (SessionStatus::Completed, Some(Outcome::Completed(result))) => Some(result.clone()),
            _ => None,
        };
        Ok(SessionView { record, result })
    }

    async fn insert_session(
        &self,
        session_id: Uuid,
        owner: Option<i64>,
        input: &BacktestInput,
        key: &str,
        status: SessionStatus,
        hit_started: Option<Instant>,
    ) -> ApiResult<SessionRecord> {
        let parameters = serde_json::to_value(input).map_err(ApiError::internal)?;
        let hit = hit_started.is_some();
        let record = backtest_session::ActiveModel {
            session_id: Set(session_id),
            user_id: Set(owner),
            mode: Set(input.mode.as_str().to_string()),
            etf: Set(input.ticker.clone()),
            start_date: Set(input.start_date),
            end_date: Set(input.end_date),
            parameters: Set(parameters),
            status: Set(status.as_str().to_string()),
            cache_key: Set(Some(key.to_string())),
            cache_hit: Set(hit),
            error_message: Set(None),
            created_at: Set(Utc::now()),
            completed_at: Set(hit.then(Utc::now)),
            execution_time_ms: Set(hit_started.map(millis)),
            owner: Set(Some(self.lease.owner.clone())),
            lease_expires_at: Set(Some(self.lease.expires_from(Utc::now()))),
            ..Default::default()
        }
        .insert(&self.db)
        .await?;
        Ok(record)
    }

    /// Joins the flight computing `key`, or starts one. A caller holding a compute `slot` has
    /// written its session as running: a flight it starts runs on that slot at once, and one
    /// it joins lets the slot go.
    async fn join(
        &self,
        key: &str,
        input: &BacktestInput,
        participant: Option<Participant>,
        slot: Option<OwnedSemaphorePermit>,
    ) -> ApiResult<Arc<Flight>> {
        let session = participant.as_ref().map(|p| p.session);
        let inserted_running = slot.is_some();
        let (flight, created) = {
            let mut flights = lock(&self.runner.flights);
            match flights.get(key) {
                Some(existing) if !existing.cancel.load(Ordering::Acquire) => {
                    if let Some(p) = participant {
                        lock(&existing.participants).push(p);
                    }
                    (existing.clone(), false)
                }
                _ => {
                    if !inserted_running
                        && self.runner.waiting.load(Ordering::Acquire) >= self.runner.queue
                    {
                        return Err(ApiError::RateLimited {
                            retry_after_secs: 1,
                        });
                    }
                    let flight = Arc::new(Flight {
                        key: key.to_string(),
                        input: input.clone(),
                        cancel: AtomicBool::new(false),
                        running: AtomicBool::new(inserted_running),
                        participants: Mutex::new(participant.into_iter().collect()),
                        finished: Mutex::new(HashMap::new()),
                        outcome: OnceLock::new(),
                        done: watch::channel(false).0,
                    });
                    if !inserted_running {
                        self.runner.waiting.fetch_add(1, Ordering::AcqRel);
                    }
                    flights.insert(key.to_string(), flight.clone());
                    (flight, true)
                }
            }
        };
        if let Some(session) = session {
            lock(&self.runner.by_session).insert(session, flight.clone());
            if inserted_running {
                self.bus.publish(BusEvent::new(session, BusKind::Running));
            } else if !created && flight.running.load(Ordering::Acquire) {
                self.mark_running(&[session]).await;
            }
        }
        if created {
            tokio::spawn(self.clone().drive(flight.clone(), slot));
        }
        Ok(flight)
    }

    async fn drive(self, flight: Arc<Flight>, slot: Option<OwnedSemaphorePermit>) {
        let started_on_slot = slot.is_some();
        let permit = match slot {
            Some(slot) => Ok(slot),
            None => {
                let permit = self.runner.permits.clone().acquire_owned().await;
                self.runner.waiting.fetch_sub(1, Ordering::AcqRel);
                permit
            }
        };
        let outcome = match permit {
            Err(_) => Outcome::Failed("the server is shutting down".into()),
            Ok(_) if flight.cancel.load(Ordering::Acquire) => Outcome::Cancelled,
            Ok(permit) => {
                // A result stored since this flight began (a rare race with a finishing one).
                if let Some(result) = self.cache.get_memory(&flight.key).await {
                    drop(permit);
                    Outcome::Completed(result)
                } else {
                    if !started_on_slot {
                        flight.running.store(true, Ordering::Release);
                        let sessions: Vec<Uuid> = lock(&flight.participants)
                            .iter()
                            .map(|p| p.session)
                            .collect();
                        self.mark_running(&sessions).await;
                    }
                    let outcome = self.compute(flight.clone()).await;
                    drop(permit);
                    if let Outcome::Completed(result) = &outcome {
                        self.cache.put(result.clone()).await;
                    }
                    outcome
                }
            }
        };
        let participants = {
            let mut flights = lock(&self.runner.flights);
            if flights
                .get(&flight.key)
                .is_some_and(|current| Arc::ptr_eq(current, &flight))
            {
                flights.remove(&flight.key);
            }
            std::mem::take(&mut *lock(&flight.participants))
        };
        {
            let mut by_session = lock(&self.runner.by_session);
            for p in &participants {
                by_session.remove(&p.session);
            }
        }
        for p in &participants {
            match &outcome {
                Outcome::Completed(result) => {
                    if let Some(record) = self
                        .finish_session(p.session, SessionStatus::Completed, p.started, None)
                        .await
                    {
                        lock(&flight.finished).insert(p.session, record);
                        let mut event = BusEvent::new(p.session, BusKind::Completed);
                        event.percent = Some(100.0);
                        event.summary = Some(Box::new(result.summary.clone()));
                        event.execution_time_ms = Some(millis(p.started));
                        self.bus.publish(event);
                    }
                }
                Outcome::Failed(message) => {
                    if let Some(record) = self
                        .finish_session(p.session, SessionStatus::Error, p.started, Some(message))
                        .await
                    {
                        lock(&flight.finished).insert(p.session, record);
                        let mut event = BusEvent::new(p.session, BusKind::Error);
                        event.message = Some(message.clone());
                        self.bus.publish(event);
                    }
                }
                Outcome::Cancelled => {
                    if let Some(record) = self
                        .finish_session(p.session, SessionStatus::Cancelled, p.started, None)
                        .await
                    {
                        lock(&flight.finished).insert(p.session, record);
                        self.bus
                            .publish(BusEvent::new(p.session, BusKind::Cancelled));
                    }
                }
            }
        }
        let _ = flight.outcome.set(outcome);
        flight.done.send_replace(true);
    }

    async fn compute(&self, flight: Arc<Flight>) -> Outcome {
        self.runner.computed.fetch_add(1, Ordering::Relaxed);
        let market = self.market.clone();
        let bus = self.bus.clone();
        let delay = self.runner.step_delay;
        let joined = tokio::task::spawn_blocking(move || {
            let mut on_progress = |progress: &Progress| {
                let sessions: Vec<Uuid> = lock(&flight.participants)
                    .iter()
                    .map(|p| p.session)
                    .collect();
                for session in sessions {
                    let mut event = BusEvent::new(session, BusKind::Progress);
                    event.percent = Some(progress.percent);
                    event.date = Some(progress.date);
                    event.equity = Some(progress.equity);
                    event.event = progress.event;
                    bus.publish(event);
                }
                if !delay.is_zero() {
                    std::thread::sleep(delay);
                }
            };
            engine::backtest::run_backtest(&market, &flight.input, &mut on_progress, &flight.cancel)
        })
        .await;
        match joined {
            Ok(Ok(result)) => Outcome::Completed(Arc::new(result)),
            Ok(Err(BacktestError::Cancelled)) => Outcome::Cancelled,
            Ok(Err(BacktestError::Input(err))) => Outcome::Failed(err.to_string()),
            Err(err) => {
                tracing::error!(error = %err, "backtest computation panicked");
                Outcome::Failed("internal error".into())
            }
        }
    }

    async fn mark_running(&self, sessions: &[Uuid]) {
        if sessions.is_empty() {
            return;
        }
        let updated = backtest_session::Entity::update_many()
            .col_expr(
                backtest_session::Column::Status,
                Expr::value(SessionStatus::Running.as_str()),
            )
            .filter(backtest_session::Column::SessionId.is_in(sessions.iter().copied()))
            .filter(backtest_session::Column::Status.eq(SessionStatus::Pending.as_str()))
            .exec(&self.db)
            .await;
        if let Err(err) = updated {
            tracing::warn!(error = %err, "could not mark backtest sessions running");
        }
        for session in sessions {
            self.bus.publish(BusEvent::new(*session, BusKind::Running));
        }
    }

    /// Moves a session that is still pending or running to a final status and returns the
    /// row; None when it had already finished (e.g. cancelled meanwhile).
    async fn finish_session(
        &self,
        session: Uuid,
        status: SessionStatus,
        started: Instant,
        message: Option<&str>,
    ) -> Option<SessionRecord> {
        let updated = backtest_session::Entity::update_many()
            .col_expr(
                backtest_session::Column::Status,
                Expr::value(status.as_str()),
            )
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
            .filter(backtest_session::Column::Status.is_in([
                SessionStatus::Pending.as_str(),
                SessionStatus::Running.as_str(),
            ]))
            .exec_with_returning(&self.db)
            .await;
        match updated {
            Ok(mut rows) => rows.pop(),
            Err(err) => {
                tracing::error!(error = %err, "could not finish a backtest session");
                None
            }
        }
    }

    async fn find_session(&self, session: Uuid) -> ApiResult<Option<SessionRecord>> {
        Ok(backtest_session::Entity::find()
            .filter(backtest_session::Column::SessionId.eq(session))
            .one(&self.db)
            .await?)
    }

    /// A session the caller may see; NOT_FOUND otherwise (the same for missing and foreign).
    pub async fn session(&self, caller: Option<i64>, session: Uuid) -> ApiResult<SessionRecord> {
        match self.find_session(session).await? {
            Some(record) if visible_to(&record, caller) => Ok(record),
            _ => Err(ApiError::NotFound("backtest session")),
        }
    }

    /// Cancels a pending or running session; a finished one is returned unchanged.
    pub async fn cancel(&self, caller: Option<i64>, session: Uuid) -> ApiResult<SessionRecord> {
        let record = self.session(caller, session).await?;
        if SessionStatus::parse(&record.status).is_terminal() {
            return Ok(record);
        }
        let started = Instant::now()
            .checked_sub(
                (Utc::now() - record.created_at)
                    .to_std()
                    .unwrap_or(Duration::ZERO),
            )
            .unwrap_or_else(Instant::now);
        if self
            .finish_session(session, SessionStatus::Cancelled, started, None)
            .await
            .is_some()
        {
            if let Some(flight) = lock(&self.runner.by_session).remove(&session) {
                let mut participants = lock(&flight.participants);
                participants.retain(|p| p.session != session);
                if participants.is_empty() {
                    flight.cancel.store(true, Ordering::Release);
                }
            }
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
            query = query.filter(backtest_session::Column::Status.eq(status.as_str()));
        }
        let query = Keyset::newest_first(backtest_session::Column::Id).select(query, page)?;
        Ok(Page::from_rows(query.all(&self.db).await?, page.first))
    }

    /// The result of a completed session: from the cache, or recomputed from the stored
    /// parameters when the cache has let it go (the result is deterministic, and the key
    /// pins the engine version and the dataset). None when the data or engine changed.
    pub async fn result_of(
        &self,
        record: &SessionRecord,
    ) -> ApiResult<Option<Arc<BacktestResult>>> {
        if SessionStatus::parse(&record.status) != SessionStatus::Completed {
            return Ok(None);
        }
        let Some(key) = record.cache_key.as_deref() else {
            return Ok(None);
        };
        if let Some(result) = self.cache.get(key).await {
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
        let mut done = flight.done.subscribe();
        let _ = done.wait_for(|finished| *finished).await;
        Ok(match flight.outcome.get() {
            Some(Outcome::Completed(result)) => Some(result.clone()),
            _ => None,
        })
    }

    /// Engine runs started by this process so far.
    pub fn computations(&self) -> u64 {
        self.runner.computed.load(Ordering::Relaxed)
    }

    /// Flights computing or waiting in this process.
    pub fn flights_in_progress(&self) -> usize {
        lock(&self.runner.flights).len()
    }
}
