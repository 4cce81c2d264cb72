//! Retention: the purge deletes exactly the rows past their retention (in batches), keeps
//! everything else, and never touches saved results.

use api::services::retention::{self, PurgeCounts, RetentionSettings};
use chrono::{DateTime, TimeDelta, Utc};
use entity::{
    backtest_cache, backtest_session,
    backtest_session::SessionStatus,
    invite_token, login_attempt, saved_backtest_result,
    stored_enums::{AccountType, BacktestMode, Role},
    user_session,
};
use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, Database, DatabaseConnection, EntityTrait, QueryOrder, Set,
};
use serde_json::json;
use tests::{Backend, fresh_database};

pub async fn seeded_user(db: &DatabaseConnection) -> i64 {
    db.execute_unprepared(
        "INSERT INTO authentication_user (username, email, password, saved_results_count, date_joined, created_at, updated_at) \
         VALUES ('keeper', 'keeper@example.com', 'x', 0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
    )
    .await
    .expect("user inserts");
    entity::user::Entity::find()
        .one(db)
        .await
        .unwrap()
        .expect("the user")
        .id
}

async fn session(
    db: &DatabaseConnection,
    user: i64,
    name: &str,
    last_activity: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    is_active: bool,
) {
    user_session::ActiveModel {
        user_id: Set(user),
        session_key_hash: Set(name.to_string()),
        ip_address: Set(None),
        user_agent: Set(None),
        created_at: Set(last_activity),
        last_activity: Set(last_activity),
        expires_at: Set(expires_at),
        is_active: Set(is_active),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("session inserts");
}

async fn attempt(db: &DatabaseConnection, email: &str, at: DateTime<Utc>, success: bool) {
    login_attempt::ActiveModel {
        email: Set(email.to_string()),
        ip_address: Set(Some("10.0.0.1".into())),
        user_agent: Set(None),
        success: Set(success),
        failure_reason: Set((!success).then(|| "wrong_password".to_string())),
        attempted_at: Set(at),
        user_id: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("attempt inserts");
}

pub async fn backtest(
    db: &DatabaseConnection,
    user: Option<i64>,
    status: SessionStatus,
    created_at: DateTime<Utc>,
) -> uuid::Uuid {
    let session = backtest_session::ActiveModel {
        user_id: Set(user),
        created_at: Set(created_at),
        ..tests::rows::backtest_session(status)
    }
    .insert(db)
    .await
    .expect("backtest session inserts");
    session.session_id
}

async fn invite(
    db: &DatabaseConnection,
    email: &str,
    created_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    used_at: Option<DateTime<Utc>>,
) {
    invite_token::ActiveModel {
        email: Set(email.to_string()),
        token_hash: Set(format!("hash-{email}")),
        invite_type: Set(Role::Viewer),
        custom_message: Set(None),
        created_at: Set(created_at),
        expires_at: Set(expires_at),
        used_at: Set(used_at),
        created_by: Set(None),
        email_sent_at: Set(None),
        email_bounced: Set(false),
        bounce_reason: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("invite inserts");
}

async fn cache_row(db: &DatabaseConnection, key: &str, expires_at: DateTime<Utc>) {
    backtest_cache::ActiveModel {
        cache_key: Set(key.to_string()),
        etf: Set("SPY".into()),
        mode: Set(BacktestMode::FreshCapital),
        parameters: Set(json!({})),
        results: Set(json!({})),
        created_at: Set(expires_at - TimeDelta::days(1)),
        expires_at: Set(expires_at),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("cache row inserts");
}

async fn saved_result(db: &DatabaseConnection, user: i64, created_at: DateTime<Utc>) {
    saved_backtest_result::ActiveModel {
        result_id: Set(uuid::Uuid::new_v4()),
        user_id: Set(user),
        user_email: Set("keeper@example.com".into()),
        name: Set("kept".into()),
        description: Set(String::new()),
        tags: Set(json!([])),
        mode: Set(BacktestMode::FreshCapital),
        ticker: Set("SPY".into()),
        start_date: Set(chrono::NaiveDate::from_ymd_opt(2020, 1, 2).unwrap()),
        end_date: Set(chrono::NaiveDate::from_ymd_opt(2020, 12, 31).unwrap()),
        leverage: Set(2.0),
        account_type: Set(AccountType::RegT),
        initial_investment: Set(100_000.0),
        profit_threshold: Set(None),
        results_data: Set(json!({"finalEquity": 1.0})),
        created_at: Set(created_at),
        updated_at: Set(created_at),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("saved result inserts");
}

fn settings() -> RetentionSettings {
    RetentionSettings {
        ended_sessions: Some(TimeDelta::days(7)),
        session_idle: TimeDelta::hours(2),
        login_attempts: Some(TimeDelta::days(90)),
        backtest_sessions: Some(TimeDelta::days(30)),
        invites: Some(TimeDelta::days(30)),
        // Small, so every kind takes several statements.
        batch: 2,
    }
}

async fn fresh(backend: Backend) -> Option<DatabaseConnection> {
    let url = fresh_database(backend).await?;
    let db = Database::connect(&url).await.expect("connects");
    Migrator::up(&db, None).await.expect("migrations");
    Some(db)
}

async fn purges_exactly_the_old_rows(backend: Backend) {
    let Some(db) = fresh(backend).await else {
        return;
    };
    let now = Utc::now();
    let day = TimeDelta::days(1);
    let user = seeded_user(&db).await;

    // User sessions. Deleted: ended more than 7 days ago (expired, idle, or logged out).
    for n in 0..3 {
        session(
            &db,
            user,
            &format!("old-expired-{n}"),
            now - day * 9,
            now - day * 8,
            true,
        )
        .await;
    }
    session(&db, user, "old-revoked", now - day * 8, now + day, false).await;
    session(&db, user, "old-idle", now - day * 8, now + day, true).await;
    // Kept: ended recently, or live.
    session(&db, user, "recent-revoked", now - day, now + day, false).await;
    session(&db, user, "recent-expired", now - day * 2, now - day, true).await;
    session(
        &db,
        user,
        "live",
        now - TimeDelta::minutes(1),
        now + day,
        true,
    )
    .await;

    // Login attempts: older than 90 days go.
    for n in 0..3 {
        attempt(&db, &format!("old{n}@example.com"), now - day * 91, n == 0).await;
    }
    attempt(&db, "recent@example.com", now - day * 89, false).await;
    attempt(&db, "now@example.com", now, false).await;

    // Backtest sessions: finished and older than 30 days go; unfinished ones stay.
    let mut gone = Vec::new();
    for status in [
        SessionStatus::Completed,
        SessionStatus::Error,
        SessionStatus::Cancelled,
    ] {
        gone.push(backtest(&db, Some(user), status, now - day * 31).await);
    }
    let old_running = backtest(&db, None, SessionStatus::Running, now - day * 31).await;
    let recent = backtest(&db, Some(user), SessionStatus::Completed, now - day * 29).await;
    // A result saved from an old session survives it.
    saved_result(&db, user, now - day * 40).await;

    // Invites: used or expired more than 30 days ago go.
    invite(
        &db,
        "used-long-ago@example.com",
        now - day * 40,
        now - day * 33,
        Some(now - day * 35),
    )
    .await;
    invite(
        &db,
        "expired-long-ago@example.com",
        now - day * 40,
        now - day * 31,
        None,
    )
    .await;
    invite(
        &db,
        "used-lately@example.com",
        now - day * 40,
        now + day,
        Some(now - day),
    )
    .await;
    invite(
        &db,
        "expired-lately@example.com",
        now - day * 10,
        now - day * 3,
        None,
    )
    .await;
    invite(&db, "open@example.com", now - day, now + day * 6, None).await;

    cache_row(&db, "expired", now - TimeDelta::minutes(1)).await;
    cache_row(&db, "live", now + day).await;

    let counts = retention::purge(&db, &settings(), now)
        .await
        .expect("purge");
    assert_eq!(
        counts,
        PurgeCounts {
            user_sessions: 5,
            login_attempts: 3,
            backtest_sessions: 3,
            invites: 2,
            cache_rows: 1,
        },
        "on {backend:?}"
    );

    let sessions: Vec<String> = user_session::Entity::find()
        .order_by_asc(user_session::Column::Id)
        .all(&db)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.session_key_hash)
        .collect();
    assert_eq!(sessions, ["recent-revoked", "recent-expired", "live"]);
    let attempts: Vec<String> = login_attempt::Entity::find()
        .order_by_asc(login_attempt::Column::Id)
        .all(&db)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.email)
        .collect();
    assert_eq!(attempts, ["recent@example.com", "now@example.com"]);
    let runs: Vec<uuid::Uuid> = backtest_session::Entity::find()
        .order_by_asc(backtest_session::Column::Id)
        .all(&db)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.session_id)
        .collect();
    assert_eq!(runs, [old_running, recent]);
    assert!(gone.iter().all(|g| !runs.contains(g)));
    assert_eq!(
        saved_backtest_result::Entity::find()
            .all(&db)
            .await
            .unwrap()
            .len(),
        1,
        "saved results are never purged"
    );
    let invites: Vec<String> = invite_token::Entity::find()
        .order_by_asc(invite_token::Column::Id)
        .all(&db)
        .await
        .unwrap()
        .into_iter()
        .map(|i| i.email)
        .collect();
    assert_eq!(
        invites,
        [
            "used-lately@example.com",
            "expired-lately@example.com",
            "open@example.com"
        ]
    );
    let cache: Vec<String> = backtest_cache::Entity::find()
        .all(&db)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.cache_key)
        .collect();
    assert_eq!(cache, ["live"]);

    // A second purge finds nothing left to delete.
    let again = retention::purge(&db, &settings(), now)
        .await
        .expect("purge");
    assert_eq!(again.total(), 0);
    db.close().await.ok();
}

#[tokio::test]
async fn purges_exactly_the_old_rows_on_sqlite() {
    purges_exactly_the_old_rows(Backend::Sqlite).await;
}

#[tokio::test]
async fn purges_exactly_the_old_rows_on_postgres() {
    purges_exactly_the_old_rows(Backend::Postgres).await;
}

/// Login throttling counts failures within MARGIN_LOGIN_WINDOW_SECS: a retention shorter than
/// the window is raised to it, so a purge never lifts a lock early; 0 keeps attempts forever.
async fn login_attempts_inside_the_window_stay(backend: Backend) {
    let Some(db) = fresh(backend).await else {
        return;
    };
    let now = Utc::now();
    let day = TimeDelta::days(1);
    attempt(&db, "in-window@example.com", now - day * 2, false).await;
    attempt(&db, "past-window@example.com", now - day * 4, false).await;
    let mut config = api::Config::defaults();
    config.retain_login_attempts_days = 1;
    config.login_window_secs = 3 * 86_400;
    let settings = RetentionSettings::from_config(&config);
    assert_eq!(
        retention::purge_login_attempts(&db, &settings, now)
            .await
            .unwrap(),
        1
    );
    let left = login_attempt::Entity::find().all(&db).await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].email, "in-window@example.com");

    config.retain_login_attempts_days = 0;
    let keep_all = RetentionSettings::from_config(&config);
    assert_eq!(
        retention::purge_login_attempts(&db, &keep_all, now + day * 365)
            .await
            .unwrap(),
        0
    );
    db.close().await.ok();
}

