//! The user lifecycle beyond updates: read, create, deactivate and reactivate, delete, list.
//! Every change is one batch with its audit event; see docs/ARCHITECTURE.md, "Lifecycle".

use super::guard::{authorize, checked_read, explain_miss, org_within_reach, read_within_reach, refused};
use super::plan::{commit, hash_new, Plan};
use super::Write;
use crate::apikey;
use crate::error::Failure;
use crate::http::Precondition;
use crate::model::{Action, Field, NewSecret, NewUser, Principal, Shown, Target, User, UserListing};
use crate::platform::{Ctx, Platform};
use crate::policy::Rules;
use crate::store::{codes, keys, users, Row, RowExt, Stmt};

/// Read a user as the caller may see it: itself, or anyone in its org for an admin; anyone for
/// the operator.
pub async fn read_user<P: Platform>(cx: &Ctx<'_, P>, rules: &Rules, who: &Principal, target: &Target) -> Result<User, Failure> {
    authorize(cx, rules, who, target, &[], false).await?;
    read_within_reach(cx, who, target, rules.shown).await
}

/// `read_user`, with one more statement about that user in the same D1 call, whose rows come
/// back only with the user (a user out of reach is refused as `read_user` refuses it).
pub async fn read_user_with<P: Platform>(
    cx: &Ctx<'_, P>,
    rules: &Rules,
    who: &Principal,
    target: &Target,
    also: Stmt,
) -> Result<(User, Vec<Row>), Failure> {
    authorize(cx, rules, who, target, &[], false).await?;
    let mut results = cx.batch(vec![users::select(who, target, rules.shown), also]).await?.into_iter();
    let (user_rows, also_rows) = (results.next().unwrap_or_default(), results.next().unwrap_or_default());
    match user_rows.first() {
        Some(row) => Ok((super::user_of(row)?, also_rows)),
        None => Err(explain_miss(cx, who, target).await),
    }
}

/// Create a user: one INSERT that lands only if the org exists (and the caller's key still
/// holds), with its `create` event.
pub async fn create_user<P: Platform>(cx: &Ctx<'_, P>, rules: &Rules, who: &Principal, new: NewUser) -> Result<User, Failure> {
    org_within_reach(cx, who, new.org_id).await?;
    let touched = new.patch.touched();
    let recorded = new.event_fields();
    if let Principal::Key(k) = who {
        rules.authorize(k.role, false, &touched, false).map_err(Failure::Forbidden)?;
    }
    let mut fields = new.patch.assignments();
    if let Some(change) = &new.patch.password {
        let hash = match &change.secret {
            NewSecret::Plain(pw) => hash_new(cx, pw)?,
            NewSecret::Imported(h) => h.as_str().to_string(),
        };
        fields.push((Field::Password, hash.into()));
    }
    let uuid = super::new_uuid(cx)?;
    let target = Target::Uuid(uuid.clone());
    let w = Write::new(cx)?;
    let keys = users::identity_keys(&new.patch);
    // A stale claim on the address goes first, so that the new user can take it.
    let release = users::assigned_email_key(&keys).map(|k| users::release_for_insert(who, new.org_id, k, &w.now));
    let batch = vec![
        users::insert(who, new.org_id, &uuid, (&fields, &keys), &w.now, &w.tag),
        w.event(&target, who, Action::Create, rules.dialect, &recorded),
    ];
    let mut results = super::batch_after(cx, release, batch).await?;
    match results.first_mut().and_then(|r| r.pop()) {
        Some(row) => super::user_of(&row),
        None => Err(refused(cx, who, Failure::NotFound).await),
    }
}

