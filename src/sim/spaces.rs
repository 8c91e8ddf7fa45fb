//! The space routes of Confluence Cloud v1, in the shape of `cloud-v1-spaces.json`:
//! - `GET /wiki/rest/api/space?spaceKey=&start=&limit=&expand=` — the site's spaces in corpus
//!   order (`spaceKey` may repeat and keeps only those keys, exactly as written);
//! - `GET /wiki/rest/api/space/{key}?expand=` — one space (key case-insensitive), or
//!   Confluence's 404 body.
//!
//! Guarantees: `{"results":[…],"start","limit","size","_links":{base,context,next?,self}}`
//! with `next` only when more spaces exist; every space object carries `_expandable.homepage`
//! naming its home page's id, as Cloud does. Deliberately not: `type`, `status`, `label`,
//! `favourite` filters (ignored).

use super::confluence::{error_body, space, Ctx, Expand};
use super::corpus::SimSpace;
use super::json::J;
use super::search::{parse_count, Params, DEFAULT_LIMIT, MAX_LIMIT};

/// Answers `GET /wiki/rest/api/space`: `(status, body)`.
pub(crate) fn space_list(ctx: &Ctx<'_>, params: &Params) -> (u16, J) {
    let bad = |msg: String| (400, error_body(400, &msg));
    let start = match parse_count(params, "start", 0) {
        Ok(s) => s,
        Err(msg) => return bad(msg),
    };
    let limit = match parse_count(params, "limit", DEFAULT_LIMIT) {
        Ok(l) => l.min(MAX_LIMIT),
        Err(msg) => return bad(msg),
    };
    let wanted: Vec<&str> = params
        .0
        .iter()
        .filter(|(k, _)| k == "spaceKey")
        .map(|(_, v)| v.as_str())
        .collect();
    let spaces: Vec<&SimSpace> = ctx
        .corpus
        .spaces()
        .iter()
        .filter(|s| wanted.is_empty() || wanted.contains(&s.key.as_str()))
        .collect();
    let expand = Expand::parse(params.get("expand").unwrap_or(""));
    let shown: Vec<J> = spaces
        .iter()
        .skip(start)
        .take(limit)
        .map(|s| space(ctx, s, &expand))
        .collect();
    let size = shown.len();
    let end = start.saturating_add(size);
    let mut links = J::obj().with("base", ctx.wiki()).with("context", "/wiki");
    if end < spaces.len() && size > 0 {
        links.push(
            "next",
            format!("/rest/api/space?next=true&limit={limit}&start={end}"),
        );
    }
    links.push("self", format!("{}/rest/api/space", ctx.wiki()));
    let body = J::obj()
        .with("results", J::Arr(shown))
        .with("start", start)
        .with("limit", limit)
        .with("size", size)
        .with("_links", links);
    (200, body)
}

/// Answers `GET /wiki/rest/api/space/{key}`: `(status, body)`.
pub(crate) fn space_by_key(ctx: &Ctx<'_>, key: &str, params: &Params) -> (u16, J) {
    match ctx.corpus.space(key) {
        Some(s) => {
            let expand = Expand::parse(params.get("expand").unwrap_or(""));
            (200, space(ctx, s, &expand))
        }
        None => (
            404,
            error_body(404, &format!("No space found with key : {key}")),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::Corpus;

    fn ctx(corpus: &Corpus) -> Ctx<'_> {
        Ctx {
            corpus,
            base_url: "http://127.0.0.1:1",
        }
    }

    fn keys(body: &J) -> Vec<String> {
        let v: serde_json::Value = serde_json::from_str(&body.to_json()).unwrap();
        v["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["key"].as_str().unwrap().to_owned())
            .collect()
    }

    #[test]
    fn the_space_list_pages_and_filters_by_repeated_space_keys() {
        let corpus = Corpus::generate(7);
        let ctx = ctx(&corpus);
        let (status, all) = space_list(&ctx, &Params::parse(None));
        assert_eq!(
            (status, keys(&all)),
            (200, vec!["KB".to_owned(), "ENG".to_owned()])
        );
        let (_, first) = space_list(&ctx, &Params::parse(Some("limit=1")));
        assert_eq!(keys(&first), vec!["KB".to_owned()]);
        assert!(first.to_json().contains("start=1"), "a next link");
        let (_, kb) = space_list(&ctx, &Params::parse(Some("spaceKey=KB&spaceKey=NOPE")));
        assert_eq!(keys(&kb), vec!["KB".to_owned()]);
        assert!(!kb.to_json().contains("\"next\""));
        assert_eq!(space_list(&ctx, &Params::parse(Some("limit=x"))).0, 400);
    }

    #[test]
    fn one_space_by_key_names_its_home_page_and_unknown_keys_are_404() {
        let corpus = Corpus::generate(7);
        let ctx = ctx(&corpus);
        let (status, kb) = space_by_key(&ctx, "KB", &Params::parse(None));
        assert_eq!(status, 200);
        let text = kb.to_json();
        assert!(text.contains("\"key\":\"KB\"") && text.contains("/rest/api/content/"));
        assert_eq!(space_by_key(&ctx, "NOPE", &Params::parse(None)).0, 404);
    }
}
