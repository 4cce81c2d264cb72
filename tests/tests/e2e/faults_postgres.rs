//! Database faults: PostgreSQL made unreachable behind a proxy the test controls (the shared
//! server is never touched) answers SERVICE_UNAVAILABLE quickly, loses nothing and recovers
//! without a restart; and a burst of saves for one user all succeed on either database.

use crate::faults_support;
use crate::margin_support;

use std::time::{Duration, Instant};

use entity::{saved_backtest_result as saved, user};
use faults_support::{Mode, Proxy, postgres_address, through_port};
use margin_support::{run, users};
use sea_orm::{ColumnTrait, Database, EntityTrait, PaginatorTrait, QueryFilter, TransactionTrait};
use serde_json::{Value, json};
use tests::{Backend, TestApp, error_code, fresh_database, test_config};

const SAVE: &str = "mutation($input: SaveResultInput!) { saveResult(input: $input) { savedResult { resultId name } } }";
const SAVED: &str = "{ savedResults(first: 50) { nodes { name } } }";

/// A functional bound, not a benchmark: the default acquire timeout is 2 s, and before the
/// fix a request waited 10 s.
const FAST: Duration = Duration::from_secs(5);

fn short_input() -> Value {
    json!({
        "ticker": "SPY", "mode": "LIQUIDATION_REENTRY", "startDate": "2023-01-03",
        "endDate": "2023-12-29", "leverage": 1.5, "accountType": "REG_T",
        "initialInvestment": margin_support::unique_amount(),
    })
}

fn save_vars(session: &Value, name: &str) -> Value {
    json!({"input": {"sessionId": session, "name": name}})
}

/// POSTs and returns the status, the Retry-After header, the body and how long it took.
async fn timed(
    app: &TestApp,
    query: &str,
    variables: Value,
    token: Option<&str>,
) -> (u16, Option<String>, Value, Duration) {
    let started = Instant::now();
    let mut request = app
        .client
        .post(format!("{}/graphql", app.address))
        .json(&json!({"query": query, "variables": variables}));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("the server answers");
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = response.json().await.unwrap_or(Value::Null);
    (status, retry_after, body, started.elapsed())
}

async fn readyz(app: &TestApp) -> (u16, Value, Duration) {
    let started = Instant::now();
    let response = app.get("/readyz").await;
    let status = response.status().as_u16();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body, started.elapsed())
}

fn assert_unavailable(
    what: &str,
    (status, retry_after, body, took): &(u16, Option<String>, Value, Duration),
) {
    assert_eq!(*status, 503, "{what}: {body}");
    assert_eq!(error_code(body), "SERVICE_UNAVAILABLE", "{what}: {body}");
    assert_eq!(
        body["errors"][0]["extensions"]["retryAfter"], 1,
        "{what}: {body}"
    );
    assert_eq!(retry_after.as_deref(), Some("1"), "{what}");
    let message = body["errors"][0]["message"].as_str().unwrap_or("");
    assert!(
        message.contains("unavailable") && !message.contains("127.0.0.1"),
        "{what}: the message is safe: {message}"
    );
    assert!(*took < FAST, "{what} took {took:?}");
}

