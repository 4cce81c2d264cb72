//! POST and GET /graphql. The transport rules live here: JSON only, one operation per request,
//! no mutations over GET, bounded bodies. Execution is shared by both verbs.

use std::{net::SocketAddr, panic::AssertUnwindSafe, time::Instant};

use async_graphql::{
    Request, Response, ServerError, Value,
    parser::{
        parse_query,
        types::{ExecutableDocument, OperationType},
    },
};
use axum::{
    body::Bytes,
    extract::{ConnectInfo, Query, State, rejection::BytesRejection},
    http::{HeaderMap, StatusCode, header},
    response::{Html, IntoResponse, Response as HttpResponse},
};
use futures_util::FutureExt;
use serde::Deserialize;

use super::{
    HttpState, REQUEST_ID,
    errors::{bad_input_response, error_response, rate_limited_response},
    persisted, playground, variables,
};
use crate::{
    error::codes,
    graphql::{cost, error::request_error, nesting, operation},
};

/// What the transport knows about the caller; resolvers (and auth) read it from the context.
#[derive(Debug, Clone, Default)]
pub struct RequestMeta {
    pub request_id: String,
    /// The `Accept` header (the media type and status conventions of the response).
    pub accept: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub authorization: Option<String>,
    pub cookie: Option<String>,
    pub origin: Option<String>,
    pub host: Option<String>,
    pub forwarded_for: Option<String>,
}

/// The `Authorization` header. One that is not visible ASCII is kept as an unreadable
/// credential, which authentication refuses (UNAUTHENTICATED): dropping it would make the
/// request anonymous.
pub(crate) fn credential_header(headers: &HeaderMap) -> Option<String> {
    headers.get(header::AUTHORIZATION).map(|value| {
        value
            .to_str()
            .map(str::to_owned)
            .unwrap_or_else(|_| "\u{fffd}".to_owned())
    })
}

impl RequestMeta {
    pub(crate) fn from_parts(headers: &HeaderMap, peer: Option<SocketAddr>) -> Self {
        let text = |name| {
            headers
                .get(name)
                .and_then(|v: &header::HeaderValue| v.to_str().ok())
                .map(str::to_owned)
        };
        Self {
            request_id: text(REQUEST_ID).unwrap_or_default(),
            accept: text(header::ACCEPT),
            ip: peer.map(|p| p.ip().to_string()),
            user_agent: text(header::USER_AGENT),
            authorization: credential_header(headers),
            cookie: text(header::COOKIE),
            origin: text(header::ORIGIN),
            host: text(header::HOST),
            forwarded_for: text(header::HeaderName::from_static("x-forwarded-for")),
        }
    }

    /// What authentication reads from the request.
    pub(crate) fn presented(&self) -> crate::http::authenticate::Presented {
        crate::http::authenticate::Presented {
            authorization: self.authorization.clone(),
            cookie: self.cookie.clone(),
            origin: self.origin.clone(),
            host: self.host.clone(),
            peer: self.ip.as_deref().and_then(|ip| ip.parse().ok()),
            forwarded_for: self.forwarded_for.clone(),
            user_agent: self.user_agent.clone(),
        }
    }
}

