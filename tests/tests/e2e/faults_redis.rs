//! Redis faults: a private `redis-server` killed with SIGKILL in the middle of a load of
//! backtests and calculations, then restarted on the same port. No request fails, `/readyz`
//! goes ok → degraded → ok, and the cache writes reach Redis again afterwards.

use crate::faults_support;
use crate::margin_support;

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use faults_support::{RedisServer, free_port, wait_until};
use margin_support::unique_amount;
use serde_json::{Value, json};
use tests::{Backend, TestApp};
use tokio::sync::watch;

const RUN: &str = "mutation($input: BacktestInput!) {
  runBacktest(input: $input) { backtestSession { status result { summary { finalEquity } } } }
}";
const CALCULATE: &str =
    "mutation($input: CalculatorInput!) { calculate(input: $input) { marginCalculation { id } } }";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Before,
    During,
    After,
    Stop,
}

/// One request of the load: the phase it started and ended in, and the failure if any.
#[derive(Debug)]
struct Outcome {
    started: Phase,
    ended: Phase,
    failure: Option<String>,
}

async fn one_request(app: &TestApp, i: usize) -> Option<String> {
    let (query, variables) = if i.is_multiple_of(2) {
        let input = json!({
            "ticker": "SPY", "mode": "LIQUIDATION_REENTRY", "startDate": "2015-01-02",
            "endDate": "2020-12-31", "leverage": 2.0, "accountType": "REG_T",
            "initialInvestment": unique_amount(),
        });
        (RUN, json!({"input": input}))
    } else {
        let input = json!({
            "ticker": "QQQ", "investmentAmount": unique_amount(), "leverage": 1.8,
            "currentPrice": 400.0, "accountType": "REG_T", "positionType": "LONG",
            "interestRate": 6.0, "holdingPeriodMonths": 6,
        });
        (CALCULATE, json!({"input": input}))
    };
    let (status, body) = app.post_graphql(query, variables, None).await;
    let completed =
        query != RUN || body["data"]["runBacktest"]["backtestSession"]["status"] == "COMPLETED";
    (status != 200 || body.get("errors").is_some() || !completed)
        .then(|| format!("{status}: {body}"))
}

/// Requests back to back, two at a time, until the phase is Stop.
fn start_load(
    app: Arc<TestApp>,
    phase: watch::Receiver<Phase>,
    outcomes: Arc<Mutex<Vec<Outcome>>>,
) -> Vec<tokio::task::JoinHandle<()>> {
    (0..2)
        .map(|lane| {
            let (app, phase, outcomes) = (app.clone(), phase.clone(), outcomes.clone());
            tokio::spawn(async move {
                for i in (lane..).step_by(2) {
                    let started = *phase.borrow();
                    if started == Phase::Stop {
                        break;
                    }
                    let failure = one_request(&app, i).await;
                    let ended = *phase.borrow();
                    outcomes.lock().unwrap().push(Outcome {
                        started,
                        ended,
                        failure,
                    });
                }
            })
        })
        .collect()
}

/// Requests that both started and ended in `phase`.
fn completed_in(outcomes: &Mutex<Vec<Outcome>>, phase: Phase) -> usize {
    outcomes
        .lock()
        .unwrap()
        .iter()
        .filter(|o| o.started == phase && o.ended == phase)
        .count()
}

async fn redis_state(app: &TestApp) -> (u16, Value) {
    let response = app.get("/readyz").await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn wait_for_redis(app: &TestApp, wanted: &'static str) {
    wait_until(
        &format!("/readyz to report redis {wanted}"),
        Duration::from_secs(30),
        || async {
            let (status, body) = redis_state(app).await;
            assert_eq!(
                status, 200,
                "the database is fine, so the service is ready: {body}"
            );
            (body["redis"] == wanted).then_some(())
        },
    )
    .await;
}

async fn wait_for_requests(outcomes: &Mutex<Vec<Outcome>>, phase: Phase, count: usize) {
    wait_until(
        &format!("{count} requests within {phase:?}"),
        Duration::from_secs(120),
        || async { (completed_in(outcomes, phase) >= count).then_some(()) },
    )
    .await;
}

/// Keys in the Redis database (DBSIZE over RESP).
async fn redis_keys(port: u16) -> Option<u64> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .ok()?;
    stream.write_all(b"DBSIZE\r\n").await.ok()?;
    let mut reply = [0u8; 32];
    let n = tokio::time::timeout(Duration::from_secs(1), stream.read(&mut reply))
        .await
        .ok()?
        .ok()?;
    let text = std::str::from_utf8(&reply[..n]).ok()?;
    text.strip_prefix(':')?.trim().parse().ok()
}

async fn redis_killed_mid_load(backend: Backend) {
    let port = free_port();
    let Some(mut redis) = RedisServer::start(port).await else {
        return;
    };
    let url = redis.url();
    let Some(app) = TestApp::spawn_with(backend, |c| c.redis_url = Some(url)).await else {
        return;
    };
    let app = Arc::new(app);
    wait_for_redis(&app, "ok").await;
    let (phase_tx, phase) = watch::channel(Phase::Before);
    let outcomes = Arc::new(Mutex::new(Vec::new()));
    let lanes = start_load(app.clone(), phase, outcomes.clone());

    wait_for_requests(&outcomes, Phase::Before, 4).await;
    redis.kill();
    wait_for_redis(&app, "degraded").await;
    phase_tx.send_replace(Phase::During);
    wait_for_requests(&outcomes, Phase::During, 6).await;

    let restarted = RedisServer::start(port)
        .await
        .expect("redis-server ran before");
    wait_for_redis(&app, "ok").await;
    phase_tx.send_replace(Phase::After);
    wait_for_requests(&outcomes, Phase::After, 6).await;
    // The cache writer reaches the new Redis again (it started empty: no persistence).
    wait_until(
        "results cached in the restarted Redis",
        Duration::from_secs(30),
        || async { redis_keys(port).await.is_some_and(|n| n > 0).then_some(()) },
    )
    .await;
    phase_tx.send_replace(Phase::Stop);
    for lane in lanes {
        lane.await.expect("load lane");
    }

    let outcomes = std::mem::take(&mut *outcomes.lock().unwrap());
    let failures: Vec<&Outcome> = outcomes.iter().filter(|o| o.failure.is_some()).collect();
    assert!(
        failures.is_empty(),
        "{} of {} requests failed on {backend:?}: {failures:?}",
        failures.len(),
        outcomes.len()
    );
    drop(restarted);
    if let Ok(app) = Arc::try_unwrap(app) {
        app.stop().await;
    }
}

#[tokio::test]
async fn redis_killed_mid_load_on_sqlite() {
    redis_killed_mid_load(Backend::Sqlite).await;
}

#[tokio::test]
async fn redis_killed_mid_load_on_postgres() {
    redis_killed_mid_load(Backend::Postgres).await;
}
