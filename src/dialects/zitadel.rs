//! ZITADEL user service v2 (seed 001), over its REST gateway (`PUT /v2/users/human/{userId}`)
//! and the Connect protocol with the JSON codec (`POST /zitadel.user.v2.UserService/...`).
//!
//! Proto3 JSON: lowerCamelCase names (the proto's snake_case names are accepted too), `null`
//! means unset, int64 as strings, timestamps RFC 3339 with `Z`. A oneof with more than one member
//! set is invalid, as protojson has it — so the seed's illustrative curl body, which sets every
//! member of every oneof, is refused with each conflict named (tested verbatim).

use super::{NullMeans, Reader};
use crate::error::{Failure, FieldError, ProofKind};
use crate::http::Response;
use crate::model::{Field, NewSecret, PasswordChange, Patch, Proof, User, UserPatch, Verification};
use crate::password::ImportedHash;
use crate::policy::{Access::*, Denial, Rules};
use crate::values::{Email, Gender, LanguageTag, Phone, ShortText, UrlTemplate, Username};
use serde_json::{json, Map, Value};

pub static RULES: Rules = Rules {
    dialect: "zitadel",
    admin_keys_only: false,
    fields: &[
        (Field::Username, SelfService),
        (Field::GivenName, SelfService),
        (Field::FamilyName, SelfService),
        (Field::NickName, SelfService),
        (Field::Name, SelfService),
        (Field::PreferredLanguage, SelfService),
        (Field::Gender, SelfService),
        (Field::Email, SelfService),
        (Field::EmailVerified, AdminOnly),
        (Field::EmailCodeReturn, AdminOnly),
        (Field::Phone, SelfService),
        (Field::PhoneVerified, AdminOnly),
        (Field::PhoneCodeReturn, AdminOnly),
        (Field::Password, SelfWithProof),
        (Field::PasswordHashImport, AdminOnly),
        (Field::PasswordCodeReturn, AdminOnly),
    ],
};

pub fn wire_name(field: Field) -> &'static str {
    match field {
        Field::GivenName => "profile.givenName",
        Field::FamilyName => "profile.familyName",
        Field::NickName => "profile.nickName",
        Field::Name => "profile.displayName",
        Field::PreferredLanguage => "profile.preferredLanguage",
        Field::Gender => "profile.gender",
        Field::Email => "email.email",
        Field::EmailVerified => "email.isVerified",
        Field::EmailCodeReturn => "email.returnCode",
        Field::Phone => "phone.phone",
        Field::PhoneVerified => "phone.isVerified",
        Field::PhoneCodeReturn => "phone.returnCode",
        Field::Password => "password.password",
        Field::PasswordHashImport => "password.hashedPassword",
        Field::PasswordCodeReturn => "returnCode",
        f => f.name(),
    }
}

/// The two ways this API is spoken. Errors look different on each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Rest,
    Connect,
}

/// Which request message a body is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Message {
    /// `UpdateHumanUserRequest`: a `profile` replaces the profile (given and family name required).
    UpdateHumanUser,
    /// `UpdateUserRequest`: `{userId, username?, human?: {...}}`, every field optional.
    UpdateUser,
}

/// proto snake_case → JSON lowerCamelCase, for every name this dialect reads.
const ALIASES: &[(&str, &str)] = &[
    ("user_id", "userId"),
    ("given_name", "givenName"),
    ("family_name", "familyName"),
    ("nick_name", "nickName"),
    ("display_name", "displayName"),
    ("preferred_language", "preferredLanguage"),
    ("send_code", "sendCode"),
    ("return_code", "returnCode"),
    ("is_verified", "isVerified"),
    ("url_template", "urlTemplate"),
    ("hashed_password", "hashedPassword"),
    ("change_required", "changeRequired"),
    ("current_password", "currentPassword"),
    ("verification_code", "verificationCode"),
    ("send_link", "sendLink"),
    ("notification_type", "notificationType"),
];

/// A reader over a proto3 JSON object: snake_case names renamed, `null` meaning unset.
fn reader(value: Value, name: &str, prefix: &str) -> Result<Reader, FieldError> {
    let Value::Object(obj) = value else { return Err(FieldError::new(name, "must be an object")) };
    let mut out = Map::new();
    let mut errors = Vec::new();
    for (k, v) in obj {
        let key = ALIASES.iter().find(|(snake, _)| *snake == k).map_or(k.clone(), |(_, camel)| camel.to_string());
        if out.contains_key(&key) {
            errors.push(FieldError::new(format!("{prefix}{key}"), "is given twice (camelCase and snake_case)"));
        }
        out.insert(key, v);
    }
    let mut r = Reader::new(out, prefix, NullMeans::Keep);
    r.extend(errors);
    Ok(r)
}