pub async fn post(
    State(state): State<HttpState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> HttpResponse {
    if !is_json(&headers) {
        return error_response(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "POST /graphql takes a JSON body (content-type: application/json)",
            codes::BAD_REQUEST,
        );
    }
    let body = match body {
        Ok(body) => body,
        Err(rejection) => {
            let status = rejection.status();
            let message = if status == StatusCode::PAYLOAD_TOO_LARGE {
                format!("request body exceeds {} bytes", state.app.config.body_limit)
            } else {
                "could not read the request body".to_string()
            };
            return error_response(status, &message, codes::BAD_REQUEST);
        }
    };
    let mut request = match parse_post_body(&body) {
        Ok(request) => request,
        Err(message) => {
            return error_response(StatusCode::BAD_REQUEST, &message, codes::BAD_REQUEST);
        }
    };
    let extension = request
        .extensions
        .get("persistedQuery")
        .map(|v| v.clone().into_json().unwrap_or_default());
    match persisted_query(&state, &request.query, extension.as_ref()).await {
        Ok(Some(query)) => request.query = query,
        Ok(None) => {}
        Err(response) => return response,
    }
    let meta = RequestMeta::from_parts(&headers, Some(peer));
    execute(&state, request, meta).await
}

/// The query of a request that uses Apollo's persisted queries (`persisted`): Some(query) to
/// run, None when the request does not use them, or the answer to send instead.
async fn persisted_query(
    state: &HttpState,
    query: &str,
    extension: Option<&serde_json::Value>,
) -> Result<Option<String>, HttpResponse> {
    match state.persisted.resolve(query, extension).await {
        persisted::Outcome::NotPersisted => Ok(None),
        persisted::Outcome::Query(query) => Ok(Some(query)),
        // As Apollo Server answers it: a 200 with this message and code, which its client
        // link takes as "send the query".
        persisted::Outcome::NotFound => Err(error_response(
            StatusCode::OK,
            "PersistedQueryNotFound",
            codes::PERSISTED_QUERY_NOT_FOUND,
        )),
        persisted::Outcome::Refused(message) => Err(error_response(
            StatusCode::BAD_REQUEST,
            message,
            codes::BAD_REQUEST,
        )),
    }
}

fn parse_post_body(body: &[u8]) -> Result<Request, String> {
    if body.trim_ascii_start().first() == Some(&b'[') {
        return Err("batched requests are not supported: send one operation per request".into());
    }
    serde_json::from_slice(body).map_err(|e| {
        if e.is_data() {
            format!("not a GraphQL request: {e}")
        } else {
            format!("malformed JSON body: {e}")
        }
    })
}

fn is_json(headers: &HeaderMap) -> bool {
    let Some(content_type) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetParams {
    query: Option<String>,
    operation_name: Option<String>,
    variables: Option<String>,
    /// JSON: `{"persistedQuery": {"version": 1, "sha256Hash": "…"}}` (persisted queries).
    extensions: Option<String>,
}

pub async fn get(
    State(state): State<HttpState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    params: Result<Query<GetParams>, axum::extract::rejection::QueryRejection>,
) -> HttpResponse {
    let Ok(Query(params)) = params else {
        return error_response(
            StatusCode::BAD_REQUEST,
            "malformed query string",
            codes::BAD_REQUEST,
        );
    };
    let extension = match params
        .extensions
        .as_deref()
        .map(serde_json::from_str::<serde_json::Value>)
    {
        None => None,
        Some(Ok(extensions)) => extensions.get("persistedQuery").cloned(),
        Some(Err(_)) => {
            return error_response(
                StatusCode::BAD_REQUEST,
                "extensions must be a JSON object",
                codes::BAD_REQUEST,
            );
        }
    };
    let query = match persisted_query(
        &state,
        params.query.as_deref().unwrap_or(""),
        extension.as_ref(),
    )
    .await
    {
        Ok(Some(query)) => Some(query),
        Ok(None) => params.query,
        Err(response) => return response,
    };
    let Some(query) = query else {
        if !state.app.config.playground {
            return error_response(
                StatusCode::NOT_FOUND,
                "the playground is disabled; POST GraphQL requests to /graphql",
                codes::BAD_REQUEST,
            );
        }
        let html = playground::graphiql_html(state.app.config.playground_assets.is_some());
        return Html(html).into_response();
    };
    if nesting::too_deep(&query, nesting::MAX_NESTING) {
        return too_deep_response();
    }
    let document = parse_query(&query).ok();
    if let Some(kind) = document
        .as_ref()
        .and_then(|document| non_query_operation(document, params.operation_name.as_deref()))
    {
        let mut response = error_response(
            StatusCode::METHOD_NOT_ALLOWED,
            &format!("{kind} operations are only accepted over POST"),
            codes::BAD_REQUEST,
        );
        response
            .headers_mut()
            .insert(header::ALLOW, header::HeaderValue::from_static("POST"));
        return response;
    }
    let mut request = Request::new(query);
    if let Some(document) = document {
        request.set_parsed_query(document);
    }
    if let Some(name) = params.operation_name {
        request = request.operation_name(name);
    }
    if let Some(variables) = params.variables {
        match serde_json::from_str(&variables) {
            Ok(variables) => {
                request = request.variables(async_graphql::Variables::from_json(variables))
            }
            Err(_) => {
                return error_response(
                    StatusCode::BAD_REQUEST,
                    "variables must be a JSON object",
                    codes::BAD_REQUEST,
                );
            }
        }
    }
    let meta = RequestMeta::from_parts(&headers, Some(peer));
    execute(&state, request, meta).await
}

/// A document nesting deeper than the parser can safely recurse: refused before parsing.
fn too_deep_response() -> HttpResponse {
    error_response(
        StatusCode::BAD_REQUEST,
        &format!(
            "the document nests deeper than {} levels of brackets",
            nesting::MAX_NESTING
        ),
        codes::BAD_REQUEST,
    )
}

/// The kind of the operation that would run, when it is not a query. An unparsable document,
/// or one without a clear operation, is left to execution, which reports it properly.
fn non_query_operation(
    document: &ExecutableDocument,
    operation_name: Option<&str>,
) -> Option<&'static str> {
    match operation::selected(document, operation_name)?.ty {
        OperationType::Query => None,
        OperationType::Mutation => Some("mutation"),
        OperationType::Subscription => Some("subscription"),
    }
}

/// Runs one request, turning a panic into an INTERNAL_SERVER_ERROR response and every error
/// into one with a code. Request-level failures (parse, validation, limits) answer 400.
pub(crate) async fn execute(
    state: &HttpState,
    request: Request,
    meta: RequestMeta,
) -> HttpResponse {
    let accepts = Accepts::of(meta.accept.as_deref());
    let response = run_request(state, request, meta).await;
    accepts.shape(response).await
}

/// What the client's `Accept` asks of a response (GraphQL over HTTP, "Legacy watershed").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Accepts {
    /// No `Accept`, or `*/*`: `application/json`, and request errors (parse, validation,
    /// variables, the cost limit) answer 400, as this API always has.
    Default,
    /// `application/json` named: request errors answer 200, as the spec asks for it.
    Json,
    /// `application/graphql-response+json` preferred: that media type, request errors 400
    /// without a `data` entry.
    GraphqlResponse,
}

