use super::codes::{self, Kind, NewCode};
use super::{explain_miss, now_rfc3339, probe, random_tag, Probe};
use crate::error::{Failure, ProofKind};
use crate::http::Precondition;
use crate::model::{Field, KeyPrincipal, NewSecret, Proof, Target, User, UserPatch, Verification};
use crate::password;
use crate::platform::{Ctx, Platform};
use crate::policy::{Denial, Rules};
use crate::store::sql::{self, Fragment};
use crate::store::SqlValue;

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

/// Apply a patch: policy first (nothing is read or written for a refused request), then one
/// D1 batch holding the guarded conditional UPDATE, its audit event and any code bookkeeping.
/// Proving a password change (current password, reset code) costs one extra read.
pub async fn update_user<P: Platform>(
    cx: &Ctx<'_, P>,
    rules: &Rules,
    who: &KeyPrincipal,
    cmd: UpdateCommand,
) -> Result<Updated, Failure> {
    let touched = cmd.patch.touched();
    let proof = cmd.patch.password.as_ref().and_then(|p| p.proof.as_ref());
    authorize(cx, rules, who, &cmd.target, &touched, proof.is_some()).await?;
    if touched.is_empty() {
        let user = read_guarded(cx, who, &cmd.target).await?;
        return match &cmd.precondition {
            Some(Precondition::Versions(vs)) if !vs.contains(&user.version) => Err(Failure::PreconditionFailed),
            _ => Ok(Updated { user, email_code: None, phone_code: None }),
        };
    }

    let now = now_rfc3339(cx);
    let tag = random_tag(cx)?;
    let target = &cmd.target;
    let patch = &cmd.patch;
    let mut sets: Vec<Fragment> = patch.assignments().into_iter().map(|(c, v)| Fragment::assign(c, v)).collect();
    let mut conditions = Vec::new();
    let mut after = Vec::new();

    if let Some(change) = &patch.password {
        match &change.proof {
            None => {}
            Some(Proof::CurrentPassword(current)) => {
                let stored = codes::current_hash(cx, who, target).await?;
                let ok = stored.as_deref().is_some_and(|h| cx.cpu("verify", || password::verify(current, h)));
                if !ok {
                    return Err(Failure::ProofRejected(ProofKind::CurrentPassword));
                }
                // Bind the change to the hash just verified: a concurrent change voids this one.
                conditions.push(Fragment::new("password_hash = ?", vec![stored.into()]));
            }
            Some(Proof::Code(code)) => {
                let live = codes::check(cx, who, target, Kind::PasswordReset, code).await?;
                conditions.push(sql::code_is_live(live.id, &now));
                after.push(sql::consume_code(live.id, target, &tag, &now));
            }
        }
        let hash = match &change.secret {
            NewSecret::Plain(pw) => {
                let (salt, iterations) = (cx.random::<16>()?, cx.config().pbkdf2_iterations);
                cx.cpu("pbkdf2", || password::hash(pw, &salt, iterations)).map_err(Failure::Internal)?
            }
            NewSecret::Imported(h) => h.as_str().to_string(),
        };
        sets.push(Fragment::assign("password_hash", hash.into()));
        sets.push(Fragment::assign("password_change_required", SqlValue::Int(change.change_required.into())));
    }

    // A changed address is unverified until proven, unless the caller (an admin) says otherwise.
    let mut new_codes: Vec<NewCode> = Vec::new();
    for (kind, value, verified, verification) in [
        (Kind::Email, patch.email.set().map(|e| e.as_str().to_string()), &patch.email_verified, &patch.email_verification),
        (Kind::Phone, patch.phone.set().map(|p| p.as_str().to_string()), &patch.phone_verified, &patch.phone_verification),
    ] {
        let Some(value) = value else { continue };
        if verified.is_keep() {
            let (col, flag) = kind.columns();
            sets.push(Fragment::new(format!("{flag} = CASE WHEN {col} = ? THEN {flag} ELSE 0 END"), vec![value.clone().into()]));
        }
        if let Some(v) = verification {
            let code = codes::generate(cx, kind, Some(value), v.clone())?;
            after.push(sql::retire_codes(target, &tag, kind.as_str(), &now));
            after.push(sql::insert_code(
                target,
                &tag,
                kind.as_str(),
                &code.digest,
                code.value.as_deref(),
                &code.expires_at,
                &now,
            ));
            new_codes.push(code);
        }
    }

    let fields = serde_json::to_string(&touched.iter().map(|f| f.name()).collect::<Vec<_>>()).unwrap_or_default();
    let mut batch = vec![
        sql::update_user(who, target, cmd.precondition.as_ref(), &sets, &conditions, &now, &tag),
        sql::insert_event(target, &tag, Some(who.key_id), "update", rules.dialect, &fields, &now),
    ];
    batch.extend(after);

    let mut results = cx.batch(batch).await?;
    let Some(row) = results.first_mut().and_then(|rows| rows.pop()) else {
        return Err(match explain_miss(cx, who, target).await {
            // Everything else held, so the proof's condition failed: a concurrent change won.
            Failure::PreconditionFailed if cmd.precondition.is_none() && !conditions.is_empty() => {
                Failure::ProofRejected(if matches!(proof, Some(Proof::Code(_))) {
                    ProofKind::VerificationCode
                } else {
                    ProofKind::CurrentPassword
                })
            }
            other => other,
        });
    };
    let user = User::from_row(row).map_err(Failure::Internal)?;
    let mut out = Updated { user, email_code: None, phone_code: None };
    for code in new_codes {
        match &code.verification {
            Verification::Return => match code.kind {
                Kind::Phone => out.phone_code = Some(code.plain),
                _ => out.email_code = Some(code.plain),
            },
            Verification::Send { .. } => codes::send(cx, &out.user, &code).await?,
        }
    }
    Ok(out)
}

/// Read a user as a key may see it: itself, or anyone in its org for an admin.
pub async fn read_user<P: Platform>(
    cx: &Ctx<'_, P>,
    rules: &Rules,
    who: &KeyPrincipal,
    target: &Target,
) -> Result<User, Failure> {
    authorize(cx, rules, who, target, &[], false).await?;
    read_guarded(cx, who, target).await
}

pub(crate) async fn read_guarded<P: Platform>(cx: &Ctx<'_, P>, who: &KeyPrincipal, target: &Target) -> Result<User, Failure> {
    match cx.query(sql::select_user_guarded(who, target)).await?.into_iter().next() {
        Some(row) => User::from_row(row).map_err(Failure::Internal),
        None => Err(explain_miss(cx, who, target).await),
    }
}

/// Policy, with one refinement that needs the store: a user key aimed at someone else learns
/// 403 only when that someone is in its own org; otherwise 404, as if nobody were there.
pub(crate) async fn authorize<P: Platform>(
    cx: &Ctx<'_, P>,
    rules: &Rules,
    who: &KeyPrincipal,
    target: &Target,
    touched: &[Field],
    proof_given: bool,
) -> Result<(), Failure> {
    match rules.authorize(who.role, target.is(who), touched, proof_given) {
        Ok(()) => Ok(()),
        Err(Denial::NotSelf) => Err(match probe(cx, who, target).await? {
            Probe::TargetPresent => Failure::Forbidden(Denial::NotSelf),
            Probe::TargetAbsent => Failure::NotFound,
            Probe::KeyDemoted => Failure::RoleNotHeld,
            Probe::KeyRevoked => Failure::Unauthenticated,
        }),
        Err(d) => Err(Failure::Forbidden(d)),
    }
}
