/// A link template for verification messages, as ZITADEL takes it:
/// `https://example.com/verify?userID={{.UserID}}&code={{.Code}}&orgID={{.OrgID}}`.
///
/// Only those three placeholders exist, and only after the host. The template must be an RFC 3986
/// URI written out in full: `http://` or `https://`, a host, then only characters a URI allows
/// (`"`, `<`, `>`, `\`, spaces, a `%` that starts no escape, a second `#` are refused), so what the
/// browser opens is what the template says. WHATWG parsers repair `https:example.com` and
/// `https:///example.com` into links; we refuse them instead of guessing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlTemplate(String);

const PLACEHOLDERS: [&str; 3] = [".UserID", ".Code", ".OrgID"];
const MSG: &str = "must be an absolute http(s) URL";

impl UrlTemplate {
    pub fn parse(s: &str) -> Result<Self, String> {
        if s.len() > 2048 {
            return Err("must be at most 2048 characters".into());
        }
        let (authority_end, tail) = split_authority(s)?;
        check_placeholders(tail)?;
        check_uri_characters(&s[..authority_end], &blank_placeholders(tail))?;
        let t = Self(s.to_string());
        // Rendered, it must be an http(s) URL with a host and no credentials.
        super::HttpUrl::parse(&t.render("00000000-0000-0000-0000-000000000000", "ABCDEFGH", "1")).map_err(|e| {
            match e.as_str() {
                "must not contain credentials" => e,
                _ => MSG.to_string(),
            }
        })?;
        Ok(t)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The link, in the `url` crate's canonical serialisation. The values are percent-encoded
    /// (all but RFC 3986 unreserved characters), so they can only ever be data in the path, query
    /// or fragment, never change the link's shape.
    pub fn render(&self, user_id: &str, code: &str, org_id: &str) -> String {
        let mut out = String::with_capacity(self.0.len() + 64);
        let mut rest = self.0.as_str();
        while let Some(open) = rest.find("{{") {
            out.push_str(&rest[..open]);
            let after = &rest[open + 2..];
            let close = after.find("}}").unwrap_or(after.len());
            percent_encode(
                match after[..close].trim() {
                    ".UserID" => user_id,
                    ".Code" => code,
                    _ => org_id,
                },
                &mut out,
            );
            rest = after.get(close + 2..).unwrap_or("");
        }
        out.push_str(rest);
        // `parse` proved this template renders to a valid URL for any encoded values.
        url::Url::parse(&out).map(String::from).unwrap_or(out)
    }
}

/// Where the scheme and authority end: the template must start `http://` or `https://` (scheme in
/// any case) and name a host before the path. Returns that end and the rest.
fn split_authority(s: &str) -> Result<(usize, &str), String> {
    let scheme = s.find("://").map(|i| &s[..i]).unwrap_or("");
    if !(scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https")) {
        return Err(format!("{MSG} starting http:// or https://"));
    }
    let start = scheme.len() + 3;
    let end = s[start..].find(['/', '?', '#']).map_or(s.len(), |i| start + i);
    if end == start {
        return Err(format!("{MSG}: a host must follow ://"));
    }
    if s[start..end].contains("{{") {
        return Err("may use placeholders only after the host".into());
    }
    Ok((end, &s[end..]))
}

fn check_placeholders(tail: &str) -> Result<(), String> {
    let mut rest = tail;
    while let Some(open) = rest.find("{{") {
        if rest[..open].contains("}}") {
            return Err("has a }} with no {{".into());
        }
        let after = &rest[open + 2..];
        let close = after.find("}}").ok_or_else(|| "has an unclosed {{".to_string())?;
        let name = after[..close].trim();
        if !PLACEHOLDERS.contains(&name) {
            return Err(format!(
                "has an unknown placeholder {{{{{name}}}}}; use {{{{.UserID}}}}, {{{{.Code}}}} or {{{{.OrgID}}}}"
            ));
        }
        rest = &after[close + 2..];
    }
    if rest.contains("}}") {
        return Err("has a }} with no {{".into());
    }
    Ok(())
}

/// The tail with every placeholder replaced by `x`: a rendered value is percent-encoded, so it
/// never adds anything but unreserved characters and escapes.
fn blank_placeholders(tail: &str) -> String {
    let mut out = String::with_capacity(tail.len());
    let mut rest = tail;
    while let (Some(open), Some(close)) = (rest.find("{{"), rest.find("}}")) {
        out.push_str(&rest[..open]);
        out.push('x');
        rest = &rest[close + 2..];
    }
    out.push_str(rest);
    out
}

/// RFC 3986 §3.2 and §3.3-3.5: the authority is reg-name / IP-literal characters and a port; the
/// rest is pchars, `/`, `?`, escapes and at most one `#` (which starts the fragment).
fn check_uri_characters(head: &str, tail: &str) -> Result<(), String> {
    let authority = &head[head.find("://").map_or(0, |i| i + 3)..];
    if let Some(c) = authority.chars().find(|&c| !(c.is_ascii() && is_authority_char(c as u8))) {
        return Err(format!("{MSG}: {} is not allowed in its host", shown(c)));
    }
    let b = tail.as_bytes();
    let mut fragment = false;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() && b[i + 1].is_ascii_hexdigit() && b[i + 2].is_ascii_hexdigit() => i += 2,
            b'%' => return Err(format!("{MSG}: a % must start an escape such as %20")),
            b'#' if fragment => return Err(format!("{MSG}: it has a second #")),
            b'#' => fragment = true,
            c if is_pchar(c) || matches!(c, b'/' | b'?') => {}
            _ => {
                let c = tail[i..].chars().next().unwrap_or('?');
                return Err(format!("{MSG}: {} is not allowed in a URL; percent-encode it", shown(c)));
            }
        }
        i += 1;
    }
    Ok(())
}

