//! runBacktest end to end: sessions, the cache layers (identical numbers from every layer),
//! the typed result, cancellation, Redis failures, the cache sweep, single-flight.

use crate::margin_support;

use std::{sync::Arc, time::Duration};

use entity::backtest_session::{BacktestMode, SessionStatus};
use margin_support::{backtest_input, run, run_nowait, users};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use tests::{Backend, TestApp, error_code, on_each_backend, test_config};

const FULL: &str = "query($id: ID!) {
  backtestSession(sessionId: $id) {
    sessionId status cacheHit ticker mode startDate endDate
    result {
      summary { finalEquity finalWealth totalReturn cagr sharpe sortino maxDrawdown liquidations rounds totalInterest totalDividends }
      metrics { totalReturn volatility calmar ulcerIndex bestDay worstDay winRate kelly stability worstDrawdowns { start depth days } undefined { name reason } }
      engineMetrics { liquidations rounds totalInterest totalDividends finalWealth leverageMean }
      rounds { round startDate endDate marginCall interestPaid }
      events { kind date round price equity lossPct }
      cushion { maintenance minCushionPct currentZone zoneDays { safe critical } zoneShare { safe } }
      monthlyReturns { year months yearReturn }
      yearly { year yearReturn maxDrawdown }
      daily(columns: [EQUITY, STATUS, IN_POSITION, CUSHION_PCT, LEVERAGE], every: 21) { totalRows every dates columns { column numbers statuses flags } }
    }
  }
}";

async fn full(app: &TestApp, session: &str, token: Option<&str>) -> Value {
    app.ok(FULL, json!({"id": session}), token).await["backtestSession"].clone()
}

