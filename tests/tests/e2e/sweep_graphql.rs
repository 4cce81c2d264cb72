//! Sweeps over GraphQL: `runSweep` runs a grid whose cells equal `runBacktest` for the same
//! inputs, an invalid cell carries its error while the sweep completes, `best` and `heatmap`
//! read the grid, `cells` pages it, and a sweep is its owner's alone (as a backtest session).

use serde_json::{Value, json};
use tests::{TestApp, error_code, on_each_backend};

use crate::margin_support::users;

const RUN: &str = "mutation($input: SweepInput!) { runSweep(input: $input) { sweepSession {
  id sweepId status percent cellCount completedCells
  cells(first: 100) { totalCount edges { cursor node { x y error { field message } summary { finalEquity cagr maxDrawdown sharpe liquidations } } } }
  best(metric: MAX_DRAWDOWN) { x y summary { maxDrawdown } }
  bestCagr: best(metric: CAGR) { x y summary { cagr } }
  heatmap(metric: CAGR)
} } }";

const BACKTEST: &str =
    "mutation($input: BacktestInput!) { runBacktest(input: $input) { backtestSession {
  result { summary { finalEquity cagr maxDrawdown sharpe liquidations } }
} } }";

fn base(start: &str) -> Value {
    json!({"ticker": "SPY", "mode": "LIQUIDATION_REENTRY", "startDate": start,
           "endDate": "2020-12-31", "leverage": 2.0, "accountType": "REG_T",
           "initialInvestment": 100000.0})
}

fn sweep_input() -> Value {
    json!({"input": {
        "base": base("2000-01-03"),
        "x": {"parameter": "LEVERAGE", "values": [1.0, 1.5, 2.0, 3.0]},
        "y": {"parameter": "START_YEAR", "values": [2000.0, 2008.0]},
    }})
}

