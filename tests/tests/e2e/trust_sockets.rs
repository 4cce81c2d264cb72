//! Trust on the WebSocket and in caller resolution: revoked, logged-out, disabled and
//! token-revoked credentials close an open socket with 4403 (and end its subscriptions); the
//! close codes of graphql-transport-ws for a missing or late `connection_init`; a caller whose
//! credentials cannot be checked is refused, never served as anonymous; and the
//! subscription's fallback poll reads as the subscriber.

use crate::margin_support;

use margin_support::{PROGRESS, backtest_input, login, run_nowait, unique_amount, users};
use sea_orm::{ConnectionTrait, EntityTrait, PaginatorTrait};
use serde_json::{Value, json};
use tests::socket::{Socket, next_event, send, until_closed};
use tests::{Backend, TestApp, error_code, on_each_backend};

const CALCULATE: &str =
    "mutation($input: CalculatorInput!) { calculate(input: $input) { marginCalculation { id } } }";

fn calculation() -> Value {
    json!({"input": {
        "ticker": "SPY", "investmentAmount": 100000.0, "leverage": 2.0,
        "currentPrice": 450.25, "accountType": "REG_T", "positionType": "LONG",
        "interestRate": 5.5, "holdingPeriodMonths": 12,
    }})
}

async fn signed_in(app: &TestApp, protocol: &str, token: &str) -> Socket {
    let mut socket = app.open_socket(protocol).await;
    send(
        &mut socket,
        json!({"type": "connection_init", "payload": {"authorization": format!("Bearer {token}")}}),
    )
    .await;
    assert_eq!(next_event(&mut socket).await["type"], "connection_ack");
    socket
}

fn start_type(protocol: &str) -> &'static str {
    if protocol == "graphql-ws" {
        "start"
    } else {
        "subscribe"
    }
}

async fn me_over(socket: &mut Socket, protocol: &str, id: &str) {
    send(socket, json!({"id": id, "type": start_type(protocol), "payload": {"query": "{ me { username } }"}})).await;
}

async fn calculations(app: &TestApp) -> u64 {
    entity::margin_calculation::Entity::find()
        .count(&app.db)
        .await
        .unwrap()
}

/// Credentials are re-checked before every operation (trust interval 0 here).
async fn strict(backend: Backend) -> Option<TestApp> {
    TestApp::spawn_with(backend, |c| c.ws_credential_recheck_ms = 0).await
}

#[tokio::test]
async fn a_disabled_user_is_closed_out_of_an_open_socket_on_both_backends() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let Some(app) = strict(backend).await else {
            continue;
        };
        let (alice, _) = users(&app).await;
        let admin = login(&app, "admin@example.com").await;
        for protocol in ["graphql-transport-ws", "graphql-ws"] {
            let token = login(&app, &alice.email).await;
            let mut socket = signed_in(&app, protocol, &token).await;
            me_over(&mut socket, protocol, "1").await;
            let answer = next_event(&mut socket).await;
            assert_eq!(
                answer["payload"]["data"]["me"]["username"], "alice",
                "{answer}"
            );
            while next_event(&mut socket).await["type"] != "complete" {}
            // While active, the same mutation works on this socket.
            let before = calculations(&app).await;
            send(&mut socket, json!({"id": "c", "type": start_type(protocol), "payload": {"query": CALCULATE, "variables": calculation()}})).await;
            let answer = next_event(&mut socket).await;
            assert!(
                answer["payload"]["data"]["calculate"]["marginCalculation"]["id"].is_string(),
                "{answer}"
            );
            assert_eq!(calculations(&app).await, before + 1);
            while next_event(&mut socket).await["type"] != "complete" {}

            app.ok(
                "mutation($id: ID!) { setUserActive(id: $id, active: false) { user { id } } }",
                json!({"id": alice.id.to_string()}),
                Some(&admin),
            )
            .await;
            let before = calculations(&app).await;
            send(&mut socket, json!({"id": "2", "type": start_type(protocol), "payload": {"query": CALCULATE, "variables": calculation()}})).await;
            let seen = until_closed(&mut socket).await;
            assert_eq!(seen.last().unwrap()["code"], 4403, "{protocol}: {seen:?}");
            assert!(
                seen.iter()
                    .all(|m| m["payload"]["data"]["calculate"]["marginCalculation"].is_null()),
                "{protocol}: nothing was calculated for a disabled user: {seen:?}"
            );
            if protocol == "graphql-ws" {
                assert!(
                    seen.iter().any(|m| m["type"] == "connection_error"),
                    "{seen:?}"
                );
            }
            assert_eq!(
                calculations(&app).await,
                before,
                "{protocol}: no row was stored"
            );
            app.ok(
                "mutation($id: ID!) { setUserActive(id: $id, active: true) { user { id } } }",
                json!({"id": alice.id.to_string()}),
                Some(&admin),
            )
            .await;
        }
        app.stop().await;
    }
}

