//! Scale-safe queries: the API-token cap holds under concurrent creates, saved-result tag
//! filters and name ordering answer identically on SQLite and PostgreSQL, `stats` is
//! aggregated by the database with the same numbers as the in-memory definition, and
//! migration 6 backfills the new keys.

use crate::margin_support;

use chrono::{Duration, Utc};
use entity::backtest_session::{BacktestMode, SessionStatus};
use margin_support::{run, users};
use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ColumnTrait, ConnectionTrait, Database, EntityTrait,
    PaginatorTrait, QueryFilter, Set, Statement,
};
use serde_json::{Value, json};
use tests::{Backend, TestApp, error_code, fresh_database};

/// `$sqlite` and `$postgres` tests running one scenario against a fresh server on each.
macro_rules! on_both {
    ($scenario:ident, $sqlite:ident, $postgres:ident) => {
        #[tokio::test]
        async fn $sqlite() {
            if let Some(app) = TestApp::spawn(Backend::Sqlite).await {
                $scenario(app).await;
            }
        }

        #[tokio::test]
        async fn $postgres() {
            if let Some(app) = TestApp::spawn(Backend::Postgres).await {
                $scenario(app).await;
            }
        }
    };
}

// ---------------------------------------------------------------- API-token cap

const CREATE_TOKEN: &str =
    "mutation($name: String!) { createApiToken(name: $name, scopes: [READ]) { apiToken { id } } }";

on_both!(
    sixty_concurrent_token_creates,
    sixty_concurrent_token_creates_leave_exactly_fifty_on_sqlite,
    sixty_concurrent_token_creates_leave_exactly_fifty_on_postgres
);

async fn sixty_concurrent_token_creates(app: TestApp) {
    {
        let (alice, _) = users(&app).await;
        let attempts = (0..60).map(|i| {
            let app = &app;
            let token = alice.token.clone();
            async move {
                app.gql(
                    CREATE_TOKEN,
                    json!({"name": format!("bot {i}")}),
                    Some(&token),
                )
                .await
            }
        });
        let bodies = futures_util::future::join_all(attempts).await;
        let created = bodies.iter().filter(|b| b.get("errors").is_none()).count();
        let refused: Vec<&Value> = bodies
            .iter()
            .filter(|b| b.get("errors").is_some())
            .collect();
        assert_eq!(created, 50, "{:?} on {:?}", refused.first(), app.backend);
        assert_eq!(refused.len(), 10);
        for body in &refused {
            assert_eq!(error_code(body), "BAD_USER_INPUT", "{body}");
            assert_eq!(body["errors"][0]["extensions"]["field"], "name");
            assert!(
                body["errors"][0]["message"]
                    .as_str()
                    .unwrap()
                    .contains("at most 50 API tokens")
            );
        }
        let live = entity::api_token::Entity::find()
            .filter(entity::api_token::Column::UserId.eq(alice.id))
            .filter(entity::api_token::Column::RevokedAt.is_null())
            .count(&app.db)
            .await
            .unwrap();
        assert_eq!(live, 50);
        let listed = app
            .ok("{ apiTokens { id } }", json!({}), Some(&alice.token))
            .await;
        assert_eq!(listed["apiTokens"].as_array().unwrap().len(), 50);

        // Revoking frees one slot, once.
        let id = listed["apiTokens"][0]["id"].clone();
        let revoke = "mutation($id: ID!) { revokeApiToken(id: $id) { apiToken { id } } }";
        app.ok(revoke, json!({"id": id}), Some(&alice.token)).await;
        app.ok(
            CREATE_TOKEN,
            json!({"name": "fits again"}),
            Some(&alice.token),
        )
        .await;
        let full = app
            .gql(
                CREATE_TOKEN,
                json!({"name": "one too many"}),
                Some(&alice.token),
            )
            .await;
        assert_eq!(error_code(&full), "BAD_USER_INPUT");
        app.stop().await;
    }
}

// ---------------------------------------------------------------- saved results

