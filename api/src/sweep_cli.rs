//! `margin-api sweep`: a grid of backtests from the command line, on this machine's cores,
//! with the same engine the server runs (`engine::sweep`): the base run's flags as for
//! `backtest`, `--x PARAMETER=VALUES` and optionally `--y`, where VALUES is a list
//! (`leverage=1,1.5,2`) or `from:to:step` with `to` included (`start-year=2000:2020:5`).
//! `--format json` has the GraphQL names (`cells`, `best`, `cellCount`, `completedCells`),
//! `csv` a row per cell, `summary` the grid of `--metric` as a table.

use std::{fmt::Write as _, sync::atomic::AtomicBool};

use chrono::NaiveDate;
use clap::{Args, ValueEnum};
use engine::{
    AccountType,
    backtest::{BacktestInput, BacktestOptions, InterestModel, LiquidationPolicy, Mode},
    market::MarketData,
    sweep::{self, SweepAxis, SweepCell, SweepError, SweepInput, SweepMetric, SweepResult},
};
use serde_json::{Value, json};

use crate::engine_cli::{engine_arg, input_error};

/// `margin-api sweep --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SweepFormat {
    Json,
    Csv,
    Summary,
}

#[derive(Debug, Args)]
pub struct SweepArgs {
    /// Dataset symbol (SPY, VTI, QQQ or any CSV in the data directory).
    #[arg(long)]
    pub ticker: String,
    /// liquidation-reentry, fresh-capital or profit-threshold.
    #[arg(long, value_parser = engine_arg::<Mode>, default_value = "liquidation-reentry")]
    pub mode: Mode,
    #[arg(long)]
    pub start: NaiveDate,
    #[arg(long)]
    pub end: NaiveDate,
    /// The base run's leverage (an axis may vary it).
    #[arg(long, default_value_t = 2.0)]
    pub leverage: f64,
    /// reg-t or portfolio.
    #[arg(long, value_parser = engine_arg::<AccountType>, default_value = "reg-t")]
    pub account: AccountType,
    /// Starting equity (cash).
    #[arg(long, default_value_t = 100_000.0)]
    pub equity: f64,
    /// PROFIT_THRESHOLD: re-lever when the position has grown this many percent.
    #[arg(long)]
    pub profit_threshold: Option<f64>,
    /// full or restore.
    #[arg(long, value_parser = engine_arg::<LiquidationPolicy>, default_value = "full")]
    pub policy: LiquidationPolicy,
    /// Detect calls on the day's low and fill at min(open, call price).
    #[arg(long)]
    pub intraday: bool,
    #[arg(long)]
    pub slippage_bps: Option<f64>,
    /// fed-funds[:SPREAD] (default fed-funds:1.5), tbill[:SPREAD] or fixed:RATE (annual %).
    #[arg(long, value_parser = engine_arg::<InterestModel>, default_value = "fed-funds")]
    pub interest: InterestModel,
    /// The first axis: PARAMETER=v1,v2,… or PARAMETER=from:to:step (e.g. leverage=1:2:0.25).
    #[arg(long, value_parser = engine_arg_axis)]
    pub x: SweepAxis,
    /// The second axis, as --x (e.g. start-year=2000:2020:5).
    #[arg(long, value_parser = engine_arg_axis)]
    pub y: Option<SweepAxis>,
    /// What the summary grid shows and `best` ranks by: cagr, total-return, final-equity,
    /// max-drawdown, sharpe, sortino, calmar, volatility, liquidations, time-in-market,
    /// total-interest.
    #[arg(long, value_parser = engine_arg::<SweepMetric>, default_value = "cagr")]
    pub metric: SweepMetric,
    #[arg(long, value_enum, default_value = "summary")]
    pub format: SweepFormat,
}

fn engine_arg_axis(text: &str) -> Result<SweepAxis, String> {
    sweep::parse_axis(text).map_err(|err| err.message)
}

pub fn run_sweep(market: &MarketData, args: &SweepArgs) -> anyhow::Result<String> {
    let mut options = BacktestOptions {
        interest: args.interest,
        intraday: args.intraday,
        liquidation_policy: args.policy,
        ..BacktestOptions::default()
    };
    if let Some(bps) = args.slippage_bps {
        options.liquidation_slippage_bps = bps;
    }
    let input = SweepInput {
        base: BacktestInput {
            ticker: args.ticker.clone(),
            mode: args.mode,
            start_date: args.start,
            end_date: args.end,
            leverage: args.leverage,
            account_type: args.account,
            initial_investment: args.equity,
            profit_threshold_pct: args.profit_threshold,
            options,
        },
        x: args.x.clone(),
        y: args.y.clone(),
    };
    let result = sweep::run_sweep(market, &input, &mut |_, _| {}, &AtomicBool::new(false))
        .map_err(|err| match err {
            SweepError::Input(e) => input_error(e),
            other => anyhow::anyhow!("{other}"),
        })?;
    Ok(match args.format {
        SweepFormat::Json => serde_json::to_string_pretty(&sweep_json(&result, args.metric))?,
        SweepFormat::Csv => sweep_csv(&result, args.metric),
        SweepFormat::Summary => sweep_summary(&result, args.metric),
    })
}

