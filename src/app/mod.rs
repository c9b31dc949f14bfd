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

/// The OpenAPI 3.1 description of every endpoint, served as is.
pub const OPENAPI_JSON: &str = include_str!("../../openapi.json");

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
        ["openapi.json"] if req.method == "GET" => Response {
            status: 200,
            headers: vec![("content-type".into(), "application/json".into())],
            body: OPENAPI_JSON.as_bytes().to_vec(),
        },
        _ => Response::problem(404, &crate::dialects::problem::body(404, "Not Found", "No such endpoint")),
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
