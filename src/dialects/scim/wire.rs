//! SCIM User and Group JSON ↔ the canonical directory (docs/scim.md, "Mapping").
//!
//! A User's attributes with a canonical field live in their columns, so every dialect sees the
//! same value; every other RFC 7643 User and Enterprise User attribute lives in the user's SCIM
//! document (`users.scim`), exactly as sent. `emails` and `phoneNumbers` are kept whole in the
//! document and their primary (or first) value is the canonical email / phone: rendering puts
//! the canonical value back in, so a change made through another dialect shows here.
//! `preferredLanguage`, `timezone` and a phone number are canonical when they parse as the
//! directory's types (a BCP 47 tag, an IANA zone, E.164); SCIM types them as plain strings, so
//! a value that doesn't parse is kept in the document instead of being refused.

use super::resource;
use super::schema::{ENTERPRISE_USER_URN, GROUP, GROUP_URN, USER, USER_URN};
use crate::error::FieldError;
use crate::model::{NewPassword, PasswordChange, Patch, ScimDocument, Target, User, UserPatch};
use crate::pipeline::{Group, GroupState, Member};
use crate::store::scim::NO_EMAIL_DOMAIN;
use crate::values::{Email, LanguageTag, Phone, ShortText, TimeZone, Username};
use serde_json::{json, Map, Value};

/// Marks, in the document, a user whose `active` a client left out or removed: it is active
/// and shows no `active` until a client sets one. Clients cannot send it (unknown attributes
/// are dropped on the way in).
const ACTIVE_OMITTED: &str = "$activeOmitted";

/// A User as the client wants it, in canonical terms plus the document.
#[derive(Debug, Clone, PartialEq)]
pub struct UserState {
    pub username: Username,
    pub external_id: Option<ShortText>,
    pub name: Option<ShortText>,
    pub given_name: Option<ShortText>,
    pub family_name: Option<ShortText>,
    pub nick_name: Option<ShortText>,
    pub title: Option<ShortText>,
    pub preferred_language: Option<LanguageTag>,
    pub timezone: Option<TimeZone>,
    pub email: Option<Email>,
    pub phone: Option<Phone>,
    /// `active` as sent: absent is an active user that shows no `active` (a client removed it).
    pub active: Option<bool>,
    pub password: Option<NewPassword>,
    pub doc: Map<String, Value>,
}

struct Errors(Vec<FieldError>);

impl Errors {
    fn text(&mut self, doc: &mut Map<String, Value>, key: &str) -> Option<ShortText> {
        let s = take_str(doc, key)?;
        ShortText::parse(&s).map_err(|m| self.0.push(FieldError::new(key, m))).ok()
    }
}

fn take_str(doc: &mut Map<String, Value>, key: &str) -> Option<String> {
    match doc.remove(key)? {
        Value::String(s) => Some(s),
        _ => None,
    }
}

/// A User body (POST, PUT, a PATCH's result) → the state it asks for; every bad attribute named.
pub fn user_state(body: &Value) -> Result<UserState, Vec<FieldError>> {
    let (mut doc, errors) = resource::checked_parts(&USER, body);
    let mut e = Errors(errors);
    let username = match take_str(&mut doc, "userName") {
        Some(u) => Username::parse(&u).map_err(|m| e.0.push(FieldError::new("userName", m))).ok(),
        None => {
            e.0.push(FieldError::new("userName", "is required"));
            None
        }
    };
    let (given_name, family_name) = name_parts(&mut doc, &mut e);
    let external_id = e.text(&mut doc, "externalId");
    let name = e.text(&mut doc, "displayName");
    let nick_name = e.text(&mut doc, "nickName");
    let title = e.text(&mut doc, "title");
    let preferred_language = lenient(&mut doc, "preferredLanguage", LanguageTag::parse);
    let timezone = lenient(&mut doc, "timezone", TimeZone::parse);
    let active = doc.remove("active").and_then(|v| v.as_bool());
    if active.is_none() {
        doc.insert(ACTIVE_OMITTED.into(), Value::Bool(true));
    }
    let password = take_str(&mut doc, "password")
        .and_then(|pw| crate::password::parse_new(&pw).map_err(|m| e.0.push(FieldError::new("password", m))).ok());
    let email = primary(&doc, "emails", &mut e)
        .and_then(|(i, v)| Email::parse(&v).map_err(|m| e.0.push(FieldError::new(format!("emails[{i}].value"), m))).ok());
    let phone = primary(&doc, "phoneNumbers", &mut e).and_then(|(_, v)| Phone::parse(&v).ok());
    if let Some(largest) = oversized(&doc) {
        e.0.push(FieldError::new(
            largest,
            format!("makes the user's other SCIM attributes larger than {} KiB", MAX_DOC_BYTES / 1024),
        ));
    }
    match username {
        Some(username) if e.0.is_empty() => Ok(UserState {
            username,
            external_id,
            name,
            given_name,
            family_name,
            nick_name,
            title,
            preferred_language,
            timezone,
            email,
            phone,
            active,
            password,
            doc,
        }),
        _ => Err(e.0),
    }
}

