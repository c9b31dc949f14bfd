//! The core's one error type. Dialects turn it into their own wire format; nothing here knows
//! about status codes or bodies.

use crate::model::Field;
use crate::policy::Denial;

/// One bad input field, named the way the client's dialect names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// No key, an unknown key, a revoked key, or a key whose user is gone.
    Unauthenticated,
    Forbidden(Denial),
    /// The key is valid but its admin role is no longer held (demoted since it was issued).
    RoleNotHeld,
    /// Missing, or in another org (never 403 across orgs: that would confirm it exists).
    NotFound,
    Invalid(Vec<FieldError>),
    /// A unique field (email, username) is taken in the org.
    Conflict(Field),
    /// `If-Match` named a version that is no longer current.
    PreconditionFailed,
    PayloadTooLarge,
    UnsupportedMediaType,
    /// The body is not JSON, or not the JSON shape the dialect needs at the top level.
    MalformedBody(String),
    MethodNotAllowed,
    /// A `currentPassword` or verification code that doesn't match (or has expired, or was used).
    ProofRejected(ProofKind),
    /// A proof sent for someone else's password. Only a user's own change takes one; an admin
    /// setting another user's password needs none, and checking one would let it guess that
    /// user's password at our expense (README, "Choices").
    ProofNotAccepted(ProofKind),
    /// Too many attempts at a proof for this user; try again after this many seconds.
    RateLimited {
        retry_after: u32,
    },
    /// Storage failed for a reason that is ours, not the client's.
    Internal(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProofKind {
    CurrentPassword,
    VerificationCode,
}

impl Failure {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Failure::Invalid(vec![FieldError::new(field, message)])
    }
}
