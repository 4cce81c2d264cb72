//! Building blocks over a returns series: moments, quantiles, drawdowns, calendar compounding,
//! streaks, stability and rolling statistics.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::PERIODS;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct DrawdownEpisode {
    pub start: NaiveDate,
    pub valley: NaiveDate,
    pub end: NaiveDate,
    /// Calendar days `end − start + 1`.
    pub days: i64,
    /// Deepest drawdown of the episode (negative fraction).
    pub depth: f64,
    /// False when the series ends still under water.
    pub recovered: bool,
}

pub fn mean(x: &[f64]) -> Option<f64> {
    (!x.is_empty()).then(|| x.iter().sum::<f64>() / x.len() as f64)
}

/// Sample standard deviation (ddof 1).
pub fn std(x: &[f64]) -> Option<f64> {
    if x.len() < 2 {
        return None;
    }
    let mu = mean(x)?;
    let ss: f64 = x.iter().map(|v| (v - mu) * (v - mu)).sum();
    Some((ss / (x.len() - 1) as f64).sqrt())
}

/// Linear-interpolation quantile of sorted data (numpy/pandas default).
pub fn quantile_sorted(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let h = (sorted.len() - 1) as f64 * q;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    Some(sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo]))
}

/// Linear-interpolation quantile by selection (reorders `buf`); equals [`quantile_sorted`].
pub fn quantile_select(buf: &mut [f64], q: f64) -> Option<f64> {
    if buf.is_empty() {
        return None;
    }
    let h = (buf.len() - 1) as f64 * q;
    let lo = h.floor() as usize;
    let (_, nth, right) = buf.select_nth_unstable_by(lo, f64::total_cmp);
    let a = *nth;
    let b = right.iter().copied().reduce(f64::min).unwrap_or(a);
    Some(a + (h - lo as f64) * (b - a))
}

/// `dd_t` of the wealth index `Π(1+r)` with the starting 1 as the first peak.
pub fn drawdown_series(returns: &[f64]) -> Vec<f64> {
    let mut out = Vec::with_capacity(returns.len());
    let (mut w, mut peak) = (1.0_f64, 1.0_f64);
    for r in returns {
        w *= 1.0 + r;
        peak = peak.max(w);
        out.push(if peak > 0.0 { w / peak - 1.0 } else { 0.0 });
    }
    out
}

/// Compounded returns of calendar periods, keyed by `key(date)`, in date order.
pub fn compound_by<K: PartialEq + Copy>(
    dates: &[NaiveDate],
    returns: &[f64],
    key: impl Fn(NaiveDate) -> K,
) -> Vec<(K, f64)> {
    let mut out: Vec<(K, f64)> = Vec::new();
    for (d, r) in dates.iter().zip(returns) {
        let k = key(*d);
        match out.last_mut() {
            Some((lk, g)) if *lk == k => *g *= 1.0 + r,
            _ => out.push((k, 1.0 + r)),
        }
    }
    out.into_iter().map(|(k, g)| (k, g - 1.0)).collect()
}

pub fn drawdown_episodes(dates: &[NaiveDate], dd: &[f64]) -> Vec<DrawdownEpisode> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < dd.len() {
        if dd[i] < 0.0 {
            let start = i;
            let mut valley = i;
            while i < dd.len() && dd[i] < 0.0 {
                if dd[i] < dd[valley] {
                    valley = i;
                }
                i += 1;
            }
            let end = i - 1;
            out.push(DrawdownEpisode {
                start: dates[start],
                valley: dates[valley],
                end: dates[end],
                days: (dates[end] - dates[start]).num_days() + 1,
                depth: dd[valley],
                recovered: i < dd.len(),
            });
        } else {
            i += 1;
        }
    }
    out
}

/// Central moment sums of a series (gathered by `passes`).
pub(crate) struct Moments {
    n: f64,
    pub(crate) mean: f64,
    s2: f64,
    s3: f64,
    s4: f64,
}

impl Moments {
    /// From the sums a fused pass gathered (see `passes`).
    pub(crate) fn from_sums(n: f64, mean: f64, s2: f64, s3: f64, s4: f64) -> Moments {
        Moments {
            n,
            mean,
            s2,
            s3,
            s4,
        }
    }

    /// Sample standard deviation (ddof 1).
    pub(crate) fn std(&self) -> Option<f64> {
        (self.n >= 2.0).then(|| (self.s2 / (self.n - 1.0)).sqrt())
    }

