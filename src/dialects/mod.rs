//! Dialects translate and nothing else. Each owns its routes (and their 405 `Allow`), its wire
//! types and its error format: a wire request becomes a canonical command for the pipeline, a
//! canonical outcome or `Failure` becomes a wire response. None of them touches D1 or KV, and
//! none reaches into another.

pub mod hienergy;
pub mod konstantly;
pub mod operator;
pub mod problem;
mod reader;
pub mod scim;
pub mod upsun;
pub mod zitadel;

pub use reader::{NullMeans, Reader};

use crate::error::Failure;
use crate::http::{json_body, parse_if_match, Request, Response};
use crate::model::{Principal, Target, User, UserPatch};
use crate::pipeline::{self, UpdateCommand};
use crate::platform::{Ctx, Platform};
use crate::policy::Rules;

/// A handler's outcome as a response. An internal failure is noted on the context so that
/// `app::handle` logs it, once; the client sees only the dialect's generic 500.
pub fn respond<P: Platform>(
    cx: &Ctx<'_, P>,
    outcome: Result<Response, Failure>,
    render: impl FnOnce(&Failure) -> Response,
) -> Response {
    match outcome {
        Ok(resp) => resp,
        Err(f) => {
            if let Failure::Internal(message) = &f {
                cx.note_internal(message);
            }
            render(&f)
        }
    }
}

/// `GET` reads the user, `PATCH` applies the body the dialect parses, `If-Match` honoured: the
/// shape of the REST dialects' user resource (HiEnergy, Upsun).
pub async fn read_or_patch<P: Platform>(
    cx: &Ctx<'_, P>,
    req: &Request,
    who: &Principal,
    target: Target,
    rules: &Rules,
    parse: fn(serde_json::Value) -> Result<UserPatch, Failure>,
) -> Result<User, Failure> {
    if req.method == "GET" {
        return pipeline::read_user(cx, rules, who, &target).await;
    }
    let patch = parse(json_body(req)?)?;
    let precondition = parse_if_match(req.header("if-match"));
    Ok(pipeline::update_user(cx, rules, who, UpdateCommand { target, patch, precondition }).await?.user)
}
