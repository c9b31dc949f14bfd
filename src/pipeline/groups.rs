//! SCIM's own operations: groups of an org's users (create, read, replace, delete, list), and
//! user listings by a compiled filter with a total count (RFC 7644 §3.4.2). Callers are an org
//! admin's key; the key's org is the whole world (another org's groups are 404, never listed),
//! and every statement carries the caller guard.

use super::guard::{key_checked_reads, key_holds};
use crate::error::Failure;
use crate::feed::event::EventType;
use crate::http::Precondition;
use crate::model::{KeyPrincipal, Principal, Target, User};
use crate::platform::{Ctx, Platform};
use crate::policy::Rules;
use crate::store::filter::Fragment;
use crate::store::groups::{self as store, GroupRow};
use crate::store::{scim, Row, RowExt, Stmt};
use serde_json::Value;

/// A member of a group, or a group of a user: its UUID and what to call it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub value: String,
    pub display: Option<String>,
    /// The display is the client's own (stored), not derived from the user's name.
    pub own: bool,
}

/// A group as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    pub uuid: String,
    pub display_name: String,
    pub external_id: Option<String>,
    pub version: i64,
    pub created_at: String,
    pub updated_at: String,
    pub members: Vec<Member>,
}

/// What a group is to become: its name, external id and members (user UUIDs, no duplicates,
/// each with the name the client shows it by, if any). A value that is no live user of the org
/// is not stored: a client may add a member before it provisions the user (RFC 7644 §3.5.2
/// asks no referential check), and another org's user never becomes one.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupState {
    pub display_name: String,
    pub external_id: Option<String>,
    pub members: Vec<Member>,
}

/// A user with the groups it is in (SCIM's read-only `groups`).
#[derive(Debug, Clone, PartialEq)]
pub struct ScimUser {
    pub user: User,
    pub groups: Vec<Member>,
}

/// Which page of which matches: `offset` is `startIndex - 1`.
#[derive(Debug, Clone, PartialEq)]
pub struct Listing {
    pub filter: Option<Fragment>,
    pub offset: u32,
    pub count: u32,
}

/// One page and the number of all matches.
#[derive(Debug, Clone, PartialEq)]
pub struct ListPage<T> {
    pub total: i64,
    pub items: Vec<T>,
}

fn members_of(v: Option<&Value>) -> Vec<Member> {
    let text = v.and_then(Value::as_str).unwrap_or("[]");
    let list: Vec<Value> = serde_json::from_str(text).unwrap_or_default();
    list.iter()
        .filter_map(|m| {
            let value = m.get("value")?.as_str()?.to_string();
            let display = m.get("display").and_then(Value::as_str).map(str::to_string);
            Some(Member { value, display, own: m.get("own").and_then(Value::as_i64) == Some(1) })
        })
        .collect()
}

fn group_of(row: &Row) -> Result<Group, Failure> {
    let text = |c: &str| row.text(c).ok_or_else(|| Failure::Internal(format!("bad groups row: no {c}")));
    Ok(Group {
        uuid: text("uuid")?,
        display_name: text("display_name")?,
        external_id: row.text("external_id"),
        version: row.int("version").unwrap_or(1),
        created_at: text("created_at")?,
        updated_at: text("updated_at")?,
        members: members_of(row.get("members")),
    })
}

/// A group of the caller's org.
pub async fn read_group<P: Platform>(cx: &Ctx<'_, P>, who: &KeyPrincipal, uuid: &str) -> Result<Group, Failure> {
    match cx.query(store::select(who, uuid)).await?.first() {
        Some(row) => group_of(row),
        None => {
            key_holds(cx, who).await?;
            Err(Failure::NotFound)
        }
    }
}

fn row_of(state: &GroupState) -> (String, GroupRow<'_>) {
    let members: Vec<Value> = state.members.iter().map(|m| serde_json::json!({"value": m.value, "display": m.display})).collect();
    let members_json = Value::Array(members).to_string();
    (members_json, GroupRow { display_name: &state.display_name, external_id: state.external_id.as_deref() })
}

/// Create a group with its members, in one batch that also reads it back.
pub async fn create_group<P: Platform>(cx: &Ctx<'_, P>, who: &KeyPrincipal, state: &GroupState) -> Result<Group, Failure> {
    let (members_json, row) = row_of(state);
    let (uuid, w) = (super::new_uuid(cx)?, super::Write::new(cx)?);
    let batch = vec![
        store::insert(who, &uuid, &row, &w.now, &w.tag),
        store::add_members(&uuid, &w.tag, &members_json),
        store::written_event(&uuid, &w.tag, who, &group_event(&w, EventType::GroupCreated), &w.now),
        store::select(who, &uuid),
    ];
    let results = cx.batch(batch).await.map_err(write_error)?;
    if results.first().is_none_or(Vec::is_empty) {
        key_holds(cx, who).await?;
        return Err(Failure::NotFound);
    }
    written_group(&results)
}

/// The group as the last statement of its write's batch read it back.
fn written_group(results: &[Vec<Row>]) -> Result<Group, Failure> {
    let row = results.last().and_then(|rows| rows.first());
    group_of(row.ok_or_else(|| Failure::Internal("a group write's batch did not read it back".into()))?)
}

