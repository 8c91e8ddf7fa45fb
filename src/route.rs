//! The allowlisted API route table: method + URI → a typed [`Route`], or a typed refusal.
//!
//! This is step 3 of DESIGN.md §2. [`classify`] is the only way a client request becomes an
//! upstream request: it canonicalizes the path with [`canonicalize`] (the one canonicalizer,
//! `path.rs`), matches the canonical segments case-sensitively against the route table, and
//! parses the query against that route's parameter allowlist (`query.rs`, `list.rs`, `tree.rs`,
//! `jsm.rs`, `v2.rs`). The forwarded URI is built later **from the [`Route`]**, never from the
//! raw input, so the decision and the forwarded request come from the same data (threats.md
//! §0.8, H3).
//!
//! Guarantees: only `GET` and `HEAD` (exact, upper case) pass; only the routes of README's
//! table match — Cloud v1 under `/wiki/rest/api` (search, content, its children, descendants,
//! labels, attachments and comments, spaces and space content), downloads under
//! `/wiki/download/attachments`, v2 under `/wiki/api/v2`, JSM KB search under
//! `/rest/servicedeskapi`; on Data Center ([`Site::DataCenter`]) the v1 routes and downloads
//! without `/wiki` and nothing under `/wiki`. Every unknown parameter or expansion is refused,
//! never dropped; rendered body formats are refused.
//!
//! Deliberately not done: the URI's scheme and authority are ignored (HTTP/2 always carries
//! them; the `Host` check belongs to the server), CQL is not inspected (the `policy` module
//! wraps it), and no upstream URI is built here.

mod jsm;
mod list;
mod path;
mod queries;
mod query;
mod tree;
pub mod v2;

pub use jsm::{
    JsmArticlesQuery, ServiceDeskId, DEFAULT_JSM_LIMIT, MAX_JSM_LIMIT, MAX_JSM_QUERY_BYTES,
    MAX_JSM_START,
};
pub use list::MAX_LABEL_LIMIT;
pub use path::{canonicalize, CanonicalPath, PathError, MAX_PATH_BYTES, MAX_SEGMENTS};
pub use queries::*;
pub use query::{QueryError, DEFAULT_LIMIT, MAX_CQL_BYTES, MAX_LIMIT, MAX_QUERY_BYTES, MAX_START};
pub use tree::{
    AttachmentDownloadQuery, ChildFilesQuery, ChildMapQuery, ChildType, DownloadQuery,
    SpaceContentQuery,
};

use crate::ids::SpaceKey;

/// A request kbgate agreed to serve, with every parameter already validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `GET /wiki/rest/api/search`
    Search(SearchQuery),
    /// `GET /wiki/rest/api/content/{id}`
    Content(ContentQuery),
    /// `GET /wiki/rest/api/content/search`: CQL search answered as a content list.
    ContentSearch(ContentSearchQuery),
    /// `GET /wiki/rest/api/content`: the content listing (by space, type and title).
    ContentList(ContentListQuery),
    /// `GET /wiki/rest/api/content/{id}/child/page`: a page's child pages, as a content list.
    ChildPages(PageTreeQuery),
    /// `GET /wiki/rest/api/content/{id}/descendant/page`: every page below a page.
    DescendantPages(PageTreeQuery),
    /// `GET /wiki/rest/api/content/{id}/label`: a page's labels.
    Labels(LabelsQuery),
    /// `GET /wiki/rest/api/space`: the spaces (for a customer: the KB spaces only).
    Spaces(SpacesQuery),
    /// `GET /wiki/rest/api/space/{key}`: one space.
    Space(SpaceQuery),
    /// `GET /wiki/rest/api/content/{id}/child`: the map of a page's children by type.
    ChildMap(ChildMapQuery),
    /// `GET /wiki/rest/api/content/{id}/descendant`: the map of a page's descendants (pages).
    DescendantMap(ChildMapQuery),
    /// `GET /wiki/rest/api/content/{id}/child/attachment` or `child/comment`.
    ChildFiles(ChildFilesQuery),
    /// `GET /wiki/rest/api/space/{key}/content[/{type}]`: a space's pages and blog posts.
    SpaceContent(SpaceContentQuery),
    /// `GET /wiki/download/attachments/{pageId}/{file}`: an attachment's bytes.
    Download(DownloadQuery),
    /// `GET /wiki/rest/api/content/{pageId}/child/attachment/{id}/download`: the same by id.
    AttachmentDownload(AttachmentDownloadQuery),
    /// `GET /wiki/api/v2/…`: a Confluence Cloud REST v2 route (see [`v2`]).
    V2(v2::V2Request),
    /// `GET /rest/servicedeskapi/[servicedesk/{id}/]knowledgebase/article`: JSM KB search.
    JsmArticles(JsmArticlesQuery),
}

