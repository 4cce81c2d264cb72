//! The GraphQL-over-HTTP audit of `graphql-http` (npm) against the real server: every MUST
//! and every SHOULD of the spec it checks, with each accepted media type (`application/json`,
//! `application/graphql-response+json`).
//!
//! Needs Node.js and `npm ci --prefix clients/audit`; `.ci/run` provides both and sets
//! MARGIN_TEST_REQUIRE_NPM=1 so that a missing piece fails instead of skipping.

use std::path::PathBuf;

use serde_json::Value;
use tests::{Backend, TestApp};

#[tokio::test]
async fn graphql_http_audit_passes_every_must_and_should() {
    let required = std::env::var("MARGIN_TEST_REQUIRE_NPM").is_ok_and(|v| v == "1");
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../clients/audit");
    if !dir.join("node_modules/graphql-http").is_dir() {
        assert!(
            !required,
            "MARGIN_TEST_REQUIRE_NPM=1 but clients/audit is not installed"
        );
        eprintln!("skipped: needs `npm ci --prefix clients/audit`");
        return;
    }
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
