//! The operator API's own operations: orgs, keys, the audit trail. The operator acts on any
//! org; an admin key only on its own (others are 404, as everywhere).

use super::auth::{cache_principal, principal_of};
use super::guard::{checked_read, checked_reads, org_within_reach, refused};
use crate::apikey::{self, NewKey};
use crate::error::Failure;
use crate::model::{KeyRequest, OrgListing, Principal, Scopes, Shown, Target};
use crate::platform::{apart, Ctx, Platform};
use crate::store::keys::{NewKeyRow, Owner};
use crate::store::{events, keys, orgs, users, Row, RowExt};
use crate::values::ShortText;

pub async fn create_org<P: Platform>(cx: &Ctx<'_, P>, who: &Principal, name: ShortText) -> Result<Row, Failure> {
    if *who != Principal::Operator {
        return Err(Failure::Forbidden(crate::policy::Denial::OperatorRequired));
    }
    let stmt = orgs::insert(&super::new_uuid(cx)?, name.as_str(), &super::now_rfc3339(cx));
    cx.query(stmt).await?.into_iter().next().ok_or_else(|| Failure::Internal("insert returned nothing".into()))
}

/// A page of orgs, and the id to continue after when there is more: every org for the
/// operator, its own for an admin key.
pub async fn list_orgs<P: Platform>(
    cx: &Ctx<'_, P>,
    who: &Principal,
    q: &OrgListing,
) -> Result<(Vec<Row>, Option<i64>), Failure> {
    let mut rows = checked_read(cx, who, orgs::list(who.own_org(), q.after_id, q.limit)).await?;
    let more = rows.len() > q.limit as usize;
    rows.truncate(q.limit as usize);
    let next_after = if more { rows.last().and_then(|r| r.int("id")) } else { None };
    Ok((rows, next_after))
}

/// One org: any for the operator; for an admin key its own, and every other one is 404.
pub async fn read_org<P: Platform>(cx: &Ctx<'_, P>, who: &Principal, id: i64) -> Result<Row, Failure> {
    org_within_reach(cx, who, id).await?;
    checked_read(cx, who, orgs::get(id)).await?.into_iter().next().ok_or(Failure::NotFound)
}

/// A key just issued: the key itself (shown once) and its stored row.
pub struct IssuedKey {
    pub key: NewKey,
    pub row: Row,
}

/// Issue a key for a user; its role is the user's role now (admin flag), decided in the same
/// guarded statement that writes it, with its `api_key.created` event in the same batch. The
/// KV cache is filled right away so the first request costs one KV read.
pub async fn create_key<P: Platform>(cx: &Ctx<'_, P>, who: &Principal, req: KeyRequest) -> Result<IssuedKey, Failure> {
    let now = super::now_rfc3339(cx);
    if req.expires_at.as_deref().is_some_and(|at| at <= now.as_str()) {
        return Err(Failure::invalid("expires_at", "must be in the future"));
    }
    if let Principal::Key(k) = who {
        if let Err(denial) = k.may_grant(&req.scopes, req.expires_at.as_deref()) {
            return Err(refused(cx, who, Failure::Forbidden(denial)).await);
        }
    }
    let key = apikey::generate(&cx.random::<32>()?);
    let target = Target::Id(req.user_id);
    let row_of = NewKeyRow {
        digest: &key.digest,
        prefix: &key.prefix,
        name: req.name.as_deref(),
        scopes: &req.scopes,
        expires_at: req.expires_at.as_deref(),
    };
    let event_id = super::new_uuid(cx)?;
    let batch = vec![keys::insert(who, &target, &row_of, &now), events::key_created(who, &event_id, &key.digest, false, &now)];
    let mut results = cx.batch(batch).await?;
    let Some(row) = results.first_mut().and_then(Vec::pop) else {
        return Err(match super::guard::explain_miss(cx, who, &target).await {
            // The user is there and the issuer may reach it: it is no admin (`NewKeyRow`).
            Failure::PreconditionFailed => admin_scopes_refused(&req.scopes),
            other => other,
        });
    };
    issued(cx, key, row).await
}

/// Scopes naming APIs that take admin keys only, asked of a key for a user who is no admin.
fn admin_scopes_refused(scopes: &Scopes) -> Failure {
    let names: Vec<&str> = scopes.admin_only().into_iter().map(|s| s.as_str()).collect();
    Failure::invalid("scopes", format!("{} only an org admin's key may use; this user is no admin", names.join(", ")))
}

/// Cache the new key's principal and hand it back.
async fn issued<P: Platform>(cx: &Ctx<'_, P>, key: NewKey, mut row: Row) -> Result<IssuedKey, Failure> {
    let principal = principal_of(&row).ok_or_else(|| Failure::Internal("issued key row incomplete".into()))?;
    cache_principal(cx, &key.digest, &principal).await;
    row.remove("user_uuid");
    Ok(IssuedKey { key, row })
}

/// The longest a rotated key may keep working beside its successor.
pub const MAX_OVERLAP_SECONDS: u32 = 7 * 24 * 60 * 60;

