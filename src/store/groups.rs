//! The `groups` and `group_members` tables (SCIM Groups). A group belongs to one org and its
//! members are live users of that org; every statement carries the caller guard, and the
//! membership statements of a write key on the write's tag, so they land only if it did.

use super::events::{self, Event};
use super::filter::Fragment;
use super::guard::{key_holds, precondition, written};
use super::{SqlValue, Stmt};
use crate::http::Precondition;
use crate::model::{KeyPrincipal, Principal, Target};
use crate::values::caseless_key;

/// A group's members as rows of `value`, `display` and `type` (live users only), for a filter on
/// them; `g` is the group. `type` is `User`, as a read shows it, so a filter on it matches. Rows,
/// not one JSON value: D1 caps a value at 2,000,000 bytes, which a large group's would pass.
pub const MEMBER_ROWS: &str = "SELECT u.uuid AS value, COALESCE(gm.display, u.name, u.username, u.email) AS display, \
'User' AS type FROM group_members gm JOIN users u ON u.id = gm.user_id AND u.deleted_at IS NULL WHERE gm.group_id = g.id";

/// What a group read returns (its members come from `members` or `members_of_page`).
pub fn columns() -> &'static str {
    "g.uuid, g.display_name, g.external_id, g.version, g.created_at, g.updated_at"
}

/// The members of the groups `groups` yields (a subquery of their `id` and `uuid`), a row each:
/// `group_uuid`, `value` (the user's UUID), `display` (the client's, else the user's name) and
/// `own` (the display is the client's); live users only, in group then user id order.
fn member_rows(groups: &str) -> String {
    format!(
        "SELECT g.uuid AS group_uuid, u.uuid AS value, COALESCE(gm.display, u.name, u.username, u.email) AS display, \
         gm.display IS NOT NULL AS own FROM ({groups}) AS g JOIN group_members gm ON gm.group_id = g.id \
         JOIN users u ON u.id = gm.user_id AND u.deleted_at IS NULL ORDER BY g.id, gm.user_id"
    )
}

/// The members of one group of the caller's org (read in the batch that reads the group, whose
/// statement carries the caller guard: without the group, these rows are not used).
pub fn members(who: &KeyPrincipal, uuid: &str) -> Stmt {
    Stmt::new(member_rows("SELECT id, uuid FROM groups WHERE uuid = ? AND org_id = ?"), vec![uuid.into(), who.org_id.into()])
}

/// The members of the groups on a page of `list`'s (same filter, same page), at most `max_rows`.
pub fn members_of_page(who: &KeyPrincipal, filter: Option<&Fragment>, (offset, limit): (u32, u32), max_rows: usize) -> Stmt {
    let (sql, mut params) = groups_where(who, filter);
    params.extend([i64::from(limit).into(), i64::from(offset).into(), (max_rows as i64).into()]);
    let groups = format!("SELECT g.id, g.uuid FROM groups g WHERE {sql} ORDER BY g.id LIMIT ? OFFSET ?");
    Stmt::new(format!("{} LIMIT ?", member_rows(&groups)), params)
}

/// A group's name and external id. (Members travel as one JSON array parameter, however many.)
#[derive(Debug, Clone, PartialEq)]
pub struct GroupRow<'a> {
    pub display_name: &'a str,
    pub external_id: Option<&'a str>,
}

/// One group of the caller's org.
pub fn select(who: &KeyPrincipal, uuid: &str) -> Stmt {
    let mut params: Vec<SqlValue> = vec![uuid.into(), who.org_id.into()];
    let guard = key_holds(who, &mut params);
    Stmt::new(format!("SELECT {} FROM groups g WHERE g.uuid = ? AND g.org_id = ? AND {guard}", columns()), params)
}

/// A page of the org's groups matching `filter`, in id order, with the number of matches.
pub fn list(who: &KeyPrincipal, filter: Option<&Fragment>, offset: u32, limit: u32) -> Stmt {
    let (sql, mut params) = groups_where(who, filter);
    params.extend([i64::from(limit).into(), i64::from(offset).into()]);
    Stmt::new(format!("SELECT {} FROM groups g WHERE {sql} ORDER BY g.id LIMIT ? OFFSET ?", columns()), params)
}

/// How many of the org's groups match `filter` (the listing's `totalResults`).
pub fn count(who: &KeyPrincipal, filter: Option<&Fragment>) -> Stmt {
    let (sql, params) = groups_where(who, filter);
    Stmt::new(format!("SELECT COUNT(*) AS n FROM groups g WHERE {sql}"), params)
}

