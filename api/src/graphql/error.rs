//! The one way an [`ApiError`] becomes a GraphQL error. Resolvers return
//! `Result<T, ApiError>` and use plain `?`; async-graphql calls this conversion, so the code
//! (and `field`, `limit`, `retryAfter`) cannot be lost by forgetting a call. `ApiError` has no
//! `Display`, so async-graphql's blanket conversion of displayable errors, which carries no
//! code, does not apply to it.

use async_graphql::{ErrorExtensionValues, Value};

use crate::error::{ApiError, UNAVAILABLE_RETRY_AFTER_SECS};

impl From<ApiError> for async_graphql::Error {
    fn from(error: ApiError) -> Self {
        match &error {
            // The request span carries the request id, so this log line and the client's
            // message can be matched without exposing the cause.
            ApiError::Internal(source) => tracing::error!(error = ?source, "internal error"),
            ApiError::Unavailable(Some(source)) => {
                tracing::warn!(error = %source, "database unavailable")
            }
            _ => {}
        }
        let mut extensions = ErrorExtensionValues::default();
        extensions.set("code", error.code());
        match &error {
            ApiError::BadUserInput { field, .. } => extensions.set("field", field.as_str()),
            ApiError::QuotaExceeded { limit } => extensions.set("limit", *limit),
            ApiError::RateLimited { retry_after_secs } => {
                extensions.set("retryAfter", Value::from(*retry_after_secs))
            }
            ApiError::TooComplex {
                cost,
                limit,
                engine_runs,
                engine_run_limit,
            } => {
                extensions.set("cost", Value::from(*cost));
                extensions.set("limit", Value::from(*limit));
                extensions.set("engineRuns", Value::from(*engine_runs));
                extensions.set("engineRunLimit", Value::from(*engine_run_limit));
            }
            ApiError::Unavailable(_) => {
                extensions.set("retryAfter", Value::from(UNAVAILABLE_RETRY_AFTER_SECS))
            }
            _ => {}
        }
        async_graphql::Error {
            message: error.message(),
            source: None,
            extensions: Some(extensions),
        }
    }
}

/// Longest error message sent, in characters: messages may quote what the client sent (an
/// unknown field, a bad value), and an answer never echoes more than a short prefix of it.
pub(crate) const MAX_MESSAGE_CHARS: usize = 300;

/// Cuts every message of `response` to [`MAX_MESSAGE_CHARS`], marking the cut with `…`.
pub(crate) fn shorten_messages(response: &mut async_graphql::Response) {
    for error in &mut response.errors {
        if let Some((cut, _)) = error.message.char_indices().nth(MAX_MESSAGE_CHARS) {
            error.message.truncate(cut);
            error.message.push('…');
        }
    }
}

/// A request-level error (no path, no position): what a transport answers when it refuses
/// a request before execution.
pub(crate) fn request_error(error: ApiError) -> async_graphql::ServerError {
    let error = async_graphql::Error::from(error);
    let mut server_error = async_graphql::ServerError::new(error.message, None);
    server_error.extensions = error.extensions;
    server_error
}

#[cfg(test)]
mod tests {
    use async_graphql::Value;

    use crate::error::{ApiError, codes};

    fn converted(error: ApiError) -> (String, async_graphql::ErrorExtensionValues) {
        let error = async_graphql::Error::from(error);
        (error.message, error.extensions.expect("extensions are set"))
    }

    fn code_of(error: ApiError) -> Value {
        converted(error).1.get("code").cloned().expect("a code")
    }

    #[test]
    fn bad_user_input_names_the_field() {
        let (message, ext) = converted(ApiError::input("leverage", "must be at least 1"));
        assert_eq!(message, "must be at least 1");
        assert_eq!(ext.get("code"), Some(&Value::from(codes::BAD_USER_INPUT)));
        assert_eq!(ext.get("field"), Some(&Value::from("leverage")));
    }

    #[test]
    fn unauthenticated_in_both_forms() {
        assert_eq!(
            code_of(ApiError::Unauthenticated),
            Value::from(codes::UNAUTHENTICATED)
        );
        let (message, ext) = converted(ApiError::AuthenticationFailed("sign in again"));
        assert_eq!(message, "sign in again");
        assert_eq!(ext.get("code"), Some(&Value::from(codes::UNAUTHENTICATED)));
    }

