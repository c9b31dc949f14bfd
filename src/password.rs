//! Passwords: the minimum policy for new ones, and PBKDF2-HMAC-SHA256 PHC strings
//! (`$pbkdf2-sha256$i=600000,l=32$<salt>$<hash>`), computed in Rust inside the wasm because
//! production WebCrypto refuses more than 100,000 PBKDF2 iterations.

use crate::model::NewPassword;
use password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use pbkdf2::{Algorithm, Params, Pbkdf2};

pub const MIN_CHARS: usize = 8;
pub const MAX_CHARS: usize = 256;
pub const DEFAULT_ITERATIONS: u32 = 600_000;
/// Bounds for the configured cost, so a typo in `PBKDF2_ITERATIONS` can't disable hashing or
/// turn every password change into a timeout.
pub const MIN_ITERATIONS: u32 = 1_000;
pub const MAX_ITERATIONS: u32 = 10_000_000;

/// The documented minimum policy: 8 to 256 characters, not only white space, no control
/// characters. (Length over composition rules, as NIST SP 800-63B advises.)
pub fn parse_new(s: &str) -> Result<NewPassword, String> {
    let n = s.chars().count();
    if n < MIN_CHARS {
        return Err(format!("must be at least {MIN_CHARS} characters"));
    }
    if n > MAX_CHARS {
        return Err(format!("must be at most {MAX_CHARS} characters"));
    }
    if s.trim().is_empty() {
        return Err("must not be only white space".into());
    }
    if s.chars().any(char::is_control) {
        return Err("must not contain control characters".into());
    }
    Ok(NewPassword(s.to_string()))
}

/// Hash with a fresh 16-byte salt. Fails only on out-of-range parameters, which config parsing
/// already rules out.
pub fn hash(password: &NewPassword, salt: &[u8; 16], iterations: u32) -> Result<String, String> {
    let salt = SaltString::encode_b64(salt).map_err(|e| e.to_string())?;
    let params = Params { rounds: iterations, output_length: 32 };
    Pbkdf2
        .hash_password_customized(password.0.as_bytes(), Some(Algorithm::Pbkdf2Sha256.ident()), None, params, &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// Constant-time verification of a password against a stored PBKDF2 PHC string.
pub fn verify(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => Pbkdf2.verify_password(password.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    }
}

/// Parse `PBKDF2_ITERATIONS`, falling back to the default when unset or out of range.
pub fn iterations_from_config(raw: Option<&str>) -> u32 {
    raw.and_then(|s| s.trim().parse::<u32>().ok())
        .filter(|n| (MIN_ITERATIONS..=MAX_ITERATIONS).contains(n))
        .unwrap_or(DEFAULT_ITERATIONS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phc_round_trip_and_parameters() {
        let pw = parse_new("Secr3tP4ssw0rd!").unwrap();
        let phc = hash(&pw, &[7u8; 16], 1_000).unwrap();
        assert!(phc.starts_with("$pbkdf2-sha256$i=1000,l=32$"), "{phc}");
        let parsed = PasswordHash::new(&phc).unwrap();
        assert_eq!(parsed.algorithm.as_str(), "pbkdf2-sha256");
        assert_eq!(parsed.hash.unwrap().len(), 32);
        assert_eq!(parsed.salt.unwrap().as_str(), "BwcHBwcHBwcHBwcHBwcHBw");
        assert!(verify("Secr3tP4ssw0rd!", &phc));
        assert!(!verify("Secr3tP4ssw0rd?", &phc));
        assert!(!verify("Secr3tP4ssw0rd!", "not a phc string"));
    }

    #[test]
    fn known_vector() {
        // RFC 7914 §11 / common PBKDF2-HMAC-SHA256 vector: P="passwd", S="salt", c=1, dkLen=64.
        let mut out = [0u8; 64];
        pbkdf2::pbkdf2_hmac::<sha2::Sha256>(b"passwd", b"salt", 1, &mut out);
        assert_eq!(out[..4], [0x55, 0xac, 0x04, 0x6e]);
    }

    #[test]
    fn salts_differ_so_hashes_differ() {
        let pw = parse_new("correct horse").unwrap();
        assert_ne!(hash(&pw, &[1; 16], 1_000).unwrap(), hash(&pw, &[2; 16], 1_000).unwrap());
    }

    #[test]
    fn policy() {
        assert!(parse_new("12345678").is_ok());
        assert!(parse_new("1234567").is_err());
        assert!(parse_new("        ").is_err());
        assert!(parse_new(&"x".repeat(257)).is_err());
        assert!(parse_new("abc\u{0}defgh").is_err());
    }

    #[test]
    fn iterations_config() {
        assert_eq!(iterations_from_config(None), 600_000);
        assert_eq!(iterations_from_config(Some("100000")), 100_000);
        assert_eq!(iterations_from_config(Some("1")), 600_000);
        assert_eq!(iterations_from_config(Some("lots")), 600_000);
    }
}
