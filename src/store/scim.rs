//! The SCIM dialect's view of the `users` table: which SQL expression each filterable SCIM
//! attribute is (`user_column`, `group_column`, for `store::filter::compile`), and the listing
//! queries with `totalResults` (RFC 7644 §3.4.2). The filter fragment holds only these fixed
//! expressions and `?` placeholders.

use super::filter::{Column, ColumnType, Fragment, SubColumn};
use super::guard::target;
use super::{users::COLUMNS, SqlValue, Stmt};
use crate::model::filter::AttrPath;
use crate::model::{KeyPrincipal, Target};

const CI: ColumnType = ColumnType::Text { case_exact: false };
const CE: ColumnType = ColumnType::Text { case_exact: true };

/// The domain of the address a user provisioned without any email gets (the directory needs
/// one per user; RFC 2606 reserves `.invalid`). SCIM shows such a user with no `emails`.
pub const NO_EMAIL_DOMAIN: &str = "no-email.invalid";

/// The index of the stored list's primary value (else 0), as `dialects::scim::wire` picks it.
macro_rules! primary_of {
    ($list:literal) => {
        concat!(
            "COALESCE((SELECT p.key FROM json_each(users.scim, '$.",
            $list,
            "') AS p WHERE p.type = 'object' AND json_extract(p.value, '$.primary') = 1 LIMIT 1), 0)"
        )
    };
}

/// A user's `emails` as SCIM shows them: the stored list with its primary (or first) value
/// replaced by the canonical email, which other dialects may have changed.
const EMAILS: &str = concat!(
    "(CASE WHEN users.email LIKE '%@no-email.invalid' THEN json_extract(users.scim, '$.emails') \
WHEN json_array_length(users.scim, '$.emails') > 0 THEN json_set(json_extract(users.scim, '$.emails'), '$[' || ",
    primary_of!("emails"),
    " || '].value', users.email) \
ELSE json_array(json_object('value', users.email, 'primary', json('true'))) END)"
);

/// A user's `phoneNumbers` as SCIM shows them (`wire::phones_json`): the stored list with its
/// primary (or first) value replaced by the canonical phone, which other dialects may have
/// changed; with no phone, a primary value that is an E.164 number (`values::Phone`) was the
/// canonical one and has been cleared, so it goes.
const PHONES: &str = concat!(
    "(CASE WHEN users.phone IS NOT NULL THEN CASE WHEN json_array_length(users.scim, '$.phoneNumbers') > 0 \
THEN json_set(json_extract(users.scim, '$.phoneNumbers'), '$[' || ",
    primary_of!("phoneNumbers"),
    " || '].value', users.phone) \
ELSE json_array(json_object('value', users.phone, 'primary', json('true'))) END \
WHEN (SELECT v GLOB '+[1-9]*' AND length(v) BETWEEN 9 AND 16 AND substr(v, 2) NOT GLOB '*[^0-9]*' \
FROM (SELECT json_extract(users.scim, '$.phoneNumbers[' || ",
    primary_of!("phoneNumbers"),
    " || '].value') AS v)) \
THEN json_remove(json_extract(users.scim, '$.phoneNumbers'), '$[' || ",
    primary_of!("phoneNumbers"),
    " || ']') ELSE json_extract(users.scim, '$.phoneNumbers') END)"
);

/// `active` as a read shows it: absent while a client has left it out or removed it and the user
/// is active (`dialects::scim::wire` marks that in the document), so `active pr` and `active eq
/// true` do not match such a user.
const ACTIVE: &str = "(CASE WHEN users.deactivated = 0 AND json_extract(users.scim, '$.\"$activeOmitted\"') = 1 \
THEN NULL ELSE users.deactivated = 0 END)";

static EMAIL_SUBS: &[SubColumn] = &[
    SubColumn { name: "value", ty: ColumnType::Email { key: "users.email_key", canonical: "users.email" } },
    SubColumn { name: "type", ty: CI },
    SubColumn { name: "display", ty: CI },
    SubColumn { name: "primary", ty: ColumnType::Bool },
];
static PHONE_SUBS: &[SubColumn] = &[
    SubColumn { name: "value", ty: CI },
    SubColumn { name: "type", ty: CI },
    SubColumn { name: "display", ty: CI },
    SubColumn { name: "primary", ty: ColumnType::Bool },
];
static VALUE_SUBS: &[SubColumn] = &[
    SubColumn { name: "value", ty: CI },
    SubColumn { name: "type", ty: CI },
    SubColumn { name: "display", ty: CI },
    SubColumn { name: "primary", ty: ColumnType::Bool },
];
static MEMBER_SUBS: &[SubColumn] =
    &[SubColumn { name: "value", ty: CE }, SubColumn { name: "display", ty: CI }, SubColumn { name: "type", ty: CI }];

