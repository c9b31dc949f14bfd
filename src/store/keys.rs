//! The `api_keys` table: digests only (the key itself is shown once and never stored). Issuing
//! and rotating are guarded in the statement that writes the key, so a revoked, expired or
//! demoted issuer mints nothing whatever the KV cache says.

use super::guard::{caller_scope, reach, written};
use super::{SqlValue, Stmt};
use crate::model::{Principal, Scopes, Target};

/// What a key listing returns: never the digest.
const COLUMNS: &str = "id, prefix, name, role, user_id, org_id, scopes, expires_at, created_at, created_by, \
revoked_at, last_used_at, rotated_from";

/// Resolve a key digest from D1 when the KV cache has no entry for it (live, unexpired keys of
/// live, active users only).
pub fn principal_by_digest(digest: &str, now: &str) -> Stmt {
    Stmt::new(
        "SELECT k.id AS key_id, k.user_id AS user_id, u.uuid AS user_uuid, k.org_id AS org_id, k.role AS role, \
         k.scopes AS scopes, k.expires_at AS expires_at \
         FROM api_keys k JOIN users u ON u.id = k.user_id \
         WHERE k.digest = ? AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > ?) \
         AND u.deactivated = 0 AND u.deleted_at IS NULL",
        vec![digest.into(), now.into()],
    )
}

/// Who issued a key, as the `created_by` column and key events name it.
pub fn issuer(who: &Principal) -> String {
    match who {
        Principal::Operator => "operator".into(),
        Principal::Key(k) => k.key_id.to_string(),
    }
}

/// A key to issue: its digest and readable prefix, and what it carries.
pub struct NewKeyRow<'a> {
    pub digest: &'a str,
    pub prefix: &'a str,
    pub name: Option<&'a str>,
    pub scopes: &'a Scopes,
    pub expires_at: Option<&'a str>,
}

impl NewKeyRow<'_> {
    /// Only an admin's key may be issued: its scopes name an API only admin keys may call.
    fn for_admins_only(&self) -> &'static str {
        if self.scopes.admin_only().is_empty() {
            ""
        } else {
            " AND admin = 1"
        }
    }
}

/// Issue a key for a user within the issuer's reach. Its role is the user's role now (the admin
/// flag), decided in the same statement, which lands only while the issuer's own key holds.
pub fn insert(who: &Principal, user: &Target, key: &NewKeyRow, now: &str) -> Stmt {
    let mut params = vec![
        key.digest.into(),
        key.prefix.into(),
        key.name.into(),
        key.scopes.to_json().into(),
        key.expires_at.into(),
        issuer(who).into(),
        now.into(),
    ];
    let reach_sql = reach(who, user, &mut params);
    Stmt::new(
        format!(
            "INSERT INTO api_keys (digest, prefix, name, scopes, expires_at, created_by, user_id, org_id, role, created_at) \
             SELECT ?, ?, ?, ?, ?, ?, id, org_id, CASE WHEN admin = 1 THEN 'admin' ELSE 'user' END, ? FROM users \
             WHERE {reach_sql}{admins} RETURNING {COLUMNS}, (SELECT uuid FROM users WHERE users.id = api_keys.user_id) AS user_uuid",
            admins = key.for_admins_only()
        ),
        params,
    )
}

/// The key a rotation replaces (`o`, bound to its id and now) with its user (`u`): live, and its
/// user not deleted. Rotating and explaining a refused rotation read the same key.
const LIVE_OLD_KEY: &str = "FROM api_keys o JOIN users u ON u.id = o.user_id \
WHERE o.id = ? AND o.revoked_at IS NULL AND (o.expires_at IS NULL OR o.expires_at > ?) AND u.deleted_at IS NULL";

/// Whether `o` has a successor already (a key is rotated once).
const ROTATED: &str = "EXISTS (SELECT 1 FROM api_keys n WHERE n.rotated_from = o.id)";

/// Replace a live key with a new one for the same user, name, scopes and expiry (its role is
/// the user's role now). Lands only while the old key is live and not rotated before (a key has
/// one successor), its user is within the caller's reach, the caller's own key holds, and (for a
/// key) the successor would reach no further than the caller: its scopes one of those the
/// caller covers, its expiry no later than the caller's.
pub fn rotate(who: &Principal, old_id: i64, key: &NewKeyRow, now: &str) -> Stmt {
    let mut params: Vec<SqlValue> =
        vec![key.digest.into(), key.prefix.into(), issuer(who).into(), now.into(), old_id.into(), now.into()];
    let mut scope = format!(" AND NOT {ROTATED}");
    if let Principal::Key(k) = who {
        if k.scopes.list().is_some() {
            scope.push_str(" AND o.scopes IN (SELECT value FROM json_each(?))");
            params.push(serde_json::to_string(&k.scopes.covered_spellings()).unwrap_or_default().into());
        }
        if let Some(until) = &k.expires_at {
            scope.push_str(" AND o.expires_at IS NOT NULL AND o.expires_at <= ?");
            params.push(until.as_str().into());
        }
    }
    scope.push_str(&caller_scope(who, "o.org_id", &mut params));
    Stmt::new(
        format!(
            "INSERT INTO api_keys (digest, prefix, name, scopes, expires_at, created_by, user_id, org_id, role, created_at, rotated_from) \
             SELECT ?, ?, o.name, o.scopes, o.expires_at, ?, u.id, u.org_id, CASE WHEN u.admin = 1 THEN 'admin' ELSE 'user' END, ?, o.id \
             {LIVE_OLD_KEY}{scope} \
             RETURNING {COLUMNS}, (SELECT uuid FROM users WHERE users.id = api_keys.user_id) AS user_uuid"
        ),
        params,
    )
}

