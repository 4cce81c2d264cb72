//! `margin-api odds` and `margin-api forward-risk`: the risk lab (issue #15) without a server.
//!
//! The flags are spelled like `backtest`'s and parsed with the engine's own `FromStr`
//! (`--account reg-t`, `--interest fixed:5`, `--method iid`). `--format json` prints one
//! object keyed by the GraphQL field names: the normalised input's fields (`ticker`,
//! `leverage`, `horizonDays`, `entryFrom`, …) and the answer's (`windows`, `probability`,
//! `independent`, …) side by side, `figures` only with `--figures`. Bad input exits non-zero
//! with the API's `field: message`.

use std::{path::PathBuf, sync::atomic::AtomicBool};

use anyhow::bail;
use chrono::NaiveDate;
use clap::Args;
use engine::{
    AccountType, MarketData, PositionType,
    account::Profile,
    backtest::{BacktestOptions, InterestModel},
    risk::{
        CallDays, DEFAULT_HORIZON_DAYS, DEFAULT_INITIAL_INVESTMENT, DEFAULT_MEAN_BLOCK_DAYS,
        DEFAULT_PATHS, ForwardRisk, ForwardRiskInput, Interval, MarginCallOdds, Method, OddsInput,
        Percentiles, RiskError, YearOdds,
    },
};
use serde_json::{Map, Value};

use crate::engine_cli::{Format, engine_arg, input_error, table};

/// The largest seed `forwardRisk` accepts over GraphQL (an `Int`), so a seed the CLI prints
/// can be replayed there too.
pub const MAX_SEED: u64 = i32::MAX as u64;

/// How many entry years `odds --format summary` lists (those with the highest probability).
const WORST_YEARS: usize = 5;

/// The position and the options both analyses share.
#[derive(Debug, Args)]
pub struct PositionArgs {
    /// Dataset symbol (SPY, VTI, QQQ or any CSV in the data directory); defaults to the
    /// --data-file's symbol when that is given.
    #[arg(long)]
    pub ticker: Option<String>,
    /// Position value / equity at entry, 1 to the account's maximum (2 for reg-t).
    #[arg(long)]
    pub leverage: f64,
    /// reg-t or portfolio.
    #[arg(long, value_parser = engine_arg::<AccountType>, default_value = "reg-t")]
    pub account: AccountType,
    /// Trading days each window or path runs (5–2520).
    #[arg(long, default_value_t = DEFAULT_HORIZON_DAYS)]
    pub horizon_days: u32,
    /// Starting equity (cash) of every window or path; only the money figures scale with it.
    #[arg(long, default_value_t = DEFAULT_INITIAL_INVESTMENT)]
    pub equity: f64,
    /// Detect calls on the day's low (and fill at min(open, call price)).
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
    pub format: Format,
    /// With --format json: include the Plotly figures (large).
    #[arg(long)]
    pub figures: bool,
}

#[derive(Debug, Args)]
pub struct OddsArgs {
    #[command(flatten)]
    pub position: PositionArgs,
    /// First entry date (default: the dataset's first day).
    #[arg(long)]
    pub entry_from: Option<NaiveDate>,
    /// Last entry date (default: the last one with a full window).
    #[arg(long)]
    pub entry_to: Option<NaiveDate>,
    /// Also find the largest leverage whose probability is at most this (a fraction, 0.05 =
    /// 5 %); printed as `maxLeverage`.
    #[arg(long)]
    pub target_probability: Option<f64>,
}

