//! Daily rate series (FRED DFF, DTB3) and their forward fill onto trading days.

use std::path::Path;

use chrono::{Datelike, NaiveDate};
use sha2::{Digest, Sha256};

use super::parse::{parse_date, parse_f64, split_fields};
use crate::error::DataError;

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
