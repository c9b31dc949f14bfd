//! A SCIM resource as a client sent it (POST, PUT, or a PATCH's result), checked against its
//! schema: attribute names in any case become the schema's names, every value has its
//! attribute's type (booleans also as `"True"`/`"False"`, as Entra sends them), read-only
//! attributes are ignored (RFC 7644 §3.5.1), unknown ones dropped, `null` means absent. Every
//! bad attribute is named. Also the `attributes`/`excludedAttributes` projection (§3.9).

use super::schema::{AttrType, Attribute, Mutability, ResourceType, Returned, Schema};
use crate::error::FieldError;
use crate::model::filter::AttrPath;
use serde_json::{Map, Value};

/// How many bytes `v` takes as stored JSON (what the size limits on a resource count).
pub fn json_len(v: &impl serde::Serialize) -> usize {
    serde_json::to_string(v).map_or(usize::MAX, |s| s.len())
}

/// The resource's attributes by their schema names; an extension's under its URN.
pub fn normalize(rt: &ResourceType, body: &Value) -> Result<Map<String, Value>, Vec<FieldError>> {
    match checked_parts(rt, body) {
        (out, errors) if errors.is_empty() => Ok(out),
        (_, errors) => Err(errors),
    }
}

/// The attributes that are good, and what is wrong with the others.
pub fn checked_parts(rt: &ResourceType, body: &Value) -> (Map<String, Value>, Vec<FieldError>) {
    let Value::Object(obj) = body else {
        return (Map::new(), vec![FieldError::new("(body)", "must be a JSON object")]);
    };
    let mut out = Map::new();
    let mut errors = Vec::new();
    let mut seen = Vec::new();
    for (key, value) in obj {
        if let Some(ext) = rt.extension(key) {
            if once(&mut seen, ext.id, key, &mut errors) {
                if let Some(v) = complex_of(ext.attributes, value, ext.id, &mut errors) {
                    out.insert(ext.id.to_string(), v);
                }
            }
            continue;
        }
        let Some(attr) = rt.core_attribute(key) else { continue };
        if !once(&mut seen, attr.name, key, &mut errors) {
            continue;
        }
        if let Some(v) = checked(attr, value, attr.name, &mut errors) {
            out.insert(attr.name.to_string(), v);
        }
    }
    (out, errors)
}

/// What an attribute given in two cases is told (also by `routes::case_twins`, for any body).
pub const TWICE: &str = "is given twice (attribute names are case-insensitive)";

/// Attribute names are case-insensitive (RFC 7643 §2.1): `active` and `Active` in one object are
/// one attribute given twice, refused like any duplicate member, since which of them wins is
/// where two readers of one body part ways. False (and an error) for the second. A request body
/// has been through `routes::case_twins` already; a PATCH's result, rebuilt here, has not.
fn once(seen: &mut Vec<&'static str>, canonical: &'static str, key: &str, errors: &mut Vec<FieldError>) -> bool {
    if seen.contains(&canonical) {
        errors.push(FieldError::new(key, TWICE));
        return false;
    }
    seen.push(canonical);
    true
}

/// An object of `attrs`, checked; `None` when empty or null.
fn complex_of(attrs: &'static [Attribute], value: &Value, path: &str, errors: &mut Vec<FieldError>) -> Option<Value> {
    let obj = match value {
        Value::Null => return None,
        Value::Object(o) => o,
        _ => {
            errors.push(FieldError::new(path, "must be an object"));
            return None;
        }
    };
    let mut out = Map::new();
    let mut seen = Vec::new();
    for (key, v) in obj {
        let Some(attr) = attrs.iter().find(|a| a.name.eq_ignore_ascii_case(key)) else { continue };
        if !once(&mut seen, attr.name, &format!("{path}.{key}"), errors) {
            continue;
        }
        if let Some(v) = checked(attr, v, &format!("{path}.{}", attr.name), errors) {
            out.insert(attr.name.to_string(), v);
        }
    }
    (!out.is_empty()).then_some(Value::Object(out))
}

/// One attribute's value, checked against its definition; `None`: absent (or refused).
fn checked(attr: &'static Attribute, value: &Value, path: &str, errors: &mut Vec<FieldError>) -> Option<Value> {
    if value.is_null() || attr.mutability == Mutability::ReadOnly {
        return None;
    }
    if !attr.multi_valued {
        return single(attr, value, path, errors);
    }
    let Value::Array(items) = value else {
        errors.push(FieldError::new(path, "must be a list"));
        return None;
    };
    let out: Vec<Value> =
        items.iter().enumerate().filter_map(|(i, v)| single(attr, v, &format!("{path}[{i}]"), errors)).collect();
    Some(Value::Array(out))
}

fn single(attr: &'static Attribute, value: &Value, path: &str, errors: &mut Vec<FieldError>) -> Option<Value> {
    let ok = match (attr.ty, value) {
        (AttrType::Complex, _) => return complex_of(attr.sub_attributes, value, path, errors),
        (_, Value::Null) => return None,
        (AttrType::Boolean, Value::Bool(_)) => Some(value.clone()),
        (AttrType::Boolean, Value::String(s)) if s.eq_ignore_ascii_case("true") => Some(Value::Bool(true)),
        (AttrType::Boolean, Value::String(s)) if s.eq_ignore_ascii_case("false") => Some(Value::Bool(false)),
        (AttrType::Integer, Value::Number(n)) if n.is_i64() => Some(value.clone()),
        (AttrType::Decimal, Value::Number(_)) => Some(value.clone()),
        (AttrType::DateTime, Value::String(s)) if crate::model::utc_millis(s).is_some() => Some(value.clone()),
        (AttrType::String | AttrType::Reference | AttrType::Binary, Value::String(_)) => Some(value.clone()),
        _ => None,
    };
    if ok.is_none() {
        errors.push(FieldError::new(path, format!("must be {}", type_name(attr.ty))));
    }
    ok
}

