//! SCIM PATCH (RFC 7644 §3.5.2): parse a PatchOp request, apply it to a resource held as its
//! full SCIM JSON (core attributes at the top level, extension attributes under their URN key).
//!
//! Generic over `schema::ResourceType`, so the same code serves Users and Groups. Attribute names
//! match case-insensitively; what is written uses the schema's canonical names. All operations
//! apply to a copy and the copy is returned only if every one succeeded (RFC 7644 §3.5.2: a PATCH
//! is atomic).
//!
//! The clients' habits handled, beyond the RFC:
//! - `op` in any case (Entra: `Replace`, `Add`, `Remove`);
//! - booleans as strings, `"True"`/`"False"` (Entra), wherever the schema says boolean;
//! - a path-less `add`/`replace` whose value's keys are themselves paths (`"name.givenName"`,
//!   `"urn:…:enterprise:2.0:User:employeeNumber"`, `"emails[type eq \"work\"].value"`: Entra's
//!   `aadOptscim062020` form); such a filtered key that matches nothing creates the value, as an
//!   `add` would, since that form has no other way to say "add";
//! - a plain string for a complex attribute with a `value` sub-attribute (Entra's
//!   `"manager": "<id>"`) means `{"value": "<id>"}`;
//! - `remove` on a multi-valued attribute with a `value` list removes just the listed values
//!   (Entra's group-member removal: `{"op":"Remove","path":"members","value":[{"value":"<id>"}]}`);
//! - a read-only attribute sent with the value it already has is ignored (Okta's group rename
//!   repeats the `id`); any other change to it is refused.

use super::path::{self, PatchPath};
use super::schema::{AttrType, Attribute, Mutability, Resolved, ResourceType, Schema};
use crate::model::filter::{CompareOp, Filter, FilterValue};
use serde_json::{Map, Value};
use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};
use std::fmt;

pub const PATCH_OP_URN: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// Why a PATCH was refused; `scim_type` is the RFC 7644 §3.12 `scimType`: `invalidSyntax`,
/// `invalidPath`, `noTarget`, `invalidValue` or `mutability`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatchError {
    pub scim_type: &'static str,
    pub detail: String,
}

impl PatchError {
    fn new(scim_type: &'static str, detail: impl Into<String>) -> Self {
        Self { scim_type, detail: detail.into() }
    }
    fn syntax(detail: impl Into<String>) -> Self {
        Self::new("invalidSyntax", detail)
    }
    fn path(detail: impl Into<String>) -> Self {
        Self::new("invalidPath", detail)
    }
    fn no_target(detail: impl Into<String>) -> Self {
        Self::new("noTarget", detail)
    }
    fn value(detail: impl Into<String>) -> Self {
        Self::new("invalidValue", detail)
    }
    fn mutability(detail: impl Into<String>) -> Self {
        Self::new("mutability", detail)
    }
    fn within(self, index: usize) -> Self {
        Self { detail: format!("Operations[{index}]: {}", self.detail), ..self }
    }
}

impl fmt::Display for PatchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.scim_type, self.detail)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpKind {
    Add,
    Replace,
    Remove,
}

/// One operation. `value` is `None` when absent (only `remove` may omit it); `Some(Value::Null)`
/// is an explicit null, which unassigns (RFC 7643 §2.5).
#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    pub op: OpKind,
    pub path: Option<PatchPath>,
    pub value: Option<Value>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PatchRequest {
    pub operations: Vec<Operation>,
}

/// Parse a PatchOp body: `schemas` must list `PATCH_OP_URN`, `Operations` must be a non-empty
/// array of `{op, path?, value?}`. Member names are case-insensitive.
pub fn parse_request(body: Value) -> Result<PatchRequest, PatchError> {
    let Value::Object(mut obj) = body else {
        return Err(PatchError::syntax("a PatchOp request is a JSON object"));
    };
    let schemas = remove_ci(&mut obj, "schemas");
    let listed = schemas
        .as_ref()
        .and_then(Value::as_array)
        .is_some_and(|a| a.iter().any(|s| s.as_str().is_some_and(|s| s.eq_ignore_ascii_case(PATCH_OP_URN))));
    if !listed {
        return Err(PatchError::syntax(format!("schemas must contain \"{PATCH_OP_URN}\"")));
    }
    let ops = match remove_ci(&mut obj, "Operations") {
        Some(Value::Array(ops)) if !ops.is_empty() => ops,
        _ => return Err(PatchError::syntax("Operations must be a non-empty array")),
    };
    if let Some(key) = obj.keys().next() {
        return Err(PatchError::syntax(format!("unknown member '{key}'")));
    }
    let operations =
        ops.into_iter().enumerate().map(|(i, op)| parse_operation(op).map_err(|e| e.within(i))).collect::<Result<_, _>>()?;
    Ok(PatchRequest { operations })
}

