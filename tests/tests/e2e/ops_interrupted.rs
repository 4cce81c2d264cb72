//! Runs interrupted by a crash: at start (and every third of the run lease) a process marks
//! pending or running sessions that no live process holds as ERROR "interrupted", tells
//! their subscribers, and leaves sessions under another replica's live lease alone.

use crate::margin_support;

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use entity::{
    backtest_session::{self, SessionStatus},
    sweep_session,
};
use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Database, DatabaseConnection, EntityTrait, QueryFilter, Set,
    sea_query::Expr,
};
use serde_json::json;
use tests::{Backend, TestApp, fresh_database, test_config};
use uuid::Uuid;

async fn unfinished(
    db: &DatabaseConnection,
    status: SessionStatus,
    owner: Option<&str>,
    lease_expires_at: Option<DateTime<Utc>>,
) -> Uuid {
    let session = backtest_session::ActiveModel {
        created_at: Set(Utc::now() - TimeDelta::minutes(5)),
        owner: Set(owner.map(str::to_string)),
        lease_expires_at: Set(lease_expires_at),
        ..tests::rows::backtest_session(status)
    }
    .insert(db)
    .await
    .expect("session inserts");
    session.session_id
}

async fn row(db: &DatabaseConnection, session: Uuid) -> backtest_session::Model {
    backtest_session::Entity::find()
        .filter(backtest_session::Column::SessionId.eq(session))
        .one(db)
        .await
        .unwrap()
        .expect("the session row")
}

