//! One mailbox, one account; one name, one user (issue 9): emails and usernames are unique on
//! their canonical keys, through every API, and read back exactly as sent.

use crate::helpers::Service;
use serde_json::{json, Value};

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

/// Unverified claims (issue 9, item 11): an address a user claimed through a code reserves it
/// only while the code lives; after that, another user of the org may take it, and the stale
/// claim is released in the taker's batch. An address set without a code (by an admin or the
/// operator) reserves it until changed.
#[test]
fn an_unverified_claim_expires_with_its_code() {
    let svc = Service::new();
    let org = svc.org("A");
    let (a, a_key) = svc.user(org, "a@a.test", json!({}));
    let (_, b_key) = svc.user(org, "b@a.test", json!({}));
    let claim = |key: &str, uuid: &Value, email: &str| {
        let path = format!("/v2/users/human/{}", uuid.as_str().unwrap());
        svc.call("PUT", &path, &[("authorization", &format!("Bearer {key}"))], Some(json!({"email": {"email": email}})))
    };
    let b_uuid = svc.operator("GET", &format!("/users?org_id={org}&email=b@a.test"), None).body["users"][0]["uuid"].clone();
    let r = claim(&a_key, &a["uuid"], "shared@a.test");
    assert_eq!(r.status, 200, "{}", r.body);
    let r = claim(&b_key, &b_uuid, "SHARED@a.test");
    assert_eq!(r.status, 409, "a live claim reserves the address: {}", r.body);

    svc.platform.advance(3_600_000.0 + 1.0); // the code's hour is over
    let r = claim(&b_key, &b_uuid, "SHARED@a.test");
    assert_eq!(r.status, 200, "an expired claim no longer does: {}", r.body);
    let found = svc.operator("GET", &format!("/users?org_id={org}&email=shared@a.test"), None).body;
    assert_eq!(found["users"].as_array().unwrap().len(), 1, "{found}");
    assert_eq!(found["users"][0]["uuid"], b_uuid);
    // The stale claimant keeps what it typed, unverified; its claim is gone.
    let stale = svc.stored(a["id"].as_i64().unwrap());
    assert_eq!((stale["email"].as_str(), stale["email_verified"].as_i64()), (Some("shared@a.test"), Some(0)));
    assert_eq!(stale["email_key"], Value::Null);
    // Claiming it back is a new claim, refused while b's code lives.
    assert_eq!(claim(&a_key, &a["uuid"], "shared@a.test").status, 409);

    // Set by the operator, unverified and without a code: reserved for good.
    assert_eq!(create(&svc, org, "kept@a.test", None), 201);
    svc.platform.advance(48.0 * 3_600_000.0);
    assert_eq!(claim(&b_key, &b_uuid, "kept@a.test").status, 409);
}

/// Every API that writes an email or a username refuses a look-alike of one taken in the org, in
/// its own status and shape: HiEnergy's and Konstantly's validation errors, ZITADEL's
/// already_exists, SCIM's uniqueness, Upsun's and the operator API's 409.
#[test]
fn every_writer_refuses_a_look_alike_of_a_taken_identifier() {
    let svc = Service::new();
    let org = svc.org("A");
    let (admin, admin_key) = svc.user(org, "admin@a.example", json!({"admin": true}));
    assert!(admin["id"].is_i64());
    assert_eq!(create(&svc, org, "idn@münchen.example", Some("user1-a")), 201);
    let (other, other_key) = svc.user(org, "other@a.example", json!({"username": "other"}));
    let (id, uuid) = (other["id"].as_i64().unwrap(), other["uuid"].as_str().unwrap().to_string());
    let bearer = format!("Bearer {admin_key}");
    let scim = |method: &str, path: &str, body: Value| {
        svc.call(
            method,
            &format!("/scim/v2{path}"),
            &[("authorization", &bearer), ("content-type", "application/scim+json")],
            Some(body),
        )
    };
    let urn = "urn:ietf:params:scim:schemas:core:2.0:User";
    let before = svc.stored(id);
    for twin in ["idn@xn--mnchen-3ya.example", "IDN@MÜNCHEN.example", "ｉｄｎ@münchen.example"] {
        let cases = [
            (
                "hienergy",
                svc.call(
                    "PATCH",
                    &format!("/api/v1/users/{id}"),
                    &[("x-api-key", &admin_key)],
                    Some(json!({"user": {"email": twin}})),
                ),
                422,
            ),
            (
                "konstantly",
                svc.call("PATCH", &format!("/openapi/v1/users/{id}"), &[("x-api-key", &admin_key)], Some(json!({"email": twin}))),
                400,
            ),
            (
                "zitadel",
                svc.call(
                    "PUT",
                    &format!("/v2/users/human/{uuid}"),
                    &[("authorization", &bearer)],
                    Some(json!({"email": {"email": twin, "isVerified": true}})),
                ),
                409,
            ),
            (
                "scim",
                scim(
                    "POST",
                    "/Users",
                    json!({"schemas": [urn], "userName": "fresh", "emails": [{"value": twin, "primary": true}]}),
                ),
                409,
            ),
        ];
        for (api, r, status) in cases {
            assert_eq!(r.status, status, "{api} {twin}: {}", r.body);
        }
    }
    for twin in ["USER1-A", "user1-ａ"] {
        let cases = [
            (
                "zitadel",
                svc.call(
                    "PUT",
                    &format!("/v2/users/human/{uuid}"),
                    &[("authorization", &bearer)],
                    Some(json!({"username": twin})),
                ),
                409,
            ),
            (
                "upsun",
                svc.call(
                    "PATCH",
                    &format!("/users/{uuid}"),
                    &[("authorization", &format!("Bearer {other_key}"))],
                    Some(json!({"username": twin})),
                ),
                409,
            ),
            ("scim", scim("POST", "/Users", json!({"schemas": [urn], "userName": twin})), 409),
            ("operator", svc.operator("PATCH", &format!("/users/{id}"), Some(json!({"username": twin}))), 409),
        ];
        for (api, r, status) in cases {
            assert_eq!(r.status, status, "{api} {twin}: {}", r.body);
        }
    }
    assert_eq!(svc.stored(id), before, "nothing changed");
    assert_eq!(svc.platform.sql("SELECT COUNT(*) AS n FROM users")[0]["n"], 3, "nobody was created");
}

