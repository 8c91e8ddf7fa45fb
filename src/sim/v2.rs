//! Confluence Cloud REST **v2** (`/wiki/api/v2/…`) for the simulator, in the shapes of the 2026-02
//! v2 OpenAPI spec and `confluence-samples/cloud-v2-*.json`, answered as the service account (every
//! space, every organization's pages, internal and ENG content included).
//!
//! Routes (GET/HEAD; `{id}` is numeric, anything else answers 400):
//! - `pages`, `spaces/{id}/pages`, `labels/{id}/pages`, `blogposts` — `PageBulk`/`BlogPostBulk`
//!   lists (`id`, `space-id`, `title`, `status`, `body-format`, `sort`, `limit`, `cursor`).
//! - `pages/{id}`, `blogposts/{id}` — `PageSingle`/`BlogPostSingle` (`body-format`,
//!   `include-labels`, `include-direct-children`, `include-version`).
//! - `pages/{id}/{children,direct-children,descendants,ancestors,labels,attachments,footer-comments}`.
//! - `spaces`, `spaces/{id}`, `labels`.
//!
//! Guarantees: every list is `{"results":[…],"_links":{"next"?,"base"}}` with a matching
//! `Link: <next>; rel="next", <base>; rel="base"` header when (and only when) more remain; cursors
//! are opaque, bound to their route, and a malformed one answers 400; errors use v2's
//! `{"errors":[{status,code,title,detail}]}` shape; label ids are one stable number per distinct
//! label name ([`shapes::label_table`]). Deliberately not: write APIs, folders, whiteboards,
//! databases, custom content, versions history, properties, likes or operations (`include-*`
//! flags other than labels, direct children and version are accepted and ignored).

mod adf;
mod lists;
mod paging;
mod shapes;
mod single;
mod tree;

use super::confluence::Ctx;
use super::corpus::{ContentKind, SimItem};
use super::faults::WikiRoute;
use super::http::Reply;
use super::search::Params;

/// Path prefix of every v2 route.
pub(crate) const PREFIX: &str = "/wiki/api/v2/";

/// Why a v2 request cannot be answered with 200.
#[derive(Debug, thiserror::Error)]
pub(crate) enum V2Error {
    /// Unknown route, id, label or space: 404 `NOT_FOUND`.
    #[error("Not Found")]
    NotFound,
    /// A malformed parameter or cursor: 400 `INVALID_REQUEST_PARAMETER`.
    #[error("{0}")]
    BadRequest(String),
}

impl V2Error {
    fn bad(message: impl Into<String>) -> V2Error {
        V2Error::BadRequest(message.into())
    }

    /// The error answer in v2's shape.
    fn reply(&self) -> Reply {
        let (status, code) = match self {
            V2Error::NotFound => (404, "NOT_FOUND"),
            V2Error::BadRequest(_) => (400, "INVALID_REQUEST_PARAMETER"),
        };
        shapes::json_reply(status, &shapes::error_body(status, code, &self.to_string()))
    }
}

/// A handler's outcome.
type V2Result = Result<Reply, V2Error>;

/// One v2 request: the site, the path below [`PREFIX`] and the query.
struct Req<'a> {
    ctx: &'a Ctx<'a>,
    /// Path below `/wiki/api/v2/` (e.g. `pages/100036/labels`); cursors are bound to it.
    route: &'a str,
    params: &'a Params,
}

impl Req<'_> {
    /// Every value of `name`, repeated and/or comma-separated, trimmed, empty parts dropped.
    fn values(&self, name: &str) -> Vec<&str> {
        self.params
            .0
            .iter()
            .filter(|(k, _)| k == name)
            .flat_map(|(_, v)| v.split(','))
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .collect()
    }

    /// Every value of `name` as a numeric id (400 if one is not a number).
    fn ids(&self, name: &str) -> Result<Vec<u64>, V2Error> {
        self.values(name)
            .into_iter()
            .map(|v| {
                v.parse::<u64>().map_err(|_| {
                    V2Error::bad(format!("Provided value {v} for '{name}' is not a number"))
                })
            })
            .collect()
    }

    /// A boolean flag (`true`/`false`, case-insensitive; absent → `default`).
    fn flag(&self, name: &str, default: bool) -> Result<bool, V2Error> {
        match self.params.get(name).map(str::trim) {
            None | Some("") => Ok(default),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
            Some(v) => Err(V2Error::bad(format!(
                "Provided value {v} for '{name}' is not a boolean"
            ))),
        }
    }

    /// `body-format`, one of `allowed` (absent → `None`).
    fn body_format(&self, allowed: &[&'static str]) -> Result<Option<&'static str>, V2Error> {
        match self.params.get("body-format").map(str::trim) {
            None | Some("") => Ok(None),
            Some(v) => allowed
                .iter()
                .find(|a| a.eq_ignore_ascii_case(v))
                .map(|a| Some(*a))
                .ok_or_else(|| {
                    V2Error::bad(format!("Provided value {v} for 'body-format' is not valid"))
                }),
        }
    }
}

/// Parses a numeric path id: empty → 404, not a number → 400.
fn path_id(raw: &str) -> Result<&str, V2Error> {
    if raw.is_empty() {
        Err(V2Error::NotFound)
    } else if raw.bytes().all(|b| b.is_ascii_digit()) && raw.len() <= 19 {
        Ok(raw)
    } else {
        Err(V2Error::bad(format!(
            "Provided value {raw} for 'id' is not the correct type"
        )))
    }
}

/// The item `raw` names if it is of `kind` (any other item, or none, is 404).
fn item_of<'c>(ctx: &Ctx<'c>, raw: &str, kind: ContentKind) -> Result<&'c SimItem, V2Error> {
    let id = path_id(raw)?;
    ctx.corpus
        .get(id)
        .filter(|i| i.kind == kind)
        .ok_or(V2Error::NotFound)
}

/// Answers `path` if it is a v2 route (`None` otherwise): the route kind for the fault hook and
/// the reply.
pub(crate) fn route(ctx: &Ctx<'_>, path: &str, params: &Params) -> Option<(WikiRoute, Reply)> {
    let rest = path
        .strip_prefix(PREFIX)
        .or_else(|| (path == PREFIX.trim_end_matches('/')).then_some(""))?;
    let req = Req {
        ctx,
        route: rest,
        params,
    };
    let segments: Vec<&str> = rest.split('/').collect();
    let (kind, result) = match segments.as_slice() {
        ["pages"] => (WikiRoute::Content, lists::pages(&req)),
        ["blogposts"] => (WikiRoute::Content, lists::blogposts(&req)),
        ["pages", id] => (WikiRoute::Content, single::page(&req, id)),
        ["blogposts", id] => (WikiRoute::Content, single::blogpost(&req, id)),
        ["pages", id, sub] => (WikiRoute::Content, tree::sub_resource(&req, id, sub)),
        ["spaces"] => (WikiRoute::Other, lists::spaces(&req)),
        ["spaces", id] => (WikiRoute::Other, lists::space(&req, id)),
        ["spaces", id, "pages"] => (WikiRoute::Content, lists::space_pages(&req, id)),
        ["labels"] => (WikiRoute::Other, lists::labels(&req)),
        ["labels", id, "pages"] => (WikiRoute::Content, lists::label_pages(&req, id)),
        _ => (WikiRoute::Other, Err(V2Error::NotFound)),
    };
    Some((kind, result.unwrap_or_else(|e| e.reply())))
}
