//! The HTTP surface every client meets: what /graphql accepts and refuses, and how.

use serde_json::{Value, json};
use tests::{Backend, TestApp, error_code, on_each_backend};

async fn sqlite_app() -> TestApp {
    TestApp::spawn(Backend::Sqlite)
        .await
        .expect("SQLite is always available")
}

#[tokio::test]
async fn tickers_list_the_shipped_datasets_on_every_backend() {
    on_each_backend(|app| async move {
        let data = app
            .query("{ tickers { symbol name firstDate lastDate lastClose rows } version { service engine } }", json!({}))
            .await;
        let tickers = data["tickers"].as_array().expect("a list");
        let spy = tickers.iter().find(|t| t["symbol"] == "SPY").expect("SPY is listed");
        assert_eq!(spy["firstDate"], "1993-01-29");
        assert_eq!(spy["lastDate"], "2025-09-26");
        assert_eq!(spy["rows"], 8222);
        assert!(spy["lastClose"].as_f64().is_some_and(|c| c > 0.0));
        for symbol in ["QQQ", "VTI"] {
            assert!(tickers.iter().any(|t| t["symbol"] == symbol), "{symbol} is listed");
        }
        assert!(!data["version"]["engine"].as_str().unwrap_or("").is_empty());
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn get_runs_queries_but_refuses_mutations() {
    let app = sqlite_app().await;
    let url = format!("{}/graphql", app.address);
    let ok = app
        .client
        .get(&url)
        .query(&[("query", "{ tickers { symbol } }")])
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    let body: Value = ok.json().await.unwrap();
    assert!(
        body["data"]["tickers"]
            .as_array()
            .is_some_and(|t| !t.is_empty())
    );

    let refused = app
        .client
        .get(&url)
        .query(&[("query", "mutation { anything }")])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 405);
    assert_eq!(refused.headers()["allow"], "POST");
    let body: Value = refused.json().await.unwrap();
    assert_eq!(error_code(&body), "BAD_REQUEST");
    app.stop().await;
}

#[tokio::test]
async fn transport_errors_have_statuses_and_codes() {
    let app = sqlite_app().await;
    let url = format!("{}/graphql", app.address);
    let post = |body: Vec<u8>, content_type: &'static str| {
        app.client
            .post(&url)
            .header("content-type", content_type)
            .body(body)
            .send()
    };

    let text = post(
        br#"{"query":"{ tickers { symbol } }"}"#.to_vec(),
        "text/plain",
    )
    .await
    .unwrap();
    assert_eq!(text.status(), 415);
    assert_eq!(
        error_code(&text.json::<Value>().await.unwrap()),
        "BAD_REQUEST"
    );

    let malformed = post(b"{\"query\": ".to_vec(), "application/json")
        .await
        .unwrap();
    assert_eq!(malformed.status(), 400);
    let body: Value = malformed.json().await.unwrap();
    assert_eq!(error_code(&body), "BAD_REQUEST");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("malformed JSON")
    );

    let batch = post(
        br#"[{"query":"{ version { engine } }"},{"query":"{ version { engine } }"}]"#.to_vec(),
        "application/json",
    )
    .await
    .unwrap();
    assert_eq!(batch.status(), 400);
    assert_eq!(
        error_code(&batch.json::<Value>().await.unwrap()),
        "BAD_REQUEST"
    );

    let mut huge = br#"{"query":"{ version { engine } }","variables":{"padding":""#.to_vec();
    huge.extend(std::iter::repeat_n(b'x', 2 * 1024 * 1024));
    huge.extend(br#""}}"#);
    let too_large = post(huge, "application/json").await.unwrap();
    assert_eq!(too_large.status(), 413);
    assert_eq!(
        error_code(&too_large.json::<Value>().await.unwrap()),
        "BAD_REQUEST"
    );
    app.stop().await;
}

#[tokio::test]
async fn deep_and_invalid_queries_are_rejected_before_execution() {
    let app = sqlite_app().await;
    // 20 levels of selection through the introspection types.
    let mut deep = String::from("{ __schema { queryType { fields { type ");
    for _ in 0..15 {
        deep.push_str("{ ofType ");
    }
    deep.push_str("{ name }");
    deep.push_str(&" }".repeat(15));
    deep.push_str(" } } } }");
    let (status, body) = app.post_graphql(&deep, json!({}), None).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(error_code(&body), "GRAPHQL_VALIDATION_FAILED");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("nested too deep")
    );

    let (status, body) = app.post_graphql("{ noSuchField }", json!({}), None).await;
    assert_eq!(status, 400);
    assert_eq!(error_code(&body), "GRAPHQL_VALIDATION_FAILED");
    app.stop().await;
}

