//! The typed TypeScript client in `clients/typescript`: generated from `schema.graphql` with
//! `@graphql-codegen/cli` (every scalar mapped), type-checked with `tsc --strict`, and run
//! against the real server (fetch and graphql-ws), so a schema change that breaks a client's
//! operations fails here; and Apollo Client's normalised cache shows a renamed saved result
//! without a refetch, and its persisted-query link works.
//!
//! Needs Node.js and `npm ci --prefix clients/typescript`; `.ci/run` provides both and sets
//! MARGIN_TEST_REQUIRE_NPM=1 so that a missing piece fails instead of skipping.

use api::services::accounts::admin;
use tests::{Backend, TestApp};

use crate::client_support::{installed_client, npx};

#[tokio::test]
async fn the_generated_client_type_checks_and_runs_against_the_server() {
    let Some(dir) = installed_client("typescript", ".bin/graphql-codegen") else {
        return;
    };
    npx(
        &dir,
        &["graphql-codegen", "--config", "codegen.ts", "--silent"],
    )
    .await;
    // --strict through tsconfig.json, and the JavaScript the run below uses.
    npx(&dir, &["tsc", "-p", "tsconfig.json"]).await;

    // Without Redis: persisted queries are then this server's alone, so the persisted-query
    // link's first request meets an unknown hash on every run (Redis is shared between runs).
    let app = TestApp::spawn_with(Backend::Sqlite, |c| c.redis_url = None)
        .await
        .expect("SQLite");
    let password = "typed client password";
    admin::create_admin(&app.db, "ts@example.com", "ts", password.to_string())
        .await
        .expect("an admin");
    // run.js: every operation, typed; cache.js: Apollo Client's normalised cache and its
    // persisted-query link.
    for script in ["dist/run.js", "dist/cache.js"] {
        let output = tokio::process::Command::new("node")
            .args([script, &app.address, "ts@example.com", password])
            .current_dir(&dir)
            .output()
            .await
            .expect("node runs");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "{script} failed:\n{stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let report: serde_json::Value =
            serde_json::from_str(stdout.trim()).expect("the script's JSON");
        assert_eq!(report["ok"], true, "{script}: {report}");
    }
    app.stop().await;
}
