//! Return-series metrics (SPEC.md §4), matching quantstats 0.0.86 / empyrical-reloaded 0.7.1.
//! Usable on any daily returns series. Undefined values are `None` with a reason in
//! `undefined`, never NaN.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

mod passes;
mod series;

use passes::{FirstPass, SecondPass};
use series::r_squared;
pub(crate) use series::rolling_vol_sharpe_padded;
pub use series::{
    DrawdownEpisode, compound_by, drawdown_episodes, drawdown_series, mean, quantile_select,
    quantile_sorted, rolling_vol_sharpe, std,
};

pub const PERIODS: f64 = 252.0;
/// `Φ⁻¹(0.05)` as scipy computes it (quantstats' parametric VaR/CVaR use scipy).
const Z05: f64 = -1.644_853_626_951_472_9;
const ALPHA: f64 = 0.05;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Metrics {
    pub n_returns: usize,
    pub total_return: Option<f64>,
    pub cagr: Option<f64>,
    /// Set when final wealth is ≤ 0 and CAGR is reported as −1 by convention.
    pub cagr_flagged: bool,
    pub volatility: Option<f64>,
    pub sharpe: Option<f64>,
    pub sortino: Option<f64>,
    pub max_drawdown: Option<f64>,
    pub calmar: Option<f64>,
    pub ulcer_index: Option<f64>,
    pub best_day: Option<f64>,
    pub worst_day: Option<f64>,
    pub best_month: Option<f64>,
    pub worst_month: Option<f64>,
    pub best_year: Option<f64>,
    pub worst_year: Option<f64>,
    pub win_rate: Option<f64>,
    pub avg_return: Option<f64>,
    pub avg_win: Option<f64>,
    pub avg_loss: Option<f64>,
    pub payoff_ratio: Option<f64>,
    pub profit_factor: Option<f64>,
    pub gain_to_pain: Option<f64>,
    pub omega: Option<f64>,
    pub tail_ratio: Option<f64>,
    /// Historical 5 % quantile (empyrical `value_at_risk`).
    pub var95: Option<f64>,
    /// `μ + σΦ⁻¹(0.05)` (quantstats `value_at_risk`).
    pub var95_parametric: Option<f64>,
    /// Mean of the worst `⌊(n−1)·0.05⌋+1` returns (empyrical `conditional_value_at_risk`).
    pub cvar95: Option<f64>,
    /// Gaussian expected shortfall (quantstats `cvar`, its default method).
    pub cvar95_parametric: Option<f64>,
    pub skew: Option<f64>,
    pub kurtosis: Option<f64>,
    pub kelly: Option<f64>,
    pub risk_of_ruin: Option<f64>,
    pub longest_win_streak: u32,
    pub longest_loss_streak: u32,
    pub stability: Option<f64>,
    pub drawdown_count: usize,
    pub longest_drawdown_days: Option<i64>,
    pub avg_drawdown_days: Option<f64>,
    pub avg_drawdown_depth: Option<f64>,
    /// The ten deepest episodes, deepest first.
    pub worst_drawdowns: Vec<DrawdownEpisode>,
    /// Metric name → why it is `None`.
    pub undefined: BTreeMap<String, String>,
}

struct Undef<'a>(&'a mut BTreeMap<String, String>);

impl Undef<'_> {
    fn check(&mut self, name: &str, v: Option<f64>, reason: &str) -> Option<f64> {
        match v {
            Some(x) if x.is_finite() => Some(x),
            Some(_) => {
                self.0.insert(
                    name.to_string(),
                    "not a finite number for this series".to_string(),
                );
                None
            }
            None => {
                self.0.insert(name.to_string(), reason.to_string());
                None
            }
        }
    }
}

/// All §4 metrics of `returns` (one per date in `dates`). `rf_annual` is a decimal (0.02 = 2 %).
pub fn compute(dates: &[NaiveDate], returns: &[f64], rf_annual: f64) -> Metrics {
    compute_with_drawdown(dates, returns, rf_annual, None)
}

