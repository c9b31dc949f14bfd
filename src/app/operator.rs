use crate::dialects::operator as dialect;
use crate::error::Failure;
use crate::http::{json_body, Request, Response};
use crate::model::Target;
use crate::pipeline;
use crate::platform::{Ctx, Platform};
use serde_json::json;

/// `/admin/v1/...`: orgs, users, API keys, audit events.
pub async fn handle<P: Platform>(cx: &Ctx<'_, P>, req: &Request, rest: &[&str]) -> Response {
    match serve(cx, req, rest).await {
        Ok(resp) => resp,
        Err(Failure::MethodNotAllowed) => {
            dialect::render_error(&Failure::MethodNotAllowed).with_header("allow", allowed_method(rest).unwrap_or_default())
        }
        Err(f) => dialect::render_error(&f),
    }
}

/// The one method a path of this API supports (for 405 and its `Allow`), or `None` for no such path.
fn allowed_method(rest: &[&str]) -> Option<&'static str> {
    match rest {
        ["orgs"] | ["users"] | ["api-keys"] => Some("POST"),
        ["users", _] | ["users", _, "events"] => Some("GET"),
        ["api-keys", _] => Some("DELETE"),
        _ => None,
    }
}

fn id(segment: &str) -> Result<i64, Failure> {
    crate::dialects::hienergy::parse_id(segment).ok_or(Failure::NotFound)
}

async fn serve<P: Platform>(cx: &Ctx<'_, P>, req: &Request, rest: &[&str]) -> Result<Response, Failure> {
    if allowed_method(rest).ok_or(Failure::NotFound)? != req.method {
        return Err(Failure::MethodNotAllowed);
    }
    let who = pipeline::authenticate_operator_or_key(cx, req).await?;
    match rest {
        ["orgs"] => {
            let name = dialect::parse_new_org(json_body(req)?)?;
            let org = pipeline::create_org(cx, &who, name).await?;
            Ok(Response::json(201, &serde_json::Value::Object(org)))
        }
        ["users"] => {
            let new = dialect::parse_new_user(json_body(req)?)?;
            let user = pipeline::create_user(cx, &who, new).await?;
            Ok(Response::json(201, &user.canonical_json()).with_header("etag", user.etag()))
        }
        ["users", user_id] => {
            let user = pipeline::read_user_as_operator(cx, &who, &Target::Id(id(user_id)?)).await?;
            Ok(Response::json(200, &user.canonical_json()).with_header("etag", user.etag()))
        }
        ["users", user_id, "events"] => {
            let events = pipeline::list_events(cx, &who, id(user_id)?).await?;
            Ok(Response::json(200, &json!({ "events": events })))
        }
        ["api-keys"] => {
            let user_id = dialect::parse_new_key(json_body(req)?)?;
            let issued = pipeline::create_key(cx, &who, user_id).await?;
            Ok(Response::json(
                201,
                &json!({
                    "id": issued.id,
                    "key": issued.key.key,
                    "prefix": issued.key.prefix,
                    "role": issued.role.as_str(),
                    "user_id": issued.user_id,
                }),
            ))
        }
        ["api-keys", key_id] => {
            pipeline::revoke_key(cx, &who, id(key_id)?).await?;
            Ok(Response::empty(204))
        }
        _ => Err(Failure::NotFound),
    }
}
