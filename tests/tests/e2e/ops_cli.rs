//! `margin-api migrate` and `margin-api purge` through their library functions, against a
//! fresh SQLite file and a fresh PostgreSQL database.

use api::cli::{MigrateArgs, MigrateDirection};
use migration::{Migrator, MigratorTrait};
use sea_orm::{ActiveModelTrait, ConnectionTrait, Database, DatabaseConnection, Set, Statement};
use tests::{Backend, fresh_database, test_config};

fn args(direction: MigrateDirection, steps: Option<u32>, all: bool, yes: bool) -> MigrateArgs {
    MigrateArgs {
        direction,
        steps,
        all,
        yes,
    }
}

/// The applied migrations, in order, from `seaql_migrations`.
async fn applied(db: &DatabaseConnection) -> Vec<String> {
    db.query_all_raw(Statement::from_string(
        db.get_database_backend(),
        "SELECT version FROM seaql_migrations ORDER BY version".to_string(),
    ))
    .await
    .expect("seaql_migrations")
    .iter()
    .map(|row| row.try_get::<String>("", "version").unwrap())
    .collect()
}

async fn migrate(config: &api::Config, args: &MigrateArgs) -> anyhow::Result<String> {
    let mut out = Vec::new();
    api::cli::migrate(config, args, &mut out).await?;
    Ok(String::from_utf8(out).unwrap())
}

async fn down_rolls_back_one_at_a_time(backend: Backend) {
    let Some(url) = fresh_database(backend).await else {
        return;
    };
    let config = test_config(url.clone());
    let all: Vec<String> = Migrator::migrations()
        .iter()
        .map(|m| m.name().to_string())
        .collect();
    let up = migrate(&config, &args(MigrateDirection::Up, None, false, false))
        .await
        .expect("up");
    assert!(
        up.contains(&format!("applied {}", all[all.len() - 1])),
        "{up}"
    );
    let db = Database::connect(&url).await.expect("connects");
    assert_eq!(applied(&db).await, all);

    // Refused without --yes: nothing changes.
    for refused in [
        args(MigrateDirection::Down, None, false, false),
        args(MigrateDirection::Down, None, true, false),
    ] {
        let err = migrate(&config, &refused).await.unwrap_err().to_string();
        assert!(err.contains("--yes"), "{err}");
        assert_eq!(applied(&db).await, all, "on {backend:?}");
    }

    // `migrate down --yes` rolls back the last migration only.
    let out = migrate(&config, &args(MigrateDirection::Down, None, false, true))
        .await
        .expect("down");
    assert_eq!(out.trim(), format!("rolled back {}", all[all.len() - 1]));
    assert_eq!(applied(&db).await, all[..all.len() - 1], "on {backend:?}");

    // `--steps 2` the two before it.
    let out = migrate(&config, &args(MigrateDirection::Down, Some(2), false, true))
        .await
        .expect("down 2");
    assert_eq!(out.lines().count(), 2, "{out}");
    assert_eq!(applied(&db).await, all[..all.len() - 3]);

    // Up again, then `--all --yes` empties it.
    migrate(&config, &args(MigrateDirection::Up, None, false, false))
        .await
        .expect("up again");
    assert_eq!(applied(&db).await, all);
    migrate(&config, &args(MigrateDirection::Down, None, true, true))
        .await
        .expect("down all");
    assert!(applied(&db).await.is_empty());
    db.close().await.ok();
}

#[tokio::test]
async fn down_rolls_back_one_at_a_time_on_sqlite() {
    down_rolls_back_one_at_a_time(Backend::Sqlite).await;
}

#[tokio::test]
async fn down_rolls_back_one_at_a_time_on_postgres() {
    down_rolls_back_one_at_a_time(Backend::Postgres).await;
}

async fn purge_prints_the_counts(backend: Backend) {
    let Some(url) = fresh_database(backend).await else {
        return;
    };
    let config = test_config(url.clone());
    // Migrates first (MARGIN_MIGRATE defaults to true), so a fresh database works.
    let mut out = Vec::new();
    let counts = api::cli::purge(&config, &mut out).await.expect("purge");
    assert_eq!(counts.total(), 0);

    let db = Database::connect(&url).await.expect("connects");
    let now = chrono::Utc::now();
    for (email, at) in [
        ("old@example.com", now - chrono::TimeDelta::days(365)),
        ("new@example.com", now),
    ] {
        entity::login_attempt::ActiveModel {
            email: Set(email.to_string()),
            ip_address: Set(None),
            user_agent: Set(None),
            success: Set(false),
            failure_reason: Set(Some("wrong_password".into())),
            attempted_at: Set(at),
            user_id: Set(None),
            ..Default::default()
        }
        .insert(&db)
        .await
        .expect("attempt inserts");
    }
    let mut out = Vec::new();
    let counts = api::cli::purge(&config, &mut out).await.expect("purge");
    assert_eq!(counts.login_attempts, 1, "on {backend:?}");
    assert_eq!(counts.total(), 1);
    let printed = String::from_utf8(out).unwrap();
    assert!(
        printed
            .lines()
            .any(|l| l == "authentication_loginattempt 1"),
        "{printed}"
    );
    assert!(
        printed.lines().any(|l| l == "authentication_usersession 0"),
        "{printed}"
    );
    assert_eq!(printed.lines().count(), 5, "{printed}");
    db.close().await.ok();
}

#[tokio::test]
async fn purge_prints_the_counts_on_sqlite() {
    purge_prints_the_counts(Backend::Sqlite).await;
}

#[tokio::test]
async fn purge_prints_the_counts_on_postgres() {
    purge_prints_the_counts(Backend::Postgres).await;
}
