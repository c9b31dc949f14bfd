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

/// True while the key exists as the principal claims it (same user, same role), is not revoked,
/// its user is active in the claimed org, and (for an admin key) that user is still an admin.
/// Binds: `guard_params`. So nothing the KV cache says is trusted for a write or a read.
const GUARD: &str = "EXISTS (SELECT 1 FROM api_keys k JOIN users c ON c.id = k.user_id \
WHERE k.id = ? AND k.user_id = ? AND k.role = ? AND k.revoked_at IS NULL AND c.deactivated = 0 \
AND c.org_id = ? AND (k.role = 'user' OR c.admin = 1))";

fn guard_params(who: &KeyPrincipal) -> [SqlValue; 4] {
    [who.key_id.into(), who.user_id.into(), who.role.as_str().into(), who.org_id.into()]
}

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

/// A SQL fragment with its bound values, in placeholder order.
#[derive(Debug, Clone, PartialEq)]
pub struct Fragment {
    pub sql: String,
    pub params: Vec<SqlValue>,
}

impl Fragment {
    pub fn new(sql: impl Into<String>, params: Vec<SqlValue>) -> Self {
        Self { sql: sql.into(), params }
    }
    /// `column = ?`.
    pub fn assign(column: &str, value: SqlValue) -> Self {
        Self::new(format!("{column} = ?"), vec![value])
    }
}

/// The conditional update: target in the caller's org, at the expected version, caller still
/// valid, plus any `conditions` (proofs). Returns the new row, or no row when anything fails.
pub fn update_user(
    who: &KeyPrincipal,
    target: &Target,
    pre: Option<&Precondition>,
    sets: &[Fragment],
    conditions: &[Fragment],
    now: &str,
    write_tag: &str,
) -> Stmt {
    let mut params: Vec<SqlValue> = sets.iter().flat_map(|f| f.params.iter().cloned()).collect();
    let sets_sql: String = sets.iter().map(|f| format!("{}, ", f.sql)).collect();
    params.push(now.into());
    params.push(write_tag.into());
    let target_sql = target_clause(target, &mut params);
    params.push(who.org_id.into());
    let pre_sql = precondition_clause(pre, &mut params);
    let cond_sql: String = conditions.iter().map(|c| format!(" AND {}", c.sql)).collect();
    params.extend(conditions.iter().flat_map(|c| c.params.iter().cloned()));
    params.extend(guard_params(who));
    Stmt::new(
        format!(
            "UPDATE users SET {sets_sql}version = version + 1, updated_at = ?, last_write = ? \
             WHERE {target_sql} AND org_id = ?{pre_sql}{cond_sql} AND {GUARD} RETURNING {USER_COLUMNS}"
        ),
        params,
    )
}

/// Mark a user as written by `write_tag` without changing it (a password-reset request), so the
/// statements after it in the batch can key on the tag.
pub fn touch_user(who: &KeyPrincipal, target: &Target, write_tag: &str) -> Stmt {
    let mut params = vec![write_tag.into()];
    let target_sql = target_clause(target, &mut params);
    params.push(who.org_id.into());
    params.extend(guard_params(who));
    Stmt::new(
        format!("UPDATE users SET last_write = ? WHERE {target_sql} AND org_id = ? AND {GUARD} RETURNING {USER_COLUMNS}"),
        params,
    )
}

/// The stored password hash, for checking a `currentPassword` (guarded like a write).
pub fn password_hash(who: &KeyPrincipal, target: &Target) -> Stmt {
    let mut params = Vec::new();
    let target_sql = target_clause(target, &mut params);
    params.push(who.org_id.into());
    params.extend(guard_params(who));
    Stmt::new(format!("SELECT id, password_hash FROM users WHERE {target_sql} AND org_id = ? AND {GUARD}"), params)
}

