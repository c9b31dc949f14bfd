//! The wasm shell: turn a Workers request into a core `Request`, hand it to `app::handle` with a
//! D1/KV-backed `Platform`, and turn the core `Response` back. No decisions are made here.

mod platform;

use crate::http::{Body, MAX_BODY_BYTES};
use worker::{
    event, Context, Env, Headers, MessageBatch, Request, Response, ResponseBuilder, Result, ScheduleContext, ScheduledEvent,
};

#[event(start)]
fn start() {
    console_error_panic_hook::set_once();
}

/// The path with its query string: the operator API's listings read their parameters from it.
fn path_and_query(req: &Request) -> String {
    match req.url() {
        Ok(url) => match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        },
        Err(_) => req.path(),
    }
}

#[event(fetch)]
async fn fetch(mut req: Request, env: Env, ctx: Context) -> Result<Response> {
    let platform = platform::EdgePlatform::from_env(&env)?.with_background(ctx);
    // Only the headers the core reads cross into wasm.
    let headers: Vec<(String, String)> = crate::http::HEADERS_READ
        .iter()
        .filter_map(|name| req.headers().get(name).ok().flatten().map(|v| (name.to_string(), v)))
        .collect();
    let declared = headers.iter().find(|(k, _)| k == "content-length").and_then(|(_, v)| v.trim().parse::<usize>().ok());
    let body = if declared.is_some_and(|n| n > MAX_BODY_BYTES) {
        Body::TooLarge
    } else {
        // A read that fails is reported as such, never taken for an empty body.
        match req.bytes().await {
            Ok(bytes) => Body::from_read(declared, Some(bytes)),
            Err(_) => Body::Unreadable,
        }
    };
    let core_req = crate::http::Request {
        // The raw method: `worker::Method` maps every method it doesn't know (QUERY, PROPFIND…) to GET.
        method: req.inner().method().to_ascii_uppercase(),
        path: path_and_query(&req),
        headers,
        body,
    };
    let resp = crate::app::handle(&platform, core_req).await;
    let out = Headers::new();
    for (name, value) in &resp.headers {
        out.append(name, value)?;
    }
    let builder = ResponseBuilder::new().with_status(resp.status).with_headers(out);
    Ok(if resp.body.is_empty() { builder.empty() } else { builder.fixed(resp.body) })
}

/// The change feed's queue: every message is a request to dispatch (fan out new events, make the
/// attempts that are due); the messages themselves carry nothing.
#[event(queue)]
async fn queue(batch: MessageBatch<serde_json::Value>, env: Env, ctx: Context) -> Result<()> {
    let platform = platform::EdgePlatform::from_env(&env)?.with_background(ctx);
    crate::app::dispatch(&platform).await;
    batch.ack_all();
    Ok(())
}

/// The Cron sweep: whatever a lost queue message left behind goes out now.
#[event(scheduled)]
async fn scheduled(_event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    match platform::EdgePlatform::from_env(&env) {
        Ok(platform) => {
            crate::app::dispatch(&platform).await;
        }
        Err(e) => worker::console_error!("feed sweep: {e}"),
    }
}
