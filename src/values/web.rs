/// An email address (RFC 5321/5322 addr-spec as the `email_address` crate checks it, RFC 6531
/// UTF-8 allowed), at most 254 characters, with a dotted domain that IDNA can write in ASCII. Kept
/// exactly as the client sent it; compared through `canonical_key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    text: String,
    key: String,
}

impl Email {
    pub fn parse(s: &str) -> Result<Self, String> {
        const MSG: &str = "must be a valid email address";
        if s.len() > 254 || s.trim() != s {
            return Err(MSG.into());
        }
        // Checked in NFC (RFC 6532 §3.1 asks addresses to be), so an address typed decomposed,
        // as macOS and iOS input often is, is the same valid address; it is kept as sent.
        let nfc = icu_normalizer::ComposingNormalizerBorrowed::new_nfc().normalize(s);
        let opts = email_address::Options::default().without_display_text().without_domain_literal();
        let addr = email_address::EmailAddress::parse_with_options(&nfc, opts).map_err(|_| MSG.to_string())?;
        let domain = addr.domain();
        // A bare host ("user@localhost") is legal in the grammar but never deliverable.
        if !domain.contains('.') || domain.starts_with('.') || domain.ends_with('.') {
            return Err(MSG.into());
        }
        // UTS #46 with STD3 rules and DNS lengths: a domain mail can be routed to.
        if super::unicode::first_hidden_format(s).is_some() {
            return Err(MSG.into());
        }
        let domain_key = idna::domain_to_ascii_strict(domain).map_err(|_| MSG.to_string())?;
        let local_key = super::unicode::local_part_key(addr.local_part()).ok_or_else(|| MSG.to_string())?;
        let key = format!("{local_key}@{domain_key}");
        Ok(Self { text: s.to_string(), key })
    }
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// What two addresses are compared by, so one mailbox can't hold two accounts: the domain
    /// in IDNA ASCII form (UTS #46: `MÜNCHEN.example`, `münchen.example` and
    /// `xn--mnchen-3ya.example` are one), lower case; the local part unquoted where quoting
    /// isn't needed (`"john"` is `john`), then NFKC and full Unicode case folding (fullwidth
    /// `ｊｏｈｎ`, `JOHN`, Kelvin sign `K` for `k`, `ß` for `ss` are one). Providers' own rules
    /// (dots, `+tags`) are theirs, not the address's, and are left alone.
    pub fn canonical_key(&self) -> String {
        self.key.clone()
    }
}

string_value! { Email => "must be a valid email address" }

/// An absolute `http` or `https` URL, at most 2048 characters, written as an RFC 3986 URI with a
/// host name (`values::uri`: ASCII, an international domain in its `xn--` form, anything else
/// percent-encoded). Kept exactly as the client wrote it: what a client writes it reads back, and
/// a value served as a `uri` (Upsun's `picture`, `website`) always is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpUrl(String);

impl HttpUrl {
    pub fn parse(s: &str) -> Result<Self, String> {
        if s.len() > 2048 {
            return Err(format!("{}: at most 2048 characters", super::uri::MSG));
        }
        super::uri::check(s)?;
        Ok(Self(s.to_string()))
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
        assert_eq!(Email::parse("j.wunderliebb@MyCompany.tld").unwrap().as_str(), "j.wunderliebb@MyCompany.tld");
        let decomposed = "jose\u{301}@mu\u{308}nchen.example";
        assert_eq!(Email::parse(decomposed).unwrap().as_str(), decomposed, "NFD is valid, and kept as sent");
        assert!(Email::parse("\u{301}a@x.example").is_err(), "a mark with nothing to compose with is not a letter");
        assert!(Email::parse("mini@mouse.com").is_ok());
        for bad in ["", "not-an-email", "a@b", "a@@b.com", "Name <a@b.com>", " a@b.com", "a@[1.2.3.4]", "a@b.com."] {
            assert!(Email::parse(bad).is_err(), "{bad:?}");
        }
        assert!(Email::parse(&format!("{}@example.com", "a".repeat(250))).is_err());
    }

    fn key(s: &str) -> String {
        Email::parse(s).unwrap_or_else(|e| panic!("{s:?}: {e}")).canonical_key()
    }

