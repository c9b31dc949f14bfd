//! ZITADEL through the whole service on the host: both transports, codes, passwords.

use crate::helpers::{cast, Caller, Cast, Reply, ATTEMPT_LIMIT};
use serde_json::{json, Value};

impl Cast {
    fn rest(&self, key: &str, body: Value) -> Reply {
        let auth = format!("Bearer {key}");
        self.svc.call("PUT", &format!("/v2/users/human/{}", self.uuid()), &[("authorization", &auth)], Some(body))
    }
    fn connect(&self, key: &str, method: &str, mut body: Value) -> Reply {
        body["userId"] = json!(self.uuid());
        let auth = format!("Bearer {key}");
        self.svc.call("POST", &format!("/zitadel.user.v2.UserService/{method}"), &[("authorization", &auth)], Some(body))
    }
    fn post(&self, key: &str, path: &str, body: Value) -> Reply {
        let auth = format!("Bearer {key}");
        self.svc.call("POST", &format!("/v2/users/{}/{path}", self.uuid()), &[("authorization", &auth)], Some(body))
    }
}

#[test]
fn update_human_user_on_both_transports() {
    let c = cast();
    let body = json!({"username": "minnie-mouse", "profile": {"givenName": "Minnie", "familyName": "Mouse", "nickName": "Mini",
        "displayName": "Minnie Mouse", "preferredLanguage": "en", "gender": "GENDER_FEMALE"}});
    let r = c.rest(&c.user_key, body.clone());
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["details"]["sequence"], "2", "int64 as a string");
    assert_eq!(r.body["details"]["resourceOwner"], c.org.to_string());
    assert!(r.body["details"]["changeDate"].as_str().unwrap().ends_with('Z'));
    assert_eq!(r.header("content-type"), Some("application/json"));
    let row = c.stored();
    assert_eq!(
        (row["username"].as_str(), row["nick_name"].as_str(), row["gender"].as_str()),
        (Some("minnie-mouse"), Some("Mini"), Some("female"))
    );

    let r = c.connect(&c.user_key, "UpdateHumanUser", json!({"profile": {"given_name": "Min", "family_name": "Mouse"}}));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["details"]["sequence"], "3");
    let r = c.connect(&c.user_key, "UpdateUser", json!({"human": {"profile": {"nickName": "M"}}}));
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body["changeDate"].is_string());
    assert_eq!(c.stored()["nick_name"], "M");
    // An enum by number, written as JSON Schema's integer may be (`3.0` is 3: GENDER_DIVERSE).
    let r = c.rest(&c.user_key, json!({"profile": {"givenName": "Min", "familyName": "Mouse", "gender": 3.0}}));
    assert_eq!((r.status, c.stored()["gender"].as_str()), (200, Some("diverse")), "{}", r.body);
    assert_eq!(c.stored()["given_name"], "Min", "a partial update leaves the rest");
    // The integer id as a decimal string names the user too.
    let auth = format!("Bearer {}", c.user_key);
    let r =
        c.svc.call("PUT", &format!("/v2/users/human/{}", c.id()), &[("authorization", &auth)], Some(json!({"username": "mm"})));
    assert_eq!(r.status, 200);
}

#[test]
fn permission_matrix() {
    let cases: &[(&str, Value, bool)] = &[
        ("username", json!({"username": "new-name"}), true),
        ("profile", json!({"profile": {"givenName": "G", "familyName": "F"}}), true),
        ("email (code sent)", json!({"email": {"email": "new@a.test"}}), true),
        ("email isVerified", json!({"email": {"email": "new@a.test", "isVerified": true}}), false),
        ("email returnCode", json!({"email": {"email": "new@a.test", "returnCode": {}}}), false),
        ("phone (code sent)", json!({"phone": {"phone": "+41791234567"}}), true),
        ("phone isVerified", json!({"phone": {"phone": "+41791234567", "isVerified": true}}), false),
        (
            "password with current",
            json!({"password": {"password": {"password": "N3w-Passw0rd!"}, "currentPassword": "Old-Passw0rd!"}}),
            true,
        ),
        ("password without proof", json!({"password": {"password": {"password": "N3w-Passw0rd!"}}}), false),
        (
            "hashed password",
            json!({"password": {"hashedPassword": {"hash": "$2b$04$abcdefghijklmnopqrstuuK9NkMbkTdlkI7nmdOaTyFXL5HTd/cM6"}}}),
            false,
        ),
    ];
    for (name, body, self_ok) in cases {
        for who in Caller::ALL {
            let c = cast();
            let key = c.key(who);
            let want = match who {
                Caller::SelfUser if *self_ok => 200,
                Caller::SelfUser | Caller::OtherUserSameOrg => 403,
                // A proof is only for one's own password, refused for any other target before it
                // is looked up, like any other invalid body (an_admin_proof_for_another_user_…).
                Caller::Admin | Caller::AdminOfOtherOrg if name.ends_with("with current") => 400,
                Caller::Admin => 200,
                Caller::AdminOfOtherOrg => 404,
            };
            let before = c.stored();
            let r = c.rest(key, body.clone());
            assert_eq!(r.status, want, "{name} by {who:?}: {}", r.body);
            if want != 200 {
                assert_eq!(c.stored(), before, "{name} by {who:?} changed nothing");
            }
            let c2 = cast();
            let r = c2.connect(c2.key(who), "UpdateHumanUser", body.clone());
            assert_eq!(r.status, want, "connect {name} by {who:?}: {}", r.body);
        }
    }
}

