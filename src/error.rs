//! Errors by layer: `Failure` is the core's (the pipeline returns nothing else), `HttpError` the
//! HTTP layer's (a request no dialect could read), and `Refusal` either, which is what a dialect
//! turns into its own wire format. Nothing here knows about status codes or bodies.

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

/// A write without `If-Match` whose state kept moving under it round after round: the client set
/// no precondition, so not a 412.
pub const KEPT_CHANGING: Failure =
    Failure::StateConflict("The resource kept changing while this request was applied; send it again");

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
    /// The resource is in a state that allows this only once (a key already rotated).
    StateConflict(&'static str),
    /// `If-Match` named a version that is no longer current.
    PreconditionFailed,
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

/// What the HTTP layer refuses before a dialect reads the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpError {
    PayloadTooLarge,
    UnsupportedMediaType,
    /// The body is not JSON, or could not be read.
    MalformedBody(String),
    MethodNotAllowed,
}

/// Why a request got no success: the HTTP layer's refusal or the core's failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    Http(HttpError),
    Core(Failure),
}

impl From<Failure> for Refusal {
    fn from(f: Failure) -> Self {
        Refusal::Core(f)
    }
}

impl From<HttpError> for Refusal {
    fn from(e: HttpError) -> Self {
        Refusal::Http(e)
    }
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
