use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;

/// Which of a user's fields a read returns: all, or those a dialect renders on top of
/// `ALWAYS_SHOWN`. `store::users` selects just those columns, so a dialect that renders 19 of the
/// 46 reads, carries and decodes a row of 26; the fields left out keep their defaults.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Shown {
    #[default]
    All,
    Only(&'static [&'static str]),
}

impl Shown {
    /// Just `ALWAYS_SHOWN`: enough to know a user exists, in which org, at which version.
    pub const ESSENTIALS: Shown = Shown::Only(&[]);
}

/// What the pipeline itself reads of every user it returns: ids and org (a code's message and
/// link), the email (a password reset's recipient), the version and dates (ETags, ZITADEL's details).
pub const ALWAYS_SHOWN: [&str; 7] = ["id", "uuid", "org_id", "email", "version", "created_at", "updated_at"];

/// A user as stored. Built from a `users` row (D1 gives flags as 0/1); its `Serialize` is the
/// canonical snake_case shape of the operator API. The password hash is not part of it: reads
/// return only whether one is set (`store::users::COLUMNS`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct User {
    pub id: i64,
    pub uuid: String,
    pub org_id: i64,
    /// The org's public id (Upsun's `namespace`).
    pub org_uuid: String,
    pub username: Option<String>,
    pub email: String,
    pub email_verified: bool,
    pub phone: Option<String>,
    pub phone_verified: bool,
    pub name: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub nick_name: Option<String>,
    pub preferred_language: Option<String>,
    pub gender: Option<String>,
    pub role_title: Option<String>,
    pub based_in: Option<String>,
    pub linkedin_profile_url: Option<String>,
    pub picture: Option<String>,
    pub company: Option<String>,
    pub website: Option<String>,
    pub country: Option<String>,
    pub bio: Option<String>,
    pub timezone: Option<String>,
    pub admin: bool,
    pub auth0_uid: Option<String>,
    pub publisher_id: Option<i64>,
    pub agency_id: Option<i64>,
    pub network_id: Option<i64>,
    pub advertiser_id: Option<i64>,
    pub payment_date: Option<String>,
    pub company_type: Option<String>,
    pub publisher_type: Option<String>,
    pub role_alias: Option<String>,
    pub from_api: bool,
    pub attributes: serde_json::Value,
    pub password_set: bool,
    pub password_change_required: bool,
    pub deactivated: bool,
    pub consented_at: Option<String>,
    pub consent_method: Option<String>,
    pub external_id: Option<String>,
    /// The SCIM attributes without a canonical field; only the SCIM dialect shows them.
    #[serde(skip_serializing)]
    pub scim: serde_json::Value,
    pub version: i64,
    pub created_at: String,
    pub updated_at: String,
}

impl User {
    /// The canonical JSON shape (operator API).
    pub fn canonical_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }

    pub fn etag(&self) -> String {
        format!("\"{}\"", self.version)
    }
}

fn empty_object() -> serde_json::Value {
    serde_json::json!({})
}

/// Each `users` column a row (or an event's snapshot of one) may carry, and how its value is read.
/// A column not named here is skipped; one left out of the row keeps its default.
///
/// Written out rather than derived: the derived deserialiser was the largest function a request
/// ran (23 KB of wasm: an `Option` and a duplicate check per field, each field's reader inlined
/// in place) and 6.6 KiB of the compressed wasm. Here each kind of value has one reader, and a
/// column is one line.
macro_rules! columns {
    ($($field:ident: $read:ident),* $(,)?) => {
        impl User {
            /// The columns a user is read from, in the order `store::users::COLUMNS` selects them.
            pub const COLUMNS: &'static [&'static str] = &[$(stringify!($field)),*];
        }

        fn read_column<'de, A: MapAccess<'de>>(user: &mut User, column: usize, map: &mut A) -> Result<(), A::Error> {
            let mut at = 0;
            $(
                if column == at {
                    user.$field = $read(map)?;
                    return Ok(());
                }
                at += 1;
            )*
            let _ = at;
            map.next_value::<IgnoredAny>().map(drop)
        }
    };
}

columns! {
    id: int, uuid: text, org_id: int, org_uuid: text, username: opt_text, email: text,
    email_verified: flag, phone: opt_text, phone_verified: flag, name: opt_text, given_name: opt_text,
    family_name: opt_text, nick_name: opt_text, preferred_language: opt_text, gender: opt_text,
    role_title: opt_text, based_in: opt_text, linkedin_profile_url: opt_text, picture: opt_text,
    company: opt_text, website: opt_text, country: opt_text, bio: opt_text, timezone: opt_text,
    admin: flag, auth0_uid: opt_text, publisher_id: opt_int, agency_id: opt_int, network_id: opt_int,
    advertiser_id: opt_int, payment_date: opt_text, company_type: opt_text, publisher_type: opt_text,
    role_alias: opt_text, from_api: flag, attributes: json_text, password_set: flag,
    password_change_required: flag, deactivated: flag, consented_at: opt_text, consent_method: opt_text,
    external_id: opt_text, scim: json_text, version: int, created_at: text, updated_at: text,
}

impl<'de> Deserialize<'de> for User {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(Row)
    }
}

/// A `users` row as a JSON object: column name → value.
struct Row;

