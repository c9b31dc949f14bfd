//! One mailbox, one account; one name, one user (issue 9): emails and usernames are unique on
//! their canonical keys, through every API, and read back exactly as sent.

use crate::helpers::Service;
use serde_json::json;

fn create(svc: &Service, org: i64, email: &str, username: Option<&str>) -> u16 {
    let mut body = json!({"org_id": org, "email": email});
    if let Some(u) = username {
        body["username"] = json!(u);
    }
    svc.operator("POST", "/users", Some(body)).status
}

#[test]
fn look_alike_emails_are_one_address() {
    let svc = Service::new();
    let org = svc.org("A");
    for (first, twin) in [
        ("idn@münchen.example", "idn@xn--mnchen-3ya.example"),
        ("m@MÜNCHEN.example", "m@münchen.example"),
        ("orga@a.example", "ｏｒｇａ@a.example"),
        ("\"quoted\"@a.example", "quoted@a.example"),
        ("kelvin@a.example", "\u{212A}elvin@a.example"),
        ("strasse@a.example", "straße@a.example"),
    ] {
        assert_eq!(create(&svc, org, first, None), 201, "{first}");
        assert_eq!(create(&svc, org, twin, None), 409, "{twin} is {first}");
    }
    let r = svc.operator("GET", &format!("/users?org_id={org}&email=IDN@M%C3%BCnchen.example"), None);
    assert_eq!(r.body["users"].as_array().unwrap().len(), 1, "listed by the same key");
    assert_eq!(r.body["users"][0]["email"], "idn@münchen.example", "stored as sent");
}

#[test]
fn look_alike_usernames_are_one_name() {
    let svc = Service::new();
    let org = svc.org("A");
    assert_eq!(create(&svc, org, "a@a.example", Some("user1-a")), 201);
    assert_eq!(create(&svc, org, "b@a.example", Some("user1-ａ")), 409, "fullwidth");
    assert_eq!(create(&svc, org, "c@a.example", Some("USER1-A")), 409, "case");
    for invisible in ["user1\u{200B}-a", "user1-a\u{202E}", "us\u{E0041}er"] {
        assert_eq!(create(&svc, org, "d@a.example", Some(invisible)), 422, "{invisible:?}");
    }
    // Through a dialect too: Upsun renames a user to the look-alike.
    let (user, key) = svc.user(org, "e@a.example", json!({"username": "someone"}));
    let auth = format!("Bearer {key}");
    let r = svc.call(
        "PATCH",
        &format!("/users/{}", user["uuid"].as_str().unwrap()),
        &[("authorization", &auth)],
        Some(json!({"username": "ＵＳＥＲ1-a"})),
    );
    assert_eq!(r.status, 409, "{}", r.body);
}

#[test]
fn deleted_users_free_their_keys() {
    let svc = Service::new();
    let org = svc.org("A");
    let (user, _) = svc.user(org, "gone@a.example", json!({"username": "gone"}));
    assert_eq!(svc.operator("DELETE", &format!("/users/{}", user["id"]), None).status, 204);
    assert_eq!(create(&svc, org, "GONE@a.example", Some("Gone")), 201);
}
