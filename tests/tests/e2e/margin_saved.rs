//! Saved results: the atomic quota under concurrency, filters, ordering, paging, metadata,
//! deletion, cross-user NOT_FOUND; and stats.

use crate::margin_support;

use entity::stored_enums::{AccountType, BacktestMode};
use margin_support::{run, run_nowait, users};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use serde_json::{Value, json};
use tests::{TestApp, error_code, on_each_backend};

const SAVE: &str = "mutation($input: SaveResultInput!) {
  saveResult(input: $input) { savedResult { resultId name description tags mode ticker startDate endDate leverage accountType initialInvestment } }
}";

fn short_input(initial: f64, ticker: &str, mode: &str) -> Value {
    json!({
        "ticker": ticker, "mode": mode, "startDate": "2023-01-03", "endDate": "2023-12-29",
        "leverage": 1.5, "accountType": "REG_T", "initialInvestment": initial,
    })
}

async fn save(app: &TestApp, token: &str, session: &Value, name: &str, tags: Value) -> Value {
    app.gql(SAVE, json!({"input": {"sessionId": session, "name": name, "description": format!("about {name}"), "tags": tags}}), Some(token)).await
}

#[tokio::test]
async fn twenty_concurrent_saves_at_45_of_50_exactly_five_succeed() {
    on_each_backend(|app: TestApp| async move {
        let (alice, _) = users(&app).await;
        let session = run(&app, short_input(10_000.0, "SPY", "LIQUIDATION_REENTRY"), Some(&alice.token)).await["sessionId"].clone();
        let now = chrono::Utc::now();
        for i in 0..45 {
            entity::saved_backtest_result::ActiveModel {
                result_id: Set(uuid::Uuid::new_v4()),
                user_id: Set(alice.id),
                user_email: Set(alice.email.clone()),
                name: Set(format!("old {i}")),
                description: Set(String::new()),
                tags: Set(json!([])),
                mode: Set(BacktestMode::LiquidationReentry),
                ticker: Set("SPY".into()),
                start_date: Set(chrono::NaiveDate::from_ymd_opt(2023, 1, 3).unwrap()),
                end_date: Set(chrono::NaiveDate::from_ymd_opt(2023, 12, 29).unwrap()),
                leverage: Set(1.5),
                account_type: Set(AccountType::RegT),
                initial_investment: Set(10_000.0),
                profit_threshold: Set(None),
                results_data: Set(json!({})),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            }
            .insert(&app.db)
            .await
            .unwrap();
        }
        entity::user::Entity::update_many()
            .col_expr(entity::user::Column::SavedResultsCount, sea_orm::sea_query::Expr::value(45))
            .filter(entity::user::Column::Id.eq(alice.id))
            .exec(&app.db)
            .await
            .unwrap();

        let attempts = (0..20).map(|i| {
            let app = &app;
            let token = alice.token.clone();
            let session = session.clone();
            async move { save(app, &token, &session, &format!("new {i}"), json!(["race"])).await }
        });
        let bodies = futures_util::future::join_all(attempts).await;
        let succeeded = bodies.iter().filter(|b| b.get("errors").is_none()).count();
        let refused: Vec<&Value> = bodies.iter().filter(|b| error_code(b) == "QUOTA_EXCEEDED").collect();
        assert_eq!(succeeded, 5, "{bodies:?}");
        assert_eq!(refused.len(), 15, "{bodies:?}");
        assert!(refused.iter().all(|b| b["errors"][0]["extensions"]["limit"] == 50));
        let stored = entity::saved_backtest_result::Entity::find()
            .filter(entity::saved_backtest_result::Column::UserId.eq(alice.id))
            .count(&app.db)
            .await
            .unwrap();
        assert_eq!(stored, 50);
        let user = entity::user::Entity::find_by_id(alice.id).one(&app.db).await.unwrap().unwrap();
        assert_eq!(user.saved_results_count, 50);

        // Deleting frees a slot, once.
        let victim = bodies.iter().find(|b| b.get("errors").is_none()).unwrap()["data"]["saveResult"]["savedResult"]["resultId"].clone();
        let delete = "mutation($id: ID!) { deleteResult(resultId: $id) { deletedId } }";
        assert!(app.ok(delete, json!({"id": victim}), Some(&alice.token)).await["deleteResult"]["deletedId"].is_string());
        assert_eq!(error_code(&app.gql(delete, json!({"id": victim}), Some(&alice.token)).await), "NOT_FOUND");
        let stats = app.ok("{ stats { savedCount savedQuota } }", json!({}), Some(&alice.token)).await;
        assert_eq!(stats["stats"]["savedCount"], 49);
        assert_eq!(stats["stats"]["savedQuota"], 50);
        let again = save(&app, &alice.token, &session, "fits again", json!([])).await;
        assert!(again.get("errors").is_none(), "{again}");
        let full = save(&app, &alice.token, &session, "one too many", json!([])).await;
        assert_eq!(error_code(&full), "QUOTA_EXCEEDED");
        app.stop().await;
    })
    .await;
}