#[derive(Debug, Args)]
pub struct ForwardRiskArgs {
    #[command(flatten)]
    pub position: PositionArgs,
    /// Paths simulated (100–100,000).
    #[arg(long, default_value_t = DEFAULT_PATHS)]
    pub paths: u32,
    /// stationary-bootstrap, iid-bootstrap (iid) or gbm.
    #[arg(long, value_parser = engine_arg::<Method>, default_value = "stationary-bootstrap")]
    pub method: Method,
    /// stationary-bootstrap: mean block length in trading days (1–2520).
    #[arg(long, default_value_t = DEFAULT_MEAN_BLOCK_DAYS)]
    pub mean_block_days: f64,
    /// First day of the history resampled (default: the dataset's first day).
    #[arg(long)]
    pub sample_from: Option<NaiveDate>,
    /// Last day of the history resampled (default: the dataset's last day).
    #[arg(long)]
    pub sample_to: Option<NaiveDate>,
    /// Seed of the random streams, 0–2147483647 (as over GraphQL); the same flags and seed
    /// print the same answer. Default: one drawn at random, printed on standard error and in
    /// the output.
    #[arg(long, value_parser = clap::value_parser!(u64).range(0..=MAX_SEED))]
    pub seed: Option<u64>,
}

/// The market data with `--data-file` loaded, and the ticker to run.
fn market_and_ticker(
    mut market: MarketData,
    position: &PositionArgs,
) -> anyhow::Result<(MarketData, String)> {
    let file_symbol = match &position.data_file {
        Some(path) => Some(
            market
                .load_price_file(path)
                .map_err(|e| anyhow::anyhow!("{e}"))?,
        ),
        None => None,
    };
    let Some(ticker) = position.ticker.clone().or(file_symbol) else {
        bail!("ticker: give --ticker (or --data-file)");
    };
    Ok((market, ticker))
}

fn options(position: &PositionArgs) -> BacktestOptions {
    let mut options = BacktestOptions {
        interest: position.interest,
        intraday: position.intraday,
        ..BacktestOptions::default()
    };
    if let Some(bps) = position.slippage_bps {
        options.liquidation_slippage_bps = bps;
    }
    options
}

fn risk_error(err: RiskError) -> anyhow::Error {
    match err {
        RiskError::Input(e) => input_error(e),
        other => anyhow::anyhow!("{other}"),
    }
}

/// The engine's input for `odds`.
pub fn odds_input(position: &PositionArgs, args: &OddsArgs, ticker: String) -> OddsInput {
    OddsInput {
        ticker,
        leverage: position.leverage,
        account_type: position.account,
        horizon_days: position.horizon_days,
        entry_from: args.entry_from,
        entry_to: args.entry_to,
        initial_investment: position.equity,
        options: options(position),
    }
}

/// `margin-api odds`: the answer as JSON or a summary table.
pub fn run_odds(market: MarketData, args: &OddsArgs) -> anyhow::Result<String> {
    let (market, ticker) = market_and_ticker(market, &args.position)?;
    let input = odds_input(&args.position, args, ticker);
    let cancel = AtomicBool::new(false);
    let odds = engine::risk::margin_call_odds(&market, &input, &cancel).map_err(risk_error)?;
    let max_leverage = match args.target_probability {
        Some(target) => Some((
            target,
            engine::risk::max_leverage(&market, &input, target, &cancel).map_err(risk_error)?,
        )),
        None => None,
    };
    Ok(match args.position.format {
        Format::Json => {
            let mut object = flat_json(&odds, args.position.figures)?;
            if let (Some((target, max)), Value::Object(map)) = (max_leverage, &mut object) {
                map.insert("targetProbability".into(), target.into());
                map.insert("maxLeverage".into(), max.map_or(Value::Null, Value::from));
            }
            serde_json::to_string_pretty(&object)?
        }
        Format::Summary => odds_summary(&odds, max_leverage),
    })
}

/// The engine's input for `forward-risk`, with the seed to use.
pub fn forward_input(
    position: &PositionArgs,
    args: &ForwardRiskArgs,
    ticker: String,
    seed: u64,
) -> ForwardRiskInput {
    ForwardRiskInput {
        ticker,
        leverage: position.leverage,
        account_type: position.account,
        horizon_days: position.horizon_days,
        paths: args.paths,
        method: args.method,
        mean_block_days: args.mean_block_days,
        sample_from: args.sample_from,
        sample_to: args.sample_to,
        seed,
        initial_investment: position.equity,
        options: options(position),
    }
}

