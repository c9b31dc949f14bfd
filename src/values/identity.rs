use super::reference_data::{COUNTRY_CODES, TIME_ZONES};
use super::{FromJson, Stored};
use crate::values::Scalar;
use serde_json::Value;

/// A login name: 1–200 characters that the PRECIS UsernameCaseMapped profile (RFC 8265 §3.3)
/// accepts — letters, digits and ASCII punctuation; no spaces, controls, invisible or bidi
/// characters — written in one script (UTS #39 "Highly Restrictive", see
/// `unicode::is_single_script`). Kept as the client sent it; compared through `canonical_key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username {
    text: String,
    key: String,
}

impl Username {
    pub fn parse(s: &str) -> Result<Self, String> {
        use super::precis::Refusal;
        let n = s.chars().count();
        if n == 0 || n > 200 {
            return Err("must be 1 to 200 characters".into());
        }
        if let Some(c) = s.chars().find(|&c| c.is_whitespace() || c.is_control()) {
            return Err(format!("must not contain spaces or control characters (U+{:04X})", c as u32));
        }
        if let Some(c) = super::unicode::first_hidden_format(s) {
            return Err(format!("must not contain invisible or text-direction characters ({c})"));
        }
        let key = super::precis::enforce_username(s).map_err(|e| match e {
            Refusal::CodePoint(c) => {
                format!("must not contain U+{:04X}: use letters, digits and ASCII punctuation (RFC 8265)", c as u32)
            }
            Refusal::Empty => "must not be empty".to_string(),
            Refusal::Bidi => "must follow the Bidi Rule (RFC 5893) when it has right-to-left letters".to_string(),
        })?;
        // Marks are judged on what was written (NFC), not on the case-mapped key: `İ` is one
        // letter as sent, though it lower-cases to `i` and a dot above.
        let written = icu_normalizer::ComposingNormalizerBorrowed::new_nfc().normalize(s);
        if let Some(c) = super::unicode::stray_mark(&written) {
            return Err(format!("must not use a combining mark that forms no letter (U+{:04X})", c as u32));
        }
        if !super::unicode::is_single_script(s) {
            return Err("must be written in one script (not, say, Latin mixed with Cyrillic)".into());
        }
        Ok(Self { text: s.to_string(), key })
    }
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// What two usernames are compared by: the RFC 8265 UsernameCaseMapped enforcement of it
    /// (fullwidth letters mapped to their usual width, lower-cased, NFC), so `ＵＳＥＲ１`,
    /// `User1` and `user1` are one name, and `é` composed or decomposed is one letter.
    pub fn canonical_key(&self) -> String {
        self.key.clone()
    }
}

/// An ISO 3166-1 alpha-2 code that exists, accepted in any case, kept upper case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CountryCode([u8; 2]);

impl CountryCode {
    pub fn parse(s: &str) -> Result<Self, String> {
        let upper = s.to_ascii_uppercase();
        match COUNTRY_CODES.binary_search(&upper.as_str()) {
            Ok(_) => Ok(Self([upper.as_bytes()[0], upper.as_bytes()[1]])),
            Err(_) => Err("must be an ISO 3166-1 alpha-2 country code".into()),
        }
    }
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("")
    }
}

/// A zone name from the IANA time zone database (`Europe/London`), accepted in any case and
/// kept in the database's own spelling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeZone(&'static str);

impl TimeZone {
    pub fn parse(s: &str) -> Result<Self, String> {
        let found = match TIME_ZONES.binary_search(&s) {
            Ok(i) => Some(TIME_ZONES[i]),
            Err(_) if s.len() <= 64 => TIME_ZONES.iter().copied().find(|z| z.eq_ignore_ascii_case(s)),
            Err(_) => None,
        };
        found.map(Self).ok_or_else(|| "must be an IANA time zone name such as Europe/London".into())
    }
    pub fn as_str(&self) -> &'static str {
        self.0
    }
}

string_value! {
    Username => "must be a string",
    CountryCode => "must be an ISO 3166-1 alpha-2 country code",
    TimeZone => "must be an IANA time zone name such as Europe/London"
}

/// A user's complete set of custom attributes: a JSON object of at most 100 keys counted at every
/// depth (1–64 characters each), nested at most 4 deep, at most 8 KiB serialised. Numbers keep
/// every digit the client sent (serde_json's `arbitrary_precision`), so an integer above 2^53 comes
/// back as it went in. Setting it replaces the set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attributes(String);

