//! JSM knowledge-base search for customers: `knowledgebase/article` and
//! `servicedesk/{id}/knowledgebase/article` (`/rest/servicedeskapi`), answered in kbgate's own
//! terms from JSM's answers as the service account.
//!
//! JSM searches every article the service account may read, so each value is decided like any
//! other content: by `source.pageId`, with fresh metadata ([`MetadataIndex::lookup`], one batch
//! per upstream page), through [`Policy::decide`]; the `source.spaceKey` JSM claims must be the
//! space in the metadata and one of the KB spaces. No `pageId`, another source type, no metadata
//! → hidden.
//!
//! Paging counts **visible** articles: kbgate walks upstream from offset 0 in pages of
//! [`UPSTREAM_PAGE`] until it has seen `start + limit + 1` visible articles or upstream's last
//! page — at most [`MAX_UPSTREAM_CALLS`] calls (1,000 upstream results) per request. Past that
//! bound it answers with what it collected and `isLastPage: false`. `size`, `isLastPage`,
//! `next` and `prev` are kbgate's, computed from the visible articles only; `next` is offered
//! only on a non-empty page that is not the last.
//!
//! Excerpts: JSM cuts an excerpt from text that includes the link text of the pages an article
//! links to, i.e. their titles. An excerpt is shown only when the article's storage body was
//! fetched (one site search for the page's articles) and names nothing the caller may not see
//! (`body_rewrite::excerpts_allowed`, the same check as site search); otherwise it is `""`.
//! Each kept value carries only `title`, `excerpt`, `source{type,pageId,spaceKey}` and
//! `content.iframeSrc` = kbgate's article view (`{public_url}/articles/{id}`): JSM's iframe
//! renders as the service account.
//!
//! Deliberately not done: listing service desks, or deciding which desks exist (upstream's 404
//! becomes the uniform 404); listing macros rendered into an excerpt are not looked for (as in
//! site search, the storage check covers references only).
//!
//! [`MetadataIndex::lookup`]: crate::confluence::MetadataIndex::lookup
//! [`Policy::decide`]: crate::policy::Policy::decide

use std::collections::{HashMap, HashSet};

use crate::app::App;
use crate::confluence::UpstreamError;
use crate::filter::{self, JsmArticle, JsmArticleOut, JsmPageOut};
use crate::ids::ContentId;
use crate::policy::{ItemMeta, OrgSet};
use crate::route::JsmArticlesQuery;

use super::{body_rewrite, Answer, ProxyError};

/// Upstream page size of the walk (JSM's maximum).
pub const UPSTREAM_PAGE: u32 = 100;
/// Most upstream article pages fetched for one request.
pub const MAX_UPSTREAM_CALLS: usize = 10;

/// What the walk over upstream pages found.
#[derive(Debug, Default)]
struct Walk {
    /// The visible articles at visible offsets `start..start + limit`, in order.
    window: Vec<JsmArticle>,
    /// Visible articles seen in total (each page id once).
    visible: usize,
    /// Values upstream sent that were hidden, duplicates or not decidable.
    removed: usize,
    /// True when upstream said its last page was reached.
    exhausted: bool,
}

impl Walk {
    /// Takes one upstream page in order: each article `shown` accepts and whose page id was not
    /// seen before counts as visible, and those at visible offsets in `window` are kept.
    fn absorb(
        &mut self,
        articles: Vec<JsmArticle>,
        window: std::ops::Range<usize>,
        seen: &mut HashSet<ContentId>,
        shown: impl Fn(&JsmArticle) -> bool,
    ) {
        for article in articles {
            // A page id upstream repeats (its index moved under us) is shown once.
            if !shown(&article) || !seen.insert(article.page_id.clone()) {
                self.removed += 1;
                continue;
            }
            if window.contains(&self.visible) {
                self.window.push(article);
            }
            self.visible += 1;
        }
    }

    /// True when no visible article follows the window ending at visible offset `end`: upstream
    /// was read to its last page and nothing visible lies past `end`.
    fn is_last_page(&self, end: usize) -> bool {
        self.exhausted && self.visible <= end
    }
}

/// The visible offsets `start..start + limit` a request asks for.
fn window(q: &JsmArticlesQuery) -> (usize, usize) {
    let start = q.start as usize;
    (start, start.saturating_add(q.limit as usize))
}

