//! One-time codes: email and phone verification, password resets. A code is 8 letters and
//! digits, stored only as a SHA-256 digest, single use, expiring after an hour; checking one is
//! rate-limited per user and compares digests in constant time.

use super::guard::{authorize, explain_miss};
use super::Write;
use crate::apikey;
use crate::error::{Failure, ProofKind};
use crate::model::{Action, CodeKind as Kind, Field, KeyPrincipal, Principal, Target, User, Verification};
use crate::platform::{apart, Ctx, Platform};
use crate::policy::Rules;
use crate::store::codes::{self as stored, NewCodeRow};
use crate::store::users::{self, Condition, Update};
use crate::store::RowExt;
use serde_json::json;
use subtle::ConstantTimeEq;

const CODE_LEN: usize = 8;
const CODE_TTL_MS: i64 = 60 * 60 * 1000;
const ALPHABET: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
/// What a caller is told to wait when the attempt limit is reached (the limiter's period).
pub const RETRY_AFTER_SECONDS: u32 = 60;

pub struct NewCode {
    pub kind: Kind,
    pub plain: String,
    pub digest: String,
    pub value: Option<String>,
    /// `value`'s comparison key: a live code for any spelling of the same contact is that contact's.
    pub value_key: Option<String>,
    pub expires_at: String,
    pub verification: Verification,
}

impl NewCode {
    /// What its event records: where it goes, until when, and the link template — never the
    /// code, which the feed derives again for webhook deliveries only.
    pub fn detail(&self) -> String {
        let template = match &self.verification {
            Verification::Send { url_template: Some(t) } => Some(t.as_str().to_string()),
            _ => None,
        };
        serde_json::json!({ "to": self.value, "expires_at": self.expires_at, "url_template": template }).to_string()
    }

    /// What storage keeps of it: never the code itself.
    pub fn row(&self) -> NewCodeRow<'_> {
        NewCodeRow {
            kind: self.kind,
            digest: &self.digest,
            value: self.value.as_deref(),
            value_key: self.value_key.as_deref(),
            expires_at: &self.expires_at,
        }
    }
}

impl std::fmt::Debug for NewCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewCode").field("kind", &self.kind).finish_non_exhaustive()
    }
}

/// A uniformly random code (rejection sampling, so no letter is likelier than another).
pub fn code_from(random: &[u8]) -> Option<String> {
    let limit = 256 - (256 % ALPHABET.len());
    let code: String = random
        .iter()
        .filter(|b| (**b as usize) < limit)
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .take(CODE_LEN)
        .collect();
    (code.len() == CODE_LEN).then_some(code)
}

/// The code an event carries: HMAC-SHA256 of the event's id under `CODE_SECRET`, so that the
/// change feed can deliver it (again, on a retry) while D1 holds only its digest.
pub fn code_for_event(secret: &str, event_id: &str) -> Option<String> {
    use hmac::{Hmac, KeyInit, Mac};
    let mut bytes = Vec::with_capacity(64);
    for counter in [1u8, 2] {
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).ok()?;
        mac.update(event_id.as_bytes());
        mac.update(&[counter]);
        bytes.extend(mac.finalize().into_bytes());
    }
    code_from(&bytes)
}

/// A new code for the event `event_id`: derived when a `CODE_SECRET` is set, random otherwise.
/// `contact`: the address or number it verifies, as sent and as compared (none for a reset).
pub fn generate<P: Platform>(
    cx: &Ctx<'_, P>,
    kind: Kind,
    contact: Option<(String, String)>,
    verification: Verification,
    event_id: &str,
) -> Result<NewCode, Failure> {
    let derived = cx.config().code_secret.as_deref().and_then(|s| code_for_event(s, event_id));
    let plain = match derived {
        Some(code) => code,
        None => code_from(&cx.random::<64>()?).ok_or_else(|| Failure::Internal("random source exhausted".into()))?,
    };
    let (value, value_key) = contact.unzip();
    Ok(NewCode {
        kind,
        digest: apikey::digest(&plain),
        plain,
        value,
        value_key,
        expires_at: crate::values::rfc3339_millis(cx.now_ms() + CODE_TTL_MS),
        verification,
    })
}

/// Count a message about to be sent, per target user, per recipient and per org (each its own
/// limiter); refuse once any says so. Keeps the operator's own sender from being used to flood a
/// mailbox or pump SMS. The operator itself is not limited. `recipient` is the address's canonical
/// key, so that its spellings share one count.
pub async fn limit_sends<P: Platform>(cx: &Ctx<'_, P>, who: &Principal, target: &Target, recipient: &str) -> Result<(), Failure> {
    let Principal::Key(k) = who else { return Ok(()) };
    let user = user_bucket(k, target);
    let recipient_key = apikey::digest(recipient);
    for key in [format!("send-user:{user}"), format!("send-to:{recipient_key}"), format!("send-org:{}", k.org_id)] {
        count_against(cx, &key).await?;
    }
    Ok(())
}

