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

/// Every API refuses a key D1 no longer honours while KV still holds its entry: revoked, its user
/// deactivated, its admin demoted. Reads and writes alike, and nothing changes.
#[test]
fn every_api_refuses_a_stale_cached_admin_key_and_changes_nothing() {
    let c = cast();
    let svc = &c.svc;
    let (uid, uuid) = (c.id(), c.uuid().to_string());
    let key = c.admin_key.clone();
    let bearer = format!("Bearer {key}");
    let scim_ct = ("content-type", "application/scim+json");
    let tries = |label: &str| {
        let calls = [
            ("hienergy", svc.call("PATCH", &format!("/api/v1/users/{uid}"), &[("x-api-key", &key)], Some(json!({"user": {"name": "stale"}})))),
            ("konstantly", svc.call("PATCH", &format!("/openapi/v1/users/{uid}"), &[("x-api-key", &key)], Some(json!({"email": "minnie@a.test", "occupation": "stale"})))),
            ("zitadel", svc.call("PUT", &format!("/v2/users/human/{uuid}"), &[("authorization", &bearer)], Some(json!({"profile": {"givenName": "Stale", "familyName": "S"}})))),
            ("zitadel reset", svc.call("POST", &format!("/v2/users/{uuid}/password_reset"), &[("authorization", &bearer)], Some(json!({"returnCode": {}})))),
            ("connect", svc.call("POST", "/zitadel.user.v2.UserService/UpdateUser", &[("authorization", &bearer)], Some(json!({"userId": uuid, "human": {"profile": {"givenName": "Stale"}}})))),
            ("upsun", svc.call("PATCH", &format!("/users/{uuid}"), &[("authorization", &bearer)], Some(json!({"company": "stale"})))),
            ("scim read", svc.call("GET", &format!("/scim/v2/Users/{uuid}"), &[("authorization", &bearer)], None)),
            ("scim write", svc.call("PATCH", &format!("/scim/v2/Users/{uuid}"), &[("authorization", &bearer), scim_ct], Some(json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "replace", "path": "title", "value": "stale"}]})))),
            ("operator", svc.call("PATCH", &format!("/admin/v1/users/{uid}"), &[("authorization", &bearer)], Some(json!({"nick_name": "stale"})))),
        ];
        calls.into_iter().map(|(api, r)| (format!("{label}, {api}"), r.status, r.body)).collect::<Vec<_>>()
    };
    let kv_key = users_edge::apikey::kv_key(&users_edge::apikey::digest(&key));
    let cached = svc.platform.kv.borrow().get(&kv_key).cloned().expect("issued keys are cached");
    let (before, events) = (svc.stored(uid), svc.event_count());
    let codes = || svc.platform.sql("SELECT COUNT(*) AS n FROM verification_codes")[0]["n"].clone();
    let codes_before = codes();
    for (label, break_it, mend) in [
        (
            "revoked",
            "UPDATE api_keys SET revoked_at = '2025-01-01T00:00:00.000Z' WHERE role = 'admin'",
            "UPDATE api_keys SET revoked_at = NULL",
        ),
        ("deactivated", "UPDATE users SET deactivated = 1 WHERE admin = 1", "UPDATE users SET deactivated = 0"),
        (
            "demoted",
            "UPDATE users SET admin = 0 WHERE email = 'admin@a.test'",
            "UPDATE users SET admin = 1 WHERE email = 'admin@a.test'",
        ),
    ] {
        svc.platform.sql(break_it);
        svc.platform.kv.borrow_mut().insert(kv_key.clone(), cached.clone());
        for (what, status, body) in tries(label) {
            assert!(status == 401 || status == 403, "{what}: {status} {body}");
        }
        svc.platform.sql(mend);
    }
    assert_eq!(svc.stored(uid), before, "nothing changed");
    assert_eq!(svc.event_count(), events, "no event");
    assert_eq!(codes(), codes_before, "no code issued");
    // The same calls with the key holding: each goes through (so the refusals above were the key's).
    svc.platform.kv.borrow_mut().insert(kv_key, cached);
    for (what, status, body) in tries("holding") {
        assert!((200..300).contains(&status), "{what}: {status} {body}");
    }
}

