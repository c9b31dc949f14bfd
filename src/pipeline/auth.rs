//! Who is asking: an API key resolved through the KV cache (D1 on a miss), or the operator.

use crate::apikey;
use crate::error::Failure;
use crate::http::Request;
use crate::model::{KeyPrincipal, Principal, Role};
use crate::platform::{Ctx, Platform};
use crate::store::{keys, RowExt};

/// The API key a request presents: `X-Api-Key` (any case) or `Authorization: Bearer`.
pub fn presented_key(req: &Request) -> Option<&str> {
    req.header("x-api-key").map(str::trim).filter(|k| !k.is_empty()).or_else(|| req.bearer())
}

/// Resolve a key to its principal: one KV read when cached. On a cache miss D1 answers (it is
/// the authority) and the cache is refilled, so a key works the moment it is issued everywhere.
pub async fn authenticate_key<P: Platform>(cx: &Ctx<'_, P>, key: Option<&str>) -> Result<KeyPrincipal, Failure> {
    let key = key.filter(|k| apikey::well_formed(k)).ok_or(Failure::Unauthenticated)?;
    let digest = apikey::digest(key);
    let kv_key = apikey::kv_key(&digest);
    // A KV outage degrades to the D1 lookup rather than failing the request.
    if let Ok(Some(cached)) = cx.kv_get(&kv_key).await {
        if let Ok(p) = serde_json::from_str::<KeyPrincipal>(&cached) {
            return Ok(p);
        }
    }
    let row = cx.query(keys::principal_by_digest(&digest)).await?.into_iter().next().ok_or(Failure::Unauthenticated)?;
    let principal = KeyPrincipal {
        key_id: row.int("key_id").ok_or(Failure::Unauthenticated)?,
        user_id: row.int("user_id").ok_or(Failure::Unauthenticated)?,
        user_uuid: row.text("user_uuid").ok_or(Failure::Unauthenticated)?,
        org_id: row.int("org_id").ok_or(Failure::Unauthenticated)?,
        role: row.text("role").as_deref().and_then(Role::parse).ok_or(Failure::Unauthenticated)?,
    };
    cache_principal(cx, &digest, &principal).await;
    Ok(principal)
}

/// Fill the cache; a failure only costs the next request a D1 lookup.
pub(crate) async fn cache_principal<P: Platform>(cx: &Ctx<'_, P>, digest: &str, principal: &KeyPrincipal) {
    if let Ok(json) = serde_json::to_string(principal) {
        let _ = cx.kv_put(&apikey::kv_key(digest), &json).await;
    }
}

/// The operator API takes the `ADMIN_TOKEN` as a bearer token, or an admin's API key. D1
/// re-checks the key (the cache may be stale) inside each operation's own statement, so a
/// change costs one KV read and one D1 call; operations whose SQL carries no key guard call
/// `guard::key_holds` themselves (docs/ARCHITECTURE.md, "Consistency").
pub async fn authenticate_operator_or_key<P: Platform>(cx: &Ctx<'_, P>, req: &Request) -> Result<Principal, Failure> {
    if let (Some(token), Some(expected)) = (req.bearer(), cx.config().admin_token.as_deref()) {
        if apikey::secrets_equal(token, expected) {
            return Ok(Principal::Operator);
        }
    }
    let who = authenticate_key(cx, presented_key(req)).await?;
    if who.role != Role::Admin {
        return Err(Failure::Forbidden(crate::policy::Denial::AdminKeyRequired));
    }
    Ok(Principal::Key(who))
}
