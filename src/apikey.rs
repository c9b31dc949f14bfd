//! API keys: `ue_` + 43 characters of base64url (32 random bytes). Shown once; only the SHA-256
//! digest is kept (D1 row and KV cache entry), plus a readable prefix for people.

use base64::Engine;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

pub const KEY_PREFIX: &str = "ue_";
const PREFIX_LEN: usize = KEY_PREFIX.len() + 8;

pub struct NewKey {
    pub key: String,
    pub digest: String,
    pub prefix: String,
}

pub fn generate(random: &[u8; 32]) -> NewKey {
    let key = format!("{KEY_PREFIX}{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random));
    NewKey { digest: digest(&key), prefix: key[..PREFIX_LEN].to_string(), key }
}

/// Hex SHA-256 of a presented key: what D1 and KV are indexed by.
pub fn digest(key: &str) -> String {
    hex(&Sha256::digest(key.as_bytes()))
}

/// The KV cache key for a digest.
pub fn kv_key(digest: &str) -> String {
    format!("key:{digest}")
}

/// Keys have a fixed shape; anything else is rejected before any lookup is spent on it.
pub fn well_formed(key: &str) -> bool {
    key.len() == KEY_PREFIX.len() + 43
        && key.starts_with(KEY_PREFIX)
        && key[KEY_PREFIX.len()..].bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Constant-time equality of two secrets (the operator token), so timing tells nothing of it.
pub fn secrets_equal(presented: &str, expected: &str) -> bool {
    let (a, b) = (Sha256::digest(presented.as_bytes()), Sha256::digest(expected.as_bytes()));
    !expected.is_empty() && bool::from(a.ct_eq(&b))
}

pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_digest_and_prefix() {
        let k = generate(&[0xAB; 32]);
        assert!(well_formed(&k.key), "{}", k.key);
        assert!(k.key.starts_with(&k.prefix));
        assert_eq!(k.prefix.len(), 11);
        assert_eq!(k.digest, digest(&k.key));
        assert_eq!(k.digest.len(), 64);
        assert_ne!(generate(&[1; 32]).key, generate(&[2; 32]).key);
        assert!(!well_formed("ue_short"));
        assert!(!well_formed(&format!("xx_{}", &k.key[3..])));
    }

    #[test]
    fn operator_token_comparison() {
        assert!(secrets_equal("s3cret-token", "s3cret-token"));
        assert!(!secrets_equal("s3cret-tokem", "s3cret-token"));
        assert!(!secrets_equal("", ""), "an unset token never matches");
    }

    #[test]
    fn sha256_known_answer() {
        assert_eq!(digest("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
