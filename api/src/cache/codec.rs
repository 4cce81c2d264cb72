//! How a result is stored: JSON text for the table, gzip-compressed JSON for Redis.

use std::io::{Read, Write};

use engine::backtest::BacktestResult;
use flate2::{Compression, read::GzDecoder, write::GzEncoder};

/// The JSON text (for the table) and its compressed form (for Redis), serialised once: a
/// `serde_json::Value` of a 15-year result is a quarter of a million small allocations.
pub(super) fn encode(result: &BacktestResult) -> Option<(String, Vec<u8>)> {
    let json = serde_json::to_string(result).ok()?;
    let compressed = compress(json.as_bytes())?;
    Some((json, compressed))
}

pub(super) fn compress(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut encoder = GzEncoder::new(Vec::with_capacity(bytes.len() / 4), Compression::fast());
    encoder.write_all(bytes).ok()?;
    encoder.finish().ok()
}

pub(super) fn decode(compressed: &[u8]) -> Option<BacktestResult> {
    let mut json = Vec::with_capacity(compressed.len() * 4);
    GzDecoder::new(compressed).read_to_end(&mut json).ok()?;
    serde_json::from_slice(&json).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compressed_bytes_decompress_to_the_same_bytes() {
        let text = b"{\"a\":1}".repeat(100);
        let compressed = compress(&text).unwrap();
        assert!(compressed.len() < text.len());
        let mut back = Vec::new();
        GzDecoder::new(&compressed[..])
            .read_to_end(&mut back)
            .unwrap();
        assert_eq!(back, text);
    }

    #[test]
    fn bytes_that_are_not_a_compressed_result_decode_to_none() {
        assert!(decode(b"not gzip").is_none());
        assert!(decode(&compress(b"{}").unwrap()).is_none());
    }
}
