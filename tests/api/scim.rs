//! SCIM 2.0 at /scim/v2, HTTP in to HTTP out on SQLite: discovery, the permission and tenant
//! matrix, the mapping round trip of every attribute, Okta's and Entra's request shapes,
//! filters, If-Match, groups, cross-dialect visibility, and no 5xx for any body.

use crate::helpers::{Reply, Service, PATCH_OP, USER_URN};
use proptest::prelude::*;
use serde_json::{json, Value};

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

struct Cast {
    svc: Service,
    org: i64,
    key: String,
    other_key: String,
    user_key: String,
}

fn key(svc: &Service, user_id: &Value, scopes: Value) -> String {
    let k = svc.operator("POST", "/api-keys", Some(json!({"user_id": user_id, "scopes": scopes})));
    assert_eq!(k.status, 201, "{}", k.body);
    k.body["key"].as_str().unwrap().to_string()
}

fn cast() -> Cast {
    let svc = Service::new();
    let org = svc.org("A");
    let other = svc.org("B");
    let (admin, _) = svc.user(org, "admin@a.test", json!({"admin": true}));
    let (other_admin, _) = svc.user(other, "admin@b.test", json!({"admin": true}));
    let (_, user_key) = svc.user(org, "uma@a.test", json!({"username": "uma"}));
    let key = key(&svc, &admin["id"], json!(["scim"]));
    let other_key = key_for(&svc, &other_admin["id"]);
    Cast { svc, org, key, other_key, user_key }
}

fn key_for(svc: &Service, id: &Value) -> String {
    key(svc, id, json!(["scim"]))
}

impl Cast {
    fn as_key(&self, key: &str, method: &str, path: &str, body: Option<Value>, extra: &[(&str, &str)]) -> Reply {
        let auth = format!("Bearer {key}");
        let mut headers = vec![("authorization", auth.as_str()), ("host", "127.0.0.1:8787")];
        headers.extend_from_slice(extra);
        let hs: Vec<(&str, &str)> = headers.to_vec();
        let mut with_ct = hs.clone();
        if body.is_some() {
            with_ct.push(("content-type", "application/scim+json"));
        }
        self.svc.call(method, &format!("/scim/v2{path}"), &with_ct, body)
    }
    fn scim(&self, method: &str, path: &str, body: Option<Value>) -> Reply {
        self.as_key(&self.key, method, path, body, &[])
    }
    fn create(&self, body: Value) -> Value {
        let r = self.scim("POST", "/Users", Some(body));
        assert_eq!(r.status, 201, "{}", r.body);
        r.body
    }
    fn patch(&self, id: &str, ops: Value) -> Reply {
        self.scim("PATCH", &format!("/Users/{id}"), Some(json!({"schemas": [PATCH_OP], "Operations": ops})))
    }
    fn get(&self, id: &str) -> Value {
        let r = self.scim("GET", &format!("/Users/{id}"), None);
        assert_eq!(r.status, 200, "{}", r.body);
        r.body
    }
    fn list(&self, query: &str) -> Value {
        let r = self.scim("GET", &format!("/Users?{query}"), None);
        assert_eq!(r.status, 200, "{}", r.body);
        r.body
    }
}

fn q(filter: &str) -> String {
    url_encode(filter)
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

fn full_user() -> Value {
    json!({
        "schemas": [USER_URN, ENTERPRISE],
        "externalId": "00u1okta",
        "userName": "ada@a.test",
        "name": {"formatted": "Ms. Ada K. Lovelace III", "familyName": "Lovelace", "givenName": "Ada",
                 "middleName": "King", "honorificPrefix": "Ms.", "honorificSuffix": "III"},
        "displayName": "Ada Lovelace",
        "nickName": "Countess",
        "profileUrl": "https://ada.example/profile",
        "title": "Analyst",
        "userType": "Employee",
        "preferredLanguage": "en-GB",
        "locale": "en-GB",
        "timezone": "Europe/London",
        "active": true,
        "password": "correct horse battery",
        "emails": [{"value": "ada@a.test", "type": "work", "primary": true}, {"value": "ada@home.example", "type": "home"}],
        "phoneNumbers": [{"value": "+447700900123", "type": "mobile", "primary": true}, {"value": "+442079460000", "type": "work"}],
        "ims": [{"value": "ada", "type": "xmpp"}],
        "photos": [{"value": "https://ada.example/photo.jpg", "type": "photo"}],
        "addresses": [{"type": "work", "streetAddress": "1 Engine St", "locality": "London", "region": "LDN",
                       "postalCode": "N1", "country": "GB", "formatted": "1 Engine St\nLondon", "primary": true}],
        "entitlements": [{"value": "analytical-engine"}],
        "roles": [{"value": "mathematician", "primary": true}],
        "x509Certificates": [{"value": "TUlJRGRqQ0NBbDZnQXdJQkFnSUU="}],
        ENTERPRISE: {"employeeNumber": "1815", "costCenter": "CC-1", "organization": "Engines",
                     "division": "Research", "department": "Maths",
                     "manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d"}}
    })
}

#[test]
fn discovery_describes_what_is_served() {
    let c = cast();
    let r = c.svc.call("GET", "/scim/v2/ServiceProviderConfig", &[], None);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/scim+json"));
    for (feature, supported) in
        [("patch", true), ("filter", true), ("etag", true), ("changePassword", true), ("bulk", false), ("sort", false)]
    {
        assert_eq!(r.body[feature]["supported"], supported, "{feature}");
    }
    assert_eq!(r.body["filter"]["maxResults"], 200);
    let r = c.scim("GET", "/Schemas", None);
    assert_eq!(r.body["totalResults"], 3);
    let r = c.scim("GET", &format!("/Schemas/{ENTERPRISE}"), None);
    assert_eq!(r.body["id"], ENTERPRISE);
    assert_eq!(r.body["meta"]["location"], format!("http://127.0.0.1:8787/scim/v2/Schemas/{ENTERPRISE}"));
    let r = c.scim("GET", "/ResourceTypes/User", None);
    assert_eq!(r.body["schemaExtensions"][0]["schema"], ENTERPRISE);
    assert_eq!(c.scim("GET", "/ResourceTypes/Nope", None).status, 404);
    // Schemathesis found it: a client that percent-encodes path parameters sends the URN's colons
    // as %3A, and that was 404.
    let encoded = c.scim("GET", &format!("/Schemas/{}", ENTERPRISE.replace(':', "%3A")), None);
    assert_eq!((encoded.status, &encoded.body["id"]), (200, &json!(ENTERPRISE)), "{}", encoded.body);
    assert_eq!(c.scim("GET", "/ResourceTypes/Us%65r", None).body["id"], "User");
    assert_eq!(c.scim("GET", "/Schemas/urn%3", None).status, 404);
    let r = c.scim("DELETE", "/Users", None);
    assert_eq!((r.status, r.header("allow")), (405, Some("GET, HEAD, POST")));
    assert_eq!(r.body["status"], "405");
}

#[test]
fn permission_and_tenant_matrix() {
    let c = cast();
    let ada = c.create(json!({"userName": "ada", "emails": [{"value": "ada@a.test"}]}));
    let id = ada["id"].as_str().unwrap();
    let r = c.svc.call("GET", "/scim/v2/Users", &[], None);
    assert_eq!((r.status, r.body["status"].as_str()), (401, Some("401")));
    assert_eq!(r.body["schemas"][0], "urn:ietf:params:scim:api:messages:2.0:Error");
    assert_eq!(c.as_key("ue_not-a-key", "GET", "/Users", None, &[]).status, 401);
    assert_eq!(c.as_key(crate::helpers::OPERATOR, "GET", "/Users", None, &[]).status, 401);
    assert_eq!(c.as_key(&c.user_key, "GET", &format!("/Users/{id}"), None, &[]).status, 403);
    // An admin key scoped to another API only.
    let admin_id = c.svc.platform.sql("SELECT id FROM users WHERE email = 'admin@a.test'")[0]["id"].clone();
    let hienergy_only = key(&c.svc, &admin_id, json!(["hienergy"]));
    assert_eq!(c.as_key(&hienergy_only, "GET", "/Users", None, &[]).status, 403);
    let unscoped = key(&c.svc, &admin_id, Value::Null);
    assert_eq!(c.as_key(&unscoped, "GET", "/Users", None, &[]).status, 200);
    // The other org sees none of it.
    assert_eq!(c.as_key(&c.other_key, "GET", &format!("/Users/{id}"), None, &[]).status, 404);
    assert_eq!(c.as_key(&c.other_key, "DELETE", &format!("/Users/{id}"), None, &[]).status, 404);
    let theirs = c.as_key(&c.other_key, "GET", "/Users", None, &[]);
    let names: Vec<&str> = theirs.body["Resources"].as_array().unwrap().iter().map(|u| u["userName"].as_str().unwrap()).collect();
    assert_eq!(names, ["admin@b.test"]);
    // Another org's user never becomes a member (a value naming no user of the org is not stored).
    let g = c.as_key(&c.other_key, "POST", "/Groups", Some(json!({"displayName": "B", "members": [{"value": id}]})), &[]);
    assert_eq!((g.status, &g.body["members"]), (201, &json!([])), "{}", g.body);
    assert!(c.get(id).get("groups").is_none());
}

#[test]
fn every_attribute_round_trips_and_the_password_is_write_only() {
    let c = cast();
    let sent = full_user();
    let r = c.scim("POST", "/Users", Some(sent.clone()));
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["id"].as_str().unwrap().to_string();
    assert_eq!(r.header("location"), Some(format!("http://127.0.0.1:8787/scim/v2/Users/{id}").as_str()));
    assert_eq!(r.header("etag"), Some("\"1\""));
    assert_eq!(r.body["meta"]["version"], "\"1\"");
    assert_eq!(r.body["meta"]["resourceType"], "User");
    let read = c.get(&id);
    for (key, value) in sent.as_object().unwrap() {
        if key != "password" {
            assert_eq!(&read[key], value, "{key} round-trips");
        }
    }
    assert!(read.get("password").is_none() && !read.to_string().contains("horse"));
    let stored = c.svc.platform.sql(&format!("SELECT * FROM users WHERE uuid = '{id}'")).pop().unwrap();
    assert!(stored["password_hash"].as_str().unwrap().starts_with("$pbkdf2"));
    assert_eq!(stored["email"], "ada@a.test");
    assert_eq!(stored["email_verified"], 1);
    assert_eq!(stored["phone"], "+447700900123");
    assert_eq!(stored["external_id"], "00u1okta");
    assert_eq!(stored["role_title"], "Analyst");
    // The SCIM document never shows in another dialect's output.
    let op = c.svc.operator("GET", &format!("/users/{}", stored["id"]), None);
    assert!(op.body.get("scim").is_none());
    let events = c.svc.platform.sql(&format!("SELECT dialect, action FROM user_events WHERE user_id = {}", stored["id"]));
    assert_eq!(events[0]["dialect"], "scim");
}

