//! API keys worth trusting: scopes per API and method, expiry, rotation with overlap, the
//! issuer's guard, demotion, listing without secrets, key events; each against a stale cache
//! where it matters (KV entries put back by hand).

use crate::helpers::{Reply, Service};
use serde_json::{json, Value};

struct Cast {
    svc: Service,
    org: i64,
    admin_id: i64,
    admin_key: String,
    user_id: i64,
    user_uuid: String,
}

fn cast() -> Cast {
    let svc = Service::new();
    let org = svc.org("A");
    let (admin, admin_key) = svc.user(org, "admin@a.test", json!({"admin": true}));
    let (user, _) = svc.user(org, "user@a.test", json!({"username": "u"}));
    Cast {
        svc,
        org,
        admin_id: admin["id"].as_i64().unwrap(),
        admin_key,
        user_id: user["id"].as_i64().unwrap(),
        user_uuid: user["uuid"].as_str().unwrap().to_string(),
    }
}

impl Cast {
    fn issue(&self, body: Value) -> Reply {
        self.svc.operator("POST", "/api-keys", Some(body))
    }
    fn key_for(&self, user_id: i64, extra: Value) -> (i64, String) {
        let mut body = json!({"user_id": user_id});
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        let r = self.issue(body);
        assert_eq!(r.status, 201, "{}", r.body);
        (r.body["id"].as_i64().unwrap(), r.body["key"].as_str().unwrap().to_string())
    }
    /// One request per API, a read or a write, as `key`.
    fn call(&self, key: &str, api: &str, write: bool) -> u16 {
        let bearer = format!("Bearer {key}");
        let (uid, uuid) = (self.user_id, self.user_uuid.as_str());
        let r = match (api, write) {
            ("hienergy", false) => self.svc.call("GET", &format!("/api/v1/users/{uid}"), &[("x-api-key", key)], None),
            ("hienergy", true) => self.svc.call(
                "PATCH",
                &format!("/api/v1/users/{uid}"),
                &[("x-api-key", key)],
                Some(json!({"user": {"based_in": "X"}})),
            ),
            ("upsun", false) => self.svc.call("GET", &format!("/users/{uuid}"), &[("authorization", &bearer)], None),
            ("upsun", true) => {
                self.svc.call("PATCH", &format!("/users/{uuid}"), &[("authorization", &bearer)], Some(json!({"company": "C"})))
            }
            ("zitadel", _) => self.svc.call(
                "PUT",
                &format!("/v2/users/human/{uuid}"),
                &[("authorization", &bearer)],
                Some(json!({"username": "u2"})),
            ),
            ("konstantly", _) => self.svc.call(
                "PATCH",
                &format!("/openapi/v1/users/{uuid}"),
                &[("x-api-key", key)],
                Some(json!({"email": "user@a.test"})),
            ),
            ("admin", false) => self.svc.call("GET", &format!("/admin/v1/users/{uid}"), &[("authorization", &bearer)], None),
            ("admin", true) => self.svc.call(
                "PATCH",
                &format!("/admin/v1/users/{uid}"),
                &[("authorization", &bearer)],
                Some(json!({"bio": "b"})),
            ),
            other => panic!("{other:?}"),
        };
        r.status
    }
}

