//! The accept loop. `axum::serve` has no header-read timeout and no connection cap, so one
//! client could hold every file descriptor with sockets that never send a request. Here:
//!
//! - every connection is HTTP/1.1 with a header-read timeout, which hyper also applies while
//!   a keep-alive connection waits for its next request, so idle sockets close;
//! - at most `max_connections` sockets are open at once, upgraded WebSockets included (the
//!   slot travels with the socket). At the cap, the connection that has been idle longest
//!   (no request in flight, no response being written) is closed to admit the new one, so a
//!   flood of idle sockets never starves a real client or `/livez`.

use std::{
    collections::HashMap,
    net::SocketAddr,
    pin::Pin,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering},
    },
    task::{Context, Poll},
    time::Duration,
};

use axum::{Router, extract::ConnectInfo};
use hyper::{body::Incoming, server::conn::http1};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::{TcpListener, TcpStream},
    sync::{Notify, OwnedSemaphorePermit, Semaphore, mpsc, watch},
};
use tower::ServiceExt;

/// Descriptors kept free for the database pool, Redis, data files and logs when the
/// connection cap is derived from the process's descriptor limit.
const RESERVED_DESCRIPTORS: u64 = 256;

/// How the accept loop bounds connections.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ConnectionLimits {
    /// Time a client has to send a request's headers, on a new connection and between the
    /// requests of a keep-alive connection.
    pub header_read_timeout: Duration,
    /// Sockets open at once; see [`effective_max_connections`].
    pub max_connections: usize,
}

/// The configured cap, lowered when the descriptor limit of the process would be reached
/// first (a server that runs out of descriptors cannot even accept to refuse).
pub(crate) fn effective_max_connections(configured: usize) -> usize {
    let limit = rustix::process::getrlimit(rustix::process::Resource::Nofile).current;
    let room = limit.map(|n| n.saturating_sub(RESERVED_DESCRIPTORS).max(16));
    match room {
        Some(room) if (room as usize) < configured => {
            tracing::warn!(
                configured,
                descriptor_limit = limit,
                "MARGIN_MAX_CONNECTIONS lowered to stay below the descriptor limit"
            );
            room as usize
        }
        _ => configured.max(1),
    }
}

/// Serves `router` on `listener` until `shutdown` turns true, then lets the requests in
/// flight finish (idle connections close at once) and returns.
pub(crate) async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    mut shutdown: watch::Receiver<bool>,
) {
    let registry = Arc::new(Registry::new(limits.max_connections));
    // Every connection task holds a clone; recv() returns None once all have ended.
    let (alive, mut all_ended) = mpsc::channel::<()>(1);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = shutdown.wait_for(|stop| *stop) => break,
        };
        let (stream, peer) = match accepted {
            Ok(pair) => pair,
            Err(err) => {
                // EMFILE and friends: the cap should prevent them; back off rather than spin.
                tracing::warn!(error = %err, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let slot = tokio::select! {
            slot = registry.admit() => slot,
            _ = shutdown.wait_for(|stop| *stop) => break,
        };
        let Some(slot) = slot else { break };
        let _ = stream.set_nodelay(true);
        let task = Connection {
            stream,
            peer,
            slot,
            registry: registry.clone(),
            router: router.clone(),
            limits,
            shutdown: shutdown.clone(),
            _alive: alive.clone(),
        };
        tokio::spawn(task.run());
    }
    tracing::info!("shutting down: draining requests, closing subscriptions");
    drop(alive);
    let _ = all_ended.recv().await;
}

/// One accepted socket, from its first byte to its close or upgrade.
struct Connection {
    stream: TcpStream,
    peer: SocketAddr,
    slot: OwnedSemaphorePermit,
    registry: Arc<Registry>,
    router: Router,
    limits: ConnectionLimits,
    shutdown: watch::Receiver<bool>,
    _alive: mpsc::Sender<()>,
}

impl Connection {
    async fn run(self) {
        let Connection {
            stream,
            peer,
            slot,
            registry,
            router,
            limits,
            mut shutdown,
            _alive,
        } = self;
        let tracked = registry.track();
        let activity = tracked.activity.clone();
        let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            let busy = Busy::start(activity.clone());
            let response = router.clone().oneshot(request);
            async move {
                let response = response.await?;
                // Busy until hyper has written the whole body, not just the head.
                Ok::<_, std::convert::Infallible>(
                    response.map(|body| axum::body::Body::new(GuardedBody { body, _busy: busy })),
                )
            }
        });
        let io = TokioIo::new(SlotStream {
            stream,
            _slot: slot,
        });
        let connection = http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_read_timeout)
            .serve_connection(io, service)
            .with_upgrades();
        tokio::pin!(connection);
        tokio::select! {
            _ = connection.as_mut() => return,
            _ = tracked.activity.evict.notified() => {}
            _ = shutdown.wait_for(|stop| *stop) => {}
        }
        // Evicted or shutting down: an idle connection closes now (hyper's graceful shutdown
        // would wait for the first request of a socket that never sent one); one with a
        // request in flight finishes it, then closes.
        if tracked.activity.is_idle() {
            return;
        }
        connection.as_mut().graceful_shutdown();
        let _ = connection.await;
    }
}

