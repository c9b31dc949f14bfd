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

/// `/Schemas/{id}`: the URN matches in any case, its colons sent as they are or percent-encoded
/// (`urn%3Aietf%3A…`, as a client that encodes every path parameter sends it, RFC 3986 §2.1).
pub fn schema(id: &str, base: &str) -> Option<Value> {
    let id = percent_decoded(id)?;
    SCHEMAS.iter().find(|s| s.id.eq_ignore_ascii_case(&id)).map(|s| schema_json(s, base))
}

/// A path segment with its `%XX` escapes decoded; `None` for a broken escape or non-UTF-8.
pub fn percent_decoded(segment: &str) -> Option<String> {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b != b'%' {
            out.push(b);
            i += 1;
            continue;
        }
        let hex = bytes.get(i + 1..i + 3).filter(|h| h.iter().all(u8::is_ascii_hexdigit))?;
        out.push(u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?);
        i += 3;
    }
    String::from_utf8(out).ok()
}

pub fn resource_types(base: &str) -> Value {
    list(RESOURCE_TYPES.iter().map(|rt| resource_type_json(rt, base)).collect())
}

pub fn resource_type(id: &str, base: &str) -> Option<Value> {
    let id = percent_decoded(id)?;
    RESOURCE_TYPES.iter().find(|rt| rt.name.eq_ignore_ascii_case(&id)).map(|rt| resource_type_json(rt, base))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_escapes_decode_and_broken_ones_are_nothing() {
        assert_eq!(percent_decoded("urn%3Aietf%3aparams").as_deref(), Some("urn:ietf:params"));
        assert_eq!(percent_decoded("Us%65r").as_deref(), Some("User"));
        assert_eq!(percent_decoded("plain:urn").as_deref(), Some("plain:urn"));
        for broken in ["%", "%3", "%+f", "%zz", "a%C3", "%FF"] {
            assert_eq!(percent_decoded(broken), None, "{broken}");
        }
    }
}
