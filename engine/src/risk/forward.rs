//! `forwardRisk`: Monte Carlo paths with the margin rules inside every path.

use std::sync::atomic::{AtomicBool, Ordering};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::RiskError;
use super::gbm::Barrier;
use super::input::{ForwardResolved, ForwardRiskInput, Method, resolve_forward};
use super::paths::{PathSpec, Sampler, run_path};
use super::rng::key_of;
use super::series::{Move, margin_rate_pct, moves};
use super::sketch::{FanDays, Sketch};
use super::stats::{CallDays, Interval, Percentiles, first_passage_probability, wilson_interval};
use super::window::{Outcome, Rules};
use crate::market::MarketData;

/// Paths per parallel task.
const CHUNK: usize = 64;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ForwardFigures {
    /// Equity percentile bands (5–95, 25–75, median) by trading day and the cumulative share
    /// of paths called (Plotly `{data, layout}`).
    pub fan: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ForwardRisk {
    /// The normalised input (sample dates snapped, seed included).
    pub input: ForwardRiskInput,
    pub engine_version: String,
    pub dataset_fingerprint: String,
    pub maintenance: f64,
    pub paths: u32,
    pub seed: u64,
    /// Daily returns in the resampled history.
    pub sample_days: u32,
    pub paths_with_call: u32,
    pub probability: f64,
    /// Wilson 95 %.
    pub interval: Interval,
    /// Over called paths; `None` when none is called.
    pub days_to_first_call: Option<CallDays>,
    /// Over all paths; a called path's terminal equity is what its FULL liquidation left.
    pub terminal_equity: Percentiles,
    /// Mean terminal equity of the worst ⌈5 %⌉ of paths.
    pub expected_shortfall5: f64,
    /// GBM with zero interest only: the first-passage probability to the call price.
    pub analytic_probability: Option<f64>,
    pub figures: ForwardFigures,
}

/// Mean and standard deviation (ddof 1) of the sample's log returns, and its mean interest
/// factor: the GBM's parameters.
fn gbm_parameters(moves: &[Move]) -> (f64, f64, f64) {
    let n = moves.len() as f64;
    let nu = moves.iter().map(|m| m.ratio.ln()).sum::<f64>() / n;
    let ss: f64 = moves.iter().map(|m| (m.ratio.ln() - nu).powi(2)).sum();
    let sigma = if moves.len() > 1 {
        (ss / (n - 1.0)).sqrt()
    } else {
        0.0
    };
    let g = moves.iter().map(|m| m.g).sum::<f64>() / n;
    let finite = |v: f64| if v.is_finite() { v } else { 0.0 };
    (finite(nu), finite(sigma), finite(g))
}

/// A validated input, its sample and the per-path spec.
pub(crate) struct Prepared<'a> {
    pub r: ForwardResolved<'a>,
    pub moves: Vec<Move>,
    pub gbm: (f64, f64, f64),
    pub rules: Rules,
    /// GBM's per-day loan and call price (empty for the bootstraps).
    pub barrier: Barrier,
}

impl<'a> Prepared<'a> {
    pub fn new(md: &'a MarketData, input: &ForwardRiskInput) -> Result<Prepared<'a>, RiskError> {
        let r = resolve_forward(input, md)?;
        let ds = r.common.ds;
        let o = &r.common.options;
        let rates = margin_rate_pct(md, ds, o);
        let moves = moves(
            ds,
            &rates,
            f64::from(o.day_count_basis),
            r.sample_from,
            r.sample_to,
        );
        let gbm = gbm_parameters(&moves);
        let rules = Rules::new(
            r.common.profile.maintenance,
            o.intraday,
            o.liquidation_slippage_bps,
        );
        let barrier = if r.input.method == Method::Gbm {
            Barrier::new(
                r.input.initial_investment,
                r.input.leverage,
                gbm.2,
                &rules,
                r.input.horizon_days,
            )
        } else {
            Barrier::new(r.input.initial_investment, r.input.leverage, 0.0, &rules, 0)
        };
        Ok(Prepared {
            r,
            moves,
            gbm,
            rules,
            barrier,
        })
    }

    pub fn spec(&self) -> PathSpec<'_> {
        let i = &self.r.input;
        let sampler = match i.method {
            Method::StationaryBootstrap => Sampler::Bootstrap {
                moves: &self.moves,
                p_new: 1.0 / i.mean_block_days,
            },
            Method::IidBootstrap => Sampler::Bootstrap {
                moves: &self.moves,
                p_new: 1.0,
            },
            Method::Gbm => Sampler::Gbm {
                nu: self.gbm.0,
                sigma: self.gbm.1,
                barrier: &self.barrier,
            },
        };
        PathSpec {
            sampler,
            rules: self.rules,
            e0: i.initial_investment,
            leverage: i.leverage,
            h: i.horizon_days,
            key: key_of(i.seed),
        }
    }

