//! The canonical user, its fields, the change set, and who is asking.

pub mod filter;
mod key;
mod lifecycle;
mod patch;
mod scim_document;
mod user;

pub use key::{utc_millis, utc_millis_of, KeyRequest, Scope, Scopes};
pub use lifecycle::{Action, CodeKind, NewUser, OrgListing, UserListing};
pub use patch::{NewPassword, NewSecret, PasswordChange, Patch, Proof, UserPatch, Verification};
pub use scim_document::ScimDocument;
pub use user::{Shown, User, ALWAYS_SHOWN};

/// Every canonical field a dialect can write. Its name is the canonical (snake_case) JSON name,
/// used by the operator API and in audit events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    Username,
    Email,
    EmailVerified,
    /// Asking for the email verification code back in the response (ZITADEL `returnCode`).
    EmailCodeReturn,
    Phone,
    PhoneVerified,
    PhoneCodeReturn,
    Name,
    GivenName,
    FamilyName,
    NickName,
    PreferredLanguage,
    Gender,
    RoleTitle,
    BasedIn,
    LinkedinProfileUrl,
    Picture,
    Company,
    Website,
    Country,
    Bio,
    Timezone,
    Admin,
    Auth0Uid,
    PublisherId,
    AgencyId,
    NetworkId,
    AdvertiserId,
    PaymentDate,
    CompanyType,
    PublisherType,
    RoleAlias,
    FromApi,
    Attributes,
    /// Lifecycle state: written by deactivate / reactivate (and SCIM's `active`).
    Deactivated,
    ConsentedAt,
    ConsentMethod,
    /// The identifier a provisioning client keeps for the user (SCIM `externalId`).
    ExternalRef,
    /// The SCIM attributes without a canonical field (RFC 7643 User and Enterprise User), as one
    /// JSON document only the SCIM dialect reads and writes.
    Scim,
    Password,
    /// Setting a password from a hash made elsewhere (ZITADEL `hashedPassword`).
    PasswordHashImport,
    /// Asking for a password-reset code back in the response instead of having it sent.
    PasswordCodeReturn,
}

impl Field {
    pub fn name(self) -> &'static str {
        use Field::*;
        match self {
            Username => "username",
            Email => "email",
            EmailVerified => "email_verified",
            EmailCodeReturn => "email_code",
            Phone => "phone",
            PhoneVerified => "phone_verified",
            PhoneCodeReturn => "phone_code",
            Name => "name",
            GivenName => "given_name",
            FamilyName => "family_name",
            NickName => "nick_name",
            PreferredLanguage => "preferred_language",
            Gender => "gender",
            RoleTitle => "role_title",
            BasedIn => "based_in",
            LinkedinProfileUrl => "linkedin_profile_url",
            Picture => "picture",
            Company => "company",
            Website => "website",
            Country => "country",
            Bio => "bio",
            Timezone => "timezone",
            Admin => "admin",
            Auth0Uid => "auth0_uid",
            PublisherId => "publisher_id",
            AgencyId => "agency_id",
            NetworkId => "network_id",
            AdvertiserId => "advertiser_id",
            PaymentDate => "payment_date",
            CompanyType => "company_type",
            PublisherType => "publisher_type",
            RoleAlias => "role_alias",
            FromApi => "from_api",
            Attributes => "attributes",
            Deactivated => "deactivated",
            ConsentedAt => "consented_at",
            ConsentMethod => "consent_method",
            ExternalRef => "external_id",
            Scim => "scim",
            Password => "password",
            PasswordHashImport => "password_hash_import",
            PasswordCodeReturn => "password_code",
        }
    }

    /// Core invariant (docs/ARCHITECTURE.md, "Who may write what"): fields only an admin may set, whatever
    /// a dialect's own table says. (A password without proof of the current one is handled by
    /// `policy`: it is admin-only unless the request carries proof.)
    pub fn admin_only_by_core(self) -> bool {
        use Field::*;
        matches!(
            self,
            Admin
                | EmailVerified
                | EmailCodeReturn
                | PhoneVerified
                | PhoneCodeReturn
                | PasswordHashImport
                | PasswordCodeReturn
                | Auth0Uid
                | PublisherId
                | AgencyId
                | NetworkId
                | AdvertiserId
                | PaymentDate
                | CompanyType
                | PublisherType
                | RoleAlias
                | FromApi
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Admin,
    User,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::User => "user",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "admin" => Some(Role::Admin),
            "user" => Some(Role::User),
            _ => None,
        }
    }
}