fn parse_operation(op: Value) -> Result<Operation, PatchError> {
    let Value::Object(mut obj) = op else {
        return Err(PatchError::syntax("an operation is a JSON object"));
    };
    let kind = match remove_ci(&mut obj, "op").as_ref().and_then(Value::as_str).map(str::to_ascii_lowercase).as_deref() {
        Some("add") => OpKind::Add,
        Some("replace") => OpKind::Replace,
        Some("remove") => OpKind::Remove,
        _ => return Err(PatchError::syntax("op must be \"add\", \"replace\" or \"remove\"")),
    };
    let path = match remove_ci(&mut obj, "path") {
        None | Some(Value::Null) => None,
        Some(Value::String(p)) => Some(path::parse(&p).map_err(|e| PatchError::path(e.detail))?),
        Some(_) => return Err(PatchError::path("path must be a string")),
    };
    let value = remove_ci(&mut obj, "value");
    if let Some(key) = obj.keys().next() {
        return Err(PatchError::syntax(format!("unknown member '{key}'")));
    }
    match (kind, &path, &value) {
        (OpKind::Remove, None, _) => Err(PatchError::no_target("remove needs a path")),
        (OpKind::Add | OpKind::Replace, _, None) => Err(PatchError::syntax("add and replace need a value")),
        _ => Ok(Operation { op: kind, path, value }),
    }
}

/// The most one filtered operation may copy its value onto the values it matches, in all.
const MAX_FAN_OUT_BYTES: usize = 256 * 1024;

/// Apply `request` to `resource` (a SCIM resource as a JSON object), returning the new resource.
/// `read_only` names further attributes the caller refuses to change, beyond those the schema
/// marks readOnly, by canonical path (`"groups"`, `"name.formatted"`, `"urn:…:User:manager"`),
/// compared case-insensitively.
pub fn apply(resource: &Value, request: &PatchRequest, rt: &ResourceType, read_only: &[&str]) -> Result<Value, PatchError> {
    let Value::Object(root) = resource else {
        return Err(PatchError::syntax("the resource is not a JSON object"));
    };
    let mut root = root.clone();
    let cx = Cx { rt, read_only };
    for (i, op) in request.operations.iter().enumerate() {
        cx.operation(&mut root, op).map_err(|e| e.within(i))?;
    }
    sync_extensions(&mut root, rt);
    Ok(Value::Object(root))
}

struct Cx<'a> {
    rt: &'a ResourceType,
    read_only: &'a [&'a str],
}

/// A resolved target attribute with its canonical name for messages and the read-only list.
struct Target {
    attr: &'static Attribute,
    sub: Option<&'static Attribute>,
    /// The canonical path: `name.givenName`, `urn:…:User:manager.value`.
    name: String,
    /// The canonical path of the attribute alone: `name`, `urn:…:User:manager`.
    attr_name: String,
}