/// The most a user's SCIM attributes without a canonical field may take, stored (a request body's
/// own limit: a PUT that fits is never refused). PATCHes could otherwise grow the document, a
/// request at a time, past what D1 stores in one value.
pub const MAX_DOC_BYTES: usize = 64 * 1024;

/// Over the limit: the attribute that takes the most, to name in the error.
fn oversized(doc: &Map<String, Value>) -> Option<String> {
    if resource::json_len(doc) <= MAX_DOC_BYTES {
        return None;
    }
    doc.iter().max_by_key(|(_, v)| resource::json_len(*v)).map(|(k, _)| k.clone())
}

/// `name.givenName` and `name.familyName` are canonical; the rest of `name` stays.
fn name_parts(doc: &mut Map<String, Value>, e: &mut Errors) -> (Option<ShortText>, Option<ShortText>) {
    let Some(Value::Object(mut name)) = doc.remove("name") else { return (None, None) };
    let mut part = |key: &str| {
        let s = take_str(&mut name, key)?;
        ShortText::parse(&s).map_err(|m| e.0.push(FieldError::new(format!("name.{key}"), m))).ok()
    };
    let parts = (part("givenName"), part("familyName"));
    if !name.is_empty() {
        doc.insert("name".into(), Value::Object(name));
    }
    parts
}

/// A value canonical when it parses; otherwise it stays in the document as sent.
fn lenient<T>(doc: &mut Map<String, Value>, key: &str, parse: fn(&str) -> Result<T, String>) -> Option<T> {
    let s = doc.get(key)?.as_str()?;
    let parsed = parse(s).ok()?;
    doc.remove(key);
    Some(parsed)
}

/// The primary (or else first) value of a multi-valued attribute, and its index. More than one
/// primary is refused (RFC 7643 §2.4).
fn primary(doc: &Map<String, Value>, key: &str, e: &mut Errors) -> Option<(usize, String)> {
    let items = doc.get(key)?.as_array()?;
    let primaries: Vec<usize> =
        items.iter().enumerate().filter(|(_, v)| v.get("primary") == Some(&Value::Bool(true))).map(|(i, _)| i).collect();
    if primaries.len() > 1 {
        e.0.push(FieldError::new(key, "only one value may be primary"));
        return None;
    }
    let i = primaries.first().copied().unwrap_or(0);
    Some((i, items.get(i)?.get("value")?.as_str()?.to_string()))
}

/// The address of a user without an email (see `NO_EMAIL_DOMAIN`).
pub fn no_email(local: &str) -> Result<Email, String> {
    Email::parse(&format!("{local}@{NO_EMAIL_DOMAIN}"))
}

fn is_no_email(email: &str) -> bool {
    email.to_ascii_lowercase().ends_with(&format!("@{NO_EMAIL_DOMAIN}"))
}

fn set<T>(v: Option<T>) -> Patch<T> {
    v.map_or(Patch::Keep, Patch::Set)
}

