//! Cache keys of the risk lab's inputs: SHA-256 of the canonical JSON of the normalised input,
//! the engine version and the fingerprints of the data the run reads.

use sha2::{Digest, Sha256};

use super::input::{ForwardRiskInput, OddsInput, resolve_forward, resolve_odds};
use crate::backtest::{BacktestOptions, InterestModel};
use crate::cache_key::canonical_json;
use crate::error::InputError;
use crate::market::{Dataset, MarketData};

/// SHA-256 over a domain tag, [`crate::ENGINE_VERSION`], the canonical JSON of the normalised
/// input and the fingerprints of every series the run reads (the dataset, and the rate series
/// its interest model uses).
fn key(
    tag: &str,
    json: &serde_json::Value,
    md: &MarketData,
    ds: &Dataset,
    o: &BacktestOptions,
) -> String {
    let mut h = Sha256::new();
    h.update(tag.as_bytes());
    h.update(b"\n");
    h.update(crate::ENGINE_VERSION.as_bytes());
    h.update(b"\n");
    h.update(canonical_json(json).as_bytes());
    h.update(b"\n");
    h.update(ds.fingerprint.as_bytes());
    let rates = match o.interest {
        InterestModel::FedFundsPlus { .. } => Some(&md.fed_funds().fingerprint),
        InterestModel::TbillPlus { .. } => Some(&md.tbill_3m().fingerprint),
        InterestModel::Fixed { .. } => None,
    };
    if let Some(f) = rates {
        h.update(b"\n");
        h.update(f.as_bytes());
    }
    hex::encode(h.finalize())
}

/// Cache key of an odds input (validated and normalised first). `maxLeverage` answers are
/// keyed by this plus the target.
pub fn odds_cache_key_for(md: &MarketData, input: &OddsInput) -> Result<String, InputError> {
    let r = resolve_odds(input, md)?;
    let json = serde_json::to_value(&r.input).unwrap_or_default();
    Ok(key(
        "margin-engine-odds",
        &json,
        md,
        r.common.ds,
        &r.input.options,
    ))
}

/// Cache key of a forward input, seed included.
pub fn forward_cache_key_for(
    md: &MarketData,
    input: &ForwardRiskInput,
) -> Result<String, InputError> {
    let r = resolve_forward(input, md)?;
    let json = serde_json::to_value(&r.input).unwrap_or_default();
    Ok(key(
        "margin-engine-forward-risk",
        &json,
        md,
        r.common.ds,
        &r.input.options,
    ))
}