#[test]
fn username_is_unique_per_org_case_insensitively() {
    let c = cast();
    c.create(json!({"userName": "Ada", "emails": [{"value": "ada@a.test"}]}));
    let r = c.scim("POST", "/Users", Some(json!({"userName": "ada", "emails": [{"value": "ada2@a.test"}]})));
    assert_eq!((r.status, r.body["scimType"].as_str()), (409, Some("uniqueness")), "{}", r.body);
    assert!(r.body["detail"].as_str().unwrap().contains("userName"));
    let other = c.as_key(&c.other_key, "POST", "/Users", Some(json!({"userName": "ada"})), &[]);
    assert_eq!(other.status, 201, "another org may have its own ada: {}", other.body);
    assert!(other.body.get("emails").is_none(), "a user without emails shows none");
    let r = c.scim("POST", "/Users", Some(json!({"emails": [{"value": "x"}], "active": "maybe", "name": "Ada"})));
    assert_eq!((r.status, r.body["scimType"].as_str()), (400, Some("invalidValue")));
    let detail = r.body["detail"].as_str().unwrap();
    for attr in ["userName", "emails[0].value", "active", "name"] {
        assert!(detail.contains(attr), "{attr} named in {detail}");
    }
}

#[test]
fn put_replaces_and_clears_what_is_left_out() {
    let c = cast();
    let ada = c.create(full_user());
    let id = ada["id"].as_str().unwrap();
    let r = c.scim(
        "PUT",
        &format!("/Users/{id}"),
        Some(json!({"schemas": [USER_URN], "id": "ignored", "meta": {"version": "x"}, "userName": "ada@a.test",
            "name": {"givenName": "Ada"}, "emails": [{"value": "ada@new.example", "primary": true}], "active": true})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["id"], id);
    for gone in ["externalId", "title", "nickName", "phoneNumbers", "addresses", ENTERPRISE, "displayName"] {
        assert!(r.body.get(gone).is_none(), "{gone} cleared: {}", r.body);
    }
    assert_eq!(r.body["name"], json!({"givenName": "Ada"}));
    // Removing `active` leaves an active user that shows none, until a client sets it again.
    let r = c.patch(id, json!([{"op": "remove", "path": "active"}]));
    assert_eq!((r.status, r.body.get("active")), (200, None), "{}", r.body);
    assert_eq!(c.svc.platform.sql(&format!("SELECT deactivated FROM users WHERE uuid = '{id}'"))[0]["deactivated"], 0);
    // A filter sees `active` as the read shows it: absent.
    let found = |f: &str| c.list(&format!("filter={}", q(&format!("id eq \"{id}\" and {f}"))))["totalResults"].clone();
    assert_eq!((found("active pr"), found("active eq true"), found("not (active pr)")), (json!(0), json!(0), json!(1)));
    let r = c.patch(id, json!([{"op": "add", "path": "active", "value": true}]));
    assert_eq!(r.body["active"], true);
    assert_eq!((found("active pr"), found("active eq true"), found("active eq false")), (json!(1), json!(1), json!(0)));
    let stored = c.svc.platform.sql(&format!("SELECT email, phone, external_id FROM users WHERE uuid = '{id}'")).pop().unwrap();
    assert_eq!(stored["email"], "ada@new.example");
    assert!(stored["phone"].is_null() && stored["external_id"].is_null());
}

#[test]
fn okta_shapes() {
    let c = cast();
    // Okta's probe, then its create with a password and an empty groups list.
    let probe = c.list(&format!("filter={}&startIndex=1&count=100", q("userName eq \"okta.user@a.test\"")));
    assert_eq!((probe["totalResults"].as_i64(), probe["Resources"].as_array().map(Vec::len)), (Some(0), Some(0)));
    let user = c.create(json!({"schemas": [USER_URN], "userName": "okta.user@a.test",
        "name": {"givenName": "Okta", "familyName": "User"}, "emails": [{"primary": true, "value": "okta.user@a.test", "type": "work"}],
        "displayName": "Okta User", "locale": "en-US", "externalId": "00u1", "groups": [], "password": "Passw0rd!okta", "active": true}));
    let id = user["id"].as_str().unwrap();
    let found = c.list(&format!("filter={}&startIndex=1&count=100", q("userName eq \"OKTA.USER@a.test\"")));
    assert_eq!(found["totalResults"], 1);
    assert_eq!(found["Resources"][0]["id"], id);
    // A key for the provisioned user, to see deactivation refuse it.
    let user_id = c.svc.platform.sql(&format!("SELECT id FROM users WHERE uuid = '{id}'"))[0]["id"].clone();
    let its_key =
        c.svc.operator("POST", "/api-keys", Some(json!({"user_id": user_id}))).body["key"].as_str().unwrap().to_string();
    let own = |key: &str| c.svc.call("GET", &format!("/api/v1/users/{user_id}"), &[("x-api-key", key)], None).status;
    assert_eq!(own(&its_key), 200);
    let r = c.patch(id, json!([{"op": "replace", "value": {"active": false}}]));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["active"], false);
    assert_eq!(own(&its_key), 401, "a deactivated user's key is refused at once");
    assert_eq!(c.get(id)["active"], false, "a deactivated user stays readable");
    let events = c.svc.platform.sql(&format!("SELECT action FROM user_events WHERE user_id = {user_id} ORDER BY id"));
    assert_eq!(events.last().unwrap()["action"], "deactivate");
    // Okta's full PUT.
    let mut put = c.get(id);
    put["name"]["familyName"] = json!("Renamed");
    put["active"] = json!(true);
    let r = c.scim("PUT", &format!("/Users/{id}"), Some(put));
    assert_eq!((r.status, &r.body["name"]["familyName"], &r.body["active"]), (200, &json!("Renamed"), &json!(true)));
    assert_eq!(own(&its_key), 200);
}

#[test]
fn entra_shapes() {
    let c = cast();
    let user = c.create(json!({"userName": "entra@a.test", "externalId": "e-1", "active": true,
        "emails": [{"value": "entra@a.test", "type": "work", "primary": true}]}));
    let id = user["id"].as_str().unwrap();
    let r = c.patch(
        id,
        json!([
            {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "entra.new@a.test"},
            {"op": "Add", "path": format!("{ENTERPRISE}:employeeNumber"), "value": "42"},
            {"op": "Add", "path": format!("{ENTERPRISE}:manager"), "value": "mgr-1"},
            {"op": "Replace", "path": "name.givenName", "value": "Entra"},
            {"op": "Replace", "path": "active", "value": "False"}
        ]),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["emails"][0]["value"], "entra.new@a.test");
    assert_eq!(r.body[ENTERPRISE]["employeeNumber"], "42");
    assert_eq!(r.body[ENTERPRISE]["manager"]["value"], "mgr-1");
    assert_eq!((&r.body["name"]["givenName"], &r.body["active"]), (&json!("Entra"), &json!(false)));
    // aadOptscim062020: one path-less replace with dotted keys.
    let r = c.patch(
        id,
        json!([{"op": "replace", "value": {"name.familyName": "Id", format!("{ENTERPRISE}:department"): "Ops",
            "active": "True", "displayName": "Entra Id"}}]),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!((&r.body["name"]["familyName"], &r.body[ENTERPRISE]["department"]), (&json!("Id"), &json!("Ops")));
    assert_eq!(r.body["active"], true);
    for filter in
        ["externalId eq \"e-1\"", "userName eq \"entra@a.test\"", "emails[type eq \"work\"].value eq \"entra.new@a.test\""]
    {
        let found = c.list(&format!("filter={}", q(filter)));
        assert_eq!(found["totalResults"], 1, "{filter}");
        assert_eq!(found["Resources"][0]["id"], id, "{filter}");
    }
    let none = c.list(&format!("filter={}", q("externalId eq \"E-1\"")));
    assert_eq!(none["totalResults"], 0, "externalId is case-exact");
    let stored = c.svc.platform.sql(&format!("SELECT email, given_name, family_name, name FROM users WHERE uuid = '{id}'"));
    assert_eq!(stored[0]["email"], "entra.new@a.test");
    assert_eq!(stored[0]["name"], "Entra Id");
}

#[test]
fn listing_pages_filters_and_projections() {
    let c = cast();
    for i in 0..5 {
        c.create(json!({"userName": format!("lu{i}"), "displayName": format!("User {i}"), "title": if i % 2 == 0 { "even" } else { "odd" },
            "emails": [{"value": format!("lu{i}@a.test"), "type": "work"}]}));
    }
    let page = c.list(&format!("filter={}&startIndex=2&count=2", q("userName sw \"lu\"")));
    assert_eq!(
        (page["totalResults"].as_i64(), page["startIndex"].as_i64(), page["itemsPerPage"].as_i64()),
        (Some(5), Some(2), Some(2))
    );
    assert_eq!(page["Resources"][0]["userName"], "lu1");
    let past = c.list(&format!("filter={}&startIndex=50", q("userName sw \"lu\"")));
    assert_eq!((past["totalResults"].as_i64(), past["Resources"].as_array().map(Vec::len)), (Some(5), Some(0)));
    let zero = c.list("count=0");
    assert_eq!(zero["totalResults"], 7, "two admins-and-users of org A plus five");
    let floats = c.list(&format!("filter={}&startIndex=2.0&count=2e0", q("userName sw \"lu\"")));
    assert_eq!(floats["Resources"], page["Resources"], "a whole number with a fraction or exponent is that integer");
    // Integers of any size are integers (schemathesis sent these): clamped, never refused.
    for huge in ["count=-9223372036854776000", "count=9223372036854775999&startIndex=-99999999999999999999"] {
        let r = c.scim("GET", &format!("/Users?{huge}"), None);
        assert_eq!((r.status, r.body["totalResults"].as_i64()), (200, Some(7)), "{huge}: {}", r.body);
    }
    let r = c.scim("POST", "/Users/.search", Some(serde_json::from_str(r#"{"count": 9223372036854775999}"#).unwrap()));
    assert_eq!((r.status, r.body["itemsPerPage"].as_i64()), (200, Some(7)), "{}", r.body);
    let odd = c.list(&format!("filter={}", q("title eq \"odd\" and not (displayName co \"3\")")));
    assert_eq!(odd["totalResults"], 1);
    let slim = c.list(&format!("filter={}&attributes=userName,name.givenName,emails.value", q("userName eq \"lu0\"")));
    let u = &slim["Resources"][0];
    assert_eq!(u["userName"], "lu0");
    assert_eq!(u["emails"], json!([{"value": "lu0@a.test"}]));
    assert!(u.get("id").is_some() && u.get("displayName").is_none() && u.get("meta").is_none());
    let fat = c.list(&format!("filter={}&excludedAttributes=emails,meta,id", q("userName eq \"lu0\"")));
    let u = &fat["Resources"][0];
    assert!(u.get("emails").is_none() && u.get("meta").is_none() && u.get("id").is_some());
    let bad = c.scim("GET", &format!("/Users?filter={}", q("userName eq")), None);
    assert_eq!((bad.status, bad.body["scimType"].as_str()), (400, Some("invalidFilter")));
    let bad = c.scim("GET", &format!("/Users?filter={}", q("password eq \"x\"")), None);
    assert_eq!((bad.status, bad.body["scimType"].as_str()), (400, Some("invalidFilter")));
    let searched = c.scim("POST", "/Users/.search", Some(json!({"filter": "userName eq \"lu4\"", "attributes": ["userName"]})));
    assert_eq!(
        searched.body["Resources"][0],
        json!({"schemas": [USER_URN], "id": searched.body["Resources"][0]["id"], "userName": "lu4"})
    );
}

/// Schemathesis found it: a SearchRequest member of the wrong type was skipped, so a filter sent
/// as a number or a boolean listed every user instead of being refused (RFC 7644 §3.4.3 types
/// them). Now it is a 400 naming the member; `null`, `schemas` and unknown members stay ignored.
#[test]
fn a_search_request_member_of_the_wrong_type_is_refused() {
    let c = cast();
    c.create(json!({"userName": "sr1"}));
    for (path, body, member) in [
        ("/Users/.search", json!({"filter": true}), "filter"),
        ("/Users/.search", json!({"filter": {"userName": "sr1"}}), "filter"),
        ("/Groups/.search", json!({"count": true}), "count"),
        ("/.search", json!({"startIndex": 1.5}), "startIndex"),
        ("/Users/.search", json!({"startIndex": "2"}), "startIndex"),
        ("/Users/.search", json!({"attributes": ["userName", 7]}), "attributes"),
        ("/Users/.search", json!({"excludedAttributes": {"a": 1}}), "excludedAttributes"),
        ("/Users/.search", json!({"sortBy": 3}), "sortBy"),
    ] {
        let r = c.scim("POST", path, Some(body.clone()));
        assert_eq!((r.status, r.body["scimType"].as_str()), (400, Some("invalidValue")), "{body}: {}", r.body);
        assert!(r.body["detail"].as_str().unwrap().starts_with(&format!("{member}: must be")), "{}", r.body);
    }
    // 1.0 is a whole number, as JSON Schema's `integer` counts it.
    let lenient = json!({"schemas": 5, "filter": null, "count": null, "attributes": "userName", "unknown": [true],
        "startIndex": 1.0, "sortOrder": "ascending"});
    let r = c.scim("POST", "/Users/.search", Some(lenient));
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body["Resources"].as_array().unwrap().iter().any(|u| u["userName"] == "sr1"));
}

#[test]
fn if_match_is_honoured_and_a_stale_version_changes_nothing() {
    let c = cast();
    let id = c.create(json!({"userName": "v", "emails": [{"value": "v@a.test"}]}))["id"].as_str().unwrap().to_string();
    let body = json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "title", "value": "New"}]});
    let stale = c.as_key(&c.key, "PATCH", &format!("/Users/{id}"), Some(body.clone()), &[("if-match", "\"7\"")]);
    assert_eq!((stale.status, stale.body["status"].as_str()), (412, Some("412")));
    assert!(c.get(&id).get("title").is_none());
    let fresh = c.as_key(&c.key, "PATCH", &format!("/Users/{id}"), Some(body), &[("if-match", "\"1\"")]);
    assert_eq!((fresh.status, fresh.header("etag")), (200, Some("\"2\"")));
    let del = c.as_key(&c.key, "DELETE", &format!("/Users/{id}"), None, &[("if-match", "\"1\"")]);
    assert_eq!(del.status, 412);
    assert_eq!(c.scim("DELETE", &format!("/Users/{id}"), None).status, 204);
    assert_eq!(c.scim("GET", &format!("/Users/{id}"), None).status, 404);
    assert_eq!(c.list(&format!("filter={}", q("userName eq \"v\"")))["totalResults"], 0);
}

