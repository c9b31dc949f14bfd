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
            "SELECT id, user_id, actor_key_id, action, dialect, fields, version, at FROM user_events \
             WHERE user_id = ?{scope} ORDER BY id DESC LIMIT 100"
        ),
        params,
    )
}
