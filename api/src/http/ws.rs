//! GET /graphql/ws: subscriptions over `graphql-transport-ws` and the legacy `graphql-ws`.
//! The loop is ours rather than the adapter's so that it can send keep-alives and close every
//! socket with 1001 when the server shuts down.

use std::{net::SocketAddr, sync::Arc, time::Duration};

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

use super::{
    HttpState,
    graphql::RequestMeta,
    socket_caps::SocketOwner,
    ws_auth::{self, Refusal, SocketAuth, SocketExecutor},
};

const NORMAL: u16 = 1000;
/// Close code for "going away": the server is shutting down.
const GOING_AWAY: u16 = 1001;
/// RFC 6455 "try again later": the credentials could not be checked.
const TRY_AGAIN_LATER: u16 = 1013;
/// graphql-transport-ws: an operation before `connection_init`.
const UNAUTHORIZED: u16 = 4401;
/// graphql-transport-ws: refused or revoked credentials.
const FORBIDDEN: u16 = 4403;
/// How long a closed socket waits for the client's answering close frame.
const CLOSE_LINGER: Duration = Duration::from_secs(2);
/// The user already holds `MARGIN_MAX_SOCKETS_PER_USER` sockets (graphql-ws uses 4429 for
/// "too many"; the reason says which).
const TOO_MANY_SOCKETS: u16 = 4429;
/// graphql-transport-ws: no `connection_init` in time.
const INIT_TIMEOUT: u16 = 4408;
/// Open sockets are re-checked at most this often, however short the trust interval.
const MIN_RECHECK: Duration = Duration::from_millis(100);
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
    let address = super::authenticate::client_ip(
        Some(peer.ip()),
        text(header::HeaderName::from_static("x-forwarded-for")).as_deref(),
        &state.app.config.trusted_proxies,
    )
    .map(|ip| ip.to_string())
    .unwrap_or_default();
    let Some(address_place) = state.sockets.hold(
        SocketOwner::Address(address),
        state.app.config.max_sockets_per_address,
    ) else {
        return super::errors::too_many_sockets_response();
    };
    let meta = RequestMeta {
        request_id: text(super::REQUEST_ID).unwrap_or_default(),
        accept: None,
        ip: Some(peer.ip().to_string()),
        user_agent: text(header::USER_AGENT),
        authorization: super::graphql::credential_header(&headers),
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
        .on_upgrade(move |socket| async move {
            let open = state.app.metrics.socket_open();
            serve(socket, state, protocol, meta).await;
            drop(open);
            drop(address_place);
        })
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
    let config = state.app.config.clone();
    let socket_auth = SocketAuth::new(state.app.clone(), state.sockets.clone());
    let executor = SocketExecutor::new(
        state.schema.clone(),
        socket_auth.clone(),
        state.shape.clone(),
    );
    let on_init = {
        let socket_auth = socket_auth.clone();
        move |payload| connection_init(socket_auth, meta, payload)
    };
    let outgoing = GraphQLWs::new(executor, input, protocol)
        .connection_data(data)
        .on_connection_init(on_init);
    futures_util::pin_mut!(outgoing);

    let mut shutdown = state.app.shutdown.clone();
    let mut revoked = socket_auth.revoked();
    let mut keepalive = tokio::time::interval(config.ws_keepalive());
    keepalive.tick().await;
    let recheck_every = config.ws_credential_recheck().max(MIN_RECHECK);
    let mut recheck =
        tokio::time::interval_at(tokio::time::Instant::now() + recheck_every, recheck_every);
    recheck.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let init_deadline = tokio::time::sleep(config.ws_init_timeout());
    futures_util::pin_mut!(init_deadline);
    let mut waiting_for_init = true;
    loop {
        tokio::select! {
            message = outgoing.next() => {
                let Some(message) = message else {
                    // The protocol ended the connection (legacy connection_error, terminate,
                    // or the client went away): say why in a close frame.
                    let (code, reason) = match socket_auth.refusal() {
                        Some(refusal) => refusal_close(refusal),
                        None => (NORMAL, "bye"),
                    };
                    let _ = sink.send(close(code, reason)).await;
                    break;
                };
                match message {
                    WsMessage::Text(text) => {
                        if sink.send(Message::Text(text.into())).await.is_err() {
                            break;
                        }
                    }
                    WsMessage::Close(code, reason) => {
                        let (code, reason) = translate_close(code, reason, socket_auth.refusal());
                        let _ = sink.send(close(code, &reason)).await;
                        break;
                    }
                }
            }
            _ = keepalive.tick() => {
                if sink.send(keepalive_message(protocol)).await.is_err() {
                    break;
                }
            }
            _ = &mut init_deadline, if waiting_for_init => {
                waiting_for_init = false;
                if !socket_auth.init_received() {
                    let _ = sink.send(close(INIT_TIMEOUT, "Connection initialisation timeout")).await;
                    break;
                }
            }
            _ = recheck.tick() => {
                if matches!(socket_auth.current(false).await, ws_auth::Current::Revoked) {
                    revoked_close(&mut sink, protocol).await;
                    break;
                }
            }
            _ = raised(&mut revoked) => {
                revoked_close(&mut sink, protocol).await;
                break;
            }
            _ = raised(&mut shutdown) => {
                let _ = sink.send(close(GOING_AWAY, "server shutting down")).await;
                break;
            }
        }
    }
    // Dropping a socket with client data still unread makes the kernel reset the connection,
    // and the reset can destroy the close frame just sent before the client reads it: keep
    // reading (and discarding) until the client answers the close, for a moment at most.
    let _ = tokio::time::timeout(CLOSE_LINGER, async {
        while outgoing.next().await.is_some() {}
    })
    .await;
}

