//! An update is a plan of steps, committed once: each step (profile, contact and codes,
//! password and proof) adds assignments, conditions and follow-up statements to one plan, and
//! the plan becomes one D1 batch — the guarded conditional UPDATE, its audit event and any code
//! bookkeeping — that lands whole or not at all. The shape of ZITADEL's `ChangeUserHuman`.

use super::codes::{self, NewCode};
use super::guard::{authorize, explain_miss};
use super::Write;
use crate::error::{Failure, ProofKind};
use crate::http::Precondition;
use crate::model::{Action, CodeKind, Field, NewSecret, PasswordChange, Principal, Proof, Target, User, UserPatch, Verification};
use crate::password;
use crate::platform::{apart, Ctx, Platform};
use crate::policy::Rules;
use crate::store::users::{self, Condition, Update};
use crate::store::Stmt;

/// A dialect's request, in canonical terms.
#[derive(Debug, Clone)]
pub struct UpdateCommand {
    pub target: Target,
    pub patch: UserPatch,
    pub precondition: Option<Precondition>,
}

/// The outcome: the user as now stored, and any verification codes the caller asked to get back.
#[derive(Debug, Clone)]
pub struct Updated {
    pub user: User,
    pub email_code: Option<String>,
    pub phone_code: Option<String>,
}

/// Everything one write will do.
#[derive(Default)]
pub(crate) struct Plan {
    pub update: Update,
    /// Statements keyed on the write's tag, after the UPDATE and its event.
    pub after: Vec<Stmt>,
    /// Codes to hand back or send once the batch committed, each with the index of the batch
    /// statement that stores it (it may store nothing: a live code for that address stays).
    pub codes: Vec<(NewCode, usize)>,
    /// The proof a condition of this plan stands for, to explain a miss.
    pub proof: Option<ProofKind>,
}

/// Apply a patch: policy first (nothing is read or written for a refused request), then one
/// batch. Proving a password change (current password, reset code) costs one extra read.
pub async fn update_user<P: Platform>(
    cx: &Ctx<'_, P>,
    rules: &Rules,
    who: &Principal,
    cmd: UpdateCommand,
) -> Result<Updated, Failure> {
    let touched = cmd.patch.touched();
    let proof = cmd.patch.password.as_ref().and_then(|p| p.proof.as_ref());
    authorize(cx, rules, who, &cmd.target, &touched, proof.is_some()).await?;
    if let Some(kind) = proof.map(proof_kind).filter(|_| !is_self(who, &cmd.target)) {
        // Refused, not checked: verifying it would let an admin guess another user's password
        // at the cost of a hash each.
        return Err(Failure::ProofNotAccepted(kind));
    }
    if touched.is_empty() {
        let user = apart(super::guard::read_within_reach(cx, who, &cmd.target, rules.shown)).await?;
        return match &cmd.precondition {
            Some(Precondition::Versions(vs)) if !vs.contains(&user.version) => Err(Failure::PreconditionFailed),
            _ => Ok(Updated { user, email_code: None, phone_code: None }),
        };
    }
    let w = Write::new(cx)?;
    let mut plan = Plan::default();
    plan.update.returning = rules.shown;
    profile_step(&mut plan, &cmd.patch);
    if cmd.patch.admin.set() == Some(&false) {
        // Demotion retires the user's admin keys for good: promoting it again won't revive them.
        plan.after.push(crate::store::keys::retire_admin_keys(&cmd.target, &w.tag, &w.now));
        let id = super::new_uuid(cx)?;
        plan.after.push(crate::store::events::keys_revoked_by_write(&cmd.target, &w.tag, who, &id, &w.now));
    }
    if let Some(change) = &cmd.patch.password {
        apart(password_step(cx, who, &cmd.target, &w, change, &mut plan)).await?;
    }
    contact_step(cx, &cmd, who, rules.dialect, &w, &mut plan).await?;
    let event = (action_of(&cmd.patch), rules.dialect, touched.as_slice());
    let (user, new_codes) = commit(cx, who, &cmd.target, cmd.precondition.as_ref(), plan, event, &w).await?;
    deliver(cx, user, new_codes).await
}

/// What the audit trail calls this change: flipping the lifecycle state names it.
fn action_of(patch: &UserPatch) -> Action {
    match patch.deactivated.set() {
        Some(true) => Action::Deactivate,
        Some(false) => Action::Reactivate,
        None => Action::Update,
    }
}

