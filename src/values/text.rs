use super::{FromJson, ToSql};
use crate::store::SqlValue;
use serde_json::Value;

/// Free text of at most `MAX` characters with no control characters (newlines and tabs are
/// allowed only when `MULTILINE`), and none that change the text's look unseen: bidirectional
/// controls and invisible characters (see `unicode::is_hidden_format`), so a name shows what it
/// says. Bounded so a single field can't bloat a row or a response.
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
        let line_break = |c: char| matches!(c, '\n' | '\r' | '\u{2028}' | '\u{2029}');
        let bad = |c: char| (c.is_control() || line_break(c)) && !(MULTILINE && (line_break(c) || c == '\t'));
        if s.chars().any(bad) {
            return Err("must not contain control characters".into());
        }
        if let Some(c) = super::unicode::first_hidden_format(s) {
            return Err(format!("must not contain invisible or text-direction characters ({c})"));
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
        assert!(ShortText::parse("a\u{2028}b").is_err());
        assert!(LongText::parse("a\u{2028}b").is_ok());
    }

    /// The probe: names carried U+202E and zero-width characters.
    #[test]
    fn bidi_controls_and_invisible_characters_are_refused() {
        for bad in
            ["Ada\u{202E}nnA", "\u{2066}Ada\u{2069}", "Ad\u{200B}a", "Ada\u{E0041}", "\u{FEFF}Ada", "Ada\u{200F}", "\u{3164}"]
        {
            let err = ShortText::parse(bad).expect_err(bad);
            assert!(err.starts_with("must not contain invisible or text-direction characters (U+"), "{err}");
            assert!(LongText::parse(bad).is_err(), "{bad:?}");
        }
        for good in ["Zoë", "محمد", "שלום", "👩\u{200D}💻", "می\u{200C}خواهم", "☺\u{FE0F}"] {
            assert!(ShortText::parse(good).is_ok(), "{good:?}");
        }
    }
}
