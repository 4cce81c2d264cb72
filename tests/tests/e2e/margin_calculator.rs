//! Margin calculator and history, and the market-data queries, over HTTP on both databases.

use crate::margin_support;

use margin_support::users;
use serde_json::{Value, json};
use tests::{TestApp, error_code, on_each_backend};

const CALCULATE: &str = "mutation($input: CalculatorInput!) {
  calculate(input: $input) { marginCalculation {
    id ticker accountType positionType createdAt
    result { cashRequired marginLoan shares sharesFractional marginCallPrice dailyInterest
             breakevenPrice holdingInterest riskLevel otherAccountMarginCallPrice
             scenarios { movePct price equity status } warnings }
  } }
}";

const HISTORY: &str = "query($ticker: String, $first: Int, $after: String) {
  marginCalculations(ticker: $ticker, first: $first, after: $after) {
    edges { cursor node { id ticker leverage result { marginCallPrice } } }
    pageInfo { hasNextPage endCursor }
  }
}";

fn reference(ticker: &str, leverage: f64) -> Value {
    json!({"input": {
        "ticker": ticker, "investmentAmount": 100000.0, "leverage": leverage,
        "currentPrice": 450.25, "accountType": "REG_T", "positionType": "LONG",
        "interestRate": 5.5, "holdingPeriodMonths": 12,
    }})
}

