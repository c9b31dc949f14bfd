use crate::platform::{Config, Platform};
use crate::store::{normalize_row, DbError, Row, SqlValue, Stmt};
use wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement, D1Result, Env, KvStore};

/// How long an edge location may serve a cached key lookup. D1 re-checks every write, so a
/// revoked key served from this cache still cannot change anything.
const KV_CACHE_TTL_SECONDS: u64 = 60;

pub struct EdgePlatform {
    db: D1Database,
    kv: KvStore,
    config: Config,
}

impl EdgePlatform {
    pub fn from_env(env: &Env) -> worker::Result<Self> {
        let admin_token = env.secret("ADMIN_TOKEN").ok().map(|s| s.to_string()).filter(|s| !s.is_empty());
        let iterations = env.var("PBKDF2_ITERATIONS").ok().map(|v| v.to_string());
        Ok(Self {
            db: env.d1("DB")?,
            kv: env.kv("API_KEYS")?,
            config: Config {
                admin_token,
                pbkdf2_iterations: crate::password::iterations_from_config(iterations.as_deref()),
            },
        })
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
        // Not `{d1}`: worker's `Display` for `D1Error` casts the cause (an `Error` object) to a
        // string and throws, which hangs the request (a unique violation became a 500).
        worker::Error::D1(d1) => {
            let err: &js_sys::Error = d1.as_ref();
            format!("{} {}", String::from(err.message()), d1.cause())
        }
        other => other.to_string(),
    };
    DbError { message }
}

fn rows(result: &D1Result) -> Result<Vec<Row>, DbError> {
    let rows: Vec<Row> = result.results().map_err(db_error)?;
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
        let result = self.prepare(stmt)?.all().await.map_err(db_error)?;
        rows(&result)
    }
    async fn batch(&self, stmts: &[Stmt]) -> Result<Vec<Vec<Row>>, DbError> {
        let prepared = stmts.iter().map(|s| self.prepare(s)).collect::<Result<Vec<_>, _>>()?;
        let results = self.db.batch(prepared).await.map_err(db_error)?;
        results.iter().map(rows).collect()
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
}