/// A request with good fields beside bad ones changes nothing, and its error names every bad one,
/// in each API's own format: Upsun, ZITADEL Connect, the operator API's user, webhook and key
/// writes.
#[test]
fn good_fields_beside_bad_ones_change_nothing_and_every_bad_one_is_named() {
    let c = cast();
    let svc = &c.svc;
    let (uid, uuid) = (c.id(), c.uuid().to_string());
    let bearer = format!("Bearer {}", c.admin_key);
    let count = |table: &str| svc.platform.sql(&format!("SELECT COUNT(*) AS n FROM {table}"))[0]["n"].as_i64().unwrap();
    let (before, events, hooks, keys) = (svc.stored(uid), svc.event_count(), count("webhooks"), count("api_keys"));
    let names = |errors: &serde_json::Value, key: &str| -> Vec<String> {
        let mut v: Vec<String> =
            errors.as_array().map(|a| a.iter().map(|e| e[key].as_str().unwrap_or("?").to_string()).collect()).unwrap_or_default();
        v.sort();
        v
    };

    let r = svc.call(
        "PATCH",
        &format!("/users/{uuid}"),
        &[("authorization", &bearer)],
        Some(json!({"first_name": "Good", "country": "XX", "website": "not a url"})),
    );
    assert_eq!(
        (r.status, names(&r.body["errors"], "field")),
        (400, vec!["country".to_string(), "website".into()]),
        "upsun: {}",
        r.body
    );

    let body = json!({"userId": uuid, "human": {"profile": {"givenName": "Good"}, "email": {"email": "not-an-email"}, "phone": {"phone": "123"}}});
    let r = svc.call("POST", "/zitadel.user.v2.UserService/UpdateUser", &[("authorization", &bearer)], Some(body));
    // Connect's error carries no field list: its message names each bad field.
    let message = r.body["message"].as_str().unwrap_or_default();
    assert_eq!((r.status, r.body["code"].as_str()), (400, Some("invalid_argument")), "connect: {}", r.body);
    assert!(message.contains("human.email.email") && message.contains("human.phone.phone"), "connect names both: {}", r.body);

    let r = svc.operator(
        "PATCH",
        &format!("/users/{uid}"),
        Some(json!({"nick_name": "Good", "org_id": 2, "version": 9, "created_at": "x"})),
    );
    assert_eq!(
        (r.status, names(&r.body["errors"], "field")),
        (422, vec!["created_at".to_string(), "org_id".into(), "version".into()]),
        "operator: {}",
        r.body
    );

    let r = svc.operator(
        "POST",
        "/webhooks",
        Some(json!({"org_id": c.org, "url": "ftp://x.example/", "event_types": ["user.nope"]})),
    );
    assert_eq!(
        (r.status, names(&r.body["errors"], "field")),
        (422, vec!["event_types".to_string(), "url".into()]),
        "webhook: {}",
        r.body
    );

    let r = svc.operator("POST", "/api-keys", Some(json!({"user_id": uid, "scopes": ["nope"], "expires_at": "soon"})));
    assert_eq!(
        (r.status, names(&r.body["errors"], "field")),
        (422, vec!["expires_at".to_string(), "scopes".into()]),
        "key: {}",
        r.body
    );

    assert_eq!(svc.stored(uid), before, "the user is as it was");
    assert_eq!((svc.event_count(), count("webhooks"), count("api_keys")), (events, hooks, keys), "nothing was written");
}

