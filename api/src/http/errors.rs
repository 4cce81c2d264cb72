//! GraphQL-shaped error bodies for failures that happen before or outside execution.

use std::any::Any;

use axum::{
    Json,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};

use crate::error::codes;

pub fn error_body(message: &str, code: &str) -> Value {
    json!({ "errors": [{ "message": message, "extensions": { "code": code } }] })
}

/// An [`ApiError`](crate::error::ApiError) outside GraphQL (the CSV exports): the status its
/// code means and the same JSON body a GraphQL error would have.
pub fn api_error_response(err: &crate::error::ApiError) -> Response {
    use crate::error::ApiError;
    match err {
        ApiError::BadUserInput { field, message } => return bad_input_response(message, field),
        ApiError::RateLimited { retry_after_secs } => {
            return rate_limited_response(*retry_after_secs);
        }
        ApiError::Internal(cause) => tracing::error!(error = %cause, "request failed"),
        _ => {}
    }
    let status = match err.code() {
        codes::UNAUTHENTICATED => StatusCode::UNAUTHORIZED,
        codes::FORBIDDEN => StatusCode::FORBIDDEN,
        codes::NOT_FOUND => StatusCode::NOT_FOUND,
        codes::BAD_REQUEST => StatusCode::BAD_REQUEST,
        codes::SERVICE_UNAVAILABLE => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    error_response(status, &err.message(), err.code())
}

/// A 400 for input the client must fix, naming the offending `field`.
pub fn bad_input_response(message: &str, field: &str) -> Response {
    let body = json!({ "errors": [{
        "message": message,
        "extensions": { "code": codes::BAD_USER_INPUT, "field": field },
    }] });
    (StatusCode::BAD_REQUEST, Json(body)).into_response()
}

/// 429 with `Retry-After`: the caller's bucket (`rate_limit`) is empty; nothing ran.
pub fn rate_limited_response(retry_after_secs: u64) -> Response {
    let body = json!({ "errors": [{
        "message": crate::error::ApiError::RateLimited { retry_after_secs }.message(),
        "extensions": { "code": codes::RATE_LIMITED, "retryAfter": retry_after_secs },
    }] });
    let mut response = (StatusCode::TOO_MANY_REQUESTS, Json(body)).into_response();
    response.headers_mut().insert(
        header::RETRY_AFTER,
        header::HeaderValue::from(retry_after_secs),
    );
    response
}

/// 429 before a WebSocket upgrade: the client address holds its share of sockets already.
pub fn too_many_sockets_response() -> Response {
    let body = json!({ "errors": [{
        "message": "too many subscription sockets from this address; close one first",
        "extensions": { "code": codes::RATE_LIMITED },
    }] });
    (StatusCode::TOO_MANY_REQUESTS, Json(body)).into_response()
}

pub fn error_response(status: StatusCode, message: &str, code: &str) -> Response {
    (status, Json(error_body(message, code))).into_response()
}

/// Last line of defence: a panic anywhere in a handler becomes a GraphQL-shaped 500, never a
/// dropped connection. The payload is logged, not sent.
pub fn panic_response(payload: Box<dyn Any + Send + 'static>) -> Response {
    let detail = payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    tracing::error!(panic = detail, "handler panicked");
    let mut response = error_response(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal server error",
        codes::INTERNAL,
    );
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    response
}
