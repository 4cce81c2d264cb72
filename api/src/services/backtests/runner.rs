//! Single-flight computation: identical concurrent runs join one *flight* per cache key.
//!
//! A flight waits for a compute slot (a semaphore; a bounded number of flights may wait,
//! beyond that RATE_LIMITED), marks its sessions `running`, computes on the blocking pool,
//! stores the result, and finishes every session still attached to it (`completed`/`error`),
//! publishing progress and the terminal event for each on the bus. No database transaction
//! is open while the engine runs. A flight nobody is attached to any more is told to stop at
//! its next progress step.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex, MutexGuard, OnceLock,
        atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use engine::backtest::{BacktestError, BacktestInput, BacktestResult, Progress};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use uuid::Uuid;

use super::{
    Backtests, RunnerSettings,
    sessions::{self, SessionRecord, SessionStatus, millis},
};
use crate::{
    bus::{BusEvent, BusKind},
    error::{ApiError, ApiResult},
};

pub(super) struct Runner {
    permits: Arc<Semaphore>,
    waiting: AtomicUsize,
    computed: AtomicU64,
    queue: usize,
    step_delay: Duration,
    flights: Mutex<HashMap<String, Arc<Flight>>>,
    by_session: Mutex<HashMap<Uuid, Arc<Flight>>>,
}

/// A session attached to a flight.
pub(super) struct Participant {
    pub session: Uuid,
    pub started: Instant,
}

pub(super) struct Flight {
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
pub(super) enum Outcome {
    Completed(Arc<BacktestResult>),
    Failed(String),
    Cancelled,
}

/// A poisoned lock still guards plain bookkeeping (maps and counters a panicking thread left
/// consistent), so it is taken rather than propagated; backtests and sweeps share this.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    match mutex.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}

impl Runner {
    pub(super) fn new(settings: RunnerSettings) -> Self {
        let concurrency = if settings.concurrency == 0 {
            std::thread::available_parallelism().map_or(2, |n| n.get())
        } else {
            settings.concurrency
        };
        Self {
            permits: Arc::new(Semaphore::new(concurrency)),
            waiting: AtomicUsize::new(0),
            computed: AtomicU64::new(0),
            queue: settings.queue.max(1),
            step_delay: settings.step_delay,
            flights: Mutex::new(HashMap::new()),
            by_session: Mutex::new(HashMap::new()),
        }
    }

    /// A compute slot if one is free now.
    pub(super) fn try_slot(&self) -> Option<OwnedSemaphorePermit> {
        self.permits.clone().try_acquire_owned().ok()
    }

    /// Waits for a compute slot, as a flight does; RATE_LIMITED when as many computations
    /// already wait as the queue holds. Other analyses (the risk lab) share the backtests'
    /// slots, so the two together never run more computations than there are slots.
    pub(super) async fn slot(&self) -> ApiResult<OwnedSemaphorePermit> {
        if let Some(slot) = self.try_slot() {
            return Ok(slot);
        }
        if self.waiting.fetch_add(1, Ordering::AcqRel) >= self.queue {
            self.waiting.fetch_sub(1, Ordering::AcqRel);
            return Err(ApiError::RateLimited {
                retry_after_secs: 1,
            });
        }
        let permit = self.permits.clone().acquire_owned().await;
        self.waiting.fetch_sub(1, Ordering::AcqRel);
        // Closed only when the server shuts down.
        permit.map_err(|_| ApiError::Unavailable(None))
    }

    /// Detaches a cancelled session from its flight; a flight left with nobody stops.
    pub(super) fn detach(&self, session: Uuid) {
        if let Some(flight) = lock(&self.by_session).remove(&session) {
            let mut participants = lock(&flight.participants);
            participants.retain(|p| p.session != session);
            if participants.is_empty() {
                flight.cancel.store(true, Ordering::Release);
            }
        }
    }

    pub(super) fn computations(&self) -> u64 {
        self.computed.load(Ordering::Relaxed)
    }

    pub(super) fn flights_in_progress(&self) -> usize {
        lock(&self.flights).len()
    }
}

impl Flight {
    pub(super) fn is_running(&self) -> bool {
        self.running.load(Ordering::Acquire)
    }

