//! Monthly-return and yearly tables built from the daily rows.

use chrono::Datelike;
use serde::{Deserialize, Serialize};

use crate::backtest::types::{Daily, Status};
use crate::calendar::MonthCursor;

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
    let mut cal = MonthCursor::new();
    let n = daily.date.len().min(daily.daily_return.len());
    let (dates, rets) = (&daily.date[..n], &daily.daily_return[..n]);
    let mut i = 0;
    while i < n {
        cal.advance(dates[i]);
        let (year, month0) = (cal.year(), cal.month0());
        if out.last().is_none_or(|row| row.year != year) {
            out.push(MonthlyRow {
                year,
                months: [None; 12],
                year_return: 0.0,
            });
        }
        let Some(row) = out.last_mut() else { break };
        // Compound the month's rows in locals and store once (same operations per row).
        let slot = &mut row.months[month0 as usize];
        let (mut month, mut year_return) = (slot.unwrap_or(0.0), row.year_return);
        loop {
            let r = rets[i];
            month = (1.0 + month) * (1.0 + r) - 1.0;
            year_return = (1.0 + year_return) * (1.0 + r) - 1.0;
            i += 1;
            if i == n || cal.advance(dates[i]) {
                break;
            }
        }
        *slot = Some(month);
        row.year_return = year_return;
    }
    out
}

pub fn yearly(daily: &Daily) -> Vec<YearRow> {
    let mut out: Vec<YearRow> = Vec::new();
    let mut start = 0;
    while start < daily.len() {
        let year = daily.date[start].year();
        let end = daily.date[start..]
            .iter()
            .position(|d| d.year() != year)
            .map_or(daily.len(), |k| start + k);
        out.push(year_row(daily, year, start, end));
        start = end;
    }
    out
}

/// One year's row in a single pass over its rows.
fn year_row(daily: &Daily, year: i32, start: usize, end: usize) -> YearRow {
    let range = start..end;
    // Slices of one common length, so the indexing below needs no bounds checks.
    let rets = &daily.daily_return[range.clone()];
    let n = rets.len();
    let in_position = &daily.in_position[range.clone()][..n];
    let status = &daily.status[range.clone()][..n];
    let interest = &daily.daily_interest[range.clone()][..n];
    let dividend = &daily.dividend[range.clone()][..n];
    let tc = &daily.transaction_cost[range][..n];
    // Wealth index and running peak within the year (the year's own drawdown); the index's
    // final value is the year's growth `Π(1 + r)`. Sums start at −0.0 as `Iterator::sum` does.
    let (mut wealth, mut peak, mut max_drawdown) = (1.0_f64, 1.0_f64, 0.0_f64);
    let (mut interest_sum, mut dividend_sum, mut tc_sum) = (-0.0, -0.0, -0.0);
    let mut days_in_market = 0u32;
    let (mut liquidations, mut margin_calls, mut rebalances, mut entries) = (0u32, 0, 0, 0);
    for j in 0..n {
        wealth *= 1.0 + rets[j];
        peak = peak.max(wealth);
        let dd = if peak > 0.0 { wealth / peak - 1.0 } else { 0.0 };
        max_drawdown = max_drawdown.min(dd);
        days_in_market += u32::from(in_position[j]);
        match status[j] {
            Status::Liquidated => liquidations += 1,
            Status::MarginCallRestored => margin_calls += 1,
            Status::Rebalanced => rebalances += 1,
            Status::Entered => entries += 1,
            _ => {}
        }
        interest_sum += interest[j];
        dividend_sum += dividend[j];
        tc_sum += tc[j];
    }
    YearRow {
        year,
        trading_days: n as u32,
        days_in_market,
        year_return: wealth - 1.0,
        start_wealth: daily.wealth[start.saturating_sub(1)],
        end_wealth: daily.wealth[end - 1],
        end_equity: daily.equity[end - 1],
        max_drawdown,
        liquidations,
        margin_calls,
        rebalances,
        entries,
        interest: interest_sum,
        dividends: dividend_sum,
        transaction_costs: tc_sum,
    }
}
