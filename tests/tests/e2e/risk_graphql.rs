//! The risk lab over GraphQL: `marginCallOdds` and its `maxLeverage` answer what the engine
//! answers on the shipped data, `forwardRisk` is reproducible from its seed (chosen and
//! returned when the caller gives none), every bad input is a BAD_USER_INPUT naming its field,
//! and each analysis counts as an engine run against the per-request cap.

use std::sync::atomic::AtomicBool;

use engine::risk::{self, OddsInput};
use serde_json::{Value, json};
use tests::{Backend, TestApp, error_code};

const ODDS: &str = "query($input: OddsInput!, $target: Float!) { marginCallOdds(input: $input) {
  ticker leverage horizonDays maintenance entryFrom entryTo windows windowsWithCall probability
  independent { windows withCall probability interval { low high } }
  daysToFirstCall { p10 p50 p90 } terminalReturn { p5 p50 p95 }
  byEntryYear { year windows withCall probability }
  earliestCalls { entryDate callDate tradingDays }
  figures { probabilityByEntryDate daysToFirstCall }
  maxLeverage(targetProbability: $target)
} }";

const FORWARD: &str = "query($input: ForwardRiskInput!) { forwardRisk(input: $input) {
  paths seed method horizonDays pathsWithCall probability interval { low high }
  daysToFirstCall { p10 p50 p90 } terminalEquity { p5 p25 p50 p75 p95 } expectedShortfall5
  analyticProbability figures { fan }
} }";

fn spy_2x() -> Value {
    json!({"ticker": "SPY", "leverage": 2.0, "accountType": "REG_T", "horizonDays": 252})
}

fn field(body: &Value) -> &str {
    body["errors"][0]["extensions"]["field"]
        .as_str()
        .unwrap_or_default()
}

