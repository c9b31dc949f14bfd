//! The `users` table. A deleted user stays as a tombstone (ids kept for the audit trail, every
//! personal field erased) that no statement here can name again.

use super::guard::{precondition, reach};
use super::{SqlValue, Stmt};
use crate::http::Precondition;
use crate::model::{CodeKind, Field, Principal, Shown, Target, UserListing, ALWAYS_SHOWN};
use std::cell::RefCell;

/// What a user read returns. The password hash stays in D1: only whether one is set comes out.
pub const COLUMNS: &str = "id, uuid, org_id, (SELECT uuid FROM orgs WHERE orgs.id = users.org_id) AS org_uuid, \
username, email, email_verified, phone, phone_verified, \
name, given_name, family_name, nick_name, preferred_language, gender, role_title, based_in, \
linkedin_profile_url, picture, company, website, country, bio, timezone, admin, auth0_uid, \
publisher_id, agency_id, network_id, advertiser_id, payment_date, company_type, publisher_type, \
role_alias, from_api, attributes, password_hash IS NOT NULL AS password_set, password_change_required, \
deactivated, consented_at, consent_method, external_id, scim, version, created_at, updated_at";

/// The row as one JSON object, the same columns as `COLUMNS`: the user an event carries,
/// rendered later exactly as a read would be.
pub const SNAPSHOT: &str =
    "json_object('id', id, 'uuid', uuid, 'org_id', org_id, 'org_uuid', (SELECT uuid FROM orgs WHERE orgs.id = \
users.org_id), 'username', username, 'email', email, 'email_verified', email_verified, 'phone', phone, \
'phone_verified', phone_verified, 'name', name, 'given_name', given_name, 'family_name', family_name, \
'nick_name', nick_name, 'preferred_language', preferred_language, 'gender', gender, 'role_title', role_title, \
'based_in', based_in, 'linkedin_profile_url', linkedin_profile_url, 'picture', picture, 'company', company, \
'website', website, 'country', country, 'bio', bio, 'timezone', timezone, 'admin', admin, 'auth0_uid', \
auth0_uid, 'publisher_id', publisher_id, 'agency_id', agency_id, 'network_id', network_id, 'advertiser_id', \
advertiser_id, 'payment_date', payment_date, 'company_type', company_type, 'publisher_type', publisher_type, \
'role_alias', role_alias, 'from_api', from_api, 'attributes', attributes, 'password_set', password_hash IS NOT \
NULL, 'password_change_required', password_change_required, 'deactivated', deactivated, 'consented_at', \
consented_at, 'consent_method', consent_method, 'external_id', external_id, 'scim', scim, 'version', version, 'created_at', \
created_at, 'updated_at', updated_at)";

/// The columns of a read that shows `shown`: all of `COLUMNS`, or, in `COLUMNS`' order, those
/// of `ALWAYS_SHOWN` and the dialect's own (each entry's last word is its name or alias).
/// Worked out once per list and thread: building it was a tenth of a request's wasm time.
pub fn columns(shown: Shown) -> &'static str {
    let Shown::Only(own) = shown else { return COLUMNS };
    thread_local! {
        // Keyed by the list's address and length: each dialect's list is one static slice.
        static BUILT: RefCell<Vec<((usize, usize), &'static str)>> = const { RefCell::new(Vec::new()) };
    }
    BUILT.with_borrow_mut(|built| {
        let key = (own.as_ptr() as usize, own.len());
        if let Some((_, sql)) = built.iter().find(|(k, _)| *k == key) {
            return *sql;
        }
        let named = |c: &&str| {
            let name = column_name(c);
            ALWAYS_SHOWN.contains(&name) || own.contains(&name)
        };
        // Leaked on purpose: one string per dialect, for the life of the isolate.
        let sql: &'static str = COLUMNS.split(", ").filter(named).collect::<Vec<_>>().join(", ").leak();
        built.push((key, sql));
        sql
    })
}

/// The name a `COLUMNS` entry comes back under: its last word (the column, or its alias).
fn column_name(entry: &str) -> &str {
    entry.rsplit(' ').next().unwrap_or(entry)
}

/// The column a canonical field is stored in.
pub fn column(field: Field) -> &'static str {
    match field {
        Field::Password | Field::PasswordHashImport => "password_hash",
        f => f.name(),
    }
}