/// The key's org's groups matching `filter`. No caller guard: the listing is read in one batch
/// after the statement that re-checks the key (`pipeline::guard::key_checked_reads`).
fn groups_where(who: &KeyPrincipal, filter: Option<&Fragment>) -> (String, Vec<SqlValue>) {
    let mut params: Vec<SqlValue> = vec![who.org_id.into()];
    let mut sql = "g.org_id = ?".to_string();
    if let Some(f) = filter {
        sql.push_str(&format!(" AND {}", f.sql));
        params.extend(f.params.iter().cloned());
    }
    (sql, params)
}

/// A new group; lands only while the caller's key holds.
pub fn insert(who: &KeyPrincipal, uuid: &str, row: &GroupRow, now: &str, tag: &str) -> Stmt {
    let mut params: Vec<SqlValue> = vec![
        uuid.into(),
        who.org_id.into(),
        row.display_name.into(),
        caseless_key(row.display_name).into(),
        row.external_id.into(),
        now.into(),
        now.into(),
        tag.into(),
    ];
    let guard = key_holds(who, &mut params);
    Stmt::new(
        format!(
            "INSERT INTO groups (uuid, org_id, display_name, name_key, external_id, created_at, updated_at, last_write) \
             SELECT ?, ?, ?, ?, ?, ?, ?, ? WHERE {guard} RETURNING uuid"
        ),
        params,
    )
}

/// Replace a group's name, external id and (with the statements after it) members, at the
/// expected version. A replacement that changes none of them (the same name and id, the same
/// live members of the org with the same `display`) is a no-op: the version and `updated_at` stay,
/// and the row is not marked with `tag`, so neither the membership statements nor the event that
/// key on it land.
pub fn update(
    who: &KeyPrincipal,
    uuid: &str,
    pre: Option<&Precondition>,
    (row, members_json): (&GroupRow, &str),
    now: &str,
    tag: &str,
) -> Stmt {
    let mut params: Vec<SqlValue> = vec![
        row.display_name.into(),
        row.external_id.into(),
        members_json.into(),
        now.into(),
        tag.into(),
        uuid.into(),
        who.org_id.into(),
        caseless_key(row.display_name).into(),
    ];
    let guard = key_holds(who, &mut params);
    let pre_sql = precondition(pre, &mut params);
    // Over the row as it was: ?1 the name, ?2 the external id, ?3 the members asked for. The name
    // compares BINARY: the column is NOCASE (and unique per org by its key, ?8), yet a new case is a change.
    let asked = "SELECT u.id, json_extract(j.value, '$.display') FROM json_each(?3) AS j CROSS JOIN users u \
                 ON u.uuid = json_extract(j.value, '$.value') AND u.org_id = groups.org_id AND u.deleted_at IS NULL";
    let held = "SELECT m.user_id, m.display FROM group_members m WHERE m.group_id = groups.id";
    let changed = format!(
        "(display_name IS NOT ?1 COLLATE BINARY OR external_id IS NOT ?2 OR EXISTS ({asked} EXCEPT {held}) OR EXISTS ({held} EXCEPT {asked}))"
    );
    Stmt::new(
        format!(
            "UPDATE groups SET display_name = ?1, name_key = {}, external_id = ?2, version = version + {changed}, \
             updated_at = CASE WHEN {changed} THEN ?4 ELSE updated_at END, \
             last_write = CASE WHEN {changed} THEN ?5 ELSE 'unchanged' END \
             WHERE uuid = ?6 AND org_id = ?7 AND {guard}{pre_sql} RETURNING uuid",
            legacy_keeps()
        ),
        params,
    )
}

/// A group's new `name_key` in `update` (?1 the name, ?8 its key): a group written before the keys
/// keeps its state while its name stays (none yet, for the sweep to give; or a twin's mark, since
/// its key is another group's), so a write that leaves the name alone is never refused for it.
fn legacy_keeps() -> String {
    format!(
        "CASE WHEN (name_key IS NULL OR name_key GLOB '{}*') AND display_name = ?1 COLLATE BINARY THEN name_key ELSE ?8 END",
        super::filter::LEGACY
    )
}

/// Groups written before names had keys, still without one (at most `limit`): `id`, `display_name`.
pub fn unkeyed(limit: u32) -> Stmt {
    Stmt::new("SELECT id, display_name FROM groups WHERE name_key IS NULL ORDER BY id LIMIT ?", vec![i64::from(limit).into()])
}

/// Give groups written before names had keys their key (`(id, key)`): each that another group of
/// its org already holds is that group's twin (the old rule kept them apart), marked as such.
pub fn key_legacy_names(keys: &[(i64, String)]) -> Vec<Stmt> {
    let mut batch: Vec<Stmt> = keys
        .iter()
        .map(|(id, key)| {
            Stmt::new(
                "UPDATE OR IGNORE groups SET name_key = ? WHERE id = ? AND name_key IS NULL",
                vec![key.clone().into(), (*id).into()],
            )
        })
        .collect();
    let ids: Vec<SqlValue> = keys.iter().map(|(id, _)| (*id).into()).collect();
    let marks = vec!["?"; ids.len()].join(", ");
    batch.push(Stmt::new(
        format!("UPDATE groups SET name_key = '{}' || id WHERE id IN ({marks}) AND name_key IS NULL", super::filter::LEGACY),
        ids,
    ));
    batch
}

