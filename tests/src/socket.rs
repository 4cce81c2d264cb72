//! WebSocket clients for the subscription tests: open a socket with a subprotocol, send JSON,
//! and read the next message.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::{
    MaybeTlsStream, WebSocketStream, connect_async,
    tungstenite::{Message, client::IntoClientRequest},
};

use crate::TestApp;

pub type Socket = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;

/// How long a test waits for the server's next message before failing.
const NEXT_MESSAGE: Duration = Duration::from_secs(20);

impl TestApp {
    /// A socket on `/graphql/ws` that asked for `protocol`, before any message; fails the
    /// test unless the server agreed to the protocol.
    pub async fn open_socket(&self, protocol: &str) -> Socket {
        let mut request = self
            .ws_url()
            .into_client_request()
            .expect("a valid WebSocket URL");
        request.headers_mut().insert(
            "sec-websocket-protocol",
            protocol.parse().expect("a valid protocol name"),
        );
        let (socket, response) = connect_async(request).await.expect("websocket connects");
        assert_eq!(response.headers()["sec-websocket-protocol"], protocol);
        socket
    }

    /// A socket past `connection_init` and its ack, signed in with `token` when given.
    pub async fn connect_socket(&self, protocol: &str, token: Option<&str>) -> Socket {
        let mut socket = self.open_socket(protocol).await;
        let payload = match token {
            Some(t) => json!({"authorization": format!("Bearer {t}")}),
            None => json!({}),
        };
        send(
            &mut socket,
            json!({"type": "connection_init", "payload": payload}),
        )
        .await;
        assert_eq!(next_json(&mut socket).await["type"], "connection_ack");
        socket
    }
}

pub async fn send(socket: &mut Socket, value: Value) {
    socket
        .send(Message::Text(value.to_string().into()))
        .await
        .expect("socket open");
}

/// The next text message as JSON, keep-alives included.
pub async fn next_message(socket: &mut Socket) -> Value {
    loop {
        let message = tokio::time::timeout(NEXT_MESSAGE, socket.next())
            .await
            .expect("a message in time")
            .expect("socket open")
            .expect("valid frame");
        if let Message::Text(text) = message {
            return serde_json::from_str(&text).expect("JSON message");
        }
    }
}

/// The next JSON message that is not a keep-alive.
pub async fn next_json(socket: &mut Socket) -> Value {
    loop {
        let value = next_message(socket).await;
        if !matches!(value["type"].as_str(), Some("ka" | "ping" | "pong")) {
            return value;
        }
    }
}

/// The next message that is not a keep-alive; a close frame is `{"type": "close", "code"}`,
/// the end of the stream `{"type": "end"}`.
pub async fn next_event(socket: &mut Socket) -> Value {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(20), socket.next())
            .await
            .expect("a message within 20 s");
        match message {
            Some(Ok(Message::Text(text))) => {
                let value: Value = serde_json::from_str(&text).expect("JSON message");
                if matches!(value["type"].as_str(), Some("ka" | "ping" | "pong")) {
                    continue;
                }
                return value;
            }
            Some(Ok(Message::Close(frame))) => {
                return json!({"type": "close", "code": frame.map(|f| u16::from(f.code))});
            }
            Some(Ok(_)) => continue,
            Some(Err(_)) | None => return json!({"type": "end"}),
        }
    }
}

/// Messages until the socket closes; returns them with the close frame last.
pub async fn until_closed(socket: &mut Socket) -> Vec<Value> {
    let mut seen = Vec::new();
    loop {
        let message = next_event(socket).await;
        let kind = message["type"].as_str().unwrap_or("").to_string();
        seen.push(message);
        if kind == "close" || kind == "end" {
            return seen;
        }
    }
}
