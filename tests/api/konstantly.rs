//! Konstantly through the whole service on the host.

use crate::helpers::{cast, Caller, Reply, Service};
use serde_json::{json, Value};

/// The seed's curl body, verbatim.
const SEED_BODY: &str = r#"{
"email": "j.wunderliebb@mycompany.tld",
"bio": "An updated information about me: I'\''ve transferred to London!",
"occupation": "Associate",
"location": "London",
"timezone": "Europe/London"
}"#;

fn seed_body() -> Value {
    // The seed shows it inside a shell single-quoted string, where '\'' is one apostrophe.
    serde_json::from_str(&SEED_BODY.replace(r"'\''", "'")).unwrap()
}

fn patch(svc: &Service, id: &str, key: &str, body: Value) -> Reply {
    svc.call("PATCH", &format!("/openapi/v1/users/{id}"), &[("X-API-KEY", key)], Some(body))
}

#[test]
fn seed_request_verbatim() {
    let c = cast();
    let r = patch(&c.svc, c.uuid(), &c.admin_key, seed_body());
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["email"], "j.wunderliebb@mycompany.tld");
    assert_eq!(r.body["bio"], "An updated information about me: I've transferred to London!");
    assert_eq!(r.body["occupation"], "Associate");
    assert_eq!(r.body["location"], "London");
    assert_eq!(r.body["timezone"], "Europe/London");
    // The numeric id in the path works too.
    let r = patch(&c.svc, &c.id().to_string(), &c.admin_key, json!({"email": "j.wunderliebb@mycompany.tld", "name": "J W"}));
    assert_eq!(r.status, 200);
}

#[test]
fn seed_error_example_verbatim() {
    let c = cast();
    let r = patch(&c.svc, c.uuid(), &c.admin_key, json!({"email": "j.wunderliebb@"}));
    assert_eq!(r.status, 400);
    assert_eq!(r.body, json!({"status": 400, "message": "Validation failed", "errors": {"email": ["Invalid email format"]}}));
}

#[test]
fn permission_matrix() {
    // Konstantly keys are site-admin keys: a user key may not even change itself.
    let fields: &[(&str, Value)] = &[
        ("name", json!("J W")),
        ("password", json!("Secr3tP4ssw0rd!")),
        ("roleAlias", json!("learner")),
        ("bio", json!("Hi")),
        ("occupation", json!("Associate")),
        ("location", json!("London")),
        ("timezone", json!("Europe/London")),
        ("fromApi", json!(true)),
        ("attributes", json!({"team": "blue"})),
    ];
    for (field, value) in fields {
        for who in [Caller::SelfUser, Caller::Admin, Caller::AdminOfOtherOrg] {
            let c = cast();
            let key = c.key(who);
            let want = match who {
                Caller::SelfUser => 403,
                Caller::Admin => 200,
                _ => 404,
            };
            let id = c.id();
            let before = c.svc.stored(id);
            let r = patch(&c.svc, c.uuid(), key, json!({"email": "minnie@a.test", *field: value}));
            assert_eq!(r.status, want, "{field} by {who:?}: {}", r.body);
            if want != 200 {
                assert_eq!(c.svc.stored(id), before);
                assert_eq!(r.body["status"], want);
            } else if *field != "password" {
                assert_eq!(r.body[*field], *value);
            }
        }
    }
}

#[test]
fn taken_email_is_400_on_email_and_every_bad_field_is_listed() {
    let c = cast();
    let uuid = c.uuid();
    let r = patch(&c.svc, uuid, &c.admin_key, json!({"email": "Admin@A.test"}));
    assert_eq!(r.status, 400);
    assert_eq!(r.body["errors"]["email"], json!(["Email already exists"]));
    let r =
        patch(&c.svc, uuid, &c.admin_key, json!({"email": "x", "timezone": "Europe/Londn", "attributes": "x", "role": "admin"}));
    assert_eq!(r.status, 400);
    let mut keys: Vec<_> = r.body["errors"].as_object().unwrap().keys().cloned().collect();
    keys.sort();
    assert_eq!(keys, ["attributes", "email", "role", "timezone"]);
}

#[test]
fn not_found_and_auth() {
    let c = cast();
    let r = patch(&c.svc, "1234567890", &c.admin_key, json!({"email": "a@b.co"}));
    assert_eq!(r.status, 404);
    assert_eq!(r.body, json!({"status": 404, "message": "User not found"}));
    assert_eq!(patch(&c.svc, "1", "1qaz2wsx3edc4rfv1qaz2wsx3edc4rfv", json!({"email": "a@b.co"})).status, 401);
}

#[test]
fn attributes_replace_the_whole_set() {
    let c = cast();
    let uuid = c.uuid();
    patch(&c.svc, uuid, &c.admin_key, json!({"email": "minnie@a.test", "attributes": {"a": 1, "b": 2}}));
    let r = patch(&c.svc, uuid, &c.admin_key, json!({"email": "minnie@a.test", "attributes": {"c": 3}}));
    assert_eq!(r.body["attributes"], json!({"c": 3}));
    let r = patch(&c.svc, uuid, &c.admin_key, json!({"email": "minnie@a.test", "timezone": "europe/london"}));
    assert_eq!(r.body["timezone"], "Europe/London", "time zones are stored in the database's spelling");
}
