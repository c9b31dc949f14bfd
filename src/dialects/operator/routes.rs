//! The operator API's routes and how each becomes a pipeline call.

use super::{render_error, wire, RULES};
use crate::dialects::paths::{
    self, Path,
    Seg::{Lit, Param},
};
use crate::dialects::respond;
use crate::error::{Failure, HttpError, Refusal};
use crate::http::{json_body, parse_if_match, Request, Response};
use crate::model::{Principal, Target, User};
use crate::pipeline::{self, UpdateCommand};
use crate::platform::{Ctx, Platform};
use serde_json::json;

/// `/admin/v1/...`: orgs, users, API keys, audit events.
pub async fn serve<P: Platform>(cx: &Ctx<'_, P>, req: &Request, rest: &[&str]) -> Response {
    let Some(allowed) = paths::allowed(PATHS, rest) else {
        return render_error(&Failure::NotFound.into());
    };
    if !allowed.split(", ").any(|m| m == req.method) {
        return render_error(&HttpError::MethodNotAllowed.into()).with_header("allow", allowed);
    }
    respond(cx, route(cx, req, rest).await, render_error)
}

/// Every path of this API below `/admin/v1/` and the methods it supports (for 405 and its
/// `Allow`); openapi.json documents each (`paths_are_documented`).
const PATHS: &[Path] = &[
    (&[Lit("orgs")], "GET, POST"),
    (&[Lit("orgs"), Param], "GET"),
    (&[Lit("api-keys")], "GET, POST"),
    (&[Lit("api-keys"), Param], "DELETE"),
    (&[Lit("api-keys"), Param, Lit("rotate")], "POST"),
    (&[Lit("users")], "GET, POST"),
    (&[Lit("users"), Param], "GET, PATCH, DELETE"),
    (&[Lit("users"), Param, Lit("deactivate")], "POST"),
    (&[Lit("users"), Param, Lit("reactivate")], "POST"),
    (&[Lit("users"), Param, Lit("events")], "GET"),
    (&[Lit("events")], "GET"),
    (&[Lit("webhooks")], "GET, POST"),
    (&[Lit("webhooks"), Param], "DELETE"),
    (&[Lit("webhooks"), Param, Lit("deliveries")], "GET"),
    (&[Lit("webhooks"), Param, Lit("replay")], "POST"),
];

/// Operations that re-check an admin key in their own D1 call — a write's guard, or a read's probe
/// in the same batch: a success costs one KV read and one D1 call. Every other request (creating
/// an org, which is the operator's alone, and paths that do not exist) asks D1 about the key
/// first, so a key D1 no longer honours learns 401 before anything else.
fn carries_guard(method: &str, rest: &[&str]) -> bool {
    matches!(
        (method, rest),
        ("GET" | "PATCH" | "DELETE", ["users", _])
            | ("POST", ["users", _, "deactivate" | "reactivate"])
            | ("GET" | "POST", ["users"])
            | ("POST", ["api-keys"])
            | ("POST", ["api-keys", _, "rotate"])
            | ("DELETE", ["api-keys", _])
            | ("POST", ["webhooks"] | ["webhooks", _, "replay"])
            | ("DELETE", ["webhooks", _])
            // Reads that re-check the key in their own batch (pipeline::guard::checked_reads).
            | ("GET", ["orgs"] | ["orgs", _] | ["api-keys"] | ["users", _, "events"] | ["events"] | ["webhooks"])
            | ("GET", ["webhooks", _, "deliveries"])
    )
}

fn id(segment: &str) -> Result<i64, Failure> {
    crate::model::Target::parse_positive_id(segment).ok_or(Failure::NotFound)
}

/// A key just issued, shown once: the key and what it carries (never its digest).
fn issued_response(issued: pipeline::IssuedKey) -> Response {
    let row = &issued.row;
    let scopes = crate::model::Scopes::from_json(row.get("scopes").and_then(|v| v.as_str()));
    let mut body = json!({
        "id": row.get("id"),
        "key": issued.key.key,
        "prefix": row.get("prefix"),
        "name": row.get("name"),
        "role": row.get("role"),
        "user_id": row.get("user_id"),
        "scopes": scopes.list(),
        "expires_at": row.get("expires_at"),
        "created_at": row.get("created_at"),
        "created_by": row.get("created_by"),
    });
    if let Some(from) = row.get("rotated_from").filter(|v| !v.is_null()) {
        body["rotated_from"] = from.clone();
    }
    Response::json(201, &body)
}

fn user_response(status: u16, user: &User) -> Response {
    Response::json(status, &user.canonical_json()).with_header("etag", user.etag())
}

