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

/// The hash formats we can verify, whether we wrote them or an import brought them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    /// `$pbkdf2-sha256$i=600000,l=32$<b64 salt>$<b64 hash>` (PHC; also `pbkdf2-sha512`).
    Pbkdf2Phc,
    /// Modular crypt as passlib and ZITADEL's passwap write it:
    /// `$pbkdf2-sha256$29000$<ab64 salt>$<ab64 hash>` (also `pbkdf2-sha512`).
    Pbkdf2Modular,
    /// `$2a$`, `$2b$`, `$2y$` bcrypt.
    Bcrypt,
}

/// Import bounds: enough for every real-world cost, low enough that one verification can't stall
/// the worker (bcrypt 14 ≈ 1 s; PBKDF2 2,000,000 ≈ 3× our default).
const MAX_IMPORT_PBKDF2_ROUNDS: u32 = 2_000_000;
const MAX_IMPORT_BCRYPT_COST: u32 = 14;

fn format_of(hash: &str) -> Option<Format> {
    if hash.starts_with("$2a$") || hash.starts_with("$2b$") || hash.starts_with("$2y$") {
        return Some(Format::Bcrypt);
    }
    let rest = hash.strip_prefix("$pbkdf2-sha256$").or_else(|| hash.strip_prefix("$pbkdf2-sha512$"))?;
    let params = rest.split('$').next()?;
    if params.starts_with("i=") || params.contains(",i=") {
        Some(Format::Pbkdf2Phc)
    } else if !params.is_empty() && params.bytes().all(|b| b.is_ascii_digit()) {
        Some(Format::Pbkdf2Modular)
    } else {
        None
    }
}

/// passlib's "adapted base64": standard alphabet with `.` for `+`, no padding.
fn ab64_decode(s: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD_NO_PAD.decode(s.replace('.', "+")).ok()
}

/// A password hash brought in from elsewhere (ZITADEL `hashedPassword`), checked to be one we
/// can verify, within cost bounds. Stored as given.
#[derive(Clone, PartialEq, Eq)]
pub struct ImportedHash(String);

impl std::fmt::Debug for ImportedHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ImportedHash(<redacted>)")
    }
}