#[test]
fn email_change_then_verify() {
    let c = cast();
    // An admin asks for the code back.
    let r = c.rest(&c.admin_key, json!({"email": {"email": "new@a.test", "returnCode": {}}}));
    assert_eq!(r.status, 200, "{}", r.body);
    let code = r.body["emailCode"].as_str().unwrap().to_string();
    assert_eq!(code.len(), 8);
    assert_eq!(c.stored()["email_verified"], 0);
    let codes = c.svc.platform.sql("SELECT digest FROM verification_codes");
    assert_eq!(codes.len(), 1);
    assert_ne!(codes[0]["digest"], json!(code), "only a digest is stored");
    // Wrong code, then the right one, then it's used up.
    assert_eq!(c.post(&c.user_key, "email/verify", json!({"verificationCode": "WRONG123"})).status, 400);
    let r = c.post(&c.user_key, "email/verify", json!({"verificationCode": code}));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(c.stored()["email_verified"], 1);
    assert_eq!(c.post(&c.user_key, "email/verify", json!({"verificationCode": code})).status, 400, "single use");
}

#[test]
fn user_email_change_sends_a_code_through_the_queue() {
    let c = cast();
    let tpl = "https://example.com/email/verify?userID={{.UserID}}&code={{.Code}}&orgID={{.OrgID}}";
    let r = c.rest(&c.user_key, json!({"email": {"email": "mini@mouse.com", "sendCode": {"urlTemplate": tpl}}}));
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.get("emailCode").is_none());
    let sent = c.svc.platform.notifications.borrow().clone();
    assert_eq!(sent.len(), 1);
    let msg = &sent[0];
    assert_eq!(msg["type"], "email_verification");
    assert_eq!(msg["to"], "mini@mouse.com");
    let code = msg["code"].as_str().unwrap();
    assert_eq!(msg["url"], format!("https://example.com/email/verify?userID={}&code={code}&orgID={}", c.uuid(), c.org));
    let r = c.connect(&c.user_key, "VerifyEmail", json!({"verificationCode": code}));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(c.stored()["email_verified"], 1);
}

#[test]
fn phone_change_and_verify() {
    let c = cast();
    let r = c.rest(&c.admin_key, json!({"phone": {"phone": "+41791234567", "returnCode": {}}}));
    let code = r.body["phoneCode"].as_str().unwrap().to_string();
    assert_eq!(c.stored()["phone_verified"], 0);
    assert_eq!(c.post(&c.user_key, "phone/verify", json!({"verificationCode": code})).status, 200);
    assert_eq!(c.stored()["phone_verified"], 1);
}

#[test]
fn password_change_with_current_and_rate_limit() {
    let c = cast();
    let change = |current: &str| json!({"password": {"password": {"password": "N3w-Passw0rd!"}, "currentPassword": current}});
    let before = c.stored()["password_hash"].clone();
    let r = c.rest(&c.user_key, change("not-it-at-all"));
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.body["code"], 3);
    assert_eq!(c.stored()["password_hash"], before);
    for _ in 1..ATTEMPT_LIMIT {
        c.rest(&c.user_key, change("not-it-at-all"));
    }
    let r = c.rest(&c.user_key, change("Old-Passw0rd!"));
    assert_eq!(r.status, 429, "limited even with the right password once the limit is used: {}", r.body);
    assert_eq!(r.header("retry-after"), Some("60"));
    assert_eq!(c.stored()["password_hash"], before);

    let c = cast();
    let r = c.connect(&c.user_key, "UpdateHumanUser", change("Old-Passw0rd!"));
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(users_edge::password::verify("N3w-Passw0rd!", c.stored()["password_hash"].as_str().unwrap()));
}

