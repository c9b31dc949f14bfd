//! Nobody can use the service's own sender to flood a mailbox or pump SMS: messages are limited
//! per target user, per recipient and per org, and an address that already has a live code gets
//! no second one (issue 9, "messages on demand").

use crate::helpers::{Service, ATTEMPT_LIMIT};
use serde_json::json;

fn setup() -> (Service, String, String) {
    let svc = Service::new();
    let org = svc.org("A");
    // Verified: a reset link goes to a verified address only.
    let (user, key) = svc.user(org, "user@a.test", json!({"email_verified": true}));
    (svc, user["uuid"].as_str().unwrap().to_string(), key)
}

fn change_email(svc: &Service, uuid: &str, key: &str, email: &str) -> crate::helpers::Reply {
    let auth = format!("Bearer {key}");
    let body = json!({"email": {"email": email, "sendCode": {"urlTemplate": "https://evil.example/{{.Code}}"}}});
    svc.call("PUT", &format!("/v2/users/human/{uuid}"), &[("authorization", &auth)], Some(body))
}

#[test]
fn a_user_key_cannot_mail_thirty_strangers() {
    let (svc, uuid, key) = setup();
    let statuses: Vec<u16> =
        (0..30).map(|i| change_email(&svc, &uuid, &key, &format!("victim{i}@else.example")).status).collect();
    let sent = statuses.iter().filter(|s| **s == 200).count() as u32;
    assert_eq!(sent, ATTEMPT_LIMIT, "{statuses:?}");
    let refused = change_email(&svc, &uuid, &key, "one-more@else.example");
    assert_eq!(refused.status, 429);
    assert_eq!(refused.header("retry-after"), Some("60"));
    assert_eq!(svc.platform.notifications.borrow().len() as u32, ATTEMPT_LIMIT, "a refused request sends nothing");
}

#[test]
fn an_unchanged_address_with_a_live_code_gets_no_second_message() {
    let (svc, uuid, key) = setup();
    assert_eq!(change_email(&svc, &uuid, &key, "new@a.test").status, 200);
    assert_eq!(change_email(&svc, &uuid, &key, "new@a.test").status, 200);
    assert_eq!(change_email(&svc, &uuid, &key, "new@a.test").status, 200);
    assert_eq!(svc.platform.notifications.borrow().len(), 1, "one message for one address");
    let codes = svc.platform.sql("SELECT COUNT(*) AS n FROM verification_codes WHERE used_at IS NULL");
    assert_eq!(codes[0]["n"], 1);
    let events = svc.platform.sql("SELECT COUNT(*) AS n FROM user_events WHERE type = 'user.email.code_requested'");
    assert_eq!(events[0]["n"], 1, "and one code event");
    // A different address does get its code (and retires the old one).
    assert_eq!(change_email(&svc, &uuid, &key, "other@a.test").status, 200);
    assert_eq!(svc.platform.notifications.borrow().len(), 2);
}

#[test]
fn reset_links_to_oneself_are_limited_too() {
    let (svc, uuid, key) = setup();
    let auth = format!("Bearer {key}");
    let statuses: Vec<u16> = (0..10)
        .map(|_| {
            svc.call(
                "POST",
                &format!("/v2/users/{uuid}/password_reset"),
                &[("authorization", &auth)],
                Some(json!({"sendLink": {}})),
            )
            .status
        })
        .collect();
    assert_eq!(statuses.iter().filter(|s| **s == 200).count() as u32, ATTEMPT_LIMIT, "{statuses:?}");
    assert!(statuses[ATTEMPT_LIMIT as usize..].iter().all(|s| *s == 429));
}

/// The send limiters count a user and an address once, however the request spells them: a key's
/// own user by its id or its UUID, an email by any spelling of the one mailbox (case, IDN or
/// punycode, fullwidth). Counted apart, alternating spellings multiplied each limit.
#[test]
fn the_send_limits_count_one_user_and_one_mailbox_under_every_spelling() {
    let (svc, uuid, key) = setup();
    let id = svc.platform.sql(&format!("SELECT id FROM users WHERE uuid = '{uuid}'"))[0]["id"].as_i64().unwrap();
    let auth = format!("Bearer {key}");
    for target in [id.to_string(), uuid.clone(), uuid.to_uppercase()] {
        let r = svc.call(
            "POST",
            &format!("/v2/users/{target}/password_reset"),
            &[("authorization", &auth)],
            Some(json!({"sendLink": {}})),
        );
        assert_eq!(r.status, 200, "{target}: {}", r.body);
    }
    let counts = |prefix: &str| -> Vec<u32> {
        let attempts = svc.platform.attempts.borrow();
        let mut v: Vec<u32> = attempts.iter().filter(|(k, _)| k.starts_with(prefix)).map(|(_, n)| *n).collect();
        v.sort();
        v
    };
    assert_eq!(counts("send-user:"), [3], "one bucket for the user, whichever way it is named");
    assert_eq!(counts("send-to:"), [3], "a reset goes to the user's own address: one bucket");
    svc.platform.attempts.borrow_mut().clear();
    for email in ["v@münchen.example", "v@xn--mnchen-3ya.example", "V@MÜNCHEN.example"] {
        assert_eq!(change_email(&svc, &uuid, &key, email).status, 200, "{email}");
    }
    assert_eq!(counts("send-to:"), [3], "one mailbox, one bucket");
    assert_eq!(counts("send-user:"), [3]);
}

