use super::Stored;
use crate::values::Scalar;

/// A phone number in E.164 form: `+`, a country code not starting with 0, 8 to 15 digits in all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phone(String);

impl Phone {
    pub fn parse(s: &str) -> Result<Self, String> {
        let digits = s.strip_prefix('+').ok_or_else(|| "must be an E.164 number such as +41791234567".to_string())?;
        let ok = (8..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) && !digits.starts_with('0');
        if ok {
            Ok(Self(s.to_string()))
        } else {
            Err("must be an E.164 number such as +41791234567".into())
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A well-formed BCP 47 language tag (`en`, `de-CH`, `zh-Hant-TW`), at most 35 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LanguageTag(String);

impl LanguageTag {
    pub fn parse(s: &str) -> Result<Self, String> {
        const MSG: &str = "must be a BCP 47 language tag such as en or de-CH";
        if s.is_empty() || s.len() > 35 {
            return Err(MSG.into());
        }
        language_tags::LanguageTag::parse(s).map(|t| Self(t.to_string())).map_err(|_| MSG.into())
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Gender as ZITADEL models it; unspecified is stored as no value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gender {
    Female,
    Male,
    Diverse,
}

impl Gender {
    pub fn as_str(self) -> &'static str {
        match self {
            Gender::Female => "female",
            Gender::Male => "male",
            Gender::Diverse => "diverse",
        }
    }
}

string_value! {
    Phone => "must be a string",
    LanguageTag => "must be a string",
}

impl Stored for Gender {
    fn stored(&self) -> Scalar {
        Scalar::Text(self.as_str().into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones() {
        assert!(Phone::parse("+41791234567").is_ok());
        for bad in ["41791234567", "+0791234567", "+4179 1234567", "+1234567", "+1234567890123456", "+41-79"] {
            assert!(Phone::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn language_tags() {
        for good in ["en", "de-CH", "zh-Hant-TW", "es-419"] {
            assert_eq!(LanguageTag::parse(good).unwrap().as_str(), good);
        }
        for bad in ["", "english!", "e", "en--US", "12"] {
            assert!(LanguageTag::parse(bad).is_err(), "{bad}");
        }
    }
}
