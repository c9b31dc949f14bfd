use crate::platform::{Config, Platform};
use crate::store::{normalize_row, DbError, Row, SqlValue, Stmt};
use wasm_bindgen::{JsCast, JsValue};
use worker::{D1Database, D1PreparedStatement, Env, KvStore, Queue, QueueContentType, RateLimiter, RawMessageBuilder};

/// How long an edge location may serve a cached key lookup. D1 re-checks every write, so a
/// revoked key served from this cache still cannot change anything.
const KV_CACHE_TTL_SECONDS: u64 = 60;

pub struct EdgePlatform {
    db: D1Database,
    kv: KvStore,
    /// Optional so a deployment without them still serves everything that doesn't need them.
    limiter: Option<RateLimiter>,
    notifications: Option<Queue>,
    /// The change feed's dispatch queue (this Worker consumes it).
    feed: Option<Queue>,
    /// Where work that runs after the response goes (`waitUntil`).
    background: Option<worker::Context>,
    config: Config,
}



impl EdgePlatform {
    pub fn from_env(env: &Env) -> worker::Result<Self> {
        let admin_token = env.secret("ADMIN_TOKEN").ok().map(|s| s.to_string()).filter(|s| !s.is_empty());
        let iterations = env.var("PBKDF2_ITERATIONS").ok().map(|v| v.to_string());
        Ok(Self {
            db: env.d1("DB")?,
            kv: env.kv("API_KEYS")?,
            limiter: env.rate_limiter("PASSWORD_ATTEMPTS").ok(),
            notifications: env.queue("NOTIFICATIONS").ok(),
            feed: env.queue("FEED").ok(),
            background: None,
            config: Config {
                admin_token,
                pbkdf2_iterations: crate::password::iterations_from_config(iterations.as_deref()),
                code_secret: env.secret("CODE_SECRET").ok().map(|s| s.to_string()).filter(|s| !s.is_empty()),
                allow_http_webhooks: crate::feed::endpoint::allow_http(
                    env.var("ALLOW_HTTP_WEBHOOKS").ok().map(|v| v.to_string()).as_deref(),
                ),
            },
        })
    }

    /// Run deferred work (`last_used_at`, feed kicks) after the response, within this context.
    pub fn with_background(mut self, background: worker::Context) -> Self {
        self.background = Some(background);
        self
    }

    fn prepare(&self, stmt: &Stmt) -> Result<D1PreparedStatement, DbError> {
        let params: Vec<JsValue> = stmt
            .params
            .iter()
            .map(|p| match p {
                SqlValue::Null => JsValue::NULL,
                // i64 would cross as a BigInt, which D1 rejects; doubles are exact to 2^53.
                SqlValue::Int(n) => JsValue::from_f64(*n as f64),
                SqlValue::Text(s) => JsValue::from_str(s),
            })
            .collect();
        self.db.prepare(&stmt.sql).bind(&params).map_err(db_error)
    }
}

fn db_error(e: worker::Error) -> DbError {
    let message = match &e {
        // Not `{d1}`: workers-rs 0.8.7's Display for D1Error throws when the cause is an Error
        // object, which leaves the request hanging. Read the messages directly.
        worker::Error::D1(d1) => {
            let inner: &js_sys::Error = d1.as_ref();
            format!("{} {}", String::from(inner.message()), d1.cause())
        }
        other => other.to_string(),
    };
    DbError { message }
}

/// A rejected D1 promise: its message and its cause's (where SQLite's text usually is).
fn js_db_error(e: JsValue) -> DbError {
    let message = |v: &JsValue| v.dyn_ref::<js_sys::Error>().map(|e| String::from(e.message())).unwrap_or_default();
    let cause = e.dyn_ref::<js_sys::Error>().map(|e| e.cause()).unwrap_or(JsValue::UNDEFINED);
    DbError { message: format!("{} {}", message(&e), message(&cause)) }
}

