use crate::dialects::upsun as dialect;
use crate::error::Failure;
use crate::http::{Request, Response};
use crate::model::Target;
use crate::pipeline;
use crate::platform::{Ctx, Platform};

/// `GET|PATCH /users/{user_id}`.
pub async fn user<P: Platform>(cx: &Ctx<'_, P>, req: &Request, id: &str) -> Response {
    match serve(cx, req, id).await {
        Ok(resp) => resp,
        Err(f) => dialect::render_error(&f),
    }
}

async fn serve<P: Platform>(cx: &Ctx<'_, P>, req: &Request, id: &str) -> Result<Response, Failure> {
    if !matches!(req.method.as_str(), "GET" | "PATCH") {
        return Err(Failure::MethodNotAllowed);
    }
    let target = Target::parse(id, false).ok_or_else(|| Failure::invalid("user_id", "must be a UUID"))?;
    let who = pipeline::authenticate_key(cx, pipeline::presented_key(req)).await?;
    let user = super::read_or_patch(cx, req, &who, target, &dialect::RULES, dialect::parse_patch).await?;
    Ok(dialect::render_ok(&user))
}
