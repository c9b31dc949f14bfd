//! What the core needs from the outside world. `edge::platform` implements it with D1, KV and
//! the Workers runtime; host tests implement it with SQLite and a map. Every call is timed into
//! `Server-Timing`, so tests can count round trips.

#![allow(async_fn_in_trait)] // implemented only inside this crate and its tests; no Send bound wanted on wasm

use crate::store::{DbError, Row, Stmt};
use std::cell::RefCell;

#[derive(Debug, Clone)]
pub struct Config {
    /// The operator token (`ADMIN_TOKEN` secret). `None` disables operator access.
    pub admin_token: Option<String>,
    pub pbkdf2_iterations: u32,
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
}

impl<'a, P: Platform> Ctx<'a, P> {
    pub fn new(platform: &'a P) -> Self {
        Self { platform, timings: RefCell::new(Vec::new()) }
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
