//! Market data: price datasets and rate series, loaded once and shared read-only.
//!
//! Parsing is hand-rolled rather than going through serde/csv records because loading every
//! shipped file is on the server's start-up path and must stay in the low milliseconds.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{Datelike, NaiveDate};
use sha2::{Digest, Sha256};

use crate::error::{DataError, InputError};

/// Relative step in `adj_close/close` below which no dividend is recognised. ENGINE.md says
/// 1e-6, but float32 rounding of the early (~$25) adjusted prices produces ratio jitter up to
/// 1.44e-6, which would invent 8 SPY and 6 VTI "dividends" of ~$0.0001; the smallest real step
/// in the shipped data is 3.9e-4. See NOTES.md.
pub const DIVIDEND_STEP_TOLERANCE: f64 = 1e-5;

/// One instrument's daily history, columnar.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    pub symbol: String,
    pub name: String,
    pub dates: Vec<NaiveDate>,
    pub open: Vec<f64>,
    pub high: Vec<f64>,
    pub low: Vec<f64>,
    pub close: Vec<f64>,
    pub adj_close: Vec<f64>,
    pub volume: Vec<f64>,
    /// Cash dividend per share on its ex-date (ENGINE.md §3), 0 elsewhere.
    pub dividends: Vec<f64>,
    /// SHA-256 hex of the parsed columns; changes whenever any value the engine uses changes.
    pub fingerprint: String,
}

/// Columns for [`Dataset::from_columns`]; `adj_close` defaults to `close` (no dividends) and
/// `open/high/low` to `close` when a caller only has closes.
#[derive(Debug, Clone, Default)]
pub struct Columns {
    pub dates: Vec<NaiveDate>,
    pub open: Option<Vec<f64>>,
    pub high: Option<Vec<f64>>,
    pub low: Option<Vec<f64>>,
    pub close: Vec<f64>,
    pub adj_close: Option<Vec<f64>>,
    pub volume: Option<Vec<f64>>,
    /// Explicit dividends override the ones derived from `adj_close`.
    pub dividends: Option<Vec<f64>>,
}

pub fn known_name(symbol: &str) -> Option<&'static str> {
    match symbol {
        "SPY" => Some("SPDR S&P 500 ETF Trust"),
        "VTI" => Some("Vanguard Total Stock Market ETF"),
        "QQQ" => Some("Invesco QQQ Trust"),
        _ => None,
    }
}

impl Dataset {
    /// Builds a dataset from in-memory columns, applying the same checks as the file loader.
    pub fn from_columns(symbol: &str, cols: Columns) -> Result<Dataset, DataError> {
        let label = format!("<{symbol}>");
        let n = cols.dates.len();
        if n == 0 {
            return Err(DataError::new(&label, 0, "no rows"));
        }
        let take =
            |name: &str, v: Option<Vec<f64>>, default: &Vec<f64>| -> Result<Vec<f64>, DataError> {
                let v = v.unwrap_or_else(|| default.clone());
                if v.len() != n {
                    return Err(DataError::new(
                        label.clone(),
                        0,
                        format!("column {name} has {} values, expected {n}", v.len()),
                    ));
                }
                Ok(v)
            };
        if cols.close.len() != n {
            return Err(DataError::new(
                &label,
                0,
                "column close has the wrong length",
            ));
        }
        let open = take("open", cols.open, &cols.close)?;
        let high = take("high", cols.high, &cols.close)?;
        let low = take("low", cols.low, &cols.close)?;
        let adj_close = take("adj_close", cols.adj_close, &cols.close)?;
        let volume = take("volume", cols.volume, &vec![0.0; n])?;
        for i in 0..n {
            if i > 0 && cols.dates[i] <= cols.dates[i - 1] {
                return Err(DataError::new(
                    &label,
                    i + 2,
                    "dates must be strictly increasing (unsorted or duplicate date)",
                ));
            }
            for (name, v) in [
                ("open", open[i]),
                ("high", high[i]),
                ("low", low[i]),
                ("close", cols.close[i]),
                ("adj_close", adj_close[i]),
            ] {
                check_price(&label, i + 2, name, v)?;
            }
            if !volume[i].is_finite() || volume[i] < 0.0 {
                return Err(DataError::new(
                    &label,
                    i + 2,
                    "volume must be a finite number >= 0",
                ));
            }
        }
        let dividends = match cols.dividends {
            Some(d) => {
                let d = take("dividends", Some(d), &cols.close)?;
                if let Some(i) = d.iter().position(|q| !q.is_finite() || *q < 0.0) {
                    return Err(DataError::new(
                        &label,
                        i + 2,
                        "dividend must be a finite number >= 0",
                    ));
                }
                d
            }
            None => derive_dividends(&cols.close, &adj_close),
        };
        let mut ds = Dataset {
            symbol: symbol.to_string(),
            name: known_name(symbol).unwrap_or(symbol).to_string(),
            dates: cols.dates,
            open,
            high,
            low,
            close: cols.close,
            adj_close,
            volume,
            dividends,
            fingerprint: String::new(),
        };
        ds.fingerprint = ds.compute_fingerprint();
        Ok(ds)
    }

