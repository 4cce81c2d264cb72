//! Subscriptions transport: both protocols, keep-alive, and close 1001 on shutdown.

use std::time::Duration;

use futures_util::StreamExt;
use serde_json::json;
use tests::socket::{next_message, send};
use tests::{Backend, TestApp};
use tokio_tungstenite::tungstenite::{Message, protocol::frame::coding::CloseCode};

#[tokio::test]
async fn graphql_transport_ws_runs_an_operation() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let mut socket = app.connect_socket("graphql-transport-ws", None).await;
    send(
        &mut socket,
        json!({"id": "1", "type": "subscribe", "payload": {"query": "{ tickers { symbol } }"}}),
    )
    .await;
    let next = next_message(&mut socket).await;
    assert_eq!(next["type"], "next");
    assert!(
        next["payload"]["data"]["tickers"]
            .as_array()
            .is_some_and(|t| t.iter().any(|x| x["symbol"] == "SPY"))
    );
    assert_eq!(next_message(&mut socket).await["type"], "complete");
    app.stop().await;
}

#[tokio::test]
async fn legacy_graphql_ws_runs_an_operation_and_keeps_alive() {
    let app = TestApp::spawn_with(Backend::Sqlite, |c| c.ws_keepalive_secs = 1)
        .await
        .unwrap();
    let mut socket = app.connect_socket("graphql-ws", None).await;
    send(
        &mut socket,
        json!({"id": "1", "type": "start", "payload": {"query": "{ version { engine } }"}}),
    )
    .await;
    let mut saw_data = false;
    let mut saw_keepalive = false;
    for _ in 0..6 {
        let message = next_message(&mut socket).await;
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
    let mut socket = app.connect_socket("graphql-transport-ws", None).await;
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