impl Accepts {
    fn of(accept: Option<&str>) -> Self {
        let Some(accept) = accept else {
            return Accepts::Default;
        };
        // Media types with their q (1 when not given); a q of 0 refuses the type.
        let weight = |wanted: &str| {
            accept
                .split(',')
                .filter_map(|item| {
                    let mut parts = item.split(';').map(str::trim);
                    let media = parts.next()?.to_ascii_lowercase();
                    let q = parts
                        .find_map(|p| p.strip_prefix("q="))
                        .and_then(|q| q.parse::<f32>().ok())
                        .unwrap_or(1.0);
                    (media == wanted).then_some(q)
                })
                .fold(None, |best: Option<f32>, q| {
                    Some(best.map_or(q, |b| b.max(q)))
                })
                .filter(|q| *q > 0.0)
        };
        match (
            weight("application/graphql-response+json"),
            weight("application/json"),
        ) {
            (Some(graphql), json) if json.is_none_or(|json| graphql >= json) => {
                Accepts::GraphqlResponse
            }
            (_, Some(_)) => Accepts::Json,
            _ => Accepts::Default,
        }
    }

    /// The response as the client accepts it.
    async fn shape(self, response: HttpResponse) -> HttpResponse {
        if self == Accepts::Default {
            return response;
        }
        let (mut parts, body) = response.into_parts();
        let request_error = parts.status == StatusCode::BAD_REQUEST;
        if self == Accepts::GraphqlResponse {
            parts.headers.insert(
                header::CONTENT_TYPE,
                header::HeaderValue::from_static(
                    "application/graphql-response+json; charset=utf-8",
                ),
            );
        }
        if !request_error {
            return HttpResponse::from_parts(parts, body);
        }
        if self == Accepts::Json {
            parts.status = StatusCode::OK;
            return HttpResponse::from_parts(parts, body);
        }
        // A request error ran nothing: no `data` entry at all.
        let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
            return HttpResponse::from_parts(parts, axum::body::Body::empty());
        };
        let stripped = match serde_json::from_slice::<serde_json::Value>(&bytes) {
            Ok(serde_json::Value::Object(mut map)) => {
                map.remove("data");
                serde_json::to_vec(&map).ok()
            }
            _ => None,
        };
        HttpResponse::from_parts(
            parts,
            axum::body::Body::from(stripped.unwrap_or(bytes.to_vec())),
        )
    }
}

