//! The wasm shell. The JavaScript host (`worker.mjs`, beside the wasm in `build/`) calls in with
//! the whole request as one buffer; the core runs until it needs storage, and each storage call
//! goes out as one JSON line and comes back as one string; the response leaves as one string.
//! A request therefore crosses the JS↔wasm boundary a handful of times, not once per header,
//! column or promise. No decision is made here or in the host: routing, policy and rendering
//! are the core's (`app`), which D1 session a request gets is `consistency`'s.
//!
//! Only `exports` touches wasm-bindgen; the rest is plain Rust and is tested on the host.

#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]

#[cfg(target_arch = "wasm32")]
mod exports;
mod platform;
mod shell;
mod wire;

#[cfg(test)]
mod tests;

#[cfg(target_arch = "wasm32")]
use exports::fill_random;

/// Off wasm (host tests) the operating system's CSPRNG.
#[cfg(not(target_arch = "wasm32"))]
fn fill_random(buf: &mut [u8]) -> Result<(), crate::platform::PlatformError> {
    getrandom::getrandom(buf).map_err(|e| crate::platform::PlatformError::Random(e.to_string()))
}