#[tokio::test]
async fn health_endpoints_and_metrics() {
    let app = sqlite_app().await;
    let live = app.get("/livez").await;
    assert_eq!(live.status(), 200);

    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 200);
    let body: Value = ready.json().await.unwrap();
    assert_eq!(body["database"], "ok");
    let expected_redis = if tests::redis_url().is_some() {
        "ok"
    } else {
        "disabled"
    };
    assert_eq!(body["redis"], expected_redis);

    app.query("{ tickers { symbol } }", json!({})).await;
    let metrics = app.get("/metrics").await;
    assert_eq!(metrics.status(), 200);
    let text = metrics.text().await.unwrap();
    assert!(
        text.contains(r#"graphql_requests_total{operation="tickers",outcome="ok"} 1"#),
        "{text}"
    );
    assert!(text.contains("graphql_request_duration_seconds_bucket"));
    app.stop().await;
}

#[tokio::test]
async fn redis_down_is_degraded_not_unready() {
    let app = TestApp::spawn_with(Backend::Sqlite, |c| {
        c.redis_url = Some("redis://127.0.0.1:1/".into())
    })
    .await
    .unwrap();
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 200);
    let body: Value = ready.json().await.unwrap();
    assert_eq!(body["redis"], "degraded");
    app.query("{ tickers { symbol } }", json!({})).await;
    app.stop().await;
}

#[tokio::test]
async fn cors_allows_only_configured_origins() {
    let app = TestApp::spawn_with(Backend::Sqlite, |c| {
        c.cors_origins = vec!["https://app.example.com".into()]
    })
    .await
    .unwrap();
    let url = format!("{}/graphql", app.address);
    let preflight = |origin: &'static str| {
        app.client
            .request(reqwest::Method::OPTIONS, &url)
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "content-type,authorization",
            )
            .send()
    };
    let allowed = preflight("https://app.example.com").await.unwrap();
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://app.example.com"
    );
    assert_eq!(
        allowed.headers()["access-control-allow-credentials"],
        "true"
    );

    let other = preflight("https://evil.example").await.unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());
    app.stop().await;
}

#[tokio::test]
async fn playground_and_introspection_can_be_switched_off() {
    let app = TestApp::spawn_with(Backend::Sqlite, |c| {
        c.playground = false;
        c.introspection = false;
    })
    .await
    .unwrap();
    let page = app.get("/graphql").await;
    assert_eq!(page.status(), 404);
    // With introspection off the schema is not revealed: `__schema` resolves to null.
    let (_, body) = app
        .post_graphql("{ __schema { types { name } } }", json!({}), None)
        .await;
    assert!(body["data"]["__schema"].is_null(), "{body}");
    assert!(!body.to_string().contains("Ticker"), "{body}");
    app.stop().await;

    let app = sqlite_app().await;
    let page = app.get("/graphql").await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("GraphiQL") && html.contains("/graphql/ws"));
    app.stop().await;
}

#[tokio::test]
async fn a_required_variable_left_out_is_bad_user_input_naming_it() {
    let app = sqlite_app().await;
    let query =
        "query($ticker: String!, $from: Date) { prices(ticker: $ticker, from: $from) { dates } }";
    for variables in [json!({}), json!({"ticker": null})] {
        let (status, body) = app.post_graphql(query, variables.clone(), None).await;
        assert_eq!(status, 400, "{variables}: {body}");
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], "ticker");
    }
    // A nullable variable may be left out, and one with a default may be too.
    let (status, body) = app
        .post_graphql(query, json!({"ticker": "SPY"}), None)
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body["data"]["prices"]["dates"]
            .as_array()
            .is_some_and(|d| !d.is_empty())
    );
    let with_default =
        "query($ticker: String! = \"QQQ\") { prices(ticker: $ticker, every: 100) { dates } }";
    let (status, body) = app.post_graphql(with_default, json!({}), None).await;
    assert_eq!(status, 200, "{body}");
    app.stop().await;
}