/// Schemathesis found it: a Group PATCH checked If-Match before its operations, so a bad
/// operation with a stale tag was a 412 where a User PATCH (and a PUT) answers 400. Now the
/// operations are checked first, then the precondition.
#[test]
fn a_bad_group_patch_is_a_400_whatever_if_match_says() {
    let c = cast();
    let g = c.scim("POST", "/Groups", Some(json!({"displayName": "Ops"})));
    let path = format!("/Groups/{}", g.body["id"].as_str().unwrap());
    let bad =
        json!({"schemas": [PATCH_OP], "Operations": [{"op": "add", "path": "members", "value": [{"value": "x", "type": 5}]}]});
    let r = c.as_key(&c.key, "PATCH", &path, Some(bad), &[("if-match", "\"7\"")]);
    assert_eq!((r.status, r.body["scimType"].as_str()), (400, Some("invalidValue")), "{}", r.body);
    let good = json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "displayName", "value": "Ops 2"}]});
    let r = c.as_key(&c.key, "PATCH", &path, Some(good.clone()), &[("if-match", "\"7\"")]);
    assert_eq!(r.status, 412, "{}", r.body);
    assert_eq!(c.scim("GET", &path, None).body["displayName"], "Ops");
    let r = c.as_key(&c.key, "PATCH", &path, Some(good), &[("if-match", "\"1\"")]);
    assert_eq!((r.status, &r.body["displayName"]), (200, &json!("Ops 2")));
}

#[test]
fn changes_show_across_dialects_both_ways() {
    let c = cast();
    let id = c.create(json!({"userName": "x", "displayName": "X", "emails": [{"value": "x@a.test", "type": "work"}],
        "phoneNumbers": [{"value": "+41791234567"}]}))["id"]
        .as_str()
        .unwrap()
        .to_string();
    let user_id = c.svc.platform.sql(&format!("SELECT id FROM users WHERE uuid = '{id}'"))[0]["id"].as_i64().unwrap();
    // SCIM → operator API and HiEnergy.
    c.patch(&id, json!([{"op": "replace", "path": "title", "value": "CTO"}]));
    let op = c.svc.operator("GET", &format!("/users/{user_id}"), None);
    assert_eq!((&op.body["role_title"], &op.body["name"]), (&json!("CTO"), &json!("X")));
    // Operator API → SCIM: email, phone, name.
    let r =
        c.svc.operator("PATCH", &format!("/users/{user_id}"), Some(json!({"email": "x2@a.test", "phone": null, "name": "Ex"})));
    assert_eq!(r.status, 200, "{}", r.body);
    let read = c.get(&id);
    assert_eq!(read["emails"], json!([{"value": "x2@a.test", "type": "work"}]));
    assert!(read.get("phoneNumbers").is_none(), "{read}");
    assert_eq!(read["displayName"], "Ex");
    let found = c.list(&format!("filter={}", q("emails.value eq \"x2@a.test\"")));
    assert_eq!(found["totalResults"], 1);
    // A filter sees the phone as a read shows it: cleared by another dialect, then set anew.
    let count = |f: &str| c.list(&format!("filter={}", q(f)))["totalResults"].clone();
    assert_eq!(count("phoneNumbers pr"), 0);
    assert_eq!(count("phoneNumbers.value eq \"+41791234567\""), 0, "the cleared number is not found");
    let r = c.svc.operator("PATCH", &format!("/users/{user_id}"), Some(json!({"phone": "+41797654321"})));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(c.get(&id)["phoneNumbers"], json!([{"value": "+41797654321"}]));
    assert_eq!(count("phoneNumbers.value eq \"+41797654321\""), 1);
    assert_eq!(count("phoneNumbers[value sw \"+4179765\"]"), 1);
}

/// The stored numbers that are not the canonical phone keep their place; the primary one is the
/// phone, as a read shows it, wherever it was changed.
#[test]
fn a_phone_filter_sees_the_numbers_a_read_shows() {
    let c = cast();
    let id = c.create(json!({"userName": "ph", "emails": [{"value": "ph@a.test"}], "phoneNumbers": [
            {"value": "+442079460000", "type": "work"}, {"value": "+447700900123", "type": "mobile", "primary": true}]}))["id"]
        .as_str()
        .unwrap()
        .to_string();
    let user_id = c.svc.platform.sql(&format!("SELECT id FROM users WHERE uuid = '{id}'"))[0]["id"].as_i64().unwrap();
    let count = |f: &str| c.list(&format!("filter={}", q(f)))["totalResults"].clone();
    assert_eq!(count("phoneNumbers[type eq \"mobile\" and value eq \"+447700900123\"]"), 1);
    let r = c.svc.operator("PATCH", &format!("/users/{user_id}"), Some(json!({"phone": "+447700900999"})));
    assert_eq!(r.status, 200, "{}", r.body);
    let shown = c.get(&id)["phoneNumbers"].clone();
    assert_eq!(shown[1], json!({"value": "+447700900999", "type": "mobile", "primary": true}), "{shown}");
    assert_eq!(count("phoneNumbers[type eq \"mobile\" and value eq \"+447700900999\"]"), 1);
    assert_eq!(count("phoneNumbers.value eq \"+447700900123\""), 0);
    assert_eq!(count("phoneNumbers[type eq \"work\" and value eq \"+442079460000\"]"), 1, "the other number stays");
    let r = c.svc.operator("PATCH", &format!("/users/{user_id}"), Some(json!({"phone": null})));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(c.get(&id)["phoneNumbers"], json!([{"value": "+442079460000", "type": "work"}]));
    assert_eq!(count("phoneNumbers.type eq \"mobile\""), 0);
    assert_eq!(count("phoneNumbers.value eq \"+442079460000\""), 1);
}