/// Replace a key: a new one for the same user, name and scopes, and the old one keeps working
/// for `overlap_seconds` (0: it stops now), all in one guarded batch with its events.
pub async fn rotate_key<P: Platform>(
    cx: &Ctx<'_, P>,
    who: &Principal,
    old_id: i64,
    overlap_seconds: u32,
) -> Result<IssuedKey, Failure> {
    let now_ms = cx.now_ms();
    let now = crate::values::rfc3339_millis(now_ms);
    let until = crate::values::rfc3339_millis(now_ms + i64::from(overlap_seconds.min(MAX_OVERLAP_SECONDS)) * 1000);
    let key = apikey::generate(&cx.random::<32>()?);
    let new_row = NewKeyRow { digest: &key.digest, prefix: &key.prefix, name: None, scopes: &Scopes::all(), expires_at: None };
    let batch = vec![
        keys::rotate(who, old_id, &new_row, &now),
        keys::expire_rotated(old_id, &key.digest, &until),
        events::key_created(who, &super::new_uuid(cx)?, &key.digest, true, &now),
        events::key_expiring(who, &super::new_uuid(cx)?, old_id, &key.digest, &now),
    ];
    let mut results = cx.batch(batch).await?;
    let Some(row) = results.first_mut().and_then(Vec::pop) else {
        return Err(refused(cx, who, apart(why_not_rotated(cx, who, old_id)).await).await);
    };
    // The old key's cache entry learns its new expiry (elsewhere the guard enforces it anyway).
    if let Some(old) = results.get(1).and_then(|r| r.first()) {
        if let (Some(digest), Some(p)) = (old.text("digest"), principal_of(old)) {
            cache_principal(cx, &digest, &p).await;
        }
    }
    issued(cx, key, row).await
}

/// Why a rotation landed nothing: no such live key within reach (404), one already rotated (409),
/// or one that reaches further than the key asking (403; its successor would inherit that).
async fn why_not_rotated<P: Platform>(cx: &Ctx<'_, P>, who: &Principal, old_id: i64) -> Failure {
    let now = super::now_rfc3339(cx);
    let rows = match cx.query(keys::rotation_state(who, old_id, &now)).await {
        Ok(rows) => rows,
        Err(e) => return e.into(),
    };
    let Some(old) = rows.first() else { return Failure::NotFound };
    if old.int("rotated") == Some(1) {
        return Failure::StateConflict("This key was already rotated: rotate its successor");
    }
    if old.int("live") != Some(1) {
        return Failure::NotFound;
    }
    if let Principal::Key(k) = who {
        if let Err(denial) = k.may_grant(&Scopes::from_json(old.text("scopes").as_deref()), old.text("expires_at").as_deref()) {
            return Failure::Forbidden(denial);
        }
    }
    Failure::NotFound
}

/// Revoke a key: D1 first (the authority), with its event the first time, then drop the cache
/// entry. Revoking twice is fine.
pub async fn revoke_key<P: Platform>(cx: &Ctx<'_, P>, who: &Principal, key_id: i64) -> Result<(), Failure> {
    let now = super::now_rfc3339(cx);
    let batch = vec![keys::revoke(who, key_id, &now), events::key_revoked(who, &super::new_uuid(cx)?, key_id, &now)];
    let results = cx.batch(batch).await?;
    let Some(digest) = results.first().and_then(|r| r.first()).and_then(|r| r.text("digest")) else {
        return Err(refused(cx, who, Failure::NotFound).await);
    };
    cx.kv_delete(&apikey::kv_key(&digest)).await.map_err(Failure::from)
}

/// A user's or an org's keys (never a secret or digest), newest first.
pub async fn list_keys<P: Platform>(
    cx: &Ctx<'_, P>,
    who: &Principal,
    owner: Owner,
    org: Option<i64>,
) -> Result<Vec<Row>, Failure> {
    let asked = match owner {
        Owner::Org(o) => Some(o),
        Owner::User(_) => org,
    };
    if let Some(asked) = asked {
        org_within_reach(cx, who, asked).await?;
    }
    let scope = who.own_org().or(org);
    let mut reads = vec![keys::list(owner, scope)];
    if let Owner::User(id) = owner {
        // A user must exist to have no keys: the user is read in the same batch, so an empty
        // listing costs no second round trip.
        reads.push(users::select(who, &Target::Id(id), Shown::ESSENTIALS));
    }
    let mut results = checked_reads(cx, who, reads).await?.into_iter();
    let rows = results.next().unwrap_or_default();
    if rows.is_empty() && matches!(owner, Owner::User(_)) {
        let user = results.next().and_then(|r| r.into_iter().next()).ok_or(Failure::NotFound)?;
        if scope.is_some_and(|o| Some(o) != user.int("org_id")) {
            return Err(Failure::NotFound);
        }
    }
    Ok(rows.into_iter().map(key_json).collect())
}

/// A key row as the API shows it: scopes as a list (null = every API).
fn key_json(mut row: Row) -> Row {
    let scopes = Scopes::from_json(row.text("scopes").as_deref());
    row.insert("scopes".into(), serde_json::to_value(&scopes).unwrap_or_default());
    row
}

/// The audit trail of one user, newest first (at most 100 events). A deleted user's history
/// stays readable: its tombstone still answers.
pub async fn list_events<P: Platform>(cx: &Ctx<'_, P>, who: &Principal, user_id: i64) -> Result<Vec<serde_json::Value>, Failure> {
    let org = who.own_org();
    let mut results = checked_reads(cx, who, vec![events::user_known(user_id, org), events::for_user(user_id, org)]).await?;
    if results.first().is_none_or(Vec::is_empty) {
        return Err(Failure::NotFound);
    }
    Ok(results
        .pop()
        .unwrap_or_default()
        .into_iter()
        .map(|mut row| {
            let fields = row.text("fields").and_then(|f| serde_json::from_str(&f).ok()).unwrap_or_default();
            row.insert("fields".into(), fields);
            let detail = row.text("detail").and_then(|d| serde_json::from_str(&d).ok()).unwrap_or_default();
            row.insert("detail".into(), detail);
            serde_json::Value::Object(row.into_map())
        })
        .collect())
}