    /// The probe: one org held each of these pairs as two accounts. Each pair is one key.
    #[test]
    fn look_alike_emails_share_a_key() {
        for (a, b) in [
            ("idn@münchen.example", "idn@xn--mnchen-3ya.example"),
            ("idn@MÜNCHEN.example", "idn@münchen.example"),
            ("ｏｒｇａ@x.example", "orga@x.example"),
            ("\"quoted\"@x.example", "quoted@x.example"),
            ("\"Quo\\ted\"@x.example", "quoted@x.example"),
            ("\u{212A}elvin@x.example", "kelvin@x.example"),
            ("stra\u{DF}e@x.example", "STRASSE@x.example"),
            ("\u{130}NCI@x.example", "\u{130}nci@x.example"),
            ("\u{FB01}le@x.example", "FILE@x.example"),
            ("Ada@Example.COM", "ada@example.com"),
            ("jose\u{301}@mu\u{308}nchen.example", "jos\u{e9}@m\u{fc}nchen.example"),
            ("ada@ｅｘａｍｐｌｅ.com", "ada@example.com"),
        ] {
            assert_eq!(key(a), key(b), "{a} / {b}");
        }
        assert_eq!(key("idn@MÜNCHEN.example"), "idn@xn--mnchen-3ya.example");
        assert_eq!(key("\u{130}nci@x.example"), "i\u{307}nci@x.example", "full folding: İ is i + dot above");
        assert_eq!(key("\"John Doe\"@X.example"), "\"john doe\"@x.example");
    }

    #[test]
    fn distinct_emails_stay_distinct() {
        for (a, b) in [
            ("ada@example.com", "ada@example.org"),
            ("ada@example.com", "ad.a@example.com"),
            ("ada+x@example.com", "ada@example.com"),
            ("\u{130}nci@x.example", "inci@x.example"),
            ("\u{430}da@x.example", "ada@x.example"),
            ("\"john doe\"@x.example", "johndoe@x.example"),
        ] {
            assert_ne!(key(a), key(b), "{a} / {b}");
        }
    }

    /// Values round-trip: the stored text is what the client sent (only the key is normalised).
    #[test]
    fn emails_are_kept_as_sent() {
        for sent in ["idn@MÜNCHEN.example", "Moved.Person@ACME.test", "\"quoted\"@x.example", "ｏｒｇａ@x.example"] {
            assert_eq!(Email::parse(sent).unwrap().as_str(), sent);
        }
        for bad in ["a@b\u{200B}c.example", "a\u{202E}b@x.example", "a@xn--.example", "a@ex ample.com", "a@-x.example"] {
            assert!(Email::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn urls() {
        assert_eq!(
            HttpUrl::parse("https://www.linkedin.com/in/someone").unwrap().as_str(),
            "https://www.linkedin.com/in/someone"
        );
        // As sent: Upsun's npm client writes `https://grace.example` and compares what it reads.
        assert_eq!(HttpUrl::parse("https://grace.example").unwrap().as_str(), "https://grace.example");
        assert_eq!(HttpUrl::parse("https://Example.com").unwrap().as_str(), "https://Example.com");
        let upper = "HTTPS://Grace.Example/Path?Q=1#F";
        assert_eq!(HttpUrl::parse(upper).unwrap().as_str(), upper, "a URI with its scheme in capitals is kept too");
        assert!(HttpUrl::parse("ftp://x.example").is_err());
        let encoded = "https://xn--mnchen-3ya.example/%C3%A4";
        assert_eq!(HttpUrl::parse(encoded).unwrap().as_str(), encoded, "an international URL in its URI form");
        for bad in [
            "",
            "linkedin.com/in/x",
            "ftp://example.com/",
            "javascript:alert(1)",
            "https://",
            "https://u:p@example.com/",
            "https://exa mple.com/",
            // Not a URI as written: refused rather than rewritten, so a value reads back as sent.
            "HTTPS://münchen.example/",
            "https://x.example/ä",
            "https://127.0.0.1/",
            "https://x.example/a^b",
            "https://x.example/%zz",
        ] {
            assert!(HttpUrl::parse(bad).is_err(), "{bad:?}");
        }
        let long = format!("https://x.example/{}", "a".repeat(2048 - 18));
        assert_eq!(long.len(), 2048);
        assert!(HttpUrl::parse(&long).is_ok() && HttpUrl::parse(&format!("{long}a")).is_err());
    }
}
