//! The router: a path prefix picks the dialect that owns it. Every response gets the headers
//! every response carries, and an internal failure is logged here, once (never a secret: the
//! message is the store's or the platform's, not the request's).

mod cors;

pub use cors::EXPOSE_HEADERS;

use crate::dialects::{hienergy, konstantly, operator, problem, scim, upsun, zitadel};
use crate::error::Failure;
use crate::http::{Request, Response};
use crate::platform::{apart, Ctx, Platform};

/// Serve one request. Always answers; the `Server-Timing` header lists every KV and D1 call.
pub async fn handle<P: Platform>(platform: &P, req: Request) -> Response {
    let cx = Ctx::new(platform);
    let mut resp = match cors::preflight(&req) {
        Some(answer) => answer,
        None => serve(&cx, req).await,
    };
    resp.headers.push(("server-timing".into(), cx.server_timing()));
    every_response(&mut resp);
    resp
}

/// The headers every response carries, whoever wrote it: the router, or the wasm shell's own 500.
pub fn every_response(resp: &mut Response) {
    resp.headers.push(("x-content-type-options".into(), "nosniff".into()));
    resp.headers.push(("cache-control".into(), "no-store".into()));
    cors::allow(resp);
}

/// A request routed to its dialect; what a commit sets off, and an internal failure's one log line.
async fn serve<P: Platform>(cx: &Ctx<'_, P>, req: Request) -> Response {
    // HEAD is GET without the body (RFC 9110 §9.3.2), wherever GET is served.
    let head = req.method == "HEAD";
    let req = if head { Request { method: "GET".into(), ..req } } else { req };
    let req = match crate::http::decode_unreserved(&req.path) {
        Some(path) => Request { path, ..req },
        None => req,
    };
    let mut resp = route(cx, &req).await;
    conditional(&req, &mut resp);
    if head && resp.status != 304 {
        resp.headers.push(("content-length".into(), resp.body.len().to_string()));
        resp.body.clear();
    }
    if resp.status == 405 {
        allow_head(&mut resp);
    }
    if resp.status < 300 && !matches!(req.method.as_str(), "GET" | "HEAD") {
        // A change committed: its event goes out now rather than at the next sweep.
        cx.platform.kick(0);
    }
    if let Some(message) = cx.take_internal() {
        cx.platform.log_error(&format!("{} {} → {}: {message}", req.method, req.segments().join("/"), resp.status));
    }
    resp
}

/// A read's preconditions, in RFC 9110 §13.2.2's order, once the read knows its `ETag`:
/// - `If-Match` naming none of it (strong comparison) is the dialect's own 412;
/// - else `If-None-Match` naming it is a 304 with the same headers (its `ETag` among them) and no
///   body (§13.1.2, §15.4.5): a client polling a user or a group spends no bandwidth on what it
///   already holds.
///
/// The read itself happened (its key checked, its storage calls made): only the body is saved.
fn conditional(req: &Request, resp: &mut Response) {
    if req.method != "GET" || resp.status != 200 {
        return;
    }
    let Some(etag) = resp.header("etag") else { return };
    if req.header("if-match").is_some_and(|tags| !tags.trim().is_empty() && !crate::http::strong_match(tags, etag)) {
        *resp = precondition_failed(req);
        return;
    }
    if req.header("if-none-match").is_some_and(|tags| crate::http::none_match(tags, etag)) {
        resp.status = 304;
        resp.body.clear();
        resp.headers.retain(|(name, _)| !name.eq_ignore_ascii_case("content-type"));
    }
}

/// A 412 in the format of the dialect that served the read (only reads with an `ETag` get here).
fn precondition_failed(req: &Request) -> Response {
    let failed = || crate::error::Refusal::from(Failure::PreconditionFailed);
    match req.segments().as_slice() {
        ["api", "v1", ..] => hienergy::render_error(&failed()),
        ["users", ..] => upsun::render_error(&failed()),
        ["scim", "v2", ..] => scim::errors::render(&Failure::PreconditionFailed.into()),
        _ => operator::render_error(&failed()),
    }
}

