//! The SCIM attributes of a user that have no canonical field, kept as one JSON object.

use crate::store::SqlValue;
use crate::values::ToSql;

/// A JSON object of SCIM attributes (core attributes by name, extensions under their URN), as
/// the SCIM dialect built it from a checked request. Stored as text in `users.scim`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScimDocument(String);

impl ScimDocument {
    pub fn new(doc: &serde_json::Map<String, serde_json::Value>) -> Self {
        Self(serde_json::Value::Object(doc.clone()).to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl ToSql for ScimDocument {
    fn to_sql(&self) -> SqlValue {
        SqlValue::Text(self.0.clone())
    }
}
