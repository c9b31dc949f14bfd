//! The operator API's operations: orgs, users, keys, the audit trail. The operator acts on any
//! org; an admin key only on its own (others are 404, as everywhere).

use super::{now_rfc3339, random_tag};
use crate::apikey::{self, NewKey};
use crate::error::Failure;
use crate::model::{NewPassword, Principal, Role, Target, User};
use crate::password;
use crate::platform::{Ctx, Platform};
use crate::store::{sql, Row, RowExt, SqlValue, Stmt};
use crate::values::{Email, ShortText, Username};

fn org_scope(who: &Principal) -> Option<i64> {
    match who {
        Principal::Operator => None,
        Principal::Key(k) => Some(k.org_id),
    }
}

fn actor_key(who: &Principal) -> Option<i64> {
    match who {
        Principal::Operator => None,
        Principal::Key(k) => Some(k.key_id),
    }
}

pub async fn create_org<P: Platform>(cx: &Ctx<'_, P>, who: &Principal, name: ShortText) -> Result<Row, Failure> {
    if *who != Principal::Operator {
        return Err(Failure::Forbidden(crate::policy::Denial::AdminKeyRequired));
    }
    let uuid = uuid::Builder::from_random_bytes(cx.random::<16>()?).into_uuid().to_string();
    let stmt = Stmt::new(
        "INSERT INTO orgs (uuid, name, created_at) VALUES (?, ?, ?) RETURNING id, uuid, name, created_at",
        vec![uuid.into(), name.as_str().into(), now_rfc3339(cx).into()],
    );
    cx.query(stmt).await?.into_iter().next().ok_or_else(|| Failure::Internal("insert returned nothing".into()))
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub org_id: i64,
    pub email: Email,
    pub username: Option<Username>,
    pub name: Option<ShortText>,
    pub given_name: Option<ShortText>,
    pub family_name: Option<ShortText>,
    pub admin: bool,
    pub password: Option<NewPassword>,
}

pub async fn create_user<P: Platform>(cx: &Ctx<'_, P>, who: &Principal, new: NewUser) -> Result<User, Failure> {
    if org_scope(who).is_some_and(|org| org != new.org_id) {
        return Err(Failure::NotFound);
    }
    let password_hash = match &new.password {
        Some(pw) => {
            let (salt, iterations) = (cx.random::<16>()?, cx.config().pbkdf2_iterations);
            Some(cx.cpu("pbkdf2", || password::hash(pw, &salt, iterations)).map_err(Failure::Internal)?)
        }
        None => None,
    };
    let uuid = uuid::Builder::from_random_bytes(cx.random::<16>()?).into_uuid().to_string();
    let (now, tag) = (now_rfc3339(cx), random_tag(cx)?);
    let text = |v: &Option<ShortText>| SqlValue::from(v.as_ref().map(|t| t.as_str()));
    let insert = Stmt::new(
        format!(
            "INSERT INTO users (uuid, org_id, email, username, name, given_name, family_name, admin, password_hash, \
             created_at, updated_at, last_write) SELECT ?, id, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? FROM orgs WHERE id = ? \
             RETURNING {}",
            sql::USER_COLUMNS
        ),
        vec![
            uuid.clone().into(),
            new.email.as_str().into(),
            new.username.as_ref().map(|u| u.as_str()).into(),
            text(&new.name),
            text(&new.given_name),
            text(&new.family_name),
            SqlValue::Int(new.admin.into()),
            password_hash.into(),
            now.clone().into(),
            now.clone().into(),
            tag.clone().into(),
            new.org_id.into(),
        ],
    );
    let mut fields = vec!["email"];
    let optional = [
        ("username", new.username.is_some()),
        ("name", new.name.is_some()),
        ("given_name", new.given_name.is_some()),
        ("family_name", new.family_name.is_some()),
        ("admin", new.admin),
        ("password", new.password.is_some()),
    ];
    fields.extend(optional.iter().filter(|(_, set)| *set).map(|(n, _)| *n));
    let fields = serde_json::to_string(&fields).unwrap_or_default();
    let event = sql::insert_event(&Target::Uuid(uuid), &tag, actor_key(who), "create", "admin", &fields, &now);
    let mut results = cx.batch(vec![insert, event]).await?;
    match results.first_mut().and_then(|r| r.pop()) {
        Some(row) => User::from_row(row).map_err(Failure::Internal),
        None => Err(Failure::NotFound),
    }
}

