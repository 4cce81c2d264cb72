//! `marginCallOdds` and `maxLeverage`: the position model run from every entry date.

use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{Datelike, NaiveDate};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::RiskError;
use super::input::{OddsInput, OddsResolved, resolve_odds};
use super::series::{Bar, bars, margin_rate_pct};
use super::stats::{CallDays, Interval, Percentiles, wilson_interval};
use super::window::{Outcome, Rules, run_window, window_calls};
use crate::error::{InputError, in_range};
use crate::market::MarketData;

/// Windows per parallel task: large enough that scheduling is noise, small enough that
/// cancellation is prompt and two cores stay balanced.
const CHUNK: usize = 256;
/// How many of the fastest calls are listed.
pub const EARLIEST_CALLS: usize = 10;

/// Non-overlapping windows (entries `H` rows apart from the first), which are independent
/// draws, with Wilson's 95 % interval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Independent {
    pub windows: u32,
    pub with_call: u32,
    pub probability: f64,
    pub interval: Interval,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct YearOdds {
    /// Calendar year of the entry dates.
    pub year: i32,
    pub windows: u32,
    pub with_call: u32,
    pub probability: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EarliestCall {
    pub entry_date: NaiveDate,
    pub call_date: NaiveDate,
    /// Call row minus entry row.
    pub trading_days: u32,
}

/// Plotly figures (`{data, layout}` JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OddsFigures {
    /// A 0/1 strip by entry date (1 = the window has a call) and its rolling 252-entry mean.
    pub probability_by_entry_date: serde_json::Value,
    /// Histogram of days to the first call.
    pub days_to_first_call: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MarginCallOdds {
    /// The normalised input (entry dates snapped to the entries used).
    pub input: OddsInput,
    pub engine_version: String,
    pub dataset_fingerprint: String,
    /// Maintenance fraction the windows ran with.
    pub maintenance: f64,
    pub windows: u32,
    pub windows_with_call: u32,
    pub probability: f64,
    pub independent: Independent,
    /// Over windows with a call; `None` when none has.
    pub days_to_first_call: Option<CallDays>,
    /// Final equity / E0 − 1 over windows without a call; `None` when every window calls.
    pub terminal_return: Option<Percentiles>,
    pub by_entry_year: Vec<YearOdds>,
    /// The fastest calls (fewest trading days; ties by earlier entry), at most 10.
    pub earliest_calls: Vec<EarliestCall>,
    pub figures: OddsFigures,
}

/// The windows of a validated input, bars precomputed once.
pub(crate) struct Windows<'a> {
    pub r: OddsResolved<'a>,
    /// Rows `first_entry..=last_entry + H`.
    pub bars: Vec<Bar>,
    pub rules: Rules,
    pub h: usize,
    pub count: usize,
}