/// The target user's name in the send limiters. A key's own user is one bucket whichever way the
/// path spells it (its id or its UUID). Another user (an admin's target) is named as the path
/// names it: a code sent with an address change is limited before D1 says who that is, so an
/// admin alternating a user's two spellings has two buckets there, under one org bucket and one
/// per address. A reset link is counted under the id D1 gave (`limit_reset_link`).
fn user_bucket(k: &KeyPrincipal, target: &Target) -> String {
    match target {
        _ if target.is(k) => k.user_id.to_string(),
        Target::Id(id) => id.to_string(),
        Target::Uuid(u) => u.to_ascii_lowercase(),
    }
}

/// Count an attempt at a proof for a user; refuse once the limiter says so.
pub async fn limit_user<P: Platform>(cx: &Ctx<'_, P>, what: &str, user_id: i64) -> Result<(), Failure> {
    count_against(cx, &format!("{what}:{user_id}")).await
}

/// One attempt counted against a limiter's `key`; refused once it is used up.
async fn count_against<P: Platform>(cx: &Ctx<'_, P>, key: &str) -> Result<(), Failure> {
    match cx.rate_limit(key).await {
        Ok(true) => Ok(()),
        Ok(false) => Err(Failure::RateLimited { retry_after: RETRY_AFTER_SECONDS }),
        Err(e) => Err(e.into()),
    }
}

pub struct LiveCode {
    pub id: i64,
    /// The contact it was sent to, as sent and as compared.
    pub value: Option<String>,
    pub value_key: Option<String>,
}

/// Why a code-guarded statement matched nothing: the key and user the usual way; if both are
/// fine, the code itself is the problem.
async fn code_miss<P: Platform>(cx: &Ctx<'_, P>, who: &Principal, target: &Target) -> Failure {
    match explain_miss(cx, who, target).await {
        Failure::PreconditionFailed => Failure::ProofRejected(ProofKind::VerificationCode),
        other => other,
    }
}

/// Check a presented code against the newest unused one of its kind.
pub async fn check<P: Platform>(
    cx: &Ctx<'_, P>,
    who: &Principal,
    target: &Target,
    kind: Kind,
    presented: &str,
) -> Result<LiveCode, Failure> {
    let row = cx.query(stored::active(who, target, kind)).await?.into_iter().next();
    let Some(row) = row else {
        // No live code, or no such user for this key: tell them apart the usual way.
        return Err(code_miss(cx, who, target).await);
    };
    limit_user(cx, "code", row.int("user_id").unwrap_or_default()).await?;
    let expected = row.text("digest").unwrap_or_default();
    let matches: bool = apikey::digest(presented).as_bytes().ct_eq(expected.as_bytes()).into();
    let expired = row.text("expires_at").is_none_or(|at| at <= super::now_rfc3339(cx));
    if !matches || expired {
        return Err(Failure::ProofRejected(ProofKind::VerificationCode));
    }
    Ok(LiveCode { id: row.int("id").unwrap_or_default(), value: row.text("value"), value_key: row.text("value_key") })
}

/// Queue the message that delivers a code (email or SMS happens downstream).
pub async fn send<P: Platform>(cx: &Ctx<'_, P>, user: &User, code: &NewCode) -> Result<(), Failure> {
    let url = match &code.verification {
        Verification::Send { url_template: Some(t) } => Some(t.render(&user.uuid, &code.plain, &user.org_id.to_string())),
        _ => None,
    };
    let (kind, to) = match code.kind {
        Kind::Email => ("email_verification", code.value.clone()),
        Kind::Phone => ("phone_verification", code.value.clone()),
        Kind::PasswordReset => ("password_reset", Some(user.email.clone())),
    };
    let message = json!({
        "type": kind,
        "user_id": user.uuid,
        "org_id": user.org_id.to_string(),
        "to": to,
        "code": code.plain,
        "url": url,
        "expires_at": code.expires_at,
    });
    cx.notify(&message).await.map_err(Failure::from)
}