/// Plain field assignments: every touched field but the password and the contacts' codes.
fn profile_step(plan: &mut Plan, patch: &UserPatch) {
    plan.update.assignments.extend(patch.assignments());
    plan.update.derived.extend(users::identity_keys(patch));
}

/// A changed address is unverified until proven, unless the caller (an admin) says otherwise;
/// asking for verification makes a code, retiring older ones of its kind.
async fn contact_step<P: Platform>(
    cx: &Ctx<'_, P>,
    cmd: &UpdateCommand,
    who: &Principal,
    dialect: &str,
    w: &Write,
    plan: &mut Plan,
) -> Result<(), Failure> {
    let (target, patch) = (&cmd.target, &cmd.patch);
    // Each contact as stored, and its key for the send limiters: an email's canonical key (its
    // spellings are one mailbox); an E.164 number is its own.
    let contacts = [
        (
            CodeKind::Email,
            patch.email.set().map(|e| (e.as_str().to_string(), e.canonical_key())),
            &patch.email_verified,
            &patch.email_verification,
        ),
        (
            CodeKind::Phone,
            patch.phone.set().map(|p| (p.as_str().to_string(), p.as_str().to_string())),
            &patch.phone_verified,
            &patch.phone_verification,
        ),
    ];
    for (kind, contact, verified, verification) in contacts {
        let Some((value, recipient)) = contact else { continue };
        if kind == CodeKind::Email && (verification.is_none() || !verified.is_keep()) {
            // Set without a code, or with its flag set by an admin: no expiring claim.
            plan.update.derived.push(("email_claim_until", crate::store::SqlValue::Null));
        }
        if verified.is_keep() {
            plan.update.reverify.push((kind, recipient.clone()));
        }
        if let Some(v) = verification {
            let event_id = super::new_uuid(cx)?;
            let code = codes::generate(cx, kind, Some((value.clone(), recipient.clone())), v.clone(), &event_id)?;
            if kind == CodeKind::Email && verified.is_keep() {
                // An unverified claim reserves the address only while its code lives.
                plan.update.derived.push(("email_claim_until", code.expires_at.clone().into()));
            }
            let sends = matches!(v, Verification::Send { .. });
            if sends {
                apart(codes::limit_sends(cx, who, target, &recipient)).await?;
                // An address that already has a live code keeps it: no second message.
                plan.after.push(crate::store::codes::retire_other(target, &w.tag, kind, &recipient, &w.now));
                plan.after.push(crate::store::codes::insert_unless_live(target, &w.tag, &code.row(), &w.now));
            } else {
                plan.after.push(crate::store::codes::retire(target, &w.tag, Some(kind), &w.now));
                plan.after.push(crate::store::codes::insert(target, &w.tag, &code.row(), &w.now));
            }
            let inserted_at = plan.after.len() + 1; // the UPDATE and its event come first
            let action = if kind == CodeKind::Phone { Action::PhoneCodeRequested } else { Action::EmailCodeRequested };
            let event = w.code_event(target, who, (action, dialect), &event_id, &code);
            plan.after.push(event);
            plan.codes.push((code, inserted_at));
        }
    }
    Ok(())
}

fn proof_kind(proof: &Proof) -> ProofKind {
    match proof {
        Proof::CurrentPassword(_) => ProofKind::CurrentPassword,
        Proof::Code(_) => ProofKind::VerificationCode,
    }
}

/// The caller's own user (the operator has none).
fn is_self(who: &Principal, target: &Target) -> bool {
    matches!(who, Principal::Key(k) if target.is(k))
}

/// The new hash, after checking the proof the request carries; the proof becomes a condition
/// of the UPDATE, so a concurrent change voids it.
async fn password_step<P: Platform>(
    cx: &Ctx<'_, P>,
    who: &Principal,
    target: &Target,
    w: &Write,
    change: &PasswordChange,
    plan: &mut Plan,
) -> Result<(), Failure> {
    match &change.proof {
        None => {}
        Some(Proof::CurrentPassword(current)) => {
            let stored = codes::current_hash(cx, who, target).await?;
            let ok = stored.as_deref().is_some_and(|h| cx.cpu("verify", || password::verify(current, h)));
            if !ok {
                return Err(Failure::ProofRejected(ProofKind::CurrentPassword));
            }
            plan.update.conditions.push(Condition::PasswordHashIs(stored.unwrap_or_default()));
            plan.proof = Some(ProofKind::CurrentPassword);
        }
        Some(Proof::Code(code)) => {
            let live = codes::check(cx, who, target, CodeKind::PasswordReset, code).await?;
            plan.update.conditions.push(Condition::CodeLive { id: live.id, now: w.now.clone() });
            plan.after.push(crate::store::codes::consume(live.id, target, &w.tag, &w.now));
            plan.proof = Some(ProofKind::VerificationCode);
        }
    }
    let hash = match &change.secret {
        NewSecret::Plain(pw) => hash_new(cx, pw)?,
        NewSecret::Imported(h) => h.as_str().to_string(),
    };
    plan.update.set(Field::Password, hash);
    plan.update.password_change_required = Some(change.change_required);
    Ok(())
}