/// Drop every member of the group the write tagged `tag` just wrote.
pub fn clear_members(uuid: &str, tag: &str) -> Stmt {
    Stmt::new(
        "DELETE FROM group_members WHERE group_id IN (SELECT id FROM groups WHERE uuid = ? AND last_write = ?)",
        vec![uuid.into(), tag.into()],
    )
}

/// Make the listed users (`[{value, display}]`; live users of the group's org only) members of
/// the group the write tagged `tag` wrote. `CROSS JOIN` fixes the order, the list outermost and
/// each user found by its UUID's index: left to itself, SQLite walks every user of the org and
/// scans the list for each (a 1,000-member group of a 20,000-user org took 11 s a write).
pub fn add_members(uuid: &str, tag: &str, members_json: &str) -> Stmt {
    Stmt::new(
        "INSERT OR IGNORE INTO group_members (group_id, user_id, display) \
         SELECT g.id, u.id, json_extract(j.value, '$.display') FROM groups g CROSS JOIN json_each(?) AS j \
         CROSS JOIN users u ON u.uuid = json_extract(j.value, '$.value') AND u.org_id = g.org_id AND u.deleted_at IS NULL \
         WHERE g.uuid = ? AND g.last_write = ?",
        vec![members_json.into(), uuid.into(), tag.into()],
    )
}

/// The event of the write tagged `tag` on this group (created or replaced), only if it landed.
pub fn written_event(uuid: &str, tag: &str, who: &KeyPrincipal, e: &Event, now: &str) -> Stmt {
    let actor = Principal::Key(who.clone());
    events::insert_for_group("g.uuid = ? AND g.last_write = ?", vec![uuid.into(), tag.into()], &actor, e, now)
}

/// Delete a group and its memberships, at the expected version, with its event (written first,
/// under the same conditions, so it carries the group as it was).
pub fn delete(who: &KeyPrincipal, uuid: &str, pre: Option<&Precondition>, e: &Event, now: &str) -> Vec<Stmt> {
    let target = |params: &mut Vec<SqlValue>| {
        params.extend([uuid.into(), who.org_id.into()]);
        let guard = key_holds(who, params);
        let pre_sql = precondition(pre, params);
        format!("uuid = ? AND org_id = ? AND {guard}{pre_sql}")
    };
    let mut event_params = Vec::new();
    let event_sql = target(&mut event_params);
    let mut members_params = Vec::new();
    let members_sql = target(&mut members_params);
    let mut group_params = Vec::new();
    let group_sql = target(&mut group_params);
    vec![
        events::insert_for_group(&event_sql, event_params, &Principal::Key(who.clone()), e, now),
        Stmt::new(
            format!("DELETE FROM group_members WHERE group_id IN (SELECT id FROM groups WHERE {members_sql})"),
            members_params,
        ),
        Stmt::new(format!("DELETE FROM groups WHERE {group_sql} RETURNING uuid"), group_params),
    ]
}

/// The groups the user the write tagged `tag` deleted was a member of. Each one changed (a member
/// left it), so each gets a new version and `updated_at` (a client's ETag for it goes stale), its
/// `group.updated` event (ids as `events::group_events` makes them from `e.id`), and the user's
/// memberships go: a later replacement of the group compares its members with live ones only.
pub fn left_by_deleted_user(t: &Target, tag: &str, who: &Principal, e: &Event, now: &str) -> Vec<Stmt> {
    // The memberships of the user the write left, each statement binding its own parameters.
    let memberships = |params: &mut Vec<SqlValue>| {
        format!("group_members WHERE user_id = (SELECT id FROM users WHERE {})", written(t, tag, params))
    };
    let mut params = vec![now.into()];
    let update_sql = format!(
        "UPDATE groups SET version = version + 1, updated_at = ? WHERE id IN (SELECT group_id FROM {})",
        memberships(&mut params)
    );
    let mut event_params = Vec::new();
    let event_sql = format!("g.id IN (SELECT group_id FROM {})", memberships(&mut event_params));
    let mut member_params = Vec::new();
    let member_sql = format!("DELETE FROM {}", memberships(&mut member_params));
    vec![
        Stmt::new(update_sql, params),
        events::group_events(&event_sql, event_params, who, e, now, true),
        Stmt::new(member_sql, member_params),
    ]
}
