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
