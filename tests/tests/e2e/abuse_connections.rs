//! Bounded connections: a socket that sends no request (or stops half-way through its
//! headers, or idles after a response) is closed after the header-read timeout; at the
//! connection cap the longest-idle socket makes room, so a flood of idle sockets never keeps
//! a real client waiting; subscription sockets are capped per address (429 before the
//! upgrade) and per user (4429 at `connection_init`).

use std::time::Duration;

use tests::{
    Backend, TestApp,
    socket::{next_event, send},
};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

use crate::margin_support::users;

/// Bounds each wait for an event below, so a server that never closes fails the test rather
/// than hanging it.
const EVENT: Duration = Duration::from_secs(20);

fn host_port(app: &TestApp) -> String {
    app.address.trim_start_matches("http://").to_string()
}

/// Reads until the server closes the socket (EOF or reset); returns what it sent first.
async fn until_server_closes(socket: &mut TcpStream) -> Vec<u8> {
    let mut seen = Vec::new();
    let closed = tokio::time::timeout(EVENT, async {
        let mut buf = [0u8; 4096];
        loop {
            match socket.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => seen.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "the server kept the socket open");
    seen
}

#[tokio::test]
async fn sockets_that_send_no_request_or_idle_are_closed_after_the_header_timeout() {
    let app = TestApp::spawn_with(Backend::Sqlite, |config| {
        config.header_read_timeout_secs = 1;
    })
    .await
    .expect("SQLite");
    // Half a request head, then nothing.
    let mut half = TcpStream::connect(host_port(&app)).await.expect("connects");
    half.write_all(b"GET /livez HTTP/1.1\r\nHost: x\r\n")
        .await
        .expect("writes");
    until_server_closes(&mut half).await;
    // A whole request, its answer, then an idle keep-alive connection.
    let mut idle = TcpStream::connect(host_port(&app)).await.expect("connects");
    idle.write_all(b"GET /livez HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .expect("writes");
    let answered = until_server_closes(&mut idle).await;
    assert!(
        answered.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&answered)
    );
}

#[tokio::test]
async fn a_flood_of_idle_sockets_does_not_keep_a_real_client_waiting() {
    const CAP: usize = 32;
    const FLOOD: usize = 3 * CAP;
    let app = TestApp::spawn_with(Backend::Sqlite, |config| {
        config.max_connections = CAP;
        // Far beyond the test: only making room can let the real client in.
        config.header_read_timeout_secs = 600;
    })
    .await
    .expect("SQLite");
    let mut flood = Vec::new();
    for _ in 0..FLOOD {
        flood.push(TcpStream::connect(host_port(&app)).await.expect("connects"));
    }
    // A real client on a connection of its own is served at once. (A bound, not a
    // measurement: without the cap's eviction it would wait the full header timeout.)
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .expect("client builds");
    let served = tokio::time::timeout(Duration::from_secs(5), async {
        client
            .get(format!("{}/livez", app.address))
            .send()
            .await
            .map(|r| r.status().as_u16())
    })
    .await;
    assert!(
        matches!(served, Ok(Ok(200))),
        "the real client was not served: {served:?}"
    );
    // The oldest idle sockets were closed to make room (all but the newest CAP of them).
    for socket in flood.iter_mut().take(FLOOD - CAP) {
        until_server_closes(socket).await;
    }
}

/// The upgrade's HTTP status when the server refuses to open a socket.
async fn upgrade_refused(app: &TestApp, protocol: &str) -> Option<u16> {
    use tokio_tungstenite::tungstenite::{Error, client::IntoClientRequest};
    let mut request = app.ws_url().into_client_request().expect("a URL");
    request
        .headers_mut()
        .insert("sec-websocket-protocol", protocol.parse().expect("a name"));
    match tokio_tungstenite::connect_async(request).await {
        Ok(_) => None,
        Err(Error::Http(response)) => Some(response.status().as_u16()),
        Err(other) => panic!("the upgrade failed otherwise: {other}"),
    }
}

#[tokio::test]
async fn one_address_holds_a_bounded_number_of_subscription_sockets() {
    let app = TestApp::spawn_with(Backend::Sqlite, |config| {
        config.max_sockets_per_address = 2;
    })
    .await
    .expect("SQLite");
    let protocol = "graphql-transport-ws";
    let first = app.open_socket(protocol).await;
    let _second = app.open_socket(protocol).await;
    assert_eq!(upgrade_refused(&app, protocol).await, Some(429));
    // A socket that closes gives its place back.
    drop(first);
    tests::eventually("the closed socket's place is given back", || async {
        upgrade_refused(&app, protocol).await.is_none()
    })
    .await;
}

#[tokio::test]
async fn one_user_holds_a_bounded_number_of_subscription_sockets() {
    let app = TestApp::spawn_with(Backend::Sqlite, |config| {
        config.max_sockets_per_user = 1;
    })
    .await
    .expect("SQLite");
    let (alice, bob) = users(&app).await;
    let protocol = "graphql-transport-ws";
    let _mine = app.connect_socket(protocol, Some(&alice.token)).await;
    let mut second = app.open_socket(protocol).await;
    send(
        &mut second,
        serde_json::json!({"type": "connection_init",
                           "payload": {"authorization": format!("Bearer {}", alice.token)}}),
    )
    .await;
    let refused = next_event(&mut second).await;
    assert_eq!(refused["code"], 4429, "{refused}");
    // Another user, and anonymous sockets, are not affected.
    let _bobs = app.connect_socket(protocol, Some(&bob.token)).await;
    let _anonymous = app.connect_socket(protocol, None).await;
}
