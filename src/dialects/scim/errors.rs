//! SCIM errors (RFC 7644 §3.12): `{"schemas": [Error URN], "status": "400", "scimType": …,
//! "detail": …}` as `application/scim+json`, from the core's `Failure` or from the dialect's own
//! refusals (a filter, a path, a PATCH operation).

use crate::error::{Failure, FieldError, HttpError, Refusal};
use crate::http::Response;
use crate::model::Field;
use crate::policy::Denial;
use serde_json::json;

pub const ERROR_URN: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
pub const CONTENT_TYPE: &str = "application/scim+json";

/// A refusal, as the client will see it. `internal` is logged once, never shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScimError {
    pub status: u16,
    pub scim_type: Option<&'static str>,
    pub detail: String,
    pub internal: Option<String>,
    pub retry_after: Option<u32>,
}

impl ScimError {
    pub fn new(status: u16, scim_type: Option<&'static str>, detail: impl Into<String>) -> Self {
        Self { status, scim_type, detail: detail.into(), internal: None, retry_after: None }
    }
    pub fn bad(scim_type: &'static str, detail: impl Into<String>) -> Self {
        Self::new(400, Some(scim_type), detail)
    }
    pub fn not_found() -> Self {
        Self::new(404, None, "No such resource")
    }
    /// Every bad attribute, named, in one `invalidValue`.
    pub fn invalid(errors: &[FieldError]) -> Self {
        let parts: Vec<String> = errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect();
        Self::bad("invalidValue", parts.join("; "))
    }
}

/// The SCIM name of a canonical field (for conflicts and refusals).
pub fn scim_name(f: Field) -> &'static str {
    match f {
        Field::Username => "userName",
        Field::Email | Field::EmailVerified => "emails",
        Field::Phone | Field::PhoneVerified => "phoneNumbers",
        Field::Name => "displayName",
        Field::GivenName => "name.givenName",
        Field::FamilyName => "name.familyName",
        Field::NickName => "nickName",
        Field::PreferredLanguage => "preferredLanguage",
        Field::RoleTitle => "title",
        Field::Timezone => "timezone",
        Field::ExternalRef => "externalId",
        Field::Deactivated => "active",
        Field::Password => "password",
        other => other.name(),
    }
}

impl From<HttpError> for ScimError {
    fn from(e: HttpError) -> Self {
        match e {
            HttpError::PayloadTooLarge => Self::new(413, Some("tooMany"), "The request body is larger than 64 KiB"),
            HttpError::UnsupportedMediaType => {
                Self::new(415, None, "The request body must be application/scim+json or application/json")
            }
            HttpError::MalformedBody(msg) => Self::bad("invalidSyntax", msg),
            HttpError::MethodNotAllowed => Self::new(405, None, "That method is not supported here"),
        }
    }
}

impl From<Refusal> for ScimError {
    fn from(r: Refusal) -> Self {
        match r {
            Refusal::Http(e) => e.into(),
            Refusal::Core(f) => f.into(),
        }
    }
}

impl From<Failure> for ScimError {
    fn from(f: Failure) -> Self {
        match f {
            Failure::Unauthenticated => Self::new(401, None, "Send an org admin's API key (scope scim) as a Bearer token"),
            Failure::RoleNotHeld => Self::new(403, None, "This API key's admin role is no longer held"),
            Failure::Forbidden(Denial::OutOfScope) => Self::new(403, None, "This API key's scopes do not include scim"),
            Failure::Forbidden(Denial::Fields(fields)) => {
                let names: Vec<&str> = fields.iter().map(|f| scim_name(*f)).collect();
                Self::new(403, None, format!("Only an admin may change: {}", names.join(", ")))
            }
            Failure::Forbidden(_) => Self::new(403, None, "SCIM needs an org admin's API key"),
            Failure::NotFound => Self::not_found(),
            Failure::StateConflict(why) => Self::new(409, None, why),
            Failure::Invalid(errors) => Self::invalid(&errors),
            Failure::Conflict(field) => {
                Self::new(409, Some("uniqueness"), format!("{}: is already taken in this org", scim_name(field)))
            }
            Failure::PreconditionFailed => {
                // No scimType: `invalidVers` is about the SCIM protocol version (RFC 7644 §3.13).
                Self::new(412, None, "The resource has changed since the version in If-Match")
            }
            Failure::ProofNotAccepted(_) => Self::bad(
                "invalidValue",
                concat!("password: ", "is not accepted: an admin sets another user's password without proof"),
            ),
            Failure::ProofRejected(_) => Self::bad("invalidValue", "password: could not be verified"),
            Failure::RateLimited { retry_after } => {
                Self { retry_after: Some(retry_after), ..Self::new(429, None, "Too many attempts; try again later") }
            }
            Failure::Internal(message) => {
                Self { internal: Some(message), ..Self::new(500, None, "Something went wrong on our side") }
            }
        }
    }
}

pub fn render(e: &ScimError) -> Response {
    let mut body = json!({"schemas": [ERROR_URN], "status": e.status.to_string(), "detail": e.detail});
    if let Some(t) = e.scim_type {
        body["scimType"] = t.into();
    }
    let mut resp = Response::typed(e.status, CONTENT_TYPE, &body);
    if e.status == 401 {
        resp = resp.with_header("www-authenticate", "Bearer realm=\"scim\"");
    }
    if let Some(s) = e.retry_after {
        resp = resp.with_header("retry-after", s.to_string());
    }
    resp
}
