//! Dialects translate and nothing else. Each owns its routes (and their 405 `Allow`), its wire
//! types and its error format: a wire request becomes a canonical command for the pipeline, a
//! canonical outcome or `Failure` becomes a wire response. None of them touches D1 or KV, and
//! none reaches into another.

pub mod hienergy;
pub mod konstantly;
pub mod operator;
pub mod paths;
pub mod problem;
mod reader;
pub mod scim;
pub mod upsun;
pub mod zitadel;

pub use reader::{NullMeans, Reader};

use crate::error::{Failure, Refusal};
use crate::http::{json_body, parse_if_match, Request, Response};
use crate::model::{Principal, Target, User, UserPatch};
use crate::pipeline::{self, UpdateCommand};
use crate::platform::{Ctx, Platform};
use crate::policy::Rules;

/// A handler's outcome as a response. An internal failure is noted on the context so that
/// `app::handle` logs it, once; the client sees only the dialect's generic 500.
pub fn respond<P: Platform>(
    cx: &Ctx<'_, P>,
    outcome: Result<Response, Refusal>,
    render: impl FnOnce(&Refusal) -> Response,
) -> Response {
    match outcome {
        Ok(resp) => resp,
        Err(r) => {
            if let Refusal::Core(Failure::Internal(message)) = &r {
                cx.note_internal(message);
            }
            render(&r)
        }
    }
}

/// `GET` reads the user, `PATCH` applies the body the dialect parses, `If-Match` honoured: the
/// shape of the REST dialects' user resource (HiEnergy, Upsun).
pub async fn read_or_patch<P: Platform>(
    cx: &Ctx<'_, P>,
    req: &Request,
    who: &Principal,
    target: Target,
    rules: &Rules,
    parse: fn(serde_json::Value) -> Result<UserPatch, Failure>,
) -> Result<User, Refusal> {
    if req.method == "GET" {
        return Ok(pipeline::read_user(cx, rules, who, &target).await?);
    }
    let patch = parse(json_body(req)?)?;
    let precondition = parse_if_match(req.header("if-match"));
    Ok(pipeline::update_user(cx, rules, who, UpdateCommand { target, patch, precondition }).await?.user)
}

/// A dialect reads only the columns it shows (`Rules::shown`): whatever it renders, rendered
/// from just those columns, must be what it renders from all of them.
#[cfg(test)]
mod shown_columns {
    use super::*;
    use crate::model::{Shown, ALWAYS_SHOWN};
    use serde_json::{Map, Value};

