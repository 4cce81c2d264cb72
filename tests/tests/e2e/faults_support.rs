//! Shared by the fault tests: a TCP proxy in front of PostgreSQL that the test switches
//! between forwarding, dropping and refusing connections; a private `redis-server` the test
//! may kill; polling with a deadline.

use std::{
    future::Future,
    net::SocketAddr,
    process::{Child, Command, Stdio},
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use tokio::{
    net::{TcpListener, TcpStream},
    sync::watch,
    task::JoinHandle,
};

/// Polls `check` until it returns `Some`, panicking with `what` after `deadline`. The pause
/// between polls only paces the loop; the condition is what the test waits for.
pub async fn wait_until<T, F, Fut>(what: &str, deadline: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let started = Instant::now();
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            started.elapsed() < deadline,
            "timed out after {deadline:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Connections reach the upstream.
    Forward,
    /// Connections are accepted and closed at once (a server that resets them).
    Drop,
    /// Nothing listens: connections are refused (a server that is down).
    Refuse,
}

/// A proxy on 127.0.0.1 in front of `upstream`. Leaving `Forward` also cuts every
/// connection already forwarded, as a stopped server would.
pub struct Proxy {
    pub port: u16,
    mode: watch::Sender<Mode>,
    applied: watch::Receiver<Mode>,
    live: Arc<AtomicUsize>,
    task: JoinHandle<()>,
}

impl Proxy {
    pub async fn start(upstream: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("proxy binds");
        let port = listener.local_addr().expect("bound").port();
        let (mode, modes) = watch::channel(Mode::Forward);
        let (applied_tx, applied) = watch::channel(Mode::Forward);
        let live = Arc::new(AtomicUsize::new(0));
        let task = tokio::spawn(serve(
            listener,
            port,
            upstream,
            modes,
            applied_tx,
            live.clone(),
        ));
        Proxy {
            port,
            mode,
            applied,
            live,
            task,
        }
    }

    /// Sets `mode` and returns once the proxy acts on it: the listener is closed (Refuse) or
    /// open (Forward, Drop), and outside Forward every forwarded connection is cut.
    pub async fn switch(&self, mode: Mode) {
        self.mode.send_replace(mode);
        let mut applied = self.applied.clone();
        let _ = applied.wait_for(|m| *m == mode).await;
        if mode != Mode::Forward {
            let live = self.live.clone();
            wait_until(
                "forwarded connections to close",
                Duration::from_secs(10),
                || {
                    let live = live.clone();
                    async move { (live.load(Ordering::SeqCst) == 0).then_some(()) }
                },
            )
            .await;
        }
    }

    /// Connections being forwarded right now.
    pub fn live(&self) -> usize {
        self.live.load(Ordering::SeqCst)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(
    listener: TcpListener,
    port: u16,
    upstream: SocketAddr,
    mut modes: watch::Receiver<Mode>,
    applied: watch::Sender<Mode>,
    live: Arc<AtomicUsize>,
) {
    let mut listener = Some(listener);
    loop {
        let mode = *modes.borrow_and_update();
        if mode == Mode::Refuse {
            listener = None;
            applied.send_replace(mode);
            if modes.changed().await.is_err() {
                return;
            }
            continue;
        }
        let active = match &mut listener {
            Some(active) => active,
            // Same port again; tokio sets SO_REUSEADDR, so a closed port rebinds at once.
            None => match TcpListener::bind(("127.0.0.1", port)).await {
                Ok(bound) => listener.insert(bound),
                Err(err) => panic!("the proxy cannot rebind port {port}: {err}"),
            },
        };
        applied.send_replace(mode);
        tokio::select! {
            accepted = active.accept() => {
                let Ok((client, _)) = accepted else { continue };
                if *modes.borrow() != Mode::Forward {
                    drop(client);
                    continue;
                }
                live.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(forward(client, upstream, modes.clone(), live.clone()));
            }
            changed = modes.changed() => if changed.is_err() { return },
        }
    }
}

async fn forward(
    mut client: TcpStream,
    upstream: SocketAddr,
    mut modes: watch::Receiver<Mode>,
    live: Arc<AtomicUsize>,
) {
    if let Ok(mut server) = TcpStream::connect(upstream).await {
        tokio::select! {
            _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
            _ = modes.wait_for(|m| *m != Mode::Forward) => {}
        }
    }
    drop(client);
    live.fetch_sub(1, Ordering::SeqCst);
}

/// host:port of a PostgreSQL URL (`postgres://user@host:port/db?…`; port 5432 when absent).
pub fn postgres_address(url: &str) -> SocketAddr {
    let authority = authority_of(url);
    let host_port = authority.rsplit('@').next().unwrap_or(authority);
    let with_port = if host_port.contains(':') {
        host_port.to_string()
    } else {
        format!("{host_port}:5432")
    };
    let with_port = with_port.replace("localhost", "127.0.0.1");
    with_port
        .parse()
        .expect("TEST_DATABASE_URL names an IP address and port")
}

/// `url` with its host and port replaced by 127.0.0.1:`port`.
pub fn through_port(url: &str, port: u16) -> String {
    let authority = authority_of(url);
    let user = authority
        .rsplit_once('@')
        .map(|(user, _)| format!("{user}@"))
        .unwrap_or_default();
    url.replacen(authority, &format!("{user}127.0.0.1:{port}"), 1)
}

fn authority_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    rest.split(['/', '?']).next().unwrap_or(rest)
}

/// A `redis-server` of the test's own on `port`, without persistence; killed on drop.
pub struct RedisServer {
    pub port: u16,
    child: Option<Child>,
}

impl RedisServer {
    /// Starts it and waits until it answers PING; None (with a note) when `redis-server`
    /// is not installed.
    pub async fn start(port: u16) -> Option<RedisServer> {
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let child = match child {
            Ok(child) => child,
            Err(err) => {
                eprintln!("skipped: cannot run redis-server ({err})");
                return None;
            }
        };
        let server = RedisServer {
            port,
            child: Some(child),
        };
        wait_until(
            "redis-server to answer",
            Duration::from_secs(20),
            || async { ping(port).await.then_some(()) },
        )
        .await;
        Some(server)
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// SIGKILL, and wait until the process is gone.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// True when something on `port` answers a RESP PING with PONG.
pub async fn ping(port: u16) -> bool {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let Ok(Ok(mut stream)) = tokio::time::timeout(
        Duration::from_secs(1),
        TcpStream::connect(("127.0.0.1", port)),
    )
    .await
    else {
        return false;
    };
    if stream.write_all(b"PING\r\n").await.is_err() {
        return false;
    }
    let mut reply = [0u8; 7];
    matches!(
        tokio::time::timeout(Duration::from_secs(1), stream.read_exact(&mut reply)).await,
        Ok(Ok(_))
    ) && &reply == b"+PONG\r\n"
}

#[test]
fn urls_are_rewritten_to_the_proxy() {
    assert_eq!(
        through_port("postgres://postgres@127.0.0.1:5432/x?sslmode=disable", 9),
        "postgres://postgres@127.0.0.1:9/x?sslmode=disable"
    );
    assert_eq!(
        postgres_address("postgres://postgres@127.0.0.1:5432/test"),
        "127.0.0.1:5432".parse().unwrap()
    );
    assert_eq!(
        postgres_address("postgres://localhost/test"),
        "127.0.0.1:5432".parse().unwrap()
    );
}