/// A caller resolved from an API key. The KV cache holds this; D1 re-checks it on every write.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct KeyPrincipal {
    pub key_id: i64,
    pub user_id: i64,
    pub user_uuid: String,
    pub org_id: i64,
    #[serde(with = "role_serde")]
    pub role: Role,
    #[serde(default)]
    pub scopes: Scopes,
    /// RFC 3339 UTC with milliseconds, as stored (so it compares as text).
    #[serde(default)]
    pub expires_at: Option<String>,
    /// When this request found the key valid (RFC 3339, as stored): the guard re-checks the
    /// expiry against this same instant. Not cached.
    #[serde(skip)]
    pub checked_at: String,
}

mod role_serde {
    use super::Role;
    pub fn serialize<S: serde::Serializer>(r: &Role, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(r.as_str())
    }
    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Role, D::Error> {
        let s: String = serde::Deserialize::deserialize(d)?;
        Role::parse(&s).ok_or_else(|| serde::de::Error::custom("unknown role"))
    }
}

/// Who is asking: the operator (holder of the `ADMIN_TOKEN` secret) or an API key's owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    Operator,
    Key(KeyPrincipal),
}

impl KeyPrincipal {
    /// May this key grant a key carrying these scopes and this expiry (as stored)? A key grants
    /// no more than it holds, and nothing that outlives it; refused, naming what reaches further.
    pub fn may_grant(&self, scopes: &Scopes, expires_at: Option<&str>) -> Result<(), crate::policy::Denial> {
        let mut fields = Vec::new();
        if !self.scopes.covers(scopes) {
            fields.push("scopes");
        }
        if let Some(mine) = self.expires_at.as_deref() {
            if expires_at.is_none_or(|theirs| theirs > mine) {
                fields.push("expires_at");
            }
        }
        if fields.is_empty() {
            Ok(())
        } else {
            Err(crate::policy::Denial::BeyondIssuer(fields))
        }
    }
}

impl Principal {
    /// The one org a key acts in; none (every org) for the operator.
    pub fn own_org(&self) -> Option<i64> {
        match self {
            Principal::Operator => None,
            Principal::Key(k) => Some(k.org_id),
        }
    }
}

/// How a request names the user it acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Id(i64),
    Uuid(String),
}

impl Target {
    /// Parse a path segment that may be a UUID or, where `numeric_ok`, a decimal integer id of at
    /// most 2^53 − 1 (an id is bound to D1 as a JavaScript number, exact up to there; a larger one
    /// names no row, rather than the row its rounding would name).
    pub fn parse(segment: &str, numeric_ok: bool) -> Option<Target> {
        if numeric_ok && !segment.is_empty() && segment.len() <= 16 && segment.bytes().all(|b| b.is_ascii_digit()) {
            return segment.parse().ok().filter(|n| *n <= crate::values::MAX_SAFE_INTEGER).map(Target::Id);
        }
        uuid::Uuid::try_parse(segment).ok().map(|u| Target::Uuid(u.hyphenated().to_string()))
    }

    /// A positive decimal integer id (HiEnergy's and the operator API's user ids).
    pub fn parse_positive_id(segment: &str) -> Option<i64> {
        match Target::parse(segment, true)? {
            Target::Id(id) if id > 0 => Some(id),
            _ => None,
        }
    }

    pub fn is(&self, p: &KeyPrincipal) -> bool {
        match self {
            Target::Id(id) => *id == p.user_id,
            Target::Uuid(u) => *u == p.user_uuid,
        }
    }
}
