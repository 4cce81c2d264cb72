//! Serialisation helpers that round float columns so stored results stay small. Computation
//! always uses full precision; only the JSON is rounded.

use serde::Serializer;
use serde::ser::SerializeSeq;

pub fn cents(v: f64) -> f64 {
    let r = (v * 100.0).round() / 100.0;
    if r == 0.0 { 0.0 } else { r }
}

/// Rounds to `digits` significant digits.
pub fn sig(v: f64, digits: i32) -> f64 {
    if v == 0.0 || !v.is_finite() {
        return 0.0;
    }
    let mag = v.abs().log10().floor() as i32;
    let scale = 10f64.powi(digits - 1 - mag);
    if !scale.is_finite() || scale == 0.0 {
        return v;
    }
    let r = (v * scale).round() / scale;
    if r.is_finite() { r } else { v }
}

/// Integral values are written without `.0` (`100000` rather than `100000.0`); JSON readers,
/// serde included, read them back as the same f64.
fn put<S: SerializeSeq>(seq: &mut S, v: f64) -> Result<(), S::Error> {
    match whole_number(v) {
        Some(n) => seq.serialize_element(&n),
        None => seq.serialize_element(&v),
    }
}

/// `v` as an integer when it is one that an f64 holds exactly: the one rule by which every
/// writer of our numbers (stored JSON, GraphQL columns, CSV) writes `100000`, not `100000.0`.
pub fn whole_number(v: f64) -> Option<i64> {
    (v.fract() == 0.0 && v.abs() < 9.0e15).then_some(v as i64)
}

fn put_opt<S: SerializeSeq>(seq: &mut S, v: Option<f64>) -> Result<(), S::Error> {
    match v {
        Some(x) => put(seq, x),
        None => seq.serialize_element(&Option::<f64>::None),
    }
}

/// Rounds to `dp` decimal places.
pub fn decimals(v: f64, dp: i32) -> f64 {
    let f = 10f64.powi(dp);
    let r = (v * f).round() / f;
    if r == 0.0 || !r.is_finite() { 0.0 } else { r }
}

pub fn money<S: Serializer>(v: &[f64], s: S) -> Result<S::Ok, S::Error> {
    let mut seq = s.serialize_seq(Some(v.len()))?;
    for x in v {
        put(&mut seq, cents(*x))?;
    }
    seq.end()
}

pub fn ratio<S: Serializer>(v: &[f64], s: S) -> Result<S::Ok, S::Error> {
    let mut seq = s.serialize_seq(Some(v.len()))?;
    for x in v {
        put(&mut seq, sig(*x, 8))?;
    }
    seq.end()
}

pub fn opt_money<S: Serializer>(v: &[Option<f64>], s: S) -> Result<S::Ok, S::Error> {
    let mut seq = s.serialize_seq(Some(v.len()))?;
    for x in v {
        put_opt(&mut seq, x.map(cents))?;
    }
    seq.end()
}

/// Percent columns: 4 decimals (a hundredth of a basis point).
pub fn opt_pct<S: Serializer>(v: &[Option<f64>], s: S) -> Result<S::Ok, S::Error> {
    let mut seq = s.serialize_seq(Some(v.len()))?;
    for x in v {
        put_opt(&mut seq, x.map(|y| decimals(y, 4)))?;
    }
    seq.end()
}

/// Display-only ratios (leverage): 6 significant digits.
pub fn opt_ratio6<S: Serializer>(v: &[Option<f64>], s: S) -> Result<S::Ok, S::Error> {
    let mut seq = s.serialize_seq(Some(v.len()))?;
    for x in v {
        put_opt(&mut seq, x.map(|y| sig(y, 6)))?;
    }
    seq.end()
}
