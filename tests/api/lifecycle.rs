//! The user lifecycle on the operator API: create, PATCH, deactivate, reactivate, delete and
//! list, each for the operator token and an org admin's key, across tenants, with If-Match and
//! the audit trail; and what each state means to the other dialects.

use crate::helpers::{Reply, Service};
use serde_json::{json, Value};

struct Cast {
    svc: Service,
    org: i64,
    other_org: i64,
    admin_key: String,
    other_admin_key: String,
    user_id: i64,
    user_uuid: String,
    user_key: String,
}

fn cast() -> Cast {
    let svc = Service::new();
    let org = svc.org("A");
    let other_org = svc.org("B");
    let (_, admin_key) = svc.user(org, "admin@a.test", json!({"admin": true}));
    let (_, other_admin_key) = svc.user(other_org, "admin@b.test", json!({"admin": true}));
    let (user, user_key) = svc.user(org, "ada@a.test", json!({"username": "ada", "given_name": "Ada"}));
    Cast {
        svc,
        org,
        other_org,
        admin_key,
        other_admin_key,
        user_id: user["id"].as_i64().unwrap(),
        user_uuid: user["uuid"].as_str().unwrap().to_string(),
        user_key,
    }
}

impl Cast {
    /// The operator API with a key (or none) instead of the operator token.
    fn with_key(&self, key: Option<&str>, method: &str, path: &str, body: Option<Value>) -> Reply {
        let auth = key.map(|k| format!("Bearer {k}"));
        let headers: Vec<(&str, &str)> = auth.iter().map(|a| ("authorization", a.as_str())).collect();
        self.svc.call(method, &format!("/admin/v1{path}"), &headers, body)
    }
    fn user_path(&self) -> String {
        format!("/users/{}", self.user_id)
    }
    fn events(&self, id: i64) -> Vec<String> {
        let r = self.svc.operator("GET", &format!("/users/{id}/events"), None);
        assert_eq!(r.status, 200, "{}", r.body);
        r.body["events"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap().to_string()).collect()
    }
}

#[test]
fn patch_writes_every_canonical_field_and_reads_it_back() {
    let c = cast();
    let body = json!({
        "username": "ada.l", "email": "ada@lovelace.example", "email_verified": true, "phone": "+41791234567",
        "phone_verified": true, "name": "Ada L.", "given_name": "Ada", "family_name": "Lovelace", "nick_name": "al",
        "preferred_language": "en-GB", "gender": "female", "role_title": "Analyst", "based_in": "London",
        "linkedin_profile_url": "https://www.linkedin.com/in/ada", "picture": "https://img.example/ada.png",
        "company": "Engines", "website": "https://ada.example/notes", "country": "GB", "bio": "Wrote\nthe first program",
        "timezone": "Europe/London", "admin": false, "auth0_uid": "auth0|1", "publisher_id": 1, "agency_id": 2,
        "network_id": 3, "advertiser_id": 4, "payment_date": "2024-02-29", "company_type": "ltd",
        "publisher_type": "blog", "role_alias": "lead", "from_api": true, "attributes": {"team": "blue"},
        "consented_at": "2024-01-02T03:04:05Z", "consent_method": "opt-in", "external_id": "okta-00u1"
    });
    let r = c.svc.operator("PATCH", &c.user_path(), Some(body.clone()));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("etag"), Some("\"2\""));
    let read = c.svc.operator("GET", &c.user_path(), None);
    for (field, sent) in body.as_object().unwrap() {
        assert_eq!(&read.body[field], sent, "{field} reads back as sent");
    }
    assert!(read.body.get("password_hash").is_none());
    let r = c.svc.operator("PATCH", &c.user_path(), Some(json!({"bio": null, "phone": null, "external_id": null})));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!((&r.body["bio"], &r.body["phone"], &r.body["external_id"]), (&Value::Null, &Value::Null, &Value::Null));
    assert_eq!(c.events(c.user_id)[..2], ["update", "update"]);
}