#[tokio::test]
async fn a_sweeps_cells_are_the_backtests_and_it_reads_best_and_heatmap() {
    on_each_backend(|app: TestApp| async move {
        let (alice, bob) = users(&app).await;
        let data = app.ok(RUN, sweep_input(), Some(&alice.token)).await;
        let sweep = &data["runSweep"]["sweepSession"];
        assert_eq!(sweep["status"], "COMPLETED", "{sweep}");
        assert_eq!(sweep["cellCount"], 8);
        assert_eq!(sweep["completedCells"], 8, "error cells count as finished");
        assert_eq!(sweep["percent"], 100.0);
        let cells: Vec<&Value> = sweep["cells"]["edges"]
            .as_array()
            .expect("cells")
            .iter()
            .map(|e| &e["node"])
            .collect();
        assert_eq!(cells.len(), 8);
        assert_eq!(sweep["cells"]["totalCount"], 8);

        // Grid order: y outer, x inner. Leverage 3 is above REG_T's maximum: an error cell.
        for (i, cell) in cells.iter().enumerate() {
            let (x, y) = ([1.0, 1.5, 2.0, 3.0][i % 4], [2000.0, 2008.0][i / 4]);
            assert_eq!((cell["x"].as_f64(), cell["y"].as_f64()), (Some(x), Some(y)));
            if x > 2.0 {
                assert_eq!(cell["error"]["field"], "leverage", "{cell}");
                assert!(cell["summary"].is_null());
                continue;
            }
            // Every other cell is the single run with the same parameters, to the bit.
            let start = if y == 2000.0 { "2000-01-03" } else { "2008-01-02" };
            let mut input = base(start);
            input["leverage"] = json!(x);
            let single = app.ok(BACKTEST, json!({"input": input}), Some(&alice.token)).await;
            assert_eq!(
                cell["summary"],
                single["runBacktest"]["backtestSession"]["result"]["summary"],
                "cell {x} × {y}"
            );
        }

        // The least risky cell is the drawdown closest to zero (leverage 1), the best CAGR the
        // largest; the heatmap has a row per y and a column per x, gaps for errors.
        let drawdowns: Vec<f64> = cells
            .iter()
            .filter_map(|c| c["summary"]["maxDrawdown"].as_f64())
            .collect();
        let least = drawdowns.iter().cloned().fold(f64::MIN, f64::max);
        assert_eq!(sweep["best"]["summary"]["maxDrawdown"].as_f64(), Some(least));
        assert_eq!(sweep["best"]["x"], 1.0);
        let cagrs: Vec<f64> = cells.iter().filter_map(|c| c["summary"]["cagr"].as_f64()).collect();
        let top = cagrs.iter().cloned().fold(f64::MIN, f64::max);
        assert_eq!(sweep["bestCagr"]["summary"]["cagr"].as_f64(), Some(top));
        let z = sweep["heatmap"]["data"][0]["z"].as_array().expect("z rows");
        assert_eq!(z.len(), 2);
        assert_eq!(z[0].as_array().map(Vec::len), Some(4));
        assert!(z[0][3].is_null(), "the error cell is a gap");
        assert!(sweep["heatmap"]["layout"]["xaxis"]["title"].to_string().contains("everage"));

        // Paging the cells: two pages of three and one of two, then backward.
        let id = sweep["sweepId"].clone();
        let page = |args: &str| {
            format!("query($id: ID!) {{ sweepSession(sweepId: $id) {{ cells({args}) {{ pageInfo {{ hasNextPage hasPreviousPage endCursor startCursor }} edges {{ node {{ x y }} }} }} }} }}")
        };
        let first = app.ok(&page("first: 3"), json!({"id": id}), Some(&alice.token)).await;
        let first = &first["sweepSession"]["cells"];
        assert_eq!(first["edges"].as_array().map(Vec::len), Some(3));
        assert_eq!(first["pageInfo"]["hasNextPage"], true);
        let cursor = first["pageInfo"]["endCursor"].as_str().expect("a cursor").to_string();
        let second = app
            .ok(&page(&format!("first: 10, after: \"{cursor}\"")), json!({"id": id}), Some(&alice.token))
            .await;
        let second = &second["sweepSession"]["cells"];
        assert_eq!(second["edges"].as_array().map(Vec::len), Some(5));
        assert_eq!(second["edges"][0]["node"], cells_xy(cells[3]));
        let before = second["pageInfo"]["startCursor"].as_str().expect("a cursor").to_string();
        let back = app
            .ok(&page(&format!("last: 2, before: \"{before}\"")), json!({"id": id}), Some(&alice.token))
            .await;
        let back = &back["sweepSession"]["cells"];
        assert_eq!(back["edges"][0]["node"], cells_xy(cells[1]));
        assert_eq!(back["edges"][1]["node"], cells_xy(cells[2]));

        // Alice's alone: bob sees a missing sweep, node() is null for him; alice lists it.
        let query = "query($id: ID!) { sweepSession(sweepId: $id) { status } }";
        let hidden = app.gql(query, json!({"id": id}), Some(&bob.token)).await;
        assert_eq!(error_code(&hidden), "NOT_FOUND");
        let node = "query($id: ID!) { node(id: $id) { __typename id } }";
        let mine = app.ok(node, json!({"id": sweep["id"]}), Some(&alice.token)).await;
        assert_eq!(mine["node"]["__typename"], "SweepSession");
        let theirs = app.gql(node, json!({"id": sweep["id"]}), Some(&bob.token)).await;
        assert_eq!(theirs["data"]["node"], Value::Null, "{theirs}");
        let listed = app
            .ok("{ sweepSessions { totalCount nodes { sweepId } } }", json!({}), Some(&alice.token))
            .await;
        assert_eq!(listed["sweepSessions"]["nodes"][0]["sweepId"], id);
        let none = app
            .ok("{ sweepSessions { totalCount } }", json!({}), Some(&bob.token))
            .await;
        assert_eq!(none["sweepSessions"]["totalCount"], 0);
        app.stop().await;
    })
    .await;
}

fn cells_xy(cell: &Value) -> Value {
    json!({"x": cell["x"], "y": cell["y"]})
}

#[tokio::test]
async fn bad_sweeps_name_their_field_and_a_cancelled_sweep_stays_cancelled() {
    on_each_backend(|app: TestApp| async move {
        let (alice, _) = users(&app).await;
        let run = |input: Value| json!({"input": input});
        let cases = [
            (json!({"base": base("2000-01-03"), "x": {"parameter": "LEVERAGE", "values": []}}), "x.values"),
            (
                json!({"base": base("2000-01-03"), "x": {"parameter": "LEVERAGE", "values": (0..101).map(|i| 1.0 + f64::from(i) / 101.0).collect::<Vec<_>>()}}),
                "x.values",
            ),
            (
                json!({"base": {"ticker": "NOPE", "mode": "LIQUIDATION_REENTRY", "startDate": "2000-01-03", "endDate": "2020-12-31", "leverage": 2.0, "initialInvestment": 1000.0},
                       "x": {"parameter": "LEVERAGE", "values": [1.0]}}),
                "base.ticker",
            ),
        ];
        for (input, field) in cases {
            let body = app.gql(RUN, run(input.clone()), Some(&alice.token)).await;
            assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
            assert_eq!(body["errors"][0]["extensions"]["field"], field, "{body}");
        }
        // Not waiting: the session comes back at once; cancelling leaves it cancelled (or
        // completed, had it already finished), and a second cancel changes nothing.
        let started = app
            .ok(
                "mutation($input: SweepInput!) { runSweep(input: $input, wait: false) { sweepSession { sweepId status } } }",
                sweep_input(),
                Some(&alice.token),
            )
            .await;
        let id = started["runSweep"]["sweepSession"]["sweepId"].clone();
        let cancel = "mutation($id: ID!) { cancelSweep(sweepId: $id) { sweepSession { status } } }";
        let once = app.ok(cancel, json!({"id": id}), Some(&alice.token)).await;
        let status = once["cancelSweep"]["sweepSession"]["status"].clone();
        assert!(status == "CANCELLED" || status == "COMPLETED", "{once}");
        let twice = app.ok(cancel, json!({"id": id}), Some(&alice.token)).await;
        assert_eq!(twice["cancelSweep"]["sweepSession"]["status"], status);
        app.stop().await;
    })
    .await;
}

