//! SQL builders: pure functions from intent to statement. Every write that a key makes carries
//! the caller guard, so D1, not the KV cache, decides whether the key may still act.

use super::{SqlValue, Stmt};
use crate::http::Precondition;
use crate::model::{KeyPrincipal, Target};

/// What a user read returns. The password hash stays in D1: only whether one is set comes out.
pub const USER_COLUMNS: &str = "id, uuid, org_id, (SELECT uuid FROM orgs WHERE orgs.id = users.org_id) AS org_uuid, username, email, email_verified, phone, phone_verified, \
name, given_name, family_name, nick_name, preferred_language, gender, role_title, based_in, \
linkedin_profile_url, picture, company, website, country, bio, timezone, admin, auth0_uid, \
publisher_id, agency_id, network_id, advertiser_id, payment_date, company_type, publisher_type, \
role_alias, from_api, attributes, password_hash IS NOT NULL AS password_set, password_change_required, \
deactivated, consented_at, consent_method, version, created_at, updated_at";

/// True while the key exists, is not revoked, its user is active in the key's org, and (for an
/// admin key) that user is still an admin. Binds: key id, org id.
const GUARD: &str = "EXISTS (SELECT 1 FROM api_keys k JOIN users c ON c.id = k.user_id \
WHERE k.id = ? AND k.revoked_at IS NULL AND c.deactivated = 0 AND c.org_id = ? \
AND (k.role = 'user' OR c.admin = 1))";

fn target_clause(target: &Target, params: &mut Vec<SqlValue>) -> &'static str {
    match target {
        Target::Id(id) => {
            params.push(SqlValue::Int(*id));
            "id = ?"
        }
        Target::Uuid(u) => {
            params.push(SqlValue::Text(u.clone()));
            "uuid = ?"
        }
    }
}

fn precondition_clause(pre: Option<&Precondition>, params: &mut Vec<SqlValue>) -> String {
    match pre {
        None | Some(Precondition::Any) => String::new(),
        Some(Precondition::Versions(vs)) => {
            params.extend(vs.iter().map(|v| SqlValue::Int(*v)));
            format!(" AND version IN ({})", vec!["?"; vs.len()].join(", "))
        }
    }
}