const SAVE: &str = "mutation($input: SaveResultInput!) { saveResult(input: $input) { savedResult { resultId name tags } } }";
const LIST: &str =
    "query($filter: SavedResultFilter, $order: SavedResultOrder, $first: Int, $after: String) {
  savedResults(filter: $filter, orderBy: $order, first: $first, after: $after) {
    edges { node { name } } pageInfo { hasNextPage endCursor }
  }
}";

fn short_input() -> Value {
    json!({
        "ticker": "SPY", "mode": "LIQUIDATION_REENTRY", "startDate": "2023-01-03", "endDate": "2023-12-29",
        "leverage": 1.5, "accountType": "REG_T", "initialInvestment": 10_000.0,
    })
}

async fn names(app: &TestApp, token: &str, variables: Value) -> Vec<String> {
    let data = app.ok(LIST, variables, Some(token)).await;
    data["savedResults"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["name"].as_str().unwrap().to_string())
        .collect()
}

async fn tagged(app: &TestApp, token: &str, tags: Value) -> Vec<String> {
    let mut found = names(
        app,
        token,
        json!({"filter": {"tags": tags}, "order": "NAME_ASC"}),
    )
    .await;
    found.sort();
    found
}

/// Every name, page by page of `first`, in `order`.
async fn paged(app: &TestApp, token: &str, order: &str, first: i32) -> Vec<String> {
    let mut seen = Vec::new();
    let mut after = Value::Null;
    loop {
        let data = app
            .ok(
                LIST,
                json!({"order": order, "first": first, "after": after}),
                Some(token),
            )
            .await;
        let conn = &data["savedResults"];
        let edges = conn["edges"].as_array().unwrap();
        assert!(edges.len() <= first as usize);
        seen.extend(
            edges
                .iter()
                .map(|e| e["node"]["name"].as_str().unwrap().to_string()),
        );
        if conn["pageInfo"]["hasNextPage"] != true {
            return seen;
        }
        after = conn["pageInfo"]["endCursor"].clone();
    }
}

on_both!(
    tags_and_names,
    tags_match_exactly_and_names_order_identically_on_sqlite,
    tags_match_exactly_and_names_order_identically_on_postgres
);

