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

/// An absolute `http` or `https` URL with a host, at most 2048 characters, kept exactly as the client
/// wrote it when it already is an RFC 3986 URI (the `url` crate's serialisation otherwise, with
/// whatever RFC 3986 does not allow percent-encoded): always a valid RFC 3986 URI.
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
        // WHATWG lets a host keep characters RFC 3986's reg-name doesn't (`{`, `"`, `` ` ``).
        let host_ok = |h: &str| h.bytes().all(|b| is_unreserved(b) || is_sub_delim(b) || matches!(b, b'[' | b']' | b':'));
        if !url.host_str().is_some_and(host_ok) {
            return Err(MSG.into());
        }
        // Kept exactly as sent when it already is an RFC 3986 URI (what a client writes, it reads
        // back: sync clients compare); otherwise in the one canonical form, which is stable.
        if is_rfc3986(s) {
            return Ok(Self(s.to_string()));
        }
        Ok(Self(rfc3986_tail(&url)))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

string_value! { HttpUrl => "must be an absolute http(s) URL" }

/// RFC 3986 `URI`, for what `HttpUrl` produces: `scheme://host[:port]` then only pchars,
/// `/`, `?`, valid escapes and at most one `#`.
fn is_rfc3986(s: &str) -> bool {
    // A scheme is case-insensitive (RFC 3986 §3.1): `HTTPS://` is as good a URI as `https://`.
    let after = |scheme: &str| s.get(..scheme.len()).filter(|h| h.eq_ignore_ascii_case(scheme)).map(|_| &s[scheme.len()..]);
    let Some(rest) = after("https://").or_else(|| after("http://")) else { return false };
    let (authority, tail) = rest.split_at(rest.find(['/', '?', '#']).unwrap_or(rest.len()));
    if !authority.bytes().all(|c| is_unreserved(c) || is_sub_delim(c) || matches!(c, b':' | b'[' | b']')) {
        return false;
    }
    let b = tail.as_bytes();
    let mut fragment = false;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() && b[i + 1].is_ascii_hexdigit() && b[i + 2].is_ascii_hexdigit() => i += 2,
            b'#' if !fragment => fragment = true,
            c if is_unreserved(c) || is_sub_delim(c) || matches!(c, b':' | b'@' | b'/' | b'?') => {}
            _ => return false,
        }
        i += 1;
    }
    true
}

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

fn is_sub_delim(b: u8) -> bool {
    matches!(b, b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*' | b'+' | b',' | b';' | b'=')
}

/// The URL's serialisation with every byte after the authority that RFC 3986 does not allow there
/// percent-encoded. The `url` crate follows WHATWG, which leaves `^`, `|`, `{`, `}`, `` ` ``, `[`,
/// `]`, a second `#` or a `%` that starts no escape as they are in some components; a URL served
/// as a `uri` (Upsun's `picture`, `website`) must not carry them.
fn rfc3986_tail(url: &url::Url) -> String {
    let s = url.as_str();
    let head = &url[..url::Position::BeforePath];
    let tail = &s.as_bytes()[head.len()..];
    let mut out = String::with_capacity(s.len() + 8);
    out.push_str(head);
    let mut in_fragment = false;
    for (i, &b) in tail.iter().enumerate() {
        let escape = b == b'%' && tail.len() > i + 2 && tail[i + 1].is_ascii_hexdigit() && tail[i + 2].is_ascii_hexdigit();
        let keep = is_unreserved(b)
            || is_sub_delim(b)
            || matches!(b, b':' | b'@' | b'/' | b'?')
            || escape
            || (b == b'#' && !in_fragment);
        if b == b'#' && !in_fragment {
            in_fragment = true;
        }
        if keep {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

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
        assert_eq!(HttpUrl::parse("HTTPS://münchen.example/ä").unwrap().as_str(), "https://xn--mnchen-3ya.example/%C3%A4");
        for bad in [
            "",
            "linkedin.com/in/x",
            "ftp://example.com/",
            "javascript:alert(1)",
            "https://",
            "https://u:p@example.com/",
            "https://exa mple.com/",
        ] {
            assert!(HttpUrl::parse(bad).is_err(), "{bad:?}");
        }
    }

    /// Schemathesis: Upsun's `picture` (a `uri`) came back as `https://...:3/#.p+;^iaB`.
    #[test]
    fn serialisation_is_an_rfc3986_uri() {
        for (input, want) in [
            ("hTtpS://Ex.example:3#.p+;^iaB", "https://ex.example:3/#.p+;%5EiaB"),
            ("https://x.example/a^b|c?q={1}&r=`[2]`#f#g", "https://x.example/a%5Eb%7Cc?q=%7B1%7D&r=%60%5B2%5D%60#f%23g"),
            ("https://x.example/%zz/%41", "https://x.example/%25zz/%41"),
            ("https://[::1]:8080/p", "https://[::1]:8080/p"),
            ("https://www.linkedin.com/in/someone", "https://www.linkedin.com/in/someone"),
        ] {
            let got = HttpUrl::parse(input).unwrap();
            assert_eq!(got.as_str(), want, "{input}");
            assert!(is_rfc3986(got.as_str()), "{got:?}");
            assert_eq!(HttpUrl::parse(got.as_str()).unwrap(), got, "stable: {input}");
        }
        // Every printable ASCII character after the host comes out as a valid URI.
        let all: String = (b'!'..=b'~').map(char::from).collect();
        for prefix in ["https://x.example/", "https://x.example/?", "https://x.example/#"] {
            let got = HttpUrl::parse(&format!("{prefix}{all}")).unwrap();
            assert!(is_rfc3986(got.as_str()), "{got:?}");
        }
        for bad in ["https://a{b}.example/", "https://a`b.example/", "https://a\"b.example/"] {
            assert!(HttpUrl::parse(bad).is_err(), "{bad}");
        }
    }
}
