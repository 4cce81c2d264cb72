//! Secrets handed to clients: session tokens, invite tokens and API tokens. Each is 32 random
//! bytes (256 bits) in base64url; only its SHA-256 (hex) is stored.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use rand::RngCore;
use sha2::{Digest, Sha256};

/// API tokens start with this, so they are recognisable in logs and secret scanners and are
/// never mistaken for session tokens.
pub const API_TOKEN_PREFIX: &str = "mapi_";

/// Longest token accepted for lookup; anything longer is refused without touching the database.
pub const MAX_TOKEN_LEN: usize = 128;

/// 32 random bytes from the OS-seeded CSPRNG, base64url without padding (43 characters).
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn new_api_token() -> String {
    format!("{API_TOKEN_PREFIX}{}", random_token())
}

/// The stored form of a token: SHA-256, lower-case hex.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A plausible token: bounded length, base64url characters only. Anything else is refused
/// before any lookup.
pub fn is_well_formed(token: &str) -> bool {
    !token.is_empty()
        && token.len() <= MAX_TOKEN_LEN
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The token of an `Authorization: Bearer <token>` header (scheme case-insensitive). Other
/// schemes give None.
pub fn bearer(header: &str) -> Option<&str> {
    let header = header.trim();
    let (scheme, rest) = header.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_256_bit_base64url() {
        let a = random_token();
        assert_eq!(a.len(), 43);
        assert!(is_well_formed(&a));
        assert_ne!(a, random_token());
        let api = new_api_token();
        assert!(api.starts_with(API_TOKEN_PREFIX) && is_well_formed(&api));
        assert_eq!(hash_token("abc").len(), 64);
    }

    #[test]
    fn malformed_tokens_are_refused() {
        assert!(!is_well_formed(""));
        assert!(!is_well_formed(&"a".repeat(10_000)));
        assert!(!is_well_formed("abc def"));
        assert!(!is_well_formed("abc\0"));
        assert_eq!(bearer("Bearer abc"), Some("abc"));
        assert_eq!(bearer("bearer   abc "), Some("abc"));
        assert_eq!(bearer("Basic abc"), None);
        assert_eq!(bearer("Bearer"), None);
    }
}