#[test]
fn browsers_may_call_every_api_cross_origin_and_read_what_a_client_needs() {
    let c = cast();
    let asks = [("origin", "https://app.example"), ("access-control-request-method", "PATCH")];
    let kicks = c.svc.platform.kicks.get();
    let paths = [
        "/api/v1/users/1",
        "/v2/users/human/x",
        "/zitadel.user.v2.UserService/UpdateUser",
        "/users/x",
        "/openapi/v1/users/x",
        "/admin/v1/users",
        "/scim/v2/Users",
        "/openapi.json",
        "/nowhere",
    ];
    for path in paths {
        // A preflight is answered for every path before any key or storage call, with the headers
        // every response carries.
        let r = c.svc.call("OPTIONS", path, &asks, None);
        assert_eq!((r.status, r.header("access-control-allow-origin")), (204, Some("*")), "{path}");
        let allowed = r.header("access-control-allow-headers").unwrap();
        assert!(["Authorization", "X-Api-Key", "Content-Type", "If-Match", "X-D1-Bookmark"].iter().all(|h| allowed.contains(h)));
        assert!(r.header("access-control-allow-methods").unwrap().contains("PATCH"));
        assert!(r.timing_names().is_empty(), "{path}: nothing was looked up");
        assert_eq!((r.header("x-content-type-options"), r.header("cache-control")), (Some("nosniff"), Some("no-store")));
        assert_eq!(c.svc.platform.kicks.get(), kicks, "{path}: a preflight commits nothing, so sets off no dispatch");
        // Without the preflight's headers, OPTIONS is routed as before.
        let r = c.svc.call("OPTIONS", path, &[], None);
        assert!(matches!(r.status, 404 | 405) && r.header("access-control-allow-methods").is_none(), "{path}: {}", r.status);
    }
    // Every answer, success or refusal, may be read cross-origin, its ETag and bookmark included.
    let user = patch(&c.svc, c.id(), &c.user_key, &[], json!({"user": {"based_in": "Oslo"}}));
    let refused = patch(&c.svc, c.id(), "ue_wrong", &[], json!({}));
    let scim = c.svc.call("GET", "/scim/v2/Users", &[("authorization", &format!("Bearer {}", c.admin_key))], None);
    for r in [&user, &refused, &scim] {
        assert_eq!(r.header("access-control-allow-origin"), Some("*"));
        let exposed: Vec<&str> = r.header("access-control-expose-headers").unwrap().split(", ").collect();
        assert_eq!(exposed, ["ETag", "Location", "Retry-After", "Server-Timing", "X-D1-Bookmark"]);
    }
    assert_eq!((user.status, refused.status, scim.status), (200, 401, 200));
}

/// A write that sends back what is stored changes nothing: the same version (ETag), the same
/// `updated_at`, no event. One that changes some of what it sends names only those fields.
/// Sync clients send whole records (a SCIM PUT, Konstantly's required `email`): counted as
/// changes, each such request moved every client's ETag and put an event on the feed.
#[test]
fn sending_back_what_is_stored_is_a_no_op_and_an_event_names_only_what_changed() {
    let c = cast();
    let (svc, id, uuid) = (&c.svc, c.id(), c.uuid().to_string());
    let fields = || -> Vec<serde_json::Value> {
        let rows = svc.platform.sql(&format!("SELECT fields FROM user_events WHERE user_id = {id} ORDER BY id"));
        rows.iter().map(|r| serde_json::from_str(r["fields"].as_str().unwrap()).unwrap()).collect()
    };
    let konstantly = |body| svc.call("PATCH", &format!("/openapi/v1/users/{uuid}"), &[("x-api-key", &c.admin_key)], Some(body));
    let r = konstantly(json!({"email": "minnie@a.test", "bio": "Hello"}));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(fields().last().unwrap(), &json!(["bio"]), "the email sent is the stored one: not a change");
    let stamp = || {
        let row = svc.stored(id);
        (row["version"].clone(), row["updated_at"].clone())
    };
    let (etag, before) = (r.header("etag").unwrap().to_string(), stamp());
    let events = svc.event_count();
    for _ in 0..2 {
        let r = konstantly(json!({"email": "minnie@a.test", "bio": "Hello"}));
        assert_eq!((r.status, r.header("etag")), (200, Some(etag.as_str())), "{}", r.body);
    }
    let r = patch(svc, id, &c.user_key, &[("if-match", &etag)], json!({"user": {"given_name": "M"}}));
    assert_eq!((r.status, r.header("etag")), (200, Some(etag.as_str())), "the ETag a client holds still matches");
    assert_eq!(stamp(), before, "same version, same updated_at");
    assert_eq!(svc.event_count(), events, "no event");
    // A SCIM client's PUT of the resource as it reads it (Okta's and Entra's re-sync). The first
    // one stores SCIM's own view of the user (its email's `primary`), a change of its own.
    let scim = |method: &str, body| {
        let auth = format!("Bearer {}", c.admin_key);
        svc.call(method, &format!("/scim/v2/Users/{uuid}"), &[("authorization", &auth)], body)
    };
    assert_eq!(scim("PUT", Some(scim("GET", None).body)).status, 200);
    let (read, events) = (scim("GET", None), svc.event_count());
    let put = scim("PUT", Some(read.body.clone()));
    assert_eq!(put.status, 200, "{}", put.body);
    assert_eq!(put.body["meta"]["version"], read.body["meta"]["version"]);
    assert_eq!(svc.event_count(), events, "no event for the PUT either");
    // Deactivating twice: the second finds nothing to change.
    let off = |_| svc.operator("POST", &format!("/users/{id}/deactivate"), None).status;
    assert_eq!((0..2).map(off).collect::<Vec<_>>(), [200, 200]);
    assert_eq!(fields().last().unwrap(), &json!(["deactivated"]));
    assert_eq!(svc.event_count(), events + 1);
}

