//! The life of one API request (DESIGN.md §2), read top to bottom:
//! authenticate → resolve organizations → classify the route → build the upstream request →
//! forward → filter. Each step is one call into its own module; any failure becomes a
//! [`ProxyError`], mapped to an answer in exactly one place ([`error::to_response`]).
//!
//! Nothing from upstream reaches the client except through `filter::render_*`.

mod body_rewrite;
mod children;
mod compose;
mod download;
pub mod error;
mod jsm;
mod links;
mod lists;
pub(crate) mod site;
mod spaces;
mod upstream_request;
pub mod v2;

use http::Request;

use crate::app::App;
use crate::confluence::UpstreamError;
use crate::filter::{self, ContentLinks, SearchLinks};
use crate::ids::{ContentId, IdMap};
use crate::policy::cql::{self, UserCql, Wrapped};
use crate::policy::{ItemMeta, OrgSet, Visibility};
use crate::route::{self, ContentQuery, LabelsQuery, Route, SearchQuery};

use body_rewrite::BodyMode;
pub use error::ProxyError;
pub use links::Links;
use lists::{ListRequest, Relation};

/// What a successful request produced: the filtered JSON and a few facts for the request log.
#[derive(Default)]
pub struct Answer {
    /// The filtered JSON body.
    pub body: Vec<u8>,
    /// The route name, for logs and metrics (set by [`dispatch`] from the route).
    pub route: &'static str,
    /// How many items the filter removed, for logs.
    pub removed: usize,
    /// kbgate's URL of the next page, sent as `Link: <…>; rel="next"` (v2 paging).
    pub link_next: Option<String>,
    /// A streamed download instead of `body` (attachment bytes).
    pub stream: Option<download::Streamed>,
}

/// Serves one API request. `req`'s body is never read: allowed routes are GET/HEAD only.
pub async fn handle<B>(
    app: &App,
    req: &Request<B>,
    request_id: &str,
) -> Result<Answer, ProxyError> {
    let identity = crate::login::authenticate(app, req.headers()).await?;
    let orgs = resolve_orgs(app, &identity).await?;
    let route = route::classify_for(app.site, req.method(), req.uri())?;
    dispatch(app, &orgs, route, request_id).await
}

/// Step 2: the caller's organizations (recorded on the request span).
pub(crate) async fn resolve_orgs(
    app: &App,
    identity: &crate::auth::Identity,
) -> Result<OrgSet, ProxyError> {
    let orgs = app
        .orgs
        .resolve(identity)
        .await
        .map_err(ProxyError::Orgs)?
        .orgs;
    let span = tracing::Span::current();
    if !span.is_disabled() {
        span.record("orgs", orgs.joined());
    }
    Ok(orgs)
}

/// Steps 4–6 for a classified route and a caller's organizations. The KB site calls this too,
/// so its pages are built only from answers the filter produced.
pub(crate) async fn dispatch(
    app: &App,
    orgs: &OrgSet,
    route: Route,
    request_id: &str,
) -> Result<Answer, ProxyError> {
    let name = route.name();
    tracing::Span::current().record("route", name);
    let answer = match route {
        Route::Search(query) => search(app, orgs, &query, request_id).await,
        Route::Content(query) => content(app, orgs, &query, request_id).await,
        Route::ContentSearch(query) => {
            content_list(app, orgs, &ListRequest::search(&query)?, request_id).await
        }
        Route::ContentList(query) => {
            content_list(app, orgs, &ListRequest::listing(&query)?, request_id).await
        }
        Route::ChildPages(query) => {
            require_visible(app, orgs, &query.id, request_id).await?;
            let list = ListRequest::page_tree(&query, Relation::Child)?;
            content_list(app, orgs, &list, request_id).await
        }
        Route::DescendantPages(query) => {
            require_visible(app, orgs, &query.id, request_id).await?;
            let list = ListRequest::page_tree(&query, Relation::Descendant)?;
            content_list(app, orgs, &list, request_id).await
        }
        Route::Labels(query) => labels(app, orgs, &query, request_id).await,
        Route::Spaces(query) => spaces::spaces(app, orgs, &query, request_id).await,
        Route::Space(query) => spaces::space(app, orgs, &query, request_id).await,
        Route::ChildMap(q) => children::child_map(app, orgs, &q, false, request_id).await,
        Route::DescendantMap(q) => children::child_map(app, orgs, &q, true, request_id).await,
        Route::ChildFiles(q) => children::child_files(app, orgs, &q, request_id).await,
        Route::SpaceContent(q) => children::space_content(app, orgs, &q, request_id).await,
        Route::Download(q) => download::download(app, orgs, &q, request_id).await,
        Route::AttachmentDownload(q) => download::by_id(app, orgs, &q, request_id).await,
        Route::V2(query) => v2::handle(app, orgs, &query, request_id).await,
        Route::JsmArticles(q) => jsm::articles(app, orgs, &q, request_id).await,
    }?;
    Ok(Answer {
        route: name,
        ..answer
    })
}