async fn run_request(state: &HttpState, request: Request, meta: RequestMeta) -> HttpResponse {
    let started = Instant::now();
    let mut request = request;
    if nesting::too_deep(&request.query, nesting::MAX_NESTING) {
        state
            .app
            .metrics
            .observe_request("invalid", "rejected", started.elapsed().as_secs_f64());
        return too_deep_response();
    }
    let operation_name = request.operation_name.clone();
    // Parsed once here (GET may have done it already); execution reuses the document. One
    // that does not parse is left to execution, which reports it. The variables step aside
    // meanwhile: the document is borrowed from the whole request.
    let given = std::mem::take(&mut request.variables);
    let (label, missing) = match request.parsed_query() {
        Ok(document) => {
            let operation = operation_name.as_deref();
            let missing = variables::missing_required(document, operation, &given)
                .map(|name| {
                    let message = format!("variable ${name} is required and was not given a value");
                    (name, message)
                })
                .or_else(|| {
                    variables::unset_in_required_argument(
                        document,
                        operation,
                        &given,
                        &state.shape,
                    )
                    .map(|name| {
                        let message = format!(
                            "variable ${name} has no value but is passed to an argument that requires one"
                        );
                        (name, message)
                    })
                });
            (operation_label(document, operation), missing)
        }
        Err(_) => ("invalid".to_string(), None),
    };
    request.variables = given;
    tracing::Span::current().record("operation", label.as_str());
    if let Some((name, message)) = missing {
        state
            .app
            .metrics
            .observe_request("invalid", "rejected", started.elapsed().as_secs_f64());
        return bad_input_response(&message, &name);
    }
    let request_id = meta.request_id.clone();
    // The caller is resolved once per request; resolvers read it through
    // `graphql::guards::require_*`.
    let auth = crate::http::authenticate::authenticate(&state.app, &meta.presented()).await;
    // Priced before validation and before any resolver: a request over the caller's budget
    // costs no more than its parse.
    let budget = cost::Budget::for_caller(&state.app.config, &auth);
    let priced = cost::check(&mut request, &state.shape, &budget);
    let report = match &priced {
        Ok(Some(cost)) if cost::wants_report(&request) => Some(cost::report(*cost, &budget)),
        _ => None,
    };
    let refused = match priced {
        Err(too_complex) => Some(Response::from_errors(vec![request_error(too_complex)])),
        Ok(cost) => {
            // Charged only for what passed pricing, so a refused shape costs no tokens.
            let subject = crate::rate_limit::Subject::of(&auth);
            let engine_runs = cost.map_or(0, |cost| cost.engine_runs);
            if let Err(crate::rate_limit::RetryAfter(retry_after_secs)) =
                state.app.rate_limits.admit(&subject, engine_runs).await
            {
                state.app.metrics.observe_request(
                    &label,
                    "rate_limited",
                    started.elapsed().as_secs_f64(),
                );
                return rate_limited_response(retry_after_secs);
            }
            crate::graphql::write_scope::refuse_without_write(&mut request, &auth)
        }
    };
    let request = request.data(state.app.clone()).data(meta).data(auth);
    let outcome = match refused {
        Some(refused) => respond(refused, &request_id),
        None => run_guarded(&state.schema, request, &request_id, report).await,
    };
    let (status, body, extra_headers, outcome_label) = outcome;
    let label = if outcome_label == "rejected" {
        "invalid"
    } else {
        label.as_str()
    };
    state
        .app
        .metrics
        .observe_request(label, outcome_label, started.elapsed().as_secs_f64());
    let json = header::HeaderValue::from_static("application/json");
    let mut http_response = (status, [(header::CONTENT_TYPE, json)], body).into_response();
    http_response.headers_mut().extend(extra_headers);
    http_response
}

