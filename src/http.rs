//! Plain HTTP request/response values, so the whole service can run and be tested off-wasm.

use serde_json::Value;
use std::cell::RefCell;

/// Every request header the service looks at (lower case). The shell passes only these. The last
/// two tell a browser's CORS preflight (`app::cors`).
pub const HEADERS_READ: &[&str] = &[
    "authorization",
    "x-api-key",
    "content-type",
    "content-length",
    "if-match",
    "if-none-match",
    "host",
    "origin",
    "access-control-request-method",
];

/// Requests larger than this are refused with 413 before they are read.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

#[derive(Debug, Clone)]
pub enum Body {
    Bytes(Vec<u8>),
    TooLarge,
    /// The body could not be read (the client went away mid-upload): never taken for empty,
    /// which would turn a failed upload into a successful no-op.
    Unreadable,
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

/// The request's path with each percent-encoded unreserved character decoded (`%32` is `2`,
/// `%7E` is `~`), which RFC 3986 §6.2.2.2 makes the same URI: a client that encodes every byte of
/// an id names the same user. Any other escape (`%2F` above all, which would split a segment) and
/// the query string stay as sent. `None` when there is nothing to decode.
pub fn decode_unreserved(path: &str) -> Option<String> {
    let (route, query) = path.split_once('?').map_or((path, None), |(p, q)| (p, Some(q)));
    if !route.contains('%') {
        return None;
    }
    let bytes = route.as_bytes();
    let mut out = String::with_capacity(route.len());
    let mut at = 0;
    while at < bytes.len() {
        let hex = |i: usize| bytes.get(i).and_then(|b| (*b as char).to_digit(16));
        let decoded = match (bytes[at], hex(at + 1), hex(at + 2)) {
            (b'%', Some(hi), Some(lo)) => Some((hi * 16 + lo) as u8).filter(|b| b.is_ascii_alphanumeric() || b"-._~".contains(b)),
            _ => None,
        };
        match decoded {
            Some(b) => {
                out.push(b as char);
                at += 3;
            }
            None => {
                // A whole character: `route` is a `str`, and a `%` escape is ASCII.
                let width = route[at..].chars().next().map_or(1, char::len_utf8);
                out.push_str(&route[at..at + width]);
                at += width;
            }
        }
    }
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    (out != path).then_some(out)
}

/// A query parameter the document types `integer`, read as the JSON bodies read one
/// (`values::whole_number`): digits, or a whole number written with a fraction or an exponent
/// (`1.0`, `1e0`: what a client that formats a float sends). `None` for anything else.
pub fn query_integer(text: &str) -> Option<i64> {
    if let Ok(n) = text.parse::<i64>() {
        return Some(n);
    }
    crate::values::whole_number(&text.parse().ok()?)
}

#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// A JSON body: a `Value`, or a borrowed wire struct written straight out (no map between).
    pub fn json(status: u16, body: &impl serde::Serialize) -> Self {
        Self::typed(status, "application/json", body)
    }
    pub fn problem(status: u16, body: &Value) -> Self {
        Self::typed(status, "application/problem+json", body)
    }
    pub fn typed(status: u16, content_type: &str, body: &impl serde::Serialize) -> Self {
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
    /// One of these versions (`"7"`).
    Versions(Vec<i64>),
}

/// The query parameter names given more than once, each named once, in order. A repeated
/// parameter is refused, naming it, rather than one of its values picked: as with duplicate JSON
/// members, two readers disagreeing on which one wins is how a check gets bypassed.
pub fn repeated(pairs: &[(String, String)]) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for (i, (name, _)) in pairs.iter().enumerate() {
        if pairs[..i].iter().any(|(n, _)| n == name) && !out.contains(&name.as_str()) {
            out.push(name);
        }
    }
    out
}

/// Parse `If-Match`. A tag that is not one of ours can never match: it becomes version -1. So
/// does a weak tag (`W/"7"`): `If-Match` uses the strong comparison (RFC 9110 §13.1.1), under
/// which a weak tag matches nothing.
pub fn parse_if_match(header: Option<&str>) -> Option<Precondition> {
    let h = header?.trim();
    if h.is_empty() {
        return None;
    }
    if h == "*" {
        return Some(Precondition::Any);
    }
    let versions = h.split(',').map(|t| strong_version(t.trim()).unwrap_or(-1)).take(16).collect();
    Some(Precondition::Versions(versions))
}

