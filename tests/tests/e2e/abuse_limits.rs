//! Rate limits per caller: a client address without credentials, a signed-in user and an API
//! token each draw from their own token buckets, for requests and for engine runs; an empty
//! bucket answers 429 RATE_LIMITED with `retryAfter` and `Retry-After`, over POST and on the
//! socket; with Redis, replicas draw from the same buckets.

use serde_json::{Value, json};
use tests::{
    Backend, TestApp, error_code,
    socket::{next_json, send},
};

use crate::margin_support::{self, users};

/// The address a request comes from, as a trusted proxy (the test client on 127.0.0.1)
/// reports it: a fresh one per test, so tests sharing Redis never share a bucket.
fn fresh_address() -> String {
    let id = uuid::Uuid::new_v4().as_u128();
    format!(
        "2001:db8:{:x}:{:x}::{:x}",
        (id >> 96) as u16,
        (id >> 64) as u16,
        id as u16
    )
}

/// Buckets in this process's memory: the accounts set-up signs in from 127.0.0.1, whose
/// bucket in a shared Redis other tests draw from too.
fn limited_here(config: &mut api::Config) {
    limited(config);
    config.redis_url = None;
}

fn limited(config: &mut api::Config) {
    config.trusted_proxies = vec!["127.0.0.1".parse().expect("an address")];
    // 6 requests a minute with 10 s of burst: one request, then one every 10 s.
    config.rate_requests_per_min_anonymous = 6;
    config.rate_requests_per_min = 600;
    config.rate_engine_runs_per_min = 6;
    config.rate_burst_secs = 10;
}

struct Answer {
    status: u16,
    retry_after: Option<String>,
    body: Value,
}

async fn post_from(
    app: &TestApp,
    address: &str,
    query: &str,
    variables: Value,
    token: Option<&str>,
) -> Answer {
    let mut request = app
        .client
        .post(format!("{}/graphql", app.address))
        .header("x-forwarded-for", address)
        .json(&json!({"query": query, "variables": variables}));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("the server answers");
    Answer {
        status: response.status().as_u16(),
        retry_after: response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        body: response.json().await.unwrap_or(Value::Null),
    }
}

/// 429 RATE_LIMITED, with the same wait in `retryAfter` and `Retry-After`: whole seconds,
/// at most `most` (the bucket's refill time for one token, less what has passed since).
fn assert_limited(answer: &Answer, most: u64) {
    assert_eq!(answer.status, 429, "{}", answer.body);
    assert_eq!(error_code(&answer.body), "RATE_LIMITED", "{}", answer.body);
    let wait = answer.body["errors"][0]["extensions"]["retryAfter"]
        .as_u64()
        .expect("retryAfter in seconds");
    assert!((1..=most).contains(&wait), "{}", answer.body);
    assert_eq!(
        answer.retry_after.as_deref(),
        Some(wait.to_string().as_str())
    );
}

const VERSION: &str = "{ version { service } }";

#[tokio::test]
async fn an_address_without_credentials_gets_its_burst_then_429_with_retry_after() {
    let app = TestApp::spawn_with(Backend::Sqlite, limited_here)
        .await
        .expect("SQLite");
    let me = fresh_address();
    let first = post_from(&app, &me, VERSION, json!({}), None).await;
    assert_eq!(first.status, 200, "{}", first.body);
    let second = post_from(&app, &me, VERSION, json!({}), None).await;
    assert_limited(&second, 10);
    assert!(
        second.body.get("data").is_none(),
        "nothing ran: {}",
        second.body
    );
    // Another address has its own bucket.
    let other = post_from(&app, &fresh_address(), VERSION, json!({}), None).await;
    assert_eq!(other.status, 200, "{}", other.body);
}

