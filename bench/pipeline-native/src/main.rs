//! `pipeline-native [ITERATIONS]` — run users-edge's whole request pipeline (`app::handle`: routing,
//! key digest, JSON parse, validation, policy, SQL building, row decoding, rendering, Server-Timing)
//! natively against a platform that answers KV and D1 instantly with canned values shaped like D1's
//! (44-column rows, as store::sql::USER_COLUMNS selects them). What remains is the Rust logic alone,
//! without wasm, the JS boundary or storage. Prints one JSON line: {"patch_us", "get_us", "iterations"}.
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};
use std::time::Instant;
use users_edge::http::{Body, Request};
use users_edge::platform::{Config, Platform, PlatformError};
use users_edge::store::{DbError, Row, Stmt};

const KEY: &str = "ue_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

struct Canned {
    config: Config,
    principal: String,
    row: Row,
}

impl Platform for Canned {
    async fn kv_get(&self, _key: &str) -> Result<Option<String>, PlatformError> {
        Ok(Some(self.principal.clone()))
    }
    async fn kv_put(&self, _key: &str, _value: &str) -> Result<(), PlatformError> {
        Ok(())
    }
    async fn kv_delete(&self, _key: &str) -> Result<(), PlatformError> {
        Ok(())
    }
    async fn query(&self, _stmt: &Stmt) -> Result<Vec<Row>, DbError> {
        Ok(vec![self.row.clone()])
    }
    async fn batch(&self, stmts: &[Stmt]) -> Result<Vec<Vec<Row>>, DbError> {
        let mut out = vec![vec![self.row.clone()]];
        out.extend(stmts[1..].iter().map(|_| Vec::new()));
        Ok(out)
    }
    async fn rate_limit(&self, _key: &str) -> Result<bool, PlatformError> {
        Ok(true)
    }
    async fn notify(&self, _message: &serde_json::Value) -> Result<(), PlatformError> {
        Ok(())
    }
    fn now_ms(&self) -> f64 {
        1_767_225_600_000.0
    }
    fn fill_random(&self, buf: &mut [u8]) -> Result<(), PlatformError> {
        buf.iter_mut().enumerate().for_each(|(i, b)| *b = i as u8);
        Ok(())
    }
    fn config(&self) -> &Config {
        &self.config
    }
}

/// The futures here never pend (the platform answers at once), so polling once finishes them.
fn block_on<F: Future>(f: F) -> F::Output {
    fn noop(_: *const ()) {}
    fn clone(_: *const ()) -> RawWaker {
        RawWaker::new(std::ptr::null(), &VTABLE)
    }
    static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, noop, noop, noop);
    let waker = unsafe { Waker::from_raw(RawWaker::new(std::ptr::null(), &VTABLE)) };
    let mut cx = Context::from_waker(&waker);
    let mut f = pin!(f);
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

fn d1_row() -> Row {
    // As the edge shell hands it over (JSON text from the host, kept as text until read): flags 0/1,
    // the columns of store::users::COLUMNS.
    serde_json::from_str(r#"{
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
    }"#)
    .expect("canned row")
}

fn request(method: &str, body: &str) -> Request {
    let mut headers = vec![
        ("host".to_string(), "127.0.0.1:8787".to_string()),
        ("x-api-key".to_string(), KEY.to_string()),
        ("accept".to_string(), "application/json".to_string()),
    ];
    if !body.is_empty() {
        headers.push(("content-type".to_string(), "application/json".to_string()));
        headers.push(("content-length".to_string(), body.len().to_string()));
    }
    Request {
        method: method.to_string(),
        path: "/api/v1/users/2".to_string(),
        headers,
        body: Body::Bytes(body.as_bytes().to_vec()),
    }
}

fn time(platform: &Canned, method: &str, body: &str, iterations: u32) -> f64 {
    for _ in 0..iterations / 10 {
        let r = block_on(users_edge::app::handle(platform, request(method, body)));
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    }
    let t = Instant::now();
    for _ in 0..iterations {
        std::hint::black_box(block_on(users_edge::app::handle(platform, request(method, body))));
    }
    t.elapsed().as_secs_f64() * 1e6 / f64::from(iterations)
}

fn main() {
    let iterations: u32 = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(20_000);
    let platform = Canned {
        config: Config { admin_token: None, pbkdf2_iterations: 600_000, ..Config::default() },
        principal: r#"{"key_id":2,"user_id":2,"user_uuid":"5a3f0c8e-0000-4000-8000-000000000002","org_id":1,"role":"user"}"#.into(),
        row: d1_row(),
    };
    let patch = time(&platform, "PATCH", r#"{"user":{"based_in":"Paris, FR"}}"#, iterations);
    let get = time(&platform, "GET", "", iterations);
    println!("{{\"patch_us\":{patch:.2},\"get_us\":{get:.2},\"iterations\":{iterations}}}");
}