impl ImportedHash {
    pub fn parse(s: &str) -> Result<Self, String> {
        const MSG: &str = "must be a bcrypt ($2a$, $2b$, $2y$) or PBKDF2-SHA256/SHA512 (PHC or modular crypt) hash";
        if s.len() > 512 {
            return Err(MSG.into());
        }
        match format_of(s).ok_or_else(|| MSG.to_string())? {
            Format::Bcrypt => {
                let parts = s.parse::<bcrypt::HashParts>().map_err(|_| MSG.to_string())?;
                if !(4..=MAX_IMPORT_BCRYPT_COST).contains(&parts.get_cost()) {
                    return Err(format!("bcrypt cost must be between 4 and {MAX_IMPORT_BCRYPT_COST}"));
                }
            }
            Format::Pbkdf2Phc => {
                let parsed = PasswordHash::new(s).map_err(|_| MSG.to_string())?;
                let rounds = parsed.params.get_decimal("i").unwrap_or(0);
                let len = parsed.hash.map(|h| h.len()).unwrap_or(0);
                if !(1_000..=MAX_IMPORT_PBKDF2_ROUNDS).contains(&rounds) || !(16..=64).contains(&len) {
                    return Err(format!("PBKDF2 rounds must be 1000..={MAX_IMPORT_PBKDF2_ROUNDS}, hash 16..=64 bytes"));
                }
            }
            Format::Pbkdf2Modular => {
                let (rounds, salt, hash) = modular_parts(s).ok_or_else(|| MSG.to_string())?;
                if !(1_000..=MAX_IMPORT_PBKDF2_ROUNDS).contains(&rounds) || salt.is_empty() || !(16..=64).contains(&hash.len()) {
                    return Err(format!("PBKDF2 rounds must be 1000..={MAX_IMPORT_PBKDF2_ROUNDS}, hash 16..=64 bytes"));
                }
            }
        }
        Ok(Self(s.to_string()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn modular_parts(s: &str) -> Option<(u32, Vec<u8>, Vec<u8>)> {
    // "", "pbkdf2-sha256", rounds, salt, hash
    match s.split('$').collect::<Vec<_>>().as_slice() {
        ["", _, rounds, salt, hash] => Some((rounds.parse().ok()?, ab64_decode(salt)?, ab64_decode(hash)?)),
        _ => None,
    }
}

/// Verify a password against any stored format, in constant time with respect to the hash.
pub fn verify(password: &str, stored: &str) -> bool {
    match format_of(stored) {
        Some(Format::Pbkdf2Phc) => match PasswordHash::new(stored) {
            Ok(parsed) => Pbkdf2.verify_password(password.as_bytes(), &parsed).is_ok(),
            Err(_) => false,
        },
        Some(Format::Pbkdf2Modular) => {
            let Some((rounds, salt, expected)) = modular_parts(stored) else { return false };
            let mut out = vec![0u8; expected.len()];
            if stored.starts_with("$pbkdf2-sha512$") {
                pbkdf2::pbkdf2_hmac::<sha2::Sha512>(password.as_bytes(), &salt, rounds, &mut out);
            } else {
                pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password.as_bytes(), &salt, rounds, &mut out);
            }
            bool::from(subtle::ConstantTimeEq::ct_eq(out.as_slice(), expected.as_slice()))
        }
        Some(Format::Bcrypt) => bcrypt::verify(password, stored).unwrap_or(false),
        None => false,
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
    fn imports_verify_afterwards() {
        // Modular crypt (passlib/passwap), computed independently with Python's hashlib:
        // pbkdf2_hmac("sha256", b"Secr3tP4ssw0rd!", b"saltsaltsaltsalt", 29000).
        // and the same for SHA-512 at 25000 rounds.
        for modular in [
            "$pbkdf2-sha256$29000$c2FsdHNhbHRzYWx0c2FsdA$5Qx9ip1XpqMEEqK/qqhLp3YLQHFSDBRrM9N1x1FPFRA",
            "$pbkdf2-sha512$25000$c2FsdHNhbHRzYWx0c2FsdA$/kFZxAhGGpp0inb4JFuSQDSqUAdFYwk.0ALFh3nnvBo/uBulqVxL/.6lu32tgXwBY3UC/II/R4oXF9zhTqJ8xw",
        ] {
            let imported = ImportedHash::parse(modular).unwrap();
            assert!(verify("Secr3tP4ssw0rd!", imported.as_str()), "{modular}");
            assert!(!verify("Secr3tP4ssw0rd?", imported.as_str()));
        }
        let phc = hash(&parse_new("Secr3tP4ssw0rd!").unwrap(), &[9; 16], 1_000).unwrap();
        assert!(ImportedHash::parse(&phc).is_ok());
        assert!(verify("Secr3tP4ssw0rd!", ImportedHash::parse(&phc).unwrap().as_str()));
        let bcrypt_hash =
            bcrypt::hash_with_salt("Secr3tP4ssw0rd!", 4, [3u8; 16]).unwrap().format_for_version(bcrypt::Version::TwoA);
        assert!(bcrypt_hash.starts_with("$2a$04$"));
        let imported = ImportedHash::parse(&bcrypt_hash).unwrap();
        assert!(verify("Secr3tP4ssw0rd!", imported.as_str()));
        assert!(!verify("wrong", imported.as_str()));
        for v in ["$2b$", "$2y$"] {
            let h = bcrypt_hash.replacen("$2a$", v, 1);
            assert!(ImportedHash::parse(&h).is_ok(), "{v}");
            assert!(verify("Secr3tP4ssw0rd!", &h), "{v}");
        }
    }

    #[test]
    fn the_seed_hash_is_a_valid_import() {
        assert!(ImportedHash::parse("$2a$12$lJ08fqVr8bFJilRVnDT9QeULI7YW.nT3iwUv6dyg0aCrfm3UY8XR2").is_ok());
    }

    #[test]
    fn imports_outside_bounds_or_formats_are_refused() {
        for bad in [
            "plaintext",
            "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
            "$1$saltsalt$hash",
            "$2a$31$lJ08fqVr8bFJilRVnDT9QeULI7YW.nT3iwUv6dyg0aCrfm3UY8XR2",
            "$pbkdf2-sha256$i=10,l=32$c2FsdA$aGFzaGhhc2hoYXNoaGFzaA",
            "$pbkdf2-sha256$99999999$c2FsdA$aGFzaGhhc2hoYXNoaGFzaA",
            "$pbkdf2-sha1$29000$c2FsdA$aGFzaGhhc2hoYXNoaGFzaA",
        ] {
            assert!(ImportedHash::parse(bad).is_err(), "{bad}");
        }
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
