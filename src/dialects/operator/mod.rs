//! The operator API (`/admin/v1`): orgs, the user lifecycle, API keys and the audit trail, in
//! canonical snake_case JSON; errors are RFC 9457 `application/problem+json`. Callers are the
//! operator (the `ADMIN_TOKEN` secret) or an org admin's API key for its own org.

mod routes;
mod wire;

pub use routes::serve;
pub use wire::{parse_new_key, parse_new_org, parse_new_user, parse_patch, parse_rotation};

use super::problem;
use crate::error::Refusal;
use crate::http::Response;
use crate::model::{Field, Shown};
use crate::policy::{Access::AdminOnly, Rules};

/// Everything here is an admin's business: each canonical field that is not a secret, the
/// password (write-only), and the lifecycle state (through its own endpoints).
pub static RULES: Rules = Rules {
    dialect: "admin",
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
        (Field::Gender, AdminOnly),
        (Field::RoleTitle, AdminOnly),
        (Field::BasedIn, AdminOnly),
        (Field::LinkedinProfileUrl, AdminOnly),
        (Field::Picture, AdminOnly),
        (Field::Company, AdminOnly),
        (Field::Website, AdminOnly),
        (Field::Country, AdminOnly),
        (Field::Bio, AdminOnly),
        (Field::Timezone, AdminOnly),
        (Field::Admin, AdminOnly),
        (Field::Auth0Uid, AdminOnly),
        (Field::PublisherId, AdminOnly),
        (Field::AgencyId, AdminOnly),
        (Field::NetworkId, AdminOnly),
        (Field::AdvertiserId, AdminOnly),
        (Field::PaymentDate, AdminOnly),
        (Field::CompanyType, AdminOnly),
        (Field::PublisherType, AdminOnly),
        (Field::RoleAlias, AdminOnly),
        (Field::FromApi, AdminOnly),
        (Field::Attributes, AdminOnly),
        (Field::ConsentedAt, AdminOnly),
        (Field::ConsentMethod, AdminOnly),
        (Field::ExternalRef, AdminOnly),
        (Field::Deactivated, AdminOnly),
        (Field::Password, AdminOnly),
    ],
    shown: Shown::All,
};

const STYLE: problem::Style = problem::Style {
    invalid_status: 422,
    field_name: Field::name,
    auth_hint: "Send the operator token or an admin API key as a Bearer token",
};

pub fn render_error(r: &Refusal) -> Response {
    problem::render(r, &STYLE)
}
