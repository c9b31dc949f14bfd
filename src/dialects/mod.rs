//! Dialects translate and nothing else: a wire request becomes a canonical command, a canonical
//! outcome or `Failure` becomes a wire response. None of them touches D1 or KV.

pub mod hienergy;
pub mod konstantly;
pub mod operator;
pub mod problem;
mod reader;
pub mod scim;
pub mod upsun;
pub mod zitadel;

pub use reader::{NullMeans, Reader};