#[tokio::test]
async fn margin_call_odds_answer_what_the_engine_answers_on_the_shipped_data() {
    let app = TestApp::spawn(Backend::Sqlite).await.expect("SQLite");
    let data = app
        .ok(ODDS, json!({"input": spy_2x(), "target": 0.05}), None)
        .await;
    let odds = &data["marginCallOdds"];

    let input = OddsInput {
        ticker: "SPY".into(),
        leverage: 2.0,
        account_type: engine::AccountType::RegT,
        horizon_days: 252,
        entry_from: None,
        entry_to: None,
        initial_investment: risk::DEFAULT_INITIAL_INVESTMENT,
        options: engine::backtest::BacktestOptions::default(),
    };
    let cancel = AtomicBool::new(false);
    let expected = risk::margin_call_odds(&app.state.market, &input, &cancel).expect("odds");
    assert_eq!(odds["windows"], expected.windows);
    assert_eq!(
        odds["windows"], 7970,
        "every 252-day window of SPY 1993-2025"
    );
    assert_eq!(odds["windowsWithCall"], expected.windows_with_call);
    assert_eq!(odds["probability"], expected.probability);
    let ratio = expected.windows_with_call as f64 / expected.windows as f64;
    assert!((expected.probability - ratio).abs() < 1e-15);
    assert_eq!(odds["maintenance"], 0.25);
    assert_eq!(
        odds["independent"]["withCall"],
        expected.independent.with_call
    );
    assert_eq!(
        odds["independent"]["interval"]["high"],
        expected.independent.interval.high
    );
    let earliest = odds["earliestCalls"].as_array().expect("earliest calls");
    assert_eq!(earliest.len(), expected.earliest_calls.len());
    assert_eq!(
        earliest[0]["callDate"],
        expected.earliest_calls[0].call_date.to_string()
    );
    let years = odds["byEntryYear"].as_array().expect("years");
    let windows: u64 = years
        .iter()
        .map(|y| y["windows"].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(windows, 7970, "the years add up to every window");
    assert!(odds["figures"]["probabilityByEntryDate"]["data"].is_array());

    // maxLeverage is the engine's, and consistent with the odds at that leverage.
    let max = risk::max_leverage(&app.state.market, &input, 0.05, &cancel).expect("max");
    assert_eq!(odds["maxLeverage"].as_f64(), max);
    let at_max = app
        .ok(
            ODDS,
            json!({"input": {"ticker": "SPY", "leverage": max, "horizonDays": 252}, "target": 0.05}),
            None,
        )
        .await;
    assert!(
        at_max["marginCallOdds"]["probability"]
            .as_f64()
            .unwrap_or(1.0)
            <= 0.05
    );

    // Portfolio margin allows more; its answer sits where the odds cross 5 %.
    let portfolio = app
        .ok(
            ODDS,
            json!({"input": {"ticker": "SPY", "leverage": 1.5, "accountType": "PORTFOLIO", "horizonDays": 252}, "target": 0.05}),
            None,
        )
        .await;
    let lev = portfolio["marginCallOdds"]["maxLeverage"]
        .as_f64()
        .expect("a leverage");
    for (leverage, within) in [(lev, true), (lev + 0.01, false)] {
        let answer = app
            .ok(
                ODDS,
                json!({"input": {"ticker": "SPY", "leverage": (leverage * 100.0).round() / 100.0, "accountType": "PORTFOLIO", "horizonDays": 252}, "target": 0.05}),
                None,
            )
            .await;
        let p = answer["marginCallOdds"]["probability"]
            .as_f64()
            .unwrap_or(1.0);
        assert_eq!(p <= 0.05, within, "leverage {leverage}: {p}");
    }
    app.stop().await;
}

#[tokio::test]
async fn forward_risk_is_reproducible_from_its_seed() {
    let app = TestApp::spawn(Backend::Sqlite).await.expect("SQLite");
    let input = json!({"ticker": "SPY", "leverage": 2.0, "paths": 2000, "seed": 7});
    let first = app.ok(FORWARD, json!({"input": input}), None).await;
    let again = app.ok(FORWARD, json!({"input": input}), None).await;
    assert_eq!(first, again);
    let forward = &first["forwardRisk"];
    assert_eq!(forward["seed"], 7);
    assert_eq!(forward["paths"], 2000);
    assert_eq!(forward["method"], "STATIONARY_BOOTSTRAP");
    assert_eq!(
        forward["analyticProbability"],
        Value::Null,
        "interest is not zero"
    );
    let p = forward["probability"].as_f64().expect("a probability");
    let (low, high) = (
        forward["interval"]["low"].as_f64().unwrap_or(2.0),
        forward["interval"]["high"].as_f64().unwrap_or(-1.0),
    );
    assert!(low <= p && p <= high, "{forward}");

    // No seed: one is chosen and returned, and it reproduces the answer.
    let unseeded = app
        .ok(
            FORWARD,
            json!({"input": {"ticker": "SPY", "leverage": 2.0, "paths": 500}}),
            None,
        )
        .await;
    let seed = unseeded["forwardRisk"]["seed"].clone();
    let seeded = app
        .ok(
            FORWARD,
            json!({"input": {"ticker": "SPY", "leverage": 2.0, "paths": 500, "seed": seed}}),
            None,
        )
        .await;
    assert_eq!(unseeded, seeded);

    // GBM at a fixed 0 % has the analytic first-passage probability too.
    let gbm = app
        .ok(
            FORWARD,
            json!({"input": {"ticker": "SPY", "leverage": 2.0, "paths": 1000, "seed": 3, "method": "GBM",
                             "options": {"interest": {"model": "FIXED", "ratePct": 0}}}}),
            None,
        )
        .await;
    assert!(gbm["forwardRisk"]["analyticProbability"].is_f64(), "{gbm}");
    app.stop().await;
}

#[tokio::test]
async fn bad_risk_inputs_name_their_field_and_each_analysis_is_an_engine_run() {
    let app = TestApp::spawn(Backend::Sqlite).await.expect("SQLite");
    let odds = |input: Value| json!({"input": input, "target": 0.05});
    let cases = [
        (
            ODDS,
            odds(json!({"ticker": "SPY", "leverage": 2.0, "horizonDays": 3})),
            "horizonDays",
        ),
        (
            ODDS,
            odds(json!({"ticker": "SPY", "leverage": 2.0, "horizonDays": 9000})),
            "horizonDays",
        ),
        (
            ODDS,
            odds(json!({"ticker": "SPY", "leverage": 3.0})),
            "leverage",
        ),
        (
            ODDS,
            odds(json!({"ticker": "NOPE", "leverage": 2.0})),
            "ticker",
        ),
        (
            ODDS,
            json!({"input": spy_2x(), "target": 2.0}),
            "targetProbability",
        ),
        (
            FORWARD,
            json!({"input": {"ticker": "SPY", "leverage": 2.0, "paths": 50}}),
            "paths",
        ),
        (
            FORWARD,
            json!({"input": {"ticker": "SPY", "leverage": 2.0, "paths": 1000, "seed": -1}}),
            "seed",
        ),
        (
            FORWARD,
            json!({"input": {"ticker": "SPY", "leverage": 2.0, "sampleFrom": "2020-01-10", "sampleTo": "2020-01-02"}}),
            "sampleTo",
        ),
    ];
    for (query, variables, expected) in cases {
        let body = app.gql(query, variables.clone(), None).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{variables}: {body}");
        assert!(
            field(&body).starts_with(expected) || field(&body).ends_with(expected),
            "{variables}: {body}"
        );
    }
    // Six analyses in one request are over the cap of five engine runs: nothing runs.
    let six = (0..6)
        .map(|i| format!("o{i}: marginCallOdds(input: {{ticker: \"SPY\", leverage: 1.{i}}}) {{ probability }}"))
        .collect::<Vec<_>>()
        .join(" ");
    let body = app.gql(&format!("{{ {six} }}"), json!({}), None).await;
    assert_eq!(error_code(&body), "QUERY_TOO_COMPLEX", "{body}");
    app.stop().await;
}
