//! Shared by the fuzz targets: the real market data (loaded once) and checks that every
//! number leaving the engine is finite.

use std::path::Path;
use std::sync::OnceLock;

use engine::MarketData;
use engine::backtest::{BacktestResult, Daily};
use serde_value::Value;

/// The shipped datasets, loaded once per process.
pub fn market() -> &'static MarketData {
    static MARKET: OnceLock<MarketData> = OnceLock::new();
    MARKET.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../data");
        MarketData::load_dir(&dir).expect("the shipped data load")
    })
}

/// Panics (a fuzz finding) when any float in `value`'s serialised form is NaN or infinite.
pub fn assert_finite<T: serde::Serialize>(label: &str, value: &T) {
    let value = serde_value::to_value(value).expect("engine types serialise");
    walk(label, &value);
}

fn walk(path: &str, value: &Value) {
    match value {
        Value::F64(v) => assert!(v.is_finite(), "{path} is {v}"),
        Value::F32(v) => assert!(v.is_finite(), "{path} is {v}"),
        Value::Option(Some(inner)) | Value::Newtype(inner) => walk(path, inner),
        Value::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                walk(&format!("{path}[{i}]"), item);
            }
        }
        Value::Map(entries) => {
            for (key, item) in entries {
                let key = match key {
                    Value::String(s) => s.clone(),
                    other => format!("{other:?}"),
                };
                walk(&format!("{path}.{key}"), item);
            }
        }
        _ => {}
    }
}

fn finite_column(name: &str, column: &[f64]) {
    if let Some(i) = column.iter().position(|v| !v.is_finite()) {
        panic!("daily.{name}[{i}] is {}", column[i]);
    }
}

fn finite_optional_column(name: &str, column: &[Option<f64>]) {
    if let Some(i) = column
        .iter()
        .position(|v| v.is_some_and(|v| !v.is_finite()))
    {
        panic!("daily.{name}[{i}] is {:?}", column[i]);
    }
}

/// Every daily column, checked in place (serialising 8,000 rows per run would dominate).
pub fn assert_daily_finite(daily: &Daily) {
    let n = daily.len();
    for (name, column) in [
        ("price", &daily.price),
        ("fedFundsRate", &daily.fed_funds_rate),
        ("marginRate", &daily.margin_rate),
        ("shares", &daily.shares),
        ("positionValue", &daily.position_value),
        ("loan", &daily.loan),
        ("equity", &daily.equity),
        ("wealth", &daily.wealth),
        ("contributed", &daily.contributed),
        ("flow", &daily.flow),
        ("maintenanceRequired", &daily.maintenance_required),
        ("dailyInterest", &daily.daily_interest),
        ("cumulativeInterest", &daily.cumulative_interest),
        ("dividend", &daily.dividend),
        ("cumulativeDividends", &daily.cumulative_dividends),
        ("transactionCost", &daily.transaction_cost),
        ("dailyReturn", &daily.daily_return),
        ("drawdown", &daily.drawdown),
    ] {
        assert_eq!(
            column.len(),
            n,
            "daily.{name} has {} rows, not {n}",
            column.len()
        );
        finite_column(name, column);
    }
    for (name, column) in [
        ("cushion", &daily.cushion),
        ("cushionPct", &daily.cushion_pct),
        ("marginCallPrice", &daily.margin_call_price),
        ("leverage", &daily.leverage),
    ] {
        assert_eq!(
            column.len(),
            n,
            "daily.{name} has {} rows, not {n}",
            column.len()
        );
        finite_optional_column(name, column);
    }
}

/// A completed backtest: every table and metric finite, and the figures build.
pub fn assert_backtest_finite(result: &BacktestResult) {
    assert_finite("summary", &result.summary);
    assert_finite("metrics", &result.metrics);
    assert_finite("engineMetrics", &result.engine_metrics);
    assert_finite("rounds", &result.rounds);
    assert_finite("events", &result.events);
    assert_finite("cushion", &result.cushion);
    assert_finite("monthlyReturns", &result.monthly_returns);
    assert_finite("yearly", &result.yearly);
    assert_daily_finite(&result.daily);
}
