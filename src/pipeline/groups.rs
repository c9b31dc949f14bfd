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

/// Related rows (a group's members, a user's groups) in their owners' order, as the store reads
/// them (by owner, then by member): each owner takes the rows that name it (`owner` column equal
/// to `key`) from the front, in one pass over the page.
struct Related<'r> {
    rows: std::iter::Peekable<std::slice::Iter<'r, Row>>,
    owner: &'static str,
    member: fn(&Row) -> Option<Member>,
}

impl<'r> Related<'r> {
    fn new(rows: &'r [Row], owner: &'static str, member: fn(&Row) -> Option<Member>) -> Self {
        Self { rows: rows.iter().peekable(), owner, member }
    }

    /// The members of the owner whose `owner` column reads `key`.
    fn of(&mut self, key: Option<&Value>) -> Vec<Member> {
        let mut out = Vec::new();
        while let Some(row) = self.rows.next_if(|r| key.is_some() && r.get(self.owner) == key) {
            out.extend((self.member)(row));
        }
        out
    }
}

/// A row of `store::groups::members` or `members_of_page`.
fn group_member_row(row: &Row) -> Option<Member> {
    Some(Member { value: row.text("value")?, display: row.text("display"), own: row.int("own") == Some(1) })
}

/// A group from its row and the member rows read beside it.
fn group_of(row: &Row, members: &mut Related) -> Result<Group, Failure> {
    let text = |c: &str| row.text(c).ok_or_else(|| Failure::Internal(format!("bad groups row: no {c}")));
    Ok(Group {
        uuid: text("uuid")?,
        display_name: text("display_name")?,
        external_id: row.text("external_id"),
        version: row.int("version").unwrap_or(1),
        created_at: text("created_at")?,
        updated_at: text("updated_at")?,
        members: members.of(row.get("uuid")),
    })
}

/// A group of the caller's org.
pub async fn read_group<P: Platform>(cx: &Ctx<'_, P>, who: &KeyPrincipal, uuid: &str) -> Result<Group, Failure> {
    let results = cx.batch(vec![store::select(who, uuid), store::members(who, uuid)]).await?;
    match results.first().and_then(|rows| rows.first()) {
        Some(row) => group_of(row, &mut Related::new(results.get(1).map_or(&[], Vec::as_slice), "group_uuid", group_member_row)),
        None => {
            key_holds(cx, who).await?;
            Err(Failure::NotFound)
        }
    }
}

/// The most a group's members may take as the one JSON parameter its write binds (D1 takes a
/// value of up to 2,000,000 bytes): about 23,000 members that carry no display of their own. The
/// group's event lists its members' UUIDs, 39 bytes each, so it stays within D1's limit too.
pub const MAX_MEMBERS_BYTES: usize = 1_500_000;

fn row_of(state: &GroupState) -> Result<(String, GroupRow<'_>), Failure> {
    let members: Vec<Value> = state.members.iter().map(|m| serde_json::json!({"value": m.value, "display": m.display})).collect();
    let members_json = Value::Array(members).to_string();
    if members_json.len() > MAX_MEMBERS_BYTES {
        let n = state.members.len();
        let why = format!(
            "{n} members are more than a group holds: at most {MAX_MEMBERS_BYTES} bytes of members (about 23,000 without a display of their own)"
        );
        return Err(Failure::invalid("members", why));
    }
    Ok((members_json, GroupRow { display_name: &state.display_name, external_id: state.external_id.as_deref() }))
}

/// Create a group with its members, in one batch that also reads it back.
pub async fn create_group<P: Platform>(cx: &Ctx<'_, P>, who: &KeyPrincipal, state: &GroupState) -> Result<Group, Failure> {
    let (members_json, row) = row_of(state)?;
    let (uuid, w) = (super::new_uuid(cx)?, super::Write::new(cx)?);
    let batch = vec![
        store::insert(who, &uuid, &row, &w.now, &w.tag),
        store::add_members(&uuid, &w.tag, &members_json),
        store::written_event(&uuid, &w.tag, who, &group_event(&w, EventType::GroupCreated), &w.now),
        store::select(who, &uuid),
        store::members(who, &uuid),
    ];
    let results = cx.batch(batch).await.map_err(write_error)?;
    if results.first().is_none_or(Vec::is_empty) {
        key_holds(cx, who).await?;
        return Err(Failure::NotFound);
    }
    written_group(&results)
}

