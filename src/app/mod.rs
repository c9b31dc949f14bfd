//! Routing and handlers. A handler authenticates, asks its dialect to parse, runs the pipeline
//! and asks the dialect to render; it decides nothing itself.

mod hienergy;
mod konstantly;
mod operator;
mod upsun;
mod zitadel;

use crate::error::Failure;
use crate::http::{json_body, parse_if_match, Request, Response};
use crate::model::{KeyPrincipal, Target, User, UserPatch};
use crate::pipeline::{self, UpdateCommand};
use crate::platform::{Ctx, Platform};
use crate::policy::Rules;

/// Serve one request. Always answers; the `Server-Timing` header lists every KV and D1 call.
pub async fn handle<P: Platform>(platform: &P, req: Request) -> Response {
    let cx = Ctx::new(platform);
    let mut resp = route(&cx, &req).await;
    resp.headers.push(("server-timing".into(), cx.server_timing()));
    resp.headers.push(("x-content-type-options".into(), "nosniff".into()));
    resp.headers.push(("cache-control".into(), "no-store".into()));
    resp
}

async fn route<P: Platform>(cx: &Ctx<'_, P>, req: &Request) -> Response {
    let segments = req.segments();
    match segments.as_slice() {
        ["api", "v1", "users", id] => hienergy::user(cx, req, id).await,
        ["admin", "v1", rest @ ..] => operator::handle(cx, req, rest).await,
        ["users", id] => upsun::user(cx, req, id).await,
        ["openapi", "v1", "users", id] => konstantly::user(cx, req, id).await,
        ["v2", "users", rest @ ..] => zitadel::rest(cx, req, rest).await,
        ["zitadel.user.v2.UserService", method] => zitadel::connect(cx, req, method).await,
        ["openapi.json"] if req.method == "GET" => openapi(cx).await,
        ["openapi.json"] => Response::problem(405, &crate::dialects::problem::body(405, "Method Not Allowed", "Use GET"))
            .with_header("allow", "GET"),
        _ => Response::problem(404, &crate::dialects::problem::body(404, "Not Found", "No such endpoint")),
    }
}

/// The OpenAPI 3.1 document, kept out of the wasm: it is a static asset of the deployment
/// (`build/assets/openapi.json`, copied compacted from `openapi.json` by scripts/build.sh).
async fn openapi<P: Platform>(cx: &Ctx<'_, P>) -> Response {
    let problem = |status, title, detail| Response::problem(status, &crate::dialects::problem::body(status, title, detail));
    match cx.static_asset("/openapi.json").await {
        Ok(Some(doc)) => {
            Response { status: 200, headers: vec![("content-type".into(), "application/json".into())], body: doc.into_bytes() }
        }
        Ok(None) => problem(404, "Not Found", "This deployment publishes no OpenAPI document"),
        Err(_) => problem(500, "Internal Server Error", "The OpenAPI document could not be read"),
    }
}

/// `GET` reads the user, `PATCH` applies the body the dialect parses, `If-Match` honoured: the
/// shape of the REST dialects' user resource (HiEnergy, Upsun).
async fn read_or_patch<P: Platform>(
    cx: &Ctx<'_, P>,
    req: &Request,
    who: &KeyPrincipal,
    target: Target,
    rules: &Rules,
    parse: fn(serde_json::Value) -> Result<UserPatch, Failure>,
) -> Result<User, Failure> {
    if req.method == "GET" {
        return pipeline::read_user(cx, rules, who, &target).await;
    }
    let patch = parse(json_body(req)?)?;
    let precondition = parse_if_match(req.header("if-match"));
    Ok(pipeline::update_user(cx, rules, who, UpdateCommand { target, patch, precondition }).await?.user)
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
        let platform = Unreachable(Config { admin_token: None, pbkdf2_iterations: 1000 });
        let req = Request { method: method.into(), path: path.into(), headers: vec![], body: Body::Bytes(vec![]) };
        pollster::block_on(handle(&platform, req))
    }

    #[test]
    fn every_405_says_what_is_allowed() {
        for (method, path, allow) in [
            ("PUT", "/api/v1/users/1", "GET, PATCH"),
            ("QUERY", "/api/v1/users/1", "GET, PATCH"),
            ("POST", "/openapi.json", "GET"),
            ("TRACE", "/openapi.json", "GET"),
            ("GET", "/admin/v1/orgs", "POST"),
            ("PATCH", "/admin/v1/users", "POST"),
            ("DELETE", "/admin/v1/users/7", "GET"),
            ("POST", "/admin/v1/users/7/events", "GET"),
            ("GET", "/admin/v1/api-keys", "POST"),
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
        assert_eq!(send("GET", "/openapi.json").status, 404, "a platform without static assets has no document");
        assert_eq!(send("GET", "/admin/v1/nope").status, 404);
    }
}
