//! The shell end to end on the host: a scripted host answers each call the way `worker.mjs` would
//! relay D1 and KV, and the tests check what crosses and what the client gets.

use super::platform::{Bindings, EdgePlatform, Mailbox, OPTIONAL_BINDINGS};
use super::shell::{Settings, Shell};
use super::wire::Reply;
use crate::consistency::SessionStart;
use crate::platform::{Config, Platform, PlatformError};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::future::Future;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

const KEY: &str = "ue_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
const BM: &str = "00000001-00000002-00000003-0123456789abcdef0123456789abcdef";
const LATER: &str = "00000001-00000002-00000004-0123456789abcdef0123456789abcdef";
const PRINCIPAL: &str = r#"{"key_id":2,"user_id":2,"user_uuid":"5a3f0c8e-0000-4000-8000-000000000002","org_id":1,"role":"user"}"#;

fn user_row() -> Value {
    serde_json::from_str(
        r#"{
        "id": 2, "uuid": "5a3f0c8e-0000-4000-8000-000000000002", "org_id": 1,
        "org_uuid": "0b7c5a1e-4c1b-4f55-9d57-000000000001", "username": null,
        "email": "uma@bench.example", "email_verified": 0, "phone": null, "phone_verified": 0,
        "name": "Uma User", "given_name": null, "family_name": null, "nick_name": null, "preferred_language": null,
        "gender": null, "role_title": null, "based_in": "Paris, FR", "linkedin_profile_url": null, "picture": null,
        "company": null, "website": null, "country": null, "bio": null, "timezone": null, "admin": 0,
        "auth0_uid": null, "publisher_id": null, "agency_id": null, "network_id": null, "advertiser_id": null,
        "payment_date": null, "company_type": null, "publisher_type": null, "role_alias": null, "from_api": 0,
        "attributes": "{}", "password_set": 0, "password_change_required": 0, "deactivated": 0,
        "consented_at": null, "consent_method": null, "version": 7,
        "created_at": "2026-01-01T00:00:00.000Z", "updated_at": "2026-01-01T00:00:00.000Z"
    }"#,
    )
    .unwrap()
}

fn shell(vars: &[(&str, &str)]) -> Shell {
    shell_with(vars, &OPTIONAL_BINDINGS)
}

fn shell_with(vars: &[(&str, &str)], bindings: &[&str]) -> Shell {
    let vars: BTreeMap<String, Option<String>> = vars.iter().map(|(k, v)| (k.to_string(), Some(v.to_string()))).collect();
    let mut s = Shell::default();
    s.configure(Settings::from_env(&vars, bindings.iter().map(|b| b.to_string()).collect()));
    s
}

fn request(method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Vec<u8> {
    let mut out = format!("{method}\n{path}\nb\n");
    for (k, v) in headers {
        out.push_str(&format!("{k}:{v}\n"));
    }
    out.push('\n');
    out.push_str(body);
    out.into_bytes()
}

/// One step's output: a call (`op` ≠ "respond") or the response head and body.
fn parse(step: &str) -> (Value, String) {
    let (head, body) = step.split_once('\n').unwrap_or((step, ""));
    (serde_json::from_str(head).unwrap(), body.to_string())
}

fn header<'a>(head: &'a Value, name: &str) -> Option<&'a str> {
    head["headers"][name].as_str()
}

fn d1_reply(bookmark: &str, result: Value) -> String {
    format!("v{}", json!({"bookmark": bookmark, "result": result}))
}

#[test]
fn a_get_is_three_steps_and_reports_its_session() {
    let mut s = shell(&[]);
    let (call, _) = parse(&s.start(1, &request("GET", "/api/v1/users/2", &[("x-api-key", KEY)], ""), 1000.0));
    assert_eq!(call["op"], "kv.get");
    assert_eq!(call["binding"], "API_KEYS");
    assert_eq!(call["cacheTtl"], 60);
    assert!(call["key"].as_str().unwrap().starts_with("key:"));
    let (call, _) = parse(&s.resume(1, &format!("v{PRINCIPAL}"), 1002.5));
    assert_eq!(call["op"], "d1.all");
    assert_eq!(call["session"], "first-unconstrained");
    assert_eq!(call["binding"], "DB");
    let meta = json!({"served_by_region": "WEUR", "served_by_primary": false});
    let (head, body) = parse(&s.resume(1, &d1_reply(BM, json!({"results": [user_row()], "meta": meta})), 1006.0));
    assert_eq!(head["op"], "respond");
    assert_eq!(head["status"], 200, "{body}");
    assert_eq!(header(&head, "etag"), Some("\"7\""));
    assert_eq!(header(&head, "x-d1-bookmark"), Some(BM));
    assert_eq!(header(&head, "access-control-expose-headers"), Some(crate::app::EXPOSE_HEADERS));
    assert_eq!(header(&head, "access-control-allow-origin"), Some("*"));
    assert_eq!(
        header(&head, "server-timing"),
        Some("kv;desc=\"get\";dur=2.5, d1;desc=\"query (WEUR, replica)\";dur=3.5"),
        "durations come from the host's clock at each step"
    );
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["data"]["based_in"], "Paris, FR");
    assert_eq!(s.in_flight(), 0);
}

