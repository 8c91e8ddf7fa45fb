//! The KB site's pages, each built from kbgate's own filtered API answers for the caller:
//! home, search results, an article, and the by-title link resolver.
//!
//! Guarantees: every title, excerpt, body, attachment and child comes from an answer
//! [`proxy::site::get`] produced for the caller's organizations (so hidden content was removed
//! by the filter before the site sees it); the article body is rewritten by the API path and
//! then rendered by kbgate's renderer; the only inputs taken from the request are the search
//! words (quoted into CQL by [`cql::quote`]), a start offset and a numeric id.
//!
//! Deliberately not: more than one page of each listing (the home page shows the first
//! `recent_count` recent articles and up to 50 sections per space).

use super::answers::{self, ContentAnswer, ListAnswer, SearchAnswer};
use super::model::{
    ArticleLink, ArticlePage, AttachmentLink, Chrome, HomePage, SearchHit, SearchPage,
};
use super::pages;
use super::render::{render_storage, AttachmentRef, LinkTarget, RenderContext};
use super::site::Site;
use crate::app::App;
use crate::filter::storage::SiteListing;
use crate::ids::ContentId;
use crate::policy::cql;
use crate::policy::OrgSet;
use crate::proxy::{self, ProxyError};

/// Results per search page.
pub const SEARCH_PAGE_SIZE: u32 = 10;
/// Longest search text accepted, in characters (longer is cut).
pub const MAX_QUERY_CHARS: usize = 200;
/// Highest search offset accepted.
const MAX_START: u32 = 1_000;
/// Sections listed per KB space.
const MAX_SECTIONS: u32 = 50;
/// Listing macros evaluated per article (each costs one upstream search); later ones render
/// nothing.
const MAX_LISTINGS: usize = 8;

/// A site page a path names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Page {
    /// `/`
    Home,
    /// `/search?q=&start=`
    Search { query: String, start: u32 },
    /// `/articles/{id}`
    Article(ContentId),
    /// `/articles/by-title?space=&title=[&file=]`: the article, or one of its attachments.
    ByTitle {
        space: String,
        title: String,
        file: Option<String>,
    },
    /// `/articles/…` that names no article (answered with the not-found page).
    NoSuchArticle,
}

impl Page {
    /// The page for a path and query, or `None` when the path is not the site's.
    pub fn of(path: &str, query: Option<&str>) -> Option<Page> {
        let param = |name: &str| {
            form_urlencoded::parse(query.unwrap_or("").as_bytes())
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned())
        };
        match path {
            "/" => Some(Page::Home),
            "/search" => {
                let words: String = param("q").unwrap_or_default();
                let query = words.trim().chars().take(MAX_QUERY_CHARS).collect();
                let start = param("start")
                    .and_then(|s| s.parse::<u32>().ok())
                    .unwrap_or(0)
                    .min(MAX_START);
                Some(Page::Search { query, start })
            }
            "/articles/by-title" => match (param("space"), param("title")) {
                (Some(space), Some(title)) => Some(Page::ByTitle {
                    space,
                    title,
                    file: param("file"),
                }),
                _ => Some(Page::NoSuchArticle),
            },
            _ => {
                let id = path.strip_prefix("/articles/")?;
                Some(match ContentId::new(id) {
                    Ok(id) if id.is_numeric() => Page::Article(id),
                    _ => Page::NoSuchArticle,
                })
            }
        }
    }
}

/// What a page handler produced.
pub enum Answer {
    /// A page.
    Html(String),
    /// A redirect to one of the site's paths.
    Redirect(String),
}

/// Builds `page` for a caller with `orgs`.
pub async fn answer(
    app: &App,
    site: &Site,
    orgs: &OrgSet,
    chrome: &Chrome,
    page: Page,
    request_id: &str,
) -> Result<Answer, ProxyError> {
    Ok(match page {
        Page::Home => Answer::Html(pages::home(
            chrome,
            &home(app, site, orgs, request_id).await?,
        )),
        Page::Search { query, start } => {
            let page = search(app, orgs, &query, start, request_id).await?;
            Answer::Html(pages::search(chrome, &page))
        }
        Page::Article(id) => Answer::Html(pages::article(
            chrome,
            &article(app, orgs, &id, request_id).await?,
        )),
        Page::ByTitle { space, title, file } => {
            let id = by_title(app, orgs, &space, &title, request_id).await?;
            Answer::Redirect(match file {
                Some(file) => proxy::site::download_url(app, &id, &file),
                None => answers::article_url(id.as_str()),
            })
        }
        Page::NoSuchArticle => return Err(ProxyError::NotFound),
    })
}

fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

async fn home(
    app: &App,
    site: &Site,
    orgs: &OrgSet,
    request_id: &str,
) -> Result<HomePage, ProxyError> {
    let prefix = proxy::site::api_prefix(app);
    let cql = "type = page order by lastmodified desc";
    let target = format!(
        "{prefix}/search?cql={}&limit={}&expand=content.version",
        enc(cql),
        site.recent_count
    );
    let answer = proxy::site::get(app, orgs, &target, request_id).await?;
    let found = SearchAnswer::parse(&answer.body).map_err(shape)?;
    let recent = found
        .results
        .iter()
        .filter_map(|r| {
            let c = r.content.as_ref().filter(|c| c.is_article())?;
            let when = c.version.as_ref().and_then(|v| v.when.as_deref());
            Some((
                c.link(),
                answers::day_of(when.or(r.last_modified.as_deref())),
            ))
        })
        .collect();
    let mut sections = Vec::new();
    for key in &app.policy.spaces {
        let Some(home) = proxy::site::space_home(app, orgs, key, request_id).await? else {
            continue;
        };
        let target = format!("{prefix}/content/{home}/child/page?limit={MAX_SECTIONS}");
        let answer = proxy::site::get(app, orgs, &target, request_id).await?;
        let list = ListAnswer::parse(&answer.body).map_err(shape)?;
        sections.extend(list.results.iter().map(|c| c.link()));
    }
    Ok(HomePage { recent, sections })
}

async fn search(
    app: &App,
    orgs: &OrgSet,
    query: &str,
    start: u32,
    request_id: &str,
) -> Result<SearchPage, ProxyError> {
    let mut page = SearchPage {
        query: query.to_owned(),
        hits: Vec::new(),
        first: start.saturating_add(1),
        prev_url: None,
        next_url: None,
    };
    if query.is_empty() {
        return Ok(page);
    }
    let cql = format!(
        "siteSearch ~ {} and type in (page, blogpost)",
        cql::quote(query)
    );
    let target = format!(
        "{}/search?cql={}&start={start}&limit={SEARCH_PAGE_SIZE}&expand=content.ancestors",
        proxy::site::api_prefix(app),
        enc(&cql)
    );
    let answer = proxy::site::get(app, orgs, &target, request_id).await?;
    let found = SearchAnswer::parse(&answer.body).map_err(shape)?;
    page.hits = found
        .articles()
        .map(|(r, c)| SearchHit {
            link: c.link(),
            excerpt: answers::fragments(&r.excerpt, query),
            breadcrumb: c.ancestors.iter().map(|a| a.link()).collect(),
        })
        .collect();
    let url = |start: u32| format!("/search?q={}&start={start}", enc(query));
    if start > 0 {
        page.prev_url = Some(url(start.saturating_sub(SEARCH_PAGE_SIZE)));
    }
    if found.has_next() && start.saturating_add(SEARCH_PAGE_SIZE) <= MAX_START {
        page.next_url = Some(url(start.saturating_add(SEARCH_PAGE_SIZE)));
    }
    Ok(page)
}