/// Take a nested message; `null` or absent is unset.
fn nested(r: &mut Reader, key: &str) -> Option<Result<Reader, FieldError>> {
    match r.take_raw(key) {
        None | Some(Value::Null) => None,
        Some(v) => Some(reader(v, &r.path(key), &format!("{}.", r.path(key)))),
    }
}

/// Set members of a oneof, in order; more than one is an error on the oneof's parent.
fn oneof(r: &mut Reader, members: &[&str]) -> Vec<(String, Value)> {
    let set: Vec<(String, Value)> =
        members.iter().filter_map(|m| r.take_raw(m).filter(|v| !v.is_null()).map(|v| (m.to_string(), v))).collect();
    if set.len() > 1 {
        let names: Vec<&str> = set.iter().map(|(k, _)| k.as_str()).collect();
        r.error(&set[1].0, format!("only one of {} may be set", names.join(", ")));
    }
    set
}

/// Given or family name: 1 to 200 characters; `required` in a full profile.
fn bounded_name(r: &mut Reader, key: &str, required: bool) -> Patch<ShortText> {
    if required && r.is_unset(key) {
        r.error(key, "is required");
        return Patch::Keep;
    }
    match r.patch::<ShortText>(key) {
        Patch::Set(t) if t.as_str().is_empty() || t.as_str().chars().count() > 200 => {
            r.error(key, "must be 1 to 200 characters");
            Patch::Keep
        }
        p => p,
    }
}

/// Optional free text where `""` clears, as proto3 optional strings are used by ZITADEL.
fn optional_text(r: &mut Reader, key: &str) -> Patch<ShortText> {
    if r.peek(key).is_some_and(|v| v == "") {
        r.take_raw(key);
        return Patch::Clear;
    }
    match r.patch::<ShortText>(key) {
        Patch::Set(t) if t.as_str().chars().count() > 200 => {
            r.error(key, "must be at most 200 characters");
            Patch::Keep
        }
        p => p,
    }
}

fn gender(r: &mut Reader, key: &str) -> Patch<Gender> {
    let v = match r.take_raw(key) {
        None | Some(Value::Null) => return Patch::Keep,
        Some(v) => v,
    };
    let name = match &v {
        Value::String(s) => s.strip_prefix("GENDER_").unwrap_or(s).to_string(),
        Value::Number(n) => match n.as_u64() {
            Some(0) => "UNSPECIFIED".into(),
            Some(1) => "FEMALE".into(),
            Some(2) => "MALE".into(),
            Some(3) => "DIVERSE".into(),
            _ => String::new(),
        },
        _ => String::new(),
    };
    match name.as_str() {
        "UNSPECIFIED" => Patch::Clear,
        "FEMALE" => Patch::Set(Gender::Female),
        "MALE" => Patch::Set(Gender::Male),
        "DIVERSE" => Patch::Set(Gender::Diverse),
        _ => {
            r.error(key, "must be one of GENDER_UNSPECIFIED, GENDER_FEMALE, GENDER_MALE, GENDER_DIVERSE");
            Patch::Keep
        }
    }
}

fn empty_message(r: &mut Reader, key: &str, v: Value) {
    match v {
        Value::Object(m) if m.is_empty() => {}
        Value::Object(m) => {
            for k in m.keys() {
                r.error(&format!("{key}.{k}"), "is not a recognised field");
            }
        }
        _ => r.error(key, "must be an object"),
    }
}

fn profile(r: &mut Reader, patch: &mut UserPatch, message: Message) {
    let Some(p) = nested(r, "profile") else { return };
    let mut p = match p {
        Ok(p) => p,
        Err(e) => return r.extend(vec![e]),
    };
    let full = message == Message::UpdateHumanUser;
    patch.given_name = bounded_name(&mut p, "givenName", full);
    patch.family_name = bounded_name(&mut p, "familyName", full);
    patch.nick_name = optional_text(&mut p, "nickName");
    patch.name = optional_text(&mut p, "displayName");
    patch.preferred_language = if p.peek("preferredLanguage").is_some_and(|v| v == "") {
        p.take_raw("preferredLanguage");
        Patch::Clear
    } else {
        p.patch::<LanguageTag>("preferredLanguage")
    };
    patch.gender = gender(&mut p, "gender");
    r.extend(p.finish());
}

