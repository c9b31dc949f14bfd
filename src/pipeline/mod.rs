//! The one pipeline every dialect shares: authenticate → policy → plan → one D1 batch → outcome.
//! Dialects hand it canonical commands and get canonical outcomes or `Failure`s back; it never
//! writes SQL (that is `store`) and never sees a wire format (that is `dialects`). See
//! docs/ARCHITECTURE.md, "The pipeline".

mod admin;
mod auth;
mod codes;
pub mod feed;
mod groups;
mod guard;
mod lifecycle;
mod plan;

pub use admin::{
    create_key, create_org, list_events, list_keys, list_orgs, read_org, revoke_key, rotate_key, IssuedKey, MAX_OVERLAP_SECONDS,
};
pub use auth::{authenticate_key, authenticate_operator_or_key, ensure_key_holds, presented_key};
pub use codes::{request_password_reset, verify_contact, RETRY_AFTER_SECONDS};
pub use groups::{
    create_group, delete_group, key_legacy_names, list_groups, list_scim_users, read_group, read_user_and_groups, replace_group,
    Group, GroupState, ListPage, Listing, Member, ScimUser,
};
pub use lifecycle::{create_user, delete_user, list_users, read_user, set_deactivated, Page};
pub use plan::{update_user, UpdateCommand, Updated};

use crate::error::Failure;
use crate::model::{Action, Field, Principal, Target};
use crate::platform::{Ctx, Platform};
use crate::store::events::Event;
use crate::store::Stmt;
use crate::store::{DbError, Unique};
use codes::NewCode;

impl From<DbError> for Failure {
    fn from(e: DbError) -> Self {
        let field = match e.violation() {
            Some(Unique::Email) => Some(Field::Email),
            Some(Unique::Username) => Some(Field::Username),
            Some(Unique::ExternalId) => Some(Field::ExternalRef),
            Some(Unique::GroupName | Unique::Internal) | None => None,
        };
        match field {
            Some(field) => Failure::Conflict(field),
            None => Failure::Internal(e.message),
        }
    }
}

/// When and under which random tag one write happens: the tag marks the row it writes, so
/// the statements after it in the same batch (audit event, codes) land only if it did.
pub(crate) struct Write {
    pub now: String,
    pub tag: String,
    /// The id of the write's event (the change feed's `webhook-id`).
    pub event_id: String,
}

impl Write {
    pub fn new<P: Platform>(cx: &Ctx<'_, P>) -> Result<Self, Failure> {
        // One call for both: each is a crossing to the host's Web Crypto on the edge.
        let random = cx.random::<32>()?;
        let (tag, id) = random.split_at(16);
        Ok(Self { now: now_rfc3339(cx), tag: crate::apikey::hex(tag), event_id: uuid_of(id.try_into().unwrap_or_default()) })
    }

    /// The write's event row: what happened, through which API, to which fields.
    pub fn event(&self, target: &Target, who: &Principal, action: Action, dialect: &str, fields: &[Field]) -> Stmt {
        self.event_with(target, who, (action, dialect, fields), &self.event_id, None)
    }

    /// The event of this write's user update (`users::update`): the fields it changed, if any.
    pub fn update_event(&self, target: &Target, who: &Principal, action: Action, dialect: &str) -> Stmt {
        let e = event_of(&self.event_id, (action, dialect, &[]), None);
        crate::store::events::insert_for_update(target, &self.tag, who, &e, &self.now)
    }

    /// The event of a code this write makes: only if the code itself was stored.
    pub fn code_event(
        &self,
        target: &Target,
        who: &Principal,
        (action, dialect): (Action, &str),
        id: &str,
        code: &NewCode,
    ) -> Stmt {
        let e = event_of(id, (action, dialect, &[]), Some(code.detail()));
        crate::store::events::insert_for_code(target, &self.tag, who, &e, &code.digest, &self.now)
    }

    /// Another event of the same write, with its own id and detail.
    pub fn event_with(
        &self,
        target: &Target,
        who: &Principal,
        (action, dialect, fields): (Action, &str, &[Field]),
        id: &str,
        detail: Option<String>,
    ) -> Stmt {
        let e = event_of(id, (action, dialect, fields), detail);
        crate::store::events::insert(target, &self.tag, who, &e, &self.now)
    }
}

/// An event of `action`, through `dialect`, naming `fields`, under the id `id`.
fn event_of<'a>(id: &'a str, (action, dialect, fields): (Action, &'a str, &'a [Field]), detail: Option<String>) -> Event<'a> {
    Event { id, action: action.as_str(), kind: Some(action.feed_type()), dialect, fields, detail }
}

/// One D1 batch: `lead` first when there is one (the release of a stale claim on the address the
/// write assigns, so the write can take it), then `batch`. The results of `batch` alone.
pub(crate) async fn batch_after<P: Platform>(
    cx: &Ctx<'_, P>,
    lead: Option<Stmt>,
    batch: Vec<Stmt>,
) -> Result<Vec<Vec<crate::store::Row>>, Failure> {
    let skip = usize::from(lead.is_some());
    let mut all: Vec<Stmt> = lead.into_iter().collect();
    all.extend(batch);
    let mut results = cx.batch(all).await?;
    results.drain(..skip);
    Ok(results)
}

/// A `users` row (`store::users::COLUMNS`) as the user it holds, decoded straight from D1's text.
pub(crate) fn user_of(row: &crate::store::Row) -> Result<crate::model::User, Failure> {
    row.decode().map_err(|e| Failure::Internal(format!("bad users row: {e}")))
}

pub(crate) fn now_rfc3339<P: Platform>(cx: &Ctx<'_, P>) -> String {
    crate::values::rfc3339_millis(cx.now_ms())
}

pub(crate) fn new_uuid<P: Platform>(cx: &Ctx<'_, P>) -> Result<String, Failure> {
    Ok(uuid_of(cx.random::<16>()?))
}

/// A version 4 UUID from 16 random bytes.
fn uuid_of(random: [u8; 16]) -> String {
    uuid::Builder::from_random_bytes(random).into_uuid().to_string()
}
