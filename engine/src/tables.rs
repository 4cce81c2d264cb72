//! Monthly-return and yearly tables built from the daily rows.

use chrono::Datelike;
use serde::{Deserialize, Serialize};

use crate::backtest::types::{Daily, Status};
use crate::metrics::drawdown_series;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MonthlyRow {
    pub year: i32,
    /// January..December compounded returns (fractions); `None` outside the run.
    pub months: [Option<f64>; 12],
    pub year_return: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct YearRow {
    pub year: i32,
    pub trading_days: u32,
    pub days_in_market: u32,
    /// Time-weighted return of the year (fraction).
    pub year_return: f64,
    pub start_wealth: f64,
    pub end_wealth: f64,
    pub end_equity: f64,
    /// Deepest drawdown within the year, measured from the year's own running peak.
    pub max_drawdown: f64,
    pub liquidations: u32,
    pub margin_calls: u32,
    pub rebalances: u32,
    pub entries: u32,
    pub interest: f64,
    pub dividends: f64,
    pub transaction_costs: f64,
}

pub fn monthly(daily: &Daily) -> Vec<MonthlyRow> {
    let mut out: Vec<MonthlyRow> = Vec::new();
    for i in 0..daily.len() {
        let d = daily.date[i];
        let r = daily.daily_return[i];
        if out.last().is_none_or(|row| row.year != d.year()) {
            out.push(MonthlyRow {
                year: d.year(),
                months: [None; 12],
                year_return: 0.0,
            });
        }
        if let Some(row) = out.last_mut() {
            let slot = &mut row.months[d.month0() as usize];
            *slot = Some((1.0 + slot.unwrap_or(0.0)) * (1.0 + r) - 1.0);
            row.year_return = (1.0 + row.year_return) * (1.0 + r) - 1.0;
        }
    }
    out
}

pub fn yearly(daily: &Daily) -> Vec<YearRow> {
    let mut out: Vec<YearRow> = Vec::new();
    let mut i = 0;
    while i < daily.len() {
        let year = daily.date[i].year();
        let start = i;
        while i < daily.len() && daily.date[i].year() == year {
            i += 1;
        }
        let range = start..i;
        let rets = &daily.daily_return[range.clone()];
        let growth: f64 = rets.iter().map(|r| 1.0 + r).product();
        let count = |s: Status| {
            daily.status[range.clone()]
                .iter()
                .filter(|x| **x == s)
                .count() as u32
        };
        let start_wealth = if start == 0 {
            daily.wealth[0]
        } else {
            daily.wealth[start - 1]
        };
        out.push(YearRow {
            year,
            trading_days: (i - start) as u32,
            days_in_market: daily.in_position[range.clone()]
                .iter()
                .filter(|x| **x)
                .count() as u32,
            year_return: growth - 1.0,
            start_wealth,
            end_wealth: daily.wealth[i - 1],
            end_equity: daily.equity[i - 1],
            max_drawdown: drawdown_series(rets).into_iter().fold(0.0, f64::min),
            liquidations: count(Status::Liquidated),
            margin_calls: count(Status::MarginCallRestored),
            rebalances: count(Status::Rebalanced),
            entries: count(Status::Entered),
            interest: daily.daily_interest[range.clone()].iter().sum(),
            dividends: daily.dividend[range.clone()].iter().sum(),
            transaction_costs: daily.transaction_cost[range].iter().sum(),
        });
    }
    out
}
