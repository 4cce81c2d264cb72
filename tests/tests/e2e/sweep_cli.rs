//! `margin-api sweep` (issue #16): the flags parse as the binary parses them (`api::cli::Cli`),
//! `from:to:step` axes include `to`, every cell of the JSON is the backtest engine's own run
//! of that cell, and the summary prints the grid with the best cell.

use std::sync::atomic::AtomicBool;

use clap::Parser;
use engine::backtest::{BacktestInput, BacktestOptions, Mode, run_backtest};
use serde_json::Value;

fn sweep(args: &[&str]) -> anyhow::Result<String> {
    let cli = api::cli::Cli::try_parse_from(
        ["margin-api", "sweep"]
            .into_iter()
            .chain(args.iter().copied()),
    )?;
    let Some(api::cli::Command::Sweep(parsed)) = cli.command else {
        anyhow::bail!("not a sweep command");
    };
    let market = engine::MarketData::load_dir(&tests::data_dir())?;
    api::sweep_cli::run_sweep(&market, &parsed)
}

const BASE: [&str; 6] = [
    "--ticker",
    "SPY",
    "--start",
    "2005-01-03",
    "--end",
    "2020-12-31",
];

#[test]
fn a_cli_sweep_is_its_cells_backtests() {
    let args: Vec<&str> = BASE
        .iter()
        .copied()
        .chain([
            "--x",
            "leverage=1:2:0.5",
            "--y",
            "start-year=2005:2011:3",
            "--format",
            "json",
        ])
        .collect();
    let json: Value = serde_json::from_str(&sweep(&args).expect("the sweep runs")).expect("JSON");
    assert_eq!(
        json["cellCount"], 9,
        "1, 1.5, 2 × 2005, 2008, 2011 (`to` included)"
    );
    assert_eq!(json["completedCells"], 9);
    let market = engine::MarketData::load_dir(&tests::data_dir()).expect("the data loads");
    let starts = [
        ("2005", "2005-01-03"),
        ("2008", "2008-01-02"),
        ("2011", "2011-01-03"),
    ];
    for cell in json["cells"].as_array().expect("cells") {
        let (x, y) = (
            cell["x"].as_f64().unwrap_or(0.0),
            cell["y"].as_f64().unwrap_or(0.0),
        );
        let start = starts
            .iter()
            .find(|(year, _)| year.parse::<f64>().ok() == Some(y))
            .map(|(_, day)| day.parse().expect("a date"))
            .expect("a start year of the axis");
        let input = BacktestInput {
            ticker: "SPY".into(),
            mode: Mode::LiquidationReentry,
            start_date: start,
            end_date: "2020-12-31".parse().expect("a date"),
            leverage: x,
            account_type: engine::AccountType::RegT,
            initial_investment: 100_000.0,
            profit_threshold_pct: None,
            options: BacktestOptions::default(),
        };
        let single =
            run_backtest(&market, &input, &mut |_| {}, &AtomicBool::new(false)).expect("the run");
        let expected: Value =
            serde_json::from_str(&serde_json::to_string(&single.summary).expect("JSON"))
                .expect("JSON");
        assert_eq!(cell["summary"], expected, "cell {x} × {y}");
    }
    assert_eq!(
        json["best"]["x"], 2.0,
        "the best CAGR is at the most leverage here"
    );
}

#[test]
fn the_summary_prints_the_grid_and_bad_axes_are_refused() {
    let args: Vec<&str> = BASE
        .iter()
        .copied()
        .chain(["--x", "leverage=1,2,3", "--metric", "max-drawdown"])
        .collect();
    let text = sweep(&args).expect("the sweep runs");
    assert!(text.starts_with("max drawdown (%) over 3 cells"), "{text}");
    assert!(
        text.contains("err"),
        "leverage 3 is an error cell on REG_T: {text}"
    );
    assert!(text.contains("best max drawdown:"), "{text}");
    assert!(
        text.contains("at leverage = 1"),
        "the least deep drawdown: {text}"
    );

    for bad in ["leverage", "nope=1,2", "leverage=2:1:0.5", "leverage=1:2:0"] {
        let args: Vec<&str> = BASE.iter().copied().chain(["--x", bad]).collect();
        let err = sweep(&args).expect_err(bad).to_string();
        assert!(!err.is_empty(), "{bad}");
    }
    let args = [
        "--ticker",
        "NOPE",
        "--start",
        "2005-01-03",
        "--end",
        "2020-12-31",
        "--x",
        "leverage=1",
    ];
    let err = sweep(&args).expect_err("an unknown ticker").to_string();
    assert!(err.starts_with("base.ticker:"), "the engine's field: {err}");
}
