//! Subscriptions transport: both protocols, keep-alive, and close 1001 on shutdown.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tests::{Backend, TestApp};
use tokio_tungstenite::{
    MaybeTlsStream, WebSocketStream, connect_async,
    tungstenite::{Message, client::IntoClientRequest, protocol::frame::coding::CloseCode},
};

type Socket = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(app: &TestApp, protocol: &str) -> Socket {
    let mut request = app.ws_url().into_client_request().unwrap();
    request
        .headers_mut()
        .insert("sec-websocket-protocol", protocol.parse().unwrap());
    let (socket, response) = connect_async(request).await.expect("websocket connects");
    assert_eq!(response.headers()["sec-websocket-protocol"], protocol);
    socket
}

async fn next_json(socket: &mut Socket) -> Value {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .expect("a message within 10 s")
            .expect("socket open")
            .expect("valid frame");
        if let Message::Text(text) = message {
            return serde_json::from_str(&text).expect("JSON message");
        }
    }
}

async fn send(socket: &mut Socket, value: Value) {
    socket
        .send(Message::Text(value.to_string().into()))
        .await
        .unwrap();
}

#[tokio::test]
async fn graphql_transport_ws_runs_an_operation() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let mut socket = connect(&app, "graphql-transport-ws").await;
    send(
        &mut socket,
        json!({"type": "connection_init", "payload": {}}),
    )
    .await;
    assert_eq!(next_json(&mut socket).await["type"], "connection_ack");
    send(
        &mut socket,
        json!({"id": "1", "type": "subscribe", "payload": {"query": "{ tickers { symbol } }"}}),
    )
    .await;
    let next = next_json(&mut socket).await;
    assert_eq!(next["type"], "next");
    assert!(
        next["payload"]["data"]["tickers"]
            .as_array()
            .is_some_and(|t| t.iter().any(|x| x["symbol"] == "SPY"))
    );
    assert_eq!(next_json(&mut socket).await["type"], "complete");
    app.stop().await;
}

#[tokio::test]
async fn legacy_graphql_ws_runs_an_operation_and_keeps_alive() {
    let app = TestApp::spawn_with(Backend::Sqlite, |c| c.ws_keepalive_secs = 1)
        .await
        .unwrap();
    let mut socket = connect(&app, "graphql-ws").await;
    send(
        &mut socket,
        json!({"type": "connection_init", "payload": {}}),
    )
    .await;
    assert_eq!(next_json(&mut socket).await["type"], "connection_ack");
    send(
        &mut socket,
        json!({"id": "1", "type": "start", "payload": {"query": "{ version { engine } }"}}),
    )
    .await;
    let mut saw_data = false;
    let mut saw_keepalive = false;
    for _ in 0..6 {
        let message = next_json(&mut socket).await;
        match message["type"].as_str() {
            Some("data") => saw_data = message["payload"]["data"]["version"]["engine"].is_string(),
            Some("ka") => saw_keepalive = true,
            _ => {}
        }
        if saw_data && saw_keepalive {
            break;
        }
    }
    assert!(saw_data, "the operation's data arrived");
    assert!(saw_keepalive, "a keep-alive arrived on an idle connection");
    app.stop().await;
}

#[tokio::test]
async fn shutdown_closes_sockets_with_going_away() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let mut socket = connect(&app, "graphql-transport-ws").await;
    send(
        &mut socket,
        json!({"type": "connection_init", "payload": {}}),
    )
    .await;
    assert_eq!(next_json(&mut socket).await["type"], "connection_ack");
    app.shutdown_handle().shutdown();
    let close = loop {
        let message = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .expect("closed within 10 s");
        match message {
            Some(Ok(Message::Close(frame))) => break frame,
            Some(Ok(_)) => continue,
            other => panic!("expected a close frame, got {other:?}"),
        }
    };
    assert_eq!(
        close.expect("a close frame with a code").code,
        CloseCode::Away
    );
    app.stop().await;
}
