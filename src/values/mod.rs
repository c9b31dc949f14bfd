//! Parsed value types. Input becomes one of these at the dialect boundary; past that point the
//! type is the proof that the value is valid, so nothing downstream re-checks it.

/// `FromJson` (from a JSON string, through `parse`) and `Stored` (as text, through `as_str`) for
/// the string-shaped value types.
macro_rules! string_value {
    ($($ty:ty => $msg:literal),* $(,)?) => {$(
        impl $crate::values::FromJson for $ty {
            fn from_json(value: &serde_json::Value) -> Result<Self, String> {
                value.as_str().ok_or_else(|| $msg.to_string()).and_then(Self::parse)
            }
        }
        impl $crate::values::Stored for $ty {
            fn stored(&self) -> $crate::values::Scalar {
                $crate::values::Scalar::Text(self.as_str().to_string())
            }
        }
    )*};
}

mod consent;
mod contact;
mod identity;
pub mod instant;
mod precis;
mod reference_data;
mod template;
mod text;
mod unicode;
mod uri;
mod web;

pub use consent::{ConsentMethod, Timestamp};
pub use contact::{Gender, LanguageTag, Phone};
pub use identity::{Attributes, CountryCode, TimeZone, Username};
pub use template::UrlTemplate;
pub use text::{LongText, ShortText, Text};
pub use unicode::caseless_key;
pub use web::{Email, HttpUrl};

use serde_json::Value;

/// A value that can be read from one JSON field. `Err` is the message shown to the client,
/// phrased so it reads after the field's name ("must be a valid email address").
pub trait FromJson: Sized {
    fn from_json(value: &Value) -> Result<Self, String>;
}

/// A value reduced to what one stored field holds: nothing, an integer or a text. The store binds
/// it to a statement as is (`store::SqlValue` is this type); values and the model know no SQL.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    Null,
    /// D1 receives integers as JavaScript numbers, exact up to 2^53 (a BigInt is refused).
    Int(i64),
    Text(String),
}

/// A value as one stored field holds it.
pub trait Stored {
    fn stored(&self) -> Scalar;
}

impl FromJson for bool {
    fn from_json(value: &Value) -> Result<Self, String> {
        value.as_bool().ok_or_else(|| "must be a boolean".to_string())
    }
}

impl Stored for bool {
    fn stored(&self) -> Scalar {
        Scalar::Int(i64::from(*self))
    }
}

/// A non-negative integer reference to another system's record (publisher, agency, …).
/// Bounded by 2^53 - 1 because D1 carries numbers as JavaScript doubles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExternalId(i64);

pub const MAX_SAFE_INTEGER: i64 = (1 << 53) - 1;

/// A JSON number as JSON Schema's `integer` counts it. JSON has one number type: `42.0` and
/// `4.2e1` are the integer 42, so a whole number written with a fraction or an exponent is that
/// integer. `None` for a fraction, or for such a form past what a double holds exactly.
pub fn whole_number(n: &serde_json::Number) -> Option<i64> {
    let exact = |f: f64| f.fract() == 0.0 && f.abs() <= MAX_SAFE_INTEGER as f64;
    n.as_i64().or_else(|| n.as_f64().filter(|f| exact(*f)).map(|f| f as i64))
}

impl ExternalId {
    pub fn new(n: i64) -> Result<Self, String> {
        if (0..=MAX_SAFE_INTEGER).contains(&n) {
            Ok(Self(n))
        } else {
            Err(format!("must be an integer between 0 and {MAX_SAFE_INTEGER}"))
        }
    }
    pub fn get(self) -> i64 {
        self.0
    }
}

impl FromJson for ExternalId {
    fn from_json(value: &Value) -> Result<Self, String> {
        match value.as_number().and_then(whole_number) {
            Some(n) => Self::new(n),
            None => Err(format!("must be an integer between 0 and {MAX_SAFE_INTEGER}")),
        }
    }
}

impl Stored for ExternalId {
    fn stored(&self) -> Scalar {
        Scalar::Int(self.0)
    }
}

/// A calendar date, `YYYY-MM-DD` (RFC 3339 full-date).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Date(instant::Ymd);

impl Date {
    pub fn parse(s: &str) -> Result<Self, String> {
        if s.len() != 10 {
            return Err("must be a date in YYYY-MM-DD form".into());
        }
        instant::parse_date(s).map(Self).ok_or_else(|| "must be a valid date in YYYY-MM-DD form".into())
    }
    pub fn as_string(&self) -> String {
        instant::format_date(self.0)
    }
    fn as_str(&self) -> String {
        self.as_string()
    }
}

string_value! { Date => "must be a date string in YYYY-MM-DD form" }

/// Render unix milliseconds as RFC 3339 UTC with millisecond precision and a `Z`.
pub fn rfc3339_millis(unix_ms: i64) -> String {
    instant::format_millis(unix_ms)
}

/// Render an RFC 3339 timestamp at second precision (Upsun's `2023-11-07T05:31:56Z` shape).
pub fn rfc3339_seconds(stored: &str) -> String {
    match stored.find('.') {
        Some(dot) if stored.ends_with('Z') => format!("{}Z", &stored[..dot]),
        _ => stored.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn external_id_bounds() {
        assert!(ExternalId::from_json(&json!(42)).is_ok());
        assert!(ExternalId::from_json(&json!(0)).is_ok());
        assert!(ExternalId::from_json(&json!(MAX_SAFE_INTEGER)).is_ok());
        assert!(ExternalId::from_json(&json!(MAX_SAFE_INTEGER + 1)).is_err());
        assert!(ExternalId::from_json(&json!(-1)).is_err());
        assert!(ExternalId::from_json(&json!(4.5)).is_err());
        assert_eq!(ExternalId::from_json(&json!(42.0)).unwrap().get(), 42);
        assert_eq!(ExternalId::from_json(&serde_json::from_str::<Value>("4.2e1").unwrap()).unwrap().get(), 42);
        assert_eq!(ExternalId::from_json(&json!(-0.0)).unwrap().get(), 0);
        assert!(ExternalId::from_json(&json!(-1.0)).is_err());
        assert!(ExternalId::from_json(&json!(9_007_199_254_740_992.0)).is_err());
        assert!(ExternalId::from_json(&json!(1e300)).is_err());
        assert!(ExternalId::from_json(&json!("42")).is_err());
    }

    #[test]
    fn dates() {
        assert_eq!(Date::parse("2024-02-29").unwrap().as_string(), "2024-02-29");
        for bad in ["2023-02-29", "2024-13-01", "24-01-01", "2024-1-01", "+02024-01-01", "2024-01-01T00:00:00Z", ""] {
            assert!(Date::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn timestamps() {
        assert_eq!(rfc3339_millis(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339_millis(1_742_918_434_438), "2025-03-25T16:00:34.438Z");
        assert_eq!(rfc3339_seconds("2025-03-25T16:00:34.438Z"), "2025-03-25T16:00:34Z");
    }

    #[test]
    fn booleans_are_strict() {
        assert_eq!(bool::from_json(&json!(true)), Ok(true));
        assert!(bool::from_json(&json!(1)).is_err());
        assert!(bool::from_json(&json!("true")).is_err());
    }
}
