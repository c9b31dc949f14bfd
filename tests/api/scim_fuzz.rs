//! No input panics: SCIM filters, PATCH paths and PatchOp bodies, random and built from the
//! grammar's own tokens (so the generator reaches deep into the parsers), and whatever parses is
//! compiled to SQL and applied to resources.

use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::{json, Map, Value};
use users_edge::dialects::scim::{filter, patch, path, schema};
use users_edge::model::filter::AttrPath;
use users_edge::store::filter::{compile, Column, ColumnType, SubColumn};

const TOKENS: &[&str] = &[
    " ",
    " ",
    "  ",
    "\n",
    "(",
    ")",
    "[",
    "]",
    ".",
    ":",
    "\"",
    "\\",
    "eq",
    "ne",
    "co",
    "sw",
    "ew",
    "gt",
    "ge",
    "lt",
    "le",
    "pr",
    "and",
    "or",
    "not",
    "Not",
    "AND",
    "true",
    "false",
    "null",
    "1",
    "-2.5e3",
    "1e999",
    "\"x\"",
    "\"\\u00e9\"",
    "\"\\ud800\"",
    "\"%_\\\\'\"",
    "userName",
    "emails",
    "value",
    "type",
    "primary",
    "name",
    "givenName",
    "members",
    "active",
    "$ref",
    "urn:ietf:params:scim:schemas:core:2.0:User:",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:",
    "manager",
    "employeeNumber",
    "meta",
    "lastModified",
    "\"2011-05-13T04:42:34Z\"",
    "é",
    "😀",
    "\u{0}",
];

fn soup() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(TOKENS), 0..48).prop_map(|t| t.concat())
}

/// Filters built from the grammar, some then damaged by one random token: both the accepting
/// paths and the near misses get exercised.
fn grammar() -> impl Strategy<Value = String> {
    let path = prop::sample::select(
        &["userName", "emails.value", "name.givenName", "urn:ietf:params:scim:schemas:core:2.0:User:userName", "active", "title"]
            [..],
    );
    let op = prop::sample::select(&["eq", "NE", "co", "sw", "ew", "gt", "ge", "lt", "le"][..]);
    let value = prop::sample::select(&["\"x\"", "\"%_\\\\\"", "true", "null", "42", "-1.5", "\"2011-05-13T04:42:34Z\""][..]);
    let leaf = prop_oneof![
        (path.clone(), op, value).prop_map(|(p, o, v)| format!("{p} {o} {v}")),
        path.prop_map(|p| format!("{p} pr")),
        Just("emails[type eq \"work\" and value co \"@x\"]".to_string()),
        Just("emails[type eq \"work\"].value eq \"a@b\"".to_string()),
    ];
    let tree = leaf.prop_recursive(6, 40, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} and {b}")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} or {b}")),
            inner.clone().prop_map(|a| format!("not ({a})")),
            inner.prop_map(|a| format!("({a})")),
        ]
    });
    (tree, any::<bool>(), any::<prop::sample::Index>(), prop::sample::select(TOKENS)).prop_map(|(f, damage, at, token)| {
        if !damage {
            return f;
        }
        let cut = (0..=f.len()).filter(|&i| f.is_char_boundary(i)).nth(at.index(f.chars().count() + 1)).unwrap_or(0);
        format!("{}{token}{}", &f[..cut], &f[cut..])
    })
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![grammar(), soup(), any::<String>(), "[ -~]{0,120}"]
}