    /// Parses a price CSV (`date,open,high,low,close,adj_close,volume`, any column order).
    /// `file` is only used to label errors.
    pub fn parse_csv(symbol: &str, file: &str, text: &str) -> Result<Dataset, DataError> {
        let mut lines = text.lines().enumerate();
        let header = loop {
            match lines.next() {
                Some((_, l)) if l.trim().is_empty() => continue,
                Some((_, l)) => break l,
                None => return Err(DataError::new(file, 0, "empty file")),
            }
        };
        let names: Vec<String> = header
            .split(',')
            .map(|h| h.trim().trim_start_matches('\u{feff}').to_ascii_lowercase())
            .collect();
        let col = |want: &str| -> Result<usize, DataError> {
            names.iter().position(|h| h == want).ok_or_else(|| {
                DataError::new(file, 1, format!("missing column `{want}` (expected date,open,high,low,close,adj_close,volume)"))
            })
        };
        let idx = [
            col("date")?,
            col("open")?,
            col("high")?,
            col("low")?,
            col("close")?,
            col("adj_close")?,
            col("volume")?,
        ];
        let cap = text.len() / 48;
        let mut cols = [(); 6].map(|_| Vec::with_capacity(cap));
        let mut dates = Vec::with_capacity(cap);
        let mut fields: Vec<&str> = Vec::with_capacity(names.len());
        for (i, line) in lines {
            let lineno = i + 1;
            let line = line.trim_end_matches('\r');
            if line.is_empty() || line.trim().is_empty() {
                continue;
            }
            split_fields(line, &mut fields);
            if fields.len() != names.len() {
                return Err(DataError::new(
                    file,
                    lineno,
                    format!("expected {} fields, found {}", names.len(), fields.len()),
                ));
            }
            let date = parse_date(fields[idx[0]]).ok_or_else(|| {
                DataError::new(
                    file,
                    lineno,
                    format!(
                        "invalid date `{}` (expected YYYY-MM-DD)",
                        fields[idx[0]].trim()
                    ),
                )
            })?;
            if let Some(prev) = dates.last() {
                if date == *prev {
                    return Err(DataError::new(
                        file,
                        lineno,
                        format!("duplicate date {date}"),
                    ));
                }
                if date < *prev {
                    return Err(DataError::new(
                        file,
                        lineno,
                        format!("dates not sorted: {date} after {prev}"),
                    ));
                }
            }
            dates.push(date);
            for (k, c) in cols.iter_mut().enumerate() {
                let name = ["open", "high", "low", "close", "adj_close", "volume"][k];
                let raw = fields[idx[k + 1]];
                let v: f64 = parse_f64(raw).ok_or_else(|| {
                    DataError::new(file, lineno, format!("{name}: `{raw}` is not a number"))
                })?;
                if k < 5 {
                    check_price(file, lineno, name, v)?;
                } else if !v.is_finite() || v < 0.0 {
                    return Err(DataError::new(
                        file,
                        lineno,
                        "volume must be a finite number >= 0",
                    ));
                }
                c.push(v);
            }
        }
        if dates.is_empty() {
            return Err(DataError::new(file, 0, "no data rows"));
        }
        let [open, high, low, close, adj_close, volume] = cols;
        let dividends = derive_dividends(&close, &adj_close);
        let mut ds = Dataset {
            symbol: symbol.to_string(),
            name: known_name(symbol).unwrap_or(symbol).to_string(),
            dates,
            open,
            high,
            low,
            close,
            adj_close,
            volume,
            dividends,
            fingerprint: String::new(),
        };
        ds.fingerprint = ds.compute_fingerprint();
        Ok(ds)
    }