/// Replace a group's name, external id and members at once (PUT, and PATCH after applying it), in
/// one batch that also reads it back.
pub async fn replace_group<P: Platform>(
    cx: &Ctx<'_, P>,
    who: &KeyPrincipal,
    uuid: &str,
    state: &GroupState,
    pre: Option<&Precondition>,
) -> Result<Group, Failure> {
    let (members_json, row) = row_of(state);
    let w = super::Write::new(cx)?;
    let batch = vec![
        store::update(who, uuid, pre, (&row, &members_json), &w.now, &w.tag),
        store::clear_members(uuid, &w.tag),
        store::add_members(uuid, &w.tag, &members_json),
        store::written_event(uuid, &w.tag, who, &group_event(&w, EventType::GroupUpdated), &w.now),
        store::select(who, uuid),
    ];
    let results = cx.batch(batch).await.map_err(write_error)?;
    if results.first().is_none_or(Vec::is_empty) {
        read_group(cx, who, uuid).await?;
        return Err(Failure::PreconditionFailed);
    }
    written_group(&results)
}

/// Delete a group (its members stay users).
pub async fn delete_group<P: Platform>(
    cx: &Ctx<'_, P>,
    who: &KeyPrincipal,
    uuid: &str,
    pre: Option<&Precondition>,
) -> Result<(), Failure> {
    let w = super::Write::new(cx)?;
    let results = cx.batch(store::delete(who, uuid, pre, &group_event(&w, EventType::GroupDeleted), &w.now)).await?;
    if results.last().is_none_or(Vec::is_empty) {
        read_group(cx, who, uuid).await?;
        return Err(Failure::PreconditionFailed);
    }
    Ok(())
}

/// The event a group write adds to its batch (SCIM is the only API that writes groups).
fn group_event(w: &super::Write, kind: EventType) -> crate::store::events::Event<'_> {
    group_event_of(&w.event_id, kind, "scim")
}

/// A group's event under the id `id`, through `dialect` (another API's user deletion changes the
/// groups the user was in); its audit action is its feed type's name.
pub(crate) fn group_event_of<'a>(id: &'a str, kind: EventType, dialect: &'a str) -> crate::store::events::Event<'a> {
    let name = kind.as_str();
    crate::store::events::Event { id, action: name, kind: Some(name), dialect, fields: &[], detail: None }
}

/// A group's name taken in its org is the client's conflict (on `displayName`, which SCIM also
/// calls a user's `name`), not ours.
fn write_error(e: crate::store::DbError) -> Failure {
    match e.violation() {
        Some(crate::store::Unique::GroupName) => Failure::Conflict(crate::model::Field::Name),
        _ => e.into(),
    }
}

/// A listing's page and its total, read after the key's re-check in one D1 call: an empty page
/// (a filter that matches nobody, as a provisioning client's lookup before a create mostly does)
/// costs no more round trips than a full one.
async fn page_and_total<P: Platform>(
    cx: &Ctx<'_, P>,
    who: &KeyPrincipal,
    page: Stmt,
    count: Stmt,
) -> Result<(Vec<Row>, i64), Failure> {
    let mut results = key_checked_reads(cx, who, vec![page, count]).await?.into_iter();
    let rows = results.next().unwrap_or_default();
    let total = results.next().and_then(|r| r.first().and_then(|r| r.int("n"))).unwrap_or(0);
    Ok((rows, total))
}

/// A page of the org's groups.
pub async fn list_groups<P: Platform>(cx: &Ctx<'_, P>, who: &KeyPrincipal, q: &Listing) -> Result<ListPage<Group>, Failure> {
    let filter = q.filter.as_ref();
    let (rows, total) = page_and_total(cx, who, store::list(who, filter, q.offset, q.count), store::count(who, filter)).await?;
    let items = rows.iter().map(group_of).collect::<Result<_, _>>()?;
    Ok(ListPage { total, items })
}

/// A page of the org's live users matching the filter, each with its groups.
pub async fn list_scim_users<P: Platform>(
    cx: &Ctx<'_, P>,
    who: &KeyPrincipal,
    q: &Listing,
) -> Result<ListPage<ScimUser>, Failure> {
    let filter = q.filter.as_ref();
    let (rows, total) =
        page_and_total(cx, who, scim::list_users(who, filter, q.offset, q.count), scim::count_users(who, filter)).await?;
    let mut items = Vec::with_capacity(rows.len());
    for row in rows {
        let groups = members_of(row.get("scim_groups"));
        items.push(ScimUser { user: super::user_of(&row)?, groups });
    }
    Ok(ListPage { total, items })
}

/// A user as SCIM shows it: the user, read as `read_user` reads it, and the groups it is in, in
/// one D1 call.
pub async fn read_user_and_groups<P: Platform>(
    cx: &Ctx<'_, P>,
    rules: &Rules,
    who: &Principal,
    target: &Target,
) -> Result<(User, Vec<Member>), Failure> {
    let (user, rows) = super::lifecycle::read_user_with(cx, rules, who, target, scim::groups_of_user(target)).await?;
    let groups = rows.iter().filter_map(|r| Some(Member { value: r.text("uuid")?, display: r.text("display_name"), own: false }));
    Ok((user, groups.collect()))
}