#[test]
fn a_patch_runs_its_batch_on_the_primary() {
    let mut s = shell(&[]);
    let body = r#"{"user":{"based_in":"Lyon"}}"#;
    let headers = [("x-api-key", KEY), ("content-type", "application/json"), ("x-d1-bookmark", BM)];
    let (call, _) = parse(&s.start(7, &request("PATCH", "/api/v1/users/2", &headers, body), 0.0));
    assert_eq!(call["op"], "kv.get");
    let (call, _) = parse(&s.resume(7, &format!("v{PRINCIPAL}"), 0.0));
    assert_eq!(call["op"], "d1.batch");
    assert_eq!(call["session"], "first-primary", "a write ignores the client's bookmark");
    let statements = call["statements"].as_array().unwrap();
    assert_eq!(statements.len(), 2);
    assert!(statements[0]["sql"].as_str().unwrap().starts_with("UPDATE users SET"));
    assert!(statements[0]["params"].as_array().unwrap().contains(&json!("Lyon")));
    let answer = json!({"bookmark": LATER, "results": [{"results": [user_row()], "meta": {}}, {"results": [], "meta": {}}]});
    let (head, _) = parse(&s.resume(7, &format!("v{answer}"), 0.0));
    assert_eq!(head["status"], 200);
    assert_eq!(header(&head, "x-d1-bookmark"), Some(LATER));
    assert_eq!(header(&head, "server-timing"), Some("kv;desc=\"get\";dur=0.0, d1;desc=\"batch\";dur=0.0"));
}

#[test]
fn a_read_after_a_bookmark_falls_back_when_d1_refuses_it() {
    let mut s = shell(&[]);
    let req = request("GET", "/api/v1/users/2", &[("x-api-key", KEY), ("x-d1-bookmark", BM)], "");
    parse(&s.start(2, &req, 0.0));
    let (call, _) = parse(&s.resume(2, &format!("v{PRINCIPAL}"), 0.0));
    assert_eq!(call["session"], BM);
    let (call, _) = parse(&s.resume(2, "eD1_ERROR: bookmark not found", 0.0));
    assert_eq!(call["op"], "d1.all", "the same query again");
    assert_eq!(call["session"], "first-unconstrained");
    let (head, _) = parse(&s.resume(2, &d1_reply(LATER, json!({"results": [user_row()], "meta": {}})), 0.0));
    assert_eq!(head["status"], 200);
    assert_eq!(header(&head, "x-d1-bookmark"), Some(LATER));
    let names: Vec<&str> = header(&head, "server-timing").unwrap().split(", ").map(|e| e.split(';').next().unwrap()).collect();
    assert_eq!(names, ["kv", "d1"], "one D1 call as the core sees it");
}

#[test]
fn the_primary_setting_and_a_malformed_bookmark() {
    let mut s = shell(&[("READ_CONSISTENCY", "primary")]);
    let req = request("GET", "/api/v1/users/2", &[("x-api-key", KEY), ("x-d1-bookmark", BM)], "");
    parse(&s.start(1, &req, 0.0));
    assert_eq!(parse(&s.resume(1, &format!("v{PRINCIPAL}"), 0.0)).0["session"], "first-primary");

    let mut s = shell(&[]);
    let req = request("GET", "/api/v1/users/2", &[("x-api-key", KEY), ("x-d1-bookmark", "'; DROP TABLE users")], "");
    parse(&s.start(1, &req, 0.0));
    assert_eq!(parse(&s.resume(1, &format!("v{PRINCIPAL}"), 0.0)).0["session"], "first-unconstrained");
}

