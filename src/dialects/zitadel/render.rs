//! Canonical outcomes → response messages (`details`, codes).

use crate::http::Response;
use crate::model::User;
use serde_json::{json, Value};

/// `details` as ZITADEL's `ObjectDetails`: the sequence is the user's version (an int64, so a
/// string in proto3 JSON), the resource owner its org.
pub fn details(u: &User) -> Value {
    json!({
        "sequence": u.version.to_string(),
        "changeDate": u.updated_at,
        "resourceOwner": u.org_id.to_string(),
        "creationDate": u.created_at,
    })
}

fn with_codes(mut body: Value, email_code: Option<&str>, phone_code: Option<&str>) -> Value {
    if let Some(c) = email_code {
        body["emailCode"] = json!(c);
    }
    if let Some(c) = phone_code {
        body["phoneCode"] = json!(c);
    }
    body
}

/// `UpdateHumanUserResponse`.
pub fn render_update_human(u: &User, email_code: Option<&str>, phone_code: Option<&str>) -> Response {
    Response::json(200, &with_codes(json!({ "details": details(u) }), email_code, phone_code)).with_header("etag", u.etag())
}

/// `UpdateUserResponse`.
pub fn render_update_user(u: &User, email_code: Option<&str>, phone_code: Option<&str>) -> Response {
    Response::json(200, &with_codes(json!({ "changeDate": u.updated_at }), email_code, phone_code)).with_header("etag", u.etag())
}

/// `VerifyEmailResponse` / `VerifyPhoneResponse`.
pub fn render_details(u: &User) -> Response {
    Response::json(200, &json!({ "details": details(u) })).with_header("etag", u.etag())
}

/// `PasswordResetResponse`.
pub fn render_password_reset(u: &User, code: Option<&str>) -> Response {
    let mut body = json!({ "details": details(u) });
    if let Some(c) = code {
        body["verificationCode"] = json!(c);
    }
    Response::json(200, &body)
}
