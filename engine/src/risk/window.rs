//! The one-round position model of ENGINE.md §3 (steps C and E), shared by the historical
//! windows and the Monte Carlo paths so both answer with the same rules.
//!
//! Entry at a close `P` with equity `E0` and leverage `L`: `N = E0·L/P`, `D = E0·(L−1)`. Each
//! following day: interest `D·r_{t−1}/B·Δ_t` onto the loan, a dividend reinvested at the
//! close (`N += N·q_t/P_t`), then the maintenance check at the close (`E < m·V`; equality is
//! compliant) or, with `intraday`, `low ≤ D/(N(1−m))`. A call is a FULL liquidation at the
//! engine's fill (`min(open, P_call)` for an intraday hit, else the close) less slippage,
//! floored at 0.
//!
//! The entry day itself is not checked: issue #15 checks "each following day", and a
//! validated leverage is compliant at entry (`E0 ≥ m·V0` exactly). The backtest does check
//! at entry, in floats, and at exactly `L = 1/m` (6.666666666666667 for PORTFOLIO)
//! `0.15·V0` rounds above `E0` for most prices, so it liquidates on the entry day; here that
//! window instead calls on the first day the price or the interest moves against it.
//!
//! The interest is `D·g` with `g = r/100/B·Δ` precomputed per row; the backtest evaluates
//! `D·r/100/B·Δ` left to right, so the two agree to a few ulps, not bit for bit (one
//! multiply on the loop's dependency chain instead of two divisions keeps every window of 33
//! years within the speed budget). The dividend step likewise uses `N·(q/P)`.

use super::series::Bar;

/// The margin rules a window runs under.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Rules {
    /// Maintenance fraction `m`.
    pub m: f64,
    /// `1 − m`, as the engine computes it.
    pub one_minus_m: f64,
    pub intraday: bool,
    /// `1 − s` with `s` the liquidation slippage as a fraction.
    pub keep: f64,
}

impl Rules {
    pub fn new(m: f64, intraday: bool, slippage_bps: f64) -> Rules {
        Rules {
            m,
            one_minus_m: 1.0 - m,
            intraday,
            keep: 1.0 - slippage_bps / 1e4,
        }
    }
}

/// Shares and loan of an open position.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Position {
    pub n: f64,
    pub d: f64,
}

/// How a window or path ended.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Outcome {
    /// Trading days from entry to the call, 1..=H; `None` = no call.
    pub call_day: Option<u32>,
    /// Equity at the end: after the liquidation for a call, else at the last close.
    pub equity: f64,
}

impl Position {
    #[inline]
    pub fn enter(e0: f64, leverage: f64, price: f64) -> Position {
        Position {
            n: e0 * leverage / price,
            d: e0 * (leverage - 1.0),
        }
    }

    /// FULL liquidation at `fill`: `max(0, N·fill·(1−s) − D)`.
    #[inline]
    pub fn liquidate(&self, fill: f64, rules: &Rules) -> f64 {
        (self.n * fill * rules.keep - self.d).max(0.0)
    }

    #[inline]
    pub fn equity(&self, price: f64) -> f64 {
        self.n * price - self.d
    }

    /// Steps C and E for one day. Returns the equity left after the liquidation when the day
    /// calls, `None` when the position carries on.
    #[inline(always)]
    pub fn step(&mut self, bar: &Bar, rules: &Rules) -> Option<f64> {
        self.d += self.d * bar.g;
        if bar.qy > 0.0 {
            self.n += self.n * bar.qy;
        }
        let v = self.n * bar.close;
        let e = v - self.d;
        // `&&` keeps the division off days without an intraday rule.
        let intraday_hit = rules.intraday && bar.low <= self.d / (self.n * rules.one_minus_m);
        if e < rules.m * v || intraday_hit {
            let fill = if intraday_hit {
                bar.open.min(self.d / (self.n * rules.one_minus_m))
            } else {
                bar.close
            };
            return Some(self.liquidate(fill, rules));
        }
        None
    }
}

/// Runs one historical window: entry at `bars[0].close`, then `bars[1..]` (its length is the
/// horizon).
#[inline]
pub(crate) fn run_window(bars: &[Bar], e0: f64, leverage: f64, rules: &Rules) -> Outcome {
    let Some((entry, rest)) = bars.split_first() else {
        return Outcome {
            call_day: None,
            equity: e0,
        };
    };
    let mut pos = Position::enter(e0, leverage, entry.close);
    for (k, bar) in rest.iter().enumerate() {
        if let Some(e) = pos.step(bar, rules) {
            return Outcome {
                call_day: Some(k as u32 + 1),
                equity: e,
            };
        }
    }
    Outcome {
        call_day: None,
        equity: pos.equity(rest.last().map_or(entry.close, |b| b.close)),
    }
}

/// Whether a window calls, without its equity: the inner loop of `maxLeverage`.
#[inline]
pub(crate) fn window_calls(bars: &[Bar], e0: f64, leverage: f64, rules: &Rules) -> bool {
    run_window(bars, e0, leverage, rules).call_day.is_some()
}