/// A character for an error message: printable ASCII as itself in quotes, anything else by number.
fn shown(c: char) -> String {
    if c.is_ascii_graphic() {
        format!("'{c}'")
    } else {
        format!("U+{:04X}", c as u32)
    }
}

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

fn is_sub_delim(b: u8) -> bool {
    matches!(b, b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*' | b'+' | b',' | b';' | b'=')
}

fn is_pchar(b: u8) -> bool {
    is_unreserved(b) || is_sub_delim(b) || matches!(b, b':' | b'@')
}

/// Credentials (`user@`) are refused later, by `HttpUrl`, with their own message.
fn is_authority_char(b: u8) -> bool {
    is_unreserved(b) || is_sub_delim(b) || matches!(b, b':' | b'[' | b']' | b'@')
}

fn percent_encode(value: &str, out: &mut String) {
    for b in value.bytes() {
        if is_unreserved(b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_template() {
        let t =
            UrlTemplate::parse("https://example.com/email/verify?userID={{.UserID}}&code={{.Code}}&orgID={{.OrgID}}").unwrap();
        assert_eq!(t.render("u1", "ABC", "7"), "https://example.com/email/verify?userID=u1&code=ABC&orgID=7");
    }

    #[test]
    fn bad_templates() {
        for bad in [
            "https://x.example/?c={{.Code}",
            "https://x.example/?c={{.Secret}}",
            "https://x.example/?c=}}",
            "https://x.example/?c=}}{{.Code}}",
            "{{.Code}}",
            "ftp://x.example/{{.Code}}",
        ] {
            assert!(UrlTemplate::parse(bad).is_err(), "{bad}");
        }
    }

    /// What the probe got accepted: each is refused, and the error says why.
    #[test]
    fn the_probes_templates_are_refused() {
        for (bad, why) in [
            (r#"https://x.example/v?c={{.Code}}&q=""#, "'\"' is not allowed"),
            ("https://x.example/<script>alert(1)</script>?c={{.Code}}", "'<' is not allowed"),
            ("https://x.example/v?c={{.Code}}&x=>", "'>' is not allowed"),
            ("https://x.example/%zz?c={{.Code}}", "a % must start an escape"),
            ("https://x.example/v?c=%{{.Code}}", "a % must start an escape"),
            ("https:example.com/v?c={{.Code}}", "starting http:// or https://"),
            ("https:///x.example/v?c={{.Code}}", "a host must follow"),
            ("https://x.example/v?c={{.Code}}#a#b", "a second #"),
            ("https://x.example\\@evil.example/?c={{.Code}}", "'\\' is not allowed in its host"),
            ("https://x.example/a\\b?c={{.Code}}", "'\\' is not allowed"),
            ("https://x.example/a b?c={{.Code}}", "U+0020 is not allowed"),
            ("https://x.example/é?c={{.Code}}", "U+00E9 is not allowed"),
            ("https://{{.OrgID}}.x.example/?c={{.Code}}", "only after the host"),
            ("https://u:p@x.example/?c={{.Code}}", "must not contain credentials"),
            ("https://x.example:99999/?c={{.Code}}", MSG),
            ("javascript://x.example/%0Aalert(1)", "starting http:// or https://"),
            (" https://x.example/?c={{.Code}}", "starting http:// or https://"),
        ] {
            let err = UrlTemplate::parse(bad).expect_err(bad);
            assert!(err.contains(why), "{bad}: {err}");
        }
    }

    #[test]
    fn links_render_canonically_and_values_stay_data() {
        let t = UrlTemplate::parse("HTTPS://X.Example:443/a/./b/../v?c={{.Code}}&u={{ .UserID }}#o={{.OrgID}}").unwrap();
        assert_eq!(t.render("u 1", "A&b=c#d", "7/../x"), "https://x.example/a/v?c=A%26b%3Dc%23d&u=u%201#o=7%2F..%2Fx");
        let t = UrlTemplate::parse("http://[::1]:8080/v/{{.Code}}?x=%41").unwrap();
        assert_eq!(t.render("u", "ABC", "1"), "http://[::1]:8080/v/ABC?x=%41");
        assert_eq!(UrlTemplate::parse("https://x.example").unwrap().render("u", "c", "o"), "https://x.example/");
    }
}
