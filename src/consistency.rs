//! Which copy of the database a request may read, and what the response tells the client about it.
//!
//! D1 read replication serves a query from the primary or from a replica near the client. A
//! D1 *session* keeps a request's queries sequentially consistent; it starts either at the
//! primary, anywhere, or at a *bookmark* (a position in the database's history) that a client
//! got from an earlier response and sends back in `X-D1-Bookmark` to read its own writes.
//! Everything here is a pure decision; the wasm shell (`edge`) carries it out.

use crate::http::Response;

/// The request header a client echoes, and the response header that carries the bookmark.
pub const BOOKMARK_HEADER: &str = "x-d1-bookmark";
/// Bookmarks D1 hands out are 59 characters (`0000007b-0000b26e-00001538-0c3e…`); anything far
/// longer is not one.
const MAX_BOOKMARK_LEN: usize = 128;

/// The operator's choice (`READ_CONSISTENCY` variable) of where reads may run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadConsistency {
    /// Reads may run on the nearest replica (the default).
    Nearest,
    /// Every read runs on the primary: a key guard never sees replica lag.
    Primary,
}

impl ReadConsistency {
    /// Unset or `"nearest"` allows replicas; `"primary"` forbids them. Any other value is a
    /// configuration mistake, read the safe way: as `"primary"`.
    pub fn from_config(value: Option<&str>) -> Self {
        match value.map(str::trim) {
            None | Some("") => Self::Nearest,
            Some(v) if v.eq_ignore_ascii_case("nearest") => Self::Nearest,
            Some(_) => Self::Primary,
        }
    }
}

/// A bookmark as D1 formats it: groups of lower-case hex digits joined by single dashes. Only
/// its shape is checked; D1 decides what it points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bookmark(String);

