//! Prometheus metrics, exposed as text on /metrics.

use std::{
    collections::HashSet,
    sync::{Arc, Mutex},
};

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry, TextEncoder,
};

/// One open socket or running subscription in a gauge, for as long as it lives (dropped with
/// the connection's task or the operation's stream, however they end).
pub struct Open {
    gauge: IntGauge,
}

impl Drop for Open {
    fn drop(&mut self) {
        self.gauge.dec();
    }
}

/// Distinct `operation` labels kept by default (`MARGIN_METRICS_MAX_OPERATIONS`).
pub const DEFAULT_MAX_OPERATIONS: usize = 200;

#[derive(Clone)]
pub struct Metrics(Arc<Inner>);

struct Inner {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    cache: IntCounterVec,
    cache_writes: IntCounterVec,
    cache_write_queue: IntGauge,
    retention_deleted: IntCounterVec,
    ws_connections: IntGauge,
    ws_subscriptions: IntGauge,
    sweep_chunks: IntCounterVec,
    sweep_cells: IntCounterVec,
    sweep_worker_ready: IntGauge,
    /// The `operation` label values seen so far, at most `max_operations`: a client choosing
    /// operation names cannot grow the metric set without bound.
    operations: Mutex<HashSet<String>>,
    max_operations: usize,
}

/// The label of the operations past the bound.
pub const OTHER_OPERATIONS: &str = "other";

impl Metrics {
    /// Metrics with at most [`DEFAULT_MAX_OPERATIONS`] distinct operation labels.
    pub fn new() -> Self {
        Self::with_max_operations(DEFAULT_MAX_OPERATIONS)
    }