/// What an `email` or `phone` message asks for.
struct Contact<T> {
    value: T,
    verified: Patch<bool>,
    verification: Option<Verification>,
}

/// `email` / `phone`: the address plus the `verification` oneof (`sendCode`, `returnCode`,
/// `isVerified`). With none of them a code is sent, as ZITADEL does.
fn contact<T: crate::values::FromJson>(r: &mut Reader, key: &str, value_key: &str, is_email: bool) -> Option<Contact<T>> {
    let mut c = match nested(r, key)? {
        Ok(c) => c,
        Err(e) => {
            r.extend(vec![e]);
            return None;
        }
    };
    let mut verified = Patch::Keep;
    let mut verification = Some(Verification::Send { url_template: None });
    if let Some((member, v)) = oneof(&mut c, &["sendCode", "returnCode", "isVerified"]).into_iter().next() {
        match (member.as_str(), v) {
            ("sendCode", Value::Object(mut m)) if is_email => {
                let tpl = m.remove("urlTemplate").or_else(|| m.remove("url_template"));
                for k in m.keys() {
                    c.error(&format!("sendCode.{k}"), "is not a recognised field");
                }
                match tpl {
                    None | Some(Value::Null) => {}
                    Some(Value::String(s)) => match UrlTemplate::parse(&s) {
                        Ok(t) => verification = Some(Verification::Send { url_template: Some(t) }),
                        Err(msg) => c.error("sendCode.urlTemplate", msg),
                    },
                    Some(_) => c.error("sendCode.urlTemplate", "must be a string"),
                }
            }
            ("sendCode", v) => empty_message(&mut c, "sendCode", v),
            ("returnCode", v) => {
                empty_message(&mut c, "returnCode", v);
                verification = Some(Verification::Return);
            }
            (_, Value::Bool(b)) => {
                verified = Patch::Set(b);
                verification = None;
            }
            (m, _) => c.error(m, "must be a boolean"),
        }
    }
    let value = c.required::<T>(value_key);
    r.extend(c.finish());
    value.map(|value| Contact { value, verified, verification })
}

fn password(r: &mut Reader) -> Option<PasswordChange> {
    let mut p = match nested(r, "password")? {
        Ok(p) => p,
        Err(e) => {
            r.extend(vec![e]);
            return None;
        }
    };
    let kind = oneof(&mut p, &["password", "hashedPassword"]).into_iter().next();
    let proof = oneof(&mut p, &["currentPassword", "verificationCode"]).into_iter().next();
    let mut secret = None;
    let mut change_required = false;
    match kind {
        None => p.error("password", "one of password or hashedPassword is required"),
        Some((member, v)) => {
            let inner_key = if member == "password" { "password" } else { "hash" };
            let path = p.path(&member);
            match reader(v, &path, &format!("{path}.")) {
                Err(e) => p.extend(vec![e]),
                Ok(mut inner) => {
                    change_required = inner.optional::<bool>("changeRequired").unwrap_or(false);
                    match inner.take_raw(inner_key) {
                        Some(Value::String(s)) => {
                            let parsed = if member == "password" {
                                crate::password::parse_new(&s).map(NewSecret::Plain)
                            } else {
                                ImportedHash::parse(&s).map(NewSecret::Imported)
                            };
                            match parsed {
                                Ok(sec) => secret = Some(sec),
                                Err(msg) => inner.error(inner_key, msg),
                            }
                        }
                        None | Some(Value::Null) => inner.error(inner_key, "is required"),
                        Some(_) => inner.error(inner_key, "must be a string"),
                    }
                    p.extend(inner.finish());
                }
            }
        }
    }
    let proof = match proof {
        None => None,
        // Bounded in characters, as the password policy is: any password it allows can be proven.
        Some((member, Value::String(s))) if !s.is_empty() && s.chars().count() <= crate::password::MAX_CHARS => {
            Some(if member == "currentPassword" { Proof::CurrentPassword(s) } else { Proof::Code(s) })
        }
        Some((member, _)) => {
            p.error(&member, "must be a non-empty string");
            None
        }
    };
    r.extend(p.finish());
    secret.map(|secret| PasswordChange { secret, change_required, proof })
}

