//! `GET /exports/backtests/{sessionId}/{table}.csv` and `GET /exports/saved/{resultId}/{table}.csv`:
//! a result's daily, rounds, events or monthly table as a streamed CSV file.
//!
//! Authenticated exactly like `/graphql` (Bearer token or, in cookie mode, the session cookie)
//! and visible exactly as through GraphQL: a backtest session to its owner (an anonymous one
//! to anyone), a saved result to its approved owner. An id that names nothing the caller may
//! see answers 404, whether it is missing, malformed or another user's. Errors are the
//! GraphQL-shaped JSON bodies of the other endpoints, with `extensions.code`.

use std::{convert::Infallible, net::SocketAddr, sync::Arc};

use axum::{
    body::{Body, Bytes},
    extract::{ConnectInfo, Path, Query, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use engine::backtest::BacktestResult;
use serde::Deserialize;
use uuid::Uuid;

use super::{HttpState, errors::api_error_response, graphql::RequestMeta};
use crate::{
    auth::AuthContext,
    error::{ApiError, ApiResult},
    export::{CsvChunks, Table, file_name, parse_columns},
    services::saved_results,
};

#[derive(Debug, Deserialize)]
pub struct ExportQuery {
    /// Daily columns, comma-separated (daily.csv only).
    columns: Option<String>,
}

pub async fn backtest(
    State(state): State<HttpState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path((session_id, file)): Path<(String, String)>,
    Query(query): Query<ExportQuery>,
) -> Response {
    let app = state.app.clone();
    respond(
        &state,
        &headers,
        peer,
        &file,
        query,
        move |auth| async move {
            // As `backtestSession`: signed-in callers must be approved; no credentials at all
            // reach only anonymous sessions.
            let caller = if auth.is_anonymous() {
                None
            } else {
                Some(auth.require_approved()?.user_id)
            };
            let session_id = parse_id(&session_id, "backtest session")?;
            let backtests = &app.backtests;
            let record = backtests.session(caller, session_id).await?;
            backtests
                .result_of(&record)
                .await?
                .ok_or(ApiError::NotFound("completed backtest result"))
        },
    )
    .await
}

pub async fn saved(
    State(state): State<HttpState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path((result_id, file)): Path<(String, String)>,
    Query(query): Query<ExportQuery>,
) -> Response {
    let (db, market) = (state.app.db.clone(), state.app.market.clone());
    respond(
        &state,
        &headers,
        peer,
        &file,
        query,
        move |auth| async move {
            let caller = auth.require_approved()?.user_id;
            let result_id = parse_id(&result_id, "saved result")?;
            let (_, payload) = saved_results::get(&db, &market, caller, result_id).await?;
            // A saved sweep, or a result imported with its legacy numbers only, has no
            // backtest tables.
            payload
                .backtest()
                .ok_or(ApiError::NotFound("backtest result of this saved result"))
        },
    )
    .await
}

/// An id that does not parse names no row: NOT_FOUND, as through GraphQL.
fn parse_id(text: &str, what: &'static str) -> ApiResult<Uuid> {
    Uuid::parse_str(text).map_err(|_| ApiError::NotFound(what))
}

/// Authenticates, rate-limits, checks the file and columns, finds the result with `find` and
/// streams the table.
async fn respond<F, Fut>(
    state: &HttpState,
    headers: &HeaderMap,
    peer: SocketAddr,
    file: &str,
    query: ExportQuery,
    find: F,
) -> Response
where
    F: FnOnce(AuthContext) -> Fut,
    Fut: Future<Output = ApiResult<Arc<BacktestResult>>>,
{
    let meta = RequestMeta::from_parts(headers, Some(peer));
    let auth = super::authenticate::authenticate(&state.app, &meta.presented()).await;
    let subject = crate::rate_limit::Subject::of(&auth);
    if let Err(crate::rate_limit::RetryAfter(secs)) = state.app.rate_limits.admit(&subject, 0).await
    {
        return super::errors::rate_limited_response(secs);
    }
    let Some(table) = Table::parse(file).filter(|_| file.ends_with(".csv")) else {
        return api_error_response(&ApiError::NotFound("export"));
    };
    let columns = match (table, query.columns.as_deref()) {
        (_, None) => None,
        (Table::Daily, Some(text)) => match parse_columns(text) {
            Ok(columns) => Some(columns),
            Err(err) => return api_error_response(&err),
        },
        (_, Some(_)) => {
            return api_error_response(&ApiError::input(
                "columns",
                "columns applies to daily.csv only",
            ));
        }
    };
    let result = match find(auth).await {
        Ok(result) => result,
        Err(err) => return api_error_response(&err),
    };
    let name = file_name(&result, table);
    let chunks =
        CsvChunks::new(result, table, columns).map(|chunk| Ok::<_, Infallible>(Bytes::from(chunk)));
    let mut response = Body::from_stream(futures_util::stream::iter(chunks)).into_response();
    *response.status_mut() = StatusCode::OK;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8; header=present"),
    );
    // The name is ASCII letters, digits, dots, dashes and underscores (`file_name`).
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
    response
}
