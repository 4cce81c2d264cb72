//! The one error type of the API. Every failure a resolver can return is an `ApiError`, and
//! each variant maps to exactly one `extensions.code`.

use std::sync::Arc;

/// Deliberately without `Display` or `std::error::Error`: async-graphql converts anything
/// that displays into a codeless error, so an `ApiError` must go through
/// `From<ApiError> for async_graphql::Error` (`graphql/error.rs`), which sets its code.
/// Clone (async-graphql needs it for `Result<T, ApiError>` fields), so causes are shared.
#[derive(Debug, Clone)]
pub enum ApiError {
    BadUserInput {
        field: String,
        message: String,
    },
    Unauthenticated,
    Forbidden,
    /// UNAUTHENTICATED with a message safe to show (the generic login failure, an expired
    /// session).
    AuthenticationFailed(&'static str),
    /// FORBIDDEN with the reason the caller may see (pending approval, missing scope, …).
    ForbiddenBecause(&'static str),
    NotFound(&'static str),
    QuotaExceeded {
        limit: u32,
    },
    RateLimited {
        retry_after_secs: u64,
    },
    /// QUERY_TOO_COMPLEX: the request's price (`graphql::cost`) is over the caller's budget,
    /// in points or in engine runs; nothing ran.
    TooComplex {
        cost: u64,
        limit: u64,
        engine_runs: u64,
        engine_run_limit: u64,
    },
    BadRequest(String),
    /// SERVICE_UNAVAILABLE: the database could not be reached (or the operation kept losing
    /// races with others); nothing was applied and the same request may succeed shortly. The
    /// cause, when there is one, is logged, never shown.
    Unavailable(Option<Arc<sea_orm::DbErr>>),
    /// Never shown to clients: logged with the request id, which is all the client sees.
    Internal(Arc<anyhow::Error>),
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
        Self::Internal(Arc::new(err.into()))
    }

    /// The `extensions.code` clients see.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadUserInput { .. } => codes::BAD_USER_INPUT,
            Self::Unauthenticated | Self::AuthenticationFailed(_) => codes::UNAUTHENTICATED,
            Self::Forbidden | Self::ForbiddenBecause(_) => codes::FORBIDDEN,
            Self::NotFound(_) => codes::NOT_FOUND,
            Self::QuotaExceeded { .. } => codes::QUOTA_EXCEEDED,
            Self::RateLimited { .. } => codes::RATE_LIMITED,
            Self::TooComplex { .. } => codes::QUERY_TOO_COMPLEX,
            Self::BadRequest(_) => codes::BAD_REQUEST,
            Self::Unavailable(_) => codes::SERVICE_UNAVAILABLE,
            Self::Internal(_) => codes::INTERNAL,
        }
    }

    /// The message clients see: never the cause of an internal or database error.
    pub fn message(&self) -> String {
        match self {
            Self::BadUserInput { message, .. } => message.clone(),
            Self::Unauthenticated => "authentication required".into(),
            Self::Forbidden => "not allowed".into(),
            Self::AuthenticationFailed(message) | Self::ForbiddenBecause(message) => {
                (*message).into()
            }
            Self::NotFound(what) => format!("{what} not found"),
            Self::QuotaExceeded { limit } => {
                format!("quota exceeded: at most {limit} saved results")
            }
            Self::RateLimited { retry_after_secs } => {
                format!("too many requests; retry after {retry_after_secs} s")
            }
            Self::TooComplex {
                cost,
                limit,
                engine_runs,
                engine_run_limit,
            } => {
                if engine_runs > engine_run_limit {
                    format!(
                        "this request asks for {engine_runs} engine runs; at most {engine_run_limit} are allowed per request"
                    )
                } else {
                    format!(
                        "this request would cost {cost} points; the limit is {limit} (see the cost model in the README)"
                    )
                }
            }
            Self::BadRequest(message) => message.clone(),
            Self::Unavailable(_) => "the database is unavailable; retry shortly".into(),
            Self::Internal(_) => "internal error".into(),
        }
    }
}

/// Every `extensions.code` the API answers, in one place.
pub mod codes {
    pub const BAD_REQUEST: &str = "BAD_REQUEST";
    pub const BAD_USER_INPUT: &str = "BAD_USER_INPUT";
    pub const UNAUTHENTICATED: &str = "UNAUTHENTICATED";
    pub const FORBIDDEN: &str = "FORBIDDEN";
    pub const NOT_FOUND: &str = "NOT_FOUND";
    pub const QUOTA_EXCEEDED: &str = "QUOTA_EXCEEDED";
    pub const RATE_LIMITED: &str = "RATE_LIMITED";
    pub const QUERY_TOO_COMPLEX: &str = "QUERY_TOO_COMPLEX";
    pub const SERVICE_UNAVAILABLE: &str = "SERVICE_UNAVAILABLE";
    pub const INTERNAL: &str = "INTERNAL_SERVER_ERROR";
    /// Apollo's persisted queries: the hash names no query this server knows (send it again
    /// with the query). Only the transports answer it.
    pub const PERSISTED_QUERY_NOT_FOUND: &str = "PERSISTED_QUERY_NOT_FOUND";
    /// The document is not GraphQL (a syntax error; `locations` says where).
    pub const GRAPHQL_PARSE_FAILED: &str = "GRAPHQL_PARSE_FAILED";
    /// The document does not validate against the schema (an unknown field, a missing
    /// argument, a fragment cycle, the depth or complexity limit).
    pub const GRAPHQL_VALIDATION_FAILED: &str = "GRAPHQL_VALIDATION_FAILED";
}

/// Seconds a client is told to wait before retrying a SERVICE_UNAVAILABLE answer
/// (`extensions.retryAfter`, and the `Retry-After` header of a 503).
pub const UNAVAILABLE_RETRY_AFTER_SECS: u64 = 1;

impl From<sea_orm::DbErr> for ApiError {
    fn from(err: sea_orm::DbErr) -> Self {
        if crate::db::errors::is_unavailable(&err) {
            crate::db::outage::note_failure();
            Self::Unavailable(Some(Arc::new(err)))
        } else if crate::db::errors::is_contention(&err) {
            Self::Unavailable(Some(Arc::new(err)))
        } else {
            Self::internal(err)
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
