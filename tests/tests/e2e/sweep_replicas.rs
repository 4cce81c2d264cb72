//! A sweep spread over two server processes sharing PostgreSQL and Redis (issue #16): the
//! chunks go out on one Redis Stream, both processes compute some (their `/metrics` say how
//! many), and when one is SIGKILLed holding a chunk the other reclaims it and the sweep still
//! completes; either way every cell equals the engine's single-process grid.
//!
//! Nothing here waits on time: the processes are held by configured chunk delays, and the
//! test waits for events (a worker in the group, a chunk taken, the sweep finished).

use std::time::Duration;

use engine::sweep::{SweepInput, run_sweep};
use entity::sweep_session;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use tests::{
    Backend, data_dir, eventually, fresh_database, process::ServerProcess, redis_url,
    unique_sweep_stream,
};

const RUN: &str = "mutation($input: SweepInput!, $wait: Boolean) {
  runSweep(input: $input, wait: $wait) { sweepSession { sweepId status cellCount completedCells } }
}";
const STATUS: &str = "query($id: ID!) { sweepSession(sweepId: $id) { status completedCells } }";

/// 40 × 40 = 1,600 fifteen-year SPY runs: 25 chunks of 64 cells.
fn grid() -> Value {
    let leverage: Vec<f64> = (0..40).map(|i| 1.0 + f64::from(i) * 0.05).collect();
    let spread: Vec<f64> = (0..40).map(|i| f64::from(i) * 0.1).collect();
    json!({
        "base": {
            "ticker": "SPY", "mode": "LIQUIDATION_REENTRY", "startDate": "2009-01-02",
            "endDate": "2023-12-29", "leverage": 2.0, "accountType": "REG_T",
            "initialInvestment": 100000.0,
        },
        "x": {"parameter": "LEVERAGE", "values": leverage},
        "y": {"parameter": "INTEREST_SPREAD_PCT", "values": spread},
    })
}

/// PostgreSQL and Redis both configured, or None (with a note) when either is not.
async fn shared_services() -> Option<(String, String)> {
    let Some(redis) = redis_url() else {
        eprintln!("skipped: sweeps over replicas need TEST_REDIS_URL");
        return None;
    };
    let database = fresh_database(Backend::Postgres).await?;
    Some((database, redis))
}

fn replica(database: &str, redis: &str, stream: &str, settings: &[(&str, &str)]) -> ServerProcess {
    let mut env = vec![
        ("REDIS_URL", redis.to_string()),
        ("MARGIN_SWEEP_STREAM", stream.to_string()),
        // One test client, many polls: the request limits are not what is tested here.
        ("MARGIN_RATE_REQUESTS_PER_MIN_ANONYMOUS", "0".to_string()),
        ("MARGIN_RATE_ENGINE_RUNS_PER_MIN_ANONYMOUS", "0".to_string()),
    ];
    env.extend(settings.iter().map(|(k, v)| (*k, v.to_string())));
    ServerProcess::start(env!("CARGO_BIN_EXE_serve_child"), database, &env)
}

async fn graphql(
    client: &reqwest::Client,
    server: &ServerProcess,
    query: &str,
    variables: Value,
) -> Value {
    let body: Value = client
        .post(format!("{}/graphql", server.address))
        .json(&json!({"query": query, "variables": variables}))
        .send()
        .await
        .expect("the server answers")
        .json()
        .await
        .expect("a JSON body");
    assert!(body.get("errors").is_none(), "{body}");
    body["data"].clone()
}

/// The sum of a metric's series whose labels include every one of `labels`.
async fn metric(
    client: &reqwest::Client,
    server: &ServerProcess,
    name: &str,
    labels: &[&str],
) -> f64 {
    let text = client
        .get(format!("{}/metrics", server.address))
        .send()
        .await
        .expect("metrics answer")
        .text()
        .await
        .expect("metrics text");
    text.lines()
        .filter(|line| line.starts_with(name) && !line.starts_with('#'))
        .filter(|line| {
            let series = line.split(' ').next().unwrap_or("");
            series
                .strip_prefix(name)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('{'))
                && labels.iter().all(|label| series.contains(label))
        })
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

async fn wait_for_workers(client: &reqwest::Client, servers: &[&ServerProcess]) {
    for server in servers {
        eventually("the sweep worker reads the chunk stream", || async {
            metric(client, server, "sweep_worker_ready", &[]).await == 1.0
        })
        .await;
    }
}

