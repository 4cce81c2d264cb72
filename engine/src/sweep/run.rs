//! Cells of a sweep: their inputs, computing any range of them, and the whole grid.

use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::SweepError;
use super::input::{SweepInput, normalize_sweep};
use super::params::apply;
use crate::backtest::{BacktestError, BacktestInput, Summary, run_summary};
use crate::error::InputError;
use crate::market::MarketData;

/// Cells per chunk: the unit a distributed sweep hands out, and the batch `run_sweep` reports.
pub const CHUNK_CELLS: usize = 64;

/// One grid point. A cell is finished when it has a summary or an error; a cell of a
/// [`SweepResult::pending`] grid has neither until [`SweepResult::fill`] puts it in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SweepCell {
    pub x: f64,
    #[serde(default)]
    pub y: Option<f64>,
    /// Bit-identical to `run_backtest` of the cell's input.
    #[serde(default)]
    pub summary: Option<Summary>,
    /// Why the cell's parameters are not a valid backtest (the backtest's own error).
    #[serde(default)]
    pub error: Option<InputError>,
}

impl SweepCell {
    pub fn is_finished(&self) -> bool {
        self.summary.is_some() || self.error.is_some()
    }
}

/// What one cell runs: its grid index (row-major, y outer), coordinates and backtest input.
#[derive(Debug, Clone, PartialEq)]
pub struct CellSpec {
    pub index: usize,
    pub x: f64,
    pub y: Option<f64>,
    /// The base with the cell's values applied, or why they cannot be applied.
    pub input: Result<BacktestInput, InputError>,
}

/// A validated sweep: builds any cell's input from its index without building the others.
pub(crate) struct Plan<'a> {
    pub md: &'a MarketData,
    pub input: SweepInput,
}

impl<'a> Plan<'a> {
    pub fn new(md: &'a MarketData, input: &SweepInput) -> Result<Plan<'a>, SweepError> {
        Ok(Plan {
            md,
            input: normalize_sweep(md, input)?,
        })
    }

    pub fn cell_count(&self) -> usize {
        self.input.cell_count()
    }

    fn coordinates(&self, index: usize) -> (f64, Option<f64>) {
        let xs = &self.input.x.values;
        let x = xs[index % xs.len()];
        let y = self.input.y.as_ref().map(|y| y.values[index / xs.len()]);
        (x, y)
    }

    pub fn spec(&self, index: usize) -> CellSpec {
        let (x, y) = self.coordinates(index);
        let base = &self.input.base;
        let input = apply(self.md, base, self.input.x.parameter, x).and_then(|with_x| {
            match (&self.input.y, y) {
                (Some(axis), Some(v)) => apply(self.md, &with_x, axis.parameter, v),
                _ => Ok(with_x),
            }
        });
        CellSpec { index, x, y, input }
    }

    fn check_range(&self, range: &Range<usize>) -> Result<(), SweepError> {
        let n = self.cell_count();
        if range.start > range.end || range.end > n {
            return Err(SweepError::Input(InputError::new(
                "range",
                format!(
                    "cells {}..{} are not inside the grid of {n} cells",
                    range.start, range.end
                ),
            )));
        }
        Ok(())
    }

    /// The cells of `range` in order, computed on the current rayon pool.
    pub fn compute(
        &self,
        range: Range<usize>,
        cancel: &AtomicBool,
    ) -> Result<Vec<SweepCell>, SweepError> {
        self.check_range(&range)?;
        range
            .into_par_iter()
            .map(|i| cell(self.md, self.spec(i), cancel))
            .collect()
    }
}

fn cell(md: &MarketData, spec: CellSpec, cancel: &AtomicBool) -> Result<SweepCell, SweepError> {
    if cancel.load(Ordering::Relaxed) {
        return Err(SweepError::Cancelled);
    }
    let outcome = spec
        .input
        .map_err(BacktestError::Input)
        .and_then(|input| run_summary(md, &input, cancel));
    let (summary, error) = match outcome {
        Ok(s) => (Some(s), None),
        Err(BacktestError::Input(e)) => (None, Some(e)),
        Err(BacktestError::Cancelled) => return Err(SweepError::Cancelled),
    };
    Ok(SweepCell {
        x: spec.x,
        y: spec.y,
        summary,
        error,
    })
}

/// Every cell's input, in grid order (row-major: y outer, x inner).
pub fn cell_inputs(md: &MarketData, input: &SweepInput) -> Result<Vec<CellSpec>, SweepError> {
    let plan = Plan::new(md, input)?;
    Ok((0..plan.cell_count()).map(|i| plan.spec(i)).collect())
}

/// Cells `range` of the grid (indices as [`cell_inputs`]), in order, computed in parallel on
/// the current rayon pool. What a worker runs for one chunk of a distributed sweep; the
/// cells equal those of [`run_sweep`] at the same indices.
pub fn compute_chunk(
    md: &MarketData,
    input: &SweepInput,
    range: Range<usize>,
    cancel: &AtomicBool,
) -> Result<Vec<SweepCell>, SweepError> {
    Plan::new(md, input)?.compute(range, cancel)
}

/// The chunks of a grid of `cell_count` cells: `0..64, 64..128, …`.
pub fn chunks(cell_count: usize) -> Vec<Range<usize>> {
    (0..cell_count)
        .step_by(CHUNK_CELLS)
        .map(|s| s..(s + CHUNK_CELLS).min(cell_count))
        .collect()
}

/// A sweep's grid: every cell in row-major order (y outer, x inner).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SweepResult {
    pub engine_version: String,
    pub dataset_fingerprint: String,
    /// The normalised input.
    pub input: SweepInput,
    pub cells: Vec<SweepCell>,
    pub cell_count: usize,
    /// Finished cells, error cells included.
    pub completed_cells: usize,
    /// Axes that cannot change any run (e.g. a profit threshold outside PROFIT_THRESHOLD).
    #[serde(default)]
    pub warnings: Vec<String>,
}