/// The patch creating a user in this state (`placeholder`: its email if it has none).
pub fn new_user_patch(s: UserState, placeholder: Email) -> (Email, UserPatch) {
    let email = s.email.clone().unwrap_or(placeholder);
    let mut p = UserPatch {
        username: Patch::Set(s.username),
        email_verified: Patch::Set(s.email.is_some()),
        external_id: set(s.external_id),
        name: set(s.name),
        given_name: set(s.given_name),
        family_name: set(s.family_name),
        nick_name: set(s.nick_name),
        role_title: set(s.title),
        preferred_language: set(s.preferred_language),
        timezone: set(s.timezone),
        phone_verified: Patch::Set(s.phone.is_some()),
        phone: set(s.phone),
        deactivated: if s.active == Some(false) { Patch::Set(true) } else { Patch::Keep },
        ..Default::default()
    };
    if !s.doc.is_empty() {
        p.scim = Patch::Set(ScimDocument::new(&s.doc));
    }
    p.password = s.password.map(PasswordChange::reset);
    (email, p)
}

/// Keep when equal, else set the new value or clear.
fn diff<T>(current: Option<&str>, new: Option<T>, as_str: fn(&T) -> &str) -> Patch<T> {
    match new {
        Some(v) if current == Some(as_str(&v)) => Patch::Keep,
        Some(v) => Patch::Set(v),
        None if current.is_none() => Patch::Keep,
        None => Patch::Clear,
    }
}

/// The patch that turns `user` into this state (a replace: what the state leaves out is
/// cleared); only what differs is touched, so the audit trail names real changes.
pub fn replace_patch(user: &User, s: UserState) -> UserPatch {
    let mut p = UserPatch {
        username: diff(user.username.as_deref(), Some(s.username), Username::as_str),
        external_id: diff(user.external_id.as_deref(), s.external_id, ShortText::as_str),
        name: diff(user.name.as_deref(), s.name, ShortText::as_str),
        given_name: diff(user.given_name.as_deref(), s.given_name, ShortText::as_str),
        family_name: diff(user.family_name.as_deref(), s.family_name, ShortText::as_str),
        nick_name: diff(user.nick_name.as_deref(), s.nick_name, ShortText::as_str),
        role_title: diff(user.role_title.as_deref(), s.title, ShortText::as_str),
        preferred_language: diff(user.preferred_language.as_deref(), s.preferred_language, LanguageTag::as_str),
        timezone: diff(user.timezone.as_deref(), s.timezone, |t| t.as_str()),
        phone: diff(user.phone.as_deref(), s.phone, Phone::as_str),
        ..Default::default()
    };
    if !p.phone.is_keep() {
        p.phone_verified = Patch::Set(p.phone.set().is_some());
    }
    match s.email {
        Some(e) if e.as_str() != user.email => (p.email, p.email_verified) = (Patch::Set(e), Patch::Set(true)),
        None if !is_no_email(&user.email) => {
            if let Ok(placeholder) = no_email(&user.uuid) {
                (p.email, p.email_verified) = (Patch::Set(placeholder), Patch::Set(false));
            }
        }
        _ => {}
    }
    let active = s.active.unwrap_or(true);
    if user.deactivated == active {
        p.deactivated = Patch::Set(!active);
    }
    if user.scim != Value::Object(s.doc.clone()) {
        p.scim = Patch::Set(ScimDocument::new(&s.doc));
    }
    p.password = s.password.map(PasswordChange::reset);
    p
}

/// Where resources live: `https://host/scim/v2` (or the path alone without a Host).
pub fn base_url(host: Option<&str>) -> String {
    match host.filter(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_graphic())) {
        // wrangler dev serves plain http on a loopback address; a deployment is https.
        Some(h) if h.starts_with("127.0.0.1") || h.starts_with("localhost") || h.starts_with("[::1]") => {
            format!("http://{h}/scim/v2")
        }
        Some(h) => format!("https://{h}/scim/v2"),
        None => "/scim/v2".into(),
    }
}

/// `meta`, its `version` the resource's entity tag (`etag`).
fn meta(resource_type: &str, created: &str, modified: &str, location: String, tag: String) -> Value {
    json!({"resourceType": resource_type, "created": created, "lastModified": modified, "location": location,
        "version": tag})
}

