//! The change feed on the host: every operation's event, `seq` order, the pull feed, signed
//! webhook deliveries with retries, codes delivered only by webhook, and the sweep that loses
//! nothing.

use crate::helpers::{HostPlatform, Service};
use serde_json::{json, Value};
use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use users_edge::feed::signature::{self, Secret};
use users_edge::platform::{Config, Platform, PlatformError};
use users_edge::store::{DbError, Row, Stmt};

struct Cast {
    svc: Service,
    org: i64,
    admin_key: String,
    user_id: i64,
    user_uuid: String,
    user_key: String,
}

fn cast() -> Cast {
    let svc = Service::new();
    let org = svc.org("A");
    let (_, admin_key) = svc.user(org, "admin@a.test", json!({"admin": true}));
    let (user, user_key) = svc.user(org, "user@a.test", json!({"username": "u"}));
    Cast {
        svc,
        org,
        admin_key,
        user_id: user["id"].as_i64().unwrap(),
        user_uuid: user["uuid"].as_str().unwrap().into(),
        user_key,
    }
}

impl Cast {
    fn pull(&self, after: i64) -> (Vec<Value>, i64) {
        let r = self.svc.operator("GET", &format!("/events?org_id={}&after={after}", self.org), None);
        assert_eq!(r.status, 200, "{}", r.body);
        (r.body["events"].as_array().unwrap().clone(), r.body["next"].as_i64().unwrap())
    }
    fn subscribe(&self, extra: Value) -> (i64, Secret) {
        let mut body = json!({"org_id": self.org, "url": "https://hooks.example/in"});
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        let r = self.svc.operator("POST", "/webhooks", Some(body));
        assert_eq!(r.status, 201, "{}", r.body);
        (r.body["id"].as_i64().unwrap(), Secret::parse(r.body["secret"].as_str().unwrap()).unwrap())
    }
    fn dispatch(&self) -> usize {
        pollster::block_on(users_edge::app::dispatch(&self.svc.platform))
    }
    /// The operator sets the cast user's nickname: one `user.updated` event (a new value each time).
    fn nickname(&self, nick: &str) {
        let r = self.svc.operator("PATCH", &format!("/users/{}", self.user_id), Some(json!({"nick_name": nick})));
        assert_eq!(r.status, 200, "{}", r.body);
    }
    /// The user moves its email to `email` through ZITADEL, which sends a code there.
    fn change_email_with_code(&self, email: &str) {
        let auth = format!("Bearer {}", self.user_key);
        let body = json!({"email": {"email": email, "sendCode": {}}});
        let r = self.svc.call("PUT", &format!("/v2/users/human/{}", self.user_uuid), &[("authorization", &auth)], Some(body));
        assert_eq!(r.status, 200, "{}", r.body);
    }
    /// Deliveries received so far, verified against `secret`: (webhook-id, body).
    fn received(&self, secret: &Secret) -> Vec<(String, Value)> {
        self.svc
            .platform
            .posts
            .borrow()
            .iter()
            .map(|(url, headers, body)| {
                assert_eq!(url, "https://hooks.example/in");
                let h = |n: &str| headers.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str()).unwrap();
                let hs = signature::Headers {
                    id: h("webhook-id"),
                    timestamp: h("webhook-timestamp"),
                    signature: h("webhook-signature"),
                };
                let ts: i64 = hs.timestamp.parse().unwrap();
                signature::verify(secret, hs, body.as_bytes(), ts, 300).expect("signature verifies");
                (h("webhook-id").to_string(), serde_json::from_str(body).unwrap())
            })
            .collect()
    }
}

#[test]
fn every_operation_has_its_event_in_seq_order_without_secrets() {
    let c = cast();
    let (_, start) = c.pull(0);
    let uid = c.user_id;
    c.svc.call(
        "PATCH",
        &format!("/api/v1/users/{uid}"),
        &[("x-api-key", &c.user_key)],
        Some(json!({"user": {"based_in": "Oslo"}})),
    );
    c.svc.operator("PATCH", &format!("/users/{uid}"), Some(json!({"password": "Sup3r-Secret-Pass"})));
    c.svc.operator("POST", &format!("/users/{uid}/deactivate"), None);
    c.svc.operator("POST", &format!("/users/{uid}/reactivate"), None);
    let key = c.svc.operator("POST", "/api-keys", Some(json!({"user_id": uid})));
    c.svc.operator("DELETE", &format!("/api-keys/{}", key.body["id"]), None);
    c.svc.operator("DELETE", &format!("/users/{uid}"), None);
    let (events, next) = c.pull(start);
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        [
            "user.updated",
            "user.updated",
            "user.deactivated",
            "user.reactivated",
            "api_key.created",
            "api_key.revoked",
            // The deletion revokes the user's own key, the cast's: an event of its own, before
            // the deletion's, which stays the user's last.
            "api_key.revoked",
            "user.deleted"
        ]
    );
    let seqs: Vec<i64> = events.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "{seqs:?}");
    assert_eq!(next, *seqs.last().unwrap());
    assert_eq!(events[0]["actor"], json!({"type": "key", "key_id": 2, "user_id": uid}));
    assert_eq!(
        (&events[0]["dialect"], &events[0]["fields"], &events[0]["user"]["based_in"]),
        (&json!("hienergy"), &json!(["based_in"]), &json!("Oslo"))
    );
    assert_eq!((&events[1]["actor"], &events[1]["fields"]), (&json!({"type": "operator"}), &json!(["password"])));
    assert_eq!(events[4]["api_key"]["issuer"], "operator");
    assert_eq!(events[7]["user"]["email"], "", "the tombstone");
    assert_eq!(events[6]["api_key"]["id"], 2, "the cast's key, revoked by the deletion");
    let text = serde_json::to_string(&events).unwrap();
    let new_key = key.body["key"].as_str().unwrap();
    for secret in ["Sup3r-Secret-Pass", "pbkdf2", "password_hash", new_key, "digest"] {
        assert!(!text.contains(secret), "{secret} leaked into the feed");
    }
    assert!(c.pull(next).0.is_empty(), "after the last `next` the feed is empty until something new commits");
}

