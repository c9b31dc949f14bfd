//! Passwords: the minimum policy for new ones, and PBKDF2-HMAC-SHA256 PHC strings
//! (`$pbkdf2-sha256$i=600000,l=32$<salt>$<hash>`), computed in Rust inside the wasm because
//! production WebCrypto refuses more than 100,000 PBKDF2 iterations.

use crate::model::NewPassword;
use base64::Engine;

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

/// Hash with a fresh 16-byte salt into a PHC string, `$pbkdf2-sha256$i=<rounds>,l=32$<salt>$<hash>`
/// (salt and hash in PHC's B64). Fails only on zero rounds, which config parsing already rules out.
pub fn hash(password: &NewPassword, salt: &[u8; 16], iterations: u32) -> Result<String, String> {
    if iterations == 0 {
        return Err("PBKDF2 needs at least 1 round".into());
    }
    let mut out = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password.0.as_bytes(), salt, iterations, &mut out);
    let b64 = base64::engine::general_purpose::STANDARD_NO_PAD;
    Ok(format!("$pbkdf2-sha256$i={iterations},l=32${}${}", b64.encode(salt), b64.encode(out)))
}

/// A stored password hash, parsed into exactly what verification needs. Import and `verify` both
/// go through `StoredHash::parse`, so a hash that imports is one that can be checked.
#[derive(Clone, PartialEq, Eq)]
enum StoredHash {
    /// PBKDF2 (RFC 8018) in either spelling:
    /// PHC `$pbkdf2-sha256$i=600000,l=32$<B64 salt>$<B64 hash>` (what `hash` writes), or modular
    /// crypt as passlib and ZITADEL's passwap write it: `$pbkdf2-sha256$29000$<ab64 salt>$<ab64 hash>`.
    /// Either also as `pbkdf2-sha512`.
    Pbkdf2 { prf: Prf, rounds: u32, salt: Vec<u8>, hash: Vec<u8> },
    /// `$2a$`, `$2b$`, `$2y$` bcrypt, with a salt and hash in bcrypt's base64.
    Bcrypt { cost: u32 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Prf {
    Sha256,
    Sha512,
}

/// Salt and derived-key bounds for PBKDF2: RFC 8018 §4.1 asks for at least 8 salt bytes; a key
/// under 16 bytes is too short to be a password hash, and past 64 we'd be paying for extra blocks.
const SALT_BYTES: std::ops::RangeInclusive<usize> = 8..=64;
const HASH_BYTES: std::ops::RangeInclusive<usize> = 16..=64;

impl StoredHash {
    fn parse(s: &str) -> Result<Self, String> {
        const MSG: &str = "must be a bcrypt ($2a$, $2b$, $2y$) or PBKDF2-SHA256/SHA512 (PHC or modular crypt) hash";
        if s.len() > 512 {
            return Err(MSG.into());
        }
        if ["$2a$", "$2b$", "$2y$"].iter().any(|p| s.starts_with(p)) {
            return parse_bcrypt(s).ok_or_else(|| MSG.into());
        }
        let (prf, rest) = match (s.strip_prefix("$pbkdf2-sha256$"), s.strip_prefix("$pbkdf2-sha512$")) {
            (Some(rest), _) => (Prf::Sha256, rest),
            (_, Some(rest)) => (Prf::Sha512, rest),
            _ => return Err(MSG.into()),
        };
        let [params, salt, hash] = rest.split('$').collect::<Vec<_>>()[..] else { return Err(MSG.into()) };
        let (rounds, salt, hash) = if is_decimal(params) {
            (params.parse().ok(), ab64_decode(salt), ab64_decode(hash))
        } else {
            let hash = b64_decode(hash);
            (phc_rounds(params, hash.as_ref().map_or(0, Vec::len)), b64_decode(salt), hash)
        };
        let (Some(rounds), Some(salt), Some(hash)) = (rounds, salt, hash) else { return Err(MSG.into()) };
        if rounds == 0 || !SALT_BYTES.contains(&salt.len()) || !HASH_BYTES.contains(&hash.len()) {
            return Err(format!(
                "PBKDF2 needs at least 1 round, a {}..={}-byte salt and a {}..={}-byte hash",
                SALT_BYTES.start(),
                SALT_BYTES.end(),
                HASH_BYTES.start(),
                HASH_BYTES.end()
            ));
        }
        Ok(Self::Pbkdf2 { prf, rounds, salt, hash })
    }

    /// What one verification costs, in PBKDF2-HMAC-SHA256 iterations of one 32-byte block (see
    /// `MAX_IMPORT_COST` for the measured factors).
    fn cost(&self) -> u64 {
        match self {
            Self::Pbkdf2 { prf: Prf::Sha256, rounds, hash, .. } => u64::from(*rounds) * hash.len().div_ceil(32) as u64,
            Self::Pbkdf2 { prf: Prf::Sha512, rounds, hash, .. } => {
                SHA512_ROUND_COST * u64::from(*rounds) * hash.len().div_ceil(64) as u64
            }
            Self::Bcrypt { cost } => BCRYPT_UNIT_COST << cost,
        }
    }

    /// `stored` is the text this was parsed from (bcrypt verifies from it directly).
    fn verify(&self, password: &str, stored: &str) -> bool {
        match self {
            Self::Pbkdf2 { prf, rounds, salt, hash } => {
                let mut out = vec![0u8; hash.len()];
                match prf {
                    Prf::Sha256 => pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password.as_bytes(), salt, *rounds, &mut out),
                    Prf::Sha512 => pbkdf2::pbkdf2_hmac::<sha2::Sha512>(password.as_bytes(), salt, *rounds, &mut out),
                }
                bool::from(subtle::ConstantTimeEq::ct_eq(out.as_slice(), hash.as_slice()))
            }
            Self::Bcrypt { .. } => bcrypt::verify(password, stored).unwrap_or(false),
        }
    }
}

/// bcrypt's own layout: `$2b$` two-digit cost `$` 22 salt characters then 31 hash characters, each
/// decoding (bcrypt's base64, canonical trailing bits) as `bcrypt::verify` will decode them.
fn parse_bcrypt(s: &str) -> Option<StoredHash> {
    use base64::Engine;
    let engine = base64::engine::GeneralPurpose::new(&base64::alphabet::BCRYPT, base64::engine::general_purpose::NO_PAD);
    let [_, _, cost, tail] = s.split('$').collect::<Vec<_>>()[..] else { return None };
    if cost.len() != 2 || !cost.bytes().all(|b| b.is_ascii_digit()) || tail.len() != 53 || !tail.is_ascii() {
        return None;
    }
    let cost: u32 = cost.parse().ok()?;
    let (salt, hash) = tail.split_at(22);
    let decodes = |text: &str, len: usize| engine.decode(text).is_ok_and(|b| b.len() == len);
    ((4..=31).contains(&cost) && decodes(salt, 16) && decodes(hash, 23)).then_some(StoredHash::Bcrypt { cost })
}

/// PHC parameters for PBKDF2 as the `pbkdf2` crate writes them: `i=<rounds>`, optionally then
/// `l=<hash length>`, which must be the length of the hash that follows. Nothing else.
fn phc_rounds(params: &str, hash_len: usize) -> Option<u32> {
    let mut pairs = params.split(',').map(|p| p.split_once('='));
    let rounds = match pairs.next()? {
        Some(("i", n)) if is_decimal(n) => n.parse().ok()?,
        _ => return None,
    };
    match (pairs.next(), pairs.next()) {
        (None, _) => Some(rounds),
        (Some(Some(("l", n))), None) if is_decimal(n) && n.parse() == Ok(hash_len) => Some(rounds),
        _ => None,
    }
}

/// ASCII digits without a leading zero, at most 10 of them.
fn is_decimal(s: &str) -> bool {
    (1..=10).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'))
}

/// PHC's B64: the standard alphabet, no padding, canonical trailing bits.
fn b64_decode(s: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD_NO_PAD.decode(s).ok()
}

/// passlib's "adapted base64": standard alphabet with `.` for `+`, no padding.
fn ab64_decode(s: &str) -> Option<Vec<u8>> {
    if s.contains('+') {
        return None;
    }
    b64_decode(&s.replace('.', "+"))
}

/// The most an imported hash may cost to verify: the same as a hash we write at the default
/// 600,000 PBKDF2-HMAC-SHA256 iterations. Every verification (a sign-in, a `currentPassword`
/// guess) pays this, so a hash above it would let each guess stall the worker. Costs are in
/// PBKDF2-HMAC-SHA256 iterations of one 32-byte block, from what was measured in a deployed
/// worker (0.7 s for the default 600,000; PBKDF2-HMAC-SHA512 at 2,000,000 rounds 4.5 s; bcrypt
/// cost 14 1.6 s):
/// - PBKDF2-HMAC-SHA256: rounds × 32-byte blocks of output, so at most 600,000 rounds for a
///   32-byte hash (300,000 for 64 bytes);
/// - PBKDF2-HMAC-SHA512: 2 × rounds × 64-byte blocks (a SHA-512 round costs ~1.9 SHA-256 rounds
///   here), so at most 300,000 rounds;
/// - bcrypt: 84 × 2^cost (bcrypt 14 = 1.6 s ≈ 1.4 M), so at most cost 12 (≈ 344,000; cost 13 would
///   be ≈ 688,000).
///
/// A hash below `MIN_IMPORT_ROUNDS` PBKDF2 rounds (or bcrypt cost 4) is refused as too weak to keep.
pub const MAX_IMPORT_COST: u64 = DEFAULT_ITERATIONS as u64;
pub const MIN_IMPORT_ROUNDS: u32 = 1_000;
const SHA512_ROUND_COST: u64 = 2;
const BCRYPT_UNIT_COST: u64 = 84;

/// A password hash brought in from elsewhere (ZITADEL `hashedPassword`): one `verify` can check,
/// within `MAX_IMPORT_COST`. Stored as given.
#[derive(Clone, PartialEq, Eq)]
pub struct ImportedHash(String);

impl std::fmt::Debug for ImportedHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ImportedHash(<redacted>)")
    }
}

