//! What crosses between the wasm and its JavaScript host (`src/edge/worker.mjs`), as one value
//! per crossing: the request in as bytes, each platform call out as one JSON line, each answer
//! back as one string, the response (or a task's end) out as one string.
//!
//! ```text
//! request  (bytes)  METHOD \n PATH?QUERY \n BODY-STATE \n name:value \n … \n \n BODY
//! step out (string) {"op":"kv.get",…}                      a call for the host to make, or
//!                   {"op":"respond","status":…,"headers":{…},"later":[…],"log":[…]} \n BODY
//!                   {"op":"done","later":[…],"log":[…]}    the end of a queue or cron task
//! reply in (string) v<value> | n (null) | e<error message>
//! ```
//!
//! A response's headers are an object of name → value, or `[[name, value], …]` when a name repeats.
//! BODY-STATE is `b` (the body follows, possibly empty) or `u` (the host could not read it).
//! `later` lists calls the host makes after the response, under `waitUntil` (a key's
//! `last_used_at`, the feed's kick); `log` lists internal failures for the Workers console.

use crate::http::{Body, Request, Response};
use crate::store::{Row, SqlValue, Stmt};
use serde::ser::{SerializeSeq, Serializer};
use serde::{Deserialize, Serialize};

/// A request as the host encodes it, split into the core's request and the session bookmark.
pub struct Incoming {
    pub request: Request,
    pub bookmark: Option<String>,
}

/// Decode the host's request bytes. The host sends only the headers `describe` lists and leaves
/// the body out when `Content-Length` already exceeds the limit.
pub fn decode_request(bytes: &[u8]) -> Option<Incoming> {
    let split = bytes.windows(2).position(|w| w == b"\n\n")?;
    let head = std::str::from_utf8(&bytes[..split]).ok()?;
    let body = &bytes[split + 2..];
    let mut lines = head.split('\n');
    let method = lines.next()?.to_ascii_uppercase();
    let path = lines.next()?.to_string();
    let readable = match lines.next()? {
        "b" => true,
        "u" => false,
        _ => return None,
    };
    let mut headers = Vec::new();
    let mut bookmark = None;
    for line in lines {
        let (name, value) = line.split_once(':')?;
        let name = name.to_ascii_lowercase();
        if name == crate::consistency::BOOKMARK_HEADER {
            bookmark = Some(value.to_string());
        } else {
            headers.push((name, value.to_string()));
        }
    }
    let declared = headers.iter().find(|(k, _)| k == "content-length").and_then(|(_, v)| v.trim().parse::<usize>().ok());
    let body = if readable { Body::from_read(declared, Some(body.to_vec())) } else { Body::Unreadable };
    Some(Incoming { request: Request { method, path, headers, body }, bookmark })
}

/// A call for the host to make. `binding` names the Workers binding; the host knows no names.
#[derive(Serialize)]
#[serde(tag = "op")]
pub enum Call<'a> {
    #[serde(rename = "kv.get")]
    KvGet {
        binding: &'a str,
        key: &'a str,
        #[serde(rename = "cacheTtl")]
        cache_ttl: u64,
    },
    #[serde(rename = "kv.put")]
    KvPut { binding: &'a str, key: &'a str, value: &'a str },
    #[serde(rename = "kv.delete")]
    KvDelete { binding: &'a str, key: &'a str },
    /// `env[binding].withSession(session).prepare(sql).bind(...params).all()`
    #[serde(rename = "d1.all")]
    D1All {
        binding: &'a str,
        session: &'a str,
        #[serde(flatten)]
        stmt: Statement<'a>,
    },
    #[serde(rename = "d1.batch")]
    D1Batch { binding: &'a str, session: &'a str, statements: Vec<Statement<'a>> },
    /// `env[binding].prepare(sql).bind(...params).run()`, outside any session: deferred writes,
    /// which go to the primary and whose answer nobody reads.
    #[serde(rename = "d1.run")]
    D1Run {
        binding: &'a str,
        #[serde(flatten)]
        stmt: Statement<'a>,
    },
    #[serde(rename = "limit")]
    Limit { binding: &'a str, key: &'a str },
    /// `env[binding].fetch(path)` answered as text, or null for a 404.
    #[serde(rename = "assets.get")]
    AssetGet { binding: &'a str, path: &'a str },
    /// `env[binding].send(body, { contentType: "json", delaySeconds })`
    #[serde(rename = "queue.send")]
    QueueSend {
        binding: &'a str,
        body: &'a serde_json::Value,
        #[serde(rename = "delaySeconds", skip_serializing_if = "Option::is_none")]
        delay_seconds: Option<u32>,
    },
    /// `fetch(url, { method: "POST", headers, body, redirect: "manual",
    /// signal: AbortSignal.timeout(timeoutMs) })`, answered with the status alone: a redirect is an
    /// answer, never followed, and nobody reads the body.
    #[serde(rename = "fetch")]
    Post {
        url: &'a str,
        headers: &'a [(&'a str, String)],
        body: &'a str,
        #[serde(rename = "timeoutMs")]
        timeout_ms: u32,
    },
}

