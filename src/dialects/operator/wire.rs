//! The operator API's wire types: canonical snake_case bodies in, canonical JSON out.

use crate::dialects::{NullMeans, Reader};
use crate::error::Failure;
use crate::feed::endpoint::WebhookUrl;
use crate::feed::event::EventFilter;
use crate::http::query_integer;
use crate::model::{
    utc_millis_of, KeyRequest, NewUser, OrgListing, PasswordChange, Patch, Scope, Scopes, User, UserListing, UserPatch,
};
use crate::store::keys::Owner;
use crate::values::{
    whole_number, Attributes, ConsentMethod, CountryCode, Date, Email, ExternalId, Gender, HttpUrl, LanguageTag, LongText, Phone,
    ShortText, TimeZone, Timestamp, Username, MAX_SAFE_INTEGER,
};
use base64::Engine;
use serde_json::{json, Value};

/// The value, if every field parsed and nothing unknown was sent.
fn finish<T>(r: Reader, value: Option<T>) -> Result<T, Failure> {
    let errors = r.finish();
    match value {
        Some(v) if errors.is_empty() => Ok(v),
        _ => Err(Failure::Invalid(errors)),
    }
}

fn object(body: Value) -> Result<Reader, Failure> {
    Reader::object(body, "body", "", NullMeans::Clear).map_err(|e| Failure::Invalid(vec![e]))
}

/// `{name}` → the new org's name (1–255 characters).
pub fn parse_new_org(body: Value) -> Result<ShortText, Failure> {
    let mut r = object(body)?;
    let name = r.required::<ShortText>("name");
    if name.as_ref().is_some_and(|n| n.as_str().trim().is_empty()) {
        r.error("name", "must not be blank");
    }
    finish(r, name)
}

fn gender(r: &mut Reader) -> Patch<Gender> {
    r.patch_with("gender", |v| match v.as_str() {
        Some("female") => Ok(Gender::Female),
        Some("male") => Ok(Gender::Male),
        Some("diverse") => Ok(Gender::Diverse),
        _ => Err("must be one of female, male, diverse".into()),
    })
}

/// Every canonical field that is not a secret, three-state (`null` clears), plus `password`.
/// Fields a user must always have (email) or that are flags cannot be cleared.
fn read_fields(r: &mut Reader) -> UserPatch {
    let mut p = UserPatch {
        username: r.patch::<Username>("username"),
        email: r.patch_non_null::<Email>("email"),
        email_verified: r.patch_non_null::<bool>("email_verified"),
        phone: r.patch::<Phone>("phone"),
        phone_verified: r.patch_non_null::<bool>("phone_verified"),
        name: r.patch::<ShortText>("name"),
        given_name: r.patch::<ShortText>("given_name"),
        family_name: r.patch::<ShortText>("family_name"),
        nick_name: r.patch::<ShortText>("nick_name"),
        preferred_language: r.patch::<LanguageTag>("preferred_language"),
        gender: gender(r),
        role_title: r.patch::<ShortText>("role_title"),
        based_in: r.patch::<ShortText>("based_in"),
        linkedin_profile_url: r.patch::<HttpUrl>("linkedin_profile_url"),
        picture: r.patch::<HttpUrl>("picture"),
        company: r.patch::<ShortText>("company"),
        website: r.patch::<HttpUrl>("website"),
        country: r.patch::<CountryCode>("country"),
        bio: r.patch::<LongText>("bio"),
        timezone: r.patch::<TimeZone>("timezone"),
        admin: r.patch_non_null::<bool>("admin"),
        auth0_uid: r.patch::<ShortText>("auth0_uid"),
        publisher_id: r.patch::<ExternalId>("publisher_id"),
        agency_id: r.patch::<ExternalId>("agency_id"),
        network_id: r.patch::<ExternalId>("network_id"),
        advertiser_id: r.patch::<ExternalId>("advertiser_id"),
        payment_date: r.patch::<Date>("payment_date"),
        company_type: r.patch::<ShortText>("company_type"),
        publisher_type: r.patch::<ShortText>("publisher_type"),
        role_alias: r.patch::<ShortText>("role_alias"),
        from_api: r.patch_non_null::<bool>("from_api"),
        attributes: r.patch_non_null::<Attributes>("attributes"),
        consented_at: r.patch::<Timestamp>("consented_at"),
        consent_method: r.patch::<ConsentMethod>("consent_method"),
        external_id: r.patch::<ShortText>("external_id"),
        ..Default::default()
    };
    p.password = r
        .with("password", |v| v.as_str().ok_or("must be a string".to_string()).and_then(crate::password::parse_new))
        .map(PasswordChange::reset);
    if r.take_raw("deactivated").is_some() {
        r.error("deactivated", "is changed with POST /admin/v1/users/{id}/deactivate or /reactivate");
    }
    p
}

