//! CSV field and number parsing shared by the price and rate loaders.

use chrono::NaiveDate;

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
pub(crate) fn split_fields<'a>(line: &'a str, out: &mut Vec<&'a str>) {
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

pub(crate) fn trim_field(f: &str) -> &str {
    match (f.as_bytes().first(), f.as_bytes().last()) {
        (Some(a), Some(z)) if a.is_ascii_whitespace() || z.is_ascii_whitespace() => f.trim(),
        _ => f,
    }
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
