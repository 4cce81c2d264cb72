//! Every request is priced before it runs: the shapes that took the server down (fragments
//! that fan out, lists multiplied by their page, aliases of expensive fields, many engine
//! runs) are refused with QUERY_TOO_COMPLEX before validation or any resolver, over POST and
//! over the WebSocket, and nothing they asked for is stored.

use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};
use tests::{
    Backend, TestApp, error_code,
    socket::{next_json, send},
};

use crate::margin_support::{self, users};

fn fan_out(levels: usize) -> String {
    let mut query = String::from("query { ...F0 } fragment F0 on Query { __typename }");
    // Spread F{levels} from the operation; each level doubles the fields.
    query = query.replacen("...F0", &format!("...F{levels}"), 1);
    for i in 1..=levels {
        query.push_str(&format!(
            " fragment F{i} on Query {{ ...F{p} ...F{p} }}",
            p = i - 1
        ));
    }
    query
}

fn aliases(n: usize, field: &str) -> String {
    (0..n)
        .map(|i| format!("a{i}: {field}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// POSTs with request extensions; returns the status and the body.
async fn post(
    app: &TestApp,
    query: &str,
    variables: Value,
    extensions: Value,
    token: Option<&str>,
) -> (u16, Value) {
    let mut request = app
        .client
        .post(format!("{}/graphql", app.address))
        .json(&json!({"query": query, "variables": variables, "extensions": extensions}));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("the server answers");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn fragments_that_fan_out_are_refused_before_validation() {
    let app = TestApp::spawn(Backend::Sqlite).await.expect("SQLite");
    let (status, body) = post(&app, &fan_out(22), json!({}), json!({}), None).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(error_code(&body), "QUERY_TOO_COMPLEX", "{body}");
    let extensions = &body["errors"][0]["extensions"];
    assert_eq!(extensions["cost"], 1u64 << 22);
    assert_eq!(
        extensions["limit"],
        api::Config::defaults().cost_limit_anonymous
    );
    // The same document shape within budget runs.
    let (status, body) = post(&app, &fan_out(5), json!({}), json!({}), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["__typename"], "Query");
    app.stop().await;
}

#[tokio::test]
async fn lists_are_priced_by_their_page_and_aliases_add_up() {
    let app = TestApp::spawn(Backend::Sqlite).await.expect("SQLite");
    let (alice, _) = users(&app).await;
    let sessions = format!(
        "{{ {} }}",
        aliases(
            4,
            "backtestSessions(first: 100) { nodes { result { raw } } }"
        )
    );
    let body = app.gql(&sessions, json!({}), Some(&alice.token)).await;
    assert_eq!(error_code(&body), "QUERY_TOO_COMPLEX", "{body}");
    // One page of summaries is an ordinary request.
    let body = app
        .gql(
            "{ backtestSessions(first: 100) { nodes { result { summary { finalEquity } } } } }",
            json!({}),
            Some(&alice.token),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    let prices = format!(
        "{{ {} }}",
        aliases(124, "prices(ticker: \"SPY\", every: 1) { every }")
    );
    let body = app.gql(&prices, json!({}), None).await;
    assert_eq!(error_code(&body), "QUERY_TOO_COMPLEX", "{body}");
    app.stop().await;
}

#[tokio::test]
async fn engine_runs_are_capped_and_nothing_is_stored() {
    let app = TestApp::spawn(Backend::Sqlite).await.expect("SQLite");
    let (alice, _) = users(&app).await;
    let runs = aliases(6, "runBacktest(input: $input) { sessionId }");
    let query = format!("mutation($input: BacktestInput!) {{ {runs} }}");
    let input = margin_support::backtest_input(margin_support::unique_amount());
    let body = app
        .gql(&query, json!({"input": input}), Some(&alice.token))
        .await;
    assert_eq!(error_code(&body), "QUERY_TOO_COMPLEX", "{body}");
    assert_eq!(body["errors"][0]["extensions"]["engineRuns"], 6);
    assert_eq!(body["errors"][0]["extensions"]["engineRunLimit"], 5);
    let stored = entity::backtest_session::Entity::find()
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(stored, 0, "no run was started");
    app.stop().await;
}

#[tokio::test]
async fn the_price_is_reported_when_asked() {
    let app = TestApp::spawn(Backend::Sqlite).await.expect("SQLite");
    let query = "{ version { service engine } }";
    let (status, body) = post(&app, query, json!({}), json!({"cost": true}), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["extensions"]["cost"]["points"], 3);
    assert_eq!(
        body["extensions"]["cost"]["limit"],
        api::Config::defaults().cost_limit_anonymous
    );
    assert_eq!(body["extensions"]["cost"]["engineRuns"], 0);
    let (_, body) = post(&app, query, json!({}), json!({}), None).await;
    assert!(body.get("extensions").is_none(), "only when asked: {body}");
    app.stop().await;
}

#[tokio::test]
async fn the_socket_prices_operations_too() {
    let app = TestApp::spawn(Backend::Sqlite).await.expect("SQLite");
    let mut socket = app.connect_socket("graphql-transport-ws", None).await;
    send(
        &mut socket,
        json!({"id": "1", "type": "subscribe", "payload": {"query": fan_out(22)}}),
    )
    .await;
    // Refused like any request-level error on the socket: one result with errors, no data.
    let message = next_json(&mut socket).await;
    assert_eq!(message["type"], "next", "{message}");
    assert!(message["payload"]["data"].is_null(), "{message}");
    let code = &message["payload"]["errors"][0]["extensions"]["code"];
    assert_eq!(code, "QUERY_TOO_COMPLEX", "{message}");
    app.stop().await;
}