/// Executes one request: a panic becomes an INTERNAL_SERVER_ERROR body (status 500), every
/// error gets a code, and request-level failures answer 400. Returns the status, the JSON
/// body, headers set by resolvers, and an outcome label for metrics.
pub(crate) async fn run_guarded<E: async_graphql::Executor>(
    executor: &E,
    request: Request,
    request_id: &str,
    cost_report: Option<Value>,
) -> (StatusCode, Vec<u8>, HeaderMap, &'static str) {
    let outcome = AssertUnwindSafe(executor.execute(request))
        .catch_unwind()
        .await;
    match outcome {
        Ok(mut response) => {
            if let Some(report) = cost_report {
                response.extensions.insert("cost".to_string(), report);
            }
            respond(response, request_id)
        }
        Err(_) => {
            tracing::error!(request_id, "resolver panicked");
            internal_error(request_id, HeaderMap::new())
        }
    }
}

/// The status, body, resolver-set headers and outcome label of an executed response.
/// Responses whose body is larger than this are freed off the request's path.
const DROP_ASIDE_BYTES: usize = 256 * 1024;

fn respond(
    mut response: Response,
    request_id: &str,
) -> (StatusCode, Vec<u8>, HeaderMap, &'static str) {
    // Resolvers may set headers (a session cookie, for one).
    let mut extra_headers = std::mem::take(&mut response.http_headers);
    let request_level = finalize_errors(&mut response, request_id);
    crate::graphql::error::shorten_messages(&mut response);
    if let Some(secs) = retry_after(&response) {
        // RATE_LIMITED from a resolver (the login throttle): the header as well as
        // `extensions.retryAfter`, for clients and proxies that read only headers.
        extra_headers.insert(header::RETRY_AFTER, header::HeaderValue::from(secs));
    }
    let status = if request_level {
        StatusCode::BAD_REQUEST
    } else if only_unavailable(&response) {
        extra_headers.insert(
            header::RETRY_AFTER,
            header::HeaderValue::from(crate::error::UNAVAILABLE_RETRY_AFTER_SECS),
        );
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    let outcome_label = match (request_level, response.errors.is_empty()) {
        (true, _) => "rejected",
        (false, true) => "ok",
        (false, false) => "error",
    };
    let serialised = serde_json::to_vec(&response);
    if serialised
        .as_ref()
        .is_ok_and(|body| body.len() > DROP_ASIDE_BYTES)
    {
        // Freeing a large response's value tree (a daily table is 230,000 values) takes about
        // a millisecond: done on the blocking pool, not before the body goes out.
        tokio::task::spawn_blocking(move || drop(response));
    }
    match serialised {
        Ok(body) => (status, body, extra_headers, outcome_label),
        Err(err) => {
            tracing::error!(request_id, error = %err, "could not serialise a response");
            internal_error(request_id, extra_headers)
        }
    }
}

/// The longest `retryAfter` of the response's RATE_LIMITED errors.
fn retry_after(response: &Response) -> Option<u64> {
    response
        .errors
        .iter()
        .filter_map(|e| e.extensions.as_ref())
        .filter(|ext| matches!(ext.get("code"), Some(Value::String(c)) if c == codes::RATE_LIMITED))
        .filter_map(|ext| match ext.get("retryAfter") {
            Some(Value::Number(n)) => n.as_u64(),
            _ => None,
        })
        .max()
}

/// True when the database being unavailable is all the response says: every error is
/// SERVICE_UNAVAILABLE and no field carries data (`data` is null, or each root field is).
/// Such a response answers 503 with `Retry-After`; one with any data stays 200.
fn only_unavailable(response: &Response) -> bool {
    let no_data = match &response.data {
        Value::Null => true,
        Value::Object(fields) => fields.values().all(|v| matches!(v, Value::Null)),
        _ => false,
    };
    no_data
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| {
            e.extensions
                .as_ref()
                .and_then(|ext| ext.get("code"))
                .is_some_and(
                    |code| matches!(code, Value::String(c) if c == codes::SERVICE_UNAVAILABLE),
                )
        })
}