impl SweepResult {
    /// The validated, normalised grid with no cell finished yet.
    pub fn pending(md: &MarketData, input: &SweepInput) -> Result<SweepResult, SweepError> {
        Plan::new(md, input).and_then(|plan| SweepResult::of_plan(&plan))
    }

    fn of_plan(plan: &Plan<'_>) -> Result<SweepResult, SweepError> {
        let input = &plan.input;
        let ds = plan.md.dataset(&input.base.ticker)?;
        let cells = (0..plan.cell_count())
            .map(|i| {
                let (x, y) = plan.coordinates(i);
                SweepCell {
                    x,
                    y,
                    summary: None,
                    error: None,
                }
            })
            .collect();
        let warnings = std::iter::once(&input.x)
            .chain(&input.y)
            .filter_map(|axis| axis.parameter.no_effect(&input.base))
            .collect();
        Ok(SweepResult {
            engine_version: crate::ENGINE_VERSION.to_string(),
            dataset_fingerprint: ds.fingerprint.clone(),
            input: input.clone(),
            cell_count: plan.cell_count(),
            cells,
            completed_cells: 0,
            warnings,
        })
    }

    /// Puts finished cells in from grid index `start` on (a chunk, however computed). Each
    /// must sit where it claims: its `x`/`y` are the grid's at its index.
    pub fn fill(&mut self, start: usize, cells: Vec<SweepCell>) -> Result<(), SweepError> {
        let end = start.saturating_add(cells.len());
        if end > self.cells.len() {
            return Err(SweepError::Input(InputError::new(
                "cells",
                format!(
                    "cells {start}..{end} are not inside the grid of {} cells",
                    self.cells.len()
                ),
            )));
        }
        for (k, c) in cells.into_iter().enumerate() {
            let slot = &mut self.cells[start + k];
            if slot.x.to_bits() != c.x.to_bits()
                || slot.y.map(f64::to_bits) != c.y.map(f64::to_bits)
            {
                return Err(SweepError::Input(InputError::new(
                    "cells",
                    format!("cell {} is not at x {} y {:?}", start + k, c.x, c.y),
                )));
            }
            self.completed_cells = self.completed_cells - usize::from(slot.is_finished())
                + usize::from(c.is_finished());
            *slot = c;
        }
        Ok(())
    }

    /// Finished share of the grid, 0–100.
    pub fn percent(&self) -> f64 {
        if self.cell_count == 0 {
            return 100.0;
        }
        self.completed_cells as f64 / self.cell_count as f64 * 100.0
    }
}

/// Runs every cell on the current rayon pool, in waves of a few chunks per thread; after each
/// wave `on_cells(start, cells)` receives the wave's cells in grid order (`start` is the grid
/// index of the first). Cells with invalid parameters carry their error and the sweep goes
/// on; `cancel` stops it (polled inside every run) with [`SweepError::Cancelled`]. The output
/// does not depend on the number of threads.
pub fn run_sweep(
    md: &MarketData,
    input: &SweepInput,
    on_cells: &mut dyn FnMut(usize, &[SweepCell]),
    cancel: &AtomicBool,
) -> Result<SweepResult, SweepError> {
    let plan = Plan::new(md, input)?;
    let mut result = SweepResult::of_plan(&plan)?;
    let n = plan.cell_count();
    // Waves long enough to keep every thread busy, short enough to report often (a chunk of
    // 15-year cells is ~20 ms of one core).
    let wave = CHUNK_CELLS * (2 * rayon::current_num_threads()).max(1);
    let mut start = 0;
    while start < n {
        let end = (start + wave).min(n);
        let cells = plan.compute(start..end, cancel)?;
        on_cells(start, &cells);
        result.fill(start, cells)?;
        start = end;
    }
    Ok(result)
}
