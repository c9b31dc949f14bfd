//! The endpoints under `/scim/v2` and how each becomes a pipeline call. Discovery is public;
//! everything else needs an org admin's key with the `scim` scope (or none), and that key's org
//! is the whole world.

use super::discovery::{self, LIST_URN, MAX_RESULTS};
use super::errors::{render, ScimError, CONTENT_TYPE};
use super::etag::{self, IfMatch};
use super::schema::{ResourceType, GROUP, USER};
use super::{filter, patch, resource, wire, RULES};
use crate::dialects::paths::{
    self, Path,
    Seg::{Lit, Param},
};
use crate::error::{Failure, FieldError, KEPT_CHANGING};
use crate::http::{json_body, Body, Precondition, Request, Response};
use crate::model::filter::AttrPath;
use crate::model::{KeyPrincipal, NewUser, Principal, Role, Scope, Target, User};
use crate::pipeline::{self, Listing, Member, UpdateCommand};
use crate::platform::{Ctx, Platform};
use crate::policy::Denial;
use crate::store::filter::{compile, Column};
use serde_json::{json, Value};

/// How often a PUT or PATCH without `If-Match` is re-applied when another write slipped in
/// between reading the resource and writing it. Each round of a race has a winner, so this many
/// writers of one resource at once all land (Okta pushes a group's members in parallel PATCHes).
const ATTEMPTS: usize = 16;

type Outcome = Result<Response, ScimError>;

/// `/scim/v2/...`.
pub async fn serve<P: Platform>(cx: &Ctx<'_, P>, req: &Request, rest: &[&str]) -> Response {
    let Some(allowed) = paths::allowed(PATHS, rest) else {
        return render(&ScimError::new(404, None, "No such endpoint"));
    };
    if !allowed.split(", ").any(|m| m == req.method) {
        return render(&ScimError::new(405, None, format!("Use {allowed}"))).with_header("allow", allowed);
    }
    let base = wire::base_url(req.header("host"));
    match route(cx, req, rest, &base).await {
        Ok(resp) => resp,
        Err(e) => {
            if let Some(message) = &e.internal {
                cx.note_internal(message);
            }
            render(&e)
        }
    }
}

/// Every path below `/scim/v2/` and the methods it supports (for 405 and its `Allow`), `.search`
/// before the ids it would otherwise match; openapi.json documents each but Bulk
/// (`paths_are_documented`).
const PATHS: &[Path] = &[
    (&[Lit("ServiceProviderConfig")], "GET"),
    (&[Lit("ResourceTypes")], "GET"),
    (&[Lit("ResourceTypes"), Param], "GET"),
    (&[Lit("Schemas")], "GET"),
    (&[Lit("Schemas"), Param], "GET"),
    (&[Lit("Users")], "GET, POST"),
    (&[Lit("Groups")], "GET, POST"),
    (&[Lit("Users"), Lit(".search")], "POST"),
    (&[Lit("Groups"), Lit(".search")], "POST"),
    (&[Lit(".search")], "POST"),
    (&[Lit("Bulk")], "POST"),
    (&[Lit("Users"), Param], "GET, PUT, PATCH, DELETE"),
    (&[Lit("Groups"), Param], "GET, PUT, PATCH, DELETE"),
];

async fn route<P: Platform>(cx: &Ctx<'_, P>, req: &Request, rest: &[&str], base: &str) -> Outcome {
    let found = |v: Option<Value>| v.map(|v| ok(200, &v)).ok_or_else(ScimError::not_found);
    match rest {
        ["ServiceProviderConfig"] => Ok(ok(200, &discovery::service_provider_config(base))),
        ["ResourceTypes"] => Ok(ok(200, &discovery::resource_types(base))),
        ["ResourceTypes", id] => found(discovery::resource_type(id, base)),
        ["Schemas"] => Ok(ok(200, &discovery::schemas(base))),
        ["Schemas", id] => found(discovery::schema(id, base)),
        // Bulk (RFC 7644 §3.7) is not served.
        ["Bulk"] => Err(ScimError::new(501, None, "Bulk operations are not supported")),
        _ => {
            let who = authenticate(cx, req).await?;
            resources(cx, req, rest, &who, base).await
        }
    }
}