const LIST: &str =
    "query($filter: SavedResultFilter, $order: SavedResultOrder, $first: Int, $after: String) {
  savedResults(filter: $filter, orderBy: $order, first: $first, after: $after) {
    edges { cursor node { resultId name tags ticker mode result { summary { finalEquity } } } }
    pageInfo { hasNextPage endCursor }
  }
}";

async fn names(app: &TestApp, token: &str, variables: Value) -> Vec<String> {
    let data = app.ok(LIST, variables, Some(token)).await;
    data["savedResults"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            assert!(
                e["node"]["result"].is_null(),
                "listings never carry the payload"
            );
            e["node"]["name"].as_str().unwrap().to_string()
        })
        .collect()
}

#[tokio::test]
async fn filters_ordering_paging_metadata_and_ownership() {
    on_each_backend(|app: TestApp| async move {
        let (alice, bob) = users(&app).await;
        let spy = run(&app, short_input(10_000.0, "SPY", "LIQUIDATION_REENTRY"), Some(&alice.token)).await["sessionId"].clone();
        let qqq = run(&app, short_input(10_000.0, "QQQ", "FRESH_CAPITAL"), Some(&alice.token)).await["sessionId"].clone();
        let mut ids = Vec::new();
        for (session, name, tags) in [
            (&spy, "Bravo", json!(["core", "2023"])),
            (&qqq, "alpha tech", json!(["tech"])),
            (&spy, "Charlie 100%", json!(["core"])),
            (&qqq, "delta", json!(["tech", "core", "ünïcode \"quoted\""])),
        ] {
            let body = save(&app, &alice.token, session, name, tags).await;
            assert!(body.get("errors").is_none(), "{body}");
            ids.push(body["data"]["saveResult"]["savedResult"]["resultId"].clone());
        }
        let first = save(&app, &alice.token, &spy, "x", json!([])).await;
        ids.push(first["data"]["saveResult"]["savedResult"]["resultId"].clone());
        assert_eq!(first["data"]["saveResult"]["savedResult"]["ticker"], "SPY");
        assert_eq!(first["data"]["saveResult"]["savedResult"]["accountType"], "REG_T");

        assert_eq!(names(&app, &alice.token, json!({})).await, ["x", "delta", "Charlie 100%", "alpha tech", "Bravo"]);
        assert_eq!(names(&app, &alice.token, json!({"order": "CREATED_AT_ASC", "first": 2})).await, ["Bravo", "alpha tech"]);
        assert_eq!(names(&app, &alice.token, json!({"filter": {"ticker": "qqq"}})).await, ["delta", "alpha tech"]);
        assert_eq!(names(&app, &alice.token, json!({"filter": {"mode": "FRESH_CAPITAL"}})).await, ["delta", "alpha tech"]);
        assert_eq!(names(&app, &alice.token, json!({"filter": {"search": "ALPHA"}})).await, ["alpha tech"]);
        assert_eq!(names(&app, &alice.token, json!({"filter": {"search": "100%"}})).await, ["Charlie 100%"]);
        assert_eq!(names(&app, &alice.token, json!({"filter": {"search": "about brav"}})).await, ["Bravo"], "description too");
        assert_eq!(names(&app, &alice.token, json!({"filter": {"tags": ["core"]}})).await, ["delta", "Charlie 100%", "Bravo"]);
        assert_eq!(names(&app, &alice.token, json!({"filter": {"tags": ["core", "tech"]}})).await, ["delta"]);
        assert_eq!(names(&app, &alice.token, json!({"filter": {"tags": ["ünïcode \"quoted\""]}})).await, ["delta"]);
        assert_eq!(names(&app, &alice.token, json!({"filter": {"tags": ["cor"]}})).await, Vec::<String>::new(), "whole tags only");
        let today = chrono::Utc::now().date_naive();
        let tomorrow = today.succ_opt().unwrap();
        assert_eq!(names(&app, &alice.token, json!({"filter": {"from": today, "to": today}})).await.len(), 5);
        assert_eq!(names(&app, &alice.token, json!({"filter": {"from": tomorrow}})).await.len(), 0);
        assert_eq!(names(&app, &alice.token, json!({"filter": {"accountType": "PORTFOLIO"}})).await.len(), 0);

        // Name order, paged two at a time (ties broken by id).
        let mut seen = Vec::new();
        let mut after = Value::Null;
        loop {
            let data = app.ok(LIST, json!({"order": "NAME_ASC", "first": 2, "after": after}), Some(&alice.token)).await;
            let conn = &data["savedResults"];
            seen.extend(conn["edges"].as_array().unwrap().iter().map(|e| e["node"]["name"].as_str().unwrap().to_string()));
            if conn["pageInfo"]["hasNextPage"] != true {
                break;
            }
            after = conn["pageInfo"]["endCursor"].clone();
        }
        let mut sorted = seen.clone();
        sorted.sort_by_key(|n| n.to_lowercase());
        assert_eq!(seen, sorted);
        assert_eq!(seen.len(), 5);

        // The full result of one saved result.
        let one = "query($id: ID!) { savedResult(resultId: $id) { name result { summary { finalEquity ticker } metrics { sharpe } daily(columns: [WEALTH], every: 50) { dates } } } }";
        let data = app.ok(one, json!({"id": ids[0]}), Some(&alice.token)).await;
        assert_eq!(data["savedResult"]["result"]["summary"]["ticker"], "SPY");
        assert!(data["savedResult"]["result"]["daily"]["dates"].as_array().unwrap().len() >= 5);

        // Metadata.
        let update = "mutation($id: ID!, $input: MetadataInput!) { updateMetadata(resultId: $id, input: $input) { savedResult { name description tags } } }";
        let data = app.ok(update, json!({"id": ids[0], "input": {"name": "Bravo 2", "tags": ["renamed"]}}), Some(&alice.token)).await;
        assert_eq!(data["updateMetadata"]["savedResult"]["name"], "Bravo 2");
        assert_eq!(data["updateMetadata"]["savedResult"]["description"], "about Bravo", "omitted fields are kept");
        assert_eq!(data["updateMetadata"]["savedResult"]["tags"], json!(["renamed"]));
        for (input, field) in [
            (json!({"name": ""}), "name"),
            (json!({"name": "x".repeat(256)}), "name"),
            (json!({"name": "bell\u{7}"}), "name"),
            (json!({"description": "x".repeat(5001)}), "description"),
            (json!({"tags": (0..21).map(|i| i.to_string()).collect::<Vec<_>>()}), "tags"),
            (json!({"tags": ["x".repeat(51)]}), "tags"),
        ] {
            let body = app.gql(update, json!({"id": ids[0], "input": input}), Some(&alice.token)).await;
            assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
            assert_eq!(body["errors"][0]["extensions"]["field"], field);
        }

        // Bob: NOT_FOUND for every read, update, delete, and for saving Alice's session.
        let missing = uuid::Uuid::new_v4();
        let foreign = app.gql(one, json!({"id": ids[0]}), Some(&bob.token)).await;
        let absent = app.gql(one, json!({"id": missing}), Some(&bob.token)).await;
        assert_eq!(error_code(&foreign), "NOT_FOUND");
        assert_eq!(foreign["errors"][0]["message"], absent["errors"][0]["message"]);
        let body = app.gql(update, json!({"id": ids[0], "input": {"name": "mine now"}}), Some(&bob.token)).await;
        assert_eq!(error_code(&body), "NOT_FOUND");
        let body = app.gql("mutation($id: ID!) { deleteResult(resultId: $id) { deletedId } }", json!({"id": ids[0]}), Some(&bob.token)).await;
        assert_eq!(error_code(&body), "NOT_FOUND");
        let body = save(&app, &bob.token, &spy, "stolen", json!([])).await;
        assert_eq!(error_code(&body), "NOT_FOUND");
        assert!(names(&app, &bob.token, json!({})).await.is_empty());
        let still = app.ok(one, json!({"id": ids[0]}), Some(&alice.token)).await;
        assert_eq!(still["savedResult"]["name"], "Bravo 2");

        // Only completed sessions are saved; anonymous callers save nothing.
        // The run is held on a replica whose progress steps take a second each (about a
        // hundred of them), so it is certainly not completed when the save arrives; it is
        // cancelled afterwards, which ends the computation at its next step.
        let held = app.replica(|c| c.progress_step_delay_ms = 1000).await;
        let pending = run_nowait(&held, margin_support::backtest_input(margin_support::unique_amount()), Some(&alice.token)).await;
        assert!(matches!(pending["status"].as_str(), Some("PENDING" | "RUNNING")), "{pending}");
        let body = save(&app, &alice.token, &pending["sessionId"], "too early", json!([])).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
        held.ok("mutation($id: ID!) { cancelBacktest(sessionId: $id) { backtestSession { status } } }", json!({"id": pending["sessionId"]}), Some(&alice.token)).await;
        held.stop().await;
        let body = save(&app, "", &spy, "anon", json!([])).await;
        assert!(matches!(error_code(&body), "UNAUTHENTICATED"), "{body}");

        // Stats.
        let stats = app.ok("{ stats(days: 7) { days byMode { mode totalRuns completed cacheHits cacheHitRate avgExecutionMs p95ExecutionMs maxExecutionMs } mine { mode totalRuns } savedCount savedQuota } }", json!({}), Some(&alice.token)).await;
        let by_mode = stats["stats"]["byMode"].as_array().unwrap();
        assert_eq!(by_mode.len(), 3);
        let lr = by_mode.iter().find(|m| m["mode"] == "LIQUIDATION_REENTRY").unwrap();
        assert!(lr["totalRuns"].as_u64().unwrap() >= 1);
        assert!(lr["maxExecutionMs"].as_f64().unwrap() >= lr["p95ExecutionMs"].as_f64().unwrap());
        assert_eq!(stats["stats"]["savedCount"], 5);
        let body = app.gql("{ stats(days: 0) { days } }", json!({}), Some(&alice.token)).await;
        assert_eq!(body["errors"][0]["extensions"]["field"], "days");
        app.stop().await;
    })
    .await;
}