#[test]
fn groups_and_their_members() {
    let c = cast();
    let a = c.create(json!({"userName": "ga", "emails": [{"value": "ga@a.test"}]}))["id"].as_str().unwrap().to_string();
    let b = c.create(json!({"userName": "gb", "displayName": "Gee Bee", "emails": [{"value": "gb@a.test"}]}))["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = c.scim("POST", "/Groups", Some(json!({"displayName": "Eng", "externalId": "g-1", "members": [{"value": a}]})));
    assert_eq!(r.status, 201, "{}", r.body);
    let gid = r.body["id"].as_str().unwrap().to_string();
    assert_eq!(r.body["members"][0]["value"], a.as_str());
    let dup = c.scim("POST", "/Groups", Some(json!({"displayName": "ENG"})));
    assert_eq!((dup.status, dup.body["scimType"].as_str()), (409, Some("uniqueness")));
    let path = format!("/Groups/{gid}");
    let add = c.scim(
        "PATCH",
        &path,
        Some(json!({"schemas": [PATCH_OP], "Operations": [{"op": "Add", "path": "members", "value": [{"value": b}]}]})),
    );
    assert_eq!(add.status, 200, "{}", add.body);
    assert_eq!(add.body["members"].as_array().unwrap().len(), 2);
    assert_eq!(add.body["members"][1]["display"], "Gee Bee");
    assert_eq!(c.get(&b)["groups"][0]["value"], gid.as_str());
    let rm = c.scim(
        "PATCH",
        &path,
        Some(json!({"schemas": [PATCH_OP], "Operations": [{"op": "remove", "path": format!("members[value eq \"{a}\"]")}]})),
    );
    assert_eq!(rm.body["members"].as_array().unwrap().len(), 1, "{}", rm.body);
    // A derived member display follows the user, even after PATCHes of the group.
    c.patch(&b, json!([{"op": "replace", "path": "displayName", "value": "Gee Renamed"}]));
    assert_eq!(c.scim("GET", &path, None).body["members"][0]["display"], "Gee Renamed");
    // Entra's removal by value list, and a rename.
    let rm = c.scim(
        "PATCH",
        &path,
        Some(json!({"schemas": [PATCH_OP], "Operations": [
        {"op": "Remove", "path": "members", "value": [{"value": b}]},
        {"op": "Replace", "path": "displayName", "value": "Engineering"}]})),
    );
    assert_eq!((rm.body["members"].as_array().map(Vec::len), &rm.body["displayName"]), (Some(0), &json!("Engineering")));
    assert!(c.get(&b).get("groups").is_none());
    let bad = c.scim(
        "PATCH",
        &path,
        Some(json!({"schemas": [PATCH_OP], "Operations": [{"op": "add", "path": "members", "value": [{"value": a, "type": "Group"}]}]})),
    );
    assert_eq!((bad.status, bad.body["scimType"].as_str()), (400, Some("invalidValue")), "{}", bad.body);
    let early = c.scim(
        "PATCH",
        &path,
        Some(json!({"schemas": [PATCH_OP], "Operations": [{"op": "add", "path": "members", "value": [{"value": "not-yet-a-user"}]}]})),
    );
    assert_eq!((early.status, &early.body["members"]), (200, &json!([])), "a member before its user: accepted, not stored");
    let by_name =
        c.scim("GET", &format!("/Groups?filter={}&excludedAttributes=members", q("displayName eq \"engineering\"")), None);
    assert_eq!(by_name.body["totalResults"], 1);
    assert!(by_name.body["Resources"][0].get("members").is_none());
    assert_eq!(c.as_key(&c.other_key, "GET", &path, None, &[]).status, 404);
    // One search over Users and Groups: users first, then groups; a group-only filter finds groups.
    let all = c.scim("POST", "/.search", Some(json!({"attributes": ["displayName"], "count": 200})));
    let found = all.body["Resources"].as_array().unwrap();
    assert_eq!(all.body["totalResults"].as_u64(), Some(found.len() as u64));
    assert_eq!(found.last().unwrap()["displayName"], "Engineering");
    assert!(found[0]["schemas"][0].as_str().unwrap().ends_with(":User"));
    let only_groups = c.scim("POST", "/.search", Some(json!({"filter": "members pr", "startIndex": 1})));
    assert_eq!(only_groups.status, 200, "{}", only_groups.body);
    assert!(only_groups.body["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["schemas"][0].as_str().unwrap().ends_with(":Group")));
    assert_eq!(c.as_key(&c.other_key, "GET", "/Groups", None, &[]).body["totalResults"], 0);
    // Deleting a user drops it from its groups; deleting a group leaves its users.
    c.scim("PUT", &path, Some(json!({"displayName": "Engineering", "members": [{"value": a}, {"value": b}]})));
    assert_eq!(c.scim("DELETE", &format!("/Users/{a}"), None).status, 204);
    assert_eq!(c.scim("GET", &path, None).body["members"].as_array().unwrap().len(), 1);
    assert_eq!(c.scim("DELETE", &path, None).status, 204);
    assert_eq!(c.scim("GET", &path, None).status, 404);
    assert!(c.get(&b).get("groups").is_none());
    let _ = c.org;
}

#[test]
fn user_name_lookup_on_100k_users_uses_the_index() {
    let c = cast();
    c.svc.platform.sql(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000) \
         INSERT INTO users (uuid, org_id, username, username_key, email, created_at, updated_at) \
         SELECT printf('00000000-0000-4000-8000-%012d', i), 1, 'bulk' || i, 'bulk' || i, 'bulk' || i || '@a.test', '2026-01-01T00:00:00.000Z', \
         '2026-01-01T00:00:00.000Z' FROM n",
    );
    let found = c.list(&format!("filter={}", q("userName eq \"BULK77777\"")));
    assert_eq!(found["totalResults"], 1);
    let who = users_edge::model::KeyPrincipal {
        key_id: 1,
        user_id: 1,
        user_uuid: String::new(),
        org_id: 1,
        role: users_edge::model::Role::Admin,
        scopes: users_edge::model::Scopes::all(),
        expires_at: None,
        checked_at: String::new(),
    };
    for (filter, index) in [
        ("userName eq \"bulk7\"", "users_org_username_key"),
        ("externalId eq \"e\"", "users_org_external_id"),
        ("displayName eq \"d\"", "users_org_name"),
    ] {
        let f = users_edge::dialects::scim::filter::parse(filter).unwrap();
        let frag = users_edge::store::filter::compile(&f, &users_edge::store::scim::user_column).unwrap();
        let stmt = users_edge::store::scim::list_users(&who, Some(&frag), 0, 100);
        let plan = explain(&c, &stmt);
        assert!(plan.contains(index), "{filter}: {plan}");
        assert!(!plan.contains("SCAN users"), "{filter}: {plan}");
    }
}

fn explain(c: &Cast, stmt: &users_edge::store::Stmt) -> String {
    let db = c.svc.platform.db.borrow();
    let mut prepared = db.prepare(&format!("EXPLAIN QUERY PLAN {}", stmt.sql)).unwrap();
    let params: Vec<rusqlite::types::Value> = stmt
        .params
        .iter()
        .map(|p| match p {
            users_edge::store::SqlValue::Null => rusqlite::types::Value::Null,
            users_edge::store::SqlValue::Int(n) => rusqlite::types::Value::Integer(*n),
            users_edge::store::SqlValue::Text(s) => rusqlite::types::Value::Text(s.clone()),
        })
        .collect();
    let rows = prepared.query_map(rusqlite::params_from_iter(params), |r| r.get::<_, String>(3)).unwrap();
    rows.map(Result::unwrap).collect::<Vec<_>>().join("\n")
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        "[a-zA-Z@.:\\[\\] \"0-9-]{0,24}".prop_map(Value::String),
        prop::sample::select(vec![
            "userName",
            "emails",
            "value",
            "primary",
            "active",
            "name",
            "givenName",
            "members",
            "True",
            "False"
        ])
        .prop_map(|s| json!(s)),
    ];
    leaf.prop_recursive(4, 40, 6, |inner| {
        let keys = prop::sample::select(vec![
            "userName",
            "emails",
            "value",
            "primary",
            "active",
            "name",
            "givenName",
            "members",
            "op",
            "path",
            "Operations",
            "displayName",
            "phoneNumbers",
            "password",
            "schemas",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
            "manager",
            "groups",
            "meta",
            "id",
            "externalId",
        ]);
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(keys, inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().map(|(k, v)| (k.to_string(), v)).collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn no_body_yields_a_5xx(body in json_value(), which in 0usize..6) {
        let c = cast();
        let user = c.create(json!({"userName": "p", "emails": [{"value": "p@a.test"}]}));
        let group = c.scim("POST", "/Groups", Some(json!({"displayName": "G"})));
        let (uid, gid) = (user["id"].as_str().unwrap(), group.body["id"].as_str().unwrap());
        let (method, path) = match which {
            0 => ("POST", "/Users".to_string()),
            1 => ("PUT", format!("/Users/{uid}")),
            2 => ("PATCH", format!("/Users/{uid}")),
            3 => ("POST", "/Groups".to_string()),
            4 => ("PUT", format!("/Groups/{gid}")),
            _ => ("PATCH", format!("/Groups/{gid}")),
        };
        let r = c.scim(method, &path, Some(body.clone()));
        prop_assert!(r.status < 500, "{method} {path} {body} → {} {}", r.status, r.body);
        let wrapped = json!({"schemas": [PATCH_OP], "Operations": [{"op": "add", "value": body}]});
        let r = c.scim("PATCH", &format!("/Users/{uid}"), Some(wrapped));
        prop_assert!(r.status < 500, "{}", r.body);
    }
}

/// Group writes are audited and reach the feed like user changes: one event per committed write,
/// in the same batch (dialect `scim`, the actor's key), carrying the group as the write left it;
/// a refused write (stale If-Match) leaves no event.
#[test]
fn group_changes_are_events_in_the_feed() {
    let c = cast();
    let a = c.create(json!({"userName": "fa", "emails": [{"value": "fa@a.test"}]}))["id"].as_str().unwrap().to_string();
    let feed = |after: i64| {
        let r = c.svc.operator("GET", &format!("/events?org_id={}&after={after}", c.org), None);
        assert_eq!(r.status, 200, "{}", r.body);
        r.body["events"].as_array().unwrap().clone()
    };
    let start = feed(0).last().and_then(|e| e["seq"].as_i64()).unwrap_or(0);
    let g = c.scim("POST", "/Groups", Some(json!({"displayName": "Ops", "externalId": "x-1", "members": [{"value": a}]})));
    assert_eq!(g.status, 201, "{}", g.body);
    let gid = g.body["id"].as_str().unwrap().to_string();
    let path = format!("/Groups/{gid}");
    let renamed = c.scim("PUT", &path, Some(json!({"displayName": "Operations", "members": []})));
    assert_eq!(renamed.status, 200, "{}", renamed.body);
    let stale = c.as_key(&c.key, "DELETE", &path, None, &[("if-match", "W/\"1\"")]);
    assert_eq!(stale.status, 412, "{}", stale.body);
    assert_eq!(c.scim("DELETE", &path, None).status, 204);

    let events = feed(start);
    let kinds: Vec<&str> = events.iter().filter_map(|e| e["type"].as_str()).collect();
    assert_eq!(kinds, ["group.created", "group.updated", "group.deleted"], "{events:?}");
    for e in &events {
        assert_eq!(e["dialect"], "scim");
        assert_eq!(e["actor"]["type"], "key");
        assert_eq!(e["user"], Value::Null);
        assert_eq!(e["group"]["id"], gid.as_str());
    }
    assert_eq!((&events[0]["group"]["display_name"], &events[0]["group"]["members"]), (&json!("Ops"), &json!([a])));
    assert_eq!(events[0]["group"]["external_id"], "x-1");
    assert_eq!((&events[1]["group"]["display_name"], &events[1]["group"]["members"]), (&json!("Operations"), &json!([])));
    assert_eq!(events[1]["group"]["version"], 2);
    // The deletion carries the group as it was when it went.
    assert_eq!(events[2]["group"]["display_name"], "Operations");
    let seqs: Vec<i64> = events.iter().filter_map(|e| e["seq"].as_i64()).collect();
    assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "{seqs:?}");
}

/// A body of only whitespace is not JSON: `invalidSyntax`, never an empty SearchRequest (which
/// would list everyone) or an empty resource. No body at all is a `.search` without parameters.
/// (Schemathesis sent `POST /Groups/.search` with a body of one newline.)
#[test]
fn a_blank_body_is_invalid_syntax_not_an_empty_request() {
    let c = cast();
    let send = |method: &str, path: &str, bytes: &[u8]| {
        let headers = [
            ("authorization", format!("Bearer {}", c.key)),
            ("content-type", "application/scim+json".to_string()),
            ("host", "127.0.0.1:8787".to_string()),
        ];
        let req = users_edge::http::Request {
            method: method.into(),
            path: format!("/scim/v2{path}"),
            headers: headers.iter().map(|(k, v)| (k.to_string(), v.clone())).collect(),
            body: users_edge::http::Body::Bytes(bytes.to_vec()),
        };
        let raw = pollster::block_on(users_edge::app::handle(&c.svc.platform, req));
        (raw.status, serde_json::from_slice::<Value>(&raw.body).unwrap_or(Value::Null))
    };
    for (method, path) in
        [("POST", "/.search"), ("POST", "/Users/.search"), ("POST", "/Groups/.search"), ("POST", "/Users"), ("POST", "/Groups")]
    {
        for blank in [&b"\n"[..], b" ", b"  \r\n\t"] {
            let (status, body) = send(method, path, blank);
            assert_eq!((status, body["scimType"].as_str()), (400, Some("invalidSyntax")), "{method} {path} {blank:?}: {body}");
        }
    }
    for path in ["/.search", "/Users/.search", "/Groups/.search"] {
        let (status, body) = send("POST", path, b"");
        assert_eq!(status, 200, "no body: a search without parameters: {body}");
        assert!(body["totalResults"].as_i64().is_some(), "{body}");
    }
    assert_eq!(send("POST", "/Users/.search", b"").1["totalResults"], 2, "the org's admin and uma");
    assert_eq!(send("POST", "/Users", b"").0, 400, "a user needs a body");
}

/// What each SCIM operation costs in storage round trips on success: one KV read, and one D1
/// call (an empty listing too) — two where the change is computed from the current resource (a user's PUT and PATCH, a
/// group's PATCH: read, then write at the version read).
#[test]
fn a_scim_success_is_one_kv_read_and_one_d1_call_or_two_for_read_then_write() {
    let c = cast();
    let u = c.create(json!({"schemas": [USER_URN], "userName": "timed", "emails": [{"value": "timed@a.test", "primary": true}]}));
    let id = u["id"].as_str().unwrap().to_string();
    let g = c.scim("POST", "/Groups", Some(json!({"displayName": "Timed", "members": [{"value": id}]})));
    assert_eq!(g.body["members"][0]["value"], json!(id), "{}", g.body);
    let gid = g.body["id"].as_str().unwrap().to_string();
    let replace = |v: &str| json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "displayName", "value": v}]});
    for (method, path, body, d1) in [
        ("POST", "/Users".to_string(), Some(json!({"schemas": [USER_URN], "userName": "timed2"})), 1),
        ("GET", format!("/Users/{id}"), None, 1),
        ("GET", format!("/Users?filter={}", q("userName eq \"timed\"")), None, 1),
        // A lookup that finds nobody (a provisioning client's check before it creates) and a page
        // past the end: their total comes in the same call.
        ("GET", format!("/Users?filter={}", q("userName eq \"nobody\"")), None, 1),
        ("GET", "/Users?startIndex=500&count=10".to_string(), None, 1),
        ("GET", format!("/Groups?filter={}", q("displayName eq \"nobody\"")), None, 1),
        ("PUT", format!("/Users/{id}"), Some(json!({"schemas": [USER_URN], "userName": "timed", "displayName": "T"})), 2),
        ("PATCH", format!("/Users/{id}"), Some(replace("T2")), 2),
        ("POST", "/Groups".to_string(), Some(json!({"displayName": "Other"})), 1),
        ("GET", format!("/Groups/{gid}"), None, 1),
        ("GET", "/Groups".to_string(), None, 1),
        ("PATCH", format!("/Groups/{gid}"), Some(replace("Timed 2")), 2),
        ("PUT", format!("/Groups/{gid}"), Some(json!({"displayName": "Timed 3", "members": [{"value": id}]})), 1),
        ("DELETE", format!("/Groups/{gid}"), None, 1),
        ("DELETE", format!("/Users/{id}"), None, 1),
    ] {
        let r = c.scim(method, &path, body);
        assert!(r.status < 300, "{method} {path}: {} {}", r.status, r.body);
        let names = r.timing_names();
        assert_eq!(names.iter().filter(|n| *n == "kv").count(), 1, "{method} {path}: {names:?}");
        assert_eq!(names.iter().filter(|n| *n == "d1").count(), d1, "{method} {path}: {names:?}");
    }
}

