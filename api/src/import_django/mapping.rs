//! The Django apps' spellings mapped to ours, and the headline numbers compared.
//!
//! Django stored lowercase choices (`reg_t`, `portfolio`, `fresh_capital`, `completed`, …)
//! and the calculator's position types as `Long`/`Short`; any other text is refused with a
//! reason (the row is skipped), never guessed at.

use engine::{backtest::Summary, calculator::CalcResult};
use entity::stored_enums::{AccountType, BacktestMode, PositionType, Role, SessionStatus};
use serde_json::Value;

pub use crate::services::legacy_imports::MetricDifference;

fn key(text: &str) -> String {
    text.trim().to_ascii_lowercase()
}

pub fn role(text: &str) -> Result<Role, String> {
    match key(text).as_str() {
        "viewer" => Ok(Role::Viewer),
        "analyst" => Ok(Role::Analyst),
        "manager" => Ok(Role::Manager),
        "admin" => Ok(Role::Admin),
        _ => Err(format!("unknown role {text:?}")),
    }
}

pub fn mode(text: &str) -> Result<BacktestMode, String> {
    match key(text).as_str() {
        "liquidation_reentry" => Ok(BacktestMode::LiquidationReentry),
        "fresh_capital" => Ok(BacktestMode::FreshCapital),
        "profit_threshold" => Ok(BacktestMode::ProfitThreshold),
        _ => Err(format!("unknown backtest mode {text:?}")),
    }
}

pub fn account_type(text: &str) -> Result<AccountType, String> {
    match key(text).as_str() {
        "reg_t" => Ok(AccountType::RegT),
        "portfolio" => Ok(AccountType::Portfolio),
        _ => Err(format!("unknown account type {text:?}")),
    }
}

pub fn position_type(text: &str) -> Result<PositionType, String> {
    match key(text).as_str() {
        "long" => Ok(PositionType::Long),
        "short" => Ok(PositionType::Short),
        _ => Err(format!("unknown position type {text:?}")),
    }
}

pub fn session_status(text: &str) -> Result<SessionStatus, String> {
    match key(text).as_str() {
        "pending" => Ok(SessionStatus::Pending),
        "running" => Ok(SessionStatus::Running),
        "completed" => Ok(SessionStatus::Completed),
        "error" => Ok(SessionStatus::Error),
        "cancelled" => Ok(SessionStatus::Cancelled),
        _ => Err(format!("unknown session status {text:?}")),
    }
}

fn difference(
    metric: &str,
    label: &str,
    legacy: Option<f64>,
    server: Option<f64>,
) -> MetricDifference {
    let server = server.filter(|v| v.is_finite());
    MetricDifference {
        metric: metric.to_string(),
        label: label.to_string(),
        legacy,
        server,
        difference: legacy.zip(server).map(|(l, s)| s - l),
    }
}

fn number(value: Option<&Value>) -> Option<f64> {
    match value? {
        Value::Number(n) => n.as_f64().filter(|v| v.is_finite()),
        Value::String(s) => s.trim().trim_end_matches('%').trim().parse().ok(),
        _ => None,
    }
}

/// The saved results' headline metrics: (our name, the old `metrics` key, the old
/// `dashboard` key, the server's value in the old unit). Returns are percent in the old app
/// and fractions here; "Total Return" is the return the old app headlined, on capital
/// deployed for FRESH_CAPITAL, which is our `headlineReturn`.
type SummaryMetric = (
    &'static str,
    &'static str,
    Option<&'static str>,
    fn(&Summary) -> Option<f64>,
);

const SAVED_METRICS: [SummaryMetric; 12] = [
    (
        "totalReturnPct",
        "Total Return",
        Some("total_return"),
        |s| s.headline_return.map(|v| v * 100.0),
    ),
    ("cagrPct", "CAGR", Some("cagr"), |s| {
        s.cagr.map(|v| v * 100.0)
    }),
    ("finalEquity", "Final Equity", Some("final_equity"), |s| {
        Some(s.final_equity)
    }),
    (
        "maxDrawdownPct",
        "Max Drawdown",
        Some("max_drawdown"),
        |s| s.max_drawdown.map(|v| v * 100.0),
    ),
    ("volatilityPct", "Volatility", None, |s| {
        s.volatility.map(|v| v * 100.0)
    }),
    ("sharpe", "Sharpe Ratio", None, |s| s.sharpe),
    ("sortino", "Sortino Ratio", None, |s| s.sortino),
    ("calmar", "Calmar Ratio", None, |s| s.calmar),
    (
        "liquidations",
        "Liquidation Events",
        Some("liquidation_events"),
        |s| Some(f64::from(s.liquidations)),
    ),
    ("rounds", "Total Rounds", None, |s| {
        Some(f64::from(s.rounds))
    }),
    ("totalInterest", "Total Interest Paid", None, |s| {
        Some(s.total_interest)
    }),
    ("tradingDays", "Trading Days", Some("trading_days"), |s| {
        Some(s.trading_days as f64)
    }),
];