/// A seed in the range GraphQL accepts, for a run without `--seed`.
pub fn draw_seed() -> u64 {
    rand::random::<u64>() % (MAX_SEED + 1)
}

/// `margin-api forward-risk`: the answer as JSON or a summary table. Without `--seed` one is
/// drawn and named on standard error, so the run can be repeated.
pub fn run_forward_risk(market: MarketData, args: &ForwardRiskArgs) -> anyhow::Result<String> {
    let (market, ticker) = market_and_ticker(market, &args.position)?;
    let seed = args.seed.unwrap_or_else(draw_seed);
    let input = forward_input(&args.position, args, ticker, seed);
    let forward =
        engine::risk::forward_risk(&market, &input, &AtomicBool::new(false)).map_err(risk_error)?;
    if args.seed.is_none() {
        eprintln!("seed {seed} (drawn at random; pass --seed {seed} to repeat this run)");
    }
    Ok(match args.position.format {
        Format::Json => serde_json::to_string_pretty(&flat_json(&forward, args.position.figures)?)?,
        Format::Summary => forward_summary(&forward),
    })
}

/// The normalised input's fields and the answer's at one level (the answer's win where both
/// have one, e.g. `paths` and `seed`, which are equal), `figures` only when asked for.
fn flat_json(result: &impl serde::Serialize, figures: bool) -> anyhow::Result<Value> {
    let Value::Object(mut answer) = serde_json::to_value(result)? else {
        bail!("a risk answer serialises to an object");
    };
    let mut object = match answer.remove("input") {
        Some(Value::Object(input)) => input,
        _ => Map::new(),
    };
    if !figures {
        answer.remove("figures");
    }
    object.extend(answer);
    Ok(Value::Object(object))
}

fn percent(fraction: f64) -> String {
    format!("{:.2} %", fraction * 100.0)
}

fn interval(i: &Interval) -> String {
    format!("95 % interval {} to {}", percent(i.low), percent(i.high))
}

fn call_days(days: Option<&CallDays>) -> String {
    days.map_or_else(
        || "no call".to_string(),
        |d| format!("p10 {}, p50 {}, p90 {} trading days", d.p10, d.p50, d.p90),
    )
}

fn percentiles(p: &Percentiles, show: impl Fn(f64) -> String) -> String {
    format!(
        "p5 {}, p25 {}, p50 {}, p75 {}, p95 {}",
        show(p.p5),
        show(p.p25),
        show(p.p50),
        show(p.p75),
        show(p.p95)
    )
}

fn date(d: Option<NaiveDate>) -> String {
    d.map_or_else(|| "?".to_string(), |d| d.to_string())
}

