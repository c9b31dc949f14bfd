//! The `verification_codes` table: one-time codes, stored only as SHA-256 digests.

use super::guard::{reach, written};
use super::Stmt;
use crate::model::{CodeKind, Principal, Target};

/// The newest unused code of a kind for a user the caller may reach.
pub fn active(who: &Principal, t: &Target, kind: CodeKind) -> Stmt {
    let mut params = vec![kind.as_str().into()];
    let reach_sql = reach(who, t, &mut params);
    Stmt::new(
        format!(
            "SELECT id, user_id, digest, value, value_key, expires_at FROM verification_codes WHERE kind = ? AND used_at IS NULL \
             AND user_id = (SELECT id FROM users WHERE {reach_sql}) ORDER BY id DESC LIMIT 1"
        ),
        params,
    )
}

/// Use up a code, if the write tagged `tag` happened (single use, atomically with it).
pub fn consume(code_id: i64, t: &Target, tag: &str, now: &str) -> Stmt {
    let mut params = vec![now.into(), code_id.into()];
    let written_sql = written(t, tag, &mut params);
    Stmt::new(
        format!(
            "UPDATE verification_codes SET used_at = ? WHERE id = ? AND used_at IS NULL \
             AND EXISTS (SELECT 1 FROM users WHERE {written_sql})"
        ),
        params,
    )
}

/// Retire a user's unused codes of a kind (or of every kind), if the write tagged `tag` happened.
pub fn retire(t: &Target, tag: &str, kind: Option<CodeKind>, now: &str) -> Stmt {
    let mut params = vec![now.into()];
    let kind_sql = match kind {
        Some(k) => {
            params.push(k.as_str().into());
            "kind = ? AND "
        }
        None => "",
    };
    let written_sql = written(t, tag, &mut params);
    Stmt::new(
        format!(
            "UPDATE verification_codes SET used_at = ? WHERE {kind_sql}used_at IS NULL \
             AND user_id = (SELECT id FROM users WHERE {written_sql})"
        ),
        params,
    )
}

/// Retire every code of the user the write tagged `tag` deleted, and forget the addresses and
/// numbers they were sent to, with the rest of its personal data.
pub fn erase(t: &Target, tag: &str, now: &str) -> Stmt {
    let mut params = vec![now.into()];
    let written_sql = written(t, tag, &mut params);
    Stmt::new(
        format!(
            "UPDATE verification_codes SET used_at = COALESCE(used_at, ?), value = NULL, value_key = NULL \
             WHERE user_id = (SELECT id FROM users WHERE {written_sql})"
        ),
        params,
    )
}

/// Forget the contacts of the codes after `after` through `through`, all made before the feed's
/// retention (`retention::prune`), so long expired: a code lives an hour.
pub fn forget_contacts(after: i64, through: i64) -> Stmt {
    Stmt::new(
        "UPDATE verification_codes SET value = NULL, value_key = NULL WHERE id > ? AND id <= ? AND value IS NOT NULL",
        vec![after.into(), through.into()],
    )
}

/// A new code to store: its digest, the contact it verifies (as sent, and its comparison key),
/// when it expires.
pub struct NewCodeRow<'a> {
    pub kind: CodeKind,
    pub digest: &'a str,
    pub value: Option<&'a str>,
    pub value_key: Option<&'a str>,
    pub expires_at: &'a str,
}

/// A new code's parameters, in the order both inserts name its columns.
fn code_params(code: &NewCodeRow, now: &str) -> Vec<super::SqlValue> {
    vec![
        code.kind.as_str().into(),
        code.digest.into(),
        code.value.into(),
        code.value_key.into(),
        code.expires_at.into(),
        now.into(),
    ]
}

/// Store a new code's digest, if the write tagged `tag` happened. Returns its id.
pub fn insert(t: &Target, tag: &str, code: &NewCodeRow, now: &str) -> Stmt {
    let mut params = code_params(code, now);
    let written_sql = written(t, tag, &mut params);
    Stmt::new(
        format!(
            "INSERT INTO verification_codes (user_id, kind, digest, value, value_key, expires_at, created_at) \
             SELECT id, ?, ?, ?, ?, ?, ? FROM users WHERE {written_sql} RETURNING id"
        ),
        params,
    )
}

/// A code for a contact, unless the user of the write tagged `tag` already has a live one for
/// that same contact, under any spelling (compared on its key): sending another would only let a
/// caller flood the recipient. Returns its id.
pub fn insert_unless_live(t: &Target, tag: &str, code: &NewCodeRow, now: &str) -> Stmt {
    let mut params = code_params(code, now);
    let written_sql = written(t, tag, &mut params);
    params.extend([code.kind.as_str().into(), code.value_key.into(), now.into()]);
    Stmt::new(
        format!(
            "INSERT INTO verification_codes (user_id, kind, digest, value, value_key, expires_at, created_at) \
             SELECT u.id, ?, ?, ?, ?, ?, ? FROM users u WHERE {written_sql} AND NOT EXISTS (SELECT 1 FROM verification_codes c \
             WHERE c.user_id = u.id AND c.kind = ? AND c.value_key = ? AND c.used_at IS NULL AND c.expires_at > ?) RETURNING id"
        ),
        params,
    )
}

/// Retire a user's unused codes of a kind for any other contact, if the write tagged `tag`
/// happened (a live code for the same contact, by its key, stays: see `insert_unless_live`).
pub fn retire_other(t: &Target, tag: &str, kind: CodeKind, value_key: &str, now: &str) -> Stmt {
    let mut params = vec![now.into(), kind.as_str().into(), value_key.into()];
    let written_sql = written(t, tag, &mut params);
    Stmt::new(
        format!(
            "UPDATE verification_codes SET used_at = ? WHERE kind = ? AND value_key IS NOT ? AND used_at IS NULL \
             AND user_id = (SELECT id FROM users WHERE {written_sql})"
        ),
        params,
    )
}
