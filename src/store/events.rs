//! The `user_events` table: the audit trail. One row per committed change, written in the same
//! batch as the change and only if it landed; field names, never values of secrets.

use super::guard::written;
use super::Stmt;
use crate::model::{Action, Field, Principal, Target};

/// The audit row for the write tagged `tag`; inserts nothing if that write didn't happen.
pub fn insert(t: &Target, tag: &str, who: &Principal, action: Action, dialect: &str, fields: &[Field], now: &str) -> Stmt {
    let actor = match who {
        Principal::Operator => None,
        Principal::Key(k) => Some(k.key_id),
    };
    let names: Vec<&str> = fields.iter().map(|f| f.name()).collect();
    let fields_json = serde_json::to_string(&names).unwrap_or_else(|_| "[]".into());
    let mut params = vec![actor.into(), action.as_str().into(), dialect.into(), fields_json.into(), now.into()];
    let written_sql = written(t, tag, &mut params);
    Stmt::new(
        format!(
            "INSERT INTO user_events (user_id, org_id, actor_key_id, action, dialect, fields, version, at) \
             SELECT id, org_id, ?, ?, ?, ?, version, ? FROM users WHERE {written_sql}"
        ),
        params,
    )
}

/// Whether a user ever existed within reach (tombstones included: their history stays readable).
pub fn user_known(user_id: i64, org: Option<i64>) -> Stmt {
    match org {
        None => Stmt::new("SELECT id FROM users WHERE id = ?", vec![user_id.into()]),
        Some(org) => Stmt::new("SELECT id FROM users WHERE id = ? AND org_id = ?", vec![user_id.into(), org.into()]),
    }
}

/// A user's audit trail, newest first (at most 100 events).
pub fn for_user(user_id: i64, org: Option<i64>) -> Stmt {
    let (scope, params) = match org {
        None => ("", vec![user_id.into()]),
        Some(org) => (" AND org_id = ?", vec![user_id.into(), org.into()]),
    };
    Stmt::new(
        format!(
            "SELECT id, user_id, actor_key_id, action, dialect, fields, version, at, detail FROM user_events \
             WHERE user_id = ?{scope} ORDER BY id DESC LIMIT 100"
        ),
        params,
    )
}

/// A key event in its owner's history (`api_key.created`, `.rotated`, `.revoked`, `.expiring`),
/// naming the key and the issuer in `detail`, never the key. `key_sql` picks the key row, and
/// the event lands only if that row is there.
fn key_event(who: &Principal, action: &str, key_sql: &str, key_params: Vec<super::SqlValue>, now: &str) -> Stmt {
    let actor = match who {
        Principal::Operator => None,
        Principal::Key(k) => Some(k.key_id),
    };
    let mut params = vec![actor.into(), action.into(), now.into(), super::keys::issuer(who).into()];
    params.extend(key_params);
    Stmt::new(
        format!(
            "INSERT INTO user_events (user_id, org_id, actor_key_id, action, dialect, fields, version, at, detail) \
             SELECT k.user_id, k.org_id, ?, ?, 'admin', '[]', (SELECT version FROM users WHERE users.id = k.user_id), ?, \
             json_object('key_id', k.id, 'issuer', ?, 'expires_at', k.expires_at, 'rotated_from', k.rotated_from) \
             FROM api_keys k WHERE {key_sql}"
        ),
        params,
    )
}

/// `api_key.created` (or `.rotated`) for the key with this digest.
pub fn key_created(who: &Principal, digest: &str, rotated: bool, now: &str) -> Stmt {
    let action = if rotated { "api_key.rotated" } else { "api_key.created" };
    key_event(who, action, "k.digest = ?", vec![digest.into()], now)
}

/// `api_key.expiring`: a rotation set the old key to stop at its (new) expiry.
pub fn key_expiring(who: &Principal, old_id: i64, new_digest: &str, now: &str) -> Stmt {
    let sql = "k.id = ? AND EXISTS (SELECT 1 FROM api_keys n WHERE n.digest = ? AND n.rotated_from = k.id)";
    key_event(who, "api_key.expiring", sql, vec![old_id.into(), new_digest.into()], now)
}

/// `api_key.revoked`, only when this request is the one that revoked it.
pub fn key_revoked(who: &Principal, key_id: i64, now: &str) -> Stmt {
    key_event(who, "api_key.revoked", "k.id = ? AND k.revoked_at = ?", vec![key_id.into(), now.into()], now)
}
