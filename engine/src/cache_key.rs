//! Cache keys: SHA-256 of the canonical JSON of the normalised input, the engine version and
//! the dataset fingerprint.

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::backtest::BacktestInput;
use crate::error::InputError;
use crate::market::MarketData;

/// JSON with object keys sorted at every level, independent of serde_json's map feature flags
/// (another crate in the workspace may turn on `preserve_order`).
pub fn canonical_json(v: &Value) -> String {
    let mut out = String::new();
    write_canonical(v, &mut out);
    out
}

fn write_canonical(v: &Value, out: &mut String) {
    match v {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String((*k).clone()).to_string());
                out.push(':');
                if let Some(x) = map.get(*k) {
                    write_canonical(x, out);
                }
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(x, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// Key for an input. Pass the output of [`crate::backtest::normalize`] (or a result's `input`)
/// so that dates are snapped to trading days; the data-independent normalisation (defaults,
/// options irrelevant to the mode, ticker case) is applied here as well.
pub fn cache_key(input: &BacktestInput, dataset_fingerprint: &str) -> String {
    let canon = crate::backtest::input_canonical(input.clone());
    let json = serde_json::to_value(&canon)
        .map(|v| canonical_json(&v))
        .unwrap_or_default();
    let mut h = Sha256::new();
    h.update(b"margin-engine-backtest\n");
    h.update(crate::ENGINE_VERSION.as_bytes());
    h.update(b"\n");
    h.update(json.as_bytes());
    h.update(b"\n");
    h.update(dataset_fingerprint.as_bytes());
    hex::encode(h.finalize())
}

/// Validates, normalises and keys an input against the loaded data in one call.
pub fn cache_key_for(data: &MarketData, input: &BacktestInput) -> Result<String, InputError> {
    let norm = crate::backtest::normalize(input, data)?;
    let ds = data.dataset(&norm.ticker)?;
    Ok(cache_key(&norm, &ds.fingerprint))
}