fn type_name(ty: AttrType) -> &'static str {
    match ty {
        AttrType::Boolean => "a boolean",
        AttrType::Integer => "an integer",
        AttrType::Decimal => "a number",
        AttrType::DateTime => "an RFC 3339 date-time string",
        AttrType::Complex => "an object",
        _ => "a string",
    }
}

/// Parse a comma-separated `attributes`/`excludedAttributes` list, each path once (names compare
/// case-insensitively): every path listed is applied to every resource of a page, so a path
/// repeated thousands of times would copy a large attribute thousands of times over.
pub fn attribute_list(s: &str) -> Result<Vec<AttrPath>, String> {
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for item in s.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        match super::path::parse(item) {
            Ok(p) if p.filter.is_none() => {
                if seen.insert((p.attr.urn_key(), p.attr.key())) {
                    out.push(p.attr);
                }
            }
            _ => return Err(format!("'{item}' is not an attribute path")),
        }
    }
    Ok(out)
}

/// Where a path's value sits in a rendered resource: the extension object's URN (if any), the
/// attribute's key, the sub-attribute's key.
fn locate(rt: &ResourceType, p: &AttrPath) -> Option<(Option<&'static str>, &'static str, Option<&'static str>)> {
    use super::schema::Resolved;
    match rt.resolve(p)? {
        Resolved::Extension(s) => Some((None, s.id, None)),
        Resolved::Attribute { extension, attr, sub } => Some((extension.map(|e| e.id), attr.name, sub.map(|s| s.name))),
    }
}

/// Keep only the listed attributes (and those always returned), RFC 7644 §3.9.
pub fn keep_only(rt: &ResourceType, resource: &Value, paths: &[AttrPath]) -> Value {
    let Value::Object(src) = resource else { return resource.clone() };
    let mut out = Map::new();
    for key in ["schemas", "id"] {
        if let Some(v) = src.get(key) {
            out.insert(key.into(), v.clone());
        }
    }
    for p in paths {
        let Some((ext, attr, sub)) = locate(rt, p) else { continue };
        let (from, to) = match ext {
            Some(urn) => match src.get(urn) {
                Some(Value::Object(e)) => {
                    let slot = out.entry(urn.to_string()).or_insert_with(|| Value::Object(Map::new()));
                    (e, slot.as_object_mut())
                }
                _ => continue,
            },
            None => (src, Some(&mut out)),
        };
        if let (Some(v), Some(to)) = (from.get(attr), to) {
            let picked = match sub {
                Some(s) => pick_sub(v, s),
                None => Some(v.clone()),
            };
            if let Some(picked) = picked {
                merge_into(to, attr, picked);
            }
        }
    }
    Value::Object(out)
}

fn pick_sub(v: &Value, sub: &str) -> Option<Value> {
    match v {
        Value::Object(o) => o.get(sub).map(|x| Value::Object(Map::from_iter([(sub.to_string(), x.clone())]))),
        Value::Array(items) => Some(Value::Array(items.iter().filter_map(|i| pick_sub(i, sub)).collect())),
        _ => None,
    }
}

fn merge_into(to: &mut Map<String, Value>, key: &str, v: Value) {
    match (to.get_mut(key), v) {
        (Some(Value::Object(have)), Value::Object(more)) => have.extend(more),
        (_, v) => {
            to.insert(key.to_string(), v);
        }
    }
}

/// Remove the listed attributes (never those always returned).
pub fn exclude(rt: &ResourceType, resource: &Value, paths: &[AttrPath]) -> Value {
    let mut out = resource.clone();
    let Value::Object(obj) = &mut out else { return out };
    for p in paths {
        let Some((ext, attr, sub)) = locate(rt, p) else { continue };
        if always_returned(rt.schema, attr) {
            continue;
        }
        let target = match ext {
            Some(urn) => obj.get_mut(urn).and_then(Value::as_object_mut),
            None => Some(&mut *obj),
        };
        let Some(target) = target else { continue };
        match sub {
            None => {
                target.remove(attr);
            }
            Some(s) => match target.get_mut(attr) {
                Some(Value::Object(o)) => {
                    o.remove(s);
                }
                Some(Value::Array(items)) => items.iter_mut().filter_map(Value::as_object_mut).for_each(|o| {
                    o.remove(s);
                }),
                _ => {}
            },
        }
    }
    out
}

fn always_returned(schema: &Schema, attr: &str) -> bool {
    attr == "id" || schema.attribute(attr).is_some_and(|a| a.returned == Returned::Always)
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_attribute_list_names_each_path_once() {
        let listed = super::attribute_list("emails,EMAILS, emails ,name.givenName,Name.GivenName,name").unwrap();
        let names: Vec<String> = listed.iter().map(ToString::to_string).collect();
        assert_eq!(names, ["emails", "name.givenName", "name"]);
        let many = vec!["addresses"; 5000].join(",");
        assert_eq!(super::attribute_list(&many).unwrap().len(), 1);
    }
}
