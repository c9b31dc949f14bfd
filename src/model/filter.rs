//! A query over users or groups, independent of any wire syntax: a dialect parses its filter
//! language into this tree and the store compiles the tree to SQL (`store::filter`), so the store
//! never depends on a dialect. Its shape follows RFC 7644 §3.4.2.2 because that is the richest
//! filter language served; simpler dialects use a subset.

use std::fmt;

/// An attribute named in a filter: `[urn ":"] attr ["." sub_attr]`, spelled as the client sent it.
/// Attribute names compare case-insensitively (RFC 7643 §2.1); the lowercased accessors give the
/// comparison key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttrPath {
    /// The schema URN prefix (`urn:ietf:params:scim:schemas:core:2.0:User`), if one was given.
    pub urn: Option<String>,
    pub attr: String,
    pub sub_attr: Option<String>,
}

impl AttrPath {
    /// A bare attribute, no URN, no sub-attribute.
    pub fn new(attr: &str) -> Self {
        Self { urn: None, attr: attr.to_string(), sub_attr: None }
    }

    /// `attr.sub_attr`, no URN.
    pub fn with_sub(attr: &str, sub_attr: &str) -> Self {
        Self { urn: None, attr: attr.to_string(), sub_attr: Some(sub_attr.to_string()) }
    }

    /// `attr` or `attr.sub_attr`, lowercased, without the URN: the comparison key.
    pub fn key(&self) -> String {
        match &self.sub_attr {
            Some(sub) => format!("{}.{}", self.attr, sub).to_ascii_lowercase(),
            None => self.attr.to_ascii_lowercase(),
        }
    }

    /// The URN, lowercased.
    pub fn urn_key(&self) -> Option<String> {
        self.urn.as_ref().map(|u| u.to_ascii_lowercase())
    }

    /// Whether this path names `attr` (and `sub_attr`), ignoring case and the URN.
    pub fn is(&self, attr: &str, sub_attr: Option<&str>) -> bool {
        self.attr.eq_ignore_ascii_case(attr)
            && match (&self.sub_attr, sub_attr) {
                (None, None) => true,
                (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
                _ => false,
            }
    }
}

/// The path as the client wrote it, for error messages.
impl fmt::Display for AttrPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(urn) = &self.urn {
            write!(f, "{urn}:")?;
        }
        write!(f, "{}", self.attr)?;
        if let Some(sub) = &self.sub_attr {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}

/// RFC 7644 §3.4.2.2 comparison operators (`pr` is `Filter::Present`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CompareOp {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

impl CompareOp {
    /// The operator by its (case-insensitive) SCIM name.
    pub fn parse(word: &str) -> Option<Self> {
        use CompareOp::*;
        let op = match word.to_ascii_lowercase().as_str() {
            "eq" => Eq,
            "ne" => Ne,
            "co" => Co,
            "sw" => Sw,
            "ew" => Ew,
            "gt" => Gt,
            "ge" => Ge,
            "lt" => Lt,
            "le" => Le,
            _ => return None,
        };
        Some(op)
    }

    pub fn as_str(self) -> &'static str {
        use CompareOp::*;
        match self {
            Eq => "eq",
            Ne => "ne",
            Co => "co",
            Sw => "sw",
            Ew => "ew",
            Gt => "gt",
            Ge => "ge",
            Lt => "lt",
            Le => "le",
        }
    }

    /// `co`, `sw`, `ew`: substring matches, meaningful for strings only.
    pub fn is_substring(self) -> bool {
        matches!(self, CompareOp::Co | CompareOp::Sw | CompareOp::Ew)
    }

    /// `gt`, `ge`, `lt`, `le`: orderings, not meaningful for booleans (RFC 7644 §3.4.2.2).
    pub fn is_ordering(self) -> bool {
        matches!(self, CompareOp::Gt | CompareOp::Ge | CompareOp::Lt | CompareOp::Le)
    }
}

/// A literal compared against: a JSON scalar.
#[derive(Debug, Clone, PartialEq)]
pub enum FilterValue {
    Str(String),
    Num(serde_json::Number),
    Bool(bool),
    Null,
}

impl fmt::Display for FilterValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FilterValue::Str(s) => write!(f, "{}", serde_json::Value::String(s.clone())),
            FilterValue::Num(n) => write!(f, "{n}"),
            FilterValue::Bool(b) => write!(f, "{b}"),
            FilterValue::Null => f.write_str("null"),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    Compare {
        path: AttrPath,
        op: CompareOp,
        value: FilterValue,
    },
    /// `pr`: the attribute has a non-empty value.
    Present(AttrPath),
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
    /// `attr[filter]`: some one value of the multi-valued `attr` matches `filter`, whose paths
    /// name sub-attributes of `attr` (relative: `type`, not `emails.type`).
    ValuePath {
        attr: AttrPath,
        filter: Box<Filter>,
    },
}

impl Filter {
    pub fn compare(path: AttrPath, op: CompareOp, value: FilterValue) -> Self {
        Filter::Compare { path, op, value }
    }
    pub fn and(a: Filter, b: Filter) -> Self {
        Filter::And(Box::new(a), Box::new(b))
    }
    pub fn or(a: Filter, b: Filter) -> Self {
        Filter::Or(Box::new(a), Box::new(b))
    }
    #[allow(clippy::should_implement_trait)]
    pub fn not(a: Filter) -> Self {
        Filter::Not(Box::new(a))
    }
    pub fn value_path(attr: AttrPath, filter: Filter) -> Self {
        Filter::ValuePath { attr, filter: Box::new(filter) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_compare_case_insensitively_and_print_as_sent() {
        let p = AttrPath {
            urn: Some("urn:ietf:params:scim:schemas:core:2.0:User".into()),
            attr: "Name".into(),
            sub_attr: Some("GivenName".into()),
        };
        assert_eq!(p.key(), "name.givenname");
        assert_eq!(p.urn_key().as_deref(), Some("urn:ietf:params:scim:schemas:core:2.0:user"));
        assert!(p.is("name", Some("givenname")));
        assert!(!p.is("name", None));
        assert!(!AttrPath::new("name").is("name", Some("givenName")));
        assert_eq!(p.to_string(), "urn:ietf:params:scim:schemas:core:2.0:User:Name.GivenName");
        assert_eq!(AttrPath::new("userName").key(), "username");
    }

    #[test]
    fn operators_parse_in_any_case() {
        for op in ["eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"] {
            let parsed = CompareOp::parse(&op.to_uppercase()).unwrap();
            assert_eq!(parsed.as_str(), op);
        }
        assert_eq!(CompareOp::parse("pr"), None);
        assert!(CompareOp::Co.is_substring() && !CompareOp::Eq.is_substring());
        assert!(CompareOp::Le.is_ordering() && !CompareOp::Ne.is_ordering());
    }

    #[test]
    fn values_print_as_json() {
        assert_eq!(FilterValue::Str("a\"b".into()).to_string(), r#""a\"b""#);
        assert_eq!(FilterValue::Null.to_string(), "null");
        assert_eq!(FilterValue::Bool(true).to_string(), "true");
    }
}
