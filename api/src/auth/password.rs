//! Password hashing: argon2id (m 19 MiB, t 2, p 1) for every new hash, and a verifier for the
//! legacy Django `pbkdf2_sha256$<iterations>$<salt>$<base64>` hashes imported from the old app,
//! which are re-hashed to argon2id on the next good login.
//!
//! Hashing is CPU-bound: it runs on the blocking pool, at most one hash per core at a time.

use std::sync::{LazyLock, OnceLock};

use argon2::{
    Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version,
    password_hash::phc::PasswordHash,
};
use base64::{Engine, engine::general_purpose::STANDARD};
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;

use crate::error::{ApiError, ApiResult};

pub const MIN_PASSWORD_BYTES: usize = 8;
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// Legacy hashes with absurd iteration counts (a corrupted row) are refused rather than run.
const MAX_PBKDF2_ITERATIONS: u32 = 10_000_000;

/// The PHC prefix of a hash made with the current parameters; anything else is re-hashed.
const CURRENT_PREFIX: &str = "$argon2id$v=19$m=19456,t=2,p=1$";

static HASHING_SLOTS: LazyLock<Semaphore> =
    LazyLock::new(|| Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get())));

fn argon2() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::DEFAULT)
}

/// Runs `work` on the blocking pool once a hashing slot is free.
async fn off_reactor<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> ApiResult<T> {
    let _slot = HASHING_SLOTS.acquire().await.map_err(ApiError::internal)?;
    tokio::task::spawn_blocking(work)
        .await
        .map_err(ApiError::internal)
}

/// The length rule for new passwords: 8–1024 bytes, never truncated.
pub fn check_new_password(password: &str) -> ApiResult<()> {
    if password.len() < MIN_PASSWORD_BYTES {
        return Err(ApiError::input(
            "password",
            format!("the password must be at least {MIN_PASSWORD_BYTES} bytes long"),
        ));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(ApiError::input(
            "password",
            format!("the password must be at most {MAX_PASSWORD_BYTES} bytes long"),
        ));
    }
    Ok(())
}

fn hash_blocking(password: &[u8]) -> ApiResult<String> {
    argon2()
        .hash_password(password)
        .map(|hash| hash.to_string())
        .map_err(|e| ApiError::internal(anyhow::anyhow!("argon2 hashing failed: {e}")))
}

/// An argon2id PHC string for `password`.
pub async fn hash(password: String) -> ApiResult<String> {
    off_reactor(move || hash_blocking(password.as_bytes())).await?
}

/// The result of checking a password against a stored hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified {
    pub matches: bool,
    /// The stored hash is legacy or uses other parameters: store a fresh one.
    pub needs_rehash: bool,
}

/// Checks `password` against a stored hash (argon2 PHC or Django pbkdf2_sha256). Unknown
/// formats (Django's unusable `!…` passwords, for one) never match.
pub async fn verify(password: String, stored: String) -> ApiResult<Verified> {
    off_reactor(move || verify_blocking(password.as_bytes(), &stored)).await
}

fn verify_blocking(password: &[u8], stored: &str) -> Verified {
    if stored.starts_with("$argon2") {
        let matches = PasswordHash::new(stored)
            .map(|parsed| argon2().verify_password(password, &parsed).is_ok())
            .unwrap_or(false);
        Verified {
            matches,
            needs_rehash: !stored.starts_with(CURRENT_PREFIX),
        }
    } else if stored.starts_with("pbkdf2_sha256$") {
        Verified {
            matches: verify_django_pbkdf2(password, stored),
            needs_rehash: true,
        }
    } else {
        Verified {
            matches: false,
            needs_rehash: false,
        }
    }
}

/// Spends the time of a real verification against a hash nobody's password matches, so an
/// unknown email answers as slowly as a wrong password.
pub async fn verify_dummy(password: String) -> ApiResult<()> {
    static DUMMY: OnceLock<String> = OnceLock::new();
    off_reactor(move || {
        let dummy = DUMMY.get_or_init(|| {
            let secret = super::token::random_token();
            hash_blocking(secret.as_bytes()).unwrap_or_default()
        });
        let _ = verify_blocking(password.as_bytes(), dummy);
    })
    .await
}

