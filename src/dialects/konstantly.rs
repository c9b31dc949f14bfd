//! Konstantly: `PATCH /openapi/v1/users/{userId}` with `X-API-KEY` (seed 003). Keys are site-admin
//! keys. Errors are `{"status", "message", "errors"?: {field: [messages]}}`, exactly as the seed
//! shows; a taken email is a 400 on `email`, not a 409.

use super::{respond, NullMeans, Reader};
use crate::error::{Failure, FieldError, HttpError, Refusal};
use crate::http::{json_body, parse_if_match, Request, Response};
use crate::model::{Field, Principal, Scope, Shown, Target, User, UserPatch};
use crate::pipeline::{self, UpdateCommand};
use crate::platform::{Ctx, Platform};
use crate::policy::{Access::*, Rules};
use crate::values::{Attributes, Email, LongText, ShortText, TimeZone};
use serde::Serialize;
use serde_json::{json, Map, Value};

pub static RULES: Rules = Rules {
    dialect: "konstantly",
    admin_keys_only: true,
    fields: &[
        (Field::Email, AdminOnly),
        (Field::Name, AdminOnly),
        (Field::Password, AdminOnly),
        (Field::RoleAlias, AdminOnly),
        (Field::Bio, AdminOnly),
        (Field::RoleTitle, AdminOnly),
        (Field::BasedIn, AdminOnly),
        (Field::Timezone, AdminOnly),
        (Field::FromApi, AdminOnly),
        (Field::Attributes, AdminOnly),
    ],
    // `render_user`'s fields beyond the pipeline's own.
    shown: Shown::Only(&["name", "role_title", "based_in", "bio", "timezone", "role_alias", "from_api", "attributes"]),
};

pub fn wire_name(field: Field) -> &'static str {
    match field {
        Field::RoleAlias => "roleAlias",
        Field::RoleTitle => "occupation",
        Field::BasedIn => "location",
        Field::FromApi => "fromApi",
        f => f.name(),
    }
}

/// The seed's wording for email problems; other messages are the core's, capitalised.
fn wording(e: FieldError) -> FieldError {
    let message = match (e.field.as_str(), e.message.as_str()) {
        ("email", "is required") => "Email is required".to_string(),
        ("email", _) => "Invalid email format".to_string(),
        (_, m) => {
            let mut c = m.chars();
            c.next().map(|f| f.to_uppercase().collect::<String>() + c.as_str()).unwrap_or_default()
        }
    };
    FieldError { field: e.field, message }
}

pub fn parse_patch(body: Value) -> Result<UserPatch, Failure> {
    let mut r = Reader::object(body, "body", "", NullMeans::Clear).map_err(|e| Failure::Invalid(vec![wording(e)]))?;
    let email = r.required::<Email>("email");
    let mut patch = UserPatch {
        email: email.map_or(Default::default(), crate::model::Patch::Set),
        name: r.patch::<ShortText>("name"),
        role_alias: r.patch::<ShortText>("roleAlias"),
        bio: r.patch::<LongText>("bio"),
        role_title: r.patch::<ShortText>("occupation"),
        based_in: r.patch::<ShortText>("location"),
        timezone: r.patch::<TimeZone>("timezone"),
        from_api: r.patch_non_null::<bool>("fromApi"),
        attributes: r.patch_non_null::<Attributes>("attributes"),
        ..Default::default()
    };
    patch.password = r
        .with("password", |v| v.as_str().ok_or("must be a string".to_string()).and_then(crate::password::parse_new))
        .map(crate::model::PasswordChange::reset);
    let errors = r.finish();
    if errors.is_empty() {
        Ok(patch)
    } else {
        Err(Failure::Invalid(errors.into_iter().map(wording).collect()))
    }
}

/// Konstantly's user, written straight out (no map per response). Fields in the byte order of
/// their wire names, the order `json!`'s sorted map wrote them in, so the bytes did not change.
#[derive(Serialize)]
pub struct WireUser<'a> {
    attributes: &'a Value,
    bio: Option<&'a str>,
    email: &'a str,
    #[serde(rename = "fromApi")]
    from_api: bool,
    id: i64,
    location: Option<&'a str>,
    name: Option<&'a str>,
    occupation: Option<&'a str>,
    #[serde(rename = "roleAlias")]
    role_alias: Option<&'a str>,
    timezone: Option<&'a str>,
    #[serde(rename = "userId")]
    user_id: &'a str,
}

pub fn render_user(u: &User) -> WireUser<'_> {
    WireUser {
        attributes: &u.attributes,
        bio: u.bio.as_deref(),
        email: &u.email,
        from_api: u.from_api,
        id: u.id,
        location: u.based_in.as_deref(),
        name: u.name.as_deref(),
        occupation: u.role_title.as_deref(),
        role_alias: u.role_alias.as_deref(),
        timezone: u.timezone.as_deref(),
        user_id: &u.uuid,
    }
}

pub fn render_ok(u: &User) -> Response {
    Response::json(200, &render_user(u)).with_header("etag", u.etag())
}

fn error(status: u16, message: &str) -> Response {
    Response::json(status, &json!({ "status": status, "message": message }))
}

fn validation(errors: &[FieldError]) -> Response {
    let mut map = Map::new();
    for e in errors {
        if let Value::Array(list) = map.entry(e.field.clone()).or_insert_with(|| json!([])) {
            list.push(json!(e.message));
        }
    }
    Response::json(400, &json!({ "status": 400, "message": "Validation failed", "errors": map }))
}