impl<'a> Windows<'a> {
    pub fn new(md: &'a MarketData, input: &OddsInput) -> Result<Windows<'a>, InputError> {
        let r = resolve_odds(input, md)?;
        let ds = r.common.ds;
        let o = &r.common.options;
        let h = r.input.horizon_days as usize;
        let rates = margin_rate_pct(md, ds, o);
        let bars = bars(
            ds,
            &rates,
            f64::from(o.day_count_basis),
            r.first_entry,
            r.last_entry + h,
        );
        let rules = Rules::new(
            r.common.profile.maintenance,
            o.intraday,
            o.liquidation_slippage_bps,
        );
        let count = r.last_entry - r.first_entry + 1;
        Ok(Windows {
            r,
            bars,
            rules,
            h,
            count,
        })
    }

    /// Bars of window `k` (entry row `first_entry + k`): its entry and `H` days.
    #[inline]
    fn window(&self, k: usize) -> &[Bar] {
        &self.bars[k..=k + self.h]
    }

    /// Every window's outcome, in entry order (independent of the thread count: each window
    /// is computed alone).
    pub fn outcomes(&self, leverage: f64, cancel: &AtomicBool) -> Result<Vec<Outcome>, RiskError> {
        let e0 = self.r.input.initial_investment;
        let mut out = vec![
            Outcome {
                call_day: None,
                equity: 0.0
            };
            self.count
        ];
        out.par_chunks_mut(CHUNK)
            .enumerate()
            .for_each(|(c, chunk)| {
                if cancel.load(Ordering::Relaxed) {
                    return;
                }
                for (j, slot) in chunk.iter_mut().enumerate() {
                    *slot = run_window(self.window(c * CHUNK + j), e0, leverage, &self.rules);
                }
            });
        if cancel.load(Ordering::Relaxed) {
            return Err(RiskError::Cancelled);
        }
        Ok(out)
    }

    /// Number of windows with a call (integer sums: the same whatever the split).
    pub fn calls(&self, leverage: f64, cancel: &AtomicBool) -> Result<usize, RiskError> {
        let e0 = self.r.input.initial_investment;
        let chunks = self.count.div_ceil(CHUNK);
        let n = (0..chunks)
            .into_par_iter()
            .map(|c| {
                if cancel.load(Ordering::Relaxed) {
                    return 0;
                }
                let end = ((c + 1) * CHUNK).min(self.count);
                (c * CHUNK..end)
                    .filter(|&k| window_calls(self.window(k), e0, leverage, &self.rules))
                    .count()
            })
            .sum();
        if cancel.load(Ordering::Relaxed) {
            return Err(RiskError::Cancelled);
        }
        Ok(n)
    }

    #[cfg(test)]
    pub fn probability(&self, leverage: f64, cancel: &AtomicBool) -> Result<f64, RiskError> {
        Ok(self.calls(leverage, cancel)? as f64 / self.count as f64)
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

/// Historical odds of a margin call within `horizonDays` from every entry date in range.
pub fn margin_call_odds(
    md: &MarketData,
    input: &OddsInput,
    cancel: &AtomicBool,
) -> Result<MarginCallOdds, RiskError> {
    let w = Windows::new(md, input)?;
    let outcomes = w.outcomes(w.r.input.leverage, cancel)?;
    let ds = w.r.common.ds;
    let first = w.r.first_entry;
    let h = w.h;
    let e0 = w.r.input.initial_investment;
    let entry_dates = &ds.dates[first..=w.r.last_entry];

    let with_call = outcomes.iter().filter(|o| o.call_day.is_some()).count();

    let (mut ind_windows, mut ind_calls) = (0usize, 0usize);
    for o in outcomes.iter().step_by(h) {
        ind_windows += 1;
        ind_calls += usize::from(o.call_day.is_some());
    }

    let mut days: Vec<u32> = outcomes.iter().filter_map(|o| o.call_day).collect();
    days.sort_unstable();
    let mut returns: Vec<f64> = outcomes
        .iter()
        .filter(|o| o.call_day.is_none())
        .map(|o| o.equity / e0 - 1.0)
        .filter(|r| r.is_finite())
        .collect();
    returns.sort_unstable_by(f64::total_cmp);

    let mut by_year: Vec<YearOdds> = Vec::new();
    for (date, o) in entry_dates.iter().zip(&outcomes) {
        let year = date.year();
        if by_year.last().is_none_or(|y| y.year != year) {
            by_year.push(YearOdds {
                year,
                windows: 0,
                with_call: 0,
                probability: 0.0,
            });
        }
        if let Some(y) = by_year.last_mut() {
            y.windows += 1;
            y.with_call += u32::from(o.call_day.is_some());
        }
    }
    for y in &mut by_year {
        y.probability = ratio(y.with_call as usize, y.windows as usize);
    }

    // Fewest days first, then the earlier entry: a stable sort of entry-ordered calls.
    let mut calls: Vec<(u32, usize)> = outcomes
        .iter()
        .enumerate()
        .filter_map(|(k, o)| o.call_day.map(|d| (d, k)))
        .collect();
    calls.sort_by_key(|&(d, _)| d);
    let earliest_calls = calls
        .iter()
        .take(EARLIEST_CALLS)
        .map(|&(d, k)| EarliestCall {
            entry_date: ds.dates[first + k],
            call_date: ds.dates[first + k + d as usize],
            trading_days: d,
        })
        .collect();

    let figures = OddsFigures {
        probability_by_entry_date: super::figures::strip(entry_dates, &outcomes, h),
        days_to_first_call: super::figures::call_day_histogram(&days, h),
    };

    Ok(MarginCallOdds {
        input: w.r.input.clone(),
        engine_version: crate::ENGINE_VERSION.to_string(),
        dataset_fingerprint: ds.fingerprint.clone(),
        maintenance: w.rules.m,
        windows: w.count as u32,
        windows_with_call: with_call as u32,
        probability: ratio(with_call, w.count),
        independent: Independent {
            windows: ind_windows as u32,
            with_call: ind_calls as u32,
            probability: ratio(ind_calls, ind_windows),
            interval: wilson_interval(ind_calls as u64, ind_windows as u64),
        },
        days_to_first_call: CallDays::of_sorted(&days),
        terminal_return: Percentiles::of_sorted(&returns),
        by_entry_year: by_year,
        earliest_calls,
        figures,
    })
}

/// The largest leverage, rounded down to 0.01, whose `probability` over the input's windows is
/// at most `target_probability`; the account's maximum leverage (exactly, not rounded) when
/// even that stays at or under the target; `None` when even 1.0 exceeds it. The input's own
/// leverage is validated but otherwise unused.
///
/// Bisection on integer cents keeps the invariant "lo passes, hi fails" with both evaluated,
/// so the answer `L` satisfies `probability(L) ≤ target < probability(L + 0.01)` (or
/// `L + 0.01` is above the account maximum, which then fails) even where probability is not
/// monotone in leverage.
pub fn max_leverage(
    md: &MarketData,
    input: &OddsInput,
    target_probability: f64,
    cancel: &AtomicBool,
) -> Result<Option<f64>, RiskError> {
    in_range("targetProbability", target_probability, 0.0, 1.0, "")?;
    let w = Windows::new(md, input)?;
    let l_max = w.r.common.profile.max_leverage();
    let calls_ok = |l: f64| -> Result<bool, RiskError> {
        // The very expression `probability` reports, so the answer is consistent with it.
        Ok(ratio(w.calls(l, cancel)?, w.count) <= target_probability)
    };
    if calls_ok(l_max)? {
        return Ok(Some(l_max));
    }
    if !calls_ok(1.0)? {
        return Ok(None);
    }
    let cents = |c: u32| f64::from(c) / 100.0;
    // hi is "fails": either an evaluated cent or the maximum itself (one past the last cent
    // at or below it).
    let mut lo: u32 = 100;
    let top_cent = (l_max * 100.0 + 1e-9).floor() as u32;
    let mut hi: u32 = if cents(top_cent) < l_max {
        top_cent + 1
    } else {
        top_cent
    };
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if calls_ok(cents(mid))? {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Ok(Some(cents(lo)))
}
