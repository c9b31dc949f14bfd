//! The `api_keys` table: digests only (the key itself is shown once and never stored).

use super::guard::{reach, written};
use super::Stmt;
use crate::model::{Principal, Target};

/// Resolve a key digest from D1 when the KV cache has no entry for it.
pub fn principal_by_digest(digest: &str) -> Stmt {
    Stmt::new(
        "SELECT k.id AS key_id, k.user_id AS user_id, u.uuid AS user_uuid, k.org_id AS org_id, k.role AS role \
         FROM api_keys k JOIN users u ON u.id = k.user_id \
         WHERE k.digest = ? AND k.revoked_at IS NULL AND u.deactivated = 0 AND u.deleted_at IS NULL",
        vec![digest.into()],
    )
}

/// Issue a key for a user within the issuer's reach. Its role is the user's role now (the admin
/// flag), decided in the same statement, which lands only while the issuer's own key holds.
pub fn insert(who: &Principal, user: &Target, digest: &str, prefix: &str, now: &str) -> Stmt {
    let mut params = vec![digest.into(), prefix.into(), now.into()];
    let reach_sql = reach(who, user, &mut params);
    Stmt::new(
        format!(
            "INSERT INTO api_keys (digest, prefix, user_id, org_id, role, created_at) \
             SELECT ?, ?, id, org_id, CASE WHEN admin = 1 THEN 'admin' ELSE 'user' END, ? FROM users WHERE {reach_sql} \
             RETURNING id, user_id, org_id, role, (SELECT uuid FROM users WHERE users.id = api_keys.user_id) AS user_uuid"
        ),
        params,
    )
}

/// Revoke a key (idempotently); returns its digest so the cache entry can go too.
pub fn revoke(org: Option<i64>, key_id: i64, now: &str) -> Stmt {
    let mut params = vec![now.into(), key_id.into()];
    let scope = match org {
        Some(org) => {
            params.push(org.into());
            " AND org_id = ?"
        }
        None => "",
    };
    Stmt::new(format!("UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?{scope} RETURNING digest"), params)
}

/// Revoke every key of the user the write tagged `tag` wrote (deletion); returns their digests.
pub fn revoke_all_of(t: &Target, tag: &str, now: &str) -> Stmt {
    let mut params = vec![now.into()];
    let written_sql = written(t, tag, &mut params);
    Stmt::new(
        format!(
            "UPDATE api_keys SET revoked_at = ? WHERE revoked_at IS NULL \
             AND user_id = (SELECT id FROM users WHERE {written_sql}) RETURNING digest"
        ),
        params,
    )
}