/// The SCIM User: the document, with every canonical value put in.
pub fn user_json(u: &User, groups: &[Member], base: &str) -> Value {
    let mut out = match &u.scim {
        Value::Object(doc) => doc.clone(),
        _ => Map::new(),
    };
    let mut schemas = vec![USER_URN];
    if out.contains_key(ENTERPRISE_USER_URN) {
        schemas.push(ENTERPRISE_USER_URN);
    }
    out.insert("schemas".into(), json!(schemas));
    out.insert("id".into(), u.uuid.clone().into());
    let put = |out: &mut Map<String, Value>, key: &str, v: Option<&str>| {
        if let Some(v) = v {
            out.insert(key.into(), v.into());
        }
    };
    put(&mut out, "externalId", u.external_id.as_deref());
    out.insert("userName".into(), u.username.clone().unwrap_or_else(|| u.email.clone()).into());
    put(&mut out, "displayName", u.name.as_deref());
    put(&mut out, "nickName", u.nick_name.as_deref());
    put(&mut out, "title", u.role_title.as_deref());
    put(&mut out, "preferredLanguage", u.preferred_language.as_deref());
    put(&mut out, "timezone", u.timezone.as_deref());
    name_json(&mut out, u);
    if out.remove(ACTIVE_OMITTED).is_none() || u.deactivated {
        out.insert("active".into(), (!u.deactivated).into());
    }
    emails_json(&mut out, &u.email);
    phones_json(&mut out, u.phone.as_deref());
    if !groups.is_empty() {
        let list: Vec<Value> = groups
            .iter()
            .map(|g| json!({"value": g.value, "display": g.display, "$ref": format!("{base}/Groups/{}", g.value), "type": "direct"}))
            .collect();
        out.insert("groups".into(), list.into());
    }
    let location = format!("{base}/Users/{}", u.uuid);
    out.insert("meta".into(), meta("User", &u.created_at, &u.updated_at, location, super::etag::user(u, groups)));
    Value::Object(out)
}

fn name_json(out: &mut Map<String, Value>, u: &User) {
    let mut name = out.remove("name").and_then(|n| n.as_object().cloned()).unwrap_or_default();
    if let Some(g) = &u.given_name {
        name.insert("givenName".into(), g.clone().into());
    }
    if let Some(f) = &u.family_name {
        name.insert("familyName".into(), f.clone().into());
    }
    if !name.is_empty() {
        out.insert("name".into(), Value::Object(name));
    }
}

/// The index of the primary (or first) object in a list.
fn primary_index(items: &[Value]) -> usize {
    items.iter().position(|v| v.get("primary") == Some(&Value::Bool(true))).unwrap_or(0)
}

fn emails_json(out: &mut Map<String, Value>, email: &str) {
    if is_no_email(email) {
        return;
    }
    let mut items = out.remove("emails").and_then(|v| v.as_array().cloned()).unwrap_or_default();
    let i = primary_index(&items);
    match items.get_mut(i).and_then(Value::as_object_mut) {
        Some(item) => {
            item.insert("value".into(), email.into());
        }
        None => items = vec![json!({"value": email, "primary": true})],
    }
    out.insert("emails".into(), items.into());
}

/// The canonical phone replaces the primary number; with none, a primary number that is a
/// valid E.164 number was canonical and has been cleared (by another dialect): it goes too.
fn phones_json(out: &mut Map<String, Value>, phone: Option<&str>) {
    let mut items = out.remove("phoneNumbers").and_then(|v| v.as_array().cloned()).unwrap_or_default();
    let i = primary_index(&items);
    match (phone, items.get_mut(i).and_then(Value::as_object_mut)) {
        (Some(p), Some(item)) => {
            item.insert("value".into(), p.into());
        }
        (Some(p), None) => items = vec![json!({"value": p, "primary": true})],
        (None, Some(item)) if item.get("value").and_then(Value::as_str).is_some_and(|v| Phone::parse(v).is_ok()) => {
            items.remove(i);
        }
        (None, _) => {}
    }
    if !items.is_empty() {
        out.insert("phoneNumbers".into(), items.into());
    }
}

