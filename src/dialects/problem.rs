//! RFC 9457 `application/problem+json`, shared by the dialects that speak it (operator, Upsun).

use crate::error::{Failure, FieldError, HttpError, Refusal};
use crate::http::Response;
use crate::model::Field;
use crate::policy::Denial;
use serde_json::{json, Value};

pub fn body(status: u16, title: &str, detail: &str) -> Value {
    json!({ "type": "about:blank", "title": title, "status": status, "detail": detail })
}

fn with_errors(mut p: Value, errors: &[FieldError]) -> Value {
    p["errors"] = errors.iter().map(|e| json!({"field": e.field, "message": e.message})).collect();
    p
}

/// How a dialect's problems differ: the status for invalid input, its names for fields.
pub struct Style {
    pub invalid_status: u16,
    pub field_name: fn(Field) -> &'static str,
    pub auth_hint: &'static str,
}

/// The HTTP layer's refusals, alike in every problem+json dialect.
fn http(e: &HttpError) -> (u16, Value) {
    match e {
        HttpError::PayloadTooLarge => (413, body(413, "Content Too Large", "The request body is larger than 64 KiB")),
        HttpError::UnsupportedMediaType => {
            (415, body(415, "Unsupported Media Type", "The request body must be application/json"))
        }
        HttpError::MalformedBody(msg) => (400, body(400, "Bad Request", msg)),
        HttpError::MethodNotAllowed => (405, body(405, "Method Not Allowed", "That method is not supported here")),
    }
}

pub fn render(r: &Refusal, style: &Style) -> Response {
    let f = match r {
        Refusal::Http(e) => {
            let (status, body) = http(e);
            return Response::problem(status, &body);
        }
        Refusal::Core(f) => f,
    };
    let name = style.field_name;
    let (status, body) = match f {
        Failure::Unauthenticated => (401, body(401, "Unauthorized", style.auth_hint)),
        Failure::RoleNotHeld => (403, body(403, "Forbidden", "This API key's admin role is no longer held")),
        Failure::Forbidden(Denial::AdminKeyRequired) => (403, body(403, "Forbidden", "This needs an admin API key")),
        Failure::Forbidden(Denial::OperatorRequired) => {
            (403, body(403, "Forbidden", "Only the operator may do this: send the operator token (ADMIN_TOKEN), not an API key"))
        }
        Failure::Forbidden(Denial::NotSelf) => (403, body(403, "Forbidden", "You may only change your own user")),
        Failure::Forbidden(Denial::OutOfScope) => {
            (403, body(403, "Forbidden", "This API key's scopes do not allow this request"))
        }
        Failure::Forbidden(Denial::Fields(fields)) => {
            let errors: Vec<FieldError> =
                fields.iter().map(|f| FieldError::new(name(*f), "can only be changed by an admin")).collect();
            let names: Vec<&str> = fields.iter().map(|f| name(*f)).collect();
            (403, with_errors(body(403, "Forbidden", &format!("Only an admin may change: {}", names.join(", "))), &errors))
        }
        Failure::Forbidden(Denial::BeyondIssuer(fields)) => {
            let errors: Vec<FieldError> =
                fields.iter().map(|f| FieldError::new(*f, "reaches further than the API key asking for it")).collect();
            (403, with_errors(body(403, "Forbidden", "A key can only grant what it holds itself"), &errors))
        }
        Failure::StateConflict(why) => (409, body(409, "Conflict", why)),
        Failure::NotFound => (404, body(404, "Not Found", "No such resource")),
        Failure::Invalid(errors) => {
            let s = style.invalid_status;
            let title = if s == 422 { "Unprocessable Content" } else { "Bad Request" };
            (s, with_errors(body(s, title, "One or more fields are invalid"), errors))
        }
        Failure::Conflict(field) => {
            let errors = [FieldError::new(name(*field), "is already taken")];
            (409, with_errors(body(409, "Conflict", &format!("That {} is already taken", name(*field))), &errors))
        }
        Failure::PreconditionFailed => {
            (412, body(412, "Precondition Failed", "The resource has changed since the version in If-Match"))
        }
        Failure::ProofRejected(_) => {
            let errors = [FieldError::new("password", "could not be verified")];
            (
                style.invalid_status,
                with_errors(body(style.invalid_status, "Bad Request", "A proof could not be verified"), &errors),
            )
        }
        Failure::ProofNotAccepted(_) => {
            let errors = [FieldError::new("password", "is not accepted: an admin sets another user's password without proof")];
            (
                style.invalid_status,
                with_errors(body(style.invalid_status, "Bad Request", "A proof is not accepted here"), &errors),
            )
        }
        Failure::RateLimited { retry_after } => {
            let resp = Response::problem(429, &body(429, "Too Many Requests", "Too many attempts; try again later"));
            return resp.with_header("retry-after", retry_after.to_string());
        }
        Failure::Internal(_) => (500, body(500, "Internal Server Error", "Something went wrong on our side")),
    };
    Response::problem(status, &body)
}
