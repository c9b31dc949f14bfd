//! The `path` of a SCIM PATCH operation (RFC 7644 §3.5.2):
//! `PATH = attrPath / valuePath [subAttr]`, where `attrPath` may carry a schema URN prefix
//! (`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value`) and a
//! `valuePath` is `attr[valFilter]` with the filter grammar of `super::filter`.

use super::filter::Parser;
use crate::model::filter::{AttrPath, Filter};
use std::fmt;

/// A parsed PATCH path.
///
/// - `name.givenName`: `attr` = name.givenName (its `sub_attr` set), no filter.
/// - `emails[type eq "work"].value`: `attr` = emails, `filter` = `type eq "work"` (paths relative
///   to `emails`), `sub_attr` = value.
/// - `members[value eq "…"]`: `attr` = members, the filter, no `sub_attr`.
///
/// `sub_attr` is only ever set together with `filter`; without a filter the sub-attribute is in
/// `attr.sub_attr`.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchPath {
    pub attr: AttrPath,
    pub filter: Option<Filter>,
    pub sub_attr: Option<String>,
}

/// A path that does not parse. The dialect renders it as scimType `invalidPath`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathError {
    pub detail: String,
}

impl PathError {
    pub const SCIM_TYPE: &'static str = "invalidPath";
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.detail)
    }
}

pub fn parse(input: &str) -> Result<PatchPath, PathError> {
    let wrap = |m: String| PathError { detail: format!("invalid path '{input}': {m}") };
    let mut p = Parser::new(input.trim()).map_err(wrap)?;
    let attr = p.attr_path(false).map_err(wrap)?;
    let mut path = PatchPath { attr, filter: None, sub_attr: None };
    if p.peek_is(b'[') {
        if path.attr.sub_attr.is_some() {
            return Err(wrap(format!("a value filter follows a multi-valued attribute, not '{}'", path.attr)));
        }
        path.filter = Some(p.bracketed_filter().map_err(wrap)?);
        if p.eat(b'.') {
            path.sub_attr = Some(p.attr_name().map_err(wrap)?);
        }
    }
    p.finish().map_err(wrap)?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::filter::{CompareOp, FilterValue};

    fn eq(attr: &str, v: &str) -> Filter {
        Filter::compare(AttrPath::new(attr), CompareOp::Eq, FilterValue::Str(v.into()))
    }

    #[test]
    fn rfc7644_and_client_paths() {
        let enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
        let cases = vec![
            ("name.givenName", PatchPath { attr: AttrPath::with_sub("name", "givenName"), filter: None, sub_attr: None }),
            ("userName", PatchPath { attr: AttrPath::new("userName"), filter: None, sub_attr: None }),
            (
                r#"emails[type eq "work"].value"#,
                PatchPath { attr: AttrPath::new("emails"), filter: Some(eq("type", "work")), sub_attr: Some("value".into()) },
            ),
            (
                r#"members[value eq "2819c223-7f76-453a-919d-413861904646"]"#,
                PatchPath {
                    attr: AttrPath::new("members"),
                    filter: Some(eq("value", "2819c223-7f76-453a-919d-413861904646")),
                    sub_attr: None,
                },
            ),
            (
                r#"addresses[type eq "work"].streetAddress"#,
                PatchPath {
                    attr: AttrPath::new("addresses"),
                    filter: Some(eq("type", "work")),
                    sub_attr: Some("streetAddress".into()),
                },
            ),
            (
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
                PatchPath {
                    attr: AttrPath { urn: Some(enterprise.into()), attr: "manager".into(), sub_attr: Some("value".into()) },
                    filter: None,
                    sub_attr: None,
                },
            ),
            (
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
                PatchPath {
                    attr: AttrPath { urn: Some(enterprise.into()), attr: "employeeNumber".into(), sub_attr: None },
                    filter: None,
                    sub_attr: None,
                },
            ),
            (
                r#"urn:ietf:params:scim:schemas:core:2.0:User:emails[type eq "work" and primary eq true]"#,
                PatchPath {
                    attr: AttrPath {
                        urn: Some("urn:ietf:params:scim:schemas:core:2.0:User".into()),
                        attr: "emails".into(),
                        sub_attr: None,
                    },
                    filter: Some(Filter::and(
                        eq("type", "work"),
                        Filter::compare(AttrPath::new("primary"), CompareOp::Eq, FilterValue::Bool(true)),
                    )),
                    sub_attr: None,
                },
            ),
            (" title ", PatchPath { attr: AttrPath::new("title"), filter: None, sub_attr: None }),
        ];
        for (input, want) in cases {
            assert_eq!(parse(input), Ok(want), "{input}");
        }
    }

    #[test]
    fn errors() {
        for (input, needle) in [
            ("", "expected an attribute name"),
            ("name.", "expected an attribute name"),
            ("name..givenName", "at most one sub-attribute"),
            ("name.givenName.x", "at most one sub-attribute"),
            (r#"name.givenName[type eq "x"]"#, "follows a multi-valued attribute"),
            (r#"emails[type eq "work"]"#.trim_end_matches(']'), "expected ']'"),
            (r#"emails[type eq "work"]value"#, "unexpected 'value'"),
            (r#"emails[type eq "work"].value.x"#, "unexpected '.x'"),
            (r#"emails[type eq "work"]."#, "expected an attribute name"),
            (r#"emails[]"#, "expected an attribute name"),
            ("emails eq 1", "unexpected 'eq 1'"),
            ("bad:path", "must be a URN"),
            ("9lives", "not an attribute name"),
        ] {
            let e = parse(input).unwrap_err().detail;
            assert!(e.contains(needle), "{input:?}: {e}");
            assert!(e.starts_with("invalid path '"), "{e}");
        }
        assert_eq!(PathError::SCIM_TYPE, "invalidPath");
    }
}
