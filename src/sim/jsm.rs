//! Jira Service Management's knowledge-base search, as the service account sees it:
//! `GET /rest/servicedeskapi/knowledgebase/article` and
//! `GET /rest/servicedeskapi/servicedesk/{serviceDeskId}/knowledgebase/article`, in the shape of
//! `jsm-kb-articles.json` (op `getArticles` of the JSM spec).
//!
//! Articles are the corpus's pages and blog posts in the `KB` space — every one of them, shared,
//! internal and every organization's alike, because the service account sees all. A query
//! matches an item when every query word hits a word of its title or text (the simulator's word
//! matching: case-insensitive, plural folding, trailing `*`). Results are ordered by score (title
//! hits weigh 3), then table order.
//!
//! Guarantees: keys in the sample's order (`_expands, size, start, limit, isLastPage, _links,
//! values`); `start`/`limit` paging (limit default 50, clamped to `1..=100`) with absolute
//! upstream `next`/`prev` links; the excerpt is ~120 characters of the item text around the
//! first match — and that text includes the titles of linked pages ("See also: …"), as
//! Confluence's index does, so an excerpt can carry another organization's title;
//! `highlight=true` wraps matched words in title and excerpt as `@@@hl@@@word@@@endhl@@@`, which
//! can split a canary. Service desk `1` is the KB's; any other id is a 404 in JSM's error shape
//! (`errorMessage` + `i18nErrorMessage`). Deliberately not: JSM's ranking, HTML in excerpts,
//! article views (`…/article/view/{id}` is only named, not served).

use super::confluence::Ctx;
use super::corpus::{Corpus, SimItem, KB_SPACE};
use super::cql_eval::{word_hit, words};
use super::json::J;
use super::search::{highlight, Params};

/// `limit` when the request names none (JSM's default).
pub const DEFAULT_LIMIT: usize = 50;
/// Largest `limit` honoured (larger requests are clamped).
pub const MAX_LIMIT: usize = 100;
/// The id of the one service desk whose knowledge base is the `KB` space.
pub const KB_SERVICE_DESK_ID: &str = "1";
/// Characters of item text in an excerpt.
const EXCERPT_CHARS: usize = 120;
/// Characters kept before the first match in an excerpt.
const EXCERPT_LEAD: usize = 30;

/// The lower-cased words of a JSM `query` (a trailing `*` on a word is kept as a wildcard).
pub fn query_terms(query: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for token in query.split_whitespace() {
        let star = token.ends_with('*');
        let ws: Vec<String> = words(token).map(str::to_lowercase).collect();
        let last = ws.len().saturating_sub(1);
        for (i, w) in ws.into_iter().enumerate() {
            let term = if star && i == last { w + "*" } else { w };
            if !out.contains(&term) {
                out.push(term);
            }
        }
    }
    out
}

/// Whether `item` is a KB article whose title or text holds every term (no terms: no match).
pub fn article_matches(item: &SimItem, terms: &[String]) -> bool {
    item.space_key == KB_SPACE
        && !terms.is_empty()
        && terms.iter().all(|t| {
            words(&item.title)
                .chain(words(&item.text))
                .any(|w| word_hit(w, t))
        })
}

/// Every KB article matching `query`, in the order the simulator answers them (score, then
/// table order) — what the service account would page through.
pub fn matching_articles<'c>(corpus: &'c Corpus, query: &str) -> Vec<&'c SimItem> {
    let terms = query_terms(query);
    let count = |text: &str| {
        terms
            .iter()
            .map(|t| words(text).filter(|w| word_hit(w, t)).count())
            .sum::<usize>()
    };
    let mut hits: Vec<(&SimItem, usize)> = corpus
        .items()
        .iter()
        .filter(|i| article_matches(i, &terms))
        .map(|i| (i, 3 * count(&i.title) + count(&i.text)))
        .collect();
    hits.sort_by_key(|&(_, score)| std::cmp::Reverse(score));
    hits.into_iter().map(|(i, _)| i).collect()
}

/// The ids of [`matching_articles`], in answer order.
pub fn matching_article_ids(corpus: &Corpus, query: &str) -> Vec<String> {
    matching_articles(corpus, query)
        .into_iter()
        .map(|i| i.id.clone())
        .collect()
}

/// JSM's error body: `{"errorMessage": …, "i18nErrorMessage": {"i18nKey": …, "parameters": […]}}`.
pub(crate) fn error_body(message: &str, i18n_key: &str, parameters: &[&str]) -> J {
    let params: Vec<J> = parameters.iter().map(|p| J::from(*p)).collect();
    J::obj().with("errorMessage", message).with(
        "i18nErrorMessage",
        J::obj()
            .with("i18nKey", i18n_key)
            .with("parameters", J::Arr(params)),
    )
}

/// JSM's 401 for a request without the service account's credentials.
pub(crate) fn unauthorized() -> J {
    error_body(
        "You are not logged in. Log in and try again.",
        "sd.public.api.error.unauthorized",
        &[],
    )
}

