//! The progress bus: backtest progress and terminal events by session id.
//!
//! In-process, each session that has subscribers gets a `tokio::sync::broadcast` channel of
//! bounded capacity: a subscriber that falls further behind than the buffer is told it lagged
//! and is dropped, so a slow consumer costs nothing but its own buffer. Publishing to a
//! session nobody follows costs a map lookup.
//!
//! With Redis, every published event is also sent (through a bounded queue and one
//! publishing task) to the `margin:progress` channel, and each process holds exactly one
//! pub/sub connection to that channel, delivering what other processes published to its
//! local subscribers. Events carry the publishing process's id so a process ignores its own
//! echo (it has already delivered those locally). Redis being down only stops cross-process
//! delivery; subscribers also poll the session row, so they still see the run end.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, MutexGuard},
    time::Duration,
};

use chrono::NaiveDate;
use engine::backtest::{EventKind, Summary};
use futures_util::StreamExt;
use redis::aio::ConnectionManager;
use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, mpsc, watch};
use uuid::Uuid;

pub const CHANNEL: &str = "margin:progress";
const PUBLISH_QUEUE: usize = 4096;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum BusKind {
    Running,
    Progress,
    Completed,
    Error,
    Cancelled,
}

impl BusKind {
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            BusKind::Completed | BusKind::Error | BusKind::Cancelled
        )
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BusEvent {
    pub session_id: Uuid,
    pub kind: BusKind,
    #[serde(default)]
    pub percent: Option<f64>,
    #[serde(default)]
    pub date: Option<NaiveDate>,
    #[serde(default)]
    pub equity: Option<f64>,
    #[serde(default)]
    pub event: Option<EventKind>,
    #[serde(default)]
    pub summary: Option<Box<Summary>>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub execution_time_ms: Option<f64>,
}

impl BusEvent {
    pub fn new(session_id: Uuid, kind: BusKind) -> Self {
        Self {
            session_id,
            kind,
            percent: None,
            date: None,
            equity: None,
            event: None,
            summary: None,
            message: None,
            execution_time_ms: None,
        }
    }
}

#[derive(Serialize, Deserialize)]
struct Envelope {
    origin: Uuid,
    event: BusEvent,
}

#[derive(Clone)]
pub struct ProgressBus(Arc<Inner>);

struct Inner {
    topics: Mutex<HashMap<Uuid, broadcast::Sender<Arc<BusEvent>>>>,
    buffer: usize,
    origin: Uuid,
    remote: Option<mpsc::Sender<String>>,
    /// With Redis: the pub/sub subscription is live, so events from other processes arrive.
    listening: std::sync::atomic::AtomicBool,
}

/// A live subscription to one session's events; dropping it frees the topic when it was the
/// last one.
pub struct Subscription {
    pub receiver: broadcast::Receiver<Arc<BusEvent>>,
    _guard: TopicGuard,
}

struct TopicGuard {
    bus: ProgressBus,
    session: Uuid,
}

impl Drop for TopicGuard {
    fn drop(&mut self) {
        let mut topics = self.bus.topics();
        if let Some(sender) = topics.get(&self.session)
            // `receiver` is declared before `_guard`, so it has already been dropped.
            && sender.receiver_count() == 0
        {
            topics.remove(&self.session);
        }
    }
}

impl ProgressBus {
    /// An in-process bus; `buffer` is each subscriber's bound.
    pub fn local(buffer: usize) -> Self {
        Self(Arc::new(Inner {
            topics: Mutex::new(HashMap::new()),
            buffer: buffer.clamp(4, 65_536),
            origin: Uuid::new_v4(),
            remote: None,
            listening: std::sync::atomic::AtomicBool::new(true),
        }))
    }

    /// A bus that also fans out through Redis: starts the publishing task and the one
    /// pub/sub listener of this process (call inside the runtime).
    pub fn with_redis(
        buffer: usize,
        client: redis::Client,
        publisher: ConnectionManager,
        shutdown: watch::Receiver<bool>,
    ) -> Self {
        let (tx, rx) = mpsc::channel(PUBLISH_QUEUE);
        let bus = Self(Arc::new(Inner {
            topics: Mutex::new(HashMap::new()),
            buffer: buffer.clamp(4, 65_536),
            origin: Uuid::new_v4(),
            remote: Some(tx),
            listening: std::sync::atomic::AtomicBool::new(false),
        }));
        tokio::spawn(publish_loop(publisher, rx));
        tokio::spawn(listen_loop(Arc::downgrade(&bus.0), client, shutdown));
        bus
    }

    /// True when events published by other processes reach this one's subscribers (always,
    /// for an in-process bus; with Redis, while the pub/sub subscription is live).
    pub fn is_listening(&self) -> bool {
        self.0.listening.load(std::sync::atomic::Ordering::Acquire)
    }

    fn topics(&self) -> MutexGuard<'_, HashMap<Uuid, broadcast::Sender<Arc<BusEvent>>>> {
        match self.0.topics.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Subscribes to a session's events (subscribe before reading the session's state, so
    /// nothing published in between is missed).
    pub fn subscribe(&self, session: Uuid) -> Subscription {
        let receiver = {
            let mut topics = self.topics();
            topics
                .entry(session)
                .or_insert_with(|| broadcast::channel(self.0.buffer).0)
                .subscribe()
        };
        Subscription {
            receiver,
            _guard: TopicGuard {
                bus: self.clone(),
                session,
            },
        }
    }