/// The conditional update: target in the caller's org, at the expected version, caller still
/// valid. Returns the new row, or no row when any condition fails.
pub fn update_user(
    who: &KeyPrincipal,
    target: &Target,
    pre: Option<&Precondition>,
    assignments: &[(&'static str, SqlValue)],
    now: &str,
    write_tag: &str,
) -> Stmt {
    let mut params: Vec<SqlValue> = assignments.iter().map(|(_, v)| v.clone()).collect();
    let sets: String = assignments.iter().map(|(c, _)| format!("{c} = ?, ")).collect();
    params.push(now.into());
    params.push(write_tag.into());
    let target_sql = target_clause(target, &mut params);
    params.push(who.org_id.into());
    let pre_sql = precondition_clause(pre, &mut params);
    params.push(who.key_id.into());
    params.push(who.org_id.into());
    Stmt::new(
        format!(
            "UPDATE users SET {sets}version = version + 1, updated_at = ?, last_write = ? \
             WHERE {target_sql} AND org_id = ?{pre_sql} AND {GUARD} RETURNING {USER_COLUMNS}"
        ),
        params,
    )
}

/// The audit row for the write tagged `write_tag`; inserts nothing if that write didn't happen.
pub fn insert_event(
    target: &Target,
    write_tag: &str,
    actor_key_id: Option<i64>,
    action: &str,
    dialect: &str,
    fields_json: &str,
    now: &str,
) -> Stmt {
    let mut params = vec![actor_key_id.into(), action.into(), dialect.into(), fields_json.into(), now.into()];
    let target_sql = target_clause(target, &mut params);
    params.push(write_tag.into());
    Stmt::new(
        format!(
            "INSERT INTO user_events (user_id, org_id, actor_key_id, action, dialect, fields, version, at) \
             SELECT id, org_id, ?, ?, ?, ?, version, ? FROM users WHERE {target_sql} AND last_write = ?"
        ),
        params,
    )
}

/// Read a user on behalf of a key, guarded like a write.
pub fn select_user_guarded(who: &KeyPrincipal, target: &Target) -> Stmt {
    let mut params = Vec::new();
    let target_sql = target_clause(target, &mut params);
    params.extend([who.org_id.into(), who.key_id.into(), who.org_id.into()]);
    Stmt::new(format!("SELECT {USER_COLUMNS} FROM users WHERE {target_sql} AND org_id = ? AND {GUARD}"), params)
}

/// Read a user for the operator (any org) or within one org.
pub fn select_user(target: &Target, org: Option<i64>) -> Stmt {
    let mut params = Vec::new();
    let target_sql = target_clause(target, &mut params);
    let org_sql = match org {
        Some(o) => {
            params.push(o.into());
            " AND org_id = ?"
        }
        None => "",
    };
    Stmt::new(format!("SELECT {USER_COLUMNS} FROM users WHERE {target_sql}{org_sql}"), params)
}

/// Why did a guarded statement match nothing? One row: `key_state` (`ok`, `demoted`, or
/// `revoked`/NULL) and the target's `version` in the caller's org (NULL when not there).
pub fn diagnose(who: &KeyPrincipal, target: &Target) -> Stmt {
    let mut params = vec![who.org_id.into(), who.key_id.into()];
    let target_sql = target_clause(target, &mut params);
    params.push(who.org_id.into());
    Stmt::new(
        format!(
            "SELECT (SELECT CASE WHEN k.revoked_at IS NOT NULL OR c.deactivated <> 0 OR c.org_id <> ? THEN 'revoked' \
             WHEN k.role = 'admin' AND c.admin = 0 THEN 'demoted' ELSE 'ok' END \
             FROM api_keys k JOIN users c ON c.id = k.user_id WHERE k.id = ?) AS key_state, \
             (SELECT version FROM users WHERE {target_sql} AND org_id = ?) AS version"
        ),
        params,
    )
}

/// Just the guard, for operator-API calls made with an admin key.
pub fn key_state(who: &KeyPrincipal) -> Stmt {
    diagnose(who, &Target::Id(-1))
}

/// Resolve a key digest from D1 when the KV cache has no entry for it.
pub fn principal_by_digest(digest: &str) -> Stmt {
    Stmt::new(
        "SELECT k.id AS key_id, k.user_id AS user_id, u.uuid AS user_uuid, k.org_id AS org_id, k.role AS role \
         FROM api_keys k JOIN users u ON u.id = k.user_id \
         WHERE k.digest = ? AND k.revoked_at IS NULL AND u.deactivated = 0",
        vec![digest.into()],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Role;

    fn who() -> KeyPrincipal {
        KeyPrincipal { key_id: 9, user_id: 1, user_uuid: "u".into(), org_id: 3, role: Role::Admin }
    }

    #[test]
    fn update_binds_in_placeholder_order() {
        let s = update_user(
            &who(),
            &Target::Id(5),
            Some(&Precondition::Versions(vec![2])),
            &[("name", SqlValue::Text("N".into()))],
            "now",
            "tag",
        );
        assert_eq!(s.sql.matches('?').count(), s.params.len());
        assert_eq!(
            s.params,
            vec![
                SqlValue::Text("N".into()),
                "now".into(),
                "tag".into(),
                SqlValue::Int(5),
                SqlValue::Int(3),
                SqlValue::Int(2),
                SqlValue::Int(9),
                SqlValue::Int(3)
            ]
        );
        assert!(!s.sql.contains("RETURNING *"), "never return the password hash");
    }

    #[test]
    fn placeholder_counts_match() {
        for s in [
            insert_event(&Target::Uuid("x".into()), "t", Some(1), "update", "hienergy", "[]", "now"),
            select_user_guarded(&who(), &Target::Id(1)),
            select_user(&Target::Id(1), Some(2)),
            select_user(&Target::Id(1), None),
            diagnose(&who(), &Target::Uuid("x".into())),
            principal_by_digest("d"),
        ] {
            assert_eq!(s.sql.matches('?').count(), s.params.len(), "{}", s.sql);
        }
    }
}
