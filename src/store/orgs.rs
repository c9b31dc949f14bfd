//! The `orgs` table.

use super::Stmt;

pub fn insert(uuid: &str, name: &str, now: &str) -> Stmt {
    Stmt::new(
        "INSERT INTO orgs (uuid, name, created_at) VALUES (?, ?, ?) RETURNING id, uuid, name, created_at",
        vec![uuid.into(), name.into(), now.into()],
    )
}
