//! GBM paths in log space.
//!
//! A GBM day has no dividend and the same interest factor `g` as every other, so along every
//! path the shares stay `N` and the loan on day `k` is the same `D_k` (the position model's
//! own recurrence `D += D·g`). The maintenance check `E < m·V` is then `P < D_k/(N(1−m))`
//! (with `intraday`, low = close, `P ≤ D_k/(N(1−m))`), i.e. the log price against a per-day
//! barrier computed once per run. A path only accumulates `ln P` and needs `exp` at the fan
//! days, the call and the end: the same outcome as stepping [`super::window::Position`]
//! (equal up to rounding; `tests_forward` checks path by path) without an `exp` on most days
//! (100,000 × 252 paths: 0.51 s → 0.43 s on two busy cores).

use rand_chacha::ChaCha8Rng;

use super::paths::{PathSpec, called};
use super::rng::standard_normal;
use super::sketch::{FanDays, Sketch};
use super::window::{Outcome, Position, Rules};

/// The loan and log call price of each day, shared by every path of a run.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Barrier {
    /// Shares (constant: no dividends).
    pub n: f64,
    /// The daily interest factor the loans grew by.
    pub g: f64,
    /// `D_k`, index = day (0 = entry).
    pub loan: Vec<f64>,
    /// `ln(D_k/(N(1−m)))`; −∞ without a loan (never reached).
    pub ln_call: Vec<f64>,
}

impl Barrier {
    pub fn new(e0: f64, leverage: f64, g: f64, rules: &Rules, h: u32) -> Barrier {
        let mut pos = Position::enter(e0, leverage, 1.0);
        let mut loan = Vec::with_capacity(h as usize + 1);
        let mut ln_call = Vec::with_capacity(h as usize + 1);
        for day in 0..=h {
            if day > 0 {
                pos.d += pos.d * g;
            }
            loan.push(pos.d);
            ln_call.push((pos.d / (pos.n * rules.one_minus_m)).ln());
        }
        Barrier {
            n: pos.n,
            g,
            loan,
            ln_call,
        }
    }
}

/// One GBM path: log returns `N(nu, sigma²)` from the path's stream.
pub(crate) fn walk(
    spec: &PathSpec<'_>,
    nu: f64,
    sigma: f64,
    barrier: &Barrier,
    rng: &mut ChaCha8Rng,
    fan: &FanDays,
    sketch: &mut Sketch,
) -> Outcome {
    let e0 = spec.e0;
    let rules = &spec.rules;
    sketch.add(0, 1.0);
    let mut x = 0.0_f64;
    let days = (spec.h as usize).min(barrier.loan.len().saturating_sub(1));
    for k in 1..=days {
        x += nu + sigma * standard_normal(rng);
        let b = barrier.ln_call[k];
        let hit = if rules.intraday { x <= b } else { x < b };
        let pos = Position {
            n: barrier.n,
            d: barrier.loan[k],
        };
        if hit {
            // Fill at the close: open = low = close, and the close is at or below P_call.
            return called(fan, sketch, e0, k as u32, pos.liquidate(x.exp(), rules));
        }
        if let Some(Some(s)) = fan.slot_of_day.get(k) {
            sketch.add(usize::from(*s), pos.equity(x.exp()) / e0);
        }
    }
    let last = Position {
        n: barrier.n,
        d: barrier.loan[days],
    };
    Outcome {
        call_day: None,
        equity: last.equity(x.exp()),
    }
}