    /// Loads one price file; the symbol is the upper-cased file stem.
    pub fn load_file(path: &Path) -> Result<Dataset, DataError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| DataError::new(&file, 0, format!("cannot read: {e}")))?;
        let symbol = path
            .file_stem()
            .and_then(|s| s.to_str())
            .map(|s| s.to_ascii_uppercase())
            .filter(|s| !s.is_empty())
            .ok_or_else(|| DataError::new(&file, 0, "cannot derive a symbol from the file name"))?;
        Dataset::parse_csv(&symbol, &file, &text)
    }

    pub fn len(&self) -> usize {
        self.dates.len()
    }

    pub fn is_empty(&self) -> bool {
        self.dates.is_empty()
    }

    pub fn first_date(&self) -> NaiveDate {
        self.dates[0]
    }

    pub fn last_date(&self) -> NaiveDate {
        self.dates[self.dates.len() - 1]
    }

    pub fn last_close(&self) -> f64 {
        self.close[self.close.len() - 1]
    }

    /// Index of the first trading day on or after `d`, if any.
    pub fn index_on_or_after(&self, d: NaiveDate) -> Option<usize> {
        let i = self.dates.partition_point(|x| *x < d);
        (i < self.dates.len()).then_some(i)
    }

    /// Index of the last trading day on or before `d`, if any.
    pub fn index_on_or_before(&self, d: NaiveDate) -> Option<usize> {
        let i = self.dates.partition_point(|x| *x <= d);
        i.checked_sub(1)
    }

    fn compute_fingerprint(&self) -> String {
        // One buffer, one hash: per-value `update` calls and date formatting dominated load time.
        let n = self.dates.len();
        let mut buf = Vec::with_capacity(16 + n * (4 + 7 * 8));
        buf.extend_from_slice(b"dataset-v1\n");
        buf.extend_from_slice(&(n as u64).to_le_bytes());
        for d in &self.dates {
            buf.extend_from_slice(&d.num_days_from_ce().to_le_bytes());
        }
        for col in [
            &self.open,
            &self.high,
            &self.low,
            &self.close,
            &self.adj_close,
            &self.volume,
            &self.dividends,
        ] {
            for v in col {
                buf.extend_from_slice(&v.to_bits().to_le_bytes());
            }
        }
        hex::encode(Sha256::digest(&buf))
    }
}

fn check_price(file: &str, line: usize, name: &str, v: f64) -> Result<(), DataError> {
    if !v.is_finite() {
        return Err(DataError::new(
            file,
            line,
            format!("{name} is not a finite number"),
        ));
    }
    if v <= 0.0 {
        return Err(DataError::new(
            file,
            line,
            format!("{name} must be > 0 (got {v})"),
        ));
    }
    Ok(())
}

const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// Parses a plain decimal (`-12.345`) exactly as `str::parse::<f64>` would: with at most 15
/// significant digits the mantissa and the power of ten are both exact in f64, so one
/// correctly rounded division gives the correctly rounded result (Clinger's fast path).
/// Anything else (exponents, long mantissas, `NaN`) goes to `str::parse`.
pub fn parse_f64(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    let (neg, digits) = match b.first() {
        Some(b'-') => (true, &b[1..]),
        Some(b'+') => (false, &b[1..]),
        _ => (false, b),
    };
    let mut mant: u64 = 0;
    let mut n_digits = 0u32;
    let mut frac: Option<u32> = None;
    let mut ok = !digits.is_empty();
    for &c in digits {
        match c {
            b'0'..=b'9' => {
                if mant > 0 || c != b'0' {
                    n_digits += 1;
                }
                mant = mant.wrapping_mul(10).wrapping_add(u64::from(c - b'0'));
                if let Some(f) = frac.as_mut() {
                    *f += 1;
                }
            }
            b'.' if frac.is_none() => frac = Some(0),
            _ => {
                ok = false;
                break;
            }
        }
    }
    let scale = frac.unwrap_or(0) as usize;
    if ok && n_digits <= 15 && scale < POW10.len() && digits.len() > usize::from(frac.is_some()) {
        let v = mant as f64 / POW10[scale];
        return Some(if neg { -v } else { v });
    }
    s.parse().ok()
}

