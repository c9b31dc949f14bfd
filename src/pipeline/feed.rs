//! The change feed: pull it by `seq`, or subscribe an endpoint and have every event pushed to it
//! with Standard Webhooks signatures, at least once, retried on Svix's schedule. Events are the
//! outbox rows every change writes in its own batch; `dispatch` (the Queue consumer's and the Cron
//! sweep's job) fans them out to endpoints and makes the due attempts. Nothing is lost: an event
//! whose hand-off failed is still `enqueued_at IS NULL`, and the next sweep picks it up.

use super::codes::code_for_event;
use super::guard::{checked_read, checked_reads, org_within_reach, refused};
use crate::error::Failure;
use crate::feed::endpoint::WebhookUrl;
use crate::feed::event::{delivery_body, EventFilter, EventType};
use crate::feed::schedule::{after_attempt, Next};
use crate::feed::signature::{self, Secret};
use crate::model::{Principal, User};
use crate::platform::{Ctx, Platform};
use crate::store::feed::{self as stored, NewWebhook, Outcome};
use crate::store::retention::{self, Walked};
use crate::store::{events, Row, RowExt};
use futures_util::stream::{self, StreamExt};
use serde_json::{json, Value};

/// One page of an org's feed after `after`, and the `seq` to continue after.
pub async fn pull<P: Platform>(
    cx: &Ctx<'_, P>,
    who: &Principal,
    org_id: i64,
    after: i64,
    limit: u32,
) -> Result<(Vec<Value>, i64), Failure> {
    org_within_reach(cx, who, org_id).await?;
    let rows = checked_read(cx, who, events::feed(org_id, after, limit)).await?;
    let next = rows.last().and_then(|r| r.int("seq")).unwrap_or(after);
    Ok((rows.iter().map(|r| render(r, None)).collect(), next))
}

/// An event as the feed shows it. `code`: the code and link of a code event, for a webhook
/// delivery only; the pull feed and the audit trail never carry them.
pub fn render(row: &Row, code: Option<(&str, Option<String>)>) -> Value {
    // A group event's snapshot is the group's; only a user event's is a user.
    let is_group = row.text("type").is_some_and(|t| t.starts_with("group."));
    let user = row.text("data").filter(|_| !is_group).and_then(|d| serde_json::from_str::<User>(&d).ok());
    let actor = match (row.int("actor_key_id"), row.int("actor_user_id")) {
        (Some(key_id), Some(user_id)) => json!({"type": "key", "key_id": key_id, "user_id": user_id}),
        _ => json!({"type": "operator"}),
    };
    let detail: Value = row.text("detail").and_then(|d| serde_json::from_str(&d).ok()).unwrap_or(Value::Null);
    let mut event = json!({
        "id": row.text("event_id"),
        "seq": row.int("seq"),
        "type": row.text("type"),
        "timestamp": row.text("at"),
        "org_id": row.int("org_id"),
        "org_uuid": row.text("org_uuid"),
        "actor": actor,
        "dialect": row.text("dialect"),
        "fields": row.text("fields").and_then(|f| serde_json::from_str::<Value>(&f).ok()).unwrap_or_else(|| json!([])),
        "user": user.as_ref().map(User::canonical_json),
    });
    if is_group {
        event["group"] = group_json(row.text("data").as_deref());
    }
    if let (Some(data), Some(before)) = (row.text("data").filter(|_| !is_group), row.text("previous")) {
        event["previous_attributes"] = previous_attributes(&data, &before, &event["fields"]);
    }
    if detail.get("key_id").is_some() {
        event["api_key"] = json!({"id": detail["key_id"], "issuer": detail["issuer"], "expires_at": detail["expires_at"]});
    }
    if detail.get("to").is_some() || detail.get("url_template").is_some() {
        let to = detail["to"].as_str().map(str::to_string).or_else(|| user.as_ref().map(|u| u.email.clone()));
        let mut c = json!({"to": to, "expires_at": detail["expires_at"]});
        if let Some((code, url)) = code {
            c["code"] = json!(code);
            c["url"] = json!(url);
        }
        event["code"] = c;
    }
    event
}