/// The scope × API × method table: an admin key (so the role never stands in the way) with each
/// scope set; allowed requests succeed, the rest are the dialect's 403.
#[test]
fn scope_matrix() {
    let c = cast();
    let apis = [
        ("hienergy", false),
        ("hienergy", true),
        ("upsun", false),
        ("upsun", true),
        ("zitadel", true),
        ("konstantly", true),
        ("admin", false),
        ("admin", true),
    ];
    let sets: [(&str, Value); 6] = [
        ("all", json!(null)),
        ("hienergy", json!(["hienergy"])),
        ("hienergy+read", json!(["hienergy", "read"])),
        ("read", json!(["read"])),
        ("upsun+zitadel", json!(["upsun", "zitadel"])),
        ("admin", json!(["admin"])),
    ];
    for (label, scopes) in sets {
        let (_, key) = c.key_for(c.admin_id, json!({"scopes": scopes}));
        for (api, write) in apis {
            let allowed = match label {
                "all" => true,
                "hienergy" => api == "hienergy",
                "hienergy+read" => api == "hienergy" && !write,
                "read" => !write,
                "upsun+zitadel" => api == "upsun" || api == "zitadel",
                "admin" => api == "admin",
                _ => unreachable!(),
            };
            let status = c.call(&key, api, write);
            assert_eq!(status == 403, !allowed, "{label}: {api} write={write} → {status}");
            if allowed {
                assert!(status < 300, "{label}: {api} write={write} → {status}");
            }
        }
    }
}

/// A scope naming an API that takes admin keys only (the operator API, SCIM, Konstantly) would
/// permit nothing on a user's key: such a key is refused, naming the scopes, and nothing is
/// issued; an admin's key takes them, and a user's key its own APIs.
#[test]
fn admin_only_scopes_are_refused_on_a_users_key() {
    let c = cast();
    let keys = || c.svc.platform.sql("SELECT COUNT(*) AS n FROM api_keys")[0]["n"].as_i64().unwrap();
    let before = keys();
    for scopes in [json!(["admin"]), json!(["scim"]), json!(["hienergy", "konstantly"]), json!(["scim", "read"])] {
        let r = c.issue(json!({"user_id": c.user_id, "scopes": scopes}));
        assert_eq!(r.status, 422, "{scopes}: {}", r.body);
        let detail = r.body["errors"].to_string();
        assert!(detail.contains("scopes") && detail.contains("no admin"), "{scopes}: {}", r.body);
    }
    assert_eq!(keys(), before, "nothing issued");
    let as_admin = c.svc.call(
        "POST",
        "/admin/v1/api-keys",
        &[("authorization", &format!("Bearer {}", c.admin_key))],
        Some(json!({"user_id": c.user_id, "scopes": ["scim"]})),
    );
    assert_eq!(as_admin.status, 422, "an admin's key is refused alike: {}", as_admin.body);
    assert_eq!(c.issue(json!({"user_id": c.user_id, "scopes": ["hienergy", "read"]})).status, 201);
    assert_eq!(c.issue(json!({"user_id": c.admin_id, "scopes": ["admin", "scim", "konstantly"]})).status, 201);
    assert_eq!(c.issue(json!({"user_id": 999_999, "scopes": ["admin"]})).status, 404, "a missing user is still 404");
}

#[test]
fn out_of_scope_is_refused_before_any_d1_call() {
    let c = cast();
    let (_, key) = c.key_for(c.user_id, json!({"scopes": ["upsun"]}));
    let r = c.svc.call("GET", &format!("/api/v1/users/{}", c.user_id), &[("x-api-key", &key)], None);
    assert_eq!((r.status, r.body["error"].as_str()), (403, Some("forbidden")));
    assert_eq!(r.timing_names(), ["kv"], "one KV read, no D1");
}

#[test]
fn a_hand_widened_cache_entry_cannot_widen_a_key() {
    let c = cast();
    let (_, key) = c.key_for(c.user_id, json!({"scopes": ["upsun"]}));
    let kv_key = users_edge::apikey::kv_key(&users_edge::apikey::digest(&key));
    let mut entry: Value = serde_json::from_str(&c.svc.platform.kv.borrow()[&kv_key]).unwrap();
    entry["scopes"] = Value::Null;
    c.svc.platform.kv.borrow_mut().insert(kv_key, entry.to_string());
    let before = c.svc.stored(c.user_id);
    assert_eq!(c.call(&key, "hienergy", true), 401, "D1's guard refuses the claim");
    assert_eq!(c.svc.stored(c.user_id), before);
}

