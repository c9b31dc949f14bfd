//! Proto3 JSON as protojson reads it: lowerCamelCase names (the proto's snake_case accepted
//! too, but not both), `null` meaning unset, a oneof with at most one member set.

use crate::dialects::{NullMeans, Reader};
use crate::error::FieldError;
use serde_json::{Map, Value};

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
pub(super) fn reader(value: Value, name: &str, prefix: &str) -> Result<Reader, FieldError> {
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
pub(super) fn nested(r: &mut Reader, key: &str) -> Option<Result<Reader, FieldError>> {
    match r.take_raw(key) {
        None | Some(Value::Null) => None,
        Some(v) => Some(reader(v, &r.path(key), &format!("{}.", r.path(key)))),
    }
}

/// Set members of a oneof, in order; more than one is an error on the oneof's parent.
pub(super) fn oneof(r: &mut Reader, members: &[&str]) -> Vec<(String, Value)> {
    let set: Vec<(String, Value)> =
        members.iter().filter_map(|m| r.take_raw(m).filter(|v| !v.is_null()).map(|v| (m.to_string(), v))).collect();
    if set.len() > 1 {
        let names: Vec<&str> = set.iter().map(|(k, _)| k.as_str()).collect();
        r.error(&set[1].0, format!("only one of {} may be set", names.join(", ")));
    }
    set
}

pub(super) fn empty_message(r: &mut Reader, key: &str, v: Value) {
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