/// The newest unused code of a kind for a user the caller may see.
pub fn active_code(who: &KeyPrincipal, target: &Target, kind: &str) -> Stmt {
    let mut params = vec![kind.into()];
    let target_sql = target_clause(target, &mut params);
    params.push(who.org_id.into());
    params.extend(guard_params(who));
    Stmt::new(
        format!(
            "SELECT id, user_id, digest, value, expires_at FROM verification_codes WHERE kind = ? AND used_at IS NULL \
             AND user_id = (SELECT id FROM users WHERE {target_sql} AND org_id = ? AND {GUARD}) ORDER BY id DESC LIMIT 1"
        ),
        params,
    )
}

/// Condition for the user UPDATE: this code is still unused and unexpired.
pub fn code_is_live(code_id: i64, now: &str) -> Fragment {
    Fragment::new(
        "EXISTS (SELECT 1 FROM verification_codes WHERE id = ? AND used_at IS NULL AND expires_at > ?)",
        vec![code_id.into(), now.into()],
    )
}

/// Use up a code, but only if the write tagged `write_tag` happened (single use, atomically).
pub fn consume_code(code_id: i64, target: &Target, write_tag: &str, now: &str) -> Stmt {
    let mut params = vec![now.into(), code_id.into()];
    let target_sql = target_clause(target, &mut params);
    params.push(write_tag.into());
    Stmt::new(
        format!(
            "UPDATE verification_codes SET used_at = ? WHERE id = ? AND used_at IS NULL \
             AND EXISTS (SELECT 1 FROM users WHERE {target_sql} AND last_write = ?)"
        ),
        params,
    )
}

/// Retire a user's unused codes of a kind, if the write tagged `write_tag` happened.
pub fn retire_codes(target: &Target, write_tag: &str, kind: &str, now: &str) -> Stmt {
    let mut params = vec![now.into(), kind.into()];
    let target_sql = target_clause(target, &mut params);
    params.push(write_tag.into());
    Stmt::new(
        format!(
            "UPDATE verification_codes SET used_at = ? WHERE kind = ? AND used_at IS NULL \
             AND user_id = (SELECT id FROM users WHERE {target_sql} AND last_write = ?)"
        ),
        params,
    )
}

/// Store a new code's digest, if the write tagged `write_tag` happened.
pub fn insert_code(
    target: &Target,
    write_tag: &str,
    kind: &str,
    digest: &str,
    value: Option<&str>,
    expires_at: &str,
    now: &str,
) -> Stmt {
    let mut params = vec![kind.into(), digest.into(), value.into(), expires_at.into(), now.into()];
    let target_sql = target_clause(target, &mut params);
    params.push(write_tag.into());
    Stmt::new(
        format!(
            "INSERT INTO verification_codes (user_id, kind, digest, value, expires_at, created_at) \
             SELECT id, ?, ?, ?, ?, ? FROM users WHERE {target_sql} AND last_write = ?"
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
    params.push(who.org_id.into());
    params.extend(guard_params(who));
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
    let mut params = vec![who.org_id.into(), who.user_id.into(), who.role.as_str().into(), who.key_id.into()];
    let target_sql = target_clause(target, &mut params);
    params.push(who.org_id.into());
    Stmt::new(
        format!(
            "SELECT (SELECT CASE WHEN k.revoked_at IS NOT NULL OR c.deactivated <> 0 OR c.org_id <> ? \
             OR k.user_id <> ? OR k.role <> ? THEN 'revoked' \
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
            &[Fragment::assign("name", SqlValue::Text("N".into()))],
            &[],
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
                SqlValue::Int(1),
                "admin".into(),
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
            update_user(&who(), &Target::Id(1), None, &[Fragment::assign("a", 1.into())], &[code_is_live(3, "now")], "n", "t"),
            touch_user(&who(), &Target::Id(1), "t"),
            password_hash(&who(), &Target::Uuid("x".into())),
            active_code(&who(), &Target::Id(1), "email"),
            consume_code(1, &Target::Id(1), "t", "now"),
            retire_codes(&Target::Id(1), "t", "email", "now"),
            insert_code(&Target::Id(1), "t", "email", "d", Some("a@b.co"), "later", "now"),
        ] {
            assert_eq!(s.sql.matches('?').count(), s.params.len(), "{}", s.sql);
        }
    }
}
