//! GET /graphql/ws: subscriptions over `graphql-transport-ws` and the legacy `graphql-ws`.
//! The loop is ours rather than the adapter's so that it can send keep-alives and close every
//! socket with 1001 when the server shuts down.

use async_graphql::{
    Data,
    http::{ALL_WEBSOCKET_PROTOCOLS, WebSocket as GraphQLWs, WebSocketProtocols, WsMessage},
};
use async_graphql_axum::GraphQLProtocol;
use axum::{
    extract::{
        State,
        ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade},
    },
    http::HeaderMap,
    response::Response,
};
use futures_util::{SinkExt, StreamExt};

use super::{HttpState, graphql::RequestMeta};

/// Close code for "going away": the server is shutting down.
const GOING_AWAY: u16 = 1001;

pub async fn upgrade(
    State(state): State<HttpState>,
    protocol: GraphQLProtocol,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    let meta = RequestMeta {
        request_id: headers
            .get(super::REQUEST_ID)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string(),
        user_agent: headers
            .get(axum::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        ..RequestMeta::default()
    };
    upgrade
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| serve(socket, state, protocol, meta))
}

async fn serve(socket: WebSocket, state: HttpState, protocol: GraphQLProtocol, meta: RequestMeta) {
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
    let protocols = protocol.0;
    let outgoing = GraphQLWs::new(state.schema.clone(), input, protocols)
        .connection_data(data)
        .on_connection_init(move |payload| connection_init(app, meta, payload));
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
            _ = shutdown.wait_for(|stopping| *stopping) => {
                let frame = CloseFrame { code: GOING_AWAY, reason: "server shutting down".into() };
                let _ = sink.send(Message::Close(Some(frame))).await;
                break;
            }
        }
    }
}

/// graphql-ws (legacy) has its own "ka" message; graphql-transport-ws has ping/pong, which
/// clients answer, so an idle connection proves both ends are alive.
fn keepalive_message(protocol: WebSocketProtocols) -> Message {
    match protocol {
        WebSocketProtocols::SubscriptionsTransportWS => Message::Text(r#"{"type":"ka"}"#.into()),
        WebSocketProtocols::GraphQLWS => Message::Text(r#"{"type":"ping"}"#.into()),
    }
}

/// Data for the connection from the `connection_init` payload. Authentication reads
/// `{"authorization": "Bearer …"}` from it.
async fn connection_init(
    _app: crate::state::AppState,
    mut meta: RequestMeta,
    payload: serde_json::Value,
) -> async_graphql::Result<Data> {
    meta.authorization = payload
        .get("authorization")
        .or_else(|| payload.get("Authorization"))
        .and_then(|v| v.as_str())
        .map(str::to_owned);
    let mut data = Data::default();
    data.insert(meta);
    Ok(data)
}