/// A key within the caller's reach, as a rotation that landed nothing needs to explain itself:
/// what its successor would inherit, whether it has one already, and whether it is live.
pub fn rotation_state(who: &Principal, old_id: i64, now: &str) -> Stmt {
    let mut params: Vec<SqlValue> = vec![now.into(), old_id.into()];
    let scope = caller_scope(who, "o.org_id", &mut params);
    // Live or not: a key rotated with no overlap has expired by its rotation, and asking again
    // (a retry, a race) must still learn that it was rotated.
    Stmt::new(
        format!(
            "SELECT o.scopes, o.expires_at, {ROTATED} AS rotated, \
             (o.revoked_at IS NULL AND (o.expires_at IS NULL OR o.expires_at > ?)) AS live \
             FROM api_keys o JOIN users u ON u.id = o.user_id WHERE o.id = ? AND u.deleted_at IS NULL{scope}"
        ),
        params,
    )
}

/// After a rotation (the new key's digest names it): the old key stops at `until`, or earlier if
/// it was due to. Returns the old key's digest and new expiry, to refresh its cache entry.
pub fn expire_rotated(old_id: i64, new_digest: &str, until: &str) -> Stmt {
    Stmt::new(
        "UPDATE api_keys SET expires_at = CASE WHEN expires_at IS NOT NULL AND expires_at < ? THEN expires_at ELSE ? END \
         WHERE id = ? AND EXISTS (SELECT 1 FROM api_keys n WHERE n.digest = ? AND n.rotated_from = api_keys.id) \
         RETURNING id, digest, user_id, org_id, role, scopes, expires_at, \
         (SELECT uuid FROM users WHERE users.id = api_keys.user_id) AS user_uuid",
        vec![until.into(), until.into(), old_id.into(), new_digest.into()],
    )
}

/// Revoke a key (idempotently); returns its digest so the cache entry can go too, and when it was
/// revoked (now, the first time).
pub fn revoke(who: &Principal, key_id: i64, now: &str) -> Stmt {
    let mut params = vec![now.into(), key_id.into()];
    let scope = caller_scope(who, "org_id", &mut params);
    Stmt::new(
        format!("UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?{scope} RETURNING digest, revoked_at"),
        params,
    )
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

/// A demotion retires the user's admin keys for good, in the batch that demotes it, so promoting
/// it again does not revive them.
pub fn retire_admin_keys(t: &Target, tag: &str, now: &str) -> Stmt {
    let mut params = vec![now.into()];
    let written_sql = written(t, tag, &mut params);
    Stmt::new(
        format!(
            "UPDATE api_keys SET revoked_at = ? WHERE revoked_at IS NULL AND role = 'admin' \
             AND user_id = (SELECT id FROM users WHERE {written_sql} AND admin = 0) RETURNING digest"
        ),
        params,
    )
}

/// Which keys to list: one user's, or one org's.
#[derive(Debug, Clone, Copy)]
pub enum Owner {
    User(i64),
    Org(i64),
}

/// Keys of a user or an org (revoked ones included, marked), newest first, at most 500.
pub fn list(owner: Owner, org: Option<i64>) -> Stmt {
    let (column, id) = match owner {
        Owner::User(id) => ("user_id", id),
        Owner::Org(id) => ("org_id", id),
    };
    let mut params = vec![id.into()];
    let scope = match org {
        Some(o) => {
            params.push(o.into());
            " AND org_id = ?"
        }
        None => "",
    };
    Stmt::new(format!("SELECT {COLUMNS} FROM api_keys WHERE {column} = ?{scope} ORDER BY id DESC LIMIT 500"), params)
}

/// Note that a key was used, unless that was noted in the last minute (`since`): at most one
/// write a minute per key, run after the response is sent.
pub fn touch(key_id: i64, now: &str, since: &str) -> Stmt {
    Stmt::new(
        "UPDATE api_keys SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)",
        vec![now.into(), key_id.into(), since.into()],
    )
}