/// The column that holds a contact a code verifies, and its verified flag.
fn contact_columns(kind: CodeKind) -> (&'static str, &'static str) {
    match kind {
        CodeKind::Phone => ("phone", "phone_verified"),
        _ => ("email", "email_verified"),
    }
}

/// A user the caller may see (yourself or, as an admin, anyone in your org; anyone for the operator).
pub fn select(who: &Principal, t: &Target, shown: Shown) -> Stmt {
    let mut params = Vec::new();
    let reach_sql = reach(who, t, &mut params);
    Stmt::new(format!("SELECT {} FROM users WHERE {reach_sql}", columns(shown)), params)
}

/// A condition the update holds only while a proof is still good.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// The hash a `currentPassword` was just verified against is still the stored one.
    PasswordHashIs(String),
    /// This code is unused and unexpired at `now`.
    CodeLive { id: i64, now: String },
    /// The contact a code was sent to is still the one stored: as sent, or (an email) under
    /// another spelling of the same mailbox, its `key` (`None` for codes made before keys were).
    ContactIs { kind: CodeKind, value: String, key: Option<String> },
    /// The user's lifecycle state is this one (so flipping it is a real change).
    Deactivated(bool),
}

impl Condition {
    fn sql(&self, params: &mut Vec<SqlValue>) -> String {
        match self {
            Condition::PasswordHashIs(hash) => {
                params.push(hash.clone().into());
                "password_hash = ?".into()
            }
            Condition::CodeLive { id, now } => {
                params.extend([(*id).into(), now.clone().into()]);
                "EXISTS (SELECT 1 FROM verification_codes WHERE id = ? AND used_at IS NULL AND expires_at > ?)".into()
            }
            Condition::ContactIs { kind: CodeKind::Email, value, key: Some(key) } => {
                params.extend([value.clone().into(), key.clone().into()]);
                "(email = ? OR email_key = ?)".into()
            }
            Condition::ContactIs { kind, value, .. } => {
                params.push(value.clone().into());
                format!("{} = ?", contact_columns(*kind).0)
            }
            Condition::Deactivated(state) => {
                params.push((*state).into());
                "deactivated = ?".into()
            }
        }
    }
}

/// One guarded, conditional update of a user row.
#[derive(Debug, Clone, Default)]
pub struct Update {
    pub assignments: Vec<(Field, SqlValue)>,
    /// Columns derived from assigned values (identifiers' comparison keys): `identity_keys`.
    pub derived: Vec<Derived>,
    /// Contacts being changed, by comparison key (an email's canonical key, a phone number): the
    /// verified flag drops unless the key stays the same (a new spelling of the same mailbox, say
    /// `Ada@Example.com` for `ada@example.com`, is still the address that was proven).
    pub reverify: Vec<(CodeKind, String)>,
    /// Verified flags a code proves.
    pub verify: Vec<CodeKind>,
    pub conditions: Vec<Condition>,
    /// With a new password: whether the user must change it at next sign-in.
    pub password_change_required: Option<bool>,
    /// The columns the updated row comes back with.
    pub returning: Shown,
    /// The fields the write's event names: each one its column's value changes (a field with no
    /// column of its own, like a code handed back, whenever asked for). None of them changing
    /// makes the write a no-op: no new version, no event.
    pub fields: Vec<Field>,
}