#[tokio::test]
async fn cold_then_cached_with_identical_numbers_from_every_layer() {
    on_each_backend(|app: TestApp| async move {
        let (alice, _bob) = users(&app).await;
        let amount = margin_support::unique_amount();
        let cold = run(&app, backtest_input(amount), Some(&alice.token)).await;
        assert_eq!(cold["status"], "COMPLETED");
        assert_eq!(cold["cacheHit"], false);
        assert!(cold["executionTimeMs"].as_f64().unwrap() > 0.0);
        assert!(cold["result"]["summary"]["finalEquity"].as_f64().unwrap() > 0.0);
        let hot = run(&app, backtest_input(amount), Some(&alice.token)).await;
        assert_eq!(hot["status"], "COMPLETED");
        assert_eq!(hot["cacheHit"], true);
        assert_ne!(
            hot["sessionId"], cold["sessionId"],
            "every run is its own session"
        );
        assert_eq!(hot["result"], cold["result"], "identical numbers");
        let cold_full = full(
            &app,
            cold["sessionId"].as_str().unwrap(),
            Some(&alice.token),
        )
        .await;
        let hot_full = full(&app, hot["sessionId"].as_str().unwrap(), Some(&alice.token)).await;
        assert_eq!(cold_full["result"], hot_full["result"]);

        // Another process on the same database (and Redis, when configured) has an empty
        // memory layer: its hit comes from Redis or the table, with the same numbers.
        // (The background writer stores the result; give it a moment.)
        tests::eventually("the result reached the cache table", || async {
            entity::backtest_cache::Entity::find()
                .count(&app.db)
                .await
                .unwrap()
                == 1
        })
        .await;
        let mut config = test_config(app.database_url.clone());
        config.migrate = false;
        let other = TestApp::start(app.backend, config).await;
        let again = run(&other, backtest_input(amount), Some(&alice.token)).await;
        assert_eq!(again["cacheHit"], true);
        assert_eq!(again["result"], cold["result"]);
        let again_full = full(
            &other,
            again["sessionId"].as_str().unwrap(),
            Some(&alice.token),
        )
        .await;
        assert_eq!(
            again_full["result"], cold_full["result"],
            "daily columns identical across layers"
        );
        other.stop().await;

        // Only the table (no Redis): a process without REDIS_URL.
        let mut config = test_config(app.database_url.clone());
        config.migrate = false;
        config.redis_url = None;
        let table_only = TestApp::start(app.backend, config).await;
        let from_table = run(&table_only, backtest_input(amount), Some(&alice.token)).await;
        assert_eq!(from_table["cacheHit"], true);
        assert_eq!(from_table["result"], cold["result"]);
        table_only.stop().await;
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn sessions_typed_result_figures_raw_and_ownership() {
    on_each_backend(|app: TestApp| async move {
        let (alice, bob) = users(&app).await;
        let mine = run(&app, backtest_input(50_000.0), Some(&alice.token)).await;
        let id = mine["sessionId"].as_str().unwrap().to_string();
        let s = full(&app, &id, Some(&alice.token)).await;
        assert_eq!(s["ticker"], "SPY");
        assert_eq!(s["mode"], "LIQUIDATION_REENTRY");
        assert_eq!(s["startDate"], "2010-01-04");
        let result = &s["result"];
        let daily = &result["daily"];
        let total = daily["totalRows"].as_i64().unwrap();
        assert!((3700..3800).contains(&total), "15 years of trading days: {total}");
        let dates = daily["dates"].as_array().unwrap();
        assert_eq!(dates.len() as i64, (total - 1) / 21 + 1 + i64::from((total - 1) % 21 != 0));
        assert_eq!(dates.last().unwrap(), "2024-12-31");
        let columns = daily["columns"].as_array().unwrap();
        assert_eq!(columns.len(), 5);
        assert_eq!(columns[0]["column"], "EQUITY");
        assert_eq!(columns[0]["numbers"].as_array().unwrap().len(), dates.len());
        assert!(columns[1]["statuses"].as_array().unwrap().iter().all(|v| v.is_string()));
        assert!(columns[2]["flags"].as_array().unwrap().iter().all(|v| v.is_boolean()));
        assert_eq!(result["cushion"]["maintenance"], 0.25);
        assert!(!result["rounds"].as_array().unwrap().is_empty());
        assert!(result["monthlyReturns"][0]["months"].as_array().unwrap().len() == 12);

        let extras = app.ok("query($id: ID!) { backtestSession(sessionId: $id) { result {
            figures(names: [WEALTH, DRAWDOWN]) { name figure } raw } } }", json!({"id": id}), Some(&alice.token)).await;
        let figures = extras["backtestSession"]["result"]["figures"].as_array().unwrap();
        assert_eq!(figures.len(), 2);
        assert_eq!(figures[0]["name"], "WEALTH");
        assert!(figures[0]["figure"]["data"].is_array() && figures[0]["figure"]["layout"].is_object());
        let raw = &extras["backtestSession"]["result"]["raw"];
        assert!(raw["daily"]["equity"].is_array() && raw["summary"].is_object());
        let raw_size = raw.to_string().len();
        assert!(raw_size < 1_000_000, "a 15-year result is under 1 MB of JSON ({raw_size})");

        // Alias amplification of the expensive fields is bounded by the complexity limit.
        let amplified = format!("query($id: ID!) {{ backtestSession(sessionId: $id) {{ result {{ {} }} }} }}",
            (0..6).map(|i| format!("r{i}: raw")).collect::<Vec<_>>().join(" "));
        let (status, body) = app.post_graphql(&amplified, json!({"id": id}), Some(&alice.token)).await;
        assert_eq!(status, 400, "{body}");

        // Lists: the caller's own, newest first, filtered by status.
        let second = run(&app, backtest_input(60_000.0), Some(&alice.token)).await;
        let list = app.ok("{ backtestSessions(status: COMPLETED, first: 1) { edges { node { sessionId result { summary { finalEquity } } } } pageInfo { hasNextPage endCursor } } }", json!({}), Some(&alice.token)).await;
        assert_eq!(list["backtestSessions"]["edges"][0]["node"]["sessionId"], second["sessionId"]);
        assert_eq!(list["backtestSessions"]["pageInfo"]["hasNextPage"], true);
        let bobs = app.ok("{ backtestSessions { edges { node { sessionId } } } }", json!({}), Some(&bob.token)).await;
        assert_eq!(bobs["backtestSessions"]["edges"].as_array().unwrap().len(), 0);

        // Bob: NOT_FOUND for read and cancel, exactly like a missing session.
        let missing = uuid::Uuid::new_v4().to_string();
        let q = "query($id: ID!) { backtestSession(sessionId: $id) { status } }";
        let foreign = app.gql(q, json!({"id": id}), Some(&bob.token)).await;
        let absent = app.gql(q, json!({"id": missing}), Some(&bob.token)).await;
        assert_eq!(error_code(&foreign), "NOT_FOUND");
        assert_eq!(foreign["errors"][0]["message"], absent["errors"][0]["message"]);
        let anon = app.gql(q, json!({"id": id}), None).await;
        assert_eq!(error_code(&anon), "NOT_FOUND");
        let cancel = "mutation($id: ID!) { cancelBacktest(sessionId: $id) { backtestSession { status } } }";
        assert_eq!(error_code(&app.gql(cancel, json!({"id": id}), Some(&bob.token)).await), "NOT_FOUND");

        // An anonymous run belongs to whoever holds its id.
        let anonymous = run(&app, backtest_input(70_000.0), None).await;
        let anon_id = anonymous["sessionId"].as_str().unwrap();
        app.ok(q, json!({"id": anon_id}), None).await;
        app.ok(q, json!({"id": anon_id}), Some(&bob.token)).await;
        let row = entity::backtest_session::Entity::find()
            .filter(entity::backtest_session::Column::SessionId.eq(uuid::Uuid::parse_str(anon_id).unwrap()))
            .one(&app.db).await.unwrap().unwrap();
        assert_eq!(row.user_id, None);
        assert_eq!(row.status, SessionStatus::Completed);

        // Input errors name the field.
        let mut bad = backtest_input(10_000.0);
        bad["leverage"] = json!(3.0);
        let body = app.gql(margin_support::RUN, json!({"input": bad}), Some(&alice.token)).await;
        assert_eq!(body["errors"][0]["extensions"]["field"], "leverage");
        let mut bad = backtest_input(10_000.0);
        bad["startDate"] = json!("1950-01-01");
        let body = app.gql(margin_support::RUN, json!({"input": bad}), Some(&alice.token)).await;
        assert_eq!(body["errors"][0]["extensions"]["field"], "startDate");
        assert!(body["errors"][0]["message"].as_str().unwrap().contains("span"));
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn cancel_a_running_backtest() {
    let app = TestApp::spawn_with(Backend::Sqlite, |c| c.progress_step_delay_ms = 30)
        .await
        .unwrap();
    let (alice, _) = users(&app).await;
    let started = run_nowait(
        &app,
        backtest_input(margin_support::unique_amount()),
        Some(&alice.token),
    )
    .await;
    assert!(
        matches!(started["status"].as_str(), Some("PENDING" | "RUNNING")),
        "{started}"
    );
    assert!(started["result"].is_null());
    let id = started["sessionId"].as_str().unwrap();
    let cancelled = app.ok("mutation($id: ID!) { cancelBacktest(sessionId: $id) { backtestSession { status completedAt result { summary { finalEquity } } } } }",
        json!({"id": id}), Some(&alice.token)).await;
    assert_eq!(
        cancelled["cancelBacktest"]["backtestSession"]["status"],
        "CANCELLED"
    );
    assert!(cancelled["cancelBacktest"]["backtestSession"]["result"].is_null());
    // Once the abandoned computation has ended (at its next progress step), nothing may
    // have overwritten the cancellation.
    tests::wait_until("the cancelled computation ends", || {
        app.state.backtests.flights_in_progress() == 0
    })
    .await;
    let later = app
        .ok(
            "query($id: ID!) { backtestSession(sessionId: $id) { status } }",
            json!({"id": id}),
            Some(&alice.token),
        )
        .await;
    assert_eq!(
        later["backtestSession"]["status"], "CANCELLED",
        "stays cancelled"
    );
    // Nothing was cached for the abandoned run.
    assert_eq!(
        entity::backtest_cache::Entity::find()
            .count(&app.db)
            .await
            .unwrap(),
        0
    );
    app.stop().await;
}

#[tokio::test]
async fn redis_on_a_closed_port_never_fails_a_request() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let Some(app) = TestApp::spawn_with(backend, |c| {
            c.redis_url = Some("redis://127.0.0.1:1/".into())
        })
        .await
        else {
            continue;
        };
        let (alice, _) = users(&app).await;
        let amount = margin_support::unique_amount();
        let cold = run(&app, backtest_input(amount), Some(&alice.token)).await;
        assert_eq!(cold["status"], "COMPLETED");
        let hot = run(&app, backtest_input(amount), Some(&alice.token)).await;
        assert_eq!(hot["cacheHit"], true);
        assert_eq!(hot["result"], cold["result"]);
        let id = cold["sessionId"].as_str().unwrap();
        full(&app, id, Some(&alice.token)).await;
        let saved = app.ok("mutation($s: ID!) { saveResult(input: {sessionId: $s, name: \"x\"}) { savedResult { resultId } } }",
            json!({"s": id}),
            Some(&alice.token),
        )
        .await;
        let rid = saved["saveResult"]["savedResult"]["resultId"].clone();
        app.ok(
            "query($r: ID!) { savedResult(resultId: $r) { result { summary { finalEquity } } } }",
            json!({"r": rid}),
            Some(&alice.token),
        )
        .await;
        app.ok(
            "{ savedResults { edges { node { name } } } stats { savedCount } }",
            json!({}),
            Some(&alice.token),
        )
        .await;
        app.ok("mutation { calculate(input: {ticker: \"SPY\", investmentAmount: 1000, leverage: 2, interestRate: 5, holdingPeriodMonths: 1}) { marginCalculation { id } } }", json!({}), Some(&alice.token)).await;
        let mut socket = app
            .connect_socket("graphql-transport-ws", Some(&alice.token))
            .await;
        let messages = margin_support::follow(&mut socket, "graphql-transport-ws", id).await;
        assert_eq!(messages.first().unwrap()["kind"], "SNAPSHOT");
        assert_eq!(messages.last().unwrap()["kind"], "COMPLETED");
        let status = app.get("/readyz").await.status();
        assert!(status.is_success(), "ready (Redis degraded, not failed)");
        app.stop().await;
    }
}

#[tokio::test]
async fn expired_cache_rows_are_purged() {
    on_each_backend(|app: TestApp| async move {
        use entity::backtest_cache;
        use sea_orm::{ActiveModelTrait, Set};
        let now = chrono::Utc::now();
        for (key, expires) in [
            ("expired-1", now - chrono::Duration::hours(1)),
            ("fresh-1", now + chrono::Duration::hours(1)),
        ] {
            backtest_cache::ActiveModel {
                cache_key: Set(key.into()),
                etf: Set("SPY".into()),
                mode: Set(BacktestMode::LiquidationReentry),
                parameters: Set(json!({})),
                results: Set(json!({})),
                created_at: Set(now - chrono::Duration::days(1)),
                expires_at: Set(expires),
                ..Default::default()
            }
            .insert(&app.db)
            .await
            .unwrap();
        }
        let deleted = api::cache::sweep(&app.db).await.unwrap();
        assert_eq!(deleted, 1);
        let keys: Vec<String> = backtest_cache::Entity::find()
            .all(&app.db)
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.cache_key)
            .collect();
        assert_eq!(keys, vec!["fresh-1".to_string()]);
        app.stop().await;
    })
    .await;

    // The periodic sweep does it by itself.
    let app = TestApp::spawn_with(Backend::Sqlite, |c| c.cache_sweep_secs = 1)
        .await
        .unwrap();
    use entity::backtest_cache;
    use sea_orm::{ActiveModelTrait, Set};
    let now = chrono::Utc::now();
    backtest_cache::ActiveModel {
        cache_key: Set("expired-2".into()),
        etf: Set("SPY".into()),
        mode: Set(BacktestMode::FreshCapital),
        parameters: Set(json!({})),
        results: Set(json!({})),
        created_at: Set(now),
        expires_at: Set(now - chrono::Duration::seconds(1)),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .unwrap();
    tests::eventually("the sweep deleted the expired row", || async {
        backtest_cache::Entity::find().count(&app.db).await.unwrap() == 0
    })
    .await;
    app.stop().await;
}

#[tokio::test]
async fn identical_concurrent_runs_compute_once() {
    use api::{
        bus::ProgressBus,
        cache::ResultCache,
        services::backtests::{Backtests, RunnerSettings},
    };
    let url = tests::fresh_database(Backend::Sqlite).await.unwrap();
    let db = api::db::connect(&url).await.unwrap();
    api::db::migrate_up(&db).await.unwrap();
    let market = Arc::new(engine::market::MarketData::load_dir(&tests::data_dir()).unwrap());
    let cache = ResultCache::new(
        db.clone(),
        None,
        Duration::from_secs(3600),
        64 << 20,
        api::metrics::Metrics::new(),
    );
    let backtests = Backtests::new(
        db.clone(),
        market,
        cache,
        ProgressBus::local(16),
        RunnerSettings {
            concurrency: 2,
            queue: 16,
            step_delay: Duration::from_millis(5),
        },
    );
    let input: engine::backtest::BacktestInput = serde_json::from_value(json!({
        "ticker": "SPY", "mode": "FRESH_CAPITAL", "startDate": "2010-01-04", "endDate": "2024-12-31",
        "leverage": 2.0, "initialInvestment": 100000.0,
    })).unwrap();
    let runs = (0..8).map(|i| {
        let backtests = backtests.clone();
        let input = input.clone();
        tokio::spawn(async move { backtests.run(Some(i).filter(|_| false), &input, true).await })
    });
    let mut sessions = Vec::new();
    for run in runs {
        sessions.push(run.await.unwrap().unwrap());
    }
    assert_eq!(
        backtests.computations(),
        1,
        "eight identical runs, one computation"
    );
    assert!(
        sessions
            .iter()
            .all(|s| s.record.status == SessionStatus::Completed)
    );
    let first = sessions[0].result.clone().unwrap();
    assert!(
        sessions
            .iter()
            .all(|s| s.result.as_ref().is_some_and(|r| Arc::ptr_eq(r, &first)))
    );
    // And a later one is a cache hit.
    let later = backtests.run(None, &input, true).await.unwrap();
    assert!(later.record.cache_hit);
    assert_eq!(backtests.computations(), 1);
}