fn human(h: &mut Reader, patch: &mut UserPatch, message: Message) {
    profile(h, patch, message);
    if let Some(c) = contact::<Email>(h, "email", "email", true) {
        patch.email = Patch::Set(c.value);
        patch.email_verified = c.verified;
        patch.email_verification = c.verification;
    }
    if let Some(c) = contact::<Phone>(h, "phone", "phone", false) {
        patch.phone = Patch::Set(c.value);
        patch.phone_verified = c.verified;
        patch.phone_verification = c.verification;
    }
    patch.password = password(h);
}

/// An update request (either message) → the target id it names (if any) and the patch.
pub fn parse_update(body: Value, message: Message) -> Result<(Option<String>, UserPatch), Failure> {
    let mut r = reader(body, "body", "").map_err(|e| Failure::Invalid(vec![e]))?;
    let user_id = match r.take_raw("userId") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(_) => {
            r.error("userId", "must be a string");
            None
        }
    };
    let mut patch = UserPatch { username: r.patch::<Username>("username"), ..Default::default() };
    match message {
        Message::UpdateHumanUser => human(&mut r, &mut patch, message),
        // UpdateUser nests the human fields one level down.
        Message::UpdateUser => match nested(&mut r, "human") {
            None => {}
            Some(Err(e)) => r.extend(vec![e]),
            Some(Ok(mut h)) => {
                human(&mut h, &mut patch, message);
                let errors = h.finish();
                r.extend(errors);
            }
        },
    }
    let errors = r.finish();
    if errors.is_empty() {
        Ok((user_id, patch))
    } else {
        Err(Failure::Invalid(errors))
    }
}

/// `{verificationCode}` (plus `userId` on Connect).
pub fn parse_verify(body: Value) -> Result<(Option<String>, String), Failure> {
    let mut r = reader(body, "body", "").map_err(|e| Failure::Invalid(vec![e]))?;
    let user_id = r.optional::<ShortText>("userId").map(|t| t.as_str().to_string());
    let code = match r.take_raw("verificationCode") {
        Some(Value::String(s)) if !s.is_empty() && s.len() <= 64 => Some(s),
        None | Some(Value::Null) => {
            r.error("verificationCode", "is required");
            None
        }
        Some(_) => {
            r.error("verificationCode", "must be a non-empty string of at most 64 characters");
            None
        }
    };
    let errors = r.finish();
    match code {
        Some(c) if errors.is_empty() => Ok((user_id, c)),
        _ => Err(Failure::Invalid(errors)),
    }
}

/// `{sendLink?: {notificationType?, urlTemplate?}, returnCode?: {}}` (plus `userId` on Connect).
pub fn parse_password_reset(body: Value) -> Result<(Option<String>, Verification), Failure> {
    let mut r = reader(body, "body", "").map_err(|e| Failure::Invalid(vec![e]))?;
    let user_id = r.optional::<ShortText>("userId").map(|t| t.as_str().to_string());
    let mut verification = Verification::Send { url_template: None };
    match oneof(&mut r, &["sendLink", "returnCode"]).into_iter().next() {
        Some((m, v)) if m == "returnCode" => {
            empty_message(&mut r, "returnCode", v);
            verification = Verification::Return;
        }
        Some((_, v)) => match reader(v, "sendLink", "sendLink.") {
            Err(e) => r.extend(vec![e]),
            Ok(mut s) => {
                match s.take_raw("notificationType") {
                    None | Some(Value::Null) => {}
                    Some(Value::String(t))
                        if matches!(t.as_str(), "NOTIFICATION_TYPE_Unspecified" | "NOTIFICATION_TYPE_Email") => {}
                    Some(_) => s.error("notificationType", "only email delivery is supported (NOTIFICATION_TYPE_Email)"),
                }
                match s.take_raw("urlTemplate") {
                    None | Some(Value::Null) => {}
                    Some(Value::String(t)) => match UrlTemplate::parse(&t) {
                        Ok(t) => verification = Verification::Send { url_template: Some(t) },
                        Err(msg) => s.error("urlTemplate", msg),
                    },
                    Some(_) => s.error("urlTemplate", "must be a string"),
                }
                let errors = s.finish();
                r.extend(errors);
            }
        },
        None => {}
    }
    let errors = r.finish();
    if errors.is_empty() {
        Ok((user_id, verification))
    } else {
        Err(Failure::Invalid(errors))
    }
}

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