#[derive(Serialize)]
pub struct Statement<'a> {
    sql: &'a str,
    params: Params<'a>,
}

impl<'a> From<&'a Stmt> for Statement<'a> {
    fn from(s: &'a Stmt) -> Self {
        Self { sql: &s.sql, params: Params(&s.params) }
    }
}

/// Bound values as JSON: integers cross as numbers (D1 rejects BigInt; exact to 2^53).
pub struct Params<'a>(&'a [SqlValue]);

impl Serialize for Params<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for p in self.0 {
            match p {
                SqlValue::Null => seq.serialize_element(&())?,
                SqlValue::Int(n) => seq.serialize_element(n)?,
                SqlValue::Text(t) => seq.serialize_element(t)?,
            }
        }
        seq.end()
    }
}

impl Call<'_> {
    pub fn encode(&self) -> String {
        // Serialising plain strings and numbers cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// What a request or task leaves for the host to do once it has answered: calls (each already
/// one encoded JSON object) to make under `waitUntil`, and messages for the console.
#[derive(Default, Debug)]
pub struct Aftermath {
    pub later: Vec<String>,
    pub log: Vec<String>,
}

impl Aftermath {
    /// `,"later":[…],"log":[…]`, each left out when empty.
    fn fields(&self) -> String {
        let mut out = String::new();
        if !self.later.is_empty() {
            out.push_str(",\"later\":[");
            out.push_str(&self.later.join(","));
            out.push(']');
        }
        if !self.log.is_empty() {
            out.push_str(",\"log\":");
            out.push_str(&serde_json::to_string(&self.log).unwrap_or_else(|_| "[]".into()));
        }
        out
    }
}

/// The final step of a request: status, headers and the aftermath as one JSON line, then the
/// body as it is.
pub fn encode_response(resp: &Response, after: &Aftermath) -> String {
    let headers = headers_json(&resp.headers);
    let mut out = String::with_capacity(64 + headers.len() + resp.body.len());
    out.push_str("{\"op\":\"respond\",\"status\":");
    out.push_str(&resp.status.to_string());
    out.push_str(",\"headers\":");
    out.push_str(&headers);
    out.push_str(&after.fields());
    out.push_str("}\n");
    // Bodies are JSON the core wrote; a lossy decode only matters if one ever were not UTF-8.
    match std::str::from_utf8(&resp.body) {
        Ok(body) => out.push_str(body),
        Err(_) => out.push_str(&String::from_utf8_lossy(&resp.body)),
    }
    out
}

/// The response's headers as a JSON object, which the host hands to `new Response` as it is: workerd
/// turns a record into headers about twice as fast as the same pairs as a list (BENCHMARKS.md, "The
/// Worker's own code"). A name that comes twice keeps the list of pairs, so that each value is sent.
fn headers_json(headers: &[(String, String)]) -> String {
    struct Record<'a>(&'a [(String, String)]);
    impl serde::Serialize for Record<'_> {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.collect_map(self.0.iter().map(|(name, value)| (name, value)))
        }
    }
    let repeated = headers.iter().enumerate().any(|(i, (name, _))| headers[..i].iter().any(|(seen, _)| seen == name));
    let json = if repeated { serde_json::to_string(headers) } else { serde_json::to_string(&Record(headers)) };
    json.unwrap_or_else(|_| "[]".into())
}

/// The final step of a queue or cron task.
pub fn encode_done(after: &Aftermath) -> String {
    format!("{{\"op\":\"done\"{}}}", after.fields())
}

/// The host's answer to a call.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    Value(String),
    Null,
    Error(String),
}

impl Reply {
    pub fn decode(raw: &str) -> Reply {
        match raw.as_bytes().first() {
            Some(b'v') => Reply::Value(raw[1..].to_string()),
            Some(b'n') if raw.len() == 1 => Reply::Null,
            Some(b'e') => Reply::Error(raw[1..].to_string()),
            _ => Reply::Error(format!("the host answered {} bytes that are not a reply", raw.len())),
        }
    }
}