/// Keys a write revokes as a side effect (a demotion retiring every admin key) each get their
/// `api_key.revoked`, with ids of their own and consecutive `seq`s after the user's update.
#[test]
fn keys_retired_by_a_demotion_each_have_their_revocation_event() {
    let c = cast();
    let admin = c.svc.operator("POST", "/users", Some(json!({"org_id": c.org, "email": "boss@a.test", "admin": true})));
    let id = admin.body["id"].as_i64().unwrap();
    let keys: Vec<i64> =
        (0..2).map(|_| c.svc.operator("POST", "/api-keys", Some(json!({"user_id": id}))).body["id"].as_i64().unwrap()).collect();
    let (_, start) = c.pull(0);
    let r = c.svc.operator("PATCH", &format!("/users/{id}"), Some(json!({"admin": false})));
    assert_eq!(r.status, 200, "{}", r.body);
    let (events, _) = c.pull(start);
    let summary: Vec<(&str, &Value)> = events.iter().map(|e| (e["type"].as_str().unwrap(), &e["api_key"]["id"])).collect();
    assert_eq!(
        summary,
        [("user.updated", &Value::Null), ("api_key.revoked", &json!(keys[0])), ("api_key.revoked", &json!(keys[1]))]
    );
    let seqs: Vec<i64> = events.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "{seqs:?}");
    let ids: std::collections::BTreeSet<&str> = events.iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 3, "each event its own id: {ids:?}");
    // Demoting again revokes nothing more: no event at all (the write is a no-op too).
    let (_, after) = c.pull(0);
    assert_eq!(c.svc.operator("PATCH", &format!("/users/{id}"), Some(json!({"admin": false}))).status, 200);
    assert!(c.pull(after).0.is_empty());
    assert!(c.svc.platform.kicks.get() >= 7, "every committed write asks for a dispatch");
}

#[test]
fn webhooks_are_signed_retried_and_delivered_once_per_event() {
    let c = cast();
    let (hook, secret) = c.subscribe(json!({}));
    let uid = c.user_id;
    // The receiver answers 503 twice, then 200.
    c.svc.platform.receiver.borrow_mut().extend([Some(503), Some(503)]);
    c.svc.operator("PATCH", &format!("/users/{uid}"), Some(json!({"nick_name": "n1"})));
    assert_eq!(c.dispatch(), 1);
    c.svc.platform.advance(5_000.0);
    assert_eq!(c.dispatch(), 1, "retried after 5 s");
    assert_eq!(c.dispatch(), 0, "the next retry is not due yet");
    c.svc.platform.advance(300_000.0);
    assert_eq!(c.dispatch(), 1, "and after 5 min");
    let got = c.received(&secret);
    assert_eq!(got.len(), 3);
    assert!(got.iter().all(|(id, _)| id == &got[0].0), "the webhook-id is stable across retries");
    let body = &got[2].1;
    assert_eq!((&body["type"], &body["data"]["user"]["nick_name"]), (&json!("user.updated"), &json!("n1")));
    let log = c.svc.operator("GET", &format!("/webhooks/{hook}/deliveries"), None);
    assert_eq!(log.body["deliveries"][0]["status"], "delivered");
    assert_eq!(log.body["deliveries"][0]["attempts"], 3);
    // An event before the subscription isn't delivered; events after it are, each once.
    c.svc.operator("PATCH", &format!("/users/{uid}"), Some(json!({"nick_name": "n2"})));
    c.dispatch();
    c.dispatch();
    assert_eq!(c.received(&secret).len(), 4);
}

#[test]
fn a_delivery_that_never_succeeds_fails_visibly_after_the_last_attempt() {
    let c = cast();
    let (hook, _) = c.subscribe(json!({"event_types": ["user.updated"]}));
    c.svc.platform.receiver.borrow_mut().extend(std::iter::repeat_n(None, 8));
    c.svc.operator("PATCH", &format!("/users/{}", c.user_id), Some(json!({"nick_name": "x"})));
    for _ in 0..8 {
        c.dispatch();
        c.svc.platform.advance(11.0 * 3600.0 * 1000.0);
    }
    let log = c.svc.operator("GET", &format!("/webhooks/{hook}/deliveries"), None);
    let d = &log.body["deliveries"][0];
    assert_eq!((&d["status"], &d["attempts"], &d["last_error"]), (&json!("failed"), &json!(8), &json!("timed out")), "{d}");
    assert_eq!(c.svc.platform.posts.borrow().len(), 8);
}