/// `{org_id, email, ...every canonical field}` → a new user. `null` means absent for every field,
/// the flags and `password` included: there is nothing to clear on a user that doesn't exist yet.
pub fn parse_new_user(body: Value) -> Result<NewUser, Failure> {
    let mut r = Reader::object(body, "body", "", NullMeans::Keep).map_err(|e| Failure::Invalid(vec![e]))?;
    let org_id = r.required::<ExternalId>("org_id");
    let email = r.required::<Email>("email");
    if r.peek("password").is_some_and(Value::is_null) {
        r.take_raw("password");
    }
    let patch = read_fields(&mut r);
    let new = org_id.zip(email).map(|(org, email)| NewUser::new(org.get(), email, patch));
    finish(r, new)
}

/// A partial update of every canonical field: absent keeps, `null` clears, a value sets.
pub fn parse_patch(body: Value) -> Result<UserPatch, Failure> {
    let mut r = object(body)?;
    let patch = read_fields(&mut r);
    finish(r, Some(patch))
}

/// `{user_id, name?, scopes?, expires_at?}`. Scopes omitted (or null) mean every API.
pub fn parse_new_key(body: Value) -> Result<KeyRequest, Failure> {
    let mut r = object(body)?;
    let user_id = r.required::<ExternalId>("user_id").map(|id| id.get());
    let name = r.optional::<ShortText>("name").map(|n| n.as_str().to_string());
    let scopes = r.with("scopes", scopes).unwrap_or_default();
    let expires_at = r.with("expires_at", |v| match v {
        Value::Null => Ok(None),
        Value::String(s) => expiry(s).map(Some),
        _ => Err("must be an RFC 3339 date-time string".into()),
    });
    let request = user_id.map(|user_id| KeyRequest { user_id, name, scopes, expires_at: expires_at.flatten() });
    finish(r, request)
}

/// An RFC 3339 instant for a key to expire at. One before 1970 is a valid date-time too, and
/// in the past: refused as such, not as malformed.
fn expiry(s: &str) -> Result<String, String> {
    let parsed = crate::values::instant::parse_rfc3339(s).ok_or_else(|| "must be an RFC 3339 date-time".to_string())?;
    utc_millis_of(parsed).ok_or_else(|| {
        if parsed.unix_seconds < 0 { "must be in the future" } else { "must be an RFC 3339 date-time" }.to_string()
    })
}

/// A list of scope names, each known (the error names every unknown one), or null for all.
fn scopes(v: &Value) -> Result<Scopes, String> {
    let Value::Array(items) = v else {
        return if v.is_null() { Ok(Scopes::all()) } else { Err("must be a list of scope names".into()) };
    };
    let mut known = Vec::new();
    let mut unknown = Vec::new();
    for item in items {
        match item.as_str().and_then(Scope::parse) {
            Some(s) => known.push(s),
            None => unknown.push(item.to_string()),
        }
    }
    if unknown.is_empty() {
        Ok(Scopes::of(known))
    } else {
        let names: Vec<&str> = Scope::ALL.iter().map(|s| s.as_str()).collect();
        Err(format!("has unknown scopes {}; known: {}", unknown.join(", "), names.join(", ")))
    }
}

/// `{overlap_seconds?}` (0 to 7 days; default 0).
pub fn parse_rotation(body: Value) -> Result<u32, Failure> {
    let mut r = object(body)?;
    let max = crate::pipeline::MAX_OVERLAP_SECONDS;
    let overlap = r.with("overlap_seconds", |v| match v.as_number().and_then(whole_number).map(u32::try_from) {
        Some(Ok(n)) if n <= max => Ok(n),
        _ => Err(format!("must be an integer from 0 to {max}")),
    });
    finish(r, Some(overlap.unwrap_or(0)))
}