impl Cx<'_> {
    fn operation(&self, root: &mut Map<String, Value>, op: &Operation) -> Result<(), PatchError> {
        match (&op.path, &op.value) {
            (Some(path), value) => self.at_path(root, op.op, path, value.as_ref(), false),
            (None, Some(value)) => self.each_key(root, op.op, value, ""),
            (None, None) => Err(PatchError::no_target("no path and no value")),
        }
    }

    /// A path-less add/replace (or one on a whole extension): every key is a path.
    fn each_key(&self, root: &mut Map<String, Value>, kind: OpKind, value: &Value, prefix: &str) -> Result<(), PatchError> {
        let Value::Object(obj) = value else {
            return Err(PatchError::value("without a path, the value must be an object of attributes"));
        };
        for (key, v) in obj {
            if prefix.is_empty() && key.eq_ignore_ascii_case("schemas") {
                continue; // The resource's schema list, not an attribute; kept up to date below.
            }
            // An attribute this service does not know (an IdP's custom mapping, say, or a key that
            // is no attribute path at all) is ignored, as in a POST or PUT body; named by an
            // operation's `path`, it is still an invalidPath.
            let Some(path) = path::parse(&format!("{prefix}{key}")).ok().filter(|p| self.rt.resolve(&p.attr).is_some()) else {
                continue;
            };
            self.at_path(root, kind, &path, Some(v), true)?;
        }
        Ok(())
    }

    fn at_path(
        &self,
        root: &mut Map<String, Value>,
        kind: OpKind,
        path: &PatchPath,
        value: Option<&Value>,
        lenient: bool,
    ) -> Result<(), PatchError> {
        let resolved =
            self.rt.resolve(&path.attr).ok_or_else(|| PatchError::path(format!("unknown attribute '{}'", path.attr)))?;
        let (extension, attr, sub) = match resolved {
            Resolved::Extension(schema) => return self.whole_extension(root, kind, schema, value),
            Resolved::Attribute { extension, attr, sub } => (extension, attr, sub),
        };
        let attr_name = Resolved::Attribute { extension, attr, sub: None }.display();
        let target = Target { attr, sub, name: resolved.display(), attr_name };
        let Some(ext) = extension else {
            return self.attribute(root, kind, &target, path, value, lenient);
        };
        let mut container = take_object(root, ext.id);
        let result = self.attribute(&mut container, kind, &target, path, value, lenient);
        put_object(root, ext.id, container);
        result
    }

    fn whole_extension(
        &self,
        root: &mut Map<String, Value>,
        kind: OpKind,
        schema: &Schema,
        value: Option<&Value>,
    ) -> Result<(), PatchError> {
        match (kind, value) {
            (OpKind::Remove, _) | (_, Some(Value::Null)) => {
                remove_ci(root, schema.id);
                Ok(())
            }
            (_, Some(v)) => self.each_key(root, kind, v, &format!("{}:", schema.id)),
            (_, None) => Err(PatchError::syntax("add and replace need a value")),
        }
    }

    fn attribute(
        &self,
        map: &mut Map<String, Value>,
        kind: OpKind,
        target: &Target,
        path: &PatchPath,
        value: Option<&Value>,
        lenient: bool,
    ) -> Result<(), PatchError> {
        if let Some(filter) = &path.filter {
            if !target.attr.multi_valued {
                return Err(PatchError::path(format!("'{}' is not multi-valued, so it takes no value filter", target.name)));
            }
            let sub = match &path.sub_attr {
                Some(name) => Some(
                    target
                        .attr
                        .sub(name)
                        .ok_or_else(|| PatchError::path(format!("unknown attribute '{}.{name}'", target.name)))?,
                ),
                None => None,
            };
            let elements = Elements { attr: target.attr, filter: Some(filter), sub, name: &target.attr_name, lenient };
            return self.elements(map, kind, &elements, value);
        }
        if target.attr.multi_valued && target.sub.is_some() {
            let elements = Elements { attr: target.attr, filter: None, sub: target.sub, name: &target.attr_name, lenient };
            return self.elements(map, kind, &elements, value);
        }
        self.plain(map, kind, target, value)
    }

    fn is_listed(&self, name: &str) -> bool {
        self.read_only.iter().any(|r| r.eq_ignore_ascii_case(name))
    }

    /// `None`: go ahead. `Some(())`: a no-op (a read-only or immutable value sent unchanged).
    fn check_mutability(
        &self,
        target: &Target,
        current: Option<&Value>,
        new: Option<&Value>,
        kind: OpKind,
    ) -> Result<Option<()>, PatchError> {
        let effective = target.sub.unwrap_or(target.attr);
        let read_only = effective.mutability == Mutability::ReadOnly
            || target.attr.mutability == Mutability::ReadOnly
            || self.is_listed(&target.name)
            || self.is_listed(&target.attr_name);
        let immutable = effective.mutability == Mutability::Immutable && !is_unassigned(current);
        if !(read_only || immutable) {
            return Ok(None);
        }
        if kind != OpKind::Remove && same_state(current, new) {
            return Ok(Some(()));
        }
        let why = if read_only { "readOnly" } else { "immutable and already set" };
        Err(PatchError::mutability(format!("'{}' is {why}", target.name)))
    }

    /// A single-valued attribute, a sub-attribute of one, or a whole multi-valued attribute.
    fn plain(
        &self,
        map: &mut Map<String, Value>,
        kind: OpKind,
        target: &Target,
        value: Option<&Value>,
    ) -> Result<(), PatchError> {
        let (attr, name) = (target.attr, target.name.as_str());
        let new = match (kind, value) {
            (OpKind::Remove, _) | (_, None) => None,
            (_, Some(v)) => normalize(target.sub.unwrap_or(attr), v, name)?,
        };
        let current = get_ci(map, attr.name).map(|c| match target.sub {
            Some(sub) => c.as_object().and_then(|o| get_ci(o, sub.name)).cloned().unwrap_or(Value::Null),
            None => c.clone(),
        });
        if self.check_mutability(target, current.as_ref(), new.as_ref(), kind)?.is_some() {
            return Ok(());
        }
        if let Some(sub) = target.sub {
            let mut obj = take_object(map, attr.name);
            set_or_remove(&mut obj, sub, new, name)?;
            put_object(map, attr.name, obj);
            return Ok(());
        }
        match (kind, new) {
            (OpKind::Remove, _) if attr.multi_valued && value.is_some() => remove_listed(map, attr, value, name),
            // Adding no values (`[]`, `null`) to a multi-valued attribute adds none; it never clears
            // the list. (To a single-valued one, `null` unassigns it, as the document says.)
            (OpKind::Add, None) if attr.multi_valued => Ok(()),
            (_, None) => set_or_remove(map, attr, None, name),
            (OpKind::Add, Some(v)) if attr.multi_valued => add_elements(map, attr, v, name),
            (OpKind::Replace, Some(v)) if attr.multi_valued => {
                let mut list = as_list(v);
                let all: Vec<usize> = (0..list.len()).collect();
                enforce_primary(&mut list, attr, &all, name)?;
                set_or_remove(map, attr, Some(Value::Array(list)), name)
            }
            (_, Some(Value::Object(fields))) if attr.is_complex() => {
                let mut obj = take_object(map, attr.name);
                merge(&mut obj, fields);
                put_object(map, attr.name, obj);
                Ok(())
            }
            (_, Some(v)) => set_or_remove(map, attr, Some(v), name),
        }
    }

    /// An operation on the values of a multi-valued attribute picked by a filter (or all of them).
    fn elements(
        &self,
        map: &mut Map<String, Value>,
        kind: OpKind,
        el: &Elements,
        value: Option<&Value>,
    ) -> Result<(), PatchError> {
        if el.attr.mutability == Mutability::ReadOnly || self.is_listed(el.name) {
            return Err(PatchError::mutability(format!("'{}' is readOnly", el.name)));
        }
        if let Some(filter) = el.filter {
            validate(filter, el.attr, el.name)?;
        }
        let mut list = match remove_ci(map, el.attr.name) {
            Some(Value::Array(list)) => list,
            _ => Vec::new(),
        };
        let hits: Vec<usize> = (0..list.len()).filter(|&i| el.filter.is_none_or(|f| matches(&list[i], f, el.attr))).collect();
        // One value copied onto every match: refuse a copy that would build a resource past any
        // size a user may be stored at, before building it.
        let copied = value.map_or(0, super::resource::json_len).saturating_mul(hits.len());
        if copied > MAX_FAN_OUT_BYTES {
            return Err(PatchError::value(format!(
                "'{}' would copy the value onto {} values: more than {} KiB",
                el.name,
                hits.len(),
                MAX_FAN_OUT_BYTES / 1024
            )));
        }
        let result = match el.sub {
            Some(sub) => self.element_subs(&mut list, kind, el, sub, &hits, value),
            None => element_values(&mut list, kind, el, &hits, value),
        };
        list.retain(|v| v.as_object().is_none_or(|o| !o.is_empty()));
        if !list.is_empty() {
            map.insert(el.attr.name.to_string(), Value::Array(list));
        }
        result
    }

    /// `emails[type eq "work"].value`: set or remove one sub-attribute of the matching values.
    fn element_subs(
        &self,
        list: &mut Vec<Value>,
        kind: OpKind,
        el: &Elements,
        sub: &'static Attribute,
        hits: &[usize],
        value: Option<&Value>,
    ) -> Result<(), PatchError> {
        let name = format!("{}.{}", el.name, sub.name);
        let new = match (kind, value) {
            (OpKind::Remove, _) | (_, None) => None,
            (_, Some(v)) => normalize(sub, v, &name)?,
        };
        if hits.is_empty() {
            return create_element(list, kind, el, new.map(|v| Map::from_iter([(sub.name.to_string(), v)])));
        }
        let target = Target { attr: el.attr, sub: Some(sub), name, attr_name: el.name.to_string() };
        for &i in hits {
            let Some(obj) = list[i].as_object_mut() else { continue };
            if self.check_mutability(&target, get_ci(obj, sub.name), new.as_ref(), kind)?.is_some() {
                continue;
            }
            set_or_remove(obj, sub, new.clone(), &target.name)?;
        }
        enforce_primary(list, el.attr, hits, el.name)
    }
}