/// Refuses request bodies (GET/HEAD carry none), two `Host` headers, an HTTP/1.1 request
/// without one, and absolute-form targets naming another host (threats H1, H2). Every route
/// (API, KB site, sign-in) goes through this first ([`App::handle`]).
pub fn check_framing<B>(req: &Request<B>) -> Result<(), ProxyError> {
    let h = req.headers();
    let has_body = h.contains_key(http::header::TRANSFER_ENCODING)
        || h.get(http::header::CONTENT_LENGTH)
            .is_some_and(|v| v.as_bytes() != b"0");
    if has_body {
        return Err(ProxyError::RequestBody);
    }
    let hosts = h.get_all(http::header::HOST).iter().count();
    let http11 = req.version() == http::Version::HTTP_11;
    if hosts > 1 || (hosts == 0 && http11 && req.uri().authority().is_none()) {
        return Err(ProxyError::AmbiguousHost);
    }
    if req.uri().authority().is_some() {
        let host = h.get(http::header::HOST).and_then(|v| v.to_str().ok());
        if host != req.uri().authority().map(|a| a.as_str()) {
            return Err(ProxyError::AmbiguousHost);
        }
    }
    Ok(())
}

async fn search(
    app: &App,
    orgs: &OrgSet,
    q: &SearchQuery,
    request_id: &str,
) -> Result<Answer, ProxyError> {
    let user_cql = UserCql::parse(&q.cql)?;
    let self_link = app.links.search(&user_cql.to_cql(), q.start, q.limit);
    let wrapped = match cql::wrap(&app.policy, orgs, &user_cql) {
        Wrapped::Query(wrapped) => wrapped,
        Wrapped::MatchesNothing => {
            let body = links::empty_search(q.start, q.limit, &app.links.api_base(), &self_link);
            return Ok(Answer {
                body,
                route: "search",
                removed: 0,
                ..Default::default()
            });
        }
    };
    let upstream_path = upstream_request::search(&wrapped, q);
    let body = app
        .upstream
        .get_json(&upstream_path, request_id)
        .await
        .map_err(lists::search_error)?;

    let scan = filter::scan_search(&body)?;
    let own = scan.results().iter().filter_map(|r| r.meta());
    let referenced: Vec<ContentId> = scan.referenced_ids().cloned().collect();
    let decisions = decide(app, orgs, own, &referenced, request_id).await;

    let next_link = scan.has_next().then(|| {
        app.links
            .search(&user_cql.to_cql(), q.start.saturating_add(q.limit), q.limit)
    });
    let links = SearchLinks {
        base: &app.links.api_base(),
        self_link: &self_link,
        next_link: next_link.as_deref(),
    };
    let is_visible = |id: &ContentId| decisions.is_visible(id);
    let excerpts =
        body_rewrite::excerpts_allowed(app, orgs, &scan, &body, &is_visible, request_id).await;
    let excerpt_ok = |i: usize| excerpts.get(i).copied().unwrap_or(false);
    let rendered = filter::render_search_with(&scan, &body, &is_visible, &excerpt_ok, &links)?;
    tracing::Span::current().record("filter.removed", rendered.removed);
    Ok(Answer {
        body: rendered.body,
        route: "search",
        removed: rendered.removed,
        ..Default::default()
    })
}

