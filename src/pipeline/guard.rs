//! Who may act on whom, decided before anything is written, and why a guarded statement that
//! matched nothing did so — checked in an order that tells a caller nothing it shouldn't learn:
//! the key first, then the target, then the version.

use crate::error::Failure;
use crate::model::{Field, KeyPrincipal, Principal, Shown, Target, User};
use crate::platform::{apart, Ctx, Platform};
use crate::policy::{Denial, Rules};
use crate::store::guard::{self as store_guard, KeyState};
use crate::store::{Row, Stmt};

/// What D1 says about a caller and a target.
pub(crate) enum Probe {
    Key(KeyState),
    TargetAbsent,
    TargetPresent,
}

pub(crate) async fn probe<P: Platform>(cx: &Ctx<'_, P>, who: &KeyPrincipal, target: &Target) -> Result<Probe, Failure> {
    let (state, version) = store_guard::read_probe(cx.query(store_guard::probe(who, target)).await?);
    Ok(match (state, version) {
        (KeyState::Valid, Some(_)) => Probe::TargetPresent,
        (KeyState::Valid, None) => Probe::TargetAbsent,
        (state, _) => Probe::Key(state),
    })
}

fn key_failure(state: KeyState) -> Failure {
    match state {
        KeyState::Demoted => Failure::RoleNotHeld,
        _ => Failure::Unauthenticated,
    }
}

/// Why a guarded statement on `target` matched nothing.
pub(crate) async fn explain_miss<P: Platform>(cx: &Ctx<'_, P>, who: &Principal, target: &Target) -> Failure {
    let Principal::Key(key) = who else {
        // The operator passes every guard: only the target or its version can be missing.
        return match cx.query(crate::store::users::select(who, target, Shown::ESSENTIALS)).await {
            Ok(rows) if rows.is_empty() => Failure::NotFound,
            Ok(_) => Failure::PreconditionFailed,
            Err(e) => e.into(),
        };
    };
    match probe(cx, key, target).await {
        Err(f) => f,
        Ok(Probe::Key(state)) => key_failure(state),
        Ok(Probe::TargetAbsent) => Failure::NotFound,
        // The target is there and the key is good, so the version condition failed (or the row
        // changed between the two statements, which is the same thing to the client).
        Ok(Probe::TargetPresent) => Failure::PreconditionFailed,
    }
}

/// Policy for one request. The operator may do anything; a key follows its dialect's rules,
/// with one refinement that needs the store: a user key aimed at someone else learns 403 only
/// when that someone is in its own org; otherwise 404, as if nobody were there.
pub(crate) async fn authorize<P: Platform>(
    cx: &Ctx<'_, P>,
    rules: &Rules,
    who: &Principal,
    target: &Target,
    touched: &[Field],
    proof_given: bool,
) -> Result<(), Failure> {
    let Principal::Key(key) = who else { return Ok(()) };
    match rules.authorize(key.role, target.is(key), touched, proof_given) {
        Ok(()) => Ok(()),
        Err(Denial::NotSelf) => Err(match apart(probe(cx, key, target)).await? {
            Probe::TargetPresent => Failure::Forbidden(Denial::NotSelf),
            Probe::TargetAbsent => Failure::NotFound,
            Probe::Key(state) => key_failure(state),
        }),
        Err(d) => Err(Failure::Forbidden(d)),
    }
}

/// The key behind an operator-API call still holds in D1 (the cache may be stale).
pub(crate) async fn key_holds<P: Platform>(cx: &Ctx<'_, P>, who: &KeyPrincipal) -> Result<(), Failure> {
    let (state, _) = store_guard::read_probe(cx.query(store_guard::key_state(who)).await?);
    match state {
        KeyState::Valid => Ok(()),
        other => Err(key_failure(other)),
    }
}

/// Reads with no caller guard of their own (listings, an org, a feed page), in one D1 call: for a
/// key, the statement that re-checks it runs first in the same batch — one transaction, so on
/// the same copy of the data — and the reads' rows count only if the key still holds there.
pub(crate) async fn checked_reads<P: Platform>(
    cx: &Ctx<'_, P>,
    who: &Principal,
    reads: Vec<Stmt>,
) -> Result<Vec<Vec<Row>>, Failure> {
    let Principal::Key(key) = who else { return Ok(cx.batch(reads).await?) };
    key_checked_reads(cx, key, reads).await
}

/// `checked_reads` for a caller known to be a key (SCIM's listings).
pub(crate) async fn key_checked_reads<P: Platform>(
    cx: &Ctx<'_, P>,
    key: &KeyPrincipal,
    reads: Vec<Stmt>,
) -> Result<Vec<Vec<Row>>, Failure> {
    let mut statements = Vec::with_capacity(reads.len() + 1);
    statements.push(store_guard::key_state(key));
    statements.extend(reads);
    let mut results = cx.batch(statements).await?.into_iter();
    match store_guard::read_probe(results.next().unwrap_or_default()).0 {
        KeyState::Valid => Ok(results.collect()),
        state => Err(key_failure(state)),
    }
}

/// One read with no caller guard of its own: see `checked_reads`.
pub(crate) async fn checked_read<P: Platform>(cx: &Ctx<'_, P>, who: &Principal, read: Stmt) -> Result<Vec<Row>, Failure> {
    match who {
        Principal::Operator => Ok(cx.query(read).await?),
        Principal::Key(_) => Ok(checked_reads(cx, who, vec![read]).await?.pop().unwrap_or_default()),
    }
}

/// A refusal decided without D1 saying why (another org's id in the key's cached entry, or a
/// guarded statement that matched nothing): a key D1 no longer honours learns that first.
pub(crate) async fn refused<P: Platform>(cx: &Ctx<'_, P>, who: &Principal, failure: Failure) -> Failure {
    match who {
        Principal::Key(key) => key_holds(cx, key).await.err().unwrap_or(failure),
        Principal::Operator => failure,
    }
}

/// The org a caller may act in: any for the operator, its own for a key. Another org's is 404 to
/// a key, once D1 says the key holds (else the key's own 401, as from a guarded statement).
pub(crate) async fn org_within_reach<P: Platform>(cx: &Ctx<'_, P>, who: &Principal, org_id: i64) -> Result<(), Failure> {
    match who {
        Principal::Key(k) if k.org_id != org_id => Err(refused(cx, who, Failure::NotFound).await),
        _ => Ok(()),
    }
}

/// The target as the caller may see it (the fields `shown`), or why not.
pub(crate) async fn read_within_reach<P: Platform>(
    cx: &Ctx<'_, P>,
    who: &Principal,
    target: &Target,
    shown: Shown,
) -> Result<User, Failure> {
    match cx.query(crate::store::users::select(who, target, shown)).await?.into_iter().next() {
        Some(row) => super::user_of(&row),
        None => Err(explain_miss(cx, who, target).await),
    }
}
