use crate::dialects::konstantly as dialect;
use crate::error::Failure;
use crate::http::{json_body, parse_if_match, Request, Response};
use crate::model::Target;
use crate::pipeline::{self, UpdateCommand};
use crate::platform::{Ctx, Platform};

/// `PATCH /openapi/v1/users/{userId}`.
pub async fn user<P: Platform>(cx: &Ctx<'_, P>, req: &Request, id: &str) -> Response {
    match serve(cx, req, id).await {
        Ok(resp) => resp,
        Err(f) => dialect::render_error(&f),
    }
}

async fn serve<P: Platform>(cx: &Ctx<'_, P>, req: &Request, id: &str) -> Result<Response, Failure> {
    if req.method != "PATCH" {
        return Err(Failure::MethodNotAllowed);
    }
    let who = pipeline::authenticate_key(cx, pipeline::presented_key(req)).await?;
    let target = Target::parse(id, true).ok_or(Failure::NotFound)?;
    let patch = dialect::parse_patch(json_body(req)?)?;
    let precondition = parse_if_match(req.header("if-match"));
    let user = pipeline::update_user(cx, &dialect::RULES, &who, UpdateCommand { target, patch, precondition }).await?.user;
    Ok(dialect::render_ok(&user))
}
