//! What the core needs from the outside world. `edge::platform` implements it with D1, KV and
//! the Workers runtime; host tests implement it with SQLite and a map. Every call is timed into
//! `Server-Timing`, so tests can count round trips.

#![allow(async_fn_in_trait)] // implemented only inside this crate and its tests; no Send bound wanted on wasm

use crate::error::Failure;
use crate::store::{DbError, Row, Stmt};
use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;

/// A future compiled apart from the one that awaits it, behind a pointer. V8 compiles a wasm
/// function on its first call, and an `async fn` awaited in place is inlined into its caller's
/// state machine: a path most requests never take (a cache miss, a refusal, a password change)
/// would otherwise be compiled, and brought into the caches, by every request that passes by it.
/// The cost: one allocation when the path is taken.
pub fn apart<'a, T>(f: impl Future<Output = T> + 'a) -> Pin<Box<dyn Future<Output = T> + 'a>> {
    Box::pin(f)
}

/// Why a platform call (KV, a rate limiter, a queue, a webhook POST, the assets, the CSPRNG)
/// failed. D1's failures are `DbError`, which the store reads for unique violations. The text is
/// for the operator (the console, a delivery's `last_error`); a client sees at most a 500.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlatformError {
    /// The deployment has no binding by this name (a rate limiter, a queue).
    MissingBinding(&'static str),
    /// The service behind a binding failed the call: its message.
    Service(String),
    /// A remote endpoint gave no answer (timeout, network): why.
    Unreachable(String),
    /// The answer was not what the call promises.
    Malformed(String),
    /// This platform cannot make the call at all.
    Unsupported(&'static str),
    /// The CSPRNG failed: a request never falls back to anything weaker.
    Random(String),
}

impl fmt::Display for PlatformError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingBinding(name) => write!(f, "the {name} binding is missing"),
            Self::Service(message) | Self::Unreachable(message) => f.write_str(message),
            Self::Malformed(what) => write!(f, "malformed answer: {what}"),
            Self::Unsupported(what) => write!(f, "this platform {what}"),
            Self::Random(why) => write!(f, "no random bytes: {why}"),
        }
    }
}

/// A platform failure is never the client's: an internal error, logged once by `app::handle`.
impl From<PlatformError> for Failure {
    fn from(e: PlatformError) -> Self {
        Failure::Internal(e.to_string())
    }
}

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
    /// `FEED_RETENTION_DAYS`: how long an event keeps its user snapshots (`feed::retention`; 0 is
    /// the default).
    pub feed_retention_days: u32,
}

pub trait Platform {
    async fn kv_get(&self, key: &str) -> Result<Option<String>, PlatformError>;
    async fn kv_put(&self, key: &str, value: &str) -> Result<(), PlatformError>;
    async fn kv_delete(&self, key: &str) -> Result<(), PlatformError>;
    async fn query(&self, stmt: &Stmt) -> Result<Vec<Row>, DbError>;
    /// One round trip, one transaction: all statements commit or none do.
    async fn batch(&self, stmts: &[Stmt]) -> Result<Vec<Vec<Row>>, DbError>;
    /// Count one attempt against `key`; `false` once the limit for the period is used up.
    async fn rate_limit(&self, key: &str) -> Result<bool, PlatformError>;
    /// Put a message on the notification queue (email/SMS delivery happens downstream).
    async fn notify(&self, message: &serde_json::Value) -> Result<(), PlatformError>;
    /// Unix time in milliseconds.
    fn now_ms(&self) -> f64;
    /// Cryptographically secure random bytes. An error fails the request: never fall back.
    fn fill_random(&self, buf: &mut [u8]) -> Result<(), PlatformError>;
    fn config(&self) -> &Config;
    /// Record an internal failure for the operator (the Workers console). Never given a secret.
    fn log_error(&self, _message: &str) {}
    /// Run a statement after the response is sent, where nobody waits for it and its failure
    /// harms nothing (a key's `last_used_at`). Platforms without a way to do that skip it.
    fn defer(&self, _stmt: Stmt) {}
    /// Ask for a change-feed dispatch in `delay_seconds` (a Queue message to this Worker). A lost
    /// kick costs nothing but time: the Cron sweep dispatches whatever is left.
    fn kick(&self, _delay_seconds: u32) {}
    /// How many calls may be in flight at once (a dispatch's webhook attempts). The edge shell
    /// hands its host the calls made in one step together; one at a time is the default.
    fn concurrent_calls(&self) -> usize {
        1
    }
    /// POST a webhook delivery: the receiver's status, or why there was none (timeout, network).
    /// Never follows redirects.
    async fn post(&self, _url: &str, _headers: &[(&str, String)], _body: &str) -> Result<u16, PlatformError> {
        Err(PlatformError::Unsupported("sends no webhooks"))
    }
    /// A file the deployment publishes as a static asset (`[assets]` in wrangler.toml), as text;
    /// `None` where there is none (a platform without assets, such as the host tests').
    async fn static_asset(&self, _path: &str) -> Result<Option<String>, PlatformError> {
        Ok(None)
    }
}