/// Answers any `/rest/servicedeskapi/…` GET: `(status, body)`.
pub(crate) fn route(ctx: &Ctx<'_>, path: &str, params: &Params) -> (u16, J) {
    let rest = path.strip_prefix("/rest/servicedeskapi/").unwrap_or("");
    let segments: Vec<&str> = rest.split('/').collect();
    match segments.as_slice() {
        ["knowledgebase", "article"] => articles(ctx, None, params),
        ["servicedesk", id, "knowledgebase", "article"] => articles(ctx, Some(id), params),
        _ => (
            404,
            error_body(
                "The requested resource could not be found.",
                "sd.public.api.error.not.found",
                &[],
            ),
        ),
    }
}

/// Answers an article search, across all desks (`desk = None`) or of one service desk.
pub(crate) fn articles(ctx: &Ctx<'_>, desk: Option<&str>, params: &Params) -> (u16, J) {
    if let Some(id) = desk.filter(|id| *id != KB_SERVICE_DESK_ID) {
        let message = format!("The service desk with id {id} does not exist.");
        return (
            404,
            error_body(&message, "sd.servicedesk.error.not.found", &[id]),
        );
    }
    let bad = |message: &str| {
        (
            400,
            error_body(message, "sd.public.api.error.bad.request", &[]),
        )
    };
    let Some(query) = params.get("query").filter(|q| !q.trim().is_empty()) else {
        return bad("The query parameter is required.");
    };
    let highlight_on = match params.get("highlight") {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => return bad("The highlight parameter must be true or false."),
    };
    let number = |name: &str, default: usize| match params.get(name) {
        None => Ok(default),
        Some(v) => v.parse::<usize>().map_err(|_| name.to_owned()),
    };
    let (start, limit) = match (number("start", 0), number("limit", DEFAULT_LIMIT)) {
        (Ok(s), Ok(l)) => (s, l.clamp(1, MAX_LIMIT)),
        (Err(name), _) | (_, Err(name)) => {
            return bad(&format!("The {name} parameter must be a number."))
        }
    };
    let terms = query_terms(query);
    let hits = matching_articles(ctx.corpus, query);
    let total = hits.len();
    let api = format!("{}/rest/servicedeskapi", ctx.base_url);
    let values: Vec<J> = hits
        .iter()
        .skip(start)
        .take(limit)
        .map(|item| article(&api, item, &terms, highlight_on))
        .collect();
    let size = values.len();
    let end = start.saturating_add(size);
    let route_path = match desk {
        Some(id) => format!("{api}/servicedesk/{id}/knowledgebase/article"),
        None => format!("{api}/knowledgebase/article"),
    };
    let page_link = |at: usize| {
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("query", query)
            .append_pair("highlight", if highlight_on { "true" } else { "false" })
            .append_pair("start", &at.to_string())
            .append_pair("limit", &limit.to_string())
            .finish();
        format!("{route_path}?{query}")
    };
    let mut links = J::obj().with("base", api.as_str()).with("context", "");
    if end < total {
        links.push("next", page_link(end));
    }
    if start > 0 {
        links.push("prev", page_link(start.saturating_sub(limit)));
    }
    let body = J::obj()
        .with("_expands", J::Arr(Vec::new()))
        .with("size", size)
        .with("start", start)
        .with("limit", limit)
        .with("isLastPage", end >= total)
        .with("_links", links)
        .with("values", J::Arr(values));
    (200, body)
}

/// One `ArticleDTO`.
fn article(api: &str, item: &SimItem, terms: &[String], highlight_on: bool) -> J {
    J::obj()
        .with("title", highlight(&item.title, terms, highlight_on, false))
        .with(
            "excerpt",
            highlight(&excerpt(&item.text, terms), terms, highlight_on, false),
        )
        .with(
            "source",
            J::obj()
                .with("type", "confluence")
                .with("pageId", item.id.as_str())
                .with("spaceKey", item.space_key.as_str()),
        )
        .with(
            "content",
            J::obj().with(
                "iframeSrc",
                format!("{api}/knowledgebase/article/view/{}", item.id),
            ),
        )
}

/// About [`EXCERPT_CHARS`] characters of `text` (line breaks as spaces) starting a little before
/// the first word that hits a term; from the beginning when only the title matched.
pub(crate) fn excerpt(text: &str, terms: &[String]) -> String {
    let flat: Vec<char> = text
        .chars()
        .map(|c| if c == '\n' { ' ' } else { c })
        .collect();
    let mut first_hit = None;
    let mut at = 0;
    while at < flat.len() {
        let len = flat
            .get(at..)
            .unwrap_or_default()
            .iter()
            .take_while(|c| c.is_alphanumeric())
            .count();
        if len == 0 {
            at += 1;
            continue;
        }
        let word: String = flat.get(at..at + len).unwrap_or_default().iter().collect();
        if terms.iter().any(|t| word_hit(&word, t)) {
            first_hit = Some(at);
            break;
        }
        at += len;
    }
    let from = first_hit.map_or(0, |hit| hit.saturating_sub(EXCERPT_LEAD));
    flat.iter().skip(from).take(EXCERPT_CHARS).collect()
}

#[cfg(test)]
#[path = "jsm_tests.rs"]
mod tests;
