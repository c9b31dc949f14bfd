//! The lifecycle's vocabulary: what happened to a user (audit actions), the kinds of one-time
//! code, and a user about to be created.

use super::{Field, Patch, UserPatch};
use crate::values::Email;

/// What a committed change did, as the audit trail (and the change feed) names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Create,
    Update,
    Deactivate,
    Reactivate,
    Delete,
    PasswordResetRequested,
    EmailCodeRequested,
    PhoneCodeRequested,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Deactivate => "deactivate",
            Action::Reactivate => "reactivate",
            Action::Delete => "delete",
            Action::PasswordResetRequested => "password_reset_requested",
            Action::EmailCodeRequested => "email_code_requested",
            Action::PhoneCodeRequested => "phone_code_requested",
        }
    }

    /// The change feed's name for it.
    pub fn feed_type(self) -> &'static str {
        match self {
            Action::Create => "user.created",
            Action::Update => "user.updated",
            Action::Deactivate => "user.deactivated",
            Action::Reactivate => "user.reactivated",
            Action::Delete => "user.deleted",
            Action::PasswordResetRequested => "user.password.reset_requested",
            Action::EmailCodeRequested => "user.email.code_requested",
            Action::PhoneCodeRequested => "user.phone.code_requested",
        }
    }
}

/// What a one-time code proves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeKind {
    Email,
    Phone,
    PasswordReset,
}

impl CodeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CodeKind::Email => "email",
            CodeKind::Phone => "phone",
            CodeKind::PasswordReset => "password_reset",
        }
    }
}

/// A user to create: an org, an email (every user has one), and whatever else the caller sets,
/// as a patch over an empty user.
#[derive(Debug, Clone, PartialEq)]
pub struct NewUser {
    pub org_id: i64,
    pub patch: UserPatch,
}

impl NewUser {
    pub fn new(org_id: i64, email: Email, mut patch: UserPatch) -> Self {
        patch.email = Patch::Set(email);
        Self { org_id, patch }
    }

    /// The fields its `create` event names: the email first (every new user is given one), then
    /// each other field given a value a new row would not have anyway (a flag set to `false` is
    /// the default, not a change), in canonical order.
    pub fn event_fields(&self) -> Vec<Field> {
        let mut fields = vec![Field::Email];
        fields.extend(self.patch.touched().into_iter().filter(|f| *f != Field::Email && !self.is_default(*f)));
        fields
    }

    fn is_default(&self, field: Field) -> bool {
        let p = &self.patch;
        let flag = match field {
            Field::EmailVerified => &p.email_verified,
            Field::PhoneVerified => &p.phone_verified,
            Field::Admin => &p.admin,
            Field::FromApi => &p.from_api,
            Field::Deactivated => &p.deactivated,
            _ => return false,
        };
        *flag == Patch::Set(false)
    }
}

/// A page of an org's users, optionally narrowed to one email or username (given as their
/// canonical comparison keys), after a keyset cursor.
#[derive(Debug, Clone, PartialEq)]
pub struct UserListing {
    pub org_id: i64,
    pub email: Option<String>,
    pub username: Option<String>,
    /// Only users with an id above this one (the cursor of the previous page).
    pub after_id: Option<i64>,
    pub limit: u32,
}

impl UserListing {
    /// The most users one page may hold.
    pub const MAX_LIMIT: u32 = 200;
    pub const DEFAULT_LIMIT: u32 = 50;
}

/// A page of orgs, in id order; pages hold as many as a user listing's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgListing {
    /// Only orgs with an id above this one (the cursor of the previous page).
    pub after_id: Option<i64>,
    pub limit: u32,
}

impl Default for OrgListing {
    fn default() -> Self {
        Self { after_id: None, limit: UserListing::DEFAULT_LIMIT }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new_user(patch: UserPatch) -> NewUser {
        NewUser::new(1, Email::parse("a@b.example").unwrap(), patch)
    }

    #[test]
    fn a_create_event_names_the_email_first_and_no_flag_left_at_its_default() {
        let mut patch = UserPatch { admin: Patch::Set(false), from_api: Patch::Set(true), ..Default::default() };
        patch.name = Patch::Set(crate::values::ShortText::parse("N").unwrap());
        patch.username = Patch::Set(crate::values::Username::parse("n").unwrap());
        assert_eq!(new_user(patch).event_fields(), [Field::Email, Field::Username, Field::Name, Field::FromApi]);
        let admin = UserPatch { admin: Patch::Set(true), email_verified: Patch::Set(false), ..Default::default() };
        assert_eq!(new_user(admin).event_fields(), [Field::Email, Field::Admin]);
        assert_eq!(new_user(UserPatch::default()).event_fields(), [Field::Email]);
    }
}