async fn resources<P: Platform>(cx: &Ctx<'_, P>, req: &Request, rest: &[&str], who: &KeyPrincipal, base: &str) -> Outcome {
    match (rest, req.method.as_str()) {
        (["Users"], "GET") => list_users(cx, who, &req.query_pairs(), base).await,
        ([".search"], _) => search_all(cx, who, &search_pairs(req)?, base).await,
        (["Users", ".search"], _) => list_users(cx, who, &search_pairs(req)?, base).await,
        (["Users"], _) => create_user(cx, req, who, base).await,
        (["Users", id], _) => user_item(cx, req, who, id, base).await,
        (["Groups"], "GET") => list_groups(cx, who, &req.query_pairs(), base).await,
        (["Groups", ".search"], _) => list_groups(cx, who, &search_pairs(req)?, base).await,
        (["Groups"], _) => create_group(cx, req, who, base).await,
        (["Groups", id], _) => group_item(cx, req, who, id, base).await,
        _ => Err(ScimError::not_found()),
    }
}

/// An org admin's key (user keys are 403, a missing or bad key 401).
async fn authenticate<P: Platform>(cx: &Ctx<'_, P>, req: &Request) -> Result<KeyPrincipal, ScimError> {
    let who = pipeline::authenticate_key(cx, req, Scope::Scim).await?;
    if who.role != Role::Admin {
        return Err(Failure::Forbidden(Denial::AdminKeyRequired).into());
    }
    Ok(who)
}

fn ok(status: u16, body: &Value) -> Response {
    Response::typed(status, CONTENT_TYPE, body)
}

fn with_etag(status: u16, body: &Value, tag: String) -> Response {
    ok(status, body).with_header("etag", tag)
}

/// The write's precondition from the client's `If-Match`, checked against the resource as it
/// reads now (its whole tag, `etag`): none asked, none; asked and not holding, a 412 now.
fn precondition(asked: Option<&IfMatch>, tag: &str, version: i64) -> Result<Option<Precondition>, ScimError> {
    match asked {
        None => Ok(None),
        Some(m) => m.at(tag, version).map(Some).ok_or_else(|| Failure::PreconditionFailed.into()),
    }
}

/// The request's JSON body; none at all reads as `{}` (a `.search` without a body is a search
/// with no parameters). Bytes that are only whitespace are not JSON (RFC 8259 needs a value), so
/// here they are `invalidSyntax` — not the empty object they are for the REST dialects'
/// curl-shaped clients, and never a search that lists everyone.
fn body(req: &Request) -> Result<Value, ScimError> {
    if matches!(&req.body, Body::Bytes(b) if !b.is_empty() && b.iter().all(u8::is_ascii_whitespace)) {
        return Err(ScimError::bad("invalidSyntax", "the body is not JSON"));
    }
    let value = json_body(req)?;
    let mut twins = Vec::new();
    case_twins(&value, "", &mut twins);
    match twins.is_empty() {
        true => Ok(value),
        false => Err(invalid(twins)),
    }
}

/// Every member of a SCIM body is named case-insensitively (RFC 7643 §2.1; RFC 7644's messages,
/// `Operations`, `op`, `filter`, by the same rule): two spellings of one name in an object are one
/// member given twice, refused as JSON's own duplicates are, since which one wins is where two
/// readers of a body part ways. Each second spelling is named by its path.
fn case_twins(v: &Value, path: &str, out: &mut Vec<FieldError>) {
    match v {
        Value::Object(map) => {
            let mut seen = std::collections::HashSet::new();
            for (key, value) in map {
                let at = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
                if !seen.insert(key.to_ascii_lowercase()) {
                    out.push(FieldError::new(at.clone(), resource::TWICE));
                }
                case_twins(value, &at, out);
            }
        }
        Value::Array(items) => items.iter().enumerate().for_each(|(i, item)| case_twins(item, &format!("{path}[{i}]"), out)),
        _ => {}
    }
}

fn invalid(errors: Vec<FieldError>) -> ScimError {
    ScimError::invalid(&errors)
}

fn patch_error(e: patch::PatchError) -> ScimError {
    ScimError::bad(e.scim_type, e.detail)
}