/// What an element operation acts on.
struct Elements<'a> {
    attr: &'static Attribute,
    filter: Option<&'a Filter>,
    sub: Option<&'static Attribute>,
    name: &'a str,
    lenient: bool,
}

/// `members[value eq "…"]`: remove, replace or add to the matching values themselves.
fn element_values(
    list: &mut Vec<Value>,
    kind: OpKind,
    el: &Elements,
    hits: &[usize],
    value: Option<&Value>,
) -> Result<(), PatchError> {
    let new = match (kind, value) {
        (OpKind::Remove, _) | (_, None) => None,
        (_, Some(v)) => normalize_element(el.attr, v, el.name)?,
    };
    if hits.is_empty() {
        return create_element(list, kind, el, new.and_then(strip_nulls).and_then(into_object));
    }
    match (kind, new) {
        (OpKind::Add, Some(Value::Object(fields))) => {
            for &i in hits {
                if let Some(obj) = list[i].as_object_mut() {
                    merge(obj, fields.clone());
                }
            }
        }
        (_, new) => match new.and_then(strip_nulls) {
            Some(v) => hits.iter().for_each(|&i| list[i] = v.clone()),
            // Removing, or replacing with nothing: the matching values go. What is left cannot
            // have gained a primary, so there is nothing more to check.
            None => {
                let mut index = 0;
                list.retain(|_| {
                    index += 1;
                    !hits.contains(&(index - 1))
                });
                return Ok(());
            }
        },
    }
    enforce_primary(list, el.attr, hits, el.name)
}

