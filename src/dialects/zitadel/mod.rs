//! ZITADEL user service v2 (seed 001), over its REST gateway (`PUT /v2/users/human/{userId}`)
//! and the Connect protocol with the JSON codec (`POST /zitadel.user.v2.UserService/...`).
//!
//! Proto3 JSON: lowerCamelCase names (the proto's snake_case names are accepted too), `null`
//! means unset, int64 as strings, timestamps RFC 3339 with `Z`. A oneof with more than one member
//! set is invalid, as protojson has it — so the seed's illustrative curl body, which sets every
//! member of every oneof, is refused with each conflict named (tested verbatim).

mod errors;
mod parse;
mod proto;
mod render;
mod routes;

pub use errors::render_error;
pub use parse::{parse_password_reset, parse_update, parse_verify};
pub use render::{details, render_details, render_password_reset, render_update_human, render_update_user};
pub use routes::{connect, rest, unimplemented};

use crate::model::{Field, Shown};
use crate::policy::{Access::*, Rules};

pub static RULES: Rules = Rules {
    dialect: "zitadel",
    admin_keys_only: false,
    fields: &[
        (Field::Username, SelfService),
        (Field::GivenName, SelfService),
        (Field::FamilyName, SelfService),
        (Field::NickName, SelfService),
        (Field::Name, SelfService),
        (Field::PreferredLanguage, SelfService),
        (Field::Gender, SelfService),
        (Field::Email, SelfService),
        (Field::EmailVerified, AdminOnly),
        (Field::EmailCodeReturn, AdminOnly),
        (Field::Phone, SelfService),
        (Field::PhoneVerified, AdminOnly),
        (Field::PhoneCodeReturn, AdminOnly),
        (Field::Password, SelfWithProof),
        (Field::PasswordHashImport, AdminOnly),
        (Field::PasswordCodeReturn, AdminOnly),
    ],
    // Responses carry `details` (version, dates, org) and codes: the pipeline's own fields.
    shown: Shown::ESSENTIALS,
};

pub fn wire_name(field: Field) -> &'static str {
    match field {
        Field::GivenName => "profile.givenName",
        Field::FamilyName => "profile.familyName",
        Field::NickName => "profile.nickName",
        Field::Name => "profile.displayName",
        Field::PreferredLanguage => "profile.preferredLanguage",
        Field::Gender => "profile.gender",
        Field::Email => "email.email",
        Field::EmailVerified => "email.isVerified",
        Field::EmailCodeReturn => "email.returnCode",
        Field::Phone => "phone.phone",
        Field::PhoneVerified => "phone.isVerified",
        Field::PhoneCodeReturn => "phone.returnCode",
        Field::Password => "password.password",
        Field::PasswordHashImport => "password.hashedPassword",
        Field::PasswordCodeReturn => "returnCode",
        f => f.name(),
    }
}

/// The two ways this API is spoken. Errors look different on each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Rest,
    Connect,
}

/// Which request message a body is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Message {
    /// `UpdateHumanUserRequest`: a `profile` replaces the profile (given and family name required).
    UpdateHumanUser,
    /// `UpdateUserRequest`: `{userId, username?, human?: {...}}`, every field optional.
    UpdateUser,
}

#[cfg(test)]
mod tests;
