//! The shared pipeline through HTTP on the host (SQLite standing in for D1, a map for KV):
//! consistency, stale keys, round trips, audit.

use crate::helpers::{cast, Reply, Service};
use serde_json::json;

fn patch(svc: &Service, id: i64, key: &str, extra: &[(&str, &str)], body: serde_json::Value) -> Reply {
    let mut headers = vec![("x-api-key", key)];
    headers.extend_from_slice(extra);
    svc.call("PATCH", &format!("/api/v1/users/{id}"), &headers, Some(body))
}

#[test]
fn success_is_one_kv_read_and_one_d1_batch() {
    let c = cast();
    let (svc, uid, key) = (&c.svc, c.id(), &c.user_key);
    let r = patch(svc, uid, key, &[], json!({"user": {"based_in": "Paris, FR"}}));
    assert_eq!(r.status, 200);
    assert_eq!(r.timing_names(), ["kv", "d1"]);
    assert_eq!(r.header("etag"), Some("\"2\""));
}

#[test]
fn stale_if_match_is_412_and_changes_nothing() {
    let c = cast();
    let (svc, uid, key) = (&c.svc, c.id(), &c.user_key);
    assert_eq!(patch(svc, uid, key, &[("if-match", "\"1\"")], json!({"user": {"name": "A"}})).status, 200);
    let before = svc.stored(uid);
    let events = svc.event_count();
    let r = patch(svc, uid, key, &[("if-match", "\"1\"")], json!({"user": {"name": "B"}}));
    assert_eq!(r.status, 412, "{}", r.body);
    assert_eq!(svc.stored(uid), before);
    assert_eq!(svc.event_count(), events);
    assert_eq!(patch(svc, uid, key, &[("if-match", "*")], json!({"user": {"name": "C"}})).status, 200);
}

#[test]
fn revoked_key_is_refused_even_when_the_cache_still_has_it() {
    let c = cast();
    let (svc, uid, key) = (&c.svc, c.id(), &c.user_key);
    let kv_key = users_edge::apikey::kv_key(&users_edge::apikey::digest(key));
    let cached = svc.platform.kv.borrow().get(&kv_key).cloned().expect("issued keys are cached");
    let key_id = svc.platform.sql(&format!("SELECT id FROM api_keys WHERE user_id = {uid}"))[0]["id"].as_i64().unwrap();
    assert_eq!(svc.operator("DELETE", &format!("/api-keys/{key_id}"), None).status, 204);
    assert!(svc.platform.kv.borrow().get(&kv_key).is_none(), "revocation drops the cache entry");
    assert_eq!(patch(svc, uid, key, &[], json!({"user": {"name": "X"}})).status, 401);

    // A stale edge cache: the entry is back, but D1's guard refuses.
    svc.platform.kv.borrow_mut().insert(kv_key, cached);
    let before = svc.stored(uid);
    let events = svc.event_count();
    let r = patch(svc, uid, key, &[], json!({"user": {"name": "X"}}));
    assert_eq!(r.status, 401, "{}", r.body);
    assert_eq!(svc.stored(uid), before);
    assert_eq!(svc.event_count(), events);
    assert_eq!(svc.call("GET", &format!("/api/v1/users/{uid}"), &[("x-api-key", key)], None).status, 401);
}

#[test]
fn a_demoted_admin_cannot_use_its_admin_key() {
    let c = cast();
    let (svc, admin_id, admin_key, uid) = (&c.svc, c.admin["id"].as_i64().unwrap(), &c.admin_key, c.id());
    let (_, second_admin_key) = svc.user(c.org, "admin2@acme.test", json!({"admin": true}));
    assert_eq!(patch(svc, admin_id, &second_admin_key, &[], json!({"user": {"admin": false}})).status, 200);
    let before = svc.stored(uid);
    let r = patch(svc, uid, admin_key, &[], json!({"user": {"publisher_id": 1}}));
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(svc.stored(uid), before);
}

#[test]
fn kv_miss_falls_back_to_d1_and_refills_the_cache() {
    let c = cast();
    let (svc, uid, key) = (&c.svc, c.id(), &c.user_key);
    svc.platform.kv.borrow_mut().clear();
    let r = patch(svc, uid, key, &[], json!({"user": {"name": "Y"}}));
    assert_eq!(r.status, 200);
    assert_eq!(r.timing_names(), ["kv", "d1", "kv", "d1"]);
    let r = patch(svc, uid, key, &[], json!({"user": {"name": "Z"}}));
    assert_eq!(r.timing_names(), ["kv", "d1"]);
}

#[test]
fn cross_org_targets_are_404_for_everyone() {
    let c = cast();
    let (svc, admin_key, user_key) = (&c.svc, &c.admin_key, &c.user_key);
    let (foreign, _) = svc.user(c.other_org, "x@b.test", json!({}));
    let fid = foreign["id"].as_i64().unwrap();
    for key in [admin_key, user_key] {
        assert_eq!(patch(svc, fid, key, &[], json!({"user": {"name": "n"}})).status, 404);
        assert_eq!(svc.call("GET", &format!("/api/v1/users/{fid}"), &[("x-api-key", key)], None).status, 404);
    }
    assert_eq!(patch(svc, 999, admin_key, &[], json!({"user": {"name": "n"}})).status, 404);
}

#[test]
fn taken_email_is_a_field_error_not_a_500() {
    let c = cast();
    let (svc, admin_id, admin_key, uid) = (&c.svc, c.admin["id"].as_i64().unwrap(), &c.admin_key, c.id());
    let r = patch(svc, uid, admin_key, &[], json!({"user": {"email": "ADMIN@a.test"}}));
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(r.body["errors"]["email"][0], "has already been taken");
    assert_eq!(svc.stored(admin_id)["email"], "admin@a.test");
}

#[test]
fn empty_update_changes_nothing_and_records_nothing() {
    let c = cast();
    let (svc, uid, key) = (&c.svc, c.id(), &c.user_key);
    let events = svc.event_count();
    for body in [json!({}), json!({"user": {}})] {
        let r = patch(svc, uid, key, &[], body);
        assert_eq!(r.status, 200);
        assert_eq!(r.header("etag"), Some("\"1\""));
    }
    assert_eq!(svc.event_count(), events);
}

#[test]
fn events_name_fields_never_values() {
    let c = cast();
    let (svc, admin_key, uid) = (&c.svc, &c.admin_key, c.id());
    let r = patch(svc, uid, admin_key, &[], json!({"user": {"password": "Secr3tP4ssw0rd!", "role_title": "Boss"}}));
    assert_eq!(r.status, 200);
    let events = svc.operator("GET", &format!("/users/{uid}/events"), None);
    assert_eq!(events.status, 200);
    assert_eq!(events.body["events"][0]["fields"], json!(["role_title", "password"]));
    assert_eq!(events.body["events"][0]["action"], "update");
    let text = events.body.to_string();
    assert!(!text.contains("Secr3t") && !text.contains("pbkdf2") && !text.contains("Boss"));
    let stored = svc.stored(uid);
    assert!(stored["password_hash"].as_str().unwrap().starts_with("$pbkdf2-sha256$i=1000,l=32$"));
    let user = svc.operator("GET", &format!("/users/{uid}"), None);
    assert_eq!(user.body["password_set"], true);
    assert!(user.body.get("password_hash").is_none());
}
