//! GET /graphql/ws: subscriptions over `graphql-transport-ws` and the legacy `graphql-ws`.
//! The loop is ours rather than the adapter's so that it can send keep-alives and close every
//! socket with 1001 when the server shuts down.

use std::{
    net::SocketAddr,
    sync::{Arc, OnceLock},
};

use async_graphql::{
    Data,
    http::{ALL_WEBSOCKET_PROTOCOLS, WebSocket as GraphQLWs, WebSocketProtocols, WsMessage},
};
use async_graphql_axum::GraphQLProtocol;
use axum::{
    extract::{
        ConnectInfo, State,
        ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade},
    },
    http::HeaderMap,
    response::Response,
};
use futures_util::{SinkExt, StreamExt};

use super::{HttpState, graphql::RequestMeta};
use crate::auth::{AuthContext, WriteScoped};

/// Close code for "going away": the server is shutting down.
const GOING_AWAY: u16 = 1001;
const WS_READ_BUFFER: usize = 4 * 1024;

pub async fn upgrade(
    State(state): State<HttpState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    _protocol: GraphQLProtocol,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    let text = |name: axum::http::HeaderName| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    use axum::http::header;
    // The extractor above refused requests without a GraphQL subprotocol; it does not expose
    // which one it found, so read it again.
    let protocol = text(header::SEC_WEBSOCKET_PROTOCOL)
        .and_then(|list| {
            list.split(',')
                .find_map(|p| p.trim().parse::<WebSocketProtocols>().ok())
        })
        .unwrap_or(WebSocketProtocols::GraphQLWS);
    let meta = RequestMeta {
        request_id: text(super::REQUEST_ID).unwrap_or_default(),
        ip: Some(peer.ip().to_string()),
        user_agent: text(header::USER_AGENT),
        authorization: text(header::AUTHORIZATION),
        cookie: text(header::COOKIE),
        origin: text(header::ORIGIN),
        host: text(header::HOST),
        forwarded_for: text(header::HeaderName::from_static("x-forwarded-for")),
    };
    // Clients send small control messages, so a socket needs neither tungstenite's 128 KiB
    // read buffer (the bulk of a held subscription's memory) nor 64 MiB messages; the body
    // limit of POST bounds a message here too.
    let limit = state.app.config.body_limit;
    upgrade
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .read_buffer_size(WS_READ_BUFFER)
        .max_message_size(limit)
        .max_frame_size(limit)
        .on_upgrade(move |socket| serve(socket, state, protocol, meta))
}

async fn serve(
    socket: WebSocket,
    state: HttpState,
    protocol: WebSocketProtocols,
    meta: RequestMeta,
) {
    let (mut sink, stream) = socket.split();
    let input = stream
        .take_while(|message| futures_util::future::ready(message.is_ok()))
        .filter_map(|message| {
            futures_util::future::ready(match message {
                Ok(Message::Text(text)) => Some(text.as_str().as_bytes().to_vec()),
                Ok(Message::Binary(bytes)) => Some(bytes.to_vec()),
                _ => None,
            })
        });

    let mut data = Data::default();
    data.insert(state.app.clone());
    data.insert(meta.clone());
    let app = state.app.clone();
    let protocols = protocol;
    let (schema, caller) = WriteScoped::new(state.schema.clone());
    let outgoing = GraphQLWs::new(schema, input, protocols)
        .connection_data(data)
        .on_connection_init(move |payload| connection_init(app, meta, payload, caller));
    futures_util::pin_mut!(outgoing);

    let mut shutdown = state.app.shutdown.clone();
    let mut keepalive = tokio::time::interval(state.app.config.ws_keepalive());
    keepalive.tick().await;
    loop {
        tokio::select! {
            message = outgoing.next() => {
                let Some(message) = message else { break };
                let frame = match message {
                    WsMessage::Text(text) => Message::Text(text.into()),
                    WsMessage::Close(code, reason) => Message::Close(Some(CloseFrame { code, reason: reason.into() })),
                };
                if sink.send(frame).await.is_err() {
                    break;
                }
            }
            _ = keepalive.tick() => {
                if sink.send(keepalive_message(protocols)).await.is_err() {
                    break;
                }
            }
            _ = stopping(&mut shutdown) => {
                let frame = CloseFrame { code: GOING_AWAY, reason: "server shutting down".into() };
                let _ = sink.send(Message::Close(Some(frame))).await;
                break;
            }
        }
    }
}

async fn stopping(shutdown: &mut tokio::sync::watch::Receiver<bool>) {
    // The guard wait_for returns is not Send; drop it before the select arm runs.
    let _ = shutdown.wait_for(|stopping| *stopping).await.map(|_| ());
}

/// graphql-ws (legacy) has its own "ka" message; graphql-transport-ws has ping/pong, which
/// clients answer, so an idle connection proves both ends are alive.
fn keepalive_message(protocol: WebSocketProtocols) -> Message {
    match protocol {
        WebSocketProtocols::SubscriptionsTransportWS => Message::Text(r#"{"type":"ka"}"#.into()),
        WebSocketProtocols::GraphQLWS => Message::Text(r#"{"type":"ping"}"#.into()),
    }
}

/// Data for the connection from the `connection_init` payload: the caller is resolved once,
/// from `{"authorization": "Bearer …"}` (else the upgrade request's own `Authorization`
/// header, else the session cookie in cookie mode), the same way as for HTTP requests. Invalid
/// credentials refuse the connection; none at all leave it anonymous.
async fn connection_init(
    app: crate::state::AppState,
    mut meta: RequestMeta,
    payload: serde_json::Value,
    caller: Arc<OnceLock<AuthContext>>,
) -> async_graphql::Result<Data> {
    let from_payload = payload
        .get("authorization")
        .or_else(|| payload.get("Authorization"))
        .and_then(|v| v.as_str())
        .map(str::to_owned);
    if from_payload.is_some() {
        meta.authorization = from_payload;
    }
    let auth = crate::auth::authenticate(&app, &meta.presented()).await;
    if auth.is_invalid() {
        return Err(async_graphql::Error::new(
            "the token is invalid, expired or revoked; sign in again",
        ));
    }
    // Set once: graphql-ws answers a second connection_init by closing the socket.
    let _ = caller.set(auth.clone());
    let mut data = Data::default();
    data.insert(meta);
    data.insert(auth);
    Ok(data)
}