impl<'de> Visitor<'de> for Row {
    type Value = User;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a users row")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<User, A::Error> {
        let mut user = User { scim: empty_object(), ..User::default() };
        let mut next = 0;
        while let Some(column) = map.next_key_seed(Column { next })? {
            match column {
                Some(at) => {
                    read_column(&mut user, at, &mut map)?;
                    next = at + 1;
                }
                None => map.next_value::<IgnoredAny>().map(drop)?,
            }
        }
        Ok(user)
    }
}

/// A column's name, as its place in `User::COLUMNS` (`None`: not a column of `User`). A row
/// names its columns in the order `User::COLUMNS` has them (`store::users::COLUMNS`), so the one
/// after the last found is tried first: one comparison per column, not a search.
struct Column {
    next: usize,
}

impl<'de> DeserializeSeed<'de> for Column {
    type Value = Option<usize>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<usize>, D::Error> {
        d.deserialize_str(self)
    }
}

impl Visitor<'_> for Column {
    type Value = Option<usize>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a column name")
    }
    fn visit_str<E: de::Error>(self, name: &str) -> Result<Option<usize>, E> {
        match User::COLUMNS.get(self.next) {
            Some(c) if *c == name => Ok(Some(self.next)),
            _ => Ok(User::COLUMNS.iter().position(|c| *c == name)),
        }
    }
}

fn int<'de, A: MapAccess<'de>>(map: &mut A) -> Result<i64, A::Error> {
    map.next_value()
}

fn opt_int<'de, A: MapAccess<'de>>(map: &mut A) -> Result<Option<i64>, A::Error> {
    map.next_value()
}

/// A text column that is never NULL; a snapshot or fixture may still leave it out (default: "").
fn text<'de, A: MapAccess<'de>>(map: &mut A) -> Result<String, A::Error> {
    map.next_value()
}

fn opt_text<'de, A: MapAccess<'de>>(map: &mut A) -> Result<Option<String>, A::Error> {
    map.next_value()
}

/// A JSON document stored as text (`attributes`, `scim`); NULL or unreadable text is `{}`.
fn json_text<'de, A: MapAccess<'de>>(map: &mut A) -> Result<serde_json::Value, A::Error> {
    let text: Option<String> = map.next_value()?;
    Ok(text.and_then(|s| serde_json::from_str(&s).ok()).unwrap_or_else(empty_object))
}

/// D1 writes a flag as 0 or 1; a snapshot or fixture may hold a JSON boolean; anything else
/// (null, text) is unset.
fn flag<'de, A: MapAccess<'de>>(map: &mut A) -> Result<bool, A::Error> {
    map.next_value_seed(Flag)
}

struct Flag;

impl<'de> DeserializeSeed<'de> for Flag {
    type Value = bool;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Flag {
    type Value = bool;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a flag (0, 1, true, false or null)")
    }
    fn visit_bool<E: de::Error>(self, b: bool) -> Result<bool, E> {
        Ok(b)
    }
    fn visit_i64<E: de::Error>(self, n: i64) -> Result<bool, E> {
        Ok(n != 0)
    }
    fn visit_u64<E: de::Error>(self, n: u64) -> Result<bool, E> {
        Ok(n != 0)
    }
    /// serde_json with `arbitrary_precision` hands a number that is not an integer over as a map.
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<bool, A::Error> {
        let n = serde_json::Value::deserialize(de::value::MapAccessDeserializer::new(map))?;
        Ok(n.as_f64().is_some_and(|n| n != 0.0))
    }
    fn visit_unit<E: de::Error>(self) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<bool, E> {
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// D1 writes a flag as 0 or 1; a snapshot or a fixture may hold a JSON boolean; anything else is unset.
    #[test]
    fn flags_read_as_d1_and_json_write_them() {
        for (text, set) in [
            ("1", true),
            ("0", false),
            ("true", true),
            ("false", false),
            ("2", true),
            ("1.0", true),
            ("0.0", false),
            ("null", false),
            ("\"1\"", false),
        ] {
            let user: User = serde_json::from_str(&format!(r#"{{"admin": {text}}}"#)).unwrap();
            assert_eq!(user.admin, set, "{text}");
        }
    }

    /// A row names its columns in any order; a column `User` lacks is skipped, one the row lacks
    /// keeps its default; JSON documents stored as text come back parsed.
    #[test]
    fn a_row_reads_each_column_it_names_and_defaults_the_rest() {
        let row = r#"{"scim": "{\"title\":\"Dr\"}", "last_write": "x", "id": 7, "email": "a@example.com",
            "publisher_id": 42, "agency_id": null, "attributes": "not json", "given_name": "Ann", "version": 3}"#;
        let user: User = serde_json::from_str(row).unwrap();
        let expected = User {
            id: 7,
            email: "a@example.com".into(),
            publisher_id: Some(42),
            given_name: Some("Ann".into()),
            attributes: serde_json::json!({}),
            scim: serde_json::json!({"title": "Dr"}),
            version: 3,
            ..User::default()
        };
        assert_eq!(user, expected);
        let bare: User = serde_json::from_str("{}").unwrap();
        assert_eq!((bare.scim, bare.attributes), (serde_json::json!({}), serde_json::Value::Null));
    }

    /// A column of the wrong type is an error (a bug in a statement), not a default.
    #[test]
    fn a_column_of_the_wrong_type_is_refused() {
        for row in [r#"{"id": "7"}"#, r#"{"email": 5}"#, r#"{"publisher_id": "42"}"#, "[]"] {
            assert!(serde_json::from_str::<User>(row).is_err(), "{row}");
        }
    }
}