/// `GET /rest/servicedeskapi/[servicedesk/{id}/]knowledgebase/article`: the caller's articles.
pub async fn articles(
    app: &App,
    orgs: &OrgSet,
    q: &JsmArticlesQuery,
    request_id: &str,
) -> Result<Answer, ProxyError> {
    let walk = walk(app, orgs, q, request_id).await?;
    let is_last_page = walk.is_last_page(window(q).1);
    let excerpts = checked_excerpts(app, orgs, &walk.window, request_id).await;
    let iframes: Vec<String> = walk
        .window
        .iter()
        .map(|a| app.links.kb_article(&a.page_id))
        .collect();
    let values: Vec<JsmArticleOut<'_>> = walk
        .window
        .iter()
        .zip(&iframes)
        .map(|(a, iframe_src)| JsmArticleOut {
            title: &a.title,
            excerpt: if excerpts.contains(&a.page_id) {
                &a.excerpt
            } else {
                ""
            },
            page_id: &a.page_id,
            space_key: &a.space_key,
            iframe_src,
        })
        .collect();
    let next = (!is_last_page && !values.is_empty())
        .then(|| app.links.jsm_articles(q, q.start.saturating_add(q.limit)));
    let prev = (q.start > 0).then(|| app.links.jsm_articles(q, q.start.saturating_sub(q.limit)));
    let base = app.links.jsm_base();
    let body = filter::render_jsm_articles(&JsmPageOut {
        values: &values,
        start: q.start,
        limit: q.limit,
        is_last_page,
        base: &base,
        next: next.as_deref(),
        prev: prev.as_deref(),
    });
    tracing::Span::current().record("filter.removed", walk.removed);
    Ok(Answer {
        body,
        route: "jsm_articles",
        removed: walk.removed,
        ..Default::default()
    })
}

/// Walks upstream pages from offset 0 until `start + limit + 1` visible articles were seen,
/// upstream's last page, or [`MAX_UPSTREAM_CALLS`].
async fn walk(
    app: &App,
    orgs: &OrgSet,
    q: &JsmArticlesQuery,
    request_id: &str,
) -> Result<Walk, ProxyError> {
    let (start, end) = window(q);
    let mut walk = Walk::default();
    let mut seen: HashSet<ContentId> = HashSet::new();
    let mut offset = 0u32;
    for _ in 0..MAX_UPSTREAM_CALLS {
        let body = app
            .upstream
            .get_site_json(&upstream_path(q, offset), request_id)
            .await
            .map_err(|e| upstream_error(q, e))?;
        let scan = filter::scan_jsm_articles(&body)?;
        let (sent, last) = (scan.upstream_count(), scan.is_last_page());
        walk.removed += scan.dropped();
        let ids: Vec<ContentId> = scan.articles().iter().map(|a| a.page_id.clone()).collect();
        let metas = if ids.is_empty() {
            HashMap::new()
        } else {
            app.metadata.lookup(&app.upstream, &ids, request_id).await?
        };
        walk.absorb(scan.into_articles(), start..end, &mut seen, |article| {
            metas
                .get(&article.page_id)
                .is_some_and(|meta| decide(app, orgs, meta, article))
        });
        if last {
            walk.exhausted = true;
            break;
        }
        // An upstream "not last" page with no values cannot be walked past.
        let Ok(sent) = u32::try_from(sent) else { break };
        if walk.visible > end || sent == 0 {
            break;
        }
        offset = offset.saturating_add(sent);
    }
    Ok(walk)
}

/// Visible when the policy shows the page and the space JSM names is the page's own KB space.
fn decide(app: &App, orgs: &OrgSet, meta: &ItemMeta, article: &JsmArticle) -> bool {
    if !app.decide(orgs, meta).is_visible() {
        return false;
    }
    let same_space = meta.space.as_ref() == Some(&article.space_key);
    if !same_space {
        app.hidden(&article.page_id, "jsm_space_mismatch");
    }
    same_space && app.policy.spaces.contains(&article.space_key)
}