/// The sweep as GraphQL names it: the normalised input, the counts, every cell and the best
/// cell for `metric`.
pub fn sweep_json(result: &SweepResult, metric: SweepMetric) -> Value {
    json!({
        "input": result.input,
        "cellCount": result.cell_count,
        "completedCells": result.completed_cells,
        "metric": metric,
        "best": result.best(metric, None),
        "cells": result.cells,
        "warnings": result.warnings,
    })
}

fn cell_value(cell: &SweepCell, metric: SweepMetric) -> Option<f64> {
    cell.summary.as_ref().and_then(|s| metric.value(s))
}

fn number(value: Option<f64>) -> String {
    value.map(|v| format!("{v}")).unwrap_or_default()
}

fn sweep_csv(result: &SweepResult, metric: SweepMetric) -> String {
    let mut out = format!(
        "x,y,{},finalEquity,cagr,maxDrawdown,sharpe,liquidations,error\n",
        metric.as_str()
    );
    for cell in &result.cells {
        let s = cell.summary.as_ref();
        let error = cell
            .error
            .as_ref()
            .map(|e| format!("\"{}: {}\"", e.field, e.message.replace('"', "\"\"")))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{},{}",
            cell.x,
            number(cell.y),
            number(cell_value(cell, metric)),
            number(s.map(|s| s.final_equity)),
            number(s.and_then(|s| s.cagr)),
            number(s.and_then(|s| s.max_drawdown)),
            number(s.and_then(|s| s.sharpe)),
            number(s.map(|s| s.liquidations as f64)),
            error
        );
    }
    out
}

/// The grid of `metric`: a row per y value, a column per x value; `err` for an error cell.
fn sweep_summary(result: &SweepResult, metric: SweepMetric) -> String {
    let x = &result.input.x;
    let ys: Vec<Option<f64>> = match &result.input.y {
        Some(y) => y.values.iter().copied().map(Some).collect(),
        None => vec![None],
    };
    let show = |cell: &SweepCell| match (&cell.error, cell_value(cell, metric)) {
        (Some(_), _) => "err".to_string(),
        (None, Some(v)) => format!("{:.2}", v * metric.display_scale()),
        (None, None) => "-".to_string(),
    };
    let y_name = result
        .input
        .y
        .as_ref()
        .map_or(String::new(), |y| y.parameter.cli_name());
    let mut rows = vec![
        std::iter::once(format!("{y_name} \\ {}", x.parameter.cli_name()))
            .chain(x.values.iter().map(|v| format!("{v}")))
            .collect::<Vec<_>>(),
    ];
    for (row, y) in ys.iter().enumerate() {
        let cells = &result.cells[row * x.values.len()..(row + 1) * x.values.len()];
        rows.push(
            std::iter::once(y.map_or(String::new(), |v| format!("{v}")))
                .chain(cells.iter().map(show))
                .collect(),
        );
    }
    let columns = rows.first().map_or(0, Vec::len);
    let widths: Vec<usize> = (0..columns)
        .map(|c| rows.iter().map(|r| r[c].len()).max().unwrap_or(0))
        .collect();
    let mut out = format!(
        "{} ({}) over {} cells\n",
        metric.label(),
        metric.unit(),
        result.cell_count
    );
    for row in rows {
        let line: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(text, width)| format!("{text:>width$}"))
            .collect();
        let _ = writeln!(out, "{}", line.join("  "));
    }
    match result.best(metric, None) {
        Some(best) => {
            let _ = writeln!(
                out,
                "best {}: {} at {} = {}{}",
                metric.label(),
                show(best),
                x.parameter.cli_name(),
                best.x,
                best.y
                    .map_or(String::new(), |y| format!(", {y_name} = {y}"))
            );
        }
        None => out.push_str("best: no cell has the metric\n"),
    }
    for warning in &result.warnings {
        let _ = writeln!(out, "warning: {warning}");
    }
    out
}