/// Both content-list routes: the same wrapped CQL upstream call and the same post-filter.
async fn content_list(
    app: &App,
    orgs: &OrgSet,
    list: &ListRequest,
    request_id: &str,
) -> Result<Answer, ProxyError> {
    let self_link = list.self_link(&app.links);
    let wrapped = match cql::wrap(&app.policy, orgs, &list.cql) {
        Wrapped::Query(wrapped) => wrapped,
        Wrapped::MatchesNothing => {
            let body = links::empty_list(list.start, list.limit, &app.links.api_base(), &self_link);
            return Ok(Answer {
                body,
                route: list.route(),
                removed: 0,
                ..Default::default()
            });
        }
    };
    let upstream_path =
        upstream_request::content_list(&wrapped, list.start, list.limit, &list.expand);
    let body = app
        .upstream
        .get_json(&upstream_path, request_id)
        .await
        .map_err(lists::search_error)?;

    let scan = filter::scan_list(&body)?;
    let referenced: Vec<ContentId> = scan.referenced_ids().cloned().collect();
    let decisions = decide(app, orgs, scan.items(), &referenced, request_id).await;
    let next_link = list.next_link(&app.links, &scan);
    let links = SearchLinks {
        base: &app.links.api_base(),
        self_link: &self_link,
        next_link: next_link.as_deref(),
    };
    let rendered = filter::render_list(&scan, &body, &|id| decisions.is_visible(id), &links)?;
    tracing::Span::current().record("filter.removed", rendered.removed);
    Ok(Answer {
        body: rendered.body,
        route: list.route(),
        removed: rendered.removed,
        ..Default::default()
    })
}

async fn content(
    app: &App,
    orgs: &OrgSet,
    q: &ContentQuery,
    request_id: &str,
) -> Result<Answer, ProxyError> {
    let (answer, _) = content_for(app, orgs, q, BodyMode::Api, request_id).await?;
    Ok(answer)
}

/// `content/{id}` with its body rewritten for `mode`, and the site's listing stubs.
async fn content_for(
    app: &App,
    orgs: &OrgSet,
    q: &ContentQuery,
    mode: BodyMode,
    request_id: &str,
) -> Result<(Answer, Vec<crate::filter::storage::SiteListing>), ProxyError> {
    let upstream_path = upstream_request::content(q);
    let body = app
        .upstream
        .get_json(&upstream_path, request_id)
        .await
        .map_err(missing_on_404)?;

    let scan = filter::scan_content(&body)?;
    if scan.meta().id != q.id {
        return Err(ProxyError::UpstreamMismatch);
    }
    let referenced: Vec<ContentId> = scan.referenced_ids().cloned().collect();
    let decisions = decide(
        app,
        orgs,
        std::iter::once(scan.meta()),
        &referenced,
        request_id,
    )
    .await;
    if !decisions.is_visible(&q.id) {
        return Err(ProxyError::NotFound);
    }
    let (rewritten, listings) = match scan.storage_body(&body)? {
        Some(xhtml) => {
            let meta = scan.meta();
            let (body, listings) =
                body_rewrite::rewrite(app, orgs, &xhtml, meta, mode, request_id).await?;
            (Some(body), listings)
        }
        None => (None, Vec::new()),
    };
    let self_link = app.links.content(q);
    let links = ContentLinks {
        base: &app.links.api_base(),
        self_link: &self_link,
    };
    let visible = |id: &ContentId| decisions.is_visible(id);
    let body = filter::render_content(&scan, &body, &visible, &links, rewritten.as_deref())?;
    let space = scan.meta().space.clone();
    let body = compose::expansions(app, orgs, q, space.as_ref(), body, request_id).await?;
    let answer = Answer {
        body,
        route: "content",
        removed: 0,
        ..Default::default()
    };
    Ok((answer, listings))
}

