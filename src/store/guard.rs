//! Who may touch which row, said in SQL. Every statement a key makes carries the caller guard,
//! so D1 — not the KV cache — decides whether the key may still act (docs/ARCHITECTURE.md,
//! "Consistency"). The operator token is checked at the edge and needs no guard.

use super::{RowExt, SqlValue, Stmt};
use crate::http::Precondition;
use crate::model::{KeyPrincipal, Principal, Target};

/// True while the key exists as the principal claims it (same user, same role), is not revoked,
/// its user is active in the claimed org, and (for an admin key) that user is still an admin.
/// The scopes are bound as the KV entry claims them and must be exactly what D1 holds, so a
/// hand-edited cache entry cannot widen a key; the expiry is checked at the request's instant.
const GUARD: &str = "EXISTS (SELECT 1 FROM api_keys k JOIN users c ON c.id = k.user_id \
WHERE k.id = ? AND k.user_id = ? AND k.role = ? AND k.scopes IS ? AND k.revoked_at IS NULL \
AND (k.expires_at IS NULL OR k.expires_at > ?) AND c.deactivated = 0 \
AND c.deleted_at IS NULL AND c.org_id = ? AND (k.role = 'user' OR c.admin = 1))";

fn guard(who: &KeyPrincipal, params: &mut Vec<SqlValue>) -> &'static str {
    params.extend([
        who.key_id.into(),
        who.user_id.into(),
        who.role.as_str().into(),
        who.scopes.to_json().into(),
        who.checked_at.as_str().into(),
        who.org_id.into(),
    ]);
    GUARD
}

/// `id = ?` or `uuid = ?`, live users only (a deleted user is a tombstone nobody can name).
pub(super) fn target(target: &Target, params: &mut Vec<SqlValue>) -> &'static str {
    match target {
        Target::Id(id) => {
            params.push(SqlValue::Int(*id));
            "id = ? AND deleted_at IS NULL"
        }
        Target::Uuid(u) => {
            params.push(SqlValue::Text(u.clone()));
            "uuid = ? AND deleted_at IS NULL"
        }
    }
}

/// The live target, within the caller's reach: its own org and a valid key for a key holder;
/// anywhere for the operator.
pub(super) fn reach(who: &Principal, t: &Target, params: &mut Vec<SqlValue>) -> String {
    let target_sql = target(t, params);
    match who {
        Principal::Operator => target_sql.to_string(),
        Principal::Key(k) => {
            params.push(k.org_id.into());
            let guard_sql = guard(k, params);
            format!("{target_sql} AND org_id = ? AND {guard_sql}")
        }
    }
}

/// ` AND version IN (?, …)` for an `If-Match`.
pub(super) fn precondition(pre: Option<&Precondition>, params: &mut Vec<SqlValue>) -> String {
    match pre {
        None | Some(Precondition::Any) => String::new(),
        Some(Precondition::Versions(vs)) => {
            params.extend(vs.iter().map(|v| SqlValue::Int(*v)));
            format!(" AND version IN ({})", super::placeholders(vs.len()))
        }
    }
}

/// What D1 says of a key right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyState {
    Valid,
    /// An admin key whose user is no longer an admin.
    Demoted,
    /// Revoked, unknown, not as the cache claims, or its user deactivated or deleted.
    Refused,
}

/// One row: the key's state and the target's version in the key's org (NULL when not there).
/// Asked only after a guarded statement matched nothing, to tell the client why.
pub fn probe(who: &KeyPrincipal, t: &Target) -> Stmt {
    let mut params = vec![
        who.user_id.into(),
        who.role.as_str().into(),
        who.org_id.into(),
        who.user_id.into(),
        who.role.as_str().into(),
        who.scopes.to_json().into(),
        who.checked_at.as_str().into(),
        who.key_id.into(),
    ];
    params.push(who.org_id.into());
    let target_sql = target(t, &mut params);
    params.push(who.org_id.into());
    Stmt::new(
        format!(
            // A demoted admin's key says so (403) even once demotion has retired it for good.
            "SELECT (SELECT CASE WHEN k.user_id = ? AND k.role = ? AND c.org_id = ? AND k.role = 'admin' \
             AND c.admin = 0 AND c.deactivated = 0 AND c.deleted_at IS NULL THEN 'demoted' \
             WHEN k.revoked_at IS NOT NULL OR c.deactivated <> 0 OR c.deleted_at IS NOT NULL \
             OR k.user_id <> ? OR k.role <> ? OR k.scopes IS NOT ? \
             OR (k.expires_at IS NOT NULL AND k.expires_at <= ?) THEN 'refused' ELSE 'valid' END \
             FROM api_keys k JOIN users c ON c.id = k.user_id WHERE k.id = ? AND c.org_id = ?) AS key_state, \
             (SELECT version FROM users WHERE {target_sql} AND org_id = ?) AS version"
        ),
        params,
    )
}

/// The answer to `probe`: the key's state, and the target's version if it is there.
pub fn read_probe(rows: Vec<super::Row>) -> (KeyState, Option<i64>) {
    let row = rows.into_iter().next().unwrap_or_default();
    let state = match row.text("key_state").as_deref() {
        Some("valid") => KeyState::Valid,
        Some("demoted") => KeyState::Demoted,
        _ => KeyState::Refused,
    };
    (state, row.int("version"))
}

/// Just the key's state (operator-API calls made with an admin key).
pub fn key_state(who: &KeyPrincipal) -> Stmt {
    probe(who, &Target::Id(-1))
}

/// For a statement on rows that are not users (keys, webhooks): ` AND {column} = ? AND <guard>`
/// for a key — its own org's rows only, and only while it holds — and nothing for the operator.
pub(super) fn caller_scope(who: &Principal, column: &str, params: &mut Vec<SqlValue>) -> String {
    match who {
        Principal::Operator => String::new(),
        Principal::Key(k) => {
            params.push(k.org_id.into());
            format!(" AND {column} = ? AND {}", guard(k, params))
        }
    }
}

/// The caller guard alone (for statements whose target is not a user row: inserts, listings,
/// key issue). Binds four values.
pub(super) fn key_holds(who: &KeyPrincipal, params: &mut Vec<SqlValue>) -> &'static str {
    guard(who, params)
}

/// The row the write tagged `tag` just wrote (deleted or not): how the statements after a
/// write in the same batch land only if it did.
pub(super) fn written(t: &Target, tag: &str, params: &mut Vec<SqlValue>) -> &'static str {
    params.push(match t {
        Target::Id(id) => SqlValue::Int(*id),
        Target::Uuid(u) => SqlValue::Text(u.clone()),
    });
    params.push(tag.into());
    match t {
        Target::Id(_) => "id = ? AND last_write = ?",
        Target::Uuid(_) => "uuid = ? AND last_write = ?",
    }
}