impl Route {
    /// A stable name for logs and metrics: `"search"`, `"content"`, `"content_search"`,
    /// `"content_list"`, `"child_pages"`, `"descendant_pages"`, `"labels"`, `"spaces"` or
    /// `"space"`.
    pub fn name(&self) -> &'static str {
        match self {
            Route::Search(_) => "search",
            Route::Content(_) => "content",
            Route::ContentSearch(_) => "content_search",
            Route::ContentList(_) => "content_list",
            Route::ChildPages(_) => "child_pages",
            Route::DescendantPages(_) => "descendant_pages",
            Route::Labels(_) => "labels",
            Route::Spaces(_) => "spaces",
            Route::Space(_) => "space",
            Route::ChildMap(_) => "child_map",
            Route::DescendantMap(_) => "descendant_map",
            Route::ChildFiles(q) => match q.kind {
                ChildType::Comment => "child_comments",
                _ => "child_attachments",
            },
            Route::SpaceContent(_) => "space_content",
            Route::Download(_) => "download",
            Route::AttachmentDownload(_) => "attachment_download",
            Route::V2(r) => r.name(),
            Route::JsmArticles(_) => "jsm_articles",
        }
    }
}

/// Why a request matched no route. Suggested statuses: 405, 404, 400, 400.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    #[error("only GET and HEAD are allowed")]
    MethodNotAllowed,
    #[error("no such route")]
    NotFound,
    #[error("path refused: {0}")]
    BadPath(#[source] PathError),
    #[error("query refused: {0}")]
    BadQuery(#[source] QueryError),
}

impl RouteError {
    /// A stable snake_case name for logs and metrics, e.g. `path_dot_segment`.
    pub fn reason(&self) -> &'static str {
        match self {
            RouteError::MethodNotAllowed => "method_not_allowed",
            RouteError::NotFound => "not_found",
            RouteError::BadPath(e) => match e {
                PathError::NotAbsolute => "path_not_absolute",
                PathError::TooLong => "path_too_long",
                PathError::TooManySegments => "path_too_many_segments",
                PathError::EmptySegment => "path_empty_segment",
                PathError::DotSegment => "path_dot_segment",
                PathError::Backslash => "path_backslash",
                PathError::Semicolon => "path_semicolon",
                PathError::ControlChar => "path_control_char",
                PathError::NonAscii => "path_non_ascii",
                PathError::InvalidChar => "path_invalid_char",
                PathError::BadPercent => "path_bad_percent",
                PathError::EncodedSlash => "path_encoded_slash",
                PathError::EncodedNul => "path_encoded_nul",
                PathError::DoubleEncoding => "path_double_encoding",
                PathError::QueryOrFragment => "path_query_or_fragment",
                PathError::NotUtf8 => "path_not_utf8",
            },
            RouteError::BadQuery(e) => match e {
                QueryError::UnknownParameter(_) => "query_unknown_parameter",
                QueryError::Duplicate(_) => "query_duplicate_parameter",
                QueryError::BadValue { .. } => "query_bad_value",
                QueryError::Missing(_) => "query_missing_parameter",
                QueryError::TooLong => "query_too_long",
                QueryError::NotUtf8 => "query_not_utf8",
                QueryError::BadEscape => "query_bad_escape",
                QueryError::RenderedFormat(_) => "query_rendered_format",
            },
        }
    }
}

/// Classifies a request: method allowlist, then the canonical path, then the query.
///
/// Any method other than exactly `GET` or `HEAD` (including the extension method `get`) is
/// [`RouteError::MethodNotAllowed`], whatever the path.
pub fn classify(method: &http::Method, uri: &http::Uri) -> Result<Route, RouteError> {
    classify_for(Site::Cloud, method, uri)
}

/// Which Confluence a client addresses through kbgate: the paths differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Site {
    /// Confluence Cloud: REST under `/wiki/rest/api`, v2 under `/wiki/api/v2`, downloads under
    /// `/wiki/download`.
    Cloud,
    /// Confluence Data Center: the same v1 routes under `/rest/api` and downloads under
    /// `/download`, no `/wiki` context and no v2; any `/wiki/…` path is a 404.
    DataCenter,
}

