//! The routes this API serves, on both transports, and how each becomes a pipeline call.

use super::{self as dialect, Message, Transport};
use crate::dialects::respond;
use crate::error::Failure;
use crate::http::{json_body, parse_if_match, Request, Response};
use crate::model::{CodeKind, Principal, Scope, Target};
use crate::pipeline::{self, UpdateCommand};
use crate::platform::{Ctx, Platform};

/// The REST gateway's routes, `/v2/users/...`.
pub async fn rest<P: Platform>(cx: &Ctx<'_, P>, req: &Request, rest: &[&str]) -> Response {
    let (method, op, id) = match rest {
        ["human", id] => ("PUT", Op::UpdateHuman, *id),
        [id, "email", "verify"] => ("POST", Op::Verify(CodeKind::Email), *id),
        [id, "phone", "verify"] => ("POST", Op::Verify(CodeKind::Phone), *id),
        [id, "password_reset"] => ("POST", Op::PasswordReset, *id),
        _ => return dialect::render_error(&Failure::NotFound, Transport::Rest),
    };
    if req.method != method {
        return dialect::render_error(&Failure::MethodNotAllowed, Transport::Rest).with_header("allow", method);
    }
    respond(cx, serve(cx, req, op, Some(id)).await, |f| dialect::render_error(f, Transport::Rest))
}

/// The Connect protocol's routes, `POST /zitadel.user.v2.UserService/<Method>` (JSON codec).
pub async fn connect<P: Platform>(cx: &Ctx<'_, P>, req: &Request, method: &str) -> Response {
    let op = match method {
        "UpdateHumanUser" => Op::UpdateHuman,
        "UpdateUser" => Op::UpdateUser,
        "VerifyEmail" => Op::Verify(CodeKind::Email),
        "VerifyPhone" => Op::Verify(CodeKind::Phone),
        "PasswordReset" => Op::PasswordReset,
        _ => return unimplemented(method),
    };
    if req.method != "POST" {
        return dialect::render_error(&Failure::MethodNotAllowed, Transport::Connect).with_header("allow", "POST");
    }
    respond(cx, serve(cx, req, op, None).await, |f| dialect::render_error(f, Transport::Connect))
}

/// A method (or service) this server doesn't serve: the Connect protocol's `unimplemented`,
/// which it maps to HTTP 404.
pub fn unimplemented(method: &str) -> Response {
    let message = format!("{method} is not implemented");
    Response::json(404, &serde_json::json!({ "code": "unimplemented", "message": message }))
}

#[derive(Clone, Copy)]
enum Op {
    UpdateHuman,
    UpdateUser,
    Verify(CodeKind),
    PasswordReset,
}

/// The user a request names: the path's on REST (a body `userId`, if any, must agree), the
/// body's on Connect. A UUID, or the integer id as a decimal string.
fn target(path_id: Option<&str>, body_id: Option<String>) -> Result<Target, Failure> {
    let raw = match (path_id, body_id.as_deref()) {
        (Some(p), Some(b)) if p != b => return Err(Failure::invalid("userId", "does not match the user in the path")),
        (Some(p), _) => p.to_string(),
        (None, Some(b)) => b.to_string(),
        (None, None) => return Err(Failure::invalid("userId", "is required")),
    };
    Target::parse(&raw, true).ok_or(Failure::NotFound)
}

async fn serve<P: Platform>(cx: &Ctx<'_, P>, req: &Request, op: Op, path_id: Option<&str>) -> Result<Response, Failure> {
    let who = Principal::Key(pipeline::authenticate_key(cx, req, Scope::Zitadel).await?);
    let body = json_body(req)?;
    let rules = &dialect::RULES;
    match op {
        Op::UpdateHuman | Op::UpdateUser => {
            let message = if matches!(op, Op::UpdateHuman) { Message::UpdateHumanUser } else { Message::UpdateUser };
            let (body_id, patch) = dialect::parse_update(body, message)?;
            let target = target(path_id, body_id)?;
            // Not part of ZITADEL itself, but both transports are HTTP: a stale If-Match is
            // failed_precondition on either.
            let precondition = parse_if_match(req.header("if-match"));
            let out = pipeline::update_user(cx, rules, &who, UpdateCommand { target, patch, precondition }).await?;
            let (email, phone) = (out.email_code.as_deref(), out.phone_code.as_deref());
            Ok(match message {
                Message::UpdateHumanUser => dialect::render_update_human(&out.user, email, phone),
                Message::UpdateUser => dialect::render_update_user(&out.user, email, phone),
            })
        }
        Op::Verify(kind) => {
            let (body_id, code) = dialect::parse_verify(body)?;
            let target = target(path_id, body_id)?;
            let user = pipeline::verify_contact(cx, rules, &who, &target, kind, &code).await?;
            Ok(dialect::render_details(&user))
        }
        Op::PasswordReset => {
            let (body_id, verification) = dialect::parse_password_reset(body)?;
            let target = target(path_id, body_id)?;
            let (user, code) = pipeline::request_password_reset(cx, rules, &who, &target, verification).await?;
            Ok(dialect::render_password_reset(&user, code.as_deref()))
        }
    }
}