const USER_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:user";
const ENTERPRISE_URN: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:user";
const GROUP_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:group";

fn scalar(expr: &'static str, ty: ColumnType) -> Option<Column> {
    Some(Column::Scalar { expr, ty })
}

/// A User attribute as SQL over `users`; `None`: not filterable. userName, externalId and
/// displayName are indexed per org (migrations 0003, 0006).
pub fn user_column(p: &AttrPath) -> Option<Column> {
    let urn = p.urn.as_deref().map(str::to_ascii_lowercase);
    if urn.as_deref() == Some(ENTERPRISE_URN) {
        return enterprise_column(p);
    }
    if urn.is_some_and(|u| u != USER_URN) {
        return None;
    }
    match p.key().as_str() {
        "id" => scalar("users.uuid", CE),
        "externalid" => scalar("users.external_id", CE),
        "username" => scalar("users.username", ColumnType::Username { key: "users.username_key" }),
        "displayname" => scalar("users.name", CI),
        "nickname" => scalar("users.nick_name", CI),
        "title" => scalar("users.role_title", CI),
        "name.givenname" => scalar("users.given_name", CI),
        "name.familyname" => scalar("users.family_name", CI),
        "name.formatted" => scalar("json_extract(users.scim, '$.name.formatted')", CI),
        "name.middlename" => scalar("json_extract(users.scim, '$.name.middleName')", CI),
        "preferredlanguage" => scalar("COALESCE(users.preferred_language, json_extract(users.scim, '$.preferredLanguage'))", CI),
        "timezone" => scalar("COALESCE(users.timezone, json_extract(users.scim, '$.timezone'))", CI),
        "locale" => scalar("json_extract(users.scim, '$.locale')", CI),
        "usertype" => scalar("json_extract(users.scim, '$.userType')", CI),
        "profileurl" => scalar("json_extract(users.scim, '$.profileUrl')", CE),
        "active" => scalar(ACTIVE, ColumnType::Bool),
        "meta.created" => scalar("users.created_at", ColumnType::DateTime),
        "meta.lastmodified" => scalar("users.updated_at", ColumnType::DateTime),
        "emails" | "emails.value" | "emails.type" | "emails.primary" | "emails.display" => {
            Some(Column::Multi { json_expr: EMAILS, subs: EMAIL_SUBS })
        }
        "phonenumbers" | "phonenumbers.value" | "phonenumbers.type" | "phonenumbers.primary" | "phonenumbers.display" => {
            Some(Column::Multi { json_expr: PHONES, subs: PHONE_SUBS })
        }
        "roles" | "roles.value" | "roles.type" | "roles.primary" | "roles.display" => {
            Some(Column::Multi { json_expr: "json_extract(users.scim, '$.roles')", subs: VALUE_SUBS })
        }
        "entitlements" | "entitlements.value" | "entitlements.type" | "entitlements.primary" | "entitlements.display" => {
            Some(Column::Multi { json_expr: "json_extract(users.scim, '$.entitlements')", subs: VALUE_SUBS })
        }
        "groups" | "groups.value" | "groups.display" | "groups.type" => {
            Some(Column::Rows { select: USER_GROUP_ROWS, subs: MEMBER_SUBS })
        }
        _ => None,
    }
}

fn enterprise_column(p: &AttrPath) -> Option<Column> {
    match p.key().as_str() {
        "employeenumber" => scalar(
            "json_extract(users.scim, '$.\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\".employeeNumber')",
            CI,
        ),
        "costcenter" => {
            scalar("json_extract(users.scim, '$.\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\".costCenter')", CI)
        }
        "organization" => scalar(
            "json_extract(users.scim, '$.\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\".organization')",
            CI,
        ),
        "division" => {
            scalar("json_extract(users.scim, '$.\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\".division')", CI)
        }
        "department" => {
            scalar("json_extract(users.scim, '$.\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\".department')", CI)
        }
        "manager.value" | "manager" => scalar(
            "json_extract(users.scim, '$.\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\".manager.value')",
            CE,
        ),
        _ => None,
    }
}