/// Every `Allow` that lists GET lists HEAD beside it: the dialects name the methods they route,
/// and HEAD follows GET here.
fn allow_head(resp: &mut Response) {
    for (name, value) in resp.headers.iter_mut() {
        if name.eq_ignore_ascii_case("allow") && value.split(", ").any(|m| m == "GET") {
            *value = value.replacen("GET", "GET, HEAD", 1);
        }
    }
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

/// The D1 calls one Cron run may make: D1's limit per Worker invocation on Workers Free.
const SWEEP_D1_CALLS: usize = 50;

/// The Cron Trigger's work: the dispatch, then the feed's retention (`pipeline::feed::prune`) and
/// the comparison keys of group names written before there were any.
/// Returns how many delivery attempts were made; a failure is logged (the next sweep goes on).
pub async fn sweep<P: Platform>(platform: &P) -> usize {
    let attempts = dispatch(platform).await;
    // D1 allows an invocation 50 queries on Workers Free: the dispatch made up to three of its
    // own and one per attempt; the rest go to the retention, then to the group keys' two.
    let mut calls = SWEEP_D1_CALLS.saturating_sub(3 + attempts + 2);
    let cx = Ctx::new(platform);
    if let Err(f) = crate::pipeline::feed::prune(&cx, &mut calls).await {
        platform.log_error(&format!("feed retention: {f:?}"));
    }
    if let Err(f) = crate::pipeline::key_legacy_names(&cx).await {
        platform.log_error(&format!("group name keys: {f:?}"));
    }
    attempts
}

async fn route<P: Platform>(cx: &Ctx<'_, P>, req: &Request) -> Response {
    let segments = req.segments();
    // Each dialect's handling is a future of its own (`apart`): awaited in place, every dialect's
    // state machine was one function of about 110 KB that V8 compiled whole for any request and,
    // once hot, recompiled with its optimising compiler (140-310 ms of CPU per isolate for that
    // one function, in node; BENCHMARKS.md).
    match segments.as_slice() {
        ["api", "v1", "users", id] => apart(hienergy::serve(cx, req, id)).await,
        ["admin", "v1", rest @ ..] => apart(operator::serve(cx, req, rest)).await,
        ["scim", "v2", rest @ ..] => apart(scim::serve(cx, req, rest)).await,
        ["users", id] => apart(upsun::serve(cx, req, id)).await,
        ["openapi", "v1", "users", id] => apart(konstantly::serve(cx, req, id)).await,
        ["v2", "users", rest @ ..] => apart(zitadel::rest(cx, req, rest)).await,
        ["zitadel.user.v2.UserService", method] => apart(zitadel::connect(cx, req, method)).await,
        // Anything else under a dialect's prefix is that dialect's own 404 (Connect's
        // `unimplemented` for an unknown service or method), not a generic one.
        ["api", "v1", ..] => hienergy::render_error(&Failure::NotFound.into()),
        ["openapi", "v1", ..] => konstantly::render_error(&Failure::NotFound.into()),
        ["users", ..] => upsun::render_error(&Failure::NotFound.into()),
        [service, ..] if service.starts_with("zitadel.") => zitadel::unimplemented(&segments.join("/")),
        ["openapi.json"] if req.method == "GET" => openapi(cx).await,
        ["openapi.json"] => {
            Response::problem(405, &problem::body(405, "Method Not Allowed", "Use GET")).with_header("allow", "GET")
        }
        _ => Response::problem(404, &problem::body(404, "Not Found", "No such endpoint")),
    }
}

/// The OpenAPI 3.1 document, kept out of the wasm: it is a static asset of the deployment
/// (`build/assets/openapi.json`, copied compacted from `openapi.json` by scripts/build.sh).
async fn openapi<P: Platform>(cx: &Ctx<'_, P>) -> Response {
    let problem = |status, title, detail| Response::problem(status, &problem::body(status, title, detail));
    match cx.static_asset("/openapi.json").await {
        Ok(Some(doc)) => {
            Response { status: 200, headers: vec![("content-type".into(), "application/json".into())], body: doc.into_bytes() }
        }
        Ok(None) => problem(404, "Not Found", "This deployment publishes no OpenAPI document"),
        Err(_) => problem(500, "Internal Server Error", "The OpenAPI document could not be read"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::Body;
    use crate::platform::{Config, PlatformError};
    use crate::store::{DbError, Row, Stmt};

    /// A platform with nothing behind it but its static assets: the requests below must be
    /// answered before any storage call.
    struct Unreachable(Config, Assets);

    /// What the deployment publishes: the OpenAPI document, nothing, or assets it cannot read.
    #[derive(Clone, Copy)]
    enum Assets {
        Doc,
        Nothing,
        Broken,
    }

    const DOC: &str = r#"{"openapi":"3.1.0"}"#;

    impl Platform for Unreachable {
        async fn kv_get(&self, _: &str) -> Result<Option<String>, PlatformError> {
            Err(PlatformError::Service("unreachable".into()))
        }
        async fn kv_put(&self, _: &str, _: &str) -> Result<(), PlatformError> {
            Err(PlatformError::Service("unreachable".into()))
        }
        async fn kv_delete(&self, _: &str) -> Result<(), PlatformError> {
            Err(PlatformError::Service("unreachable".into()))
        }
        async fn query(&self, _: &Stmt) -> Result<Vec<Row>, DbError> {
            Err(DbError { message: "unreachable".into() })
        }
        async fn batch(&self, _: &[Stmt]) -> Result<Vec<Vec<Row>>, DbError> {
            Err(DbError { message: "unreachable".into() })
        }
        async fn rate_limit(&self, _: &str) -> Result<bool, PlatformError> {
            Err(PlatformError::Service("unreachable".into()))
        }
        async fn notify(&self, _: &serde_json::Value) -> Result<(), PlatformError> {
            Err(PlatformError::Service("unreachable".into()))
        }
        fn now_ms(&self) -> f64 {
            0.0
        }
        fn fill_random(&self, _: &mut [u8]) -> Result<(), PlatformError> {
            Err(PlatformError::Service("unreachable".into()))
        }
        fn config(&self) -> &Config {
            &self.0
        }
        async fn static_asset(&self, path: &str) -> Result<Option<String>, PlatformError> {
            match self.1 {
                Assets::Doc => Ok((path == "/openapi.json").then(|| DOC.to_string())),
                Assets::Nothing => Ok(None),
                Assets::Broken => Err(PlatformError::Service("assets answered 503".into())),
            }
        }
    }

    fn send_to(assets: Assets, method: &str, path: &str) -> Response {
        let platform = Unreachable(Config { admin_token: None, pbkdf2_iterations: 1000, ..Default::default() }, assets);
        let req = Request { method: method.into(), path: path.into(), headers: vec![], body: Body::Bytes(vec![]) };
        pollster::block_on(handle(&platform, req))
    }

    fn send(method: &str, path: &str) -> Response {
        send_to(Assets::Doc, method, path)
    }

    #[test]
    fn every_405_says_what_is_allowed() {
        for (method, path, allow) in [
            ("PUT", "/api/v1/users/1", "GET, HEAD, PATCH"),
            ("QUERY", "/api/v1/users/1", "GET, HEAD, PATCH"),
            ("POST", "/openapi.json", "GET, HEAD"),
            ("TRACE", "/openapi.json", "GET, HEAD"),
            ("PUT", "/admin/v1/orgs", "GET, HEAD, POST"),
            ("DELETE", "/admin/v1/orgs/1", "GET, HEAD"),
            ("PATCH", "/admin/v1/users", "GET, HEAD, POST"),
            ("PUT", "/admin/v1/users/7", "GET, HEAD, PATCH, DELETE"),
            ("GET", "/admin/v1/users/7/deactivate", "POST"),
            ("DELETE", "/admin/v1/users/7/reactivate", "POST"),
            ("POST", "/admin/v1/users/7/events", "GET, HEAD"),
            ("PUT", "/admin/v1/api-keys", "GET, HEAD, POST"),
            ("GET", "/admin/v1/api-keys/3/rotate", "POST"),
            ("GET", "/admin/v1/api-keys/3", "DELETE"),
            ("TRACE", "/users/d81c8ee2-44b3-429f-b944-a33ad7437690", "GET, HEAD, PATCH"),
            ("PUT", "/users/not-even-a-uuid", "GET, HEAD, PATCH"),
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

    #[test]
    fn the_openapi_document_is_the_deployments_static_asset() {
        let r = send("GET", "/openapi.json");
        assert_eq!((r.status, r.header("content-type"), r.body.as_slice()), (200, Some("application/json"), DOC.as_bytes()));
        let none = send_to(Assets::Nothing, "GET", "/openapi.json");
        assert_eq!(none.status, 404, "a deployment without the asset has no document");
        let broken = send_to(Assets::Broken, "GET", "/openapi.json");
        assert_eq!(broken.status, 500, "an assets failure is the platform's, not the client's");
        assert!(broken.header("server-timing").unwrap().contains("assets"));
    }

    #[test]
    fn head_is_get_without_the_body() {
        let get = send("GET", "/openapi.json");
        let head = send("HEAD", "/openapi.json");
        assert_eq!((head.status, head.body.len()), (200, 0));
        assert_eq!(head.header("content-length"), Some(get.body.len().to_string().as_str()));
        assert_eq!(head.header("content-type"), get.header("content-type"));
        // Where GET is not served, HEAD is not either.
        let r = send("HEAD", "/openapi/v1/users/2");
        assert_eq!((r.status, r.header("allow"), r.body.len()), (405, Some("PATCH"), 0));
    }

    #[test]
    fn off_the_path_each_dialect_answers_in_its_own_shape() {
        let json = |r: &Response| serde_json::from_slice::<serde_json::Value>(&r.body).unwrap();
        let r = send("GET", "/api/v1/users/2/extra");
        assert_eq!((r.status, json(&r)["error"].as_str()), (404, Some("not_found")), "HiEnergy");
        let r = send("PATCH", "/openapi/v1/users");
        assert_eq!(r.status, 404, "Konstantly");
        assert!(json(&r).get("type").is_none(), "Konstantly's own shape, not problem+json");
        let r = send("GET", "/users/2/more");
        assert_eq!((r.status, r.header("content-type")), (404, Some("application/problem+json")), "Upsun");
        let r = send("POST", "/v2/users/2/nope");
        assert_eq!((r.status, json(&r)["code"].as_i64()), (404, Some(5)), "ZITADEL REST");
        for path in ["/zitadel.user.v2.UserService/DeleteUser", "/zitadel.org.v2.OrgService/AddOrganization"] {
            let r = send("POST", path);
            assert_eq!((r.status, json(&r)["code"].as_str()), (404, Some("unimplemented")), "{path}");
        }
        assert_eq!(json(&send("GET", "/nothing/here"))["status"], 404, "elsewhere: problem+json");
    }
}
