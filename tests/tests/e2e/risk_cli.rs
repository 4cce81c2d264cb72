//! `margin-api odds` and `margin-api forward-risk` (issue #15) on the shipped data: run as a
//! process (`risk_child`, the binary's parsing, data loading and exit codes), checked against
//! the engine called directly.

use std::{process::Output, sync::atomic::AtomicBool};

use clap::Parser;
use engine::{
    AccountType,
    backtest::BacktestOptions,
    risk::{OddsInput, margin_call_odds, max_leverage},
};
use serde_json::Value;

/// Runs `margin-api --data-dir <shipped data> ARGS…`.
fn margin_api(args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_risk_child"))
        .arg("--data-dir")
        .arg(tests::data_dir())
        .args(args)
        .output()
        .expect("risk_child runs")
}

fn stdout_of(output: &Output) -> String {
    assert!(
        output.status.success(),
        "exit {:?}: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).expect("UTF-8 output")
}

fn json_of(output: &Output) -> Value {
    serde_json::from_str(&stdout_of(output)).expect("the output is JSON")
}

/// Through text, as the CLI's output is (so both sides parse the same digits).
fn through_text(value: &engine::risk::MarginCallOdds) -> Value {
    serde_json::from_str(&serde_json::to_string(value).unwrap()).unwrap()
}

const SPY_2X: [&str; 9] = [
    "--ticker",
    "SPY",
    "--leverage",
    "2",
    "--account",
    "reg-t",
    "--horizon-days",
    "252",
    "--format",
];

fn spy_2x_reg_t() -> OddsInput {
    OddsInput {
        ticker: "SPY".into(),
        leverage: 2.0,
        account_type: AccountType::RegT,
        horizon_days: 252,
        entry_from: None,
        entry_to: None,
        initial_investment: 100_000.0,
        options: BacktestOptions::default(),
    }
}

#[test]
fn odds_json_counts_every_window_and_is_the_engines_answer() {
    let mut args = vec!["odds"];
    args.extend(SPY_2X);
    args.extend(["json", "--target-probability", "0.05"]);
    let cli = json_of(&margin_api(&args));

    let windows = cli["windows"].as_u64().expect("windows");
    let with_call = cli["windowsWithCall"].as_u64().expect("windowsWithCall");
    assert_eq!(windows, 7970, "n − H windows over SPY's history");
    let probability = cli["probability"].as_f64().expect("probability");
    assert!(
        (probability - with_call as f64 / windows as f64).abs() < 1e-15,
        "{probability} vs {with_call}/{windows}"
    );
    assert!(cli.get("figures").is_none(), "figures only with --figures");
    assert!(
        cli.get("input").is_none(),
        "the input's fields are at the top"
    );

    let md = engine::MarketData::load_dir(&tests::data_dir()).expect("the data loads");
    let cancel = AtomicBool::new(false);
    let engine = through_text(&margin_call_odds(&md, &spy_2x_reg_t(), &cancel).unwrap());
    for key in [
        "maintenance",
        "windows",
        "windowsWithCall",
        "probability",
        "independent",
        "daysToFirstCall",
        "terminalReturn",
        "byEntryYear",
        "earliestCalls",
        "engineVersion",
        "datasetFingerprint",
    ] {
        assert_eq!(cli[key], engine[key], "{key}");
    }
    for key in [
        "ticker",
        "leverage",
        "accountType",
        "horizonDays",
        "entryFrom",
        "entryTo",
    ] {
        assert_eq!(cli[key], engine["input"][key], "{key}");
    }
    let max = max_leverage(&md, &spy_2x_reg_t(), 0.05, &cancel).unwrap();
    assert_eq!(cli["maxLeverage"].as_f64(), max);
    assert_eq!(cli["targetProbability"].as_f64(), Some(0.05));
}

#[test]
fn forward_risk_with_a_seed_prints_the_same_bytes_every_time() {
    let mut args = vec!["forward-risk"];
    args.extend(SPY_2X);
    args.extend(["json", "--seed", "7", "--paths", "2000"]);
    let first = stdout_of(&margin_api(&args));
    let second = stdout_of(&margin_api(&args));
    assert_eq!(first, second, "the same seed, the same bytes");
    let json: Value = serde_json::from_str(&first).expect("JSON");
    assert_eq!(json["seed"], 7);
    assert_eq!(json["paths"], 2000);
    assert_eq!(json["method"], "STATIONARY_BOOTSTRAP");
    let called = json["pathsWithCall"].as_u64().unwrap();
    let probability = json["probability"].as_f64().unwrap();
    assert!(
        (probability - called as f64 / 2000.0).abs() < 1e-15,
        "{probability}"
    );
    assert!(json.get("figures").is_none());

    // In this process, through the library the binary calls: the same bytes again.
    let cli = api::cli::Cli::try_parse_from(std::iter::once("margin-api").chain(args))
        .expect("the flags parse");
    let Some(api::cli::Command::ForwardRisk(parsed)) = cli.command else {
        panic!("a forward-risk command");
    };
    let market = engine::MarketData::load_dir(&tests::data_dir()).expect("the data loads");
    let here = api::risk_cli::run_forward_risk(market, &parsed).expect("the CLI runs");
    assert_eq!(format!("{here}\n"), first);
}

#[test]
fn forward_risk_without_a_seed_names_the_one_it_drew() {
    let mut args = vec![
        "forward-risk",
        "--ticker",
        "SPY",
        "--leverage",
        "2",
        "--horizon-days",
        "21",
        "--paths",
        "200",
        "--format",
        "json",
    ];
    let output = margin_api(&args);
    let json = json_of(&output);
    let seed = json["seed"].as_u64().expect("a seed in the output");
    assert!(seed <= api::risk_cli::MAX_SEED, "{seed}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(&format!("--seed {seed}")), "{stderr}");
    // Repeating it with that seed gives the same answer.
    let seed = seed.to_string();
    args.extend(["--seed", seed.as_str()]);
    assert_eq!(json_of(&margin_api(&args)), json);
}

#[test]
fn bad_input_exits_non_zero_naming_the_field() {
    for (command, flag, value, field) in [
        ("odds", "--horizon-days", "3", "horizonDays:"),
        ("odds", "--leverage", "3", "leverage:"),
        ("forward-risk", "--horizon-days", "3", "horizonDays:"),
        ("forward-risk", "--leverage", "3", "leverage:"),
        ("forward-risk", "--paths", "5", "paths:"),
        ("odds", "--target-probability", "1.5", "targetProbability:"),
    ] {
        let mut args = vec![command, "--ticker", "SPY", flag, value];
        if flag != "--leverage" {
            args.extend(["--leverage", "2"]);
        }
        if command == "forward-risk" {
            args.extend(["--seed", "1"]);
        }
        let output = margin_api(&args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(
            output.status.code(),
            Some(1),
            "{command} {flag} {value}: {stderr}"
        );
        assert!(
            stderr.starts_with(&format!("error: {field} ")),
            "{command} {flag} {value}: {stderr}"
        );
        assert!(output.stdout.is_empty(), "nothing on stdout");
    }
    // An unknown spelling is refused by the parser with the engine's message.
    let output = margin_api(&[
        "forward-risk",
        "--ticker",
        "SPY",
        "--leverage",
        "2",
        "--method",
        "garch",
    ]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("unknown method"));
}

#[test]
fn the_summary_prints_the_probability_and_the_interval() {
    let mut args = vec!["odds"];
    args.extend(SPY_2X);
    args.extend(["summary", "--target-probability", "0.05"]);
    let summary = stdout_of(&margin_api(&args));
    let md = engine::MarketData::load_dir(&tests::data_dir()).expect("the data loads");
    let odds = margin_call_odds(&md, &spy_2x_reg_t(), &AtomicBool::new(false)).unwrap();
    let line = summary
        .lines()
        .find(|l| l.starts_with("probability "))
        .unwrap_or_else(|| panic!("a probability line: {summary}"));
    assert!(
        line.ends_with(&format!(
            "{:.2} % ({} of 7970 windows with a call)",
            odds.probability * 100.0,
            odds.windows_with_call
        )),
        "{line}"
    );
    let independent = summary
        .lines()
        .find(|l| l.starts_with("independent windows "))
        .expect("an independent-windows line");
    assert!(
        independent.ends_with(&format!(
            "95 % interval {:.2} % to {:.2} %",
            odds.independent.interval.low * 100.0,
            odds.independent.interval.high * 100.0
        )),
        "{independent}"
    );
    assert!(summary.contains("max leverage "), "{summary}");
    assert!(summary.contains("earliest calls"), "{summary}");

    let mut args = vec!["forward-risk"];
    args.extend(SPY_2X);
    args.extend([
        "summary", "--seed", "7", "--paths", "500", "--method", "gbm",
    ]);
    let summary = stdout_of(&margin_api(&args));
    for label in [
        "probability ",
        "seed ",
        "analytic probability ",
        "terminal equity ",
    ] {
        assert!(
            summary.lines().any(|l| l.starts_with(label)),
            "{label}: {summary}"
        );
    }
}
