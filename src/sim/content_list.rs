//! The two content-list routes of Confluence Cloud v1, in the shape of
//! `cloud-v1-content-list.json`:
//! - `GET /wiki/rest/api/content/search?cql=&start=&limit=&cursor=&expand=` — CQL content
//!   search (the simulator's own CQL evaluator), items as content objects;
//! - `GET /wiki/rest/api/content?spaceKey=&type=&title=&start=&limit=&expand=` — the listing
//!   (`type` defaults to `page`; `title` is an exact match), in corpus order.
//!
//! Guarantees: `{"results":[…],"start","limit","size","_links":{base,context,next?,self}}`
//! with `next` only when more items exist (a cursor link, as Cloud writes it for CQL search);
//! like Confluence, a CQL error answers 400 with a body that echoes the CQL. Deliberately not:
//! `cqlcontext`, `status`, `postingDay`, `orderby` (ignored), `totalSize` (Cloud sends none here).

use super::confluence::{content, error_body, Ctx, Expand, Shape};
use super::corpus::SimItem;
use super::cql::Query;
use super::json::J;
use super::search::{make_cursor, parse_count, read_cursor, Params, DEFAULT_LIMIT, MAX_LIMIT};

fn enc(v: &str) -> String {
    form_urlencoded::byte_serialize(v.as_bytes()).collect()
}

/// One page of `items` as a content list; `next` is the path of the next page, if any.
fn page(
    ctx: &Ctx<'_>,
    items: &[&SimItem],
    window: Window,
    expand: &Expand,
    self_path: &str,
    next: impl Fn(usize) -> String,
) -> J {
    let shown: Vec<J> = items
        .iter()
        .skip(window.start)
        .take(window.limit)
        .map(|item| content(ctx, item, expand, Shape::ById))
        .collect();
    let size = shown.len();
    let end = window.start.saturating_add(size);
    let mut links = J::obj().with("base", ctx.wiki()).with("context", "/wiki");
    if end < items.len() && size > 0 {
        links.push("next", next(end));
    }
    links.push("self", format!("{}{self_path}", ctx.wiki()));
    J::obj()
        .with("results", J::Arr(shown))
        .with("start", window.start)
        .with("limit", window.limit)
        .with("size", size)
        .with("_links", links)
}

#[derive(Clone, Copy)]
struct Window {
    start: usize,
    limit: usize,
}

fn window(params: &Params) -> Result<Window, J> {
    let bad = |msg: String| error_body(400, &msg);
    Ok(Window {
        start: parse_count(params, "start", 0).map_err(bad)?,
        limit: parse_count(params, "limit", DEFAULT_LIMIT)
            .map_err(bad)?
            .min(MAX_LIMIT),
    })
}

/// Answers `GET /wiki/rest/api/content/search`: `(status, body)`.
pub(crate) fn content_search(ctx: &Ctx<'_>, params: &Params) -> (u16, J) {
    let Some(cql) = params.get("cql").filter(|c| !c.trim().is_empty()) else {
        return (400, error_body(400, "CQL query parameter is required"));
    };
    let Ok(query) = Query::parse(cql) else {
        return (
            400,
            error_body(400, &format!("Could not parse cql : {cql}")),
        );
    };
    let mut win = match window(params) {
        Ok(w) => w,
        Err(body) => return (400, body),
    };
    if let Some(cursor) = params.get("cursor").filter(|c| !c.is_empty()) {
        match read_cursor(cql, cursor) {
            Some(s) => win.start = s,
            None => return (400, error_body(400, "Invalid cursor")),
        }
    }
    let expand_raw = params.get("expand").unwrap_or("");
    let hits: Vec<&SimItem> = query.run(ctx.corpus).into_iter().map(|(i, _)| i).collect();
    let next = |start: usize| {
        let mut link = format!(
            "/rest/api/content/search?next=true&cursor={}&limit={}&start={start}&cql={}",
            make_cursor(cql, start),
            win.limit,
            enc(cql)
        );
        if !expand_raw.is_empty() {
            link.push_str(&format!("&expand={}", enc(expand_raw)));
        }
        link
    };
    let self_path = format!("/rest/api/content/search?cql={}", enc(cql));
    let body = page(
        ctx,
        &hits,
        win,
        &Expand::parse(expand_raw),
        &self_path,
        next,
    );
    (200, body)
}

/// Answers the listing `GET /wiki/rest/api/content`: `(status, body)`.
pub(crate) fn content_listing(ctx: &Ctx<'_>, params: &Params) -> (u16, J) {
    let win = match window(params) {
        Ok(w) => w,
        Err(body) => return (400, body),
    };
    let kind = params.get("type").unwrap_or("page");
    let space_key = params.get("spaceKey");
    let title = params.get("title");
    let items: Vec<&SimItem> = ctx
        .corpus
        .items()
        .iter()
        .filter(|i| i.kind.as_str() == kind)
        .filter(|i| space_key.is_none_or(|k| i.space_key == k))
        .filter(|i| title.is_none_or(|t| i.title == t))
        .collect();
    let mut query: Vec<(&str, &str)> = Vec::new();
    for name in ["spaceKey", "type", "title", "expand"] {
        if let Some(v) = params.get(name) {
            query.push((name, v));
        }
    }
    let encoded = |start: Option<usize>| {
        let mut s = form_urlencoded::Serializer::new(String::new());
        for (k, v) in &query {
            s.append_pair(k, v);
        }
        if let Some(start) = start {
            s.append_pair("start", &start.to_string());
            s.append_pair("limit", &win.limit.to_string());
        }
        s.finish()
    };
    let next = |start: usize| format!("/rest/api/content?{}", encoded(Some(start)));
    let self_path = format!("/rest/api/content?{}", encoded(None));
    let expand = Expand::parse(params.get("expand").unwrap_or(""));
    (200, page(ctx, &items, win, &expand, &self_path, next))
}

#[cfg(test)]
#[path = "content_list_tests.rs"]
mod tests;
