//! Sweep inputs, their validation (typed [`InputError`]s naming `x.values`, `y.parameter`, …)
//! and the CLI's axis syntax.

use serde::{Deserialize, Serialize};

use super::params::SweepParameter;
use crate::backtest::{BacktestInput, normalize};
use crate::error::{InputError, fmt_num};
use crate::market::MarketData;

/// Values per axis at most.
pub const MAX_AXIS_VALUES: usize = 100;
/// Cells per sweep at most.
pub const MAX_CELLS: usize = 10_000;
/// How close a `from:to:step` range must come to `to` to include it.
const RANGE_TOLERANCE: f64 = 1e-9;

/// One varied parameter and its values, in the order the grid lays them out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SweepAxis {
    pub parameter: SweepParameter,
    pub values: Vec<f64>,
}

/// A one- or two-parameter grid of backtests around `base`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SweepInput {
    pub base: BacktestInput,
    pub x: SweepAxis,
    #[serde(default)]
    pub y: Option<SweepAxis>,
}

impl SweepInput {
    /// Cells in the grid: `|x| · |y|` (`|x|` without a y axis).
    pub fn cell_count(&self) -> usize {
        self.x.values.len() * self.y.as_ref().map_or(1, |y| y.values.len())
    }
}

/// Checks one axis's values: 1–100 of them, finite, no value twice. `-0` becomes `0`.
fn checked_values(field: &str, values: &[f64]) -> Result<Vec<f64>, InputError> {
    if values.is_empty() || values.len() > MAX_AXIS_VALUES {
        return Err(InputError::new(
            field,
            format!(
                "must have between 1 and {MAX_AXIS_VALUES} values (got {})",
                values.len()
            ),
        ));
    }
    let mut out = Vec::with_capacity(values.len());
    for (i, &v) in values.iter().enumerate() {
        if !v.is_finite() {
            return Err(InputError::new(
                field,
                format!("value {} is not a finite number", i + 1),
            ));
        }
        let v = v + 0.0;
        if out.contains(&v) {
            return Err(InputError::new(
                field,
                format!("{} appears more than once", fmt_num(v)),
            ));
        }
        out.push(v);
    }
    Ok(out)
}

/// Validates the grid and normalises the base (which must be a valid backtest on its own;
/// its errors name `base.<field>`). The canonical form: the normalised base, axis values as
/// given (`-0` as `0`). Idempotent.
pub fn normalize_sweep(md: &MarketData, input: &SweepInput) -> Result<SweepInput, InputError> {
    let x = SweepAxis {
        parameter: input.x.parameter,
        values: checked_values("x.values", &input.x.values)?,
    };
    let y = match &input.y {
        None => None,
        Some(y) if y.parameter == x.parameter => {
            return Err(InputError::new(
                "y.parameter",
                format!("must differ from x.parameter ({})", x.parameter),
            ));
        }
        Some(y) => Some(SweepAxis {
            parameter: y.parameter,
            values: checked_values("y.values", &y.values)?,
        }),
    };
    let out = SweepInput {
        base: normalize(&input.base, md)
            .map_err(|e| InputError::new(format!("base.{}", e.field), e.message))?,
        x,
        y,
    };
    // 100 × 100 is the most two axes can hold; kept as a check should the limits diverge.
    let cells = out.cell_count();
    if cells > MAX_CELLS {
        return Err(InputError::new(
            "y.values",
            format!("the grid has {cells} cells; at most {MAX_CELLS} are allowed"),
        ));
    }
    Ok(out)
}

/// Decimal places written in a number (`0.05` → 2), `None` in exponent form.
fn decimals(s: &str) -> Option<i32> {
    if s.contains(['e', 'E']) {
        return None;
    }
    Some(s.split_once('.').map_or(0, |(_, frac)| frac.len() as i32))
}

/// Reads the CLI's axis syntax: `leverage=1,1.5,2` (a list) or `start-year=2000:2020:5`
/// (`from:to:step`, `step > 0`, `to` included when a step reaches it within 1e-9, each value
/// rounded to the decimals written so `1:2:0.1` gives exactly 1.1, 1.2, …). Errors name the
/// field `axis`.
pub fn parse_axis(s: &str) -> Result<SweepAxis, InputError> {
    let field = "axis";
    let (name, spec) = s.split_once('=').ok_or_else(|| {
        InputError::new(
            field,
            format!(
                "`{s}` is not PARAMETER=VALUES (e.g. leverage=1,1.5,2 or start-year=2000:2020:5)"
            ),
        )
    })?;
    let parameter: SweepParameter = name
        .parse()
        .map_err(|e: InputError| InputError::new(field, e.message))?;
    let num = |t: &str| -> Result<f64, InputError> {
        let t = t.trim();
        match t.parse::<f64>() {
            Ok(v) if v.is_finite() => Ok(v),
            _ => Err(InputError::new(
                field,
                format!("`{t}` is not a finite number"),
            )),
        }
    };
    let parts: Vec<&str> = spec.split(':').collect();
    let values = match parts.as_slice() {
        [_] => spec.split(',').map(num).collect::<Result<Vec<_>, _>>()?,
        [from_s, to_s, step_s] => {
            let (from, to, step) = (num(from_s)?, num(to_s)?, num(step_s)?);
            if step <= 0.0 {
                return Err(InputError::new(field, "the step must be above 0"));
            }
            if to < from {
                return Err(InputError::new(
                    field,
                    format!("`to` {} is below `from` {}", fmt_num(to), fmt_num(from)),
                ));
            }
            let steps = ((to - from) / step + RANGE_TOLERANCE).floor();
            if steps >= MAX_AXIS_VALUES as f64 {
                return Err(InputError::new(
                    field,
                    format!("`{spec}` gives more than {MAX_AXIS_VALUES} values"),
                ));
            }
            let dp = [from_s, to_s, step_s]
                .iter()
                .map(|t| decimals(t.trim()))
                .try_fold(0, |a, d| d.map(|d| a.max(d)));
            let scale = dp.filter(|d| *d <= 12).map(|d| 10f64.powi(d));
            // At most 100 values, so the count fits.
            (0..=steps as usize)
                .map(|k| {
                    let v = from + k as f64 * step;
                    let v = scale.map_or(v, |f| (v * f).round() / f);
                    if (v - to).abs() <= RANGE_TOLERANCE {
                        to
                    } else {
                        v
                    }
                })
                .collect()
        }
        _ => {
            return Err(InputError::new(
                field,
                format!("`{spec}` is neither a list (1,1.5,2) nor a range (from:to:step)"),
            ));
        }
    };
    Ok(SweepAxis {
        parameter,
        values: checked_values(field, &values)?,
    })
}
