//! Shared by the margin tests: signed-in users through the real accounts flow (the
//! `create-admin` service, an invite, `register`, `login`), GraphQL helpers and a backtest
//! input.

use api::services::accounts::admin;
use serde_json::{Value, json};
use tests::TestApp;
pub use tests::socket::{Socket, next_json, send};

pub const PASSWORD: &str = "correct horse battery staple";

pub struct User {
    pub id: i64,
    pub email: String,
    pub token: String,
}

pub async fn login(app: &TestApp, email: &str) -> String {
    app.login(email, PASSWORD).await
}

/// The admin (created as `margin-api create-admin` does) and two approved members.
pub async fn users(app: &TestApp) -> (User, User) {
    let admin_email = "admin@example.com";
    let admin = admin::create_admin(&app.db, admin_email, "admin", PASSWORD.to_string())
        .await
        .expect("admin is created");
    let admin_token = login(app, admin_email).await;
    let a = member(app, &admin_token, "alice").await;
    let b = member(app, &admin_token, "bob").await;
    let _ = admin.id;
    (a, b)
}

pub async fn member(app: &TestApp, admin_token: &str, name: &str) -> User {
    let email = format!("{name}@example.com");
    let data = app.ok("mutation($email: String!) { createInvite(email: $email, inviteType: ANALYST) { token } }",
        json!({"email": email}),
        Some(admin_token),
    )
    .await;
    let invite = data["createInvite"]["token"]
        .as_str()
        .expect("invite token")
        .to_string();
    let data = app
        .ok(
            "mutation($input: RegisterInput!) { register(input: $input) { user { id } } }",
            json!({"input": {"email": email, "username": name, "password": PASSWORD,
                         "firstName": name, "lastName": "Test", "inviteToken": invite}}),
            None,
        )
        .await;
    let id = tests::row_id(data["register"]["user"]["id"].as_str().expect("id"));
    User {
        id,
        token: login(app, &email).await,
        email,
    }
}

/// A 15-year SPY backtest (2010–2024), leverage 2, REG_T.
pub fn backtest_input(initial: f64) -> Value {
    json!({
        "ticker": "SPY", "mode": "LIQUIDATION_REENTRY",
        "startDate": "2010-01-04", "endDate": "2024-12-31",
        "leverage": 2.0, "accountType": "REG_T", "initialInvestment": initial,
    })
}

pub const RUN: &str = "mutation($input: BacktestInput!, $wait: Boolean) {
  runBacktest(input: $input, wait: $wait) { backtestSession {
    id sessionId status cacheHit executionTimeMs createdAt completedAt
    result { summary { finalEquity totalReturn cagr sharpe maxDrawdown liquidations rounds totalInterest }
             metrics { totalReturn sortino ulcerIndex winRate worstDrawdowns { depth } }
             engineMetrics { liquidations totalInterest finalWealth } }
  } }
}";

pub async fn run(app: &TestApp, input: Value, token: Option<&str>) -> Value {
    let data = app.ok(RUN, json!({"input": input}), token).await;
    data["runBacktest"]["backtestSession"].clone()
}

pub async fn run_nowait(app: &TestApp, input: Value, token: Option<&str>) -> Value {
    let data = app
        .ok(RUN, json!({"input": input, "wait": false}), token)
        .await;
    data["runBacktest"]["backtestSession"].clone()
}

pub const PROGRESS: &str = "subscription($id: ID!) {
  backtestProgress(sessionId: $id) { kind status percent currentDate equity event message summary { finalEquity } }
}";

/// Subscribes and collects messages until the operation completes; returns the payloads
/// (`data.backtestProgress`, or the errors) in order.
pub async fn follow(socket: &mut Socket, protocol: &str, session: &str) -> Vec<Value> {
    let (start, data, done) = if protocol == "graphql-ws" {
        ("start", "data", "complete")
    } else {
        ("subscribe", "next", "complete")
    };
    send(socket, json!({"id": "p1", "type": start, "payload": {"query": PROGRESS, "variables": {"id": session}}})).await;
    let mut out = Vec::new();
    loop {
        let message = next_json(socket).await;
        let kind = message["type"].as_str().unwrap_or("");
        if kind == data {
            let payload = &message["payload"];
            if payload.get("errors").is_some() {
                out.push(json!({"errors": payload["errors"].clone()}));
            } else {
                out.push(payload["data"]["backtestProgress"].clone());
            }
        } else if kind == "error" {
            out.push(json!({"errors": message["payload"].clone()}));
            break;
        } else if kind == done {
            break;
        }
    }
    out
}

/// An initial investment no earlier test run used, so a shared Redis holds no result for it.
pub fn unique_amount() -> f64 {
    100_000.0 + (uuid::Uuid::new_v4().as_u128() % 10_000_000) as f64 / 100.0
}
