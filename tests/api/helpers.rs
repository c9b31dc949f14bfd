//! Host-side platform: the same SQL the worker sends to D1, run on SQLite (rusqlite, bundled),
//! and a map for KV. Lets the whole service, HTTP in to HTTP out, run under `cargo test`.

use rusqlite::{types::ValueRef, Connection};
use serde_json::{json, Map, Value};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use users_edge::http::{Body, Request, Response};
use users_edge::platform::{Config, Platform, PlatformError};
use users_edge::store::{DbError, Row, SqlValue, Stmt};

pub const OPERATOR: &str = "host-test-operator-token";

/// Every migration in `migrations/`, in order, as `wrangler d1 migrations apply` runs them.
pub fn migrations() -> Vec<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "sql"))
        .collect();
    files.sort();
    files.iter().map(|f| std::fs::read_to_string(f).unwrap()).collect()
}

/// One webhook delivery as the receiver saw it: (url, headers, body).
pub type Post = (String, Vec<(String, String)>, String);

pub struct HostPlatform {
    pub db: RefCell<Connection>,
    pub kv: RefCell<HashMap<String, String>>,
    pub config: Config,
    clock: Cell<f64>,
    seed: Cell<u64>,
    pub attempts: RefCell<HashMap<String, u32>>,
    pub notifications: RefCell<Vec<Value>>,
    /// Webhook deliveries the service POSTed: (url, headers, body).
    pub posts: RefCell<Vec<Post>>,
    /// What the receiver answers next (front first); 200 once empty. `None` plays a timeout.
    pub receiver: RefCell<std::collections::VecDeque<Option<u16>>>,
    /// Dispatches asked for (Queue messages the worker would send itself).
    pub kicks: Cell<usize>,
    /// What the service logged for the operator (`log_error`: the Workers console).
    pub logs: RefCell<Vec<String>>,
    /// Another writer's SQL around the next D1 batches, one pair per batch: run just before it
    /// commits and just after, as a concurrent request would (the race a write loses for a moment).
    pub interleave: RefCell<std::collections::VecDeque<(String, String)>>,
    /// D1 calls made so far (queries and batches): D1 counts them per Worker invocation.
    pub d1_calls: Cell<usize>,
}

/// SCIM's URNs as a client writes them (spelt out here, not taken from the code under test).
pub const USER_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// Attempts allowed per key before the host rate limiter refuses (the worker's binding: 5/min).
pub const ATTEMPT_LIMIT: u32 = 5;

impl HostPlatform {
    /// One D1 batch: one transaction, all or nothing.
    fn batch_now(&self, stmts: &[Stmt]) -> Result<Vec<Vec<Row>>, DbError> {
        let mut conn = self.db.borrow_mut();
        let tx = conn.transaction().map_err(|e| DbError { message: e.to_string() })?;
        let mut out = Vec::new();
        for s in stmts {
            out.push(Self::run(&tx, s)?); // dropping `tx` on error rolls back
        }
        tx.commit().map_err(|e| DbError { message: e.to_string() })?;
        Ok(out)
    }