/// Nothing matched the filter. `remove` and a strict `replace` have no target (RFC 7644
/// §3.5.2.2-3, Table 9); `add` (and a path-less `replace`, see the module note) creates a value
/// from the filter's `sub eq value` terms plus `fields`.
fn create_element(
    list: &mut Vec<Value>,
    kind: OpKind,
    el: &Elements,
    fields: Option<Map<String, Value>>,
) -> Result<(), PatchError> {
    let creates = kind == OpKind::Add || el.lenient || el.filter.is_none();
    if kind == OpKind::Remove || !creates {
        return match el.filter {
            Some(_) => Err(PatchError::no_target(format!("no value of '{}' matches the filter", el.attr.name))),
            None => Ok(()),
        };
    }
    let Some(fields) = fields else { return Ok(()) };
    let mut element = match el.filter {
        Some(filter) => seed(filter, el.attr).ok_or_else(|| {
            PatchError::no_target(format!("no value of '{}' matches the filter, and it does not say what to add", el.attr.name))
        })?,
        None => Map::new(),
    };
    element.extend(fields);
    list.push(Value::Object(element));
    let last = list.len() - 1;
    enforce_primary(list, el.attr, &[last], el.name)
}

/// The value a filter made only of `sub eq value` terms joined by `and` describes.
fn seed(filter: &Filter, attr: &Attribute) -> Option<Map<String, Value>> {
    match filter {
        Filter::And(a, b) => {
            let mut m = seed(a, attr)?;
            m.extend(seed(b, attr)?);
            Some(m)
        }
        Filter::Compare { path, op: CompareOp::Eq, value } => {
            let sub = attr.sub(&path.attr)?;
            let v = match value {
                FilterValue::Str(s) => Value::String(s.clone()),
                FilterValue::Num(n) => Value::Number(n.clone()),
                FilterValue::Bool(b) => Value::Bool(*b),
                FilterValue::Null => return None,
            };
            Some(Map::from_iter([(sub.name.to_string(), v)]))
        }
        _ => None,
    }
}

/// Add values to a multi-valued attribute: a value equal (by its `value` sub-attribute) to one
/// already there is merged into it rather than repeated (RFC 7644 §3.5.2.1: adding a value that
/// exists changes nothing).
fn add_elements(map: &mut Map<String, Value>, attr: &'static Attribute, new: Value, name: &str) -> Result<(), PatchError> {
    let mut list = match remove_ci(map, attr.name) {
        Some(Value::Array(list)) => list,
        _ => Vec::new(),
    };
    let mut touched = Vec::new();
    // Where each value is, by what `same_value` compares: adding to a group of thousands would
    // otherwise compare each new member with every member.
    let mut at: HashMap<String, usize> = list.iter().enumerate().map(|(i, e)| (value_key(e, attr), i)).rev().collect();
    for element in as_list(new) {
        match at.get(&value_key(&element, attr)) {
            Some(&i) => {
                if let (Some(old), Value::Object(fields)) = (list[i].as_object_mut(), element) {
                    old.extend(fields);
                }
                touched.push(i);
            }
            None => {
                at.insert(value_key(&element, attr), list.len());
                list.push(element);
                touched.push(list.len() - 1);
            }
        }
    }
    let result = enforce_primary(&mut list, attr, &touched, name);
    if !list.is_empty() {
        map.insert(attr.name.to_string(), Value::Array(list));
    }
    result
}

/// Entra's `remove` with a value list: drop the values whose `value` is listed.
fn remove_listed(
    map: &mut Map<String, Value>,
    attr: &'static Attribute,
    value: Option<&Value>,
    name: &str,
) -> Result<(), PatchError> {
    if let Some(Value::Array(raw)) = value {
        if raw.iter().any(|l| l.is_object() && value_of(l).is_none()) {
            return Err(PatchError::value(format!("each value to remove from '{name}' needs its \"value\"")));
        }
        if raw.is_empty() {
            return Ok(()); // removing none of the values removes none
        }
    }
    let listed = match value.map(|v| normalize(attr, v, name)).transpose()?.flatten() {
        Some(v) => as_list(v),
        // `null` is no value: as with no value at all, every value goes.
        None => return set_or_remove(map, attr, None, name),
    };
    if listed.iter().any(|l| value_of(l).is_none()) {
        return Err(PatchError::value(format!("each value to remove from '{name}' needs its \"value\"")));
    }
    let mut list = match remove_ci(map, attr.name) {
        Some(Value::Array(list)) => list,
        _ => Vec::new(),
    };
    let listed: HashSet<String> = listed.iter().map(|l| value_key(l, attr)).collect();
    list.retain(|e| !listed.contains(&value_key(e, attr)));
    if !list.is_empty() {
        map.insert(attr.name.to_string(), Value::Array(list));
    }
    Ok(())
}