/// What the fields an update changed held before it (Stripe's `previous_attributes`), rendered as
/// the event's `user` renders them: the snapshot with the old columns put back, read as a user.
/// `before` holds the old value of every field the write assigned; only the changed ones show.
fn previous_attributes(data: &str, before: &str, fields: &Value) -> Value {
    let (Ok(mut row), Ok(Value::Object(before))) = (serde_json::from_str::<Value>(data), serde_json::from_str::<Value>(before))
    else {
        return json!({});
    };
    let changed: Vec<&str> = fields.as_array().into_iter().flatten().filter_map(Value::as_str).collect();
    let names: Vec<&String> = before.keys().filter(|k| changed.contains(&k.as_str())).collect();
    let Some(columns) = row.as_object_mut() else { return json!({}) };
    for name in &names {
        columns.insert((*name).clone(), before[name.as_str()].clone());
    }
    // Read back from text, as every snapshot is: a user read from a `Value` would be a second copy
    // of the row reader in the wasm (about 20 KB).
    let Ok(user) = serde_json::from_str::<User>(&row.to_string()) else { return json!({}) };
    let rendered = user.canonical_json();
    // One insert at a time: collecting pairs into a map sorts them, a sort of its own in the wasm.
    let mut out = json!({});
    for name in names {
        out[name.as_str()] = rendered.get(name.as_str()).cloned().unwrap_or(Value::Null);
    }
    out
}

/// A group event's group (as its write left it; as it was, for a deletion): its SCIM id, name,
/// external id, version, members' user ids and times.
fn group_json(data: Option<&str>) -> Value {
    let Some(g) = data.and_then(|d| serde_json::from_str::<Value>(d).ok()) else { return Value::Null };
    let members = match &g["members"] {
        Value::String(list) => serde_json::from_str(list).unwrap_or_else(|_| json!([])),
        other => other.clone(),
    };
    json!({
        "id": g["uuid"],
        "display_name": g["display_name"],
        "external_id": g["external_id"],
        "version": g["version"],
        "members": members,
        "created_at": g["created_at"],
        "updated_at": g["updated_at"],
    })
}

/// Subscribe an endpoint to an org's events (from now on). The secret is shown only here.
pub async fn subscribe<P: Platform>(
    cx: &Ctx<'_, P>,
    who: &Principal,
    org_id: i64,
    url: &WebhookUrl,
    types: &EventFilter,
) -> Result<(Row, Secret), Failure> {
    org_within_reach(cx, who, org_id).await?;
    let secret = Secret::generate(&cx.random::<32>()?);
    let types_json = types.types().map(|_| serde_json::to_string(types).unwrap_or_default());
    let (uuid, by) = (super::new_uuid(cx)?, crate::store::keys::issuer(who));
    let new = NewWebhook {
        uuid: &uuid,
        org_id,
        url: url.as_str(),
        event_types: types_json.as_deref(),
        secret: secret.as_str(),
        by: &by,
    };
    let Some(row) = cx.query(stored::insert_webhook(who, &new, &super::now_rfc3339(cx))).await?.into_iter().next() else {
        // Either the caller's key no longer holds (it learns that first), or the org is full.
        let count = cx.query(stored::webhook_count(org_id)).await?.first().and_then(|r| r.int("n")).unwrap_or(0);
        let failure = if count >= stored::MAX_WEBHOOKS_PER_ORG {
            Failure::invalid(
                "org_id",
                format!("has {count} webhooks, the most an org may have: delete one before adding another"),
            )
        } else {
            Failure::NotFound
        };
        return Err(refused(cx, who, failure).await);
    };
    Ok((webhook_json(row), secret))
}

