//! The lifecycle's vocabulary: what happened to a user (audit actions), the kinds of one-time
//! code, and a user about to be created.

use super::{Patch, UserPatch};
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