fn odds_summary(r: &MarginCallOdds, max_leverage: Option<(f64, Option<f64>)>) -> String {
    let i = &r.input;
    let mut rows = vec![
        ("ticker", i.ticker.clone()),
        (
            "account",
            format!(
                "{} (maintenance {})",
                i.account_type.as_str(),
                percent(r.maintenance)
            ),
        ),
        ("leverage", format!("{:.2}x", i.leverage)),
        ("horizon", format!("{} trading days", i.horizon_days)),
        (
            "entry dates",
            format!("{} to {}", date(i.entry_from), date(i.entry_to)),
        ),
        ("windows", r.windows.to_string()),
        (
            "probability",
            format!(
                "{} ({} of {} windows with a call)",
                percent(r.probability),
                r.windows_with_call,
                r.windows
            ),
        ),
        (
            "independent windows",
            format!(
                "{} ({} of {}, {} apart), {}",
                percent(r.independent.probability),
                r.independent.with_call,
                r.independent.windows,
                i.horizon_days,
                interval(&r.independent.interval)
            ),
        ),
        (
            "days to first call",
            call_days(r.days_to_first_call.as_ref()),
        ),
        (
            "terminal return",
            r.terminal_return.as_ref().map_or_else(
                || "every window has a call".to_string(),
                |p| format!("{} (windows without a call)", percentiles(p, percent)),
            ),
        ),
    ];
    if let Some((target, max)) = max_leverage {
        rows.push((
            "max leverage",
            match max {
                Some(l) => {
                    let account_max = Profile::new(
                        i.account_type,
                        PositionType::Long,
                        i.options.maintenance_override,
                    )
                    .max_leverage();
                    let note = if l >= account_max {
                        format!(" (the {} maximum)", i.account_type.as_str())
                    } else {
                        String::new()
                    };
                    format!(
                        "{l:.2}x{note} for a probability at most {}",
                        percent(target)
                    )
                }
                None => format!("none: even 1.00x exceeds {}", percent(target)),
            },
        ));
    }
    let mut out = table(&rows);
    if !r.earliest_calls.is_empty() {
        out.push_str("\nearliest calls (entry, call, trading days)\n");
        for c in &r.earliest_calls {
            out.push_str(&format!(
                "  {}  {}  {:>4}\n",
                c.entry_date, c.call_date, c.trading_days
            ));
        }
    }
    let worst = worst_years(&r.by_entry_year);
    if !worst.is_empty() {
        out.push_str(&format!(
            "\nentry years with the most calls (worst {}, of {})\n",
            worst.len(),
            r.by_entry_year.len()
        ));
        for y in worst {
            out.push_str(&format!(
                "  {}  {:>8}  ({} of {} windows)\n",
                y.year,
                percent(y.probability),
                y.with_call,
                y.windows
            ));
        }
    }
    out.trim_end().to_string()
}

/// The years with a call, highest probability first (then more calls, then the earlier year).
fn worst_years(years: &[YearOdds]) -> Vec<&YearOdds> {
    let mut worst: Vec<&YearOdds> = years.iter().filter(|y| y.with_call > 0).collect();
    worst.sort_by(|a, b| {
        b.probability
            .total_cmp(&a.probability)
            .then(b.with_call.cmp(&a.with_call))
            .then(a.year.cmp(&b.year))
    });
    worst.truncate(WORST_YEARS);
    worst
}

