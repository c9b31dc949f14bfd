//! The canonical change set. Each field is three-state: absent (keep), `null` (clear), a value
//! (set). One macro row per canonical field keeps the struct, the field list, the column names
//! and the SQL assignments from drifting apart.

use super::Field;
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

macro_rules! user_patch {
    ($( $field:ident : $ty:ty => $variant:ident ),* $(,)?) => {
        #[derive(Debug, Clone, Default, PartialEq)]
        pub struct UserPatch {
            $( pub $field: Patch<$ty>, )*
            pub password: Option<NewPassword>,
        }

        impl UserPatch {
            /// The canonical fields this patch touches, in declaration order.
            pub fn touched(&self) -> Vec<Field> {
                let mut fields = Vec::new();
                $( if !self.$field.is_keep() { fields.push(Field::$variant); } )*
                if self.password.is_some() { fields.push(Field::Password); }
                fields
            }

            /// `column = value` pairs for every touched column except the password, which the
            /// pipeline hashes first.
            pub fn assignments(&self) -> Vec<(&'static str, SqlValue)> {
                let mut out = Vec::new();
                $(
                    match &self.$field {
                        Patch::Keep => {}
                        Patch::Clear => out.push((Field::$variant.column(), SqlValue::Null)),
                        Patch::Set(v) => out.push((Field::$variant.column(), ToSql::to_sql(v))),
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
    name: ShortText => Name,
    given_name: ShortText => GivenName,
    family_name: ShortText => FamilyName,
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
            password: Some(NewPassword("x".into())),
            ..Default::default()
        };
        assert_eq!(patch.touched(), vec![Field::GivenName, Field::BasedIn, Field::Password]);
        assert_eq!(
            patch.assignments(),
            vec![("given_name", SqlValue::Text("New".into())), ("based_in", SqlValue::Null)]
        );
        assert!(UserPatch::default().is_empty());
        assert!(!format!("{patch:?}").contains("\"x\""));
    }
}