/// A column derived from assigned values, and its value.
pub type Derived = (&'static str, SqlValue);

/// The canonical comparison keys of a user's identifiers, stored beside them for uniqueness.
pub fn identity_keys(patch: &crate::model::UserPatch) -> Vec<Derived> {
    use crate::model::Patch;
    let mut keys = Vec::new();
    if let Patch::Set(e) = &patch.email {
        keys.push(("email_key", e.canonical_key().into()));
    }
    match &patch.username {
        Patch::Set(u) => keys.push(("username_key", u.canonical_key().into())),
        Patch::Clear => keys.push(("username_key", SqlValue::Null)),
        Patch::Keep => {}
    }
    keys
}

impl Update {
    pub fn set(&mut self, field: Field, value: impl Into<SqlValue>) {
        self.assignments.push((field, value.into()));
    }

    /// The SET list; `at` gets each assignment's parameter number, for `changes_sql`.
    fn sets_sql(&self, params: &mut Vec<SqlValue>, at: &mut Vec<(Field, usize)>) -> String {
        let mut out = String::new();
        for (field, value) in &self.assignments {
            out.push_str(column(*field));
            out.push_str(" = ?, ");
            params.push(value.clone());
            at.push((*field, params.len()));
        }
        for (column, value) in &self.derived {
            out.push_str(column);
            out.push_str(" = ?, ");
            params.push(value.clone());
        }
        for (kind, value) in &self.reverify {
            let (col, flag) = match kind {
                CodeKind::Phone => contact_columns(*kind),
                _ => ("email_key", contact_columns(*kind).1),
            };
            out.push_str(&format!("{flag} = CASE WHEN {col} = ? THEN {flag} ELSE 0 END, "));
            params.push(value.clone().into());
        }
        for kind in &self.verify {
            out.push_str(&format!("{} = 1, ", contact_columns(*kind).1));
        }
        if let Some(required) = self.password_change_required {
            out.push_str("password_change_required = ?, ");
            params.push(required.into());
        }
        out
    }

    /// An SQL JSON object, over the row as it was (SQLite evaluates every SET expression on the
    /// row before the UPDATE), of what each of `fields` the user shows held: the event renders
    /// the changed ones as `previous_attributes`. Never the password hash (`User` has no such
    /// column), nor the SCIM document, which only SCIM shows.
    fn previous_sql(&self) -> String {
        let pairs: Vec<String> = self
            .fields
            .iter()
            .map(|f| f.name())
            .filter(|name| *name != "scim" && crate::model::User::COLUMNS.contains(name))
            .map(|name| format!("'{name}', {name}"))
            .collect();
        format!("json_object({})", pairs.join(", "))
    }

    /// An SQL text expression, over the row as it was, that concatenates `,"name"` for each of
    /// `fields` the write changes: `''` when it changes none. An assigned field's value is
    /// compared with its own parameter (`?N`, bound once for the SET), a flag a code proves with 1.
    fn changes_sql(&self, at: &[(Field, usize)]) -> String {
        let parts: Vec<String> = self
            .fields
            .iter()
            .map(|f| {
                let name = f.name();
                let flag = self.verify.iter().map(|k| contact_columns(*k).1).find(|flag| *flag == name);
                match (at.iter().find(|(a, _)| a == f), flag) {
                    // BINARY: `email` and `username` are NOCASE columns, under which a change of
                    // case alone (stored as sent, so a change) would compare equal.
                    (Some((_, n)), _) => {
                        format!("CASE WHEN {} IS NOT ?{n} COLLATE BINARY THEN ',\"{name}\"' ELSE '' END", column(*f))
                    }
                    (None, Some(flag)) => format!("CASE WHEN {flag} IS NOT 1 THEN ',\"{name}\"' ELSE '' END"),
                    (None, None) => format!("',\"{name}\"'"),
                }
            })
            .collect();
        if parts.is_empty() {
            "''".into()
        } else {
            parts.join(" || ")
        }
    }
}

/// The conditional update: target within reach, at the expected version, every condition
/// holding. Returns the row as it now is, or no row when anything fails. Marks the row with `tag`
/// so the statements after it in the batch land only if it did. A write that changes none of its
/// fields (every value sent is the one stored) is a no-op: the version and `updated_at` stay, and
/// `last_changes`, which the write's event names its fields from, is `[]`, so there is no event.
/// Sync clients that send a whole record each time (SCIM PUTs, Konstantly's required `email`)
/// then neither move the ETag nor flood the feed.
pub fn update(who: &Principal, t: &Target, pre: Option<&Precondition>, u: &Update, now: &str, tag: &str) -> Stmt {
    let mut params = Vec::new();
    let mut at = Vec::new();
    let sets_sql = u.sets_sql(&mut params, &mut at);
    let changes = u.changes_sql(&at);
    let previous = u.previous_sql();
    params.extend([now.into(), tag.into()]);
    let reach_sql = reach(who, t, &mut params);
    let pre_sql = precondition(pre, &mut params);
    let cond_sql: String = u.conditions.iter().map(|c| format!(" AND {}", c.sql(&mut params))).collect();
    Stmt::new(
        format!(
            "UPDATE users SET {sets_sql}last_changes = '[' || substr({changes}, 2) || ']', last_previous = {previous}, \
             version = version + (({changes}) <> ''), updated_at = CASE WHEN ({changes}) <> '' THEN ? ELSE updated_at END, \
             last_write = ? WHERE {reach_sql}{pre_sql}{cond_sql} RETURNING {}",
            columns(u.returning)
        ),
        params,
    )
}

/// Mark a user as written by `tag` without changing it (a password-reset request), so the
/// statements after it in the batch can key on the tag. `verified_email`: only a user whose email
/// is verified, the one address a reset link may go to.
pub fn touch(who: &Principal, t: &Target, tag: &str, verified_email: bool) -> Stmt {
    let mut params = vec![tag.into()];
    let reach_sql = reach(who, t, &mut params);
    let verified_sql = if verified_email { " AND email_verified = 1 AND email <> ''" } else { "" };
    Stmt::new(format!("UPDATE users SET last_write = ? WHERE {reach_sql}{verified_sql} RETURNING {COLUMNS}"), params)
}

/// Where a reset link would go: the user's id, its email's comparison key and whether it is
/// verified (guarded like a write).
pub fn reset_recipient(who: &Principal, t: &Target) -> Stmt {
    let mut params = Vec::new();
    let reach_sql = reach(who, t, &mut params);
    Stmt::new(format!("SELECT id, email_key, email_verified FROM users WHERE {reach_sql}"), params)
}

/// The stored password hash, for checking a `currentPassword` (guarded like a write).
pub fn password_hash(who: &Principal, t: &Target) -> Stmt {
    let mut params = Vec::new();
    let reach_sql = reach(who, t, &mut params);
    Stmt::new(format!("SELECT id, password_hash FROM users WHERE {reach_sql}"), params)
}

/// Every personal field a deletion erases; the tombstone keeps ids, org, dates and version.
const ERASED: &str = "username = NULL, email = '', email_verified = 0, phone = NULL, phone_verified = 0, \
name = NULL, given_name = NULL, family_name = NULL, nick_name = NULL, preferred_language = NULL, gender = NULL, \
role_title = NULL, based_in = NULL, linkedin_profile_url = NULL, picture = NULL, company = NULL, website = NULL, \
country = NULL, bio = NULL, timezone = NULL, admin = 0, auth0_uid = NULL, publisher_id = NULL, agency_id = NULL, \
network_id = NULL, advertiser_id = NULL, payment_date = NULL, company_type = NULL, publisher_type = NULL, \
role_alias = NULL, attributes = '{}', password_hash = NULL, consented_at = NULL, consent_method = NULL, \
external_id = NULL, email_key = NULL, username_key = NULL, scim = '{}', last_previous = NULL";

/// Delete: the row becomes a tombstone, freeing its email and username (the unique indexes
/// cover live users only). Returns the tombstone.
pub fn tombstone(who: &Principal, t: &Target, pre: Option<&Precondition>, now: &str, tag: &str) -> Stmt {
    let mut params = vec![now.into(), now.into(), tag.into()];
    let reach_sql = reach(who, t, &mut params);
    let pre_sql = precondition(pre, &mut params);
    Stmt::new(
        format!(
            "UPDATE users SET {ERASED}, deleted_at = ?, version = version + 1, updated_at = ?, last_write = ? \
             WHERE {reach_sql}{pre_sql} RETURNING {COLUMNS}"
        ),
        params,
    )
}

/// A new user in an org: the insert lands only if the org exists (and, for a key, the key
/// still holds in that org).
pub fn insert(
    who: &Principal,
    org_id: i64,
    uuid: &str,
    (fields, derived): (&[(Field, SqlValue)], &[Derived]),
    now: &str,
    tag: &str,
) -> Stmt {
    let mut params: Vec<SqlValue> = vec![uuid.into()];
    let mut cols = String::new();
    let mut marks = String::new();
    let columns = fields.iter().map(|(f, v)| (column(*f), v)).chain(derived.iter().map(|(c, v)| (*c, v)));
    for (col, value) in columns {
        cols.push_str(&format!("{col}, "));
        marks.push_str("?, ");
        params.push(value.clone());
    }
    params.extend([now.into(), now.into(), tag.into(), org_id.into()]);
    let scope = match who {
        Principal::Operator => String::new(),
        Principal::Key(k) => {
            let mut guard_params = Vec::new();
            let sql = super::guard::key_holds(k, &mut guard_params);
            params.extend(guard_params);
            format!(" AND {sql}")
        }
    };
    Stmt::new(
        format!(
            "INSERT INTO users (uuid, org_id, {cols}created_at, updated_at, last_write) \
             SELECT ?, id, {marks}?, ?, ? FROM orgs WHERE id = ?{scope} RETURNING {COLUMNS}"
        ),
        params,
    )
}

/// The email key an update or insert assigns, if any.
pub fn assigned_email_key(derived: &[Derived]) -> Option<&SqlValue> {
    derived.iter().find(|(c, _)| *c == "email_key").map(|(_, v)| v)
}

/// Release another user's expired, unverified claim on `email_key` in the org the write goes to
/// (`org_sql` over `users`, bound by `org_params`), so the write that follows in the same batch
/// can take the address. Changes no field a client sees: the row keeps its text (migration 0009).
fn release_stale_claim(org_sql: &str, mut org_params: Vec<SqlValue>, email_key: &SqlValue, now: &str) -> Stmt {
    let mut params = vec![email_key.clone(), now.into()];
    params.append(&mut org_params);
    Stmt::new(
        format!(
            "UPDATE users SET email_key = NULL WHERE email_key = ? AND email_verified = 0 AND email_claim_until IS NOT NULL \
             AND email_claim_until <= ? AND deleted_at IS NULL AND org_id = ({org_sql})"
        ),
        params,
    )
}

/// `release_stale_claim` before an update of `target`: in the target's org, and only when the
/// caller may write it (the same reach and guard as the update).
pub fn release_for_update(who: &Principal, target: &Target, email_key: &SqlValue, now: &str) -> Stmt {
    let mut params = Vec::new();
    let reach_sql = super::guard::reach(who, target, &mut params);
    release_stale_claim(&format!("SELECT org_id FROM users WHERE {reach_sql}"), params, email_key, now)
}

/// `release_stale_claim` before a new user of `org_id`: only while the caller's key holds there.
pub fn release_for_insert(who: &Principal, org_id: i64, email_key: &SqlValue, now: &str) -> Stmt {
    let mut params: Vec<SqlValue> = vec![org_id.into()];
    let guard_sql = match who {
        Principal::Operator => String::new(),
        Principal::Key(k) => format!(" AND {}", super::guard::key_holds(k, &mut params)),
    };
    release_stale_claim(&format!("SELECT id FROM orgs WHERE id = ?{guard_sql}"), params, email_key, now)
}

/// A page of live users in id order; one more row than `limit` is asked for, to know whether
/// there is a next page. No caller guard: it is read after the key's re-check, in one batch
/// (`pipeline::guard::checked_read`).
pub fn list(q: &UserListing) -> Stmt {
    let mut params: Vec<SqlValue> = vec![q.org_id.into()];
    let mut sql = format!("SELECT {COLUMNS} FROM users WHERE org_id = ? AND deleted_at IS NULL");
    if let Some(email) = &q.email {
        sql.push_str(" AND email_key = ?");
        params.push(email.clone().into());
    }
    if let Some(username) = &q.username {
        sql.push_str(" AND username_key = ?");
        params.push(username.clone().into());
    }
    if let Some(after) = q.after_id {
        sql.push_str(" AND id > ?");
        params.push(after.into());
    }
    sql.push_str(" ORDER BY id LIMIT ?");
    params.push(i64::from(q.limit + 1).into());
    Stmt::new(sql, params)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::User;

    /// A read names the columns in the order `User` reads them, which lets it find each column
    /// with one comparison; and it selects nothing `User` does not read.
    #[test]
    fn a_read_selects_the_columns_a_user_is_read_from_in_order() {
        let selected: Vec<&str> = COLUMNS.split(", ").map(column_name).collect();
        assert_eq!(selected, User::COLUMNS);
        // The snapshot's keys are its only quoted strings: every other piece between quotes.
        let keys: Vec<&str> = SNAPSHOT.split('\'').enumerate().filter_map(|(i, s)| (i % 2 == 1).then_some(s)).collect();
        assert_eq!(keys, User::COLUMNS);
    }
}