/// Whether `If-Match` names the representation tagged `etag` under the strong comparison (RFC 9110
/// §13.1.1): `*`, or one of its tags exactly (a weak `W/"…"` tag matches nothing).
pub fn strong_match(header: &str, etag: &str) -> bool {
    let h = header.trim();
    h == "*" || h.split(',').any(|t| t.trim() == etag)
}

/// Whether `If-None-Match` names the representation tagged `etag`: `*`, or one of its tags under
/// the weak comparison (RFC 9110 §13.1.2: `W/"7"` matches `"7"`). A conditional GET whose tag
/// matches is answered 304 with no body (`app`).
pub fn none_match(header: &str, etag: &str) -> bool {
    let weak = |t: &str| t.trim().strip_prefix("W/").unwrap_or(t.trim()).to_string();
    let ours = weak(etag);
    header.trim() == "*" || header.split(',').any(|t| weak(t) == ours)
}

/// The version an opaque tag names, compared octet by octet with the `"<version>"` we send: so
/// `"+7"` or `"07"` are not version 7, and a weak `W/"7"` (no leading quote) is nothing.
fn strong_version(tag: &str) -> Option<i64> {
    let inner = tag.strip_prefix('"')?.strip_suffix('"')?;
    inner.parse::<i64>().ok().filter(|v| v.to_string() == inner)
}

/// Body bytes as a JSON value, enforcing the content type. An empty body is `{}`: the seed's
/// own HiEnergy curl sends none (a missing line continuation drops `-d '{}'`).
pub fn json_body(req: &Request) -> Result<Value, crate::error::Refusal> {
    use crate::error::HttpError;
    let bytes = match &req.body {
        Body::TooLarge => return Err(HttpError::PayloadTooLarge.into()),
        Body::Unreadable => return Err(HttpError::MalformedBody("the request body could not be read".into()).into()),
        Body::Bytes(b) => b,
    };
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Object(Default::default()));
    }
    let ct = req.header("content-type").unwrap_or("");
    let mime = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if !(mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))) {
        return Err(HttpError::UnsupportedMediaType.into());
    }
    parse_json(bytes)
}

/// Parse JSON, refusing a member name given twice in one object, at any depth. serde_json would
/// keep the last one; another parser in front of us (a gateway, a WAF) may keep the first, and two
/// parsers disagreeing on which value counts is how authorization bypasses start. One pass: the
/// `Value` is built while the keys are checked. The duplicate's path (`user`, `user.name`,
/// `items[2].id`) comes back as an invalid field. So does a member named as serde_json names a
/// number inside (`NUMBER_TOKEN`): kept, it would read back as a number, or as nothing.
fn parse_json(bytes: &[u8]) -> Result<Value, crate::error::Refusal> {
    use crate::error::{Failure, FieldError, HttpError};
    use serde::de::DeserializeSeed;
    let refused = RefCell::new(None);
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let parsed = UniqueKeys { path: String::new(), refused: &refused }.deserialize(&mut de).and_then(|v| de.end().map(|()| v));
    match (parsed, refused.into_inner()) {
        (_, Some((path, why))) => Err(Failure::Invalid(vec![FieldError::new(path, why)]).into()),
        (Ok(value), None) => Ok(value),
        (Err(e), None) => Err(HttpError::MalformedBody(format!("body is not valid JSON: {e}")).into()),
    }
}

/// A `serde_json::Value` seed that notes the first member it refuses (by path, with why: a name
/// given twice, or `NUMBER_TOKEN`) and stops.
struct UniqueKeys<'a> {
    path: String,
    refused: &'a RefCell<Option<(String, &'static str)>>,
}

impl UniqueKeys<'_> {
    fn child(&self, step: std::fmt::Arguments) -> Self {
        Self { path: format!("{}{step}", self.path), refused: self.refused }
    }
    fn member(&self, key: &str) -> Self {
        if self.path.is_empty() {
            Self { path: key.to_string(), refused: self.refused }
        } else {
            self.child(format_args!(".{key}"))
        }
    }
    fn refuse<E: serde::de::Error>(self, why: &'static str) -> E {
        *self.refused.borrow_mut() = Some((self.path, why));
        E::custom(why)
    }
}

