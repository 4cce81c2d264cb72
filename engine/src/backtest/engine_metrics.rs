//! Engine metrics (ENGINE.md §4.3): what the leverage machinery did, as opposed to the
//! return-series statistics.

use serde::{Deserialize, Serialize};

use super::input::{BacktestInput, Mode};
use super::types::{Daily, Event, EventKind, Round, Status};
use crate::metrics::{PERIODS, mean, std};

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
    let levs: Vec<f64> = daily.leverage.iter().flatten().copied().collect();
    let reb_idx: Vec<usize> = (0..n)
        .filter(|i| daily.status[*i] == Status::Rebalanced)
        .collect();
    let total_interest: f64 = daily.daily_interest.iter().sum();
    let total_dividends: f64 = daily.dividend.iter().sum();
    let tc: f64 = daily.transaction_cost.iter().sum();
    let days_in_market = daily.in_position.iter().filter(|x| **x).count() as u32;
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
        waiting_days: daily
            .status
            .iter()
            .filter(|s| **s == Status::Waiting)
            .count() as u32,
        total_interest,
        total_dividends,
        net_interest_cost: total_interest - total_dividends,
        transaction_costs: tc,
        slippage_costs: slippage_cost,
        all_in_cost: total_interest + tc + slippage_cost,
        max_equity: daily.equity.iter().copied().fold(0.0, f64::max),
        final_equity: daily.equity.get(last).copied().unwrap_or(0.0),
        final_wealth,
        total_deficit,
        leverage_mean: mean(&levs),
        leverage_min: levs.iter().copied().reduce(f64::min),
        leverage_max: levs.iter().copied().reduce(f64::max),
        leverage_std: std(&levs),
        rebalances: reb_idx.len() as u32,
        avg_days_between_rebalances: (reb_idx.len() >= 2)
            .then(|| (reb_idx[reb_idx.len() - 1] - reb_idx[0]) as f64 / (reb_idx.len() - 1) as f64),
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