/// A PatchOp request. A value that is a whole resource or extension object may carry its
/// `schemas` (scim2-tester sends the Enterprise extension so); that is no attribute to patch.
fn patch_request(req: &Request) -> Result<patch::PatchRequest, ScimError> {
    let mut request = patch::parse_request(body(req)?).map_err(patch_error)?;
    for op in &mut request.operations {
        if let Some(Value::Object(v)) = &mut op.value {
            v.retain(|k, _| !k.eq_ignore_ascii_case("schemas"));
        }
    }
    Ok(request)
}

/// Which attributes a response carries (RFC 7644 §3.9).
#[derive(Default)]
struct Projection {
    attributes: Vec<AttrPath>,
    excluded: Vec<AttrPath>,
}

impl Projection {
    fn apply(&self, rt: &ResourceType, v: Value) -> Value {
        let v = if self.attributes.is_empty() { v } else { resource::keep_only(rt, &v, &self.attributes) };
        if self.excluded.is_empty() {
            v
        } else {
            resource::exclude(rt, &v, &self.excluded)
        }
    }

    fn parse(pairs: &[(String, String)]) -> Result<Self, ScimError> {
        once_each(pairs)?;
        let mut p = Projection::default();
        for (name, value) in pairs {
            let list = || resource::attribute_list(value).map_err(|m| ScimError::bad("invalidValue", format!("{name}: {m}")));
            match name.as_str() {
                "attributes" => p.attributes = list()?,
                "excludedAttributes" => p.excluded = list()?,
                _ => {}
            }
        }
        Ok(p)
    }
}

/// A parameter given twice is refused, naming it (`http::repeated`): never one filter of two.
fn once_each(pairs: &[(String, String)]) -> Result<(), ScimError> {
    match crate::http::repeated(pairs).first() {
        Some(name) => Err(ScimError::bad("invalidValue", format!("{name}: is given more than once"))),
        None => Ok(()),
    }
}

/// `filter`, `startIndex`, `count` (RFC 7644 §3.4.2); sorting is not supported and ignored.
fn listing(pairs: &[(String, String)], map: &dyn Fn(&AttrPath) -> Option<Column>) -> Result<(Listing, u32), ScimError> {
    once_each(pairs)?;
    let mut listing = Listing { filter: None, offset: 0, count: 100 };
    let mut start = 1u32;
    let number =
        |name: &str, v: &str| whole_text(v).ok_or_else(|| ScimError::bad("invalidValue", format!("{name}: must be an integer")));
    for (name, value) in pairs {
        match name.as_str() {
            "filter" => {
                let f = filter::parse(value).map_err(|e| ScimError::bad("invalidFilter", e.detail))?;
                listing.filter = Some(compile(&f, map).map_err(|e| ScimError::bad("invalidFilter", e.detail))?);
            }
            "startIndex" => start = number(name, value)?.clamp(1, i64::from(u32::MAX)) as u32,
            "count" => listing.count = number(name, value)?.clamp(0, i64::from(MAX_RESULTS)) as u32,
            _ => {}
        }
    }
    listing.offset = start - 1;
    Ok((listing, start))
}

/// A `POST …/.search` body as the query parameters it stands for. Its members have the types
/// RFC 7644 §3.4.3 gives them (a member of another type is refused, not skipped, so that a
/// client never gets an unfiltered list for a filter it sent wrongly); `null` is absent, and
/// `schemas` and unknown members are ignored.
fn search_pairs(req: &Request) -> Result<Vec<(String, String)>, ScimError> {
    let Value::Object(obj) = body(req)? else {
        return Err(ScimError::bad("invalidSyntax", "a SearchRequest is a JSON object"));
    };
    let mut pairs = Vec::new();
    for (k, v) in obj {
        if let Some(text) = search_member(&k, v)? {
            pairs.push((k, text));
        }
    }
    Ok(pairs)
}

/// A JSON number with no fraction, as JSON Schema's `integer` counts it (`5` and `5.0`), of any
/// size (unlike `values::whole_number`, which stops at 2^53): beyond i64 it saturates, as
/// `startIndex` and `count` are clamped anyway (RFC 7644 §3.4.2.4: a count above the maximum is
/// the maximum; below 1, a start index is 1).
fn saturating_whole(n: &serde_json::Number) -> Option<i64> {
    // Rust's float-to-integer cast saturates at i64's bounds.
    n.as_i64().or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64))
}