    #[test]
    fn forbidden_in_both_forms() {
        assert_eq!(code_of(ApiError::Forbidden), Value::from(codes::FORBIDDEN));
        let (message, ext) = converted(ApiError::ForbiddenBecause("pending approval"));
        assert_eq!(message, "pending approval");
        assert_eq!(ext.get("code"), Some(&Value::from(codes::FORBIDDEN)));
    }

    #[test]
    fn not_found_names_the_object() {
        let (message, ext) = converted(ApiError::NotFound("saved result"));
        assert_eq!(message, "saved result not found");
        assert_eq!(ext.get("code"), Some(&Value::from(codes::NOT_FOUND)));
    }

    #[test]
    fn quota_exceeded_carries_the_limit() {
        let (_, ext) = converted(ApiError::QuotaExceeded { limit: 50 });
        assert_eq!(ext.get("code"), Some(&Value::from(codes::QUOTA_EXCEEDED)));
        assert_eq!(ext.get("limit"), Some(&Value::from(50u32)));
    }

    #[test]
    fn rate_limited_carries_retry_after() {
        let (_, ext) = converted(ApiError::RateLimited {
            retry_after_secs: 42,
        });
        assert_eq!(ext.get("code"), Some(&Value::from(codes::RATE_LIMITED)));
        assert_eq!(ext.get("retryAfter"), Some(&Value::from(42u64)));
    }

    #[test]
    fn query_too_complex_carries_the_price_and_the_budget() {
        let (message, ext) = converted(ApiError::TooComplex {
            cost: 9_000,
            limit: 5_000,
            engine_runs: 0,
            engine_run_limit: 5,
        });
        assert!(
            message.contains("9000") && message.contains("5000"),
            "{message}"
        );
        assert_eq!(
            ext.get("code"),
            Some(&Value::from(codes::QUERY_TOO_COMPLEX))
        );
        assert_eq!(ext.get("cost"), Some(&Value::from(9_000u64)));
        assert_eq!(ext.get("limit"), Some(&Value::from(5_000u64)));
        assert_eq!(ext.get("engineRunLimit"), Some(&Value::from(5u64)));
    }

    #[test]
    fn long_messages_are_cut_to_a_prefix() {
        let echoed = "é".repeat(100_000);
        let mut response = async_graphql::Response::from_errors(vec![
            async_graphql::ServerError::new(format!("Unknown field \"{echoed}\""), None),
            async_graphql::ServerError::new("short", None),
        ]);
        super::shorten_messages(&mut response);
        let long = &response.errors[0].message;
        assert_eq!(long.chars().count(), super::MAX_MESSAGE_CHARS + 1);
        assert!(long.starts_with("Unknown field \"é") && long.ends_with('…'));
        assert_eq!(response.errors[1].message, "short");
    }

    #[test]
    fn bad_request_keeps_its_message() {
        let (message, ext) = converted(ApiError::BadRequest("bad cursor".into()));
        assert_eq!(message, "bad cursor");
        assert_eq!(ext.get("code"), Some(&Value::from(codes::BAD_REQUEST)));
    }

    #[test]
    fn unavailable_hides_the_cause_and_says_when_to_retry() {
        let cause = sea_orm::DbErr::Custom("connection refused at 10.0.0.7".into());
        let (message, ext) = converted(ApiError::Unavailable(Some(cause.into())));
        assert!(!message.contains("10.0.0.7"), "{message}");
        assert_eq!(
            ext.get("code"),
            Some(&Value::from(codes::SERVICE_UNAVAILABLE))
        );
        assert_eq!(
            ext.get("retryAfter"),
            Some(&Value::from(crate::error::UNAVAILABLE_RETRY_AFTER_SECS))
        );
    }

    #[test]
    fn internal_hides_the_cause() {
        let (message, ext) = converted(ApiError::internal(anyhow::anyhow!("secret path /etc")));
        assert_eq!(message, "internal error");
        assert_eq!(ext.get("code"), Some(&Value::from(codes::INTERNAL)));
    }
}