async fn tags_and_names(app: TestApp) {
    {
        let (alice, bob) = users(&app).await;
        let session = run(&app, short_input(), Some(&alice.token)).await["sessionId"].clone();
        let mut ids = std::collections::HashMap::new();
        for (name, tags) in [
            ("banana", json!(["Alpha"])),
            ("Apple", json!(["alpha", "x"])),
            ("cherry", json!(["ALPHA-2"])),
            ("apple 2", json!(["al%"])),
            ("Éclair", json!(["a_c", "Été"])),
            ("APPLE", json!(["Alpha", "alpha"])),
        ] {
            let body = app
                .gql(
                    SAVE,
                    json!({"input": {"sessionId": session, "name": name, "tags": tags}}),
                    Some(&alice.token),
                )
                .await;
            assert!(body.get("errors").is_none(), "{body}");
            assert_eq!(
                body["data"]["saveResult"]["savedResult"]["tags"], tags,
                "tags are shown as given"
            );
            ids.insert(
                name,
                body["data"]["saveResult"]["savedResult"]["resultId"].clone(),
            );
        }
        // Bob's result tagged alpha is never Alice's.
        let bobs = run(&app, short_input(), Some(&bob.token)).await["sessionId"].clone();
        app.ok(
            SAVE,
            json!({"input": {"sessionId": bobs, "name": "bob's", "tags": ["alpha"]}}),
            Some(&bob.token),
        )
        .await;

        for wanted in ["alpha", "ALPHA", "Alpha", " alpha "] {
            assert_eq!(
                tagged(&app, &alice.token, json!([wanted])).await,
                ["APPLE", "Apple", "banana"],
                "{wanted} on {:?}",
                app.backend
            );
        }
        assert_eq!(
            tagged(&app, &alice.token, json!(["alpha-2"])).await,
            ["cherry"]
        );
        assert_eq!(
            tagged(&app, &alice.token, json!(["alpha", "X"])).await,
            ["Apple"]
        );
        assert_eq!(
            tagged(&app, &alice.token, json!(["al%"])).await,
            ["apple 2"]
        );
        assert_eq!(tagged(&app, &alice.token, json!(["a_c"])).await, ["Éclair"]);
        assert_eq!(
            tagged(&app, &alice.token, json!(["ÉTÉ"])).await,
            ["Éclair"],
            "non-ASCII case folds too"
        );
        for not_a_wildcard in ["al", "al_", "a%", "%", "_", "abc", "a_", "alph", "alpha%"] {
            assert!(
                tagged(&app, &alice.token, json!([not_a_wildcard]))
                    .await
                    .is_empty(),
                "{not_a_wildcard}"
            );
        }

        // Lower-cased key (code points), then id.
        let ascending = ["Apple", "APPLE", "apple 2", "banana", "cherry", "Éclair"];
        let descending = ["Éclair", "cherry", "banana", "apple 2", "APPLE", "Apple"];
        assert_eq!(
            names(&app, &alice.token, json!({"order": "NAME_ASC"})).await,
            ascending
        );
        assert_eq!(
            names(&app, &alice.token, json!({"order": "NAME_DESC"})).await,
            descending
        );
        for first in [1, 2] {
            assert_eq!(
                paged(&app, &alice.token, "NAME_ASC", first).await,
                ascending,
                "first: {first}"
            );
            assert_eq!(
                paged(&app, &alice.token, "NAME_DESC", first).await,
                descending,
                "first: {first}"
            );
        }
        assert_eq!(
            names(&app, &alice.token, json!({"filter": {"search": "ÉCLAIR"}})).await,
            ["Éclair"]
        );

        // updateMetadata moves both keys; deleteResult  { deletedId }drops the tags.
        let update = "mutation($id: ID!, $input: MetadataInput!) { updateMetadata(resultId: $id, input: $input) { savedResult { name tags } } }";
        app.ok(
            update,
            json!({"id": ids["cherry"], "input": {"name": "Aardvark", "tags": ["ALPHA"]}}),
            Some(&alice.token),
        )
        .await;
        app.ok(
            update,
            json!({"id": ids["banana"], "input": {"description": "tags kept"}}),
            Some(&alice.token),
        )
        .await;
        assert_eq!(
            tagged(&app, &alice.token, json!(["alpha"])).await,
            ["APPLE", "Aardvark", "Apple", "banana"]
        );
        assert!(
            tagged(&app, &alice.token, json!(["alpha-2"]))
                .await
                .is_empty()
        );
        assert_eq!(
            paged(&app, &alice.token, "NAME_ASC", 2).await,
            ["Aardvark", "Apple", "APPLE", "apple 2", "banana", "Éclair"]
        );
        app.ok(
            "mutation($id: ID!) { deleteResult(resultId: $id) { deletedId } }",
            json!({"id": ids["banana"]}),
            Some(&alice.token),
        )
        .await;
        assert_eq!(
            tagged(&app, &alice.token, json!(["alpha"])).await,
            ["APPLE", "Aardvark", "Apple"]
        );
        let tag_rows = entity::saved_result_tag::Entity::find()
            .count(&app.db)
            .await
            .unwrap();
        // APPLE: alpha; Apple: alpha, x; apple 2: al%; Éclair: a_c, été; Aardvark: alpha; bob's: alpha.
        assert_eq!(
            tag_rows, 8,
            "one row per distinct key, none left by the deleted result"
        );
        app.stop().await;
    }
}

// ---------------------------------------------------------------- stats

/// `percentile_cont`: linear interpolation between the two ranks around q·(n−1).
fn percentile(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let pos = q * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    Some(sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64))
}

struct Session {
    user: Option<i64>,
    mode: &'static str,
    status: SessionStatus,
    cache_hit: bool,
    days_ago: i64,
    ms: Option<f64>,
}

