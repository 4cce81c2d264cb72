//! The credential of one WebSocket connection. It is resolved at `connection_init` and then
//! checked again — before every operation once the last check is older than
//! `MARGIN_WS_CREDENTIAL_RECHECK_MS`, and on that interval while the socket is open — so a
//! session that was revoked, logged out or expired, a revoked token, or a disabled user stops
//! being served: the socket is closed with 4403 and its subscriptions end with it.
//!
//! [`SocketExecutor`] is the schema as the socket sees it: each operation runs with the
//! freshly checked [`AuthContext`] as request data (request data wins over connection data)
//! and a mutation without the WRITE scope is refused before anything runs.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use async_graphql::{Data, Executor, Request, Response, ServerError};
use futures_util::stream::{self, BoxStream, StreamExt};
use tokio::sync::watch;

use crate::{
    auth::AuthContext,
    error::ApiError,
    graphql::{
        cost,
        error::{request_error, shorten_messages},
        nesting,
        shape::SchemaShape,
    },
    http::{
        authenticate::Presented,
        socket_caps::{SocketCounts, SocketOwner, SocketPlace},
    },
    state::AppState,
};

/// Why `connection_init` was refused, so the socket loop can close with the right code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// Credentials presented and refused (4403).
    Forbidden,
    /// Credentials could not be checked (the database failed): try again later (1013).
    Unavailable,
    /// The user holds `MARGIN_MAX_SOCKETS_PER_USER` sockets already (4429).
    TooManySockets,
}

#[derive(Clone)]
struct Checked {
    presented: Presented,
    auth: AuthContext,
    at: Instant,
}

#[derive(Default)]
struct Slot {
    init_received: bool,
    refused: Option<Refusal>,
    checked: Option<Checked>,
    /// The user's place among their sockets, held until the socket closes.
    user_place: Option<SocketPlace>,
}

pub(crate) struct SocketAuth {
    app: AppState,
    trust_for: Duration,
    slot: Mutex<Slot>,
    revoked: watch::Sender<bool>,
    sockets: SocketCounts,
}

/// The caller an operation runs as, or the news that the credential no longer holds.
pub(crate) enum Current {
    Ready(AuthContext),
    /// `connection_init` has not been accepted (yet).
    NotInitialised,
    Revoked,
}

impl SocketAuth {
    pub(crate) fn new(app: AppState, sockets: SocketCounts) -> Arc<Self> {
        let trust_for = app.config.ws_credential_recheck();
        Arc::new(Self {
            app,
            trust_for,
            slot: Mutex::new(Slot::default()),
            revoked: watch::channel(false).0,
            sockets,
        })
    }

    fn slot(&self) -> std::sync::MutexGuard<'_, Slot> {
        // The slot holds plain data and no code panics while holding the lock; a poisoned
        // lock still holds consistent data.
        self.slot.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// `connection_init`: resolves the presented credentials. Refused or uncheckable
    /// credentials refuse the connection; none at all leave it anonymous.
    pub(crate) async fn init(&self, presented: Presented) -> Result<AuthContext, Refusal> {
        self.slot().init_received = true;
        let auth = crate::http::authenticate::authenticate(&self.app, &presented).await;
        let mut user_place = None;
        let refusal = if auth.is_invalid() {
            Some(Refusal::Forbidden)
        } else if auth.is_unavailable() {
            Some(Refusal::Unavailable)
        } else if let Some(caller) = auth.caller() {
            let cap = self.app.config.max_sockets_per_user;
            user_place = self.sockets.hold(SocketOwner::User(caller.user_id), cap);
            user_place.is_none().then_some(Refusal::TooManySockets)
        } else {
            None
        };
        let mut slot = self.slot();
        slot.user_place = user_place;
        match refusal {
            Some(refusal) => {
                slot.refused = Some(refusal);
                Err(refusal)
            }
            None => {
                slot.checked = Some(Checked {
                    presented,
                    auth: auth.clone(),
                    at: Instant::now(),
                });
                Ok(auth)
            }
        }
    }

    pub(crate) fn init_received(&self) -> bool {
        self.slot().init_received
    }

    pub(crate) fn refusal(&self) -> Option<Refusal> {
        self.slot().refused
    }

    pub(crate) fn revoked(&self) -> watch::Receiver<bool> {
        self.revoked.subscribe()
    }

