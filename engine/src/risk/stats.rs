//! Small statistics of the risk lab: nearest-rank percentiles, Wilson's interval, the normal
//! CDF and the first-passage probability of a drifting Brownian motion.

use serde::{Deserialize, Serialize};

/// z of a two-sided 95 % interval.
pub const Z95: f64 = 1.96;

/// Percentiles of days to the first call (trading days after entry).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallDays {
    pub p10: u32,
    pub p50: u32,
    pub p90: u32,
}

/// Five nearest-rank percentiles of a distribution (returns or equity).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Percentiles {
    pub p5: f64,
    pub p25: f64,
    pub p50: f64,
    pub p75: f64,
    pub p95: f64,
}

/// A confidence interval for a probability.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Interval {
    pub low: f64,
    pub high: f64,
}

/// Nearest-rank percentile: the ⌈p·k/100⌉-th of the `k` sorted values (the first for p = 0).
/// Integer arithmetic, so that e.g. p = 50 of k = 10 is exactly the 5th value.
pub(crate) fn nearest_rank<T: Copy>(sorted: &[T], p: u32) -> Option<T> {
    let k = sorted.len();
    if k == 0 {
        return None;
    }
    let rank = (p as usize * k).div_ceil(100).max(1).min(k);
    sorted.get(rank - 1).copied()
}

impl Percentiles {
    /// From ascending values; `None` when there are none.
    pub(crate) fn of_sorted(sorted: &[f64]) -> Option<Percentiles> {
        Some(Percentiles {
            p5: nearest_rank(sorted, 5)?,
            p25: nearest_rank(sorted, 25)?,
            p50: nearest_rank(sorted, 50)?,
            p75: nearest_rank(sorted, 75)?,
            p95: nearest_rank(sorted, 95)?,
        })
    }
}

impl CallDays {
    pub(crate) fn of_sorted(sorted: &[u32]) -> Option<CallDays> {
        Some(CallDays {
            p10: nearest_rank(sorted, 10)?,
            p50: nearest_rank(sorted, 50)?,
            p90: nearest_rank(sorted, 90)?,
        })
    }
}

/// Wilson's score interval for `successes` out of `trials` with z = 1.96, clamped to [0, 1].
/// `trials = 0` gives the uninformative [0, 1].
pub fn wilson_interval(successes: u64, trials: u64) -> Interval {
    if trials == 0 {
        return Interval {
            low: 0.0,
            high: 1.0,
        };
    }
    let n = trials as f64;
    let p = successes as f64 / n;
    let z2 = Z95 * Z95;
    let denom = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denom;
    let half = Z95 / denom * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).max(0.0).sqrt();
    Interval {
        low: (centre - half).clamp(0.0, 1.0),
        high: (centre + half).clamp(0.0, 1.0),
    }
}

/// `erfc(x)` for x ≥ 0 to ~1e-15 relative: the all-positive series
/// `erf x = 2/√π·e^{−x²}·Σ 2ⁿx^{2n+1}/(1·3···(2n+1))` below 2.5 (no cancellation, so no
/// lost digits), Lentz's continued fraction for the tail above (it converges fast there).
fn erfc_nonneg(x: f64) -> f64 {
    const FRAC_2_SQRT_PI: f64 = std::f64::consts::FRAC_2_SQRT_PI;
    if x < 2.5 {
        let x2 = x * x;
        let mut term = x;
        let mut sum = x;
        let mut k = 0.0;
        while term > sum * 1e-17 {
            k += 1.0;
            term *= 2.0 * x2 / (2.0 * k + 1.0);
            sum += term;
        }
        let erf = FRAC_2_SQRT_PI * (-x2).exp() * sum;
        return 1.0 - erf;
    }
    // erfc x = e^{−x²}/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …)))), a_k = k/2.
    let tiny = 1e-300;
    let mut f = x;
    let mut c = x;
    let mut d = 0.0;
    for k in 1..200 {
        let a = f64::from(k) / 2.0;
        d = x + a * d;
        d = if d == 0.0 { tiny } else { d };
        c = x + a / c;
        c = if c == 0.0 { tiny } else { c };
        d = 1.0 / d;
        let delta = c * d;
        f *= delta;
        if (delta - 1.0).abs() < 1e-16 {
            break;
        }
    }
    (-x * x).exp() / (f * std::f64::consts::PI.sqrt())
}

/// Standard normal CDF Φ(x); finite for every finite x (0 or 1 far out), 0.5 for NaN.
pub fn normal_cdf(x: f64) -> f64 {
    if x.is_nan() {
        return 0.5;
    }
    if x.is_infinite() {
        return if x > 0.0 { 1.0 } else { 0.0 };
    }
    let t = x.abs() / std::f64::consts::SQRT_2;
    let tail = 0.5 * erfc_nonneg(t);
    let v = if x < 0.0 { tail } else { 1.0 - tail };
    v.clamp(0.0, 1.0)
}

