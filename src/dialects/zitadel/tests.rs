use super::*;
use crate::error::{Failure, FieldError, HttpError, Refusal};
use crate::model::{NewSecret, Patch, Proof, Verification};
use crate::policy::Denial;
use crate::values::Gender;
use serde_json::{json, Value};

/// The seed's curl body, verbatim (shared with the workerd tests).
const SEED: &str = include_str!("../../../tests/fixtures/zitadel-seed-curl-body.json");

#[test]
fn seed_body_verbatim_names_every_oneof_conflict() {
    let body: Value = serde_json::from_str(SEED).unwrap();
    let Err(Failure::Invalid(errors)) = parse_update(body, Message::UpdateHumanUser) else { panic!("oneof conflicts") };
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["email.returnCode", "phone.returnCode", "password.hashedPassword", "password.verificationCode"]);
    assert!(errors[0].message.contains("only one of sendCode, returnCode, isVerified"));
}

/// The seed's body with one member per oneof, as a real client sends it.
#[test]
fn seed_body_one_choice_per_oneof() {
    let mut body: Value = serde_json::from_str(SEED).unwrap();
    body["email"].as_object_mut().unwrap().retain(|k, _| k != "returnCode" && k != "isVerified");
    body["phone"].as_object_mut().unwrap().retain(|k, _| k != "sendCode" && k != "isVerified");
    body["password"].as_object_mut().unwrap().retain(|k, _| k != "hashedPassword" && k != "verificationCode");
    let (user_id, patch) = parse_update(body, Message::UpdateHumanUser).unwrap();
    assert_eq!(user_id, None);
    assert_eq!(patch.username.set().unwrap().as_str(), "minnie-mouse");
    assert_eq!(patch.given_name.set().unwrap().as_str(), "Minnie");
    assert_eq!(patch.name.set().unwrap().as_str(), "Minnie Mouse");
    assert_eq!(patch.gender, Patch::Set(Gender::Female));
    assert_eq!(patch.email.set().unwrap().as_str(), "mini@mouse.com");
    assert!(matches!(&patch.email_verification, Some(Verification::Send { url_template: Some(_) })));
    assert_eq!(patch.phone_verification, Some(Verification::Return));
    let pw = patch.password.unwrap();
    assert!(pw.change_required);
    assert!(matches!(pw.proof, Some(Proof::CurrentPassword(_))));
    assert!(matches!(pw.secret, NewSecret::Plain(_)));
}

#[test]
fn snake_case_names_and_nulls() {
    let body = json!({"user_id": "abc", "username": null, "profile": {"given_name": "A", "family_name": "B", "nick_name": null,
        "display_name": "", "preferred_language": "de-CH", "gender": 3}, "email": null, "phone": null, "password": null});
    let (user_id, patch) = parse_update(body, Message::UpdateHumanUser).unwrap();
    assert_eq!(user_id.as_deref(), Some("abc"));
    assert_eq!(patch.username, Patch::Keep, "null means unset in proto3 JSON");
    assert_eq!(patch.nick_name, Patch::Keep);
    assert_eq!(patch.name, Patch::Clear);
    assert_eq!(patch.gender, Patch::Set(Gender::Diverse));
    assert_eq!(patch.preferred_language.set().unwrap().as_str(), "de-CH");
    assert!(patch.email.is_keep() && patch.password.is_none());
    let Err(Failure::Invalid(e)) =
        parse_update(json!({"username": "a", "userName": "b", "user_name": 1}), Message::UpdateHumanUser)
    else {
        panic!()
    };
    assert_eq!(e.len(), 2, "unknown names are refused: {e:?}");
}

#[test]
fn full_profile_requires_names_partial_does_not() {
    let Err(Failure::Invalid(e)) = parse_update(json!({"profile": {"nickName": "x"}}), Message::UpdateHumanUser) else {
        panic!()
    };
    let fields: Vec<_> = e.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["profile.givenName", "profile.familyName"]);
    let (_, patch) = parse_update(json!({"userId": "1", "human": {"profile": {"nickName": "x"}}}), Message::UpdateUser).unwrap();
    assert_eq!(patch.touched(), vec![Field::NickName]);
    assert!(parse_update(json!({"human": {"profile": {"givenName": ""}}}), Message::UpdateUser).is_err());
}

