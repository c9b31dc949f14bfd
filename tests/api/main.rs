//! The whole service, HTTP in to HTTP out, on the host: one test binary (SQLite stands in for D1,
//! a map for KV), one module per API, all sharing `helpers`.

mod dialect_fuzz;
mod feed;
mod helpers;
mod hienergy;
mod identifiers;
mod keys;
mod konstantly;
mod lifecycle;
mod messages;
mod pipeline;
mod scim;
mod scim_filter_sql;
mod scim_fuzz;
mod scim_patch;
mod upsun;
mod zitadel;
