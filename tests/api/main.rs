//! The whole service, HTTP in to HTTP out, on the host: one test binary (SQLite stands in for D1,
//! a map for KV), one module per API, all sharing `helpers`.

mod helpers;
mod hienergy;
mod konstantly;
mod pipeline;
mod upsun;
mod zitadel;