/// The open sockets: a slot each, and the HTTP connections among them that could be
/// closed to make room.
struct Registry {
    slots: Arc<Semaphore>,
    connections: Mutex<HashMap<u64, Arc<Activity>>>,
    next_id: AtomicU64,
    /// A logical clock: each accept and each request start or end takes the next tick, so
    /// "idle longest" is exact even for sockets accepted in the same millisecond.
    ticks: Arc<AtomicU64>,
}

impl Registry {
    fn new(max_connections: usize) -> Self {
        Self {
            slots: Arc::new(Semaphore::new(max_connections.max(1))),
            connections: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(0),
            ticks: Arc::new(AtomicU64::new(0)),
        }
    }

    /// A slot for a new socket; at the cap, the longest-idle connection is asked to close
    /// first. Waits when every open socket is busy or upgraded. None only if the slots were
    /// closed, which nothing does.
    async fn admit(&self) -> Option<OwnedSemaphorePermit> {
        if let Ok(slot) = self.slots.clone().try_acquire_owned() {
            return Some(slot);
        }
        self.evict_longest_idle();
        self.slots.clone().acquire_owned().await.ok()
    }

    fn evict_longest_idle(&self) {
        let connections = self.lock();
        let victim = connections
            .values()
            .filter(|c| c.is_idle() && !c.evicting.load(Ordering::Relaxed))
            .min_by_key(|c| c.last_active.load(Ordering::Relaxed));
        if let Some(victim) = victim {
            victim.evicting.store(true, Ordering::Relaxed);
            victim.evict.notify_one();
        }
    }

    fn track(self: &Arc<Self>) -> Tracked {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let activity = Arc::new(Activity {
            in_flight: AtomicUsize::new(0),
            last_active: AtomicU64::new(self.ticks.fetch_add(1, Ordering::Relaxed)),
            evicting: AtomicBool::new(false),
            evict: Notify::new(),
            ticks: self.ticks.clone(),
        });
        self.lock().insert(id, activity.clone());
        Tracked {
            registry: self.clone(),
            id,
            activity,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Arc<Activity>>> {
        match self.connections.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }
}

/// What the registry knows of one HTTP connection.
struct Activity {
    in_flight: AtomicUsize,
    last_active: AtomicU64,
    evicting: AtomicBool,
    evict: Notify,
    ticks: Arc<AtomicU64>,
}

impl Activity {
    fn is_idle(&self) -> bool {
        self.in_flight.load(Ordering::Acquire) == 0
    }

    fn touch(&self) {
        let now = self.ticks.fetch_add(1, Ordering::Relaxed);
        self.last_active.store(now, Ordering::Relaxed);
    }
}

/// A connection's entry in the registry, removed when its HTTP phase ends (closed or
/// upgraded; an upgraded socket keeps its slot but can no longer be evicted).
struct Tracked {
    registry: Arc<Registry>,
    id: u64,
    activity: Arc<Activity>,
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.registry.lock().remove(&self.id);
    }
}

/// One request in flight on a connection, from its head to the end of its response body.
struct Busy(Arc<Activity>);

impl Busy {
    fn start(activity: Arc<Activity>) -> Self {
        activity.in_flight.fetch_add(1, Ordering::AcqRel);
        activity.touch();
        Busy(activity)
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.touch();
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

pin_project_lite::pin_project! {
    /// A response body that keeps its connection busy until hyper has written (and dropped) it.
    struct GuardedBody {
        #[pin]
        body: axum::body::Body,
        _busy: Busy,
    }
}

impl http_body::Body for GuardedBody {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        self.project().body.poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

/// The socket with its slot: the slot is released when the socket closes, also after a
/// WebSocket upgrade has moved the socket out of hyper.
struct SlotStream {
    stream: TcpStream,
    _slot: OwnedSemaphorePermit,
}

impl AsyncRead for SlotStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for SlotStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}