/// A request's view of the platform: the same calls, each recorded for `Server-Timing`.
pub struct Ctx<'a, P: Platform> {
    pub platform: &'a P,
    timings: RefCell<Vec<(&'static str, &'static str, f64)>>,
    /// The internal failure this request ended in, if any, for `app::handle` to log once.
    internal: RefCell<Option<String>>,
    /// The new password this request hashed (its SHA-256) and the hash: a write that goes again
    /// after losing a race stores the same hash, not a second PBKDF2 run (hundreds of ms each).
    password_hash: RefCell<Option<([u8; 32], String)>>,
}

impl<'a, P: Platform> Ctx<'a, P> {
    pub fn new(platform: &'a P) -> Self {
        Self { platform, timings: RefCell::new(Vec::new()), internal: RefCell::new(None), password_hash: RefCell::new(None) }
    }

    fn record(&self, name: &'static str, desc: &'static str, started: f64) {
        let dur = (self.platform.now_ms() - started).max(0.0);
        self.timings.borrow_mut().push((name, desc, dur));
    }

    pub async fn kv_get(&self, key: &str) -> Result<Option<String>, PlatformError> {
        let t = self.platform.now_ms();
        let r = self.platform.kv_get(key).await;
        self.record("kv", "get", t);
        r
    }
    pub async fn kv_put(&self, key: &str, value: &str) -> Result<(), PlatformError> {
        let t = self.platform.now_ms();
        let r = self.platform.kv_put(key, value).await;
        self.record("kv", "put", t);
        r
    }
    pub async fn kv_delete(&self, key: &str) -> Result<(), PlatformError> {
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
        self.batch_of(&stmts).await
    }
    /// `batch` of statements the caller keeps (to send them again).
    pub async fn batch_of(&self, stmts: &[Stmt]) -> Result<Vec<Vec<Row>>, DbError> {
        let t = self.platform.now_ms();
        let r = self.platform.batch(stmts).await;
        self.record("d1", "batch", t);
        r
    }
    pub async fn post(&self, url: &str, headers: &[(&str, String)], body: &str) -> Result<u16, PlatformError> {
        let t = self.platform.now_ms();
        let r = self.platform.post(url, headers, body).await;
        self.record("webhook", "post", t);
        r
    }
    pub async fn rate_limit(&self, key: &str) -> Result<bool, PlatformError> {
        let t = self.platform.now_ms();
        let r = self.platform.rate_limit(key).await;
        self.record("ratelimit", "limit", t);
        r
    }
    pub async fn notify(&self, message: &serde_json::Value) -> Result<(), PlatformError> {
        let t = self.platform.now_ms();
        let r = self.platform.notify(message).await;
        self.record("queue", "send", t);
        r
    }
    pub async fn static_asset(&self, path: &str) -> Result<Option<String>, PlatformError> {
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
        self.platform.fill_random(&mut buf)?;
        Ok(buf)
    }
    pub fn config(&self) -> &Config {
        self.platform.config()
    }

    /// The hash this request already made of the password whose SHA-256 is `digest`, or the one
    /// `hash` makes now (remembered for the rest of the request).
    pub fn password_hash<E>(&self, digest: [u8; 32], hash: impl FnOnce() -> Result<String, E>) -> Result<String, E> {
        if let Some((d, h)) = self.password_hash.borrow().as_ref() {
            if *d == digest {
                return Ok(h.clone());
            }
        }
        let h = hash()?;
        *self.password_hash.borrow_mut() = Some((digest, h.clone()));
        Ok(h)
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
            .map(|(name, desc, dur)| format!("{name};desc=\"{desc}\";dur={}", tenths(*dur)))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Milliseconds to one decimal (`1.0`), as `{:.1}` writes them but in integers: core's float
/// formatting is one of the wasm's largest functions, and this runs on every response.
fn tenths(ms: f64) -> String {
    // Durations: never negative; a clock that misbehaves shows as 0.0, not as NaN.
    let t = if ms.is_finite() && ms > 0.0 { (ms * 10.0).round() as u64 } else { 0 };
    format!("{}.{}", t / 10, t % 10)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_written_as_float_formatting_would() {
        for ms in (0..20_000).map(f64::from).chain([0.04, 0.06, 1.04, 2.96, 12.34, 999.99, 7.2549]) {
            assert_eq!(tenths(ms), format!("{ms:.1}"), "{ms}");
        }
        assert_eq!((tenths(-1.0), tenths(f64::NAN), tenths(f64::INFINITY)), ("0.0".into(), "0.0".into(), "0.0".into()));
    }

    #[test]
    fn platform_errors_say_what_failed_for_the_operator() {
        let said = |e: PlatformError| e.to_string();
        assert_eq!(said(PlatformError::MissingBinding("SENDS_PER_ORG")), "the SENDS_PER_ORG binding is missing");
        assert_eq!(said(PlatformError::Unreachable("timed out".into())), "timed out", "a delivery's last_error");
        assert_eq!(said(PlatformError::Unsupported("sends no webhooks")), "this platform sends no webhooks");
        assert_eq!(said(PlatformError::Malformed("no status".into())), "malformed answer: no status");
        let failure: Failure = PlatformError::Service("KV put failed".into()).into();
        assert!(matches!(failure, Failure::Internal(ref m) if m == "KV put failed"), "never the client's doing");
    }
}
