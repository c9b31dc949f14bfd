//! HiEnergy: `PATCH /api/v1/users/{id}` with `{"user": {...}}` and `X-Api-Key`
//! (seed 000). Responses are `{"data": user}`; errors are `{"error", "message", "errors"?}`.

use super::{respond, NullMeans, Reader};
use crate::error::{Failure, FieldError, HttpError, Refusal};
use crate::http::{Request, Response};
use crate::model::{Field, Principal, Scope, Shown, Target, User, UserPatch};
use crate::pipeline;
use crate::platform::{Ctx, Platform};
use crate::policy::{Access::*, Denial, Rules};
use crate::values::{Date, Email, ExternalId, HttpUrl, ShortText};
use serde::Serialize;
use serde_json::{json, Map, Value};

/// The seed: a user changes only its own profile; an admin also the rest.
pub static RULES: Rules = Rules {
    dialect: "hienergy",
    admin_keys_only: false,
    fields: &[
        (Field::Name, SelfService),
        (Field::GivenName, SelfService),
        (Field::FamilyName, SelfService),
        (Field::LinkedinProfileUrl, SelfService),
        (Field::RoleTitle, SelfService),
        (Field::BasedIn, SelfService),
        (Field::Email, AdminOnly),
        (Field::Admin, AdminOnly),
        (Field::Auth0Uid, AdminOnly),
        (Field::PublisherId, AdminOnly),
        (Field::AgencyId, AdminOnly),
        (Field::NetworkId, AdminOnly),
        (Field::AdvertiserId, AdminOnly),
        (Field::PaymentDate, AdminOnly),
        (Field::CompanyType, AdminOnly),
        (Field::PublisherType, AdminOnly),
        (Field::Password, AdminOnly),
    ],
    // `render_user`'s fields beyond the pipeline's own.
    shown: Shown::Only(&[
        "name",
        "given_name",
        "family_name",
        "linkedin_profile_url",
        "role_title",
        "based_in",
        "admin",
        "auth0_uid",
        "publisher_id",
        "agency_id",
        "network_id",
        "advertiser_id",
        "payment_date",
        "company_type",
        "publisher_type",
    ]),
};

/// HiEnergy's field names are the canonical ones.
pub fn wire_name(field: Field) -> &'static str {
    field.name()
}

/// The `{id}` path segment: a positive integer, or the user can't exist.
pub fn parse_id(segment: &str) -> Option<i64> {
    Target::parse_positive_id(segment)
}

/// `{"user": {...}}` → patch. `user` may be absent: the seed's own example request sends `{}`,
/// which is then an empty update (200, nothing changes) rather than an error.
pub fn parse_patch(body: Value) -> Result<UserPatch, Failure> {
    let mut top = Reader::object(body, "body", "", NullMeans::Clear).map_err(|e| Failure::Invalid(vec![e]))?;
    let mut patch = UserPatch::default();
    match top.take_raw("user") {
        None => {}
        Some(user) => match Reader::object(user, "user", "", NullMeans::Clear) {
            Err(e) => top.extend(vec![e]),
            Ok(mut r) => {
                patch.name = r.patch::<ShortText>("name");
                patch.given_name = r.patch("given_name");
                patch.family_name = r.patch("family_name");
                patch.linkedin_profile_url = r.patch::<HttpUrl>("linkedin_profile_url");
                patch.role_title = r.patch("role_title");
                patch.based_in = r.patch("based_in");
                patch.email = r.patch_non_null::<Email>("email");
                patch.admin = r.patch_non_null::<bool>("admin");
                patch.auth0_uid = r.patch("auth0_uid");
                patch.publisher_id = r.patch::<ExternalId>("publisher_id");
                patch.agency_id = r.patch("agency_id");
                patch.network_id = r.patch("network_id");
                patch.advertiser_id = r.patch("advertiser_id");
                patch.payment_date = r.patch::<Date>("payment_date");
                patch.company_type = r.patch("company_type");
                patch.publisher_type = r.patch("publisher_type");
                patch.password = match r.take_raw("password") {
                    None => None,
                    Some(Value::String(s)) => match crate::password::parse_new(&s) {
                        Ok(p) => Some(crate::model::PasswordChange::reset(p)),
                        Err(msg) => {
                            r.error("password", msg);
                            None
                        }
                    },
                    Some(_) => {
                        r.error("password", "must be a string");
                        None
                    }
                };
                top.extend(r.finish());
            }
        },
    }
    let errors = top.finish();
    if errors.is_empty() {
        Ok(patch)
    } else {
        Err(Failure::Invalid(errors))
    }
}

