//! Standard Webhooks symmetric signatures (standardwebhooks.com, spec 1.0.0, "Signature scheme"):
//! `webhook-signature: v1,<base64 HMAC-SHA256 of "{webhook-id}.{webhook-timestamp}.{body}">`, keyed
//! with the decoded bytes of a `whsec_<base64>` secret.

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::engine::DecodePaddingMode;
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::{Choice, ConstantTimeEq};

pub const HEADER_ID: &str = "webhook-id";
pub const HEADER_TIMESTAMP: &str = "webhook-timestamp";
pub const HEADER_SIGNATURE: &str = "webhook-signature";

/// How far a `webhook-timestamp` may be from the receiver's clock, either way (the reference
/// libraries' default): older deliveries are replays.
pub const TOLERANCE_SECS: i64 = 5 * 60;

const PREFIX: &str = "whsec_";
const VERSION: &str = "v1";
/// The spec asks for at least 24 random bytes and allows up to 512 bits.
const MIN_KEY: usize = 24;
const MAX_KEY: usize = 64;

/// Standard base64 that accepts the secret with or without its `=` padding (people copy it both
/// ways); what we print is always padded.
const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// An endpoint's signing secret. Its `Debug` never shows the key.
#[derive(Clone)]
pub struct Secret {
    text: String,
    key: Vec<u8>,
}

impl Secret {
    /// A new secret from 32 random bytes: `whsec_` + 44 characters of base64.
    pub fn generate(random: &[u8; 32]) -> Secret {
        Secret { text: format!("{PREFIX}{}", STANDARD.encode(random)), key: random.to_vec() }
    }

    /// `whsec_<base64>` (the prefix may be left out, as the reference libraries allow) of 24 to
    /// 64 bytes. Kept as `whsec_` + padded base64 whatever form came in.
    pub fn parse(s: &str) -> Result<Secret, String> {
        const MSG: &str = "must be a webhook secret (whsec_ followed by base64 of 24 to 64 bytes)";
        let b64 = s.strip_prefix(PREFIX).unwrap_or(s);
        let key = LENIENT.decode(b64).map_err(|_| MSG.to_string())?;
        if !(MIN_KEY..=MAX_KEY).contains(&key.len()) {
            return Err(MSG.into());
        }
        Ok(Secret { text: format!("{PREFIX}{}", STANDARD.encode(&key)), key })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(whsec_…)")
    }
}

/// The `webhook-signature` value for one delivery attempt. `msg_id` is the event id (ours, never
/// client input, and without `.`, so the signed string splits one way only).
pub fn sign(secret: &Secret, msg_id: &str, timestamp_secs: i64, body: &[u8]) -> String {
    format!("{VERSION},{}", STANDARD.encode(mac(secret, msg_id, timestamp_secs, body)))
}

fn mac(secret: &Secret, msg_id: &str, timestamp_secs: i64, body: &[u8]) -> [u8; 32] {
    // HMAC takes a key of any length (RFC 2104 hashes long ones), so this cannot fail.
    let mut mac = Hmac::<Sha256>::new_from_slice(&secret.key).expect("HMAC accepts any key length");
    mac.update(msg_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp_secs.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.finalize().into_bytes().into()
}

/// The three Standard Webhooks headers as a receiver got them.
#[derive(Debug, Clone, Copy)]
pub struct Headers<'a> {
    pub id: &'a str,
    pub timestamp: &'a str,
    pub signature: &'a str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerifyError {
    /// `webhook-timestamp` is not a decimal integer.
    BadTimestamp,
    /// Older than `now - tolerance`: a replay, or a clock far behind.
    TooOld,
    /// Newer than `now + tolerance`.
    TooNew,
    /// No `v1` signature in the header matches.
    NoMatch,
}

impl std::fmt::Display for VerifyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            VerifyError::BadTimestamp => "webhook-timestamp is not an integer",
            VerifyError::TooOld => "webhook-timestamp is too old",
            VerifyError::TooNew => "webhook-timestamp is too far in the future",
            VerifyError::NoMatch => "no webhook-signature matches",
        })
    }
}

/// Check a delivery as a receiver would: the timestamp within `tolerance_secs` of `now_secs`, and
/// at least one of the space-separated `v1,<sig>` entries equal (in constant time) to our MAC.
/// Entries of other versions (`v1a`, `v2`) are skipped, as the spec's secret rotation requires.
pub fn verify(secret: &Secret, headers: Headers<'_>, body: &[u8], now_secs: i64, tolerance_secs: i64) -> Result<(), VerifyError> {
    let ts = parse_timestamp(headers.timestamp).ok_or(VerifyError::BadTimestamp)?;
    if now_secs.saturating_sub(ts) > tolerance_secs {
        return Err(VerifyError::TooOld);
    }
    if ts.saturating_sub(now_secs) > tolerance_secs {
        return Err(VerifyError::TooNew);
    }
    let expected = STANDARD.encode(mac(secret, headers.id, ts, body));
    let matched = headers
        .signature
        .split(' ')
        .filter_map(|entry| entry.split_once(','))
        .filter(|(version, _)| *version == VERSION)
        // No short cut: every candidate is compared, so timing does not tell which one matched.
        .fold(Choice::from(0), |acc, (_, sig)| acc | sig.as_bytes().ct_eq(expected.as_bytes()));
    if bool::from(matched) {
        Ok(())
    } else {
        Err(VerifyError::NoMatch)
    }
}

