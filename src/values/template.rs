use super::uri;

/// A link template for verification messages, as ZITADEL takes it:
/// `https://example.com/verify?userID={{.UserID}}&code={{.Code}}&orgID={{.OrgID}}`.
///
/// Only those three placeholders exist (spaces inside the braces allowed, as Go templates allow
/// them), and only after the host. With each placeholder blanked, the template must be the URL
/// grammar every stored URL follows (`values::uri`: an RFC 3986 URI written out in full, a host
/// name, then only characters a URI allows), so what the browser opens is what the template says.
/// WHATWG parsers repair `https:example.com` and `https:///example.com` into links; we refuse them
/// instead of guessing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlTemplate(String);

const PLACEHOLDERS: [&str; 3] = [".UserID", ".Code", ".OrgID"];

impl UrlTemplate {
    pub fn parse(s: &str) -> Result<Self, String> {
        if s.len() > 2048 {
            return Err("must be at most 2048 characters".into());
        }
        let (authority, tail) = uri::split(s)?;
        if authority.contains("{{") {
            return Err("may use placeholders only after the host".into());
        }
        check_placeholders(tail)?;
        uri::check_authority(authority)?;
        // A rendered value is percent-encoded: it adds nothing but unreserved characters and escapes.
        uri::check_tail(&blank_placeholders(tail))?;
        Ok(Self(s.to_string()))
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
                match after[..close].trim_matches(' ') {
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

fn check_placeholders(tail: &str) -> Result<(), String> {
    let mut rest = tail;
    while let Some(open) = rest.find("{{") {
        if rest[..open].contains("}}") {
            return Err("has a }} with no {{".into());
        }
        let after = &rest[open + 2..];
        let close = after.find("}}").ok_or_else(|| "has an unclosed {{".to_string())?;
        let name = after[..close].trim_matches(' ');
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

fn percent_encode(value: &str, out: &mut String) {
    for b in value.bytes() {
        if uri::is_unreserved(b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::uri::MSG;

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
        let t = UrlTemplate::parse("http://localhost:8080/v/{{.Code}}?x=%41").unwrap();
        assert_eq!(t.render("u", "ABC", "1"), "http://localhost:8080/v/ABC?x=%41");
        let err = UrlTemplate::parse("http://[::1]:8080/v/{{.Code}}").unwrap_err();
        assert!(err.contains("'[' is not allowed in its host"), "an address is no host name: {err}");
        assert_eq!(UrlTemplate::parse("https://x.example").unwrap().render("u", "c", "o"), "https://x.example/");
    }
}