/// Redeem an email or phone verification code: the address it was sent to becomes verified.
pub async fn verify_contact<P: Platform>(
    cx: &Ctx<'_, P>,
    rules: &Rules,
    who: &Principal,
    target: &Target,
    kind: Kind,
    presented: &str,
) -> Result<User, Failure> {
    authorize(cx, rules, who, target, &[], false).await?;
    let live = check(cx, who, target, kind, presented).await?;
    let w = Write::new(cx)?;
    let flag = if kind == Kind::Phone { Field::PhoneVerified } else { Field::EmailVerified };
    let mut update = Update { verify: vec![kind], fields: vec![flag], ..Default::default() };
    update.conditions.push(Condition::CodeLive { id: live.id, now: w.now.clone() });
    update.conditions.push(Condition::ContactIs { kind, value: live.value.unwrap_or_default(), key: live.value_key });
    let batch = vec![
        users::update(who, target, None, &update, &w.now, &w.tag),
        w.update_event(target, who, Action::Update, rules.dialect),
        stored::consume(live.id, target, &w.tag, &w.now),
    ];
    let mut results = cx.batch(batch).await?;
    match results.first_mut().and_then(|r| r.pop()) {
        Some(row) => super::user_of(&row),
        // The key and the user are fine, so the code was used meanwhile or the address changed.
        None => Err(code_miss(cx, who, target).await),
    }
}

/// Why a reset link was not sent: the user's email is not verified (or there is none).
pub const NO_VERIFIED_EMAIL: &str = "The user has no verified email to send a password reset to";

/// Start a password reset: a code is made and sent to the user's verified email, or (admins
/// only) returned to the caller.
pub async fn request_password_reset<P: Platform>(
    cx: &Ctx<'_, P>,
    rules: &Rules,
    who: &Principal,
    target: &Target,
    verification: Verification,
) -> Result<(User, Option<String>), Failure> {
    let touched: &[Field] = if verification == Verification::Return { &[Field::PasswordCodeReturn] } else { &[] };
    authorize(cx, rules, who, target, touched, false).await?;
    let w = Write::new(cx)?;
    let code = generate(cx, Kind::PasswordReset, None, verification, &w.event_id)?;
    let sends = matches!(code.verification, Verification::Send { .. });
    if sends {
        apart(limit_reset_link(cx, who, target)).await?;
    }
    let batch = vec![
        // A link goes only to a verified address, as ZITADEL sends it to the verified email:
        // otherwise whoever may change the email (a leaked user key) could have the reset sent
        // to a mailbox of its own choosing and take over the password.
        users::touch(who, target, &w.tag, sends),
        stored::retire(target, &w.tag, Some(Kind::PasswordReset), &w.now),
        stored::insert(target, &w.tag, &code.row(), &w.now),
        w.event_with(target, who, (Action::PasswordResetRequested, rules.dialect, &[]), &w.event_id, Some(code.detail())),
    ];
    let mut results = cx.batch(batch).await?;
    let Some(row) = results.first_mut().and_then(|r| r.pop()) else {
        return Err(match explain_miss(cx, who, target).await {
            // The key and the user are fine: the user has no verified email to send to.
            Failure::PreconditionFailed if sends => Failure::StateConflict(NO_VERIFIED_EMAIL),
            other => other,
        });
    };
    let user = super::user_of(&row)?;
    match code.verification {
        Verification::Return => Ok((user, Some(code.plain))),
        Verification::Send { .. } => {
            send(cx, &user, &code).await?;
            Ok((user, None))
        }
    }
}

/// Count a reset link against the send limiters under the user's id and its address's canonical
/// key, read first: the path may name the user two ways and many users may share one address, and
/// neither may multiply the limits (an admin setting one address on many users and asking for
/// links would otherwise mail it at the org's whole rate). One more D1 call, for a rare request.
async fn limit_reset_link<P: Platform>(cx: &Ctx<'_, P>, who: &Principal, target: &Target) -> Result<(), Failure> {
    let Some(row) = cx.query(users::reset_recipient(who, target)).await?.into_iter().next() else {
        return Err(explain_miss(cx, who, target).await);
    };
    let (Some(id), Some(address), Some(1)) = (row.int("id"), row.text("email_key"), row.int("email_verified")) else {
        return Err(Failure::StateConflict(NO_VERIFIED_EMAIL));
    };
    limit_sends(cx, who, &Target::Id(id), &address).await
}

/// The current hash for a `currentPassword` check, after counting the attempt.
pub async fn current_hash<P: Platform>(cx: &Ctx<'_, P>, who: &Principal, target: &Target) -> Result<Option<String>, Failure> {
    let Some(row) = cx.query(users::password_hash(who, target)).await?.into_iter().next() else {
        return Err(explain_miss(cx, who, target).await);
    };
    limit_user(cx, "password", row.int("id").unwrap_or_default()).await?;
    Ok(row.text("password_hash"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_eight_alphanumerics_without_bias() {
        let bytes: Vec<u8> = (0..=255).collect();
        let code = code_from(&bytes).unwrap();
        assert_eq!(code.len(), 8);
        assert!(code.chars().all(|c| c.is_ascii_alphanumeric()));
        // Bytes at or above 248 would bias the first letters; they are skipped.
        assert_eq!(code_from(&[255, 250, 248, 0, 1, 2, 3, 4, 5, 6, 7]).unwrap(), "ABCDEFGH");
        assert_eq!(code_from(&[255; 64]), None);
    }
}