/// An email or username differs from the stored one when only its case does: it is stored as
/// sent, so the write is a change (a new version, an event naming it), though the identifier's
/// comparison key, and so its uniqueness, is the same. The columns compare case-insensitively
/// (NOCASE), which the no-op test must not inherit.
#[test]
fn a_change_of_case_alone_is_a_change() {
    let c = cast();
    let (svc, id, uuid) = (&c.svc, c.id(), c.uuid().to_string());
    let stored = svc.stored(id);
    let (email, username) = (stored["email"].as_str().unwrap().to_string(), stored["username"].as_str().unwrap().to_string());
    let hienergy = patch(svc, id, &c.admin_key, &[], json!({"user": {"email": email.to_uppercase()}}));
    assert_eq!(hienergy.status, 200, "{}", hienergy.body);
    let after = svc.stored(id);
    assert_eq!(
        (&after["email"], &after["version"]),
        (&json!(email.to_uppercase()), &json!(stored["version"].as_i64().unwrap() + 1))
    );
    let last = |n: &str| svc.platform.sql(&format!("SELECT {n} FROM user_events WHERE user_id = {id} ORDER BY id DESC LIMIT 1"));
    assert_eq!(last("fields")[0]["fields"], json!("[\"email\"]"));
    let upsun = svc.call(
        "PATCH",
        &format!("/users/{uuid}"),
        &[("authorization", &format!("Bearer {}", c.admin_key))],
        Some(json!({"username": username.to_uppercase()})),
    );
    assert_eq!(upsun.status, 200, "{}", upsun.body);
    assert_eq!(svc.stored(id)["version"], json!(after["version"].as_i64().unwrap() + 1));
    assert_eq!(last("fields")[0]["fields"], json!("[\"username\"]"));
    // A new spelling of a proven address is still that address: it stays verified, in any case.
    let r = svc.operator("PATCH", &format!("/users/{id}"), Some(json!({"email": "élodie@a.test", "email_verified": true})));
    assert_eq!(r.status, 200, "{}", r.body);
    for (email, verified) in [("ÉLODIE@A.TEST", 1), ("Élodie@a.test", 1), ("someone.else@a.test", 0)] {
        let r = patch(svc, id, &c.admin_key, &[], json!({"user": {"email": email}}));
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!((&svc.stored(id)["email"], &svc.stored(id)["email_verified"]), (&json!(email), &json!(verified)), "{email}");
    }
}