    pub fn with_max_operations(max_operations: usize) -> Self {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new(
                "graphql_requests_total",
                "GraphQL requests by operation and outcome",
            ),
            &["operation", "outcome"],
        )
        .expect("static metric definition");
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "graphql_request_duration_seconds",
                "GraphQL request latency by operation",
            )
            .buckets(vec![
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
            ]),
            &["operation"],
        )
        .expect("static metric definition");
        let cache = IntCounterVec::new(
            Opts::new(
                "backtest_cache_lookups_total",
                "Backtest cache lookups by layer and result",
            ),
            &["layer", "result"],
        )
        .expect("static metric definition");
        let cache_writes = IntCounterVec::new(
            Opts::new(
                "backtest_cache_writes_total",
                "Results handed to the background cache writer: queued, or skipped when its \
                 queue was full (kept in memory only)",
            ),
            &["result"],
        )
        .expect("static metric definition");
        let cache_write_queue = IntGauge::new(
            "backtest_cache_write_queue",
            "Results queued for the background cache writer or being written by it",
        )
        .expect("static metric definition");
        let retention_deleted = IntCounterVec::new(
            Opts::new(
                "retention_deleted_total",
                "Rows deleted by the retention purge, by table",
            ),
            &["table"],
        )
        .expect("static metric definition");
        let ws_connections = IntGauge::new(
            "graphql_ws_connections",
            "Open subscription sockets (initialised or not)",
        )
        .expect("static metric definition");
        let ws_subscriptions = IntGauge::new(
            "graphql_ws_subscriptions",
            "Operations running on subscription sockets",
        )
        .expect("static metric definition");
        let sweep_chunks = IntCounterVec::new(
            Opts::new(
                "sweep_chunks_total",
                "Sweep chunks this process took (`started`, by how it got them: `stream` from \
                 the chunk stream, `reclaimed` from a consumer that died, `local` without \
                 Redis) and finished (`computed`)",
            ),
            &["source", "stage"],
        )
        .expect("static metric definition");
        let sweep_cells = IntCounterVec::new(
            Opts::new(
                "sweep_cells_computed_total",
                "Sweep cells this process computed, by where the chunk came from",
            ),
            &["source"],
        )
        .expect("static metric definition");
        let sweep_worker_ready = IntGauge::new(
            "sweep_worker_ready",
            "1 while this process reads the sweep chunk stream (its consumer is in the group)",
        )
        .expect("static metric definition");
        for collector in [
            Box::new(ws_connections.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(sweep_chunks.clone()),
            Box::new(sweep_cells.clone()),
            Box::new(sweep_worker_ready.clone()),
            Box::new(ws_subscriptions.clone()),
            Box::new(requests.clone()),
            Box::new(latency.clone()),
            Box::new(cache.clone()),
            Box::new(cache_writes.clone()),
            Box::new(cache_write_queue.clone()),
            Box::new(retention_deleted.clone()),
        ] {
            registry
                .register(collector)
                .expect("metric names are unique");
        }
        // CPU seconds, resident memory, open descriptors and threads of this process.
        #[cfg(target_os = "linux")]
        registry
            .register(Box::new(
                prometheus::process_collector::ProcessCollector::for_self(),
            ))
            .expect("metric names are unique");
        Self(Arc::new(Inner {
            registry,
            requests,
            latency,
            cache,
            cache_writes,
            cache_write_queue,
            retention_deleted,
            ws_connections,
            ws_subscriptions,
            sweep_chunks,
            sweep_cells,
            sweep_worker_ready,
            operations: Mutex::new(HashSet::new()),
            max_operations,
        }))
    }

    /// `operation` as a label: itself while fewer than the bound have been seen, else
    /// [`OTHER_OPERATIONS`].
    fn operation_label<'a>(&self, operation: &'a str) -> &'a str {
        let Ok(mut seen) = self.0.operations.lock() else {
            return OTHER_OPERATIONS;
        };
        if seen.contains(operation) {
            return operation;
        }
        if seen.len() < self.0.max_operations {
            seen.insert(operation.to_string());
            operation
        } else {
            OTHER_OPERATIONS
        }
    }

    pub fn observe_request(&self, operation: &str, outcome: &str, seconds: f64) {
        let operation = self.operation_label(operation);
        self.0
            .requests
            .with_label_values(&[operation, outcome])
            .inc();
        self.0
            .latency
            .with_label_values(&[operation])
            .observe(seconds);
    }

    pub fn cache_lookup(&self, layer: &str, hit: bool) {
        let result = if hit { "hit" } else { "miss" };
        self.0.cache.with_label_values(&[layer, result]).inc();
    }

    pub fn cache_write(&self, queued: bool) {
        let result = if queued { "queued" } else { "skipped" };
        self.0.cache_writes.with_label_values(&[result]).inc();
        if queued {
            self.0.cache_write_queue.inc();
        }
    }

    /// The background writer finished (or gave up on) one queued result.
    pub fn cache_write_done(&self) {
        self.0.cache_write_queue.dec();
    }

    /// The retention purge deleted `rows` rows of `table`.
    pub fn retention_deleted(&self, table: &str, rows: u64) {
        self.0
            .retention_deleted
            .with_label_values(&[table])
            .inc_by(rows);
    }

    /// Counts a subscription socket as open until the returned guard is dropped.
    pub fn socket_open(&self) -> Open {
        self.0.ws_connections.inc();
        Open {
            gauge: self.0.ws_connections.clone(),
        }
    }

    /// Counts an operation on a socket as running until the returned guard is dropped.
    pub fn subscription_running(&self) -> Open {
        self.0.ws_subscriptions.inc();
        Open {
            gauge: self.0.ws_subscriptions.clone(),
        }
    }

    /// This process took a sweep chunk from `source` (`stream`, `reclaimed` or `local`).
    pub fn sweep_chunk_started(&self, source: &str) {
        self.0
            .sweep_chunks
            .with_label_values(&[source, "started"])
            .inc();
    }

    /// This process finished a sweep chunk taken from `source`.
    pub fn sweep_chunk_computed(&self, source: &str) {
        self.0
            .sweep_chunks
            .with_label_values(&[source, "computed"])
            .inc();
    }

    /// This process computed `cells` sweep cells of chunks taken from `source`.
    pub fn sweep_cells_computed(&self, source: &str, cells: usize) {
        self.0
            .sweep_cells
            .with_label_values(&[source])
            .inc_by(cells as u64);
    }

    /// Whether this process's sweep worker is reading the chunk stream.
    pub fn sweep_worker_ready(&self, ready: bool) {
        self.0.sweep_worker_ready.set(i64::from(ready));
    }

    pub fn render(&self) -> String {
        let mut buffer = Vec::new();
        // Encoding into a Vec cannot fail for the text format.
        let _ = TextEncoder::new().encode(&self.0.registry.gather(), &mut buffer);
        String::from_utf8_lossy(&buffer).into_owned()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_labels_are_bounded() {
        let metrics = Metrics::with_max_operations(2);
        for name in ["A", "B", "C", "A", "D"] {
            metrics.observe_request(name, "ok", 0.001);
        }
        let text = metrics.render();
        assert!(text.contains("operation=\"A\""), "{text}");
        assert!(text.contains("operation=\"B\""));
        assert!(!text.contains("operation=\"C\"") && !text.contains("operation=\"D\""));
        assert!(
            text.contains("graphql_requests_total{operation=\"other\",outcome=\"ok\"} 2"),
            "{text}"
        );
        assert!(text.contains("graphql_ws_connections 0"));
        let open = metrics.socket_open();
        assert!(metrics.render().contains("graphql_ws_connections 1"));
        drop(open);
        assert!(metrics.render().contains("graphql_ws_connections 0"));
    }
}
