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

pub fn money<S: Serializer>(v: &[f64], s: S) -> Result<S::Ok, S::Error> {
    let mut seq = s.serialize_seq(Some(v.len()))?;
    for x in v {
        seq.serialize_element(&cents(*x))?;
    }
    seq.end()
}

pub fn ratio<S: Serializer>(v: &[f64], s: S) -> Result<S::Ok, S::Error> {
    let mut seq = s.serialize_seq(Some(v.len()))?;
    for x in v {
        seq.serialize_element(&sig(*x, 8))?;
    }
    seq.end()
}

pub fn opt_money<S: Serializer>(v: &[Option<f64>], s: S) -> Result<S::Ok, S::Error> {
    let mut seq = s.serialize_seq(Some(v.len()))?;
    for x in v {
        seq.serialize_element(&x.map(cents))?;
    }
    seq.end()
}

pub fn opt_ratio<S: Serializer>(v: &[Option<f64>], s: S) -> Result<S::Ok, S::Error> {
    let mut seq = s.serialize_seq(Some(v.len()))?;
    for x in v {
        seq.serialize_element(&x.map(|y| sig(y, 8)))?;
    }
    seq.end()
}
