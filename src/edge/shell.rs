//! Drives requests and tasks through the core one step at a time. `start` turns the host's request
//! into a running `app::handle` future (`dispatch` does the same with `app::dispatch` for the
//! feed's queue and Cron sweep) and polls it until it waits on a platform call (handed to the
//! host) or finishes (the response, or the task's end); `resume` delivers the host's reply and
//! polls again. Several exchanges may be in flight at once in one isolate; each has its own.

use super::platform::{Bindings, EdgePlatform, Mailbox, OPTIONAL_BINDINGS};
use super::wire::{decode_request, encode_done, encode_response, Aftermath, Reply};
use crate::consistency::{self, ReadConsistency, SessionStart};
use crate::http::{Response, HEADERS_READ, MAX_BODY_BYTES};
use crate::platform::Config;
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

/// The variables (and secrets) the shell reads, once per isolate.
const VARS: [&str; 6] =
    ["ADMIN_TOKEN", "PBKDF2_ITERATIONS", "READ_CONSISTENCY", "CODE_SECRET", "ALLOW_HTTP_WEBHOOKS", "FEED_RETENTION_DAYS"];

/// The isolate's settings, read from the environment once.
pub struct Settings {
    pub core: Rc<Config>,
    pub read_consistency: ReadConsistency,
    pub bindings: Rc<Bindings>,
}

impl Settings {
    /// The variable names `describe` asks the host for, and their values (`None` when unset);
    /// the optional bindings the isolate has.
    pub fn from_env(vars: &BTreeMap<String, Option<String>>, bindings: Vec<String>) -> Self {
        let var = |name: &str| vars.get(name).cloned().flatten().filter(|s| !s.is_empty());
        let iterations = var("PBKDF2_ITERATIONS");
        let core = Config {
            admin_token: var("ADMIN_TOKEN"),
            pbkdf2_iterations: crate::password::iterations_from_config(iterations.as_deref()),
            code_secret: var("CODE_SECRET"),
            allow_http_webhooks: crate::feed::endpoint::allow_http(var("ALLOW_HTTP_WEBHOOKS").as_deref()),
            feed_retention_days: crate::feed::retention::days_from_config(var("FEED_RETENTION_DAYS").as_deref()),
        };
        Self {
            core: Rc::new(core),
            read_consistency: ReadConsistency::from_config(var("READ_CONSISTENCY").as_deref()),
            bindings: Rc::new(Bindings::new(bindings)),
        }
    }
}

/// What the host needs to know once per isolate: which variables to pass to `configure` and
/// which optional bindings to report, which request headers to send, and the body size past
/// which it need not read the body.
pub fn describe() -> String {
    let headers: Vec<&str> = HEADERS_READ.iter().copied().chain([consistency::BOOKMARK_HEADER]).collect();
    serde_json::json!({
        "vars": VARS,
        "bindings": OPTIONAL_BINDINGS,
        "headers": headers,
        "maxBody": MAX_BODY_BYTES,
    })
    .to_string()
}

/// How an exchange ends: a request with its response, a task with nothing to answer.
enum Finished {
    Respond(Response),
    Done,
}

struct Exchange {
    mailbox: Rc<Mailbox>,
    platform: Rc<EdgePlatform>,
    future: Pin<Box<dyn Future<Output = Finished>>>,
    /// The slots of the calls handed to the host in the last step, in order.
    waiting: Vec<u32>,
}

#[derive(Default)]
pub struct Shell {
    settings: Option<Settings>,
    exchanges: BTreeMap<u32, Exchange>,
}

impl Shell {
    pub fn configure(&mut self, settings: Settings) {
        self.settings = Some(settings);
    }

    /// Begin request `id` (chosen by the host, unique among those in flight).
    pub fn start(&mut self, id: u32, request: &[u8], now_ms: f64) -> String {
        let Some(settings) = &self.settings else { return internal_error("the shell was not configured") };
        let Some(incoming) = decode_request(request) else { return internal_error("the host sent a malformed request") };
        let req = incoming.request;
        let session = SessionStart::for_request(&req.method, &req.path, incoming.bookmark.as_deref(), settings.read_consistency);
        let (mailbox, platform) = open(settings, session, now_ms);
        let p = platform.clone();
        let future = Box::pin(async move { Finished::Respond(crate::app::handle(&*p, req).await) });
        self.step(id, Exchange { mailbox, platform, future, waiting: Vec::new() })
    }