/// Broadie–Glasserman's continuity correction constant `−ζ(1/2)/√(2π)`.
pub const BROADIE_GLASSERMAN_BETA: f64 = 0.5826;

/// Probability that a Brownian motion with drift `nu` and volatility `sigma` per day, started
/// at 0, falls to `ln(b)` within `t_days` days, monitored once a day: the continuous formula
/// `Φ((ln b − νT)/(σ√T)) + b^{2ν/σ²}·Φ((ln b + νT)/(σ√T))` with the barrier shifted by
/// `b·exp(−0.5826·σ·√Δt)` (Δt = 1 day). `None` when undefined (σ ≤ 0, b ≥ 1 or not finite);
/// b = 0 (no loan) is `Some(0)`.
pub fn first_passage_probability(b: f64, nu: f64, sigma: f64, t_days: f64) -> Option<f64> {
    if !(b.is_finite() && nu.is_finite() && sigma.is_finite() && t_days > 0.0) {
        return None;
    }
    if b <= 0.0 {
        return Some(0.0);
    }
    if sigma <= 0.0 || b >= 1.0 {
        return None;
    }
    let shifted = b * (-BROADIE_GLASSERMAN_BETA * sigma).exp();
    let a = shifted.ln();
    let s = sigma * t_days.sqrt();
    let first = normal_cdf((a - nu * t_days) / s);
    // b^{2ν/σ²} as exp(2νa/σ²): an overflow would mean a probability far above 1 anyway.
    let weight = (2.0 * nu * a / (sigma * sigma)).exp();
    let second = normal_cdf((a + nu * t_days) / s);
    let p = first + if second > 0.0 { weight * second } else { 0.0 };
    p.is_finite().then_some(p.clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_is_the_ceiling_rank() {
        let v: Vec<u32> = (1..=10).collect();
        assert_eq!(nearest_rank(&v, 10), Some(1));
        assert_eq!(nearest_rank(&v, 50), Some(5));
        assert_eq!(nearest_rank(&v, 51), Some(6));
        assert_eq!(nearest_rank(&v, 90), Some(9));
        assert_eq!(nearest_rank(&v, 95), Some(10));
        assert_eq!(nearest_rank(&v, 0), Some(1));
        assert_eq!(nearest_rank::<u32>(&[], 50), None);
        assert_eq!(nearest_rank(&[7.0], 95), Some(7.0));
    }

    #[test]
    fn normal_cdf_matches_reference_values() {
        for (x, want) in [
            (0.0, 0.5),
            (1.96, 0.975_002_104_851_780_1),
            (-1.0, 0.158_655_253_931_457_05),
            (-3.0, 0.001_349_898_031_630_095_7),
            (-5.0, 2.866_515_718_791_946e-7),
            (2.5, 0.993_790_334_674_223_8),
            (-8.0, 6.220_960_574_271_819e-16),
        ] {
            let got = normal_cdf(x);
            assert!(
                (got - want).abs() <= 1e-14 + 1e-12 * want,
                "Φ({x}) = {got}, want {want}"
            );
        }
        assert_eq!(normal_cdf(f64::INFINITY), 1.0);
        assert_eq!(normal_cdf(f64::NEG_INFINITY), 0.0);
    }

    #[test]
    fn wilson_interval_reference() {
        // 10 of 100: the textbook interval (0.0552, 0.1744).
        let i = wilson_interval(10, 100);
        assert!((i.low - 0.055_228_541_613_136).abs() < 1e-12, "{i:?}");
        assert!((i.high - 0.174_367_304_367_665).abs() < 1e-12, "{i:?}");
        let zero = wilson_interval(0, 50);
        assert_eq!(zero.low, 0.0);
        assert!(zero.high > 0.0 && zero.high < 0.1);
        assert_eq!(
            wilson_interval(0, 0),
            Interval {
                low: 0.0,
                high: 1.0
            }
        );
    }

    #[test]
    fn first_passage_without_drift_is_twice_the_tail() {
        // Reflection principle: P(min ≤ a) = 2Φ(a/(σ√T)) when ν = 0 (before the shift).
        let (sigma, t): (f64, f64) = (0.01, 100.0);
        let b: f64 = 0.9;
        let shifted = b * (-BROADIE_GLASSERMAN_BETA * sigma).exp();
        let want = 2.0 * normal_cdf(shifted.ln() / (sigma * t.sqrt()));
        let got = first_passage_probability(b, 0.0, sigma, t).unwrap();
        assert!((got - want).abs() < 1e-15);
        assert_eq!(first_passage_probability(0.0, 0.0, sigma, t), Some(0.0));
        assert_eq!(first_passage_probability(b, 0.0, 0.0, t), None);
    }
}
