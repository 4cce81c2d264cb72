//! Prometheus metrics, exposed as text on /metrics.

use std::sync::Arc;

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry, TextEncoder,
};

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
}

impl Metrics {
    pub fn new() -> Self {
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
        for collector in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
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
        Self(Arc::new(Inner {
            registry,
            requests,
            latency,
            cache,
            cache_writes,
            cache_write_queue,
            retention_deleted,
        }))
    }

    pub fn observe_request(&self, operation: &str, outcome: &str, seconds: f64) {
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