    pub fn new() -> Self {
        let conn = Connection::open_in_memory().unwrap();
        // D1's own limits, so the host refuses what D1 would: the ones workerd's SQLite sets
        // (`SqliteDatabase::setupSecurity` in src/workerd/util/sqlite.c++), with a value's size at
        // the 2,000,000 bytes of Cloudflare's D1 limits page (workerd itself allows 4 MiB), and
        // foreign keys enforced, as D1 enforces them.
        use rusqlite::limits::Limit;
        for (limit, value) in [
            (Limit::SQLITE_LIMIT_LENGTH, 2_000_000),
            (Limit::SQLITE_LIMIT_SQL_LENGTH, 100_000),
            (Limit::SQLITE_LIMIT_COLUMN, 100),
            (Limit::SQLITE_LIMIT_EXPR_DEPTH, 100),
            (Limit::SQLITE_LIMIT_COMPOUND_SELECT, 5),
            (Limit::SQLITE_LIMIT_FUNCTION_ARG, 127),
            (Limit::SQLITE_LIMIT_ATTACHED, 0),
            (Limit::SQLITE_LIMIT_LIKE_PATTERN_LENGTH, 50),
            (Limit::SQLITE_LIMIT_VARIABLE_NUMBER, 100),
            (Limit::SQLITE_LIMIT_TRIGGER_DEPTH, 10),
        ] {
            conn.set_limit(limit, value);
        }
        conn.pragma_update(None, "foreign_keys", true).unwrap();
        for migration in migrations() {
            conn.execute_batch(&migration).unwrap();
        }
        Self {
            db: RefCell::new(conn),
            kv: RefCell::new(HashMap::new()),
            config: Config {
                admin_token: Some(OPERATOR.into()),
                pbkdf2_iterations: 1_000,
                code_secret: Some("host-test-code-secret".into()),
                allow_http_webhooks: true,
                feed_retention_days: 30,
            },
            clock: Cell::new(1_742_918_434_438.0),
            seed: Cell::new(0x9E37_79B9_7F4A_7C15),
            attempts: RefCell::new(HashMap::new()),
            notifications: RefCell::new(Vec::new()),
            posts: RefCell::new(Vec::new()),
            receiver: RefCell::new(Default::default()),
            kicks: Cell::new(0),
            logs: RefCell::new(Vec::new()),
            interleave: RefCell::new(std::collections::VecDeque::new()),
            d1_calls: Cell::new(0),
        }
    }

    fn run(conn: &Connection, stmt: &Stmt) -> Result<Vec<Row>, DbError> {
        let err = |e: rusqlite::Error| DbError { message: e.to_string() };
        let mut prepared = conn.prepare(&stmt.sql).map_err(err)?;
        let params: Vec<rusqlite::types::Value> = stmt
            .params
            .iter()
            .map(|p| match p {
                SqlValue::Null => rusqlite::types::Value::Null,
                SqlValue::Int(n) => rusqlite::types::Value::Integer(*n),
                SqlValue::Text(s) => rusqlite::types::Value::Text(s.clone()),
            })
            .collect();
        let names: Vec<String> = prepared.column_names().iter().map(|s| s.to_string()).collect();
        let mut rows = prepared.query(rusqlite::params_from_iter(params)).map_err(err)?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(err)? {
            let mut map = Map::new();
            for (i, name) in names.iter().enumerate() {
                let v = match row.get_ref(i).map_err(err)? {
                    ValueRef::Null => Value::Null,
                    ValueRef::Integer(n) => json!(n),
                    ValueRef::Real(f) => json!(f),
                    ValueRef::Text(t) => Value::String(String::from_utf8_lossy(t).into_owned()),
                    ValueRef::Blob(_) => Value::Null,
                };
                map.insert(name.clone(), v);
            }
            // As text, the way D1's answer reaches the wasm: rows decode from it as in production.
            out.push(serde_json::from_str(&Value::Object(map).to_string()).expect("a row is an object"));
        }
        Ok(out)
    }

    /// Move the clock on (expiry, rotation overlaps).
    pub fn advance(&self, ms: f64) {
        self.clock.set(self.clock.get() + ms);
    }

    /// Run SQL directly, for assertions on stored state.
    pub fn sql(&self, sql: &str) -> Vec<Row> {
        Self::run(&self.db.borrow(), &Stmt::new(sql, vec![])).unwrap()
    }

    /// How SQLite would run `stmt`: its `EXPLAIN QUERY PLAN` lines.
    pub fn plan(&self, stmt: &Stmt) -> Vec<String> {
        let explain = Stmt::new(format!("EXPLAIN QUERY PLAN {}", stmt.sql), stmt.params.clone());
        Self::run(&self.db.borrow(), &explain).unwrap().iter().filter_map(|r| r["detail"].as_str().map(str::to_string)).collect()
    }
}