/// The user's groups read in the same D1 call as the user, and a group read back by the batch
/// that wrote it, are what is stored.
#[test]
fn a_scim_user_carries_its_groups_and_a_group_write_answers_what_it_wrote() {
    let c = cast();
    let u = c.create(json!({"schemas": [USER_URN], "userName": "member"}));
    let id = u["id"].as_str().unwrap();
    assert_eq!(u["groups"], json!(null), "a new user is in no group: {u}");
    let g = c.scim("POST", "/Groups", Some(json!({"displayName": "Crew", "members": [{"value": id}]})));
    assert_eq!((g.status, g.body["displayName"].clone(), g.body["members"][0]["value"].clone()), (201, json!("Crew"), json!(id)));
    let gid = g.body["id"].as_str().unwrap();
    let groups = &c.get(id)["groups"];
    assert_eq!(
        (groups[0]["value"].as_str(), groups[0]["display"].as_str(), groups.as_array().map(Vec::len)),
        (Some(gid), Some("Crew"), Some(1))
    );
    let put = c.scim("PUT", &format!("/Groups/{gid}"), Some(json!({"displayName": "Crew 2", "members": []})));
    assert_eq!(
        (put.status, put.body["displayName"].clone(), put.body["meta"]["version"].clone()),
        (200, json!("Crew 2"), json!("\"2\"")),
        "{}",
        put.body
    );
    assert_eq!(put.body["members"], c.scim("GET", &format!("/Groups/{gid}"), None).body["members"]);
    assert_eq!(c.get(id)["groups"], json!(null), "{}", c.get(id));
}

/// A listing reads the key's state in its own batch: a key D1 no longer honours (its cached entry
/// still in KV) gets 401 whether the page would have rows or none, and is shown nothing.
#[test]
fn a_listing_refuses_a_key_revoked_in_d1_alone_whether_or_not_anything_matches() {
    let c = cast();
    let paths = [
        "/Users".to_string(),
        format!("/Users?filter={}", q("userName eq \"nobody\"")),
        "/Groups".to_string(),
        format!("/Groups?filter={}", q("displayName eq \"nobody\"")),
    ];
    for p in &paths {
        assert_eq!(c.scim("GET", p, None).status, 200, "GET {p} while the key holds");
    }
    c.svc.platform.sql("UPDATE api_keys SET revoked_at = '2025-01-01T00:00:00.000Z'");
    for p in &paths {
        let r = c.scim("GET", p, None);
        assert_eq!(r.status, 401, "GET {p}: {}", r.body);
        assert!(r.body.get("Resources").is_none(), "GET {p}: {}", r.body);
    }
}

/// A user's SCIM document has a size, as D1's values do: a filtered operation that would copy its
/// value onto every match past 256 KiB is refused before it is built, and a document that PATCHes
/// grow past 64 KiB is refused naming its largest attribute; the stored user stays as it was
/// (this was a 500 from D1's "string or blob too big", found by fuzzing).
#[test]
fn a_document_grown_past_its_limit_is_400_naming_the_attribute_and_changes_nothing() {
    let c = cast();
    let u = c.create(json!({"schemas": [USER_URN], "userName": "big", "emails": [{"value": "big@a.test", "primary": true}]}));
    let id = u["id"].as_str().unwrap().to_string();
    let before = c.get(&id);
    let many: Vec<Value> = (0..50).map(|i| json!({"value": format!("m{i}@a.test")})).collect();
    let fan_out = c.patch(
        &id,
        json!([{"op": "add", "path": "emails", "value": many}, {"op": "replace", "path": "emails[value pr].display", "value": "d".repeat(45_000)}]),
    );
    assert_eq!((fan_out.status, fan_out.body["scimType"].as_str()), (400, Some("invalidValue")), "{}", fan_out.body);
    assert_eq!(c.get(&id), before);
    // Grown a request at a time: each request fits, the document stops at its limit.
    let mut last = None;
    for round in 0..20 {
        let batch: Vec<Value> =
            (0..200).map(|i| json!({"value": format!("r{round}-{i}@a.test"), "display": "x".repeat(40)})).collect();
        let r = c.patch(&id, json!([{"op": "add", "path": "emails", "value": batch}]));
        assert!(r.status == 200 || r.status == 400, "round {round}: {} {}", r.status, r.body);
        if r.status == 400 {
            last = Some(r);
            break;
        }
    }
    let refused = last.expect("the document reached its limit");
    assert_eq!(refused.body["scimType"], "invalidValue", "{}", refused.body);
    assert!(refused.body["detail"].as_str().unwrap().starts_with("emails"), "{}", refused.body);
    let stored = c.svc.platform.sql(&format!("SELECT length(scim) AS n FROM users WHERE uuid = '{id}'"));
    assert!(stored[0]["n"].as_i64().unwrap() <= 64 * 1024, "{stored:?}");
}

/// A group write that changes nothing (Okta's and Entra's re-sends: the same name, the same
/// members, a member of another org that is ignored anyway) keeps the version and writes no event;
/// a real change still counts.
#[test]
fn a_group_write_that_changes_nothing_is_a_no_op() {
    let c = cast();
    let a = c.create(json!({"userName": "na", "emails": [{"value": "na@a.test"}]}))["id"].as_str().unwrap().to_string();
    let r = c.scim("POST", "/Groups", Some(json!({"displayName": "Ops", "members": [{"value": a}]})));
    assert_eq!(r.status, 201, "{}", r.body);
    let path = format!("/Groups/{}", r.body["id"].as_str().unwrap());
    let foreign =
        c.as_key(&c.other_key, "POST", "/Users", Some(json!({"userName": "far", "emails": [{"value": "far@b.test"}]})), &[]);
    assert_eq!(foreign.status, 201, "{}", foreign.body);
    let (version, events) = (c.scim("GET", &path, None).body["meta"]["version"].clone(), c.svc.event_count());
    let patch = |ops: Value| c.scim("PATCH", &path, Some(json!({"schemas": [PATCH_OP], "Operations": ops})));
    let same = [
        c.scim("PUT", &path, Some(json!({"displayName": "Ops", "members": [{"value": a}]}))),
        patch(json!([{"op": "replace", "path": "displayName", "value": "Ops"}])),
        patch(json!([{"op": "add", "path": "members", "value": [{"value": foreign.body["id"]}]}])),
    ];
    for r in same {
        assert_eq!((r.status, &r.body["meta"]["version"]), (200, &version), "{}", r.body);
    }
    assert_eq!(c.svc.event_count(), events, "no event");
    let recased = patch(json!([{"op": "replace", "path": "displayName", "value": "OPS"}]));
    assert_ne!(recased.body["meta"]["version"], version, "a new case is a change: the name is stored as sent");
    assert_eq!((recased.body["displayName"].as_str(), c.svc.event_count()), (Some("OPS"), events + 1));
    let renamed = patch(json!([{"op": "replace", "path": "displayName", "value": "Ops team"}]));
    assert_ne!(renamed.body["meta"]["version"], version);
    assert_eq!(c.svc.event_count(), events + 2);
    let emptied = c.scim("PUT", &path, Some(json!({"displayName": "Ops team", "members": []})));
    assert_eq!(emptied.body["members"], json!([]), "{}", emptied.body);
    assert_eq!(c.svc.event_count(), events + 3);
}

/// A member's `display` is a display text like any other (at most 255 characters, no controls or
/// bidi characters): unbounded, 35 of 63,000 characters made the group's row too big for SQLite and
/// every later write a 500. A group's name is required, so one of only white space is refused.
#[test]
fn group_texts_are_display_texts() {
    let c = cast();
    let a = c.create(json!({"userName": "da", "emails": [{"value": "da@a.test"}]}))["id"].as_str().unwrap().to_string();
    for (display, why) in
        [("D".repeat(256), "at most 255"), ("\u{202e}evil".to_string(), "text-direction"), ("a\u{0}b".to_string(), "control")]
    {
        let r = c.scim("POST", "/Groups", Some(json!({"displayName": "T", "members": [{"value": a, "display": display}]})));
        assert_eq!((r.status, r.body["scimType"].as_str()), (400, Some("invalidValue")), "{}", r.body);
        assert!(r.body["detail"].as_str().unwrap().contains(why), "{}", r.body);
    }
    for name in ["", "   "] {
        let r = c.scim("POST", "/Groups", Some(json!({"displayName": name})));
        assert_eq!(r.status, 400, "{name:?}: {}", r.body);
    }
    let ok = c.scim("POST", "/Groups", Some(json!({"displayName": "T", "members": [{"value": a, "display": "D".repeat(255)}]})));
    assert_eq!(ok.status, 201, "{}", ok.body);
}

