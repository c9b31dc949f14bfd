//! Upsun: `PATCH|GET /users/{user_id}` (UUID), `Authorization: Bearer` (seed 002). The user is
//! rendered whole, every required field present as its schema types it; errors are problem+json.
//!
//! In this dialect an empty string and `null` both mean "no value": the schema makes every field
//! a required string, so a cleared field reads back as `""`, and sending that `""` back clears it
//! again. That keeps a GET → PATCH round trip of the modifiable fields clean.

use super::{problem, respond, NullMeans, Reader};
use crate::error::{Failure, HttpError, Refusal};
use crate::http::{Request, Response};
use crate::model::{Field, Patch, Principal, Scope, Shown, Target, User, UserPatch};
use crate::pipeline;
use crate::platform::{Ctx, Platform};
use crate::policy::{Access::*, Rules};
use crate::values::{rfc3339_seconds, CountryCode, FromJson, HttpUrl, ShortText, Username};
use serde::Serialize;
use serde_json::Value;

pub static RULES: Rules = Rules {
    dialect: "upsun",
    admin_keys_only: false,
    fields: &[
        (Field::Username, SelfService),
        (Field::GivenName, SelfService),
        (Field::FamilyName, SelfService),
        (Field::Picture, SelfService),
        (Field::Company, SelfService),
        (Field::Website, SelfService),
        (Field::Country, SelfService),
    ],
    // `render_user`'s fields beyond the pipeline's own.
    shown: Shown::Only(&[
        "org_uuid",
        "username",
        "email_verified",
        "given_name",
        "family_name",
        "picture",
        "company",
        "website",
        "country",
        "deactivated",
        "consented_at",
        "consent_method",
    ]),
};

pub fn wire_name(field: Field) -> &'static str {
    match field {
        Field::GivenName => "first_name",
        Field::FamilyName => "last_name",
        f => f.name(),
    }
}

/// `""` or `null` clears; anything else must parse.
fn field<T: FromJson>(r: &mut Reader, key: &str) -> Patch<T> {
    match r.take_raw(key) {
        None => Patch::Keep,
        Some(Value::Null) => Patch::Clear,
        Some(Value::String(s)) if s.is_empty() => Patch::Clear,
        Some(v) => match T::from_json(&v) {
            Ok(t) => Patch::Set(t),
            Err(msg) => {
                r.error(key, msg);
                Patch::Keep
            }
        },
    }
}

pub fn parse_patch(body: Value) -> Result<UserPatch, Failure> {
    let mut r = Reader::object(body, "body", "", NullMeans::Clear).map_err(|e| Failure::Invalid(vec![e]))?;
    let patch = UserPatch {
        username: field::<Username>(&mut r, "username"),
        given_name: field::<ShortText>(&mut r, "first_name"),
        family_name: field::<ShortText>(&mut r, "last_name"),
        picture: field::<HttpUrl>(&mut r, "picture"),
        company: field::<ShortText>(&mut r, "company"),
        website: field::<HttpUrl>(&mut r, "website"),
        country: field::<CountryCode>(&mut r, "country"),
        ..Default::default()
    };
    let errors = r.finish();
    if errors.is_empty() {
        Ok(patch)
    } else {
        Err(Failure::Invalid(errors))
    }
}

/// Upsun's user, written straight out (no map per response). Fields in alphabetical order, the
/// order `json!`'s sorted map wrote them in, so the bytes did not change; the consent pair
/// appears only once given, as before.
#[derive(Serialize)]
pub struct WireUser<'a> {
    company: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    consent_method: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    consented_at: Option<String>,
    country: &'a str,
    created_at: String,
    deactivated: bool,
    email: &'a str,
    email_verified: bool,
    first_name: &'a str,
    id: &'a str,
    last_name: &'a str,
    namespace: &'a str,
    picture: &'a str,
    updated_at: String,
    username: &'a str,
    website: &'a str,
}

pub fn render_user(u: &User) -> WireUser<'_> {
    WireUser {
        company: or_empty(&u.company),
        consent_method: u.consent_method.as_deref(),
        consented_at: u.consented_at.as_deref().map(rfc3339_seconds),
        country: or_empty(&u.country),
        created_at: rfc3339_seconds(&u.created_at),
        deactivated: u.deactivated,
        email: &u.email,
        email_verified: u.email_verified,
        first_name: or_empty(&u.given_name),
        id: &u.uuid,
        last_name: or_empty(&u.family_name),
        namespace: &u.org_uuid,
        picture: or_empty(&u.picture),
        updated_at: rfc3339_seconds(&u.updated_at),
        username: or_empty(&u.username),
        website: or_empty(&u.website),
    }
}

/// Upsun writes an unset text as `""`.
fn or_empty(v: &Option<String>) -> &str {
    v.as_deref().unwrap_or_default()
}