/// A reset link goes to the user's address, and is counted under that address, however many users
/// an admin gives it in turn and however the path names each: otherwise a key could mail one inbox
/// at the org's whole rate, a few links per user.
#[test]
fn reset_links_to_one_address_are_limited_across_users_and_spellings() {
    let svc = Service::new();
    let org = svc.org("A");
    let (_, admin_key) = svc.user(org, "admin@a.test", json!({"admin": true}));
    let auth = format!("Bearer {admin_key}");
    let mut statuses = Vec::new();
    for i in 0..3 {
        let (user, _) = svc.user(org, &format!("u{i}@a.test"), json!({}));
        let id = user["id"].as_i64().unwrap();
        // The same inbox, spelled three ways, verified by the admin.
        let inbox = ["victim@inbox.example", "Victim@INBOX.example", "victim@inbox.example"][i];
        let set = svc.operator("PATCH", &format!("/users/{id}"), Some(json!({"email": inbox, "email_verified": true})));
        assert_eq!(set.status, 200, "{}", set.body);
        for target in [id.to_string(), user["uuid"].as_str().unwrap().to_uppercase()] {
            let path = format!("/v2/users/{target}/password_reset");
            statuses.push(svc.call("POST", &path, &[("authorization", &auth)], Some(json!({"sendLink": {}}))).status);
        }
        // One user per address in an org: park it, and give the inbox to the next one.
        let park = svc.operator("PATCH", &format!("/users/{id}"), Some(json!({"email": format!("parked{i}@a.test")})));
        assert_eq!(park.status, 200, "{}", park.body);
    }
    let sent = statuses.iter().filter(|s| **s == 200).count() as u32;
    assert_eq!(sent, ATTEMPT_LIMIT, "{statuses:?}");
    assert!(statuses[ATTEMPT_LIMIT as usize..].iter().all(|s| *s == 429), "{statuses:?}");
    let links = svc.platform.notifications.borrow().iter().filter(|m| m["type"] == "password_reset").count() as u32;
    assert_eq!(links, ATTEMPT_LIMIT, "a refused request sends nothing");
}

/// A pending address sent again under another spelling of the same mailbox (case, an IDN and its
/// punycode, fullwidth letters) is the same address: its live code stays, no second message goes
/// out, and that code still verifies the address as it is now spelt.
#[test]
fn a_pending_address_respelt_gets_no_second_code_and_its_code_still_verifies() {
    let (svc, uuid, key) = setup();
    let spellings = ["new@münchen.example", "NEW@MÜNCHEN.example", "new@xn--mnchen-3ya.example", "ｎｅｗ@münchen.example"];
    for email in spellings {
        let r = change_email(&svc, &uuid, &key, email);
        assert_eq!(r.status, 200, "{email}: {}", r.body);
    }
    let stored = svc.platform.sql(&format!("SELECT email, email_verified FROM users WHERE uuid = '{uuid}'"));
    assert_eq!(stored[0]["email"], spellings[3], "stored as last sent");
    assert_eq!(svc.platform.notifications.borrow().len(), 1, "one mailbox, one message");
    let live = svc.platform.sql("SELECT COUNT(*) AS n FROM verification_codes WHERE used_at IS NULL");
    assert_eq!(live[0]["n"], 1, "the first code stays live");
    let events = svc.platform.sql("SELECT COUNT(*) AS n FROM user_events WHERE type = 'user.email.code_requested'");
    assert_eq!(events[0]["n"], 1);
    let code = svc.platform.notifications.borrow()[0]["code"].as_str().unwrap().to_string();
    let auth = format!("Bearer {key}");
    let r = svc.call(
        "POST",
        &format!("/v2/users/{uuid}/email/verify"),
        &[("authorization", &auth)],
        Some(json!({"verificationCode": code})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let stored = svc.platform.sql(&format!("SELECT email, email_verified FROM users WHERE uuid = '{uuid}'"));
    assert_eq!((stored[0]["email"].clone(), stored[0]["email_verified"].clone()), (json!(spellings[3]), json!(1)));
    // Another mailbox is another address: a code of its own, the old one retired.
    assert_eq!(change_email(&svc, &uuid, &key, "other@münchen.example").status, 200);
    assert_eq!(svc.platform.notifications.borrow().len(), 2);
}