/// A sweep session left pending or running by `owner` (leased until `lease_expires_at`).
async fn unfinished_sweep(
    db: &DatabaseConnection,
    owner: &str,
    lease_expires_at: DateTime<Utc>,
) -> Uuid {
    let sweep = sweep_session::ActiveModel {
        sweep_id: Set(Uuid::new_v4()),
        user_id: Set(None),
        status: Set(SessionStatus::Running),
        input: Set(json!({"base": {"ticker": "SPY"}, "x": {"parameter": "LEVERAGE", "values": [1.0, 2.0]}})),
        cell_count: Set(2),
        completed_cells: Set(1),
        created_at: Set(Utc::now() - TimeDelta::minutes(5)),
        owner: Set(Some(owner.to_string())),
        lease_expires_at: Set(Some(lease_expires_at)),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("sweep inserts");
    sweep.sweep_id
}

async fn sweep_row(db: &DatabaseConnection, sweep: Uuid) -> sweep_session::Model {
    sweep_session::Entity::find()
        .filter(sweep_session::Column::SweepId.eq(sweep))
        .one(db)
        .await
        .unwrap()
        .expect("the sweep row")
}

/// Waits (polling, 30 s at most) until `session` has `status`; returns the row.
async fn wait_for_status(
    db: &DatabaseConnection,
    session: Uuid,
    status: SessionStatus,
) -> backtest_session::Model {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let found = row(db, session).await;
        if found.status == status {
            return found;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{session} is still {:?} after 30 s",
            found.status
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A database left behind by a killed process, with migrations applied.
async fn crashed_database(backend: Backend) -> Option<(String, DatabaseConnection)> {
    let url = fresh_database(backend).await?;
    let db = Database::connect(&url).await.expect("connects");
    Migrator::up(&db, None).await.expect("migrations");
    Some((url, db))
}

async fn start_marks_abandoned_runs_interrupted(backend: Backend) {
    let Some((url, db)) = crashed_database(backend).await else {
        return;
    };
    let now = Utc::now();
    let before_leases = unfinished(&db, SessionStatus::Running, None, None).await;
    let dead_running = unfinished(
        &db,
        SessionStatus::Running,
        Some("dead"),
        Some(now - TimeDelta::seconds(1)),
    )
    .await;
    let dead_pending = unfinished(
        &db,
        SessionStatus::Pending,
        Some("dead"),
        Some(now - TimeDelta::hours(1)),
    )
    .await;
    let alive = unfinished(
        &db,
        SessionStatus::Running,
        Some("replica-b"),
        Some(now + TimeDelta::hours(1)),
    )
    .await;
    let finished = unfinished(&db, SessionStatus::Completed, None, None).await;
    let dead_sweep = unfinished_sweep(&db, "dead", now - TimeDelta::seconds(1)).await;
    let live_sweep = unfinished_sweep(&db, "replica-b", now + TimeDelta::hours(1)).await;

    let app = TestApp::start(backend, test_config(url)).await;
    for session in [before_leases, dead_running, dead_pending] {
        let found = wait_for_status(&db, session, SessionStatus::Error).await;
        assert_eq!(
            found.error_message.as_deref(),
            Some("interrupted"),
            "on {backend:?}"
        );
        assert!(found.completed_at.is_some());
    }
    // Another replica's live run and a finished one are left alone.
    let other = row(&db, alive).await;
    assert_eq!(other.status, SessionStatus::Running, "on {backend:?}");
    assert_eq!(other.error_message, None);
    assert_eq!(row(&db, finished).await.status, SessionStatus::Completed);

    // The API reports the interrupted run as ERROR.
    let data = app
        .query(
            "query($id: ID!) { backtestSession(sessionId: $id) { status errorMessage } }",
            json!({"id": dead_running}),
        )
        .await;
    assert_eq!(data["backtestSession"]["status"], "ERROR", "{data}");
    assert_eq!(data["backtestSession"]["errorMessage"], "interrupted");

    // Sweeps are held under the same leases: a dead process's sweep is interrupted (it
    // reached the recovery round of the start, which the backtests above waited for),
    // another replica's live one is left running.
    let sweep = sweep_row(&db, dead_sweep).await;
    assert_eq!(sweep.status, SessionStatus::Error, "on {backend:?}");
    assert_eq!(sweep.error_message.as_deref(), Some("interrupted"));
    assert!(sweep.completed_at.is_some());
    assert_eq!(
        sweep_row(&db, live_sweep).await.status,
        SessionStatus::Running
    );
    let data = app
        .query(
            "query($id: ID!) { sweepSession(sweepId: $id) { status errorMessage } }",
            json!({"id": dead_sweep}),
        )
        .await;
    assert_eq!(data["sweepSession"]["status"], "ERROR", "{data}");
    assert_eq!(data["sweepSession"]["errorMessage"], "interrupted");
    app.stop().await;
    db.close().await.ok();
}

#[tokio::test]
async fn start_marks_abandoned_runs_interrupted_on_sqlite() {
    start_marks_abandoned_runs_interrupted(Backend::Sqlite).await;
}

#[tokio::test]
async fn start_marks_abandoned_runs_interrupted_on_postgres() {
    start_marks_abandoned_runs_interrupted(Backend::Postgres).await;
}

/// A process renews the lease of its own runs, so another process starting beside it (or
/// its own periodic check) never marks them.
async fn a_live_process_keeps_its_runs(backend: Backend) {
    let Some((url, db)) = crashed_database(backend).await else {
        return;
    };
    let mut config = test_config(url.clone());
    // Each progress step waits 1 s: the run outlasts the test, which cancels it.
    config.progress_step_delay_ms = 1000;
    config.run_lease_secs = 3;
    let first = TestApp::start(backend, config).await;
    let input = margin_support::backtest_input(margin_support::unique_amount());
    let started = margin_support::run_nowait(&first, input, None).await;
    let id: Uuid = started["sessionId"].as_str().unwrap().parse().unwrap();
    let record = row(&db, id).await;
    assert!(record.owner.is_some(), "the run records its owner");
    let first_lease = record.lease_expires_at.expect("and a lease");
    // The lease moves forward while the run goes on.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let now = row(&db, id).await;
        if now.status != SessionStatus::Running && now.status != SessionStatus::Pending {
            panic!(
                "the run ended before its lease was renewed: {:?}",
                now.status
            );
        }
        if now.lease_expires_at.is_some_and(|l| l > first_lease) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "lease never renewed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // A second process starting now leaves the run alone; it completes normally.
    let second = TestApp::start(backend, test_config(url)).await;
    assert_ne!(row(&db, id).await.status, SessionStatus::Error);
    first
        .client
        .post(format!("{}/graphql", first.address))
        .json(&json!({"query": "mutation($id: ID!) { cancelBacktest(sessionId: $id) { backtestSession { status } } }", "variables": {"id": id}}))
        .send()
        .await
        .unwrap();
    let done = wait_for_status(&db, id, SessionStatus::Cancelled).await;
    assert_eq!(done.error_message, None);
    second.stop().await;
    first.stop().await;
    db.close().await.ok();
}

#[tokio::test]
async fn a_live_process_keeps_its_runs_on_sqlite() {
    a_live_process_keeps_its_runs(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_live_process_keeps_its_runs_on_postgres() {
    a_live_process_keeps_its_runs(Backend::Postgres).await;
}

/// A subscriber following a run whose process dies gets the terminal ERROR "interrupted"
/// once the lease lapses.
async fn a_subscriber_is_told(backend: Backend) {
    let Some((url, db)) = crashed_database(backend).await else {
        return;
    };
    let mut config = test_config(url);
    config.run_lease_secs = 3;
    let app = TestApp::start(backend, config).await;
    // Held by a replica that is alive when the subscriber arrives...
    let session = unfinished(
        &db,
        SessionStatus::Running,
        Some("replica-b"),
        Some(Utc::now() + TimeDelta::hours(1)),
    )
    .await;
    let protocol = "graphql-transport-ws";
    let mut socket = app.connect_socket(protocol, None).await;
    margin_support::send(
        &mut socket,
        json!({"id": "p1", "type": "subscribe", "payload": {"query": margin_support::PROGRESS, "variables": {"id": session}}}),
    )
    .await;
    let snapshot = margin_support::next_json(&mut socket).await;
    assert_eq!(
        snapshot["payload"]["data"]["backtestProgress"]["kind"], "SNAPSHOT",
        "{snapshot}"
    );
    assert_eq!(
        snapshot["payload"]["data"]["backtestProgress"]["status"],
        "RUNNING"
    );
    // ...and then dies: its lease lapses.
    backtest_session::Entity::update_many()
        .col_expr(
            backtest_session::Column::LeaseExpiresAt,
            Expr::value(Some(Utc::now() - TimeDelta::seconds(1))),
        )
        .filter(backtest_session::Column::SessionId.eq(session))
        .exec(&db)
        .await
        .unwrap();
    let terminal = loop {
        let message = margin_support::next_json(&mut socket).await;
        assert_eq!(message["type"], "next", "{message}");
        let progress = message["payload"]["data"]["backtestProgress"].clone();
        if progress["kind"] != "PROGRESS" && progress["kind"] != "RUNNING" {
            break progress;
        }
    };
    assert_eq!(terminal["kind"], "ERROR", "on {backend:?}: {terminal}");
    assert_eq!(terminal["status"], "ERROR");
    assert_eq!(terminal["message"], "interrupted");
    assert_eq!(
        margin_support::next_json(&mut socket).await["type"],
        "complete"
    );
    assert_eq!(
        row(&db, session).await.error_message.as_deref(),
        Some("interrupted")
    );
    app.stop().await;
    db.close().await.ok();
}

#[tokio::test]
async fn a_subscriber_is_told_on_sqlite() {
    a_subscriber_is_told(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_subscriber_is_told_on_postgres() {
    a_subscriber_is_told(Backend::Postgres).await;
}
