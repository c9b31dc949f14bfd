//! SCIM filters parsed by the dialect and compiled by the store, run on SQLite: which rows each
//! operator matches, index use, and values with SQL wildcard and quote characters.

use rusqlite::{params_from_iter, types::Value as Sql, Connection};
use serde_json::json;
use users_edge::dialects::scim::filter::parse;
use users_edge::model::filter::AttrPath;
use users_edge::store::filter::{compile, Column, ColumnType, CompileError, SubColumn};
use users_edge::store::SqlValue;

const TEXT_CI: ColumnType = ColumnType::Text { case_exact: false };
const TEXT_CE: ColumnType = ColumnType::Text { case_exact: true };

static EMAIL_SUBS: &[SubColumn] = &[
    SubColumn { name: "value", ty: TEXT_CI },
    SubColumn { name: "type", ty: TEXT_CI },
    SubColumn { name: "primary", ty: ColumnType::Bool },
];

/// A sample mapping, as a dialect would write it.
fn map(p: &AttrPath) -> Option<Column> {
    let scalar = |expr, ty| Some(Column::Scalar { expr, ty });
    if p.urn.as_deref().is_some_and(|u| !u.eq_ignore_ascii_case("urn:ietf:params:scim:schemas:core:2.0:User")) {
        return None;
    }
    match p.key().as_str() {
        "username" => scalar("username", TEXT_CI),
        "externalid" => scalar("external_id", TEXT_CE),
        "displayname" => scalar("display_name", TEXT_CI),
        "nickname" => scalar("nick_key", ColumnType::Username { key: "nick_key" }),
        "title" => scalar("title", TEXT_CI),
        "active" => scalar("(deactivated = 0)", ColumnType::Bool),
        "meta.created" => scalar("created_at", ColumnType::DateTime),
        "logincount" => scalar("login_count", ColumnType::Int),
        "emails" | "emails.value" | "emails.type" | "emails.primary" | "emails.display" => {
            Some(Column::Multi { json_expr: "json_extract(scim, '$.emails')", subs: EMAIL_SUBS })
        }
        _ => None,
    }
}

struct Db(Connection);

impl Db {
    fn new() -> Self {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE users (
               id INTEGER PRIMARY KEY, org_id INTEGER NOT NULL, username TEXT COLLATE NOCASE, external_id TEXT,
               display_name TEXT, nick_key TEXT, title TEXT, deactivated INTEGER NOT NULL DEFAULT 0,
               created_at TEXT NOT NULL, login_count INTEGER, scim TEXT NOT NULL DEFAULT '{}');
             CREATE UNIQUE INDEX users_org_username ON users (org_id, username);
             CREATE INDEX users_org_external_id ON users (org_id, external_id);",
        )
        .unwrap();
        let rows = [
            (
                1,
                "alice",
                Some("EXT-1"),
                "Alice Smith",
                "ally",
                Some("Engineer"),
                0,
                "2024-01-01T00:00:00.000Z",
                Some(5),
                json!({"emails": [
                    {"value": "alice@work.example", "type": "work", "primary": true},
                    {"value": "alice@home.example", "type": "home"}
                ]}),
            ),
            (
                2,
                "Bob",
                Some("ext-1"),
                "Bob Jones",
                "bobby",
                None,
                1,
                "2024-06-01T12:00:00.000Z",
                Some(0),
                json!({"emails": [{"value": "bob@WORK.example", "type": "work"}]}),
            ),
            (3, r"100%_o'k\x", Some("a*b?[c]"), "", "", Some(""), 0, "2025-01-01T00:00:00.000Z", None, json!({})),
            (
                4,
                "ÉMILE",
                None,
                "émile",
                "émile",
                Some("Ingénieure"),
                0,
                "2025-06-30T23:59:59.999Z",
                Some(12),
                json!({"emails": ["not an object", 7, null, [], {"value": "emile@x.example"}]}),
            ),
        ];
        for (id, user, ext, display, nick, title, deactivated, created, logins, scim) in rows {
            conn.execute(
                "INSERT INTO users (id, org_id, username, external_id, display_name, nick_key, title, deactivated, created_at, \
                 login_count, scim) VALUES (?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rusqlite::params![id, user, ext, display, nick, title, deactivated, created, logins, scim.to_string()],
            )
            .unwrap();
        }
        // Another org's user that matches everything: the org condition must keep it out.
        conn.execute(
            "INSERT INTO users (id, org_id, username, created_at, scim) VALUES (99, 2, 'alice', '2024-01-01T00:00:00.000Z', '{}')",
            [],
        )
        .unwrap();
        Db(conn)
    }

    fn compiled(filter: &str) -> Result<(String, Vec<Sql>), CompileError> {
        let parsed = parse(filter).unwrap_or_else(|e| panic!("{filter}: {e}"));
        let fragment = compile(&parsed, &map)?;
        assert_eq!(fragment.sql.matches('?').count(), fragment.params.len(), "{}", fragment.sql);
        let params = fragment
            .params
            .into_iter()
            .map(|p| match p {
                SqlValue::Null => Sql::Null,
                SqlValue::Int(n) => Sql::Integer(n),
                SqlValue::Text(s) => Sql::Text(s),
            })
            .collect();
        Ok((fragment.sql, params))
    }

    fn ids(&self, filter: &str) -> Vec<i64> {
        let (sql, params) = Self::compiled(filter).unwrap_or_else(|e| panic!("{filter}: {e}"));
        let mut stmt = self.0.prepare(&format!("SELECT id FROM users WHERE org_id = 1 AND {sql} ORDER BY id")).unwrap();
        stmt.query_map(params_from_iter(params), |r| r.get(0)).unwrap().map(Result::unwrap).collect()
    }

    fn plan(&self, filter: &str) -> String {
        let (sql, params) = Self::compiled(filter).unwrap();
        let mut stmt = self.0.prepare(&format!("EXPLAIN QUERY PLAN SELECT id FROM users WHERE org_id = ? AND {sql}")).unwrap();
        let all = std::iter::once(Sql::Integer(1)).chain(params);
        let details: Vec<String> =
            stmt.query_map(params_from_iter(all), |r| r.get::<_, String>(3)).unwrap().map(Result::unwrap).collect();
        details.join(" | ")
    }
}

