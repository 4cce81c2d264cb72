use std::time::Duration;

use axum::{
    Json,
    extract::State,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::json;

use super::HttpState;

/// The process is up; says nothing about its dependencies.
pub async fn livez() -> Response {
    Json(json!({ "status": "ok", "version": crate::SERVICE_VERSION })).into_response()
}

/// Ready when the database answers. Redis is optional: when it does not answer the service
/// still works (cache misses, local progress only), so it is reported as degraded.
pub async fn readyz(State(state): State<HttpState>) -> Response {
    // A database that is down answers within the acquire timeout (at most 2 s here).
    let bound = state
        .app
        .config
        .db_acquire_timeout()
        .min(Duration::from_secs(2));
    let database_ok = tokio::time::timeout(bound, state.app.db.ping())
        .await
        .is_ok_and(|r| r.is_ok());
    if !database_ok {
        crate::db::outage::note_failure();
    }
    let redis = match state.app.redis.clone() {
        None => "disabled",
        Some(mut connection) => {
            let command = redis::cmd("PING");
            let ping = command.query_async::<String>(&mut connection);
            match tokio::time::timeout(Duration::from_millis(500), ping).await {
                Ok(Ok(_)) => "ok",
                _ => "degraded",
            }
        }
    };
    let status = if database_ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = json!({
        "status": if database_ok { "ready" } else { "unavailable" },
        "database": if database_ok { "ok" } else { "unreachable" },
        "redis": redis,
    });
    (status, Json(body)).into_response()
}

pub async fn metrics(State(state): State<HttpState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.app.metrics.render(),
    )
        .into_response()
}
