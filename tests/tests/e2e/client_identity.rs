//! Global object identification: every object with an identity has an `id` unique across
//! types, `node(id:)`/`nodes(ids:)` find it with the rules of its typed field (someone else's
//! object is null, exactly like a missing one), and id arguments take the global id as well
//! as the plain row id of earlier versions. The root types are `Query`, `Mutation` and
//! `Subscription`.

use crate::margin_support;

use std::collections::HashSet;

use margin_support::{backtest_input, login, run, users};
use serde_json::{Value, json};
use tests::{TestApp, error_code, on_each_backend};

const NODE: &str = "query($id: ID!) { node(id: $id) { __typename id
  ... on User { email } ... on Session { current } ... on ApiToken { name }
  ... on MarginCalculation { ticker } ... on BacktestSession { sessionId }
  ... on SavedResult { resultId name } ... on Invite { email } } }";

/// Every object alice owns, by global id, with the field that identifies it otherwise.
struct Owned {
    ids: Vec<(String, &'static str)>,
    session_uuid: Value,
    calculation: String,
}

async fn alices_objects(app: &TestApp, token: &str) -> Owned {
    let me = app
        .ok("{ me { id } mySessions { id } }", json!({}), Some(token))
        .await;
    let session = run(app, backtest_input(10_000.0), Some(token)).await;
    let data = app
        .ok(
            "query($id: UUID!) { backtestSession(sessionId: $id) { id } }",
            json!({"id": session["sessionId"]}),
            Some(token),
        )
        .await;
    let backtest = data["backtestSession"]["id"].as_str().unwrap().to_string();
    let calc = app
        .ok(
            "mutation { calculate(input: {ticker: \"SPY\", investmentAmount: 10000, leverage: 2, currentPrice: 450, accountType: REG_T, positionType: LONG, interestRate: 5, holdingPeriodMonths: 12}) { id } }",
            json!({}),
            Some(token),
        )
        .await;
    let saved = app
        .ok(
            "mutation($s: UUID!) { saveResult(input: {sessionId: $s, name: \"kept\"}) { id resultId } }",
            json!({"s": session["sessionId"]}),
            Some(token),
        )
        .await;
    let api_token = app
        .ok(
            "mutation { createApiToken(name: \"ci\", scopes: [READ]) { token apiToken { id } } }",
            json!({}),
            Some(token),
        )
        .await;
    let text = |v: &Value| v.as_str().expect("an id").to_string();
    let calculation = text(&calc["calculate"]["id"]);
    Owned {
        ids: vec![
            (text(&me["me"]["id"]), "User"),
            (text(&me["mySessions"][0]["id"]), "Session"),
            (backtest, "BacktestSession"),
            (calculation.clone(), "MarginCalculation"),
            (text(&saved["saveResult"]["id"]), "SavedResult"),
            (
                text(&api_token["createApiToken"]["apiToken"]["id"]),
                "ApiToken",
            ),
        ],
        session_uuid: session["sessionId"].clone(),
        calculation,
    }
}

#[tokio::test]
async fn every_object_has_a_global_id_that_node_resolves_for_its_owner_only() {
    on_each_backend(|app: TestApp| async move {
        let (alice, bob) = users(&app).await;
        let owned = alices_objects(&app, &alice.token).await;

        let unique: HashSet<&String> = owned.ids.iter().map(|(id, _)| id).collect();
        assert_eq!(
            unique.len(),
            owned.ids.len(),
            "ids never collide across types: {:?}",
            owned.ids
        );
        for (id, typename) in &owned.ids {
            let data = app.ok(NODE, json!({"id": id}), Some(&alice.token)).await;
            assert_eq!(data["node"]["__typename"], *typename, "{id}");
            assert_eq!(data["node"]["id"], *id);
            // Another user gets null, with no error: exactly what a missing object gets.
            let body = app.gql(NODE, json!({"id": id}), Some(&bob.token)).await;
            assert_eq!(
                body["data"]["node"],
                Value::Null,
                "{typename} hidden from bob: {body}"
            );
            assert!(body.get("errors").is_none(), "{body}");
        }
        let session = owned
            .ids
            .iter()
            .find(|(_, t)| *t == "BacktestSession")
            .unwrap();
        let data = app
            .ok(NODE, json!({"id": session.0}), Some(&alice.token))
            .await;
        assert_eq!(data["node"]["sessionId"], owned.session_uuid);

        // nodes: in order, null where node is null; bounded.
        let mut ids: Vec<Value> = owned.ids.iter().map(|(id, _)| json!(id)).collect();
        ids.insert(1, json!("not an id"));
        let data = app
            .ok(
                "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
                json!({"ids": ids}),
                Some(&alice.token),
            )
            .await;
        let nodes = data["nodes"].as_array().unwrap();
        assert_eq!(nodes.len(), ids.len());
        assert_eq!(nodes[1], Value::Null);
        assert_eq!(nodes[0]["id"], ids[0]);
        assert_eq!(nodes[2]["id"], ids[2]);
        let many: Vec<String> = (0..101).map(|i| i.to_string()).collect();
        let body = app
            .gql(
                "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
                json!({"ids": many}),
                Some(&alice.token),
            )
            .await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT");
        assert_eq!(body["errors"][0]["extensions"]["field"], "ids");

        // Ids that name nothing: null, never an error that tells them apart.
        for id in ["", "1", "VXNlcjo5OTk5OTk", "Rm9vOjE", "%%%"] {
            let body = app.gql(NODE, json!({"id": id}), Some(&alice.token)).await;
            assert_eq!(body["data"]["node"], Value::Null, "{id}: {body}");
            assert!(body.get("errors").is_none(), "{id}: {body}");
        }
        // Without credentials the owner-only kinds are refused as on their typed fields.
        let calc = app.gql(NODE, json!({"id": owned.calculation}), None).await;
        assert_eq!(error_code(&calc), "UNAUTHENTICATED");

        // Id arguments take the global id, and the plain row id of earlier versions.
        let row = tests::row_id(&owned.calculation).to_string();
        for id in [&owned.calculation, &row] {
            let data = app
                .ok(
                    "query($id: ID!) { marginCalculation(id: $id) { id ticker } }",
                    json!({"id": id}),
                    Some(&alice.token),
                )
                .await;
            assert_eq!(data["marginCalculation"]["id"], json!(owned.calculation));
        }
        // Another type's global id with the same row number names nothing.
        let user_id = &owned.ids[0].0;
        let body = app
            .gql(
                "query($id: ID!) { marginCalculation(id: $id) { id } }",
                json!({"id": user_id}),
                Some(&alice.token),
            )
            .await;
        assert_eq!(error_code(&body), "NOT_FOUND");

        // An admin resolves anyone's User and the admin objects; alice only herself.
        let admin = login(&app, "admin@example.com").await;
        let alice_user = &owned.ids[0].0;
        let data = app.ok(NODE, json!({"id": alice_user}), Some(&admin)).await;
        assert_eq!(data["node"]["email"], alice.email);
        let invite = app
            .ok(
                "mutation { createInvite(email: \"carol@example.com\") { invite { id } } }",
                json!({}),
                Some(&admin),
            )
            .await;
        let invite_id = invite["createInvite"]["invite"]["id"].clone();
        let data = app.ok(NODE, json!({"id": invite_id}), Some(&admin)).await;
        assert_eq!(data["node"]["__typename"], "Invite");
        let hidden = app
            .gql(NODE, json!({"id": invite_id}), Some(&alice.token))
            .await;
        assert_eq!(hidden["data"]["node"], Value::Null, "{hidden}");
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn the_root_types_are_query_mutation_and_subscription() {
    let Some(app) = TestApp::spawn(tests::Backend::Sqlite).await else {
        return;
    };
    let data = app
        .ok(
            "{ __schema { queryType { name } mutationType { name } subscriptionType { name } } __typename }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(data["__schema"]["queryType"]["name"], "Query");
    assert_eq!(data["__schema"]["mutationType"]["name"], "Mutation");
    assert_eq!(data["__schema"]["subscriptionType"]["name"], "Subscription");
    assert_eq!(data["__typename"], "Query");
    // A fragment on the root type, as Apollo's cache writes it.
    let data = app
        .ok(
            "query { ...Root } fragment Root on Query { version { service } }",
            json!({}),
            None,
        )
        .await;
    assert!(data["version"]["service"].is_string());
    app.stop().await;
}