/// Splits a CSV line on commas into `out`, trimming surrounding spaces. A hand loop: fields are
/// short, and `str::split` plus `trim` was a third of the load time.
fn split_fields<'a>(line: &'a str, out: &mut Vec<&'a str>) {
    out.clear();
    let b = line.as_bytes();
    let mut start = 0;
    for (i, &c) in b.iter().enumerate() {
        if c == b',' {
            out.push(trim_field(&line[start..i]));
            start = i + 1;
        }
    }
    out.push(trim_field(&line[start..]));
}

fn trim_field(f: &str) -> &str {
    match (f.as_bytes().first(), f.as_bytes().last()) {
        (Some(a), Some(z)) if a.is_ascii_whitespace() || z.is_ascii_whitespace() => f.trim(),
        _ => f,
    }
}

/// `q_t = close_{t-1}·(1 − k_{t-1}/k_t)` where `k = adj_close/close` steps up (ENGINE.md §3).
pub fn derive_dividends(close: &[f64], adj_close: &[f64]) -> Vec<f64> {
    let mut out = vec![0.0; close.len()];
    for t in 1..close.len() {
        let k_prev = adj_close[t - 1] / close[t - 1];
        let k = adj_close[t] / close[t];
        if k > k_prev * (1.0 + DIVIDEND_STEP_TOLERANCE) {
            out[t] = close[t - 1] * (1.0 - k_prev / k);
        }
    }
    out
}

/// Parses `YYYY-MM-DD` without going through chrono's format machinery (hot at load time).
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let mut v = 0u32;
        for &c in &b[r] {
            if !c.is_ascii_digit() {
                return None;
            }
            v = v * 10 + u32::from(c - b'0');
        }
        Some(v)
    };
    NaiveDate::from_ymd_opt(num(0..4)? as i32, num(5..7)?, num(8..10)?)
}

/// A daily annual-rate series in percent (FRED convention), possibly with gaps.
#[derive(Debug, Clone, PartialEq)]
pub struct RateSeries {
    pub name: String,
    pub dates: Vec<NaiveDate>,
    pub rate_pct: Vec<f64>,
    pub fingerprint: String,
}

impl RateSeries {
    pub fn new(
        name: &str,
        dates: Vec<NaiveDate>,
        rate_pct: Vec<f64>,
    ) -> Result<RateSeries, DataError> {
        let label = format!("<{name}>");
        if dates.len() != rate_pct.len() {
            return Err(DataError::new(
                &label,
                0,
                "dates and rates differ in length",
            ));
        }
        if dates.is_empty() {
            return Err(DataError::new(&label, 0, "no rows"));
        }
        for i in 0..dates.len() {
            if i > 0 && dates[i] <= dates[i - 1] {
                return Err(DataError::new(
                    &label,
                    i + 2,
                    "dates must be strictly increasing",
                ));
            }
            if !rate_pct[i].is_finite() {
                return Err(DataError::new(&label, i + 2, "rate is not a finite number"));
            }
        }
        let mut s = RateSeries {
            name: name.to_string(),
            dates,
            rate_pct,
            fingerprint: String::new(),
        };
        s.fingerprint = s.compute_fingerprint();
        Ok(s)
    }

    /// One rate for every day (tests and the FIXED interest option use it).
    pub fn constant(name: &str, rate_pct: f64) -> RateSeries {
        let d = NaiveDate::MIN;
        let mut s = RateSeries {
            name: name.to_string(),
            dates: vec![d],
            rate_pct: vec![rate_pct],
            fingerprint: String::new(),
        };
        s.fingerprint = s.compute_fingerprint();
        s
    }