/// A Group attribute as SQL over `groups` (aliased `g`). displayName is indexed per org.
pub fn group_column(p: &AttrPath) -> Option<Column> {
    if p.urn.as_deref().is_some_and(|u| !u.eq_ignore_ascii_case(GROUP_URN)) {
        return None;
    }
    match p.key().as_str() {
        "id" => scalar("g.uuid", CE),
        "externalid" => scalar("g.external_id", CE),
        "displayname" => scalar("g.display_name", ColumnType::Caseless { key: "g.name_key" }),
        "meta.created" => scalar("g.created_at", ColumnType::DateTime),
        "meta.lastmodified" => scalar("g.updated_at", ColumnType::DateTime),
        "members" | "members.value" | "members.display" | "members.type" => {
            Some(Column::Rows { select: super::groups::MEMBER_ROWS, subs: MEMBER_SUBS })
        }
        _ => None,
    }
}

/// A user's groups as rows of `value`, `display` and `type` (the SCIM `groups` attribute, for a
/// filter on it; every membership is `direct`, as a read shows it).
const USER_GROUP_ROWS: &str = "SELECT g.uuid AS value, g.display_name AS display, 'direct' AS type \
FROM group_members m JOIN groups g ON g.id = m.group_id WHERE m.user_id = users.id";

/// One page of an org's live users matching `filter`, in id order (`groups_of_page` gives their
/// groups, `count_users` the listing's total).
pub fn list_users(who: &KeyPrincipal, filter: Option<&Fragment>, offset: u32, limit: u32) -> Stmt {
    let (sql, mut params) = users_where(who, filter);
    params.extend([i64::from(limit).into(), i64::from(offset).into()]);
    Stmt::new(format!("SELECT {COLUMNS} FROM users WHERE {sql} ORDER BY users.id LIMIT ? OFFSET ?"), params)
}

/// The groups of the users on a page of `list_users`'s (same filter, same page), a row each:
/// `user_id`, and the group's `uuid` and `display_name`, in user then group id order. Rows, not a
/// JSON value per user: D1 caps a value at 2,000,000 bytes.
pub fn groups_of_page(who: &KeyPrincipal, filter: Option<&Fragment>, offset: u32, limit: u32) -> Stmt {
    let (sql, mut params) = users_where(who, filter);
    params.extend([i64::from(limit).into(), i64::from(offset).into()]);
    Stmt::new(
        format!(
            "SELECT p.id AS user_id, g.uuid, g.display_name FROM \
             (SELECT users.id FROM users WHERE {sql} ORDER BY users.id LIMIT ? OFFSET ?) AS p \
             JOIN group_members m ON m.user_id = p.id JOIN groups g ON g.id = m.group_id ORDER BY p.id, m.group_id"
        ),
        params,
    )
}

/// How many of an org's live users match `filter` (the listing's `totalResults`).
pub fn count_users(who: &KeyPrincipal, filter: Option<&Fragment>) -> Stmt {
    let (sql, params) = users_where(who, filter);
    Stmt::new(format!("SELECT COUNT(*) AS n FROM users WHERE {sql}"), params)
}

/// The key's org's live users matching `filter`. No caller guard: the listing is read in one batch
/// after the statement that re-checks the key (`pipeline::guard::key_checked_reads`).
fn users_where(who: &KeyPrincipal, filter: Option<&Fragment>) -> (String, Vec<SqlValue>) {
    let mut params: Vec<SqlValue> = vec![who.org_id.into()];
    let mut sql = "users.org_id = ? AND users.deleted_at IS NULL".to_string();
    if let Some(f) = filter {
        sql.push_str(&format!(" AND {}", f.sql));
        params.extend(f.params.iter().cloned());
    }
    (sql, params)
}

/// The groups of one user (`uuid`, `display_name`), in the order they were made.
pub fn groups_of_user(user: &Target) -> Stmt {
    let mut params = Vec::new();
    let user_sql = target(user, &mut params);
    Stmt::new(
        format!(
            "SELECT g.uuid, g.display_name FROM group_members m JOIN groups g ON g.id = m.group_id \
             WHERE m.user_id = (SELECT id FROM users WHERE {user_sql}) ORDER BY g.id"
        ),
        params,
    )
}
