//! Who is asking: an API key resolved through the KV cache (D1 on a miss), or the operator.
//! A key's scopes and expiry are decided here from what the cache holds, before any D1 call;
//! the guard of every statement re-checks them in D1.

use super::guard::key_holds;
use crate::apikey;
use crate::error::Failure;
use crate::http::Request;
use crate::model::{KeyPrincipal, Principal, Role, Scope, Scopes};
use crate::platform::{apart, Ctx, Platform};
use crate::policy::Denial;
use crate::store::{keys, RowExt};
use std::cell::RefCell;
use std::collections::HashMap;

/// How often a key's `last_used_at` is written at most (per key, per isolate; D1 itself keeps
/// it to once a minute across isolates).
const TOUCH_EVERY_MS: i64 = 60_000;

thread_local! {
    /// When this isolate last noted each key's use.
    static TOUCHED: RefCell<HashMap<i64, i64>> = RefCell::new(HashMap::new());
}

/// The API key a request presents: `X-Api-Key` (any case) or `Authorization: Bearer`.
pub fn presented_key(req: &Request) -> Option<&str> {
    req.header("x-api-key").map(str::trim).filter(|k| !k.is_empty()).or_else(|| req.bearer())
}

/// Resolve the request's key for a call to `api` (`read`: a GET): one KV read when cached. On a
/// cache miss D1 answers (it is the authority) and the cache is refilled, so a key works the
/// moment it is issued everywhere. An expired key is 401, a key without this API's scope 403.
pub async fn authenticate_key<P: Platform>(cx: &Ctx<'_, P>, req: &Request, api: Scope) -> Result<KeyPrincipal, Failure> {
    let key = presented_key(req).filter(|k| apikey::well_formed(k)).ok_or(Failure::Unauthenticated)?;
    let now = super::now_rfc3339(cx);
    let mut principal = resolve(cx, key, &now).await?;
    if principal.expires_at.as_deref().is_some_and(|at| at <= now.as_str()) {
        return Err(Failure::Unauthenticated);
    }
    if !principal.scopes.permit(api, matches!(req.method.as_str(), "GET" | "HEAD")) {
        return Err(Failure::Forbidden(Denial::OutOfScope));
    }
    principal.checked_at = now;
    note_use(cx, &principal);
    Ok(principal)
}

async fn resolve<P: Platform>(cx: &Ctx<'_, P>, key: &str, now: &str) -> Result<KeyPrincipal, Failure> {
    let digest = apikey::digest(key);
    // A KV outage degrades to the D1 lookup rather than failing the request.
    if let Ok(Some(cached)) = cx.kv_get(&apikey::kv_key(&digest)).await {
        if let Ok(p) = serde_json::from_str::<KeyPrincipal>(&cached) {
            return Ok(p);
        }
    }
    apart(from_d1(cx, digest, now)).await
}

/// A cache miss: D1 answers, and the cache is refilled.
async fn from_d1<P: Platform>(cx: &Ctx<'_, P>, digest: String, now: &str) -> Result<KeyPrincipal, Failure> {
    let row = cx.query(keys::principal_by_digest(&digest, now)).await?.into_iter().next().ok_or(Failure::Unauthenticated)?;
    let principal = principal_of(&row).ok_or(Failure::Unauthenticated)?;
    cache_principal(cx, &digest, &principal).await;
    Ok(principal)
}

/// A principal from a key row (`key_id` or `id`, `user_id`, `user_uuid`, `org_id`, `role`,
/// `scopes`, `expires_at`).
pub(crate) fn principal_of(row: &crate::store::Row) -> Option<KeyPrincipal> {
    Some(KeyPrincipal {
        key_id: row.int("key_id").or_else(|| row.int("id"))?,
        user_id: row.int("user_id")?,
        user_uuid: row.text("user_uuid")?,
        org_id: row.int("org_id")?,
        role: row.text("role").as_deref().and_then(Role::parse)?,
        scopes: Scopes::from_json(row.text("scopes").as_deref()),
        expires_at: row.text("expires_at"),
        checked_at: String::new(),
    })
}

/// Fill the cache; a failure only costs the next request a D1 lookup.
pub(crate) async fn cache_principal<P: Platform>(cx: &Ctx<'_, P>, digest: &str, principal: &KeyPrincipal) {
    if let Ok(json) = serde_json::to_string(principal) {
        let _ = cx.kv_put(&apikey::kv_key(digest), &json).await;
    }
}

/// Note the key's use off the request's path (the platform runs it after the response).
fn note_use<P: Platform>(cx: &Ctx<'_, P>, who: &KeyPrincipal) {
    let now_ms = cx.now_ms();
    let due = TOUCHED.with(|t| {
        let mut t = t.borrow_mut();
        let due = t.get(&who.key_id).is_none_or(|last| now_ms - last >= TOUCH_EVERY_MS);
        if due {
            t.insert(who.key_id, now_ms);
        }
        due
    });
    if due {
        let since = crate::values::rfc3339_millis(now_ms - TOUCH_EVERY_MS);
        cx.platform.defer(keys::touch(who.key_id, &who.checked_at, &since));
    }
}

/// The operator API takes the `ADMIN_TOKEN` as a bearer token, or an admin's API key with the
/// `admin` scope. D1 re-checks the key (the cache may be stale): in the guard of a write's
/// statement, in a probe batched with a read's (`guard::checked_reads`), or with `key_holds`
/// first where neither is (the routes decide).
pub async fn authenticate_operator_or_key<P: Platform>(cx: &Ctx<'_, P>, req: &Request) -> Result<Principal, Failure> {
    if let (Some(token), Some(expected)) = (req.bearer(), cx.config().admin_token.as_deref()) {
        if apikey::secrets_equal(token, expected) {
            return Ok(Principal::Operator);
        }
    }
    let who = authenticate_key(cx, req, Scope::Admin).await?;
    if who.role != Role::Admin {
        return Err(Failure::Forbidden(Denial::AdminKeyRequired));
    }
    Ok(Principal::Key(who))
}

/// For operations whose statements carry no caller guard: D1 says the key still holds.
pub async fn ensure_key_holds<P: Platform>(cx: &Ctx<'_, P>, who: &Principal) -> Result<(), Failure> {
    match who {
        Principal::Key(k) => key_holds(cx, k).await,
        Principal::Operator => Ok(()),
    }
}