fn check(db: &Db, cases: &[(&str, &[i64])]) {
    for (filter, want) in cases {
        assert_eq!(db.ids(filter), *want, "{filter}");
    }
}

#[test]
fn text_operators_case_insensitive() {
    let db = Db::new();
    check(
        &db,
        &[
            (r#"userName eq "ALICE""#, &[1]),
            (r#"userName ne "alice""#, &[2, 3, 4]),
            (r#"userName co "O""#, &[2, 3]),
            (r#"userName sw "b""#, &[2]),
            (r#"userName ew "CE""#, &[1]),
            (r#"userName gt "b""#, &[2, 4]),
            (r#"userName ge "bob""#, &[2, 4]),
            (r#"userName lt "b""#, &[1, 3]),
            (r#"userName le "ALICE""#, &[1, 3]),
            (r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "A""#, &[1]),
            (r#"displayName co " ""#, &[1, 2]),
        ],
    );
}

#[test]
fn text_operators_case_exact() {
    let db = Db::new();
    check(
        &db,
        &[
            (r#"externalId eq "EXT-1""#, &[1]),
            (r#"externalId eq "ext-1""#, &[2]),
            (r#"externalId ne "EXT-1""#, &[2, 3, 4]),
            (r#"externalId co "XT""#, &[1]),
            (r#"externalId sw "ext""#, &[2]),
            (r#"externalId ew "-1""#, &[1, 2]),
            (r#"externalId gt "a""#, &[2, 3]),
        ],
    );
}

#[test]
fn presence_and_null() {
    let db = Db::new();
    check(
        &db,
        &[
            ("title pr", &[1, 4]),
            ("not (title pr)", &[2, 3]),
            ("title eq null", &[2, 3]),
            ("title ne null", &[1, 4]),
            ("externalId pr", &[1, 2, 3]),
            ("displayName pr", &[1, 2, 4]),
            ("emails pr", &[1, 2, 4]),
            ("emails.type pr", &[1, 2]),
            ("loginCount pr", &[1, 2, 4]),
        ],
    );
}

#[test]
fn absent_attributes_and_not() {
    let db = Db::new();
    check(
        &db,
        &[
            (r#"title eq "Engineer""#, &[1]),
            (r#"not (title eq "Engineer")"#, &[2, 3, 4]),
            (r#"title ne "Engineer""#, &[2, 3, 4]),
            (r#"not (title co "e")"#, &[2, 3]),
        ],
    );
}

#[test]
fn booleans_dates_integers() {
    let db = Db::new();
    check(
        &db,
        &[
            ("active eq true", &[1, 3, 4]),
            ("active eq false", &[2]),
            ("active ne true", &[2]),
            (r#"meta.created gt "2024-06-01T12:00:00Z""#, &[3, 4]),
            (r#"meta.created ge "2024-06-01T14:00:00+02:00""#, &[2, 3, 4]),
            (r#"meta.created lt "2024-06-01T12:00:00.001Z""#, &[1, 2]),
            (r#"meta.created le "2025-06-30T23:59:59.999Z""#, &[1, 2, 3, 4]),
            (r#"meta.created eq "2025-06-30T23:59:59.999Z""#, &[4]),
            ("loginCount gt 0", &[1, 4]),
            ("loginCount ge 5", &[1, 4]),
            ("loginCount lt 5", &[2]),
            ("loginCount le 12", &[1, 2, 4]),
            ("loginCount eq 0", &[2]),
            ("loginCount ne 0", &[1, 3, 4]),
        ],
    );
}

#[test]
fn multi_valued_and_value_paths() {
    let db = Db::new();
    check(
        &db,
        &[
            (r#"emails co "work.example""#, &[1, 2]),
            (r#"emails co "x.example""#, &[4]),
            (r#"emails[value pr and not (type pr)]"#, &[4]),
            (r#"emails.value eq "bob@work.example""#, &[2]),
            (r#"emails.type eq "home""#, &[1]),
            (r#"emails[type eq "work" and value co "@WORK"]"#, &[1, 2]),
            (r#"emails[type eq "home" and value co "bob"]"#, &[]),
            (r#"emails[type eq "work"].value eq "alice@work.example""#, &[1]),
            (r#"emails[primary eq true]"#, &[1]),
            (r#"emails[not (primary eq true)]"#, &[1, 2, 4]),
            (r#"not (emails[primary eq true])"#, &[2, 3, 4]),
            (r#"emails[type eq "work"] and not (emails[type eq "home"])"#, &[2]),
            (r#"emails.primary eq true or userName eq "ÉMILE""#, &[1, 4]),
        ],
    );
}

#[test]
fn logic_and_grouping() {
    let db = Db::new();
    check(
        &db,
        &[
            (r#"userName eq "alice" or userName eq "bob" and active eq true"#, &[1]),
            (r#"(userName eq "alice" or userName eq "bob") and active eq true"#, &[1]),
            (r#"(userName eq "alice" or userName eq "bob") and not (active eq true)"#, &[2]),
            (r#"title pr and not (title co "x") or externalId sw "a*""#, &[1, 3, 4]),
        ],
    );
}

#[test]
fn nasty_values_match_literally() {
    let db = Db::new();
    check(
        &db,
        &[
            (r#"userName eq "100%_o'k\\x""#, &[3]),
            (r#"userName co "%""#, &[3]),
            (r#"userName co "_""#, &[3]),
            (r#"userName co "'""#, &[3]),
            (r#"userName co "\\""#, &[3]),
            (r#"userName sw "100%_""#, &[3]),
            (r#"userName ew "k\\X""#, &[3]),
            (r#"userName co "%%""#, &[]),
            (r#"userName co "o'k\\x' OR '1'='1""#, &[]),
            (r#"externalId co "*""#, &[3]),
            (r#"externalId co "?""#, &[3]),
            (r#"externalId sw "a*b?[""#, &[3]),
            (r#"externalId ew "[c]""#, &[3]),
            (r#"externalId co "[*]""#, &[]),
            (r#"userName co """#, &[1, 2, 3, 4]),
        ],
    );
}

/// SQLite's NOCASE and LIKE fold ASCII only; a `Username` column's `eq` compares comparison keys,
/// which fold everything (its other operators fold ASCII only, as text does).
#[test]
fn non_ascii_case() {
    let db = Db::new();
    check(
        &db,
        &[
            (r#"userName eq "ÉMILE""#, &[4]),
            (r#"userName eq "émile""#, &[]),
            (r#"nickName eq "ÉMILE""#, &[4]),
            (r#"nickName sw "ÉM""#, &[]),
            (r#"nickName co "BB""#, &[2]),
            (r#"title co "GÉN""#, &[]),
        ],
    );
}

#[test]
fn equality_on_indexed_columns_uses_the_index() {
    let db = Db::new();
    let plan = db.plan(r#"userName eq "alice""#);
    assert!(plan.contains("SEARCH users USING") && plan.contains("INDEX users_org_username"), "{plan}");
    assert!(!plan.contains("SCAN"), "{plan}");
    let plan = db.plan(r#"userName sw "al""#);
    assert!(plan.contains("INDEX users_org_username (org_id=? AND username>? AND username<?)"), "a prefix is a range: {plan}");
    let plan = db.plan(r#"externalId eq "EXT-1""#);
    assert!(plan.contains("INDEX users_org_external_id"), "{plan}");
    assert!(!plan.contains("SCAN"), "{plan}");
}

#[test]
fn compile_errors_name_the_attribute() {
    for (filter, detail) in [
        (r#"nope eq "x""#, "cannot filter on 'nope': unknown attribute, or not searchable"),
        ("password pr", "cannot filter on 'password'"),
        (r#"emails.nope eq "x""#, "cannot filter on 'emails.nope'"),
        (r#"emails[nope eq "x"]"#, "cannot filter on 'nope'"),
        (r#"userName[value eq "x"]"#, "'userName' is not a multi-valued attribute"),
        (r#"addresses[type eq "work"]"#, "cannot filter on 'addresses': unknown attribute, or not searchable"),
        (r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:userName eq "x""#, "cannot filter on"),
        ("userName eq 1", "'userName eq 1': 'userName' is a string attribute"),
        ("active eq \"true\"", "'active' is a boolean attribute"),
        ("active gt true", "'active' is a boolean attribute"),
        ("active co true", "'active' is a boolean attribute"),
        ("loginCount eq 1.5", "'loginCount': 1.5 is not an integer"),
        (r#"loginCount co 1"#, "'loginCount' is an integer attribute"),
        (r#"meta.created gt "yesterday""#, "\"yesterday\" is not an RFC 3339 date-time"),
        (r#"meta.created co "2024""#, "'meta.created' is a dateTime attribute"),
        ("title gt null", "null compares with eq or ne only"),
    ] {
        let e = Db::compiled(filter).unwrap_err();
        assert!(e.detail.contains(detail), "{filter}: {}", e.detail);
    }
}