/// [`compute`] reusing a drawdown series the caller already has (it must equal
/// [`drawdown_series`] of `returns`; the backtest records exactly that per row).
pub fn compute_with_drawdown(
    dates: &[NaiveDate],
    returns: &[f64],
    rf_annual: f64,
    drawdown: Option<&[f64]>,
) -> Metrics {
    let mut undefined = BTreeMap::new();
    let mut u = Undef(&mut undefined);
    let n = returns.len();
    let nf = n as f64;
    let mut m = Metrics {
        n_returns: n,
        ..Default::default()
    };
    if n == 0 || dates.len() != n {
        let reason = if n == 0 {
            "no returns"
        } else {
            "dates and returns differ in length"
        };
        for name in [
            "totalReturn",
            "cagr",
            "volatility",
            "sharpe",
            "sortino",
            "maxDrawdown",
            "calmar",
            "ulcerIndex",
            "bestDay",
            "worstDay",
            "bestMonth",
            "worstMonth",
            "bestYear",
            "worstYear",
            "winRate",
            "avgReturn",
            "avgWin",
            "avgLoss",
            "payoffRatio",
            "profitFactor",
            "gainToPain",
            "omega",
            "tailRatio",
            "var95",
            "var95Parametric",
            "cvar95",
            "cvar95Parametric",
            "skew",
            "kurtosis",
            "kelly",
            "riskOfRuin",
            "stability",
        ] {
            undefined.insert(name.to_string(), reason.to_string());
        }
        m.undefined = undefined;
        return m;
    }
    let ann = PERIODS.sqrt();
    let rf_daily = (1.0 + rf_annual).powf(1.0 / PERIODS) - 1.0;
    let excess = (rf_annual != 0.0).then_some(rf_daily);
    // Every sum, product, extreme and streak in two fused passes (see `passes`).
    let p1 = FirstPass::run(dates, returns, excess);
    let p2 = SecondPass::run(returns, &p1, excess);

    let growth = p1.growth;
    let total = growth - 1.0;
    m.total_return = u.check("totalReturn", Some(total), "");
    let cagr = if growth <= 0.0 {
        m.cagr_flagged = true;
        Some(-1.0)
    } else {
        Some(growth.powf(PERIODS / nf) - 1.0)
    };
    m.cagr = u.check("cagr", cagr, "");
    let mo = &p2.moments;
    let sd = mo.std();
    let mu = Some(mo.mean);
    m.volatility = u.check(
        "volatility",
        sd.map(|s| s * ann),
        "needs at least 2 returns",
    );

    let (ex_mu, ex_sd) = if excess.is_some() {
        (
            Some(p1.excess_sum / nf),
            (n >= 2).then(|| (p2.excess_ss / (nf - 1.0)).sqrt()),
        )
    } else {
        (mu, sd)
    };
    m.sharpe = u.check(
        "sharpe",
        match (ex_mu, ex_sd) {
            (Some(a), Some(s)) if s > 0.0 => Some(a / s * ann),
            _ => None,
        },
        "zero variance or fewer than 2 returns",
    );
    let down = (p1.down_ss / nf).sqrt();
    m.sortino = u.check(
        "sortino",
        match ex_mu {
            Some(a) if down > 0.0 => Some(a / down * ann),
            _ => None,
        },
        "no negative returns",
    );

    let owned;
    let dd: &[f64] = match drawdown {
        Some(d) if d.len() == n => d,
        _ => {
            owned = drawdown_series(returns);
            &owned
        }
    };
    // Two chains in one pass: the minimum and the sum of squares.
    let (mut mdd, mut dd_ss) = (0.0_f64, -0.0_f64);
    for x in dd {
        mdd = mdd.min(*x);
        dd_ss += x * x;
    }
    m.max_drawdown = u.check("maxDrawdown", Some(mdd), "");
    m.calmar = u.check(
        "calmar",
        match m.cagr {
            Some(c) if mdd < 0.0 => Some(c / mdd.abs()),
            _ => None,
        },
        "no drawdown",
    );
    m.ulcer_index = u.check(
        "ulcerIndex",
        (n >= 2).then(|| (dd_ss / (nf - 1.0)).sqrt()),
        "needs at least 2 returns",
    );

    m.best_day = u.check("bestDay", Some(p1.max), "");
    m.worst_day = u.check("worstDay", Some(p1.min), "");
    m.best_month = u.check("bestMonth", Some(p1.best_month), "");
    m.worst_month = u.check("worstMonth", Some(p1.worst_month), "");
    m.best_year = u.check("bestYear", Some(p1.best_year), "");
    m.worst_year = u.check("worstYear", Some(p1.worst_year), "");

    // Sums run in series order, as pandas' would over the filtered series.
    let FirstPass {
        n_win,
        n_loss,
        n_nonzero,
        sum_win,
        sum_neg,
        sum_nonzero,
        sum_pos,
        sum_all,
        ..
    } = p1;
    let avg = |sum: f64, count: usize| (count > 0).then(|| sum / count as f64);
    let win_rate = avg(n_win as f64, n_nonzero);
    m.win_rate = u.check("winRate", win_rate, "no non-zero returns");
    m.avg_return = u.check(
        "avgReturn",
        avg(sum_nonzero, n_nonzero),
        "no non-zero returns",
    );
    m.avg_win = u.check("avgWin", avg(sum_win, n_win), "no positive returns");
    m.avg_loss = u.check("avgLoss", avg(sum_neg, n_loss), "no negative returns");
    let payoff = match (m.avg_win, m.avg_loss) {
        (Some(w), Some(l)) if l != 0.0 => Some(w / l.abs()),
        _ => None,
    };
    m.payoff_ratio = u.check(
        "payoffRatio",
        payoff,
        "needs both positive and negative returns",
    );
    m.profit_factor = u.check(
        "profitFactor",
        (sum_neg != 0.0).then(|| sum_pos / sum_neg.abs()),
        "no negative returns",
    );

    m.gain_to_pain = u.check(
        "gainToPain",
        (sum_neg != 0.0).then(|| sum_all / sum_neg.abs()),
        "no negative returns",
    );

    m.omega = u.check(
        "omega",
        (n >= 2 && sum_neg < 0.0).then(|| sum_win / -sum_neg),
        "no negative returns or fewer than 2 returns",
    );

    // Selection instead of a full sort: only three order statistics are needed.
    let mut buf = returns.to_vec();
    let q95 = quantile_select(&mut buf, 0.95);
    let q05 = quantile_select(&mut buf, 0.05);
    m.tail_ratio = u.check(
        "tailRatio",
        match (q95, q05) {
            (Some(a), Some(b)) if b != 0.0 => Some((a / b).abs()),
            _ => None,
        },
        "5th percentile is zero",
    );
    m.var95 = u.check("var95", q05, "");
    m.var95_parametric = u.check(
        "var95Parametric",
        mu.zip(sd).map(|(a, s)| a + s * Z05),
        "needs at least 2 returns",
    );
    // empyrical's cutoff index ⌊(n−1)·0.05⌋ is the q05 selection index, so the selection above
    // already put the worst `cutoff + 1` returns in front.
    let cutoff = (((nf - 1.0) * ALPHA) as usize).min(n - 1);
    m.cvar95 = u.check("cvar95", mean(&buf[..=cutoff]), "");
    let phi = (-0.5 * Z05 * Z05).exp() / (2.0 * std::f64::consts::PI).sqrt();
    m.cvar95_parametric = u.check(
        "cvar95Parametric",
        mu.zip(sd)
            .map(|(a, s)| if s == 0.0 { a } else { a - s * phi / ALPHA }),
        "needs at least 2 returns",
    );
    m.skew = u.check(
        "skew",
        mo.skew(),
        "needs at least 3 returns with non-zero variance",
    );
    m.kurtosis = u.check(
        "kurtosis",
        mo.kurtosis(),
        "needs at least 4 returns with non-zero variance",
    );
    m.kelly = u.check(
        "kelly",
        match (payoff, win_rate) {
            (Some(b), Some(p)) if b != 0.0 => Some((b * p - (1.0 - p)) / b),
            _ => None,
        },
        "payoff ratio undefined",
    );
    m.risk_of_ruin = u.check(
        "riskOfRuin",
        win_rate.map(|w| ((1.0 - w) / (1.0 + w)).powf(nf)),
        "win rate undefined",
    );
    m.longest_win_streak = p1.longest_win;
    m.longest_loss_streak = p1.longest_loss;
    m.stability = u.check(
        "stability",
        p2.regression
            .filter(|_| n >= 2)
            .and_then(|(sxy, sxx, syy)| r_squared(sxy, sxx, syy)),
        "needs 2 returns above -100 % with non-constant wealth",
    );

    let mut eps = drawdown_episodes(dates, dd);
    m.drawdown_count = eps.len();
    m.longest_drawdown_days = eps.iter().map(|e| e.days).max();
    m.avg_drawdown_days = (!eps.is_empty())
        .then(|| eps.iter().map(|e| e.days as f64).sum::<f64>() / eps.len() as f64);
    m.avg_drawdown_depth =
        (!eps.is_empty()).then(|| eps.iter().map(|e| e.depth).sum::<f64>() / eps.len() as f64);
    // The ten deepest, deepest first. Starts are distinct, so the order is total and selecting
    // the ten before sorting them gives what sorting everything would.
    let deeper = |a: &DrawdownEpisode, b: &DrawdownEpisode| {
        a.depth.total_cmp(&b.depth).then(a.start.cmp(&b.start))
    };
    if eps.len() > 10 {
        eps.select_nth_unstable_by(9, deeper);
        eps.truncate(10);
    }
    eps.sort_by(deeper);
    m.worst_drawdowns = eps;
    m.undefined = undefined;
    m
}