#[tokio::test]
async fn calculate_then_page_through_history() {
    on_each_backend(|app: TestApp| async move {
        let (alice, bob) = users(&app).await;
        let data = app
            .ok(CALCULATE, reference("SPY", 2.0), Some(&alice.token))
            .await;
        let r = &data["calculate"]["marginCalculation"]["result"];
        assert_eq!(r["cashRequired"], 50000.0);
        assert_eq!(r["marginLoan"], 50000.0);
        assert_eq!(r["shares"], 222.0);
        assert!((r["marginCallPrice"].as_f64().unwrap() - 300.17).abs() < 0.005);
        assert!((r["dailyInterest"].as_f64().unwrap() - 7.53).abs() < 0.005);
        assert!((r["breakevenPrice"].as_f64().unwrap() - 462.63).abs() < 0.005);
        assert!((r["holdingInterest"].as_f64().unwrap() - 2750.0).abs() < 0.005);
        assert!((r["otherAccountMarginCallPrice"].as_f64().unwrap() - 264.85).abs() < 0.005);
        assert_eq!(r["scenarios"].as_array().unwrap().len(), 12);
        assert_eq!(
            data["calculate"]["marginCalculation"]["accountType"],
            "REG_T"
        );

        // 5 more, two of them for QQQ: 6 in all, newest first, pages of 4.
        for (i, ticker) in ["SPY", "QQQ", "SPY", "QQQ", "VTI"].iter().enumerate() {
            app.ok(
                CALCULATE,
                reference(ticker, 1.0 + 0.1 * (i as f64 + 1.0)),
                Some(&alice.token),
            )
            .await;
        }
        let page1 = app
            .ok(HISTORY, json!({"first": 4}), Some(&alice.token))
            .await;
        let edges = page1["marginCalculations"]["edges"]
            .as_array()
            .unwrap()
            .clone();
        assert_eq!(edges.len(), 4);
        assert_eq!(edges[0]["node"]["ticker"], "VTI", "newest first");
        assert_eq!(page1["marginCalculations"]["pageInfo"]["hasNextPage"], true);
        let after = page1["marginCalculations"]["pageInfo"]["endCursor"].clone();
        let page2 = app
            .ok(
                HISTORY,
                json!({"first": 4, "after": after}),
                Some(&alice.token),
            )
            .await;
        let edges2 = page2["marginCalculations"]["edges"]
            .as_array()
            .unwrap()
            .clone();
        assert_eq!(edges2.len(), 2);
        assert_eq!(
            page2["marginCalculations"]["pageInfo"]["hasNextPage"],
            false
        );
        assert_eq!(edges2[1]["node"]["leverage"], 2.0, "the first one is last");
        let qqq = app
            .ok(HISTORY, json!({"ticker": "qqq"}), Some(&alice.token))
            .await;
        assert_eq!(
            qqq["marginCalculations"]["edges"].as_array().unwrap().len(),
            2
        );

        // Bob sees none of it; Alice's calculation is NOT_FOUND for him, like a missing one.
        let bobs = app.ok(HISTORY, json!({}), Some(&bob.token)).await;
        assert_eq!(
            bobs["marginCalculations"]["edges"]
                .as_array()
                .unwrap()
                .len(),
            0
        );
        let id = edges[0]["node"]["id"].clone();
        let one =
            "query($id: ID!) { marginCalculation(id: $id) { id result { marginCallPrice } } }";
        app.ok(one, json!({"id": id}), Some(&alice.token)).await;
        let foreign = app.gql(one, json!({"id": id}), Some(&bob.token)).await;
        let missing = app
            .gql(one, json!({"id": "999999"}), Some(&bob.token))
            .await;
        assert_eq!(error_code(&foreign), "NOT_FOUND");
        assert_eq!(
            foreign["errors"][0]["message"],
            missing["errors"][0]["message"]
        );

        // Paging bounds.
        for first in [0, 101] {
            let body = app
                .gql(HISTORY, json!({"first": first}), Some(&alice.token))
                .await;
            assert_eq!(error_code(&body), "BAD_USER_INPUT");
            assert_eq!(body["errors"][0]["extensions"]["field"], "first");
        }
        let body = app
            .gql(HISTORY, json!({"after": "garbage"}), Some(&alice.token))
            .await;
        assert_eq!(body["errors"][0]["extensions"]["field"], "after");

        // History needs a signed-in user.
        assert_eq!(
            error_code(&app.gql(HISTORY, json!({}), None).await),
            "UNAUTHENTICATED"
        );
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn anonymous_calculation_is_stored_without_a_user_and_input_errors_name_the_field() {
    let app = TestApp::spawn(tests::Backend::Sqlite).await.unwrap();
    let data = app.ok(CALCULATE, reference("SPY", 2.0), None).await;
    let id = tests::row_id(
        data["calculate"]["marginCalculation"]["id"]
            .as_str()
            .unwrap(),
    );
    use sea_orm::EntityTrait;
    let row = entity::margin_calculation::Entity::find_by_id(id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.user_id, None);
    assert_eq!(row.results["marginLoan"], 50000.0);

    let mut bad = reference("SPY", 7.0);
    bad["input"]["accountType"] = json!("PORTFOLIO");
    let body = app.gql(CALCULATE, bad, None).await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
    assert_eq!(body["errors"][0]["extensions"]["field"], "leverage");
    let body = app.gql(CALCULATE, reference("NOPE", 2.0), None).await;
    assert_eq!(body["errors"][0]["extensions"]["field"], "ticker");
    let mut bad = reference("SPY", 2.0);
    bad["input"]["holdingPeriodMonths"] = json!(-3);
    let body = app.gql(CALCULATE, bad, None).await;
    assert_eq!(
        body["errors"][0]["extensions"]["field"],
        "holdingPeriodMonths"
    );
    app.stop().await;

    let app = TestApp::spawn_with(tests::Backend::Sqlite, |c| c.anonymous_calculate = false)
        .await
        .unwrap();
    let body = app.gql(CALCULATE, reference("SPY", 2.0), None).await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED");
    app.stop().await;
}

#[tokio::test]
async fn market_data_is_column_wise_bounded_and_errors_are_clear() {
    let app = TestApp::spawn(tests::Backend::Sqlite).await.unwrap();
    let q = "query($t: String!, $from: Date, $to: Date, $every: Int) {
      prices(ticker: $t, from: $from, to: $to, every: $every) { ticker every dates close adjClose volume }
    }";
    let data = app
        .ok(
            q,
            json!({"t": "spy", "from": "2024-01-01", "to": "2024-01-31"}),
            None,
        )
        .await;
    let p = &data["prices"];
    assert_eq!(p["ticker"], "SPY");
    let n = p["dates"].as_array().unwrap().len();
    assert!((19..=22).contains(&n), "{n} trading days in January 2024");
    assert_eq!(p["close"].as_array().unwrap().len(), n);
    assert_eq!(p["dates"][0], "2024-01-02");
    let weekly = app
        .ok(
            q,
            json!({"t": "SPY", "from": "2024-01-01", "to": "2024-01-31", "every": 5}),
            None,
        )
        .await;
    let dates = weekly["prices"]["dates"].as_array().unwrap();
    assert_eq!(
        dates.last(),
        p["dates"].as_array().unwrap().last(),
        "the last row is kept"
    );

    let body = app.gql(q, json!({"t": "XYZ"}), None).await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
    assert_eq!(body["errors"][0]["extensions"]["field"], "ticker");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("SPY")
    );
    let body = app
        .gql(
            q,
            json!({"t": "SPY", "from": "1800-01-01", "to": "1800-12-31"}),
            None,
        )
        .await;
    assert_eq!(body["errors"][0]["extensions"]["field"], "to");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("spans")
    );
    let body = app
        .gql(
            q,
            json!({"t": "SPY", "from": "2024-02-01", "to": "2024-01-01"}),
            None,
        )
        .await;
    assert_eq!(body["errors"][0]["extensions"]["field"], "to");
    let body = app.gql(q, json!({"t": "SPY", "every": 0}), None).await;
    assert_eq!(body["errors"][0]["extensions"]["field"], "every");

    let d = app.ok("{ dividends(ticker: \"SPY\", from: \"2023-01-01\", to: \"2023-12-31\") { exDate amount } }", json!({}), None).await;
    let divs = d["dividends"].as_array().unwrap();
    assert_eq!(divs.len(), 4, "SPY pays quarterly: {divs:?}");
    assert!(divs.iter().all(|x| x["amount"].as_f64().unwrap() > 1.0));

    let r = app.ok("{ rates(series: FED_FUNDS, from: \"2024-01-01\", to: \"2024-01-10\") { series dates ratePct } }", json!({}), None).await;
    assert_eq!(r["rates"]["series"], "DFF");
    assert!(
        r["rates"]["ratePct"]
            .as_array()
            .unwrap()
            .iter()
            .all(|v| (v.as_f64().unwrap() - 5.33).abs() < 0.1)
    );
    let body = app
        .gql("{ rates(series: TBILL_3M) { dates } }", json!({}), None)
        .await;
    assert_eq!(
        error_code(&body),
        "BAD_USER_INPUT",
        "the whole series is over the point limit: {body}"
    );
    assert_eq!(body["errors"][0]["extensions"]["field"], "every");
    app.stop().await;
}
