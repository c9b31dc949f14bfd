//! The functions the host calls. The shell lives in a thread-local: a wasm instance is
//! single-threaded, and requests in flight interleave only between these calls.

use super::shell::{self, Settings, Shell};
use std::cell::RefCell;
use std::collections::BTreeMap;
use wasm_bindgen::prelude::wasm_bindgen;

thread_local! {
    static SHELL: RefCell<Shell> = RefCell::new(Shell::default());
}

#[wasm_bindgen(start)]
fn init() {
    console_error_panic_hook::set_once();
}

/// `{"vars": [...], "bindings": [...], "headers": [...], "maxBody": n}`: what `configure` and
/// `start` expect.
#[wasm_bindgen]
pub fn describe() -> String {
    shell::describe()
}

/// The isolate's environment, read once.
#[derive(serde::Deserialize, Default)]
struct Environment {
    /// `{"ADMIN_TOKEN": "…", "READ_CONSISTENCY": null}`
    #[serde(default)]
    vars: BTreeMap<String, Option<String>>,
    /// The optional bindings (of those `describe` lists) the isolate has.
    #[serde(default)]
    bindings: Vec<String>,
}

/// The isolate's variables and bindings as `{"vars": {…}, "bindings": […]}`.
#[wasm_bindgen]
pub fn configure(env: &str) {
    let env: Environment = serde_json::from_str(env).unwrap_or_default();
    SHELL.with(|s| s.borrow_mut().configure(Settings::from_env(&env.vars, env.bindings)));
}

/// Begin request `id`; returns its first call or its response (see `wire`).
#[wasm_bindgen]
pub fn start(id: u32, request: &[u8], now_ms: f64) -> String {
    SHELL.with(|s| s.borrow_mut().start(id, request, now_ms))
}

/// Begin task `id`, a change-feed dispatch (`sweep`: the Cron Trigger's, which also applies the
/// feed's retention); returns its first call or `{"op":"done",…}`.
#[wasm_bindgen]
pub fn dispatch(id: u32, now_ms: f64, sweep: bool) -> String {
    SHELL.with(|s| s.borrow_mut().dispatch(id, now_ms, sweep))
}

/// Continue request or task `id` with the reply to its last call.
#[wasm_bindgen]
pub fn resume(id: u32, reply: &str, now_ms: f64) -> String {
    SHELL.with(|s| s.borrow_mut().resume(id, reply, now_ms))
}

#[wasm_bindgen]
extern "C" {
    /// Web Crypto's CSPRNG, writing straight into the wasm memory behind `buf` (one crossing).
    #[wasm_bindgen(js_namespace = crypto, js_name = getRandomValues)]
    fn get_random_values(buf: &mut [u8]);
}

/// At most 64 bytes are asked for at a time, far below Web Crypto's 65,536-byte limit; if it
/// ever threw, the exception would fail the request (the host answers 500), never fall back.
pub fn fill_random(buf: &mut [u8]) -> Result<(), crate::platform::PlatformError> {
    get_random_values(buf);
    Ok(())
}
