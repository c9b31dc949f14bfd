//! Discovery (RFC 7644 §4): `/ServiceProviderConfig`, `/ResourceTypes`, `/Schemas`, describing
//! exactly what this service does. Static data; public, like the schemas they describe.

use super::schema::{ResourceType, Schema, GROUP, SCHEMAS, USER};
use serde_json::{json, Value};

pub const LIST_URN: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
pub const SPC_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
/// The most resources one page holds (`filter.maxResults`); a larger `count` is cut to it.
pub const MAX_RESULTS: u32 = 200;

pub static RESOURCE_TYPES: [&ResourceType; 2] = [&USER, &GROUP];

pub fn service_provider_config(base: &str) -> Value {
    json!({
        "schemas": [SPC_URN],
        "documentationUri": "https://datatracker.ietf.org/doc/html/rfc7644",
        "patch": {"supported": true},
        "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": true, "maxResults": MAX_RESULTS},
        "changePassword": {"supported": true},
        "sort": {"supported": false},
        "etag": {"supported": true},
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "OAuth Bearer Token",
            "description": "An org admin's API key (scope scim, or unscoped) as `Authorization: Bearer <key>`",
            "specUri": "https://datatracker.ietf.org/doc/html/rfc6750",
            "primary": true
        }],
        "meta": {"resourceType": "ServiceProviderConfig", "location": format!("{base}/ServiceProviderConfig")}
    })
}

pub fn schema_json(s: &Schema, base: &str) -> Value {
    let mut v = s.to_json();
    v["meta"] = json!({"resourceType": "Schema", "location": format!("{base}/Schemas/{}", s.id)});
    v
}

pub fn resource_type_json(rt: &ResourceType, base: &str) -> Value {
    let mut v = rt.to_json();
    v["meta"] = json!({"resourceType": "ResourceType", "location": format!("{base}/ResourceTypes/{}", rt.name)});
    v
}

pub fn list(resources: Vec<Value>) -> Value {
    let n = resources.len();
    json!({"schemas": [LIST_URN], "totalResults": n, "startIndex": 1, "itemsPerPage": n, "Resources": resources})
}

pub fn schemas(base: &str) -> Value {
    list(SCHEMAS.iter().map(|s| schema_json(s, base)).collect())
}

pub fn schema(id: &str, base: &str) -> Option<Value> {
    SCHEMAS.iter().find(|s| s.id.eq_ignore_ascii_case(id)).map(|s| schema_json(s, base))
}

pub fn resource_types(base: &str) -> Value {
    list(RESOURCE_TYPES.iter().map(|rt| resource_type_json(rt, base)).collect())
}

pub fn resource_type(id: &str, base: &str) -> Option<Value> {
    RESOURCE_TYPES.iter().find(|rt| rt.name.eq_ignore_ascii_case(id)).map(|rt| resource_type_json(rt, base))
}