/// PBKDF2 at the configured cost, with a fresh salt: once per request for the same password.
pub(crate) fn hash_new<P: Platform>(cx: &Ctx<'_, P>, pw: &crate::model::NewPassword) -> Result<String, Failure> {
    use sha2::Digest;
    cx.password_hash(sha2::Sha256::digest(pw.0.as_bytes()).into(), || {
        let (salt, iterations) = (cx.random::<16>()?, cx.config().pbkdf2_iterations);
        cx.cpu("pbkdf2", || password::hash(pw, &salt, iterations)).map_err(Failure::Internal)
    })
}

/// Run the plan as one batch; the user as now stored, or why nothing was written.
pub(crate) async fn commit<P: Platform>(
    cx: &Ctx<'_, P>,
    who: &Principal,
    target: &Target,
    pre: Option<&Precondition>,
    plan: Plan,
    (action, dialect, fields): (Action, &str, &[Field]),
    w: &Write,
) -> Result<(User, Vec<NewCode>), Failure> {
    // A stale claim on the address goes first, so that the update can take it.
    let release = users::assigned_email_key(&plan.update.derived).map(|k| users::release_for_update(who, target, k, &w.now));
    let mut update = plan.update;
    update.fields = fields.to_vec();
    // Without If-Match or a condition of its own, a write missed only because the key or the user
    // was, for a moment, what the guard refuses (a deactivation undone since): it goes again.
    let attempts = if pre.is_none() && update.conditions.is_empty() { COMMIT_ATTEMPTS } else { 1 };
    let skip = usize::from(release.is_some());
    let mut batch: Vec<Stmt> = release.into_iter().collect();
    batch.extend([users::update(who, target, pre, &update, &w.now, &w.tag), w.update_event(target, who, action, dialect)]);
    batch.extend(plan.after);
    for attempt in 1..=attempts {
        let mut results = cx.batch_of(&batch).await?;
        results.drain(..skip);
        if let Some(row) = results.first_mut().and_then(|rows| rows.pop()) {
            let stored = plan.codes.into_iter().filter(|(_, at)| results.get(*at).is_some_and(|r| !r.is_empty()));
            return Ok((super::user_of(&row)?, stored.map(|(c, _)| c).collect()));
        }
        match (apart(explain_miss(cx, who, target)).await, plan.proof) {
            // Everything else held, so the proof's condition failed: a concurrent change won.
            (Failure::PreconditionFailed, Some(kind)) if pre.is_none() => return Err(Failure::ProofRejected(kind)),
            (Failure::PreconditionFailed, _) if attempts > 1 && attempt < attempts => continue,
            // No If-Match to be stale: the state moved under every attempt.
            (Failure::PreconditionFailed, _) if attempts > 1 => return Err(crate::error::KEPT_CHANGING),
            (other, _) => return Err(other),
        }
    }
    Err(crate::error::KEPT_CHANGING)
}

/// How often a write without If-Match is sent again when it missed for a moment's state.
const COMMIT_ATTEMPTS: usize = 3;

/// Hand back the codes the caller asked for; queue the ones to send.
async fn deliver<P: Platform>(cx: &Ctx<'_, P>, user: User, new_codes: Vec<NewCode>) -> Result<Updated, Failure> {
    let mut out = Updated { user, email_code: None, phone_code: None };
    for code in new_codes {
        match &code.verification {
            Verification::Return => match code.kind {
                CodeKind::Phone => out.phone_code = Some(code.plain),
                _ => out.email_code = Some(code.plain),
            },
            Verification::Send { .. } => apart(codes::send(cx, &out.user, &code)).await?,
        }
    }
    Ok(out)
}