#[test]
fn password_reset_code_then_change() {
    let c = cast();
    let r = c.post(&c.admin_key, "password_reset", json!({"returnCode": {}}));
    assert_eq!(r.status, 200, "{}", r.body);
    let code = r.body["verificationCode"].as_str().unwrap().to_string();
    assert_eq!(
        c.post(&c.user_key, "password_reset", json!({"returnCode": {}})).status,
        403,
        "a user can't get its own reset code"
    );
    let body =
        json!({"password": {"password": {"password": "R3set-Passw0rd!", "changeRequired": true}, "verificationCode": code}});
    let r = c.rest(&c.user_key, body.clone());
    assert_eq!(r.status, 200, "{}", r.body);
    let row = c.stored();
    assert!(users_edge::password::verify("R3set-Passw0rd!", row["password_hash"].as_str().unwrap()));
    assert_eq!(row["password_change_required"], 1);
    assert_eq!(c.rest(&c.user_key, body).status, 400, "reset codes are single use");
    // sendLink: the code goes out by the queue to the user's address, once it is verified.
    let verified = c.rest(&c.admin_key, json!({"email": {"email": "minnie@a.test", "isVerified": true}}));
    assert_eq!(verified.status, 200, "{}", verified.body);
    assert_eq!(c.post(&c.user_key, "password_reset", json!({"sendLink": {}})).status, 200);
    assert_eq!(c.svc.platform.notifications.borrow().last().unwrap()["type"], "password_reset");
}

/// A reset link goes only to a verified email, as ZITADEL sends it to the verified address.
/// Otherwise a leaked user key takes over the password without it: move the email to a mailbox
/// of its own (unverified), ask for a reset link there, redeem it.
#[test]
fn a_reset_link_goes_only_to_a_verified_email() {
    let c = cast();
    let r = c.rest(&c.admin_key, json!({"email": {"email": "minnie@a.test", "isVerified": true}}));
    assert_eq!(r.status, 200, "{}", r.body);
    let moved = c.rest(&c.user_key, json!({"email": {"email": "mallory@evil.example"}}));
    assert_eq!(moved.status, 200, "{}", moved.body);
    let (events, codes) = (c.svc.event_count(), c.svc.platform.sql("SELECT COUNT(*) AS n FROM verification_codes"));
    for key in [&c.user_key, &c.admin_key] {
        let link = json!({"sendLink": {"urlTemplate": "https://evil.example/reset?code={{.Code}}"}});
        let r = c.post(key, "password_reset", link);
        assert_eq!((r.status, &r.body["code"]), (400, &json!(9)), "{}", r.body);
        assert!(r.body["message"].as_str().unwrap().contains("verified email"), "{}", r.body);
        let r = c.connect(key, "PasswordReset", json!({"userId": c.uuid(), "sendLink": {}}));
        assert_eq!((r.status, &r.body["code"]), (400, &json!("failed_precondition")), "{}", r.body);
    }
    assert!(c.svc.platform.notifications.borrow().iter().all(|m| m["type"] != "password_reset"), "nothing sent");
    assert_eq!(c.svc.event_count(), events, "no event");
    assert_eq!(c.svc.platform.sql("SELECT COUNT(*) AS n FROM verification_codes"), codes, "no code stored");
    // An admin may still have the code returned, to hand over by its own means.
    assert_eq!(c.post(&c.admin_key, "password_reset", json!({"returnCode": {}})).status, 200);
}

#[test]
fn hashed_import_then_current_password_check() {
    let c = cast();
    let hash = bcrypt::hash_with_salt("Imp0rted-Secret", 4, [7u8; 16]).unwrap().format_for_version(bcrypt::Version::TwoY);
    let r = c.rest(&c.admin_key, json!({"password": {"hashedPassword": {"hash": hash, "changeRequired": false}}}));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(c.stored()["password_hash"], json!(hash));
    let r = c.rest(
        &c.user_key,
        json!({"password": {"password": {"password": "Brand-N3w-One"}, "currentPassword": "Imp0rted-Secret"}}),
    );
    assert_eq!(r.status, 200, "the imported hash verifies: {}", r.body);
    let r = c.rest(&c.admin_key, json!({"password": {"hashedPassword": {"hash": "$1$abc$def"}}}));
    assert_eq!(r.status, 400);
}

