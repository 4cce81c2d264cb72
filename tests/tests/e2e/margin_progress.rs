//! backtestProgress over both WebSocket protocols: snapshot → progress/events → terminal,
//! owner-only, and across two server processes sharing PostgreSQL and Redis.

use crate::margin_support;

use margin_support::{
    PROGRESS, backtest_input, follow, next_json, run_nowait, send, unique_amount, users,
};
use serde_json::{Value, json};

/// A run with events all along it: re-levered at every 10 % gain, 18 rebalances from 2010 to
/// 2024. An event rides on the next progress message, so a subscriber that joins after the
/// first messages (the entry's) still sees some; a run whose only event is the entry would
/// make the test depend on how fast the subscriber joins.
fn eventful() -> Value {
    let mut input = backtest_input(unique_amount());
    input["mode"] = "PROFIT_THRESHOLD".into();
    input["profitThresholdPct"] = 10.0.into();
    input
}
use tests::{Backend, TestApp, fresh_database, postgres_url, redis_url, test_config, wait_until};

fn check_sequence(messages: &[Value]) {
    assert!(
        messages.len() >= 3,
        "snapshot, progress, terminal: {messages:?}"
    );
    assert_eq!(messages[0]["kind"], "SNAPSHOT", "{messages:?}");
    assert!(
        messages.iter().any(|m| m["kind"] == "PROGRESS"),
        "progress arrives: {messages:?}"
    );
    assert!(
        messages.iter().any(|m| m["event"].is_string()),
        "events ride on progress: {messages:?}"
    );
    let last = messages.last().unwrap();
    assert_eq!(last["kind"], "COMPLETED", "{messages:?}");
    assert_eq!(last["status"], "COMPLETED");
    assert!(last["summary"]["finalEquity"].as_f64().unwrap() > 0.0);
    let percents: Vec<f64> = messages
        .iter()
        .filter(|m| m["kind"] == "PROGRESS")
        .filter_map(|m| m["percent"].as_f64())
        .collect();
    assert!(
        percents.windows(2).all(|w| w[0] <= w[1]),
        "percent only grows"
    );
}

#[tokio::test]
async fn snapshot_progress_completed_over_both_protocols() {
    let app = TestApp::spawn_with(Backend::Sqlite, |c| c.progress_step_delay_ms = 15)
        .await
        .unwrap();
    let (alice, bob) = users(&app).await;
    for protocol in ["graphql-transport-ws", "graphql-ws"] {
        let started = run_nowait(&app, eventful(), Some(&alice.token)).await;
        let id = started["sessionId"].as_str().unwrap().to_string();
        let mut socket = app.connect_socket(protocol, Some(&alice.token)).await;
        let messages = follow(&mut socket, protocol, &id).await;
        check_sequence(&messages);

        // After the end: a snapshot and the terminal message straight away.
        let again = follow(&mut socket, protocol, &id).await;
        assert_eq!(again.len(), 2, "{again:?}");
        assert_eq!(again[0]["kind"], "SNAPSHOT");
        assert_eq!(again[0]["status"], "COMPLETED");
        assert_eq!(again[1]["kind"], "COMPLETED");

        // Bob may not follow Alice's run: NOT_FOUND, as for a missing session.
        let mut other = app.connect_socket(protocol, Some(&bob.token)).await;
        let refused = follow(&mut other, protocol, &id).await;
        assert_eq!(refused.len(), 1, "{refused:?}");
        let errors = &refused[0]["errors"];
        let code = errors[0]["extensions"]["code"]
            .as_str()
            .or(errors["errors"][0]["extensions"]["code"].as_str());
        assert_eq!(code, Some("NOT_FOUND"), "{refused:?}");
        // Nor can an anonymous connection.
        let mut anonymous = app.connect_socket(protocol, None).await;
        let refused = follow(&mut anonymous, protocol, &id).await;
        assert!(refused[0].get("errors").is_some(), "{refused:?}");
    }

    // An anonymous run is followed by whoever holds its id.
    let started = run_nowait(&app, eventful(), None).await;
    let id = started["sessionId"].as_str().unwrap().to_string();
    let mut socket = app.connect_socket("graphql-transport-ws", None).await;
    check_sequence(&follow(&mut socket, "graphql-transport-ws", &id).await);
    app.stop().await;
}

#[tokio::test]
async fn cancelling_ends_the_stream_with_cancelled() {
    // 50 ms per progress step holds the run for seconds after its first progress message,
    // which is when it is cancelled.
    let app = TestApp::spawn_with(Backend::Sqlite, |c| c.progress_step_delay_ms = 50)
        .await
        .unwrap();
    let (alice, _) = users(&app).await;
    let started = run_nowait(&app, backtest_input(unique_amount()), Some(&alice.token)).await;
    let id = started["sessionId"].as_str().unwrap().to_string();
    let mut socket = app
        .connect_socket("graphql-transport-ws", Some(&alice.token))
        .await;
    send(&mut socket, json!({"id": "p1", "type": "subscribe", "payload": {"query": PROGRESS, "variables": {"id": id}}})).await;
    let mut messages = Vec::new();
    let mut cancelled = false;
    loop {
        let message = next_json(&mut socket).await;
        match message["type"].as_str() {
            Some("next") => {
                let progress = message["payload"]["data"]["backtestProgress"].clone();
                if progress["kind"] == "PROGRESS" && !cancelled {
                    cancelled = true;
                    let data = app
                        .ok(
                            "mutation($id: ID!) { cancelBacktest(sessionId: $id) { backtestSession { status } } }",
                            json!({"id": id}),
                            Some(&alice.token),
                        )
                        .await;
                    assert_eq!(
                        data["cancelBacktest"]["backtestSession"]["status"],
                        "CANCELLED"
                    );
                }
                messages.push(progress);
            }
            Some("complete") => break,
            other => panic!("unexpected {other:?}: {message}"),
        }
    }
    assert!(cancelled, "a progress message arrived: {messages:?}");
    assert_eq!(messages[0]["kind"], "SNAPSHOT");
    assert_eq!(
        messages.last().unwrap()["kind"],
        "CANCELLED",
        "{messages:?}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_subscriber_on_one_process_follows_a_run_on_another() {
    let (Some(_), Some(_)) = (postgres_url(), redis_url()) else {
        eprintln!("skipped: needs TEST_DATABASE_URL and TEST_REDIS_URL");
        return;
    };
    let url = fresh_database(Backend::Postgres).await.unwrap();
    let mut config_a = test_config(url.clone());
    config_a.progress_step_delay_ms = 20;
    let a = TestApp::start(Backend::Postgres, config_a).await;
    let mut config_b = test_config(url);
    config_b.migrate = false;
    let b = TestApp::start(Backend::Postgres, config_b).await;
    let (alice, _) = users(&a).await;
    // B must hear A's events: wait until its pub/sub subscription is live.
    wait_until("B's progress bus listens", || {
        b.state.backtests.bus.is_listening()
    })
    .await;
    let started = run_nowait(&a, eventful(), Some(&alice.token)).await;
    let id = started["sessionId"].as_str().unwrap().to_string();
    let mut socket = b
        .connect_socket("graphql-transport-ws", Some(&alice.token))
        .await;
    let messages = follow(&mut socket, "graphql-transport-ws", &id).await;
    check_sequence(&messages);
    a.stop().await;
    b.stop().await;
}
