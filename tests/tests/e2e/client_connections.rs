//! Connections page both ways with the same limits: `first`/`after` forward, `last`/`before`
//! backward, the same rows in the same order either way, `totalCount` over every page.

use crate::margin_support;

use margin_support::users;
use serde_json::{Value, json};
use tests::{TestApp, error_code, on_each_backend};

const CALCULATE: &str = "mutation($amount: Float!) { calculate(input: {ticker: \"SPY\", investmentAmount: $amount, leverage: 2, currentPrice: 450, interestRate: 5, holdingPeriodMonths: 12}) { marginCalculation { id } } }";

const PAGE: &str = "query($first: Int, $after: String, $last: Int, $before: String) {
  marginCalculations(first: $first, after: $after, last: $last, before: $before) {
    totalCount
    edges { cursor node { id } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  } }";

fn ids(page: &Value) -> Vec<String> {
    page["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn connections_page_backward_as_they_page_forward() {
    on_each_backend(|app: TestApp| async move {
        let (alice, _) = users(&app).await;
        for i in 0..5 {
            app.ok(
                CALCULATE,
                json!({"amount": 10_000.0 + f64::from(i)}),
                Some(&alice.token),
            )
            .await;
        }
        let page = |variables: Value| {
            let token = alice.token.clone();
            let app = &app;
            async move { app.ok(PAGE, variables, Some(&token)).await["marginCalculations"].clone() }
        };
        // Forward, two at a time.
        let mut forward = Vec::new();
        let mut after = Value::Null;
        loop {
            let p = page(json!({"first": 2, "after": after})).await;
            assert_eq!(p["totalCount"], 5, "{p}");
            forward.extend(ids(&p));
            if p["pageInfo"]["hasNextPage"] != true {
                break;
            }
            after = p["pageInfo"]["endCursor"].clone();
        }
        assert_eq!(forward.len(), 5);
        // Backward from the end, two at a time: the same rows, in the same order.
        let mut pages = Vec::new();
        let mut before = Value::Null;
        loop {
            let p = page(json!({"last": 2, "before": before})).await;
            assert_eq!(p["totalCount"], 5);
            pages.push(ids(&p));
            if p["pageInfo"]["hasPreviousPage"] != true {
                break;
            }
            before = p["pageInfo"]["startCursor"].clone();
        }
        let backward: Vec<String> = pages.into_iter().rev().flatten().collect();
        assert_eq!(backward, forward);
        // The last page read backward is the end of the forward listing.
        let tail = page(json!({"last": 2})).await;
        assert_eq!(ids(&tail), forward[3..].to_vec());
        assert_eq!(tail["pageInfo"]["hasNextPage"], false);
        assert_eq!(tail["pageInfo"]["hasPreviousPage"], true);

        // Both directions at once, and the limits.
        for (variables, field) in [
            (json!({"first": 2, "last": 2}), "last"),
            (json!({"last": 0}), "last"),
            (json!({"last": 101}), "last"),
            (json!({"last": 2, "before": "not a cursor"}), "before"),
        ] {
            let body = app.gql(PAGE, variables.clone(), Some(&alice.token)).await;
            assert_eq!(error_code(&body), "BAD_USER_INPUT", "{variables}: {body}");
            assert_eq!(
                body["errors"][0]["extensions"]["field"], field,
                "{variables}"
            );
        }
        app.stop().await;
    })
    .await;
}