/// Set `attr` to `new`, or unassign it when `None` (refused for a required attribute).
fn set_or_remove(map: &mut Map<String, Value>, attr: &Attribute, new: Option<Value>, name: &str) -> Result<(), PatchError> {
    remove_ci(map, attr.name);
    match new {
        Some(v) => {
            map.insert(attr.name.to_string(), v);
            Ok(())
        }
        None if attr.required => Err(PatchError::value(format!("'{name}' is required and cannot be removed"))),
        None => Ok(()),
    }
}

/// RFC 7643 §2.4: at most one value of a multi-valued attribute is `primary`. If one of the
/// `touched` values was just made primary, the others stop being primary.
fn enforce_primary(list: &mut [Value], attr: &Attribute, touched: &[usize], name: &str) -> Result<(), PatchError> {
    let Some(primary) = attr.sub("primary") else { return Ok(()) };
    let is_primary = |v: &Value| v.as_object().and_then(|o| get_ci(o, primary.name)) == Some(&Value::Bool(true));
    let chosen: Vec<usize> = touched.iter().copied().filter(|&i| list.get(i).is_some_and(is_primary)).collect();
    match chosen.as_slice() {
        [] => Ok(()),
        [winner] => {
            for (i, v) in list.iter_mut().enumerate() {
                if i != *winner && is_primary(v) {
                    if let Some(obj) = v.as_object_mut() {
                        obj.insert(primary.name.to_string(), Value::Bool(false));
                    }
                }
            }
            Ok(())
        }
        _ => Err(PatchError::value(format!("at most one value of '{name}' may be primary"))),
    }
}

/// Whether two values of `attr` are the same value, as one string: the keys of two values are
/// equal exactly when their `value` sub-attributes are (compared as the schema says), or, for
/// values without one, their whole JSON is.
fn value_key(v: &Value, attr: &Attribute) -> String {
    match (value_of(v), attr.sub("value")) {
        (Some(Value::String(x)), Some(sub)) if sub.case_exact => format!("s{x}"),
        (Some(Value::String(x)), Some(_)) => format!("s{}", x.to_lowercase()),
        (Some(x), _) => format!("j{x}"),
        (None, _) => format!("w{v}"),
    }
}

fn value_of(v: &Value) -> Option<&Value> {
    v.as_object().and_then(|o| get_ci(o, "value")).filter(|v| !v.is_null())
}

fn as_list(v: Value) -> Vec<Value> {
    match v {
        Value::Array(list) => list,
        other => vec![other],
    }
}

/// RFC 7643 §2.5: unassigned, null and an empty array (or object) are the same state.
fn is_unassigned(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => true,
        Some(Value::Array(a)) => a.is_empty(),
        Some(Value::Object(o)) => o.is_empty(),
        Some(_) => false,
    }
}

fn same_state(current: Option<&Value>, new: Option<&Value>) -> bool {
    (is_unassigned(current) && is_unassigned(new)) || current == new
}

// ---- values: checked against the schema, keys made canonical ----

/// `value` for `attr` (a whole multi-valued attribute, a complex one, or a simple one), with
/// canonical keys and typed scalars. `None`: the value unassigns (null, `[]`, `{}`).
fn normalize(attr: &Attribute, value: &Value, name: &str) -> Result<Option<Value>, PatchError> {
    if !attr.multi_valued {
        return normalize_element(attr, value, name);
    }
    let items = match value {
        Value::Array(items) => items.as_slice(),
        single => std::slice::from_ref(single),
    };
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        out.extend(normalize_element(attr, item, name)?.and_then(strip_nulls));
    }
    Ok((!out.is_empty()).then_some(Value::Array(out)))
}