/// A query parameter's integer: digits of any size (saturating, as `saturating_whole`), or a whole
/// number written with a fraction or an exponent (`http::query_integer`).
fn whole_text(v: &str) -> Option<i64> {
    let v = v.trim();
    let digits = v.strip_prefix(['+', '-']).unwrap_or(v);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return crate::http::query_integer(v);
    }
    Some(v.parse::<i64>().unwrap_or(if v.starts_with('-') { i64::MIN } else { i64::MAX }))
}

/// One SearchRequest member as query-parameter text; `None`: not a parameter.
fn search_member(name: &str, v: Value) -> Result<Option<String>, ScimError> {
    let wrong = |what: &str| Err(ScimError::bad("invalidValue", format!("{name}: must be {what}")));
    match (name, v) {
        (_, Value::Null) => Ok(None),
        ("filter" | "sortBy" | "sortOrder", Value::String(s)) => Ok(Some(s)),
        ("filter" | "sortBy" | "sortOrder", _) => wrong("a string"),
        ("startIndex" | "count", Value::Number(n)) if saturating_whole(&n).is_some() => {
            Ok(saturating_whole(&n).map(|i| i.to_string()))
        }
        ("startIndex" | "count", _) => wrong("an integer"),
        ("attributes" | "excludedAttributes", Value::String(s)) => Ok(Some(s)),
        ("attributes" | "excludedAttributes", Value::Array(items)) => {
            let paths: Option<Vec<&str>> = items.iter().map(Value::as_str).collect();
            paths.map_or_else(|| wrong("a list of attribute paths"), |p| Ok(Some(p.join(","))))
        }
        ("attributes" | "excludedAttributes", _) => wrong("a list of attribute paths"),
        _ => Ok(None),
    }
}

fn list_response(total: i64, start: u32, resources: Vec<Value>) -> Response {
    ok(
        200,
        &json!({"schemas": [LIST_URN], "totalResults": total, "startIndex": start, "itemsPerPage": resources.len(),
            "Resources": resources}),
    )
}

async fn list_users<P: Platform>(cx: &Ctx<'_, P>, who: &KeyPrincipal, pairs: &[(String, String)], base: &str) -> Outcome {
    let (q, start) = listing(pairs, &crate::store::scim::user_column)?;
    let projection = Projection::parse(pairs)?;
    let page = pipeline::list_scim_users(cx, who, &q).await?;
    let items = page.items.iter().map(|u| projection.apply(&USER, wire::user_json(&u.user, &u.groups, base))).collect();
    Ok(list_response(page.total, start, items))
}

async fn list_groups<P: Platform>(cx: &Ctx<'_, P>, who: &KeyPrincipal, pairs: &[(String, String)], base: &str) -> Outcome {
    let (q, start) = listing(pairs, &crate::store::scim::group_column)?;
    let projection = Projection::parse(pairs)?;
    let page = pipeline::list_groups(cx, who, &q).await?;
    let items = page.items.iter().map(|g| projection.apply(&GROUP, wire::group_json(g, base))).collect();
    Ok(list_response(page.total, start, items))
}

/// `POST /.search` (RFC 7644 §3.4.3): Users, then Groups, as one list. A filter that names an
/// attribute only one of them has selects from that one alone.
async fn search_all<P: Platform>(cx: &Ctx<'_, P>, who: &KeyPrincipal, pairs: &[(String, String)], base: &str) -> Outcome {
    let users_q = listing(pairs, &crate::store::scim::user_column);
    let groups_q = listing(pairs, &crate::store::scim::group_column);
    let projection = Projection::parse(pairs)?;
    let (users_q, groups_q) = match (users_q, groups_q) {
        (Err(e), Err(_)) => return Err(e),
        (u, g) => (u.ok(), g.ok()),
    };
    let start = users_q.as_ref().or(groups_q.as_ref()).map_or(1, |(_, s)| *s);
    let (mut total, mut items) = (0, Vec::new());
    let mut skip_groups = start - 1;
    let mut room = users_q.as_ref().or(groups_q.as_ref()).map_or(0, |(q, _)| q.count);
    if let Some((q, _)) = &users_q {
        let page = pipeline::list_scim_users(cx, who, q).await?;
        items.extend(page.items.iter().map(|u| projection.apply(&USER, wire::user_json(&u.user, &u.groups, base))));
        total += page.total;
        skip_groups = skip_groups.saturating_sub(u32::try_from(page.total).unwrap_or(u32::MAX));
        room = room.saturating_sub(u32::try_from(page.items.len()).unwrap_or(u32::MAX));
    }
    if let Some((mut q, _)) = groups_q {
        (q.offset, q.count) = (skip_groups, room);
        let page = pipeline::list_groups(cx, who, &q).await?;
        items.extend(page.items.iter().map(|g| projection.apply(&GROUP, wire::group_json(g, base))));
        total += page.total;
    }
    Ok(list_response(total, start, items))
}

