//! Market data: price datasets and rate series, loaded once and shared read-only.
//!
//! Parsing is hand-rolled rather than going through serde/csv records because loading every
//! shipped file is on the server's start-up path and must stay in the low milliseconds.

mod dataset;
mod parse;
mod rates;

use std::collections::BTreeMap;
use std::path::Path;

pub use dataset::{
    Columns, DIVIDEND_STEP_TOLERANCE, Dataset, PRICE_RANGE, derive_dividends, known_name,
};
pub use parse::{parse_date, parse_f64};
pub use rates::RateSeries;

use crate::error::{DataError, InputError};

/// Every dataset and rate series the engine can use.
#[derive(Debug, Clone)]
pub struct MarketData {
    datasets: BTreeMap<String, Dataset>,
    fed_funds: RateSeries,
    tbill_3m: RateSeries,
    /// Per symbol: DFF and DTB3 forward-filled onto the dataset's dates, computed once here
    /// rather than on every run.
    aligned: BTreeMap<String, AlignedRates>,
}

/// Rate series (percent) forward-filled onto one dataset's trading days.
#[derive(Debug, Clone, PartialEq)]
pub struct AlignedRates {
    pub fed_funds: Vec<f64>,
    pub tbill_3m: Vec<f64>,
}

impl MarketData {
    pub fn new(datasets: Vec<Dataset>, fed_funds: RateSeries, tbill_3m: RateSeries) -> MarketData {
        let mut md = MarketData {
            datasets: BTreeMap::new(),
            fed_funds,
            tbill_3m,
            aligned: BTreeMap::new(),
        };
        for d in datasets {
            md.insert_dataset(d);
        }
        md
    }

    /// DFF and DTB3 on the dataset's own dates (same indexing as its columns).
    pub fn aligned_rates(&self, symbol: &str) -> Option<&AlignedRates> {
        self.aligned.get(symbol)
    }

    /// Loads every `*.csv` at the top level of `dir` as a dataset (symbol = upper-cased stem)
    /// and `rates/DFF.csv`, `rates/DTB3.csv` as the rate series. Sub-folders other than
    /// `rates/` (e.g. `supplemental/`) are ignored.
    pub fn load_dir(dir: &Path) -> Result<MarketData, DataError> {
        let label = dir.display().to_string();
        let entries = std::fs::read_dir(dir)
            .map_err(|e| DataError::new(&label, 0, format!("cannot read directory: {e}")))?;
        let mut paths = Vec::new();
        for e in entries {
            let e =
                e.map_err(|e| DataError::new(&label, 0, format!("cannot read directory: {e}")))?;
            let p = e.path();
            if p.is_file()
                && p.extension()
                    .and_then(|x| x.to_str())
                    .is_some_and(|x| x.eq_ignore_ascii_case("csv"))
            {
                paths.push(p);
            }
        }
        paths.sort();
        if paths.is_empty() {
            return Err(DataError::new(&label, 0, "no *.csv price files found"));
        }
        // Files are independent; parsing them on scoped threads roughly halves start-up on
        // two cores. Results are collected in path order, so the outcome is deterministic.
        let dff = dir.join("rates").join("DFF.csv");
        let dtb3 = dir.join("rates").join("DTB3.csv");
        let (datasets, fed_funds, tbill) = std::thread::scope(|s| {
            let prices: Vec<_> = paths
                .iter()
                .map(|p| s.spawn(move || Dataset::load_file(p)))
                .collect();
            let ff = s.spawn(|| RateSeries::load_file("DFF", &dff));
            let tb = RateSeries::load_file("DTB3", &dtb3);
            let join_err =
                |f: &Path| DataError::new(f.display().to_string(), 0, "loader thread panicked");
            let datasets: Result<Vec<Dataset>, DataError> = prices
                .into_iter()
                .zip(&paths)
                .map(|(h, p)| h.join().unwrap_or_else(|_| Err(join_err(p))))
                .collect();
            let ff = ff.join().unwrap_or_else(|_| Err(join_err(&dff)));
            (datasets, ff, tb)
        });
        Ok(MarketData::new(datasets?, fed_funds?, tbill?))
    }

    /// Adds (or replaces) a dataset, e.g. a user file passed on the command line.
    pub fn insert_dataset(&mut self, ds: Dataset) {
        let rates = AlignedRates {
            fed_funds: self.fed_funds.aligned(&ds.dates),
            tbill_3m: self.tbill_3m.aligned(&ds.dates),
        };
        self.aligned.insert(ds.symbol.clone(), rates);
        self.datasets.insert(ds.symbol.clone(), ds);
    }

    /// Convenience for the CLI's `--data-file`: loads and inserts, returning the symbol.
    pub fn load_price_file(&mut self, path: &Path) -> Result<String, DataError> {
        let ds = Dataset::load_file(path)?;
        let sym = ds.symbol.clone();
        self.insert_dataset(ds);
        Ok(sym)
    }

    pub fn datasets(&self) -> impl Iterator<Item = &Dataset> {
        self.datasets.values()
    }

    pub fn symbols(&self) -> Vec<&str> {
        self.datasets.keys().map(String::as_str).collect()
    }

    /// Looks a ticker up case-insensitively.
    pub fn dataset(&self, symbol: &str) -> Result<&Dataset, InputError> {
        let key = symbol.trim().to_ascii_uppercase();
        self.datasets.get(&key).ok_or_else(|| {
            InputError::new(
                "ticker",
                format!(
                    "unknown ticker `{}`; known tickers: {}",
                    symbol.trim(),
                    self.symbols().join(", ")
                ),
            )
        })
    }

    pub fn fed_funds(&self) -> &RateSeries {
        &self.fed_funds
    }

    pub fn tbill_3m(&self) -> &RateSeries {
        &self.tbill_3m
    }
}
