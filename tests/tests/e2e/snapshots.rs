//! Response snapshots (insta) of deterministic outputs a client depends on: the calculator's
//! reference case and one error of each code a request can provoke, as the server sends
//! them. A change shows up as a reviewed diff (`cargo insta review`), not a silent drift.
//! (SERVICE_UNAVAILABLE and INTERNAL_SERVER_ERROR need a broken database or a bug; their
//! shape is pinned by the unit tests of `api/src/graphql/error.rs` and the fault tests.)

use serde_json::{Value, json};
use tests::{Backend, TestApp};

use crate::margin_support::{self, users};

const CALCULATE: &str = "mutation($input: CalculatorInput!) {
  calculate(input: $input) { marginCalculation {
    id ticker accountType positionType createdAt
    result { cashRequired marginLoan shares sharesFractional marginCallPrice dailyInterest
             breakevenPrice holdingInterest riskLevel otherAccountMarginCallPrice
             scenarios { movePct price equity status } warnings }
  } }
}";

fn reference_case() -> Value {
    json!({"input": {
        "ticker": "SPY", "investmentAmount": 100000.0, "leverage": 2.0,
        "currentPrice": 450.25, "accountType": "REG_T", "positionType": "LONG",
        "interestRate": 5.5, "holdingPeriodMonths": 12,
    }})
}

#[tokio::test]
async fn the_calculator_reference_case() {
    let app = TestApp::spawn(Backend::Sqlite).await.expect("SQLite");
    let data = app.ok(CALCULATE, reference_case(), None).await;
    insta::assert_json_snapshot!(data, {
        ".calculate.marginCalculation.id" => "[id]",
        ".calculate.marginCalculation.createdAt" => "[timestamp]",
    });
    app.stop().await;
}

/// The first error of `body`, as the client sees it.
fn first_error(body: &Value) -> Value {
    body["errors"][0].clone()
}

#[tokio::test]
async fn one_error_of_each_code() {
    let app = TestApp::spawn_with(Backend::Sqlite, |config| {
        config.saved_results_quota = 1;
        config.login_max_failures_per_account = 1;
    })
    .await
    .expect("SQLite");
    let (alice, _) = users(&app).await;
    let mut errors = serde_json::Map::new();

    let mut bad = reference_case();
    bad["input"]["holdingPeriodMonths"] = json!(-3);
    let body = app.gql(CALCULATE, bad, None).await;
    errors.insert("BAD_USER_INPUT".into(), first_error(&body));

    let body = app
        .gql(
            "{ savedResults(first: 1) { edges { cursor } } }",
            json!({}),
            None,
        )
        .await;
    errors.insert("UNAUTHENTICATED".into(), first_error(&body));

    let body = app
        .gql(
            "{ users(first: 1) { edges { cursor } } }",
            json!({}),
            Some(&alice.token),
        )
        .await;
    errors.insert("FORBIDDEN".into(), first_error(&body));

    let body = app
        .gql(
            "mutation($id: ID!) { deleteResult(resultId: $id) { deletedId } }",
            json!({"id": "00000000-0000-4000-8000-000000000000"}),
            Some(&alice.token),
        )
        .await;
    errors.insert("NOT_FOUND".into(), first_error(&body));

    let input = json!({
        "ticker": "SPY", "mode": "LIQUIDATION_REENTRY", "startDate": "2023-01-03",
        "endDate": "2023-03-31", "leverage": 1.5, "accountType": "REG_T",
        "initialInvestment": margin_support::unique_amount(),
    });
    let session = margin_support::run(&app, input, Some(&alice.token)).await["sessionId"].clone();
    let save =
        "mutation($input: SaveResultInput!) { saveResult(input: $input) { savedResult { name } } }";
    app.ok(
        save,
        json!({"input": {"sessionId": session, "name": "first"}}),
        Some(&alice.token),
    )
    .await;
    let body = app
        .gql(
            save,
            json!({"input": {"sessionId": session, "name": "second"}}),
            Some(&alice.token),
        )
        .await;
    errors.insert("QUOTA_EXCEEDED".into(), first_error(&body));

    let login = "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }";
    let wrong = json!({"e": alice.email, "p": "not the password"});
    app.gql(login, wrong.clone(), None).await;
    let body = app.gql(login, wrong, None).await;
    errors.insert("RATE_LIMITED".into(), first_error(&body));

    let response = app
        .client
        .post(format!("{}/graphql", app.address))
        .header("content-type", "application/json")
        .body("{\"query\": ")
        .send()
        .await
        .expect("the server answers");
    assert_eq!(response.status().as_u16(), 400);
    let body: Value = response.json().await.expect("a JSON body");
    errors.insert("BAD_REQUEST".into(), first_error(&body));

    for (code, error) in &errors {
        assert_eq!(&error["extensions"]["code"], code, "{error}");
    }
    insta::assert_json_snapshot!(Value::Object(errors), {
        // The wait counts down with the clock.
        ".RATE_LIMITED.extensions.retryAfter" => "[seconds]",
        ".RATE_LIMITED.message" => "[too many requests; retry after N s]",
    });
    app.stop().await;
}