#[test]
fn expiry_is_enforced_by_the_cache_entry_and_by_d1() {
    let c = cast();
    let past = c.issue(json!({"user_id": c.user_id, "expires_at": "2020-01-01T00:00:00Z"}));
    assert_eq!(past.status, 422, "{}", past.body);
    assert_eq!(past.body["errors"][0]["field"], "expires_at");
    // Before 1970 is a valid RFC 3339 date-time, and in the past (schemathesis found it refused as
    // malformed); one that isn't a date-time at all says so.
    for (at, why) in
        [("0319-05-08T06:48:54.634069Z", "must be in the future"), ("2030-02-30T00:00:00Z", "must be an RFC 3339 date-time")]
    {
        let r = c.issue(json!({"user_id": c.user_id, "expires_at": at}));
        assert_eq!((r.status, &r.body["errors"][0]["message"]), (422, &json!(why)), "{at}: {}", r.body);
    }
    // The host clock starts on 2025-03-25T16:00:34Z.
    let (_, key) = c.key_for(c.user_id, json!({"expires_at": "2025-03-25T17:00:34Z"}));
    assert_eq!(c.call(&key, "hienergy", false), 200);
    let kv_key = users_edge::apikey::kv_key(&users_edge::apikey::digest(&key));
    let mut entry: Value = serde_json::from_str(&c.svc.platform.kv.borrow()[&kv_key]).unwrap();
    c.svc.platform.advance(2.0 * 3600.0 * 1000.0);
    assert_eq!(c.call(&key, "hienergy", false), 401, "expired by the cache entry");
    // A stale entry that forgot the expiry: D1 refuses.
    entry["expires_at"] = Value::Null;
    c.svc.platform.kv.borrow_mut().insert(kv_key.clone(), entry.to_string());
    assert_eq!(c.call(&key, "hienergy", false), 401, "expired by D1's guard");
    c.svc.platform.kv.borrow_mut().remove(&kv_key);
    assert_eq!(c.call(&key, "hienergy", false), 401, "expired keys don't come back from D1");
}

#[test]
fn rotation_keeps_the_old_key_for_the_overlap_then_refuses_it() {
    let c = cast();
    let (old_id, old) = c.key_for(c.user_id, json!({"name": "ci", "scopes": ["hienergy"]}));
    let r = c.svc.operator("POST", &format!("/api-keys/{old_id}/rotate"), Some(json!({"overlap_seconds": 600})));
    assert_eq!(r.status, 201, "{}", r.body);
    let new = r.body["key"].as_str().unwrap().to_string();
    assert_eq!(
        (&r.body["name"], &r.body["scopes"], &r.body["rotated_from"]),
        (&json!("ci"), &json!(["hienergy"]), &json!(old_id))
    );
    assert_eq!(c.call(&old, "hienergy", false), 200, "the old key works during the overlap");
    assert_eq!(c.call(&new, "hienergy", false), 200);
    c.svc.platform.advance(601_000.0);
    assert_eq!(c.call(&old, "hienergy", false), 401);
    assert_eq!(c.call(&new, "hienergy", false), 200);
    // Without an overlap the old key stops at once; a rotated-away key can't be rotated again.
    let new_id = r.body["id"].as_i64().unwrap();
    let again = c.svc.operator("POST", &format!("/api-keys/{new_id}/rotate"), Some(json!({})));
    assert_eq!(again.status, 201);
    assert_eq!(c.call(&new, "hienergy", false), 401);
    assert_eq!(c.svc.operator("POST", &format!("/api-keys/{old_id}/rotate"), Some(json!({}))).status, 409, "rotated already");
    let actions: Vec<String> = c.svc.operator("GET", &format!("/users/{}/events", c.user_id), None).body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(actions[..5], ["api_key.expiring", "api_key.rotated", "api_key.expiring", "api_key.rotated", "api_key.created"]);
}