/// HiEnergy's user, borrowed from the `User` and written straight out: no map is built per
/// response. The fields are in alphabetical order, the order of `json!`'s sorted map that
/// rendered it before, so the bytes a client sees did not change.
#[derive(Serialize)]
pub struct WireUser<'a> {
    admin: bool,
    advertiser_id: Option<i64>,
    agency_id: Option<i64>,
    auth0_uid: Option<&'a str>,
    based_in: Option<&'a str>,
    company_type: Option<&'a str>,
    created_at: &'a str,
    email: &'a str,
    family_name: Option<&'a str>,
    given_name: Option<&'a str>,
    id: i64,
    linkedin_profile_url: Option<&'a str>,
    name: Option<&'a str>,
    network_id: Option<i64>,
    payment_date: Option<&'a str>,
    publisher_id: Option<i64>,
    publisher_type: Option<&'a str>,
    role_title: Option<&'a str>,
    updated_at: &'a str,
}

pub fn render_user(u: &User) -> WireUser<'_> {
    WireUser {
        admin: u.admin,
        advertiser_id: u.advertiser_id,
        agency_id: u.agency_id,
        auth0_uid: u.auth0_uid.as_deref(),
        based_in: u.based_in.as_deref(),
        company_type: u.company_type.as_deref(),
        created_at: &u.created_at,
        email: &u.email,
        family_name: u.family_name.as_deref(),
        given_name: u.given_name.as_deref(),
        id: u.id,
        linkedin_profile_url: u.linkedin_profile_url.as_deref(),
        name: u.name.as_deref(),
        network_id: u.network_id,
        payment_date: u.payment_date.as_deref(),
        publisher_id: u.publisher_id,
        publisher_type: u.publisher_type.as_deref(),
        role_title: u.role_title.as_deref(),
        updated_at: &u.updated_at,
    }
}

#[derive(Serialize)]
struct Data<T> {
    data: T,
}

pub fn render_ok(u: &User) -> Response {
    Response::json(200, &Data { data: render_user(u) }).with_header("etag", u.etag())
}

fn field_errors(errors: &[FieldError]) -> Value {
    let mut map = Map::new();
    for e in errors {
        let list = map.entry(e.field.clone()).or_insert_with(|| Value::Array(vec![]));
        if let Value::Array(a) = list {
            a.push(Value::String(e.message.clone()));
        }
    }
    Value::Object(map)
}

fn error(status: u16, code: &str, message: &str, errors: Option<Value>) -> Response {
    let mut body = json!({ "error": code, "message": message });
    if let Some(e) = errors {
        body["errors"] = e;
    }
    Response::json(status, &body)
}