const PROGRESS: &str = "subscription($id: ID!) { sweepProgress(sweepId: $id) {
  kind status cellCount completedCells percent cells { index cell { x summary { finalEquity } } }
} }";

/// However far the sweep has got when the subscriber joins, every cell arrives exactly once:
/// counted in the snapshot or in a CELLS batch; the stream ends with COMPLETED at 100 %.
#[tokio::test]
async fn sweep_progress_delivers_every_cell_once_then_completed() {
    let app = TestApp::spawn(tests::Backend::Sqlite)
        .await
        .expect("SQLite");
    let (alice, _) = users(&app).await;
    let values: Vec<f64> = (0..100).map(|i| 1.0 + f64::from(i) / 100.0).collect();
    let input = json!({"input": {"base": base("2005-01-03"), "x": {"parameter": "LEVERAGE", "values": values}}});
    let started = app
        .ok(
            "mutation($input: SweepInput!) { runSweep(input: $input, wait: false) { sweepSession { sweepId } } }",
            input,
            Some(&alice.token),
        )
        .await;
    let id = started["runSweep"]["sweepSession"]["sweepId"].clone();
    let mut socket = app
        .connect_socket("graphql-transport-ws", Some(&alice.token))
        .await;
    tests::socket::send(
        &mut socket,
        json!({"id": "s1", "type": "subscribe", "payload": {"query": PROGRESS, "variables": {"id": id}}}),
    )
    .await;
    let mut messages = Vec::new();
    loop {
        let message = tests::socket::next_json(&mut socket).await;
        match message["type"].as_str() {
            Some("next") => messages.push(message["payload"]["data"]["sweepProgress"].clone()),
            Some("complete") => break,
            other => panic!("unexpected {other:?}: {message}"),
        }
    }
    let first = &messages[0];
    let last = messages.last().expect("a terminal message");
    assert_eq!(first["kind"], "SNAPSHOT", "{first}");
    assert_eq!(last["kind"], "COMPLETED", "{last}");
    assert_eq!(last["completedCells"], 100);
    assert_eq!(last["percent"], 100.0);
    let mut seen = std::collections::BTreeSet::new();
    for batch in messages.iter().filter(|m| m["kind"] == "CELLS") {
        for cell in batch["cells"].as_array().expect("cells") {
            assert!(
                seen.insert(cell["index"].as_u64().expect("an index")),
                "{cell}"
            );
            let index = cell["index"].as_u64().unwrap_or(0) as usize;
            assert_eq!(cell["cell"]["x"].as_f64(), Some(values[index]));
        }
    }
    let before = first["completedCells"].as_u64().expect("a count") as usize;
    assert_eq!(
        before + seen.len(),
        100,
        "every cell once: {before} + {}",
        seen.len()
    );
    if let Some(max) = seen.iter().next_back() {
        assert!(*max < 100);
    }
    app.stop().await;
}

const SAVE: &str = "mutation($input: SaveResultInput!) { saveResult(input: $input) {
  savedResult { resultId kind ticker leverage result { summary { cagr } } } } }";
const SAVED: &str = "query($id: ID!) { savedResult(resultId: $id) {
  kind name ticker mode accountType result { summary { cagr } }
  sweep { cellCount completedCells cells(first: 100) { edges { node { x y summary { cagr } } } }
          best(metric: MAX_DRAWDOWN) { x y } heatmap(metric: CAGR) }
} }";
const LIST: &str = "query($kind: SavedResultKind) { savedResults(filter: {kind: $kind}) {
  totalCount edges { node { kind name sweep { cellCount } } } } }";

