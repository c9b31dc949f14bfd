//! The router: a path prefix picks the dialect that owns it. Every response gets the headers
//! every response carries, and an internal failure is logged here, once (never a secret: the
//! message is the store's or the platform's, not the request's).

use crate::dialects::{hienergy, konstantly, operator, problem, scim, upsun, zitadel};
use crate::http::{Request, Response};
use crate::platform::{Ctx, Platform};

/// The OpenAPI 3.1 description of every endpoint (`openapi.json`, compacted by `build.rs`).
pub const OPENAPI_JSON: &str = include_str!(concat!(env!("OUT_DIR"), "/openapi.min.json"));

/// Serve one request. Always answers; the `Server-Timing` header lists every KV and D1 call.
pub async fn handle<P: Platform>(platform: &P, req: Request) -> Response {
    let cx = Ctx::new(platform);
    let mut resp = route(&cx, &req).await;
    if resp.status < 300 && !matches!(req.method.as_str(), "GET" | "HEAD") {
        // A change committed: its event goes out now rather than at the next sweep.
        platform.kick(0);
    }
    if let Some(message) = cx.take_internal() {
        platform.log_error(&format!("{} {} → {}: {message}", req.method, req.segments().join("/"), resp.status));
    }
    resp.headers.push(("server-timing".into(), cx.server_timing()));
    resp.headers.push(("x-content-type-options".into(), "nosniff".into()));
    resp.headers.push(("cache-control".into(), "no-store".into()));
    resp
}

/// The Queue consumer's and the Cron sweep's work: deliver the change feed. Returns how many
/// delivery attempts were made; a failure is logged (the next sweep tries again).
pub async fn dispatch<P: Platform>(platform: &P) -> usize {
    let cx = Ctx::new(platform);
    match crate::pipeline::feed::dispatch(&cx).await {
        Ok(n) => n,
        Err(f) => {
            platform.log_error(&format!("feed dispatch: {f:?}"));
            0
        }
    }
}

async fn route<P: Platform>(cx: &Ctx<'_, P>, req: &Request) -> Response {
    let segments = req.segments();
    match segments.as_slice() {
        ["api", "v1", "users", id] => hienergy::serve(cx, req, id).await,
        ["admin", "v1", rest @ ..] => operator::serve(cx, req, rest).await,
        ["scim", "v2", rest @ ..] => scim::serve(cx, req, rest).await,
        ["users", id] => upsun::serve(cx, req, id).await,
        ["openapi", "v1", "users", id] => konstantly::serve(cx, req, id).await,
        ["v2", "users", rest @ ..] => zitadel::rest(cx, req, rest).await,
        ["zitadel.user.v2.UserService", method] => zitadel::connect(cx, req, method).await,
        ["openapi.json"] if req.method == "GET" => Response {
            status: 200,
            headers: vec![("content-type".into(), "application/json".into())],
            body: OPENAPI_JSON.as_bytes().to_vec(),
        },
        ["openapi.json"] => {
            Response::problem(405, &problem::body(405, "Method Not Allowed", "Use GET")).with_header("allow", "GET")
        }
        _ => Response::problem(404, &problem::body(404, "Not Found", "No such endpoint")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::Body;
    use crate::platform::Config;
    use crate::store::{DbError, Row, Stmt};

    /// A platform with nothing behind it: the requests below must be answered before any call.
    struct Unreachable(Config);

    impl Platform for Unreachable {
        async fn kv_get(&self, _: &str) -> Result<Option<String>, String> {
            Err("unreachable".into())
        }
        async fn kv_put(&self, _: &str, _: &str) -> Result<(), String> {
            Err("unreachable".into())
        }
        async fn kv_delete(&self, _: &str) -> Result<(), String> {
            Err("unreachable".into())
        }
        async fn query(&self, _: &Stmt) -> Result<Vec<Row>, DbError> {
            Err(DbError { message: "unreachable".into() })
        }
        async fn batch(&self, _: &[Stmt]) -> Result<Vec<Vec<Row>>, DbError> {
            Err(DbError { message: "unreachable".into() })
        }
        async fn rate_limit(&self, _: &str) -> Result<bool, String> {
            Err("unreachable".into())
        }
        async fn notify(&self, _: &serde_json::Value) -> Result<(), String> {
            Err("unreachable".into())
        }
        fn now_ms(&self) -> f64 {
            0.0
        }
        fn fill_random(&self, _: &mut [u8]) -> Result<(), String> {
            Err("unreachable".into())
        }
        fn config(&self) -> &Config {
            &self.0
        }
    }

    fn send(method: &str, path: &str) -> Response {
        let platform = Unreachable(Config { admin_token: None, pbkdf2_iterations: 1000, ..Default::default() });
        let req = Request { method: method.into(), path: path.into(), headers: vec![], body: Body::Bytes(vec![]) };
        pollster::block_on(handle(&platform, req))
    }

    #[test]
    fn the_served_document_is_openapi_json_compacted() {
        let served: serde_json::Value = serde_json::from_str(OPENAPI_JSON).unwrap();
        let source: serde_json::Value = serde_json::from_str(include_str!("../../openapi.json")).unwrap();
        assert_eq!(served, source);
        assert!(OPENAPI_JSON.len() < include_str!("../../openapi.json").len());
    }

    #[test]
    fn every_405_says_what_is_allowed() {
        for (method, path, allow) in [
            ("PUT", "/api/v1/users/1", "GET, PATCH"),
            ("QUERY", "/api/v1/users/1", "GET, PATCH"),
            ("POST", "/openapi.json", "GET"),
            ("TRACE", "/openapi.json", "GET"),
            ("GET", "/admin/v1/orgs", "POST"),
            ("PATCH", "/admin/v1/users", "GET, POST"),
            ("PUT", "/admin/v1/users/7", "GET, PATCH, DELETE"),
            ("GET", "/admin/v1/users/7/deactivate", "POST"),
            ("DELETE", "/admin/v1/users/7/reactivate", "POST"),
            ("POST", "/admin/v1/users/7/events", "GET"),
            ("PUT", "/admin/v1/api-keys", "GET, POST"),
            ("GET", "/admin/v1/api-keys/3/rotate", "POST"),
            ("GET", "/admin/v1/api-keys/3", "DELETE"),
            ("TRACE", "/users/d81c8ee2-44b3-429f-b944-a33ad7437690", "GET, PATCH"),
            ("PUT", "/users/not-even-a-uuid", "GET, PATCH"),
            ("GET", "/openapi/v1/users/2", "PATCH"),
            ("GET", "/v2/users/human/2", "PUT"),
            ("PUT", "/v2/users/2/email/verify", "POST"),
            ("GET", "/v2/users/2/phone/verify", "POST"),
            ("DELETE", "/v2/users/2/password_reset", "POST"),
            ("GET", "/zitadel.user.v2.UserService/UpdateHumanUser", "POST"),
        ] {
            let resp = send(method, path);
            assert_eq!(resp.status, 405, "{method} {path}");
            assert_eq!(resp.header("allow"), Some(allow), "{method} {path}");
        }
        assert_eq!(send("GET", "/openapi.json").status, 200);
        assert_eq!(send("GET", "/admin/v1/nope").status, 404);
    }
}
