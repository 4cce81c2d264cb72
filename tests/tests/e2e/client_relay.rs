//! Relay's store in `clients/relay`: the `graphql` literals of `src/store.ts` compiled by
//! `relay-compiler` against `schema.graphql` (a schema change that breaks them fails here),
//! type-checked with `tsc --strict`, and run against the real server with `relay-runtime`:
//! login → runBacktest → saveResult → savedResults (fetched once into the store and retained)
//! → updateMetadata. The list read back from the store, with no request, and its subscriber
//! show the new name, and the `User`, `BacktestSession` and `SavedResult` records are distinct
//! global ids with their own `__typename`.
//!
//! Needs Node.js and `npm ci --prefix clients/relay`; `.ci/run` provides both and sets
//! MARGIN_TEST_REQUIRE_NPM=1 so that a missing piece fails instead of skipping.

use api::services::accounts::admin;
use tests::{Backend, TestApp};

use crate::client_support::{installed_client, npx};

#[tokio::test]
async fn relay_store_shows_a_renamed_result_without_a_refetch() {
    let Some(dir) = installed_client("relay", ".bin/relay-compiler") else {
        return;
    };
    // The artifacts in src/__generated__ from the operations and schema.graphql, then
    // --strict through tsconfig.json and the JavaScript the run below uses.
    npx(&dir, &["relay-compiler"]).await;
    npx(&dir, &["tsc", "-p", "tsconfig.json"]).await;

    let app = TestApp::spawn_with(Backend::Sqlite, |c| c.redis_url = None)
        .await
        .expect("SQLite");
    let password = "relay client password";
    admin::create_admin(&app.db, "relay@example.com", "relay", password.to_string())
        .await
        .expect("an admin");
    let output = tokio::process::Command::new("node")
        .args(["dist/store.js", &app.address, "relay@example.com", password])
        .current_dir(&dir)
        .output()
        .await
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "dist/store.js failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value = serde_json::from_str(stdout.trim()).expect("the script's JSON");
    assert_eq!(report["ok"], true, "{report}");
    // login, runBacktest, saveResult, savedResults, updateMetadata: nothing more.
    assert_eq!(report["requests"], 5, "{report}");
    eprintln!("{report}");
    app.stop().await;
}