impl Bookmark {
    pub fn parse(raw: &str) -> Option<Self> {
        let well_formed = !raw.is_empty()
            && raw.len() <= MAX_BOOKMARK_LEN
            && raw.split('-').all(|g| !g.is_empty() && g.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
        well_formed.then(|| Self(raw.to_string()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Where a request's D1 session starts (the argument of `D1Database::withSession`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionStart {
    /// Writes and the operator API: the primary, so a guard sees every committed change.
    FirstPrimary,
    /// A read with no bookmark: whichever copy answers first.
    FirstUnconstrained,
    /// A read that must see at least what the client saw at this bookmark.
    After(Bookmark),
}

impl SessionStart {
    /// GET and HEAD outside the operator API are reads; everything else may change data or must
    /// see the primary. A malformed bookmark is ignored (the read starts unconstrained).
    pub fn for_request(method: &str, path: &str, bookmark: Option<&str>, setting: ReadConsistency) -> Self {
        let read = matches!(method, "GET" | "HEAD");
        let operator = path == "/admin" || path.starts_with("/admin/");
        if !read || operator || setting == ReadConsistency::Primary {
            return Self::FirstPrimary;
        }
        match bookmark.map(str::trim).and_then(Bookmark::parse) {
            Some(b) => Self::After(b),
            None => Self::FirstUnconstrained,
        }
    }

    /// The `withSession` argument.
    pub fn as_str(&self) -> &str {
        match self {
            Self::FirstPrimary => "first-primary",
            Self::FirstUnconstrained => "first-unconstrained",
            Self::After(b) => b.as_str(),
        }
    }

    /// Where to start again when D1 refused a query in this session. Only a client's bookmark
    /// can be the reason (D1 may reject one it never issued); the read then runs unconstrained,
    /// so a forged bookmark costs its sender a retry, never a 5xx.
    pub fn after_refusal(&self) -> Option<Self> {
        matches!(self, Self::After(_)).then_some(Self::FirstUnconstrained)
    }

    /// The bookmark a response reports before any query has run: the client's own, if it sent one.
    pub fn bookmark(&self) -> Option<&str> {
        match self {
            Self::After(b) => Some(b.as_str()),
            _ => None,
        }
    }
}

/// Which database instance served one D1 call, as far as the runtime says (`meta` of the result).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Served {
    pub region: Option<String>,
    pub primary: Option<bool>,
}

impl Served {
    /// ` (WEUR, replica)`, or nothing when the runtime said nothing (local D1 never does).
    fn note(&self) -> String {
        let region: Option<String> = self
            .region
            .as_deref()
            .map(|r| r.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').take(32).collect());
        let role = self.primary.map(|p| if p { "primary" } else { "replica" });
        match (region.filter(|r| !r.is_empty()), role) {
            (Some(r), Some(p)) => format!(" ({r}, {p})"),
            (Some(r), None) => format!(" ({r})"),
            (None, Some(p)) => format!(" ({p})"),
            (None, None) => String::new(),
        }
    }
}

/// Add what the client needs about the session: the latest bookmark (when there is one) and
/// which D1 instance served each `d1` entry of `Server-Timing` (`served` holds one entry per D1
/// call, in order). Every response lists both headers as readable cross-origin (`app::cors`).
pub fn report(resp: &mut Response, bookmark: Option<&str>, served: &[Served]) {
    if let Some(b) = bookmark.and_then(Bookmark::parse) {
        resp.headers.push((BOOKMARK_HEADER.into(), b.0));
    }
    if served.iter().all(|s| s.note().is_empty()) {
        return;
    }
    if let Some((_, timing)) = resp.headers.iter_mut().find(|(n, _)| n == "server-timing") {
        *timing = annotate(timing, served);
    }
}

/// `d1;desc="query";dur=2.1` → `d1;desc="query (WEUR, replica)";dur=2.1`, the n-th `d1` entry
/// with the n-th `served`.
fn annotate(timing: &str, served: &[Served]) -> String {
    let mut calls = served.iter();
    timing
        .split(", ")
        .map(|entry| {
            if !entry.starts_with("d1;") {
                return entry.to_string();
            }
            let note = calls.next().map(Served::note).unwrap_or_default();
            match entry.find("desc=\"").map(|i| i + 6).and_then(|s| entry[s..].find('"').map(|e| s + e)) {
                Some(end) if !note.is_empty() => format!("{}{note}{}", &entry[..end], &entry[end..]),
                _ => entry.to_string(),
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const BM: &str = "0000007b-0000b26e-00001538-0c3e87bb37b3db5cc52eedb93cd3b96b";

    fn start(method: &str, path: &str, bookmark: Option<&str>) -> SessionStart {
        SessionStart::for_request(method, path, bookmark, ReadConsistency::Nearest)
    }

    #[test]
    fn writes_and_the_operator_api_start_at_the_primary() {
        for method in ["PATCH", "PUT", "POST", "DELETE", "patch-ish"] {
            assert_eq!(start(method, "/api/v1/users/2", Some(BM)), SessionStart::FirstPrimary, "{method}");
        }
        assert_eq!(start("GET", "/admin/v1/users/2", Some(BM)), SessionStart::FirstPrimary);
        assert_eq!(start("GET", "/admin", None), SessionStart::FirstPrimary);
        assert_eq!(start("POST", "/zitadel.user.v2.UserService/UpdateUser", None), SessionStart::FirstPrimary);
    }

    #[test]
    fn reads_go_anywhere_or_after_the_clients_bookmark() {
        assert_eq!(start("GET", "/api/v1/users/2", None), SessionStart::FirstUnconstrained);
        assert_eq!(start("HEAD", "/users/x", None), SessionStart::FirstUnconstrained);
        assert_eq!(start("GET", "/administrators", None), SessionStart::FirstUnconstrained, "only the /admin/ tree");
        let s = start("GET", "/api/v1/users/2", Some(&format!(" {BM} ")));
        assert_eq!(s.as_str(), BM);
        assert_eq!(s.bookmark(), Some(BM));
        assert_eq!(s.after_refusal(), Some(SessionStart::FirstUnconstrained));
        assert_eq!(SessionStart::FirstPrimary.after_refusal(), None);
        assert_eq!(SessionStart::FirstUnconstrained.after_refusal(), None);
    }

    #[test]
    fn a_malformed_bookmark_is_ignored() {
        let long = "a".repeat(129);
        for bad in
            ["", " ", "first-primary", "ABCDEF01-0", "00-", "-00", "00--00", "0000\n0000", "zz", long.as_str(), "00;00", "é0"]
        {
            assert_eq!(start("GET", "/api/v1/users/2", Some(bad)), SessionStart::FirstUnconstrained, "{bad:?}");
            assert_eq!(Bookmark::parse(bad), None, "{bad:?}");
        }
        assert!(Bookmark::parse("00000000-00000000-00000000-00000000000000000000000000000000").is_some());
    }

    #[test]
    fn the_primary_setting_sends_every_read_to_the_primary() {
        let strict = |b| SessionStart::for_request("GET", "/api/v1/users/2", b, ReadConsistency::Primary);
        assert_eq!(strict(None), SessionStart::FirstPrimary);
        assert_eq!(strict(Some(BM)), SessionStart::FirstPrimary);
        assert_eq!(ReadConsistency::from_config(Some("primary")), ReadConsistency::Primary);
        assert_eq!(ReadConsistency::from_config(Some(" Primary ")), ReadConsistency::Primary);
        assert_eq!(ReadConsistency::from_config(Some("prmary")), ReadConsistency::Primary, "a typo is read the safe way");
        assert_eq!(ReadConsistency::from_config(Some("nearest")), ReadConsistency::Nearest);
        assert_eq!(ReadConsistency::from_config(Some("")), ReadConsistency::Nearest);
        assert_eq!(ReadConsistency::from_config(None), ReadConsistency::Nearest);
    }

    fn resp(timing: &str) -> Response {
        Response::empty(200).with_header("server-timing", timing)
    }

    #[test]
    fn a_response_carries_a_bookmark_when_there_is_one() {
        let mut r = resp("kv;desc=\"get\";dur=0.0");
        report(&mut r, None, &[]);
        assert_eq!(r.header(BOOKMARK_HEADER), None);
        let mut r = resp("");
        report(&mut r, Some(BM), &[Served::default()]);
        assert_eq!(r.header(BOOKMARK_HEADER), Some(BM));
        let mut r = resp("");
        report(&mut r, Some("not a bookmark\r\nx: y"), &[]);
        assert_eq!(r.header(BOOKMARK_HEADER), None, "only a well-formed bookmark is ever reflected");
    }

    #[test]
    fn server_timing_names_the_instance_that_served_each_d1_call() {
        let timing = "kv;desc=\"get\";dur=0.4, d1;desc=\"query\";dur=2.0, cpu;desc=\"pbkdf2\";dur=0.0, d1;desc=\"batch\";dur=3.0";
        let served = [
            Served { region: Some("WEUR".into()), primary: Some(false) },
            Served { region: Some("EN\"AM".into()), primary: Some(true) },
        ];
        let mut r = resp(timing);
        report(&mut r, None, &served);
        assert_eq!(
            r.header("server-timing"),
            Some("kv;desc=\"get\";dur=0.4, d1;desc=\"query (WEUR, replica)\";dur=2.0, cpu;desc=\"pbkdf2\";dur=0.0, d1;desc=\"batch (ENAM, primary)\";dur=3.0")
        );
        // Local D1 says nothing: the header is left exactly as the core wrote it.
        let mut r = resp(timing);
        report(&mut r, None, &[Served::default(), Served::default()]);
        assert_eq!(r.header("server-timing"), Some(timing));
        let only_role = Served { region: None, primary: Some(true) };
        assert_eq!(annotate("d1;desc=\"batch\";dur=1.0", &[only_role]), "d1;desc=\"batch (primary)\";dur=1.0");
    }
}