/// What D1 answered, with the session's bookmark after the call (see `worker.mjs`).
#[derive(Deserialize)]
pub struct D1Answer {
    pub bookmark: Option<String>,
    /// `all()`: one result.
    pub result: Option<D1Result>,
    /// `batch()`: one result per statement.
    #[serde(default)]
    pub results: Vec<D1Result>,
}

#[derive(Deserialize)]
pub struct D1Result {
    /// JSON numbers from `JSON.stringify` are integers whenever they are whole, so the rows need
    /// no `store::normalize_row` pass.
    #[serde(default)]
    pub results: Vec<Row>,
    #[serde(default)]
    pub meta: D1Meta,
}

#[derive(Deserialize, Default)]
pub struct D1Meta {
    pub served_by_region: Option<String>,
    pub served_by_primary: Option<bool>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_crosses_as_one_buffer() {
        let raw =
            b"patch\n/api/v1/users/2?x=1\nb\nx-api-key:ue_abc\ncontent-type:application/json\nx-d1-bookmark:00-11\n\n{\"user\":{}}";
        let inc = decode_request(raw).unwrap();
        assert_eq!(inc.request.method, "PATCH");
        assert_eq!(inc.request.path, "/api/v1/users/2?x=1", "the query string is the core's to read");
        assert_eq!(inc.request.header("x-api-key"), Some("ue_abc"));
        assert_eq!(inc.request.header("content-type"), Some("application/json"));
        assert_eq!(inc.request.header("x-d1-bookmark"), None, "the bookmark is the shell's, not the core's");
        assert_eq!(inc.bookmark.as_deref(), Some("00-11"));
        assert!(matches!(inc.request.body, Body::Bytes(ref b) if b == b"{\"user\":{}}"));
    }

    #[test]
    fn bodies_are_bytes_and_the_declared_length_still_counts() {
        let inc = decode_request(b"POST\n/x\nb\n\n\xff\n\n\x00").unwrap();
        assert!(matches!(inc.request.body, Body::Bytes(ref b) if b == b"\xff\n\n\x00"));
        assert!(inc.request.headers.is_empty());
        let big = decode_request(b"POST\n/x\nb\ncontent-length:70000\n\n").unwrap();
        assert!(matches!(big.request.body, Body::TooLarge));
        let lost = decode_request(b"POST\n/x\nu\ncontent-length:12\n\n").unwrap();
        assert!(matches!(lost.request.body, Body::Unreadable), "never taken for an empty body");
        let value_with_colon = decode_request(b"GET\n/x\nb\nauthorization:Bearer a:b\n\n").unwrap();
        assert_eq!(value_with_colon.request.header("authorization"), Some("Bearer a:b"));
    }

    #[test]
    fn a_malformed_buffer_is_refused_not_guessed() {
        for raw in
            [&b""[..], b"GET", b"GET\n/x", b"GET\n/x\n\n", b"GET\n/x\nx\n\n", b"GET\n/x\nb\nno-colon\n\n", b"\xff\n/x\nb\n\n"]
        {
            assert!(decode_request(raw).is_none(), "{raw:?}");
        }
    }