#[test]
fn patch_names_every_bad_field_and_changes_nothing() {
    let c = cast();
    let before = c.svc.stored(c.user_id);
    let events = c.svc.event_count();
    let r = c.svc.operator(
        "PATCH",
        &c.user_path(),
        Some(json!({"email": null, "country": "XX", "consent_method": "maybe", "deactivated": true, "password_hash": "x", "id": 9})),
    );
    assert_eq!(r.status, 422, "{}", r.body);
    let fields: Vec<&str> = r.body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["email", "country", "consent_method", "deactivated", "id", "password_hash"]);
    assert_eq!(c.svc.stored(c.user_id), before);
    assert_eq!(c.svc.event_count(), events);
}

#[test]
fn patch_honours_if_match_and_sets_a_password_that_verifies() {
    let c = cast();
    let stale = [("authorization", format!("Bearer {}", crate::helpers::OPERATOR)), ("if-match", "\"7\"".to_string())];
    let headers: Vec<(&str, &str)> = stale.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = c.svc.call("PATCH", &format!("/admin/v1{}", c.user_path()), &headers, Some(json!({"name": "X"})));
    assert_eq!(r.status, 412, "{}", r.body);
    let r = c.svc.operator("PATCH", &c.user_path(), Some(json!({"password": "Corr3ct-Horse-Battery"})));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["password_set"], true);
    let hash = c.svc.stored(c.user_id)["password_hash"].as_str().unwrap().to_string();
    assert!(users_edge::password::verify("Corr3ct-Horse-Battery", &hash));
    assert!(!r.raw.body.windows(7).any(|w| w == b"pbkdf2-"), "no hash in the response");
}

#[test]
fn every_operation_is_for_the_operator_and_own_org_admins_only() {
    let c = cast();
    let path = c.user_path();
    let ops: Vec<(&str, String, Option<Value>)> = vec![
        ("GET", path.clone(), None),
        ("PATCH", path.clone(), Some(json!({"nick_name": "n"}))),
        ("POST", format!("{path}/deactivate"), None),
        ("POST", format!("{path}/reactivate"), None),
        ("GET", format!("/users?org_id={}", c.org), None),
        ("POST", "/users".into(), Some(json!({"org_id": c.org, "email": "new@a.test"}))),
        ("GET", format!("{path}/events"), None),
    ];
    for (method, p, body) in &ops {
        let other = c.with_key(Some(&c.other_admin_key), method, p, body.clone());
        assert_eq!(other.status, 404, "other org's admin: {method} {p}: {}", other.body);
        let user = c.with_key(Some(&c.user_key), method, p, body.clone());
        assert_eq!(user.status, 403, "user key: {method} {p}");
        assert_eq!(c.with_key(None, method, p, body.clone()).status, 401, "no key: {method} {p}");
        let admin = c.with_key(Some(&c.admin_key), method, p, body.clone());
        assert!(matches!(admin.status, 200 | 201), "own admin: {method} {p}: {} {}", admin.status, admin.body);
    }
    assert_eq!(c.with_key(Some(&c.other_admin_key), "DELETE", &path, None).status, 404);
    assert_eq!(c.with_key(Some(&c.user_key), "DELETE", &path, None).status, 403);
    assert_eq!(c.with_key(Some(&c.admin_key), "DELETE", &path, None).status, 204);
    // The other org's admin learned nothing and changed nothing: the only events are the own admin's.
    let creates_in_b = c.svc.platform.sql(&format!("SELECT COUNT(*) AS n FROM users WHERE org_id = {}", c.other_org));
    assert_eq!(creates_in_b[0]["n"], 1);
}

