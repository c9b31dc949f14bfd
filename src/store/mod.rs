//! Storage: every SQL statement the service runs is built here, one module per table, from
//! domain types. The pipeline says what to do; these modules say it in SQL. D1 is the production
//! runner (`edge::platform`); host tests run the very same statements on SQLite (`tests/api/helpers.rs`),
//! so the statements themselves are under test. See docs/ARCHITECTURE.md, "Storage".

pub mod codes;
pub mod events;
pub mod feed;
pub mod filter;
pub mod groups;
pub mod guard;
pub mod keys;
pub mod orgs;
pub mod retention;
pub mod scim;
pub mod users;

pub use guard::KeyState;

use serde_json::value::RawValue;
use serde_json::{Map, Value};
use std::cell::OnceCell;
use std::ops::{Deref, DerefMut};

/// A value bound to a `?` placeholder: a value's `Scalar`, bound as is.
pub use crate::values::Scalar as SqlValue;

impl From<&str> for SqlValue {
    fn from(s: &str) -> Self {
        Self::Text(s.to_string())
    }
}
impl From<String> for SqlValue {
    fn from(s: String) -> Self {
        Self::Text(s)
    }
}
impl From<i64> for SqlValue {
    fn from(n: i64) -> Self {
        Self::Int(n)
    }
}
impl From<bool> for SqlValue {
    fn from(b: bool) -> Self {
        Self::Int(b.into())
    }
}
impl<T: Into<SqlValue>> From<Option<T>> for SqlValue {
    fn from(v: Option<T>) -> Self {
        v.map_or(Self::Null, Into::into)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Stmt {
    pub sql: String,
    pub params: Vec<SqlValue>,
}

impl Stmt {
    pub fn new(sql: impl Into<String>, params: Vec<SqlValue>) -> Self {
        Self { sql: sql.into(), params }
    }
}

/// One result row, column name → JSON value (integers as numbers, NULL as null).
///
/// A row from D1 stays the text D1 sent until it is read: a `users` row of 46 columns is decoded
/// straight into its struct (`decode`), never built as a map first (that map was a third of the
/// wasm's time per request: BENCHMARKS.md). Reading a column builds the map once, on first use.
#[derive(Debug, Clone, Default)]
pub struct Row {
    raw: Option<Box<RawValue>>,
    map: OnceCell<Map<String, Value>>,
}

impl Row {
    /// The row as a typed value: straight from D1's text where the row is still that.
    pub fn decode<T: serde::de::DeserializeOwned>(&self) -> Result<T, String> {
        // One way in for every type (each is one more copy of a derived deserialiser in the wasm).
        let decoded = match (&self.raw, self.map.get()) {
            (Some(raw), None) => serde_json::from_str(raw.get()),
            _ => serde_json::from_str(&Value::Object(self.map().clone()).to_string()),
        };
        decoded.map_err(|e| e.to_string())
    }

    pub fn into_map(mut self) -> Map<String, Value> {
        std::mem::take(self.deref_mut())
    }

    fn map(&self) -> &Map<String, Value> {
        self.map.get_or_init(|| self.raw.as_ref().and_then(|raw| serde_json::from_str(raw.get()).ok()).unwrap_or_default())
    }
}

impl Deref for Row {
    type Target = Map<String, Value>;
    fn deref(&self) -> &Self::Target {
        self.map()
    }
}

impl DerefMut for Row {
    fn deref_mut(&mut self) -> &mut Self::Target {
        let _ = self.map();
        // Changed from here on: the text no longer says what the row holds.
        self.raw = None;
        self.map.get_mut().expect("initialised just above")
    }
}

impl From<Map<String, Value>> for Row {
    fn from(map: Map<String, Value>) -> Self {
        Self { raw: None, map: OnceCell::from(map) }
    }
}

impl PartialEq for Row {
    fn eq(&self, other: &Self) -> bool {
        self.map() == other.map()
    }
}

impl<'de> serde::Deserialize<'de> for Row {
    /// Only from JSON text (D1's answer, a stored snapshot): the row's object is kept as it came.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = Box::<RawValue>::deserialize(d)?;
        if !raw.get().trim_start().starts_with('{') {
            return Err(serde::de::Error::custom("a row must be a JSON object"));
        }
        Ok(Self { raw: Some(raw), map: OnceCell::new() })
    }
}

impl serde::Serialize for Row {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.map().serialize(s)
    }
}

/// A storage failure as the runner reports it. Only a unique violation is the client's doing;
/// `violation` is the one place that reads the runner's text.
#[derive(Debug, Clone, PartialEq)]
pub struct DbError {
    pub message: String,
}