async fn create_user<P: Platform>(cx: &Ctx<'_, P>, req: &Request, who: &KeyPrincipal, base: &str) -> Outcome {
    let state = wire::user_state(&body(req)?).map_err(invalid)?;
    let placeholder = wire::no_email(&crate::apikey::hex(&cx.random::<12>()?)).map_err(Failure::Internal)?;
    let (email, patch) = wire::new_user_patch(state, placeholder);
    let user = pipeline::create_user(cx, &RULES, &Principal::Key(who.clone()), NewUser::new(who.org_id, email, patch)).await?;
    let v = wire::user_json(&user, &[], base);
    let location = format!("{base}/Users/{}", user.uuid);
    Ok(with_etag(201, &v, etag::user(&user, &[])).with_header("location", location))
}

async fn user_item<P: Platform>(cx: &Ctx<'_, P>, req: &Request, who: &KeyPrincipal, id: &str, base: &str) -> Outcome {
    let target = Target::parse(id, false).ok_or_else(ScimError::not_found)?;
    let principal = Principal::Key(who.clone());
    let pre = IfMatch::parse(req.header("if-match"));
    match req.method.as_str() {
        "GET" => {
            let (user, groups) = pipeline::read_user_and_groups(cx, &RULES, &principal, &target).await?;
            let v = Projection::parse(&req.query_pairs())?.apply(&USER, wire::user_json(&user, &groups, base));
            Ok(with_etag(200, &v, etag::user(&user, &groups)))
        }
        "DELETE" => {
            // With If-Match, the tag is checked on the user as it reads now (one read more).
            let at = match &pre {
                None => None,
                Some(m) => {
                    let (user, groups) = pipeline::read_user_and_groups(cx, &RULES, &principal, &target).await?;
                    precondition(Some(m), &etag::user(&user, &groups), user.version)?
                }
            };
            pipeline::delete_user(cx, &RULES, &principal, &target, at.as_ref()).await?;
            Ok(Response::empty(204))
        }
        "PUT" => {
            let state = wire::user_state(&body(req)?).map_err(invalid)?;
            update_user(cx, &principal, &target, pre, base, |user, _| Ok(wire::replace_patch(user, state.clone()))).await
        }
        _ => {
            let request = patch_request(req)?;
            update_user(cx, &principal, &target, pre, base, |user, groups| {
                let current = wire::user_json(user, groups, base);
                let new = patch::apply(&current, &request, &USER, &[]).map_err(patch_error)?;
                Ok(wire::replace_patch(user, wire::user_state(&new).map_err(invalid)?))
            })
            .await
        }
    }
}

/// Read, change, write at the version read (the client's `If-Match` checked on what was read); a
/// write without If-Match that lost a race to another is re-applied on the newer version.
async fn update_user<P: Platform>(
    cx: &Ctx<'_, P>,
    who: &Principal,
    target: &Target,
    pre: Option<IfMatch>,
    base: &str,
    change: impl Fn(&User, &[Member]) -> Result<crate::model::UserPatch, ScimError>,
) -> Outcome {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let (user, groups) = pipeline::read_user_and_groups(cx, &RULES, who, target).await?;
        let patch = change(&user, &groups)?;
        let asked = precondition(pre.as_ref(), &etag::user(&user, &groups), user.version)?;
        let precondition = asked.or(Some(Precondition::Versions(vec![user.version])));
        let cmd = UpdateCommand { target: target.clone(), patch, precondition };
        match pipeline::update_user(cx, &RULES, who, cmd).await {
            Ok(updated) => {
                let v = wire::user_json(&updated.user, &groups, base);
                return Ok(with_etag(200, &v, etag::user(&updated.user, &groups)));
            }
            Err(Failure::PreconditionFailed) if pre.is_none() && attempt < ATTEMPTS => continue,
            Err(Failure::PreconditionFailed) if pre.is_none() => return Err(KEPT_CHANGING.into()),
            Err(f) => return Err(f.into()),
        }
    }
}

