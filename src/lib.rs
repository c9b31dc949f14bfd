//! users-edge: one user directory at the edge, speaking several products' "update a user" APIs.
//!
//! Everything but `edge` is plain Rust, tested on the host; `edge` is the thin wasm shell that
//! binds the core to D1, KV and the Workers runtime.

pub mod apikey;
pub mod app;
pub mod consistency;
pub mod dialects;
pub mod error;
pub mod feed;
pub mod http;
pub mod model;
pub mod password;
pub mod pipeline;
pub mod platform;
pub mod policy;
pub mod store;
pub mod values;

mod edge;