pub fn render_ok(u: &User) -> Response {
    Response::json(200, &render_user(u)).with_header("etag", u.etag())
}

const STYLE: problem::Style =
    problem::Style { invalid_status: 400, field_name: wire_name, auth_hint: "Send an API key as a Bearer token" };

pub fn render_error(r: &Refusal) -> Response {
    let resp = problem::render(r, &STYLE);
    match r {
        // RFC 9110 §15.5.6: a 405 lists what the resource supports.
        Refusal::Http(HttpError::MethodNotAllowed) => resp.with_header("allow", "GET, PATCH"),
        _ => resp,
    }
}

/// `GET|PATCH /users/{user_id}`.
pub async fn serve<P: Platform>(cx: &Ctx<'_, P>, req: &Request, id: &str) -> Response {
    respond(cx, serve_user(cx, req, id).await, render_error)
}

async fn serve_user<P: Platform>(cx: &Ctx<'_, P>, req: &Request, id: &str) -> Result<Response, Refusal> {
    if !matches!(req.method.as_str(), "GET" | "PATCH") {
        return Err(HttpError::MethodNotAllowed.into());
    }
    let target = Target::parse(id, false).ok_or_else(|| Failure::invalid("user_id", "must be a UUID"))?;
    let who = Principal::Key(pipeline::authenticate_key(cx, req, Scope::Upsun).await?);
    let user = super::read_or_patch(cx, req, &who, target, &RULES, parse_patch).await?;
    Ok(render_ok(&user))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The wire struct writes what the sorted `json!` map wrote, byte for byte, with every field
    /// set and with none.
    #[test]
    fn the_wire_struct_writes_the_bytes_the_sorted_map_wrote() {
        let old = |u: &User| {
            let s = |v: &Option<String>| v.clone().unwrap_or_default();
            let mut out = json!({
                "id": u.uuid, "deactivated": u.deactivated, "namespace": u.org_uuid, "username": s(&u.username),
                "email": u.email, "email_verified": u.email_verified, "first_name": s(&u.given_name),
                "last_name": s(&u.family_name), "picture": s(&u.picture), "company": s(&u.company),
                "website": s(&u.website), "country": s(&u.country), "created_at": rfc3339_seconds(&u.created_at),
                "updated_at": rfc3339_seconds(&u.updated_at),
            });
            if let Some(at) = &u.consented_at {
                out["consented_at"] = json!(rfc3339_seconds(at));
            }
            if let Some(method) = &u.consent_method {
                out["consent_method"] = json!(method);
            }
            serde_json::to_string(&out).unwrap()
        };
        let s = |v: &str| Some(v.to_string());
        let full = User {
            uuid: "5a3f0c8e-0000-4000-8000-000000000041".into(),
            deactivated: true,
            org_uuid: "0b7c5a1e".into(),
            username: s("uma"),
            email: "uma@example.com".into(),
            email_verified: true,
            given_name: s("Uma \"U\""),
            family_name: s("Ude\u{e9}"),
            picture: s("https://img.example/u.png"),
            company: s("Acme"),
            website: s("https://uma.example"),
            country: s("FR"),
            created_at: "2026-01-01T00:00:00.000Z".into(),
            updated_at: "2026-01-02T00:00:00.000Z".into(),
            consented_at: s("2023-11-07T05:31:56.000Z"),
            consent_method: s("opt-in"),
            ..User::default()
        };
        for u in [full, User::default()] {
            assert_eq!(String::from_utf8(render_ok(&u).body).unwrap(), old(&u));
        }
    }

    /// The seed's request body, with its placeholders as the values.
    #[test]
    fn seed_request_shape_parses_and_names_bad_values() {
        let body = json!({"username": "<string>", "first_name": "<string>", "last_name": "<string>", "picture": "<string>",
            "company": "<string>", "website": "<string>", "country": "<string>"});
        let Err(Failure::Invalid(errors)) = parse_patch(body) else { panic!() };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["picture", "website", "country"], "placeholder URLs and country aren't valid values");
    }

    #[test]
    fn real_values_and_empty_strings() {
        let patch = parse_patch(json!({"username": "jsmith", "first_name": "Jane", "last_name": "", "picture": null,
            "website": "https://example.com/", "country": "fr"}))
        .unwrap();
        assert_eq!(patch.country.set().unwrap().as_str(), "FR");
        assert_eq!(patch.family_name, Patch::Clear);
        assert_eq!(patch.picture, Patch::Clear);
        assert_eq!(
            patch.touched(),
            vec![Field::Username, Field::GivenName, Field::FamilyName, Field::Picture, Field::Website, Field::Country]
        );
        assert!(matches!(parse_patch(json!({"email": "a@b.co"})), Err(Failure::Invalid(_))), "email is read-only here");
        assert!(matches!(parse_patch(json!({"country": "UK"})), Err(Failure::Invalid(_))));
    }
}
