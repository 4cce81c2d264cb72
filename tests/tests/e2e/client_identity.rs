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
            "query($id: ID!) { backtestSession(sessionId: $id) { id } }",
            json!({"id": session["sessionId"]}),
            Some(token),
        )
        .await;
    let backtest = data["backtestSession"]["id"].as_str().unwrap().to_string();
    let calc = app
        .ok(
            "mutation { calculate(input: {ticker: \"SPY\", investmentAmount: 10000, leverage: 2, currentPrice: 450, accountType: REG_T, positionType: LONG, interestRate: 5, holdingPeriodMonths: 12}) { marginCalculation { id } } }",
            json!({}),
            Some(token),
        )
        .await;
    let saved = app
        .ok(
            "mutation($s: ID!) { saveResult(input: {sessionId: $s, name: \"kept\"}) { savedResult { id resultId } } }",
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
    let calculation = text(&calc["calculate"]["marginCalculation"]["id"]);
    Owned {
        ids: vec![
            (text(&me["me"]["id"]), "User"),
            (text(&me["mySessions"][0]["id"]), "Session"),
            (backtest, "BacktestSession"),
            (calculation.clone(), "MarginCalculation"),
            (
                text(&saved["saveResult"]["savedResult"]["id"]),
                "SavedResult",
            ),
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

/// Mutations answer with the object they changed (its `id` is what a client cache keys on),
/// revokes with the revoked object, deletes with the deleted global id; the session and
/// result arguments take the global id as well as the UUID, and another kind's id is
/// NOT_FOUND like a missing object.
#[tokio::test]
async fn mutations_return_what_they_changed_and_uuid_arguments_take_global_ids() {
    on_each_backend(|app: TestApp| async move {
        let (alice, bob) = users(&app).await;
        let session = run(&app, backtest_input(10_500.0), Some(&alice.token)).await;
        let session_id = session["id"].as_str().expect("a global id").to_string();
        assert_ne!(session["id"], session["sessionId"]);

        // saveResult takes the session's global id; the payload carries the stored object.
        let saved = app
            .ok(
                "mutation($s: ID!) { saveResult(input: {sessionId: $s, name: \"first\"}) { savedResult { id resultId name } } }",
                json!({"s": session_id}),
                Some(&alice.token),
            )
            .await["saveResult"]["savedResult"]
            .clone();
        assert_eq!(saved["name"], "first");
        let result_id = saved["id"].as_str().expect("a global id").to_string();

        // The typed fields find it by either id; the wrong kind of global id finds nothing.
        for id in [json!(result_id), saved["resultId"].clone()] {
            let data = app
                .ok(
                    "query($id: ID!) { savedResult(resultId: $id) { id name } }",
                    json!({"id": id}),
                    Some(&alice.token),
                )
                .await;
            assert_eq!(data["savedResult"]["id"], saved["id"]);
        }
        let wrong_kind = app
            .gql(
                "query($id: ID!) { savedResult(resultId: $id) { id } }",
                json!({"id": session_id}),
                Some(&alice.token),
            )
            .await;
        assert_eq!(error_code(&wrong_kind), "NOT_FOUND");
        let progress = app
            .ok(
                "query($id: ID!) { backtestSession(sessionId: $id) { id status } }",
                json!({"id": session_id}),
                Some(&alice.token),
            )
            .await;
        assert_eq!(progress["backtestSession"]["id"], session["id"]);

        // updateMetadata answers with the same object, renamed.
        let renamed = app
            .ok(
                "mutation($id: ID!) { updateMetadata(resultId: $id, input: {name: \"second\"}) { savedResult { id name } } }",
                json!({"id": result_id}),
                Some(&alice.token),
            )
            .await;
        assert_eq!(renamed["updateMetadata"]["savedResult"]["id"], saved["id"]);
        assert_eq!(renamed["updateMetadata"]["savedResult"]["name"], "second");

        // Bob cannot delete it (missing, as for anyone else's); alice gets the deleted id.
        let delete = "mutation($id: ID!) { deleteResult(resultId: $id) { deletedId } }";
        let foreign = app.gql(delete, json!({"id": result_id}), Some(&bob.token)).await;
        assert_eq!(error_code(&foreign), "NOT_FOUND");
        let deleted = app.ok(delete, json!({"id": result_id}), Some(&alice.token)).await;
        assert_eq!(deleted["deleteResult"]["deletedId"], saved["id"]);
        let again = app.gql(delete, json!({"id": result_id}), Some(&alice.token)).await;
        assert_eq!(error_code(&again), "NOT_FOUND");

        // A finished session is cancelled as it is: the payload carries it.
        let cancelled = app
            .ok(
                "mutation($id: ID!) { cancelBacktest(sessionId: $id) { backtestSession { id status } } }",
                json!({"id": session_id}),
                Some(&alice.token),
            )
            .await;
        assert_eq!(cancelled["cancelBacktest"]["backtestSession"]["id"], session["id"]);
        assert_eq!(cancelled["cancelBacktest"]["backtestSession"]["status"], "COMPLETED");

        // Revokes answer with the revoked object.
        let token = app
            .ok(
                "mutation { createApiToken(name: \"ci\", scopes: [READ]) { apiToken { id } } }",
                json!({}),
                Some(&alice.token),
            )
            .await["createApiToken"]["apiToken"]["id"]
            .clone();
        let revoked = app
            .ok(
                "mutation($id: ID!) { revokeApiToken(id: $id) { apiToken { id name } } }",
                json!({"id": token}),
                Some(&alice.token),
            )
            .await;
        assert_eq!(revoked["revokeApiToken"]["apiToken"]["id"], token);
        let second = login(&app, &alice.email).await;
        let sessions = app.ok("{ mySessions { id current } }", json!({}), Some(&second)).await;
        let other = sessions["mySessions"]
            .as_array()
            .expect("sessions")
            .iter()
            .find(|s| s["current"] == false)
            .expect("the first sign-in's session")["id"]
            .clone();
        let revoked = app
            .ok(
                "mutation($id: ID!) { revokeSession(id: $id) { session { id current } } }",
                json!({"id": other}),
                Some(&second),
            )
            .await;
        assert_eq!(revoked["revokeSession"]["session"]["id"], other);
        assert_eq!(error_code(&app.gql("{ me { id } }", json!({}), Some(&alice.token)).await), "UNAUTHENTICATED");
        let out = app
            .ok("mutation { logout { session { id current } } }", json!({}), Some(&second))
            .await;
        let current = sessions["mySessions"]
            .as_array()
            .expect("sessions")
            .iter()
            .find(|s| s["current"] == true)
            .expect("this session")["id"]
            .clone();
        assert_eq!(out["logout"]["session"]["id"], current);
        app.stop().await;
    })
    .await;
}