#[test]
fn codes_reach_webhooks_only_and_verify() {
    let c = cast();
    let (_, secret) = c.subscribe(json!({"event_types": ["user.email.code_requested"]}));
    let (_, start) = c.pull(0);
    let auth = format!("Bearer {}", c.user_key);
    let tpl = "https://app.example/verify?u={{.UserID}}&c={{.Code}}";
    let r = c.svc.call(
        "PUT",
        &format!("/v2/users/human/{}", c.user_uuid),
        &[("authorization", &auth)],
        Some(json!({"email": {"email": "new@a.test", "sendCode": {"urlTemplate": tpl}}})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    c.dispatch();
    let got = c.received(&secret);
    assert_eq!(got.len(), 1, "only the subscribed type");
    let code = got[0].1["data"]["code"].clone();
    let plain = code["code"].as_str().unwrap().to_string();
    assert_eq!(code["to"], "new@a.test");
    assert_eq!(code["url"], format!("https://app.example/verify?u={}&c={plain}", c.user_uuid));
    // Nowhere else: not in the pull feed, not in the audit trail.
    let (events, _) = c.pull(start);
    let pulled = events.iter().find(|e| e["type"] == "user.email.code_requested").unwrap();
    assert_eq!(pulled["code"], json!({"to": "new@a.test", "expires_at": code["expires_at"]}));
    let audit = c.svc.operator("GET", &format!("/users/{}/events", c.user_id), None).body.to_string();
    let everything = format!("{}{audit}", serde_json::to_string(&events).unwrap());
    assert!(!everything.contains(&plain));
    let v = c.svc.call(
        "POST",
        &format!("/v2/users/{}/email/verify", c.user_uuid),
        &[("authorization", &auth)],
        Some(json!({"verificationCode": plain})),
    );
    assert_eq!(v.status, 200, "{}", v.body);
    assert_eq!(c.svc.stored(c.user_id)["email_verified"], 1);
}

#[test]
fn a_lost_hand_off_is_swept_up() {
    let c = cast();
    c.dispatch();
    let (_, secret) = c.subscribe(json!({}));
    // The request's kick is lost (nobody dispatches); the Cron sweep is a dispatch like any other.
    c.svc.operator("PATCH", &format!("/users/{}", c.user_id), Some(json!({"bio": "b"})));
    let pending = c.svc.platform.sql("SELECT COUNT(*) AS n FROM user_events WHERE enqueued_at IS NULL")[0]["n"].clone();
    assert_eq!(pending, 1);
    c.dispatch();
    assert_eq!(c.received(&secret).len(), 1);
    assert_eq!(c.svc.platform.sql("SELECT COUNT(*) AS n FROM user_events WHERE enqueued_at IS NULL")[0]["n"], 0);
}

#[test]
fn subscriptions_are_per_org_and_checked() {
    let c = cast();
    let other = c.svc.org("B");
    let (_, other_admin) = c.svc.user(other, "admin@b.test", json!({"admin": true}));
    let auth = format!("Bearer {other_admin}");
    let r = c.svc.call(
        "POST",
        "/admin/v1/webhooks",
        &[("authorization", &auth)],
        Some(json!({"org_id": c.org, "url": "https://x.example/"})),
    );
    assert_eq!(r.status, 404);
    assert_eq!(c.svc.call("GET", &format!("/admin/v1/events?org_id={}", c.org), &[("authorization", &auth)], None).status, 404);
    let user = format!("Bearer {}", c.user_key);
    assert_eq!(c.svc.call("GET", &format!("/admin/v1/events?org_id={}", c.org), &[("authorization", &user)], None).status, 403);
    let own = format!("Bearer {}", c.admin_key);
    let r = c.svc.call(
        "POST",
        "/admin/v1/webhooks",
        &[("authorization", &own)],
        Some(json!({"url": "https://x.example/", "event_types": ["user.nope"]})),
    );
    assert_eq!(r.status, 422);
    assert_eq!(r.body["errors"][0]["field"], "event_types");
    let r = c.svc.call("POST", "/admin/v1/webhooks", &[("authorization", &own)], Some(json!({"url": "ftp://x.example/"})));
    assert_eq!((r.status, &r.body["errors"][0]["field"]), (422, &json!("url")));
    let r = c.svc.call("GET", "/admin/v1/webhooks", &[("authorization", &own)], None);
    assert_eq!(r.status, 200);
    assert!(!r.body.to_string().contains("whsec_"), "no secret in a listing");
    let (hook, secret) = c.subscribe(json!({}));
    assert_eq!(c.svc.operator("DELETE", &format!("/webhooks/{hook}"), None).status, 204);
    c.svc.operator("PATCH", &format!("/users/{}", c.user_id), Some(json!({"bio": "after"})));
    c.dispatch();
    assert!(c.received(&secret).is_empty(), "nothing is delivered after unsubscribing");
}

#[test]
fn replay_delivers_again_from_a_seq() {
    let c = cast();
    let (hook, secret) = c.subscribe(json!({}));
    c.svc.operator("PATCH", &format!("/users/{}", c.user_id), Some(json!({"bio": "1"})));
    c.svc.operator("PATCH", &format!("/users/{}", c.user_id), Some(json!({"bio": "2"})));
    c.dispatch();
    let first = c.received(&secret);
    assert_eq!(first.len(), 2);
    let from = first[1].1["data"]["seq"].as_i64().unwrap();
    let r = c.svc.operator("POST", &format!("/webhooks/{hook}/replay"), Some(json!({"from_seq": from})));
    assert_eq!(r.status, 202, "{}", r.body);
    c.dispatch();
    let all = c.received(&secret);
    assert_eq!(all.len(), 3);
    assert_eq!(all[2].0, first[1].0, "a replay carries the same webhook-id");
}

/// The host platform behind a receiver that takes its time: each POST waits one turn of the
/// executor before it is answered, so attempts a dispatch makes together are in flight together;
/// `most` is how many were at once.
struct SlowReceiver<'a> {
    inner: &'a HostPlatform,
    in_flight: Cell<usize>,
    most: Cell<usize>,
}

/// Pending once (waking itself), then ready: one turn of the executor.
struct YieldOnce(bool);

impl Future for YieldOnce {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            return Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

impl Platform for SlowReceiver<'_> {
    async fn kv_get(&self, key: &str) -> Result<Option<String>, PlatformError> {
        self.inner.kv_get(key).await
    }
    async fn kv_put(&self, key: &str, value: &str) -> Result<(), PlatformError> {
        self.inner.kv_put(key, value).await
    }
    async fn kv_delete(&self, key: &str) -> Result<(), PlatformError> {
        self.inner.kv_delete(key).await
    }
    async fn query(&self, stmt: &Stmt) -> Result<Vec<Row>, DbError> {
        self.inner.query(stmt).await
    }
    async fn batch(&self, stmts: &[Stmt]) -> Result<Vec<Vec<Row>>, DbError> {
        self.inner.batch(stmts).await
    }
    async fn rate_limit(&self, key: &str) -> Result<bool, PlatformError> {
        self.inner.rate_limit(key).await
    }
    async fn notify(&self, message: &Value) -> Result<(), PlatformError> {
        self.inner.notify(message).await
    }
    fn now_ms(&self) -> f64 {
        self.inner.now_ms()
    }
    fn fill_random(&self, buf: &mut [u8]) -> Result<(), PlatformError> {
        self.inner.fill_random(buf)
    }
    fn config(&self) -> &Config {
        self.inner.config()
    }
    fn concurrent_calls(&self) -> usize {
        self.inner.concurrent_calls()
    }
    fn kick(&self, delay_seconds: u32) {
        self.inner.kick(delay_seconds);
    }
    async fn post(&self, url: &str, headers: &[(&str, String)], body: &str) -> Result<u16, PlatformError> {
        self.in_flight.set(self.in_flight.get() + 1);
        self.most.set(self.most.get().max(self.in_flight.get()));
        YieldOnce(false).await;
        self.in_flight.set(self.in_flight.get() - 1);
        self.inner.post(url, headers, body).await
    }
}

#[test]
fn a_dispatch_makes_its_attempts_six_at_a_time() {
    // One after another, each attempt waited for the receiver before the next began, and under
    // load delivery fell far behind the changes (bench/soak.mjs).
    let c = cast();
    let (hook, secret) = c.subscribe(json!({}));
    for n in 0..10 {
        c.nickname(&format!("n{n}"));
    }
    let slow = SlowReceiver { inner: &c.svc.platform, in_flight: Cell::new(0), most: Cell::new(0) };
    assert_eq!(pollster::block_on(users_edge::app::dispatch(&slow)), 10);
    assert_eq!(slow.most.get(), 6, "six attempts in flight at once, never more");
    let got = c.received(&secret);
    let ids: std::collections::BTreeSet<_> = got.iter().map(|(id, _)| id.clone()).collect();
    assert_eq!((got.len(), ids.len()), (10, 10), "each event once");
    let log = c.svc.operator("GET", &format!("/webhooks/{hook}/deliveries"), None);
    let statuses: Vec<&Value> = log.body["deliveries"].as_array().unwrap().iter().map(|d| &d["status"]).collect();
    assert_eq!(statuses, vec![&json!("delivered"); 10], "every outcome recorded");
}

/// Each org's feed carries its own changes only: org B's changes reach neither org A's pull feed
/// nor A's webhook, and A's admin cannot read, replay or delete B's endpoint or its deliveries.
#[test]
fn one_orgs_changes_never_reach_another_orgs_feed_or_endpoints() {
    let c = cast();
    c.subscribe(json!({}));
    let (_, start) = c.pull(0);
    let other = c.svc.org("B");
    let (b_user, _) = c.svc.user(other, "someone@b.test", json!({}));
    let b_hook = c.svc.operator("POST", "/webhooks", Some(json!({"org_id": other, "url": "https://b.example/in"})));
    assert_eq!(b_hook.status, 201, "{}", b_hook.body);
    let b_hook = b_hook.body["id"].as_i64().unwrap();
    assert_eq!(c.svc.operator("PATCH", &format!("/users/{}", b_user["id"]), Some(json!({"bio": "b's own"}))).status, 200);
    c.svc.platform.posts.borrow_mut().clear();
    c.dispatch();
    let (events, _) = c.pull(start);
    assert!(events.is_empty(), "A's pull feed has nothing new: {events:?}");
    let posts: Vec<(String, String)> =
        c.svc.platform.posts.borrow().iter().map(|(url, _, body)| (url.clone(), body.clone())).collect();
    assert!(!posts.is_empty(), "B's endpoint got B's events");
    assert!(posts.iter().all(|(url, _)| url == "https://b.example/in"), "none of B's events reached A's endpoint: {posts:?}");
    let auth = format!("Bearer {}", c.admin_key);
    for (method, path, body) in [
        ("GET", format!("/admin/v1/webhooks/{b_hook}/deliveries"), None),
        ("POST", format!("/admin/v1/webhooks/{b_hook}/replay"), Some(json!({"from_seq": 0}))),
        ("DELETE", format!("/admin/v1/webhooks/{b_hook}"), None),
    ] {
        let r = c.svc.call(method, &path, &[("authorization", &auth)], body);
        assert_eq!(r.status, 404, "{method} {path}: {}", r.body);
    }
}

/// With the production setting (no `ALLOW_HTTP_WEBHOOKS`), subscribing an endpoint that would
/// make the service call into a private network is refused through the API itself, in every
/// spelling the URL parser normalises, and nothing is stored.
#[test]
fn production_refuses_endpoints_on_private_networks_in_every_spelling() {
    let mut c = cast();
    c.svc.platform.config.allow_http_webhooks = false;
    let hooks = || c.svc.platform.sql("SELECT COUNT(*) AS n FROM webhooks")[0]["n"].as_i64().unwrap();
    for url in [
        "http://hooks.example/in",
        "https://127.0.0.1/in",
        "https://127.1/in",
        "https://2130706433/in",
        "https://0x7f.1/in",
        "https://localhost/in",
        "https://LOCALHOST./in",
        "https://10.0.0.1/in",
        "https://192.168.1.1/in",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/in",
        "https://[::ffff:127.0.0.1]/in",
        "https://intranet/in",
        "https://db.internal/in",
        "https://printer.local/in",
    ] {
        let r = c.svc.operator("POST", "/webhooks", Some(json!({"org_id": c.org, "url": url})));
        assert_eq!((r.status, &r.body["errors"][0]["field"]), (422, &json!("url")), "{url}: {}", r.body);
    }
    assert_eq!(hooks(), 0, "nothing was subscribed");
    let ok = c.svc.operator("POST", "/webhooks", Some(json!({"org_id": c.org, "url": "https://hooks.example/in"})));
    assert_eq!(ok.status, 201, "a public https endpoint is fine: {}", ok.body);
}

/// What the service logs for the operator (internal failures of requests and of dispatches)
/// never carries a secret: not a key or its digest, a password or its hash, a webhook secret, a
/// code or its digest — even when the failing request or delivery was carrying one.
#[test]
fn secrets_never_reach_the_operators_log() {
    let c = cast();
    let sub = c.svc.operator("POST", "/webhooks", Some(json!({"org_id": c.org, "url": "https://hooks.example/in"})));
    let whsec = sub.body["secret"].as_str().unwrap().to_string();
    let auth = format!("Bearer {}", c.user_key);
    let tpl = "https://app.example/verify?c={{.Code}}";
    assert_eq!(
        c.svc.operator("PATCH", &format!("/users/{}", c.user_id), Some(json!({"password": "Sup3r-Secret-Pass"}))).status,
        200
    );
    let change = json!({"email": {"email": "new@a.test", "sendCode": {"urlTemplate": tpl}}});
    assert_eq!(
        c.svc.call("PUT", &format!("/v2/users/human/{}", c.user_uuid), &[("authorization", &auth)], Some(change)).status,
        200
    );
    c.dispatch();
    let code = c.svc.platform.posts.borrow().iter().find_map(|(_, _, body)| {
        let v: Value = serde_json::from_str(body).unwrap();
        v["data"]["code"]["code"].as_str().map(str::to_string)
    });
    let code = code.expect("the code went out by webhook");
    // Requests that fail inside (storage broken under them), each carrying a secret.
    let sql = |s: &str| c.svc.platform.sql(s);
    sql("ALTER TABLE user_events RENAME TO user_events_away");
    let verify = c.svc.call(
        "POST",
        &format!("/v2/users/{}/email/verify", c.user_uuid),
        &[("authorization", &auth)],
        Some(json!({"verificationCode": code})),
    );
    let patch = c.svc.call(
        "PATCH",
        &format!("/api/v1/users/{}", c.user_id),
        &[("x-api-key", &c.user_key)],
        Some(json!({"user": {"name": "x"}})),
    );
    let admin = format!("Bearer {}", c.admin_key);
    let reset = c.svc.call("POST", "/admin/v1/api-keys", &[("authorization", &admin)], Some(json!({"user_id": c.user_id})));
    sql("ALTER TABLE user_events_away RENAME TO user_events");
    assert!(
        [verify.status, patch.status, reset.status].iter().all(|s| *s >= 500),
        "{} {} {}",
        verify.status,
        patch.status,
        reset.status
    );
    // A dispatch that fails inside.
    assert_eq!(c.svc.operator("PATCH", &format!("/users/{}", c.user_id), Some(json!({"bio": "b"}))).status, 200);
    sql("ALTER TABLE deliveries RENAME TO deliveries_away");
    c.dispatch();
    sql("ALTER TABLE deliveries_away RENAME TO deliveries");
    let logs = c.svc.platform.logs.borrow().join("\n");
    assert!(c.svc.platform.logs.borrow().len() >= 4, "each failure was logged: {logs}");
    let hash = c.svc.stored(c.user_id)["password_hash"].as_str().unwrap().to_string();
    let digests: Vec<String> =
        sql("SELECT digest FROM api_keys").iter().map(|r| r["digest"].as_str().unwrap().to_string()).collect();
    let code_digests: Vec<String> =
        sql("SELECT digest FROM verification_codes").iter().map(|r| r["digest"].as_str().unwrap().to_string()).collect();
    let mut secrets =
        vec![c.user_key.clone(), c.admin_key.clone(), whsec.clone(), whsec.trim_start_matches("whsec_").to_string()];
    secrets.extend([code, "Sup3r-Secret-Pass".to_string(), hash]);
    secrets.extend(digests);
    secrets.extend(code_digests);
    for secret in &secrets {
        assert!(!logs.contains(secret.as_str()), "a secret in the log: {secret}\n{logs}");
    }
}

/// A page of the pull feed stops before its events' snapshots pass about 4 MB (a user's snapshot
/// carries its SCIM document): `next` moves on from the last event shown, so paging on loses
/// nothing and repeats nothing.
#[test]
fn a_feed_page_is_bounded_in_bytes_and_paging_on_loses_nothing() {
    let c = cast();
    for i in 0..59 {
        let r = c.svc.operator("PATCH", &format!("/users/{}", c.user_id), Some(json!({"bio": format!("b{i}")})));
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let all: Vec<i64> = c
        .svc
        .platform
        .sql(&format!("SELECT seq FROM user_events WHERE org_id = {} AND type IS NOT NULL ORDER BY seq", c.org))
        .iter()
        .map(|r| r["seq"].as_i64().unwrap())
        .collect();
    assert!(all.len() > 60, "{}", all.len());
    // Each snapshot about 200 KB, in two-byte letters (100,000 of them): 20 to a page of 4 MB, which
    // counts bytes, not characters.
    c.svc.platform.sql("UPDATE user_events SET data = json_set(data, '$.bio', replace(hex(zeroblob(50000)), '0', 'é'))");
    let (mut seen, mut after, mut pages) = (Vec::new(), 0, 0);
    loop {
        let r = c.svc.operator("GET", &format!("/events?org_id={}&after={after}&limit=500", c.org), None);
        assert_eq!(r.status, 200, "{}", r.body);
        let events = r.body["events"].as_array().unwrap();
        if events.is_empty() {
            break;
        }
        assert!(r.raw.body.len() <= 4_300_000, "a page of {} bytes", r.raw.body.len());
        assert!(events.len() < all.len());
        seen.extend(events.iter().map(|e| e["seq"].as_i64().unwrap()));
        after = r.body["next"].as_i64().unwrap();
        assert_eq!(Some(&after), seen.last());
        pages += 1;
    }
    assert_eq!(seen, all, "every event once, in order");
    assert!(pages >= 3, "{pages}");
}

/// Every event goes to each of an org's webhooks, so an org has at most 16 at once (Stripe's
/// limit): a 17th is 422 naming `org_id` and is not stored, by the operator or an org admin's
/// key alike; deleting one makes room again.
#[test]
fn an_org_has_at_most_sixteen_webhooks() {
    let c = cast();
    let ids: Vec<i64> = (0..16).map(|_| c.subscribe(json!({})).0).collect();
    let count = || c.svc.platform.sql("SELECT COUNT(*) AS n FROM webhooks WHERE deleted_at IS NULL")[0]["n"].as_i64().unwrap();
    assert_eq!(count(), 16);
    let body = json!({"org_id": c.org, "url": "https://hooks.example/17"});
    let r = c.svc.operator("POST", "/webhooks", Some(body.clone()));
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.to_string().contains("org_id") && r.body.to_string().contains("the most an org may have"), "{}", r.body);
    let auth = format!("Bearer {}", c.admin_key);
    let headers = [("authorization", auth.as_str()), ("content-type", "application/json")];
    let by_key = c.svc.call("POST", "/admin/v1/webhooks", &headers, Some(body.clone()));
    assert_eq!(by_key.status, 422, "{}", by_key.body);
    assert!(by_key.body.to_string().contains("the most an org may have"), "{}", by_key.body);
    assert_eq!(count(), 16, "nothing stored");
    assert_eq!(c.svc.operator("DELETE", &format!("/webhooks/{}", ids[0]), None).status, 204);
    assert_eq!(c.svc.operator("POST", "/webhooks", Some(body)).status, 201);
    assert_eq!(count(), 16);
}

/// A replay covers at most 10,000 events of the org's feed from `from_seq` on, and says through
/// which `seq` and whether more follow: replaying again from there covers the rest, each event once.
#[test]
fn a_replay_covers_at_most_ten_thousand_events_and_says_where_it_stopped() {
    let c = cast();
    let (hook, _) = c.subscribe(json!({"event_types": ["user.updated"]}));
    c.svc.operator("PATCH", &format!("/users/{}", c.user_id), Some(json!({"bio": "1"})));
    // 10,004 more events like that one, after it.
    c.svc.platform.sql(&format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10004) \
         INSERT INTO user_events (user_id, org_id, actor_key_id, actor_user_id, action, type, dialect, fields, detail, event_id, at, version, seq, data) \
         SELECT e.user_id, e.org_id, e.actor_key_id, e.actor_user_id, e.action, e.type, e.dialect, e.fields, e.detail, \
         printf('00000000-0000-4000-8000-%012d', i), e.at, e.version, e.seq + i, e.data FROM n, \
         (SELECT * FROM user_events WHERE org_id = {org} AND type = 'user.updated' ORDER BY seq DESC LIMIT 1) e",
        org = c.org
    ));
    let seqs = c
        .svc
        .platform
        .sql(&format!("SELECT MIN(seq) AS a, MAX(seq) AS b FROM user_events WHERE org_id = {} AND type = 'user.updated'", c.org));
    let (first, last) = (seqs[0]["a"].as_i64().unwrap(), seqs[0]["b"].as_i64().unwrap());
    assert_eq!(last - first, 10_004);
    let deliveries = || {
        c.svc.platform.sql(&format!("SELECT COUNT(*) AS n FROM deliveries WHERE webhook_id = {hook}"))[0]["n"].as_i64().unwrap()
    };
    let before = deliveries();
    let replay = |from: i64| {
        let r = c.svc.operator("POST", &format!("/webhooks/{hook}/replay"), Some(json!({"from_seq": from})));
        assert_eq!(r.status, 202, "{}", r.body);
        r.body
    };
    let r = replay(first);
    assert_eq!(r, json!({"from_seq": first, "through_seq": first + 9_999, "more": true}));
    assert_eq!(deliveries(), 10_000, "before: {before}");
    let r = replay(first + 10_000);
    assert_eq!(r, json!({"from_seq": first + 10_000, "through_seq": last, "more": false}));
    assert_eq!(deliveries(), 10_005, "every event once");
    assert_eq!(replay(last + 1), json!({"from_seq": last + 1, "through_seq": null, "more": false}));
}

