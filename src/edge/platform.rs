//! The `Platform` of one request (or queue/cron task) in the wasm: every platform call becomes a
//! `Call` handed to the JavaScript host, and the future waits (returns `Pending`) until the host
//! resumes it with the reply. Work that runs after the response (`defer`, `kick`) and console
//! messages are collected into the `Aftermath` that rides on the final step. Nothing here touches
//! JavaScript, so it runs on the host in tests too.

use super::wire::{Aftermath, Call, D1Answer, D1Result, Reply, Statement};
use crate::consistency::{Served, SessionStart};
use crate::platform::{Config, Platform, PlatformError};
use crate::store::{DbError, Row, Stmt};
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

/// How long an edge location may serve a cached key lookup. D1 re-checks every write, so a
/// revoked key served from this cache still cannot change anything.
const KV_CACHE_TTL_SECONDS: u64 = 60;
/// How long a webhook receiver may take before the attempt counts as a timeout.
const POST_TIMEOUT_MS: u32 = 10_000;
const DB: &str = "DB";
const KEYS: &str = "API_KEYS";
const NOTIFICATIONS: &str = "NOTIFICATIONS";
/// The change feed's dispatch queue (this Worker consumes it).
const FEED: &str = "FEED";
const ASSETS: &str = "ASSETS";
/// Attempts at a proof (password, code) per user, and messages sent per target user, per
/// recipient, per org: each limiter is chosen by its key's prefix.
const LIMITERS: [(&str, &str); 4] = [
    ("send-user", "SENDS_PER_USER"),
    ("send-to", "SENDS_PER_RECIPIENT"),
    ("send-org", "SENDS_PER_ORG"),
    ("", "PASSWORD_ATTEMPTS"),
];
/// The bindings a deployment may leave out; `describe` asks the host which of them exist, once
/// per isolate, and what needs a missing one fails (or, for the feed's kick, is skipped).
pub const OPTIONAL_BINDINGS: [&str; 6] =
    ["PASSWORD_ATTEMPTS", "SENDS_PER_USER", "SENDS_PER_RECIPIENT", "SENDS_PER_ORG", NOTIFICATIONS, FEED];

/// Which optional bindings the isolate has.
#[derive(Debug, Default, Clone)]
pub struct Bindings(Vec<String>);

impl Bindings {
    pub fn new(present: Vec<String>) -> Self {
        Self(present)
    }
    fn has(&self, name: &str) -> bool {
        self.0.iter().any(|b| b == name)
    }
}

/// The limiter binding for a rate-limit key (`send-user:…`, `send-to:…`, `send-org:…`, or any
/// other: a proof attempt).
fn limiter_for(key: &str) -> &'static str {
    let prefix = key.split(':').next().unwrap_or_default();
    LIMITERS.iter().find(|(p, _)| p.is_empty() || *p == prefix).map_or("PASSWORD_ATTEMPTS", |(_, b)| b)
}

/// How many calls one exchange may have in flight at once: a dispatch's webhook attempts go out
/// side by side (the core awaits everything else one call at a time).
const CONCURRENT_CALLS: usize = 6;

/// Between a request's future and the host: the calls made since the last step, each in its
/// slot; the replies not yet read and the wakers waiting for them; the host's clock at the last step.
#[derive(Default)]
pub struct Mailbox {
    outgoing: RefCell<Vec<(u32, String)>>,
    incoming: RefCell<BTreeMap<u32, Reply>>,
    waiting: RefCell<BTreeMap<u32, Waker>>,
    next_slot: Cell<u32>,
    clock: Cell<f64>,
}

impl Mailbox {
    /// The reply to the call in `slot`: wakes whoever waits for it (a combinator running
    /// several calls, such as a dispatch's attempts, polls only what was woken).
    pub fn deliver(&self, slot: u32, reply: Reply, now_ms: f64) {
        self.incoming.borrow_mut().insert(slot, reply);
        self.clock.set(now_ms);
        if let Some(waker) = self.waiting.borrow_mut().remove(&slot) {
            waker.wake();
        }
    }
    pub fn set_clock(&self, now_ms: f64) {
        self.clock.set(now_ms);
    }
    /// The calls made since the last step, in order, with their slots.
    pub fn take_outgoing(&self) -> Vec<(u32, String)> {
        std::mem::take(&mut *self.outgoing.borrow_mut())
    }

