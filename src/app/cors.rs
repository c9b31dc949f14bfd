//! Cross-origin use from browsers (the Fetch standard's CORS), as token-authenticated APIs such as
//! GitHub's and ZITADEL's allow it: any origin, never with cookies. Every credential here is a
//! header the page's script sets itself (`Authorization`, `X-Api-Key`), so a page can act only with
//! a key it already holds. No ambient credential (a cookie, HTTP authentication, a client
//! certificate) is ever read, and a browser never lets a page read an answer marked
//! `Access-Control-Allow-Origin: *` to a request it sent with credentials.

use crate::http::{Request, Response};

/// The response headers a cross-origin script may read besides the CORS-safelisted ones: the
/// version to send back in `If-Match`, the bookmark to echo, where a created resource lives,
/// when to retry after a 429, and the storage calls made.
pub const EXPOSE_HEADERS: &str = "ETag, Location, Retry-After, Server-Timing, X-D1-Bookmark";
/// Every method some route serves.
const ALLOW_METHODS: &str = "GET, HEAD, POST, PUT, PATCH, DELETE";
/// The request headers any dialect reads, and `*`: any other header a client library adds (a
/// tracing header, say) must not fail the preflight. Browsers that know the wildcard allow
/// everything but `Authorization` with it, which is why that one is named; the names serve the
/// ones that do not.
const ALLOW_HEADERS: &str =
    "Authorization, Content-Type, If-Match, If-None-Match, X-Api-Key, X-D1-Bookmark, Connect-Protocol-Version, Connect-Timeout-Ms, *";
/// How long a browser may reuse a preflight's answer, in seconds (browsers cap it lower).
const MAX_AGE: &str = "86400";

/// A browser's preflight (`OPTIONS` with `Origin` and `Access-Control-Request-Method`), answered
/// for every path before any route, key or storage call: the request it asks about is checked
/// in full when it comes. Any other `OPTIONS` is routed as before (405 with `Allow`).
pub fn preflight(req: &Request) -> Option<Response> {
    let asks = req.method == "OPTIONS" && req.header("origin").is_some() && req.header("access-control-request-method").is_some();
    asks.then(|| {
        Response::empty(204)
            .with_header("access-control-allow-methods", ALLOW_METHODS)
            .with_header("access-control-allow-headers", ALLOW_HEADERS)
            .with_header("access-control-max-age", MAX_AGE)
    })
}

/// What every response carries for a cross-origin reader.
pub fn allow(resp: &mut Response) {
    resp.headers.push(("access-control-allow-origin".into(), "*".into()));
    resp.headers.push(("access-control-expose-headers".into(), EXPOSE_HEADERS.into()));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::Body;

    fn options(headers: &[(&str, &str)]) -> Request {
        Request {
            method: "OPTIONS".into(),
            path: "/api/v1/users/1".into(),
            headers: headers.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect(),
            body: Body::Bytes(vec![]),
        }
    }

    #[test]
    fn only_a_preflight_is_answered_here() {
        let asked = options(&[("origin", "https://app.example"), ("access-control-request-method", "PATCH")]);
        let r = preflight(&asked).expect("a preflight");
        assert_eq!(r.status, 204);
        assert!(r.header("access-control-allow-methods").unwrap().contains("PATCH"));
        assert!(r.header("access-control-allow-headers").unwrap().contains("If-Match"));
        assert!(preflight(&options(&[("origin", "https://app.example")])).is_none(), "no method asked");
        assert!(preflight(&options(&[("access-control-request-method", "PATCH")])).is_none(), "no origin");
        let get = Request { method: "GET".into(), ..asked };
        assert!(preflight(&get).is_none());
    }
}