/// A webhook row as the API shows it: `event_types` as a list (null = all).
fn webhook_json(mut row: Row) -> Row {
    let types = row.text("event_types").and_then(|t| serde_json::from_str::<Value>(&t).ok()).unwrap_or(Value::Null);
    row.insert("event_types".into(), types);
    row
}

pub async fn list_webhooks<P: Platform>(cx: &Ctx<'_, P>, who: &Principal, org_id: i64) -> Result<Vec<Row>, Failure> {
    org_within_reach(cx, who, org_id).await?;
    Ok(checked_read(cx, who, stored::list_webhooks(org_id)).await?.into_iter().map(webhook_json).collect())
}

/// Unsubscribe; nothing more is delivered to the endpoint.
pub async fn delete_webhook<P: Platform>(cx: &Ctx<'_, P>, who: &Principal, id: i64) -> Result<(), Failure> {
    let results = cx.batch(stored::delete_webhook(who, id, &super::now_rfc3339(cx))).await?;
    if results.first().is_none_or(Vec::is_empty) {
        return Err(refused(cx, who, Failure::NotFound).await);
    }
    Ok(())
}

/// An endpoint's deliveries: attempts, status, last error; newest first.
pub async fn deliveries<P: Platform>(cx: &Ctx<'_, P>, who: &Principal, id: i64) -> Result<Vec<Row>, Failure> {
    let mut results = checked_reads(cx, who, vec![stored::webhook(id, who.own_org()), stored::deliveries(id, 200)]).await?;
    if results.first().is_none_or(Vec::is_empty) {
        return Err(Failure::NotFound);
    }
    Ok(results.pop().unwrap_or_default())
}

/// What a replay covered: through which `seq` (none: no event from `from_seq` on), and whether
/// events follow it (replay again from `through_seq + 1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Replayed {
    pub through_seq: Option<i64>,
    pub more: bool,
}

/// Deliver again the events from `from_seq` on to one endpoint (same event ids: receivers
/// dedupe), at most `REPLAY_MAX_EVENTS` of the org's feed per call.
pub async fn replay<P: Platform>(cx: &Ctx<'_, P>, who: &Principal, id: i64, from_seq: i64) -> Result<Replayed, Failure> {
    let results = cx.batch(stored::replay(who, id, from_seq, &super::now_rfc3339(cx))).await?;
    let Some(found) = results.first().and_then(|rows| rows.first()) else {
        return Err(refused(cx, who, Failure::NotFound).await);
    };
    cx.platform.kick(0);
    Ok(Replayed { through_seq: found.int("through_seq"), more: found.int("more") == Some(1) })
}

/// How many deliveries one dispatch attempts at most (a Worker invocation's subrequests are finite).
const BATCH: u32 = 40;
/// How long a claimed delivery is left alone by other dispatchers: longer than a dispatch's worst
/// case (BATCH / IN_FLIGHT rounds of a 10 s POST timeout = 70 s), so no second dispatcher claims
/// an attempt still in flight and sends it twice.
const LEASE_MS: i64 = 120_000;
/// How many attempts of one dispatch are in flight at once, at most, where the platform can make
/// calls concurrently. One after another, a dispatch's attempts each wait their turn for the
/// receiver and for D1 behind every request the isolate is serving, and delivery falls behind the
/// changes under load (`bench/soak.mjs`); six is what a Worker keeps open at once. The edge shell
/// hands its host the calls made in one step together (`Platform::concurrent_calls`).
const IN_FLIGHT: usize = 6;

