//! Plain HTTP request/response values, so the whole service can run and be tested off-wasm.

use serde_json::Value;

/// Every request header the service looks at (lower case). The shell passes only these.
pub const HEADERS_READ: &[&str] = &["authorization", "x-api-key", "content-type", "content-length", "if-match", "host"];

/// Requests larger than this are refused with 413 before they are read.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

#[derive(Debug, Clone)]
pub enum Body {
    Bytes(Vec<u8>),
    TooLarge,
}

impl Body {
    /// What the shell read, given the declared `Content-Length` and the bytes (if it read any).
    pub fn from_read(declared_len: Option<usize>, bytes: Option<Vec<u8>>) -> Body {
        match (declared_len, bytes) {
            (Some(n), _) if n > MAX_BODY_BYTES => Body::TooLarge,
            (_, Some(b)) if b.len() > MAX_BODY_BYTES => Body::TooLarge,
            (_, b) => Body::Bytes(b.unwrap_or_default()),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// The path, with the query string if there is one (`/admin/v1/users?org_id=1`).
    pub path: String,
    /// Header names are lower case.
    pub headers: Vec<(String, String)>,
    pub body: Body,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// Path segments after the leading slash, without empty ones from a trailing slash.
    /// `path` may carry the query string; it is not part of any segment.
    pub fn segments(&self) -> Vec<&str> {
        let path = self.path.split_once('?').map_or(self.path.as_str(), |(p, _)| p);
        path.split('/').filter(|s| !s.is_empty()).collect()
    }

    /// The query string's `name=value` pairs, percent-decoded, in order.
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        let query = self.path.split_once('?').map_or("", |(_, q)| q);
        url::form_urlencoded::parse(query.as_bytes()).into_owned().collect()
    }

    /// The `Authorization: Bearer` credential, if any.
    pub fn bearer(&self) -> Option<&str> {
        let v = self.header("authorization")?.trim();
        let (scheme, token) = v.split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then(|| token.trim()).filter(|t| !t.is_empty())
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn json(status: u16, body: &Value) -> Self {
        Self::typed(status, "application/json", body)
    }
    pub fn problem(status: u16, body: &Value) -> Self {
        Self::typed(status, "application/problem+json", body)
    }
    pub fn typed(status: u16, content_type: &str, body: &Value) -> Self {
        Self {
            status,
            headers: vec![("content-type".into(), content_type.into())],
            body: serde_json::to_vec(body).unwrap_or_default(),
        }
    }
    pub fn empty(status: u16) -> Self {
        Self { status, headers: vec![], body: vec![] }
    }
    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_string(), value.into()));
        self
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// What `If-Match` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Precondition {
    /// `*`: any current version.
    Any,
    /// One of these versions (`"7"` or `W/"7"`).
    Versions(Vec<i64>),
}

/// Parse `If-Match`. A tag that is not one of ours can never match: it becomes version -1.
pub fn parse_if_match(header: Option<&str>) -> Option<Precondition> {
    let h = header?.trim();
    if h.is_empty() {
        return None;
    }
    if h == "*" {
        return Some(Precondition::Any);
    }
    let versions = h
        .split(',')
        .map(|t| {
            let t = t.trim();
            let t = t.strip_prefix("W/").unwrap_or(t);
            t.strip_prefix('"').and_then(|t| t.strip_suffix('"')).and_then(|v| v.parse::<i64>().ok()).unwrap_or(-1)
        })
        .take(16)
        .collect();
    Some(Precondition::Versions(versions))
}

/// Body bytes as a JSON value, enforcing the content type. An empty body is `{}`: the seed's
/// own HiEnergy curl sends none (a missing line continuation drops `-d '{}'`).
pub fn json_body(req: &Request) -> Result<Value, crate::error::Failure> {
    use crate::error::Failure;
    let bytes = match &req.body {
        Body::TooLarge => return Err(Failure::PayloadTooLarge),
        Body::Bytes(b) => b,
    };
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Object(Default::default()));
    }
    let ct = req.header("content-type").unwrap_or("");
    let mime = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if !(mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))) {
        return Err(Failure::UnsupportedMediaType);
    }
    serde_json::from_slice(bytes).map_err(|e| Failure::MalformedBody(format!("body is not valid JSON: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match_forms() {
        assert_eq!(parse_if_match(None), None);
        assert_eq!(parse_if_match(Some("*")), Some(Precondition::Any));
        assert_eq!(parse_if_match(Some("\"3\"")), Some(Precondition::Versions(vec![3])));
        assert_eq!(parse_if_match(Some("W/\"3\", \"4\"")), Some(Precondition::Versions(vec![3, 4])));
        assert_eq!(parse_if_match(Some("\"abc\"")), Some(Precondition::Versions(vec![-1])));
    }

    #[test]
    fn body_limits_and_types() {
        assert!(matches!(Body::from_read(Some(70_000), None), Body::TooLarge));
        assert!(matches!(Body::from_read(None, Some(vec![b' '; 70_000])), Body::TooLarge));
        let req = |ct: &str, body: &str| Request {
            method: "PATCH".into(),
            path: "/".into(),
            headers: vec![("content-type".into(), ct.into())],
            body: Body::Bytes(body.as_bytes().to_vec()),
        };
        assert_eq!(json_body(&req("", "")).unwrap(), serde_json::json!({}));
        assert_eq!(json_body(&req("text/plain", "{}")), Err(crate::error::Failure::UnsupportedMediaType));
        assert!(json_body(&req("application/json; charset=utf-8", "{}")).is_ok());
        assert!(json_body(&req("application/merge-patch+json", "{}")).is_ok());
        assert!(matches!(json_body(&req("application/json", "{nope")), Err(crate::error::Failure::MalformedBody(_))));
    }
}
