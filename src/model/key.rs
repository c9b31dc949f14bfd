//! What an API key carries besides its owner: the APIs it may call (scopes) and when it stops
//! working. Both travel in the KV entry so the hot path decides without D1, and the write's
//! guard re-checks them in D1 (docs/ARCHITECTURE.md, "API keys").

use crate::values::instant::Instant;
use serde::{Deserialize, Serialize};

/// An API a key may call, or `read`: GETs only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    Hienergy,
    Zitadel,
    Upsun,
    Konstantly,
    Scim,
    /// The operator API (admin keys only).
    Admin,
    /// GETs only, across the key's APIs (every API when it names none).
    Read,
}

impl Scope {
    pub const ALL: [Scope; 7] =
        [Scope::Hienergy, Scope::Zitadel, Scope::Upsun, Scope::Konstantly, Scope::Scim, Scope::Admin, Scope::Read];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Hienergy => "hienergy",
            Scope::Zitadel => "zitadel",
            Scope::Upsun => "upsun",
            Scope::Konstantly => "konstantly",
            Scope::Scim => "scim",
            Scope::Admin => "admin",
            Scope::Read => "read",
        }
    }

    pub fn parse(s: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|sc| sc.as_str() == s)
    }

    /// An API only an org admin's key may call (its dialect takes admin keys only: the operator
    /// API, SCIM, Konstantly's site-admin keys). `dialects` checks this against each dialect's rules.
    pub fn admin_keys_only(self) -> bool {
        matches!(self, Scope::Admin | Scope::Scim | Scope::Konstantly)
    }
}

/// A key's scopes: `None` is every API (keys issued without scopes, and every key issued before
/// scopes existed). Kept sorted and without duplicates, so equal sets have one spelling.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Scopes(Option<Vec<Scope>>);

impl Scopes {
    pub fn all() -> Self {
        Scopes(None)
    }

    pub fn of(mut list: Vec<Scope>) -> Self {
        list.sort();
        list.dedup();
        Scopes(Some(list))
    }

    pub fn list(&self) -> Option<&[Scope]> {
        self.0.as_deref()
    }

    /// May a request to `api` (`read`: a GET) go ahead? `read` narrows a key to GETs; a key whose
    /// only scope is `read` may GET every API.
    pub fn permit(&self, api: Scope, read: bool) -> bool {
        let Some(list) = &self.0 else { return true };
        let read_only = list.contains(&Scope::Read);
        if read_only && !read {
            return false;
        }
        let apis: Vec<&Scope> = list.iter().filter(|s| **s != Scope::Read).collect();
        if apis.is_empty() {
            read_only
        } else {
            apis.contains(&&api)
        }
    }

    /// Does every request `other` permits pass these scopes too? (What a key may grant: no more
    /// than it holds, compared on what each permits, so `["hienergy","read"]` is within
    /// `["hienergy"]`.)
    pub fn covers(&self, other: &Scopes) -> bool {
        Scope::ALL
            .into_iter()
            .filter(|s| *s != Scope::Read)
            .all(|api| [true, false].into_iter().all(|read| !other.permit(api, read) || self.permit(api, read)))
    }

    /// Every stored spelling (`to_json`) of a scope list these scopes cover: what a key stored
    /// with one of them may be rotated into by a key holding these. Empty when these are every
    /// API (then nothing needs listing).
    pub fn covered_spellings(&self) -> Vec<String> {
        if self.0.is_none() {
            return Vec::new();
        }
        (0u32..1 << Scope::ALL.len())
            .map(|bits| {
                Scopes::of(Scope::ALL.into_iter().enumerate().filter(|(i, _)| bits & (1 << i) != 0).map(|(_, s)| s).collect())
            })
            .filter(|candidate| self.covers(candidate))
            .filter_map(|candidate| candidate.to_json())
            .collect()
    }

    /// The APIs these scopes name that only an org admin's key may call: on a user's key they
    /// would permit nothing, so a key for a user who is no admin may not be issued with them.
    pub fn admin_only(&self) -> Vec<Scope> {
        self.0.iter().flatten().copied().filter(|s| s.admin_keys_only()).collect()
    }

    /// The stored form: a JSON array, or NULL for every API.
    pub fn to_json(&self) -> Option<String> {
        self.0.as_ref().map(|l| serde_json::to_string(l).unwrap_or_else(|_| "[]".into()))
    }

    pub fn from_json(stored: Option<&str>) -> Self {
        match stored {
            None => Scopes(None),
            Some(s) => Scopes::of(serde_json::from_str(s).unwrap_or_default()),
        }
    }
}

