//! The operator API's own operations: orgs, keys, the audit trail. The operator acts on any
//! org; an admin key only on its own (others are 404, as everywhere).

use super::auth::cache_principal;
use crate::apikey::{self, NewKey};
use crate::error::Failure;
use crate::model::{KeyPrincipal, Principal, Role, Target};
use crate::platform::{Ctx, Platform};
use crate::store::{events, keys, orgs, Row, RowExt};
use crate::values::ShortText;

/// For the statements here that carry no key guard: the caller's key still holds in D1.
async fn key_holds<P: Platform>(cx: &Ctx<'_, P>, who: &Principal) -> Result<(), Failure> {
    match who {
        Principal::Key(k) => super::guard::key_holds(cx, k).await,
        Principal::Operator => Ok(()),
    }
}

fn org_scope(who: &Principal) -> Option<i64> {
    match who {
        Principal::Operator => None,
        Principal::Key(k) => Some(k.org_id),
    }
}

pub async fn create_org<P: Platform>(cx: &Ctx<'_, P>, who: &Principal, name: ShortText) -> Result<Row, Failure> {
    if *who != Principal::Operator {
        key_holds(cx, who).await?;
        return Err(Failure::Forbidden(crate::policy::Denial::AdminKeyRequired));
    }
    let stmt = orgs::insert(&super::new_uuid(cx)?, name.as_str(), &super::now_rfc3339(cx));
    cx.query(stmt).await?.into_iter().next().ok_or_else(|| Failure::Internal("insert returned nothing".into()))
}

pub struct IssuedKey {
    pub id: i64,
    pub key: NewKey,
    pub role: Role,
    pub user_id: i64,
}

/// Issue a key for a user; its role is the user's role now (admin flag), decided in the same
/// guarded statement that writes it. The KV cache is filled right away so the first request
/// costs one KV read.
pub async fn create_key<P: Platform>(cx: &Ctx<'_, P>, who: &Principal, user_id: i64) -> Result<IssuedKey, Failure> {
    let key = apikey::generate(&cx.random::<32>()?);
    let stmt = keys::insert(who, &Target::Id(user_id), &key.digest, &key.prefix, &super::now_rfc3339(cx));
    let Some(row) = cx.query(stmt).await?.into_iter().next() else {
        return Err(super::guard::explain_miss(cx, who, &Target::Id(user_id)).await);
    };
    let principal = KeyPrincipal {
        key_id: row.int("id").ok_or_else(|| Failure::Internal("no key id".into()))?,
        user_id: row.int("user_id").unwrap_or(user_id),
        user_uuid: row.text("user_uuid").unwrap_or_default(),
        org_id: row.int("org_id").unwrap_or_default(),
        role: row.text("role").as_deref().and_then(Role::parse).unwrap_or(Role::User),
    };
    cache_principal(cx, &key.digest, &principal).await;
    Ok(IssuedKey { id: principal.key_id, key, role: principal.role, user_id: principal.user_id })
}

/// Revoke a key: D1 first (the authority), then drop the cache entry. Revoking twice is fine.
pub async fn revoke_key<P: Platform>(cx: &Ctx<'_, P>, who: &Principal, key_id: i64) -> Result<(), Failure> {
    key_holds(cx, who).await?;
    let stmt = keys::revoke(org_scope(who), key_id, &super::now_rfc3339(cx));
    let digest = cx.query(stmt).await?.first().and_then(|r| r.text("digest")).ok_or(Failure::NotFound)?;
    cx.kv_delete(&apikey::kv_key(&digest)).await.map_err(Failure::Internal)
}

/// The audit trail of one user, newest first (at most 100 events). A deleted user's history
/// stays readable: its tombstone still answers.
pub async fn list_events<P: Platform>(cx: &Ctx<'_, P>, who: &Principal, user_id: i64) -> Result<Vec<serde_json::Value>, Failure> {
    key_holds(cx, who).await?;
    let org = org_scope(who);
    let mut results = cx.batch(vec![events::user_known(user_id, org), events::for_user(user_id, org)]).await?;
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
            serde_json::Value::Object(row)
        })
        .collect())
}
