//! The operator API (`/admin/v1`): canonical JSON in snake_case, errors as RFC 9457
//! `application/problem+json`.

use super::{NullMeans, Reader};
use crate::error::{FieldError, Failure};
use crate::http::Response;
use crate::pipeline::NewUser;
use crate::policy::Denial;
use crate::values::{Email, ShortText, Username};
use serde_json::{json, Value};

/// The value, if every field parsed and nothing unknown was sent.
fn finish<T>(r: Reader, value: Option<T>) -> Result<T, Failure> {
    let errors = r.finish();
    match value {
        Some(v) if errors.is_empty() => Ok(v),
        _ => Err(Failure::Invalid(errors)),
    }
}

fn object(body: Value) -> Result<Reader, Failure> {
    Reader::object(body, "body", "", NullMeans::Clear).map_err(|e| Failure::Invalid(vec![e]))
}

/// `{name}` → the new org's name (1–255 characters).
pub fn parse_new_org(body: Value) -> Result<ShortText, Failure> {
    let mut r = object(body)?;
    let name = r.required::<ShortText>("name");
    if name.as_ref().is_some_and(|n| n.as_str().trim().is_empty()) {
        r.error("name", "must not be blank");
    }
    finish(r, name)
}

/// `{org_id, email, username?, name?, given_name?, family_name?, admin?, password?}`.
pub fn parse_new_user(body: Value) -> Result<NewUser, Failure> {
    let mut r = object(body)?;
    let org_id = r.required::<crate::values::ExternalId>("org_id");
    let email = r.required::<Email>("email");
    let username = r.optional::<Username>("username");
    let name = r.optional::<ShortText>("name");
    let given_name = r.optional::<ShortText>("given_name");
    let family_name = r.optional::<ShortText>("family_name");
    let admin = r.optional::<bool>("admin").unwrap_or(false);
    let password = r.with("password", |v| v.as_str().ok_or("must be a string".to_string()).and_then(crate::password::parse_new));
    let new = org_id.zip(email).map(|(org_id, email)| NewUser {
        org_id: org_id.get(),
        email,
        username,
        name,
        given_name,
        family_name,
        admin,
        password,
    });
    finish(r, new)
}

/// `{user_id}`.
pub fn parse_new_key(body: Value) -> Result<i64, Failure> {
    let mut r = object(body)?;
    let id = r.required::<crate::values::ExternalId>("user_id").map(|id| id.get());
    finish(r, id)
}

fn problem(status: u16, title: &str, detail: &str) -> Value {
    json!({ "type": "about:blank", "title": title, "status": status, "detail": detail })
}

fn invalid(errors: &[FieldError]) -> Value {
    let mut p = problem(422, "Unprocessable Content", "One or more fields are invalid");
    p["errors"] = errors.iter().map(|e| json!({"field": e.field, "message": e.message})).collect();
    p
}

pub fn render_error(f: &Failure) -> Response {
    let (status, body) = match f {
        Failure::Unauthenticated => (401, problem(401, "Unauthorized", "Send the operator token or an admin API key as a Bearer token")),
        Failure::RoleNotHeld => (403, problem(403, "Forbidden", "This API key's admin role is no longer held")),
        Failure::Forbidden(Denial::AdminKeyRequired) => (403, problem(403, "Forbidden", "This needs the operator token or an admin API key")),
        Failure::Forbidden(_) => (403, problem(403, "Forbidden", "Not allowed")),
        Failure::NotFound => (404, problem(404, "Not Found", "No such resource")),
        Failure::Invalid(errors) => (422, invalid(errors)),
        Failure::Conflict(field) => {
            let mut p = problem(409, "Conflict", &format!("That {} is already taken in this org", field.name()));
            p["errors"] = json!([{"field": field.name(), "message": "is already taken"}]);
            (409, p)
        }
        Failure::PreconditionFailed => (412, problem(412, "Precondition Failed", "The resource has changed")),
        Failure::PayloadTooLarge => (413, problem(413, "Content Too Large", "The request body is larger than 64 KiB")),
        Failure::UnsupportedMediaType => (415, problem(415, "Unsupported Media Type", "The request body must be application/json")),
        Failure::MalformedBody(msg) => (400, problem(400, "Bad Request", msg)),
        Failure::MethodNotAllowed => (405, problem(405, "Method Not Allowed", "That method is not supported here")),
        Failure::Internal(_) => (500, problem(500, "Internal Server Error", "Something went wrong on our side")),
    };
    Response::problem(status, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_user_names_every_bad_field() {
        let Err(Failure::Invalid(errors)) = parse_new_user(json!({"email": "x", "admin": 1, "password": "short", "role": "root"})) else {
            panic!()
        };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["org_id", "email", "admin", "password", "role"]);
        let ok = parse_new_user(json!({"org_id": 1, "email": "a@b.co", "admin": true})).unwrap();
        assert!(ok.admin);
    }

    #[test]
    fn org_names() {
        assert_eq!(parse_new_org(json!({"name": "Acme"})).unwrap().as_str(), "Acme");
        assert!(parse_new_org(json!({"name": "  "})).is_err());
        assert!(parse_new_org(json!({})).is_err());
    }
}