/// Group membership is written list-first, each user found by its UUID's index: SQLite left to
/// itself walked every user of the org and scanned the list for each (O(org × group): a
/// 1,000-member group of a 20,000-user org took 11 s a write).
#[test]
fn group_membership_is_found_by_uuid_not_by_walking_the_org() {
    let c = cast();
    let plan = c.svc.platform.plan(&users_edge::store::groups::add_members("g", "t", "[]"));
    assert!(plan.iter().any(|l| l.starts_with("SEARCH u USING INDEX sqlite_autoindex_users_1")), "{plan:?}");
    assert!(!plan.iter().any(|l| l.contains("users_org_id")), "{plan:?}");
}

/// `active` and `Active` are one attribute (RFC 7643 §2.1): given twice in one body, at the top or
/// inside a complex attribute, it is refused, naming it, rather than the last one silently winning.
#[test]
fn an_attribute_given_twice_in_two_cases_is_refused() {
    let c = cast();
    for body in [
        json!({"userName": "ci2", "username": "ci3", "emails": [{"value": "ci@a.test"}]}),
        json!({"userName": "ci4", "active": false, "Active": true, "emails": [{"value": "ci4@a.test"}]}),
        json!({"userName": "ci5", "name": {"givenName": "A", "GIVENNAME": "B"}, "emails": [{"value": "ci5@a.test"}]}),
    ] {
        let r = c.scim("POST", "/Users", Some(body.clone()));
        assert_eq!((r.status, r.body["scimType"].as_str()), (400, Some("invalidValue")), "{body}: {}", r.body);
        assert!(r.body["detail"].as_str().unwrap().contains("given twice"), "{}", r.body);
    }
    assert_eq!(c.list("filter=userName%20sw%20%22ci%22")["totalResults"], 0, "nothing created");
}

/// `userName eq` finds the user uniqueness says the name belongs to, however it is spelled (case
/// beyond ASCII, fullwidth, NFD): Okta and Entra look a user up by it before creating one, and a
/// look-up that missed answered their create with a 409 they cannot resolve.
#[test]
fn a_user_name_filter_finds_the_name_under_every_spelling_uniqueness_knows() {
    let c = cast();
    for (i, (name, other)) in
        [("ñandú", "ÑANDÚ"), ("ada-x", "ＡＤＡ-Ｘ"), ("\u{e9}lodie", "e\u{301}lodie")].into_iter().enumerate()
    {
        let made = c.create(json!({"userName": name, "emails": [{"value": format!("spelling{i}@a.test")}]}));
        let q = format!("filter={}", urlencode(&format!("userName eq \"{other}\"")));
        let found = c.list(&q);
        assert_eq!((found["totalResults"].as_i64(), &found["Resources"][0]["id"]), (Some(1), &made["id"]), "{other}");
        let dup = c.scim("POST", "/Users", Some(json!({"userName": other, "emails": [{"value": format!("other{i}@a.test")}]})));
        assert_eq!(dup.status, 409, "uniqueness agrees: {other}");
    }
    assert_eq!(c.list(&format!("filter={}", urlencode("userName eq \"two words\"")))["totalResults"], 0, "no such name");
    assert_eq!(c.list(&format!("filter={}", urlencode("userName sw \"ÑAN\"")))["totalResults"], 0, "other operators as before");
}

/// A group's `displayName` is one name under every spelling that reads the same (case beyond
/// ASCII, fullwidth letters, `ß` for `SS`): a second group of it is 409, `displayName eq` finds
/// the one there is, and the group itself may change its case (stored as sent). Only ASCII case
/// was folded before, so Entra's look-up of `ÄRZTE` missed `Ärzte` and its create made a twin.
#[test]
fn a_group_name_is_one_name_under_every_spelling_that_reads_the_same() {
    let c = cast();
    let made = c.scim("POST", "/Groups", Some(json!({"displayName": "Ärzte Straße"})));
    assert_eq!(made.status, 201, "{}", made.body);
    let groups = |filter: &str| {
        let r = c.scim("GET", &format!("/Groups?filter={}", urlencode(filter)), None);
        assert_eq!(r.status, 200, "{}", r.body);
        r.body
    };
    for other in ["ÄRZTE STRASSE", "ärzte straße", "Äｒｚｔｅ Straße", "ÄＲＺＴＥ STRASSE"] {
        let dup = c.scim("POST", "/Groups", Some(json!({"displayName": other})));
        assert_eq!((dup.status, dup.body["scimType"].as_str()), (409, Some("uniqueness")), "{other}: {}", dup.body);
        let found = groups(&format!("displayName eq \"{other}\""));
        assert_eq!((found["totalResults"].as_i64(), &found["Resources"][0]["id"]), (Some(1), &made.body["id"]), "{other}");
    }
    assert_eq!(groups("displayName eq \"Arzte Strasse\"")["totalResults"], 0, "Ä is not A");
    assert_eq!(c.scim("POST", "/Groups", Some(json!({"displayName": "Arzte Strasse"}))).status, 201, "another name");
    let path = format!("/Groups/{}", made.body["id"].as_str().unwrap());
    let renamed = c.scim("PUT", &path, Some(json!({"displayName": "ÄRZTE STRASSE"})));
    assert_eq!((renamed.status, &renamed.body["displayName"]), (200, &json!("ÄRZTE STRASSE")), "{}", renamed.body);
    assert_eq!(c.scim("GET", &path, None).body["displayName"], "ÄRZTE STRASSE");
    assert_eq!(groups("displayName sw \"ÄRZ\"")["totalResults"], 1, "other operators as before");
}

/// Groups written before names had keys, as migration 0013 leaves a name beyond printable ASCII
/// (no key: SQLite cannot fold it), keep working as they did until the Cron sweep keys them; then
/// each has its key, or, where the old rule let two names stand that the new one calls one, the
/// later is marked as the earlier's twin: both are still found, written and renamed, and a new
/// group of that name is 409.
#[test]
fn groups_written_before_name_keys_work_until_the_sweep_keys_them_and_after() {
    let c = cast();
    for (i, name) in ["Öffentlich", "ärzte", "ÄRZTE"].into_iter().enumerate() {
        c.svc.platform.sql(&format!(
            "INSERT INTO groups (uuid, org_id, display_name, name_key, created_at, updated_at) \
             VALUES ('00000000-0000-4000-8000-00000000000{i}', {}, '{name}', NULL, '2025-01-01T00:00:00.000Z', '2025-01-01T00:00:00.000Z')",
            c.org
        ));
    }
    let uuid = |i: usize| format!("00000000-0000-4000-8000-00000000000{i}");
    let found = |filter: &str| -> Vec<String> {
        let r = c.scim("GET", &format!("/Groups?filter={}", urlencode(filter)), None);
        assert_eq!(r.status, 200, "{}", r.body);
        r.body["Resources"].as_array().unwrap().iter().map(|g| g["id"].as_str().unwrap().to_string()).collect()
    };
    // Before the sweep: found by name as before, and a write that keeps the name is no conflict.
    assert_eq!(found("displayName eq \"Öffentlich\""), [uuid(0)]);
    assert_eq!(found("displayName eq \"ÄRZTE\""), [uuid(2)]);
    let put = c.scim("PUT", &format!("/Groups/{}", uuid(2)), Some(json!({"displayName": "ÄRZTE", "externalId": "x-2"})));
    assert_eq!(put.status, 200, "{}", put.body);

    pollster::block_on(users_edge::app::sweep(&c.svc.platform));
    let keys = c.svc.platform.sql("SELECT display_name, name_key FROM groups WHERE uuid LIKE '00000000-%' ORDER BY id");
    let keys: Vec<(String, String)> =
        keys.iter().map(|r| (r["display_name"].as_str().unwrap().into(), r["name_key"].as_str().unwrap().into())).collect();
    assert_eq!(keys[0], ("Öffentlich".into(), "öffentlich".into()));
    assert_eq!(keys[1], ("ärzte".into(), "ärzte".into()));
    assert!(keys[2].1.starts_with("TWIN:"), "{keys:?}");
    assert!(c.svc.platform.sql("SELECT id FROM groups WHERE name_key IS NULL").is_empty(), "every group keyed");

    assert_eq!(found("displayName eq \"ÖFFENTLICH\""), [uuid(0)], "found under every spelling now");
    let dup = c.scim("POST", "/Groups", Some(json!({"displayName": "öffentlich"})));
    assert_eq!((dup.status, dup.body["scimType"].as_str()), (409, Some("uniqueness")), "{}", dup.body);
    assert_eq!(found("displayName eq \"ÄRZTE\""), [uuid(1), uuid(2)], "the twins: both found");
    let put = c.scim("PUT", &format!("/Groups/{}", uuid(2)), Some(json!({"displayName": "ÄRZTE", "externalId": "x-3"})));
    assert_eq!(put.status, 200, "a twin keeps its name: {}", put.body);
    let renamed = c.scim("PUT", &format!("/Groups/{}", uuid(2)), Some(json!({"displayName": "Ärzte Nord"})));
    assert_eq!(renamed.status, 200, "{}", renamed.body);
    assert_eq!(found("displayName eq \"ÄRZTE NORD\""), [uuid(2)], "renamed, it has a key of its own");
    assert_eq!(found("displayName eq \"ÄRZTE\""), [uuid(1)]);

    // Migration 0013's own rule: a printable-ASCII name is keyed by SQLite's lower(), which is its
    // key; any other name is left for the sweep.
    for name in ["Sales Team", "R&D / EMEA (2)", "~tilde`", "Öffentlich", "tab\there", "ｓａｌｅｓ"] {
        let sql = format!("SELECT CASE WHEN '{name}' GLOB '*[^ -~]*' THEN NULL ELSE lower('{name}') END AS k");
        let k = c.svc.platform.sql(&sql)[0]["k"].clone();
        match k.as_str() {
            Some(k) => assert_eq!(k, users_edge::values::caseless_key(name), "{name}"),
            None => assert!(!name.bytes().all(|b| (b' '..=b'~').contains(&b)), "{name} is printable ASCII"),
        }
    }
}