#[test]
fn errors_on_both_transports() {
    let c = cast();
    let auth = format!("Bearer {}", c.admin_key);
    // invalid argument
    let r = c.rest(&c.admin_key, json!({"profile": {"givenName": ""}, "phone": {"phone": "0791234567"}}));
    assert_eq!((r.status, r.body["code"].clone()), (400, json!(3)), "{}", r.body);
    let violations: Vec<&str> =
        r.body["details"][1]["fieldViolations"].as_array().unwrap().iter().map(|v| v["field"].as_str().unwrap()).collect();
    assert_eq!(violations, ["profile.givenName", "profile.familyName", "phone.phone"]);
    let r = c.connect(&c.admin_key, "UpdateHumanUser", json!({"profile": {"givenName": ""}}));
    assert_eq!((r.status, r.body["code"].clone()), (400, json!("invalid_argument")));
    // not found
    let r = c.svc.call(
        "PUT",
        &format!("/v2/users/human/{}", uuid::Uuid::nil()),
        &[("authorization", &auth)],
        Some(json!({"username": "x"})),
    );
    assert_eq!((r.status, r.body["code"].clone()), (404, json!(5)));
    let r = c.svc.call(
        "POST",
        "/zitadel.user.v2.UserService/UpdateHumanUser",
        &[("authorization", &auth)],
        Some(json!({"userId": "424242", "username": "x"})),
    );
    assert_eq!((r.status, r.body["code"].clone()), (404, json!("not_found")));
    // permission denied
    let r = c.rest(&c.other_key, json!({"username": "x"}));
    assert_eq!((r.status, r.body["code"].clone()), (403, json!(7)));
    let r = c.connect(&c.other_key, "UpdateHumanUser", json!({"username": "x"}));
    assert_eq!((r.status, r.body["code"].clone()), (403, json!("permission_denied")));
    // unauthenticated
    let r = c.rest("nope", json!({}));
    assert_eq!((r.status, r.body["code"].clone()), (401, json!(16)));
    let r = c.connect("nope", "UpdateHumanUser", json!({}));
    assert_eq!((r.status, r.body["code"].clone()), (401, json!("unauthenticated")));
    // already exists
    let r = c.rest(&c.user_key, json!({"username": "TAKEN"}));
    assert_eq!((r.status, r.body["code"].clone()), (409, json!(6)), "{}", r.body);
    let r = c.connect(&c.user_key, "UpdateHumanUser", json!({"username": "taken"}));
    assert_eq!((r.status, r.body["code"].clone()), (409, json!("already_exists")));
    // failed precondition: a stale If-Match on REST; a used code on Connect's verify is invalid argument
    let ua = format!("Bearer {}", c.user_key);
    let r = c.svc.call(
        "PUT",
        &format!("/v2/users/human/{}", c.uuid()),
        &[("authorization", &ua), ("if-match", "\"99\"")],
        Some(json!({"username": "zz"})),
    );
    assert_eq!((r.status, r.body["code"].clone()), (400, json!(9)));
    let r = c.svc.call(
        "POST",
        "/zitadel.user.v2.UserService/UpdateUser",
        &[("authorization", &ua), ("if-match", "\"99\"")],
        Some(json!({"userId": c.uuid(), "username": "zz"})),
    );
    assert_eq!((r.status, r.body["code"].clone()), (400, json!("failed_precondition")));
    // every response is JSON
    assert_eq!(r.header("content-type"), Some("application/json"));
}

#[test]
fn a_name_of_only_white_space_is_refused_as_zitadel_refuses_it_and_changes_nothing() {
    let c = cast();
    let (before, events) = (c.stored(), c.svc.event_count());
    let r = c.rest(&c.user_key, json!({"profile": {"givenName": "   ", "familyName": "\t\u{3000}", "nickName": "Kept?"}}));
    assert_eq!((r.status, r.body["code"].clone()), (400, json!(3)), "{}", r.body);
    let violations: Vec<&str> =
        r.body["details"][1]["fieldViolations"].as_array().unwrap().iter().map(|v| v["field"].as_str().unwrap()).collect();
    assert_eq!(violations, ["profile.givenName", "profile.familyName"]);
    let r = c.connect(&c.user_key, "UpdateHumanUser", json!({"profile": {"given_name": " ", "family_name": "Mouse"}}));
    assert_eq!((r.status, r.body["code"].clone()), (400, json!("invalid_argument")), "{}", r.body);
    assert_eq!((c.stored(), c.svc.event_count()), (before, events), "nothing changed, nothing audited");
    // A name with letters is stored exactly as sent, spaces included: it reads back as written.
    let r = c.rest(&c.user_key, json!({"profile": {"givenName": " Minnie ", "familyName": "Mouse"}}));
    assert_eq!((r.status, c.stored()["given_name"].as_str()), (200, Some(" Minnie ")), "{}", r.body);
}

