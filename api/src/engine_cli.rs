//! `margin-api backtest` and `margin-api calculate`: the engine without a server, for people
//! and scripts. JSON output uses the GraphQL field names; bad input exits non-zero with the
//! same message the API gives.

use std::{
    path::PathBuf,
    sync::{Arc, atomic::AtomicBool},
};

use anyhow::bail;
use chrono::NaiveDate;
use clap::{Args, ValueEnum};
use engine::{
    AccountType, MarketData, PositionType,
    backtest::{
        BacktestInput, BacktestOptions, BacktestResult, InterestModel, LiquidationPolicy, Mode,
    },
    calculator::{CalcInput, CalcResult},
};
use serde_json::{Value, json};

use crate::export::{CsvChunks, Table, parse_columns};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    Json,
    Summary,
}

/// `margin-api backtest --format`: as [`Format`], or one table as CSV (`--table`), the same
/// file `GET /exports/…` serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BacktestFormat {
    Json,
    Summary,
    Csv,
}

/// The table `--format csv` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CsvTable {
    Daily,
    Rounds,
    Events,
    Monthly,
}

impl From<CsvTable> for Table {
    fn from(table: CsvTable) -> Self {
        match table {
            CsvTable::Daily => Table::Daily,
            CsvTable::Rounds => Table::Rounds,
            CsvTable::Events => Table::Events,
            CsvTable::Monthly => Table::Monthly,
        }
    }
}

/// Parses a flag with the engine's own `FromStr`, so the CLI accepts exactly the spellings
/// the engine does (`reg-t`, `REG_T`, `fresh-capital`, …) and reports the engine's message.
pub(crate) fn engine_arg<T: std::str::FromStr<Err = engine::InputError>>(
    text: &str,
) -> Result<T, String> {
    text.parse::<T>().map_err(|err| err.message)
}

#[derive(Debug, Args)]
pub struct BacktestArgs {
    /// Dataset symbol (SPY, VTI, QQQ or any CSV in the data directory); defaults to the
    /// --data-file's symbol when that is given.
    #[arg(long)]
    pub ticker: Option<String>,
    /// liquidation-reentry, fresh-capital or profit-threshold.
    #[arg(long, value_parser = engine_arg::<Mode>)]
    pub mode: Mode,
    #[arg(long)]
    pub start: NaiveDate,
    #[arg(long)]
    pub end: NaiveDate,
    #[arg(long)]
    pub leverage: f64,
    /// reg-t or portfolio.
    #[arg(long, value_parser = engine_arg::<AccountType>, default_value = "reg-t")]
    pub account: AccountType,
    /// Starting equity (cash); the first position is equity × leverage.
    #[arg(long)]
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
    /// Run on this price CSV (date,open,high,low,close,adj_close,volume) instead of a shipped one.
    #[arg(long)]
    pub data_file: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "summary")]
    pub format: BacktestFormat,
    /// With --format csv: which table.
    #[arg(long, value_enum, default_value = "daily")]
    pub table: CsvTable,
    /// With --format csv --table daily: the columns, comma-separated (default: all), named as
    /// in the CSV header (`equity,loan,cushionPct`) or the GraphQL enum (`CUSHION_PCT`).
    #[arg(long)]
    pub columns: Option<String>,
}

#[derive(Debug, Args)]
pub struct CalculateArgs {
    #[arg(long)]
    pub ticker: String,
    /// Gross position value.
    #[arg(long)]
    pub amount: f64,
    #[arg(long)]
    pub leverage: f64,
    /// Entry price; default: the dataset's last close.
    #[arg(long)]
    pub price: Option<f64>,
    /// reg-t or portfolio.
    #[arg(long, value_parser = engine_arg::<AccountType>, default_value = "reg-t")]
    pub account: AccountType,
    /// long or short.
    #[arg(long, value_parser = engine_arg::<PositionType>, default_value = "long")]
    pub position: PositionType,
    /// Annual margin rate in percent.
    #[arg(long)]
    pub rate: f64,
    /// Holding period in months (1–60).
    #[arg(long)]
    pub months: u32,
    /// Maintenance fraction overriding the account default (e.g. 0.30).
    #[arg(long)]
    pub maintenance: Option<f64>,
    #[arg(long, value_enum, default_value = "summary")]
    pub format: Format,
}