    /// Waits until the flight has finished all of its sessions.
    pub(super) async fn finished(&self) -> Option<&Outcome> {
        let mut done = self.done.subscribe();
        let _ = done.wait_for(|finished| *finished).await;
        self.outcome.get()
    }

    /// The row of `session` as the flight left it (taken: asked for once).
    pub(super) fn take_finished(&self, session: Uuid) -> Option<SessionRecord> {
        lock(&self.finished).remove(&session)
    }
}

impl Backtests {
    /// Joins the flight computing `key`, or starts one. A caller holding a compute `slot` has
    /// written its session as running: a flight it starts runs on that slot at once, and one
    /// it joins lets the slot go.
    pub(super) async fn join(
        &self,
        key: &str,
        input: &BacktestInput,
        participant: Option<Participant>,
        slot: Option<OwnedSemaphorePermit>,
    ) -> ApiResult<Arc<Flight>> {
        let runner = &self.runner;
        let session = participant.as_ref().map(|p| p.session);
        let inserted_running = slot.is_some();
        let (flight, created) = {
            let mut flights = lock(&runner.flights);
            match flights.get(key) {
                Some(existing) if !existing.cancel.load(Ordering::Acquire) => {
                    if let Some(p) = participant {
                        lock(&existing.participants).push(p);
                    }
                    (existing.clone(), false)
                }
                _ => {
                    if !inserted_running && runner.waiting.load(Ordering::Acquire) >= runner.queue {
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
                        runner.waiting.fetch_add(1, Ordering::AcqRel);
                    }
                    flights.insert(key.to_string(), flight.clone());
                    (flight, true)
                }
            }
        };
        if let Some(session) = session {
            lock(&runner.by_session).insert(session, flight.clone());
            if inserted_running {
                self.bus.publish(BusEvent::new(session, BusKind::Running));
            } else if !created && flight.is_running() {
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
            self.finish_participant(&flight, p, &outcome).await;
        }
        let _ = flight.outcome.set(outcome);
        flight.done.send_replace(true);
    }

    /// Writes the final status of one session of a finished flight and publishes it (unless
    /// the session had finished already, e.g. cancelled meanwhile).
    async fn finish_participant(&self, flight: &Flight, p: &Participant, outcome: &Outcome) {
        let (status, message) = match outcome {
            Outcome::Completed(_) => (SessionStatus::Completed, None),
            Outcome::Failed(message) => (SessionStatus::Error, Some(message.as_str())),
            Outcome::Cancelled => (SessionStatus::Cancelled, None),
        };
        let Some(record) = sessions::finish(&self.db, p.session, status, p.started, message).await
        else {
            return;
        };
        lock(&flight.finished).insert(p.session, record);
        let event = match outcome {
            Outcome::Completed(result) => {
                let mut event = BusEvent::new(p.session, BusKind::Completed);
                event.percent = Some(100.0);
                event.summary = Some(Box::new(result.summary.clone()));
                event.execution_time_ms = Some(millis(p.started));
                event
            }
            Outcome::Failed(message) => {
                let mut event = BusEvent::new(p.session, BusKind::Error);
                event.message = Some(message.clone());
                event
            }
            Outcome::Cancelled => BusEvent::new(p.session, BusKind::Cancelled),
        };
        self.bus.publish(event);
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
            Ok(Ok(mut result)) => {
                // Once, here: every later reader (the daily columns, exports, figures) then
                // sees the numbers a result read back from storage holds.
                result.daily.round_as_stored();
                Outcome::Completed(Arc::new(result))
            }
            Ok(Err(BacktestError::Cancelled)) => Outcome::Cancelled,
            Ok(Err(BacktestError::Input(err))) => Outcome::Failed(err.to_string()),
            Err(err) => {
                tracing::error!(error = %err, "backtest computation panicked");
                Outcome::Failed("internal error".into())
            }
        }
    }

    /// Marks pending sessions running and tells their subscribers.
    async fn mark_running(&self, sessions: &[Uuid]) {
        if sessions.is_empty() {
            return;
        }
        sessions::mark_running(&self.db, sessions).await;
        for session in sessions {
            self.bus.publish(BusEvent::new(*session, BusKind::Running));
        }
    }
}