#[test]
fn attempt_limits_are_per_user() {
    let c = cast();
    let (other, other_key) = c.svc.user(c.org, "n@a.test", json!({"password": "Other-Passw0rd!"}));
    let change = |current: &str| json!({"password": {"password": {"password": "N3w-Passw0rd!"}, "currentPassword": current}});
    for _ in 0..ATTEMPT_LIMIT {
        assert_eq!(c.rest(&c.user_key, change("wrong-wrong")).status, 400);
    }
    assert_eq!(c.rest(&c.user_key, change("Old-Passw0rd!")).status, 429);
    let auth = format!("Bearer {other_key}");
    let path = format!("/v2/users/human/{}", other["uuid"].as_str().unwrap());
    let r = c.svc.call("PUT", &path, &[("authorization", &auth)], Some(change("Other-Passw0rd!")));
    assert_eq!(r.status, 200, "another user's budget is its own: {}", r.body);
    // Codes too.
    for _ in 0..ATTEMPT_LIMIT {
        c.rest(&c.admin_key, json!({"email": {"email": "m2@a.test", "returnCode": {}}}));
        assert_eq!(c.post(&c.user_key, "email/verify", json!({"verificationCode": "WRONG123"})).status, 400);
    }
    assert_eq!(c.post(&c.user_key, "email/verify", json!({"verificationCode": "WRONG123"})).status, 429);
    let code = c.svc.call(
        "PUT",
        &path,
        &[("authorization", &format!("Bearer {}", c.admin_key))],
        Some(json!({"email": {"email": "n2@a.test", "returnCode": {}}})),
    );
    let code = code.body["emailCode"].as_str().unwrap().to_string();
    let r = c.svc.call(
        "POST",
        &format!("/v2/users/{}/email/verify", other["uuid"].as_str().unwrap()),
        &[("authorization", &auth)],
        Some(json!({"verificationCode": code})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let keys: Vec<String> = c.svc.platform.attempts.borrow().keys().cloned().collect();
    assert!(keys.iter().all(|k| !k.ends_with(":0")), "limiter keys name real users: {keys:?}");
}

/// An admin setting another user's password needs no proof, so a proof it sends is refused
/// outright — right or wrong, before any hash is computed — and nothing changes (issue 9, item 5:
/// otherwise each request is a free guess at that user's password, at a PBKDF2 hash of our CPU).
#[test]
fn an_admin_proof_for_another_user_is_refused_not_checked() {
    let c = cast();
    let before = c.stored()["password_hash"].clone();
    let with = |proof: Value| {
        let mut body = json!({"password": {"password": {"password": "N3w-Passw0rd!"}}});
        body["password"].as_object_mut().unwrap().extend(proof.as_object().unwrap().clone());
        body
    };
    for (proof, member) in [
        (json!({"currentPassword": "Old-Passw0rd!"}), "password.currentPassword"),
        (json!({"currentPassword": "a-wrong-guess"}), "password.currentPassword"),
        (json!({"verificationCode": "ABCDEF12"}), "password.verificationCode"),
    ] {
        let r = c.rest(&c.admin_key, with(proof.clone()));
        assert_eq!((r.status, &r.body["code"]), (400, &json!(3)), "{}", r.body);
        let violations = r.body["details"].as_array().unwrap().iter().find_map(|d| d.get("fieldViolations")).unwrap();
        assert_eq!(violations[0]["field"], member, "{}", r.body);
        let r = c.connect(&c.admin_key, "UpdateHumanUser", with(proof.clone()));
        assert_eq!((r.status, &r.body["code"]), (400, &json!("invalid_argument")), "{}", r.body);
        assert!(r.body["message"].as_str().unwrap().contains(member), "{}", r.body);
        assert_eq!(c.stored()["password_hash"], before);
    }
    // The same admin without a proof sets it; the user with its own proof still can.
    assert_eq!(c.rest(&c.admin_key, with(json!({}))).status, 200);
    assert!(users_edge::password::verify("N3w-Passw0rd!", c.stored()["password_hash"].as_str().unwrap()));
    let own = c.rest(&c.user_key, with(json!({"currentPassword": "N3w-Passw0rd!"})));
    assert_eq!(own.status, 200, "{}", own.body);
}
