//! Engine metrics (SPEC.md §4.3): what the leverage machinery did, as opposed to the
//! return-series statistics.

use serde::{Deserialize, Serialize};

use super::input::{BacktestInput, Mode};
use super::types::{Daily, Event, EventKind, Round, Status};
use crate::metrics::{PERIODS, mean};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct EngineMetrics {
    pub liquidations: u32,
    /// RESTORE partial sales.
    pub margin_calls: u32,
    pub rounds: u32,
    /// Liquidations per round.
    pub liquidation_rate: Option<f64>,
    pub avg_days_in_round: Option<f64>,
    /// Mean equity lost per liquidation, money.
    pub avg_loss_per_liquidation: Option<f64>,
    pub worst_single_loss: Option<f64>,
    pub worst_single_loss_pct: Option<f64>,
    /// Share of trading days in position.
    pub time_in_market: f64,
    pub days_in_market: u32,
    pub waiting_days: u32,
    pub total_interest: f64,
    pub total_dividends: f64,
    /// Interest minus dividends received.
    pub net_interest_cost: f64,
    pub transaction_costs: f64,
    /// Value lost to liquidation slippage.
    pub slippage_costs: f64,
    /// Interest + transaction costs + slippage.
    pub all_in_cost: f64,
    pub max_equity: f64,
    pub final_equity: f64,
    pub final_wealth: f64,
    /// Sum of `min(0, E_liq)` over FULL liquidations (≤ 0).
    pub total_deficit: f64,
    pub leverage_mean: Option<f64>,
    pub leverage_min: Option<f64>,
    pub leverage_max: Option<f64>,
    pub leverage_std: Option<f64>,
    pub rebalances: u32,
    pub avg_days_between_rebalances: Option<f64>,
    /// Total equity put in (E0 per round in FRESH_CAPITAL, E0 otherwise).
    pub capital_deployed: f64,
    /// `(W_T − K·E0)/(K·E0)`.
    pub return_on_capital: Option<f64>,
    pub money_multiple: Option<f64>,
    /// Money multiple annualised over the run's trading days (252 a year).
    pub cagr_on_capital: Option<f64>,
}

fn finite(v: f64) -> Option<f64> {
    v.is_finite().then_some(v)
}

pub(crate) fn compute(
    daily: &Daily,
    rounds: &[Round],
    events: &[Event],
    input: &BacktestInput,
    contributed: f64,
    slippage_cost: f64,
    total_deficit: f64,
) -> EngineMetrics {
    let n = daily.len();
    let last = n.saturating_sub(1);
    let liq: Vec<&Event> = events
        .iter()
        .filter(|e| e.kind == EventKind::Liquidation)
        .collect();
    let losses: Vec<f64> = liq.iter().filter_map(|e| e.loss_amount).collect();
    let t = DailyTotals::of(daily);
    let (total_interest, total_dividends, tc) = (t.interest, t.dividends, t.transaction_costs);
    let days_in_market = t.days_in_market;
    let final_wealth = daily.wealth.get(last).copied().unwrap_or(0.0);
    let capital = if input.mode == Mode::FreshCapital {
        contributed
    } else {
        input.initial_investment
    };
    let multiple = (capital > 0.0)
        .then(|| final_wealth / capital)
        .and_then(finite);
    let worst = liq
        .iter()
        .filter_map(|e| e.loss_amount.zip(e.loss_pct))
        .max_by(|a, b| a.0.total_cmp(&b.0));
    EngineMetrics {
        liquidations: liq.len() as u32,
        margin_calls: events
            .iter()
            .filter(|e| e.kind == EventKind::MarginCallRestored)
            .count() as u32,
        rounds: rounds.len() as u32,
        liquidation_rate: (!rounds.is_empty()).then(|| liq.len() as f64 / rounds.len() as f64),
        avg_days_in_round: mean(
            &rounds
                .iter()
                .map(|r| f64::from(r.trading_days))
                .collect::<Vec<_>>(),
        ),
        avg_loss_per_liquidation: mean(&losses),
        worst_single_loss: worst.map(|w| w.0),
        worst_single_loss_pct: worst.map(|w| w.1),
        time_in_market: if n > 0 {
            f64::from(days_in_market) / n as f64
        } else {
            0.0
        },
        days_in_market,
        waiting_days: t.waiting_days,
        total_interest,
        total_dividends,
        net_interest_cost: total_interest - total_dividends,
        transaction_costs: tc,
        slippage_costs: slippage_cost,
        all_in_cost: total_interest + tc + slippage_cost,
        max_equity: t.max_equity,
        final_equity: daily.equity.get(last).copied().unwrap_or(0.0),
        final_wealth,
        total_deficit,
        leverage_mean: t.leverage_mean(),
        leverage_min: (t.leverage_days > 0).then_some(t.leverage_min),
        leverage_max: (t.leverage_days > 0).then_some(t.leverage_max),
        leverage_std: t.leverage_std(&daily.leverage),
        rebalances: t.rebalances as u32,
        avg_days_between_rebalances: (t.rebalances >= 2)
            .then(|| (t.last_rebalance - t.first_rebalance) as f64 / (t.rebalances - 1) as f64),
        capital_deployed: capital,
        return_on_capital: multiple.map(|m| m - 1.0),
        money_multiple: multiple,
        cagr_on_capital: multiple
            .filter(|_| n > 1)
            .map(|m| {
                if m <= 0.0 {
                    -1.0
                } else {
                    m.powf(PERIODS / last as f64) - 1.0
                }
            })
            .and_then(finite),
    }
}

