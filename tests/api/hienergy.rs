//! The full HiEnergy permission matrix, run through the whole service on the host: every field
//! × every kind of caller, asserting the status, the stored row and the audit trail.

use crate::helpers::{cast, Caller};
use serde_json::{json, Value};

/// A field, a valid value for it, and whether a user may set it on itself (the seed).
type Case = (&'static str, fn() -> Value, bool);

/// Every writable field.
const FIELDS: &[Case] = &[
    ("name", || json!("Nia Name"), true),
    ("given_name", || json!("New"), true),
    ("family_name", || json!("Name"), true),
    ("linkedin_profile_url", || json!("https://www.linkedin.com/in/someone"), true),
    ("role_title", || json!("Editor"), true),
    ("based_in", || json!("Paris, FR"), true),
    ("email", || json!("moved@acme.test"), false),
    ("admin", || json!(true), false),
    ("auth0_uid", || json!("auth0|123"), false),
    ("publisher_id", || json!(42), false),
    ("agency_id", || json!(7), false),
    ("network_id", || json!(8), false),
    ("advertiser_id", || json!(9), false),
    ("payment_date", || json!("2024-01-31"), false),
    ("company_type", || json!("agency"), false),
    ("publisher_type", || json!("blog"), false),
    ("password", || json!("Secr3tP4ssw0rd!"), false),
];

fn expected(caller: Caller, self_service: bool) -> u16 {
    match caller {
        Caller::SelfUser if self_service => 200,
        Caller::SelfUser | Caller::OtherUserSameOrg => 403,
        Caller::Admin => 200,
        Caller::AdminOfOtherOrg => 404,
    }
}

#[test]
fn permission_matrix() {
    let mut cases = 0;
    for (field, value, self_service) in FIELDS {
        for caller in Caller::ALL {
            let c = cast();
            let (svc, id) = (&c.svc, c.id());
            let key = c.key(caller);
            let before = svc.stored(id);
            let events_before = svc.event_count();

            let r = svc.call(
                "PATCH",
                &format!("/api/v1/users/{id}"),
                &[("x-api-key", key)],
                Some(json!({"user": {*field: value()}})),
            );
            let want = expected(caller, *self_service);
            assert_eq!(r.status, want, "{field} by {caller:?}: {}", r.body);
            cases += 1;

            let after = svc.stored(id);
            if want == 200 {
                assert_eq!(after["version"], json!(before["version"].as_i64().unwrap() + 1), "{field} by {caller:?}");
                assert_eq!(svc.event_count(), events_before + 1);
                if *field == "password" {
                    assert_ne!(after["password_hash"], before["password_hash"]);
                    assert!(!r.body.to_string().contains("pbkdf2"));
                } else {
                    assert_eq!(r.body["data"][*field], value(), "{field} by {caller:?}");
                }
            } else {
                assert_eq!(after, before, "{field} by {caller:?}: a refused request changes nothing");
                assert_eq!(svc.event_count(), events_before, "no event for a refusal");
            }
            if want == 403 && caller == Caller::SelfUser {
                assert!(r.body["errors"][*field].is_array(), "403 names the field: {}", r.body);
            }
        }
    }
    assert_eq!(cases, FIELDS.len() * 4);
}

#[test]
fn a_refused_field_refuses_the_whole_request() {
    let c = cast();
    let (svc, id, key) = (&c.svc, c.id(), &c.user_key);
    let before = svc.stored(id);
    let r = svc.call(
        "PATCH",
        &format!("/api/v1/users/{id}"),
        &[("x-api-key", key)],
        Some(json!({"user": {"given_name": "Ok", "admin": true, "publisher_id": 1}})),
    );
    assert_eq!(r.status, 403);
    let mut named: Vec<_> = r.body["errors"].as_object().unwrap().keys().cloned().collect();
    named.sort();
    assert_eq!(named, ["admin", "publisher_id"]);
    assert_eq!(svc.stored(id), before);
}

/// A path whose id is percent-encoded names the same user (RFC 3986 §6.2.2.2: an encoded
/// unreserved character is that character), for a read and a write, in HiEnergy as in SCIM; an
/// encoded `/` stays an escape, and names nobody.
#[test]
fn a_percent_encoded_id_names_the_same_user() {
    let c = cast();
    let id = c.user["id"].as_i64().unwrap();
    let key = [("x-api-key", c.user_key.as_str())];
    let plain = c.svc.call("GET", &format!("/api/v1/users/{id}"), &key, None);
    let encoded: String = id.to_string().bytes().map(|b| format!("%{b:02X}")).collect();
    let read = c.svc.call("GET", &format!("/api/v1/users/{encoded}"), &key, None);
    assert_eq!((read.status, &read.body), (200, &plain.body));
    let write = c.svc.call("PATCH", &format!("/api/v1/users/{encoded}"), &key, Some(json!({"user": {"based_in": "Oslo"}})));
    assert_eq!((write.status, &write.body["data"]["based_in"]), (200, &json!("Oslo")), "{}", write.body);
    assert_eq!(c.svc.call("GET", &format!("/api/v1/users/{id}%2F"), &key, None).status, 404);

    let uuid = c.user["uuid"].as_str().unwrap();
    let lower_hex: String = uuid.bytes().map(|b| format!("%{b:02x}")).collect();
    let auth = format!("Bearer {}", c.admin_key);
    let scim = c.svc.call("GET", &format!("/scim/v2/Users/{lower_hex}"), &[("authorization", &auth)], None);
    assert_eq!((scim.status, &scim.body["id"]), (200, &json!(uuid)), "{}", scim.body);
}
