//! The canonical change set. Each field is three-state: absent (keep), `null` (clear), a value
//! (set). One macro row per canonical field keeps the struct, the field list, the column names
//! and the SQL assignments from drifting apart.

use super::{Field, ScimDocument};
use crate::store::SqlValue;
use crate::values::*;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Patch<T> {
    #[default]
    Keep,
    Clear,
    Set(T),
}

impl<T> Patch<T> {
    pub fn is_keep(&self) -> bool {
        matches!(self, Patch::Keep)
    }
    pub fn set(&self) -> Option<&T> {
        match self {
            Patch::Set(v) => Some(v),
            _ => None,
        }
    }
}

/// A new password as the client sent it; hashed by the pipeline before it reaches storage.
#[derive(Clone, PartialEq, Eq)]
pub struct NewPassword(pub(crate) String);

impl std::fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewPassword(<redacted>)")
    }
}

/// The new secret: a password to hash, or a hash made elsewhere.
#[derive(Debug, Clone, PartialEq)]
pub enum NewSecret {
    Plain(NewPassword),
    Imported(crate::password::ImportedHash),
}

/// How a caller proves it may set its own password.
#[derive(Clone, PartialEq, Eq)]
pub enum Proof {
    CurrentPassword(String),
    /// A password-reset code.
    Code(String),
}

impl std::fmt::Debug for Proof {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Proof::CurrentPassword(_) => "CurrentPassword(<redacted>)",
            Proof::Code(_) => "Code(<redacted>)",
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct PasswordChange {
    pub secret: NewSecret,
    pub change_required: bool,
    pub proof: Option<Proof>,
}

impl PasswordChange {
    /// A plain new password with no proof (admin resets in HiEnergy and Konstantly).
    pub fn reset(password: NewPassword) -> Self {
        Self { secret: NewSecret::Plain(password), change_required: false, proof: None }
    }
}

/// What to do about verifying a new email address or phone number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verification {
    /// Make a code and send it through the notification queue (with a link built from the
    /// template, for email).
    Send { url_template: Option<crate::values::UrlTemplate> },
    /// Make a code and hand it back in the response (admins only).
    Return,
}

macro_rules! user_patch {
    ($( $field:ident : $ty:ty => $variant:ident ),* $(,)?) => {
        #[derive(Debug, Clone, Default, PartialEq)]
        pub struct UserPatch {
            $( pub $field: Patch<$ty>, )*
            pub password: Option<PasswordChange>,
            pub email_verification: Option<Verification>,
            pub phone_verification: Option<Verification>,
        }

        impl UserPatch {
            /// The canonical fields this patch touches, in declaration order.
            pub fn touched(&self) -> Vec<Field> {
                let mut fields = Vec::new();
                $( if !self.$field.is_keep() { fields.push(Field::$variant); } )*
                if self.email_verification == Some(Verification::Return) { fields.push(Field::EmailCodeReturn); }
                if self.phone_verification == Some(Verification::Return) { fields.push(Field::PhoneCodeReturn); }
                match self.password.as_ref().map(|p| &p.secret) {
                    Some(NewSecret::Plain(_)) => fields.push(Field::Password),
                    Some(NewSecret::Imported(_)) => fields.push(Field::PasswordHashImport),
                    None => {}
                }
                fields
            }

            /// Treat every `null` as absent (nothing to clear on a user being created).
            pub fn clear_to_keep(&mut self) {
                $( if matches!(self.$field, Patch::Clear) { self.$field = Patch::Keep; } )*
            }

            /// `field = value` pairs for every touched field except the password, which the
            /// pipeline hashes first, and the code requests, which are not stored values.
            pub fn assignments(&self) -> Vec<(Field, SqlValue)> {
                let mut out = Vec::new();
                $(
                    match &self.$field {
                        Patch::Keep => {}
                        Patch::Clear => out.push((Field::$variant, SqlValue::Null)),
                        Patch::Set(v) => out.push((Field::$variant, ToSql::to_sql(v))),
                    }
                )*
                out
            }
        }
    };
}

user_patch! {
    username: Username => Username,
    email: Email => Email,
    email_verified: bool => EmailVerified,
    phone: Phone => Phone,
    phone_verified: bool => PhoneVerified,
    name: ShortText => Name,
    given_name: ShortText => GivenName,
    family_name: ShortText => FamilyName,
    nick_name: ShortText => NickName,
    preferred_language: LanguageTag => PreferredLanguage,
    gender: Gender => Gender,
    role_title: ShortText => RoleTitle,
    based_in: ShortText => BasedIn,
    linkedin_profile_url: HttpUrl => LinkedinProfileUrl,
    picture: HttpUrl => Picture,
    company: ShortText => Company,
    website: HttpUrl => Website,
    country: CountryCode => Country,
    bio: LongText => Bio,
    timezone: TimeZone => Timezone,
    admin: bool => Admin,
    auth0_uid: ShortText => Auth0Uid,
    publisher_id: ExternalId => PublisherId,
    agency_id: ExternalId => AgencyId,
    network_id: ExternalId => NetworkId,
    advertiser_id: ExternalId => AdvertiserId,
    payment_date: Date => PaymentDate,
    company_type: ShortText => CompanyType,
    publisher_type: ShortText => PublisherType,
    role_alias: ShortText => RoleAlias,
    from_api: bool => FromApi,
    attributes: Attributes => Attributes,
    deactivated: bool => Deactivated,
    consented_at: Timestamp => ConsentedAt,
    consent_method: ConsentMethod => ConsentMethod,
    external_id: ShortText => ExternalRef,
    scim: ScimDocument => Scim,
}

impl UserPatch {
    pub fn is_empty(&self) -> bool {
        self.touched().is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn touched_and_assignments_follow_the_three_states() {
        let patch = UserPatch {
            given_name: Patch::Set(ShortText::parse("New").unwrap()),
            based_in: Patch::Clear,
            password: Some(PasswordChange::reset(NewPassword("x".into()))),
            ..Default::default()
        };
        assert_eq!(patch.touched(), vec![Field::GivenName, Field::BasedIn, Field::Password]);
        assert_eq!(patch.assignments(), vec![(Field::GivenName, SqlValue::Text("New".into())), (Field::BasedIn, SqlValue::Null)]);
        assert!(UserPatch::default().is_empty());
        assert!(!format!("{patch:?}").contains("\"x\""));
    }
}