async fn route<P: Platform>(cx: &Ctx<'_, P>, req: &Request, rest: &[&str]) -> Result<Response, Refusal> {
    let who = pipeline::authenticate_operator_or_key(cx, req).await?;
    if !carries_guard(req.method.as_str(), rest) {
        pipeline::ensure_key_holds(cx, &who).await?;
    }
    match (req.method.as_str(), rest) {
        ("POST", ["orgs"]) => {
            let name = wire::parse_new_org(json_body(req)?)?;
            let org = pipeline::create_org(cx, &who, name).await?;
            Ok(Response::json(201, &serde_json::Value::Object(org.into_map())))
        }
        ("GET", ["orgs"]) => {
            let listing = wire::parse_org_listing(&req.query_pairs())?;
            let (orgs, next_after) = pipeline::list_orgs(cx, &who, &listing).await?;
            Ok(Response::json(200, &wire::render_orgs(orgs, next_after)))
        }
        ("GET", ["orgs", org_id]) => {
            let org = pipeline::read_org(cx, &who, id(org_id)?).await?;
            Ok(Response::json(200, &serde_json::Value::Object(org.into_map())))
        }
        ("POST", ["api-keys"]) => {
            let request = wire::parse_new_key(json_body(req)?)?;
            Ok(issued_response(pipeline::create_key(cx, &who, request).await?))
        }
        ("POST", ["api-keys", key_id, "rotate"]) => {
            let overlap = wire::parse_rotation(json_body(req)?)?;
            Ok(issued_response(pipeline::rotate_key(cx, &who, id(key_id)?, overlap).await?))
        }
        ("GET", ["api-keys"]) => {
            let (owner, org) = wire::parse_key_listing(&req.query_pairs(), who.own_org())?;
            let keys = pipeline::list_keys(cx, &who, owner, org).await?;
            Ok(Response::json(200, &json!({ "api_keys": keys })))
        }
        ("DELETE", ["api-keys", key_id]) => {
            pipeline::revoke_key(cx, &who, id(key_id)?).await?;
            Ok(Response::empty(204))
        }
        (_, ["users", ..]) => users(cx, req, &who, rest).await,
        (_, ["events" | "webhooks", ..]) => feed(cx, req, &who, rest).await,
        _ => Err(Failure::NotFound.into()),
    }
}

/// The user lifecycle.
async fn users<P: Platform>(cx: &Ctx<'_, P>, req: &Request, who: &Principal, rest: &[&str]) -> Result<Response, Refusal> {
    let pre = parse_if_match(req.header("if-match"));
    match (req.method.as_str(), rest) {
        ("GET", ["users"]) => {
            let listing = wire::parse_listing(&req.query_pairs(), who.own_org())?;
            let page = pipeline::list_users(cx, who, &listing).await?;
            Ok(Response::json(200, &wire::render_page(&page.users, page.next_after)))
        }
        ("POST", ["users"]) => {
            let new = wire::parse_new_user(json_body(req)?)?;
            let user = pipeline::create_user(cx, &RULES, who, new).await?;
            Ok(user_response(201, &user).with_header("location", format!("/admin/v1/users/{}", user.id)))
        }
        ("GET", ["users", user_id]) => {
            let user = pipeline::read_user(cx, &RULES, who, &Target::Id(id(user_id)?)).await?;
            Ok(user_response(200, &user))
        }
        ("PATCH", ["users", user_id]) => {
            let target = Target::Id(id(user_id)?);
            let patch = wire::parse_patch(json_body(req)?)?;
            let out = pipeline::update_user(cx, &RULES, who, UpdateCommand { target, patch, precondition: pre }).await?;
            Ok(user_response(200, &out.user))
        }
        ("DELETE", ["users", user_id]) => {
            pipeline::delete_user(cx, &RULES, who, &Target::Id(id(user_id)?), pre.as_ref()).await?;
            Ok(Response::empty(204))
        }
        ("POST", ["users", user_id, action @ ("deactivate" | "reactivate")]) => {
            let target = Target::Id(id(user_id)?);
            let user = pipeline::set_deactivated(cx, &RULES, who, &target, pre.as_ref(), *action == "deactivate").await?;
            Ok(user_response(200, &user))
        }
        ("GET", ["users", user_id, "events"]) => {
            let events = pipeline::list_events(cx, who, id(user_id)?).await?;
            Ok(Response::json(200, &json!({ "events": events })))
        }
        _ => Err(Failure::NotFound.into()),
    }
}

/// The change feed: pull, and webhook subscriptions.
async fn feed<P: Platform>(cx: &Ctx<'_, P>, req: &Request, who: &Principal, rest: &[&str]) -> Result<Response, Refusal> {
    use pipeline::feed;
    match (req.method.as_str(), rest) {
        ("GET", ["events"]) => {
            let (org, after, limit) = wire::parse_feed_query(&req.query_pairs(), who.own_org())?;
            let (events, next) = feed::pull(cx, who, org, after, limit).await?;
            Ok(Response::json(200, &json!({ "events": events, "next": next })))
        }
        ("POST", ["webhooks"]) => {
            let (org, url, types) = wire::parse_new_webhook(json_body(req)?, who.own_org(), cx.config().allow_http_webhooks)?;
            let (mut row, secret) = feed::subscribe(cx, who, org, &url, &types).await?;
            row.insert("secret".into(), secret.as_str().into());
            Ok(Response::json(201, &serde_json::Value::Object(row.into_map())))
        }
        ("GET", ["webhooks"]) => {
            let (org, _, _) = wire::parse_feed_query(&req.query_pairs(), who.own_org())?;
            Ok(Response::json(200, &json!({ "webhooks": feed::list_webhooks(cx, who, org).await? })))
        }
        ("DELETE", ["webhooks", hook]) => {
            feed::delete_webhook(cx, who, id(hook)?).await?;
            Ok(Response::empty(204))
        }
        ("GET", ["webhooks", hook, "deliveries"]) => {
            Ok(Response::json(200, &json!({ "deliveries": feed::deliveries(cx, who, id(hook)?).await? })))
        }
        ("POST", ["webhooks", hook, "replay"]) => {
            let from = wire::parse_replay(json_body(req)?)?;
            let done = feed::replay(cx, who, id(hook)?, from).await?;
            Ok(Response::json(202, &json!({ "from_seq": from, "through_seq": done.through_seq, "more": done.more })))
        }
        _ => Err(Failure::NotFound.into()),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn paths_are_documented() {
        crate::dialects::paths::documented::matches("/admin/v1/", super::PATHS, &[]);
    }
}