pub async fn read_user_as_operator<P: Platform>(cx: &Ctx<'_, P>, who: &Principal, target: &Target) -> Result<User, Failure> {
    let row = cx.query(sql::select_user(target, org_scope(who))).await?.into_iter().next().ok_or(Failure::NotFound)?;
    User::from_row(row).map_err(Failure::Internal)
}

pub struct IssuedKey {
    pub id: i64,
    pub key: NewKey,
    pub role: Role,
    pub user_id: i64,
}

/// Issue a key for a user; its role is the user's role now (admin flag). The KV cache is filled
/// right away so the first request costs one KV read.
pub async fn create_key<P: Platform>(cx: &Ctx<'_, P>, who: &Principal, user_id: i64) -> Result<IssuedKey, Failure> {
    let user = read_user_as_operator(cx, who, &Target::Id(user_id)).await?;
    let role = if user.admin { Role::Admin } else { Role::User };
    let key = apikey::generate(&cx.random::<32>()?);
    let stmt = Stmt::new(
        "INSERT INTO api_keys (digest, prefix, user_id, org_id, role, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
        vec![
            key.digest.clone().into(),
            key.prefix.clone().into(),
            user.id.into(),
            user.org_id.into(),
            role.as_str().into(),
            now_rfc3339(cx).into(),
        ],
    );
    let id = cx.query(stmt).await?.first().and_then(|r| r.int("id")).ok_or_else(|| Failure::Internal("no key id".into()))?;
    let principal = crate::model::KeyPrincipal { key_id: id, user_id: user.id, user_uuid: user.uuid, org_id: user.org_id, role };
    if let Ok(json) = serde_json::to_string(&principal) {
        let _ = cx.kv_put(&apikey::kv_key(&key.digest), &json).await;
    }
    Ok(IssuedKey { id, key, role, user_id: user.id })
}

/// Revoke a key: D1 first (the authority), then drop the cache entry. Revoking twice is fine.
pub async fn revoke_key<P: Platform>(cx: &Ctx<'_, P>, who: &Principal, key_id: i64) -> Result<(), Failure> {
    let mut params = vec![now_rfc3339(cx).into(), key_id.into()];
    let scope = match org_scope(who) {
        Some(org) => {
            params.push(org.into());
            " AND org_id = ?"
        }
        None => "",
    };
    let stmt = Stmt::new(
        format!("UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?{scope} RETURNING digest"),
        params,
    );
    let digest = cx.query(stmt).await?.first().and_then(|r| r.text("digest")).ok_or(Failure::NotFound)?;
    cx.kv_delete(&apikey::kv_key(&digest)).await.map_err(Failure::Internal)
}

/// The audit trail of one user, newest first (at most 100 events).
pub async fn list_events<P: Platform>(cx: &Ctx<'_, P>, who: &Principal, user_id: i64) -> Result<Vec<serde_json::Value>, Failure> {
    let user = read_user_as_operator(cx, who, &Target::Id(user_id)).await?;
    let stmt = Stmt::new(
        "SELECT id, user_id, actor_key_id, action, dialect, fields, version, at FROM user_events \
         WHERE user_id = ? ORDER BY id DESC LIMIT 100",
        vec![user.id.into()],
    );
    Ok(cx
        .query(stmt)
        .await?
        .into_iter()
        .map(|mut row| {
            let fields = row.text("fields").and_then(|f| serde_json::from_str(&f).ok()).unwrap_or_default();
            row.insert("fields".into(), fields);
            serde_json::Value::Object(row)
        })
        .collect())
}