/// A proof is as long as the password policy allows, counted in characters: a current
/// password of 256 two-byte characters (512 bytes) is a valid password and must be provable.
#[test]
fn proofs_are_bounded_like_passwords_in_characters() {
    let long = "é".repeat(crate::password::MAX_CHARS);
    assert!(crate::password::parse_new(&long).is_ok());
    for proof in ["currentPassword", "verificationCode"] {
        let body = json!({"password": {"password": {"password": "N3w-Passw0rd!"}, proof: long}});
        let (_, patch) = parse_update(body, Message::UpdateHumanUser).unwrap_or_else(|e| panic!("{proof}: {e:?}"));
        assert!(patch.password.unwrap().proof.is_some(), "{proof}");
        let body = json!({"password": {"password": {"password": "N3w-Passw0rd!"}, proof: format!("{long}é")}});
        assert!(parse_update(body, Message::UpdateHumanUser).is_err(), "{proof}: 257 characters");
        let body = json!({"password": {"password": {"password": "N3w-Passw0rd!"}, proof: ""}});
        assert!(parse_update(body, Message::UpdateHumanUser).is_err(), "{proof}: empty");
    }
}

#[test]
fn hashed_password_import_and_bad_formats() {
    let (_, patch) = parse_update(
        json!({"password": {"hashedPassword": {"hash": "$2b$04$abcdefghijklmnopqrstuuK9NkMbkTdlkI7nmdOaTyFXL5HTd/cM6"}}}),
        Message::UpdateHumanUser,
    )
    .unwrap();
    assert!(matches!(patch.password.unwrap().secret, NewSecret::Imported(_)));
    let Err(Failure::Invalid(e)) = parse_update(
        json!({"password": {"hashedPassword": {"hash": "$argon2id$v=19$m=1,t=1,p=1$c2FsdA$aGFzaA"}}}),
        Message::UpdateHumanUser,
    ) else {
        panic!()
    };
    assert_eq!(e[0].field, "password.hashedPassword.hash");
}

#[test]
fn error_shapes_on_both_transports() {
    let f = Failure::Invalid(vec![FieldError::new("profile.givenName", "is required")]).into();
    let rest: Value = serde_json::from_slice(&render_error(&f, Transport::Rest).body).unwrap();
    assert_eq!(rest["code"], 3);
    assert_eq!(rest["details"][1]["fieldViolations"][0]["field"], "profile.givenName");
    let connect = render_error(&f, Transport::Connect);
    assert_eq!(connect.status, 400);
    let body: Value = serde_json::from_slice(&connect.body).unwrap();
    assert_eq!(body["code"], "invalid_argument");
    // The core's failures and the HTTP layer's refusals, in the same shapes.
    let cases: [(Refusal, u32, &str, u16); 9] = [
        (Failure::NotFound.into(), 5, "not_found", 404),
        (Failure::Forbidden(Denial::NotSelf).into(), 7, "permission_denied", 403),
        (Failure::Unauthenticated.into(), 16, "unauthenticated", 401),
        (Failure::Conflict(Field::Username).into(), 6, "already_exists", 409),
        (Failure::PreconditionFailed.into(), 9, "failed_precondition", 400),
        (HttpError::PayloadTooLarge.into(), 8, "resource_exhausted", 413),
        (HttpError::UnsupportedMediaType.into(), 3, "invalid_argument", 415),
        (HttpError::MalformedBody("body is not valid JSON".into()).into(), 3, "invalid_argument", 400),
        (HttpError::MethodNotAllowed.into(), 12, "unimplemented", 405),
    ];
    for (f, grpc, name, status) in cases {
        let r = render_error(&f, Transport::Rest);
        assert_eq!((r.status, serde_json::from_slice::<Value>(&r.body).unwrap()["code"].clone()), (status, json!(grpc)));
        let c = render_error(&f, Transport::Connect);
        assert_eq!((c.status, serde_json::from_slice::<Value>(&c.body).unwrap()["code"].clone()), (status, json!(name)));
        assert_eq!(c.header("content-type"), Some("application/json"));
    }
}
