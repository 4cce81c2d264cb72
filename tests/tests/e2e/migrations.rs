//! Migrations go up and down and up again, identically on SQLite and PostgreSQL, and the
//! schema enforces what the services rely on.

use entity::stored_enums::{AccountType, PositionType};
use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};
use tests::{Backend, fresh_database};

const TABLES: [&str; 14] = [
    "authentication_user",
    "authentication_invitetoken",
    "authentication_usersession",
    "authentication_loginattempt",
    "authentication_invitetemplate",
    "margin_calculator_margincalculation",
    "margin_calculator_quarantinedcalculation",
    "historical_backtest_backtestcache",
    "historical_backtest_backtestsession",
    "historical_backtest_savedbacktestresult",
    "historical_backtest_sweepsession",
    "historical_backtest_legacysavedresult",
    "margin_calculator_legacycalculation",
    "legacy_import_key",
];

/// The first row `sql` answers, if any.
async fn first_row(db: &DatabaseConnection, sql: &str) -> Option<sea_orm::QueryResult> {
    db.query_one_raw(Statement::from_string(
        db.get_database_backend(),
        sql.to_string(),
    ))
    .await
    .unwrap_or_else(|err| panic!("{sql}: {err}"))
}

async fn table_exists(db: &DatabaseConnection, backend: Backend, table: &str) -> bool {
    let sql = match backend {
        Backend::Sqlite => {
            format!("SELECT name FROM sqlite_master WHERE type='table' AND name='{table}'")
        }
        Backend::Postgres => format!(
            "SELECT table_name FROM information_schema.tables WHERE table_schema='public' AND table_name='{table}'"
        ),
    };
    first_row(db, &sql).await.is_some()
}

async fn insert_user(
    db: &DatabaseConnection,
    name: &str,
    saved: i32,
) -> Result<(), sea_orm::DbErr> {
    db.execute_unprepared(&format!(
        "INSERT INTO authentication_user (username, email, password, saved_results_count, date_joined, created_at, updated_at) \
         VALUES ('{name}', '{name}@example.com', 'x', {saved}, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
    ))
    .await
    .map(|_| ())
}

async fn up_down_up(backend: Backend) {
    let Some(url) = fresh_database(backend).await else {
        return;
    };
    let db = Database::connect(&url).await.expect("connects");

    Migrator::up(&db, None).await.expect("up");
    for table in TABLES {
        assert!(
            table_exists(&db, backend, table).await,
            "{table} exists after up on {backend:?}"
        );
    }

    insert_user(&db, "alice", 0)
        .await
        .expect("a valid user inserts");
    assert!(
        insert_user(&db, "bob", -1).await.is_err(),
        "negative quota counter is refused"
    );
    assert!(
        insert_user(&db, "alice", 0).await.is_err(),
        "duplicate username is refused"
    );
    let orphan = db
        .execute_unprepared(
            "INSERT INTO authentication_usersession (user_id, session_key_hash, created_at, last_activity, expires_at) \
             VALUES (999999, 'h', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
        )
        .await;
    assert!(orphan.is_err(), "a session must belong to an existing user");

    Migrator::down(&db, None).await.expect("down");
    for table in TABLES {
        assert!(
            !table_exists(&db, backend, table).await,
            "{table} is gone after down on {backend:?}"
        );
    }
    Migrator::up(&db, None).await.expect("up again");
    assert_eq!(
        Migrator::get_pending_migrations(&db)
            .await
            .expect("status")
            .len(),
        0
    );
    db.close().await.ok();
}

#[tokio::test]
async fn migrations_up_down_up_on_sqlite() {
    up_down_up(Backend::Sqlite).await;
}

#[tokio::test]
async fn migrations_up_down_up_on_postgres() {
    up_down_up(Backend::Postgres).await;
}

