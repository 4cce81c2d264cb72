//! backtestProgress over both WebSocket protocols: snapshot → progress/events → terminal,
//! owner-only, and across two server processes sharing PostgreSQL and Redis.

mod margin_support;

use margin_support::{backtest_input, connect, follow, run_nowait, unique_amount, users};
use serde_json::Value;

/// A run that liquidates and re-enters often (PORTFOLIO at 5x), so events ride on progress.
fn eventful() -> Value {
    let mut input = backtest_input(unique_amount());
    input["accountType"] = "PORTFOLIO".into();
    input["leverage"] = 5.0.into();
    input
}
use tests::{Backend, TestApp, fresh_database, postgres_url, redis_url, test_config};

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
        let mut socket = connect(&app, protocol, Some(&alice.token)).await;
        let messages = follow(&mut socket, protocol, &id).await;
        check_sequence(&messages);

        // After the end: a snapshot and the terminal message straight away.
        let again = follow(&mut socket, protocol, &id).await;
        assert_eq!(again.len(), 2, "{again:?}");
        assert_eq!(again[0]["kind"], "SNAPSHOT");
        assert_eq!(again[0]["status"], "COMPLETED");
        assert_eq!(again[1]["kind"], "COMPLETED");

        // Bob may not follow Alice's run: NOT_FOUND, as for a missing session.
        let mut other = connect(&app, protocol, Some(&bob.token)).await;
        let refused = follow(&mut other, protocol, &id).await;
        assert_eq!(refused.len(), 1, "{refused:?}");
        let errors = &refused[0]["errors"];
        let code = errors[0]["extensions"]["code"]
            .as_str()
            .or(errors["errors"][0]["extensions"]["code"].as_str());
        assert_eq!(code, Some("NOT_FOUND"), "{refused:?}");
        // Nor can an anonymous connection.
        let mut anonymous = connect(&app, protocol, None).await;
        let refused = follow(&mut anonymous, protocol, &id).await;
        assert!(refused[0].get("errors").is_some(), "{refused:?}");
    }

    // An anonymous run is followed by whoever holds its id.
    let started = run_nowait(&app, eventful(), None).await;
    let id = started["sessionId"].as_str().unwrap().to_string();
    let mut socket = connect(&app, "graphql-transport-ws", None).await;
    check_sequence(&follow(&mut socket, "graphql-transport-ws", &id).await);
    app.stop().await;
}

#[tokio::test]
async fn cancelling_ends_the_stream_with_cancelled() {
    let app = TestApp::spawn_with(Backend::Sqlite, |c| c.progress_step_delay_ms = 30)
        .await
        .unwrap();
    let (alice, _) = users(&app).await;
    let started = run_nowait(&app, backtest_input(unique_amount()), Some(&alice.token)).await;
    let id = started["sessionId"].as_str().unwrap().to_string();
    let mut socket = connect(&app, "graphql-transport-ws", Some(&alice.token)).await;
    let canceller = {
        let client = app.client.clone();
        let address = app.address.clone();
        let token = alice.token.clone();
        let id = id.clone();
        tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(400)).await;
            client
                .post(format!("{address}/graphql"))
                .bearer_auth(token)
                .json(&serde_json::json!({
                    "query": "mutation($id: UUID!) { cancelBacktest(sessionId: $id) { status } }",
                    "variables": {"id": id},
                }))
                .send()
                .await
                .unwrap();
        })
    };
    let messages = follow(&mut socket, "graphql-transport-ws", &id).await;
    canceller.await.unwrap();
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
    // Give process B's pub/sub connection a moment to subscribe.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let started = run_nowait(&a, eventful(), Some(&alice.token)).await;
    let id = started["sessionId"].as_str().unwrap().to_string();
    let mut socket = connect(&b, "graphql-transport-ws", Some(&alice.token)).await;
    let messages = follow(&mut socket, "graphql-transport-ws", &id).await;
    check_sequence(&messages);
    a.stop().await;
    b.stop().await;
}