    /// Every path's outcome in path order and the merged fan sketch. Each path is computed
    /// alone from its own stream and the sketch is integer counts, so neither depends on how
    /// rayon splits the work.
    pub fn simulate(
        &self,
        cancel: &AtomicBool,
    ) -> Result<(Vec<Outcome>, Sketch, FanDays), RiskError> {
        let spec = self.spec();
        let fan = FanDays::new(spec.h);
        let slots = fan.days.len();
        let paths = self.r.input.paths as usize;
        let mut out = vec![
            Outcome {
                call_day: None,
                equity: 0.0
            };
            paths
        ];
        let sketch = out
            .par_chunks_mut(CHUNK)
            .enumerate()
            .fold(
                || Sketch::new(slots),
                |mut sketch, (c, chunk)| {
                    for (j, slot) in chunk.iter_mut().enumerate() {
                        if cancel.load(Ordering::Relaxed) {
                            break;
                        }
                        *slot = run_path(&spec, (c * CHUNK + j) as u64, &fan, &mut sketch);
                    }
                    sketch
                },
            )
            .reduce_with(Sketch::merge)
            .unwrap_or_else(|| Sketch::new(slots));
        if cancel.load(Ordering::Relaxed) {
            return Err(RiskError::Cancelled);
        }
        Ok((out, sketch, fan))
    }

    /// The GBM first-passage probability when it is exact: GBM and no interest (so the loan,
    /// the shares and hence the call price are constant).
    fn analytic(&self) -> Option<f64> {
        let i = &self.r.input;
        let (nu, sigma, g) = self.gbm;
        if i.method != Method::Gbm || g != 0.0 {
            return None;
        }
        let pos = super::window::Position::enter(i.initial_investment, i.leverage, 1.0);
        // P_call / P_0 with P_0 = 1.
        let b = pos.d / (pos.n * self.rules.one_minus_m);
        first_passage_probability(b, nu, sigma, f64::from(i.horizon_days))
    }
}

/// Forward Monte Carlo odds of a margin call within `horizonDays`. Runs on the current rayon
/// pool (the caller bounds it with `pool.install`); `cancel` is polled before every path.
pub fn forward_risk(
    md: &MarketData,
    input: &ForwardRiskInput,
    cancel: &AtomicBool,
) -> Result<ForwardRisk, RiskError> {
    let prep = Prepared::new(md, input)?;
    let (outcomes, sketch, fan) = prep.simulate(cancel)?;
    let i = &prep.r.input;
    let e0 = i.initial_investment;
    let paths = outcomes.len();
    let h = i.horizon_days as usize;

    let mut days: Vec<u32> = outcomes.iter().filter_map(|o| o.call_day).collect();
    days.sort_unstable();
    let called = days.len();
    let mut equity: Vec<f64> = outcomes
        .iter()
        // Only a pathological hand-built dataset (ratios near PRICE_RANGE's ends compounded
        // over years) could overflow; keep such a path finite at the largest f64.
        .map(|o| match o.equity {
            e if e.is_finite() => e,
            e if e > 0.0 => f64::MAX,
            _ => 0.0,
        })
        .collect();
    equity.sort_unstable_by(f64::total_cmp);
    let flat = Percentiles {
        p5: e0,
        p25: e0,
        p50: e0,
        p75: e0,
        p95: e0,
    };
    let terminal = Percentiles::of_sorted(&equity).unwrap_or(flat);
    let worst = paths.div_ceil(20).max(1).min(paths.max(1));
    // Each term divided first, so even f64::MAX-capped paths cannot sum to infinity.
    let expected_shortfall5 = equity[..worst.min(equity.len())]
        .iter()
        .map(|e| e / worst as f64)
        .sum::<f64>();

    // Fan bands: exact at day 0 (every path at E0) and day H (the exact terminal
    // percentiles), from the sketch in between.
    let last_slot = fan.days.len() - 1;
    let bands: Vec<Percentiles> = (0..fan.days.len())
        .map(|s| {
            if s == 0 {
                flat
            } else if s == last_slot {
                terminal
            } else {
                let q = |p| sketch.percentile(s, p) * e0;
                Percentiles {
                    p5: q(5),
                    p25: q(25),
                    p50: q(50),
                    p75: q(75),
                    p95: q(95),
                }
            }
        })
        .collect();
    let mut per_day = vec![0u32; h + 1];
    for &d in &days {
        if let Some(c) = per_day.get_mut(d as usize) {
            *c += 1;
        }
    }
    let mut running = 0u64;
    let called_share: Vec<f64> = per_day
        .iter()
        .map(|&c| {
            running += u64::from(c);
            running as f64 / paths as f64
        })
        .collect();

    Ok(ForwardRisk {
        input: i.clone(),
        engine_version: crate::ENGINE_VERSION.to_string(),
        dataset_fingerprint: prep.r.common.ds.fingerprint.clone(),
        maintenance: prep.rules.m,
        paths: paths as u32,
        seed: i.seed,
        sample_days: prep.moves.len() as u32,
        paths_with_call: called as u32,
        probability: called as f64 / paths as f64,
        interval: wilson_interval(called as u64, paths as u64),
        days_to_first_call: CallDays::of_sorted(&days),
        terminal_equity: terminal,
        expected_shortfall5,
        analytic_probability: prep.analytic(),
        figures: ForwardFigures {
            fan: super::figures::fan(&fan.days, &bands, &called_share),
        },
    })
}
