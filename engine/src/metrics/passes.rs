//! The running totals of [`super::compute_with_drawdown`], gathered in two passes over the
//! returns instead of one pass per metric.
//!
//! Fusing matters beyond the loop overhead: each float sum or product is a dependent chain (an
//! add waits for the previous add), so separate passes cost the sum of their latencies while one
//! pass runs the chains side by side. Every accumulator keeps the exact order and starting value
//! of the per-metric definition it replaces (`Iterator::sum` folds from −0.0, `product` from 1,
//! the explicit loops from 0), so results are bit-identical to computing each metric on its own.

use chrono::NaiveDate;

use super::series::Moments;
use crate::calendar::MonthCursor;

/// Order statistics and sums that need no mean.
pub(crate) struct FirstPass {
    /// `Π(1 + r)`.
    pub growth: f64,
    /// `Σ r` (for the mean).
    pub sum: f64,
    pub max: f64,
    pub min: f64,
    pub n_win: usize,
    pub n_loss: usize,
    pub n_nonzero: usize,
    pub sum_win: f64,
    pub sum_neg: f64,
    pub sum_nonzero: f64,
    pub sum_pos: f64,
    pub sum_all: f64,
    pub longest_win: u32,
    pub longest_loss: u32,
    /// `Σ (r − rf)` when a risk-free rate is subtracted.
    pub excess_sum: f64,
    /// `Σ_{x<0} x²` of the (excess) returns, for Sortino.
    pub down_ss: f64,
    /// Best and worst compounded calendar month and year.
    pub best_month: f64,
    pub worst_month: f64,
    pub best_year: f64,
    pub worst_year: f64,
    /// Cumulative `ln(1 + r)` (stability's regression target) and its sum; `None` when some
    /// return is ≤ −100 %.
    pub log_wealth: Option<(Vec<f64>, f64)>,
}

/// Compounded growth of the calendar period being accumulated, and the best/worst so far.
struct Periods {
    growth: f64,
    best: f64,
    worst: f64,
}

impl Periods {
    fn new() -> Self {
        Periods {
            growth: 1.0,
            best: f64::NEG_INFINITY,
            worst: f64::INFINITY,
        }
    }

    /// Ends the current period (periods are closed in date order).
    fn close(&mut self) {
        let g = self.growth - 1.0;
        self.best = self.best.max(g);
        self.worst = self.worst.min(g);
        // `1·(1 + r)` is `1 + r` exactly: restarting at 1 equals starting at the first factor.
        self.growth = 1.0;
    }
}

