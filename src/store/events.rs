//! The `user_events` table: the audit trail. One row per committed change, written in the same
//! batch as the change and only if it landed; field names, never values of secrets.

use super::guard::written;
use super::{SqlValue, Stmt};
use crate::model::{Field, Principal, Target};

/// One event: its id (the webhook-id deliveries carry), what the audit trail calls it, its feed
/// type (`None`: audit only), which API made it, the changed fields' names, and any detail (JSON;
/// never a secret).
#[derive(Debug, Clone)]
pub struct Event<'a> {
    pub id: &'a str,
    pub action: &'a str,
    pub kind: Option<&'a str>,
    pub dialect: &'a str,
    pub fields: &'a [Field],
    pub detail: Option<String>,
}

fn actor(who: &Principal) -> (Option<i64>, Option<i64>) {
    match who {
        Principal::Operator => (None, None),
        Principal::Key(k) => (Some(k.key_id), Some(k.user_id)),
    }
}

/// The columns every event row is written with, and the per-org next `seq` for `org_expr`.
const EVENT_COLUMNS: &str =
    "user_id, org_id, actor_key_id, actor_user_id, action, type, dialect, fields, detail, event_id, at, version, seq, data";

fn next_seq(org_expr: &str) -> String {
    format!("(SELECT COALESCE(MAX(e.seq), 0) + 1 FROM user_events e WHERE e.org_id = {org_expr})")
}

/// The event's parameters, in `EVENT_COLUMNS`' order; without `fields` when the row names them.
fn event_params(who: &Principal, e: &Event, now: &str, with_fields: bool) -> Vec<super::SqlValue> {
    let (key, user) = actor(who);
    let mut params = vec![key.into(), user.into(), e.action.into(), e.kind.into(), e.dialect.into()];
    if with_fields {
        let names: Vec<&str> = e.fields.iter().map(|f| f.name()).collect();
        params.push(serde_json::to_string(&names).unwrap_or_else(|_| "[]".into()).into());
    }
    params.extend([e.detail.clone().into(), e.id.into(), now.into()]);
    params
}

/// The event row for the write tagged `tag`, carrying the user as that write left it; inserts
/// nothing if the write didn't happen.
pub fn insert(t: &Target, tag: &str, who: &Principal, e: &Event, now: &str) -> Stmt {
    insert_where(t, tag, who, e, now, false)
}

/// The event of a user update (`users::update`) tagged `tag`: it names the fields the update
/// changed (`last_changes`, not `e.fields`), and is not written when it changed none.
pub fn insert_for_update(t: &Target, tag: &str, who: &Principal, e: &Event, now: &str) -> Stmt {
    insert_where(t, tag, who, e, now, true)
}

fn insert_where(t: &Target, tag: &str, who: &Principal, e: &Event, now: &str, changed_only: bool) -> Stmt {
    let mut params = event_params(who, e, now, !changed_only);
    let written_sql = written(t, tag, &mut params);
    let seq = next_seq("users.org_id");
    let snapshot = super::users::SNAPSHOT;
    // An update's event also keeps what its changed fields held before (`users::update`).
    let (fields, changed, previous) =
        if changed_only { ("last_changes", " AND last_changes <> '[]'", "last_previous") } else { ("?", "", "NULL") };
    Stmt::new(
        format!(
            "INSERT INTO user_events ({EVENT_COLUMNS}, previous) SELECT id, org_id, ?, ?, ?, ?, ?, {fields}, ?, ?, ?, version, {seq}, \
             {snapshot}, {previous} FROM users WHERE {written_sql}{changed}"
        ),
        params,
    )
}

/// The event of a code the write tagged `tag` made, only if that code was stored (an address
/// with a live code gets no second one).
pub fn insert_for_code(t: &Target, tag: &str, who: &Principal, e: &Event, digest: &str, now: &str) -> Stmt {
    let mut stmt = insert(t, tag, who, e, now);
    stmt.sql.push_str(" AND EXISTS (SELECT 1 FROM verification_codes WHERE digest = ? AND used_at IS NULL)");
    stmt.params.push(digest.into());
    stmt
}

/// What a group event carries: the group as the write left it (as it was, for a deletion), its
/// members as user UUIDs. `g` is the `groups` row.
const GROUP_SNAPSHOT: &str = "json_object('uuid', g.uuid, 'display_name', g.display_name, 'external_id', g.external_id, \
'version', g.version, 'created_at', g.created_at, 'updated_at', g.updated_at, 'members', (SELECT json_group_array(u.uuid) \
FROM group_members m JOIN users u ON u.id = m.user_id AND u.deleted_at IS NULL WHERE m.group_id = g.id))";

