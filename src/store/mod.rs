//! Storage as the core sees it: SQL statements with bound values, run one at a time or as one
//! atomic batch. D1 is the production implementation (`edge::platform`); host tests run the very
//! same SQL against SQLite (`tests/support`), so the statements themselves are under test.

pub mod filter;
pub mod sql;

use serde_json::{Map, Value};

/// A value bound to a `?` placeholder.
#[derive(Debug, Clone, PartialEq)]
pub enum SqlValue {
    Null,
    /// D1 receives integers as JavaScript numbers, exact up to 2^53 (see TOOLCHAIN.md).
    Int(i64),
    Text(String),
}

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
pub type Row = Map<String, Value>;

/// A storage failure. Only the unique-constraint case is a client's doing; the rest are ours.
#[derive(Debug, Clone, PartialEq)]
pub struct DbError {
    pub message: String,
}

impl DbError {
    /// The column a UNIQUE violation names (`UNIQUE constraint failed: users.org_id, users.email`
    /// → `email`), skipping the `org_id` scope column.
    pub fn unique_violation(&self) -> Option<&str> {
        let rest = self.message.split("UNIQUE constraint failed:").nth(1)?;
        rest.split(',')
            .map(|c| c.trim().split(|ch: char| ch.is_whitespace() || ch == ':').next().unwrap_or(""))
            .filter_map(|c| c.split('.').nth(1))
            .find(|c| *c != "org_id")
    }
}

/// D1 hands every number over as a JavaScript double; make whole ones integers again so rows
/// deserialise into `i64` fields.
pub fn normalize_row(row: Row) -> Row {
    row.into_iter()
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
        .collect()
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
    fn unique_violation_names_the_column() {
        let e = |m: &str| DbError { message: m.into() };
        assert_eq!(
            e("D1_ERROR: UNIQUE constraint failed: users.org_id, users.email: SQLITE_CONSTRAINT").unique_violation(),
            Some("email")
        );
        assert_eq!(e("UNIQUE constraint failed: users.org_id, users.username").unique_violation(), Some("username"));
        assert_eq!(e("UNIQUE constraint failed: users.uuid").unique_violation(), Some("uuid"));
        assert_eq!(e("no such table: users").unique_violation(), None);
    }
}