/// Decides one page from its metadata (cached within the bound, else looked up): a hidden page
/// and one upstream does not know are both [`ProxyError::NotFound`], the uniform 404.
async fn require_visible(
    app: &App,
    orgs: &OrgSet,
    id: &ContentId,
    request_id: &str,
) -> Result<(), ProxyError> {
    let metas = app
        .metadata
        .lookup(&app.upstream, std::slice::from_ref(id), request_id)
        .await?;
    match metas.get(id).map(|meta| app.decide(orgs, meta)) {
        Some(Visibility::Visible(_)) => Ok(()),
        Some(Visibility::Hidden(_)) | None => Err(ProxyError::NotFound),
    }
}

/// Maps upstream failures of a call about one item (a page, a space): missing or forbidden
/// (also when trashed or restricted since the decision) is the uniform 404, anything else a
/// 502/504.
fn missing_on_404(e: UpstreamError) -> ProxyError {
    if e.is_missing() {
        ProxyError::NotFound
    } else {
        ProxyError::Upstream(e)
    }
}

/// `content/{id}/label`: the page decided first, then its labels with kbgate's links.
async fn labels(
    app: &App,
    orgs: &OrgSet,
    q: &LabelsQuery,
    request_id: &str,
) -> Result<Answer, ProxyError> {
    require_visible(app, orgs, &q.id, request_id).await?;
    let body = app
        .upstream
        .get_json(&upstream_request::labels(q), request_id)
        .await
        .map_err(missing_on_404)?;
    let scan = filter::scan_label_list(&body)?;
    let self_link = app.links.labels(q, q.start);
    let next_link = links::next_start(q.start, scan.count(), scan.has_next())
        .map(|start| app.links.labels(q, start));
    let links = SearchLinks {
        base: &app.links.api_base(),
        self_link: &self_link,
        next_link: next_link.as_deref(),
    };
    let body = filter::render_label_list(&scan, &body, &links)?;
    Ok(Answer {
        body,
        route: "labels",
        removed: 0,
        ..Default::default()
    })
}

/// Most items [`decide`] reserves room for from an iterator's own estimate.
const MAX_DECISIONS_RESERVED: usize = 1024;

/// Visibility of every content id a response mentions.
struct Decisions(IdMap<Visibility>);

impl Decisions {
    fn is_visible(&self, id: &ContentId) -> bool {
        self.0.get(id).is_some_and(|v| v.is_visible())
    }
}

/// Decides the items described inline, then looks up and decides every other referenced id.
/// Ids with no metadata stay undecided, which [`Decisions::is_visible`] treats as hidden.
async fn decide<'m>(
    app: &App,
    orgs: &OrgSet,
    described: impl Iterator<Item = &'m ItemMeta>,
    referenced: &[ContentId],
    request_id: &str,
) -> Decisions {
    // Room for every id up front: growing the map rehashed it four times per search.
    let (low, high) = described.size_hint();
    let room = high.unwrap_or(low).min(MAX_DECISIONS_RESERVED) + referenced.len();
    let mut decisions = IdMap::with_capacity_and_hasher(room, Default::default());
    for meta in described {
        let visibility = app.decide(orgs, meta);
        app.metadata.remember(meta).await;
        decisions.insert(meta.id.clone(), visibility);
    }
    let unknown: Vec<ContentId> = referenced
        .iter()
        .filter(|id| !decisions.contains_key(*id))
        .cloned()
        .collect();
    if !unknown.is_empty() {
        match app
            .metadata
            .lookup(&app.upstream, &unknown, request_id)
            .await
        {
            Ok(metas) => {
                for (id, meta) in metas {
                    decisions.insert(id, app.decide(orgs, &meta));
                }
            }
            // Undecided ids are hidden: the answer loses ancestors, never gains secrets.
            Err(e) => tracing::warn!(
                reason = "metadata_lookup_failed",
                upstream.error = e.kind(),
                "referenced items hidden"
            ),
        }
    }
    Decisions(decisions)
}