fn json_value() -> impl Strategy<Value = Value> {
    let keys = prop_oneof![
        prop::sample::select(TOKENS).prop_map(str::to_string),
        soup(),
        Just("name.givenName".to_string()),
        Just("emails[type eq \"work\"].value".to_string()),
        Just(schema::ENTERPRISE_USER_URN.to_string()),
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        prop_oneof![Just("True".to_string()), Just("false".to_string()), text()].prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((keys.clone(), inner), 0..4)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn operation() -> impl Strategy<Value = Value> {
    let op = prop::sample::select(&["add", "Add", "replace", "Replace", "remove", "Remove", "move"][..]);
    let known_path = prop::sample::select(
        &[
            "userName",
            "name.givenName",
            "name",
            "emails",
            "emails[type eq \"work\"].value",
            "emails[type eq \"work\"]",
            "emails[value co \"@\"].primary",
            "emails.primary",
            "members",
            "members[value eq \"a\"]",
            "members[value eq \"a\"].display",
            "displayName",
            "active",
            "id",
            "meta",
            "groups",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
        ][..],
    );
    let path = prop_oneof![Just(None), known_path.prop_map(|p| Some(Value::from(p))), soup().prop_map(|p| Some(Value::from(p)))];
    (op, path, prop::option::of(json_value())).prop_map(|(op, path, value)| {
        let mut o = Map::new();
        o.insert("op".into(), op.into());
        if let Some(p) = path {
            o.insert("path".into(), p);
        }
        if let Some(v) = value {
            o.insert("value".into(), v);
        }
        Value::Object(o)
    })
}

static SUBS: &[SubColumn] = &[
    SubColumn { name: "value", ty: ColumnType::Text { case_exact: false } },
    SubColumn { name: "type", ty: ColumnType::Text { case_exact: true } },
    SubColumn { name: "primary", ty: ColumnType::Bool },
];

/// Maps every attribute to something, so compilation gets past the lookup.
fn any_column(p: &AttrPath) -> Option<Column> {
    let ty = match p.attr.len() % 5 {
        0 => ColumnType::Text { case_exact: false },
        1 => ColumnType::Username { key: "col_key" },
        2 => ColumnType::Bool,
        3 => ColumnType::DateTime,
        _ => ColumnType::Int,
    };
    match p.attr.to_ascii_lowercase().as_str() {
        "emails" | "members" => Some(Column::Multi { json_expr: "json_extract(scim, '$.emails')", subs: SUBS }),
        _ => Some(Column::Scalar { expr: "col", ty }),
    }
}

fn resources() -> [(Value, &'static schema::ResourceType); 2] {
    let user = json!({
        "schemas": [schema::USER_URN], "id": "u1", "userName": "bjensen", "name": {"givenName": "B"},
        "emails": [{"value": "a@x", "type": "work", "primary": true}, {"value": "b@y", "type": "home"}],
        "groups": [{"value": "g1"}], "meta": {"version": "1"},
        schema::ENTERPRISE_USER_URN: {"manager": {"value": "m"}}
    });
    let group = json!({"schemas": [schema::GROUP_URN], "id": "g1", "displayName": "G", "members": [{"value": "a"}]});
    [(user, &schema::USER), (group, &schema::GROUP)]
}

fn config() -> Config {
    Config { cases: 400, failure_persistence: None, ..Config::default() }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn filters_never_panic(input in text()) {
        if let Ok(f) = filter::parse(&input) {
            if let Ok(fragment) = compile(&f, &any_column) {
                prop_assert_eq!(fragment.sql.matches('?').count(), fragment.params.len());
                prop_assert!(!fragment.sql.contains('"') || fragment.sql.contains("'$.\""), "only static names are quoted");
            }
        }
    }

    #[test]
    fn long_filters_never_panic(head in text(), n in 0usize..6000) {
        let input = format!("{head}{}", "(".repeat(n));
        let _ = filter::parse(&input);
    }

    #[test]
    fn paths_never_panic(input in text()) {
        let _ = path::parse(&input);
    }

    #[test]
    fn patches_never_panic(ops in prop::collection::vec(operation(), 1..5)) {
        let body = json!({"schemas": [patch::PATCH_OP_URN], "Operations": ops});
        if let Ok(request) = patch::parse_request(body) {
            for (resource, rt) in resources() {
                if let Ok(out) = patch::apply(&resource, &request, rt, &["groups"]) {
                    prop_assert!(out.is_object());
                }
            }
        }
    }

    #[test]
    fn any_body_never_panics(body in json_value()) {
        let _ = patch::parse_request(body);
    }
}
