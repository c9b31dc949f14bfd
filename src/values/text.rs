use super::{FromJson, ToSql};
use crate::store::SqlValue;
use serde_json::Value;

/// Free text of at most `MAX` characters with no control characters (newlines and tabs are
/// allowed only when `MULTILINE`). Bounded so a single field can't bloat a row or a response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text<const MAX: usize, const MULTILINE: bool = false>(String);

/// Names, titles, places: one line, 255 characters.
pub type ShortText = Text<255>;
/// Biographies and the like: several lines, 4000 characters.
pub type LongText = Text<4000, true>;

impl<const MAX: usize, const MULTILINE: bool> Text<MAX, MULTILINE> {
    pub fn parse(s: &str) -> Result<Self, String> {
        if s.chars().count() > MAX {
            return Err(format!("must be at most {MAX} characters"));
        }
        let bad = |c: char| c.is_control() && !(MULTILINE && matches!(c, '\n' | '\r' | '\t'));
        if s.chars().any(bad) {
            return Err("must not contain control characters".into());
        }
        Ok(Self(s.to_string()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<const MAX: usize, const MULTILINE: bool> FromJson for Text<MAX, MULTILINE> {
    fn from_json(value: &Value) -> Result<Self, String> {
        value.as_str().ok_or_else(|| "must be a string".to_string()).and_then(Self::parse)
    }
}

impl<const MAX: usize, const MULTILINE: bool> ToSql for Text<MAX, MULTILINE> {
    fn to_sql(&self) -> SqlValue {
        SqlValue::Text(self.0.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_and_control_characters() {
        assert!(ShortText::parse("Paris, FR").is_ok());
        assert!(ShortText::parse("").is_ok());
        assert!(ShortText::parse(&"é".repeat(255)).is_ok());
        assert!(ShortText::parse(&"é".repeat(256)).is_err());
        assert!(ShortText::parse("a\nb").is_err());
        assert!(ShortText::parse("a\u{0}b").is_err());
        assert!(LongText::parse("line one\nline two\ttab").is_ok());
        assert!(LongText::parse("bell\u{7}").is_err());
    }
}