/// Fan new events out to their endpoints and make the attempts that are due; the Queue
/// consumer and the Cron sweep both run this. Returns how many attempts it made.
pub async fn dispatch<P: Platform>(cx: &Ctx<'_, P>) -> Result<usize, Failure> {
    let now_ms = cx.now_ms();
    let now = crate::values::rfc3339_millis(now_ms);
    cx.batch(stored::fan_out(None, &now)).await?;
    let lease = crate::values::rfc3339_millis(now_ms + LEASE_MS);
    let claimed = cx.query(stored::claim_due(None, &now, &lease, BATCH)).await?;
    if claimed.is_empty() {
        return Ok(0);
    }
    let ids: Vec<i64> = claimed.iter().filter_map(|d| d.int("event_row")).collect();
    let events = cx.query(stored::event_rows(&ids)).await?;
    let events = &events;
    let in_flight = IN_FLIGHT.min(cx.platform.concurrent_calls());
    let outcomes: Vec<Result<Option<u32>, Failure>> = if in_flight > 1 {
        stream::iter(&claimed).map(|d| attempt_and_record(cx, d, events)).buffer_unordered(in_flight).collect().await
    } else {
        // One at a time, plainly awaited, where the platform can make one call at a time.
        let mut outcomes = Vec::with_capacity(claimed.len());
        for d in &claimed {
            outcomes.push(attempt_and_record(cx, d, events).await);
        }
        outcomes
    };
    let mut soonest: Option<u32> = None;
    for retry_in in outcomes {
        soonest = match (soonest, retry_in?) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
    // A full batch may have left more due (a replay, a burst of changes): the next dispatch goes
    // now, rather than a minute later with the sweep (a replay of 10,000 events took hours so).
    if claimed.len() == BATCH as usize {
        cx.platform.kick(0);
    }
    // A retry due soon goes back on the queue with a delay; later ones wait for the sweep.
    if let Some(secs) = soonest.filter(|s| *s <= 15 * 60) {
        cx.platform.kick(secs);
    }
    Ok(claimed.len())
}

/// Rows the retention sweep reads in a table's first round (most minutes it finds one or none to
/// prune, and reads no more), in each round after that, and rounds per table and sweep: about
/// 3,000 events, deliveries and codes each a minute, enough to catch up on a deployment's backlog
/// within days, in at most 24 D1 calls.
const PRUNE_FIRST: u32 = 100;
const PRUNE_WINDOW: u32 = 1000;
const PRUNE_ROUNDS: usize = 4;

/// Apply the feed's retention (`feed::retention`): erase what events older than it carried of
/// their users (their audit fields stay), delete the finished deliveries made before it, and
/// forget the contacts of codes made before it (long expired). Each table is walked oldest
/// first, in windows of its primary key past the sweep's mark (`store::retention`); a window stops
/// at its first row still within the retention (ids follow the order rows were written, so the
/// rows after it are newer) or, for deliveries, still pending.
///
/// `calls`: the D1 calls it may make (a Worker invocation's are counted: 50 on Workers Free, and
/// the sweep's dispatch has made its own); each round takes two, and it stops when they run out.
pub async fn prune<P: Platform>(cx: &Ctx<'_, P>, calls: &mut usize) -> Result<(), Failure> {
    let cutoff = crate::values::rfc3339_millis(crate::feed::retention::cutoff_ms(cx.now_ms(), cx.config().feed_retention_days));
    for table in Walked::ALL {
        prune_table(cx, &cutoff, calls, table).await?;
    }
    Ok(())
}

/// One table's rounds of `prune`.
async fn prune_table<P: Platform>(cx: &Ctx<'_, P>, cutoff: &str, calls: &mut usize, table: Walked) -> Result<(), Failure> {
    for round in 0..PRUNE_ROUNDS {
        if *calls < 2 {
            break;
        }
        *calls -= 2;
        let size = if round == 0 { PRUNE_FIRST } else { PRUNE_WINDOW };
        let rows = cx.query(retention::window(table, size)).await?;
        let old: Vec<i64> = rows
            .iter()
            .take_while(|r| r.text("at").is_some_and(|at| at.as_str() < cutoff) && r.int("pending") != Some(1))
            .filter_map(|r| r.int("id"))
            .collect();
        let (Some(first), Some(through)) = (old.first(), old.last()) else { break };
        cx.batch(retention::prune(table, first - 1, *through, cutoff)).await?;
        if old.len() < rows.len() || rows.len() < size as usize {
            break;
        }
    }
    Ok(())
}

/// One attempt at one delivery, its outcome recorded; when to retry.
async fn attempt_and_record<P: Platform>(cx: &Ctx<'_, P>, d: &Row, events: &[Row]) -> Result<Option<u32>, Failure> {
    let event = events.iter().find(|e| e.int("id") == d.int("event_row"));
    let (outcome_sql, retry_in) = attempt(cx, d, event).await;
    cx.query(outcome_sql).await?;
    Ok(retry_in)
}

/// One attempt at one delivery; the statement recording its outcome, and when to retry.
async fn attempt<P: Platform>(cx: &Ctx<'_, P>, d: &Row, event: Option<&Row>) -> (crate::store::Stmt, Option<u32>) {
    let id = d.int("id").unwrap_or_default();
    let now_ms = cx.now_ms();
    let now = crate::values::rfc3339_millis(now_ms);
    let fail = |error: &str| (stored::record(id, &Outcome::Failed { status: None, error }, &now), None);
    let (Some(event), Some(url), Some(secret)) = (event, d.text("url"), d.text("secret").and_then(|s| Secret::parse(&s).ok()))
    else {
        return fail("the event or the endpoint is gone");
    };
    if d.text("webhook_deleted_at").is_some() {
        return fail("endpoint deleted");
    }
    // The URL is judged again under today's setting: an http:// endpoint saved during
    // development never receives anything where ALLOW_HTTP_WEBHOOKS is off.
    let Ok(url) = WebhookUrl::parse(&url, cx.config().allow_http_webhooks) else {
        return fail("the endpoint's URL is not allowed here");
    };
    let Some(kind) = event.text("type").as_deref().and_then(EventType::parse) else {
        return fail("not a feed event");
    };
    let body = delivery_body(
        kind,
        &event.text("at").unwrap_or_default(),
        &render(event, code_of(cx, event, kind).as_ref().map(|(c, u)| (c.as_str(), u.clone()))),
    );
    let msg_id = event.text("event_id").unwrap_or_default();
    let ts = now_ms / 1000;
    let headers = [
        (signature::HEADER_ID, msg_id.clone()),
        (signature::HEADER_TIMESTAMP, ts.to_string()),
        (signature::HEADER_SIGNATURE, signature::sign(&secret, &msg_id, ts, body.as_bytes())),
        ("content-type", "application/json".to_string()),
    ];
    let result = cx.post(url.as_str(), &headers, &body).await;
    let (status, error) = match &result {
        Ok(s) => (Some(*s), format!("HTTP {s}")),
        Err(e) => (None, e.to_string()),
    };
    match after_attempt(d.int("attempts").unwrap_or(1) as u32, status) {
        Next::Delivered => (stored::record(id, &Outcome::Delivered { status: status.unwrap_or(200) }, &now), None),
        Next::RetryIn(secs) => {
            let at = crate::values::rfc3339_millis(now_ms + i64::from(secs) * 1000);
            (stored::record(id, &Outcome::Retry { at: &at, status, error: &error }, &now), Some(secs))
        }
        Next::Failed | Next::Disable => (stored::record(id, &Outcome::Failed { status, error: &error }, &now), None),
    }
}

/// A code event's code and link, derived again from its id (webhook deliveries only).
fn code_of<P: Platform>(cx: &Ctx<'_, P>, event: &Row, kind: EventType) -> Option<(String, Option<String>)> {
    if !kind.carries_code() {
        return None;
    }
    let code = code_for_event(cx.config().code_secret.as_deref()?, &event.text("event_id")?)?;
    let detail: Value = serde_json::from_str(&event.text("detail")?).ok()?;
    let user: Value = serde_json::from_str(&event.text("data")?).ok()?;
    let url = detail["url_template"].as_str().and_then(|t| crate::values::UrlTemplate::parse(t).ok()).map(|t| {
        t.render(user["uuid"].as_str().unwrap_or_default(), &code, &user["org_id"].as_i64().unwrap_or_default().to_string())
    });
    Some((code, url))
}