/// gRPC code number, Connect code name, and the HTTP status each transport uses.
fn status_of(f: &Failure) -> (u32, &'static str, u16, u16) {
    match f {
        Failure::Unauthenticated => (16, "unauthenticated", 401, 401),
        Failure::Forbidden(_) | Failure::RoleNotHeld => (7, "permission_denied", 403, 403),
        Failure::NotFound => (5, "not_found", 404, 404),
        Failure::Invalid(_) | Failure::MalformedBody(_) | Failure::ProofRejected(_) => (3, "invalid_argument", 400, 400),
        Failure::Conflict(_) => (6, "already_exists", 409, 409),
        Failure::PreconditionFailed => (9, "failed_precondition", 400, 400),
        Failure::PayloadTooLarge => (8, "resource_exhausted", 413, 413),
        Failure::UnsupportedMediaType => (3, "invalid_argument", 415, 415),
        Failure::MethodNotAllowed => (12, "unimplemented", 405, 405),
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
        Failure::MalformedBody(m) => (m.clone(), vec![]),
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
        Failure::PayloadTooLarge => ("request body larger than 64 KiB".into(), vec![]),
        Failure::UnsupportedMediaType => ("content type must be application/json".into(), vec![]),
        Failure::MethodNotAllowed => ("method not allowed".into(), vec![]),
        Failure::RateLimited { .. } => ("too many attempts; try again later".into(), vec![]),
        Failure::Internal(_) => ("internal error".into(), vec![]),
    }
}