async fn insert_session(app: &TestApp, s: &Session) {
    let created = Utc::now() - Duration::days(s.days_ago) - Duration::minutes(5);
    entity::backtest_session::ActiveModel {
        user_id: Set(s.user),
        mode: Set(BacktestMode::try_from_value(&s.mode.to_string()).expect("a stored mode")),
        cache_hit: Set(s.cache_hit),
        created_at: Set(created),
        completed_at: Set(Some(created)),
        execution_time_ms: Set(s.ms),
        ..tests::rows::backtest_session(s.status)
    }
    .insert(&app.db)
    .await
    .unwrap();
}

struct Expected {
    total: u64,
    completed: u64,
    errors: u64,
    cancelled: u64,
    hits: u64,
    avg: Option<f64>,
    p95: Option<f64>,
    max: Option<f64>,
}

/// What `stats` must answer for `mode` over `sessions`, by the in-memory definition.
fn expected(sessions: &[&Session], mode: &str) -> Expected {
    let of: Vec<&&Session> = sessions.iter().filter(|s| s.mode == mode).collect();
    let count = |status: SessionStatus| of.iter().filter(|s| s.status == status).count() as u64;
    let mut times: Vec<f64> = of
        .iter()
        .filter(|s| s.status == SessionStatus::Completed)
        .filter_map(|s| s.ms)
        .collect();
    times.sort_by(f64::total_cmp);
    let avg = (!times.is_empty()).then(|| times.iter().sum::<f64>() / times.len() as f64);
    Expected {
        total: of.len() as u64,
        completed: count(SessionStatus::Completed),
        errors: count(SessionStatus::Error),
        cancelled: count(SessionStatus::Cancelled),
        hits: of.iter().filter(|s| s.cache_hit).count() as u64,
        avg,
        p95: percentile(&times, 0.95),
        max: times.last().copied(),
    }
}

fn check(actual: &[Value], sessions: &[&Session], backend: Backend) {
    assert_eq!(actual.len(), 3);
    for row in actual {
        let mode = row["mode"].as_str().unwrap();
        let Expected {
            total,
            completed,
            errors,
            cancelled,
            hits,
            avg,
            p95,
            max,
        } = expected(sessions, mode);
        let context = format!("{mode} on {backend:?}: {row}");
        assert_eq!(row["totalRuns"], total, "{context}");
        assert_eq!(row["completed"], completed, "{context}");
        assert_eq!(row["errors"], errors, "{context}");
        assert_eq!(row["cancelled"], cancelled, "{context}");
        assert_eq!(row["cacheHits"], hits, "{context}");
        let rate = if total > 0 {
            hits as f64 / total as f64
        } else {
            0.0
        };
        assert_eq!(row["cacheHitRate"].as_f64(), Some(rate), "{context}");
        assert_eq!(
            row["p95ExecutionMs"].as_f64(),
            p95,
            "{context}: p95 is exact on both databases"
        );
        assert_eq!(row["maxExecutionMs"].as_f64(), max, "{context}");
        match (row["avgExecutionMs"].as_f64(), avg) {
            (Some(a), Some(b)) => {
                assert!((a - b).abs() <= 1e-9 * b.abs(), "{context}: avg {a} vs {b}")
            }
            (a, b) => assert_eq!(a, b, "{context}"),
        }
    }
}

const STATS: &str = "query($days: Int) { stats(days: $days) {
  byMode { mode totalRuns completed errors cancelled cacheHits cacheHitRate avgExecutionMs p95ExecutionMs maxExecutionMs }
  mine { mode totalRuns completed errors cancelled cacheHits cacheHitRate avgExecutionMs p95ExecutionMs maxExecutionMs }
} }";

on_both!(
    stats_numbers,
    stats_aggregate_in_the_database_with_the_same_numbers_on_sqlite,
    stats_aggregate_in_the_database_with_the_same_numbers_on_postgres
);