#[test]
fn a_revoked_issuer_mints_nothing_whatever_kv_says() {
    let c = cast();
    let (issuer_id, issuer) = c.key_for(c.admin_id, json!({}));
    let kv_key = users_edge::apikey::kv_key(&users_edge::apikey::digest(&issuer));
    let entry = c.svc.platform.kv.borrow()[&kv_key].clone();
    assert_eq!(c.svc.operator("DELETE", &format!("/api-keys/{issuer_id}"), None).status, 204);
    c.svc.platform.kv.borrow_mut().insert(kv_key, entry);
    let keys_before = c.svc.platform.sql("SELECT COUNT(*) AS n FROM api_keys")[0]["n"].clone();
    let auth = format!("Bearer {issuer}");
    let r = c.svc.call("POST", "/admin/v1/api-keys", &[("authorization", &auth)], Some(json!({"user_id": c.user_id})));
    assert_eq!(r.status, 401, "{}", r.body);
    assert_eq!(c.svc.platform.sql("SELECT COUNT(*) AS n FROM api_keys")[0]["n"], keys_before);
}

#[test]
fn demotion_retires_admin_keys_for_good() {
    let c = cast();
    let (second, _) = c.svc.user(c.org, "admin2@a.test", json!({"admin": true}));
    let second_id = second["id"].as_i64().unwrap();
    let (_, second_key) = c.key_for(second_id, json!({}));
    assert_eq!(c.call(&second_key, "admin", false), 200);
    assert_eq!(c.svc.operator("PATCH", &format!("/users/{second_id}"), Some(json!({"admin": false}))).status, 200);
    assert_eq!(c.call(&second_key, "admin", false), 403, "the admin role is no longer held");
    assert_eq!(c.svc.operator("PATCH", &format!("/users/{second_id}"), Some(json!({"admin": true}))).status, 200);
    assert_eq!(c.call(&second_key, "admin", false), 401, "promoting again does not revive the key");
    let (_, fresh) = c.key_for(second_id, json!({}));
    assert_eq!(c.call(&fresh, "admin", false), 200);
}

#[test]
fn listings_show_keys_without_secrets_and_note_their_use() {
    let c = cast();
    let (id, key) = c.key_for(c.user_id, json!({"name": "laptop"}));
    assert_eq!(c.call(&key, "hienergy", false), 200);
    let r = c.svc.operator("GET", &format!("/api-keys?user_id={}", c.user_id), None);
    assert_eq!(r.status, 200, "{}", r.body);
    let listed = r.body["api_keys"].as_array().unwrap();
    let mine = listed.iter().find(|k| k["id"] == json!(id)).unwrap();
    assert_eq!((&mine["name"], &mine["created_by"], &mine["scopes"]), (&json!("laptop"), &json!("operator"), &Value::Null));
    assert!(mine["last_used_at"].is_string(), "{mine}");
    let text = r.body.to_string();
    let digest = users_edge::apikey::digest(&key);
    assert!(!text.contains(&digest) && !text.contains(&key) && !text.contains("digest"));
    let by_org = c.svc.operator("GET", &format!("/api-keys?org_id={}", c.org), None);
    assert!(by_org.body["api_keys"].as_array().unwrap().len() >= 3);
    let events = c.svc.operator("GET", &format!("/users/{}/events", c.user_id), None).body.to_string();
    assert!(events.contains("api_key.created") && !events.contains(&digest) && !events.contains(&key));
    assert_eq!(c.svc.operator("GET", "/api-keys?user_id=999999", None).status, 404);
}

