//! The one error type of the API. Every failure a resolver can return is an `ApiError`, and
//! each variant maps to exactly one `extensions.code`.

use async_graphql::{ErrorExtensions, Value};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{message}")]
    BadUserInput { field: String, message: String },
    #[error("authentication required")]
    Unauthenticated,
    #[error("not allowed")]
    Forbidden,
    /// UNAUTHENTICATED with a message safe to show (the generic login failure, an expired
    /// session).
    #[error("{0}")]
    AuthenticationFailed(&'static str),
    /// FORBIDDEN with the reason the caller may see (pending approval, missing scope, …).
    #[error("{0}")]
    ForbiddenBecause(&'static str),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("quota exceeded: at most {limit} saved results")]
    QuotaExceeded { limit: u32 },
    #[error("too many requests; retry after {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    #[error("{0}")]
    BadRequest(String),
    /// SERVICE_UNAVAILABLE: the database could not be reached (or the operation kept losing
    /// races with others); nothing was applied and the same request may succeed shortly. The
    /// cause, when there is one, is logged, never shown.
    #[error("the database is unavailable; retry shortly")]
    Unavailable(#[source] Option<sea_orm::DbErr>),
    /// Never shown to clients: logged with the request id, which is all the client sees.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn input(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::BadUserInput {
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn internal(err: impl Into<anyhow::Error>) -> Self {
        Self::Internal(err.into())
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::BadUserInput { .. } => "BAD_USER_INPUT",
            Self::Unauthenticated | Self::AuthenticationFailed(_) => "UNAUTHENTICATED",
            Self::Forbidden | Self::ForbiddenBecause(_) => "FORBIDDEN",
            Self::NotFound(_) => "NOT_FOUND",
            Self::QuotaExceeded { .. } => "QUOTA_EXCEEDED",
            Self::RateLimited { .. } => "RATE_LIMITED",
            Self::BadRequest(_) => "BAD_REQUEST",
            Self::Unavailable(_) => codes::SERVICE_UNAVAILABLE,
            Self::Internal(_) => codes::INTERNAL,
        }
    }
}

pub mod codes {
    pub const BAD_REQUEST: &str = "BAD_REQUEST";
    pub const BAD_USER_INPUT: &str = "BAD_USER_INPUT";
    pub const INTERNAL: &str = "INTERNAL_SERVER_ERROR";
    pub const SERVICE_UNAVAILABLE: &str = "SERVICE_UNAVAILABLE";
}

/// Seconds a client is told to wait before retrying a SERVICE_UNAVAILABLE answer
/// (`extensions.retryAfter`, and the `Retry-After` header of a 503).
pub const UNAVAILABLE_RETRY_AFTER_SECS: u64 = 1;

impl From<sea_orm::DbErr> for ApiError {
    fn from(err: sea_orm::DbErr) -> Self {
        if crate::db::errors::is_unavailable(&err) {
            crate::db::outage::note_failure();
            Self::Unavailable(Some(err))
        } else if crate::db::errors::is_contention(&err) {
            Self::Unavailable(Some(err))
        } else {
            Self::Internal(err.into())
        }
    }
}

impl From<engine::error::InputError> for ApiError {
    fn from(err: engine::error::InputError) -> Self {
        Self::BadUserInput {
            field: err.field,
            message: err.message,
        }
    }
}

impl ErrorExtensions for ApiError {
    fn extend(&self) -> async_graphql::Error {
        if let Self::Internal(source) = self {
            // The request span carries the request id, so this log line and the client's
            // message can be matched without exposing the cause.
            tracing::error!(error = ?source, "internal error");
        }
        if let Self::Unavailable(Some(source)) = self {
            tracing::warn!(error = %source, "database unavailable");
        }
        async_graphql::Error::new(self.to_string()).extend_with(|_, ext| {
            ext.set("code", self.code());
            match self {
                Self::BadUserInput { field, .. } => ext.set("field", field.as_str()),
                Self::QuotaExceeded { limit } => ext.set("limit", *limit),
                Self::RateLimited { retry_after_secs } => {
                    ext.set("retryAfter", Value::from(*retry_after_secs))
                }
                Self::Unavailable(_) => {
                    ext.set("retryAfter", Value::from(UNAVAILABLE_RETRY_AFTER_SECS))
                }
                _ => {}
            }
        })
    }
}
