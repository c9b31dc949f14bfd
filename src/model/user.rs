use serde::{Deserialize, Deserializer, Serialize, Serializer};

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
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct User {
    pub id: i64,
    pub uuid: String,
    pub org_id: i64,
    /// The org's public id (Upsun's `namespace`).
    #[serde(default)]
    pub org_uuid: String,
    pub username: Option<String>,
    pub email: String,
    #[serde(deserialize_with = "flag")]
    pub email_verified: bool,
    pub phone: Option<String>,
    #[serde(deserialize_with = "flag")]
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
    #[serde(deserialize_with = "flag")]
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
    #[serde(deserialize_with = "flag")]
    pub from_api: bool,
    #[serde(deserialize_with = "json_text", serialize_with = "raw_json")]
    pub attributes: serde_json::Value,
    #[serde(deserialize_with = "flag")]
    pub password_set: bool,
    #[serde(deserialize_with = "flag")]
    pub password_change_required: bool,
    #[serde(deserialize_with = "flag")]
    pub deactivated: bool,
    pub consented_at: Option<String>,
    pub consent_method: Option<String>,
    #[serde(default)]
    pub external_id: Option<String>,
    /// The SCIM attributes without a canonical field; only the SCIM dialect shows them.
    #[serde(default = "empty_object", deserialize_with = "json_text", skip_serializing)]
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

fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    let v = serde_json::Value::deserialize(d)?;
    Ok(match v {
        serde_json::Value::Bool(b) => b,
        // D1 sends 0 or 1: an integer read first (a float parse is far slower and runs per flag, per row).
        serde_json::Value::Number(n) => n.as_i64().map_or_else(|| n.as_f64().unwrap_or(0.0) != 0.0, |i| i != 0),
        _ => false,
    })
}

fn json_text<'de, D: Deserializer<'de>>(d: D) -> Result<serde_json::Value, D::Error> {
    let s: Option<String> = Option::deserialize(d)?;
    Ok(s.and_then(|s| serde_json::from_str(&s).ok()).unwrap_or_else(|| serde_json::json!({})))
}

fn raw_json<S: Serializer>(v: &serde_json::Value, s: S) -> Result<S::Ok, S::Error> {
    v.serialize(s)
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
}
