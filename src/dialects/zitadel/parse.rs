//! Request messages → canonical commands.

use super::proto::{empty_message, nested, oneof, reader};
use super::Message;
use crate::dialects::Reader;
use crate::error::Failure;
use crate::model::{NewSecret, PasswordChange, Patch, Proof, UserPatch, Verification};
use crate::password::ImportedHash;
use crate::values::{Email, Gender, LanguageTag, Phone, ShortText, UrlTemplate, Username};
use serde_json::Value;

/// Given or family name: 1 to 200 characters, not all white space; `required` in a full profile.
/// ZITADEL trims a name and refuses one left empty (`Errors.User.Profile.FirstNameEmpty`); a name
/// with letters is kept exactly as sent, so a client reads back what it wrote.
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
        Patch::Set(t) if t.as_str().trim().is_empty() => {
            r.error(key, "must not be only white space");
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
        Value::Number(n) => match crate::values::whole_number(n) {
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