    /// The caller for the next operation (`touch`: it counts as activity) or for the periodic
    /// check (it does not). Anonymous connections never change; a signed-in one is checked
    /// again once its last check is older than the trust interval. A check that fails
    /// (database down) yields a context that refuses signed-in work, never anonymous access,
    /// and is not cached.
    pub(crate) async fn current(&self, touch: bool) -> Current {
        let Some(checked) = self.slot().checked.clone() else {
            return Current::NotInitialised;
        };
        if *self.revoked.borrow() {
            return Current::Revoked;
        }
        if checked.auth.is_anonymous() || checked.at.elapsed() < self.trust_for {
            return Current::Ready(checked.auth);
        }
        let fresh = if touch {
            crate::http::authenticate::authenticate(&self.app, &checked.presented).await
        } else {
            crate::http::authenticate::recheck(&self.app, &checked.presented).await
        };
        if fresh.is_invalid() {
            self.revoked.send_replace(true);
            return Current::Revoked;
        }
        if !fresh.is_unavailable() {
            let mut slot = self.slot();
            if let Some(current) = slot.checked.as_mut() {
                current.auth = fresh.clone();
                current.at = Instant::now();
            }
        }
        Current::Ready(fresh)
    }
}

/// The schema behind one socket: every operation re-checks the credential first.
#[derive(Clone)]
pub(crate) struct SocketExecutor<E> {
    inner: E,
    auth: Arc<SocketAuth>,
    /// For the cost analysis, which runs on the socket as on POST.
    shape: Arc<SchemaShape>,
}

impl<E: Executor + Clone> SocketExecutor<E> {
    pub(crate) fn new(inner: E, auth: Arc<SocketAuth>, shape: Arc<SchemaShape>) -> Self {
        Self { inner, auth, shape }
    }

    async fn prepare(&self, mut request: Request) -> Result<Request, Response> {
        // As on POST: a document nested deep enough to overflow the parser's stack is refused
        // before anything parses it.
        if nesting::too_deep(&request.query, nesting::MAX_NESTING) {
            let error = ApiError::BadRequest(format!(
                "the document nests deeper than {} levels of brackets",
                nesting::MAX_NESTING
            ));
            return Err(Response::from_errors(vec![request_error(error)]));
        }
        match self.auth.current(true).await {
            // async-graphql runs no operation before an accepted connection_init; refuse
            // rather than assume.
            Current::Revoked | Current::NotInitialised => {
                Err(Response::from_errors(vec![revoked_error()]))
            }
            Current::Ready(auth) => {
                let budget = cost::Budget::for_caller(&self.auth.app.config, &auth);
                let cost = match cost::check(&mut request, &self.shape, &budget) {
                    Ok(cost) => cost,
                    Err(too_complex) => {
                        return Err(Response::from_errors(vec![request_error(too_complex)]));
                    }
                };
                // Each operation on the socket draws from the caller's buckets, as a request.
                let subject = crate::rate_limit::Subject::of(&auth);
                let engine_runs = cost.map_or(0, |cost| cost.engine_runs);
                if let Err(limited) = self.auth.app.rate_limits.admit(&subject, engine_runs).await {
                    return Err(Response::from_errors(vec![request_error(limited.into())]));
                }
                if let Some(refused) =
                    crate::graphql::write_scope::refuse_without_write(&mut request, &auth)
                {
                    return Err(refused);
                }
                request.data.insert(auth);
                Ok(request)
            }
        }
    }
}

fn revoked_error() -> ServerError {
    request_error(ApiError::AuthenticationFailed(
        "the token is invalid, expired or revoked; sign in again",
    ))
}

impl<E: Executor + Clone> Executor for SocketExecutor<E> {
    async fn execute(&self, request: Request) -> Response {
        let mut response = match self.prepare(request).await {
            Ok(request) => self.inner.execute(request).await,
            Err(refused) => refused,
        };
        shorten_messages(&mut response);
        response
    }

    fn execute_stream(
        &self,
        request: Request,
        session_data: Option<Arc<Data>>,
    ) -> BoxStream<'static, Response> {
        let this = self.clone();
        let running = self.auth.app.metrics.subscription_running();
        stream::once(async move {
            match this.prepare(request).await {
                Ok(request) => this.inner.execute_stream(request, session_data),
                Err(refused) => stream::once(async move { refused }).boxed(),
            }
        })
        .flatten()
        .map(move |mut response| {
            // Owned by the stream: the gauge goes down when the operation's stream is dropped.
            let _running = &running;
            shorten_messages(&mut response);
            response
        })
        .boxed()
    }
}
