//! Sweeps (issue #16): a one- or two-parameter grid of backtests around a base input.
//!
//! Each cell is the base with one value per axis put into the field a user would set
//! ([`apply`]), run by [`crate::backtest::run_summary`]: the backtest's own validation,
//! simulation and metrics, so a cell's summary is bit-identical to
//! `run_backtest(..).summary` of the same input, and a cell whose parameters are invalid
//! carries the backtest's own error while the rest of the grid completes. Cells share the
//! caller's [`MarketData`].
//!
//! Cells are numbered row-major (y outer, x inner). [`compute_chunk`] computes any range of
//! them (what a distributed worker runs for a chunk of [`CHUNK_CELLS`]); [`run_sweep`] runs
//! the whole grid on the current rayon pool and reports finished cells in order. The output
//! does not depend on the number of threads. Everything is pure: no I/O, no clock.

mod heatmap;
mod input;
mod metric;
mod params;
mod run;

#[cfg(test)]
mod tests_cells;
#[cfg(test)]
mod tests_grid;

pub use input::{MAX_AXIS_VALUES, MAX_CELLS, SweepAxis, SweepInput, normalize_sweep, parse_axis};
pub use metric::{Direction, SweepMetric};
pub use params::{SweepParameter, apply};
pub use run::{
    CHUNK_CELLS, CellSpec, SweepCell, SweepResult, cell_inputs, chunks, compute_chunk, run_sweep,
};

use sha2::{Digest, Sha256};

use crate::backtest::InterestModel;
use crate::cache_key::canonical_json;
use crate::error::InputError;
use crate::market::MarketData;

/// Why a sweep returned no result.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SweepError {
    #[error(transparent)]
    Input(#[from] InputError),
    #[error("sweep cancelled")]
    Cancelled,
}

/// Cache key of a sweep: SHA-256 over a domain tag, [`crate::ENGINE_VERSION`], the canonical
/// JSON of the normalised input ([`normalize_sweep`]: the base normalised as a backtest) and
/// the fingerprints of the dataset and of the rate series the base's interest model reads.
pub fn sweep_cache_key(md: &MarketData, input: &SweepInput) -> Result<String, InputError> {
    let norm = normalize_sweep(md, input)?;
    let ds = md.dataset(&norm.base.ticker)?;
    let json = serde_json::to_value(&norm).unwrap_or_default();
    let mut h = Sha256::new();
    h.update(b"margin-engine-sweep\n");
    h.update(crate::ENGINE_VERSION.as_bytes());
    h.update(b"\n");
    h.update(canonical_json(&json).as_bytes());
    h.update(b"\n");
    h.update(ds.fingerprint.as_bytes());
    let rates = match norm.base.options.interest {
        InterestModel::FedFundsPlus { .. } => Some(&md.fed_funds().fingerprint),
        InterestModel::TbillPlus { .. } => Some(&md.tbill_3m().fingerprint),
        InterestModel::Fixed { .. } => None,
    };
    if let Some(f) = rates {
        h.update(b"\n");
        h.update(f.as_bytes());
    }
    Ok(hex::encode(h.finalize()))
}