/// A completed sweep is saved with `saveResult` like a backtest (its global id or its UUID),
/// against the same quota, comes back with its grid, and listings filter by kind.
#[tokio::test]
async fn a_sweep_saves_like_a_backtest_within_the_quota_and_lists_by_kind() {
    tests::on_each_backend_with(
        |config| config.saved_results_quota = 3,
        |app: TestApp| async move {
            let (alice, bob) = users(&app).await;
            let sweep = app.ok(RUN, sweep_input(), Some(&alice.token)).await;
            let sweep = &sweep["runSweep"]["sweepSession"];
            let by_global = app
                .ok(
                    SAVE,
                    json!({"input": {"sessionId": sweep["id"], "name": "grid by id"}}),
                    Some(&alice.token),
                )
                .await;
            let saved = &by_global["saveResult"]["savedResult"];
            assert_eq!(saved["kind"], "SWEEP");
            assert_eq!(saved["ticker"], "SPY", "the base run's columns describe it");
            assert!(saved["result"].is_null(), "a sweep has no backtest result");
            let by_uuid = app
                .ok(
                    SAVE,
                    json!({"input": {"sessionId": sweep["sweepId"], "name": "grid by uuid"}}),
                    Some(&alice.token),
                )
                .await;
            assert_eq!(by_uuid["saveResult"]["savedResult"]["kind"], "SWEEP");

            // The stored grid is the sweep's own.
            let id = saved["resultId"].clone();
            let data = app.ok(SAVED, json!({"id": id}), Some(&alice.token)).await;
            let stored = &data["savedResult"];
            assert_eq!(stored["kind"], "SWEEP");
            assert_eq!(stored["mode"], "LIQUIDATION_REENTRY");
            assert_eq!(stored["sweep"]["cellCount"], 8);
            assert_eq!(stored["sweep"]["completedCells"], 8);
            let cells: Vec<Value> = stored["sweep"]["cells"]["edges"]
                .as_array()
                .expect("cells")
                .iter()
                .map(|e| e["node"].clone())
                .collect();
            let original: Vec<Value> = sweep["cells"]["edges"]
                .as_array()
                .expect("cells")
                .iter()
                .map(|e| json!({"x": e["node"]["x"], "y": e["node"]["y"],
                                "summary": e["node"]["summary"].as_object().map(|s| json!({"cagr": s["cagr"]}))}))
                .collect();
            assert_eq!(cells, original);
            assert_eq!(stored["sweep"]["best"], json!({"x": sweep["best"]["x"], "y": sweep["best"]["y"]}));
            assert_eq!(stored["sweep"]["heatmap"], sweep["heatmap"]);

            // One backtest saved beside them: the quota (3) is shared, and kinds filter.
            let run = app
                .ok(
                    "mutation($input: BacktestInput!) { runBacktest(input: $input) { backtestSession { sessionId } } }",
                    json!({"input": base("2010-01-04")}),
                    Some(&alice.token),
                )
                .await;
            let session = run["runBacktest"]["backtestSession"]["sessionId"].clone();
            let backtest = app
                .ok(SAVE, json!({"input": {"sessionId": session, "name": "one run"}}), Some(&alice.token))
                .await;
            assert_eq!(backtest["saveResult"]["savedResult"]["kind"], "BACKTEST");
            let over = app
                .gql(
                    SAVE,
                    json!({"input": {"sessionId": sweep["id"], "name": "one too many"}}),
                    Some(&alice.token),
                )
                .await;
            assert_eq!(error_code(&over), "QUOTA_EXCEEDED", "{over}");

            let sweeps = app.ok(LIST, json!({"kind": "SWEEP"}), Some(&alice.token)).await;
            assert_eq!(sweeps["savedResults"]["totalCount"], 2);
            for edge in sweeps["savedResults"]["edges"].as_array().expect("edges") {
                assert_eq!(edge["node"]["kind"], "SWEEP");
                assert!(edge["node"]["sweep"].is_null(), "listings never load the payload");
            }
            let backtests = app.ok(LIST, json!({"kind": "BACKTEST"}), Some(&alice.token)).await;
            assert_eq!(backtests["savedResults"]["totalCount"], 1);
            let all = app.ok(LIST, json!({"kind": null}), Some(&alice.token)).await;
            assert_eq!(all["savedResults"]["totalCount"], 3);

            // Someone else's sweep cannot be saved, and its saved grid is not found.
            let theirs = app
                .gql(SAVE, json!({"input": {"sessionId": sweep["id"], "name": "mine now"}}), Some(&bob.token))
                .await;
            assert_eq!(error_code(&theirs), "NOT_FOUND", "{theirs}");
            let peek = app.gql(SAVED, json!({"id": id}), Some(&bob.token)).await;
            assert_eq!(error_code(&peek), "NOT_FOUND", "{peek}");
        },
    )
    .await;
}