pub(crate) fn input_error(err: engine::InputError) -> anyhow::Error {
    anyhow::anyhow!("{}: {}", err.field, err.message)
}

pub fn run_backtest(mut market: MarketData, args: &BacktestArgs) -> anyhow::Result<String> {
    let columns = match (&args.columns, args.format, args.table) {
        (None, _, _) => None,
        (Some(text), BacktestFormat::Csv, CsvTable::Daily) => {
            Some(parse_columns(text).map_err(|err| anyhow::anyhow!("columns: {}", err.message()))?)
        }
        (Some(_), _, _) => bail!("columns: --columns goes with --format csv --table daily"),
    };
    let file_symbol = match &args.data_file {
        Some(path) => Some(
            market
                .load_price_file(path)
                .map_err(|e| anyhow::anyhow!("{e}"))?,
        ),
        None => None,
    };
    let Some(ticker) = args.ticker.clone().or(file_symbol) else {
        bail!("ticker: give --ticker (or --data-file)");
    };
    let mut options = BacktestOptions {
        interest: args.interest,
        intraday: args.intraday,
        liquidation_policy: args.policy,
        ..BacktestOptions::default()
    };
    if let Some(bps) = args.slippage_bps {
        options.liquidation_slippage_bps = bps;
    }
    let input = BacktestInput {
        ticker,
        mode: args.mode,
        start_date: args.start,
        end_date: args.end,
        leverage: args.leverage,
        account_type: args.account,
        initial_investment: args.equity,
        profit_threshold_pct: args.profit_threshold,
        options,
    };
    let mut result =
        engine::backtest::run_backtest(&market, &input, &mut |_| {}, &AtomicBool::new(false))
            .map_err(|err| match err {
                engine::backtest::BacktestError::Input(e) => input_error(e),
                other => anyhow::anyhow!("{other}"),
            })?;
    Ok(match args.format {
        BacktestFormat::Json => serde_json::to_string_pretty(&backtest_json(&result)?)?,
        BacktestFormat::Summary => backtest_summary(&result),
        BacktestFormat::Csv => {
            // Rounded as the server rounds before it serves, so the file is the export's.
            result.daily.round_as_stored();
            CsvChunks::new(Arc::new(result), args.table.into(), columns).into_string()
        }
    })
}

/// The summary's fields at the top level (as the GraphQL summary names them), plus the
/// rounds table, the events and every metric.
pub fn backtest_json(result: &BacktestResult) -> anyhow::Result<Value> {
    let mut object = serde_json::to_value(&result.summary)?;
    if let Value::Object(map) = &mut object {
        map.insert("roundsTable".into(), serde_json::to_value(&result.rounds)?);
        map.insert("events".into(), serde_json::to_value(&result.events)?);
        map.insert("metrics".into(), serde_json::to_value(&result.metrics)?);
        map.insert(
            "engineMetrics".into(),
            serde_json::to_value(&result.engine_metrics)?,
        );
    }
    Ok(object)
}

fn pct(value: Option<f64>) -> String {
    value.map_or_else(|| "n/a".to_string(), |v| format!("{:.2} %", v * 100.0))
}

fn num(value: Option<f64>) -> String {
    value.map_or_else(|| "n/a".to_string(), |v| format!("{v:.3}"))
}

fn backtest_summary(result: &BacktestResult) -> String {
    let s = &result.summary;
    let rows = [
        ("ticker", s.ticker.clone()),
        ("mode", s.mode.as_str().to_string()),
        ("account", s.account_type.as_str().to_string()),
        ("leverage", format!("{:.2}x", s.leverage)),
        (
            "period",
            format!(
                "{} to {} ({} trading days)",
                s.start_date, s.end_date, s.trading_days
            ),
        ),
        ("initial equity", format!("${:.2}", s.initial_investment)),
        ("final equity", format!("${:.2}", s.final_equity)),
        ("final wealth", format!("${:.2}", s.final_wealth)),
        ("contributed", format!("${:.2}", s.contributed)),
        ("total return", pct(s.total_return)),
        ("headline return", pct(s.headline_return)),
        ("CAGR", pct(s.cagr)),
        ("volatility", pct(s.volatility)),
        ("Sharpe", num(s.sharpe)),
        ("Sortino", num(s.sortino)),
        ("max drawdown", pct(s.max_drawdown)),
        ("Calmar", num(s.calmar)),
        ("rounds", s.rounds.to_string()),
        ("liquidations", s.liquidations.to_string()),
        ("margin calls", s.margin_calls.to_string()),
        ("rebalances", s.rebalances.to_string()),
        ("total interest", format!("${:.2}", s.total_interest)),
        ("total dividends", format!("${:.2}", s.total_dividends)),
    ];
    table(&rows)
}