/// Totals over the daily rows in one pass, each accumulated in row order from the starting
/// value the per-column definition uses (`Iterator::sum` starts at −0.0, `reduce` at the first
/// element), so the results are bit-identical to one pass per total.
struct DailyTotals {
    interest: f64,
    dividends: f64,
    transaction_costs: f64,
    days_in_market: u32,
    waiting_days: u32,
    rebalances: usize,
    first_rebalance: usize,
    last_rebalance: usize,
    max_equity: f64,
    /// Days with a leverage (in position with positive equity), their sum and extremes.
    leverage_days: usize,
    leverage_sum: f64,
    /// Meaningful only when `leverage_days > 0`.
    leverage_min: f64,
    leverage_max: f64,
}

impl DailyTotals {
    fn of(daily: &Daily) -> DailyTotals {
        let n = daily.len();
        // One common length, so the indexing below needs no bounds checks.
        let interest = &daily.daily_interest[..n];
        let dividend = &daily.dividend[..n];
        let tc = &daily.transaction_cost[..n];
        let in_position = &daily.in_position[..n];
        let status = &daily.status[..n];
        let equity = &daily.equity[..n];
        let leverage = &daily.leverage[..n];
        let mut t = DailyTotals {
            interest: -0.0,
            dividends: -0.0,
            transaction_costs: -0.0,
            days_in_market: 0,
            waiting_days: 0,
            rebalances: 0,
            first_rebalance: 0,
            last_rebalance: 0,
            max_equity: 0.0,
            leverage_days: 0,
            leverage_sum: -0.0,
            leverage_min: 0.0,
            leverage_max: 0.0,
        };
        for i in 0..n {
            t.interest += interest[i];
            t.dividends += dividend[i];
            t.transaction_costs += tc[i];
            t.days_in_market += u32::from(in_position[i]);
            match status[i] {
                Status::Waiting => t.waiting_days += 1,
                Status::Rebalanced => {
                    if t.rebalances == 0 {
                        t.first_rebalance = i;
                    }
                    t.last_rebalance = i;
                    t.rebalances += 1;
                }
                _ => {}
            }
            t.max_equity = t.max_equity.max(equity[i]);
            if let Some(l) = leverage[i] {
                t.leverage_sum += l;
                // `reduce` semantics: the first value, then `min`/`max` with each next one.
                if t.leverage_days == 0 {
                    (t.leverage_min, t.leverage_max) = (l, l);
                } else {
                    t.leverage_min = t.leverage_min.min(l);
                    t.leverage_max = t.leverage_max.max(l);
                }
                t.leverage_days += 1;
            }
        }
        t
    }

    fn leverage_mean(&self) -> Option<f64> {
        (self.leverage_days > 0).then(|| self.leverage_sum / self.leverage_days as f64)
    }

    /// Sample standard deviation (ddof 1) of the leverage days, as `metrics::std` of them gives.
    fn leverage_std(&self, leverage: &[Option<f64>]) -> Option<f64> {
        if self.leverage_days < 2 {
            return None;
        }
        let mu = self.leverage_mean()?;
        let ss: f64 = leverage.iter().flatten().map(|v| (v - mu) * (v - mu)).sum();
        Some((ss / (self.leverage_days - 1) as f64).sqrt())
    }
}