pub fn render_error(r: &Refusal) -> Response {
    let f = match r {
        Refusal::Http(HttpError::PayloadTooLarge) => return error(413, "Request body too large"),
        Refusal::Http(HttpError::UnsupportedMediaType) => return error(415, "Content-Type must be application/json"),
        Refusal::Http(HttpError::MalformedBody(msg)) => return error(400, msg),
        Refusal::Http(HttpError::MethodNotAllowed) => return error(405, "Method not allowed").with_header("allow", "PATCH"),
        Refusal::Core(f) => f,
    };
    match f {
        Failure::Unauthenticated => error(401, "Invalid or missing API key"),
        Failure::Forbidden(_) | Failure::RoleNotHeld => error(403, "This API key may not manage users"),
        Failure::NotFound => error(404, "User not found"),
        Failure::StateConflict(why) => error(409, why),
        Failure::Invalid(errors) => validation(errors),
        Failure::Conflict(field) => validation(&[FieldError::new(wire_name(*field), "Email already exists")]),
        Failure::PreconditionFailed => error(412, "The user has changed since the version in If-Match"),
        Failure::ProofNotAccepted(_) => {
            validation(&[FieldError::new("password", "is not accepted: an admin sets another user's password without proof")])
        }
        Failure::ProofRejected(_) => validation(&[FieldError::new("password", "Could not be verified")]),
        Failure::RateLimited { retry_after } => {
            error(429, "Too many attempts").with_header("retry-after", retry_after.to_string())
        }
        Failure::Internal(_) => error(500, "Internal server error"),
    }
}

/// `PATCH /openapi/v1/users/{userId}`.
pub async fn serve<P: Platform>(cx: &Ctx<'_, P>, req: &Request, id: &str) -> Response {
    respond(cx, serve_user(cx, req, id).await, render_error)
}

async fn serve_user<P: Platform>(cx: &Ctx<'_, P>, req: &Request, id: &str) -> Result<Response, Refusal> {
    if req.method != "PATCH" {
        return Err(HttpError::MethodNotAllowed.into());
    }
    let who = Principal::Key(pipeline::authenticate_key(cx, req, Scope::Konstantly).await?);
    let target = Target::parse(id, true).ok_or(Failure::NotFound)?;
    let patch = parse_patch(json_body(req)?)?;
    let precondition = parse_if_match(req.header("if-match"));
    let user = pipeline::update_user(cx, &RULES, &who, UpdateCommand { target, patch, precondition }).await?.user;
    Ok(render_ok(&user))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The wire struct writes what the sorted `json!` map wrote, byte for byte, with every field
    /// set and with none.
    #[test]
    fn the_wire_struct_writes_the_bytes_the_sorted_map_wrote() {
        let old = |u: &User| {
            serde_json::to_string(&json!({
                "userId": u.uuid, "id": u.id, "email": u.email, "name": u.name, "roleAlias": u.role_alias,
                "bio": u.bio, "occupation": u.role_title, "location": u.based_in, "timezone": u.timezone,
                "fromApi": u.from_api, "attributes": u.attributes,
            }))
            .unwrap()
        };
        let s = |v: &str| Some(v.to_string());
        let full = User {
            uuid: "5a3f0c8e-0000-4000-8000-000000000041".into(),
            id: 41,
            email: "j@example.com".into(),
            name: s("J \"W\""),
            role_alias: s("eng"),
            bio: s("I've moved\nto London\u{e9}"),
            role_title: s("CTO"),
            based_in: s("London"),
            timezone: s("Europe/London"),
            from_api: true,
            attributes: json!({"z": 1, "a": {"y": [1, "x"], "b": null}}),
            ..User::default()
        };
        for u in [full, User::default()] {
            assert_eq!(String::from_utf8(render_ok(&u).body).unwrap(), old(&u));
        }
    }

    /// The seed's curl body, verbatim.
    #[test]
    fn seed_request() {
        let body: Value = serde_json::from_str(
            r#"{
"email": "j.wunderliebb@mycompany.tld",
"bio": "An updated information about me: I've transferred to London!",
"occupation": "Associate",
"location": "London",
"timezone": "Europe/London"
}"#,
        )
        .unwrap();
        let patch = parse_patch(body).unwrap();
        assert_eq!(patch.touched(), vec![Field::Email, Field::RoleTitle, Field::BasedIn, Field::Bio, Field::Timezone]);
        assert_eq!(patch.timezone.set().unwrap().as_str(), "Europe/London");
    }

    /// The seed's error example, verbatim, for a bad email.
    #[test]
    fn seed_error_example() {
        let Err(f) = parse_patch(json!({"email": "not-an-email"})) else { panic!() };
        let resp = render_error(&f.into());
        assert_eq!(resp.status, 400);
        let body: Value = serde_json::from_slice(&resp.body).unwrap();
        assert_eq!(body, json!({"status": 400, "message": "Validation failed", "errors": {"email": ["Invalid email format"]}}));
    }

    #[test]
    fn every_bad_field_is_listed() {
        let Err(Failure::Invalid(errors)) =
            parse_patch(json!({"timezone": "Mars/Base", "fromApi": "yes", "attributes": [1], "admin": true}))
        else {
            panic!()
        };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["email", "timezone", "fromApi", "attributes", "admin"]);
        assert_eq!(errors[0].message, "Email is required");
    }

    #[test]
    fn attributes_replace_the_set_and_cannot_be_nulled() {
        let patch = parse_patch(json!({"email": "a@b.co", "attributes": {"team": "blue"}})).unwrap();
        assert_eq!(patch.attributes.set().unwrap().as_json(), r#"{"team":"blue"}"#);
        assert!(parse_patch(json!({"email": "a@b.co", "attributes": null})).is_err());
    }
}