impl Platform for HostPlatform {
    fn log_error(&self, message: &str) {
        self.logs.borrow_mut().push(message.to_string());
    }
    async fn kv_get(&self, key: &str) -> Result<Option<String>, PlatformError> {
        Ok(self.kv.borrow().get(key).cloned())
    }
    async fn kv_put(&self, key: &str, value: &str) -> Result<(), PlatformError> {
        self.kv.borrow_mut().insert(key.into(), value.into());
        Ok(())
    }
    async fn kv_delete(&self, key: &str) -> Result<(), PlatformError> {
        self.kv.borrow_mut().remove(key);
        Ok(())
    }
    async fn query(&self, stmt: &Stmt) -> Result<Vec<Row>, DbError> {
        self.d1_calls.set(self.d1_calls.get() + 1);
        Self::run(&self.db.borrow(), stmt)
    }
    async fn batch(&self, stmts: &[Stmt]) -> Result<Vec<Vec<Row>>, DbError> {
        self.d1_calls.set(self.d1_calls.get() + 1);
        let around = self.interleave.borrow_mut().pop_front();
        if let Some((before, _)) = &around {
            self.db.borrow().execute_batch(before).expect("the interleaved writer's SQL runs");
        }
        let out = self.batch_now(stmts);
        if let Some((_, after)) = &around {
            self.db.borrow().execute_batch(after).expect("the interleaved writer's SQL runs");
        }
        out
    }
    async fn rate_limit(&self, key: &str) -> Result<bool, PlatformError> {
        let mut attempts = self.attempts.borrow_mut();
        let n = attempts.entry(key.to_string()).or_insert(0);
        *n += 1;
        Ok(*n <= ATTEMPT_LIMIT)
    }
    async fn notify(&self, message: &Value) -> Result<(), PlatformError> {
        self.notifications.borrow_mut().push(message.clone());
        Ok(())
    }
    fn now_ms(&self) -> f64 {
        let t = self.clock.get() + 1.0;
        self.clock.set(t);
        t
    }
    fn fill_random(&self, buf: &mut [u8]) -> Result<(), PlatformError> {
        // Deterministic xorshift: reproducible tests. Production uses crypto.getRandomValues.
        for b in buf.iter_mut() {
            let mut x = self.seed.get();
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            self.seed.set(x);
            *b = (x >> 24) as u8;
        }
        Ok(())
    }
    fn config(&self) -> &Config {
        &self.config
    }
    /// The host runs a dispatch's attempts side by side, as a shell that can would.
    fn concurrent_calls(&self) -> usize {
        6
    }
    fn kick(&self, _delay_seconds: u32) {
        self.kicks.set(self.kicks.get() + 1);
    }
    async fn post(&self, url: &str, headers: &[(&str, String)], body: &str) -> Result<u16, PlatformError> {
        let headers = headers.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
        self.posts.borrow_mut().push((url.to_string(), headers, body.to_string()));
        match self.receiver.borrow_mut().pop_front() {
            Some(Some(status)) => Ok(status),
            Some(None) => Err(PlatformError::Unreachable("timed out".into())),
            None => Ok(200),
        }
    }
    fn defer(&self, stmt: Stmt) {
        // After the response, uncounted: no request waits for it.
        Self::run(&self.db.borrow(), &stmt).unwrap();
    }
}

/// A parsed response.
pub struct Reply {
    pub status: u16,
    pub body: Value,
    pub raw: Response,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.raw.header(name)
    }
    pub fn timing_names(&self) -> Vec<String> {
        self.header("server-timing")
            .unwrap_or("")
            .split(',')
            .filter_map(|m| m.trim().split(';').next().map(str::to_string))
            .filter(|s| !s.is_empty())
            .collect()
    }
}

pub struct Service {
    pub platform: HostPlatform,
}

impl Service {
    pub fn new() -> Self {
        Self { platform: HostPlatform::new() }
    }

    pub fn call(&self, method: &str, path: &str, headers: &[(&str, &str)], body: Option<Value>) -> Reply {
        let mut hs: Vec<(String, String)> = headers.iter().map(|(k, v)| (k.to_ascii_lowercase(), v.to_string())).collect();
        let bytes = match body {
            Some(v) => {
                if !hs.iter().any(|(k, _)| k == "content-type") {
                    hs.push(("content-type".into(), "application/json".into()));
                }
                serde_json::to_vec(&v).unwrap()
            }
            None => vec![],
        };
        let req = Request { method: method.into(), path: path.into(), headers: hs, body: Body::Bytes(bytes) };
        let raw = pollster::block_on(users_edge::app::handle(&self.platform, req));
        let body = serde_json::from_slice(&raw.body).unwrap_or(Value::Null);
        Reply { status: raw.status, body, raw }
    }

