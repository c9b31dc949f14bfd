//! The operator API (`/admin/v1`): canonical JSON in snake_case, errors as RFC 9457
//! `application/problem+json`.

use super::{problem, NullMeans, Reader};
use crate::error::Failure;
use crate::http::Response;
use crate::model::Field;
use crate::pipeline::NewUser;
use crate::values::{Email, ShortText, Username};
use serde_json::Value;

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

const STYLE: problem::Style = problem::Style {
    invalid_status: 422,
    field_name: Field::name,
    auth_hint: "Send the operator token or an admin API key as a Bearer token",
};

pub fn render_error(f: &Failure) -> Response {
    problem::render(f, &STYLE)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn new_user_names_every_bad_field() {
        let Err(Failure::Invalid(errors)) =
            parse_new_user(json!({"email": "x", "admin": 1, "password": "short", "role": "root"}))
        else {
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