fn internal_error(
    request_id: &str,
    headers: HeaderMap,
) -> (StatusCode, Vec<u8>, HeaderMap, &'static str) {
    let body = super::errors::error_body(
        &format!("internal server error (request id {request_id})"),
        codes::INTERNAL,
    );
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        body.to_string().into_bytes(),
        headers,
        "panic",
    )
}

/// Gives every error a code and hides internal ones behind the request id. Returns true when
/// the request failed as a whole before execution (nothing ran, every error is path-less).
pub(crate) fn finalize_errors(response: &mut Response, request_id: &str) -> bool {
    let request_level = !response.errors.is_empty()
        && matches!(response.data, Value::Null)
        && response.errors.iter().all(|e| e.path.is_empty());
    for error in &mut response.errors {
        classify(error, request_id);
    }
    request_level
}

fn classify(error: &mut ServerError, request_id: &str) {
    let code = error
        .extensions
        .as_ref()
        .and_then(|ext| ext.get("code"))
        .and_then(|v| match v {
            Value::String(s) => Some(s.clone()),
            _ => None,
        });
    let code = match code {
        Some(code) => code,
        // Request-level failures, distinguished as GraphQL over HTTP clients expect them:
        // the document does not parse, an argument's value has the wrong type, the document
        // does not validate against the schema.
        None if error.path.is_empty() => {
            if let Some(plain) = parse_failure(&error.message) {
                error.message = plain;
                codes::GRAPHQL_PARSE_FAILED.to_string()
            } else if is_input_coercion(&error.message) {
                let field = quoted_name(&error.message).unwrap_or_default();
                let ext = error.extensions.get_or_insert_with(Default::default);
                ext.set("field", field);
                codes::BAD_USER_INPUT.to_string()
            } else {
                codes::GRAPHQL_VALIDATION_FAILED.to_string()
            }
        }
        None if is_input_coercion(&error.message) => {
            let field = quoted_name(&error.message).unwrap_or_default();
            let ext = error.extensions.get_or_insert_with(Default::default);
            ext.set("field", field);
            codes::BAD_USER_INPUT.to_string()
        }
        None => {
            tracing::error!(request_id, message = %error.message, "uncoded resolver error");
            codes::INTERNAL.to_string()
        }
    };
    let ext = error.extensions.get_or_insert_with(Default::default);
    if code == codes::INTERNAL {
        error.message = format!("internal server error (request id {request_id})");
        ext.set("requestId", request_id);
    }
    ext.set("code", code);
}

/// A parser error (`" --> 1:20\n  |\n1 | { x\n  |   ^---\n  |\n  = expected …"`) as one
/// plain sentence, without the source excerpt: "Syntax error: expected …". The position is in
/// `locations`. None for any other message.
fn parse_failure(message: &str) -> Option<String> {
    if !message.starts_with(" --> ") {
        return None;
    }
    let expected = message
        .lines()
        .find_map(|line| line.trim_start().strip_prefix("= "))
        .unwrap_or("the document is not valid GraphQL");
    Some(format!("Syntax error: {expected}"))
}

fn is_input_coercion(message: &str) -> bool {
    message.starts_with("Failed to parse")
        || message.starts_with("Invalid value")
        || message.starts_with("Expected input type")
}