pub fn render_error(r: &Refusal) -> Response {
    let f = match r {
        Refusal::Http(HttpError::PayloadTooLarge) => {
            return error(413, "payload_too_large", "The request body is larger than 64 KiB", None)
        }
        Refusal::Http(HttpError::UnsupportedMediaType) => {
            return error(415, "unsupported_media_type", "The request body must be application/json", None)
        }
        Refusal::Http(HttpError::MalformedBody(msg)) => return error(400, "bad_request", msg, None),
        Refusal::Http(HttpError::MethodNotAllowed) => {
            return error(405, "method_not_allowed", "Use GET or PATCH", None).with_header("allow", "GET, PATCH")
        }
        Refusal::Core(f) => f,
    };
    match f {
        Failure::Unauthenticated => error(401, "unauthorized", "A valid API key is required in the X-Api-Key header", None),
        Failure::RoleNotHeld => error(403, "forbidden", "This API key's admin role is no longer held", None),
        Failure::Forbidden(Denial::NotSelf) => error(403, "forbidden", "You may only update your own user", None),
        Failure::Forbidden(Denial::AdminKeyRequired) => error(403, "forbidden", "This requires an admin API key", None),
        // Unreachable here (no HiEnergy route is the operator's alone); answered in kind anyway.
        Failure::Forbidden(Denial::OperatorRequired) => error(403, "forbidden", "Only the operator may do this", None),
        Failure::Forbidden(Denial::OutOfScope) => {
            error(403, "forbidden", "This API key's scopes do not allow this request", None)
        }
        Failure::Forbidden(Denial::Fields(fields)) => {
            let errs: Vec<FieldError> =
                fields.iter().map(|f| FieldError::new(wire_name(*f), "can only be changed by an admin")).collect();
            let names: Vec<&str> = fields.iter().map(|f| wire_name(*f)).collect();
            error(403, "forbidden", &format!("Only admins may change: {}", names.join(", ")), Some(field_errors(&errs)))
        }
        Failure::Forbidden(Denial::BeyondIssuer(_)) => error(403, "forbidden", "Beyond what this API key may grant", None),
        Failure::StateConflict(why) => error(409, "conflict", why, None),
        Failure::NotFound => error(404, "not_found", "User not found", None),
        Failure::Invalid(errors) => error(422, "validation_failed", "Validation failed", Some(field_errors(errors))),
        Failure::Conflict(field) => {
            let errs = [FieldError::new(wire_name(*field), "has already been taken")];
            error(422, "validation_failed", "Validation failed", Some(field_errors(&errs)))
        }
        Failure::PreconditionFailed => {
            error(412, "precondition_failed", "The user has changed since the version in If-Match", None)
        }
        Failure::ProofNotAccepted(_) => {
            let errs = [FieldError::new("password", "is not accepted: an admin sets another user's password without proof")];
            error(422, "validation_failed", "Validation failed", Some(field_errors(&errs)))
        }
        Failure::ProofRejected(_) => {
            let errs = [FieldError::new("password", "could not be verified")];
            error(422, "validation_failed", "Validation failed", Some(field_errors(&errs)))
        }
        Failure::RateLimited { retry_after } => error(429, "too_many_requests", "Too many attempts; try again later", None)
            .with_header("retry-after", retry_after.to_string()),
        Failure::Internal(_) => error(500, "internal_error", "Something went wrong on our side", None),
    }
}

/// `GET|PATCH /api/v1/users/{id}`.
pub async fn serve<P: Platform>(cx: &Ctx<'_, P>, req: &Request, id: &str) -> Response {
    respond(cx, serve_user(cx, req, id).await, render_error)
}