/// The group as the last two statements of its write's batch read it back (it, then its members).
fn written_group(results: &[Vec<Row>]) -> Result<Group, Failure> {
    let [.., group, members] = results else { return Err(Failure::Internal("a group write's batch is too short".into())) };
    let row = group.first().ok_or_else(|| Failure::Internal("a group write's batch did not read it back".into()))?;
    group_of(row, &mut Related::new(members, "group_uuid", group_member_row))
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
    let (members_json, row) = row_of(state)?;
    let w = super::Write::new(cx)?;
    let batch = vec![
        store::update(who, uuid, pre, (&row, &members_json), &w.now, &w.tag),
        store::clear_members(uuid, &w.tag),
        store::add_members(uuid, &w.tag, &members_json),
        store::written_event(uuid, &w.tag, who, &group_event(&w, EventType::GroupUpdated), &w.now),
        store::select(who, uuid),
        store::members(who, uuid),
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

/// A listing's page, its total and the page's related rows (members, groups), read after the
/// key's re-check in one D1 call: an empty page (a filter that matches nobody, as a provisioning
/// client's lookup before a create mostly does) costs no more round trips than a full one.
async fn page_and_total<P: Platform>(
    cx: &Ctx<'_, P>,
    who: &KeyPrincipal,
    [page, count, related]: [Stmt; 3],
) -> Result<(Vec<Row>, i64, Vec<Row>), Failure> {
    let mut results = key_checked_reads(cx, who, vec![page, count, related]).await?.into_iter();
    let rows = results.next().unwrap_or_default();
    let total = results.next().and_then(|r| r.first().and_then(|r| r.int("n"))).unwrap_or(0);
    Ok((rows, total, results.next().unwrap_or_default()))
}

/// The most member rows one page of groups reads: a page of many large groups would be millions
/// of rows, past what a Worker holds. A page whose groups have more stops early, before the group
/// the rows stop in (at least one group: a group holds far fewer, `MAX_MEMBERS_BYTES`), and says
/// how many it holds (`itemsPerPage`); the client goes on from there (RFC 7644 §3.4.2.4).
pub const MAX_PAGE_MEMBERS: usize = 50_000;

/// A page of the org's groups.
pub async fn list_groups<P: Platform>(cx: &Ctx<'_, P>, who: &KeyPrincipal, q: &Listing) -> Result<ListPage<Group>, Failure> {
    let (filter, page) = (q.filter.as_ref(), (q.offset, q.count));
    let members = store::members_of_page(who, filter, page, MAX_PAGE_MEMBERS + 1);
    let statements = [store::list(who, filter, page.0, page.1), store::count(who, filter), members];
    let (mut rows, total, members) = page_and_total(cx, who, statements).await?;
    if members.len() > MAX_PAGE_MEMBERS {
        let cut_in = members.last().and_then(|r| r.get("group_uuid"));
        let complete = rows.iter().position(|r| r.get("uuid") == cut_in).unwrap_or(rows.len());
        rows.truncate(complete.max(1));
    }
    let mut members = Related::new(&members, "group_uuid", group_member_row);
    let items = rows.iter().map(|row| group_of(row, &mut members)).collect::<Result<_, _>>()?;
    Ok(ListPage { total, items })
}

/// A page of the org's live users matching the filter, each with its groups.
pub async fn list_scim_users<P: Platform>(
    cx: &Ctx<'_, P>,
    who: &KeyPrincipal,
    q: &Listing,
) -> Result<ListPage<ScimUser>, Failure> {
    let (filter, offset, count) = (q.filter.as_ref(), q.offset, q.count);
    let statements = [
        scim::list_users(who, filter, offset, count),
        scim::count_users(who, filter),
        scim::groups_of_page(who, filter, offset, count),
    ];
    let (rows, total, groups) = page_and_total(cx, who, statements).await?;
    let mut groups = Related::new(&groups, "user_id", group_member);
    let mut items = Vec::with_capacity(rows.len());
    for row in rows {
        let groups = groups.of(row.get("id"));
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
    Ok((user, rows.iter().filter_map(group_member).collect()))
}

/// A row of a user's groups (`uuid`, `display_name`) as SCIM's `groups` shows it.
fn group_member(row: &Row) -> Option<Member> {
    Some(Member { value: row.text("uuid")?, display: row.text("display_name"), own: false })
}

/// Groups the sweep keys per run (each one statement of the batch, and one parameter of its last:
/// D1 binds at most 100 to a statement).
const LEGACY_NAMES_PER_SWEEP: u32 = 50;

/// Give the groups written before names had comparison keys theirs (migration 0013 keyed the
/// printable-ASCII ones itself: SQLite has no Unicode case folding). The Cron sweep runs it; once
/// every group has its key, it reads an empty index.
pub async fn key_legacy_names<P: Platform>(cx: &Ctx<'_, P>) -> Result<(), Failure> {
    let rows = cx.query(crate::store::groups::unkeyed(LEGACY_NAMES_PER_SWEEP)).await?;
    let keys: Vec<(i64, String)> =
        rows.iter().filter_map(|r| Some((r.int("id")?, crate::values::caseless_key(&r.text("display_name")?)))).collect();
    if !keys.is_empty() {
        cx.batch(crate::store::groups::key_legacy_names(&keys)).await?;
    }
    Ok(())
}