/// openapi.json's URL patterns (`linkedin_profile_url`, `picture`, `website`; ZITADEL's
/// `urlTemplate`) say exactly what the parsers take: schemathesis refuses a server that accepts a
/// value its pattern excludes, and one that refuses a value the pattern allows. Checked on URLs
/// built from pieces that sit on either side of every rule (hosts, ports, escapes, placeholders).
mod url_patterns {
    use proptest::prelude::*;
    use users_edge::values::{HttpUrl, UrlTemplate};

    fn pattern(field: &str) -> regex::Regex {
        let doc: serde_json::Value = serde_json::from_str(include_str!("../../openapi.json")).unwrap();
        fn find<'a>(v: &'a serde_json::Value, field: &str) -> Option<&'a str> {
            match v {
                serde_json::Value::Object(m) => m
                    .get(field)
                    .and_then(|f| f.get("pattern"))
                    .and_then(|p| p.as_str())
                    .or_else(|| m.values().find_map(|x| find(x, field))),
                serde_json::Value::Array(a) => a.iter().find_map(|x| find(x, field)),
                _ => None,
            }
        }
        regex::Regex::new(find(&doc, field).expect("the field has a pattern")).unwrap()
    }

    const SCHEMES: &[&str] = &["https://", "http://", "HtTpS://", "https:/", "https:", "ftp://", "", "https:///"];
    const HOSTS: &[&str] =
        &["a", "x9", "-", "--", ".", "xn--mnchen-3ya", "b", "1", "_", "*", "[::1]", "@", "u:p@", "ü", "\\", "{{.Code}}"];
    const PORTS: &[&str] = &["", ":", ":0", ":80", ":08080", ":65535", ":65536", ":99999", ":123456", ":x"];
    const TAILS: &[&str] = &[
        "/",
        "?",
        "#",
        "a",
        "%41",
        "%zz",
        "%",
        "é",
        " ",
        "\\",
        "~",
        "'",
        "(",
        "^",
        "|",
        "\"",
        "<",
        "{",
        "}",
        "@",
        ":",
        "=",
        "{{.Code}}",
        "{{ .UserID }}",
        "{{.OrgID}}",
        "{{.Bad}}",
        "{{.Code}",
        "}}",
        "\u{7f}",
    ];

    fn url() -> impl Strategy<Value = String> {
        let many = |pieces: &'static [&'static str], n: std::ops::Range<usize>| {
            proptest::collection::vec(proptest::sample::select(pieces), n).prop_map(|v| v.concat())
        };
        (proptest::sample::select(SCHEMES), many(HOSTS, 1..5), proptest::sample::select(PORTS), many(TAILS, 0..6))
            .prop_map(|(s, h, p, t)| format!("{s}{h}{p}{t}"))
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 4000, ..ProptestConfig::default() })]
        #[test]
        fn the_document_and_the_parsers_agree(s in url()) {
            static PATTERNS: std::sync::OnceLock<(regex::Regex, regex::Regex)> = std::sync::OnceLock::new();
            let (url, template) = PATTERNS.get_or_init(|| (pattern("linkedin_profile_url"), pattern("urlTemplate")));
            prop_assert_eq!(url.is_match(&s), HttpUrl::parse(&s).is_ok(), "HttpUrl {:?}: {:?}", s, HttpUrl::parse(&s));
            prop_assert_eq!(template.is_match(&s), UrlTemplate::parse(&s).is_ok(), "UrlTemplate {:?}: {:?}", s, UrlTemplate::parse(&s));
        }
    }

    #[test]
    fn every_url_field_has_the_same_pattern() {
        for field in ["picture", "website"] {
            let p = pattern(field).as_str().to_string();
            let want = pattern("linkedin_profile_url").as_str().to_string();
            assert!(p == want || p == format!("^({})?$", &want[1..want.len() - 1]), "{field}: {p}");
        }
    }
}
