//! Per-path random streams and the few exact variates the paths need.
//!
//! Path `i` draws only from ChaCha8 with the key expanded from the seed and stream number
//! `i`, so its numbers depend on nothing but (seed, i). The variates are implemented here, not
//! taken from a distribution library, so that a dependency upgrade cannot change the paths a
//! seed gives: Lemire's unbiased integer range, uniforms from the top 53 bits, and Doornik's
//! ziggurat (ZIGNOR, 128 layers; Marsaglia and Tsang's method with independent layer bits)
//! for standard normals.

use std::sync::OnceLock;

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};

/// 2⁻⁵³.
const UNIT: f64 = 1.0 / 9_007_199_254_740_992.0;

/// The ChaCha8 key of a seed (expanded once per run).
pub(crate) fn key_of(seed: u64) -> [u8; 32] {
    ChaCha8Rng::seed_from_u64(seed).get_seed()
}

/// The random stream of path `index`.
pub(crate) fn path_rng(key: [u8; 32], index: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::from_seed(key);
    rng.set_stream(index);
    rng
}

/// Uniform in (0, 1] (never 0, so its logarithm is finite).
#[inline]
pub(crate) fn unit_open0(rng: &mut ChaCha8Rng) -> f64 {
    ((rng.next_u64() >> 11) + 1) as f64 * UNIT
}

/// Uniform integer in [0, k) without modulo bias (Lemire 2019). `k ≥ 1`.
#[inline]
pub(crate) fn below(rng: &mut ChaCha8Rng, k: u64) -> u64 {
    let mut m = u128::from(rng.next_u64()) * u128::from(k);
    if (m as u64) < k {
        let threshold = k.wrapping_neg() % k;
        while (m as u64) < threshold {
            m = u128::from(rng.next_u64()) * u128::from(k);
        }
    }
    (m >> 64) as u64
}

const LAYERS: usize = 128;
/// Start of the tail and area of each layer for 128 layers (Marsaglia and Tsang 2000).
const ZIG_R: f64 = 3.442_619_855_899;
const ZIG_V: f64 = 9.912_563_035_262_17e-3;

struct Ziggurat {
    /// Layer edges: `x[0] = V/f(R)` (the base strip, tail included), `x[1] = R`, …, `x[128] = 0`.
    x: [f64; LAYERS + 1],
    /// `x[i+1]/x[i]`: below it a point is inside the layer's rectangle for sure.
    ratio: [f64; LAYERS],
}

fn ziggurat() -> &'static Ziggurat {
    static Z: OnceLock<Ziggurat> = OnceLock::new();
    Z.get_or_init(|| {
        let mut x = [0.0; LAYERS + 1];
        let mut f = (-0.5 * ZIG_R * ZIG_R).exp();
        x[0] = ZIG_V / f;
        x[1] = ZIG_R;
        for i in 2..LAYERS {
            x[i] = (-2.0 * (ZIG_V / x[i - 1] + f).ln()).sqrt();
            f = (-0.5 * x[i] * x[i]).exp();
        }
        x[LAYERS] = 0.0;
        let mut ratio = [0.0; LAYERS];
        for i in 0..LAYERS {
            ratio[i] = x[i + 1] / x[i];
        }
        Ziggurat { x, ratio }
    })
}

/// A standard normal. One 64-bit draw gives the layer (low 7 bits) and the abscissa (top 53
/// bits, independent of them); about 99 % of draws return after one compare.
#[inline]
pub(crate) fn standard_normal(rng: &mut ChaCha8Rng) -> f64 {
    let z = ziggurat();
    loop {
        let bits = rng.next_u64();
        let i = (bits & 0x7f) as usize;
        let u = 2.0 * ((bits >> 11) as f64 * UNIT) - 1.0;
        if u.abs() < z.ratio[i] {
            return u * z.x[i];
        }
        if i == 0 {
            return normal_tail(rng, u < 0.0);
        }
        // The wedge between the layer's rectangle and the density.
        let x = u * z.x[i];
        let f0 = (-0.5 * (z.x[i] * z.x[i] - x * x)).exp();
        let f1 = (-0.5 * (z.x[i + 1] * z.x[i + 1] - x * x)).exp();
        if f1 + unit_open0(rng) * (f0 - f1) < 1.0 {
            return x;
        }
    }
}

/// Beyond `R` (Marsaglia 1964).
fn normal_tail(rng: &mut ChaCha8Rng, negative: bool) -> f64 {
    loop {
        let x = unit_open0(rng).ln() / ZIG_R;
        let y = unit_open0(rng).ln();
        if -2.0 * y >= x * x {
            return if negative { x - ZIG_R } else { ZIG_R - x };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::risk::stats::normal_cdf;

    #[test]
    fn streams_are_per_path_and_reproducible() {
        let key = key_of(42);
        let a: Vec<u64> = (0..4).map(|_| path_rng(key, 7).next_u64()).collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]));
        assert_ne!(path_rng(key, 7).next_u64(), path_rng(key, 8).next_u64());
        assert_ne!(
            path_rng(key, 7).next_u64(),
            path_rng(key_of(43), 7).next_u64()
        );
    }

    #[test]
    fn ziggurat_draws_are_standard_normal() {
        let mut rng = path_rng(key_of(1), 0);
        let n = 400_000;
        let mut v: Vec<f64> = (0..n).map(|_| standard_normal(&mut rng)).collect();
        let mean = v.iter().sum::<f64>() / n as f64;
        let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
        assert!(
            mean.abs() < 0.006 && (var - 1.0).abs() < 0.01,
            "{mean} {var}"
        );
        // Kolmogorov–Smirnov against Φ: the 0.1 % critical value is 1.95/√n.
        v.sort_unstable_by(f64::total_cmp);
        let ks = v
            .iter()
            .enumerate()
            .map(|(k, &x)| {
                let f = normal_cdf(x);
                (f - k as f64 / n as f64)
                    .abs()
                    .max(((k + 1) as f64 / n as f64 - f).abs())
            })
            .fold(0.0, f64::max);
        assert!(ks < 1.95 / (n as f64).sqrt(), "KS {ks}");
        // The tail beyond R = 3.44 (its own sampler) has the right mass: 2·Φ(−R) = 5.76e-4.
        let tail = v.iter().filter(|x| x.abs() > ZIG_R).count() as f64 / n as f64;
        let want = 2.0 * normal_cdf(-ZIG_R);
        assert!(
            (tail - want).abs() < 5.0 * (want / n as f64).sqrt(),
            "{tail} vs {want}"
        );
    }

    #[test]
    fn integers_and_geometric_lengths() {
        let mut rng = path_rng(key_of(2), 0);
        let mut counts = [0u32; 7];
        for _ in 0..70_000 {
            counts[below(&mut rng, 7) as usize] += 1;
        }
        assert!(
            counts.iter().all(|&c| (9_500..10_500).contains(&c)),
            "{counts:?}"
        );
        // Geometric block lengths with mean 20, by inversion as the bootstrap draws them.
        let ln_stay = (1.0 - 1.0 / 20.0f64).ln();
        let total: f64 = (0..100_000)
            .map(|_| 1.0 + (unit_open0(&mut rng).ln() / ln_stay).floor())
            .sum();
        assert!(
            (total / 100_000.0 - 20.0).abs() < 0.3,
            "{}",
            total / 100_000.0
        );
    }
}