/// Which uniqueness rule a write broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unique {
    Email,
    Username,
    ExternalId,
    GroupName,
    /// A key the client cannot choose (a UUID, a digest): ours to explain, not the client's.
    Internal,
}

impl DbError {
    /// The uniqueness rule a `UNIQUE constraint failed: users.org_id, users.email_key` names.
    pub fn violation(&self) -> Option<Unique> {
        let rest = self.message.split("UNIQUE constraint failed:").nth(1)?;
        let column = rest
            .split(',')
            .map(|c| c.trim().split(|ch: char| ch.is_whitespace() || ch == ':').next().unwrap_or(""))
            .find(|c| !c.ends_with(".org_id"))?;
        Some(match column {
            "users.email" | "users.email_key" => Unique::Email,
            "users.username" | "users.username_key" => Unique::Username,
            "users.external_id" => Unique::ExternalId,
            "groups.display_name" | "groups.name_key" => Unique::GroupName,
            _ => Unique::Internal,
        })
    }
}

/// D1 hands every number over as a JavaScript double; make whole ones integers again so rows
/// deserialise into `i64` fields.
pub fn normalize_row(row: Row) -> Row {
    let map: Map<String, Value> = row
        .into_map()
        .into_iter()
        .map(|(k, v)| match v {
            Value::Number(n) if n.as_i64().is_none() && n.as_u64().is_none() => {
                let f = n.as_f64().unwrap_or(f64::NAN);
                if f.fract() == 0.0 && f.abs() <= 9_007_199_254_740_991.0 {
                    (k, Value::from(f as i64))
                } else {
                    (k, Value::Number(n))
                }
            }
            other => (k, other),
        })
        .collect();
    map.into()
}

/// Helpers to read typed columns out of a row.
pub trait RowExt {
    fn int(&self, col: &str) -> Option<i64>;
    fn text(&self, col: &str) -> Option<String>;
    fn flag(&self, col: &str) -> bool;
}

impl RowExt for Row {
    fn int(&self, col: &str) -> Option<i64> {
        match self.get(col)? {
            Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
            _ => None,
        }
    }
    fn text(&self, col: &str) -> Option<String> {
        self.get(col)?.as_str().map(str::to_string)
    }
    fn flag(&self, col: &str) -> bool {
        self.int(col).unwrap_or(0) != 0
    }
}

/// `?, ?, ?` for `n` placeholders.
fn placeholders(n: usize) -> String {
    vec!["?"; n].join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_doubles_become_integers() {
        let row: Row = serde_json::from_str(r#"{"a": 3.0, "b": 2.5, "c": "x", "d": 7}"#).unwrap();
        let row = normalize_row(row);
        assert_eq!(row["a"].as_i64(), Some(3));
        assert_eq!(row["b"].as_f64(), Some(2.5));
        assert_eq!(row["d"].as_i64(), Some(7));
    }

    #[test]
    fn a_row_decodes_from_its_text_and_reads_back_what_was_changed() {
        #[derive(serde::Deserialize, Debug, PartialEq)]
        struct Two {
            a: i64,
            b: Option<String>,
        }
        let mut row: Row = serde_json::from_str(r#"{"a": 7, "b": null, "c": "x"}"#).unwrap();
        assert_eq!(row.decode::<Two>().unwrap(), Two { a: 7, b: None });
        assert_eq!(row.text("c").as_deref(), Some("x"));
        row.insert("b".into(), Value::from("set"));
        assert_eq!(row.decode::<Two>().unwrap(), Two { a: 7, b: Some("set".into()) }, "the change, not the text");
        assert!(serde_json::from_str::<Row>("[1]").is_err(), "a row is an object");
        assert!(row.decode::<Vec<i64>>().is_err());
    }

    #[test]
    fn unique_violation_names_the_rule() {
        let e = |m: &str| DbError { message: m.into() };
        assert_eq!(
            e("D1_ERROR: UNIQUE constraint failed: users.org_id, users.email: SQLITE_CONSTRAINT").violation(),
            Some(Unique::Email)
        );
        assert_eq!(e("UNIQUE constraint failed: users.org_id, users.email_key").violation(), Some(Unique::Email));
        assert_eq!(e("UNIQUE constraint failed: users.org_id, users.username").violation(), Some(Unique::Username));
        assert_eq!(e("UNIQUE constraint failed: users.uuid").violation(), Some(Unique::Internal));
        assert_eq!(e("no such table: users").violation(), None);
    }
}
