//! The offline playground in a real browser: headless Chromium loads GraphiQL from the files
//! this binary serves (no network), a query typed into the editor runs and returns SPY.
//!
//! Needs `npm ci --prefix playground`, chromium and chromedriver; `.ci/run` provides all three
//! and sets MARGIN_TEST_REQUIRE_BROWSER=1 so that a missing piece fails instead of skipping.

use std::time::Duration;

use tests::{
    Backend, TestApp,
    webdriver::{Browser, browser_tools},
};

#[tokio::test]
async fn offline_playground_runs_a_typed_query() {
    let Some(tools) = browser_tools("graphiql/graphiql.min.js") else {
        return;
    };
    let (assets, chromium, chromedriver) = (tools.assets, tools.chromium, tools.chromedriver);
    let app = TestApp::spawn_with(Backend::Sqlite, |c| c.playground_assets = Some(assets))
        .await
        .unwrap();
    let browser = Browser::launch(&chromium, &chromedriver)
        .await
        .expect("browser starts");

    browser
        .goto(&format!("{}/graphql", app.address))
        .await
        .unwrap();
    let editor = browser
        .wait_for(
            ".graphiql-query-editor .CodeMirror",
            Duration::from_secs(30),
        )
        .await
        .expect("GraphiQL rendered from local assets");
    browser.click(&editor).await.unwrap();
    let input = browser
        .wait_for(".graphiql-query-editor textarea", Duration::from_secs(5))
        .await
        .unwrap();
    // Select all and delete the default text, then type the query key by key.
    browser
        .type_into(&input, "\u{E009}a\u{E000}\u{E017}")
        .await
        .unwrap();
    browser
        .type_into(&input, "{ tickers { symbol } }")
        .await
        .unwrap();
    let typed = browser
        .run_script("return document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.getValue()")
        .await
        .unwrap();
    assert!(
        typed.as_str().unwrap_or("").contains("tickers"),
        "editor holds the query: {typed}"
    );

    let run = browser
        .wait_for(".graphiql-execute-button", Duration::from_secs(5))
        .await
        .unwrap();
    browser.click(&run).await.unwrap();
    let response = browser
        .wait_for(".graphiql-response .CodeMirror", Duration::from_secs(10))
        .await
        .unwrap();
    let mut text = String::new();
    for _ in 0..50 {
        text = browser.text(&response).await.unwrap_or_default();
        if text.contains("SPY") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    browser.close().await;
    app.stop().await;
    assert!(
        text.contains("\"SPY\""),
        "the response pane shows SPY, got: {text}"
    );
}
