//! Error types shared by every engine entry point.

use serde::{Deserialize, Serialize};

/// A rejected user input. `field` is the camelCase input name so the API can put it in
/// `extensions.field` without a mapping table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{field}: {message}")]
pub struct InputError {
    pub field: String,
    pub message: String,
}

impl InputError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        InputError {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// A data file that cannot be used. `line` is 1-based (the header is line 1); 0 means the
/// problem concerns the file as a whole.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {reason}")]
pub struct DataError {
    pub file: String,
    pub line: usize,
    pub reason: String,
}

impl DataError {
    pub fn new(file: impl Into<String>, line: usize, reason: impl Into<String>) -> Self {
        DataError {
            file: file.into(),
            line,
            reason: reason.into(),
        }
    }
}

/// Checks shared by the calculator and the backtest so both reject bad numbers identically.
pub(crate) fn finite(field: &str, v: f64) -> Result<f64, InputError> {
    if v.is_finite() {
        Ok(v)
    } else {
        Err(InputError::new(field, "must be a finite number"))
    }
}

pub(crate) fn in_range(
    field: &str,
    v: f64,
    lo: f64,
    hi: f64,
    unit: &str,
) -> Result<f64, InputError> {
    finite(field, v)?;
    if v < lo || v > hi {
        return Err(InputError::new(
            field,
            format!(
                "must be between {} and {}{unit} (got {})",
                fmt_num(lo),
                fmt_num(hi),
                fmt_num(v)
            ),
        ));
    }
    Ok(v)
}

pub(crate) fn fmt_num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        let s = format!("{v:.4}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}