/// Django's `PBKDF2PasswordHasher`: `pbkdf2_sha256$<iterations>$<salt>$<base64(dk)>`, where
/// dk = PBKDF2-HMAC-SHA256(password, salt as UTF-8, iterations, 32 bytes).
pub fn verify_django_pbkdf2(password: &[u8], stored: &str) -> bool {
    let mut parts = stored.splitn(4, '$');
    let (Some("pbkdf2_sha256"), Some(iterations), Some(salt), Some(encoded)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let Ok(iterations) = iterations.parse::<u32>() else {
        return false;
    };
    if iterations == 0 || iterations > MAX_PBKDF2_ITERATIONS {
        return false;
    }
    let Ok(expected) = STANDARD.decode(encoded) else {
        return false;
    };
    if expected.len() != 32 {
        return false;
    }
    let derived = pbkdf2_hmac_sha256(password, salt.as_bytes(), iterations);
    constant_time_eq(&derived, &expected)
}

#[cfg(test)]
/// A Django hash of `password`; tests and imports use it, the server never writes one.
pub fn django_pbkdf2_hash(password: &str, salt: &str, iterations: u32) -> String {
    let derived = pbkdf2_hmac_sha256(password.as_bytes(), salt.as_bytes(), iterations);
    format!(
        "pbkdf2_sha256${iterations}${salt}${}",
        STANDARD.encode(derived)
    )
}

const BLOCK: usize = 64;

/// HMAC-SHA256 with the key's inner and outer states computed once.
struct HmacSha256 {
    inner: Sha256,
    outer: Sha256,
}

impl HmacSha256 {
    fn new(key: &[u8]) -> Self {
        let mut block = [0u8; BLOCK];
        if key.len() > BLOCK {
            block[..32].copy_from_slice(&Sha256::digest(key));
        } else {
            block[..key.len()].copy_from_slice(key);
        }
        let mut inner = Sha256::new();
        let mut outer = Sha256::new();
        inner.update(block.map(|b| b ^ 0x36));
        outer.update(block.map(|b| b ^ 0x5c));
        Self { inner, outer }
    }

    fn mac(&self, parts: &[&[u8]]) -> [u8; 32] {
        let mut inner = self.inner.clone();
        for part in parts {
            inner.update(part);
        }
        let mut outer = self.outer.clone();
        outer.update(inner.finalize());
        outer.finalize().into()
    }
}

/// PBKDF2-HMAC-SHA256 with a 32-byte output (one block), as Django uses it.
fn pbkdf2_hmac_sha256(password: &[u8], salt: &[u8], iterations: u32) -> [u8; 32] {
    let hmac = HmacSha256::new(password);
    let mut u = hmac.mac(&[salt, &1u32.to_be_bytes()]);
    let mut out = u;
    for _ in 1..iterations {
        u = hmac.mac(&[&u]);
        for (o, x) in out.iter_mut().zip(u.iter()) {
            *o ^= x;
        }
    }
    out
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pbkdf2_matches_the_rfc_7914_vector() {
        // RFC 7914 §11: PBKDF2-HMAC-SHA256("passwd", "salt", 1, 64), first 32 bytes.
        let dk = pbkdf2_hmac_sha256(b"passwd", b"salt", 1);
        assert_eq!(
            hex::encode(dk),
            "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
        );
        // RFC 7914 §11: PBKDF2-HMAC-SHA256("Password", "NaCl", 80000, 64), first 32 bytes.
        let dk = pbkdf2_hmac_sha256(b"Password", b"NaCl", 80000);
        assert_eq!(
            hex::encode(dk),
            "4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56"
        );
    }

    #[test]
    fn django_hashes_verify() {
        // Made by Python: base64(hashlib.pbkdf2_hmac("sha256", b"correct horse", b"pepperSalt1", 1000))
        let stored = "pbkdf2_sha256$1000$pepperSalt1$d3pb6YDB8gYJdA5Ao0zFOI+E1mqwtn608Jeft4O3bAU=";
        assert_eq!(
            django_pbkdf2_hash("correct horse", "pepperSalt1", 1000),
            stored
        );
        assert!(verify_django_pbkdf2(b"correct horse", stored));
        assert!(!verify_django_pbkdf2(b"correct horsE", stored));
        assert!(!verify_django_pbkdf2(
            b"correct horse",
            "pbkdf2_sha256$0$s$AAAA"
        ));
        assert!(!verify_django_pbkdf2(
            b"correct horse",
            "pbkdf2_sha256$x$s$AAAA"
        ));
        assert!(!verify_django_pbkdf2(
            b"correct horse",
            "pbkdf2_sha256$1000$s"
        ));
        assert!(!verify_django_pbkdf2(
            b"x",
            "pbkdf2_sha256$99999999999$s$AAAA"
        ));
    }

    #[test]
    fn argon2id_hashes_use_the_chosen_parameters() {
        let stored = hash_blocking(b"a long enough password").unwrap();
        assert!(stored.starts_with(CURRENT_PREFIX), "{stored}");
        let ok = verify_blocking(b"a long enough password", &stored);
        assert!(ok.matches && !ok.needs_rehash);
        assert!(!verify_blocking(b"another password", &stored).matches);
        let legacy = django_pbkdf2_hash("a long enough password", "salt", 10);
        let ok = verify_blocking(b"a long enough password", &legacy);
        assert!(ok.matches && ok.needs_rehash);
        assert!(!verify_blocking(b"x", "!unusable").matches);
        assert!(!verify_blocking(b"x", "$argon2id$garbage").matches);
    }

    #[test]
    fn password_lengths_are_bytes_not_characters() {
        assert!(check_new_password("1234567").is_err());
        assert!(check_new_password("12345678").is_ok());
        assert!(check_new_password(&"é".repeat(512)).is_ok());
        assert_eq!(
            check_new_password(&"é".repeat(513)).unwrap_err().code(),
            "BAD_USER_INPUT"
        );
    }
}