/// The upstream request, built from the typed query only: `query`, `highlight`, the walk's
/// `start` and `limit` = [`UPSTREAM_PAGE`].
fn upstream_path(q: &JsmArticlesQuery, start: u32) -> String {
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("query", &q.query)
        .append_pair("highlight", if q.highlight { "true" } else { "false" })
        .append_pair("start", &start.to_string())
        .append_pair("limit", &UPSTREAM_PAGE.to_string())
        .finish();
    match &q.service_desk {
        // 1–20 digits: nothing to escape in a path segment.
        Some(desk) => format!(
            "/rest/servicedeskapi/servicedesk/{}/knowledgebase/article?{query}",
            desk.as_str()
        ),
        None => format!("/rest/servicedeskapi/knowledgebase/article?{query}"),
    }
}

/// Upstream failures: a service desk upstream does not know (or hides) is the uniform 404;
/// anything else is kbgate's 502/504.
fn upstream_error(q: &JsmArticlesQuery, e: UpstreamError) -> ProxyError {
    if q.service_desk.is_some() && e.is_missing() {
        ProxyError::NotFound
    } else {
        ProxyError::Upstream(e)
    }
}

/// The ids of the window's articles whose excerpt may be shown. Articles with an empty
/// excerpt need no check. Any failure withholds every excerpt (the answer loses text, never
/// gains another organization's).
async fn checked_excerpts(
    app: &App,
    orgs: &OrgSet,
    window: &[JsmArticle],
    request_id: &str,
) -> HashSet<ContentId> {
    let ids: Vec<&ContentId> = window
        .iter()
        .filter(|a| !a.excerpt.is_empty())
        .map(|a| &a.page_id)
        .collect();
    if ids.is_empty() {
        return HashSet::new();
    }
    let body = match app
        .upstream
        .get_json(&storage_search_path(&ids), request_id)
        .await
    {
        Ok(body) => body,
        Err(e) => {
            tracing::warn!(
                reason = "excerpt_check_failed",
                upstream.error = e.kind(),
                "JSM excerpts withheld"
            );
            return HashSet::new();
        }
    };
    let scan = match filter::scan_search(&body) {
        Ok(scan) => scan,
        Err(e) => {
            tracing::warn!(reason = "excerpt_check_unreadable", error = %e, "JSM excerpts withheld");
            return HashSet::new();
        }
    };
    let decided: HashSet<&ContentId> = ids.iter().copied().collect();
    let is_visible = |id: &ContentId| decided.contains(id);
    let allowed =
        body_rewrite::excerpts_allowed(app, orgs, &scan, &body, &is_visible, request_id).await;
    scan.results()
        .iter()
        .zip(allowed)
        .filter(|(_, ok)| *ok)
        .filter_map(|(r, _)| r.meta().map(|m| m.id.clone()))
        .filter(|id| decided.contains(id))
        .collect()
}