    /// Begin task `id`: a change-feed dispatch (the queue consumer's and the Cron sweep's work),
    /// on the primary, since it claims and records deliveries.
    /// `sweep`: the Cron Trigger's run, which also applies the feed's retention.
    pub fn dispatch(&mut self, id: u32, now_ms: f64, sweep: bool) -> String {
        let Some(settings) = &self.settings else { return internal_error("the shell was not configured") };
        let (mailbox, platform) = open(settings, SessionStart::FirstPrimary, now_ms);
        let p = platform.clone();
        let future = Box::pin(async move {
            if sweep {
                crate::app::sweep(&*p).await;
            } else {
                crate::app::dispatch(&*p).await;
            }
            Finished::Done
        });
        self.step(id, Exchange { mailbox, platform, future, waiting: Vec::new() })
    }

    /// Continue request `id` with the host's reply to the call it was waiting on, or with the
    /// replies to the calls it handed out together (`{"op":"many"}`: a JSON array of replies).
    pub fn resume(&mut self, id: u32, reply: &str, now_ms: f64) -> String {
        let Some(mut exchange) = self.exchanges.remove(&id) else { return internal_error("no such request in flight") };
        let slots = std::mem::take(&mut exchange.waiting);
        let replies = match slots.as_slice() {
            [_] => vec![Reply::decode(reply)],
            _ => match Reply::decode(reply) {
                Reply::Value(list) => match serde_json::from_str::<Vec<String>>(&list) {
                    Ok(each) if each.len() == slots.len() => each.iter().map(|r| Reply::decode(r)).collect(),
                    _ => return internal_error("the host's replies do not match the calls"),
                },
                // The host could make none of them: each call fails the same way.
                other => vec![other; slots.len()],
            },
        };
        for (slot, reply) in slots.into_iter().zip(replies) {
            exchange.mailbox.deliver(slot, reply, now_ms);
        }
        self.step(id, exchange)
    }

    #[cfg(test)]
    pub fn in_flight(&self) -> usize {
        self.exchanges.len()
    }

    fn step(&mut self, id: u32, mut exchange: Exchange) -> String {
        match exchange.future.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(Finished::Respond(mut resp)) => {
                let log = exchange.platform.session_log();
                consistency::report(&mut resp, log.bookmark.as_deref(), &log.served);
                encode_response(&resp, &exchange.platform.take_aftermath())
            }
            Poll::Ready(Finished::Done) => encode_done(&exchange.platform.take_aftermath()),
            Poll::Pending => {
                let (slots, calls): (Vec<u32>, Vec<String>) = exchange.mailbox.take_outgoing().into_iter().unzip();
                let step = match calls.as_slice() {
                    // Only the mailbox ever leaves the future pending.
                    [] => return internal_error("the request waited on nothing"),
                    [one] => one.clone(),
                    many => format!("{{\"op\":\"many\",\"calls\":[{}]}}", many.join(",")),
                };
                exchange.waiting = slots;
                self.exchanges.insert(id, exchange);
                step
            }
        }
    }
}

/// A fresh mailbox and platform for one exchange.
fn open(settings: &Settings, session: SessionStart, now_ms: f64) -> (Rc<Mailbox>, Rc<EdgePlatform>) {
    let mailbox = Rc::new(Mailbox::default());
    mailbox.set_clock(now_ms);
    let platform = EdgePlatform::new(mailbox.clone(), settings.core.clone(), settings.bindings.clone(), session);
    (mailbox, Rc::new(platform))
}

/// A failure of the shell itself (never of a client's input): 500, RFC 9457 body, and the
/// reason in the console.
fn internal_error(detail: &str) -> String {
    let body = crate::dialects::problem::body(500, "Internal Server Error", detail);
    let after = Aftermath { later: Vec::new(), log: vec![format!("users-edge shell: {detail}")] };
    let mut resp = Response::problem(500, &body);
    crate::app::every_response(&mut resp);
    encode_response(&resp, &after)
}
