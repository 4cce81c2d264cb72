//! The HTTP surface: GraphQL over POST and GET, the playground, subscriptions over WebSocket,
//! CSV exports, health and metrics, and the layers every request passes through.

pub(crate) mod authenticate;
mod errors;
mod exports;
mod graphql;
mod health;
mod persisted;
pub(crate) mod playground;
pub(crate) mod serve;
mod socket_caps;
mod variables;
mod ws;
mod ws_auth;

use std::time::Duration;

use axum::{
    Router,
    extract::DefaultBodyLimit,
    http::{HeaderName, HeaderValue, Method, header},
    routing::get,
};
use tower::ServiceBuilder;
use tower_http::{
    CompressionLevel,
    catch_panic::CatchPanicLayer,
    compression::{
        CompressionLayer,
        predicate::{DefaultPredicate, Predicate, SizeAbove},
    },
    cors::{AllowOrigin, CorsLayer},
    decompression::RequestDecompressionLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    services::ServeDir,
    timeout::TimeoutLayer,
    trace::TraceLayer,
};

use crate::{graphql::AppSchema, state::AppState};

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

#[derive(Clone)]
pub struct HttpState {
    pub app: AppState,
    pub schema: AppSchema,
    /// What the schema says of each field, for the checks before execution (required
    /// variables, the cost analysis).
    pub(crate) shape: std::sync::Arc<crate::graphql::shape::SchemaShape>,
    /// Subscription sockets open per client address and per user.
    pub(crate) sockets: socket_caps::SocketCounts,
    /// Apollo persisted queries by hash (memory, and Redis when configured).
    pub(crate) persisted: persisted::PersistedQueries,
}

pub fn router(app: AppState, schema: AppSchema) -> Router {
    let config = app.config.clone();
    let shape = std::sync::Arc::new(crate::graphql::shape::SchemaShape::from_sdl(&schema.sdl()));
    let persisted = persisted::PersistedQueries::new(app.redis.clone());
    let state = HttpState {
        app,
        schema,
        shape,
        sockets: socket_caps::SocketCounts::default(),
        persisted,
    };

    let mut router = Router::new()
        .route("/graphql", get(graphql::get).post(graphql::post))
        .route("/graphql/ws", get(ws::upgrade))
        .route("/exports/backtests/{id}/{file}", get(exports::backtest))
        .route("/exports/saved/{id}/{file}", get(exports::saved))
        .route("/livez", get(health::livez))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics));
    if config.playground
        && let Some(dir) = &config.playground_assets
    {
        router = router.nest_service("/graphql/assets", ServeDir::new(dir));
    }

    let layers = ServiceBuilder::new()
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &axum::http::Request<_>| {
                    let header =
                        |name: &str| request.headers().get(name).and_then(|v| v.to_str().ok());
                    let id = header(REQUEST_ID.as_str()).unwrap_or("-");
                    // W3C trace context: the caller's trace and span ids, so these log lines
                    // join the caller's trace.
                    let span = tracing::info_span!(
                        "http",
                        method = %request.method(),
                        path = %request.uri().path(),
                        request_id = %id,
                        trace_id = tracing::field::Empty,
                        parent_id = tracing::field::Empty,
                        operation = tracing::field::Empty,
                    );
                    if let Some((trace_id, parent_id)) =
                        header("traceparent").and_then(trace_context)
                    {
                        span.record("trace_id", trace_id.as_str());
                        span.record("parent_id", parent_id.as_str());
                    }
                    span
                })
                // One line per request at info: status and latency, in the span above.
                .on_response(
                    tower_http::trace::DefaultOnResponse::new()
                        .level(tracing::Level::INFO)
                        .latency_unit(tower_http::LatencyUnit::Micros),
                ),
        )
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(CatchPanicLayer::custom(errors::panic_response))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            config.request_timeout(),
        ))
        .layer(cors(&config.cors_origins))
        .layer(compression())
        // A request body sent with `Content-Encoding: gzip`, `br` or `zstd` is decompressed
        // as it is read, so the body limit below applies to what it expands to; any other
        // encoding answers 415.
        .layer(RequestDecompressionLayer::new())
        .layer(DefaultBodyLimit::max(config.body_limit));

    router.layer(layers).with_state(state)
}

/// The trace id and parent span id of a W3C `traceparent` header
/// (`00-<32 hex>-<16 hex>-<2 hex>`), or None when it is not one.
fn trace_context(header: &str) -> Option<(String, String)> {
    let mut parts = header.trim().split('-');
    let (version, trace, parent, flags) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let hex = |s: &str, len: usize| s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit());
    let valid = hex(version, 2)
        && version != "ff"
        && hex(trace, 32)
        && trace.bytes().any(|b| b != b'0')
        && hex(parent, 16)
        && parent.bytes().any(|b| b != b'0')
        && hex(flags, 2);
    valid.then(|| (trace.to_ascii_lowercase(), parent.to_ascii_lowercase()))
}

/// Responses smaller than this go out as they are: below a few kilobytes compressing costs
/// more time than the bytes it saves on any link a browser uses.
const COMPRESS_ABOVE: u16 = 2048;

/// zstd, br or gzip, whichever the client prefers in `Accept-Encoding`, at each codec's
/// fastest level: a 33-year daily table (1.8 MB of JSON) is CPU-bound at the default levels
/// (gzip took 294 ms), while the fastest levels keep it to a few milliseconds and still shrink
/// our JSON of numbers several times (BENCHMARKS.md, "Results out").
fn compression() -> CompressionLayer<impl Predicate> {
    CompressionLayer::new()
        .quality(CompressionLevel::Fastest)
        .compress_when(DefaultPredicate::new().and(SizeAbove::new(COMPRESS_ABOVE)))
}

/// CORS for SPAs on other origins: only the configured origins, never a reflected one. A
/// wildcard entry allows any origin but then credentials are never allowed.
fn cors(origins: &[String]) -> CorsLayer {
    let base = CorsLayer::new()
        .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
        .allow_headers([
            header::CONTENT_TYPE,
            header::AUTHORIZATION,
            REQUEST_ID,
            HeaderName::from_static("traceparent"),
            HeaderName::from_static("tracestate"),
            HeaderName::from_static("apollographql-client-name"),
            HeaderName::from_static("apollographql-client-version"),
        ])
        .expose_headers([REQUEST_ID])
        .max_age(Duration::from_secs(600));
    if origins.iter().any(|o| o.trim() == "*") {
        return base.allow_origin(AllowOrigin::any());
    }
    let list: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o.trim()).ok())
        .collect();
    if list.is_empty() {
        // No allowlist configured: browsers on other origins are refused.
        return base;
    }
    base.allow_origin(AllowOrigin::list(list))
        .allow_credentials(true)
}

#[cfg(test)]
mod tests {
    use super::trace_context;

    #[test]
    fn traceparent_is_read_only_when_well_formed() {
        let header = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        assert_eq!(
            trace_context(header),
            Some((
                "4bf92f3577b34da6a3ce929d0e0e4736".into(),
                "00f067aa0ba902b7".into()
            ))
        );
        for bad in [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",
        ] {
            assert_eq!(trace_context(bad), None, "{bad}");
        }
    }
}