/// An update's event carries what each changed field held before it (Stripe's
/// `previous_attributes`), rendered as its `user` is, in the pull feed and in deliveries alike: a
/// sender can tell the old address that the email changed (the defence Okta and Auth0 add against a
/// stolen key moving an account to another mailbox). Unchanged fields, the password and the hash
/// never show; a deletion erases the row's copy with the rest of its personal data.
#[test]
fn an_update_event_says_what_its_changed_fields_held_before() {
    let c = cast();
    let (_, secret) = c.subscribe(json!({}));
    let (_, start) = c.pull(0);
    let uid = c.user_id;
    let patch = json!({"email": "new@a.test", "username": "u", "name": "Ada", "attributes": {"tier": 2}, "publisher_id": 7});
    assert_eq!(c.svc.operator("PATCH", &format!("/users/{uid}"), Some(patch)).status, 200);
    let r = c.svc.call(
        "PATCH",
        &format!("/api/v1/users/{uid}"),
        &[("x-api-key", &c.user_key)],
        Some(json!({"user": {"name": "Ada L.", "based_in": "Oslo"}})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    c.svc.operator("PATCH", &format!("/users/{uid}"), Some(json!({"password": "Sup3r-Secret-Pass"})));
    c.svc.operator("PATCH", &format!("/users/{uid}"), Some(json!({"password": "An0ther-Secret-Pass"})));
    c.svc.operator("POST", &format!("/users/{uid}/deactivate"), None);
    let (events, _) = c.pull(start);
    let previous: Vec<(Value, Value)> = events.iter().map(|e| (e["fields"].clone(), e["previous_attributes"].clone())).collect();
    assert_eq!(
        previous,
        [
            (
                json!(["email", "name", "publisher_id", "attributes"]),
                json!({"email": "user@a.test", "name": null, "publisher_id": null, "attributes": {}})
            ),
            (json!(["name", "based_in"]), json!({"name": "Ada", "based_in": null})),
            (json!(["password"]), json!({})),
            (json!(["password"]), json!({})),
            (json!(["deactivated"]), json!({"deactivated": false})),
        ]
    );
    c.dispatch();
    let delivered: Vec<Value> =
        c.received(&secret).into_iter().map(|(_, body)| body["data"]["previous_attributes"].clone()).collect();
    assert_eq!(delivered, previous.iter().map(|(_, p)| p.clone()).collect::<Vec<_>>());
    let text = serde_json::to_string(&events).unwrap();
    for leaked in ["Sup3r-Secret-Pass", "pbkdf2", "password_hash"] {
        assert!(!text.contains(leaked), "{leaked} leaked into the feed");
    }
    c.svc.operator("DELETE", &format!("/users/{uid}"), None);
    let row = c.svc.platform.sql(&format!("SELECT last_previous FROM users WHERE id = {uid}"));
    assert_eq!(row[0]["last_previous"], Value::Null, "the deletion erases it");
    let (after, _) = c.pull(start);
    let deleted = after.iter().find(|e| e["type"] == "user.deleted").unwrap();
    assert!(deleted.get("previous_attributes").is_none(), "{deleted}");
}

const DAY_MS: f64 = 86_400_000.0;

/// The Cron sweep applies the feed's retention (30 days here): an event older than that loses
/// what it carried of its user — the snapshots (`user`, `previous_attributes`) and a code event's
/// recipient — and keeps its audit fields, in the pull feed and the user's audit trail alike; a
/// user's last write, as old, forgets what it replaced. Newer events are untouched, and a second
/// sweep has nothing left to do.
#[test]
fn the_sweep_erases_user_data_from_events_past_the_retention_and_keeps_the_audit() {
    let c = cast();
    let uid = c.user_id;
    let (_, start) = c.pull(0);
    c.change_email_with_code("old-news@a.test");
    c.svc.platform.advance(31.0 * DAY_MS);
    let admin = c.svc.platform.sql("SELECT id FROM users WHERE email = 'admin@a.test'")[0]["id"].as_i64().unwrap();
    assert_eq!(c.svc.operator("PATCH", &format!("/users/{admin}"), Some(json!({"name": "Recent"}))).status, 200);
    let (before, _) = c.pull(start);
    assert_eq!(before.len(), 3, "{before:?}");
    pollster::block_on(users_edge::app::sweep(&c.svc.platform));

    let (after, _) = c.pull(start);
    let types: Vec<&str> = after.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["user.updated", "user.email.code_requested", "user.updated"]);
    for old in &after[..2] {
        assert_eq!(old["user"], Value::Null, "{old}");
        assert!(old.get("previous_attributes").is_none(), "{old}");
        assert!(!old.to_string().contains("old-news"), "{old}");
    }
    assert_eq!(after[1]["code"]["to"], Value::Null);
    assert_eq!(after[1]["code"]["expires_at"], before[1]["code"]["expires_at"], "what is not personal stays");
    for (kept, was) in after.iter().zip(&before) {
        for field in ["id", "seq", "type", "timestamp", "actor", "dialect", "fields"] {
            assert_eq!(kept[field], was[field], "{field} stays");
        }
    }
    assert_eq!(after[2], before[2], "within the retention: untouched");
    let trail = c.svc.operator("GET", &format!("/users/{uid}/events"), None);
    assert_eq!(trail.status, 200, "{}", trail.body);
    assert!(trail.body.to_string().contains("\"email\""), "the audit trail still names the field: {}", trail.body);
    let kept =
        |id: i64| c.svc.platform.sql(&format!("SELECT last_previous FROM users WHERE id = {id}"))[0]["last_previous"].clone();
    assert_eq!(kept(uid), Value::Null, "the user's last write is as old: what it replaced goes too");
    assert_ne!(kept(admin), Value::Null, "a recent write keeps it");

    let codes = c.svc.platform.sql("SELECT value, value_key FROM verification_codes");
    assert_eq!(codes.len(), 1);
    assert_eq!((&codes[0]["value"], &codes[0]["value_key"]), (&Value::Null, &Value::Null), "the code's address goes too");

    let snapshot = c.svc.platform.sql("SELECT id, data, previous, detail FROM user_events ORDER BY id");
    pollster::block_on(users_edge::app::sweep(&c.svc.platform));
    assert_eq!(
        c.svc.platform.sql("SELECT id, data, previous, detail FROM user_events ORDER BY id"),
        snapshot,
        "nothing left to do"
    );
}

/// `FEED_RETENTION_DAYS` sets the retention: with a year, a month-old event keeps everything.
#[test]
fn a_longer_retention_keeps_month_old_events_whole() {
    let mut c = cast();
    c.svc.platform.config.feed_retention_days = users_edge::feed::retention::days_from_config(Some("365"));
    let (_, start) = c.pull(0);
    let r = c.svc.call(
        "PATCH",
        &format!("/api/v1/users/{}", c.user_id),
        &[("x-api-key", &c.user_key)],
        Some(json!({"user": {"based_in": "Oslo"}})),
    );
    assert_eq!(r.status, 200);
    c.svc.platform.advance(31.0 * DAY_MS);
    let (before, _) = c.pull(start);
    pollster::block_on(users_edge::app::sweep(&c.svc.platform));
    assert_eq!(c.pull(start).0, before);
    assert_eq!(before[0]["user"]["based_in"], "Oslo");
}

/// A dispatch that claimed a full batch asks for the next one at once (a queue message, not the
/// next minute's sweep), so a replay or a burst drains at the queue's pace; one that found less
/// to do, all delivered, asks for nothing.
#[test]
fn a_full_dispatch_asks_for_the_next_at_once() {
    let c = cast();
    let (hook, secret) = c.subscribe(json!({}));
    for n in 0..50 {
        c.nickname(&format!("n{n}"));
    }
    let kicks = c.svc.platform.kicks.get();
    assert_eq!(c.dispatch(), 40, "a batch is 40");
    assert_eq!(c.svc.platform.kicks.get(), kicks + 1, "more may be due: the next dispatch is asked for");
    assert_eq!(c.dispatch(), 10);
    assert_eq!(c.svc.platform.kicks.get(), kicks + 1, "the rest fitted: nothing more asked");
    let ids: std::collections::BTreeSet<String> = c.received(&secret).into_iter().map(|(id, _)| id).collect();
    assert_eq!(ids.len(), 50, "each event once");
    let log = c.svc.operator("GET", &format!("/webhooks/{hook}/deliveries"), None);
    assert!(log.body["deliveries"].as_array().unwrap().iter().all(|d| d["status"] == "delivered"), "{}", log.body);
}

/// A backlog larger than one window (a first deployment, a long outage of the Cron) is caught up
/// in rounds within one sweep, oldest first, up to the first event within the retention.
#[test]
fn the_sweep_catches_up_on_a_backlog_in_rounds() {
    let c = cast();
    for n in 0..150 {
        c.nickname(&format!("n{n}"));
    }
    c.svc.platform.advance(31.0 * DAY_MS);
    c.nickname("recent");
    pollster::block_on(users_edge::app::sweep(&c.svc.platform));
    let kept = c.svc.platform.sql("SELECT COUNT(*) AS n FROM user_events WHERE data IS NOT NULL");
    assert_eq!(kept[0]["n"], 1, "only the recent event keeps its snapshot");
    let mark = c.svc.platform.sql("SELECT pruned_through, (SELECT MAX(id) FROM user_events) AS last FROM feed_retention");
    assert_eq!(mark[0]["pruned_through"].as_i64().unwrap(), mark[0]["last"].as_i64().unwrap() - 1);
}

/// Deliveries are kept for the retention too (a webhook service's log of attempts, like Svix's):
/// the sweep deletes the finished ones made before it, oldest first, and stops at a delivery still
/// being retried, so nothing in flight is lost; the next sweep after it finishes goes on.
#[test]
fn the_sweep_deletes_finished_deliveries_past_the_retention_never_a_pending_one() {
    let c = cast();
    let (hook, _) = c.subscribe(json!({}));
    let statuses = || -> Vec<String> {
        let log = c.svc.operator("GET", &format!("/webhooks/{hook}/deliveries"), None);
        log.body["deliveries"].as_array().unwrap().iter().map(|d| d["status"].as_str().unwrap().to_string()).collect()
    };
    c.svc.platform.receiver.borrow_mut().push_back(None);
    c.nickname("first");
    c.dispatch();
    c.nickname("second");
    c.dispatch();
    assert_eq!(statuses().len(), 2);
    c.svc.platform.advance(31.0 * DAY_MS);
    // The first one's retry times out again: still pending, so the sweep stops before it.
    c.svc.platform.receiver.borrow_mut().push_back(None);
    pollster::block_on(users_edge::app::sweep(&c.svc.platform));
    let rows = c.svc.platform.sql("SELECT status FROM deliveries ORDER BY id");
    assert_eq!(rows.len(), 2, "a delivery being retried holds the sweep back: {rows:?}");
    assert_eq!(rows[0]["status"], "pending");
    c.svc.platform.advance(10.0 * 60_000.0);
    c.nickname("recent");
    pollster::block_on(users_edge::app::sweep(&c.svc.platform));
    let rows = c.svc.platform.sql("SELECT status, created_at FROM deliveries ORDER BY id");
    assert_eq!(rows.len(), 1, "both old deliveries finished and went; the recent one stays: {rows:?}");
    assert_eq!(statuses(), ["delivered"]);
}

/// A replay that sets an old delivery pending again between the sweep's read and its delete keeps
/// it (only finished deliveries go), and the sweep's mark stops before it, so the next sweep after
/// it is delivered again deletes it: no delivery is left behind the mark.
#[test]
fn a_delivery_replayed_while_the_sweep_runs_is_pruned_by_a_later_one() {
    let c = cast();
    let (hook, _) = c.subscribe(json!({}));
    c.nickname("a");
    c.dispatch();
    c.svc.platform.advance(31.0 * DAY_MS);
    // The sweep's batches: the fan-out, the events' prune, the deliveries' prune; just before the
    // last commits, a replay sets the delivery pending again.
    let replay = format!(
        "UPDATE deliveries SET status = 'pending', next_attempt_at = '2000-01-01T00:00:00.000Z' WHERE webhook_id = {hook}"
    );
    c.svc.platform.interleave.borrow_mut().extend([
        (String::new(), String::new()),
        (String::new(), String::new()),
        (replay, String::new()),
    ]);
    pollster::block_on(users_edge::app::sweep(&c.svc.platform));
    let state = || {
        c.svc.platform.sql("SELECT (SELECT COUNT(*) FROM deliveries) AS n, deliveries_pruned_through AS mark FROM feed_retention")
    };
    assert_eq!((state()[0]["n"].as_i64(), state()[0]["mark"].as_i64()), (Some(1), Some(0)), "kept, and the mark stops before it");
    c.svc.platform.advance(DAY_MS);
    pollster::block_on(users_edge::app::sweep(&c.svc.platform));
    assert_eq!(state()[0]["n"], 0, "delivered again, then pruned");
}

/// A deletion erases the user's personal data at once wherever it is kept beside the row: its
/// codes (retired, and the addresses they went to forgotten) as well as its fields.
#[test]
fn a_deletion_forgets_where_its_codes_went() {
    let c = cast();
    c.change_email_with_code("pending@a.test");
    assert_eq!(c.svc.operator("DELETE", &format!("/users/{}", c.user_id), None).status, 204);
    let codes = c.svc.platform.sql("SELECT value, value_key, used_at IS NOT NULL AS used FROM verification_codes");
    assert_eq!(codes.len(), 1);
    assert_eq!((&codes[0]["value"], &codes[0]["value_key"], &codes[0]["used"]), (&Value::Null, &Value::Null, &json!(1)));
}

/// A Cron run stays within D1's 50 queries per Worker invocation (Workers Free): after a dispatch
/// of a full batch, the retention gets what is left and goes on at the next run.
#[test]
fn a_sweep_makes_at_most_fifty_d1_calls() {
    let c = cast();
    c.subscribe(json!({}));
    for n in 0..1200 {
        c.nickname(&format!("old{n}"));
    }
    c.svc.platform.sql("UPDATE user_events SET enqueued_at = at"); // handed over long ago
    c.svc.platform.advance(31.0 * DAY_MS);
    for n in 0..45 {
        c.nickname(&format!("new{n}"));
    }
    let sweep = || {
        let before = c.svc.platform.d1_calls.get();
        let attempts = pollster::block_on(users_edge::app::sweep(&c.svc.platform));
        (attempts, c.svc.platform.d1_calls.get() - before)
    };
    let (attempts, calls) = sweep();
    assert_eq!(attempts, 40);
    assert!(calls <= 50, "{calls} D1 calls");
    let kept = || c.svc.platform.sql("SELECT COUNT(*) AS n FROM user_events WHERE data IS NOT NULL")[0]["n"].as_i64().unwrap();
    assert!(kept() > 45, "a full dispatch leaves the retention a round or two: {}", kept());
    let (attempts, calls) = sweep();
    assert_eq!(attempts, 5);
    assert!(calls <= 50, "{calls} D1 calls");
    assert_eq!(kept(), 45, "the next run catches up");
}