fn method_name(method: Method) -> String {
    serde_json::to_value(method)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn forward_summary(r: &ForwardRisk) -> String {
    let i = &r.input;
    let dollars = |v: f64| format!("${v:.0}");
    let method = match i.method {
        Method::StationaryBootstrap => format!(
            "{} (mean block {} days)",
            method_name(i.method),
            i.mean_block_days
        ),
        other => method_name(other),
    };
    let mut rows = vec![
        ("ticker", i.ticker.clone()),
        (
            "account",
            format!(
                "{} (maintenance {})",
                i.account_type.as_str(),
                percent(r.maintenance)
            ),
        ),
        ("leverage", format!("{:.2}x", i.leverage)),
        ("horizon", format!("{} trading days", i.horizon_days)),
        ("method", method),
        (
            "sample",
            format!(
                "{} to {} ({} daily returns)",
                date(i.sample_from),
                date(i.sample_to),
                r.sample_days
            ),
        ),
        ("paths", r.paths.to_string()),
        ("seed", r.seed.to_string()),
        (
            "probability",
            format!(
                "{} ({} of {} paths with a call), {}",
                percent(r.probability),
                r.paths_with_call,
                r.paths,
                interval(&r.interval)
            ),
        ),
    ];
    if i.method == Method::Gbm {
        rows.push((
            "analytic probability",
            r.analytic_probability.map_or_else(
                || "n/a (exact only with zero interest: --interest fixed:0)".to_string(),
                percent,
            ),
        ));
    }
    rows.extend([
        (
            "days to first call",
            call_days(r.days_to_first_call.as_ref()),
        ),
        (
            "terminal equity",
            format!(
                "{} (from {})",
                percentiles(&r.terminal_equity, dollars),
                dollars(i.initial_investment)
            ),
        ),
        (
            "expected shortfall 5 %",
            format!(
                "{} (mean terminal equity of the worst 5 % of paths)",
                dollars(r.expected_shortfall5)
            ),
        ),
    ]);
    table(&rows).trim_end().to_string()
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct OddsCli {
        #[command(flatten)]
        odds: OddsArgs,
    }

    #[derive(Parser)]
    struct ForwardCli {
        #[command(flatten)]
        forward: ForwardRiskArgs,
    }

    fn odds(extra: &[&str]) -> Result<OddsArgs, clap::Error> {
        let base = ["margin-api", "--ticker", "SPY", "--leverage", "2"];
        OddsCli::try_parse_from(base.iter().chain(extra)).map(|cli| cli.odds)
    }

    fn forward(extra: &[&str]) -> Result<ForwardRiskArgs, clap::Error> {
        let base = ["margin-api", "--ticker", "SPY", "--leverage", "2"];
        ForwardCli::try_parse_from(base.iter().chain(extra)).map(|cli| cli.forward)
    }

    #[test]
    fn flags_default_like_the_api() {
        let args = odds(&[]).unwrap();
        assert_eq!(args.position.account, AccountType::RegT);
        assert_eq!(args.position.horizon_days, 252);
        assert_eq!(args.position.equity, DEFAULT_INITIAL_INVESTMENT);
        assert_eq!(args.position.interest, InterestModel::default());
        assert!(args.target_probability.is_none());
        let args = forward(&[]).unwrap();
        assert_eq!(args.paths, 10_000);
        assert_eq!(args.method, Method::StationaryBootstrap);
        assert_eq!(args.mean_block_days, 20.0);
        assert_eq!(args.seed, None);
    }

    #[test]
    fn flags_take_the_engine_spellings() {
        let args = forward(&[
            "--account",
            "PORTFOLIO",
            "--method",
            "iid",
            "--interest",
            "fixed:0",
            "--seed",
            "7",
        ])
        .unwrap();
        assert_eq!(args.position.account, AccountType::Portfolio);
        assert_eq!(args.method, Method::IidBootstrap);
        assert_eq!(
            args.position.interest,
            InterestModel::Fixed { rate_pct: 0.0 }
        );
        assert_eq!(args.seed, Some(7));
        let err = forward(&["--method", "garch"]).err().unwrap().to_string();
        assert!(err.contains("unknown method"), "{err}");
        // A seed GraphQL could not replay is refused.
        assert!(forward(&["--seed", "2147483648"]).is_err());
        assert!(forward(&["--seed", "-1"]).is_err());
    }

    #[test]
    fn a_drawn_seed_can_be_replayed_over_graphql() {
        for _ in 0..1000 {
            assert!(draw_seed() <= MAX_SEED);
        }
    }

    #[test]
    fn json_puts_the_input_beside_the_answer_and_leaves_figures_out() {
        #[derive(serde::Serialize)]
        struct Answer {
            input: Value,
            windows: u32,
            figures: Value,
        }
        let answer = Answer {
            input: serde_json::json!({"ticker": "SPY", "horizonDays": 252}),
            windows: 3,
            figures: serde_json::json!({"big": [1, 2, 3]}),
        };
        let flat = flat_json(&answer, false).unwrap();
        assert_eq!(
            flat,
            serde_json::json!({"ticker": "SPY", "horizonDays": 252, "windows": 3})
        );
        let flat = flat_json(&answer, true).unwrap();
        assert!(flat.get("figures").is_some());
        assert!(flat.get("input").is_none());
    }

    #[test]
    fn the_worst_years_are_the_most_called() {
        let year = |year, windows, with_call| YearOdds {
            year,
            windows,
            with_call,
            probability: f64::from(with_call) / f64::from(windows),
        };
        let years = [
            year(2000, 10, 5),
            year(2001, 10, 0),
            year(2002, 10, 9),
            year(2003, 20, 10),
            year(2004, 10, 1),
            year(2005, 10, 2),
            year(2006, 10, 3),
        ];
        let worst: Vec<i32> = worst_years(&years).iter().map(|y| y.year).collect();
        assert_eq!(worst, [2002, 2003, 2000, 2006, 2005]);
    }
}