fn urlencode(s: &str) -> String {
    s.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

/// Deleting a user changes every group it was in: each gets a new version (a client's ETag for it
/// goes stale) and its `group.updated` event after the user's `user.deleted`, with its own id and
/// the next `seq`; a group it was not in is untouched. Its memberships go with it, so replacing a
/// group with its remaining members afterwards is a no-op.
#[test]
fn deleting_a_member_changes_its_groups() {
    let c = cast();
    let user = |n: &str| {
        c.create(json!({"userName": n, "emails": [{"value": format!("{n}@a.test")}]}))["id"].as_str().unwrap().to_string()
    };
    let (a, b) = (user("ma"), user("mb"));
    let group = |name: &str, members: &[&str]| {
        let members: Vec<Value> = members.iter().map(|m| json!({"value": m})).collect();
        let r = c.scim("POST", "/Groups", Some(json!({"displayName": name, "members": members})));
        assert_eq!(r.status, 201, "{}", r.body);
        format!("/Groups/{}", r.body["id"].as_str().unwrap())
    };
    let (both, only_a, only_b) = (group("Both", &[&a, &b]), group("OnlyA", &[&a]), group("OnlyB", &[&b]));
    let version = |path: &str| c.scim("GET", path, None).body["meta"]["version"].clone();
    let before: Vec<Value> = [&both, &only_a, &only_b].iter().map(|p| version(p)).collect();
    let feed = |after: i64| {
        let r = c.svc.operator("GET", &format!("/events?org_id={}&after={after}", c.org), None);
        (r.body["events"].as_array().unwrap().clone(), r.body["next"].as_i64().unwrap())
    };
    let (_, start) = feed(0);
    assert_eq!(c.scim("DELETE", &format!("/Users/{a}"), None).status, 204);
    assert_ne!(version(&both), before[0]);
    assert_ne!(version(&only_a), before[1]);
    assert_eq!(version(&only_b), before[2], "a group the user was not in is untouched");
    let (events, _) = feed(start);
    let summary: Vec<(&str, Value)> =
        events.iter().map(|e| (e["type"].as_str().unwrap(), e["group"]["display_name"].clone())).collect();
    assert_eq!(summary, [("user.deleted", Value::Null), ("group.updated", json!("Both")), ("group.updated", json!("OnlyA"))]);
    assert_eq!(events[1]["group"]["members"], json!([b]), "{}", events[1]);
    assert_eq!(events[2]["group"]["members"], json!([]), "{}", events[2]);
    let seqs: Vec<i64> = events.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "{seqs:?}");
    let ids: std::collections::BTreeSet<&str> = events.iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 3, "each event its own id: {ids:?}");
    let left = c
        .svc
        .platform
        .sql(&format!("SELECT COUNT(*) AS n FROM group_members WHERE user_id = (SELECT id FROM users WHERE uuid = '{a}')"));
    assert_eq!(users_edge::store::RowExt::int(&left[0], "n"), Some(0), "the memberships went with the user");
    // A client polling the group with its ETag learns that it changed.
    let polled =
        |path: &str, etag: &Value| c.as_key(&c.key, "GET", path, None, &[("if-none-match", etag.as_str().unwrap())]).status;
    assert_eq!(polled(&both, &before[0]), 200);
    assert_eq!(polled(&both, &version(&both)), 304);
    assert_eq!(polled(&only_b, &before[2]), 304);
    let v = version(&both);
    let again = c.scim("PUT", &both, Some(json!({"displayName": "Both", "members": [{"value": b}]})));
    assert_eq!((again.status, &again.body["meta"]["version"]), (200, &v), "{}", again.body);
}

/// A member's and a membership's `type` are filterable as a read shows them: every member of a
/// group is a `User`, every group of a user `direct` (they matched nothing before).
#[test]
fn member_and_membership_types_filter_as_read() {
    let c = cast();
    let a = c.create(json!({"userName": "ta", "emails": [{"value": "ta@a.test"}]}))["id"].as_str().unwrap().to_string();
    let r = c.scim("POST", "/Groups", Some(json!({"displayName": "Typed", "members": [{"value": a}]})));
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["members"][0]["type"], "User");
    assert_eq!(c.scim("POST", "/Groups", Some(json!({"displayName": "Empty"}))).status, 201);
    let groups = |f: &str| c.scim("GET", &format!("/Groups?filter={}", q(f)), None).body["totalResults"].clone();
    assert_eq!(groups(&format!("members[type eq \"User\" and value eq \"{a}\"]")), 1);
    assert_eq!(groups("members.type eq \"user\""), 1, "type is case-insensitive");
    assert_eq!(groups("members[type eq \"Group\"]"), 0);
    let users = |f: &str| c.list(&format!("filter={}", q(f)))["totalResults"].clone();
    assert_eq!(c.get(&a)["groups"][0]["type"], "direct");
    assert_eq!(users("groups[type eq \"direct\" and display eq \"Typed\"]"), 1);
    assert_eq!(users("groups.type eq \"indirect\""), 0);
}

/// `emails.value eq` finds the user's address under any spelling its comparison key shares (case
/// beyond ASCII, the domain in Unicode or IDNA form), as `userName eq` does: what uniqueness says
/// is one address, a look-up finds. Another address of the list compares case-insensitively in ASCII.
#[test]
fn an_email_filter_finds_the_address_under_any_spelling_of_its_key() {
    let c = cast();
    let id = c
        .create(json!({"userName": "elodie", "emails": [
            {"value": "Élodie@München.example", "type": "work", "primary": true}, {"value": "Home@Example.org", "type": "home"}]}))["id"]
        .as_str()
        .unwrap()
        .to_string();
    let found = |f: &str| {
        let r = c.list(&format!("filter={}", q(f)));
        r["Resources"].as_array().unwrap().iter().map(|u| u["id"].as_str().unwrap().to_string()).collect::<Vec<_>>()
    };
    for spelling in ["Élodie@München.example", "ÉLODIE@MÜNCHEN.EXAMPLE", "élodie@xn--mnchen-3ya.example"] {
        assert_eq!(found(&format!("emails.value eq \"{spelling}\"")), std::slice::from_ref(&id), "{spelling}");
        assert_eq!(
            found(&format!("emails[type eq \"work\" and value eq \"{spelling}\"]")),
            std::slice::from_ref(&id),
            "{spelling}"
        );
        assert!(found(&format!("emails[type eq \"home\" and value eq \"{spelling}\"]")).is_empty(), "{spelling}");
    }
    assert_eq!(found("emails.value eq \"home@example.ORG\""), std::slice::from_ref(&id));
    assert!(found("emails.value eq \"someone@München.example\"").is_empty());
    assert!(found("emails[type eq \"work\" and value ne \"ÉLODIE@MÜNCHEN.EXAMPLE\"]").is_empty(), "ne is not eq");
}

/// D1 refuses a LIKE or GLOB pattern over 50 bytes ("pattern too complex"): a `co`, `sw` or `ew`
/// filter with a long value (a whole email address, say) was a 500. It matches as a short one does.
#[test]
fn substring_filters_take_long_values() {
    let c = cast();
    let long = format!("{}@long.example", "l".repeat(60));
    let id = c.create(json!({"userName": "lng", "displayName": format!("Name {}%_x", "é".repeat(30)),
        "emails": [{"value": long}]}))["id"]
        .as_str()
        .unwrap()
        .to_string();
    let found = |f: &str| {
        let r = c.scim("GET", &format!("/Users?filter={}", q(f)), None);
        assert_eq!(r.status, 200, "{f}: {}", r.body);
        r.body["Resources"].as_array().unwrap().iter().map(|u| u["id"].as_str().unwrap().to_string()).collect::<Vec<_>>()
    };
    let mine = std::slice::from_ref(&id);
    assert_eq!(found(&format!("emails.value co \"{}\"", &long[1..])), mine);
    assert_eq!(found(&format!("emails.value sw \"{}\"", &long[..long.len() - 1].to_uppercase())), mine, "ASCII case-insensitive");
    assert_eq!(found(&format!("emails.value ew \"{}\"", &long[2..])), mine);
    assert_eq!(found(&format!("displayName ew \"{}%_x\"", "é".repeat(30))), mine, "% and _ are literal");
    assert_eq!(found(&format!("displayName co \"{}%_\"", "é".repeat(30))), mine);
    assert!(found(&format!("displayName co \"{}_%\"", "é".repeat(30))).is_empty());
    assert!(found(&format!("emails.value sw \"{}\"", "m".repeat(60))).is_empty());
    assert_eq!(found(&format!("externalId co \"{}\"", "x".repeat(60))), Vec::<String>::new());
    let groups = c.scim("GET", &format!("/Groups?filter={}", q(&format!("displayName co \"{}\"", "g".repeat(60)))), None);
    assert_eq!(groups.status, 200, "{}", groups.body);
}

/// A strong tag changes whenever the representation does: a user's `groups` and a group's
/// members' names are other writes' doing (a membership, a rename, a deletion, a member renamed
/// through another API), and each moves the tag, so a client's If-None-Match gets the new body
/// and its If-Match on the old one is a 412 that changes nothing.
#[test]
fn derived_values_move_the_tag() {
    let c = cast();
    let a = c.create(json!({"userName": "tagged", "emails": [{"value": "tagged@a.test"}]}))["id"].as_str().unwrap().to_string();
    let user_path = format!("/Users/{a}");
    let tag = |path: &str| c.scim("GET", path, None).raw.header("etag").unwrap().to_string();
    let polled = |path: &str, t: &str| c.as_key(&c.key, "GET", path, None, &[("if-none-match", t)]).status;
    let mut seen = vec![tag(&user_path)];
    let g = c.scim("POST", "/Groups", Some(json!({"displayName": "Taggers", "members": [{"value": a}]})));
    let group_path = format!("/Groups/{}", g.body["id"].as_str().unwrap());
    let renamed = json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "displayName", "value": "Taggers 2"}]});
    let steps: [Box<dyn Fn()>; 2] =
        [Box::new(|| {}), Box::new(|| assert_eq!(c.scim("PATCH", &group_path, Some(renamed.clone())).status, 200))];
    for step in steps {
        step();
        let now = tag(&user_path);
        assert!(!seen.contains(&now), "{now} after {seen:?}");
        assert_eq!(polled(&user_path, seen.last().unwrap()), 200);
        assert_eq!(polled(&user_path, &now), 304);
        assert_eq!(c.scim("GET", &user_path, None).body["meta"]["version"], json!(now));
        seen.push(now);
    }
    // A member renamed through the operator API: the group's tag moves.
    let group_tag = tag(&group_path);
    let id = c.svc.platform.sql(&format!("SELECT id FROM users WHERE uuid = '{a}'"))[0]["id"].as_i64().unwrap();
    assert_eq!(c.svc.operator("PATCH", &format!("/users/{id}"), Some(json!({"name": "Tag Renamed"}))).status, 200);
    assert_eq!(c.scim("GET", &group_path, None).body["members"][0]["display"], "Tag Renamed");
    assert_ne!(tag(&group_path), group_tag);
    let stale = c.as_key(&c.key, "PATCH", &group_path, Some(renamed.clone()), &[("if-match", &group_tag)]);
    assert_eq!(stale.status, 412, "{}", stale.body);
    let fresh = c.as_key(
        &c.key,
        "PUT",
        &group_path,
        Some(json!({"displayName": "T3", "members": [{"value": a}]})),
        &[("if-match", &tag(&group_path))],
    );
    assert_eq!(fresh.status, 200, "{}", fresh.body);
    // The user's If-Match on a tag from before its group changed is a 412; on the current one, it lands.
    let old = seen[0].clone();
    let patch = json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "title", "value": "T"}]});
    assert_eq!(c.as_key(&c.key, "PATCH", &user_path, Some(patch.clone()), &[("if-match", &old)]).status, 412);
    assert_eq!(c.as_key(&c.key, "DELETE", &user_path, None, &[("if-match", &old)]).status, 412);
    let read = c.as_key(&c.key, "GET", &user_path, None, &[("if-match", &old)]);
    assert_eq!((read.status, read.body["status"].as_str()), (412, Some("412")), "a read's If-Match too, as a SCIM error");
    let now = tag(&user_path);
    assert_eq!(c.as_key(&c.key, "PATCH", &user_path, Some(patch), &[("if-match", &now)]).status, 200);
    // Deleting the group moves the user's tag back to a plain version (no groups to digest).
    assert_eq!(c.scim("DELETE", &group_path, None).status, 204);
    let plain = tag(&user_path);
    assert!(!plain.contains('-') && plain != now, "{plain}");
    assert_eq!(c.as_key(&c.key, "DELETE", &user_path, None, &[("if-match", &plain)]).status, 204);
}

