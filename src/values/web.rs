
/// An email address (RFC 5321/5322 addr-spec as the `email_address` crate checks it), at most
/// 254 characters, with a dotted domain. The domain part is lower-cased; the local part is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(s: &str) -> Result<Self, String> {
        const MSG: &str = "must be a valid email address";
        if s.len() > 254 || s.trim() != s {
            return Err(MSG.into());
        }
        let opts = email_address::Options::default().without_display_text().without_domain_literal();
        let addr = email_address::EmailAddress::parse_with_options(s, opts).map_err(|_| MSG.to_string())?;
        let domain = addr.domain();
        // A bare host ("user@localhost") is legal in the grammar but never deliverable.
        if !domain.contains('.') || domain.starts_with('.') || domain.ends_with('.') {
            return Err(MSG.into());
        }
        Ok(Self(format!("{}@{}", addr.local_part(), domain.to_ascii_lowercase())))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

string_value! { Email => "must be a valid email address" }

/// An absolute `http` or `https` URL with a host, at most 2048 characters, kept as the client
/// wrote it when it is already in canonical form (the `url` crate's serialisation otherwise).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpUrl(String);

impl HttpUrl {
    pub fn parse(s: &str) -> Result<Self, String> {
        const MSG: &str = "must be an absolute http(s) URL";
        if s.len() > 2048 || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(MSG.into());
        }
        let url = url::Url::parse(s).map_err(|_| MSG.to_string())?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
            return Err(MSG.into());
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err("must not contain credentials".into());
        }
        Ok(Self(url.to_string()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

string_value! { HttpUrl => "must be an absolute http(s) URL" }

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert_eq!(Email::parse("j.wunderliebb@MyCompany.tld").unwrap().as_str(), "j.wunderliebb@mycompany.tld");
        assert!(Email::parse("mini@mouse.com").is_ok());
        for bad in ["", "not-an-email", "a@b", "a@@b.com", "Name <a@b.com>", " a@b.com", "a@[1.2.3.4]", "a@b.com."] {
            assert!(Email::parse(bad).is_err(), "{bad:?}");
        }
        assert!(Email::parse(&format!("{}@example.com", "a".repeat(250))).is_err());
    }

    #[test]
    fn urls() {
        assert_eq!(
            HttpUrl::parse("https://www.linkedin.com/in/someone").unwrap().as_str(),
            "https://www.linkedin.com/in/someone"
        );
        assert_eq!(HttpUrl::parse("https://Example.com").unwrap().as_str(), "https://example.com/");
        for bad in ["", "linkedin.com/in/x", "ftp://example.com/", "javascript:alert(1)", "https://", "https://u:p@example.com/", "https://exa mple.com/"] {
            assert!(HttpUrl::parse(bad).is_err(), "{bad:?}");
        }
    }
}
