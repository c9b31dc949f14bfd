//! What the core needs from the outside world. `edge::platform` implements it with D1, KV and
//! the Workers runtime; host tests implement it with SQLite and a map. Every call is timed into
//! `Server-Timing`, so tests can count round trips.

#![allow(async_fn_in_trait)] // implemented only inside this crate and its tests; no Send bound wanted on wasm

use crate::store::{DbError, Row, Stmt};
use std::cell::RefCell;

#[derive(Debug, Clone, Default)]
pub struct Config {
    /// The operator token (`ADMIN_TOKEN` secret). `None` disables operator access.
    pub admin_token: Option<String>,
    pub pbkdf2_iterations: u32,
    /// `CODE_SECRET`: verification codes are derived from it and their event's id, so the change
    /// feed can deliver a code again without storing it. `None`: codes are random and webhook
    /// deliveries carry none.
    pub code_secret: Option<String>,
    /// `ALLOW_HTTP_WEBHOOKS = "true"`: webhook URLs may be http:// and private (development only).
    pub allow_http_webhooks: bool,
}

pub trait Platform {
    async fn kv_get(&self, key: &str) -> Result<Option<String>, String>;
    async fn kv_put(&self, key: &str, value: &str) -> Result<(), String>;
    async fn kv_delete(&self, key: &str) -> Result<(), String>;
    async fn query(&self, stmt: &Stmt) -> Result<Vec<Row>, DbError>;
    /// One round trip, one transaction: all statements commit or none do.
    async fn batch(&self, stmts: &[Stmt]) -> Result<Vec<Vec<Row>>, DbError>;
    /// Count one attempt against `key`; `false` once the limit for the period is used up.
    async fn rate_limit(&self, key: &str) -> Result<bool, String>;
    /// Put a message on the notification queue (email/SMS delivery happens downstream).
    async fn notify(&self, message: &serde_json::Value) -> Result<(), String>;
    /// Unix time in milliseconds.
    fn now_ms(&self) -> f64;
    /// Cryptographically secure random bytes. An error fails the request: never fall back.
    fn fill_random(&self, buf: &mut [u8]) -> Result<(), String>;
    fn config(&self) -> &Config;
    /// Record an internal failure for the operator (the Workers console). Never given a secret.
    fn log_error(&self, _message: &str) {}
    /// Run a statement after the response is sent, where nobody waits for it and its failure
    /// harms nothing (a key's `last_used_at`). Platforms without a way to do that skip it.
    fn defer(&self, _stmt: Stmt) {}
    /// Ask for a change-feed dispatch in `delay_seconds` (a Queue message to this Worker). A lost
    /// kick costs nothing but time: the Cron sweep dispatches whatever is left.
    fn kick(&self, _delay_seconds: u32) {}
    /// POST a webhook delivery: the receiver's status, or why there was none (timeout, network).
    /// Never follows redirects.
    async fn post(&self, _url: &str, _headers: &[(&str, String)], _body: &str) -> Result<u16, String> {
        Err("this platform sends no webhooks".into())
    }
    /// A file the deployment publishes as a static asset (`[assets]` in wrangler.toml), as text;
    /// `None` where there is none (a platform without assets, such as the host tests').
    async fn static_asset(&self, _path: &str) -> Result<Option<String>, String> {
        Ok(None)
    }
}

/// A request's view of the platform: the same calls, each recorded for `Server-Timing`.
pub struct Ctx<'a, P: Platform> {
    pub platform: &'a P,
    timings: RefCell<Vec<(&'static str, &'static str, f64)>>,
    /// The internal failure this request ended in, if any, for `app::handle` to log once.
    internal: RefCell<Option<String>>,
}

impl<'a, P: Platform> Ctx<'a, P> {
    pub fn new(platform: &'a P) -> Self {
        Self { platform, timings: RefCell::new(Vec::new()), internal: RefCell::new(None) }
    }

    fn record(&self, name: &'static str, desc: &'static str, started: f64) {
        let dur = (self.platform.now_ms() - started).max(0.0);
        self.timings.borrow_mut().push((name, desc, dur));
    }

    pub async fn kv_get(&self, key: &str) -> Result<Option<String>, String> {
        let t = self.platform.now_ms();
        let r = self.platform.kv_get(key).await;
        self.record("kv", "get", t);
        r
    }
    pub async fn kv_put(&self, key: &str, value: &str) -> Result<(), String> {
        let t = self.platform.now_ms();
        let r = self.platform.kv_put(key, value).await;
        self.record("kv", "put", t);
        r
    }
    pub async fn kv_delete(&self, key: &str) -> Result<(), String> {
        let t = self.platform.now_ms();
        let r = self.platform.kv_delete(key).await;
        self.record("kv", "delete", t);
        r
    }
    pub async fn query(&self, stmt: Stmt) -> Result<Vec<Row>, DbError> {
        let t = self.platform.now_ms();
        let r = self.platform.query(&stmt).await;
        self.record("d1", "query", t);
        r
    }
    pub async fn batch(&self, stmts: Vec<Stmt>) -> Result<Vec<Vec<Row>>, DbError> {
        let t = self.platform.now_ms();
        let r = self.platform.batch(&stmts).await;
        self.record("d1", "batch", t);
        r
    }
    pub async fn post(&self, url: &str, headers: &[(&str, String)], body: &str) -> Result<u16, String> {
        let t = self.platform.now_ms();
        let r = self.platform.post(url, headers, body).await;
        self.record("webhook", "post", t);
        r
    }
    pub async fn rate_limit(&self, key: &str) -> Result<bool, String> {
        let t = self.platform.now_ms();
        let r = self.platform.rate_limit(key).await;
        self.record("ratelimit", "limit", t);
        r
    }
    pub async fn notify(&self, message: &serde_json::Value) -> Result<(), String> {
        let t = self.platform.now_ms();
        let r = self.platform.notify(message).await;
        self.record("queue", "send", t);
        r
    }
    pub async fn static_asset(&self, path: &str) -> Result<Option<String>, String> {
        let t = self.platform.now_ms();
        let r = self.platform.static_asset(path).await;
        self.record("assets", "get", t);
        r
    }
    /// CPU work worth seeing (password hashing); shows 0 in production, where time stands still
    /// during computation.
    pub fn cpu<T>(&self, desc: &'static str, work: impl FnOnce() -> T) -> T {
        let t = self.platform.now_ms();
        let r = work();
        self.record("cpu", desc, t);
        r
    }

    pub fn now_ms(&self) -> i64 {
        self.platform.now_ms() as i64
    }
    pub fn random<const N: usize>(&self) -> Result<[u8; N], crate::error::Failure> {
        let mut buf = [0u8; N];
        self.platform.fill_random(&mut buf).map_err(crate::error::Failure::Internal)?;
        Ok(buf)
    }
    pub fn config(&self) -> &Config {
        self.platform.config()
    }

    pub fn note_internal(&self, message: &str) {
        self.internal.borrow_mut().get_or_insert_with(|| message.to_string());
    }
    pub fn take_internal(&self) -> Option<String> {
        self.internal.borrow_mut().take()
    }

    /// `Server-Timing` value: `kv;desc="get";dur=0.4, d1;desc="batch";dur=2.1`.
    pub fn server_timing(&self) -> String {
        self.timings
            .borrow()
            .iter()
            .map(|(name, desc, dur)| format!("{name};desc=\"{desc}\";dur={dur:.1}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}