#[test]
fn a_request_that_needs_no_storage_answers_at_once() {
    let mut s = shell(&[]);
    let (head, body) = parse(&s.start(3, &request("PATCH", "/api/v1/users/2", &[], "{}"), 0.0));
    assert_eq!(head["op"], "respond");
    assert_eq!(head["status"], 401, "{body}");
    assert_eq!(header(&head, "x-d1-bookmark"), None, "no query ran and the client sent no bookmark");
    assert_eq!(header(&head, "access-control-expose-headers"), Some(crate::app::EXPOSE_HEADERS));
    assert_eq!(header(&head, "access-control-allow-origin"), Some("*"));
    let (head, _) = parse(&s.start(4, &request("GET", "/api/v1/users/2", &[("x-d1-bookmark", BM)], ""), 0.0));
    assert_eq!(head["status"], 401);
    assert_eq!(header(&head, "x-d1-bookmark"), Some(BM), "the session's bookmark is the client's until a query runs");
}

#[test]
fn requests_in_flight_interleave() {
    let mut s = shell(&[]);
    let get = request("GET", "/api/v1/users/2", &[("x-api-key", KEY)], "");
    parse(&s.start(10, &get, 0.0));
    parse(&s.start(11, &get, 0.0));
    assert_eq!(s.in_flight(), 2);
    parse(&s.resume(11, &format!("v{PRINCIPAL}"), 0.0));
    parse(&s.resume(10, "n", 0.0)); // 10's key is not cached: D1 is asked for it
    let (head, _) = parse(&s.resume(11, &d1_reply(BM, json!({"results": [user_row()], "meta": {}})), 0.0));
    assert_eq!(head["status"], 200);
    assert_eq!(s.in_flight(), 1);
    let (head, _) = parse(&s.resume(10, &d1_reply(BM, json!({"results": [], "meta": {}})), 0.0));
    assert_eq!(head["status"], 401, "an unknown key");
    assert_eq!(s.in_flight(), 0);
}

#[test]
fn host_failures_are_500s_never_panics() {
    let mut s = Shell::default();
    let (head, _) = parse(&s.start(1, &request("GET", "/", &[], ""), 0.0));
    assert_eq!(head["status"], 500, "not configured");
    // The shell's own 500 carries what every response does, a page on another origin included.
    assert_eq!(header(&head, "access-control-allow-origin"), Some("*"));
    assert_eq!(header(&head, "cache-control"), Some("no-store"));
    let mut s = shell(&[]);
    assert_eq!(parse(&s.start(1, b"GET /x", 0.0)).0["status"], 500, "not the host's encoding");
    assert_eq!(parse(&s.resume(99, "v", 0.0)).0["status"], 500, "nothing in flight");
    parse(&s.start(2, &request("GET", "/api/v1/users/2", &[("x-api-key", KEY)], ""), 0.0));
    parse(&s.resume(2, &format!("v{PRINCIPAL}"), 0.0));
    let (head, body) = parse(&s.resume(2, "vnot json", 0.0));
    assert_eq!(head["status"], 500, "{body}");
    assert!(!body.contains(KEY));
}

#[test]
fn describe_lists_what_the_host_must_send() {
    let d: Value = serde_json::from_str(&super::shell::describe()).unwrap();
    assert_eq!(d["maxBody"], 65536);
    let headers: Vec<&str> = d["headers"].as_array().unwrap().iter().map(|h| h.as_str().unwrap()).collect();
    for h in crate::http::HEADERS_READ {
        assert!(headers.contains(h), "{h}");
    }
    assert!(headers.contains(&"x-d1-bookmark"));
    assert_eq!(
        d["vars"],
        json!([
            "ADMIN_TOKEN",
            "PBKDF2_ITERATIONS",
            "READ_CONSISTENCY",
            "CODE_SECRET",
            "ALLOW_HTTP_WEBHOOKS",
            "FEED_RETENTION_DAYS"
        ])
    );
    assert_eq!(
        d["bindings"],
        json!(["PASSWORD_ATTEMPTS", "SENDS_PER_USER", "SENDS_PER_RECIPIENT", "SENDS_PER_ORG", "NOTIFICATIONS", "FEED"])
    );
}

/// A key principal with its own key id: the `last_used_at` throttle is per key.
fn principal(key_id: i64) -> String {
    format!(
        r#"v{{"key_id":{key_id},"user_id":2,"user_uuid":"5a3f0c8e-0000-4000-8000-000000000002","org_id":1,"role":"user","checked_at":""}}"#
    )
}