fn quoted_name(message: &str) -> Option<String> {
    let start = message.find('"')? + 1;
    let end = start + message[start..].find('"')?;
    Some(message[start..end].to_string())
}

/// A bounded label for metrics: the root fields of the operation (at most three), so that
/// client-chosen operation names cannot blow up the metric's cardinality.
/// Longest operation name kept whole in a label.
const MAX_LABEL_CHARS: usize = 64;

/// The `operation` label of the request metrics and the request's log span: the operation's
/// name when it has one (as clients name their operations, `SavedResults`), else its root
/// fields (`runBacktest`, `me,mySessions`). Metrics bound how many distinct labels they keep.
fn operation_label(document: &ExecutableDocument, operation_name: Option<&str>) -> String {
    use async_graphql::parser::types::DocumentOperations;
    use async_graphql::parser::types::Selection;
    // A named operation is parsed into `Multiple`, one anonymous operation into `Single`.
    let named = match (&document.operations, operation_name) {
        (DocumentOperations::Multiple(map), Some(name)) => {
            map.keys().find(|n| n.as_str() == name).map(|n| n.as_str())
        }
        (DocumentOperations::Multiple(map), None) if map.len() == 1 => {
            map.keys().next().map(|n| n.as_str())
        }
        _ => None,
    };
    if let Some(name) = named {
        // GraphQL names are ASCII letters, digits and underscores; long ones are cut.
        return name.chars().take(MAX_LABEL_CHARS).collect();
    }
    let Some(operation) = operation::selected(document, operation_name) else {
        return "invalid".into();
    };
    let mut fields: Vec<&str> = operation
        .selection_set
        .node
        .items
        .iter()
        .filter_map(|item| match &item.node {
            Selection::Field(field) => Some(field.node.name.node.as_str()),
            _ => None,
        })
        .take(3)
        .collect();
    fields.sort_unstable();
    fields.dedup();
    if fields.is_empty() {
        "invalid".into()
    } else {
        fields.join(",")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    mod guarded {
        use async_graphql::{EmptyMutation, EmptySubscription, Object, Schema};

        use super::super::run_guarded;
        use crate::error::ApiError;

        /// `true` makes `boom` panic; a constant panic would be flagged as unreachable code.
        struct Query(bool);

        #[Object]
        impl Query {
            async fn boom(&self) -> i32 {
                if self.0 {
                    panic!("resolver bug");
                }
                0
            }
            async fn leaky(&self) -> async_graphql::Result<i32> {
                Err("connection to 10.0.0.5:5432 refused".into())
            }
            async fn coded(&self) -> async_graphql::Result<i32> {
                Err(ApiError::input("amount", "must be positive").into())
            }
            async fn unavailable(&self) -> async_graphql::Result<Option<i32>> {
                Err(ApiError::Unavailable(None).into())
            }
            async fn one(&self) -> i32 {
                1
            }
        }

        fn schema() -> Schema<Query, EmptyMutation, EmptySubscription> {
            Schema::new(Query(true), EmptyMutation, EmptySubscription)
        }

        async fn run(
            query: &str,
            request_id: &str,
        ) -> (axum::http::StatusCode, serde_json::Value, &'static str) {
            let (status, body, _, outcome) =
                run_guarded(&schema(), query.into(), request_id, None).await;
            let body = serde_json::from_slice(&body).expect("the body is JSON");
            (status, body, outcome)
        }

        #[tokio::test]
        async fn a_panicking_resolver_is_an_internal_error_with_the_request_id() {
            let (status, body, outcome) = run("{ boom }", "req-1").await;
            assert_eq!(status, 500);
            assert_eq!(outcome, "panic");
            assert_eq!(
                body["errors"][0]["extensions"]["code"],
                "INTERNAL_SERVER_ERROR"
            );
            assert!(
                body["errors"][0]["message"]
                    .as_str()
                    .unwrap()
                    .contains("req-1")
            );
            assert!(!body.to_string().contains("resolver bug"));
        }

        #[tokio::test]
        async fn uncoded_errors_are_hidden_behind_the_request_id() {
            let (status, body, _) = run("{ leaky }", "req-2").await;
            assert_eq!(status, 200);
            let error = &body["errors"][0];
            assert_eq!(error["extensions"]["code"], "INTERNAL_SERVER_ERROR");
            assert_eq!(error["extensions"]["requestId"], "req-2");
            assert!(!body.to_string().contains("10.0.0.5"), "{body}");
        }

        #[tokio::test]
        async fn only_an_unavailable_database_answers_503_and_partial_data_stays_200() {
            let (status, body, headers, _) =
                run_guarded(&schema(), "{ unavailable }".into(), "req-4", None).await;
            assert_eq!(status, 503);
            assert_eq!(headers.get("retry-after").unwrap(), "1");
            let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(
                body["errors"][0]["extensions"]["code"],
                "SERVICE_UNAVAILABLE"
            );
            assert_eq!(body["errors"][0]["extensions"]["retryAfter"], 1);
            let (status, body, _) = run("{ unavailable one }", "req-5").await;
            assert_eq!(status, 200, "{body}");
            assert_eq!(body["data"]["one"], 1);
            let (status, _, _) = run("{ unavailable coded }", "req-6").await;
            assert_eq!(status, 200);
        }

        #[tokio::test]
        async fn coded_errors_keep_their_code_and_field() {
            let (status, body, _) = run("{ coded }", "req-3").await;
            assert_eq!(status, 200);
            assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
            assert_eq!(body["errors"][0]["extensions"]["field"], "amount");
        }
    }

    #[test]
    fn only_json_content_types_are_accepted() {
        let with = |ct: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::CONTENT_TYPE, ct.parse().unwrap());
            is_json(&h)
        };
        assert!(with("application/json"));
        assert!(with("application/json; charset=utf-8"));
        assert!(with("application/graphql-response+json"));
        assert!(!with("text/plain"));
        assert!(!with("application/x-www-form-urlencoded"));
        assert!(!is_json(&HeaderMap::new()));
    }

    #[test]
    fn get_refuses_mutations_and_subscriptions() {
        assert_eq!(
            non_query_operation(&parse_query("mutation { x }").unwrap(), None),
            Some("mutation")
        );
        assert_eq!(
            non_query_operation(&parse_query("subscription { x }").unwrap(), None),
            Some("subscription")
        );
        assert_eq!(
            non_query_operation(&parse_query("{ x }").unwrap(), None),
            None
        );
        assert_eq!(
            non_query_operation(
                &parse_query("query A { x } mutation B { y }").unwrap(),
                Some("B")
            ),
            Some("mutation")
        );
    }

    #[test]
    fn metric_labels_are_operation_names_else_root_fields() {
        let named = parse_query("query Foo { tickers { symbol } version { engine } }").unwrap();
        assert_eq!(operation_label(&named, None), "Foo");
        assert_eq!(operation_label(&named, Some("Foo")), "Foo");
        assert_eq!(operation_label(&named, Some("Bar")), "invalid");
        let anonymous = parse_query("{ version { engine } tickers { symbol } }").unwrap();
        assert_eq!(operation_label(&anonymous, None), "tickers,version");
        let two =
            parse_query("query A { tickers { symbol } } query B { version { engine } }").unwrap();
        assert_eq!(operation_label(&two, Some("B")), "B");
        let long = format!("query {} {{ tickers {{ symbol }} }}", "N".repeat(500));
        let long = parse_query(&long).unwrap();
        assert_eq!(operation_label(&long, None).len(), MAX_LABEL_CHARS);
    }

    #[test]
    fn batches_and_bad_json_are_refused() {
        assert!(
            parse_post_body(b"[{\"query\":\"{x}\"}]")
                .unwrap_err()
                .contains("batched")
        );
        assert!(
            parse_post_body(b"{not json")
                .unwrap_err()
                .contains("malformed JSON")
        );
        assert!(parse_post_body(b"{\"query\":\"{x}\"}").is_ok());
    }
}
