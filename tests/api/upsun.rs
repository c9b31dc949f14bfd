//! Upsun through the whole service on the host.

use crate::helpers::{cast, Caller, Cast, Reply};
use serde_json::{json, Value};

fn bearer(key: &str) -> String {
    format!("Bearer {key}")
}

impl Cast {
    fn patch(&self, key: &str, body: Value) -> Reply {
        let path = format!("/users/{}", self.uuid());
        self.svc.call("PATCH", &path, &[("authorization", &bearer(key))], Some(body))
    }
    fn get(&self, key: &str) -> Reply {
        let path = format!("/users/{}", self.uuid());
        self.svc.call("GET", &path, &[("authorization", &bearer(key))], None)
    }
}

const FIELDS: &[(&str, &str)] = &[
    ("username", "jane-smith"),
    ("first_name", "Janet"),
    ("last_name", "Smith"),
    ("picture", "https://cdn.example.com/jane.png"),
    ("company", "Acme"),
    ("website", "https://jane.example.com/"),
    ("country", "FR"),
];

#[test]
fn permission_matrix() {
    let matrix = [(Caller::SelfUser, 200), (Caller::OtherUserSameOrg, 403), (Caller::Admin, 200), (Caller::AdminOfOtherOrg, 404)];
    for (field, value) in FIELDS {
        for (who, want) in matrix {
            let c = cast();
            let key = c.key(who);
            let id = c.id();
            let before = c.svc.stored(id);
            let r = c.patch(key, json!({ *field: value }));
            assert_eq!(r.status, want, "{field} by {who:?}: {}", r.body);
            if want == 200 {
                assert_eq!(r.body[*field], *value);
            } else {
                assert_eq!(c.svc.stored(id), before);
                assert_eq!(r.header("content-type"), Some("application/problem+json"));
            }
        }
    }
}

#[test]
fn response_has_every_required_field_with_its_type() {
    let c = cast();
    let r = c.get(&c.user_key);
    assert_eq!(r.status, 200);
    let u = r.body.as_object().unwrap();
    for k in [
        "id",
        "namespace",
        "username",
        "email",
        "first_name",
        "last_name",
        "picture",
        "company",
        "website",
        "country",
        "created_at",
        "updated_at",
    ] {
        assert!(u[k].is_string(), "{k} must be a string: {}", r.body);
    }
    for k in ["deactivated", "email_verified"] {
        assert!(u[k].is_boolean(), "{k}");
    }
    assert!(uuid::Uuid::parse_str(u["id"].as_str().unwrap()).is_ok());
    let created = u["created_at"].as_str().unwrap();
    assert!(created.ends_with('Z') && created.len() == 20, "RFC 3339 like the seed: {created}");
    assert!(!r.body.to_string().contains("password"));
}

#[test]
fn get_then_patch_back_round_trips() {
    let c = cast();
    let got = c.get(&c.user_key).body;
    let modifiable: serde_json::Map<String, Value> = FIELDS.iter().map(|(k, _)| (k.to_string(), got[*k].clone())).collect();
    let r = c.patch(&c.user_key, Value::Object(modifiable));
    assert_eq!(r.status, 200, "{}", r.body);
    for (k, _) in FIELDS {
        assert_eq!(r.body[*k], got[*k], "{k} survives the round trip");
    }
}

#[test]
fn errors() {
    let c = cast();
    let r = c.patch(&c.user_key, json!({"country": "XX", "website": "nope", "email": "x@y.z"}));
    assert_eq!(r.status, 400);
    let fields: Vec<&str> = r.body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["website", "country", "email"]);
    let r = c.patch(&c.user_key, json!({"username": "TAKEN"}));
    assert_eq!(r.status, 409, "usernames are unique per org, case-insensitively: {}", r.body);
    let r = c.svc.call("GET", "/users/not-a-uuid", &[("authorization", &bearer(&c.user_key))], None);
    assert_eq!(r.status, 400);
    let r = c.svc.call("GET", &format!("/users/{}", uuid::Uuid::nil()), &[("authorization", &bearer(&c.admin_key))], None);
    assert_eq!(r.status, 404);
    assert_eq!(c.get("ue_bogus").status, 401);
    let path = format!("/users/{}", c.uuid());
    let r = c.svc.call(
        "PATCH",
        &path,
        &[("authorization", &bearer(&c.user_key)), ("if-match", "\"99\"")],
        Some(json!({"company": "X"})),
    );
    assert_eq!(r.status, 412);
}

#[test]
fn country_is_stored_upper_case() {
    let c = cast();
    assert_eq!(c.patch(&c.user_key, json!({"country": "ch"})).body["country"], "CH");
    assert_eq!(c.stored()["country"], "CH");
}