async fn article(
    app: &App,
    orgs: &OrgSet,
    id: &ContentId,
    request_id: &str,
) -> Result<ArticlePage, ProxyError> {
    let target = format!(
        "{}/content/{id}?expand=body.storage,ancestors,version,space,children.page,children.attachment",
        proxy::site::api_prefix(app)
    );
    let (answer, stubs) = proxy::site::article(app, orgs, &target, request_id).await?;
    let content = ContentAnswer::parse(&answer.body).map_err(shape)?;
    if content.summary.id != id.as_str() {
        return Err(ProxyError::UpstreamMismatch);
    }
    let children: Vec<ArticleLink> = content
        .children
        .as_ref()
        .and_then(|c| c.page.as_ref())
        .map(|p| p.results.iter().map(|t| t.link()).collect())
        .unwrap_or_default();
    let attachments: Vec<AttachmentLink> = content
        .children
        .as_ref()
        .and_then(|c| c.attachment.as_ref())
        .map(|list| {
            list.results
                .iter()
                .map(|a| AttachmentLink {
                    file_name: a.title.clone(),
                    url: proxy::site::download_url(app, id, &a.title),
                    size: a.extensions.as_ref().and_then(|e| e.file_size),
                })
                .collect()
        })
        .unwrap_or_default();
    // The body was rewritten for this reader: every link and image left in it names content
    // they may see. Title links resolve through the filtered listing when followed.
    let own_space = content.space_key().unwrap_or_default().to_owned();
    let by_title_url = |space: &Option<crate::ids::SpaceKey>, title: &str| {
        let space = space.as_ref().map_or(own_space.as_str(), |s| s.as_str());
        format!(
            "/articles/by-title?space={}&title={}",
            enc(space),
            enc(title)
        )
    };
    let article_url = |target: &LinkTarget| -> Option<String> {
        match target {
            LinkTarget::ById(id) => Some(answers::article_url(id.as_str())),
            LinkTarget::ByTitle { space, title } => Some(by_title_url(space, title)),
        }
    };
    let attachment_url = |a: &AttachmentRef| -> Option<String> {
        match &a.page {
            None => Some(proxy::site::download_url(app, id, &a.file_name)),
            Some(LinkTarget::ById(page)) => {
                Some(proxy::site::download_url(app, page, &a.file_name))
            }
            Some(LinkTarget::ByTitle { space, title }) => Some(format!(
                "{}&file={}",
                by_title_url(space, title),
                enc(&a.file_name)
            )),
        }
    };
    let child_pairs: Vec<(String, String)> = children
        .iter()
        .map(|c| (c.title.clone(), c.url.clone()))
        .collect();
    let mut listings = Vec::with_capacity(stubs.len().min(MAX_LISTINGS));
    for stub in stubs.iter().take(MAX_LISTINGS) {
        listings.push(match stub {
            SiteListing::Children => child_pairs.clone(),
            SiteListing::ByLabel { labels, max } => {
                // A listing that cannot be evaluated lists nothing; the article still shows.
                by_label(app, orgs, labels, *max, request_id)
                    .await
                    .unwrap_or_else(|e| {
                        tracing::info!(reason = e.reason(), "label listing left empty");
                        Vec::new()
                    })
            }
        });
    }
    let ctx = RenderContext {
        article_url: &article_url,
        attachment_url: &attachment_url,
        children: &child_pairs,
        listings: &listings,
    };
    let body_html = render_storage(content.storage(), &ctx).map_err(|e| {
        tracing::warn!(content.id = %id, error = %e, "article body not rendered");
        ProxyError::UpstreamMismatch
    })?;
    let when = content
        .summary
        .version
        .as_ref()
        .and_then(|v| v.when.as_deref());
    Ok(ArticlePage {
        title: content.summary.title.clone(),
        breadcrumb: content.summary.ancestors.iter().map(|a| a.link()).collect(),
        body_html,
        attachments,
        children,
        updated: answers::day_of(when),
    })
}

/// The visible pages carrying any of `labels` (a `contentbylabel` stub), newest first: a
/// filtered search, so the list holds only what the caller may see.
async fn by_label(
    app: &App,
    orgs: &OrgSet,
    labels: &[String],
    max: u32,
    request_id: &str,
) -> Result<Vec<(String, String)>, ProxyError> {
    let quoted: Vec<String> = labels.iter().map(|l| cql::quote(l)).collect();
    let cql = format!(
        "label in ({}) and type in (page, blogpost) order by lastmodified desc",
        quoted.join(", ")
    );
    let target = format!(
        "{}/search?cql={}&limit={max}&excerpt=none",
        proxy::site::api_prefix(app),
        enc(&cql)
    );
    let answer = proxy::site::get(app, orgs, &target, request_id).await?;
    let found = SearchAnswer::parse(&answer.body).map_err(shape)?;
    Ok(found
        .articles()
        .map(|(_, c)| (c.title.clone(), answers::article_url(&c.id)))
        .collect())
}

/// The article a by-title link names, if the caller may see it: looked up through the filtered
/// content listing (a hidden title answers like a missing one).
async fn by_title(
    app: &App,
    orgs: &OrgSet,
    space: &str,
    title: &str,
    request_id: &str,
) -> Result<ContentId, ProxyError> {
    let target = format!(
        "{}/content?spaceKey={}&title={}&type=page&limit=1",
        proxy::site::api_prefix(app),
        enc(space),
        enc(title)
    );
    let answer = proxy::site::get(app, orgs, &target, request_id).await?;
    let list = ListAnswer::parse(&answer.body).map_err(shape)?;
    let first = list.results.first().ok_or(ProxyError::NotFound)?;
    ContentId::new(&first.id).map_err(|_| ProxyError::UpstreamMismatch)
}

fn shape(e: answers::ShapeError) -> ProxyError {
    tracing::warn!(error = %e, "filtered answer not understood by the site");
    ProxyError::UpstreamMismatch
}