    pub fn parse_csv(name: &str, file: &str, text: &str) -> Result<RateSeries, DataError> {
        let mut lines = text.lines().enumerate();
        let header = lines
            .next()
            .map(|(_, l)| l)
            .ok_or_else(|| DataError::new(file, 0, "empty file"))?;
        let names: Vec<String> = header
            .split(',')
            .map(|h| h.trim().trim_start_matches('\u{feff}').to_ascii_lowercase())
            .collect();
        let di = names
            .iter()
            .position(|h| h == "date")
            .ok_or_else(|| DataError::new(file, 1, "missing column `date`"))?;
        let ri = names
            .iter()
            .position(|h| h == "rate_pct")
            .ok_or_else(|| DataError::new(file, 1, "missing column `rate_pct`"))?;
        let cap = text.len() / 16;
        let mut fields: Vec<&str> = Vec::with_capacity(names.len());
        let mut dates: Vec<NaiveDate> = Vec::with_capacity(cap);
        let mut rates = Vec::with_capacity(cap);
        for (i, line) in lines {
            let lineno = i + 1;
            let line = line.trim_end_matches('\r');
            if line.is_empty() || line.trim().is_empty() {
                continue;
            }
            split_fields(line, &mut fields);
            if fields.len() != names.len() {
                return Err(DataError::new(
                    file,
                    lineno,
                    format!("expected {} fields, found {}", names.len(), fields.len()),
                ));
            }
            let date = parse_date(fields[di]).ok_or_else(|| {
                DataError::new(
                    file,
                    lineno,
                    format!("invalid date `{}`", fields[di].trim()),
                )
            })?;
            if let Some(prev) = dates.last()
                && date <= *prev
            {
                return Err(DataError::new(
                    file,
                    lineno,
                    format!("dates not strictly increasing: {date} after {prev}"),
                ));
            }
            let raw = fields[ri];
            let v: f64 = parse_f64(raw).ok_or_else(|| {
                DataError::new(file, lineno, format!("rate_pct: `{raw}` is not a number"))
            })?;
            if !v.is_finite() {
                return Err(DataError::new(
                    file,
                    lineno,
                    "rate_pct is not a finite number",
                ));
            }
            dates.push(date);
            rates.push(v);
        }
        if dates.is_empty() {
            return Err(DataError::new(file, 0, "no data rows"));
        }
        let mut s = RateSeries {
            name: name.to_string(),
            dates,
            rate_pct: rates,
            fingerprint: String::new(),
        };
        s.fingerprint = s.compute_fingerprint();
        Ok(s)
    }

    pub fn load_file(name: &str, path: &Path) -> Result<RateSeries, DataError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| DataError::new(&file, 0, format!("cannot read: {e}")))?;
        RateSeries::parse_csv(name, &file, &text)
    }

    /// Rate in percent in force on `d`: the last observation on or before it; before the first
    /// observation the first value is used so a series never leaves a day without a rate.
    pub fn rate_on(&self, d: NaiveDate) -> f64 {
        let i = self.dates.partition_point(|x| *x <= d);
        self.rate_pct[i.saturating_sub(1)]
    }

    /// Forward-filled rates (percent) for each of `dates`, which must be ascending.
    pub fn aligned(&self, dates: &[NaiveDate]) -> Vec<f64> {
        let mut out = Vec::with_capacity(dates.len());
        let Some(&first) = dates.first() else {
            return out;
        };
        let mut j = self
            .dates
            .partition_point(|x| *x <= first)
            .saturating_sub(1);
        for d in dates {
            while j + 1 < self.dates.len() && self.dates[j + 1] <= *d {
                j += 1;
            }
            out.push(self.rate_pct[j]);
        }
        out
    }

    fn compute_fingerprint(&self) -> String {
        let mut buf = Vec::with_capacity(16 + self.dates.len() * 12);
        buf.extend_from_slice(b"rates-v1\n");
        for (d, r) in self.dates.iter().zip(&self.rate_pct) {
            buf.extend_from_slice(&d.num_days_from_ce().to_le_bytes());
            buf.extend_from_slice(&r.to_bits().to_le_bytes());
        }
        hex::encode(Sha256::digest(&buf))
    }
}

/// Every dataset and rate series the engine can use.
#[derive(Debug, Clone)]
pub struct MarketData {
    datasets: BTreeMap<String, Dataset>,
    fed_funds: RateSeries,
    tbill_3m: RateSeries,
}

impl MarketData {
    pub fn new(datasets: Vec<Dataset>, fed_funds: RateSeries, tbill_3m: RateSeries) -> MarketData {
        let datasets = datasets
            .into_iter()
            .map(|d| (d.symbol.clone(), d))
            .collect();
        MarketData {
            datasets,
            fed_funds,
            tbill_3m,
        }
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
