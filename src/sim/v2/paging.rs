//! Cursor paging of v2 lists, as Cloud does it: `limit` (1–250), an opaque `cursor`, the next
//! page's relative URL in both `_links.next` and the `Link` header, and the `{results, meta
//! {hasMore, cursor}, _links{self}}` envelope of `include-*` fields on single objects.
//!
//! Guarantees: a cursor is base64url (no padding) of `{"route":"<path below /wiki/api/v2/>",
//! "offset":N}` — the same position of the same route always yields the same cursor, a cursor of
//! another route or one that does not decode answers 400, and an offset past the end answers an
//! empty page. The next URL keeps every other query parameter of the request. Deliberately not:
//! keyset cursors (the corpus never changes while the simulator runs, so offsets are stable).

use base64::Engine as _;
use serde::Deserialize;

use super::super::json::J;
use super::shapes::json_reply;
use super::{Req, V2Error, V2Result};

/// Largest `limit` honoured (larger ones are clamped, as Cloud does).
pub(super) const MAX_LIMIT: usize = 250;
/// Default `limit` of most lists.
pub(super) const DEFAULT_LIMIT: usize = 25;
/// Most entries of an `include-*` field on a single object.
pub(super) const INCLUDE_CAP: usize = 50;

#[derive(Deserialize)]
struct CursorDoc {
    route: String,
    offset: usize,
}

/// The cursor of position `offset` in the list answered at `route`.
pub(super) fn make_cursor(route: &str, offset: usize) -> String {
    let doc = J::obj().with("route", route).with("offset", offset);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(doc.to_json())
}

/// The offset `cursor` stands for in the list at `route` (400 if it is not one of its cursors).
pub(super) fn read_cursor(route: &str, cursor: &str) -> Result<usize, V2Error> {
    let invalid = || V2Error::bad("Invalid cursor");
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor.trim())
        .map_err(|_| invalid())?;
    let doc: CursorDoc = serde_json::from_slice(&raw).map_err(|_| invalid())?;
    if doc.route == route {
        Ok(doc.offset)
    } else {
        Err(invalid())
    }
}

/// The request's `limit` (absent → `default`; 0 or not a number → 400; above 250 → 250).
pub(super) fn limit(req: &Req<'_>, default: usize) -> Result<usize, V2Error> {
    match req.params.get("limit").map(str::trim) {
        None | Some("") => Ok(default),
        Some(v) => match v.parse::<usize>() {
            Ok(0) | Err(_) => Err(V2Error::bad(format!(
                "Provided value {v} for 'limit' is not valid: it must be between 1 and 250"
            ))),
            Ok(n) => Ok(n.min(MAX_LIMIT)),
        },
    }
}

/// The request's offset (from its `cursor`, else 0).
fn offset(req: &Req<'_>) -> Result<usize, V2Error> {
    match req.params.get("cursor").map(str::trim) {
        None | Some("") => Ok(0),
        Some(c) => read_cursor(req.route, c),
    }
}

/// `/wiki/api/v2/<route>?<the request's other parameters>&cursor=<cursor of offset>`.
fn next_url(req: &Req<'_>, offset: usize) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (k, v) in req.params.0.iter().filter(|(k, _)| k != "cursor") {
        query.append_pair(k, v);
    }
    query.append_pair("cursor", &make_cursor(req.route, offset));
    format!("/wiki/api/v2/{}?{}", req.route, query.finish())
}

/// One page of `all` (window from the request's `cursor` and `limit`), each entry built by
/// `build`, as a v2 list answer with `_links.next`/`Link` when more remain.
pub(super) fn list<T>(
    req: &Req<'_>,
    all: &[T],
    default_limit: usize,
    build: impl Fn(&T) -> J,
) -> V2Result {
    let limit = limit(req, default_limit)?;
    let offset = offset(req)?;
    let results: Vec<J> = all.iter().skip(offset).take(limit).map(build).collect();
    let end = offset.saturating_add(limit);
    let base = req.ctx.wiki();
    let mut links = J::obj();
    let mut headers = Vec::new();
    if end < all.len() {
        let next = next_url(req, end);
        headers.push((
            "Link",
            format!("<{next}>; rel=\"next\", <{base}>; rel=\"base\""),
        ));
        links.push("next", next);
    }
    links.push("base", base);
    let body = J::obj()
        .with("results", J::Arr(results))
        .with("_links", links);
    let mut reply = json_reply(200, &body);
    reply.headers = headers;
    Ok(reply)
}

/// A list answer without paging (`ancestors`): `{"results":[…],"_links":{"base"}}`.
pub(super) fn unpaged(req: &Req<'_>, results: Vec<J>) -> V2Result {
    let body = J::obj()
        .with("results", J::Arr(results))
        .with("_links", J::obj().with("base", req.ctx.wiki()));
    Ok(json_reply(200, &body))
}

/// The `include-*` envelope: the first [`INCLUDE_CAP`] entries, `meta.hasMore`, and when more
/// remain `meta.cursor` for the list at `route` (whose URL is `_links.self`).
pub(super) fn included<T>(route: &str, all: &[T], build: impl Fn(&T) -> J) -> J {
    let results: Vec<J> = all.iter().take(INCLUDE_CAP).map(build).collect();
    let more = all.len() > INCLUDE_CAP;
    let cursor = if more {
        make_cursor(route, INCLUDE_CAP)
    } else {
        String::new()
    };
    J::obj()
        .with("results", J::Arr(results))
        .with(
            "meta",
            J::obj().with("hasMore", more).with("cursor", cursor),
        )
        .with(
            "_links",
            J::obj().with("self", format!("/wiki/api/v2/{route}")),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips_only_on_its_own_route() {
        let c = make_cursor("pages/100036/labels", 50);
        assert_eq!(c, make_cursor("pages/100036/labels", 50), "stable");
        assert!(!c.contains(['=', '+', '/']), "url-safe, unpadded: {c}");
        assert_eq!(read_cursor("pages/100036/labels", &c).unwrap(), 50);
        assert!(read_cursor("pages", &c).is_err());
        assert!(read_cursor("pages", "not a cursor!").is_err());
        let json_but_wrong = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("{\"x\":1}");
        assert!(read_cursor("pages", &json_but_wrong).is_err());
    }
}