#[tokio::test]
async fn login_attempts_inside_the_window_stay_on_sqlite() {
    login_attempts_inside_the_window_stay(Backend::Sqlite).await;
}

#[tokio::test]
async fn login_attempts_inside_the_window_stay_on_postgres() {
    login_attempts_inside_the_window_stay(Backend::Postgres).await;
}

/// The server purges every MARGIN_PURGE_INTERVAL_SECS and counts what it deleted on /metrics.
async fn the_job_counts_on_metrics(backend: Backend) {
    let Some(app) = tests::TestApp::spawn_with(backend, |c| c.purge_interval_secs = 1).await else {
        return;
    };
    let now = Utc::now();
    attempt(&app.db, "old@example.com", now - TimeDelta::days(91), false).await;
    attempt(&app.db, "new@example.com", now, false).await;
    let expected = "retention_deleted_total{table=\"authentication_loginattempt\"} 1";
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let metrics = app.get("/metrics").await.text().await.unwrap();
        if metrics.lines().any(|l| l == expected) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no `{expected}` on /metrics within 30 s:\n{metrics}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let left = login_attempt::Entity::find().all(&app.db).await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].email, "new@example.com");
    app.stop().await;
}

#[tokio::test]
async fn the_job_counts_on_metrics_on_sqlite() {
    the_job_counts_on_metrics(Backend::Sqlite).await;
}

#[tokio::test]
async fn the_job_counts_on_metrics_on_postgres() {
    the_job_counts_on_metrics(Backend::Postgres).await;
}