impl<'de> serde::de::DeserializeSeed<'de> for UniqueKeys<'_> {
    type Value = Value;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

/// With serde_json's `arbitrary_precision` (numbers kept exactly as sent), a number that fits no
/// `u64`/`i64` arrives as a one-entry map under this key, as serde_json's own `Value` reads it.
/// Its text then comes as an owned `String` (`visit_string`); a client's own member of that name
/// comes as JSON text (`visit_str`; any other value is not a `NumberText`), and is refused.
const NUMBER_TOKEN: &str = "$serde_json::private::Number";

/// serde_json's name for raw JSON text inside (its `raw_value` feature): never a member of a
/// number or anything else `deserialize_any` reads, so always a client's, and kept it would read
/// back as the JSON its string spells (or as nothing).
const RAW_TOKEN: &str = "$serde_json::private::RawValue";

const RESERVED: &str =
    "has a member named as the JSON library names a value inside ($serde_json::private::…), which this service does not accept";

/// The value under `NUMBER_TOKEN`: the number's text if serde_json put it there, else `None`.
struct NumberText;

impl<'de> serde::de::DeserializeSeed<'de> for NumberText {
    type Value = Option<String>;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Option<String>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for NumberText {
    type Value = Option<String>;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a number's text")
    }
    fn visit_string<E>(self, s: String) -> Result<Option<String>, E> {
        Ok(Some(s))
    }
    fn visit_str<E>(self, _: &str) -> Result<Option<String>, E> {
        Ok(None)
    }
}