impl Attributes {
    pub const MAX_KEYS: usize = 100;
    pub const MAX_DEPTH: usize = 4;
    pub const MAX_BYTES: usize = 8192;

    pub fn parse(value: &Value) -> Result<Self, String> {
        if !value.is_object() {
            return Err("must be an object".into());
        }
        if depth(value) > Self::MAX_DEPTH {
            return Err(format!("must be nested at most {} levels deep", Self::MAX_DEPTH));
        }
        let keys = keys(value);
        if keys.len() > Self::MAX_KEYS {
            return Err(format!("must have at most {} keys, counting nested objects' keys", Self::MAX_KEYS));
        }
        if keys.iter().any(|k| k.is_empty() || k.chars().count() > 64) {
            return Err("keys must be 1 to 64 characters".into());
        }
        let text = value.to_string();
        if text.len() > Self::MAX_BYTES {
            return Err(format!("must be at most {} bytes as JSON", Self::MAX_BYTES));
        }
        Ok(Self(text))
    }
    pub fn as_json(&self) -> &str {
        &self.0
    }
}

fn depth(v: &Value) -> usize {
    match v {
        Value::Object(m) => 1 + m.values().map(depth).max().unwrap_or(0),
        Value::Array(a) => 1 + a.iter().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

/// Every member name of every object in `v`, nested ones (also inside arrays) included.
fn keys(v: &Value) -> Vec<&str> {
    let mut out = Vec::new();
    let mut todo = vec![v];
    while let Some(v) = todo.pop() {
        match v {
            Value::Object(m) => {
                out.extend(m.keys().map(String::as_str));
                todo.extend(m.values());
            }
            Value::Array(a) => todo.extend(a),
            _ => {}
        }
    }
    out
}

impl FromJson for Attributes {
    fn from_json(value: &Value) -> Result<Self, String> {
        Self::parse(value)
    }
}

impl Stored for Attributes {
    fn stored(&self) -> Scalar {
        Scalar::Text(self.0.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn usernames() {
        assert!(Username::parse("minnie-mouse").is_ok());
        assert!(Username::parse(&"x".repeat(200)).is_ok());
        for bad in ["", "two words", "tab\there", &"x".repeat(201)] {
            assert!(Username::parse(bad).is_err(), "{bad:?}");
        }
    }

    fn key(s: &str) -> String {
        Username::parse(s).unwrap_or_else(|e| panic!("{s:?}: {e}")).canonical_key()
    }

    /// The probe: these coexisted with the plain names. Each is either the same key as the plain
    /// name (so the unique index refuses it) or refused outright.
    #[test]
    fn look_alike_usernames() {
        assert_eq!(key("user1-ａ"), key("user1-a"), "fullwidth");
        assert_eq!(key("ＵＳＥＲ１"), key("user1"));
        assert_eq!(key("User1"), key("user1"));
        assert_eq!(key("jose\u{301}"), key("jos\u{e9}"), "NFD and NFC");
        // Turkish dotted capital I is a letter of its own, however it case-maps (i + U+0307).
        assert_eq!(key("\u{130}stanbul"), "i\u{307}stanbul");
        assert_ne!(key("\u{130}nci"), key("inci"));
        assert!(Username::parse("i\u{307}nci").is_err(), "a dot above typed on an ASCII i decorates");
        assert_eq!(Username::parse("user1-ａ").unwrap().as_str(), "user1-ａ", "stored as sent");
        for (bad, why) in [
            ("user\u{200B}1", "invisible"),
            ("user1\u{202E}", "text-direction"),
            ("\u{2066}user1", "text-direction"),
            ("user\u{200E}1", "text-direction"),
            ("user\u{061C}1", "text-direction"),
            ("user1\u{E0041}", "invisible"),
            ("user1-\u{430}", "one script"),
            ("us\u{435}r1", "one script"),
            ("user1\u{2000}", "spaces"),
            ("user\u{2665}", "U+2665"),
            ("\u{301}user", "U+0301"),
            ("user1\u{307}", "combining mark"),
            ("us\u{335}er1", "combining mark"),
        ] {
            let err = Username::parse(bad).expect_err(bad);
            assert!(err.contains(why), "{bad:?}: {err}");
        }
    }

    #[test]
    fn distinct_usernames_stay_distinct() {
        assert_ne!(key("user1"), key("user2"));
        assert_ne!(key("straße"), key("strasse"), "RFC 8265 lower-cases; it does not fold ß");
        assert_ne!(key("ivan"), key("иван"));
        assert_eq!(key("Иван"), key("иван"));
        assert_eq!(key("山田.taro"), "山田.taro");
    }

    #[test]
    fn countries_come_from_the_real_list() {
        assert_eq!(CountryCode::parse("FR").unwrap().as_str(), "FR");
        assert_eq!(CountryCode::parse("gb").unwrap().as_str(), "GB");
        assert_eq!(CountryCode::parse("Ch").unwrap().as_str(), "CH");
        for bad in ["UK", "XX", "F", "FRA", "", "é1"] {
            assert!(CountryCode::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn time_zones_come_from_the_real_database() {
        assert_eq!(TimeZone::parse("Europe/London").unwrap().as_str(), "Europe/London");
        assert_eq!(TimeZone::parse("europe/london").unwrap().as_str(), "Europe/London");
        assert_eq!(TimeZone::parse("UTC").unwrap().as_str(), "UTC");
        assert_eq!(TimeZone::parse("America/Argentina/Buenos_Aires").unwrap().as_str(), "America/Argentina/Buenos_Aires");
        assert!(TimeZone::parse("Europe/Kiev").is_ok(), "links are names too");
        for bad in ["Europe/Londn", "Mars/Olympus", "", "+02:00", "Factory"] {
            assert!(TimeZone::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn attributes_are_bounded() {
        assert_eq!(Attributes::parse(&json!({"team": "blue", "level": 3})).unwrap().as_json(), r#"{"level":3,"team":"blue"}"#);
        assert!(Attributes::parse(&json!({})).is_ok());
        assert!(Attributes::parse(&json!([1])).is_err());
        assert!(Attributes::parse(&json!({"": 1})).is_err());
        assert!(Attributes::parse(&json!({"a": {"b": {"c": {"d": 1}}}})).is_ok());
        assert!(Attributes::parse(&json!({"a": {"b": {"c": {"d": {"e": 1}}}}})).is_err());
        let many: serde_json::Map<_, _> = (0..101).map(|i| (format!("k{i}"), json!(i))).collect();
        assert!(Attributes::parse(&Value::Object(many)).is_err());
        assert!(Attributes::parse(&json!({"big": "x".repeat(9000)})).is_err());
    }

    /// The probe: 500 keys one level down passed a limit that counted only the top level.
    #[test]
    fn attribute_keys_count_at_every_depth() {
        let nested = |n: usize| {
            let inner: serde_json::Map<_, _> = (0..n).map(|i| (format!("k{i}"), json!(i))).collect();
            json!({"outer": Value::Object(inner)})
        };
        assert!(Attributes::parse(&nested(99)).is_ok(), "99 inside + 1 outside = 100");
        assert!(Attributes::parse(&nested(100)).is_err());
        assert!(Attributes::parse(&nested(500)).is_err());
        let in_arrays: Vec<Value> = (0..101).map(|i| json!({ format!("k{i}"): i })).collect();
        assert!(Attributes::parse(&json!({ "list": in_arrays[..99] })).is_ok());
        assert!(Attributes::parse(&json!({ "list": in_arrays })).is_err(), "objects inside arrays count too");
        assert!(Attributes::parse(&json!({"a": {"": 1}})).is_err(), "nested keys must be 1 to 64 characters");
        assert!(Attributes::parse(&json!({"a": [{ "k".repeat(65): 1 }]})).is_err());
    }

    /// The probe: 18446744073709551616 came back as 1.8446744073709552e+19.
    #[test]
    fn attribute_numbers_keep_every_digit() {
        let sent = r#"{"big":18446744073709551616,"neg":-9007199254740993,"frac":0.10000000000000000000001,"list":[123456789012345678901234567890]}"#;
        let parsed = Attributes::parse(&serde_json::from_str(sent).unwrap()).unwrap();
        assert_eq!(
            parsed.as_json(),
            r#"{"big":18446744073709551616,"frac":0.10000000000000000000001,"list":[123456789012345678901234567890],"neg":-9007199254740993}"#
        );
        // What the store reads back renders the same digits.
        assert_eq!(serde_json::from_str::<Value>(parsed.as_json()).unwrap().to_string(), parsed.as_json());
    }
}
