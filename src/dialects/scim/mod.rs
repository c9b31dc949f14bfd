//! SCIM 2.0 (RFC 7643 schemas, RFC 7644 protocol) served at `/scim/v2`: the pure parts — filter
//! and PATCH-path parsing, PatchOp application, and the static User, Enterprise User and Group
//! schemas.

pub mod filter;
pub mod patch;
pub mod path;
pub mod schema;