#[test]
fn an_admin_key_issues_for_its_own_org_and_is_named_as_issuer() {
    let c = cast();
    let auth = format!("Bearer {}", c.admin_key);
    let r = c.svc.call(
        "POST",
        "/admin/v1/api-keys",
        &[("authorization", &auth)],
        Some(json!({"user_id": c.user_id, "scopes": ["upsun"]})),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let admin_key_id = c.svc.platform.sql(&format!("SELECT id FROM api_keys WHERE user_id = {} ORDER BY id LIMIT 1", c.admin_id))
        [0]["id"]
        .clone();
    assert_eq!(r.body["created_by"], json!(admin_key_id.to_string()));
    let other = c.svc.org("B");
    let (stranger, _) = c.svc.user(other, "s@b.test", json!({}));
    let r = c.svc.call("POST", "/admin/v1/api-keys", &[("authorization", &auth)], Some(json!({"user_id": stranger["id"]})));
    assert_eq!(r.status, 404);
    let r = c.svc.call("GET", &format!("/admin/v1/api-keys?org_id={other}"), &[("authorization", &auth)], None);
    assert_eq!(r.status, 404);
}

#[test]
fn a_user_without_keys_lists_none_in_one_d1_call_and_others_out_of_reach_stay_404() {
    let c = cast();
    let auth = format!("Bearer {}", c.admin_key);
    let made = c.svc.operator("POST", "/users", Some(json!({"org_id": c.org, "email": "keyless@a.test"})));
    assert_eq!(made.status, 201, "{}", made.body);
    let keyless = made.body["id"].as_i64().unwrap();
    let path = format!("/admin/v1/api-keys?user_id={keyless}");
    let r = c.svc.call("GET", &path, &[("authorization", &auth)], None);
    assert_eq!((r.status, &r.body["api_keys"]), (200, &json!([])), "{}", r.body);
    assert_eq!(r.timing_names(), ["kv", "d1"], "the user is read in the listing's own batch");
    let r = c.svc.operator("GET", &format!("/api-keys?user_id={keyless}"), None);
    assert_eq!((r.status, r.timing_names()), (200, vec!["d1".to_string()]), "{}", r.body);
    // Nobody there, somebody in another org, somebody deleted: 404 alike, for the admin key and
    // for the operator naming another org than the user's.
    let other_org = c.svc.org("B");
    let (stranger, _) = c.svc.user(other_org, "keyless@b.test", json!({}));
    let gone = c.svc.operator("POST", "/users", Some(json!({"org_id": c.org, "email": "gone@a.test"})));
    assert_eq!(c.svc.operator("DELETE", &format!("/users/{}", gone.body["id"]), None).status, 204);
    for user in [json!(999_999), stranger["id"].clone(), gone.body["id"].clone()] {
        let r = c.svc.call("GET", &format!("/admin/v1/api-keys?user_id={user}"), &[("authorization", &auth)], None);
        assert_eq!(r.status, 404, "user {user}: {}", r.body);
    }
    let r = c.svc.operator("GET", &format!("/api-keys?user_id={keyless}&org_id={other_org}"), None);
    assert_eq!(r.status, 404, "{}", r.body);
}

/// A key grants no more than it holds: an admin key scoped to the operator API and expiring in an
/// hour can issue keys within those scopes that expire no later, and nothing else — not an
/// unscoped key, not another API's, not one that outlives it (each refusal names the fields and
/// issues nothing). Its rotations are held to the same: a successor inherits what it replaces.
#[test]
fn a_key_issues_and_rotates_only_keys_that_reach_no_further_than_itself() {
    let c = cast();
    // The host clock starts on 2025-03-25T16:00:34Z.
    let (_, narrow) = c.key_for(c.admin_id, json!({"scopes": ["admin"], "expires_at": "2025-03-25T17:00:34Z"}));
    let auth = format!("Bearer {narrow}");
    let issue = |body: Value| c.svc.call("POST", "/admin/v1/api-keys", &[("authorization", &auth)], Some(body));
    let count = || c.svc.platform.sql("SELECT COUNT(*) AS n FROM api_keys")[0]["n"].as_i64().unwrap();
    let before = count();
    for (body, fields) in [
        (json!({"user_id": c.user_id}), vec!["scopes", "expires_at"]),
        (json!({"user_id": c.user_id, "expires_at": "2025-03-25T16:30:00Z"}), vec!["scopes"]),
        (json!({"user_id": c.user_id, "scopes": ["hienergy"], "expires_at": "2025-03-25T16:30:00Z"}), vec!["scopes"]),
        (json!({"user_id": c.user_id, "scopes": ["admin"]}), vec!["expires_at"]),
        (json!({"user_id": c.user_id, "scopes": ["admin"], "expires_at": "2025-03-25T18:00:00Z"}), vec!["expires_at"]),
    ] {
        let r = issue(body.clone());
        let named: Vec<&str> =
            r.body["errors"].as_array().map(|e| e.iter().filter_map(|x| x["field"].as_str()).collect()).unwrap_or_default();
        assert_eq!((r.status, named), (403, fields), "{body}: {}", r.body);
    }
    assert_eq!(count(), before, "a refused issue writes nothing");
    // (For an admin: the operator API takes admin keys only, `admin_only_scopes_are_refused_on_a_users_key`.)
    let ok = issue(json!({"user_id": c.admin_id, "scopes": ["admin", "read"], "expires_at": "2025-03-25T16:30:00Z"}));
    assert_eq!(ok.status, 201, "within its scopes and its lifetime: {}", ok.body);

    // Rotation by the narrow key: an unscoped, unexpiring key is beyond it; a covered one is not.
    let (wide_id, _) = c.key_for(c.user_id, json!({}));
    let rotate =
        |id: i64| c.svc.call("POST", &format!("/admin/v1/api-keys/{id}/rotate"), &[("authorization", &auth)], Some(json!({})));
    let r = rotate(wide_id);
    assert_eq!(
        (r.status, &r.body["errors"]),
        (
            403,
            &json!([{"field": "scopes", "message": "reaches further than the API key asking for it"}, {"field": "expires_at", "message": "reaches further than the API key asking for it"}])
        ),
        "{}",
        r.body
    );
    let within = ok.body["id"].as_i64().unwrap();
    assert_eq!(rotate(within).status, 201);
    assert_eq!(count(), before + 3, "the issued key, the wide key, the rotation's successor: the refused rotation wrote nothing");
}

/// A key has one successor: rotating it again is a 409, in its overlap or after it stopped, so a
/// retried or raced rotation cannot leave two live successors, and learns why.
#[test]
fn a_key_is_rotated_once() {
    let c = cast();
    let (old_id, _) = c.key_for(c.user_id, json!({"name": "ci"}));
    let path = format!("/api-keys/{old_id}/rotate");
    let first = c.svc.operator("POST", &path, Some(json!({"overlap_seconds": 600})));
    assert_eq!(first.status, 201, "{}", first.body);
    let again = c.svc.operator("POST", &path, Some(json!({"overlap_seconds": 600})));
    assert_eq!((again.status, again.body["title"].as_str()), (409, Some("Conflict")), "{}", again.body);
    let successors = c.svc.platform.sql(&format!("SELECT COUNT(*) AS n FROM api_keys WHERE rotated_from = {old_id}"));
    assert_eq!(successors[0]["n"], 1);
    let next = first.body["id"].as_i64().unwrap();
    assert_eq!(c.svc.operator("POST", &format!("/api-keys/{next}/rotate"), Some(json!({}))).status, 201, "its successor rotates");
    // With no overlap the rotated key stops at once; asking again (a lost answer retried) still
    // learns that it was rotated, not that there is no such key.
    let again = c.svc.operator("POST", &format!("/api-keys/{next}/rotate"), Some(json!({})));
    assert_eq!(again.status, 409, "{}", again.body);
    // A key that merely expired, never rotated, is no key to rotate: 404.
    let (lapsed, _) = c.key_for(c.user_id, json!({"expires_at": "2025-03-25T16:00:35Z"}));
    c.svc.platform.advance(5_000.0);
    assert_eq!(c.svc.operator("POST", &format!("/api-keys/{lapsed}/rotate"), Some(json!({}))).status, 404);
}
