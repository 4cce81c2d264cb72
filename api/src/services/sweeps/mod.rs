//! Sweeps (issue #16): a one- or two-parameter grid of backtests run as one session.
//!
//! A sweep is validated and keyed by the engine (`engine::sweep`) and written as a
//! `historical_backtest_sweepsession` row held under this process's run lease (a sweep whose
//! process died is marked interrupted by `services::recovery`, as backtests are). A result
//! already computed for the same normalised input (in memory, or a completed row with the
//! same key, written by any replica) completes the new session at once.
//!
//! Without Redis the cells run here, on a compute slot shared with backtests (the engine
//! spreads them over rayon). With Redis they are handed out in chunks through a stream that
//! every replica's worker reads ([`stream`]); this process, the originator, collects the
//! finished chunks, and computes what is left itself if Redis fails. Either way the finished
//! cell count is written back every [`PROGRESS_EVERY`] and the compact cells (each cell's
//! summary or error) when the sweep completes. Ownership is a backtest session's: an owned
//! sweep is its owner's alone, an anonymous one is visible to whoever holds its id.
//!
//! Followers (`sweepProgress`) of a sweep running in this process get its cells as they
//! finish ([`Sweeps::follow`]); followers on another replica see its progress from the row.

mod stream;

use std::{
    collections::{BTreeMap, HashMap},
    ops::Range,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use chrono::Utc;
use engine::{
    market::MarketData,
    sweep::{self, SweepCell, SweepError, SweepInput, SweepResult},
};
use entity::sweep_session::{self, SessionStatus};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set,
    sea_query::Expr,
};
use serde::Deserialize;
use tokio::sync::{broadcast, watch};
use uuid::Uuid;

use super::{
    backtests::{Backtests, runner::lock, sessions::millis},
    pagination::{Keyset, Page, PageRequest, total_count},
};
use crate::{
    error::{ApiError, ApiResult},
    metrics::Metrics,
};
use stream::{ChunkStream, Finished};

pub use sweep_session::Model as SweepRecord;

/// How often a running sweep writes its finished cell count.
const PROGRESS_EVERY: Duration = Duration::from_millis(250);
/// Batches a follower may fall behind by before it is dropped.
const EVENTS_BUFFER: usize = 256;
/// Finished sweeps kept in memory for identical requests.
const MEMORY_ENTRIES: u64 = 64;

/// A sweep session and, once completed, its cells.
#[derive(Clone)]
pub struct SweepView {
    pub record: SweepRecord,
    pub result: Option<Arc<SweepResult>>,
    /// Cells finished so far when the sweep is running in this process.
    pub live_cells: Option<usize>,
}

#[derive(Clone)]
pub struct Sweeps(Arc<Inner>);

struct Inner {
    db: DatabaseConnection,
    market: Arc<MarketData>,
    backtests: Backtests,
    metrics: Metrics,
    /// With Redis: the chunk stream shared by every replica.
    stream: Option<ChunkStream>,
    /// Sweeps running in this process: their cancel flag and finished-cell counter.
    running: Mutex<HashMap<Uuid, Arc<Running>>>,
    results: moka::future::Cache<String, Arc<SweepResult>>,
}

struct Running {
    cancel: AtomicBool,
    /// Cells finished so far, and the channel their batches go out on: one lock around both,
    /// so a follower that subscribes sees every batch either in its starting count or on the
    /// channel, never in both and never in neither.
    progress: Mutex<(usize, broadcast::Sender<SweepEvent>)>,
}

impl Running {
    fn new() -> Self {
        Self {
            cancel: AtomicBool::new(false),
            progress: Mutex::new((0, broadcast::channel(EVENTS_BUFFER).0)),
        }
    }

    fn finished(&self) -> usize {
        lock(&self.progress).0
    }

    fn publish(&self, event: SweepEvent) {
        let mut progress = lock(&self.progress);
        if let SweepEvent::Cells { cells, .. } = &event {
            progress.0 += cells.len();
        }
        // No receiver is fine: nobody is following.
        let _ = progress.1.send(event);
    }
}