pub fn render_error(f: &Failure, transport: Transport) -> Response {
    let (grpc, connect, rest_status, connect_status) = status_of(f);
    let (message, violations) = message_and_violations(f);
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
    match f {
        Failure::RateLimited { retry_after } => resp.with_header("retry-after", retry_after.to_string()),
        _ => resp,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The seed's curl body, verbatim (shared with the workerd tests).
    const SEED: &str = include_str!("../../tests/fixtures/zitadel-seed-curl-body.json");

    #[test]
    fn seed_body_verbatim_names_every_oneof_conflict() {
        let body: Value = serde_json::from_str(SEED).unwrap();
        let Err(Failure::Invalid(errors)) = parse_update(body, Message::UpdateHumanUser) else { panic!("oneof conflicts") };
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["email.returnCode", "phone.returnCode", "password.hashedPassword", "password.verificationCode"]);
        assert!(errors[0].message.contains("only one of sendCode, returnCode, isVerified"));
    }

    /// The seed's body with one member per oneof, as a real client sends it.
    #[test]
    fn seed_body_one_choice_per_oneof() {
        let mut body: Value = serde_json::from_str(SEED).unwrap();
        body["email"].as_object_mut().unwrap().retain(|k, _| k != "returnCode" && k != "isVerified");
        body["phone"].as_object_mut().unwrap().retain(|k, _| k != "sendCode" && k != "isVerified");
        body["password"].as_object_mut().unwrap().retain(|k, _| k != "hashedPassword" && k != "verificationCode");
        let (user_id, patch) = parse_update(body, Message::UpdateHumanUser).unwrap();
        assert_eq!(user_id, None);
        assert_eq!(patch.username.set().unwrap().as_str(), "minnie-mouse");
        assert_eq!(patch.given_name.set().unwrap().as_str(), "Minnie");
        assert_eq!(patch.name.set().unwrap().as_str(), "Minnie Mouse");
        assert_eq!(patch.gender, Patch::Set(Gender::Female));
        assert_eq!(patch.email.set().unwrap().as_str(), "mini@mouse.com");
        assert!(matches!(&patch.email_verification, Some(Verification::Send { url_template: Some(_) })));
        assert_eq!(patch.phone_verification, Some(Verification::Return));
        let pw = patch.password.unwrap();
        assert!(pw.change_required);
        assert!(matches!(pw.proof, Some(Proof::CurrentPassword(_))));
        assert!(matches!(pw.secret, NewSecret::Plain(_)));
    }

    #[test]
    fn snake_case_names_and_nulls() {
        let body = json!({"user_id": "abc", "username": null, "profile": {"given_name": "A", "family_name": "B", "nick_name": null,
            "display_name": "", "preferred_language": "de-CH", "gender": 3}, "email": null, "phone": null, "password": null});
        let (user_id, patch) = parse_update(body, Message::UpdateHumanUser).unwrap();
        assert_eq!(user_id.as_deref(), Some("abc"));
        assert_eq!(patch.username, Patch::Keep, "null means unset in proto3 JSON");
        assert_eq!(patch.nick_name, Patch::Keep);
        assert_eq!(patch.name, Patch::Clear);
        assert_eq!(patch.gender, Patch::Set(Gender::Diverse));
        assert_eq!(patch.preferred_language.set().unwrap().as_str(), "de-CH");
        assert!(patch.email.is_keep() && patch.password.is_none());
        let Err(Failure::Invalid(e)) =
            parse_update(json!({"username": "a", "userName": "b", "user_name": 1}), Message::UpdateHumanUser)
        else {
            panic!()
        };
        assert_eq!(e.len(), 2, "unknown names are refused: {e:?}");
    }

    #[test]
    fn full_profile_requires_names_partial_does_not() {
        let Err(Failure::Invalid(e)) = parse_update(json!({"profile": {"nickName": "x"}}), Message::UpdateHumanUser) else {
            panic!()
        };
        let fields: Vec<_> = e.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["profile.givenName", "profile.familyName"]);
        let (_, patch) =
            parse_update(json!({"userId": "1", "human": {"profile": {"nickName": "x"}}}), Message::UpdateUser).unwrap();
        assert_eq!(patch.touched(), vec![Field::NickName]);
        assert!(parse_update(json!({"human": {"profile": {"givenName": ""}}}), Message::UpdateUser).is_err());
    }

    /// A proof is as long as the password policy allows, counted in characters: a current
    /// password of 256 two-byte characters (512 bytes) is a valid password and must be provable.
    #[test]
    fn proofs_are_bounded_like_passwords_in_characters() {
        let long = "é".repeat(crate::password::MAX_CHARS);
        assert!(crate::password::parse_new(&long).is_ok());
        for proof in ["currentPassword", "verificationCode"] {
            let body = json!({"password": {"password": {"password": "N3w-Passw0rd!"}, proof: long}});
            let (_, patch) = parse_update(body, Message::UpdateHumanUser).unwrap_or_else(|e| panic!("{proof}: {e:?}"));
            assert!(patch.password.unwrap().proof.is_some(), "{proof}");
            let body = json!({"password": {"password": {"password": "N3w-Passw0rd!"}, proof: format!("{long}é")}});
            assert!(parse_update(body, Message::UpdateHumanUser).is_err(), "{proof}: 257 characters");
            let body = json!({"password": {"password": {"password": "N3w-Passw0rd!"}, proof: ""}});
            assert!(parse_update(body, Message::UpdateHumanUser).is_err(), "{proof}: empty");
        }
    }

    #[test]
    fn hashed_password_import_and_bad_formats() {
        let (_, patch) = parse_update(
            json!({"password": {"hashedPassword": {"hash": "$2b$04$abcdefghijklmnopqrstuuK9NkMbkTdlkI7nmdOaTyFXL5HTd/cM6"}}}),
            Message::UpdateHumanUser,
        )
        .unwrap();
        assert!(matches!(patch.password.unwrap().secret, NewSecret::Imported(_)));
        let Err(Failure::Invalid(e)) = parse_update(
            json!({"password": {"hashedPassword": {"hash": "$argon2id$v=19$m=1,t=1,p=1$c2FsdA$aGFzaA"}}}),
            Message::UpdateHumanUser,
        ) else {
            panic!()
        };
        assert_eq!(e[0].field, "password.hashedPassword.hash");
    }

    #[test]
    fn error_shapes_on_both_transports() {
        let f = Failure::Invalid(vec![FieldError::new("profile.givenName", "is required")]);
        let rest: Value = serde_json::from_slice(&render_error(&f, Transport::Rest).body).unwrap();
        assert_eq!(rest["code"], 3);
        assert_eq!(rest["details"][1]["fieldViolations"][0]["field"], "profile.givenName");
        let connect = render_error(&f, Transport::Connect);
        assert_eq!(connect.status, 400);
        let body: Value = serde_json::from_slice(&connect.body).unwrap();
        assert_eq!(body["code"], "invalid_argument");
        for (f, grpc, name, status) in [
            (Failure::NotFound, 5, "not_found", 404),
            (Failure::Forbidden(Denial::NotSelf), 7, "permission_denied", 403),
            (Failure::Unauthenticated, 16, "unauthenticated", 401),
            (Failure::Conflict(Field::Username), 6, "already_exists", 409),
            (Failure::PreconditionFailed, 9, "failed_precondition", 400),
        ] {
            let r = render_error(&f, Transport::Rest);
            assert_eq!((r.status, serde_json::from_slice::<Value>(&r.body).unwrap()["code"].clone()), (status, json!(grpc)));
            let c = render_error(&f, Transport::Connect);
            assert_eq!((c.status, serde_json::from_slice::<Value>(&c.body).unwrap()["code"].clone()), (status, json!(name)));
            assert_eq!(c.header("content-type"), Some("application/json"));
        }
    }
}