    fn call(&self, call: Call<'_>) -> Pending<'_> {
        let slot = self.next_slot.get();
        self.next_slot.set(slot.wrapping_add(1));
        self.outgoing.borrow_mut().push((slot, call.encode()));
        Pending { mailbox: self, slot }
    }
}

/// Ready once the host has delivered the reply to its call.
struct Pending<'a> {
    mailbox: &'a Mailbox,
    slot: u32,
}

impl Future for Pending<'_> {
    type Output = Reply;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Reply> {
        match self.mailbox.incoming.borrow_mut().remove(&self.slot) {
            Some(reply) => Poll::Ready(reply),
            None => {
                self.mailbox.waiting.borrow_mut().insert(self.slot, cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

/// What the D1 session has reported so far, for the response headers.
#[derive(Default)]
pub struct SessionLog {
    pub bookmark: Option<String>,
    /// One entry per D1 call the core made (a retry replaces its call's entry).
    pub served: Vec<Served>,
}

pub struct EdgePlatform {
    mailbox: Rc<Mailbox>,
    config: Rc<Config>,
    bindings: Rc<Bindings>,
    session: RefCell<SessionStart>,
    log: RefCell<SessionLog>,
    after: RefCell<Aftermath>,
}

impl EdgePlatform {
    pub fn new(mailbox: Rc<Mailbox>, config: Rc<Config>, bindings: Rc<Bindings>, session: SessionStart) -> Self {
        let log = SessionLog { bookmark: session.bookmark().map(str::to_string), served: Vec::new() };
        let after = RefCell::new(Aftermath::default());
        Self { mailbox, config, bindings, session: RefCell::new(session), log: RefCell::new(log), after }
    }

    pub fn session_log(&self) -> std::cell::Ref<'_, SessionLog> {
        self.log.borrow()
    }

    /// What is left for the host once the future has finished.
    pub fn take_aftermath(&self) -> Aftermath {
        std::mem::take(&mut *self.after.borrow_mut())
    }

    async fn d1(&self, stmts: &[Stmt], batch: bool) -> Result<Vec<D1Result>, DbError> {
        let first = self.d1_once(stmts, batch).await;
        let retry = match &first {
            Err(_) => self.session.borrow().after_refusal(),
            Ok(_) => None,
        };
        match retry {
            Some(fresh) => {
                *self.session.borrow_mut() = fresh;
                self.log.borrow_mut().served.pop();
                self.d1_once(stmts, batch).await
            }
            None => first,
        }
    }

    async fn d1_once(&self, stmts: &[Stmt], batch: bool) -> Result<Vec<D1Result>, DbError> {
        let session = self.session.borrow().as_str().to_string();
        let call = match (batch, stmts) {
            (false, [stmt]) => Call::D1All { binding: DB, session: &session, stmt: stmt.into() },
            _ => Call::D1Batch { binding: DB, session: &session, statements: stmts.iter().map(Statement::from).collect() },
        };
        let reply = self.mailbox.call(call).await;
        self.log.borrow_mut().served.push(Served::default());
        let text = match reply {
            Reply::Value(text) => text,
            Reply::Null => return Err(DbError { message: "D1 answered nothing".into() }),
            Reply::Error(message) => return Err(DbError { message }),
        };
        let answer: D1Answer = serde_json::from_str(&text).map_err(|e| DbError { message: format!("D1 answer: {e}") })?;
        let results = match answer.result {
            Some(one) => vec![one],
            None => answer.results,
        };
        let mut log = self.log.borrow_mut();
        if let Some(b) = answer.bookmark {
            log.bookmark = Some(b);
        }
        // A batch runs in one place; its first result says where.
        if let (Some(slot), Some(first)) = (log.served.last_mut(), results.first()) {
            *slot = Served { region: first.meta.served_by_region.clone(), primary: first.meta.served_by_primary };
        }
        Ok(results)
    }
}

/// A reply as text (`None` for the host's null); the host's error text is the service's.
fn text_reply(reply: Reply) -> Result<Option<String>, PlatformError> {
    match reply {
        Reply::Value(v) => Ok(Some(v)),
        Reply::Null => Ok(None),
        Reply::Error(e) => Err(PlatformError::Service(e)),
    }
}

impl Platform for EdgePlatform {
    fn concurrent_calls(&self) -> usize {
        CONCURRENT_CALLS
    }
    async fn kv_get(&self, key: &str) -> Result<Option<String>, PlatformError> {
        text_reply(self.mailbox.call(Call::KvGet { binding: KEYS, key, cache_ttl: KV_CACHE_TTL_SECONDS }).await)
    }
    async fn kv_put(&self, key: &str, value: &str) -> Result<(), PlatformError> {
        text_reply(self.mailbox.call(Call::KvPut { binding: KEYS, key, value }).await).map(drop)
    }
    async fn kv_delete(&self, key: &str) -> Result<(), PlatformError> {
        text_reply(self.mailbox.call(Call::KvDelete { binding: KEYS, key }).await).map(drop)
    }
    async fn query(&self, stmt: &Stmt) -> Result<Vec<Row>, DbError> {
        let results = self.d1(std::slice::from_ref(stmt), false).await?;
        Ok(results.into_iter().next().map(|r| r.results).unwrap_or_default())
    }
    async fn batch(&self, stmts: &[Stmt]) -> Result<Vec<Vec<Row>>, DbError> {
        let results = self.d1(stmts, true).await?;
        if results.len() != stmts.len() {
            return Err(DbError { message: format!("D1 answered {} results for {} statements", results.len(), stmts.len()) });
        }
        Ok(results.into_iter().map(|r| r.results).collect())
    }
    async fn rate_limit(&self, key: &str) -> Result<bool, PlatformError> {
        let binding = limiter_for(key);
        if !self.bindings.has(binding) {
            return Err(PlatformError::MissingBinding(binding));
        }
        match text_reply(self.mailbox.call(Call::Limit { binding, key }).await)? {
            Some(v) => Ok(v == "1"),
            None => Err(PlatformError::Malformed("the rate limiter answered nothing".into())),
        }
    }
    async fn notify(&self, message: &serde_json::Value) -> Result<(), PlatformError> {
        if !self.bindings.has(NOTIFICATIONS) {
            return Err(PlatformError::MissingBinding(NOTIFICATIONS));
        }
        let call = Call::QueueSend { binding: NOTIFICATIONS, body: message, delay_seconds: None };
        text_reply(self.mailbox.call(call).await).map(drop)
    }
    async fn post(&self, url: &str, headers: &[(&str, String)], body: &str) -> Result<u16, PlatformError> {
        let call = Call::Post { url, headers, body, timeout_ms: POST_TIMEOUT_MS };
        // No answer from the receiver (timeout, network) is the host's error reply.
        match self.mailbox.call(call).await {
            Reply::Value(status) => status.parse().map_err(|_| PlatformError::Malformed(format!("the status {status:?}"))),
            Reply::Null => Err(PlatformError::Malformed("no status".into())),
            Reply::Error(why) => Err(PlatformError::Unreachable(why)),
        }
    }
    fn log_error(&self, message: &str) {
        self.after.borrow_mut().log.push(message.to_string());
    }
    fn defer(&self, stmt: Stmt) {
        let call = Call::D1Run { binding: DB, stmt: (&stmt).into() }.encode();
        self.after.borrow_mut().later.push(call);
    }
    /// A deployment without the FEED queue has only the Cron sweep: nothing to kick.
    fn kick(&self, delay_seconds: u32) {
        if !self.bindings.has(FEED) {
            return;
        }
        let body = serde_json::json!({"dispatch": true});
        let call = Call::QueueSend { binding: FEED, body: &body, delay_seconds: Some(delay_seconds) }.encode();
        self.after.borrow_mut().later.push(call);
    }
    /// The host's `Date.now()` when it last resumed this request. A deployed Worker's clock only
    /// moves between I/O anyway, so nothing is lost by not asking again.
    fn now_ms(&self) -> f64 {
        self.mailbox.clock.get()
    }
    fn fill_random(&self, buf: &mut [u8]) -> Result<(), PlatformError> {
        super::fill_random(buf)
    }
    fn config(&self) -> &Config {
        &self.config
    }
    async fn static_asset(&self, path: &str) -> Result<Option<String>, PlatformError> {
        text_reply(self.mailbox.call(Call::AssetGet { binding: ASSETS, path }).await)
    }
}