fn parse_timestamp(s: &str) -> Option<i64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// From the Standard Webhooks reference libraries, github.com/standard-webhooks/standard-webhooks:
    /// `libraries/javascript/src/webhook.test.ts` ("sign function works") and
    /// `libraries/python/tests/test_webhooks.py` (`test_sign_function`) share the first;
    /// `libraries/rust/src/lib.rs` (`test_sign`) has the second.
    /// (secret, msg id, timestamp, payload, expected signature)
    const VECTORS: [(&str, &str, i64, &str, &str); 2] = [
        (
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            r#"{"test": 2432232314}"#,
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
        ),
        (
            "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
            "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk",
            1649367553,
            r#"{"email":"test@example.com","username":"test_user"}"#,
            "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=",
        ),
    ];

    fn headers<'a>(id: &'a str, timestamp: &'a str, signature: &'a str) -> Headers<'a> {
        Headers { id, timestamp, signature }
    }

    #[test]
    fn reference_vectors_sign_and_verify() {
        for (secret, id, ts, payload, want) in VECTORS {
            let secret = Secret::parse(secret).unwrap();
            assert_eq!(sign(&secret, id, ts, payload.as_bytes()), want, "{id}");
            let ts_text = ts.to_string();
            assert_eq!(verify(&secret, headers(id, &ts_text, want), payload.as_bytes(), ts, TOLERANCE_SECS), Ok(()));
        }
    }

    #[test]
    fn secret_forms() {
        let s = Secret::generate(&[7; 32]);
        assert!(s.as_str().starts_with("whsec_"));
        assert_eq!(s.as_str().len(), 6 + 44);
        assert_eq!(Secret::parse(s.as_str()).unwrap().as_str(), s.as_str());
        assert_ne!(Secret::generate(&[8; 32]).as_str(), s.as_str());
        // The reference libraries take the bare base64 too; unpadded base64 is accepted.
        let bare = Secret::parse("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        assert_eq!(bare.as_str(), "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
        let unpadded = s.as_str().trim_end_matches('=');
        assert_eq!(Secret::parse(unpadded).unwrap().as_str(), s.as_str());
        for bad in [
            "",
            "whsec_",
            "whsec_!!!!",
            "whsec_AAAA",
            &format!("whsec_{}", STANDARD.encode([1u8; 65])),
            "whsec_ MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        ] {
            assert!(Secret::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(format!("{s:?}"), "Secret(whsec_…)", "Debug must not leak the key");
    }

    #[test]
    fn a_generated_secret_keys_with_its_decoded_bytes() {
        let s = Secret::generate(&[0x5a; 32]);
        let mut mac = Hmac::<Sha256>::new_from_slice(&[0x5a; 32]).unwrap();
        mac.update(b"evt_1.1700000000.{}");
        let want = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
        assert_eq!(sign(&s, "evt_1", 1700000000, b"{}"), want);
    }

    #[test]
    fn verify_refusals() {
        let (secret, id, ts, payload, good) = VECTORS[0];
        let secret = Secret::parse(secret).unwrap();
        let body = payload.as_bytes();
        let t = ts.to_string();
        let check = |h: Headers<'_>, body: &[u8], now: i64| verify(&secret, h, body, now, TOLERANCE_SECS);

        // From the Python test suite: one flipped character in the last position.
        assert_eq!(
            check(headers(id, &t, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA="), body, ts),
            Err(VerifyError::NoMatch)
        );
        for bad in ["", "v1,", "v1", "v1,dawfeoifkpqwoekfpqoekf", &good[..8], &good[3..], &good.replacen("v1", "v2", 1)] {
            assert_eq!(check(headers(id, &t, bad), body, ts), Err(VerifyError::NoMatch), "{bad:?}");
        }
        assert_eq!(check(headers("msg_other", &t, good), body, ts), Err(VerifyError::NoMatch));
        assert_eq!(check(headers(id, &t, good), br#"{"test": 2432232315}"#, ts), Err(VerifyError::NoMatch));
        let other = Secret::generate(&[1; 32]);
        assert_eq!(verify(&other, headers(id, &t, good), body, ts, TOLERANCE_SECS), Err(VerifyError::NoMatch));

        for bad_ts in ["", "hello", "-1614265330", "+1614265330", "1614265330.0", " 1614265330", "99999999999999999999"] {
            assert_eq!(check(headers(id, bad_ts, good), body, ts), Err(VerifyError::BadTimestamp), "{bad_ts:?}");
        }
    }

    #[test]
    fn timestamp_tolerance_is_five_minutes_either_way() {
        let (secret, id, ts, payload, good) = VECTORS[0];
        let secret = Secret::parse(secret).unwrap();
        let t = ts.to_string();
        let at = |now: i64| verify(&secret, headers(id, &t, good), payload.as_bytes(), now, TOLERANCE_SECS);
        assert_eq!(at(ts + 300), Ok(()));
        assert_eq!(at(ts - 300), Ok(()));
        assert_eq!(at(ts + 301), Err(VerifyError::TooOld));
        assert_eq!(at(ts - 301), Err(VerifyError::TooNew));
        assert_eq!(at(i64::MIN), Err(VerifyError::TooNew), "no overflow");
        assert_eq!(at(i64::MAX), Err(VerifyError::TooOld), "no overflow");
    }

    #[test]
    fn any_of_several_signatures_may_match() {
        // The shape of the reference suites' "multi sig" tests: wrong v1, a v2, the good one, wrong v1.
        let (secret, id, ts, payload, good) = VECTORS[0];
        let secret = Secret::parse(secret).unwrap();
        let t = ts.to_string();
        let wrong = "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=";
        let multi = format!("{wrong} v2,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= {good} {wrong}");
        assert_eq!(verify(&secret, headers(id, &t, &multi), payload.as_bytes(), ts, TOLERANCE_SECS), Ok(()));
        let without = format!("{wrong}  v1a,{}", &good[3..]);
        assert_eq!(verify(&secret, headers(id, &t, &without), payload.as_bytes(), ts, TOLERANCE_SECS), Err(VerifyError::NoMatch));
    }
}