/// A group's event (`group.created` / `.updated` / `.deleted`): lands only for the group row that
/// `group_sql` (over `groups g`) picks, so a write that didn't happen has no event. For a
/// deletion it runs before the delete, under the same conditions.
pub fn insert_for_group(group_sql: &str, group_params: Vec<super::SqlValue>, who: &Principal, e: &Event, now: &str) -> Stmt {
    group_events(group_sql, group_params, who, e, now, false)
}

/// `insert_for_group` for every group row `group_sql` picks when `many`: ids and `seq`s as
/// `key_events` gives them (each id `e.id` with its last 12 hex digits the group's id).
pub(super) fn group_events(
    group_sql: &str,
    group_params: Vec<super::SqlValue>,
    who: &Principal,
    e: &Event,
    now: &str,
    many: bool,
) -> Stmt {
    let mut params = event_params(who, e, now, true);
    params.extend(group_params);
    let columns = EVENT_COLUMNS.replacen("user_id", "group_uuid", 1);
    let (id, seq) = if many {
        ("substr(?, 1, 24) || printf('%012x', g.id)", format!("{} + ROW_NUMBER() OVER (ORDER BY g.id) - 1", next_seq("g.org_id")))
    } else {
        ("?", next_seq("g.org_id"))
    };
    Stmt::new(
        format!(
            "INSERT INTO user_events ({columns}) SELECT g.uuid, g.org_id, ?, ?, ?, ?, ?, ?, ?, {id}, ?, g.version, {seq}, \
             {GROUP_SNAPSHOT} FROM groups g WHERE {group_sql}"
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
fn key_event(who: &Principal, e: &Event, key_sql: &str, key_params: Vec<super::SqlValue>, now: &str) -> Stmt {
    key_events(who, e, key_sql, key_params, now, false)
}

/// `key_event` for every key row `key_sql` picks when `many`: each event's id is `e.id` with its
/// last 12 hex digits replaced by the key's id (ids stay unique, version and variant bits kept),
/// and the events take consecutive `seq`s in key order.
fn key_events(who: &Principal, e: &Event, key_sql: &str, key_params: Vec<super::SqlValue>, now: &str, many: bool) -> Stmt {
    let mut params = event_params(who, e, now, true);
    params.truncate(6); // actor, action, type, dialect, fields; detail is built from the key row
    params.extend([super::keys::issuer(who).into(), e.id.into(), now.into()]);
    params.extend(key_params);
    let (id, seq) = if many {
        ("substr(?, 1, 24) || printf('%012x', k.id)", format!("{} + ROW_NUMBER() OVER (ORDER BY k.id) - 1", next_seq("k.org_id")))
    } else {
        ("?", next_seq("k.org_id"))
    };
    let snapshot = super::users::SNAPSHOT;
    Stmt::new(
        format!(
            "INSERT INTO user_events ({EVENT_COLUMNS}) SELECT k.user_id, k.org_id, ?, ?, ?, ?, ?, ?, \
             json_object('key_id', k.id, 'issuer', ?, 'expires_at', k.expires_at, 'rotated_from', k.rotated_from), {id}, ?, \
             (SELECT version FROM users WHERE users.id = k.user_id), {seq}, \
             (SELECT {snapshot} FROM users WHERE users.id = k.user_id) FROM api_keys k WHERE {key_sql}"
        ),
        params,
    )
}

fn key_meta<'a>(id: &'a str, action: &'a str, kind: Option<&'a str>) -> Event<'a> {
    Event { id, action, kind, dialect: "admin", fields: &[], detail: None }
}

/// `api_key.created` (or `.rotated`) for the key with this digest.
pub fn key_created(who: &Principal, event_id: &str, digest: &str, rotated: bool, now: &str) -> Stmt {
    let action = if rotated { "api_key.rotated" } else { "api_key.created" };
    key_event(who, &key_meta(event_id, action, Some("api_key.created")), "k.digest = ?", vec![digest.into()], now)
}

/// `api_key.expiring`: a rotation set the old key to stop at its (new) expiry (audit only).
pub fn key_expiring(who: &Principal, event_id: &str, old_id: i64, new_digest: &str, now: &str) -> Stmt {
    let sql = "k.id = ? AND EXISTS (SELECT 1 FROM api_keys n WHERE n.digest = ? AND n.rotated_from = k.id)";
    key_event(who, &key_meta(event_id, "api_key.expiring", None), sql, vec![old_id.into(), new_digest.into()], now)
}

/// `api_key.revoked`, only when this request is the one that revoked it.
pub fn key_revoked(who: &Principal, event_id: &str, key_id: i64, now: &str) -> Stmt {
    let meta = key_meta(event_id, "api_key.revoked", Some("api_key.revoked"));
    key_event(who, &meta, "k.id = ? AND k.revoked_at = ?", vec![key_id.into(), now.into()], now)
}

/// `api_key.revoked` for each key of the user the write tagged `tag` left, that this write
/// revoked (a demotion retiring the admin keys, a deletion every key): a revocation is an event
/// however it happens, so a consumer mirroring keys from the feed sees each one go.
pub fn keys_revoked_by_write(t: &Target, tag: &str, who: &Principal, event_id: &str, now: &str) -> Stmt {
    let mut key_params = vec![now.into()];
    let written_sql = written(t, tag, &mut key_params);
    let sql = format!("k.revoked_at = ? AND k.user_id = (SELECT id FROM users WHERE {written_sql})");
    key_events(who, &key_meta(event_id, "api_key.revoked", Some("api_key.revoked")), &sql, key_params, now, true)
}

/// About the most a page of the feed carries of events' snapshots. A user's snapshot holds its
/// SCIM document (up to 64 KiB), so 200 of them could be tens of megabytes for one response, and
/// the Worker holds a response whole, within its 128 MB.
pub const FEED_PAGE_BYTES: i64 = 4_000_000;

/// The feed of one org: its events after `after` in `seq` order (at most `limit`), stopping
/// before the event that would take the page's snapshots past `FEED_PAGE_BYTES` (never before
/// the first: a client always moves on).
pub fn feed(org_id: i64, after: i64, limit: u32) -> Stmt {
    Stmt::new(
        format!(
            "SELECT * FROM (SELECT *, SUM(bytes) OVER (ORDER BY seq ROWS UNBOUNDED PRECEDING) - bytes AS bytes_before \
             FROM (SELECT {FEED_COLUMNS}, COALESCE(length(CAST(data AS BLOB)), 0) + COALESCE(length(CAST(previous AS BLOB)), 0) \
             AS bytes FROM user_events \
             WHERE org_id = ? AND seq > ? AND type IS NOT NULL ORDER BY seq LIMIT ?)) \
             WHERE bytes_before = 0 OR bytes_before + bytes <= ? ORDER BY seq"
        ),
        vec![org_id.into(), after.into(), i64::from(limit).into(), FEED_PAGE_BYTES.into()],
    )
}

/// What an event is rendered from.
pub const FEED_COLUMNS: &str =
    "id, event_id, seq, type, at, org_id, (SELECT uuid FROM orgs WHERE orgs.id = user_events.org_id) AS org_uuid, \
actor_key_id, actor_user_id, dialect, fields, detail, data, previous";

/// Erase what the events after `after` through `through` carried of users, all written before
/// `cutoff` (`retention::prune`): the snapshots (`data`, `previous`) and a code event's recipient
/// (`detail.to`), and the old values a user's last write kept (`users.last_previous`) when that
/// write is as old. The audit fields (who, when, which fields, which API) stay.
pub fn erase_before(after: i64, through: i64, cutoff: &str) -> Vec<Stmt> {
    let range = || -> Vec<SqlValue> { vec![after.into(), through.into()] };
    let mut last_previous = range();
    last_previous.push(cutoff.into());
    vec![
        Stmt::new(
            "UPDATE users SET last_previous = NULL WHERE id IN (SELECT user_id FROM user_events WHERE id > ? AND id <= ? \
             AND user_id IS NOT NULL) AND updated_at < ? AND last_previous IS NOT NULL",
            last_previous,
        ),
        Stmt::new(
            "UPDATE user_events SET data = NULL, previous = NULL, detail = json_remove(detail, '$.to') \
             WHERE id > ? AND id <= ? AND (data IS NOT NULL OR previous IS NOT NULL OR json_type(detail, '$.to') IS NOT NULL)",
            range(),
        ),
    ]
}