#[tokio::test]
async fn unreachable_postgres_answers_service_unavailable_fast_loses_nothing_and_recovers() {
    let Some(admin_url) = tests::postgres_url() else {
        eprintln!("skipped on PostgreSQL: TEST_DATABASE_URL is not set");
        return;
    };
    let direct_url = fresh_database(Backend::Postgres)
        .await
        .expect("PostgreSQL is configured");
    let proxy = Proxy::start(postgres_address(&admin_url)).await;
    let mut config = test_config(through_port(&direct_url, proxy.port));
    config.redis_url = None;
    config.db_acquire_timeout_ms = api::Config::defaults().db_acquire_timeout_ms;
    let app = TestApp::start(Backend::Postgres, config).await;
    let (alice, _) = users(&app).await;
    let session = run(&app, short_input(), Some(&alice.token)).await["sessionId"].clone();
    for i in 0..3 {
        app.ok(
            SAVE,
            save_vars(&session, &format!("before {i}")),
            Some(&alice.token),
        )
        .await;
    }
    assert_eq!(readyz(&app).await.0, 200);
    // Sixteen pooled connections sit idle when the database goes away: more than the outage
    // below uses up, so dead ones are still pooled when it comes back.
    let held = futures_util::future::join_all((0..16).map(|_| app.db.begin())).await;
    let held: Vec<_> = held
        .into_iter()
        .map(|t| t.expect("a transaction"))
        .collect();
    assert!(proxy.live() >= 16, "{} connections", proxy.live());
    for txn in held {
        txn.commit().await.expect("commit");
    }

    for mode in [Mode::Drop, Mode::Refuse] {
        proxy.switch(mode).await;
        let (status, body, took) = readyz(&app).await;
        assert_eq!(status, 503, "{mode:?}: {body}");
        assert_eq!(body["database"], "unreachable");
        assert!(took < FAST, "{mode:?}: /readyz took {took:?}");
        let read = timed(&app, SAVED, json!({}), Some(&alice.token)).await;
        assert_unavailable(&format!("{mode:?} savedResults"), &read);
        let save = timed(
            &app,
            SAVE,
            save_vars(&session, "during"),
            Some(&alice.token),
        )
        .await;
        assert_unavailable(&format!("{mode:?} saveResult"), &save);
        let calculate = timed(
            &app,
            "mutation { calculate(input: {ticker: \"SPY\", investmentAmount: 10000, leverage: 1.5, currentPrice: 450, accountType: REG_T, positionType: LONG, interestRate: 5, holdingPeriodMonths: 12}) { marginCalculation { id } } }",
            json!({}),
            None,
        )
        .await;
        assert_unavailable(&format!("{mode:?} anonymous calculate"), &calculate);
        // What needs no database keeps working.
        let (status, _, body, _) = timed(&app, "{ tickers { symbol } }", json!({}), None).await;
        assert_eq!(status, 200, "{body}");
        assert!(
            body["data"]["tickers"]
                .as_array()
                .is_some_and(|t| !t.is_empty())
        );
    }

    proxy.switch(Mode::Forward).await;
    // The same process serves again at once: the first request after the database is back
    // succeeds (connections that died with it are not handed out again).
    let data = app.ok(SAVED, json!({}), Some(&alice.token)).await;
    let names: Vec<&str> = data["savedResults"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .filter_map(|n| n["name"].as_str())
        .collect();
    assert_eq!(names.len(), 3, "{names:?}");
    assert!(names.iter().all(|n| n.starts_with("before")), "{names:?}");
    app.ok(SAVE, save_vars(&session, "after"), Some(&alice.token))
        .await;
    assert_eq!(readyz(&app).await.0, 200);

    let direct = Database::connect(&direct_url)
        .await
        .expect("direct connection");
    let rows = saved::Entity::find()
        .filter(saved::Column::UserId.eq(alice.id))
        .count(&direct)
        .await
        .unwrap();
    let counter = user::Entity::find_by_id(alice.id)
        .one(&direct)
        .await
        .unwrap()
        .expect("alice")
        .saved_results_count;
    assert_eq!(rows, 4);
    assert_eq!(i64::from(counter), 4, "the quota counter matches the rows");
    direct.close().await.ok();
    app.stop().await;
}

async fn fifty_concurrent_saves_for_one_user_all_succeed(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let (alice, _) = users(&app).await;
    // A 15-year result: a large payload, so the saves overlap.
    let input = margin_support::backtest_input(margin_support::unique_amount());
    let session = run(&app, input, Some(&alice.token)).await["sessionId"].clone();
    let attempts = (0..50).map(|i| {
        let app = &app;
        let token = alice.token.clone();
        let session = session.clone();
        async move {
            app.gql(
                SAVE,
                save_vars(&session, &format!("burst {i}")),
                Some(&token),
            )
            .await
        }
    });
    let bodies = futures_util::future::join_all(attempts).await;
    let failed: Vec<&Value> = bodies
        .iter()
        .filter(|b| b.get("errors").is_some())
        .collect();
    assert!(
        failed.is_empty(),
        "{} of 50 failed on {backend:?}: {:?}",
        failed.len(),
        failed.first()
    );
    let rows = saved::Entity::find()
        .filter(saved::Column::UserId.eq(alice.id))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(rows, 50);
    let over = app
        .gql(
            SAVE,
            save_vars(&session, "one too many"),
            Some(&alice.token),
        )
        .await;
    assert_eq!(error_code(&over), "QUOTA_EXCEEDED", "{over}");
    app.stop().await;
}

#[tokio::test]
async fn fifty_concurrent_saves_for_one_user_all_succeed_on_sqlite() {
    fifty_concurrent_saves_for_one_user_all_succeed(Backend::Sqlite).await;
}

#[tokio::test]
async fn fifty_concurrent_saves_for_one_user_all_succeed_on_postgres() {
    fifty_concurrent_saves_for_one_user_all_succeed(Backend::Postgres).await;
}