#[tokio::test]
async fn logout_ends_a_held_subscription_with_4403() {
    on_each_backend(|app: TestApp| async move {
        let held = app.replica(|c| {
            c.ws_credential_recheck_ms = 0;
            c.progress_step_delay_ms = 1000;
        })
        .await;
        let (alice, _) = users(&app).await;
        let started = run_nowait(&held, backtest_input(unique_amount()), Some(&alice.token)).await;
        let id = started["sessionId"].as_str().unwrap().to_string();
        let mut socket = signed_in(&held, "graphql-transport-ws", &alice.token).await;
        send(&mut socket, json!({"id": "p", "type": "subscribe", "payload": {"query": PROGRESS, "variables": {"id": id}}})).await;
        let snapshot = next_event(&mut socket).await;
        assert_eq!(snapshot["payload"]["data"]["backtestProgress"]["kind"], "SNAPSHOT", "{snapshot}");

        app.ok("mutation { logout { session { id } } }", json!({}), Some(&alice.token)).await;
        // The socket is re-checked on its own, without any new operation from the client.
        let seen = until_closed(&mut socket).await;
        assert_eq!(seen.last().unwrap()["code"], 4403, "{seen:?}");
        assert!(seen.iter().all(|m| m["type"] != "complete"), "{seen:?}");

        held.ok("mutation($id: ID!) { cancelBacktest(sessionId: $id) { backtestSession { status } } }", json!({"id": id}), Some(&login(&app, &alice.email).await)).await;
        held.stop().await;
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn a_revoked_api_token_and_a_revoked_session_close_their_sockets() {
    on_each_backend(|app: TestApp| async move {
        let strict_app = app.replica(|c| c.ws_credential_recheck_ms = 0).await;
        let (alice, _) = users(&app).await;
        let created = app.ok("mutation { createApiToken(name: \"ws\", scopes: [READ, WRITE]) { token apiToken { id } } }", json!({}), Some(&alice.token)).await;
        let api_token = created["createApiToken"]["token"].as_str().unwrap().to_string();
        let token_id = created["createApiToken"]["apiToken"]["id"].clone();
        let mut socket = signed_in(&strict_app, "graphql-transport-ws", &api_token).await;
        me_over(&mut socket, "graphql-transport-ws", "1").await;
        assert_eq!(next_event(&mut socket).await["payload"]["data"]["me"]["username"], "alice");
        app.ok("mutation($id: ID!) { revokeApiToken(id: $id) { apiToken { id } } }", json!({"id": token_id}), Some(&alice.token)).await;
        me_over(&mut socket, "graphql-transport-ws", "2").await;
        let seen = until_closed(&mut socket).await;
        assert_eq!(seen.last().unwrap()["code"], 4403, "{seen:?}");
        assert!(seen.iter().all(|m| m["payload"]["data"]["me"].is_null()), "{seen:?}");

        // A second session of Alice's, revoked from the first.
        let second = login(&app, &alice.email).await;
        let mut socket = signed_in(&strict_app, "graphql-transport-ws", &second).await;
        let sessions = app.ok("{ mySessions { id current } }", json!({}), Some(&alice.token)).await;
        let other = sessions["mySessions"].as_array().unwrap().iter().find(|s| s["current"] == false).unwrap()["id"].clone();
        app.ok("mutation($id: ID!) { revokeSession(id: $id) { session { id } } }", json!({"id": other}), Some(&alice.token)).await;
        me_over(&mut socket, "graphql-transport-ws", "1").await;
        let seen = until_closed(&mut socket).await;
        assert_eq!(seen.last().unwrap()["code"], 4403, "{seen:?}");
        strict_app.stop().await;
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn connection_init_rules_of_graphql_transport_ws() {
    let app = TestApp::spawn_with(Backend::Sqlite, |c| c.ws_init_timeout_secs = 1)
        .await
        .unwrap();
    // No connection_init in time: 4408.
    let mut silent = app.open_socket("graphql-transport-ws").await;
    assert_eq!(
        until_closed(&mut silent).await.last().unwrap()["code"],
        4408
    );
    // An operation before connection_init: 4401.
    let mut early = app.open_socket("graphql-transport-ws").await;
    me_over(&mut early, "graphql-transport-ws", "1").await;
    assert_eq!(until_closed(&mut early).await.last().unwrap()["code"], 4401);
    // A bad token: 4403; over the legacy protocol connection_error, then 4403.
    let mut refused = app.open_socket("graphql-transport-ws").await;
    send(
        &mut refused,
        json!({"type": "connection_init", "payload": {"authorization": "Bearer not-a-real-token"}}),
    )
    .await;
    assert_eq!(
        until_closed(&mut refused).await.last().unwrap()["code"],
        4403
    );
    let mut legacy = app.open_socket("graphql-ws").await;
    send(
        &mut legacy,
        json!({"type": "connection_init", "payload": {"authorization": "Bearer not-a-real-token"}}),
    )
    .await;
    let seen = until_closed(&mut legacy).await;
    assert_eq!(seen[0]["type"], "connection_error", "{seen:?}");
    assert_eq!(seen.last().unwrap()["code"], 4403, "{seen:?}");
    // An anonymous connection_init in time is accepted (connect_socket asserts the ack).
    app.connect_socket("graphql-transport-ws", None).await;
    app.stop().await;
}

/// Makes every credential lookup fail with a database error (the tables they read are
/// renamed away) while the rest of the database keeps working.
async fn break_credential_lookups(app: &TestApp) {
    for (table, aside) in [
        ("authentication_usersession", "usersession_aside"),
        ("authentication_apitoken", "apitoken_aside"),
    ] {
        app.db
            .execute_unprepared(&format!("ALTER TABLE {table} RENAME TO {aside}"))
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn credentials_that_cannot_be_checked_are_refused_not_anonymous() {
    on_each_backend(|app: TestApp| async move {
        let (alice, _) = users(&app).await;
        let api_token = app.api_token(&alice.token, "[READ, WRITE]").await;
        break_credential_lookups(&app).await;
        let sessions_before = entity::backtest_session::Entity::find().count(&app.db).await.unwrap();
        let calculations_before = calculations(&app).await;
        for token in [&alice.token, &api_token] {
            // 503 with SERVICE_UNAVAILABLE is a valid answer here: read the body whatever the status.
            let body = app.post_graphql(CALCULATE, calculation(), Some(token)).await.1;
            assert!(body["data"].is_null() || body["data"]["calculate"]["marginCalculation"].is_null(), "{body}");
            assert!(
                matches!(error_code(&body), "INTERNAL_SERVER_ERROR" | "SERVICE_UNAVAILABLE" | "UNAUTHENTICATED"),
                "{body}"
            );
            let body = app.post_graphql(margin_support::RUN, json!({"input": backtest_input(unique_amount())}), Some(token)).await.1;
            assert!(body["data"].is_null() || body["data"]["runBacktest"]["backtestSession"].is_null(), "{body}");
            // The WebSocket refuses the connection (try again later), never anonymous.
            let mut socket = app.open_socket("graphql-transport-ws").await;
            send(&mut socket, json!({"type": "connection_init", "payload": {"authorization": format!("Bearer {token}")}})).await;
            let seen = until_closed(&mut socket).await;
            assert!(seen.iter().all(|m| m["type"] != "connection_ack"), "{seen:?}");
            assert_eq!(seen.last().unwrap()["code"], 1013, "{seen:?}");
        }
        assert_eq!(calculations(&app).await, calculations_before, "nothing stored without an owner");
        assert_eq!(
            entity::backtest_session::Entity::find().count(&app.db).await.unwrap(),
            sessions_before,
            "no run stored without an owner"
        );
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn a_subscriber_on_another_process_gets_completed_from_the_poll() {
    // Two processes on one database and no Redis: B hears nothing of A's run on the bus, so
    // only the fallback poll (every 100 ms here) can end B's stream, and it must read the
    // owned session as its subscriber.
    on_each_backend(|app: TestApp| async move {
        let a = app.replica(|c| {
            c.redis_url = None;
            c.progress_step_delay_ms = 20;
        })
        .await;
        let b = app.replica(|c| {
            c.redis_url = None;
            c.subscription_poll_ms = 100;
        })
        .await;
        let (alice, _) = users(&app).await;
        let started = run_nowait(&a, backtest_input(unique_amount()), Some(&alice.token)).await;
        let id = started["sessionId"].as_str().unwrap().to_string();
        let mut socket = signed_in(&b, "graphql-transport-ws", &alice.token).await;
        send(&mut socket, json!({"id": "p", "type": "subscribe", "payload": {"query": PROGRESS, "variables": {"id": id}}})).await;
        let mut kinds = Vec::new();
        loop {
            let message = next_event(&mut socket).await;
            match message["type"].as_str() {
                Some("next") => kinds.push(message["payload"]["data"]["backtestProgress"]["kind"].clone()),
                Some("complete") => break,
                _ => panic!("unexpected {message}"),
            }
        }
        assert_eq!(kinds.first(), Some(&json!("SNAPSHOT")), "{kinds:?}");
        assert_eq!(kinds.last(), Some(&json!("COMPLETED")), "{kinds:?}");
        a.stop().await;
        b.stop().await;
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn an_unreadable_authorization_header_is_refused_not_anonymous() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let value = reqwest::header::HeaderValue::from_bytes(b"Bearer \xc3\xa9t\xe9").unwrap();
    let body: Value = app
        .client
        .post(format!("{}/graphql", app.address))
        .header(reqwest::header::AUTHORIZATION, value)
        .json(&json!({"query": CALCULATE, "variables": calculation()}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
    assert_eq!(calculations(&app).await, 0, "nothing stored as anonymous");
    app.stop().await;
}

#[tokio::test]
async fn a_deeply_nested_document_over_the_socket_is_refused_and_the_server_lives() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let mut socket = app.connect_socket("graphql-transport-ws", None).await;
    let deep = format!(
        "{{ tickers {}symbol{} }}",
        "{ ".repeat(5000),
        " }".repeat(5000)
    );
    send(
        &mut socket,
        json!({"id": "d", "type": "subscribe", "payload": {"query": deep}}),
    )
    .await;
    let answer = next_event(&mut socket).await;
    assert_eq!(
        answer["payload"][0]["extensions"]["code"]
            .as_str()
            .or(answer["payload"]["errors"][0]["extensions"]["code"].as_str()),
        Some("BAD_REQUEST"),
        "{answer}"
    );
    app.query("{ tickers { symbol } }", json!({})).await;
    app.stop().await;
}