/// Deactivate (`true`) or reactivate (`false`) a user. A deactivated user stays readable by
/// admins, and its keys are refused by the guard on the next request whatever KV says. Doing it
/// twice changes nothing and writes no event.
pub async fn set_deactivated<P: Platform>(
    cx: &Ctx<'_, P>,
    rules: &Rules,
    who: &Principal,
    target: &Target,
    pre: Option<&Precondition>,
    deactivated: bool,
) -> Result<User, Failure> {
    authorize(cx, rules, who, target, &[Field::Deactivated], false).await?;
    let action = if deactivated { Action::Deactivate } else { Action::Reactivate };
    for _ in 0..FLIP_ATTEMPTS {
        let w = Write::new(cx)?;
        let mut plan = Plan::default();
        plan.update.set(Field::Deactivated, deactivated);
        plan.update.conditions.push(users::Condition::Deactivated(!deactivated));
        match commit(cx, who, target, pre, plan, (action, rules.dialect, &[Field::Deactivated]), &w).await {
            Ok((user, _)) => return Ok(user),
            Err(Failure::PreconditionFailed) => {
                let user = read_within_reach(cx, who, target, Shown::All).await?;
                let stale = matches!(pre, Some(Precondition::Versions(vs)) if !vs.contains(&user.version));
                match (user.deactivated == deactivated, stale) {
                    // Already in that state: the same answer as a successful change, nothing written.
                    (true, false) => return Ok(user),
                    (_, true) => return Err(Failure::PreconditionFailed),
                    // Flipped back since this write missed, and the version the client named (if
                    // any) still holds: again.
                    (false, false) => continue,
                }
            }
            Err(f) => return Err(f),
        }
    }
    Err(crate::error::KEPT_CHANGING)
}

/// How often a deactivation or reactivation is tried when others flip the user back meanwhile.
const FLIP_ATTEMPTS: usize = 3;

/// Delete a user: its row becomes a tombstone (personal data erased, email and username free
/// again), its keys are revoked and its codes retired in the same batch, and its audit history
/// stays readable by the operator. The revoked keys leave the KV cache too (the guard refuses
/// them anyway).
pub async fn delete_user<P: Platform>(
    cx: &Ctx<'_, P>,
    rules: &Rules,
    who: &Principal,
    target: &Target,
    pre: Option<&Precondition>,
) -> Result<(), Failure> {
    authorize(cx, rules, who, target, &[Field::Deactivated], false).await?;
    let w = Write::new(cx)?;
    let keys_event_id = super::new_uuid(cx)?;
    let groups_event_id = super::new_uuid(cx)?;
    let group_event = super::groups::group_event_of(&groups_event_id, crate::feed::event::EventType::GroupUpdated, rules.dialect);
    // Each key's revocation is an event before the deletion's, which stays the user's last; then
    // each group the user leaves changes, after it.
    let mut batch = vec![
        users::tombstone(who, target, pre, &w.now, &w.tag),
        keys::revoke_all_of(target, &w.tag, &w.now),
        crate::store::events::keys_revoked_by_write(target, &w.tag, who, &keys_event_id, &w.now),
        w.event(target, who, Action::Delete, rules.dialect, &[]),
        codes::erase(target, &w.tag, &w.now),
    ];
    batch.extend(crate::store::groups::left_by_deleted_user(target, &w.tag, who, &group_event, &w.now));
    let results = cx.batch(batch).await?;
    if results.first().is_none_or(Vec::is_empty) {
        return Err(explain_miss(cx, who, target).await);
    }
    for row in results.get(1).into_iter().flatten() {
        if let Some(digest) = row.text("digest") {
            let _ = cx.kv_delete(&apikey::kv_key(&digest)).await;
        }
    }
    Ok(())
}

/// One page of a listing, and the id to continue after when there is more.
#[derive(Debug, Clone)]
pub struct Page {
    pub users: Vec<User>,
    pub next_after: Option<i64>,
}

/// List an org's live users in id order (a stable keyset, never OFFSET).
pub async fn list_users<P: Platform>(cx: &Ctx<'_, P>, who: &Principal, q: &UserListing) -> Result<Page, Failure> {
    org_within_reach(cx, who, q.org_id).await?;
    // Read after the key's re-check, in one D1 call: an empty page (an email lookup that finds
    // nobody) costs no second round trip.
    let rows = checked_read(cx, who, users::list(q)).await?;
    let mut users: Vec<User> = rows.iter().map(super::user_of).collect::<Result<_, _>>()?;
    let more = users.len() > q.limit as usize;
    users.truncate(q.limit as usize);
    let next_after = if more { users.last().map(|u| u.id) } else { None };
    Ok(Page { users, next_after })
}