    /// A `users` row with every column set, each to a value no default could stand in for.
    fn full_row() -> Map<String, Value> {
        let row: Value = serde_json::from_str(
            r#"{
            "id": 41, "uuid": "5a3f0c8e-0000-4000-8000-000000000041", "org_id": 7,
            "org_uuid": "0b7c5a1e-4c1b-4f55-9d57-000000000007", "username": "uma", "email": "uma@example.com",
            "email_verified": 1, "phone": "+14155550100", "phone_verified": 1, "name": "Uma Ude", "given_name": "Uma",
            "family_name": "Ude", "nick_name": "U", "preferred_language": "de-CH", "gender": "female",
            "role_title": "Engineer", "based_in": "Paris, FR", "linkedin_profile_url": "https://www.linkedin.com/in/uma",
            "picture": "https://img.example/u.png", "company": "Acme", "website": "https://uma.example", "country": "FR",
            "bio": "Hi.", "timezone": "Europe/Paris", "admin": 1, "auth0_uid": "auth0|41", "publisher_id": 11,
            "agency_id": 12, "network_id": 13, "advertiser_id": 14, "payment_date": "2026-02-28",
            "company_type": "agency", "publisher_type": "blog", "role_alias": "eng", "from_api": 1,
            "attributes": "{\"team\":\"core\"}", "password_set": 1, "password_change_required": 1, "deactivated": 1,
            "consented_at": "2023-11-07T05:31:56Z", "consent_method": "opt-in", "external_id": "ext-41",
            "scim": "{\"title\":\"x\"}", "version": 9, "created_at": "2026-01-01T00:00:00.000Z",
            "updated_at": "2026-01-02T00:00:00.000Z"
        }"#,
        )
        .unwrap();
        row.as_object().cloned().unwrap()
    }

    /// The user a row of these columns decodes to, through D1's text as in production.
    fn user(row: Map<String, Value>) -> User {
        let row: crate::store::Row = serde_json::from_str(&Value::Object(row).to_string()).unwrap();
        crate::pipeline::user_of(&row).unwrap()
    }

    fn alike(rules: &Rules, render: impl Fn(&User) -> Response) {
        let Shown::Only(own) = rules.shown else { return };
        let full = full_row();
        let names: Vec<&str> = ALWAYS_SHOWN.iter().chain(own).copied().collect();
        for name in &names {
            assert!(full.contains_key(*name), "{}: {name} is not a users column", rules.dialect);
        }
        let trimmed: Map<String, Value> =
            full.iter().filter(|(k, _)| names.contains(&k.as_str())).map(|(k, v)| (k.clone(), v.clone())).collect();
        let (a, b) = (render(&user(full)), render(&user(trimmed)));
        assert_eq!(
            (a.status, &a.headers, String::from_utf8_lossy(&a.body)),
            (b.status, &b.headers, String::from_utf8_lossy(&b.body)),
            "{}",
            rules.dialect
        );
        // The SQL names the same columns.
        let sql = crate::store::users::columns(rules.shown);
        assert_eq!(sql.split(", ").count(), names.len(), "{}: {sql}", rules.dialect);
    }

    #[test]
    fn each_dialect_renders_from_its_columns_what_it_renders_from_all() {
        alike(&hienergy::RULES, hienergy::render_ok);
        alike(&upsun::RULES, upsun::render_ok);
        alike(&konstantly::RULES, konstantly::render_ok);
        alike(&zitadel::RULES, |u| zitadel::render_update_human(u, Some("c1"), Some("c2")));
        alike(&zitadel::RULES, |u| zitadel::render_update_user(u, None, None));
        alike(&zitadel::RULES, zitadel::render_details);
        alike(&zitadel::RULES, |u| zitadel::render_password_reset(u, Some("c3")));
        assert_eq!((scim::RULES.shown, operator::RULES.shown), (Shown::All, Shown::All), "they show everything");
    }

    /// The check above has teeth: a field left out of a dialect's list does change what it renders.
    #[test]
    fn a_column_left_out_would_show() {
        static NARROW: Rules = Rules { dialect: "narrow", admin_keys_only: false, fields: &[], shown: Shown::Only(&["name"]) };
        let full = full_row();
        let trimmed: Map<String, Value> =
            full.iter().filter(|(k, _)| *k != "based_in").map(|(k, v)| (k.clone(), v.clone())).collect();
        assert_ne!(hienergy::render_ok(&user(full)).body, hienergy::render_ok(&user(trimmed)).body);
        assert_eq!(crate::store::users::columns(NARROW.shown).split(", ").count(), ALWAYS_SHOWN.len() + 1);
    }
}

#[cfg(test)]
mod tests {
    use crate::model::Scope;

    /// A key's scope that names an admin-keys-only API is refused on a user's key
    /// (`Scope::admin_keys_only`): it must say what each dialect's rules say.
    #[test]
    fn admin_only_scopes_are_the_admin_only_dialects() {
        let dialects = [
            (Scope::Hienergy, &super::hienergy::RULES),
            (Scope::Zitadel, &super::zitadel::RULES),
            (Scope::Upsun, &super::upsun::RULES),
            (Scope::Konstantly, &super::konstantly::RULES),
            (Scope::Scim, &super::scim::RULES),
            (Scope::Admin, &super::operator::RULES),
        ];
        for (scope, rules) in dialects {
            assert_eq!(scope.admin_keys_only(), rules.admin_keys_only, "{scope:?}");
        }
        assert!(!Scope::Read.admin_keys_only());
    }
}