/// An id in a query: an integer from 1, bounded like every id here, as D1 carries numbers as doubles.
fn query_id(text: &str) -> Option<i64> {
    query_integer(text).filter(|n| (1..=MAX_SAFE_INTEGER).contains(n))
}

/// A parameter given twice is refused, naming it (`http::repeated`).
fn once_each(query: &[(String, String)]) -> Vec<crate::error::FieldError> {
    crate::http::repeated(query).into_iter().map(|name| crate::error::FieldError::new(name, "is given more than once")).collect()
}

/// `?user_id=` and/or `?org_id=` (an admin key may give neither: its own org). With both, the
/// user's keys, if the user is in that org.
pub fn parse_key_listing(query: &[(String, String)], own_org: Option<i64>) -> Result<(Owner, Option<i64>), Failure> {
    let (mut user, mut org) = (None, None);
    let mut errors = once_each(query);
    for (name, value) in query {
        let slot = match name.as_str() {
            "user_id" => &mut user,
            "org_id" => &mut org,
            other => {
                errors.push(crate::error::FieldError::new(other, "is not a recognised parameter"));
                continue;
            }
        };
        match query_id(value) {
            Some(n) => *slot = Some(n),
            None => errors.push(crate::error::FieldError::new(name, format!("must be an integer from 1 to {MAX_SAFE_INTEGER}"))),
        }
    }
    if !errors.is_empty() {
        return Err(Failure::Invalid(errors));
    }
    match (user, org.or(own_org)) {
        (Some(u), scope) => Ok((Owner::User(u), scope)),
        (None, Some(o)) => Ok((Owner::Org(o), None)),
        (None, None) => Err(Failure::invalid("user_id", "give user_id or org_id")),
    }
}

/// What a page cursor walks: its first letter, so one listing's cursor is not another's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listing {
    Users,
    Orgs,
}

impl Listing {
    fn tag(self) -> char {
        match self {
            Self::Users => 'u',
            Self::Orgs => 'o',
        }
    }
}

/// A page cursor is opaque to clients: the listing and the last id of the page, base64url-encoded.
pub fn cursor_for(listing: Listing, after_id: i64) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{}{after_id}", listing.tag()))
}

fn parse_cursor(listing: Listing, s: &str) -> Option<i64> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(s).ok()?;
    let text = std::str::from_utf8(&bytes).ok()?;
    text.strip_prefix(listing.tag())?.parse().ok().filter(|n| (0..=MAX_SAFE_INTEGER).contains(n))
}

/// `limit` (1 to a page's most) and `cursor` (one `listing` gave out), the parameters every page
/// takes, into `limit` and `after_id`; false for any other parameter.
fn page_param(
    listing: Listing,
    (name, value): (&str, &str),
    limit: &mut u32,
    after_id: &mut Option<i64>,
    errors: &mut Vec<crate::error::FieldError>,
) -> bool {
    match name {
        "limit" => match query_integer(value).and_then(|n| u32::try_from(n).ok()) {
            Some(n) if (1..=UserListing::MAX_LIMIT).contains(&n) => *limit = n,
            _ => errors
                .push(crate::error::FieldError::new("limit", format!("must be an integer from 1 to {}", UserListing::MAX_LIMIT))),
        },
        "cursor" => {
            *after_id = parse_cursor(listing, value).or_else(|| bad(errors, "cursor", "is not a cursor this API gave out"))
        }
        _ => return false,
    }
    true
}

/// `?limit=&cursor=`: a page of orgs.
pub fn parse_org_listing(query: &[(String, String)]) -> Result<OrgListing, Failure> {
    let mut errors = once_each(query);
    let mut listing = OrgListing::default();
    for (name, value) in query {
        if !page_param(Listing::Orgs, (name, value), &mut listing.limit, &mut listing.after_id, &mut errors) {
            errors.push(crate::error::FieldError::new(name, "is not a recognised parameter"));
        }
    }
    if errors.is_empty() {
        Ok(listing)
    } else {
        Err(Failure::Invalid(errors))
    }
}