#[test]
fn deactivation_refuses_the_users_keys_at_once_and_keeps_it_readable() {
    let c = cast();
    let hienergy = |key: &str| c.svc.call("GET", &format!("/api/v1/users/{}", c.user_id), &[("x-api-key", key)], None);
    assert_eq!(hienergy(&c.user_key).status, 200);
    let r = c.svc.operator("POST", &format!("{}/deactivate", c.user_path()), None);
    assert_eq!((r.status, &r.body["deactivated"]), (200, &json!(true)), "{}", r.body);
    // The KV entry still says the key is fine; D1's guard refuses it.
    assert!(c.svc.platform.kv.borrow().len() >= 3);
    assert_eq!(hienergy(&c.user_key).status, 401);
    let upsun =
        c.svc.call("GET", &format!("/users/{}", c.user_uuid), &[("authorization", &format!("Bearer {}", c.admin_key))], None);
    assert_eq!((upsun.status, &upsun.body["deactivated"]), (200, &json!(true)));
    assert_eq!(hienergy(&c.admin_key).status, 200, "admins still read a deactivated user");
    let again = c.svc.operator("POST", &format!("{}/deactivate", c.user_path()), None);
    assert_eq!((again.status, again.header("etag")), (200, r.header("etag")), "deactivating twice changes nothing");
    let back = c.svc.operator("POST", &format!("{}/reactivate", c.user_path()), None);
    assert_eq!((back.status, &back.body["deactivated"]), (200, &json!(false)));
    assert_eq!(hienergy(&c.user_key).status, 200, "its keys work again");
    assert_eq!(c.events(c.user_id)[..2], ["reactivate", "deactivate"]);
}

#[test]
fn deletion_frees_identifiers_refuses_keys_and_keeps_history() {
    let c = cast();
    let stale = [("authorization", format!("Bearer {}", crate::helpers::OPERATOR)), ("if-match", "\"9\"".to_string())];
    let headers: Vec<(&str, &str)> = stale.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(c.svc.call("DELETE", &format!("/admin/v1{}", c.user_path()), &headers, None).status, 412);
    let r = c.svc.operator("DELETE", &c.user_path(), None);
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(c.svc.operator("DELETE", &c.user_path(), None).status, 404);
    let admin = format!("Bearer {}", c.admin_key);
    let id = c.user_id.to_string();
    let reads = [
        c.svc.call("GET", &format!("/api/v1/users/{id}"), &[("x-api-key", &c.admin_key)], None),
        c.svc.call("GET", &format!("/users/{}", c.user_uuid), &[("authorization", &admin)], None),
        c.svc.call(
            "PATCH",
            &format!("/openapi/v1/users/{id}"),
            &[("x-api-key", &c.admin_key)],
            Some(json!({"email": "x@a.test"})),
        ),
        c.svc.call("PUT", &format!("/v2/users/human/{id}"), &[("authorization", &admin)], Some(json!({"username": "z"}))),
        c.svc.operator("GET", &c.user_path(), None),
    ];
    for r in reads {
        assert_eq!(r.status, 404, "{}", r.body);
    }
    assert_eq!(c.svc.call("GET", &format!("/api/v1/users/{id}"), &[("x-api-key", &c.user_key)], None).status, 401);
    let stored = c.svc.stored(c.user_id);
    assert_eq!((&stored["email"], &stored["username"], &stored["password_hash"]), (&json!(""), &Value::Null, &Value::Null));
    let (again, _) = c.svc.user(c.org, "ADA@a.test", json!({"username": "Ada"}));
    assert_ne!(again["id"], json!(c.user_id));
    assert_eq!(c.events(c.user_id)[0], "delete");
}

