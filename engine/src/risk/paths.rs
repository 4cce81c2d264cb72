//! Forward paths: where each day comes from (stationary bootstrap, iid bootstrap, GBM), the
//! per-path random stream, and one path through the position model.
//!
//! Reproducibility: path `i` draws only from its own ChaCha8 stream — the key expanded from
//! the seed once, the stream number `i` — so a path's numbers do not depend on which thread
//! runs it or on any other path. The samplers use their own small exact methods (Lemire's
//! unbiased integer range, inverse-CDF geometric lengths, a ziggurat for normals) rather
//! than a distribution library, so a dependency upgrade cannot silently change the paths a
//! seed gives ([`super::rng`]).

use rand_chacha::ChaCha8Rng;

use super::gbm::Barrier;
use super::rng::{below, path_rng, unit_open0};
use super::series::{Bar, Move};
use super::sketch::{FanDays, Sketch};
use super::window::{Outcome, Position, Rules};

/// Where a path's days come from.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Sampler<'a> {
    /// Blocks of the sample: a new block (uniform start) with probability `p_new` each day,
    /// else the next day of the sample, wrapping around its end. `p_new = 1` is the iid
    /// bootstrap.
    Bootstrap { moves: &'a [Move], p_new: f64 },
    /// Log returns `N(nu, sigma²)`; low = open = close, no dividends, the interest factor
    /// folded into the barrier's loans.
    Gbm {
        nu: f64,
        sigma: f64,
        barrier: &'a Barrier,
    },
}

/// One day at a time from a sampler, with the path's RNG.
trait Days {
    fn next(&mut self, rng: &mut ChaCha8Rng) -> Move;
}

struct Blocks<'a> {
    moves: &'a [Move],
    pos: usize,
    left: u64,
    /// `ln(1 − p_new)`, or 0 for block length 1.
    ln_stay: f64,
    /// Block lengths are capped here (a longer block is indistinguishable within a path).
    cap: f64,
}

impl Days for Blocks<'_> {
    #[inline(always)]
    fn next(&mut self, rng: &mut ChaCha8Rng) -> Move {
        if self.left == 0 {
            self.pos = below(rng, self.moves.len() as u64) as usize;
            // Geometric on {1, 2, …} with mean 1/p by inversion: 1 + ⌊ln U / ln(1 − p)⌋.
            self.left = if self.ln_stay < 0.0 {
                (1.0 + (unit_open0(rng).ln() / self.ln_stay).floor()).min(self.cap) as u64
            } else {
                1
            };
        } else {
            self.pos += 1;
            if self.pos == self.moves.len() {
                self.pos = 0;
            }
        }
        self.left -= 1;
        self.moves[self.pos]
    }
}

/// GBM days as moves, for checking [`super::gbm`]'s log-space walk against the general one.
#[cfg(test)]
struct Normals {
    nu: f64,
    sigma: f64,
    g: f64,
}

#[cfg(test)]
impl Days for Normals {
    #[inline(always)]
    fn next(&mut self, rng: &mut ChaCha8Rng) -> Move {
        let z = super::rng::standard_normal(rng);
        let ratio = (self.nu + self.sigma * z).exp();
        Move {
            ratio,
            low: ratio,
            open: ratio,
            qy: 0.0,
            g: self.g,
        }
    }
}

/// Everything a path needs besides its index.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PathSpec<'a> {
    pub sampler: Sampler<'a>,
    pub rules: Rules,
    pub e0: f64,
    pub leverage: f64,
    pub h: u32,
    pub key: [u8; 32],
}

/// Runs path `index`, counting its equity / E0 at the fan days into `sketch`.
pub(crate) fn run_path(
    spec: &PathSpec<'_>,
    index: u64,
    fan: &FanDays,
    sketch: &mut Sketch,
) -> Outcome {
    let mut rng = path_rng(spec.key, index);
    match spec.sampler {
        Sampler::Bootstrap { moves, p_new } => {
            let mut days = Blocks {
                moves,
                pos: 0,
                left: 0,
                ln_stay: if p_new < 1.0 { (1.0 - p_new).ln() } else { 0.0 },
                cap: f64::from(spec.h),
            };
            walk(spec, &mut days, &mut rng, fan, sketch)
        }
        Sampler::Gbm { nu, sigma, barrier } => {
            super::gbm::walk(spec, nu, sigma, barrier, &mut rng, fan, sketch)
        }
    }
}

/// Path `index` of a GBM spec stepped through the general position model (tests only).
#[cfg(test)]
pub(crate) fn run_path_general(
    spec: &PathSpec<'_>,
    index: u64,
    fan: &FanDays,
    sketch: &mut Sketch,
) -> Outcome {
    let mut rng = path_rng(spec.key, index);
    match spec.sampler {
        Sampler::Gbm { nu, sigma, barrier } => {
            let mut days = Normals {
                nu,
                sigma,
                g: barrier.g,
            };
            walk(spec, &mut days, &mut rng, fan, sketch)
        }
        Sampler::Bootstrap { .. } => run_path(spec, index, fan, sketch),
    }
}

/// A path called on `day` with `equity` left: in cash from then on, so that equity is its
/// value at every later fan day.
pub(crate) fn called(
    fan: &FanDays,
    sketch: &mut Sketch,
    e0: f64,
    day: u32,
    equity: f64,
) -> Outcome {
    let from = fan.days.partition_point(|&d| d < day);
    for s in from..fan.days.len() {
        sketch.add(s, equity / e0);
    }
    Outcome {
        call_day: Some(day),
        equity,
    }
}

/// The position model along one path, prices relative to an entry close of 1.
#[inline(always)]
fn walk<D: Days>(
    spec: &PathSpec<'_>,
    days: &mut D,
    rng: &mut ChaCha8Rng,
    fan: &FanDays,
    sketch: &mut Sketch,
) -> Outcome {
    let e0 = spec.e0;
    let mut pos = Position::enter(e0, spec.leverage, 1.0);
    sketch.add(0, 1.0);
    let mut p = 1.0_f64;
    for day in 1..=spec.h {
        let mv = days.next(rng);
        let bar = Bar {
            g: mv.g,
            qy: mv.qy,
            close: p * mv.ratio,
            low: p * mv.low,
            open: p * mv.open,
        };
        if let Some(e) = pos.step(&bar, &spec.rules) {
            return called(fan, sketch, e0, day, e);
        }
        p = bar.close;
        if let Some(Some(s)) = fan.slot_of_day.get(day as usize) {
            sketch.add(usize::from(*s), pos.equity(p) / e0);
        }
    }
    Outcome {
        call_day: None,
        equity: pos.equity(p),
    }
}