/// Migration 4 rebuilds the saved-results table on SQLite (payload last); every saved result
/// and its payload survive it on both databases.
async fn saved_results_survive_the_rebuild(backend: Backend) {
    let Some(url) = fresh_database(backend).await else {
        return;
    };
    let db = Database::connect(&url).await.expect("connects");
    Migrator::up(&db, Some(3)).await.expect("up to the third");
    insert_user(&db, "carol", 1).await.expect("user inserts");
    db.execute_unprepared(
        "INSERT INTO historical_backtest_savedbacktestresult (result_id, user_id, user_email, name, description, tags, mode, ticker, start_date, end_date, leverage, account_type, initial_investment, profit_threshold, results_data, created_at, updated_at) \
         SELECT '6f1c2a7e-0000-4000-8000-000000000001', id, email, 'kept', 'd', '[\"a\"]', 'fresh_capital', 'SPY', '2010-01-04', '2024-12-31', 2.0, 'reg_t', 100000.0, NULL, '{\"finalEquity\": 123.5}', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP FROM authentication_user WHERE username = 'carol'",
    )
    .await
    .expect("saved result inserts");
    Migrator::up(&db, None).await.expect("up to the last");

    let cast = match backend {
        Backend::Sqlite => "results_data",
        Backend::Postgres => "CAST(results_data AS TEXT)",
    };
    let row = first_row(
        &db,
        &format!("SELECT name, {cast} AS payload FROM historical_backtest_savedbacktestresult"),
    )
    .await
    .expect("the saved result is still there");
    assert_eq!(row.try_get::<String>("", "name").unwrap(), "kept");
    let payload: serde_json::Value =
        serde_json::from_str(&row.try_get::<String>("", "payload").unwrap()).unwrap();
    assert_eq!(payload["finalEquity"], 123.5);
    if backend == Backend::Sqlite {
        let last = first_row(
            &db,
            "SELECT name FROM pragma_table_info('historical_backtest_savedbacktestresult') ORDER BY cid DESC LIMIT 1",
        )
        .await
        .expect("columns");
        assert_eq!(last.try_get::<String>("", "name").unwrap(), "results_data");
        let deleted = db
            .execute_unprepared("DELETE FROM authentication_user WHERE username = 'carol'")
            .await
            .expect("delete user");
        assert_eq!(deleted.rows_affected(), 1);
        assert_eq!(
            count(
                &db,
                "SELECT COUNT(*) AS n FROM historical_backtest_savedbacktestresult"
            )
            .await,
            0,
            "the rebuilt table still cascades from its user"
        );
    }
    db.close().await.ok();
}

#[tokio::test]
async fn saved_results_survive_the_rebuild_on_sqlite() {
    saved_results_survive_the_rebuild(Backend::Sqlite).await;
}

#[tokio::test]
async fn saved_results_survive_the_rebuild_on_postgres() {
    saved_results_survive_the_rebuild(Backend::Postgres).await;
}

async fn count(db: &DatabaseConnection, sql: &str) -> i64 {
    first_row(db, sql)
        .await
        .expect("a row")
        .try_get::<i64>("", "n")
        .expect("n")
}