/// A read whose `If-None-Match` names what it would return is answered 304 with its `ETag` and no
/// body, in every dialect (weak comparison: `W/"n"` matches `"n"`; `*` matches any); once the user
/// changes, the same request gets the new representation. A write ignores `If-None-Match`.
#[test]
fn a_conditional_read_of_what_the_client_holds_is_304() {
    let c = cast();
    let id = c.user["id"].as_i64().unwrap();
    let uuid = c.user["uuid"].as_str().unwrap();
    let bearer = format!("Bearer {}", c.user_key);
    let reads: [(String, Vec<(&str, &str)>); 2] = [
        (format!("/api/v1/users/{id}"), vec![("x-api-key", c.user_key.as_str())]),
        (format!("/users/{uuid}"), vec![("authorization", bearer.as_str())]),
    ];
    for (path, auth) in &reads {
        let get = |extra: &[(&str, &str)]| {
            let mut headers = auth.clone();
            headers.extend_from_slice(extra);
            c.svc.call("GET", path, &headers, None)
        };
        let first = get(&[]);
        assert_eq!(first.status, 200, "{path}: {}", first.body);
        let etag = first.raw.header("etag").unwrap().to_string();
        let weak = format!("W/{etag}");
        for tags in [etag.as_str(), weak.as_str(), "*", &format!("\"999\", {etag}")] {
            let r = get(&[("if-none-match", tags)]);
            assert_eq!((r.status, r.raw.body.len()), (304, 0), "{path} {tags}");
            assert_eq!(r.raw.header("etag"), Some(etag.as_str()));
            assert!(r.raw.header("content-type").is_none());
            assert_eq!(r.raw.header("access-control-allow-origin"), Some("*"));
        }
        assert_eq!(get(&[("if-none-match", "\"999\"")]).status, 200);
        // If-Match on a read is evaluated first (RFC 9110 §13.2.2): none of its tags, the API's own 412.
        for (tags, status) in [(etag.as_str(), 200), ("*", 200), ("\"999\"", 412), (weak.as_str(), 412)] {
            assert_eq!(get(&[("if-match", tags)]).status, status, "{path} If-Match {tags}");
        }
        let both = get(&[("if-match", "\"999\""), ("if-none-match", etag.as_str())]);
        assert_eq!(both.status, 412, "{path}: If-Match decides before If-None-Match");
        assert!(both.body.is_object(), "{path}: the 412 is the API's error body: {}", both.body);
        let head = c.svc.call("HEAD", path, &[auth.as_slice(), &[("if-none-match", etag.as_str())]].concat(), None);
        assert_eq!((head.status, head.raw.header("content-length")), (304, None), "{path}");
    }
    let (path, auth) = &reads[0];
    let etag = c.svc.call("GET", path, auth, None).raw.header("etag").unwrap().to_string();
    let write = patch(&c.svc, id, &c.user_key, &[("if-none-match", &etag)], json!({"user": {"based_in": "Oslo"}}));
    assert_eq!(write.status, 200, "{}", write.body);
    let r = c.svc.call("GET", path, &[auth.as_slice(), &[("if-none-match", etag.as_str())]].concat(), None);
    assert_eq!((r.status, &r.body["data"]["based_in"]), (200, &json!("Oslo")), "{}", r.body);
    assert_ne!(r.raw.header("etag"), Some(etag.as_str()));
}

/// A write without `If-Match` that misses because the user was, for a moment, deactivated (another
/// request deactivated it just before the write and reactivated it just after) was answered 412
/// "changed since the version in If-Match", which the client never sent. It goes again and lands.
#[test]
fn a_write_without_if_match_that_missed_for_a_moment_goes_again() {
    let c = cast();
    let id = c.id();
    let flip = (
        format!("UPDATE users SET deactivated = 1 WHERE id = {id}"),
        format!("UPDATE users SET deactivated = 0 WHERE id = {id}"),
    );
    c.svc.platform.interleave.borrow_mut().push_back(flip.clone());
    let r = patch(&c.svc, id, &c.user_key, &[], json!({"user": {"based_in": "Lyon"}}));
    assert_eq!((r.status, &r.body["data"]["based_in"]), (200, &json!("Lyon")), "{}", r.body);
    // Still deactivated when it goes again: the key's user is deactivated, 401 (not 412).
    c.svc.platform.interleave.borrow_mut().push_back((flip.0.clone(), String::new()));
    let r = patch(&c.svc, id, &c.user_key, &[], json!({"user": {"based_in": "Nice"}}));
    assert_eq!(r.status, 401, "{}", r.body);
    c.svc.platform.sql(&format!("UPDATE users SET deactivated = 0 WHERE id = {id}"));
    // With If-Match, the client's version is the condition: no second try, whatever happened.
    let etag = c
        .svc
        .call("GET", &format!("/api/v1/users/{id}"), &[("x-api-key", &c.user_key)], None)
        .raw
        .header("etag")
        .unwrap()
        .to_string();
    c.svc
        .platform
        .interleave
        .borrow_mut()
        .push_back((format!("UPDATE users SET version = version + 1 WHERE id = {id}"), String::new()));
    assert_eq!(patch(&c.svc, id, &c.user_key, &[("if-match", &etag)], json!({"user": {"based_in": "Pau"}})).status, 412);
}

/// Deactivating while another request reactivates: if the user was flipped back between this
/// write missing and its re-read, the deactivation goes again (it was answered 412 without If-Match).
#[test]
fn a_deactivation_racing_a_reactivation_lands() {
    let c = cast();
    let id = c.id();
    c.svc.platform.interleave.borrow_mut().push_back((
        format!("UPDATE users SET deactivated = 1 WHERE id = {id}"),
        format!("UPDATE users SET deactivated = 0 WHERE id = {id}"),
    ));
    let r = c.svc.operator("POST", &format!("/users/{id}/deactivate"), None);
    assert_eq!((r.status, &r.body["deactivated"]), (200, &json!(true)), "{}", r.body);
    assert_eq!(c.svc.stored(id)["deactivated"], 1);
}