async fn create_group<P: Platform>(cx: &Ctx<'_, P>, req: &Request, who: &KeyPrincipal, base: &str) -> Outcome {
    let state = wire::group_state(&body(req)?).map_err(invalid)?;
    let group = pipeline::create_group(cx, who, &state).await?;
    let location = format!("{base}/Groups/{}", group.uuid);
    Ok(with_etag(201, &wire::group_json(&group, base), etag::group(&group)).with_header("location", location))
}

async fn group_item<P: Platform>(cx: &Ctx<'_, P>, req: &Request, who: &KeyPrincipal, id: &str, base: &str) -> Outcome {
    let Some(Target::Uuid(uuid)) = Target::parse(id, false) else { return Err(ScimError::not_found()) };
    let pre = IfMatch::parse(req.header("if-match"));
    match req.method.as_str() {
        "GET" => {
            let group = pipeline::read_group(cx, who, &uuid).await?;
            let v = Projection::parse(&req.query_pairs())?.apply(&GROUP, wire::group_json(&group, base));
            Ok(with_etag(200, &v, etag::group(&group)))
        }
        "DELETE" => {
            let at = group_precondition(cx, who, &uuid, pre.as_ref()).await?;
            pipeline::delete_group(cx, who, &uuid, at.as_ref()).await?;
            Ok(Response::empty(204))
        }
        "PUT" => {
            let state = wire::group_state(&body(req)?).map_err(invalid)?;
            let at = group_precondition(cx, who, &uuid, pre.as_ref()).await?;
            let group = pipeline::replace_group(cx, who, &uuid, &state, at.as_ref()).await?;
            Ok(with_etag(200, &wire::group_json(&group, base), etag::group(&group)))
        }
        _ => {
            let request = patch_request(req)?;
            patch_group(cx, who, &uuid, pre, &request, base).await
        }
    }
}

/// The client's `If-Match` checked on the group as it reads now (one read more, only when sent).
async fn group_precondition<P: Platform>(
    cx: &Ctx<'_, P>,
    who: &KeyPrincipal,
    uuid: &str,
    asked: Option<&IfMatch>,
) -> Result<Option<Precondition>, ScimError> {
    let Some(m) = asked else { return Ok(None) };
    let group = pipeline::read_group(cx, who, uuid).await?;
    precondition(Some(m), &etag::group(&group), group.version)
}

async fn patch_group<P: Platform>(
    cx: &Ctx<'_, P>,
    who: &KeyPrincipal,
    uuid: &str,
    pre: Option<IfMatch>,
    request: &patch::PatchRequest,
    base: &str,
) -> Outcome {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let group = pipeline::read_group(cx, who, uuid).await?;
        // A bad operation is a 400 whatever If-Match says, as for a User (the precondition is
        // checked once the request is known to be one that could apply).
        let new = patch::apply(&wire::group_to_patch(&group, base), request, &GROUP, &[]).map_err(patch_error)?;
        let state = wire::group_state(&new).map_err(invalid)?;
        precondition(pre.as_ref(), &etag::group(&group), group.version)?;
        let at = Precondition::Versions(vec![group.version]);
        match pipeline::replace_group(cx, who, uuid, &state, Some(&at)).await {
            Ok(g) => return Ok(with_etag(200, &wire::group_json(&g, base), etag::group(&g))),
            Err(Failure::PreconditionFailed) if pre.is_none() && attempt < ATTEMPTS => continue,
            Err(Failure::PreconditionFailed) if pre.is_none() => return Err(KEPT_CHANGING.into()),
            Err(f) => return Err(f.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn paths_are_documented() {
        // Bulk is served only to say 501 (ServiceProviderConfig says it is not supported): a 5xx
        // that no fuzzer of the document should be sent to find.
        crate::dialects::paths::documented::matches("/scim/v2/", super::PATHS, &["Bulk"]);
    }
}