async fn serve_user<P: Platform>(cx: &Ctx<'_, P>, req: &Request, id: &str) -> Result<Response, Refusal> {
    if !matches!(req.method.as_str(), "GET" | "PATCH") {
        return Err(HttpError::MethodNotAllowed.into());
    }
    let who = Principal::Key(pipeline::authenticate_key(cx, req, Scope::Hienergy).await?);
    let target = Target::Id(parse_id(id).ok_or(Failure::NotFound)?);
    let user = super::read_or_patch(cx, req, &who, target, &RULES, parse_patch).await?;
    Ok(render_ok(&user))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Patch;

    /// The wire struct writes what `json!` wrote (keys sorted), byte for byte, with every field
    /// set and with every optional one null: what a syncing client compares did not change.
    #[test]
    fn the_wire_struct_writes_the_bytes_the_sorted_map_wrote() {
        let old = |u: &User| {
            let user = json!({
                "id": u.id, "email": u.email, "name": u.name, "given_name": u.given_name,
                "family_name": u.family_name, "linkedin_profile_url": u.linkedin_profile_url,
                "role_title": u.role_title, "based_in": u.based_in, "admin": u.admin, "auth0_uid": u.auth0_uid,
                "publisher_id": u.publisher_id, "agency_id": u.agency_id, "network_id": u.network_id,
                "advertiser_id": u.advertiser_id, "payment_date": u.payment_date, "company_type": u.company_type,
                "publisher_type": u.publisher_type, "created_at": u.created_at, "updated_at": u.updated_at,
            });
            serde_json::to_vec(&json!({ "data": user })).unwrap()
        };
        let s = |v: &str| Some(v.to_string());
        let full = User {
            id: 41,
            email: "uma@example.com".into(),
            name: s("Uma \"U\" Ude"),
            given_name: s("Uma"),
            family_name: s("Ude\u{e9}"),
            linkedin_profile_url: s("https://www.linkedin.com/in/uma"),
            role_title: s("Engineer"),
            based_in: s("Paris, FR"),
            admin: true,
            auth0_uid: s("auth0|41"),
            publisher_id: Some(11),
            agency_id: Some(12),
            network_id: Some(13),
            advertiser_id: Some(-14),
            payment_date: s("2026-02-28"),
            company_type: s("agency"),
            publisher_type: s("blog"),
            created_at: "2026-01-01T00:00:00.000Z".into(),
            updated_at: "2026-01-02T00:00:00.000Z".into(),
            ..User::default()
        };
        for u in [full, User::default()] {
            assert_eq!(String::from_utf8(render_ok(&u).body).unwrap(), String::from_utf8(old(&u)).unwrap());
        }
    }

    #[test]
    fn seed_example_self_profile_update() {
        let body = json!({"user": {"given_name": "New", "family_name": "Name", "based_in": "Paris, FR"}});
        let patch = parse_patch(body).unwrap();
        assert_eq!(patch.touched(), vec![Field::GivenName, Field::FamilyName, Field::BasedIn]);
        assert_eq!(patch.based_in.set().unwrap().as_str(), "Paris, FR");
    }

    #[test]
    fn seed_example_admin_moves_user() {
        let patch = parse_patch(json!({"user": {"publisher_id": 42}})).unwrap();
        assert_eq!(patch.touched(), vec![Field::PublisherId]);
        assert_eq!(patch.publisher_id.set().unwrap().get(), 42);
    }

    #[test]
    fn seed_curl_body_is_an_empty_update() {
        assert!(parse_patch(json!({})).unwrap().is_empty());
    }

    #[test]
    fn every_bad_field_is_named() {
        let body = json!({"user": {"email": "nope", "linkedin_profile_url": "linkedin", "publisher_id": "42",
            "payment_date": "2024-02-30", "admin": "yes", "password": "short", "name": 5, "mass": true}, "extra": 1});
        let Err(Failure::Invalid(errors)) = parse_patch(body) else { panic!("expected invalid") };
        let mut fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        fields.sort();
        assert_eq!(
            fields,
            ["admin", "email", "extra", "linkedin_profile_url", "mass", "name", "password", "payment_date", "publisher_id"]
        );
    }

    #[test]
    fn nulls_clear_optional_fields_but_not_required_ones() {
        let patch = parse_patch(json!({"user": {"based_in": null, "publisher_id": null}})).unwrap();
        assert_eq!(patch.based_in, Patch::Clear);
        assert_eq!(patch.publisher_id, Patch::Clear);
        assert!(parse_patch(json!({"user": {"email": null}})).is_err());
        assert!(parse_patch(json!({"user": {"admin": null}})).is_err());
        assert!(parse_patch(json!({"user": "x"})).is_err());
        assert!(parse_patch(json!([1])).is_err());
    }

    #[test]
    fn ids() {
        assert_eq!(parse_id("1"), Some(1));
        assert_eq!(parse_id("0"), None);
        assert_eq!(parse_id("-1"), None);
        assert_eq!(parse_id("abc"), None);
        assert_eq!(parse_id("99999999999999999999"), None);
    }
}