/// Migration 7 moves the calculator rows an older build wrote with non-finite numbers (stored
/// as nulls, so they no longer decode) aside, whole, with the reason naming the field; rows
/// that decode are untouched, down brings the rows back, and the quarantined rows still go
/// with their user's account.
async fn undecodable_calculations_are_quarantined(backend: Backend) {
    use sea_orm::{ActiveModelTrait, Set};
    let Some(url) = fresh_database(backend).await else {
        return;
    };
    let db = Database::connect(&url).await.expect("connects");
    Migrator::up(&db, Some(6)).await.expect("up to the sixth");
    insert_user(&db, "dave", 0).await.expect("user inserts");
    let user_id = count(
        &db,
        "SELECT id AS n FROM authentication_user WHERE username = 'dave'",
    )
    .await;

    let market = engine::market::MarketData::load_dir(&tests::data_dir()).expect("market data");
    let input: engine::calculator::CalcInput = serde_json::from_value(serde_json::json!({
        "ticker": "SPY", "investmentAmount": 10000.0, "leverage": 2.0,
        "accountType": "REG_T", "positionType": "LONG", "interestRate": 5.0,
        "holdingPeriodMonths": 12
    }))
    .expect("calculator input");
    let good = engine::calculator::calculate(&input, &market).expect("a calculation");
    let good = serde_json::to_value(&good).expect("serialises");
    // What an older build stored for 1e12 at 1e-300: serde_json writes NaN and inf as null.
    let mut broken = good.clone();
    broken["sharesFractional"] = serde_json::Value::Null;
    broken["wholeShareCost"] = serde_json::Value::Null;
    let now = chrono::Utc::now();
    let row = |amount: f64, results: serde_json::Value| entity::margin_calculation::ActiveModel {
        user_id: Set(Some(user_id)),
        ticker: Set("SPY".into()),
        investment_amount: Set(amount),
        leverage: Set(2.0),
        current_price: Set(500.0),
        account_type: Set(AccountType::RegT),
        position_type: Set(PositionType::Long),
        interest_rate: Set(5.0),
        holding_period: Set(12),
        results: Set(results),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    let kept = row(10_000.0, good).insert(&db).await.expect("good row");
    let moved = row(1e12, broken).insert(&db).await.expect("broken row");

    Migrator::up(&db, None).await.expect("up to the last");
    let calculations = "SELECT COUNT(*) AS n FROM margin_calculator_margincalculation";
    let quarantined = "SELECT COUNT(*) AS n FROM margin_calculator_quarantinedcalculation";
    assert_eq!(
        count(&db, calculations).await,
        1,
        "only the readable row stays"
    );
    let left = count(
        &db,
        "SELECT id AS n FROM margin_calculator_margincalculation",
    )
    .await;
    assert_eq!(left, kept.id);
    let row = first_row(
        &db,
        "SELECT id, user_id, investment_amount, results, reason FROM margin_calculator_quarantinedcalculation",
    )
    .await
    .expect("the broken row is in quarantine");
    assert_eq!(
        row.try_get::<i64>("", "id").unwrap(),
        moved.id,
        "it keeps its id"
    );
    assert_eq!(row.try_get::<i64>("", "user_id").unwrap(), user_id);
    assert_eq!(row.try_get::<f64>("", "investment_amount").unwrap(), 1e12);
    let results: serde_json::Value =
        serde_json::from_str(&row.try_get::<String>("", "results").unwrap()).unwrap();
    assert!(results["sharesFractional"].is_null(), "moved unchanged");
    assert!(results["positionValue"].is_number(), "moved whole");
    let reason = row.try_get::<String>("", "reason").unwrap();
    // The first null the decoder meets: the key order differs (jsonb sorts keys).
    assert!(
        [
            "sharesFractional: invalid type: null",
            "wholeShareCost: invalid type: null"
        ]
        .iter()
        .any(|field| reason.contains(field)),
        "names the field: {reason}"
    );

    // Down to before the quarantine (the fourth-to-last migration, before sweeps, the
    // legacy import and saved sweeps).
    Migrator::down(&db, Some(4)).await.expect("down four");
    assert_eq!(
        count(&db, calculations).await,
        2,
        "down brings the row back"
    );
    Migrator::up(&db, None).await.expect("up again");
    assert_eq!(count(&db, calculations).await, 1);
    assert_eq!(count(&db, quarantined).await, 1);

    db.execute_unprepared("DELETE FROM authentication_user WHERE username = 'dave'")
        .await
        .expect("delete user");
    assert_eq!(
        count(&db, quarantined).await,
        0,
        "a quarantined calculation goes with its user's account"
    );
    db.close().await.ok();
}

#[tokio::test]
async fn undecodable_calculations_are_quarantined_on_sqlite() {
    undecodable_calculations_are_quarantined(Backend::Sqlite).await;
}

#[tokio::test]
async fn undecodable_calculations_are_quarantined_on_postgres() {
    undecodable_calculations_are_quarantined(Backend::Postgres).await;
}