/// `?org_id=&email=&username=&limit=&cursor=`. An admin key may leave out `org_id` (its own org).
pub fn parse_listing(query: &[(String, String)], default_org: Option<i64>) -> Result<UserListing, Failure> {
    let mut errors = once_each(query);
    let mut listing = UserListing { org_id: 0, email: None, username: None, after_id: None, limit: UserListing::DEFAULT_LIMIT };
    let mut org = None;
    for (name, value) in query {
        match name.as_str() {
            "org_id" => {
                org = query_id(value)
                    .or_else(|| bad(&mut errors, "org_id", &format!("must be an integer from 1 to {MAX_SAFE_INTEGER}")))
            }
            // Matched on the canonical key, like uniqueness; a value that isn't an address or a
            // name matches nobody.
            "email" => listing.email = Some(Email::parse(value).map_or_else(|_| value.to_lowercase(), |e| e.canonical_key())),
            "username" => {
                listing.username = Some(Username::parse(value).map_or_else(|_| value.to_lowercase(), |u| u.canonical_key()))
            }
            other => {
                if !page_param(Listing::Users, (other, value), &mut listing.limit, &mut listing.after_id, &mut errors) {
                    errors.push(crate::error::FieldError::new(other, "is not a recognised parameter"));
                }
            }
        }
    }
    match org.or(default_org) {
        Some(o) => listing.org_id = o,
        None if !errors.iter().any(|e| e.field == "org_id") => {
            errors.push(crate::error::FieldError::new("org_id", "is required"))
        }
        None => {}
    }
    if errors.is_empty() {
        Ok(listing)
    } else {
        Err(Failure::Invalid(errors))
    }
}

fn bad<T>(errors: &mut Vec<crate::error::FieldError>, field: &str, message: &str) -> Option<T> {
    errors.push(crate::error::FieldError::new(field, message));
    None
}

/// A page of users and the cursor for the next one (`null` on the last page).
pub fn render_page(users: &[User], next_after: Option<i64>) -> Value {
    json!({
        "users": users.iter().map(User::canonical_json).collect::<Vec<_>>(),
        "next_cursor": next_after.map(|id| cursor_for(Listing::Users, id)),
    })
}

/// A page of orgs as the API shows it.
pub fn render_orgs(orgs: Vec<crate::store::Row>, next_after: Option<i64>) -> Value {
    let orgs: Vec<Value> = orgs.into_iter().map(|o| Value::Object(o.into_map())).collect();
    json!({ "orgs": orgs, "next_cursor": next_after.map(|id| cursor_for(Listing::Orgs, id)) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Field;

    #[test]
    fn new_user_names_every_bad_field() {
        let Err(Failure::Invalid(errors)) =
            parse_new_user(json!({"email": "x", "admin": 1, "password": "short", "role": "root"}))
        else {
            panic!()
        };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["org_id", "email", "admin", "password", "role"]);
        let ok = parse_new_user(json!({"org_id": 1, "email": "a@b.co", "admin": true})).unwrap();
        assert_eq!(ok.patch.admin, Patch::Set(true));
    }

    #[test]
    fn new_user_reads_null_as_absent_for_every_field() {
        let new = parse_new_user(json!({"org_id": 1, "email": "a@b.co", "admin": null, "email_verified": null,
            "from_api": null, "attributes": null, "password": null, "bio": null, "username": null}))
        .unwrap();
        assert_eq!(new.patch.touched(), [Field::Email], "only the email, which every new user has");
        assert!(new.patch.password.is_none());
        let Err(Failure::Invalid(errors)) = parse_new_user(json!({"org_id": null, "email": null, "deactivated": null})) else {
            panic!()
        };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["org_id", "email", "deactivated"]);
    }

    #[test]
    fn org_names() {
        assert_eq!(parse_new_org(json!({"name": "Acme"})).unwrap().as_str(), "Acme");
        assert!(parse_new_org(json!({"name": "  "})).is_err());
        assert!(parse_new_org(json!({})).is_err());
    }

    #[test]
    fn patch_reads_every_canonical_field_and_refuses_the_rest() {
        let patch = parse_patch(json!({"given_name": "Ada", "based_in": null, "consented_at": "2024-01-02T03:04:05Z",
            "consent_method": "opt-in", "gender": "female", "external_id": "okta-1"}))
        .unwrap();
        assert_eq!(
            patch.touched(),
            [Field::GivenName, Field::Gender, Field::BasedIn, Field::ConsentedAt, Field::ConsentMethod, Field::ExternalRef]
        );
        let Err(Failure::Invalid(errors)) = parse_patch(json!({"email": null, "consent_method": "maybe", "deactivated": true,
            "password_hash": "x", "id": 3}))
        else {
            panic!()
        };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["email", "consent_method", "deactivated", "id", "password_hash"]);
    }

    #[test]
    fn listing_parameters_and_cursors() {
        let q = |pairs: &[(&str, &str)]| pairs.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect::<Vec<_>>();
        let l =
            parse_listing(&q(&[("org_id", "3"), ("limit", "10"), ("cursor", &cursor_for(Listing::Users, 42))]), None).unwrap();
        assert_eq!((l.org_id, l.limit, l.after_id), (3, 10, Some(42)));
        assert_eq!(parse_listing(&q(&[]), Some(7)).unwrap().org_id, 7);
        let Err(Failure::Invalid(errors)) = parse_listing(&q(&[("limit", "500"), ("cursor", "nope!"), ("offset", "3")]), None)
        else {
            panic!()
        };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["limit", "cursor", "offset", "org_id"]);
        let max = MAX_SAFE_INTEGER.to_string();
        assert_eq!(parse_listing(&q(&[("org_id", &max)]), None).unwrap().org_id, MAX_SAFE_INTEGER);
        for bad in [(MAX_SAFE_INTEGER + 1).to_string(), "0".into(), "-1".into(), "x".into()] {
            let Err(Failure::Invalid(errors)) = parse_listing(&q(&[("org_id", &bad)]), Some(1)) else { panic!("{bad}") };
            assert_eq!(errors[0].field, "org_id", "{bad}");
        }
        // A cursor's id is bound as a JavaScript number: one past 2^53 - 1 is none this API gave.
        let at = |id: i64| parse_listing(&q(&[("org_id", "3"), ("cursor", &cursor_for(Listing::Users, id))]), None);
        assert_eq!(at(MAX_SAFE_INTEGER).unwrap().after_id, Some(MAX_SAFE_INTEGER));
        assert!(at(MAX_SAFE_INTEGER + 1).is_err());
        // And so is a path's id: past it, no user (404), never the one it would round to.
        use crate::model::Target;
        assert_eq!(Target::parse(&max, true), Some(Target::Id(MAX_SAFE_INTEGER)));
        assert_eq!(Target::parse(&(MAX_SAFE_INTEGER + 1).to_string(), true), None);
        assert_eq!(Target::parse_positive_id("9999999999999999"), None);
    }
}