#[test]
fn listing_pages_with_a_stable_cursor_and_matches_case_insensitively() {
    let c = cast();
    for i in 0..5 {
        c.svc.user(c.org, &format!("p{i}@a.test"), json!({"username": format!("P{i}")}));
    }
    let page = |q: &str| c.svc.operator("GET", &format!("/users?org_id={}{q}", c.org), None);
    let first = page("&limit=3");
    assert_eq!(first.status, 200, "{}", first.body);
    let ids = |r: &Reply| r.body["users"].as_array().unwrap().iter().map(|u| u["id"].as_i64().unwrap()).collect::<Vec<_>>();
    let mut seen = ids(&first);
    let mut cursor = first.body["next_cursor"].as_str().map(str::to_string);
    // A user deleted mid-walk neither shifts nor repeats the rest.
    assert_eq!(c.svc.operator("DELETE", &format!("/users/{}", seen[2]), None).status, 204);
    while let Some(cur) = cursor {
        let next = page(&format!("&limit=3&cursor={cur}"));
        seen.extend(ids(&next));
        cursor = next.body["next_cursor"].as_str().map(str::to_string);
    }
    assert_eq!(seen.len(), 7, "org A's admin, ada and five more, each once");
    assert!(seen.windows(2).all(|w| w[0] < w[1]));
    let by_email = page("&email=ADA@A.TEST");
    assert_eq!(ids(&by_email), [c.user_id]);
    assert_eq!(ids(&page("&username=p3")).len(), 1);
    assert!(!String::from_utf8_lossy(&first.raw.body).contains("password_hash"));
    let bad = page("&limit=201&cursor=zz");
    assert_eq!(bad.status, 422);
    // An integer written with a fraction is that integer, as in the JSON bodies (JSON Schema's
    // `integer`); a fraction that is not whole is still refused.
    let floats = c.svc.operator("GET", &format!("/users?org_id={}.0&limit=3.0", c.org), None);
    assert_eq!((floats.status, ids(&floats)), (200, ids(&page("&limit=3"))), "{}", floats.body);
    let half = c.svc.operator("GET", &format!("/users?org_id={}&limit=2.5", c.org), None);
    assert_eq!((half.status, half.body["errors"][0]["field"].as_str()), (422, Some("limit")), "{}", half.body);
    let own = c.with_key(Some(&c.admin_key), "GET", "/users?limit=200", None);
    assert_eq!(own.status, 200, "{}", own.body);
    assert_eq!((own.status, ids(&own).len()), (200, 6), "an admin key lists its own org: {}", own.body);
}