    /// Sessions with at least one local subscriber.
    pub fn topic_count(&self) -> usize {
        self.topics().len()
    }

    /// Delivers locally and, with Redis, to the other processes. Never blocks; when the
    /// Redis queue is full the remote copy of a progress event is dropped.
    pub fn publish(&self, event: BusEvent) {
        let event = Arc::new(event);
        self.deliver_local(&event);
        if let Some(remote) = &self.0.remote {
            let envelope = Envelope {
                origin: self.0.origin,
                event: (*event).clone(),
            };
            if let Ok(text) = serde_json::to_string(&envelope)
                && remote.try_send(text).is_err()
            {
                tracing::debug!("progress publish queue full: event not sent to Redis");
            }
        }
    }

    fn deliver_local(&self, event: &Arc<BusEvent>) {
        let topics = self.topics();
        if let Some(sender) = topics.get(&event.session_id) {
            let _ = sender.send(event.clone());
        }
    }
}

/// Sends queued events to Redis, everything already waiting in one pipeline: a run emits
/// about a hundred events within a millisecond, and one round trip each would lag behind.
async fn publish_loop(mut conn: ConnectionManager, mut queue: mpsc::Receiver<String>) {
    const BATCH: usize = 128;
    let mut batch = Vec::with_capacity(BATCH);
    while queue.recv_many(&mut batch, BATCH).await > 0 {
        let mut pipeline = redis::pipe();
        for text in batch.drain(..) {
            pipeline.cmd("PUBLISH").arg(CHANNEL).arg(text).ignore();
        }
        let publish = pipeline.query_async::<()>(&mut conn);
        match tokio::time::timeout(Duration::from_millis(500), publish).await {
            Ok(Ok(_)) => {}
            Ok(Err(err)) => tracing::debug!(error = %err, "progress publish to Redis failed"),
            Err(_) => tracing::debug!("progress publish to Redis timed out"),
        }
    }
}

/// The process's one pub/sub connection: reconnects with back-off until shutdown.
async fn listen_loop(
    bus: std::sync::Weak<Inner>,
    client: redis::Client,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut backoff = Duration::from_millis(200);
    loop {
        if *shutdown.borrow() {
            return;
        }
        let connected = tokio::time::timeout(Duration::from_secs(2), async {
            let mut pubsub = client.get_async_pubsub().await?;
            pubsub.subscribe(CHANNEL).await?;
            Ok::<_, redis::RedisError>(pubsub)
        })
        .await;
        match connected {
            Ok(Ok(pubsub)) => {
                backoff = Duration::from_millis(200);
                let set_listening = |value: bool| {
                    if let Some(inner) = bus.upgrade() {
                        inner
                            .listening
                            .store(value, std::sync::atomic::Ordering::Release);
                    }
                };
                set_listening(true);
                let mut messages = pubsub.into_on_message();
                loop {
                    tokio::select! {
                        message = messages.next() => {
                            let Some(message) = message else { break };
                            let Some(inner) = bus.upgrade() else { return };
                            let bus = ProgressBus(inner);
                            let Ok(envelope) = serde_json::from_slice::<Envelope>(message.get_payload_bytes()) else {
                                continue;
                            };
                            if envelope.origin != bus.0.origin {
                                bus.deliver_local(&Arc::new(envelope.event));
                            }
                        }
                        _ = async { let _ = shutdown.wait_for(|stop| *stop).await; } => return,
                    }
                }
                set_listening(false);
                tracing::warn!("Redis progress subscription ended; reconnecting");
            }
            Ok(Err(err)) => tracing::debug!(error = %err, "Redis progress subscription failed"),
            Err(_) => tracing::debug!("Redis progress subscription timed out"),
        }
        if bus.strong_count() == 0 {
            return;
        }
        tokio::select! {
            _ = tokio::time::sleep(backoff) => {}
            _ = async { let _ = shutdown.wait_for(|stop| *stop).await; } => return,
        }
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn delivers_to_subscribers_and_frees_topics() {
        let bus = ProgressBus::local(8);
        let session = Uuid::new_v4();
        bus.publish(BusEvent::new(session, BusKind::Progress));
        let mut sub = bus.subscribe(session);
        assert_eq!(bus.topic_count(), 1);
        bus.publish(BusEvent::new(session, BusKind::Completed));
        assert_eq!(sub.receiver.recv().await.unwrap().kind, BusKind::Completed);
        drop(sub);
        assert_eq!(bus.topic_count(), 0);
    }

    #[tokio::test]
    async fn a_slow_subscriber_lags_instead_of_growing() {
        let bus = ProgressBus::local(4);
        let session = Uuid::new_v4();
        let mut sub = bus.subscribe(session);
        for _ in 0..20 {
            bus.publish(BusEvent::new(session, BusKind::Progress));
        }
        assert!(matches!(
            sub.receiver.recv().await,
            Err(broadcast::error::RecvError::Lagged(_))
        ));
    }
}