#[cfg(test)]
mod key_tests {
    use super::*;

    #[test]
    fn key_requests() {
        let k = parse_new_key(
            json!({"user_id": 3, "name": "ci", "scopes": ["upsun", "read", "upsun"], "expires_at": "2030-01-01T00:00:00+01:00"}),
        )
        .unwrap();
        assert_eq!(k.scopes, Scopes::of(vec![Scope::Read, Scope::Upsun]));
        assert_eq!(k.expires_at.as_deref(), Some("2029-12-31T23:00:00.000Z"));
        assert_eq!(parse_new_key(json!({"user_id": 3})).unwrap().scopes, Scopes::all());
        let Err(Failure::Invalid(errors)) = parse_new_key(json!({"scopes": ["root", "upsun", 7], "expires_at": "soon", "x": 1}))
        else {
            panic!()
        };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["user_id", "scopes", "expires_at", "x"]);
        assert!(errors[1].message.contains("\"root\", 7"), "{}", errors[1].message);
        assert_eq!(parse_rotation(json!({})).unwrap(), 0);
        assert_eq!(parse_rotation(json!({"overlap_seconds": 3600})).unwrap(), 3600);
        assert_eq!(parse_rotation(json!({"overlap_seconds": 3600.0})).unwrap(), 3600);
        assert!(parse_rotation(json!({"overlap_seconds": 3600.5})).is_err());
        assert!(parse_rotation(json!({"overlap_seconds": 604801})).is_err());
        assert!(parse_rotation(json!({"overlap_seconds": -1.0})).is_err());
        // A replay's seq is an integer however it is written, like every integer here.
        assert_eq!(parse_replay(json!({"from_seq": 3.0})).unwrap(), 3);
        assert_eq!(parse_replay(json!({"from_seq": 3e0})).unwrap(), 3);
        assert!(parse_replay(json!({"from_seq": 3.5})).is_err());
        assert!(parse_replay(json!({"from_seq": -1})).is_err());
        // Positions in the feed and its org are bounded like every id: what a double holds exactly.
        assert_eq!(parse_replay(json!({"from_seq": MAX_SAFE_INTEGER})).unwrap(), MAX_SAFE_INTEGER);
        assert!(parse_replay(json!({"from_seq": MAX_SAFE_INTEGER + 1})).is_err());
        let feed = |pairs: &[(&str, &str)]| {
            let owned: Vec<_> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
            parse_feed_query(&owned, None)
        };
        assert_eq!(
            feed(&[("org_id", "1"), ("after", "9007199254740991"), ("limit", "500")]).unwrap(),
            (1, MAX_SAFE_INTEGER, 500)
        );
        let Err(Failure::Invalid(errors)) =
            feed(&[("org_id", "9007199254740992"), ("after", "9007199254740992"), ("limit", "501")])
        else {
            panic!("out of range")
        };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["org_id", "after", "limit"]);
    }
}