#[test]
fn a_keys_use_is_noted_after_the_response() {
    let mut s = shell(&[]);
    parse(&s.start(1, &request("GET", "/api/v1/users/2", &[("x-api-key", KEY)], ""), 1000.0));
    parse(&s.resume(1, &principal(901), 1000.0));
    let (head, _) = parse(&s.resume(1, &d1_reply(BM, json!({"results": [user_row()], "meta": {}})), 1000.0));
    assert_eq!(head["status"], 200);
    let later = head["later"].as_array().expect("deferred work");
    assert_eq!(later.len(), 1, "{later:?}");
    assert_eq!(later[0]["op"], "d1.run");
    assert_eq!(later[0]["binding"], "DB");
    assert!(later[0].get("session").is_none(), "after the response, outside the request's session");
    assert!(later[0]["sql"].as_str().unwrap().starts_with("UPDATE api_keys SET last_used_at"));
    assert_eq!(later[0]["params"][1], 901);
    let names: Vec<&str> = header(&head, "server-timing").unwrap().split(", ").map(|e| e.split(';').next().unwrap()).collect();
    assert_eq!(names, ["kv", "d1"], "the deferred write is no round trip of the request");
}

fn patch_until_done(s: &mut Shell) -> Value {
    let headers = [("x-api-key", KEY), ("content-type", "application/json")];
    parse(&s.start(7, &request("PATCH", "/api/v1/users/2", &headers, r#"{"user":{"based_in":"Lyon"}}"#), 0.0));
    let (call, _) = parse(&s.resume(7, &principal(902), 0.0));
    let n = call["statements"].as_array().unwrap().len();
    let mut results = vec![json!({"results": [user_row()], "meta": {}})];
    results.resize(n, json!({"results": [], "meta": {}}));
    let (head, _) = parse(&s.resume(7, &format!("v{}", json!({"bookmark": LATER, "results": results})), 0.0));
    assert_eq!(head["status"], 200);
    head
}

#[test]
fn a_committed_write_kicks_the_feed_after_the_response() {
    let head = patch_until_done(&mut shell(&[]));
    let later = head["later"].as_array().unwrap();
    let kick = later.iter().find(|c| c["op"] == "queue.send").expect("a kick");
    assert_eq!((&kick["binding"], &kick["delaySeconds"], &kick["body"]), (&json!("FEED"), &json!(0), &json!({"dispatch": true})));
    let head = patch_until_done(&mut shell_with(&[], &[]));
    let later = head["later"].as_array().map(Vec::as_slice).unwrap_or_default();
    assert!(later.iter().all(|c| c["op"] != "queue.send"), "without FEED only the Cron sweep dispatches: {later:?}");
}

#[test]
fn a_dispatch_runs_on_the_primary_and_ends_without_a_response() {
    let mut s = shell(&[]);
    let (call, _) = parse(&s.dispatch(5, 1000.0, false));
    assert_eq!((call["op"].as_str(), call["session"].as_str()), (Some("d1.batch"), Some("first-primary")));
    let n = call["statements"].as_array().unwrap().len();
    let empty = json!({"bookmark": null, "results": vec![json!({"results": [], "meta": {}}); n]});
    let (call, _) = parse(&s.resume(5, &format!("v{empty}"), 1000.0));
    assert_eq!((call["op"].as_str(), call["session"].as_str()), (Some("d1.all"), Some("first-primary")), "claim the due");
    let done = s.resume(5, &d1_reply(BM, json!({"results": [], "meta": {}})), 1000.0);
    assert_eq!(done, r#"{"op":"done"}"#, "nothing was due");
    assert_eq!(s.in_flight(), 0);

    let (_, _) = parse(&s.dispatch(6, 1000.0, false));
    let (head, _) = parse(&s.resume(6, "eD1 is down", 1000.0));
    assert_eq!(head["op"], "done");
    let log = head["log"][0].as_str().unwrap();
    assert!(log.starts_with("feed dispatch:") && log.contains("D1 is down"), "{log}");
}

/// A dispatch's webhook attempts cross together (`many`), each answered in its place, and so do
/// the statements recording their outcomes: three deliveries take two steps, not six.
#[test]
fn a_dispatchs_attempts_cross_together_and_each_reply_reaches_its_own() {
    let mut s = shell(&[]);
    let (call, _) = parse(&s.dispatch(5, 1000.0, false));
    let n = call["statements"].as_array().unwrap().len();
    let empty = json!({"bookmark": null, "results": vec![json!({"results": [], "meta": {}}); n]});
    parse(&s.resume(5, &format!("v{empty}"), 1000.0));
    let secret = format!("whsec_{}", "A".repeat(44));
    let due: Vec<Value> = (1..=3)
        .map(|i| json!({"id": i, "attempts": 1, "webhook_id": 1, "event_row": 10 + i, "url": format!("https://h{i}.example/hook"), "secret": secret, "webhook_deleted_at": null}))
        .collect();
    parse(&s.resume(5, &d1_reply(BM, json!({"results": due, "meta": {}})), 1000.0));
    let events: Vec<Value> = (1..=3)
        .map(|i| json!({"id": 10 + i, "type": "user.updated", "event_id": format!("evt-{i}"), "at": "2026-01-01T00:00:00.000Z", "org_id": 1, "seq": i, "data": user_row().to_string(), "detail": null, "dialect": "hienergy", "fields": "[]", "action": "update", "version": 7, "user_id": 2, "group_uuid": null}))
        .collect();
    let (call, _) = parse(&s.resume(5, &d1_reply(BM, json!({"results": events, "meta": {}})), 1000.0));
    assert_eq!(call["op"], "many", "{call}");
    let posts = call["calls"].as_array().unwrap();
    let urls: Vec<&str> = posts.iter().map(|c| c["url"].as_str().unwrap()).collect();
    assert_eq!(urls, ["https://h1.example/hook", "https://h2.example/hook", "https://h3.example/hook"]);
    assert!(posts.iter().all(|c| c["op"] == "fetch"));
    // The second receiver is down: only its outcome says so.
    let replies = json!(["v204", "eThe operation was aborted due to timeout", "v200"]);
    let (call, _) = parse(&s.resume(5, &format!("v{replies}"), 2000.0));
    assert_eq!(call["op"], "many", "{call}");
    let records = call["calls"].as_array().unwrap();
    assert_eq!(records.len(), 3);
    let retried: Vec<bool> = records
        .iter()
        .map(|r| r["sql"].as_str().unwrap().contains("'pending'") || r["params"].to_string().contains("timeout"))
        .collect();
    assert_eq!(retried, [false, true, false], "{records:?}");
    let ok = d1_reply(BM, json!({"results": [], "meta": {}}));
    let (head, _) = parse(&s.resume(5, &format!("v{}", json!([ok, ok, ok])), 2000.0));
    assert_eq!(head["op"], "done", "{head}");
    assert!(head["log"].as_array().is_none_or(|l| l.is_empty()), "{head}");
    assert_eq!(s.in_flight(), 0);

    // Replies that don't match the calls are the host's bug: the task ends, nothing is guessed.
    parse(&s.dispatch(6, 1000.0, false));
    parse(&s.resume(6, &format!("v{empty}"), 1000.0));
    parse(&s.resume(6, &d1_reply(BM, json!({"results": due, "meta": {}})), 1000.0));
    let (call, _) = parse(&s.resume(6, &d1_reply(BM, json!({"results": events, "meta": {}})), 1000.0));
    assert_eq!(call["calls"].as_array().map(Vec::len), Some(3));
    let (head, _) = parse(&s.resume(6, &format!("v{}", json!(["v204"])), 2000.0));
    assert_eq!((head["op"].as_str(), head["status"].as_i64()), (Some("respond"), Some(500)), "{head}");
    assert_eq!(s.in_flight(), 0);
}

/// Drive one platform call by hand: what it hands out, then its result for `reply`.
fn one_call<T>(mailbox: &Mailbox, future: impl Future<Output = T>, reply: Option<&str>) -> (Option<Value>, T) {
    let mut future = std::pin::pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
        return (None, out);
    }
    let (slot, call) = mailbox.take_outgoing().pop().unwrap();
    let call: Value = serde_json::from_str(&call).unwrap();
    mailbox.deliver(slot, Reply::decode(reply.unwrap()), 0.0);
    match future.as_mut().poll(&mut cx) {
        Poll::Ready(out) => (Some(call), out),
        Poll::Pending => panic!("still pending after the reply"),
    }
}

fn platform(bindings: &[&str]) -> (Rc<Mailbox>, EdgePlatform) {
    let mailbox = Rc::new(Mailbox::default());
    let bindings = Rc::new(Bindings::new(bindings.iter().map(|b| b.to_string()).collect()));
    let p = EdgePlatform::new(mailbox.clone(), Rc::new(Config::default()), bindings, SessionStart::FirstPrimary);
    (mailbox, p)
}

#[test]
fn each_limiter_is_its_own_binding_and_a_missing_one_fails() {
    let (mb, p) = platform(&OPTIONAL_BINDINGS);
    for (key, binding) in [
        ("send-user:2", "SENDS_PER_USER"),
        ("send-to:ab12", "SENDS_PER_RECIPIENT"),
        ("send-org:1", "SENDS_PER_ORG"),
        ("password:2", "PASSWORD_ATTEMPTS"),
        ("email-code:2", "PASSWORD_ATTEMPTS"),
    ] {
        let (call, ok) = one_call(&mb, p.rate_limit(key), Some("v1"));
        let call = call.unwrap();
        assert_eq!(
            (call["op"].as_str(), call["binding"].as_str(), call["key"].as_str()),
            (Some("limit"), Some(binding), Some(key))
        );
        assert_eq!(ok, Ok(true));
        assert_eq!(one_call(&mb, p.rate_limit(key), Some("v0")).1, Ok(false));
    }
    let (mb, p) = platform(&["PASSWORD_ATTEMPTS"]);
    let (call, r) = one_call(&mb, p.rate_limit("send-org:1"), None);
    assert_eq!((call, r), (None, Err(PlatformError::MissingBinding("SENDS_PER_ORG"))), "asks nobody");
    let (call, r) = one_call(&mb, p.notify(&json!({"to": "a@b.example"})), None);
    assert_eq!((call, r), (None, Err(PlatformError::MissingBinding("NOTIFICATIONS"))));
}

#[test]
fn notifications_and_webhook_posts_cross_as_calls() {
    let (mb, p) = platform(&OPTIONAL_BINDINGS);
    let (call, r) = one_call(&mb, p.notify(&json!({"kind": "email-code"})), Some("v"));
    assert_eq!(call.unwrap(), json!({"op": "queue.send", "binding": "NOTIFICATIONS", "body": {"kind": "email-code"}}));
    assert_eq!(r, Ok(()));
    let headers = [("webhook-id", "msg_1".to_string())];
    let (call, r) = one_call(&mb, p.post("https://h.example/hook", &headers, "{}"), Some("v302"));
    assert_eq!(
        call.unwrap(),
        json!({"op": "fetch", "url": "https://h.example/hook", "headers": [["webhook-id", "msg_1"]], "body": "{}", "timeoutMs": 10000})
    );
    assert_eq!(r, Ok(302), "a redirect is an answer, not followed");
    let (_, r) =
        one_call(&mb, p.post("https://h.example/hook", &headers, "{}"), Some("eThe operation was aborted due to timeout"));
    assert_eq!(r, Err(PlatformError::Unreachable("The operation was aborted due to timeout".into())));
    let (_, r) = one_call(&mb, p.post("https://h.example/hook", &headers, "{}"), Some("vnope"));
    assert_eq!(r, Err(PlatformError::Malformed("the status \"nope\"".into())));
    let (_, r) = one_call(&mb, p.notify(&json!({})), Some("eQueue send failed"));
    assert_eq!(r, Err(PlatformError::Service("Queue send failed".into())));
}

#[test]
fn internal_failures_reach_the_console_never_the_client() {
    let (_, p) = platform(&[]);
    p.log_error("GET api/v1/users/2 → 500: D1 answer: expected value");
    let after = p.take_aftermath();
    assert_eq!(after.log, ["GET api/v1/users/2 → 500: D1 answer: expected value"]);
    assert!(p.take_aftermath().log.is_empty(), "taken once");
}

#[test]
fn an_unreadable_body_is_the_clients_400() {
    let mut s = shell(&[]);
    let raw = b"PATCH\n/api/v1/users/2\nu\nx-api-key:ue_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\ncontent-length:20\n\n";
    let mut step = s.start(8, raw, 0.0);
    // Whatever the core asks first (the key), the body is refused, never applied as empty.
    for reply in [principal(903), "n".to_string()] {
        if parse(&step).0["op"] == "respond" {
            break;
        }
        step = s.resume(8, &reply, 0.0);
    }
    let (head, _) = parse(&step);
    assert_eq!((head["op"].as_str(), head["status"].as_i64()), (Some("respond"), Some(400)));
}