impl FirstPass {
    pub(crate) fn run(dates: &[NaiveDate], returns: &[f64], rf_daily: Option<f64>) -> FirstPass {
        let n = returns.len();
        let mut p = FirstPass {
            growth: 1.0,
            sum: -0.0,
            max: f64::NEG_INFINITY,
            min: f64::INFINITY,
            n_win: 0,
            n_loss: 0,
            n_nonzero: 0,
            sum_win: 0.0,
            sum_neg: 0.0,
            sum_nonzero: 0.0,
            sum_pos: 0.0,
            sum_all: 0.0,
            longest_win: 0,
            longest_loss: 0,
            excess_sum: -0.0,
            down_ss: -0.0,
            best_month: f64::NEG_INFINITY,
            worst_month: f64::INFINITY,
            best_year: f64::NEG_INFINITY,
            worst_year: f64::INFINITY,
            log_wealth: None,
        };
        let (mut win_run, mut loss_run) = (0u32, 0u32);
        let mut months = Periods::new();
        let mut years = Periods::new();
        let mut cal = MonthCursor::new();
        let mut year: Option<i32> = None;
        for (i, (d, &r)) in dates.iter().zip(returns).enumerate() {
            p.growth *= 1.0 + r;
            p.sum += r;
            p.max = p.max.max(r);
            p.min = p.min.min(r);
            p.sum_all += r;
            // Branch-free: the sign of a daily return is a coin flip, so branches on it would
            // mispredict half the time. Adding +0.0 instead of skipping is exact here: these
            // sums start at +0.0 and can never be −0.0 (a sum of non-zero terms that cancels is
            // +0.0), and `x + 0.0 == x` for every other `x`.
            let (win, loss) = (r > 0.0, r < 0.0);
            p.n_win += usize::from(win);
            p.sum_win += if win { r } else { 0.0 };
            p.n_loss += usize::from(loss);
            p.sum_neg += if loss { r } else { 0.0 };
            p.n_nonzero += usize::from(r != 0.0);
            p.sum_nonzero += if r != 0.0 { r } else { 0.0 };
            p.sum_pos += if r >= 0.0 { r } else { 0.0 };
            win_run = if r > 0.0 { win_run + 1 } else { 0 };
            p.longest_win = p.longest_win.max(win_run);
            loss_run = if r < 0.0 { loss_run + 1 } else { 0 };
            p.longest_loss = p.longest_loss.max(loss_run);
            let x = match rf_daily {
                Some(rf) => {
                    let x = r - rf;
                    p.excess_sum += x;
                    x
                }
                None => r,
            };
            // Starts at −0.0 like `Iterator::sum`; the +0.0 added for non-negative days can
            // only turn that into +0.0, and the total is used only through `down > 0`.
            p.down_ss += if x < 0.0 { x * x } else { 0.0 };
            if cal.advance(*d) {
                if i > 0 {
                    months.close();
                }
                if year != Some(cal.year()) {
                    if i > 0 {
                        years.close();
                    }
                    year = Some(cal.year());
                }
            }
            months.growth *= 1.0 + r;
            years.growth *= 1.0 + r;
        }
        if n > 0 {
            months.close();
            years.close();
        }
        p.best_month = months.best;
        p.worst_month = months.worst;
        p.best_year = years.best;
        p.worst_year = years.worst;
        p.log_wealth = log_wealth(returns);
        p
    }
}

/// Cumulative `ln(1 + r)` and its sum, or `None` when some return is ≤ −100 %. A loop of its
/// own: `ln_1p` is a libm call, and around a call every float accumulator of the fused pass
/// would have to be spilled and reloaded.
fn log_wealth(returns: &[f64]) -> Option<(Vec<f64>, f64)> {
    if returns.iter().any(|r| *r <= -1.0) {
        return None;
    }
    let mut cum = 0.0_f64;
    let y: Vec<f64> = returns
        .iter()
        .map(|r| {
            cum += r.ln_1p();
            cum
        })
        .collect();
    let sum = y.iter().sum::<f64>();
    Some((y, sum))
}

/// Central moments of the returns, the spread of the excess returns, and stability's sums of
/// squares: everything that needs a mean from the first pass.
pub(crate) struct SecondPass {
    pub moments: Moments,
    /// `Σ (x − x̄)²` of the excess returns.
    pub excess_ss: f64,
    /// `(Σ dx·dy, Σ dx², Σ dy²)` of the log-wealth regression on time.
    pub regression: Option<(f64, f64, f64)>,
}

impl SecondPass {
    pub(crate) fn run(returns: &[f64], first: &FirstPass, rf_daily: Option<f64>) -> SecondPass {
        let nf = returns.len() as f64;
        let mean = first.sum / nf;
        let excess_mean = first.excess_sum / nf;
        let (mut s2, mut s3, mut s4) = (0.0, 0.0, 0.0);
        let mut excess_ss = -0.0;
        for &v in returns {
            let d = v - mean;
            let d2 = d * d;
            s2 += d2;
            s3 += d2 * d;
            s4 += d2 * d2;
            if let Some(rf) = rf_daily {
                let e = (v - rf) - excess_mean;
                excess_ss += e * e;
            }
        }
        let regression = first.log_wealth.as_ref().map(|(y, y_sum)| {
            let n = y.len() as f64;
            let xm = (n - 1.0) / 2.0;
            let ym = y_sum / n;
            let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
            for (i, yi) in y.iter().enumerate() {
                let dx = i as f64 - xm;
                let dy = yi - ym;
                sxy += dx * dy;
                sxx += dx * dx;
                syy += dy * dy;
            }
            (sxy, sxx, syy)
        });
        SecondPass {
            moments: Moments::from_sums(nf, mean, s2, s3, s4),
            excess_ss,
            regression,
        }
    }
}