/// [`classify`] for the given site. JSM routes (`/rest/servicedeskapi`) are the same on both.
pub fn classify_for(
    site: Site,
    method: &http::Method,
    uri: &http::Uri,
) -> Result<Route, RouteError> {
    if method != http::Method::GET && method != http::Method::HEAD {
        return Err(RouteError::MethodNotAllowed);
    }
    let path = canonicalize(uri.path()).map_err(RouteError::BadPath)?;
    let mut segments: Vec<&str> = path.segments().iter().map(|s| &**s).collect();
    if site == Site::DataCenter {
        match segments.as_slice() {
            ["wiki", ..] => return Err(RouteError::NotFound),
            ["rest", "api", ..] | ["download", ..] => segments.insert(0, "wiki"),
            _ => {}
        }
    }
    match segments.as_slice() {
        ["wiki", "rest", "api", "search"] => {
            let query = query::parse_search(uri.query()).map_err(RouteError::BadQuery)?;
            Ok(Route::Search(query))
        }
        ["wiki", "rest", "api", "content"] => {
            let query = list::parse_content_list(uri.query()).map_err(RouteError::BadQuery)?;
            Ok(Route::ContentList(query))
        }
        ["wiki", "rest", "api", "content", "search"] => {
            let query = list::parse_content_search(uri.query()).map_err(RouteError::BadQuery)?;
            Ok(Route::ContentSearch(query))
        }
        ["wiki", "rest", "api", "content", id, "child", "page"] => {
            let id = query::numeric_content_id(id).ok_or(RouteError::NotFound)?;
            let query = list::parse_page_tree(id, uri.query()).map_err(RouteError::BadQuery)?;
            Ok(Route::ChildPages(query))
        }
        ["wiki", "rest", "api", "content", id, "descendant", "page"] => {
            let id = query::numeric_content_id(id).ok_or(RouteError::NotFound)?;
            let query = list::parse_page_tree(id, uri.query()).map_err(RouteError::BadQuery)?;
            Ok(Route::DescendantPages(query))
        }
        ["wiki", "rest", "api", "content", id, "label"] => {
            let id = query::numeric_content_id(id).ok_or(RouteError::NotFound)?;
            let query = list::parse_labels(id, uri.query()).map_err(RouteError::BadQuery)?;
            Ok(Route::Labels(query))
        }
        ["wiki", "rest", "api", "space"] => {
            let query = list::parse_spaces(uri.query()).map_err(RouteError::BadQuery)?;
            Ok(Route::Spaces(query))
        }
        ["wiki", "rest", "api", "space", key] => {
            let key = SpaceKey::new(key).map_err(|_| RouteError::NotFound)?;
            list::parse_no_parameters(uri.query()).map_err(RouteError::BadQuery)?;
            Ok(Route::Space(SpaceQuery { key }))
        }
        ["wiki", "rest", "api", "content", id, "child"] => {
            let id = query::numeric_content_id(id).ok_or(RouteError::NotFound)?;
            let all = [ChildType::Page, ChildType::Attachment, ChildType::Comment];
            let query =
                tree::parse_child_map(id, uri.query(), &all).map_err(RouteError::BadQuery)?;
            Ok(Route::ChildMap(query))
        }
        ["wiki", "rest", "api", "content", id, "descendant"] => {
            let id = query::numeric_content_id(id).ok_or(RouteError::NotFound)?;
            let query = tree::parse_child_map(id, uri.query(), &[ChildType::Page])
                .map_err(RouteError::BadQuery)?;
            Ok(Route::DescendantMap(query))
        }
        ["wiki", "rest", "api", "content", id, "child", kind @ ("attachment" | "comment")] => {
            let id = query::numeric_content_id(id).ok_or(RouteError::NotFound)?;
            let kind = match *kind {
                "attachment" => ChildType::Attachment,
                _ => ChildType::Comment,
            };
            let query =
                tree::parse_child_files(id, kind, uri.query()).map_err(RouteError::BadQuery)?;
            Ok(Route::ChildFiles(query))
        }
        ["wiki", "rest", "api", "space", key, "content", rest @ ..] => {
            let key = SpaceKey::new(key).map_err(|_| RouteError::NotFound)?;
            let kind = match rest {
                [] => None,
                ["page"] => Some(ListType::Page),
                ["blogpost"] => Some(ListType::BlogPost),
                _ => return Err(RouteError::NotFound),
            };
            let query =
                tree::parse_space_content(key, kind, uri.query()).map_err(RouteError::BadQuery)?;
            Ok(Route::SpaceContent(query))
        }
        ["wiki", "rest", "api", "content", page, "child", "attachment", att, "download"] => {
            let page = query::numeric_content_id(page).ok_or(RouteError::NotFound)?;
            let attachment = tree::attachment_id(att).ok_or(RouteError::NotFound)?;
            list::parse_no_parameters(uri.query()).map_err(RouteError::BadQuery)?;
            Ok(Route::AttachmentDownload(AttachmentDownloadQuery {
                page,
                attachment,
            }))
        }
        ["wiki", "download", "attachments", page, file] => {
            let page = query::numeric_content_id(page).ok_or(RouteError::NotFound)?;
            let query = tree::parse_download(page, file, uri.query())
                .map_err(RouteError::BadQuery)?
                .ok_or(RouteError::NotFound)?;
            Ok(Route::Download(query))
        }
        ["wiki", "rest", "api", "content", id] => {
            let id = query::numeric_content_id(id).ok_or(RouteError::NotFound)?;
            let expand = query::parse_content(uri.query()).map_err(RouteError::BadQuery)?;
            Ok(Route::Content(ContentQuery { id, expand }))
        }
        ["wiki", "api", "v2", rest @ ..] => v2::classify(rest, uri.query()).map(Route::V2),
        ["rest", "servicedeskapi", "knowledgebase", "article"] => {
            let query = jsm::parse_jsm_articles(None, uri.query()).map_err(RouteError::BadQuery)?;
            Ok(Route::JsmArticles(query))
        }
        ["rest", "servicedeskapi", "servicedesk", id, "knowledgebase", "article"] => {
            let desk = ServiceDeskId::new(id).ok_or(RouteError::NotFound)?;
            let query =
                jsm::parse_jsm_articles(Some(desk), uri.query()).map_err(RouteError::BadQuery)?;
            Ok(Route::JsmArticles(query))
        }
        _ => Err(RouteError::NotFound),
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_prop;