/// Call `target[method](arg?)` and await the promise it returns.
async fn call(target: &JsValue, method: &str, arg: Option<&JsValue>) -> Result<JsValue, DbError> {
    let f: js_sys::Function =
        js_sys::Reflect::get(target, &JsValue::from_str(method)).and_then(|f| f.dyn_into()).map_err(js_db_error)?;
    let promise = match arg {
        Some(a) => f.call1(target, a),
        None => f.call0(target),
    }
    .map_err(js_db_error)?;
    js_sys::futures::JsFuture::from(js_sys::Promise::from(promise)).await.map_err(js_db_error)
}

/// D1 results cross into wasm as one JSON string each, not field by field: decoding a row
/// through serde-wasm-bindgen costs ~9 boundary crossings per column (see BENCHMARKS.md).
fn rows_of(result: &JsValue) -> Result<Vec<Row>, DbError> {
    let results = js_sys::Reflect::get(result, &JsValue::from_str("results")).map_err(js_db_error)?;
    if results.is_undefined() || results.is_null() {
        return Ok(Vec::new());
    }
    let text: String = js_sys::JSON::stringify(&results).map_err(js_db_error)?.into();
    let rows: Vec<Row> = serde_json::from_str(&text).map_err(|e| DbError { message: e.to_string() })?;
    Ok(rows.into_iter().map(normalize_row).collect())
}