/// The stored grid equals the engine's own run of the stored (normalised) input, cell for
/// cell, to the bit.
async fn assert_cells_equal_single_process(database: &str, sweep_id: &str) {
    let db = api::db::connect(database).await.expect("direct connection");
    let id = uuid::Uuid::parse_str(sweep_id).expect("a UUID");
    let row = sweep_session::Entity::find()
        .filter(sweep_session::Column::SweepId.eq(id))
        .one(&db)
        .await
        .expect("read the sweep")
        .expect("the sweep is stored");
    let input: SweepInput = serde_json::from_value(row.input).expect("the stored input");
    let market = engine::market::MarketData::load_dir(&data_dir()).expect("market data");
    let alone = run_sweep(&market, &input, &mut |_, _| {}, &Default::default())
        .expect("the single-process sweep");
    let stored = row.cells.expect("a completed sweep stores its cells");
    assert_eq!(stored.as_array().map(Vec::len), Some(1600));
    assert_eq!(
        stored,
        serde_json::to_value(&alone.cells).expect("cells serialise"),
        "every cell of the distributed sweep equals the single-process one"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sweep_started_on_one_process_is_computed_by_both() {
    let Some((database, redis)) = shared_services().await else {
        return;
    };
    let stream = unique_sweep_stream();
    // Each chunk is held a moment, so neither process can take them all before the other
    // has taken its first.
    let held = [("MARGIN_SWEEP_CHUNK_DELAY_MS", "20")];
    let a = replica(&database, &redis, &stream, &held);
    let b = replica(
        &database,
        &redis,
        &stream,
        &[held[0], ("MARGIN_MIGRATE", "false")],
    );
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()
        .expect("client");
    wait_for_workers(&client, &[&a, &b]).await;

    let run = graphql(&client, &a, RUN, json!({"input": grid(), "wait": true})).await;
    let session = &run["runSweep"]["sweepSession"];
    assert_eq!(session["status"], "COMPLETED", "{run}");
    assert_eq!(session["completedCells"], 1600);

    let computed = ["stage=\"computed\""];
    let on_a = metric(&client, &a, "sweep_chunks_total", &computed).await;
    let on_b = metric(&client, &b, "sweep_chunks_total", &computed).await;
    eprintln!("chunks computed: {on_a} on A, {on_b} on B");
    assert!(on_a >= 1.0, "the originating process computed chunks");
    assert!(on_b >= 1.0, "the other process computed chunks");
    assert!(on_a + on_b >= 25.0, "every chunk was computed");
    let cells_a = metric(&client, &a, "sweep_cells_computed_total", &[]).await;
    let cells_b = metric(&client, &b, "sweep_cells_computed_total", &[]).await;
    assert!(cells_a + cells_b >= 1600.0);
    assert_cells_equal_single_process(&database, session["sweepId"].as_str().expect("id")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sweep_completes_when_a_process_holding_a_chunk_is_killed() {
    let Some((database, redis)) = shared_services().await else {
        return;
    };
    let stream = unique_sweep_stream();
    let claim = ("MARGIN_SWEEP_CLAIM_IDLE_MS", "3000");
    let a = replica(&database, &redis, &stream, &[claim]);
    // B holds the first chunk it takes until it is killed.
    let mut b = replica(
        &database,
        &redis,
        &stream,
        &[
            claim,
            ("MARGIN_SWEEP_CHUNK_DELAY_MS", "600000"),
            ("MARGIN_MIGRATE", "false"),
        ],
    );
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()
        .expect("client");
    wait_for_workers(&client, &[&a, &b]).await;

    let run = graphql(&client, &a, RUN, json!({"input": grid(), "wait": false})).await;
    let sweep_id = run["runSweep"]["sweepSession"]["sweepId"]
        .as_str()
        .expect("a sweep id")
        .to_string();
    eventually("B takes a chunk", || async {
        metric(&client, &b, "sweep_chunks_total", &["stage=\"started\""]).await >= 1.0
    })
    .await;
    b.kill();

    eventually("the sweep finishes on A", || async {
        let data = graphql(&client, &a, STATUS, json!({"id": sweep_id})).await;
        data["sweepSession"]["status"] != "RUNNING" && data["sweepSession"]["status"] != "PENDING"
    })
    .await;
    let data = graphql(&client, &a, STATUS, json!({"id": sweep_id})).await;
    assert_eq!(data["sweepSession"]["status"], "COMPLETED", "{data}");
    assert_eq!(data["sweepSession"]["completedCells"], 1600);
    let reclaimed = metric(
        &client,
        &a,
        "sweep_chunks_total",
        &["source=\"reclaimed\"", "stage=\"computed\""],
    )
    .await;
    assert!(
        reclaimed >= 1.0,
        "A reclaimed the chunk B held when it died"
    );
    assert_cells_equal_single_process(&database, &sweep_id).await;
}
