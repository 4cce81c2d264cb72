//! Sweeps over replicas: chunks handed out through a Redis Stream and one consumer group.
//!
//! The process that received a sweep (its originator) writes one entry per chunk of
//! [`sweep::CHUNK_CELLS`] cells to the chunk stream (`MARGIN_SWEEP_STREAM`); an entry holds
//! the sweep id, the chunk's cell range and the normalised input, so any process computes it
//! without reading the database. Every process runs one worker in the consumer group
//! [`GROUP`]: it takes one entry at a time (`XREADGROUP … >`), computes the chunk on a
//! compute slot shared with backtests, appends the cells to the sweep's own cells stream, and
//! acknowledges and deletes the entry. Before reading new entries a worker reclaims
//! (`XAUTOCLAIM`) one that another consumer has held for longer than
//! `MARGIN_SWEEP_CLAIM_IDLE_MS`: that consumer died, or is slower than computing the chunk
//! again; the originator keeps the first copy of a chunk it receives.
//!
//! A sweep's `live` key exists while its originator still wants cells (refreshed while it
//! collects, deleted when the sweep finishes or is cancelled, gone [`LIVE_TTL_SECS`] after
//! the originator died): a worker drops the entries of a sweep that is not live.

use std::{
    ops::Range,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use engine::{
    market::MarketData,
    sweep::{self, SweepCell, SweepError, SweepInput},
};
use redis::{
    AsyncConnectionConfig, Client, RedisResult,
    aio::{ConnectionManager, MultiplexedConnection},
    streams::{StreamAutoClaimOptions, StreamAutoClaimReply, StreamId, StreamReadReply},
};
use tokio::sync::watch;
use uuid::Uuid;

use crate::{metrics::Metrics, services::backtests::Backtests};

/// The consumer group every process reads the chunk stream in.
pub(crate) const GROUP: &str = "margin-sweep-workers";
/// How long a sweep stays live without its originator refreshing it.
const LIVE_TTL_SECS: u64 = 30;
/// How long a sweep's cells stream outlives its last write (its originator deletes it when
/// the sweep ends; this only bounds what a dead originator leaves behind).
const CELLS_TTL_SECS: u64 = 3600;
/// Finished chunks the originator reads at once.
const COLLECT_BATCH: usize = 64;

/// The chunk stream of this process: the originator's side and the worker's.
#[derive(Clone)]
pub(crate) struct ChunkStream(Arc<Inner>);

struct Inner {
    client: Client,
    /// Short, non-blocking commands (shared with the rest of the process).
    conn: ConnectionManager,
    stream: String,
    /// This process's consumer name: random per start, so a restart is a new consumer.
    consumer: String,
    claim_idle: Duration,
    chunk_delay: Duration,
    metrics: Metrics,
    /// True while the worker reads the stream: chunks this process dispatched will be
    /// computed (reclaimed by this worker if their first taker died).
    worker_ready: AtomicBool,
}

/// One chunk as read from the stream.
struct Chunk {
    sweep_id: Uuid,
    range: Range<usize>,
    input: SweepInput,
}

/// Finished cells of one chunk as the originator reads them.
pub(crate) enum Finished {
    Cells {
        start: usize,
        cells: Vec<SweepCell>,
    },
    /// The chunk could not be computed at all (not one of its cells' errors).
    Failed(String),
}

impl ChunkStream {
    pub(crate) fn new(
        client: Client,
        conn: ConnectionManager,
        stream: String,
        claim_idle: Duration,
        chunk_delay: Duration,
        metrics: Metrics,
    ) -> Self {
        Self(Arc::new(Inner {
            client,
            conn,
            stream,
            consumer: Uuid::new_v4().simple().to_string(),
            claim_idle: claim_idle.max(Duration::from_millis(100)),
            chunk_delay,
            metrics,
            worker_ready: AtomicBool::new(false),
        }))
    }

    fn live_key(&self, sweep_id: Uuid) -> String {
        format!("{}:{sweep_id}:live", self.0.stream)
    }

    fn cells_key(&self, sweep_id: Uuid) -> String {
        format!("{}:{sweep_id}:cells", self.0.stream)
    }

    /// Whether this process's worker is reading the stream now.
    pub(crate) fn worker_ready(&self) -> bool {
        self.0.worker_ready.load(Ordering::Acquire)
    }

    /// How long a chunk may go unfinished before a worker reclaims it.
    pub(crate) fn claim_idle(&self) -> Duration {
        self.0.claim_idle
    }

    // --- The originator's side ---

    /// Makes the sweep live and writes one entry per chunk, in one round trip.
    pub(crate) async fn dispatch(
        &self,
        sweep_id: Uuid,
        input: &SweepInput,
        chunks: &[Range<usize>],
    ) -> RedisResult<()> {
        let text = serde_json::to_string(input).map_err(|err| {
            redis::RedisError::from((redis::ErrorKind::Client, "sweep input", err.to_string()))
        })?;
        let id = sweep_id.to_string();
        let mut pipe = redis::pipe();
        pipe.cmd("SET")
            .arg(self.live_key(sweep_id))
            .arg(1)
            .arg("EX")
            .arg(LIVE_TTL_SECS)
            .ignore();
        for range in chunks {
            pipe.cmd("XADD")
                .arg(&self.0.stream)
                .arg("*")
                .arg("sweep")
                .arg(&id)
                .arg("start")
                .arg(range.start)
                .arg("end")
                .arg(range.end)
                .arg("input")
                .arg(&text)
                .ignore();
        }
        pipe.query_async::<()>(&mut self.0.conn.clone()).await
    }

    /// Keeps the sweep live while its originator collects.
    pub(crate) async fn keep_live(&self, sweep_id: Uuid) -> RedisResult<()> {
        redis::cmd("EXPIRE")
            .arg(self.live_key(sweep_id))
            .arg(LIVE_TTL_SECS)
            .query_async::<()>(&mut self.0.conn.clone())
            .await
    }

    /// Ends the sweep: workers drop its remaining entries; its cells stream is deleted.
    pub(crate) async fn close(&self, sweep_id: Uuid) {
        let deleted = redis::cmd("DEL")
            .arg(self.live_key(sweep_id))
            .arg(self.cells_key(sweep_id))
            .query_async::<()>(&mut self.0.conn.clone())
            .await;
        if let Err(err) = deleted {
            tracing::debug!(error = %err, %sweep_id, "could not delete a finished sweep's keys");
        }
    }

    /// A reader of the sweep's finished chunks, on its own connection (its reads block).
    pub(crate) async fn collector(
        &self,
        sweep_id: Uuid,
        block: Duration,
    ) -> RedisResult<Collector> {
        let conn = blocking_connection(&self.0.client, block).await?;
        Ok(Collector {
            conn,
            key: self.cells_key(sweep_id),
            last: "0".to_string(),
            block,
        })
    }

    // --- The worker's side ---

    /// This process's worker, until shutdown: takes chunks (abandoned ones first), computes
    /// them and appends their cells to their sweep's cells stream. Reconnects with back-off.
    pub(crate) async fn work(
        self,
        market: Arc<MarketData>,
        backtests: Backtests,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let mut backoff = Duration::from_millis(200);
        loop {
            if *shutdown.borrow() {
                break;
            }
            match self.join_group().await {
                Ok(mut conn) => {
                    backoff = Duration::from_millis(200);
                    self.set_ready(true);
                    let served = tokio::select! {
                        served = self.serve(&mut conn, &market, &backtests) => served,
                        _ = shutdown.wait_for(|stop| *stop) => break,
                    };
                    self.set_ready(false);
                    if let Err(err) = served {
                        tracing::warn!(error = %err, "sweep worker lost Redis; reconnecting");
                    }
                }
                Err(err) => tracing::debug!(error = %err, "sweep worker cannot reach Redis"),
            }
            tokio::select! {
                _ = tokio::time::sleep(backoff) => {}
                _ = shutdown.wait_for(|stop| *stop) => break,
            }
            backoff = (backoff * 2).min(Duration::from_secs(5));
        }
        self.set_ready(false);
    }

    fn set_ready(&self, ready: bool) {
        self.0.worker_ready.store(ready, Ordering::Release);
        self.0.metrics.sweep_worker_ready(ready);
    }

    /// A connection for the worker's blocking reads, with the group created if it is not.
    async fn join_group(&self) -> RedisResult<MultiplexedConnection> {
        let mut conn = blocking_connection(&self.0.client, self.read_block()).await?;
        let created = redis::cmd("XGROUP")
            .arg("CREATE")
            .arg(&self.0.stream)
            .arg(GROUP)
            .arg("$")
            .arg("MKSTREAM")
            .query_async::<()>(&mut conn)
            .await;
        match created {
            Err(err) if err.code() != Some("BUSYGROUP") => Err(err),
            _ => Ok(conn),
        }
    }

    /// How long a read waits for new entries before the worker looks for abandoned ones.
    fn read_block(&self) -> Duration {
        (self.0.claim_idle / 2).clamp(Duration::from_millis(50), Duration::from_secs(1))
    }

    async fn serve(
        &self,
        conn: &mut MultiplexedConnection,
        market: &Arc<MarketData>,
        backtests: &Backtests,
    ) -> RedisResult<()> {
        loop {
            let (entry, source) = match self.reclaim(conn).await? {
                Some(entry) => (entry, "reclaimed"),
                None => match self.read(conn).await? {
                    Some(entry) => (entry, "stream"),
                    None => continue,
                },
            };
            self.handle(conn, entry, source, market, backtests).await?;
        }
    }

    /// One entry held by another consumer for longer than the claim timeout, now ours.
    async fn reclaim(&self, conn: &mut MultiplexedConnection) -> RedisResult<Option<StreamId>> {
        let idle = u64::try_from(self.0.claim_idle.as_millis()).unwrap_or(u64::MAX);
        let reply: StreamAutoClaimReply = redis::cmd("XAUTOCLAIM")
            .arg(&self.0.stream)
            .arg(GROUP)
            .arg(&self.0.consumer)
            .arg(idle)
            .arg("0-0")
            .arg(StreamAutoClaimOptions::default().count(1))
            .query_async(conn)
            .await?;
        Ok(reply.claimed.into_iter().next())
    }

    /// The next entry nobody has taken, waiting up to the read block for one.
    async fn read(&self, conn: &mut MultiplexedConnection) -> RedisResult<Option<StreamId>> {
        let block = u64::try_from(self.read_block().as_millis()).unwrap_or(1000);
        let reply: Option<StreamReadReply> = redis::cmd("XREADGROUP")
            .arg("GROUP")
            .arg(GROUP)
            .arg(&self.0.consumer)
            .arg("COUNT")
            .arg(1)
            .arg("BLOCK")
            .arg(block)
            .arg("STREAMS")
            .arg(&self.0.stream)
            .arg(">")
            .query_async(conn)
            .await?;
        Ok(reply.and_then(|reply| reply.keys.into_iter().flat_map(|key| key.ids).next()))
    }

    async fn handle(
        &self,
        conn: &mut MultiplexedConnection,
        entry: StreamId,
        source: &'static str,
        market: &Arc<MarketData>,
        backtests: &Backtests,
    ) -> RedisResult<()> {
        let chunk = match parse_chunk(&entry) {
            Ok(chunk) => chunk,
            Err(reason) => {
                tracing::warn!(entry = %entry.id, reason, "dropping a malformed sweep chunk");
                return self.done(conn, &entry.id, None).await;
            }
        };
        let live: bool = redis::cmd("EXISTS")
            .arg(self.live_key(chunk.sweep_id))
            .query_async(conn)
            .await?;
        if !live {
            return self.done(conn, &entry.id, None).await;
        }
        // A full compute queue leaves the entry with us: it is reclaimed after the claim
        // timeout, by whichever worker has room then.
        let Ok(slot) = backtests.compute_slot().await else {
            return Ok(());
        };
        self.0.metrics.sweep_chunk_started(source);
        if !self.0.chunk_delay.is_zero() {
            tokio::time::sleep(self.0.chunk_delay).await;
        }
        let (sweep_id, range, cells) = (chunk.sweep_id, chunk.range.clone(), chunk.range.len());
        let market = market.clone();
        let computed = tokio::task::spawn_blocking(move || {
            sweep::compute_chunk(&market, &chunk.input, chunk.range, &AtomicBool::new(false))
        })
        .await;
        drop(slot);
        let finished = match computed {
            Ok(Ok(cells)) => Ok(cells),
            Ok(Err(SweepError::Input(err))) => Err(format!("{}: {}", err.field, err.message)),
            Ok(Err(SweepError::Cancelled)) => Err("cancelled".to_string()),
            Err(err) => Err(super::computation_failed(sweep_id, &err)),
        };
        let written = match &finished {
            Ok(cells) => serde_json::to_string(cells).map_err(|err| err.to_string()),
            Err(message) => Err(message.clone()),
        };
        self.done(conn, &entry.id, Some((sweep_id, range.start, written)))
            .await?;
        if finished.is_ok() {
            self.0.metrics.sweep_chunk_computed(source);
            self.0.metrics.sweep_cells_computed(source, cells);
        }
        Ok(())
    }

    /// Appends a chunk's outcome to its sweep's cells stream (when there is one), then
    /// acknowledges and deletes the entry, in one round trip.
    async fn done(
        &self,
        conn: &mut MultiplexedConnection,
        entry: &str,
        outcome: Option<(Uuid, usize, Result<String, String>)>,
    ) -> RedisResult<()> {
        let mut pipe = redis::pipe();
        if let Some((sweep_id, start, outcome)) = outcome {
            let key = self.cells_key(sweep_id);
            let (field, text) = match outcome {
                Ok(cells) => ("cells", cells),
                Err(message) => ("error", message),
            };
            pipe.cmd("XADD")
                .arg(&key)
                .arg("*")
                .arg("start")
                .arg(start)
                .arg(field)
                .arg(text)
                .ignore();
            pipe.cmd("EXPIRE").arg(&key).arg(CELLS_TTL_SECS).ignore();
        }
        pipe.cmd("XACK")
            .arg(&self.0.stream)
            .arg(GROUP)
            .arg(entry)
            .ignore();
        pipe.cmd("XDEL").arg(&self.0.stream).arg(entry).ignore();
        pipe.query_async::<()>(conn).await
    }
}

/// Reads the finished chunks of one sweep, in the order workers finished them.
pub(crate) struct Collector {
    conn: MultiplexedConnection,
    key: String,
    last: String,
    block: Duration,
}

impl Collector {
    /// Chunks finished since the last call, waiting up to the block time for the first.
    pub(crate) async fn next(&mut self) -> RedisResult<Vec<Finished>> {
        let block = u64::try_from(self.block.as_millis()).unwrap_or(250);
        let reply: Option<StreamReadReply> = redis::cmd("XREAD")
            .arg("COUNT")
            .arg(COLLECT_BATCH)
            .arg("BLOCK")
            .arg(block)
            .arg("STREAMS")
            .arg(&self.key)
            .arg(&self.last)
            .query_async(&mut self.conn)
            .await?;
        let entries = reply.map(|reply| reply.keys).unwrap_or_default();
        let mut finished = Vec::new();
        for entry in entries.into_iter().flat_map(|key| key.ids) {
            self.last.clone_from(&entry.id);
            finished.push(parse_finished(&entry));
        }
        Ok(finished)
    }
}

fn parse_chunk(entry: &StreamId) -> Result<Chunk, &'static str> {
    let sweep_id = entry
        .get::<String>("sweep")
        .and_then(|id| Uuid::parse_str(&id).ok())
        .ok_or("no sweep id")?;
    let start = entry.get::<usize>("start").ok_or("no start")?;
    let end = entry.get::<usize>("end").ok_or("no end")?;
    if end < start {
        return Err("an empty range");
    }
    let input = entry
        .get::<String>("input")
        .and_then(|text| serde_json::from_str(&text).ok())
        .ok_or("no input")?;
    Ok(Chunk {
        sweep_id,
        range: start..end,
        input,
    })
}

fn parse_finished(entry: &StreamId) -> Finished {
    let Some(start) = entry.get::<usize>("start") else {
        return Finished::Failed("a finished chunk without its start".to_string());
    };
    if let Some(message) = entry.get::<String>("error") {
        return Finished::Failed(message);
    }
    match entry
        .get::<String>("cells")
        .map(|text| serde_json::from_str::<Vec<SweepCell>>(&text))
    {
        Some(Ok(cells)) => Finished::Cells { start, cells },
        Some(Err(err)) => Finished::Failed(format!("unreadable cells: {err}")),
        None => Finished::Failed("a finished chunk without cells".to_string()),
    }
}

/// A connection of its own for reads that block up to `block` (a shared multiplexed
/// connection would stall every other command behind them).
async fn blocking_connection(
    client: &Client,
    block: Duration,
) -> RedisResult<MultiplexedConnection> {
    let config = AsyncConnectionConfig::new()
        .set_connection_timeout(Some(Duration::from_secs(2)))
        .set_response_timeout(Some(block + Duration::from_secs(2)));
    client
        .get_multiplexed_async_connection_with_config(&config)
        .await
}
