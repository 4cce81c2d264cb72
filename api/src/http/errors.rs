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

/// A 400 for input the client must fix, naming the offending `field`.
pub fn bad_input_response(message: &str, field: &str) -> Response {
    let body = json!({ "errors": [{
        "message": message,
        "extensions": { "code": codes::BAD_USER_INPUT, "field": field },
    }] });
    (StatusCode::BAD_REQUEST, Json(body)).into_response()
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