/// A key to issue: for whom, what it is called, what it may call, until when.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyRequest {
    pub user_id: i64,
    pub name: Option<String>,
    pub scopes: Scopes,
    /// RFC 3339 UTC with milliseconds (the stored form, so it compares as text).
    pub expires_at: Option<String>,
}

/// Parse an RFC 3339 date-time into the stored UTC form (`2026-01-02T03:04:05.000Z`); the one
/// place a timestamp is normalised, because expiry is compared as text in D1.
pub fn utc_millis(s: &str) -> Option<String> {
    crate::values::instant::parse_rfc3339(s).and_then(utc_millis_of)
}

/// `utc_millis` of an instant already parsed: `None` before 1970 or past year 9999.
pub fn utc_millis_of(t: Instant) -> Option<String> {
    (0..=crate::values::instant::LAST_MS).contains(&t.unix_millis()).then(|| t.utc_text())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_matrix() {
        use Scope::*;
        let all = Scopes::all();
        let hienergy = Scopes::of(vec![Hienergy]);
        let hienergy_read = Scopes::of(vec![Read, Hienergy]);
        let read = Scopes::of(vec![Read]);
        let none = Scopes::of(vec![]);
        for api in [Hienergy, Zitadel, Upsun, Konstantly, Scim, Admin] {
            for get in [true, false] {
                assert!(all.permit(api, get));
                assert_eq!(hienergy.permit(api, get), api == Hienergy, "{api:?} {get}");
                assert_eq!(hienergy_read.permit(api, get), api == Hienergy && get, "{api:?} {get}");
                assert_eq!(read.permit(api, get), get, "{api:?} {get}");
                assert!(!none.permit(api, get));
            }
        }
    }

    #[test]
    fn a_key_covers_what_permits_no_more_than_itself() {
        use Scope::*;
        let all = Scopes::all();
        let admin = Scopes::of(vec![Admin]);
        let hienergy = Scopes::of(vec![Hienergy]);
        let hienergy_read = Scopes::of(vec![Read, Hienergy]);
        let read = Scopes::of(vec![Read]);
        assert!(all.covers(&all) && all.covers(&admin) && all.covers(&read));
        assert!(!admin.covers(&all), "a restricted key does not cover every API");
        assert!(!admin.covers(&hienergy) && admin.covers(&admin));
        assert!(hienergy.covers(&hienergy_read), "read-only hienergy is within hienergy");
        assert!(!hienergy_read.covers(&hienergy), "but not the other way round");
        assert!(!hienergy.covers(&read), "read alone is a GET on every API");
        assert!(read.covers(&hienergy_read) && !read.covers(&hienergy));
        assert!(admin.covers(&Scopes::of(vec![])), "a key that can call nothing is within anything");
    }

    #[test]
    fn covered_spellings_are_the_stored_forms_of_what_a_key_covers() {
        use Scope::*;
        assert!(Scopes::all().covered_spellings().is_empty());
        let hienergy = Scopes::of(vec![Hienergy]).covered_spellings();
        let mut expected = vec!["[]".to_string(), r#"["hienergy"]"#.into(), r#"["hienergy","read"]"#.into()];
        expected.sort();
        let mut got = hienergy.clone();
        got.sort();
        assert_eq!(got, expected);
        let two = Scopes::of(vec![Admin, Scim]).covered_spellings();
        assert!(two.contains(&Scopes::of(vec![Scim, Admin]).to_json().unwrap()));
        assert!(two.contains(&Scopes::of(vec![Scim, Read]).to_json().unwrap()));
        assert!(!two.iter().any(|s| s.contains("hienergy")));
    }

    #[test]
    fn expiry_is_stored_in_utc_millis() {
        assert_eq!(utc_millis("2026-01-02T04:04:05+01:00").as_deref(), Some("2026-01-02T03:04:05.000Z"));
        assert_eq!(utc_millis("2026-01-02T03:04:05.5Z").as_deref(), Some("2026-01-02T03:04:05.500Z"));
        assert_eq!(utc_millis("tomorrow"), None);
    }

    #[test]
    fn one_spelling_per_set() {
        let a = Scopes::of(vec![Scope::Upsun, Scope::Hienergy, Scope::Upsun]);
        assert_eq!(a.to_json().as_deref(), Some(r#"["hienergy","upsun"]"#));
        assert_eq!(Scopes::from_json(a.to_json().as_deref()), a);
        assert_eq!(Scopes::all().to_json(), None);
        assert_eq!(serde_json::to_string(&Scopes::all()).unwrap(), "null");
    }
}
