//! SCIM PATCH semantics (RFC 7644 §3.5.2) on User and Group resources, including the request
//! shapes Okta and Microsoft Entra ID send.

use serde_json::{json, Value};
use users_edge::dialects::scim::patch::{apply, parse_request, OpKind, PatchError, PATCH_OP_URN};
use users_edge::dialects::scim::schema::{ResourceType, ENTERPRISE_USER_URN, GROUP, USER, USER_URN};

const ID: &str = "2819c223-7f76-453a-919d-413861904646";
const MEMBER_A: &str = "9a1b7c3d-0000-4000-8000-00000000000a";
const MEMBER_B: &str = "9a1b7c3d-0000-4000-8000-00000000000b";

fn user() -> Value {
    json!({
        "schemas": [USER_URN],
        "id": ID,
        "userName": "bjensen@example.com",
        "name": {"givenName": "Barbara", "familyName": "Jensen"},
        "displayName": "Babs Jensen",
        "active": true,
        "emails": [
            {"value": "bjensen@example.com", "type": "work", "primary": true},
            {"value": "babs@jensen.org", "type": "home"}
        ],
        "groups": [{"value": "g1", "display": "Sales"}],
        "meta": {"resourceType": "User", "version": "W/\"3\""}
    })
}

fn group() -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "id": "g1",
        "displayName": "Sales",
        "members": [{"value": MEMBER_A, "display": "Ann"}]
    })
}

fn ops(operations: Value) -> Value {
    json!({"schemas": [PATCH_OP_URN], "Operations": operations})
}

fn patch_as(rt: &ResourceType, resource: &Value, operations: Value, read_only: &[&str]) -> Result<Value, PatchError> {
    let request = parse_request(ops(operations))?;
    apply(resource, &request, rt, read_only)
}

fn patch(resource: &Value, operations: Value) -> Result<Value, PatchError> {
    patch_as(&USER, resource, operations, &[])
}

fn ok(resource: &Value, operations: Value) -> Value {
    patch(resource, operations).unwrap_or_else(|e| panic!("{e}"))
}

fn err(resource: &Value, operations: Value) -> PatchError {
    patch(resource, operations).expect_err("the patch should fail")
}