/// `/search?…` for the storage bodies (and metadata) of `ids` — at most 100 page ids, each
/// 1–20 digits, so the CQL needs no quoting.
fn storage_search_path(ids: &[&ContentId]) -> String {
    let list: Vec<&str> = ids.iter().map(|id| id.as_str()).collect();
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("cql", &format!("id in ({})", list.join(",")))
        .append_pair("limit", &ids.len().clamp(1, 100).to_string())
        .append_pair("excerpt", "none")
        .append_pair(
            "expand",
            "content.body.storage,content.metadata.labels,content.ancestors,content.space",
        )
        .finish();
    format!("/search?{query}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::route::ServiceDeskId;

    fn query(desk: Option<&str>, highlight: bool) -> JsmArticlesQuery {
        JsmArticlesQuery {
            service_desk: desk.and_then(ServiceDeskId::new),
            query: "reset & \"vpn\" space=ENG".into(),
            start: 7,
            limit: 3,
            highlight,
        }
    }

    #[test]
    fn the_upstream_request_is_built_from_the_typed_query_with_the_walks_paging() {
        assert_eq!(
            upstream_path(&query(None, false), 0),
            "/rest/servicedeskapi/knowledgebase/article?query=reset+%26+%22vpn%22+space%3DENG&highlight=false&start=0&limit=100"
        );
        assert_eq!(
            upstream_path(&query(Some("12"), true), 200),
            "/rest/servicedeskapi/servicedesk/12/knowledgebase/article?query=reset+%26+%22vpn%22+space%3DENG&highlight=true&start=200&limit=100"
        );
    }

    #[test]
    fn only_a_service_desks_404_or_403_is_the_uniform_404() {
        let status = |s| UpstreamError::Status(s);
        assert!(matches!(
            upstream_error(
                &query(Some("2"), false),
                status(http::StatusCode::NOT_FOUND)
            ),
            ProxyError::NotFound
        ));
        assert!(matches!(
            upstream_error(
                &query(Some("2"), false),
                status(http::StatusCode::FORBIDDEN)
            ),
            ProxyError::NotFound
        ));
        assert!(matches!(
            upstream_error(&query(None, false), status(http::StatusCode::NOT_FOUND)),
            ProxyError::Upstream(_)
        ));
        assert!(matches!(
            upstream_error(
                &query(Some("2"), false),
                status(http::StatusCode::INTERNAL_SERVER_ERROR)
            ),
            ProxyError::Upstream(_)
        ));
    }

    fn article(id: &str) -> JsmArticle {
        JsmArticle {
            page_id: ContentId::new(id).unwrap(),
            space_key: crate::ids::SpaceKey::new("KB").unwrap(),
            title: format!("title {id}"),
            excerpt: String::new(),
        }
    }

    /// Feeds upstream pages of ids to a walk the way `walk` does (stopping once
    /// `end + 1` visible articles were seen, or after `max_calls` pages); "odd" ids are hidden.
    fn walk_pages(pages: &[&[&str]], start: usize, end: usize, max_calls: usize) -> Walk {
        let mut walk = Walk::default();
        let mut seen = HashSet::new();
        for (i, page) in pages.iter().take(max_calls).enumerate() {
            let articles = page.iter().map(|id| article(id)).collect();
            walk.absorb(articles, start..end, &mut seen, |a| {
                a.page_id.as_str().parse::<u64>().unwrap() % 2 == 0
            });
            if i + 1 == pages.len() {
                walk.exhausted = true;
                break;
            }
            if walk.visible > end {
                break;
            }
        }
        walk
    }

    fn window_ids(walk: &Walk) -> Vec<&str> {
        walk.window.iter().map(|a| a.page_id.as_str()).collect()
    }

    #[test]
    fn the_window_counts_only_visible_articles_across_upstream_pages() {
        let pages: &[&[&str]] = &[&["1", "2", "3", "4"], &["5", "6", "8"], &["9", "10", "12"]];
        let first = walk_pages(pages, 0, 2, 10);
        assert_eq!(window_ids(&first), ["2", "4"]);
        assert!(!first.is_last_page(2), "6 is visible after the window");
        assert_eq!(first.removed, 3, "1, 3 and 5 were hidden");
        let middle = walk_pages(pages, 2, 4, 10);
        assert_eq!(window_ids(&middle), ["6", "8"]);
        assert!(!middle.is_last_page(4));
        let last = walk_pages(pages, 4, 6, 10);
        assert_eq!(window_ids(&last), ["10", "12"]);
        assert!(last.exhausted && last.is_last_page(6));
        let past = walk_pages(pages, 8, 10, 10);
        assert!(past.window.is_empty() && past.is_last_page(10));
    }

    #[test]
    fn a_repeated_page_id_is_shown_once() {
        let pages: &[&[&str]] = &[&["2", "4"], &["4", "6", "2"]];
        let walk = walk_pages(pages, 0, 10, 10);
        assert_eq!(window_ids(&walk), ["2", "4", "6"]);
        assert_eq!((walk.visible, walk.removed), (3, 2));
        assert!(walk.is_last_page(10));
    }

    #[test]
    fn a_walk_cut_short_by_the_bound_is_never_the_last_page() {
        let pages: &[&[&str]] = &[&["1", "3"], &["5", "2"], &["4", "6"]];
        let bounded = walk_pages(pages, 0, 5, 2);
        assert_eq!(window_ids(&bounded), ["2"]);
        assert!(!bounded.exhausted && !bounded.is_last_page(5));
        let full = walk_pages(pages, 0, 5, 10);
        assert!(full.is_last_page(5));
        assert_eq!(window_ids(&full), ["2", "4", "6"]);
    }

    #[test]
    fn the_excerpt_check_asks_for_exactly_the_articles_storage_bodies() {
        let a = ContentId::new("100025").unwrap();
        let b = ContentId::new("100004").unwrap();
        let path = storage_search_path(&[&a, &b]);
        assert_eq!(
            path,
            "/search?cql=id+in+%28100025%2C100004%29&limit=2&excerpt=none&expand=content.body.storage%2Ccontent.metadata.labels%2Ccontent.ancestors%2Ccontent.space"
        );
    }
}