pub(crate) fn table(rows: &[(&str, String)]) -> String {
    let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    rows.iter()
        .map(|(k, v)| format!("{k:<width$}  {v}\n"))
        .collect()
}

pub fn run_calculate(market: &MarketData, args: &CalculateArgs) -> anyhow::Result<String> {
    let input = CalcInput {
        ticker: args.ticker.clone(),
        investment_amount: args.amount,
        leverage: args.leverage,
        current_price: args.price,
        account_type: args.account,
        position_type: args.position,
        interest_rate: args.rate,
        holding_period_months: args.months,
        maintenance_override: args.maintenance,
        day_count_basis: None,
    };
    let result = engine::calculator::calculate(&input, market).map_err(input_error)?;
    Ok(match args.format {
        Format::Json => serde_json::to_string_pretty(&result)?,
        Format::Summary => calculate_summary(&result),
    })
}

fn calculate_summary(r: &CalcResult) -> String {
    let rows = [
        ("ticker", format!("{} at ${:.2}", r.ticker, r.current_price)),
        (
            "account / position",
            format!(
                "{} {}",
                r.account_type.as_str(),
                json!(r.position_type).as_str().unwrap_or("")
            ),
        ),
        ("position value", format!("${:.2}", r.position_value)),
        ("cash required", format!("${:.2}", r.cash_required)),
        ("margin loan", format!("${:.2}", r.margin_loan)),
        (
            "shares",
            format!("{} ({:.3} fractional)", r.shares, r.shares_fractional),
        ),
        (
            "leverage",
            format!("{:.2}x (max {:.3}x)", r.leverage, r.max_leverage),
        ),
        ("maintenance", format!("{:.2} %", r.maintenance_pct)),
        (
            "margin-call price",
            format!(
                "${:.2} ({:.2} % move)",
                r.margin_call_price, r.move_to_call_pct
            ),
        ),
        ("wipe-out price", format!("${:.2}", r.wipeout_price)),
        ("daily interest", format!("${:.2}", r.daily_interest)),
        (
            "holding interest",
            format!(
                "${:.2} over {} months",
                r.holding_interest, r.holding_period_months
            ),
        ),
        ("breakeven price", format!("${:.2}", r.breakeven_price)),
        (
            "risk level",
            json!(r.risk_level).as_str().unwrap_or("").to_string(),
        ),
    ];
    table(&rows)
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        backtest: BacktestArgs,
    }

    fn parse(extra: &[&str]) -> Result<BacktestArgs, clap::Error> {
        let base = [
            "margin-api",
            "--mode",
            "fresh-capital",
            "--start",
            "2020-01-02",
            "--end",
            "2020-12-31",
            "--leverage",
            "2",
            "--equity",
            "10000",
        ];
        Cli::try_parse_from(base.iter().chain(extra)).map(|cli| cli.backtest)
    }

    #[test]
    fn flags_parse_with_the_engine_spellings_and_defaults() {
        let args = parse(&[]).unwrap();
        assert_eq!(args.mode, Mode::FreshCapital);
        assert_eq!(args.account, AccountType::RegT);
        assert_eq!(args.policy, LiquidationPolicy::Full);
        assert_eq!(args.interest, InterestModel::default());
        let args = parse(&["--account", "PORTFOLIO", "--interest", "fixed:5.5"]).unwrap();
        assert_eq!(args.account, AccountType::Portfolio);
        assert_eq!(args.interest, InterestModel::Fixed { rate_pct: 5.5 });
    }

    #[test]
    fn a_bad_flag_reports_the_engine_message() {
        let err = parse(&["--interest", "libor:1"]).err().unwrap().to_string();
        assert!(err.contains("unknown interest model"), "{err}");
        assert!(parse(&["--interest", "fixed"]).is_err());
        assert!(parse(&["--account", "cash"]).is_err());
    }
}