fn emails(v: &Value) -> Vec<(String, Option<String>, Option<bool>)> {
    v["emails"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| {
                    (
                        e["value"].as_str().unwrap_or_default().to_string(),
                        e["type"].as_str().map(str::to_string),
                        e["primary"].as_bool(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn request_parsing() {
    let r = parse_request(json!({
        "schemas": ["URN:ietf:params:scim:api:messages:2.0:PatchOp"],
        "operations": [
            {"op": "Replace", "path": "title", "value": "Boss"},
            {"OP": "ADD", "Path": "nickName", "Value": "B"},
            {"op": "remove", "path": "emails[type eq \"home\"]"}
        ]
    }))
    .unwrap();
    let kinds: Vec<OpKind> = r.operations.iter().map(|o| o.op).collect();
    assert_eq!(kinds, [OpKind::Replace, OpKind::Add, OpKind::Remove]);
    assert_eq!(r.operations[2].path.as_ref().unwrap().attr.attr, "emails");

    let bad = |body: Value| parse_request(body).unwrap_err();
    let e = bad(json!([]));
    assert_eq!(e.scim_type, "invalidSyntax");
    let e = bad(json!({"Operations": [{"op": "add", "path": "title", "value": "x"}]}));
    assert_eq!((e.scim_type, e.detail.contains(PATCH_OP_URN)), ("invalidSyntax", true));
    assert_eq!(bad(json!({"schemas": [PATCH_OP_URN], "Operations": []})).scim_type, "invalidSyntax");
    assert_eq!(bad(json!({"schemas": [PATCH_OP_URN], "Operations": {}})).scim_type, "invalidSyntax");
    let e = bad(json!({"schemas": [PATCH_OP_URN], "Operations": [{"op": "add", "path": "title", "value": "x"}], "x": 1}));
    assert_eq!((e.scim_type, e.detail.as_str()), ("invalidSyntax", "unknown member 'x'"));
    let e = bad(ops(json!([{"op": "add", "path": "title", "value": "x"}, {"op": "move", "path": "title"}])));
    assert_eq!(e.scim_type, "invalidSyntax");
    assert!(e.detail.starts_with("Operations[1]: op must be"), "{}", e.detail);
    let e = bad(ops(json!([{"op": "add", "path": "title"}])));
    assert_eq!((e.scim_type, e.detail.as_str()), ("invalidSyntax", "Operations[0]: add and replace need a value"));
    let e = bad(ops(json!([{"op": "remove"}])));
    assert_eq!(e.scim_type, "noTarget", "RFC 7644 §3.5.2.2: remove without a path");
    let e = bad(ops(json!([{"op": "remove", "path": "emails[type eq]"}])));
    assert_eq!(e.scim_type, "invalidPath");
    assert!(e.detail.contains("emails[type eq]"), "{}", e.detail);
    assert_eq!(bad(ops(json!([{"op": "remove", "path": 3}]))).scim_type, "invalidPath");
    assert_eq!(bad(ops(json!([{"op": "remove", "path": "title", "from": "x"}]))).scim_type, "invalidSyntax");
    assert_eq!(bad(ops(json!(["add"]))).scim_type, "invalidSyntax");
}

#[test]
fn simple_attributes() {
    let u = ok(&user(), json!([{"op": "replace", "path": "title", "value": "Boss"}]));
    assert_eq!(u["title"], "Boss");
    let u = ok(&u, json!([{"op": "Add", "path": "displayName", "value": "B. Jensen"}]));
    assert_eq!(u["displayName"], "B. Jensen", "add on a single-valued attribute replaces it");
    let u = ok(&u, json!([{"op": "remove", "path": "title"}]));
    assert!(u.get("title").is_none());
    let u = ok(&u, json!([{"op": "replace", "path": "displayName", "value": null}]));
    assert!(u.get("displayName").is_none(), "null unassigns (RFC 7643 §2.5)");
    let u = ok(&u, json!([{"op": "remove", "path": "nickName"}]));
    assert!(u.get("nickName").is_none(), "removing an unassigned attribute is fine");
}

#[test]
fn names_are_case_insensitive_and_written_canonically() {
    let mut resource = user();
    resource["username"] = json!("stale spelling");
    let u = ok(
        &resource,
        json!([
            {"op": "replace", "path": "USERNAME", "value": "babs"},
            {"op": "replace", "path": "Name.GivenName", "value": "Barb"},
            {"op": "add", "path": "NAME", "value": {"MiddleName": "Jane"}}
        ]),
    );
    assert_eq!(u["userName"], "babs");
    assert!(u.get("username").is_none(), "the old spelling is gone");
    assert_eq!(u["name"], json!({"givenName": "Barb", "middleName": "Jane", "familyName": "Jensen"}));
}

#[test]
fn sub_attributes_of_a_complex_attribute() {
    let u = ok(&user(), json!([{"op": "replace", "path": "name.givenName", "value": "Babs"}]));
    assert_eq!(u["name"], json!({"givenName": "Babs", "familyName": "Jensen"}));
    let u = ok(&u, json!([{"op": "replace", "path": "name", "value": {"familyName": "J"}}]));
    assert_eq!(u["name"], json!({"givenName": "Babs", "familyName": "J"}), "replace merges sub-attributes (§3.5.2.3)");
    let u = ok(&u, json!([{"op": "remove", "path": "name.givenName"}, {"op": "remove", "path": "name.familyName"}]));
    assert!(u.get("name").is_none(), "a complex attribute left empty is unassigned");
    let u = ok(&user(), json!([{"op": "add", "path": "name.honorificPrefix", "value": "Ms."}]));
    assert_eq!(u["name"]["honorificPrefix"], "Ms.");
    let u = ok(&user(), json!([{"op": "replace", "path": "name", "value": {"givenName": null, "middleName": "J"}}]));
    assert_eq!(u["name"], json!({"familyName": "Jensen", "middleName": "J"}), "a null sub-attribute is unassigned");
}

#[test]
fn okta_deactivate() {
    let u = ok(&user(), json!([{"op": "replace", "value": {"active": false}}]));
    assert_eq!(u["active"], false);
    assert_eq!(u["userName"], "bjensen@example.com");
}

#[test]
fn okta_group_rename_repeats_the_id() {
    let g =
        patch_as(&GROUP, &group(), json!([{"op": "replace", "value": {"id": "g1", "displayName": "Sales EMEA"}}]), &[]).unwrap();
    assert_eq!(g["displayName"], "Sales EMEA");
    let e = patch_as(&GROUP, &group(), json!([{"op": "replace", "value": {"id": "g2"}}]), &[]).unwrap_err();
    assert_eq!((e.scim_type, e.detail.as_str()), ("mutability", "Operations[0]: 'id' is readOnly"));
}

#[test]
fn entra_strings_for_booleans() {
    let u = ok(&user(), json!([{"op": "Replace", "path": "active", "value": "False"}]));
    assert_eq!(u["active"], false);
    let u = ok(&u, json!([{"op": "Replace", "path": "active", "value": "TRUE"}]));
    assert_eq!(u["active"], true);
    let u = ok(&u, json!([{"op": "Replace", "path": "emails[type eq \"home\"].primary", "value": "True"}]));
    assert_eq!(
        emails(&u),
        [
            ("bjensen@example.com".into(), Some("work".into()), Some(false)),
            ("babs@jensen.org".into(), Some("home".into()), Some(true))
        ]
    );
    let e = err(&user(), json!([{"op": "Replace", "path": "active", "value": "no"}]));
    assert_eq!((e.scim_type, e.detail.as_str()), ("invalidValue", "Operations[0]: 'active' must be a boolean value"));
}

#[test]
fn entra_aad_opt_scim_062020_dotted_keys() {
    let mut resource = user();
    resource["emails"] = json!([{"value": "babs@jensen.org", "type": "home"}]);
    let u = ok(
        &resource,
        json!([{"op": "replace", "value": {
            "displayName": "Barbara Jensen",
            "name.givenName": "Barbara J",
            "name.familyName": "Jensen-Smith",
            "active": "False",
            "emails[type eq \"work\"].value": "barbara@example.com",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "701984",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager": "26118915-6090-4610-87e4-49d8ca9f808d"
        }}]),
    );
    assert_eq!(u["displayName"], "Barbara Jensen");
    assert_eq!(u["name"], json!({"givenName": "Barbara J", "familyName": "Jensen-Smith"}));
    assert_eq!(u["active"], false);
    assert_eq!(
        emails(&u),
        [("babs@jensen.org".into(), Some("home".into()), None), ("barbara@example.com".into(), Some("work".into()), None)],
        "the work email did not exist: this form creates it"
    );
    assert_eq!(
        u[ENTERPRISE_USER_URN],
        json!({"employeeNumber": "701984", "manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d"}})
    );
    assert_eq!(u["schemas"], json!([USER_URN, ENTERPRISE_USER_URN]));
}

#[test]
fn entra_one_op_per_attribute() {
    let u = ok(
        &user(),
        json!([
            {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "barbara@example.com"},
            {"op": "Add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber", "value": "1"},
            {"op": "Add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "value": "m-1"},
            {"op": "Replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "value": "R&D"},
            {"op": "Add", "path": "phoneNumbers[type eq \"mobile\"].value", "value": "+1 555 0100"}
        ]),
    );
    assert_eq!(emails(&u)[0], ("barbara@example.com".into(), Some("work".into()), Some(true)));
    assert_eq!(u[ENTERPRISE_USER_URN], json!({"employeeNumber": "1", "department": "R&D", "manager": {"value": "m-1"}}));
    assert_eq!(u["phoneNumbers"], json!([{"type": "mobile", "value": "+1 555 0100"}]), "add through a filter creates");
    let u = ok(&u, json!([{"op": "Remove", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"}]));
    assert_eq!(u[ENTERPRISE_USER_URN], json!({"employeeNumber": "1", "department": "R&D"}));
}

#[test]
fn extension_paths_and_schemas_list() {
    let u = ok(
        &user(),
        json!([{"op": "add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value", "value": "m-2"}]),
    );
    assert_eq!(u[ENTERPRISE_USER_URN], json!({"manager": {"value": "m-2"}}));
    assert_eq!(u["schemas"], json!([USER_URN, ENTERPRISE_USER_URN]));
    let u = ok(
        &u,
        json!([{"op": "add", "path": ENTERPRISE_USER_URN, "value": {"department": "Sales", "manager": {"displayName": "ignored"}}}]),
    );
    assert_eq!(
        u[ENTERPRISE_USER_URN],
        json!({"department": "Sales", "manager": {"value": "m-2"}}),
        "readOnly displayName dropped"
    );
    let u = ok(&u, json!([{"op": "add", "value": {ENTERPRISE_USER_URN: {"costCenter": "4130"}}}]));
    assert_eq!(u[ENTERPRISE_USER_URN]["costCenter"], "4130");
    let u = ok(&u, json!([{"op": "add", "path": "employeeNumber", "value": "7"}]));
    assert_eq!(u[ENTERPRISE_USER_URN]["employeeNumber"], "7", "an unqualified extension attribute");
    let u = ok(&u, json!([{"op": "remove", "path": ENTERPRISE_USER_URN}]));
    assert!(u.get(ENTERPRISE_USER_URN).is_none());
    assert_eq!(u["schemas"], json!([USER_URN]), "the extension leaves the schemas list with its values");
}

#[test]
fn multi_valued_add_appends_and_merges() {
    let u = ok(
        &user(),
        json!([{"op": "add", "path": "emails", "value": [
            {"value": "b@other.example", "type": "other"},
            {"value": "BABS@jensen.org", "display": "Babs at home"}
        ]}]),
    );
    assert_eq!(u["emails"].as_array().unwrap().len(), 3, "an existing value (case-insensitively) is merged, not repeated");
    assert_eq!(u["emails"][1], json!({"value": "BABS@jensen.org", "type": "home", "display": "Babs at home"}));
    let u =
        ok(&user(), json!([{"op": "add", "value": {"emails": [{"value": "new@example.com", "type": "work", "primary": true}]}}]));
    assert_eq!(
        emails(&u),
        [
            ("bjensen@example.com".into(), Some("work".into()), Some(false)),
            ("babs@jensen.org".into(), Some("home".into()), None),
            ("new@example.com".into(), Some("work".into()), Some(true))
        ],
        "setting primary on one clears it on the others"
    );
    let u = ok(&user(), json!([{"op": "add", "path": "emails", "value": {"value": "single@example.com"}}]));
    assert_eq!(emails(&u).len(), 3, "a single object is taken as one value");
}

#[test]
fn multi_valued_replace_and_primary() {
    let u =
        ok(&user(), json!([{"op": "replace", "path": "emails", "value": [{"value": "only@example.com", "primary": "true"}]}]));
    assert_eq!(u["emails"], json!([{"value": "only@example.com", "primary": true}]));
    let e = err(
        &user(),
        json!([{"op": "replace", "path": "emails", "value": [{"value": "a@x", "primary": true}, {"value": "b@x", "primary": true}]}]),
    );
    assert_eq!(e.scim_type, "invalidValue");
    assert!(e.detail.contains("at most one value of 'emails' may be primary"), "{}", e.detail);
    let u = ok(&user(), json!([{"op": "replace", "path": "emails", "value": []}]));
    assert!(u.get("emails").is_none(), "an empty array unassigns");
    let u = ok(&user(), json!([{"op": "replace", "path": "emails[value eq \"babs@jensen.org\"].primary", "value": true}]));
    assert_eq!(
        emails(&u),
        [
            ("bjensen@example.com".into(), Some("work".into()), Some(false)),
            ("babs@jensen.org".into(), Some("home".into()), Some(true))
        ]
    );
}

#[test]
fn value_filters() {
    let u = ok(&user(), json!([{"op": "replace", "path": "emails[type eq \"work\"].value", "value": "b@example.com"}]));
    assert_eq!(emails(&u)[0], ("b@example.com".into(), Some("work".into()), Some(true)));
    let u =
        ok(&user(), json!([{"op": "replace", "path": "emails[type eq \"home\"]", "value": {"value": "x@home", "type": "home"}}]));
    assert_eq!(u["emails"][1], json!({"value": "x@home", "type": "home"}), "matching values are replaced whole");
    let u = ok(&user(), json!([{"op": "add", "path": "emails[type eq \"home\"]", "value": {"display": "Home"}}]));
    assert_eq!(u["emails"][1], json!({"value": "babs@jensen.org", "type": "home", "display": "Home"}), "add merges");
    let u = ok(&user(), json!([{"op": "remove", "path": "emails[type eq \"home\"]"}]));
    assert_eq!(emails(&u), [("bjensen@example.com".into(), Some("work".into()), Some(true))]);
    let u = ok(&user(), json!([{"op": "remove", "path": "emails[type eq \"work\"].primary"}]));
    assert_eq!(u["emails"][0], json!({"value": "bjensen@example.com", "type": "work"}));
    let u = ok(&user(), json!([{"op": "remove", "path": "emails[value co \"@\" and not (type eq \"work\")]"}]));
    assert_eq!(emails(&u).len(), 1);
    let u = ok(&user(), json!([{"op": "remove", "path": "emails[value ew \".ORG\" or primary eq true]"}]));
    assert!(u.get("emails").is_none(), "no value left: unassigned");
    let u = ok(&user(), json!([{"op": "replace", "path": "emails.type", "value": "other"}]));
    assert!(emails(&u).iter().all(|e| e.1.as_deref() == Some("other")), "a sub-attribute path without a filter: every value");
}

#[test]
fn no_target() {
    for op in [
        json!({"op": "replace", "path": "emails[type eq \"other\"].value", "value": "x@y"}),
        json!({"op": "replace", "path": "emails[type eq \"other\"]", "value": {"value": "x@y"}}),
        json!({"op": "remove", "path": "emails[type eq \"other\"]"}),
        json!({"op": "remove", "path": "emails[type eq \"other\"].value"}),
        json!({"op": "add", "path": "emails[type ne \"work\" and type ne \"home\"].value", "value": "x@y"}),
    ] {
        let e = err(&user(), json!([op.clone()]));
        assert_eq!(e.scim_type, "noTarget", "{op}: {e}");
    }
    let e = err(&user(), json!([{"op": "remove", "path": "emails[type eq \"other\"]"}]));
    assert_eq!(e.detail, "Operations[0]: no value of 'emails' matches the filter");
}

#[test]
fn mutability() {
    for (op, detail) in [
        (json!({"op": "replace", "path": "id", "value": "x"}), "'id' is readOnly"),
        (json!({"op": "remove", "path": "id"}), "'id' is readOnly"),
        (json!({"op": "replace", "path": "meta.version", "value": "x"}), "'meta.version' is readOnly"),
        (json!({"op": "add", "path": "groups", "value": [{"value": "g2"}]}), "'groups' is readOnly"),
        (json!({"op": "remove", "path": "groups[value eq \"g1\"]"}), "'groups' is readOnly"),
        (json!({"op": "replace", "value": {"meta": {"version": "x"}}}), "'meta' is readOnly"),
    ] {
        let e = err(&user(), json!([op.clone()]));
        assert_eq!((e.scim_type, e.detail.trim_start_matches("Operations[0]: ")), ("mutability", detail), "{op}");
    }
    let e = patch_as(&USER, &user(), json!([{"op": "replace", "path": "name.givenName", "value": "x"}]), &["name"]).unwrap_err();
    assert_eq!(e.scim_type, "mutability", "the caller's read-only list covers sub-attributes");
    let e = patch_as(&USER, &user(), json!([{"op": "replace", "value": {"userName": "x"}}]), &["USERNAME"]).unwrap_err();
    assert_eq!(e.scim_type, "mutability");
    let e =
        patch_as(&USER, &user(), json!([{"op": "add", "path": "emails[type eq \"work\"].display", "value": "x"}]), &["emails"])
            .unwrap_err();
    assert_eq!(e.scim_type, "mutability");
    let e = err(&user(), json!([{"op": "remove", "path": "userName"}]));
    assert_eq!((e.scim_type, e.detail.as_str()), ("invalidValue", "Operations[0]: 'userName' is required and cannot be removed"));
}

#[test]
fn invalid_paths_and_values() {
    for (op, scim_type, detail) in [
        (json!({"op": "add", "path": "nope", "value": 1}), "invalidPath", "unknown attribute 'nope'"),
        (json!({"op": "add", "path": "name.nope", "value": 1}), "invalidPath", "unknown attribute 'name.nope'"),
        (
            json!({"op": "add", "path": "name[givenName eq \"x\"]", "value": {}}),
            "invalidPath",
            "'name' is not multi-valued, so it takes no value filter",
        ),
        (
            json!({"op": "remove", "path": "emails[nope eq \"x\"]"}),
            "invalidPath",
            "unknown attribute 'emails.nope' in the value filter",
        ),
        (
            json!({"op": "remove", "path": "emails[primary co \"x\"]"}),
            "invalidPath",
            "'emails.primary co \"x\"' compares values of different types",
        ),
        (
            json!({"op": "replace", "path": "emails[type eq \"work\"].nope", "value": 1}),
            "invalidPath",
            "unknown attribute 'emails.nope'",
        ),
        (json!({"op": "add", "path": "userName", "value": 5}), "invalidValue", "'userName' must be a string value"),
        (json!({"op": "add", "path": "name", "value": "x"}), "invalidValue", "'name' takes an object of sub-attributes"),
        (json!({"op": "add", "path": "name", "value": {"nope": "x"}}), "invalidValue", "unknown attribute 'name.nope'"),
        (
            json!({"op": "add", "path": "emails", "value": [{"value": 1}]}),
            "invalidValue",
            "'emails.value' must be a string value",
        ),
        (json!({"op": "add", "value": "x"}), "invalidValue", "without a path, the value must be an object of attributes"),
        (
            json!({"op": "replace", "path": "emails.primary", "value": "x"}),
            "invalidValue",
            "'emails.primary' must be a boolean value",
        ),
        (
            json!({"op": "replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value", "value": 1}),
            "invalidValue",
            "'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value' must be a string value",
        ),
    ] {
        let e = err(&user(), json!([op.clone()]));
        assert_eq!((e.scim_type, e.detail.trim_start_matches("Operations[0]: ")), (scim_type, detail), "{op}");
    }
}

#[test]
fn all_or_nothing() {
    let e =
        err(&user(), json!([{"op": "replace", "path": "title", "value": "Boss"}, {"op": "replace", "path": "id", "value": "x"}]));
    assert!(e.detail.starts_with("Operations[1]: "), "{}", e.detail);
    let request = parse_request(ops(json!([{"op": "replace", "path": "title", "value": "Boss"}]))).unwrap();
    let before = user();
    let after = apply(&before, &request, &USER, &[]).unwrap();
    assert!(before.get("title").is_none() && after["title"] == "Boss", "the input is never modified");
    assert_eq!(apply(&json!([]), &request, &USER, &[]).unwrap_err().scim_type, "invalidSyntax");
}

#[test]
fn okta_group_members() {
    let g = patch_as(
        &GROUP,
        &group(),
        json!([{"op": "add", "path": "members", "value": [{"value": MEMBER_B, "display": "Bo"}, {"value": MEMBER_A}]}]),
        &[],
    )
    .unwrap();
    assert_eq!(g["members"], json!([{"value": MEMBER_A, "display": "Ann"}, {"value": MEMBER_B, "display": "Bo"}]));
    let g = patch_as(&GROUP, &g, json!([{"op": "remove", "path": format!("members[value eq \"{MEMBER_A}\"]")}]), &[]).unwrap();
    assert_eq!(g["members"], json!([{"value": MEMBER_B, "display": "Bo"}]));
    let g = patch_as(&GROUP, &g, json!([{"op": "replace", "path": "members", "value": []}]), &[]).unwrap();
    assert!(g.get("members").is_none());
}

#[test]
fn entra_group_members() {
    let g = patch_as(
        &GROUP,
        &group(),
        json!([
            {"op": "Add", "path": "members", "value": [{"value": MEMBER_B}]},
            {"op": "Remove", "path": "members", "value": [{"value": MEMBER_A}]}
        ]),
        &[],
    )
    .unwrap();
    assert_eq!(g["members"], json!([{"value": MEMBER_B}]));
    let g =
        patch_as(&GROUP, &g, json!([{"op": "Remove", "path": "members", "value": [{"value": "not-a-member"}]}]), &[]).unwrap();
    assert_eq!(g["members"], json!([{"value": MEMBER_B}]), "removing a non-member changes nothing");
    let e = patch_as(&GROUP, &g, json!([{"op": "Remove", "path": "members", "value": [{"display": "x"}]}]), &[]).unwrap_err();
    assert_eq!(e.scim_type, "invalidValue");
    let g = patch_as(&GROUP, &group(), json!([{"op": "Replace", "path": "displayName", "value": "Sales EMEA"}]), &[]).unwrap();
    assert_eq!(g["displayName"], "Sales EMEA");
    let e = patch_as(&GROUP, &group(), json!([{"op": "remove", "path": "displayName"}]), &[]).unwrap_err();
    assert_eq!(e.scim_type, "invalidValue", "a Group's displayName is required");
}

#[test]
fn immutable_member_values() {
    let path = format!("members[value eq \"{MEMBER_A}\"].value");
    let e = patch_as(&GROUP, &group(), json!([{"op": "replace", "path": path, "value": MEMBER_B}]), &[]).unwrap_err();
    assert_eq!(e.scim_type, "mutability");
    assert!(e.detail.contains("'members.value' is immutable"), "{}", e.detail);
    let g = patch_as(&GROUP, &group(), json!([{"op": "replace", "path": path, "value": MEMBER_A}]), &[]).unwrap();
    assert_eq!(g["members"][0]["value"], MEMBER_A, "the same value again is a no-op");
    let display = format!("members[value eq \"{MEMBER_A}\"].display");
    let g = patch_as(&GROUP, &group(), json!([{"op": "replace", "path": display, "value": "Annie"}]), &[]).unwrap();
    assert_eq!(g["members"][0]["display"], "Annie");
}

/// Adding no values (`[]`, `null`, an empty `members` in a path-less add) to a multi-valued
/// attribute adds none; removing an empty list removes nothing; a value to remove needs its
/// `value`. Each of these emptied the attribute: a group lost every member, a user its email.
#[test]
fn adding_or_removing_no_value_changes_nothing() {
    let g = group();
    for operations in [
        json!([{"op": "add", "path": "members", "value": []}]),
        json!([{"op": "add", "path": "members", "value": null}]),
        json!([{"op": "add", "value": {"members": []}}]),
        json!([{"op": "add", "value": {"members": null}}]),
        json!([{"op": "remove", "path": "members", "value": []}]),
    ] {
        let after = patch_as(&GROUP, &g, operations.clone(), &[]).unwrap_or_else(|e| panic!("{operations}: {e}"));
        assert_eq!(after["members"], g["members"], "{operations}");
    }
    let e = patch_as(&GROUP, &g, json!([{"op": "remove", "path": "members", "value": [{}]}]), &[]).unwrap_err();
    assert!(e.detail.contains("needs its \"value\""), "{}", e.detail);
    let u = user();
    assert_eq!(ok(&u, json!([{"op": "add", "path": "emails", "value": []}]))["emails"], u["emails"]);
    // Entra's remove of every member (no value) still removes them all.
    let none = patch_as(&GROUP, &g, json!([{"op": "remove", "path": "members"}]), &[]).unwrap();
    assert!(none.get("members").is_none());
}

/// Without a path, an attribute this service does not know is ignored, as in a POST or PUT body
/// (docs/scim.md): an IdP with one custom mapping sends it in every update, and refusing the whole
/// operation refused every change to that user. Named by a path, it is still an invalidPath.
#[test]
fn unknown_attributes_in_a_pathless_value_are_ignored() {
    let custom = "urn:ietf:params:scim:schemas:extension:CustomExt:2.0:User:costume";
    let u = ok(&user(), json!([{"op": "replace", "value": {custom: "x", "nope": 1, "bad key!": 2, "title": "Boss"}}]));
    assert_eq!(u["title"], "Boss");
    assert!(u.get("nope").is_none() && u.get(custom).is_none(), "{u}");
    assert_eq!(err(&user(), json!([{"op": "add", "path": "nope", "value": 1}])).scim_type, "invalidPath");
}
