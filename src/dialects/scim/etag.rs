//! A SCIM resource's entity tag (`ETag`, `meta.version`) and `If-Match` against it.
//!
//! A strong tag must change whenever the representation does (RFC 9110 §8.8.1, RFC 7644 §3.14).
//! A SCIM User shows its groups and a Group its members' names, which other writes change (a
//! group renamed, a member added elsewhere, a member's name changed through another API) without
//! touching the resource's own stored version. So the tag is the version, and, when there are
//! such derived values, a digest of them: `"5"`, or `"5-9f0c1b2a3d4e5f60"`. `If-Match` is checked
//! against the whole tag as the resource reads now, then the write is held to the version read.

use crate::http::Precondition;
use crate::model::User;
use crate::pipeline::{Group, Member};

/// The tag of a version and the derived values shown with it.
fn of(version: i64, derived: &[Member]) -> String {
    if derived.is_empty() {
        return format!("\"{version}\"");
    }
    // FNV-1a, 64 bits: a stable digest of each value and its display, in order.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for m in derived {
        for b in m.value.bytes().chain([0]).chain(m.display.as_deref().unwrap_or("").bytes()).chain([0]) {
            h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    format!("\"{version}-{h:016x}\"")
}

pub fn user(u: &User, groups: &[Member]) -> String {
    of(u.version, groups)
}

pub fn group(g: &Group) -> String {
    of(g.version, &g.members)
}

/// `If-Match` for a SCIM resource: `*`, or the strong tags it lists (compared as
/// `http::strong_match` does: a weak `W/"…"` tag never matches, RFC 9110 §13.1.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IfMatch {
    Any,
    Tags(String),
}

impl IfMatch {
    pub fn parse(header: Option<&str>) -> Option<Self> {
        let h = header?.trim();
        match h {
            "" => None,
            "*" => Some(IfMatch::Any),
            _ => Some(IfMatch::Tags(h.to_string())),
        }
    }

    /// The write's precondition once the resource read as `tag` at `version`: `Any` stays any
    /// version; a listed tag holds the write to the version read; none listed is a 412 now.
    pub fn at(&self, tag: &str, version: i64) -> Option<Precondition> {
        match self {
            IfMatch::Any => Some(Precondition::Any),
            IfMatch::Tags(tags) if crate::http::strong_match(tags, tag) => Some(Precondition::Versions(vec![version])),
            IfMatch::Tags(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(value: &str, display: &str) -> Member {
        Member { value: value.into(), display: Some(display.into()), own: false }
    }

    #[test]
    fn the_tag_follows_the_derived_values() {
        assert_eq!(of(5, &[]), "\"5\"");
        let a = of(5, &[member("g1", "Ops")]);
        assert!(a.starts_with("\"5-") && a.len() == 20, "{a}");
        assert_ne!(a, of(5, &[member("g1", "Ops team")]), "a rename changes it");
        assert_ne!(a, of(5, &[member("g1", "Ops"), member("g2", "Dev")]), "a membership changes it");
        assert_ne!(of(5, &[member("ab", "c")]), of(5, &[member("a", "bc")]), "values are delimited");
        assert_eq!(a, of(5, &[member("g1", "Ops")]), "stable");
    }

    #[test]
    fn if_match() {
        assert_eq!(IfMatch::parse(None), None);
        assert_eq!(IfMatch::parse(Some("*")).unwrap().at("\"5\"", 5), Some(Precondition::Any));
        let m = IfMatch::parse(Some("\"4\", \"5-00000000000000aa\"")).unwrap();
        assert_eq!(m.at("\"5-00000000000000aa\"", 5), Some(Precondition::Versions(vec![5])));
        assert_eq!(m.at("\"5\"", 5), None);
        assert_eq!(IfMatch::parse(Some("W/\"5\"")).unwrap().at("\"5\"", 5), None, "weak never matches");
    }
}