/// One value of `attr`: an object of sub-attributes if complex, else a scalar. A sub-attribute
/// given as null stays null (to unassign it when merged); read-only ones are dropped.
fn normalize_element(attr: &Attribute, value: &Value, name: &str) -> Result<Option<Value>, PatchError> {
    if !attr.is_complex() {
        return normalize_scalar(attr, value, name);
    }
    let fields = match value {
        Value::Null => return Ok(None),
        Value::Object(fields) => fields.clone(),
        Value::String(_) | Value::Number(_) | Value::Bool(_) if attr.sub("value").is_some() => {
            Map::from_iter([("value".to_string(), value.clone())])
        }
        _ => return Err(PatchError::value(format!("'{name}' takes an object of sub-attributes"))),
    };
    let mut out = Map::new();
    for (key, v) in &fields {
        let sub = attr.sub(key).ok_or_else(|| PatchError::value(format!("unknown attribute '{name}.{key}'")))?;
        if sub.mutability == Mutability::ReadOnly {
            continue; // Derived by the server (e.g. `manager.displayName`); clients echo it back.
        }
        let v = normalize_scalar(sub, v, &format!("{name}.{}", sub.name))?;
        out.insert(sub.name.to_string(), v.unwrap_or(Value::Null));
    }
    Ok(Some(Value::Object(out)))
}

/// A value to store as one value of a multi-valued attribute: no null sub-attributes, and
/// nothing at all if nothing is left.
fn strip_nulls(v: Value) -> Option<Value> {
    match v {
        Value::Null => None,
        Value::Object(obj) => {
            let obj: Map<String, Value> = obj.into_iter().filter(|(_, v)| !v.is_null()).collect();
            (!obj.is_empty()).then_some(Value::Object(obj))
        }
        other => Some(other),
    }
}

fn into_object(v: Value) -> Option<Map<String, Value>> {
    match v {
        Value::Object(obj) => Some(obj),
        _ => None,
    }
}

/// Merge sub-attributes into a complex value: a null one is unassigned.
fn merge(obj: &mut Map<String, Value>, fields: Map<String, Value>) {
    for (key, v) in fields {
        if v.is_null() {
            obj.remove(&key);
        } else {
            obj.insert(key, v);
        }
    }
}

fn normalize_scalar(attr: &Attribute, value: &Value, name: &str) -> Result<Option<Value>, PatchError> {
    let ok = match (attr.ty, value) {
        (_, Value::Null) => return Ok(None),
        (AttrType::Boolean, Value::Bool(_)) => value.clone(),
        (AttrType::Boolean, Value::String(s)) if s.eq_ignore_ascii_case("true") => Value::Bool(true),
        (AttrType::Boolean, Value::String(s)) if s.eq_ignore_ascii_case("false") => Value::Bool(false),
        (AttrType::String | AttrType::Reference | AttrType::Binary, Value::String(_)) => value.clone(),
        (AttrType::DateTime, Value::String(s)) if is_date_time(s) => value.clone(),
        (AttrType::Integer, Value::Number(n)) if n.is_i64() || n.is_u64() => value.clone(),
        (AttrType::Decimal, Value::Number(_)) => value.clone(),
        (AttrType::Complex, _) => return normalize_element(attr, value, name),
        _ => return Err(PatchError::value(format!("'{name}' must be a {} value", attr.ty.as_str()))),
    };
    Ok(Some(ok))
}

fn is_date_time(s: &str) -> bool {
    crate::values::instant::parse_rfc3339(s).is_some()
}

// ---- value filters evaluated in memory ----

/// Check a value filter's sub-attributes exist and its literals fit their types.
fn validate(filter: &Filter, attr: &Attribute, name: &str) -> Result<(), PatchError> {
    match filter {
        Filter::And(a, b) | Filter::Or(a, b) => validate(a, attr, name).and(validate(b, attr, name)),
        Filter::Not(a) => validate(a, attr, name),
        Filter::Present(path) => sub_of(attr, &path.attr, name).map(|_| ()),
        Filter::Compare { path, op, value } => {
            let sub = sub_of(attr, &path.attr, name)?;
            let fits = match (sub.ty, value) {
                (_, FilterValue::Null) => matches!(op, CompareOp::Eq | CompareOp::Ne),
                (AttrType::Boolean, FilterValue::Bool(_)) => matches!(op, CompareOp::Eq | CompareOp::Ne),
                (AttrType::Integer | AttrType::Decimal, FilterValue::Num(_)) => !op.is_substring(),
                (AttrType::String | AttrType::Reference | AttrType::Binary | AttrType::DateTime, FilterValue::Str(_)) => true,
                _ => false,
            };
            if fits {
                Ok(())
            } else {
                Err(PatchError::path(format!("'{name}.{} {} {value}' compares values of different types", sub.name, op.as_str())))
            }
        }
        Filter::ValuePath { .. } => Err(PatchError::path(format!("a value filter on '{name}' cannot nest another"))),
    }
}

fn sub_of(attr: &Attribute, sub: &str, name: &str) -> Result<&'static Attribute, PatchError> {
    attr.sub(sub).ok_or_else(|| PatchError::path(format!("unknown attribute '{name}.{sub}' in the value filter")))
}

