//! Failures → ZITADEL's errors: the REST gateway's `{code, message, details}` with gRPC codes,
//! or Connect's `{code: "<name>", message}`.

use super::{wire_name, Transport};
use crate::error::{Failure, FieldError, HttpError, ProofKind, Refusal};
use crate::http::Response;
use crate::policy::Denial;
use serde_json::json;

/// The HTTP layer's refusals: gRPC code, Connect name, HTTP status, message.
fn http(e: &HttpError) -> (u32, &'static str, u16, String) {
    match e {
        HttpError::MalformedBody(m) => (3, "invalid_argument", 400, m.clone()),
        HttpError::PayloadTooLarge => (8, "resource_exhausted", 413, "request body larger than 64 KiB".into()),
        HttpError::UnsupportedMediaType => (3, "invalid_argument", 415, "content type must be application/json".into()),
        HttpError::MethodNotAllowed => (12, "unimplemented", 405, "method not allowed".into()),
    }
}

/// gRPC code number, Connect code name, and the HTTP status each transport uses.
fn status_of(f: &Failure) -> (u32, &'static str, u16, u16) {
    match f {
        Failure::Unauthenticated => (16, "unauthenticated", 401, 401),
        Failure::Forbidden(_) | Failure::RoleNotHeld => (7, "permission_denied", 403, 403),
        Failure::NotFound => (5, "not_found", 404, 404),
        Failure::Invalid(_) | Failure::ProofRejected(_) | Failure::ProofNotAccepted(_) => (3, "invalid_argument", 400, 400),
        Failure::Conflict(_) => (6, "already_exists", 409, 409),
        Failure::PreconditionFailed | Failure::StateConflict(_) => (9, "failed_precondition", 400, 400),
        Failure::RateLimited { .. } => (8, "resource_exhausted", 429, 429),
        Failure::Internal(_) => (13, "internal", 500, 500),
    }
}

fn message_and_violations(f: &Failure) -> (String, Vec<FieldError>) {
    match f {
        Failure::Unauthenticated => ("auth header missing or invalid (send a personal access token as Bearer)".into(), vec![]),
        Failure::RoleNotHeld => ("the token's admin role is no longer held".into(), vec![]),
        Failure::Forbidden(Denial::Fields(fields)) => {
            let v: Vec<FieldError> =
                fields.iter().map(|f| FieldError::new(wire_name(*f), "may only be set by an org admin")).collect();
            (format!("permission denied: {}", fields.iter().map(|f| wire_name(*f)).collect::<Vec<_>>().join(", ")), v)
        }
        Failure::Forbidden(_) => ("permission denied".into(), vec![]),
        Failure::NotFound => ("User could not be found".into(), vec![]),
        Failure::Invalid(errors) => {
            let list: Vec<String> = errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect();
            (format!("invalid argument: {}", list.join("; ")), errors.clone())
        }
        Failure::ProofNotAccepted(kind) => {
            let member = match kind {
                ProofKind::CurrentPassword => "password.currentPassword",
                ProofKind::VerificationCode => "password.verificationCode",
            };
            let why = "is not accepted: an admin sets another user's password without proof";
            (format!("invalid argument: {member}: {why}"), vec![FieldError::new(member, why)])
        }
        Failure::ProofRejected(ProofKind::CurrentPassword) => {
            ("Password is invalid".into(), vec![FieldError::new("password.currentPassword", "does not match")])
        }
        Failure::ProofRejected(ProofKind::VerificationCode) => {
            ("Code is invalid or expired".into(), vec![FieldError::new("verificationCode", "is invalid or expired")])
        }
        Failure::Conflict(field) => {
            (format!("{} is already taken", wire_name(*field)), vec![FieldError::new(wire_name(*field), "is already taken")])
        }
        Failure::PreconditionFailed => ("the user has changed since the version in If-Match".into(), vec![]),
        Failure::StateConflict(why) => ((*why).into(), vec![]),
        Failure::RateLimited { .. } => ("too many attempts; try again later".into(), vec![]),
        Failure::Internal(_) => ("internal error".into(), vec![]),
    }
}

pub fn render_error(r: &Refusal, transport: Transport) -> Response {
    let (grpc, connect, rest_status, connect_status, message, violations) = match r {
        Refusal::Http(e) => {
            let (grpc, connect, status, message) = http(e);
            (grpc, connect, status, status, message, vec![])
        }
        Refusal::Core(f) => {
            let (grpc, connect, rest_status, connect_status) = status_of(f);
            let (message, violations) = message_and_violations(f);
            (grpc, connect, rest_status, connect_status, message, violations)
        }
    };
    let resp = match transport {
        Transport::Rest => {
            let mut details = vec![json!({
                "@type": "type.googleapis.com/zitadel.v1.ErrorDetail",
                "id": format!("USERS-EDGE-{grpc}"),
                "message": message,
            })];
            if !violations.is_empty() {
                details.push(json!({
                    "@type": "type.googleapis.com/google.rpc.BadRequest",
                    "fieldViolations": violations.iter().map(|v| json!({"field": v.field, "description": v.message})).collect::<Vec<_>>(),
                }));
            }
            Response::json(rest_status, &json!({ "code": grpc, "message": message, "details": details }))
        }
        Transport::Connect => Response::json(connect_status, &json!({ "code": connect, "message": message })),
    };
    match r {
        Refusal::Core(Failure::RateLimited { retry_after }) => resp.with_header("retry-after", retry_after.to_string()),
        _ => resp,
    }
}