/// A Group body → the state it asks for: a name, an external id, its members.
pub fn group_state(body: &Value) -> Result<GroupState, Vec<FieldError>> {
    let doc = resource::normalize(&GROUP, body)?;
    let mut errors = Vec::new();
    let text = |key: &str, errors: &mut Vec<FieldError>| {
        let s = doc.get(key)?.as_str()?;
        ShortText::parse(s).map_err(|m| errors.push(FieldError::new(key, m))).ok().map(|t| t.as_str().to_string())
    };
    // Required (RFC 7643 §4.2), so a name of only white space is none.
    let display_name = text("displayName", &mut errors).filter(|n| !n.trim().is_empty());
    if display_name.is_none() && !errors.iter().any(|e| e.field == "displayName") {
        errors.push(FieldError::new("displayName", "is required"));
    }
    let external_id = text("externalId", &mut errors);
    let mut members: Vec<Member> = Vec::new();
    // A set beside the list: a group of thousands would cost a square of comparisons otherwise.
    let mut seen = std::collections::HashSet::new();
    for (i, m) in doc.get("members").and_then(Value::as_array).into_iter().flatten().enumerate() {
        if m.get("type").and_then(Value::as_str).is_some_and(|t| !t.eq_ignore_ascii_case("User")) {
            errors.push(FieldError::new(format!("members[{i}].type"), "only users can be members"));
            continue;
        }
        let Some(value) = m.get("value").and_then(Value::as_str) else {
            errors.push(FieldError::new(format!("members[{i}].value"), "is required"));
            continue;
        };
        // A value that names no user of the org is kept out when stored (see docs/scim.md).
        let value = match Target::parse(value, false) {
            Some(Target::Uuid(u)) => u,
            _ => value.to_string(),
        };
        // A display text as any other: bounded, no controls, nothing that changes its look unseen.
        let display = match m.get("display").and_then(Value::as_str).map(ShortText::parse) {
            Some(Err(why)) => {
                errors.push(FieldError::new(format!("members[{i}].display"), why));
                continue;
            }
            parsed => parsed.and_then(Result::ok).map(|t| t.as_str().to_string()),
        };
        if seen.insert(value.clone()) {
            let own = display.is_some();
            members.push(Member { value, display, own });
        }
    }
    match display_name {
        Some(display_name) if errors.is_empty() => Ok(GroupState { display_name, external_id, members }),
        _ => Err(errors),
    }
}

/// The Group a PATCH applies to: members show only the display a client gave them, so that a
/// derived one (the user's name) is not stored and keeps following the user.
pub fn group_to_patch(g: &Group, base: &str) -> Value {
    let mut own = g.clone();
    for m in &mut own.members {
        if !m.own {
            m.display = None;
        }
    }
    group_json(&own, base)
}

/// The SCIM Group.
pub fn group_json(g: &Group, base: &str) -> Value {
    let members: Vec<Value> = g
        .members
        .iter()
        .map(|m| json!({"value": m.value, "display": m.display, "$ref": format!("{base}/Users/{}", m.value), "type": "User"}))
        .collect();
    let mut out = json!({"schemas": [GROUP_URN], "id": g.uuid, "displayName": g.display_name, "members": members,
        "meta": meta("Group", &g.created_at, &g.updated_at, format!("{base}/Groups/{}", g.uuid), super::etag::group(g))});
    if let Some(e) = &g.external_id {
        out["externalId"] = e.clone().into();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Attributes with a canonical column: never stored in the document.
    const CANONICAL: &[&str] =
        &["userName", "externalId", "displayName", "nickName", "title", "active", "password", "preferredLanguage", "timezone"];

    #[test]
    fn canonical_attributes_never_reach_the_document() {
        let s = user_state(&json!({"userName": "ada", "displayName": "Ada", "preferredLanguage": "xx-not-a-tag!",
            "timezone": "Europe/Zurich", "name": {"givenName": "Ada", "formatted": "Ada L."}, "locale": "en-GB",
            "emails": [{"value": "a@b.co", "type": "work"}], "groups": [], "id": "x"}))
        .unwrap();
        for key in CANONICAL {
            assert!(!s.doc.contains_key(*key) || *key == "preferredLanguage", "{key}");
        }
        assert_eq!(s.doc["preferredLanguage"], "xx-not-a-tag!");
        assert_eq!(s.doc["name"], json!({"formatted": "Ada L."}));
        assert_eq!(s.email.unwrap().as_str(), "a@b.co");
        assert!(!s.doc.contains_key("groups") && !s.doc.contains_key("id"));
    }

    #[test]
    fn every_bad_attribute_is_named() {
        let Err(errors) = user_state(&json!({"active": 3, "emails": [{"value": "nope"}], "name": {"givenName": 7},
            "password": "x", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": 5}}))
        else {
            panic!()
        };
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "active",
                "name.givenName",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User.employeeNumber",
                "userName",
                "password",
                "emails[0].value"
            ]
        );
    }
}