fn close(code: u16, reason: &str) -> Message {
    Message::Close(Some(CloseFrame {
        code,
        reason: reason.into(),
    }))
}

/// A revoked credential: the legacy protocol is told with `connection_error` first; both
/// then get 4403, and dropping the protocol stream ends every subscription of the socket.
async fn revoked_close(
    sink: &mut futures_util::stream::SplitSink<WebSocket, Message>,
    protocol: WebSocketProtocols,
) {
    if protocol == WebSocketProtocols::SubscriptionsTransportWS {
        let text = r#"{"type":"connection_error","payload":{"message":"the credential was revoked or expired; sign in again"}}"#;
        let _ = sink.send(Message::Text(text.into())).await;
    }
    let _ = sink.send(close(FORBIDDEN, "Forbidden")).await;
}

fn refusal_close(refusal: Refusal) -> (u16, &'static str) {
    match refusal {
        Refusal::Forbidden => (FORBIDDEN, "Forbidden"),
        Refusal::Unavailable => (TRY_AGAIN_LATER, "credentials could not be checked; retry"),
        Refusal::TooManySockets => (
            TOO_MANY_SOCKETS,
            "too many subscription sockets for this user",
        ),
    }
}

/// async-graphql closes a refused `connection_init` with 1002 and a subscribe before
/// `connection_init` with 1011; graphql-transport-ws defines 4403 and 4401 for them.
fn translate_close(code: u16, reason: String, refusal: Option<Refusal>) -> (u16, String) {
    match (code, refusal) {
        (1002, Some(refusal)) => {
            let (code, reason) = refusal_close(refusal);
            (code, reason.to_string())
        }
        (1011, None) => (UNAUTHORIZED, "Unauthorized".to_string()),
        _ => (code, reason),
    }
}

/// Resolves once the flag (shutdown, revocation) is raised.
async fn raised(flag: &mut tokio::sync::watch::Receiver<bool>) {
    // The guard wait_for returns is not Send; drop it before the select arm runs.
    let _ = flag.wait_for(|raised| *raised).await.map(|_| ());
}

/// graphql-ws (legacy) has its own "ka" message; graphql-transport-ws has ping/pong, which
/// clients answer, so an idle connection proves both ends are alive.
fn keepalive_message(protocol: WebSocketProtocols) -> Message {
    match protocol {
        WebSocketProtocols::SubscriptionsTransportWS => Message::Text(r#"{"type":"ka"}"#.into()),
        WebSocketProtocols::GraphQLWS => Message::Text(r#"{"type":"ping"}"#.into()),
    }
}

/// Data for the connection from the `connection_init` payload: the caller is resolved from
/// `{"authorization": "Bearer …"}` (else the upgrade request's own `Authorization` header,
/// else the session cookie in cookie mode), the same way as for HTTP requests. Refused or
/// uncheckable credentials refuse the connection; none at all leave it anonymous.
async fn connection_init(
    socket_auth: Arc<SocketAuth>,
    mut meta: RequestMeta,
    payload: serde_json::Value,
) -> async_graphql::Result<Data> {
    let from_payload = payload
        .get("authorization")
        .or_else(|| payload.get("Authorization"))
        .and_then(|v| v.as_str())
        .map(str::to_owned);
    if from_payload.is_some() {
        meta.authorization = from_payload;
    }
    let auth = socket_auth
        .init(meta.presented())
        .await
        .map_err(|refusal| {
            async_graphql::Error::new(match refusal {
                Refusal::Forbidden => "the token is invalid, expired or revoked; sign in again",
                Refusal::Unavailable => "credentials could not be checked; retry",
                Refusal::TooManySockets => "too many subscription sockets for this user",
            })
        })?;
    let mut data = Data::default();
    data.insert(meta);
    data.insert(auth);
    Ok(data)
}