/// What a follower of a running sweep receives.
#[derive(Clone, Debug)]
pub enum SweepEvent {
    /// Cells finished, in grid order from `start`.
    Cells {
        start: usize,
        cells: Arc<Vec<SweepCell>>,
    },
    /// The sweep has finished and its row says how.
    Finished,
}

/// A running sweep as a follower starts to see it.
pub struct Following {
    pub finished: usize,
    pub events: broadcast::Receiver<SweepEvent>,
}

fn visible_to(record: &SweepRecord, caller: Option<i64>) -> bool {
    match record.user_id {
        None => true,
        Some(owner) => caller == Some(owner),
    }
}

fn cell_count(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// How sweeps are spread over replicas (`MARGIN_SWEEP_*`), with Redis.
pub struct Distribution {
    pub client: redis::Client,
    pub conn: redis::aio::ConnectionManager,
    pub stream: String,
    pub claim_idle: Duration,
    pub chunk_delay: Duration,
}

impl Sweeps {
    /// Sweeps computed in this process, or, with `distribution`, by every replica reading
    /// its stream (start this process's worker with [`Sweeps::worker`]).
    pub fn new(
        db: DatabaseConnection,
        market: Arc<MarketData>,
        backtests: Backtests,
        metrics: Metrics,
        distribution: Option<Distribution>,
    ) -> Self {
        let stream = distribution.map(|d| {
            ChunkStream::new(
                d.client,
                d.conn,
                d.stream,
                d.claim_idle,
                d.chunk_delay,
                metrics.clone(),
            )
        });
        Self(Arc::new(Inner {
            db,
            market,
            backtests,
            metrics,
            stream,
            running: Mutex::new(HashMap::new()),
            results: moka::future::Cache::builder()
                .max_capacity(MEMORY_ENTRIES)
                .build(),
        }))
    }

    /// This process's share of every replica's sweeps, until shutdown (None without Redis).
    pub fn worker(&self, shutdown: watch::Receiver<bool>) -> Option<tokio::task::JoinHandle<()>> {
        let stream = self.0.stream.clone()?;
        let (market, backtests) = (self.0.market.clone(), self.0.backtests.clone());
        Some(tokio::spawn(stream.work(market, backtests, shutdown)))
    }

    /// A finished grid for `key`: from memory, else from a completed row of any replica.
    async fn known(&self, key: &str) -> Option<Arc<SweepResult>> {
        if let Some(found) = self.0.results.get(key).await {
            return Some(found);
        }
        let row = sweep_session::Entity::find()
            .filter(sweep_session::Column::CacheKey.eq(key))
            .filter(sweep_session::Column::Status.eq(SessionStatus::Completed))
            .filter(sweep_session::Column::Cells.is_not_null())
            .one(&self.0.db)
            .await;
        let record = match row {
            Ok(record) => record?,
            Err(err) => {
                tracing::debug!(error = %err, "sweep result lookup failed (a miss)");
                return None;
            }
        };
        let found = self.result_of(&record, record.cells.as_ref()?)?;
        self.0.results.insert(key.to_string(), found.clone()).await;
        Some(found)
    }

    /// Starts a sweep for `owner` (None: anonymous). With `wait`, returns once it has
    /// finished; otherwise at once, PENDING or RUNNING (COMPLETED for a known result).
    pub async fn run(
        &self,
        owner: Option<i64>,
        input: &SweepInput,
        wait: bool,
    ) -> ApiResult<SweepView> {
        let inner = &self.0;
        let started = Instant::now();
        let key = sweep::sweep_cache_key(&inner.market, input)?;
        let normalized = sweep::normalize_sweep(&inner.market, input)?;
        let sweep_id = Uuid::new_v4();
        let known = self.known(&key).await;
        let cells = cell_count(normalized.cell_count());
        let now = Utc::now();
        let row = sweep_session::ActiveModel {
            sweep_id: Set(sweep_id),
            user_id: Set(owner),
            status: Set(if known.is_some() {
                SessionStatus::Completed
            } else {
                SessionStatus::Pending
            }),
            input: Set(serde_json::to_value(&normalized).map_err(internal)?),
            cache_key: Set(Some(key.clone())),
            cell_count: Set(cells),
            completed_cells: Set(if known.is_some() { cells } else { 0 }),
            cells: Set(match &known {
                Some(result) => Some(serde_json::to_value(&result.cells).map_err(internal)?),
                None => None,
            }),
            created_at: Set(now),
            completed_at: Set(known.as_ref().map(|_| now)),
            execution_time_ms: Set(known.as_ref().map(|_| millis(started))),
            owner: Set(Some(inner.backtests.lease.owner.clone())),
            lease_expires_at: Set(Some(inner.backtests.lease.expires_from(now))),
            ..Default::default()
        };
        let record = row.insert(&inner.db).await?;
        if let Some(result) = known {
            return Ok(SweepView {
                record,
                result: Some(result),
                live_cells: None,
            });
        }
        let running = Arc::new(Running::new());
        lock(&inner.running).insert(sweep_id, running.clone());
        let task = tokio::spawn(
            self.clone()
                .drive(sweep_id, key, normalized, running, started),
        );
        if wait {
            // The sweep goes on (and is stored) even if this request goes away.
            let _ = task.await;
            return self.view(owner, sweep_id).await;
        }
        Ok(SweepView {
            record,
            result: None,
            live_cells: Some(0),
        })
    }

    async fn drive(
        self,
        sweep_id: Uuid,
        key: String,
        input: SweepInput,
        running: Arc<Running>,
        started: Instant,
    ) {
        let inner = &self.0;
        let outcome = match &inner.stream {
            Some(stream) => self.distributed(stream, sweep_id, &input, &running).await,
            None => self.local(sweep_id, input, &running).await,
        };
        match outcome {
            Ok(result) => {
                self.finish(
                    sweep_id,
                    SessionStatus::Completed,
                    Some(result.as_ref()),
                    None,
                    started,
                )
                .await;
                inner.results.insert(key, result).await;
            }
            Err(message) if running.cancel.load(Ordering::Acquire) => {
                let _ = message;
                self.finish(sweep_id, SessionStatus::Cancelled, None, None, started)
                    .await;
            }
            Err(message) => {
                self.finish(sweep_id, SessionStatus::Error, None, Some(message), started)
                    .await;
            }
        }
        lock(&inner.running).remove(&sweep_id);
        running.publish(SweepEvent::Finished);
    }

    /// Every cell here, on one compute slot, in waves over rayon.
    async fn local(
        &self,
        sweep_id: Uuid,
        input: SweepInput,
        running: &Arc<Running>,
    ) -> Result<Arc<SweepResult>, String> {
        let inner = &self.0;
        let slot = inner
            .backtests
            .compute_slot()
            .await
            .map_err(|err| err.message())?;
        self.mark_running(sweep_id).await;
        let (market, metrics, counter) =
            (inner.market.clone(), inner.metrics.clone(), running.clone());
        let mut work = tokio::task::spawn_blocking(move || {
            let mut on_cells = |start: usize, cells: &[SweepCell]| {
                metrics.sweep_cells_computed("local", cells.len());
                counter.publish(SweepEvent::Cells {
                    start,
                    cells: Arc::new(cells.to_vec()),
                });
            };
            sweep::run_sweep(&market, &input, &mut on_cells, &counter.cancel)
        });
        let mut tick = tokio::time::interval(PROGRESS_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let joined = loop {
            tokio::select! {
                joined = &mut work => break joined,
                _ = tick.tick() => self.write_progress(sweep_id, running.finished()).await,
            }
        };
        drop(slot);
        match joined {
            Ok(Ok(result)) => Ok(Arc::new(result)),
            Ok(Err(err)) => Err(sweep_message(err)),
            Err(err) => Err(computation_failed(sweep_id, &err)),
        }
    }

    /// The cells in chunks on the stream, computed by every replica's worker and collected
    /// here; if Redis fails (or nobody is left to compute them), the rest are computed here.
    async fn distributed(
        &self,
        stream: &ChunkStream,
        sweep_id: Uuid,
        input: &SweepInput,
        running: &Arc<Running>,
    ) -> Result<Arc<SweepResult>, String> {
        let mut result = SweepResult::pending(&self.0.market, input).map_err(sweep_message)?;
        let chunks = sweep::chunks(result.cell_count);
        let prepared = match stream.collector(sweep_id, PROGRESS_EVERY).await {
            Ok(collector) => stream
                .dispatch(sweep_id, input, &chunks)
                .await
                .map(|()| collector),
            Err(err) => Err(err),
        };
        let mut collector = match prepared {
            Ok(collector) => collector,
            Err(err) => {
                tracing::warn!(error = %err, %sweep_id, "cannot hand a sweep out through Redis; computing it here");
                return self.local(sweep_id, input.clone(), running).await;
            }
        };
        self.mark_running(sweep_id).await;
        let mut waiting: BTreeMap<usize, Range<usize>> = chunks
            .into_iter()
            .map(|range| (range.start, range))
            .collect();
        let (mut last_cells, mut last_write) = (Instant::now(), Instant::now());
        let outcome = loop {
            if waiting.is_empty() {
                break Ok(());
            }
            if running.cancel.load(Ordering::Acquire) {
                break Err(String::new());
            }
            let batches = match collector.next().await {
                Ok(batches) => batches,
                Err(err) => {
                    tracing::warn!(error = %err, %sweep_id, "lost the sweep's chunks in Redis; computing the rest here");
                    break self
                        .compute_here(sweep_id, input, &mut waiting, &mut result, running)
                        .await;
                }
            };
            if !batches.is_empty() {
                last_cells = Instant::now();
            }
            if let Err(message) = take_cells(batches, &mut waiting, &mut result, running) {
                break Err(message);
            }
            // This process's worker reclaims chunks whose taker died; without it, and with
            // nothing arriving, nobody may be left to compute the rest.
            if !stream.worker_ready() && last_cells.elapsed() > stream.claim_idle() {
                tracing::warn!(%sweep_id, "no worker is computing the sweep's chunks; computing the rest here");
                break self
                    .compute_here(sweep_id, input, &mut waiting, &mut result, running)
                    .await;
            }
            if last_write.elapsed() >= PROGRESS_EVERY {
                last_write = Instant::now();
                self.write_progress(sweep_id, running.finished()).await;
                if let Err(err) = stream.keep_live(sweep_id).await {
                    tracing::debug!(error = %err, %sweep_id, "could not keep a sweep live");
                }
            }
        };
        stream.close(sweep_id).await;
        outcome.map(|()| Arc::new(result))
    }

    /// Computes the chunks still `waiting` here, on one compute slot, one after another.
    async fn compute_here(
        &self,
        sweep_id: Uuid,
        input: &SweepInput,
        waiting: &mut BTreeMap<usize, Range<usize>>,
        result: &mut SweepResult,
        running: &Arc<Running>,
    ) -> Result<(), String> {
        let slot = self
            .0
            .backtests
            .compute_slot()
            .await
            .map_err(|err| err.message())?;
        let mut last_write = Instant::now();
        while let Some((_, range)) = waiting.pop_first() {
            self.0.metrics.sweep_chunk_started("local");
            let (market, input, cancel) = (self.0.market.clone(), input.clone(), running.clone());
            let cells = range.len();
            let start = range.start;
            let computed = tokio::task::spawn_blocking(move || {
                sweep::compute_chunk(&market, &input, range, &cancel.cancel)
            })
            .await
            .map_err(|err| computation_failed(sweep_id, &err))?
            .map_err(sweep_message)?;
            self.0.metrics.sweep_chunk_computed("local");
            self.0.metrics.sweep_cells_computed("local", cells);
            running.publish(SweepEvent::Cells {
                start,
                cells: Arc::new(computed.clone()),
            });
            result.fill(start, computed).map_err(sweep_message)?;
            if last_write.elapsed() >= PROGRESS_EVERY {
                last_write = Instant::now();
                self.write_progress(sweep_id, running.finished()).await;
            }
        }
        drop(slot);
        Ok(())
    }

    /// Follows a sweep running in this process: the cells finished so far and every later
    /// batch. None when it is not running here (finished, or running elsewhere).
    pub fn follow(&self, sweep_id: Uuid) -> Option<Following> {
        let running = lock(&self.0.running).get(&sweep_id)?.clone();
        let progress = lock(&running.progress);
        Some(Following {
            finished: progress.0,
            events: progress.1.subscribe(),
        })
    }

    async fn mark_running(&self, sweep_id: Uuid) {
        let update = sweep_session::Entity::update_many()
            .col_expr(
                sweep_session::Column::Status,
                Expr::value(SessionStatus::Running),
            )
            .filter(sweep_session::Column::SweepId.eq(sweep_id))
            .filter(sweep_session::Column::Status.eq(SessionStatus::Pending))
            .exec(&self.0.db)
            .await;
        if let Err(err) = update {
            tracing::warn!(error = %err, %sweep_id, "could not mark a sweep running");
        }
    }

    async fn write_progress(&self, sweep_id: Uuid, finished: usize) {
        let update = sweep_session::Entity::update_many()
            .col_expr(
                sweep_session::Column::CompletedCells,
                Expr::value(cell_count(finished)),
            )
            .filter(sweep_session::Column::SweepId.eq(sweep_id))
            .filter(sweep_session::Column::Status.eq(SessionStatus::Running))
            .exec(&self.0.db)
            .await;
        if let Err(err) = update {
            tracing::debug!(error = %err, %sweep_id, "could not write a sweep's progress");
        }
    }

    /// Writes the terminal state, unless the sweep was already finished (cancelled).
    async fn finish(
        &self,
        sweep_id: Uuid,
        status: SessionStatus,
        result: Option<&SweepResult>,
        error: Option<String>,
        started: Instant,
    ) {
        let cells = match result.map(|r| serde_json::to_value(&r.cells)) {
            Some(Ok(cells)) => Some(cells),
            Some(Err(err)) => {
                tracing::error!(error = %err, %sweep_id, "a sweep's cells do not serialise");
                None
            }
            None => None,
        };
        let mut update = sweep_session::Entity::update_many()
            .col_expr(sweep_session::Column::Status, Expr::value(status))
            .col_expr(
                sweep_session::Column::CompletedAt,
                Expr::value(Some(Utc::now())),
            )
            .col_expr(
                sweep_session::Column::ExecutionTimeMs,
                Expr::value(Some(millis(started))),
            )
            .col_expr(sweep_session::Column::ErrorMessage, Expr::value(error));
        if let Some(result) = result {
            update = update
                .col_expr(
                    sweep_session::Column::CompletedCells,
                    Expr::value(cell_count(result.completed_cells)),
                )
                .col_expr(sweep_session::Column::Cells, Expr::value(cells));
        }
        let done = update
            .filter(sweep_session::Column::SweepId.eq(sweep_id))
            .filter(
                sweep_session::Column::Status
                    .is_in([SessionStatus::Pending, SessionStatus::Running]),
            )
            .exec(&self.0.db)
            .await;
        if let Err(err) = done {
            tracing::error!(error = %err, %sweep_id, "could not store a finished sweep");
        }
    }

    /// One sweep as `caller` may see it (someone else's is NOT_FOUND, like a missing one).
    pub async fn view(&self, caller: Option<i64>, sweep_id: Uuid) -> ApiResult<SweepView> {
        let record = self.record(caller, sweep_id).await?;
        Ok(self.view_of(record))
    }

    /// The view of a row read elsewhere (a listing): its cells decoded when completed.
    pub fn view_of(&self, record: SweepRecord) -> SweepView {
        let live_cells = lock(&self.0.running)
            .get(&record.sweep_id)
            .map(|running| running.finished());
        let result = match (&record.status, &record.cells) {
            (SessionStatus::Completed, Some(cells)) => self.result_of(&record, cells),
            _ => None,
        };
        SweepView {
            record,
            result,
            live_cells,
        }
    }

    fn result_of(
        &self,
        record: &SweepRecord,
        cells: &serde_json::Value,
    ) -> Option<Arc<SweepResult>> {
        // Read in place: a grid's cells are megabytes of JSON, not worth a copy.
        let input = SweepInput::deserialize(&record.input).ok()?;
        let cells = Vec::<SweepCell>::deserialize(cells).ok()?;
        let mut result = SweepResult::pending(&self.0.market, &input).ok()?;
        result.fill(0, cells).ok()?;
        Some(Arc::new(result))
    }

    async fn record(&self, caller: Option<i64>, sweep_id: Uuid) -> ApiResult<SweepRecord> {
        match sweep_session::Entity::find()
            .filter(sweep_session::Column::SweepId.eq(sweep_id))
            .one(&self.0.db)
            .await?
        {
            Some(record) if visible_to(&record, caller) => Ok(record),
            _ => Err(ApiError::NotFound("sweep session")),
        }
    }

    /// The user's sweeps, newest first.
    pub async fn list(&self, user_id: i64, page: &PageRequest) -> ApiResult<Page<SweepRecord>> {
        let query = sweep_session::Entity::find().filter(sweep_session::Column::UserId.eq(user_id));
        let total = total_count(&self.0.db, query.clone());
        let query = Keyset::newest_first(sweep_session::Column::Id).select(query, page)?;
        Ok(Page::from_rows(query.all(&self.0.db).await?, page, total))
    }

    /// Cancels a pending or running sweep; a finished one is returned unchanged.
    pub async fn cancel(&self, caller: Option<i64>, sweep_id: Uuid) -> ApiResult<SweepView> {
        let record = self.record(caller, sweep_id).await?;
        if !record.status.is_terminal() {
            if let Some(running) = lock(&self.0.running).get(&sweep_id) {
                running.cancel.store(true, Ordering::Release);
            }
            let started = Instant::now()
                .checked_sub(
                    (Utc::now() - record.created_at)
                        .to_std()
                        .unwrap_or_default(),
                )
                .unwrap_or_else(Instant::now);
            self.finish(sweep_id, SessionStatus::Cancelled, None, None, started)
                .await;
        }
        self.view(caller, sweep_id).await
    }
}

fn internal(err: serde_json::Error) -> ApiError {
    ApiError::Internal(Arc::new(anyhow::anyhow!("sweep input: {err}")))
}

/// Puts collected chunks in (the first copy of each; a reclaimed chunk may come twice) and
/// sends them to followers. A chunk that could not be computed fails the sweep.
fn take_cells(
    batches: Vec<Finished>,
    waiting: &mut BTreeMap<usize, Range<usize>>,
    result: &mut SweepResult,
    running: &Running,
) -> Result<(), String> {
    for finished in batches {
        let (start, cells) = match finished {
            Finished::Cells { start, cells } => (start, cells),
            Finished::Failed(message) => return Err(message),
        };
        let Some(range) = waiting.get(&start) else {
            continue;
        };
        if range.len() != cells.len() {
            return Err(format!(
                "chunk {start} came back with {} cells instead of {}",
                cells.len(),
                range.len()
            ));
        }
        result.fill(start, cells.clone()).map_err(sweep_message)?;
        waiting.remove(&start);
        running.publish(SweepEvent::Cells {
            start,
            cells: Arc::new(cells),
        });
    }
    Ok(())
}

/// What a sweep that stopped says (an empty message for a cancelled one).
fn sweep_message(err: SweepError) -> String {
    match err {
        SweepError::Cancelled => String::new(),
        SweepError::Input(err) => format!("{}: {}", err.field, err.message),
    }
}

/// What a sweep whose computation panicked says: the details go to the log, not to the
/// user (a panic message can name internals).
pub(crate) fn computation_failed(sweep_id: Uuid, err: &tokio::task::JoinError) -> String {
    tracing::error!(error = %err, %sweep_id, "a sweep computation failed");
    "the sweep could not be computed".to_string()
}