    #[test]
    fn calls_are_one_json_line() {
        let stmt = Stmt::new("SELECT ? AS a, ? AS b, ? AS c", vec![SqlValue::Int(7), SqlValue::Null, "x\ny".into()]);
        let call = Call::D1All { binding: "DB", session: "first-primary", stmt: (&stmt).into() };
        let line = call.encode();
        assert!(!line.contains('\n'));
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"op": "d1.all", "binding": "DB", "session": "first-primary", "sql": "SELECT ? AS a, ? AS b, ? AS c", "params": [7, null, "x\ny"]})
        );
        let kv = Call::KvGet { binding: "API_KEYS", key: "key:ab", cache_ttl: 60 }.encode();
        assert_eq!(kv, r#"{"op":"kv.get","binding":"API_KEYS","key":"key:ab","cacheTtl":60}"#);
        let run = Call::D1Run { binding: "DB", stmt: (&stmt).into() }.encode();
        assert!(run.starts_with(r#"{"op":"d1.run","binding":"DB","sql":"#), "{run}");
        let body = serde_json::json!({"dispatch": true});
        let kick = Call::QueueSend { binding: "FEED", body: &body, delay_seconds: Some(5) }.encode();
        assert_eq!(kick, r#"{"op":"queue.send","binding":"FEED","body":{"dispatch":true},"delaySeconds":5}"#);
        let plain = Call::QueueSend { binding: "NOTIFICATIONS", body: &body, delay_seconds: None }.encode();
        assert!(!plain.contains("delaySeconds"));
        let headers = [("webhook-id", "msg_1".to_string())];
        let post = Call::Post { url: "https://h.example/x", headers: &headers, body: "{}", timeout_ms: 10_000 }.encode();
        assert_eq!(
            post,
            r#"{"op":"fetch","url":"https://h.example/x","headers":[["webhook-id","msg_1"]],"body":"{}","timeoutMs":10000}"#
        );
    }

    #[test]
    fn the_response_is_a_json_head_and_the_body() {
        let resp = Response::json(201, &serde_json::json!({"a": "b\nc"})).with_header("etag", "\"1\"");
        let out = encode_response(&resp, &Aftermath::default());
        let (head, body) = out.split_once('\n').unwrap();
        let head: serde_json::Value = serde_json::from_str(head).unwrap();
        assert_eq!(head["op"], "respond");
        assert_eq!(head["status"], 201);
        assert_eq!(head["headers"], serde_json::json!({"content-type": "application/json", "etag": "\"1\""}));
        assert!(head.get("later").is_none() && head.get("log").is_none(), "left out when empty");
        assert_eq!(body, r#"{"a":"b\nc"}"#);
    }

    #[test]
    fn a_header_named_twice_keeps_both_values_as_pairs() {
        let resp = Response::empty(204).with_header("vary", "origin").with_header("vary", "accept");
        let out = encode_response(&resp, &Aftermath::default());
        let head: serde_json::Value = serde_json::from_str(out.trim_end()).unwrap();
        assert_eq!(head["headers"], serde_json::json!([["vary", "origin"], ["vary", "accept"]]));
    }

    #[test]
    fn the_aftermath_rides_on_the_final_step() {
        let stmt = Stmt::new("UPDATE t SET a = ?", vec![SqlValue::Int(1)]);
        let after = Aftermath {
            later: vec![Call::D1Run { binding: "DB", stmt: (&stmt).into() }.encode()],
            log: vec!["feed dispatch: \"x\"\nline".into()],
        };
        let out = encode_response(&Response::json(200, &serde_json::json!({})), &after);
        let head: serde_json::Value = serde_json::from_str(out.split_once('\n').unwrap().0).unwrap();
        assert_eq!(
            head["later"],
            serde_json::json!([{"op": "d1.run", "binding": "DB", "sql": "UPDATE t SET a = ?", "params": [1]}])
        );
        assert_eq!(head["log"], serde_json::json!(["feed dispatch: \"x\"\nline"]));
        let done: serde_json::Value = serde_json::from_str(&encode_done(&after)).unwrap();
        assert_eq!((done["op"].as_str(), done["later"].as_array().map(Vec::len)), (Some("done"), Some(1)));
        assert_eq!(encode_done(&Aftermath::default()), r#"{"op":"done"}"#);
    }

    #[test]
    fn replies_and_d1_answers() {
        assert_eq!(Reply::decode("vabc"), Reply::Value("abc".into()));
        assert_eq!(Reply::decode("v"), Reply::Value(String::new()));
        assert_eq!(Reply::decode("vé"), Reply::Value("é".into()));
        assert_eq!(Reply::decode("n"), Reply::Null);
        assert_eq!(Reply::decode("eboom"), Reply::Error("boom".into()));
        assert!(matches!(Reply::decode(""), Reply::Error(_)));
        assert!(matches!(Reply::decode("nx"), Reply::Error(_)));
        assert!(matches!(Reply::decode("x"), Reply::Error(_)));
        let a: D1Answer = serde_json::from_str(
            r#"{"bookmark":"00-01","result":{"success":true,"results":[{"id":2,"n":null}],"meta":{"served_by":"x","served_by_region":"WEUR","served_by_primary":false}}}"#,
        )
        .unwrap();
        let r = a.result.unwrap();
        assert_eq!(r.results[0]["id"].as_i64(), Some(2));
        assert_eq!((r.meta.served_by_region.as_deref(), r.meta.served_by_primary), (Some("WEUR"), Some(false)));
        let b: D1Answer = serde_json::from_str(r#"{"bookmark":null,"results":[{"results":[],"meta":{}},{"meta":{}}]}"#).unwrap();
        assert_eq!(b.results.len(), 2);
        assert!(b.bookmark.is_none() && b.result.is_none());
    }
}