impl Platform for EdgePlatform {
    async fn kv_get(&self, key: &str) -> Result<Option<String>, String> {
        self.kv.get(key).cache_ttl(KV_CACHE_TTL_SECONDS).text().await.map_err(|e| e.to_string())
    }
    async fn kv_put(&self, key: &str, value: &str) -> Result<(), String> {
        self.kv.put(key, value).map_err(|e| e.to_string())?.execute().await.map_err(|e| e.to_string())
    }
    async fn kv_delete(&self, key: &str) -> Result<(), String> {
        self.kv.delete(key).await.map_err(|e| e.to_string())
    }
    async fn query(&self, stmt: &Stmt) -> Result<Vec<Row>, DbError> {
        let prepared = self.prepare(stmt)?;
        let result = call(prepared.inner(), "all", None).await?;
        rows_of(&result)
    }
    async fn batch(&self, stmts: &[Stmt]) -> Result<Vec<Vec<Row>>, DbError> {
        let list = js_sys::Array::new();
        for s in stmts {
            list.push(self.prepare(s)?.inner());
        }
        let results: js_sys::Array = call(self.db.as_ref(), "batch", Some(&list)).await?.dyn_into().map_err(js_db_error)?;
        results.iter().map(|r| rows_of(&r)).collect()
    }
    async fn rate_limit(&self, key: &str) -> Result<bool, String> {
        let limiter = self.limiter.as_ref().ok_or("the PASSWORD_ATTEMPTS rate-limit binding is missing")?;
        limiter.limit(key.to_string()).await.map(|o| o.success).map_err(|e| e.to_string())
    }
    async fn notify(&self, message: &serde_json::Value) -> Result<(), String> {
        let queue = self.notifications.as_ref().ok_or("the NOTIFICATIONS queue binding is missing")?;
        // Not `queue.send(&Value)`: serde-wasm-bindgen turns objects into JS Maps, which the JSON
        // content type serialises as `{}`. Build a plain JS object through JSON.parse instead.
        let body = js_sys::JSON::parse(&message.to_string()).map_err(|_| "message is not JSON".to_string())?;
        let msg = RawMessageBuilder::new(body).build_with_content_type(QueueContentType::Json);
        queue.send_raw(msg).await.map_err(|e| e.to_string())
    }
    fn now_ms(&self) -> f64 {
        js_sys::Date::now()
    }
    fn fill_random(&self, buf: &mut [u8]) -> Result<(), String> {
        getrandom::getrandom(buf).map_err(|e| e.to_string())
    }
    fn config(&self) -> &Config {
        &self.config
    }
    fn log_error(&self, message: &str) {
        worker::console_error!("{message}");
    }
    fn defer(&self, stmt: Stmt) {
        let (Some(bg), Ok(prepared)) = (&self.background, self.prepare(&stmt)) else { return };
        bg.wait_until(async move {
            let _ = call(prepared.inner(), "run", None).await;
        });
    }
    fn kick(&self, delay_seconds: u32) {
        let (Some(bg), Some(queue)) = (&self.background, self.feed.clone()) else { return };
        bg.wait_until(async move {
            let body = js_sys::JSON::parse(r#"{"dispatch":true}"#).unwrap_or(JsValue::NULL);
            let msg = RawMessageBuilder::new(body).delay_seconds(delay_seconds).build_with_content_type(QueueContentType::Json);
            if let Err(e) = queue.send_raw(msg).await {
                // Lost kicks cost time, not events: the Cron sweep dispatches what is left.
                worker::console_warn!("feed kick not sent: {e}");
            }
        });
    }
    async fn post(&self, url: &str, headers: &[(&str, String)], body: &str) -> Result<u16, String> {
        post(url, headers, body).await
    }
}

/// How long a webhook receiver may take before the attempt counts as a timeout.
const POST_TIMEOUT_MS: f64 = 10_000.0;

/// `fetch(url, {method: "POST", headers, body, redirect: "manual", signal: AbortSignal.timeout})`:
/// a redirect is an answer (a non-2xx), never followed, so it cannot lead the request elsewhere.
async fn post(url: &str, headers: &[(&str, String)], body: &str) -> Result<u16, String> {
    let header_map: serde_json::Map<String, serde_json::Value> =
        headers.iter().map(|(k, v)| (k.to_string(), serde_json::Value::from(v.clone()))).collect();
    let init_json = serde_json::json!({"method": "POST", "headers": header_map, "body": body, "redirect": "manual"});
    let init = js_sys::JSON::parse(&init_json.to_string()).map_err(|_| "request init".to_string())?;
    let global = js_sys::global();
    let abort = js_sys::Reflect::get(&global, &JsValue::from_str("AbortSignal")).map_err(|_| "no AbortSignal".to_string())?;
    let signal = call_sync(&abort, "timeout", &JsValue::from_f64(POST_TIMEOUT_MS))?;
    js_sys::Reflect::set(&init, &JsValue::from_str("signal"), &signal).map_err(|_| "signal".to_string())?;
    let fetch: js_sys::Function =
        js_sys::Reflect::get(&global, &JsValue::from_str("fetch")).and_then(|f| f.dyn_into()).map_err(|_| "no fetch".to_string())?;
    let promise = fetch.call2(&global, &JsValue::from_str(url), &init).map_err(|e| format!("{e:?}"))?;
    let resp = js_sys::futures::JsFuture::from(js_sys::Promise::from(promise)).await.map_err(|e| {
        e.dyn_ref::<js_sys::Error>().map(|e| String::from(e.message())).unwrap_or_else(|| "network error".into())
    })?;
    let status = js_sys::Reflect::get(&resp, &JsValue::from_str("status")).ok().and_then(|s| s.as_f64()).unwrap_or(0.0);
    // Nobody reads the body: let the runtime drop the connection.
    if let Ok(b) = js_sys::Reflect::get(&resp, &JsValue::from_str("body")) {
        if !b.is_null() && !b.is_undefined() {
            let _ = call_sync(&b, "cancel", &JsValue::UNDEFINED);
        }
    }
    Ok(status as u16)
}

fn call_sync(target: &JsValue, method: &str, arg: &JsValue) -> Result<JsValue, String> {
    let f: js_sys::Function =
        js_sys::Reflect::get(target, &JsValue::from_str(method)).and_then(|f| f.dyn_into()).map_err(|_| format!("no {method}"))?;
    f.call1(target, arg).map_err(|_| format!("{method} failed"))
}