async fn stats_numbers(app: TestApp) {
    {
        let (alice, bob) = users(&app).await;
        let mut sessions = Vec::new();
        // 37 completed LIQUIDATION_REENTRY runs for Alice with uneven times (p95 between ranks),
        // 20 for Bob, anonymous ones, failures, a still running one and old ones outside 30 days.
        for i in 0..37_u32 {
            let ms = f64::from((i * 7919) % 1000) / 7.0 + 0.125;
            sessions.push(Session {
                user: Some(alice.id),
                mode: "LIQUIDATION_REENTRY",
                status: SessionStatus::Completed,
                cache_hit: i % 3 == 0,
                days_ago: i64::from(i % 20),
                ms: Some(ms),
            });
        }
        for i in 0..20_u32 {
            let ms = 50.0 + f64::from(i) * 1.5;
            sessions.push(Session {
                user: Some(bob.id),
                mode: "LIQUIDATION_REENTRY",
                status: SessionStatus::Completed,
                cache_hit: false,
                days_ago: 1,
                ms: Some(ms),
            });
        }
        for (user, status, ms) in [
            (None, SessionStatus::Completed, Some(3.0)),
            (Some(alice.id), SessionStatus::Error, Some(9_999.0)),
            (Some(alice.id), SessionStatus::Cancelled, None),
            (Some(alice.id), SessionStatus::Running, None),
            (Some(bob.id), SessionStatus::Completed, None),
        ] {
            sessions.push(Session {
                user,
                mode: "LIQUIDATION_REENTRY",
                status,
                cache_hit: false,
                days_ago: 2,
                ms,
            });
        }
        sessions.push(Session {
            user: Some(alice.id),
            mode: "FRESH_CAPITAL",
            status: SessionStatus::Completed,
            cache_hit: true,
            days_ago: 3,
            ms: Some(42.5),
        });
        sessions.push(Session {
            user: Some(bob.id),
            mode: "FRESH_CAPITAL",
            status: SessionStatus::Error,
            cache_hit: false,
            days_ago: 3,
            ms: None,
        });
        sessions.push(Session {
            user: Some(alice.id),
            mode: "LIQUIDATION_REENTRY",
            status: SessionStatus::Completed,
            cache_hit: false,
            days_ago: 45,
            ms: Some(1e6),
        });
        sessions.push(Session {
            user: Some(bob.id),
            mode: "PROFIT_THRESHOLD",
            status: SessionStatus::Completed,
            cache_hit: false,
            days_ago: 45,
            ms: Some(7.0),
        });
        for s in &sessions {
            insert_session(&app, s).await;
        }

        for days in [30, 60] {
            let data = app
                .ok(STATS, json!({"days": days}), Some(&alice.token))
                .await;
            let within: Vec<&Session> = sessions.iter().filter(|s| s.days_ago < days).collect();
            check(
                data["stats"]["byMode"].as_array().unwrap(),
                &within,
                app.backend,
            );
            let mine: Vec<&Session> = within
                .iter()
                .copied()
                .filter(|s| s.user == Some(alice.id))
                .collect();
            check(
                data["stats"]["mine"].as_array().unwrap(),
                &mine,
                app.backend,
            );
        }
        let data = app.ok(STATS, json!({"days": 30}), Some(&alice.token)).await;
        let pt = &data["stats"]["byMode"].as_array().unwrap()[2];
        assert_eq!(pt["mode"], "PROFIT_THRESHOLD");
        assert_eq!(pt["totalRuns"], 0);
        assert!(pt["p95ExecutionMs"].is_null() && pt["avgExecutionMs"].is_null());
        let body = app
            .gql(STATS, json!({"days": 3651}), Some(&alice.token))
            .await;
        assert_eq!(body["errors"][0]["extensions"]["field"], "days");
        app.stop().await;
    }
}

// ---------------------------------------------------------------- migration 6