#[test]
fn orgs_are_listed_a_page_at_a_time_and_read_by_id_within_reach() {
    let c = cast();
    let more: Vec<i64> = (0..3).map(|i| c.svc.org(&format!("More {i}"))).collect();
    let ids = |r: &Reply| r.body["orgs"].as_array().unwrap().iter().map(|o| o["id"].as_i64().unwrap()).collect::<Vec<_>>();
    // The operator walks every org, two at a time, each once, in id order.
    let mut seen = Vec::new();
    let mut query = "/orgs?limit=2".to_string();
    loop {
        let page = c.svc.operator("GET", &query, None);
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(ids(&page).len() <= 2);
        seen.extend(ids(&page));
        match page.body["next_cursor"].as_str() {
            Some(cursor) => query = format!("/orgs?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen, [vec![c.org, c.other_org], more.clone()].concat());
    let one = c.svc.operator("GET", &format!("/orgs/{}", more[1]), None);
    assert_eq!((one.status, one.body["name"].as_str()), (200, Some("More 1")), "{}", one.body);
    let keys: Vec<&str> = one.body.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["created_at", "id", "name", "uuid"]);
    assert_eq!(c.svc.operator("GET", "/orgs/999999", None).status, 404);

    // An admin key sees its own org alone; another org is 404, as a missing one is.
    let own = c.with_key(Some(&c.admin_key), "GET", "/orgs", None);
    assert_eq!((own.status, ids(&own), &own.body["next_cursor"]), (200, vec![c.org], &Value::Null), "{}", own.body);
    assert_eq!(c.with_key(Some(&c.admin_key), "GET", &format!("/orgs/{}", c.org), None).status, 200);
    assert_eq!(c.with_key(Some(&c.admin_key), "GET", &format!("/orgs/{}", c.other_org), None).status, 404);
    // A user's key may not read orgs at all; no key is 401.
    assert_eq!(c.with_key(Some(&c.user_key), "GET", "/orgs", None).status, 403);
    assert_eq!(c.with_key(Some(&c.user_key), "GET", &format!("/orgs/{}", c.org), None).status, 403);
    assert_eq!(c.with_key(None, "GET", "/orgs", None).status, 401);
    // A parameter given twice is refused, naming it, never one of its values picked.
    let twice = c.svc.operator("GET", &format!("/users?org_id={}&org_id={}", c.org, c.other_org), None);
    assert_eq!((twice.status, &twice.body["errors"][0]["field"]), (422, &json!("org_id")), "{}", twice.body);
    let twice = c.with_key(Some(&c.admin_key), "GET", &format!("/users?org_id={}&limit=1&org_id={}", c.org, c.org), None);
    assert_eq!(twice.status, 422, "even with one value twice: {}", twice.body);
    // Only the operator makes orgs, and the refusal says so (an admin key is what was sent).
    let made = c.with_key(Some(&c.admin_key), "POST", "/orgs", Some(json!({"name": "Admin's own"})));
    assert_eq!(made.status, 403, "{}", made.body);
    assert!(made.body["detail"].as_str().unwrap().contains("operator token"), "{}", made.body);

    // Every bad parameter is named; a user listing's cursor is not an org listing's.
    let users_cursor = c.svc.operator("GET", &format!("/users?org_id={}&limit=1", c.org), None).body["next_cursor"]
        .as_str()
        .unwrap()
        .to_string();
    let bad = c.svc.operator("GET", &format!("/orgs?limit=0&cursor={users_cursor}&org_id=1"), None);
    assert_eq!(bad.status, 422, "{}", bad.body);
    let named: Vec<&str> = bad.body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(named, ["limit", "cursor", "org_id"]);
    assert_eq!(c.svc.operator("DELETE", &format!("/orgs/{}", c.org), None).status, 405);
}

#[test]
fn create_with_an_admin_key_is_audited_for_its_own_org_only() {
    let c = cast();
    let r =
        c.with_key(Some(&c.admin_key), "POST", "/users", Some(json!({"org_id": c.org, "email": "n@a.test", "nick_name": "n"})));
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.header("location"), Some(format!("/admin/v1/users/{}", r.body["id"]).as_str()));
    assert_eq!(c.events(r.body["id"].as_i64().unwrap()), ["create"]);
    let taken = c.with_key(Some(&c.admin_key), "POST", "/users", Some(json!({"org_id": c.org, "email": "N@A.test"})));
    assert_eq!(taken.status, 409, "{}", taken.body);
    let elsewhere = c.with_key(Some(&c.admin_key), "POST", "/users", Some(json!({"org_id": c.other_org, "email": "n@b.test"})));
    assert_eq!(elsewhere.status, 404);
}

#[test]
fn an_admin_key_change_is_one_kv_read_and_one_d1_call_and_a_stale_cache_still_holds_nothing() {
    let c = cast();
    let r = c.with_key(Some(&c.admin_key), "PATCH", &c.user_path(), Some(json!({"nick_name": "timed"})));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.timing_names(), ["kv", "d1"], "the key guard rides in the UPDATE itself");
    let hook = c.svc.operator("POST", "/webhooks", Some(json!({"org_id": c.org, "url": "https://hooks.example/in"})));
    assert_eq!(hook.status, 201, "{}", hook.body);
    let reads = [
        "/orgs".to_string(),
        format!("/orgs/{}", c.org),
        format!("/api-keys?org_id={}", c.org),
        // A lookup that finds nobody: the key's re-check is in the same call, not a second one.
        format!("/users?org_id={}&email=nobody@a.test", c.org),
        format!("/users/{}/events", c.user_id),
        format!("/events?org_id={}", c.org),
        format!("/webhooks?org_id={}", c.org),
        format!("/webhooks/{}/deliveries", hook.body["id"]),
    ];
    for p in &reads {
        let r = c.with_key(Some(&c.admin_key), "GET", p, None);
        assert_eq!(r.status, 200, "GET {p}: {}", r.body);
        assert_eq!(r.timing_names(), ["kv", "d1"], "GET {p}: the key's re-check rides in the read's batch");
    }
    // Another org's org, keys and feed answer 404 to a key that holds; once it no longer holds, 401 first.
    let elsewhere = [
        format!("/orgs/{}", c.other_org),
        format!("/api-keys?org_id={}", c.other_org),
        format!("/events?org_id={}", c.other_org),
        format!("/webhooks?org_id={}", c.other_org),
    ];
    for p in &elsewhere {
        assert_eq!(c.with_key(Some(&c.admin_key), "GET", p, None).status, 404, "GET {p}");
    }
    // So do another org's user listing and a user created in it.
    let other_users = format!("/users?org_id={}", c.other_org);
    let into_other = json!({"org_id": c.other_org, "email": "elsewhere@a.test"});
    assert_eq!(c.with_key(Some(&c.admin_key), "GET", &other_users, None).status, 404);
    assert_eq!(c.with_key(Some(&c.admin_key), "POST", "/users", Some(into_other.clone())).status, 404);
    // Revoke the admin key in D1 only (the KV entry stays): every operation still refuses it.
    c.svc.platform.sql("UPDATE api_keys SET revoked_at = '2025-01-01T00:00:00.000Z' WHERE role = 'admin'");
    let events = c.svc.event_count();
    let path = c.user_path();
    for p in reads.iter().chain(&elsewhere) {
        let r = c.with_key(Some(&c.admin_key), "GET", p, None);
        assert_eq!(r.status, 401, "GET {p}: {}", r.body);
        assert!(
            r.body.get("orgs").is_none() && r.body.get("events").is_none() && r.body.get("users").is_none(),
            "GET {p}: {}",
            r.body
        );
    }
    for (method, p, body) in [
        ("GET", path.clone(), None),
        ("PATCH", path.clone(), Some(json!({"nick_name": "stale"}))),
        ("POST", format!("{path}/deactivate"), None),
        ("DELETE", path.clone(), None),
        ("GET", "/users".to_string(), None),
        ("POST", "/users".to_string(), Some(json!({"org_id": c.org, "email": "stale@a.test"}))),
        ("GET", other_users.clone(), None),
        ("POST", "/users".to_string(), Some(into_other.clone())),
        ("GET", format!("{path}/events"), None),
        ("POST", "/api-keys".to_string(), Some(json!({"user_id": c.user_id}))),
        ("DELETE", "/api-keys/3".to_string(), None),
        ("POST", "/orgs".to_string(), Some(json!({"name": "Stale"}))),
    ] {
        let r = c.with_key(Some(&c.admin_key), method, &p, body);
        assert_eq!(r.status, 401, "{method} {p}: {}", r.body);
    }
    assert_eq!(c.svc.event_count(), events);
    assert_eq!(
        c.svc.platform.sql("SELECT COUNT(*) AS n FROM api_keys WHERE revoked_at IS NOT NULL AND role = 'user'")[0]["n"],
        0
    );
}

