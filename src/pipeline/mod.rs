//! The one pipeline every dialect shares: authenticate → policy → plan → one D1 batch.
//! Dialects hand it canonical commands and get canonical outcomes or `Failure`s back.

mod auth;
mod codes;
mod directory;
mod update;

pub use auth::{authenticate_key, authenticate_operator_or_key, presented_key};
pub use codes::{request_password_reset, verify_contact, Kind as CodeKind, RETRY_AFTER_SECONDS};
pub use directory::{create_key, create_org, create_user, list_events, read_user_as_operator, revoke_key, NewUser};
pub use update::{read_user, update_user, UpdateCommand, Updated};

use crate::error::Failure;
use crate::model::{KeyPrincipal, Target};
use crate::platform::{Ctx, Platform};
use crate::store::{sql, DbError, RowExt};

impl From<DbError> for Failure {
    fn from(e: DbError) -> Self {
        match e.unique_violation().and_then(crate::model::Field::from_unique_column) {
            Some(field) => Failure::Conflict(field),
            None => Failure::Internal(e.message),
        }
    }
}

/// What D1 says about a caller and a target, for when a guarded statement matched nothing.
pub(crate) enum Probe {
    KeyRevoked,
    KeyDemoted,
    TargetAbsent,
    TargetPresent,
}

pub(crate) async fn probe<P: Platform>(cx: &Ctx<'_, P>, who: &KeyPrincipal, target: &Target) -> Result<Probe, Failure> {
    let row = cx.query(sql::diagnose(who, target)).await?.into_iter().next().unwrap_or_default();
    Ok(match (row.text("key_state").as_deref(), row.int("version")) {
        (Some("ok"), Some(_)) => Probe::TargetPresent,
        (Some("ok"), None) => Probe::TargetAbsent,
        (Some("demoted"), _) => Probe::KeyDemoted,
        _ => Probe::KeyRevoked,
    })
}

/// Why a guarded statement matched nothing, checked in an order that tells a caller nothing it
/// shouldn't learn: the key first, then the target, then the version.
pub(crate) async fn explain_miss<P: Platform>(cx: &Ctx<'_, P>, who: &KeyPrincipal, target: &Target) -> Failure {
    match probe(cx, who, target).await {
        Err(f) => f,
        Ok(Probe::KeyRevoked) => Failure::Unauthenticated,
        Ok(Probe::KeyDemoted) => Failure::RoleNotHeld,
        Ok(Probe::TargetAbsent) => Failure::NotFound,
        // The target is there and the key is good, so the version condition failed (or the row
        // changed between the two statements, which is the same thing to the client).
        Ok(Probe::TargetPresent) => Failure::PreconditionFailed,
    }
}

/// A random tag in lower-case hex.
pub(crate) fn random_tag<P: Platform>(cx: &Ctx<'_, P>) -> Result<String, Failure> {
    Ok(crate::apikey::hex(&cx.random::<16>()?))
}

pub(crate) fn now_rfc3339<P: Platform>(cx: &Ctx<'_, P>) -> String {
    crate::values::rfc3339_millis(cx.now_ms())
}
