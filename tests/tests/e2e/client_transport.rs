//! Transport details clients and operators hit: CORS admits the tracing and Apollo client
//! headers; the request metrics are labelled by operation name, with a bounded number of
//! labels; socket and subscription gauges and the process metrics are exported; a throttled
//! login answers `Retry-After` as a header too.

use serde_json::json;
use tests::{Backend, TestApp, error_code, eventually};

async fn metrics(app: &TestApp) -> String {
    app.get("/metrics")
        .await
        .text()
        .await
        .expect("metrics text")
}

#[tokio::test]
async fn cors_admits_trace_context_and_apollo_client_headers() {
    let Some(app) = TestApp::spawn_with(Backend::Sqlite, |c| {
        c.cors_origins = vec!["https://app.example.com".into()];
    })
    .await
    else {
        return;
    };
    let wanted = "traceparent, tracestate, apollographql-client-name, apollographql-client-version, content-type";
    let preflight = app
        .client
        .request(reqwest::Method::OPTIONS, format!("{}/graphql", app.address))
        .header("origin", "https://app.example.com")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", wanted)
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success(), "{}", preflight.status());
    let allowed = preflight.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    for header in wanted.split(", ") {
        assert!(allowed.contains(header), "{header} in {allowed}");
    }
    app.stop().await;
}

#[tokio::test]
async fn request_metrics_use_operation_names_and_keep_a_bounded_set() {
    let Some(app) = TestApp::spawn_with(Backend::Sqlite, |c| c.metrics_max_operations = 3).await
    else {
        return;
    };
    for name in ["Dashboard", "Prices", "Version"] {
        app.ok(
            &format!("query {name} {{ version {{ service }} }}"),
            json!({}),
            None,
        )
        .await;
    }
    app.ok("{ tickers { symbol } }", json!({}), None).await;
    for i in 0..5 {
        app.ok(
            &format!("query Flood{i} {{ version {{ service }} }}"),
            json!({}),
            None,
        )
        .await;
    }
    let text = metrics(&app).await;
    for name in ["Dashboard", "Prices", "Version"] {
        assert!(
            text.contains(&format!("operation=\"{name}\"")),
            "{name}: {text}"
        );
    }
    assert!(
        !text.contains("Flood"),
        "names past the bound are not labels"
    );
    assert!(!text.contains("operation=\"tickers\""));
    assert!(
        text.contains("graphql_requests_total{operation=\"other\",outcome=\"ok\"} 6"),
        "{text}"
    );
    // The process itself.
    assert!(text.contains("process_resident_memory_bytes"), "{text}");
    assert!(text.contains("process_open_fds"));
    app.stop().await;
}

#[tokio::test]
async fn socket_and_subscription_gauges_follow_the_sockets() {
    // Each progress step waits a second, so the run (and its subscription) is held open.
    let Some(app) = TestApp::spawn_with(Backend::Sqlite, |c| c.progress_step_delay_ms = 1000).await
    else {
        return;
    };
    let gauge = |text: &str, name: &str| {
        text.lines()
            .find(|l| l.starts_with(&format!("{name} ")))
            .and_then(|l| l.split(' ').nth(1))
            .and_then(|v| v.parse::<i64>().ok())
    };
    let text = metrics(&app).await;
    assert_eq!(gauge(&text, "graphql_ws_connections"), Some(0));
    assert_eq!(gauge(&text, "graphql_ws_subscriptions"), Some(0));
    let started = app
        .ok(
            "mutation($input: BacktestInput!) { runBacktest(input: $input, wait: false) { backtestSession { sessionId } } }",
            // An input no earlier run cached (Redis is shared between test runs).
            json!({"input": crate::margin_support::backtest_input(
                10_000.0 + f64::from(uuid::Uuid::new_v4().as_u128() as u16)
            )}),
            None,
        )
        .await;
    let session = started["runBacktest"]["backtestSession"]["sessionId"].clone();
    let mut socket = app.connect_socket("graphql-transport-ws", None).await;
    tests::socket::send(
        &mut socket,
        json!({"id": "p1", "type": "subscribe", "payload": {
            "query": "subscription($id: ID!) { backtestProgress(sessionId: $id) { kind } }",
            "variables": {"id": session},
        }}),
    )
    .await;
    let first = tests::socket::next_json(&mut socket).await;
    assert_eq!(first["type"], "next", "{first}");
    let text = metrics(&app).await;
    assert_eq!(gauge(&text, "graphql_ws_connections"), Some(1), "{text}");
    assert_eq!(gauge(&text, "graphql_ws_subscriptions"), Some(1), "{text}");
    socket.close(None).await.ok();
    drop(socket);
    eventually("the closed socket leaves both gauges", || async {
        let text = metrics(&app).await;
        gauge(&text, "graphql_ws_connections") == Some(0)
            && gauge(&text, "graphql_ws_subscriptions") == Some(0)
    })
    .await;
    app.ok(
        "mutation($id: ID!) { cancelBacktest(sessionId: $id) { backtestSession { status } } }",
        json!({"id": session}),
        None,
    )
    .await;
    app.stop().await;
}

#[tokio::test]
async fn a_throttled_login_says_when_to_retry_in_a_header() {
    let Some(app) = TestApp::spawn_with(Backend::Sqlite, |c| {
        c.login_max_failures_per_account = 1;
        c.login_window_secs = 60;
    })
    .await
    else {
        return;
    };
    let login = json!({"query": "mutation { login(email: \"nobody@example.com\", password: \"wrong password\") { token } }"});
    let post = || {
        app.client
            .post(format!("{}/graphql", app.address))
            .json(&login)
            .send()
    };
    let first = post().await.unwrap();
    assert!(first.headers().get("retry-after").is_none());
    let second = post().await.unwrap();
    let retry_after: u64 = second.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let body: serde_json::Value = second.json().await.unwrap();
    assert_eq!(error_code(&body), "RATE_LIMITED");
    assert_eq!(body["errors"][0]["extensions"]["retryAfter"], retry_after);
    assert!(retry_after >= 1);
    app.stop().await;
}
