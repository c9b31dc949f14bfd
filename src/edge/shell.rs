//! Drives requests through the core one step at a time. `start` turns the host's request into a
//! running `app::handle` future and polls it until it waits on a storage call (handed to the host)
//! or finishes (the response); `resume` delivers the host's reply and polls again. Several
//! requests may be in flight at once in one isolate; each has its own exchange.

use super::platform::{EdgePlatform, Mailbox};
use super::wire::{decode_request, encode_response, Reply};
use crate::consistency::{self, ReadConsistency, SessionStart};
use crate::http::{Response, HEADERS_READ, MAX_BODY_BYTES};
use crate::platform::Config;
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

/// The isolate's settings, read from the environment once.
pub struct Settings {
    pub core: Rc<Config>,
    pub read_consistency: ReadConsistency,
}

impl Settings {
    /// The variable names `describe` asks the host for, and their values (`None` when unset).
    pub fn from_vars(vars: &BTreeMap<String, Option<String>>) -> Self {
        let var = |name: &str| vars.get(name).cloned().flatten();
        let iterations = var("PBKDF2_ITERATIONS");
        let core = Config {
            admin_token: var("ADMIN_TOKEN").filter(|s| !s.is_empty()),
            pbkdf2_iterations: crate::password::iterations_from_config(iterations.as_deref()),
        };
        Self { core: Rc::new(core), read_consistency: ReadConsistency::from_config(var("READ_CONSISTENCY").as_deref()) }
    }
}

/// What the host needs to know once per isolate: which variables to pass to `configure`, which
/// request headers to send, and the body size past which it need not read the body.
pub fn describe() -> String {
    let headers: Vec<&str> = HEADERS_READ.iter().copied().chain([consistency::BOOKMARK_HEADER]).collect();
    serde_json::json!({
        "vars": ["ADMIN_TOKEN", "PBKDF2_ITERATIONS", "READ_CONSISTENCY"],
        "headers": headers,
        "maxBody": MAX_BODY_BYTES,
    })
    .to_string()
}

struct Exchange {
    mailbox: Rc<Mailbox>,
    platform: Rc<EdgePlatform>,
    future: Pin<Box<dyn Future<Output = Response>>>,
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
        let mailbox = Rc::new(Mailbox::default());
        mailbox.set_clock(now_ms);
        let platform = Rc::new(EdgePlatform::new(mailbox.clone(), settings.core.clone(), session));
        let p = platform.clone();
        let future = Box::pin(async move { crate::app::handle(&*p, req).await });
        self.step(id, Exchange { mailbox, platform, future })
    }

    /// Continue request `id` with the host's reply to the call it was waiting on.
    pub fn resume(&mut self, id: u32, reply: &str, now_ms: f64) -> String {
        let Some(exchange) = self.exchanges.remove(&id) else { return internal_error("no such request in flight") };
        exchange.mailbox.deliver(Reply::decode(reply), now_ms);
        self.step(id, exchange)
    }

    #[cfg(test)]
    pub fn in_flight(&self) -> usize {
        self.exchanges.len()
    }

    fn step(&mut self, id: u32, mut exchange: Exchange) -> String {
        match exchange.future.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(mut resp) => {
                let log = exchange.platform.session_log();
                consistency::report(&mut resp, log.bookmark.as_deref(), &log.served);
                encode_response(&resp)
            }
            Poll::Pending => match exchange.mailbox.take_outgoing() {
                Some(Ok(call)) => {
                    self.exchanges.insert(id, exchange);
                    call
                }
                Some(Err(why)) => internal_error(&why),
                // Only the mailbox ever leaves the future pending.
                None => internal_error("the request waited on nothing"),
            },
        }
    }
}

/// A failure of the shell itself (never of a client's input): 500, RFC 9457 body.
fn internal_error(detail: &str) -> String {
    let body = crate::dialects::problem::body(500, "Internal Server Error", detail);
    encode_response(&Response::problem(500, &body).with_header("cache-control", "no-store"))
}
