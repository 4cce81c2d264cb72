//! The GraphQL-over-HTTP audit of `graphql-http` (npm) against the real server: every MUST
//! and every SHOULD of the spec it checks, with each accepted media type (`application/json`,
//! `application/graphql-response+json`); and the codes of request failures.
//!
//! Needs Node.js and `npm ci --prefix clients/audit`; `.ci/run` provides both and sets
//! MARGIN_TEST_REQUIRE_NPM=1 so that a missing piece fails instead of skipping.

use serde_json::Value;
use tests::{Backend, TestApp};

use crate::client_support::installed_client;

#[tokio::test]
async fn graphql_http_audit_passes_every_must_and_should() {
    let Some(dir) = installed_client("audit", "graphql-http") else {
        return;
    };
    let app = TestApp::spawn(Backend::Sqlite).await.expect("SQLite");
    let url = format!("{}/graphql", app.address);
    let output = tokio::process::Command::new("node")
        .arg("audit.mjs")
        .arg(&url)
        .current_dir(&dir)
        .output()
        .await
        .expect("node runs");
    app.stop().await;
    assert!(
        output.status.success(),
        "audit failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let results: Vec<Value> = serde_json::from_slice(&output.stdout).expect("the audit's JSON");
    let count = |level: &str, status: &str| {
        results
            .iter()
            .filter(|r| {
                r["name"].as_str().is_some_and(|n| n.starts_with(level)) && r["status"] == status
            })
            .count()
    };
    let failing: Vec<String> = results
        .iter()
        .filter(|r| r["status"] != "ok" && !r["name"].as_str().unwrap_or("").starts_with("MAY"))
        .map(|r| format!("{}: {}", r["name"], r["reason"]))
        .collect();
    eprintln!(
        "graphql-http audit: {} MUST ok, {} SHOULD ok, {} MAY ok",
        count("MUST", "ok"),
        count("SHOULD", "ok"),
        count("MAY", "ok")
    );
    assert!(count("MUST", "ok") >= 13, "{failing:#?}");
    assert!(failing.is_empty(), "{failing:#?}");
}

#[tokio::test]
async fn request_failures_have_distinct_codes_and_plain_messages() {
    let app = TestApp::spawn(Backend::Sqlite).await.expect("SQLite");
    let cases = [
        (
            "{ tickers { symbol ",
            serde_json::json!({}),
            "GRAPHQL_PARSE_FAILED",
        ),
        (
            "{ noSuchField }",
            serde_json::json!({}),
            "GRAPHQL_VALIDATION_FAILED",
        ),
        (
            "query($n: Int!) { prices(ticker: \"SPY\", every: $n) { every } }",
            serde_json::json!({"n": "x"}),
            "BAD_USER_INPUT",
        ),
    ];
    for (query, variables, code) in cases {
        let (status, body) = app.post_graphql(query, variables, None).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(tests::error_code(&body), code, "{query}: {body}");
    }
    let (_, parse) = app
        .post_graphql("{ tickers { symbol ", serde_json::json!({}), None)
        .await;
    let message = parse["errors"][0]["message"].as_str().unwrap();
    assert!(message.starts_with("Syntax error: expected"), "{message}");
    assert!(
        !message.contains('\n') && !message.contains("-->"),
        "no ASCII art: {message}"
    );
    assert_eq!(parse["errors"][0]["locations"][0]["line"], 1);
    app.stop().await;
}
