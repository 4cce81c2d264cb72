//! Migrations go up and down and up again, identically on SQLite and PostgreSQL, and the
//! schema enforces what the services rely on.

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};
use tests::{Backend, fresh_database};

const TABLES: [&str; 9] = [
    "authentication_user",
    "authentication_invitetoken",
    "authentication_usersession",
    "authentication_loginattempt",
    "authentication_invitetemplate",
    "margin_calculator_margincalculation",
    "historical_backtest_backtestcache",
    "historical_backtest_backtestsession",
    "historical_backtest_savedbacktestresult",
];

async fn table_exists(db: &DatabaseConnection, backend: Backend, table: &str) -> bool {
    let sql = match backend {
        Backend::Sqlite => {
            format!("SELECT name FROM sqlite_master WHERE type='table' AND name='{table}'")
        }
        Backend::Postgres => format!(
            "SELECT table_name FROM information_schema.tables WHERE table_schema='public' AND table_name='{table}'"
        ),
    };
    db.query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .expect("catalogue query")
        .is_some()
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
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            format!("SELECT name, {cast} AS payload FROM historical_backtest_savedbacktestresult"),
        ))
        .await
        .expect("query")
        .expect("the saved result is still there");
    assert_eq!(row.try_get::<String>("", "name").unwrap(), "kept");
    let payload: serde_json::Value =
        serde_json::from_str(&row.try_get::<String>("", "payload").unwrap()).unwrap();
    assert_eq!(payload["finalEquity"], 123.5);
    if backend == Backend::Sqlite {
        let last = db
            .query_one_raw(Statement::from_string(
                db.get_database_backend(),
                "SELECT name FROM pragma_table_info('historical_backtest_savedbacktestresult') ORDER BY cid DESC LIMIT 1".to_string(),
            ))
            .await
            .expect("pragma")
            .expect("columns");
        assert_eq!(last.try_get::<String>("", "name").unwrap(), "results_data");
        let deleted = db
            .execute_unprepared("DELETE FROM authentication_user WHERE username = 'carol'")
            .await
            .expect("delete user");
        assert_eq!(deleted.rows_affected(), 1);
        let left = db
            .query_one_raw(Statement::from_string(
                db.get_database_backend(),
                "SELECT COUNT(*) AS n FROM historical_backtest_savedbacktestresult".to_string(),
            ))
            .await
            .expect("count")
            .expect("a row");
        assert_eq!(
            left.try_get::<i64>("", "n").unwrap(),
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