impl ImportedHash {
    pub fn parse(s: &str) -> Result<Self, String> {
        let parsed = StoredHash::parse(s)?;
        if let StoredHash::Pbkdf2 { rounds, .. } = parsed {
            if rounds < MIN_IMPORT_ROUNDS {
                return Err(format!("PBKDF2 rounds must be at least {MIN_IMPORT_ROUNDS}"));
            }
        }
        if parsed.cost() > MAX_IMPORT_COST {
            return Err(format!(
                "costs more to verify than PBKDF2-SHA256 at {DEFAULT_ITERATIONS} rounds: at most that for \
                 PBKDF2-SHA256 with a 32-byte hash, {} rounds for PBKDF2-SHA512, bcrypt cost 12",
                DEFAULT_ITERATIONS / 2
            ));
        }
        Ok(Self(s.to_string()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Verify a password against any stored format, in constant time with respect to the hash. A
/// hash that does not parse verifies nothing.
pub fn verify(password: &str, stored: &str) -> bool {
    StoredHash::parse(stored).is_ok_and(|h| h.verify(password, stored))
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
    use password_hash::PasswordHash;

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

    fn b64(bytes: &[u8]) -> String {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD_NO_PAD.encode(bytes)
    }

    /// A well-formed PBKDF2 PHC string: 16-byte salt, `len`-byte hash, `params` as given.
    fn phc(alg: &str, params: &str, len: usize) -> String {
        format!("${alg}${params}${}${}", b64(&[5; 16]), b64(&vec![9; len]))
    }

    /// The probe stored these (200) and then no password ever verified. Each is refused at import,
    /// and `verify` agrees that it cannot check them.
    #[test]
    fn hashes_verify_cannot_check_are_refused() {
        let salt = b64(&[5; 16]);
        let hash = b64(&[9; 32]);
        let bcrypt_ok = "$2a$04$lJ08fqVr8bFJilRVnDT9QeULI7YW.nT3iwUv6dyg0aCrfm3UY8XR2";
        for bad in [
            phc("pbkdf2-sha256", "x=1,i=1000", 32),
            phc("pbkdf2-sha256", "i=1000,l=99999", 32),
            phc("pbkdf2-sha256", "i=1000,l=16", 32),
            phc("pbkdf2-sha256", "i=1000,l=32,x=1", 32),
            phc("pbkdf2-sha256", "l=32,i=1000", 32),
            phc("pbkdf2-sha256", "i=1000,i=2000", 32),
            phc("pbkdf2-sha256", "i=01000", 32),
            phc("pbkdf2-sha256", "i=+1000", 32),
            phc("pbkdf2-sha256", "i=99999999999", 32),
            phc("pbkdf2-sha256", "", 32),
            phc("pbkdf2-sha256", "i=1000", 8),
            phc("pbkdf2-sha256", "i=1000", 65),
            format!("$pbkdf2-sha256$i=1000$c2FsdA${hash}"),
            format!("$pbkdf2-sha256$i=1000${salt}$not*base64"),
            format!("$pbkdf2-sha256$i=1000${salt}${hash}="),
            format!("$pbkdf2-sha256$i=1000${salt}${}l", &hash[..hash.len() - 1]),
            format!("$pbkdf2-sha256$v=19$i=1000${salt}${hash}"),
            format!("$pbkdf2-sha256$i=1000${salt}"),
            format!("$pbkdf2-sha256$29000${}${hash}", b64(&[0xfb; 16])), // ab64 spells `+` as `.`
            format!("$pbkdf2-sha256$0${salt}${hash}"),
            format!("$pbkdf2-sha256$-5${salt}${hash}"),
            bcrypt_ok.replace("lJ08", "lJ0*"),
            bcrypt_ok.replace("$04$", "$4$"),
            bcrypt_ok.replace("$04$", "$32$"),
            format!("{bcrypt_ok}x"),
            bcrypt_ok.replace("DT9Qe", "DT9Qf"), // the salt's trailing bits must be zero
        ] {
            assert!(ImportedHash::parse(&bad).is_err(), "{bad}");
            assert!(!verify("Secr3tP4ssw0rd!", &bad), "{bad}");
        }
        for good in [phc("pbkdf2-sha256", "i=1000", 32), phc("pbkdf2-sha256", "i=1000,l=32", 32), bcrypt_ok.to_string()] {
            assert!(ImportedHash::parse(&good).is_ok(), "{good}");
        }
    }

    /// The probe: PBKDF2-SHA512 at 2,000,000 rounds made each guess 4.5 s of CPU, bcrypt 14 1.6 s.
    /// Nothing imported may cost more than the default 600,000-round PBKDF2-SHA256.
    #[test]
    fn imports_are_bounded_by_estimated_cost() {
        let bcrypt_at = |cost: &str| format!("$2b${cost}$lJ08fqVr8bFJilRVnDT9QeULI7YW.nT3iwUv6dyg0aCrfm3UY8XR2");
        for (hash, ok) in [
            (phc("pbkdf2-sha256", "i=600000,l=32", 32), true),
            (phc("pbkdf2-sha256", "i=600001,l=32", 32), false),
            (phc("pbkdf2-sha256", "i=300000,l=64", 64), true),
            (phc("pbkdf2-sha256", "i=300001,l=64", 64), false),
            (phc("pbkdf2-sha512", "i=300000,l=64", 64), true),
            (phc("pbkdf2-sha512", "i=300001,l=64", 64), false),
            (phc("pbkdf2-sha512", "i=2000000,l=64", 64), false),
            (format!("$pbkdf2-sha512$2000000${}${}", b64(&[5; 16]).replace('+', "."), b64(&[9; 64]).replace('+', ".")), false),
            (format!("$pbkdf2-sha256$600000${}${}", b64(&[5; 16]), b64(&[9; 32])), true),
            (format!("$pbkdf2-sha256$600001${}${}", b64(&[5; 16]), b64(&[9; 32])), false),
            (phc("pbkdf2-sha256", "i=999", 32), false),
            (bcrypt_at("04"), true),
            (bcrypt_at("12"), true),
            (bcrypt_at("13"), false),
            (bcrypt_at("14"), false),
            (bcrypt_at("03"), false),
        ] {
            assert_eq!(ImportedHash::parse(&hash).is_ok(), ok, "{hash}");
        }
    }

    /// Our own hashes verify at any configured cost (the import bound is for imports only), with
    /// or without the optional `l` parameter.
    #[test]
    fn own_hashes_verify_without_the_import_bound() {
        let pw = parse_new("Secr3tP4ssw0rd!").unwrap();
        let ours = hash(&pw, &[4; 16], 1_000).unwrap();
        assert!(verify("Secr3tP4ssw0rd!", &ours.replace(",l=32", "")));
        let costly = phc("pbkdf2-sha256", "i=10000000,l=32", 32);
        assert!(StoredHash::parse(&costly).is_ok() && ImportedHash::parse(&costly).is_err());
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
