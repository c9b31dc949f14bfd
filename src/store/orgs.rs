//! The `orgs` table.

use super::{SqlValue, Stmt};

/// What an org is shown as, everywhere.
const COLUMNS: &str = "id, uuid, name, created_at";

pub fn insert(uuid: &str, name: &str, now: &str) -> Stmt {
    Stmt::new(
        format!("INSERT INTO orgs (uuid, name, created_at) VALUES (?, ?, ?) RETURNING {COLUMNS}"),
        vec![uuid.into(), name.into(), now.into()],
    )
}

/// Orgs in id order after `after_id`, one more than `limit` (to know whether a next page
/// follows); `only` keeps just that org (an admin key's own).
pub fn list(only: Option<i64>, after_id: Option<i64>, limit: u32) -> Stmt {
    let mut sql = format!("SELECT {COLUMNS} FROM orgs WHERE id > ?");
    let mut params: Vec<SqlValue> = vec![after_id.unwrap_or(0).into()];
    if let Some(id) = only {
        sql.push_str(" AND id = ?");
        params.push(id.into());
    }
    sql.push_str(" ORDER BY id LIMIT ?");
    params.push(i64::from(limit + 1).into());
    Stmt::new(sql, params)
}

pub fn get(id: i64) -> Stmt {
    Stmt::new(format!("SELECT {COLUMNS} FROM orgs WHERE id = ?"), vec![id.into()])
}
