//! SCIM 2.0 (RFC 7643 schemas, RFC 7644 protocol) served at `/scim/v2`: Users and Groups of the
//! calling org admin's org, on the one pipeline (docs/scim.md). The pure parts — filter and
//! PATCH-path parsing, PatchOp application, the schemas — are used by `routes`, which owns the
//! endpoints; `wire` maps resources to canonical terms, `errors` renders RFC 7644 §3.12 errors.

pub mod discovery;
pub mod errors;
pub mod etag;
pub mod filter;
pub mod patch;
pub mod path;
pub mod resource;
mod routes;
pub mod schema;
pub mod wire;

pub use routes::serve;

use crate::model::{Field, Shown};
use crate::policy::{Access::AdminOnly, Rules};

/// What SCIM writes: the fields its User maps to, all an org admin's business.
pub static RULES: Rules = Rules {
    dialect: "scim",
    admin_keys_only: true,
    fields: &[
        (Field::Username, AdminOnly),
        (Field::Email, AdminOnly),
        (Field::EmailVerified, AdminOnly),
        (Field::Phone, AdminOnly),
        (Field::PhoneVerified, AdminOnly),
        (Field::Name, AdminOnly),
        (Field::GivenName, AdminOnly),
        (Field::FamilyName, AdminOnly),
        (Field::NickName, AdminOnly),
        (Field::PreferredLanguage, AdminOnly),
        (Field::RoleTitle, AdminOnly),
        (Field::Timezone, AdminOnly),
        (Field::ExternalRef, AdminOnly),
        (Field::Deactivated, AdminOnly),
        (Field::Scim, AdminOnly),
        (Field::Password, AdminOnly),
    ],
    shown: Shown::All,
};