#[tokio::test]
async fn signed_in_callers_draw_from_their_own_buckets_and_engine_runs_are_counted() {
    // The accounts set-up makes five requests without credentials from the test client's own
    // address: room for them (12 a minute with 50 s of burst holds 10). A token comes back
    // only every 5 s, so the burst below is spent long before one does, however slow the
    // machine; engine runs keep a burst of 5 (6 a minute × 50 s).
    let app = TestApp::spawn_with(Backend::Sqlite, |config| {
        limited_here(config);
        config.rate_requests_per_min_anonymous = 12;
        config.rate_burst_secs = 50;
    })
    .await
    .expect("SQLite");
    let (alice, _) = users(&app).await;
    let me = fresh_address();
    // The address's burst goes; alice's requests come from the same address but draw from
    // her own bucket.
    for _ in 0..10 {
        let answer = post_from(&app, &me, VERSION, json!({}), None).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
    }
    assert_limited(&post_from(&app, &me, VERSION, json!({}), None).await, 5);
    let signed = post_from(&app, &me, VERSION, json!({}), Some(&alice.token)).await;
    assert_eq!(signed.status, 200, "{}", signed.body);

    // Engine runs: 6 a minute with a burst of 5 (a request may ask for 5).
    let five = (0..5)
        .map(|i| format!("r{i}: runBacktest(input: $input) {{ backtestSession {{ sessionId }} }}"))
        .collect::<Vec<_>>()
        .join(" ");
    let query = format!("mutation($input: BacktestInput!) {{ {five} }}");
    let input = json!({"input": margin_support::backtest_input(10_000.0)});
    let runs = post_from(&app, &me, &query, input.clone(), Some(&alice.token)).await;
    assert_eq!(runs.status, 200, "{}", runs.body);
    assert!(runs.body.get("errors").is_none(), "{}", runs.body);
    let one_more = post_from(
        &app,
        &me,
        "mutation($input: BacktestInput!) { runBacktest(input: $input) { backtestSession { sessionId } } }",
        input,
        Some(&alice.token),
    )
    .await;
    assert_limited(&one_more, 10);
    // Requests that run nothing still go through: the buckets are apart.
    let plain = post_from(&app, &me, VERSION, json!({}), Some(&alice.token)).await;
    assert_eq!(plain.status, 200, "{}", plain.body);
}

#[tokio::test]
async fn operations_on_a_socket_draw_from_the_same_bucket() {
    let app = TestApp::spawn_with(Backend::Sqlite, |config| {
        limited_here(config);
        // The socket's address is the test client itself (no proxy header on the upgrade).
        config.trusted_proxies.clear();
    })
    .await
    .expect("SQLite");
    let mut socket = app.connect_socket("graphql-transport-ws", None).await;
    let mut answers = Vec::new();
    for id in ["1", "2"] {
        send(
            &mut socket,
            json!({"id": id, "type": "subscribe", "payload": {"query": VERSION}}),
        )
        .await;
        answers.push(next_json(&mut socket).await);
        // Each operation ends with `complete`.
        assert_eq!(next_json(&mut socket).await["type"], "complete");
    }
    assert!(
        answers[0]["payload"]["data"]["version"].is_object(),
        "{answers:?}"
    );
    let refused = &answers[1]["payload"]["errors"][0]["extensions"];
    assert_eq!(refused["code"], "RATE_LIMITED", "{answers:?}");
    let wait = refused["retryAfter"].as_u64();
    assert!(wait.is_some_and(|w| (1..=10).contains(&w)), "{answers:?}");
}

#[tokio::test]
async fn replicas_sharing_redis_share_the_buckets() {
    if tests::redis_url().is_none() {
        eprintln!("skipped: TEST_REDIS_URL is not set");
        return;
    }
    let first = TestApp::spawn_with(Backend::Sqlite, limited)
        .await
        .expect("SQLite");
    let second = first.replica(limited).await;
    let me = fresh_address();
    assert_eq!(
        post_from(&first, &me, VERSION, json!({}), None)
            .await
            .status,
        200
    );
    assert_limited(&post_from(&second, &me, VERSION, json!({}), None).await, 10);
    assert_limited(&post_from(&first, &me, VERSION, json!({}), None).await, 10);
}