/// The old numbers of a saved result's payload (`metrics`, else `dashboard`) beside the
/// server's (None for a result that could not be re-run).
pub fn saved_differences(legacy: &Value, server: Option<&Summary>) -> Vec<MetricDifference> {
    SAVED_METRICS
        .iter()
        .map(|(metric, label, dashboard, value)| {
            let old = number(legacy.get("metrics").and_then(|m| m.get(*label))).or_else(|| {
                dashboard.and_then(|key| number(legacy.get("dashboard").and_then(|d| d.get(key))))
            });
            difference(metric, label, old, server.and_then(value))
        })
        .collect()
}

type CalcMetric = (&'static str, &'static str, fn(&CalcResult) -> Option<f64>);

/// The calculator's headline figures: (our name, the old `results` key, the server's value).
const CALC_METRICS: [CalcMetric; 15] = [
    ("cashRequired", "cash_required", |r| Some(r.cash_required)),
    ("marginLoan", "margin_loan", |r| Some(r.margin_loan)),
    ("shares", "shares", |r| Some(r.shares)),
    ("marginCallPrice", "margin_call_price", |r| {
        Some(r.margin_call_price)
    }),
    ("moveToCallPct", "price_move_to_margin_call_percent", |r| {
        Some(r.move_to_call_pct)
    }),
    ("wipeoutPrice", "wipeout_price", |r| Some(r.wipeout_price)),
    ("cushionAmount", "cushion", |r| Some(r.cushion_amount)),
    ("maxLeverage", "max_leverage", |r| Some(r.max_leverage)),
    ("buyingPower", "buying_power", |r| Some(r.buying_power)),
    ("dailyInterest", "daily_interest", |r| {
        Some(r.daily_interest)
    }),
    ("monthlyInterest", "monthly_interest", |r| {
        Some(r.monthly_interest)
    }),
    ("annualInterest", "annual_interest", |r| {
        Some(r.annual_interest)
    }),
    ("holdingInterest", "total_interest_cost", |r| {
        Some(r.holding_interest)
    }),
    ("breakevenPrice", "breakeven_price", |r| {
        Some(r.breakeven_price)
    }),
    ("daysToCallOnInterest", "days_to_call_on_interest", |r| {
        r.days_to_call_on_interest
    }),
];

/// The old calculator figures beside the server's.
pub fn calculation_differences(legacy: &Value, server: &CalcResult) -> Vec<MetricDifference> {
    CALC_METRICS
        .iter()
        .map(|(metric, label, value)| {
            difference(metric, label, number(legacy.get(*label)), value(server))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn django_spellings_map_and_others_are_refused() {
        assert_eq!(account_type("reg_t"), Ok(AccountType::RegT));
        assert_eq!(account_type(" PORTFOLIO "), Ok(AccountType::Portfolio));
        assert_eq!(position_type("Long"), Ok(PositionType::Long));
        assert_eq!(position_type("short"), Ok(PositionType::Short));
        assert_eq!(mode("fresh_capital"), Ok(BacktestMode::FreshCapital));
        assert_eq!(session_status("cancelled"), Ok(SessionStatus::Cancelled));
        assert_eq!(role("admin"), Ok(Role::Admin));
        for refused in [
            account_type("margin").err(),
            position_type("flat").err(),
            mode("buy_and_hold").err(),
            session_status("exploded").err(),
            role("root").err(),
        ] {
            assert!(refused.is_some_and(|r| r.starts_with("unknown ")));
        }
    }

    #[test]
    fn differences_are_server_minus_legacy_in_the_legacy_units() {
        let legacy = serde_json::json!({
            "metrics": {"CAGR": 10.0, "Total Return": "311.44 %"},
            "dashboard": {"final_equity": 411444.86}
        });
        let rows = saved_differences(&legacy, None);
        assert_eq!(rows.len(), SAVED_METRICS.len());
        let cagr = rows.iter().find(|r| r.metric == "cagrPct").unwrap();
        assert_eq!(
            (cagr.legacy, cagr.server, cagr.difference),
            (Some(10.0), None, None)
        );
        let total = rows.iter().find(|r| r.metric == "totalReturnPct").unwrap();
        assert_eq!(total.legacy, Some(311.44));
        let equity = rows.iter().find(|r| r.label == "Final Equity").unwrap();
        assert_eq!(equity.legacy, Some(411444.86), "from the dashboard");
        let d = difference("x", "x", Some(2.0), Some(2.5));
        assert_eq!(d.difference, Some(0.5));
        assert_eq!(difference("x", "x", Some(1.0), Some(f64::NAN)).server, None);
    }
}