/// `?org_id=&after=&limit=` for the pull feed (an admin key may leave out `org_id`).
pub fn parse_feed_query(query: &[(String, String)], own_org: Option<i64>) -> Result<(i64, i64, u32), Failure> {
    let mut errors = once_each(query);
    let (mut org, mut after, mut limit) = (own_org, 0, 100u32);
    for (name, value) in query {
        match name.as_str() {
            "org_id" => {
                org = query_id(value)
                    .or_else(|| bad(&mut errors, "org_id", &format!("must be an integer from 1 to {MAX_SAFE_INTEGER}")))
            }
            "after" => {
                after = query_integer(value).and_then(seq).or_else(|| bad(&mut errors, "after", &not_a_seq())).unwrap_or(0)
            }
            "limit" => {
                limit = query_integer(value)
                    .and_then(|n| u32::try_from(n).ok())
                    .filter(|n| (1..=500).contains(n))
                    .or_else(|| bad(&mut errors, "limit", "must be an integer from 1 to 500"))
                    .unwrap_or(100)
            }
            other => errors.push(crate::error::FieldError::new(other, "is not a recognised parameter")),
        }
    }
    match org {
        Some(o) if errors.is_empty() => Ok((o, after, limit)),
        None if errors.is_empty() => Err(Failure::invalid("org_id", "is required")),
        _ => Err(Failure::Invalid(errors)),
    }
}

/// `{org_id?, url, event_types?}` → the org (an admin key may leave it out), the endpoint, the filter.
pub fn parse_new_webhook(body: Value, own_org: Option<i64>, allow_http: bool) -> Result<(i64, WebhookUrl, EventFilter), Failure> {
    let mut r = object(body)?;
    let org = r.optional::<ExternalId>("org_id").map(|o| o.get()).or(own_org);
    if org.is_none() && !r.has_error("org_id") {
        r.error("org_id", "is required");
    }
    let url = r.with("url", |v| v.as_str().ok_or("must be a string".to_string()).and_then(|s| WebhookUrl::parse(s, allow_http)));
    if url.is_none() && !r.has_error("url") {
        r.error("url", "is required");
    }
    let types = r.with("event_types", |v| match v {
        Value::Null => Ok(EventFilter::all()),
        Value::Array(items) => {
            let names: Option<Vec<&str>> = items.iter().map(Value::as_str).collect();
            names.ok_or("must be a list of event type names".to_string()).and_then(|n| EventFilter::parse(Some(&n)))
        }
        _ => Err("must be a list of event type names".into()),
    });
    let value = org.zip(url).map(|(o, u)| (o, u, types.unwrap_or_else(EventFilter::all)));
    finish(r, value)
}

/// A position in the feed: a `seq`, or 0 for before the first.
fn seq(n: i64) -> Option<i64> {
    Some(n).filter(|n| (0..=MAX_SAFE_INTEGER).contains(n))
}

fn not_a_seq() -> String {
    format!("must be a seq (an integer from 0 to {MAX_SAFE_INTEGER})")
}

/// `{from_seq}` for a replay.
pub fn parse_replay(body: Value) -> Result<i64, Failure> {
    let mut r = object(body)?;
    let from = r.with("from_seq", |v| v.as_number().and_then(whole_number).and_then(seq).ok_or_else(not_a_seq));
    if from.is_none() && !r.has_error("from_seq") {
        r.error("from_seq", "is required");
    }
    finish(r, from)
}
