use super::{explain_miss, now_rfc3339, probe, random_tag, Probe};
use crate::error::Failure;
use crate::http::Precondition;
use crate::model::{KeyPrincipal, Target, User, UserPatch};
use crate::password;
use crate::platform::{Ctx, Platform};
use crate::policy::{Denial, Rules};
use crate::store::{sql, SqlValue};

/// A dialect's request, in canonical terms.
#[derive(Debug, Clone)]
pub struct UpdateCommand {
    pub target: Target,
    pub patch: UserPatch,
    pub precondition: Option<Precondition>,
}

/// Apply a patch: policy first (nothing is read or written for a refused request), then one
/// D1 batch holding the guarded conditional UPDATE and its audit event.
pub async fn update_user<P: Platform>(
    cx: &Ctx<'_, P>,
    rules: &Rules,
    who: &KeyPrincipal,
    cmd: UpdateCommand,
) -> Result<User, Failure> {
    let touched = cmd.patch.touched();
    authorize(cx, rules, who, &cmd.target, &touched).await?;
    if touched.is_empty() {
        let user = read_guarded(cx, who, &cmd.target).await?;
        return match &cmd.precondition {
            Some(Precondition::Versions(vs)) if !vs.contains(&user.version) => Err(Failure::PreconditionFailed),
            _ => Ok(user),
        };
    }

    let mut assignments = cmd.patch.assignments();
    if let Some(new_password) = &cmd.patch.password {
        let salt = cx.random::<16>()?;
        let iterations = cx.config().pbkdf2_iterations;
        let phc = cx.cpu("pbkdf2", || password::hash(new_password, &salt, iterations)).map_err(Failure::Internal)?;
        assignments.push(("password_hash", SqlValue::Text(phc)));
    }

    let now = now_rfc3339(cx);
    let tag = random_tag(cx)?;
    let fields = serde_json::to_string(&touched.iter().map(|f| f.name()).collect::<Vec<_>>()).unwrap_or_default();
    let update = sql::update_user(who, &cmd.target, cmd.precondition.as_ref(), &assignments, &now, &tag);
    let event = sql::insert_event(&cmd.target, &tag, Some(who.key_id), "update", rules.dialect, &fields, &now);

    let mut results = cx.batch(vec![update, event]).await?;
    match results.first_mut().and_then(|rows| rows.pop()) {
        Some(row) => User::from_row(row).map_err(Failure::Internal),
        None => Err(explain_miss(cx, who, &cmd.target).await),
    }
}

/// Read a user as a key may see it: itself, or anyone in its org for an admin.
pub async fn read_user<P: Platform>(cx: &Ctx<'_, P>, rules: &Rules, who: &KeyPrincipal, target: &Target) -> Result<User, Failure> {
    authorize(cx, rules, who, target, &[]).await?;
    read_guarded(cx, who, target).await
}

async fn read_guarded<P: Platform>(cx: &Ctx<'_, P>, who: &KeyPrincipal, target: &Target) -> Result<User, Failure> {
    match cx.query(sql::select_user_guarded(who, target)).await?.into_iter().next() {
        Some(row) => User::from_row(row).map_err(Failure::Internal),
        None => Err(explain_miss(cx, who, target).await),
    }
}

/// Policy, with one refinement that needs the store: a user key aimed at someone else learns
/// 403 only when that someone is in its own org; otherwise 404, as if nobody were there.
async fn authorize<P: Platform>(
    cx: &Ctx<'_, P>,
    rules: &Rules,
    who: &KeyPrincipal,
    target: &Target,
    touched: &[crate::model::Field],
) -> Result<(), Failure> {
    match rules.authorize(who.role, target.is(who), touched) {
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
