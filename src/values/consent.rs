//! Consent records (Upsun's `consented_at` / `consent_method`), written by admins.

use super::{FromJson, Stored};
use crate::values::Scalar;
use serde_json::Value;

/// An RFC 3339 date-time with an offset (`2023-11-07T05:31:56Z`, `2023-11-07T06:31:56+01:00`).
/// Kept exactly as sent so it reads back byte for byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timestamp(String);

impl Timestamp {
    pub fn parse(s: &str) -> Result<Self, String> {
        match super::instant::parse_rfc3339(s) {
            Some(_) if s.len() <= 64 => Ok(Self(s.to_string())),
            _ => Err("must be an RFC 3339 date-time such as 2023-11-07T05:31:56Z".into()),
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

string_value! { Timestamp => "must be an RFC 3339 date-time string" }

/// How consent was given: the two methods Upsun's schema lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsentMethod {
    OptIn,
    TextRef,
}

impl ConsentMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            ConsentMethod::OptIn => "opt-in",
            ConsentMethod::TextRef => "text-ref",
        }
    }
}

impl FromJson for ConsentMethod {
    fn from_json(value: &Value) -> Result<Self, String> {
        match value.as_str() {
            Some("opt-in") => Ok(ConsentMethod::OptIn),
            Some("text-ref") => Ok(ConsentMethod::TextRef),
            _ => Err("must be one of opt-in, text-ref".into()),
        }
    }
}

impl Stored for ConsentMethod {
    fn stored(&self) -> Scalar {
        Scalar::Text(self.as_str().into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_round_trip_as_sent() {
        for good in ["2023-11-07T05:31:56Z", "2023-11-07T06:31:56.123+01:00"] {
            assert_eq!(Timestamp::parse(good).unwrap().as_str(), good);
        }
        for bad in ["2023-11-07", "yesterday", "2023-13-07T05:31:56Z", ""] {
            assert!(Timestamp::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(ConsentMethod::from_json(&serde_json::json!("opt-in")), Ok(ConsentMethod::OptIn));
        assert!(ConsentMethod::from_json(&serde_json::json!("sure")).is_err());
    }
}