    /// G1 (bias-corrected skewness), as pandas `Series.skew`.
    pub(crate) fn skew(&self) -> Option<f64> {
        let n = self.n;
        let (m2, m3) = (self.s2 / n, self.s3 / n);
        (n >= 3.0 && m2 > 0.0).then(|| (n * (n - 1.0)).sqrt() / (n - 2.0) * m3 / m2.powf(1.5))
    }

    /// G2 (bias-corrected excess kurtosis), as pandas `Series.kurtosis`.
    pub(crate) fn kurtosis(&self) -> Option<f64> {
        let n = self.n;
        if n < 4.0 || self.s2 <= 0.0 {
            return None;
        }
        let var = self.s2 / (n - 1.0);
        let a = n * (n + 1.0) / ((n - 1.0) * (n - 2.0) * (n - 3.0)) * self.s4 / (var * var);
        let b = 3.0 * (n - 1.0) * (n - 1.0) / ((n - 2.0) * (n - 3.0));
        Some(a - b)
    }
}

/// R² of an OLS fit from its centred sums (empyrical `stability_of_timeseries` fits
/// cumulative log returns on time; the sums come from `passes`).
pub(crate) fn r_squared(sxy: f64, sxx: f64, syy: f64) -> Option<f64> {
    if sxx <= 0.0 || syy <= 0.0 {
        return None;
    }
    let r = (sxy / (sxx * syy).sqrt()).clamp(-1.0, 1.0);
    Some(r * r)
}

/// Rolling `window` annualised volatility and Sharpe (`None` until the window is full or when
/// the window has zero variance). O(n) with Welford add/remove updates (as pandas does),
/// re-anchored exactly every `window` rows so rounding drift cannot build up; a window of
/// identical values has variance exactly 0, as in pandas.
pub fn rolling_vol_sharpe(returns: &[f64], window: usize) -> (Vec<Option<f64>>, Vec<Option<f64>>) {
    rolling_vol_sharpe_padded(returns, window, 0)
}

/// [`rolling_vol_sharpe`] with `pad` leading `None`s, so a caller aligning the series with rows
/// that have no return (the figures' first day) needs no second copy.
pub(crate) fn rolling_vol_sharpe_padded(
    returns: &[f64],
    window: usize,
    pad: usize,
) -> (Vec<Option<f64>>, Vec<Option<f64>>) {
    let n = returns.len();
    let mut vol_padded = vec![None; n + pad];
    let mut sh_padded = vec![None; n + pad];
    if window < 2 || n < window {
        return (vol_padded, sh_padded);
    }
    let vol = &mut vol_padded[pad..];
    let sh = &mut sh_padded[pad..];
    let ann = PERIODS.sqrt();
    let w = window as f64;
    let (mut mu, mut m2) = (0.0_f64, 0.0_f64);
    let mut same_run = 0usize;
    // Rows until the next exact re-anchoring (`end % window == 0`), counted down instead of an
    // integer division per row.
    let mut until_anchor = 0usize;
    for end in 0..n {
        let anchor = until_anchor == 0;
        until_anchor = if anchor { window - 1 } else { until_anchor - 1 };
        let x = returns[end];
        same_run = if end > 0 && returns[end - 1] == x {
            same_run + 1
        } else {
            1
        };
        if end + 1 < window {
            continue;
        }
        if end >= window && !anchor {
            // Slide: remove the oldest value, then add the newest.
            let old = returns[end - window];
            let k = w - 1.0;
            let d_old = old - mu;
            let mu_k = mu - d_old / k;
            m2 -= d_old * (old - mu_k);
            let d_new = x - mu_k;
            mu = mu_k + d_new / w;
            m2 += d_new * (x - mu);
        } else {
            let win = &returns[end + 1 - window..=end];
            mu = win.iter().sum::<f64>() / w;
            m2 = win.iter().map(|v| (v - mu) * (v - mu)).sum();
        }
        let var = if same_run >= window {
            0.0
        } else {
            (m2 / (w - 1.0)).max(0.0)
        };
        let s = var.sqrt();
        vol[end] = Some(s * ann).filter(|v| v.is_finite());
        if s > 0.0 {
            sh[end] = Some(mu / s * ann).filter(|v| v.is_finite());
        }
    }
    (vol_padded, sh_padded)
}