#[test]
fn an_admin_keys_webhook_and_revocation_writes_are_one_d1_call_within_its_org_and_nothing_once_stale() {
    let c = cast();
    let webhooks = |org: i64| {
        let n = c.svc.platform.sql(&format!("SELECT COUNT(*) AS n FROM webhooks WHERE org_id = {org} AND deleted_at IS NULL"));
        n[0]["n"].as_i64().unwrap()
    };
    let keys_of = |org: i64| c.svc.operator("GET", &format!("/api-keys?org_id={org}"), None).body["api_keys"].clone();
    let live_key = |org: i64| keys_of(org).as_array().unwrap().iter().find(|k| k["revoked_at"].is_null()).unwrap()["id"].clone();
    let theirs = c.svc.operator("POST", "/webhooks", Some(json!({"org_id": c.other_org, "url": "https://b.example/in"})));
    assert_eq!(theirs.status, 201, "{}", theirs.body);
    let (their_hook, their_key) = (theirs.body["id"].clone(), live_key(c.other_org));

    // Within its own org, each write is one KV read and one D1 call.
    let admin = |method: &str, path: &str, body: Option<Value>| c.with_key(Some(&c.admin_key), method, path, body);
    let made = admin("POST", "/webhooks", Some(json!({"org_id": c.org, "url": "https://a.example/in"})));
    assert_eq!((made.status, made.timing_names()), (201, vec!["kv".to_string(), "d1".into()]), "{}", made.body);
    let hook = made.body["id"].clone();
    let replayed = admin("POST", &format!("/webhooks/{hook}/replay"), Some(json!({"from_seq": 1})));
    assert_eq!((replayed.status, replayed.timing_names()), (202, vec!["kv".to_string(), "d1".into()]), "{}", replayed.body);
    let (spare, _) = c.svc.user(c.org, "spare@a.test", json!({}));
    let spare_key = keys_of(c.org).as_array().unwrap().iter().find(|k| k["user_id"] == spare["id"]).unwrap()["id"].clone();
    let revoked = admin("DELETE", &format!("/api-keys/{spare_key}"), None);
    // The third call is the revoked key's cache entry going (a KV delete), after D1 decided.
    assert_eq!((revoked.status, revoked.timing_names()), (204, vec!["kv".to_string(), "d1".into(), "kv".into()]));
    assert!(revoked.header("server-timing").unwrap().contains(r#"kv;desc="delete""#), "{:?}", revoked.header("server-timing"));
    let gone = admin("DELETE", &format!("/webhooks/{hook}"), None);
    assert_eq!((gone.status, gone.timing_names()), (204, vec!["kv".to_string(), "d1".into()]), "{}", gone.body);

    // Another org's webhook and key are not there for it, and stay as they were.
    let events = c.svc.event_count();
    assert_eq!(admin("DELETE", &format!("/webhooks/{their_hook}"), None).status, 404);
    assert_eq!(admin("POST", &format!("/webhooks/{their_hook}/replay"), Some(json!({"from_seq": 1}))).status, 404);
    assert_eq!(admin("DELETE", &format!("/api-keys/{their_key}"), None).status, 404);
    assert_eq!(admin("POST", "/webhooks", Some(json!({"org_id": c.other_org, "url": "https://a.example/x"}))).status, 404);
    assert_eq!((webhooks(c.other_org), c.svc.event_count()), (1, events));
    assert!(keys_of(c.other_org).as_array().unwrap().iter().all(|k| k["revoked_at"].is_null()));

    // Revoked in D1 only (KV still has it): every one of these writes refuses it and writes nothing.
    let own = c.svc.operator("POST", "/webhooks", Some(json!({"org_id": c.org, "url": "https://a.example/again"})));
    let own_hook = own.body["id"].clone();
    c.svc.platform.sql("UPDATE api_keys SET revoked_at = '2025-01-01T00:00:00.000Z' WHERE role = 'admin'");
    let deliveries = c.svc.platform.sql("SELECT COUNT(*) AS n FROM deliveries")[0]["n"].clone();
    let user_key = live_key(c.org);
    for (method, p, body) in [
        ("POST", "/webhooks".to_string(), Some(json!({"org_id": c.org, "url": "https://a.example/stale"}))),
        ("POST", format!("/webhooks/{own_hook}/replay"), Some(json!({"from_seq": 1}))),
        ("DELETE", format!("/webhooks/{own_hook}"), None),
        ("DELETE", format!("/api-keys/{user_key}"), None),
        ("DELETE", format!("/webhooks/{their_hook}"), None),
    ] {
        let r = admin(method, &p, body);
        assert_eq!(r.status, 401, "{method} {p}: {}", r.body);
    }
    assert_eq!((webhooks(c.org), webhooks(c.other_org), c.svc.event_count()), (1, 1, events));
    assert_eq!(c.svc.platform.sql("SELECT COUNT(*) AS n FROM deliveries")[0]["n"], deliveries);
    assert!(keys_of(c.org).as_array().unwrap().iter().any(|k| k["id"] == user_key && k["revoked_at"].is_null()));
}

#[test]
fn a_create_event_names_the_email_first_then_what_was_given() {
    let c = cast();
    let body = json!({"org_id": c.org, "email": "e@a.test", "username": "e", "name": "E", "admin": false, "from_api": true});
    let r = c.svc.operator("POST", "/users", Some(body));
    assert_eq!(r.status, 201, "{}", r.body);
    let events = c.svc.operator("GET", &format!("/users/{}/events", r.body["id"]), None);
    assert_eq!(events.body["events"][0]["fields"], json!(["email", "username", "name", "from_api"]));
}

#[test]
fn create_reads_null_as_absent_for_every_field() {
    let c = cast();
    let body = json!({"org_id": c.org, "email": "nulls@a.test", "admin": null, "email_verified": null, "phone_verified": null,
        "from_api": null, "attributes": null, "password": null, "username": null, "bio": null, "consented_at": null});
    let r = c.svc.operator("POST", "/users", Some(body));
    assert_eq!(r.status, 201, "{}", r.body);
    let flags = ["admin", "email_verified", "phone_verified", "from_api", "password_set"].map(|f| r.body[f].clone());
    assert_eq!(flags, [json!(false), json!(false), json!(false), json!(false), json!(false)]);
    assert_eq!((&r.body["attributes"], &r.body["username"]), (&json!({}), &Value::Null));
}