/// A listing parameter given twice is refused, naming it: which of two filters applies is never
/// guessed.
#[test]
fn a_parameter_given_twice_is_refused() {
    let c = cast();
    for query in [
        format!("filter={}&filter={}", q("userName eq \"uma\""), q("userName eq \"ada\"")),
        "count=1&startIndex=1&count=2".to_string(),
        "attributes=userName&attributes=emails".to_string(),
    ] {
        let r = c.scim("GET", &format!("/Users?{query}"), None);
        assert_eq!((r.status, r.body["scimType"].as_str()), (400, Some("invalidValue")), "{query}: {}", r.body);
        assert!(r.body["detail"].as_str().unwrap().contains("more than once"), "{}", r.body);
    }
}

/// Groups of thousands: D1 caps a value at 2,000,000 bytes (the host's SQLite too), so a group's
/// members, a user's groups and a filter on either are read as rows, never built into one value.
/// 2,500 members named with 255 four-byte letters are 2.7 MB of members, which a single JSON
/// value could not hold. A group's write binds its members as one value, so a group is capped
/// below that: past it, a 400 naming `members`, and nothing changes.
#[test]
fn a_group_of_thousands_is_read_filtered_and_changed_without_a_5xx() {
    let c = cast();
    let long_name = "𝔸".repeat(255);
    c.svc.platform.sql(&format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2500) \
         INSERT INTO users (uuid, org_id, username, username_key, email, name, created_at, updated_at) \
         SELECT printf('00000000-0000-4000-8000-%012d', i), {org}, 'm' || i, 'm' || i, 'm' || i || '@a.test', '{long_name}', \
         '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z' FROM n",
        org = c.org
    ));
    let g = c.scim("POST", "/Groups", Some(json!({"displayName": "Everyone"})));
    assert_eq!(g.status, 201, "{}", g.body);
    let gid = g.body["id"].as_str().unwrap().to_string();
    // Members added as a client adds them, a PATCH at a time (a body holds 64 KiB).
    let member = |i: usize| json!({"value": format!("00000000-0000-4000-8000-{i:012}")});
    for chunk in (1..=2500).collect::<Vec<_>>().chunks(500) {
        let add = json!({"schemas": [PATCH_OP], "Operations": [{"op": "add", "path": "members",
            "value": chunk.iter().map(|&i| member(i)).collect::<Vec<_>>()}]});
        let r = c.scim("PATCH", &format!("/Groups/{gid}"), Some(add));
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["members"].as_array().unwrap().len(), *chunk.last().unwrap());
    }
    let read = c.scim("GET", &format!("/Groups/{gid}"), None);
    assert_eq!(read.status, 200, "{}", read.body);
    let members = read.body["members"].as_array().unwrap();
    assert_eq!(members.len(), 2500);
    assert_eq!(
        members[0],
        json!({"value": "00000000-0000-4000-8000-000000000001", "display": long_name, "type": "User",
        "$ref": format!("https://127.0.0.1:8787/scim/v2/Users/00000000-0000-4000-8000-000000000001")})
        .as_object()
        .map(|m| {
            // `$ref` as the service writes it, whatever its scheme.
            let mut m = m.clone();
            m.insert("$ref".into(), members[0]["$ref"].clone());
            Value::Object(m)
        })
        .unwrap()
    );
    let listed = c.scim("GET", "/Groups", None);
    assert_eq!(listed.status, 200, "{}", listed.body);
    assert_eq!(listed.body["Resources"][0]["members"].as_array().unwrap().len(), 2500);
    for filter in ["members[value eq \"00000000-0000-4000-8000-000000002500\"]", "members.display co \"𝔸\""] {
        let found = c.scim("GET", &format!("/Groups?filter={}&excludedAttributes=members", q(filter)), None);
        assert_eq!((found.status, &found.body["totalResults"]), (200, &json!(1)), "{filter}: {}", found.body);
    }
    let users = c.scim("GET", &format!("/Users?filter={}&count=3", q("groups.value pr")), None);
    assert_eq!((users.status, &users.body["totalResults"]), (200, &json!(2500)), "{}", users.body);
    assert_eq!(
        users.body["Resources"][2]["groups"],
        json!([{"value": gid, "display": "Everyone", "type": "direct",
        "$ref": users.body["Resources"][2]["groups"][0]["$ref"]}])
    );

    // Past the cap: a PUT of 30,000 members is refused (its own members are too many to bind).
    let before = (c.svc.event_count(), c.scim("GET", &format!("/Groups/{gid}"), None).header("etag").map(str::to_string));
    let many: Vec<Value> = (1..=30_000).map(member).collect();
    let state = users_edge::dialects::scim::wire::group_state(&json!({"displayName": "Everyone", "members": many})).unwrap();
    let who = users_edge::model::KeyPrincipal {
        key_id: 1,
        user_id: 1,
        user_uuid: String::new(),
        org_id: c.org,
        role: users_edge::model::Role::Admin,
        scopes: users_edge::model::Scopes::all(),
        expires_at: None,
        checked_at: String::new(),
    };
    let cx = users_edge::platform::Ctx::new(&c.svc.platform);
    match pollster::block_on(users_edge::pipeline::replace_group(&cx, &who, &gid, &state, None)) {
        Err(users_edge::error::Failure::Invalid(errors)) => assert_eq!(errors[0].field, "members", "{errors:?}"),
        other => panic!("{other:?}"),
    }
    let after = (c.svc.event_count(), c.scim("GET", &format!("/Groups/{gid}"), None).header("etag").map(str::to_string));
    assert_eq!(before, after, "nothing changed");
}

/// A date-time filter compares instants, whatever the value's precision or year: stored times are
/// UTC to the millisecond in years 0000–9999, and a value past them, or finer than a millisecond,
/// is neither folded onto 1970 nor truncated.
#[test]
fn date_time_filters_compare_instants_beyond_the_stored_years_and_below_a_millisecond() {
    let c = cast();
    c.svc.platform.sql("UPDATE users SET created_at = '2030-01-01T00:00:00.000Z'");
    c.svc.platform.sql("UPDATE users SET created_at = '2026-11-22T16:00:34.438Z' WHERE email = 'uma@a.test'");
    let total = |filter: &str| c.list(&format!("filter={}", q(filter)))["totalResults"].as_i64().unwrap();
    let all = total("meta.created pr");
    assert!(all >= 2);
    for (filter, expected) in [
        ("meta.created gt \"9999-12-31T23:59:59-00:01\"", 0), // 10000-01-01T00:00:59Z
        ("meta.created lt \"9999-12-31T23:59:59-00:01\"", all),
        ("meta.created ne \"9999-12-31T23:59:59-00:01\"", all),
        ("meta.created lt \"0000-01-01T00:00:00+00:01\"", 0), // in year -1
        ("meta.created ge \"0000-01-01T00:00:00+00:01\"", all),
        ("meta.created eq \"2026-11-22T16:00:34.438Z\"", 1),
        ("meta.created eq \"2026-11-22T16:00:34.4385Z\"", 0),
        ("meta.created gt \"2026-11-22T16:00:34.4375Z\"", all),
        ("meta.created gt \"2026-11-22T16:00:34.4385Z\"", all - 1),
        ("meta.created le \"2026-11-22T16:00:34.4385Z\"", 1),
        ("meta.created lt \"2026-11-22T16:00:34.4375Z\"", 0),
        ("meta.created ge \"2026-11-22T16:00:34.4375Z\"", all),
    ] {
        assert_eq!(total(filter), expected, "{filter}");
    }
}

/// A SCIM write that loses a race to another writer goes again on the newer version; a new
/// password in it is hashed once for the request (PBKDF2 costs hundreds of milliseconds in the
/// Worker), and what is stored is that hash.
#[test]
fn a_password_write_that_goes_again_hashes_once() {
    let c = cast();
    let u = c.create(json!({"schemas": [USER_URN], "userName": "racer"}));
    let id = u["id"].as_str().unwrap().to_string();
    let bump = format!("UPDATE users SET version = version + 1 WHERE uuid = '{id}'");
    // Each try reads, then writes: another writer gets in before the first two writes.
    for around in
        [(String::new(), String::new()), (bump.clone(), String::new()), (String::new(), String::new()), (bump, String::new())]
    {
        c.svc.platform.interleave.borrow_mut().push_back(around);
    }
    let set = json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "password", "value": "a fresh secret 42"}]});
    let r = c.scim("PATCH", &format!("/Users/{id}"), Some(set));
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(c.svc.platform.interleave.borrow().is_empty(), "the write went three times");
    let hashed = r.timing_names().iter().filter(|n| *n == "cpu").count();
    assert_eq!(hashed, 1, "{:?}", r.header("server-timing"));
    let stored = c.svc.platform.sql(&format!("SELECT password_hash FROM users WHERE uuid = '{id}'"));
    let hash = stored[0]["password_hash"].as_str().unwrap();
    assert!(users_edge::password::verify("a fresh secret 42", hash), "the stored hash is the password's");
}

/// A page of groups reads at most 50,000 member rows: one whose groups hold more stops before the
/// group the rows stop in, says so in `itemsPerPage` (RFC 7644 §3.4.2.4), and the next page goes
/// on from there. Every group comes whole, once.
#[test]
fn a_page_of_large_groups_stops_early_and_the_next_goes_on() {
    let c = cast();
    c.svc.platform.sql(&format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000) \
         INSERT INTO users (uuid, org_id, username, username_key, email, created_at, updated_at) \
         SELECT printf('00000000-0000-4000-8000-%012d', i), {org}, 'p' || i, 'p' || i, 'p' || i || '@a.test', \
         '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z' FROM n",
        org = c.org
    ));
    let mut ids = Vec::new();
    for name in ["G1", "G2", "G3"] {
        let g = c.scim("POST", "/Groups", Some(json!({"displayName": name})));
        assert_eq!(g.status, 201, "{}", g.body);
        ids.push(g.body["id"].as_str().unwrap().to_string());
    }
    c.svc.platform.sql(&format!(
        "INSERT INTO group_members (group_id, user_id) SELECT g.id, u.id FROM groups g, users u \
         WHERE g.org_id = {org} AND u.org_id = {org} AND u.username LIKE 'p%'",
        org = c.org
    ));
    let first = c.scim("GET", "/Groups?count=10", None);
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(
        (&first.body["totalResults"], &first.body["itemsPerPage"]),
        (&json!(3), &json!(2)),
        "60,000 rows: the third group waits"
    );
    let next = c.scim("GET", "/Groups?count=10&startIndex=3", None);
    assert_eq!((&next.body["itemsPerPage"], &next.body["startIndex"]), (&json!(1), &json!(3)));
    let seen: Vec<(&str, usize)> = [&first.body, &next.body]
        .iter()
        .flat_map(|b| b["Resources"].as_array().unwrap())
        .map(|g| (g["id"].as_str().unwrap(), g["members"].as_array().unwrap().len()))
        .collect();
    assert_eq!(seen, ids.iter().map(|id| (id.as_str(), 20_000)).collect::<Vec<_>>(), "each group whole, once");
}
