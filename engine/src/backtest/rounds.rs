//! Round bookkeeping: what accumulates while a round is open and the row it becomes.

use super::types::Round;

/// Running totals of the open round.
pub(crate) struct RoundAcc {
    pub(crate) round: u32,
    pub(crate) start_idx: usize,
    pub(crate) start_price: f64,
    pub(crate) start_value: f64,
    pub(crate) start_equity: f64,
    pub(crate) interest: f64,
    pub(crate) dividends: f64,
    pub(crate) restores: u32,
    pub(crate) rebalances: u32,
    pub(crate) tc: f64,
}

/// Dates of the run, indexed like the daily rows.
pub(crate) struct DailyView<'a> {
    pub(crate) dates: &'a [chrono::NaiveDate],
}

pub(crate) fn daily_view(ds: &crate::market::Dataset, start: usize) -> DailyView<'_> {
    DailyView {
        dates: &ds.dates[start..],
    }
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn close_round(
    a: RoundAcc,
    end_idx: usize,
    view: &DailyView<'_>,
    end_price: f64,
    end_value: f64,
    end_equity: f64,
    margin_call: bool,
    deficit: f64,
) -> Round {
    Round {
        round: a.round,
        start_date: view.dates[a.start_idx],
        end_date: view.dates[end_idx],
        open: false,
        trading_days: (end_idx - a.start_idx + 1) as u32,
        start_price: a.start_price,
        end_price,
        price_change_pct: (end_price / a.start_price - 1.0) * 100.0,
        start_position_value: a.start_value,
        end_position_value: end_value,
        start_equity: a.start_equity,
        end_equity,
        margin_call,
        return_pct: if a.start_equity > 0.0 {
            (end_equity / a.start_equity - 1.0) * 100.0
        } else {
            0.0
        },
        interest_paid: a.interest,
        dividends: a.dividends,
        deficit,
        margin_calls: a.restores,
        rebalances: a.rebalances,
        transaction_costs: a.tc,
    }
}