/// Whether one value of `attr` matches a (validated) value filter.
fn matches(element: &Value, filter: &Filter, attr: &Attribute) -> bool {
    let field = |name: &str| element.as_object().and_then(|o| get_ci(o, name)).filter(|v| !v.is_null());
    match filter {
        Filter::And(a, b) => matches(element, a, attr) && matches(element, b, attr),
        Filter::Or(a, b) => matches(element, a, attr) || matches(element, b, attr),
        Filter::Not(a) => !matches(element, a, attr),
        Filter::Present(path) => !is_unassigned(field(&path.attr)) && field(&path.attr) != Some(&Value::String(String::new())),
        Filter::Compare { path, op, value } => {
            let case_exact = attr.sub(&path.attr).is_some_and(|s| s.case_exact);
            compare(field(&path.attr), *op, value, case_exact)
        }
        Filter::ValuePath { .. } => false,
    }
}

/// `ne` is `not eq`, so an absent value is `ne` anything but null.
fn compare(field: Option<&Value>, op: CompareOp, value: &FilterValue, case_exact: bool) -> bool {
    if op == CompareOp::Ne {
        return !compare(field, CompareOp::Eq, value, case_exact);
    }
    match (field, value) {
        (None, FilterValue::Null) => op == CompareOp::Eq,
        (Some(Value::String(f)), FilterValue::Str(v)) => text_matches(f, op, v, case_exact),
        (Some(Value::Bool(f)), FilterValue::Bool(v)) => op == CompareOp::Eq && f == v,
        (Some(Value::Number(f)), FilterValue::Num(v)) => {
            let ord = f.as_f64().zip(v.as_f64()).and_then(|(a, b)| a.partial_cmp(&b));
            ord.is_some_and(|o| ordering_matches(o, op))
        }
        _ => false,
    }
}

fn text_matches(field: &str, op: CompareOp, value: &str, case_exact: bool) -> bool {
    let fold = |s: &str| if case_exact { s.to_string() } else { s.to_lowercase() };
    let (f, v) = (fold(field), fold(value));
    match op {
        CompareOp::Co => f.contains(&v),
        CompareOp::Sw => f.starts_with(&v),
        CompareOp::Ew => f.ends_with(&v),
        _ => ordering_matches(f.cmp(&v), op),
    }
}

fn ordering_matches(ord: Ordering, op: CompareOp) -> bool {
    match op {
        CompareOp::Eq => ord == Ordering::Equal,
        CompareOp::Gt => ord == Ordering::Greater,
        CompareOp::Ge => ord != Ordering::Less,
        CompareOp::Lt => ord == Ordering::Less,
        CompareOp::Le => ord != Ordering::Greater,
        _ => false,
    }
}

// ---- JSON objects with case-insensitive keys ----

fn get_ci<'a>(map: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    map.get(name).or_else(|| map.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v))
}

/// Remove every spelling of `name`; the value of the exact one if present, else of any.
fn remove_ci(map: &mut Map<String, Value>, name: &str) -> Option<Value> {
    let keys: Vec<String> = map.keys().filter(|k| k.eq_ignore_ascii_case(name)).cloned().collect();
    let exact = map.remove(name);
    let others: Vec<Value> = keys.iter().filter_map(|k| map.remove(k)).collect();
    exact.or_else(|| others.into_iter().next())
}

/// Take `name` out as an object (empty if absent or not an object), to be put back with
/// `put_object` under its canonical name.
fn take_object(map: &mut Map<String, Value>, name: &str) -> Map<String, Value> {
    match remove_ci(map, name) {
        Some(Value::Object(obj)) => obj,
        _ => Map::new(),
    }
}

/// Put an object back; an empty one is unassigned, so it is left out.
fn put_object(map: &mut Map<String, Value>, name: &str, obj: Map<String, Value>) {
    if !obj.is_empty() {
        map.insert(name.to_string(), Value::Object(obj));
    }
}

/// RFC 7643 §3: `schemas` lists the extensions the resource has values for, and only those.
fn sync_extensions(root: &mut Map<String, Value>, rt: &ResourceType) {
    for ext in rt.extensions {
        let obj = take_object(root, ext.schema.id);
        let present = !obj.is_empty();
        put_object(root, ext.schema.id, obj);
        let Some(Value::Array(schemas)) = root.get_mut("schemas") else { continue };
        let listed = |s: &Value| s.as_str().is_some_and(|s| s.eq_ignore_ascii_case(ext.schema.id));
        if !present {
            schemas.retain(|s| !listed(s));
        } else if !schemas.iter().any(listed) {
            schemas.push(Value::String(ext.schema.id.to_string()));
        }
    }
}