    pub fn operator(&self, method: &str, path: &str, body: Option<Value>) -> Reply {
        let auth = format!("Bearer {OPERATOR}");
        self.call(method, &format!("/admin/v1{path}"), &[("authorization", &auth)], body)
    }

    pub fn org(&self, name: &str) -> i64 {
        let r = self.operator("POST", "/orgs", Some(json!({ "name": name })));
        assert_eq!(r.status, 201, "{}", r.body);
        r.body["id"].as_i64().unwrap()
    }

    /// Create a user (extra fields merged in) and return (user json, its API key).
    pub fn user(&self, org: i64, email: &str, extra: Value) -> (Value, String) {
        let mut body = json!({ "org_id": org, "email": email });
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            b.extend(e.clone());
        }
        let r = self.operator("POST", "/users", Some(body));
        assert_eq!(r.status, 201, "{}", r.body);
        let k = self.operator("POST", "/api-keys", Some(json!({ "user_id": r.body["id"] })));
        assert_eq!(k.status, 201, "{}", k.body);
        (r.body, k.body["key"].as_str().unwrap().to_string())
    }

    pub fn stored(&self, id: i64) -> Row {
        self.platform.sql(&format!("SELECT * FROM users WHERE id = {id}")).pop().unwrap()
    }

    pub fn event_count(&self) -> i64 {
        self.platform.sql("SELECT COUNT(*) AS n FROM user_events")[0]["n"].as_i64().unwrap()
    }
}

/// The one cast every module plays with, on a fresh service: org A with an admin, the user the
/// tests act on (username, password and names set, so every dialect has something to change and
/// to prove) and another user (username "taken", for conflicts); org B with its own admin, for
/// cross-tenant cases. Each module adds its dialect's calls in its own `impl Cast`.
pub struct Cast {
    pub svc: Service,
    pub org: i64,
    pub other_org: i64,
    pub admin: Value,
    pub admin_key: String,
    pub user: Value,
    pub user_key: String,
    pub other_key: String,
    pub foreign_admin_key: String,
}

pub fn cast() -> Cast {
    let svc = Service::new();
    let org = svc.org("A");
    let other_org = svc.org("B");
    let (admin, admin_key) = svc.user(org, "admin@a.test", json!({"admin": true}));
    let (user, user_key) = svc.user(
        org,
        "minnie@a.test",
        json!({"username": "minnie", "password": "Old-Passw0rd!", "given_name": "M", "family_name": "M"}),
    );
    let (_, other_key) = svc.user(org, "other@a.test", json!({"username": "taken"}));
    let (_, foreign_admin_key) = svc.user(other_org, "admin@b.test", json!({"admin": true}));
    Cast { svc, org, other_org, admin, admin_key, user, user_key, other_key, foreign_admin_key }
}

/// Who sends a request in a permission matrix: the cast's user itself, another user of its org,
/// its org's admin, or the other org's admin.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Caller {
    SelfUser,
    OtherUserSameOrg,
    Admin,
    AdminOfOtherOrg,
}

impl Caller {
    pub const ALL: [Caller; 4] = [Caller::SelfUser, Caller::OtherUserSameOrg, Caller::Admin, Caller::AdminOfOtherOrg];
}

impl Cast {
    /// The API key `caller` sends.
    pub fn key(&self, caller: Caller) -> &str {
        match caller {
            Caller::SelfUser => &self.user_key,
            Caller::OtherUserSameOrg => &self.other_key,
            Caller::Admin => &self.admin_key,
            Caller::AdminOfOtherOrg => &self.foreign_admin_key,
        }
    }
    /// The user's integer id.
    pub fn id(&self) -> i64 {
        self.user["id"].as_i64().unwrap()
    }
    /// The user's UUID.
    pub fn uuid(&self) -> &str {
        self.user["uuid"].as_str().unwrap()
    }
    /// The user's row as stored.
    pub fn stored(&self) -> Row {
        self.svc.stored(self.id())
    }
}