async fn saved_keys_are_backfilled(backend: Backend) {
    let Some(url) = fresh_database(backend).await else {
        return;
    };
    let db = Database::connect(&url).await.expect("connects");
    let before = Migrator::migrations()
        .iter()
        .position(|m| m.name().contains("000006"))
        .expect("migration 6 is registered");
    Migrator::up(&db, Some(u32::try_from(before).unwrap()))
        .await
        .expect("up to migration 6");
    db.execute_unprepared(
        "INSERT INTO authentication_user (username, email, password, saved_results_count, date_joined, created_at, updated_at) \
         VALUES ('dora', 'dora@example.com', 'x', 2, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
    )
    .await
    .expect("user inserts");
    for (n, name, tags) in [
        (1, "Éclair", r#"["Alpha", "alpha", "ÉTÉ"]"#),
        (2, "Plain", "[]"),
    ] {
        db.execute_unprepared(&format!(
            "INSERT INTO historical_backtest_savedbacktestresult (result_id, user_id, user_email, name, description, tags, mode, ticker, start_date, end_date, leverage, account_type, initial_investment, profit_threshold, results_data, created_at, updated_at) \
             SELECT '6f1c2a7e-0000-4000-8000-00000000000{n}', id, email, '{name}', 'd', '{tags}', 'fresh_capital', 'SPY', '2010-01-04', '2024-12-31', 2.0, 'reg_t', 100000.0, NULL, '{{\"finalEquity\": 123.5}}', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP FROM authentication_user WHERE username = 'dora'"
        ))
        .await
        .expect("saved result inserts");
    }
    Migrator::up(&db, None)
        .await
        .expect("migration 6 and later");

    // Raw reads: the rows were written in SQL, with the result ids as text.
    let payload = match backend {
        Backend::Sqlite => "results_data",
        Backend::Postgres => "CAST(results_data AS TEXT)",
    };
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            format!("SELECT id, name, name_key, {payload} AS payload FROM historical_backtest_savedbacktestresult ORDER BY id"),
        ))
        .await
        .unwrap();
    let keys: Vec<(String, String)> = rows
        .iter()
        .map(|r| {
            (
                r.try_get("", "name").unwrap(),
                r.try_get("", "name_key").unwrap(),
            )
        })
        .collect();
    assert_eq!(
        keys,
        [
            ("Éclair".into(), "éclair".into()),
            ("Plain".into(), "plain".into())
        ],
        "on {backend:?}"
    );
    let payload: Value =
        serde_json::from_str(&rows[0].try_get::<String>("", "payload").unwrap()).unwrap();
    assert_eq!(payload["finalEquity"], 123.5, "the payload survives");
    let first_id: i64 = rows[0].try_get("", "id").unwrap();
    let mut tags: Vec<String> = entity::saved_result_tag::Entity::find()
        .filter(entity::saved_result_tag::Column::SavedResultId.eq(first_id))
        .all(&db)
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.tag_key)
        .collect();
    tags.sort();
    assert_eq!(tags, ["alpha", "été"]);
    if backend == Backend::Sqlite {
        let last = db
            .query_one_raw(Statement::from_string(
                db.get_database_backend(),
                "SELECT name FROM pragma_table_info('historical_backtest_savedbacktestresult') ORDER BY cid DESC LIMIT 1",
            ))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            last.try_get::<String>("", "name").unwrap(),
            "results_data",
            "the payload stays last"
        );
    }
    // Deleting the user cascades through the saved result to its tags.
    db.execute_unprepared("DELETE FROM authentication_user WHERE username = 'dora'")
        .await
        .unwrap();
    assert_eq!(
        entity::saved_result_tag::Entity::find()
            .count(&db)
            .await
            .unwrap(),
        0
    );
    db.close().await.ok();
}

#[tokio::test]
async fn saved_keys_are_backfilled_on_sqlite() {
    saved_keys_are_backfilled(Backend::Sqlite).await;
}

#[tokio::test]
async fn saved_keys_are_backfilled_on_postgres() {
    saved_keys_are_backfilled(Backend::Postgres).await;
}
