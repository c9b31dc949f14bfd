/// A link template for verification messages, as ZITADEL takes it:
/// `https://example.com/verify?userID={{.UserID}}&code={{.Code}}&orgID={{.OrgID}}`.
/// Only those three placeholders exist; the result must be an absolute http(s) URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlTemplate(String);

const PLACEHOLDERS: [&str; 3] = [".UserID", ".Code", ".OrgID"];

impl UrlTemplate {
    pub fn parse(s: &str) -> Result<Self, String> {
        if s.len() > 2048 {
            return Err("must be at most 2048 characters".into());
        }
        let mut rest = s;
        while let Some(open) = rest.find("{{") {
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
        let t = Self(s.to_string());
        super::HttpUrl::parse(&t.render("u", "c", "o")).map_err(|_| "must render to an absolute http(s) URL".to_string())?;
        Ok(t)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn render(&self, user_id: &str, code: &str, org_id: &str) -> String {
        let mut out = String::with_capacity(self.0.len() + 64);
        let mut rest = self.0.as_str();
        while let Some(open) = rest.find("{{") {
            out.push_str(&rest[..open]);
            let after = &rest[open + 2..];
            let close = after.find("}}").unwrap_or(after.len());
            out.push_str(match after[..close].trim() {
                ".UserID" => user_id,
                ".Code" => code,
                _ => org_id,
            });
            rest = after.get(close + 2..).unwrap_or("");
        }
        out.push_str(rest);
        out
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
            "{{.Code}}",
            "ftp://x.example/{{.Code}}",
        ] {
            assert!(UrlTemplate::parse(bad).is_err(), "{bad}");
        }
    }
}