impl<'de> serde::de::Visitor<'de> for UniqueKeys<'_> {
    type Value = Value;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }
    fn visit_i64<E>(self, n: i64) -> Result<Value, E> {
        Ok(Value::from(n))
    }
    fn visit_u64<E>(self, n: u64) -> Result<Value, E> {
        Ok(Value::from(n))
    }
    fn visit_f64<E>(self, n: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(Value::String(s.to_string()))
    }
    fn visit_string<E>(self, s: String) -> Result<Value, E> {
        Ok(Value::String(s))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(self.child(format_args!("[{}]", items.len())))? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        use serde::de::Error;
        let mut obj = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if key == NUMBER_TOKEN || key == RAW_TOKEN {
                // Any value but serde_json's own number text (a string, or anything else, which
                // `NumberText` does not take; any value at all under `RAW_TOKEN`) is a client's
                // member of that name.
                let number = map.next_value_seed(NumberText);
                if let (true, Ok(Some(text))) = (key == NUMBER_TOKEN && obj.is_empty(), number) {
                    return text.parse().map(Value::Number).map_err(A::Error::custom);
                }
                // Named by the object that holds it: an error keyed by this name would read as a
                // number to a client parsing as serde_json does.
                let holder = if self.path.is_empty() { self.member("body") } else { self };
                return Err(holder.refuse(RESERVED));
            }
            let member = self.member(&key);
            if obj.contains_key(&key) {
                return Err(member.refuse("is given more than once"));
            }
            obj.insert(key, map.next_value_seed(member)?);
        }
        Ok(Value::Object(obj))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// JSON Schema's `integer` counts `1.0` as 1, and schemathesis (stateful phase) sent
    /// `org_id=1.0` to the operator's listing, which refused it while its bodies accept `1.0`.
    #[test]
    fn a_query_integer_is_read_as_json_schema_counts_integers() {
        for (text, n) in [("1", 1), ("01", 1), ("+1", 1), ("-3", -3), ("1.0", 1), ("1e0", 1), ("10E-1", 1), ("-0.0", 0)] {
            assert_eq!(query_integer(text), Some(n), "{text}");
        }
        assert_eq!(query_integer("9007199254740991.0"), Some(9_007_199_254_740_991));
        for text in ["", "1.5", "abc", "1 ", "0x1", "1e300", "9007199254740993.0", "NaN", "inf"] {
            assert_eq!(query_integer(text), None, "{text}");
        }
    }

    #[test]
    fn if_match_forms() {
        assert_eq!(parse_if_match(None), None);
        assert_eq!(parse_if_match(Some("*")), Some(Precondition::Any));
        assert_eq!(parse_if_match(Some("\"3\"")), Some(Precondition::Versions(vec![3])));
        assert_eq!(parse_if_match(Some("W/\"3\", \"4\"")), Some(Precondition::Versions(vec![-1, 4])));
        assert_eq!(parse_if_match(Some("\"abc\"")), Some(Precondition::Versions(vec![-1])));
    }

    /// The probe: `If-Match: W/"100"` matched version 100. Strong comparison never matches a
    /// weak tag, whatever its value (RFC 9110 §13.1.1).
    #[test]
    fn if_match_weak_tags_never_match() {
        for weak in ["W/\"100\"", "w/\"100\"", " W/\"100\" "] {
            assert_eq!(parse_if_match(Some(weak)), Some(Precondition::Versions(vec![-1])), "{weak}");
        }
        assert_eq!(parse_if_match(Some("\"100\"")), Some(Precondition::Versions(vec![100])));
        assert_eq!(parse_if_match(Some("\"+100\", \"0100\"")), Some(Precondition::Versions(vec![-1, -1])));
    }

    #[test]
    fn body_limits_and_types() {
        assert!(matches!(Body::from_read(Some(70_000), None), Body::TooLarge));
        let unread = Request { method: "PATCH".into(), path: "/".into(), headers: vec![], body: Body::Unreadable };
        assert!(
            matches!(json_body(&unread), Err(crate::error::Refusal::Http(crate::error::HttpError::MalformedBody(_)))),
            "not an empty update"
        );
        assert!(matches!(Body::from_read(None, Some(vec![b' '; 70_000])), Body::TooLarge));
        let req = |ct: &str, body: &str| Request {
            method: "PATCH".into(),
            path: "/".into(),
            headers: vec![("content-type".into(), ct.into())],
            body: Body::Bytes(body.as_bytes().to_vec()),
        };
        assert_eq!(json_body(&req("", "")).unwrap(), serde_json::json!({}));
        assert_eq!(
            json_body(&req("text/plain", "{}")),
            Err(crate::error::Refusal::Http(crate::error::HttpError::UnsupportedMediaType))
        );
        assert!(json_body(&req("application/json; charset=utf-8", "{}")).is_ok());
        assert!(json_body(&req("application/merge-patch+json", "{}")).is_ok());
        assert!(matches!(
            json_body(&req("application/json", "{nope")),
            Err(crate::error::Refusal::Http(crate::error::HttpError::MalformedBody(_)))
        ));
    }

    fn body(text: &str) -> Result<Value, crate::error::Refusal> {
        let headers = vec![("content-type".into(), "application/json".into())];
        json_body(&Request { method: "PATCH".into(), path: "/".into(), headers, body: Body::Bytes(text.as_bytes().to_vec()) })
    }

    fn duplicate_at(text: &str) -> Option<String> {
        match body(text) {
            Err(crate::error::Refusal::Core(crate::error::Failure::Invalid(errors)))
                if errors.len() == 1 && errors[0].message == "is given more than once" =>
            {
                Some(errors[0].field.clone())
            }
            _ => None,
        }
    }

    /// The probe: `{"user":{"admin":true},"user":{"role_title":"x"}}` was 200, the last one winning.
    #[test]
    fn duplicate_member_names_are_refused_at_any_depth() {
        assert_eq!(duplicate_at(r#"{"user":{"admin":true},"user":{"role_title":"x"}}"#).as_deref(), Some("user"));
        assert_eq!(duplicate_at(r#"{"user":{"name":"a","admin":true,"name":"b"}}"#).as_deref(), Some("user.name"));
        assert_eq!(duplicate_at(r#"{"a":[{"id":1},{"id":2,"id":3}]}"#).as_deref(), Some("a[1].id"));
        assert_eq!(duplicate_at(r#"[[{"k":1,"k":1}]]"#).as_deref(), Some("[0][0].k"));
        assert_eq!(duplicate_at(r#"{"x":1,"\u0078":2}"#).as_deref(), Some("x"), "an escape is the same name");
        // The same name in different objects, and a parse error after a duplicate-free prefix.
        assert_eq!(body(r#"{"a":{"id":1},"b":{"id":1},"c":[{"id":1},{"id":1}]}"#).unwrap()["c"][1]["id"], 1);
        assert!(matches!(body(r#"{"a":1,"b":2"#), Err(crate::error::Refusal::Http(crate::error::HttpError::MalformedBody(_)))));
        assert!(matches!(
            body(r#"{"a":1} {"a":2}"#),
            Err(crate::error::Refusal::Http(crate::error::HttpError::MalformedBody(_)))
        ));
    }

    /// `{"$serde_json::private::Number": "42"}` was read as the number 42 (serde_json's own
    /// spelling of a number inside), and an object holding that name further in was stored, then
    /// read back as `{}`: any member of that name is refused, named by the object holding it.
    #[test]
    fn percent_encoded_unreserved_characters_are_the_characters() {
        assert_eq!(decode_unreserved("/api/v1/users/%32").as_deref(), Some("/api/v1/users/2"));
        assert_eq!(decode_unreserved("/a/%7e%2D%5f%2E%41z").as_deref(), Some("/a/~-_.Az"));
        assert_eq!(decode_unreserved("/users/%32?filter=%32").as_deref(), Some("/users/2?filter=%32"), "not the query");
        for unchanged in
            ["/users/2", "/users/%2F", "/users/%2f2", "/users/%", "/users/%3", "/users/%zz", "/ü/%20", "/users/%E2%82%AC"]
        {
            assert_eq!(decode_unreserved(unchanged), None, "{unchanged}");
        }
        assert_eq!(decode_unreserved("/ü/%41").as_deref(), Some("/ü/A"));
    }

    #[test]
    fn a_member_named_as_serde_json_names_numbers_is_refused() {
        let refused_at = |text: &str| match body(text) {
            Err(crate::error::Refusal::Core(crate::error::Failure::Invalid(errors))) if errors[0].message == RESERVED => {
                Some(errors[0].field.clone())
            }
            _ => None,
        };
        assert_eq!(refused_at(r#"{"$serde_json::private::Number":"42"}"#).as_deref(), Some("body"));
        assert_eq!(
            refused_at(r#"{"user":{"publisher_id":{"$serde_json::private::Number":"42"}}}"#).as_deref(),
            Some("user.publisher_id")
        );
        assert_eq!(
            refused_at(r#"{"attributes":{"x":{"b":1,"$serde_json::private::Number":"abc"}}}"#).as_deref(),
            Some("attributes.x")
        );
        assert_eq!(refused_at(r#"{"a":[{"\u0024serde_json::private::Number":[1,{"b":2}]}]}"#).as_deref(), Some("a[0]"));
        // And its name for raw JSON text, which would read back as the JSON its string spells.
        assert_eq!(
            refused_at(r#"{"attributes":{"$serde_json::private::RawValue":"{\"injected\":1}"}}"#).as_deref(),
            Some("attributes")
        );
        assert_eq!(refused_at(r#"{"a":{"team":{"b":1,"$serde_json::private::RawValue":5}}}"#).as_deref(), Some("a.team"));
        assert_eq!(
            refused_at(r#"{"$serde_json::private::Number":{"$serde_json::private::Number":"1"}}"#).as_deref(),
            Some("body")
        );
        // Numbers themselves still come through serde_json's spelling, digits kept.
        assert_eq!(body(r#"{"big":18446744073709551616}"#).unwrap().to_string(), r#"{"big":18446744073709551616}"#);
    }

    #[test]
    fn the_value_is_what_serde_json_reads() {
        let text = r#"{"s":"x\u00e9","n":null,"t":true,"i":-7,"u":18446744073709551615,"f":0.1,"big":18446744073709551616,"e":1E400,"a":[1,[2,{}]],"o":{}}"#;
        let ours = body(text).unwrap();
        assert_eq!(ours, serde_json::from_str::<Value>(text).unwrap());
        // Numbers keep every digit sent (serde_json's `arbitrary_precision`; an exponent is spelled `e+`).
        assert_eq!(
            ours.to_string(),
            r#"{"a":[1,[2,{}]],"big":18446744073709551616,"e":1e+400,"f":0.1,"i":-7,"n":null,"o":{},"s":"xé","t":true,"u":18446744073709551615}"#
        );
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        assert!(
            matches!(body(&deep), Err(crate::error::Refusal::Http(crate::error::HttpError::MalformedBody(_)))),
            "serde_json's recursion limit still holds"
        );
    }
}
