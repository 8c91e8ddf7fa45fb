//! Query-string allowlists for the content-list routes: `GET /wiki/rest/api/content/search`
//! (CQL), the content listing `GET /wiki/rest/api/content` (space, type, title), a page's
//! `child/page` and `descendant/page` (paging and expansions only), a page's `label` list
//! (`start` and `limit` only), the space list (`start` and `limit` only) and a single space (no
//! parameters at all).
//!
//! Guarantees: the same strict decoding, duplicate and unknown-parameter refusals as
//! `query.rs`; `expand` accepts only `space`, `metadata.labels`, `ancestors` and `version` —
//! rendered formats are refused with [`QueryError::RenderedFormat`], every other expansion
//! (`body.storage` included: bodies in lists would need rewriting item by item) with
//! [`QueryError::BadValue`].
//!
//! Deliberately not done: Confluence's `cursor`, `cqlcontext`, `status`, `postingDay`,
//! `orderby` and `trigger` parameters are refused, not passed, and so are `parentVersion` of the
//! page-tree routes, `prefix` of the label list, and every parameter of the space routes other
//! than paging (`expand`, `spaceKey`, `type`, `status`, `label`, …); CQL is not parsed here.

use super::query::{
    pairs, parse_cql, parse_expand, parse_text, refused_expansion, set_once, unknown, QueryError,
    StartLimit, DEFAULT_LIMIT, MAX_LIMIT,
};
use super::{
    ContentListQuery, ContentSearchQuery, LabelsQuery, ListExpand, ListType, PageTreeQuery,
    SpacesQuery,
};
use crate::ids::{ContentId, SpaceKey};

/// Largest `limit` of a label list (Confluence's own default and cap).
pub const MAX_LABEL_LIMIT: u32 = 200;

/// Longest `title` accepted, in bytes (Confluence titles are at most 255 characters).
const MAX_TITLE_BYTES: usize = 1024;

/// Parses the query of `GET /wiki/rest/api/content/search`.
pub(super) fn parse_content_search(raw: Option<&str>) -> Result<ContentSearchQuery, QueryError> {
    let mut cql = None;
    let mut page = Paging::default();
    for (name, value) in pairs(raw)? {
        match name.as_str() {
            "cql" => set_once(&mut cql, "cql", parse_cql(value)?)?,
            _ if page.take(&name, &value)? => {}
            _ => return Err(unknown(&name)),
        }
    }
    Ok(ContentSearchQuery {
        cql: cql.ok_or(QueryError::Missing("cql"))?,
        start: page.page.start.unwrap_or(0),
        limit: page.page.limit.unwrap_or(DEFAULT_LIMIT),
        expand: page.expand.unwrap_or_default(),
    })
}

/// Parses the query of the content listing `GET /wiki/rest/api/content`.
pub(super) fn parse_content_list(raw: Option<&str>) -> Result<ContentListQuery, QueryError> {
    let mut space_key = None;
    let mut kind = None;
    let mut title = None;
    let mut page = Paging::default();
    for (name, value) in pairs(raw)? {
        match name.as_str() {
            "spaceKey" => {
                let key = SpaceKey::new(&value).map_err(|_| QueryError::BadValue {
                    param: "spaceKey",
                    why: "is not a space key",
                })?;
                set_once(&mut space_key, "spaceKey", key)?;
            }
            "type" => set_once(&mut kind, "type", parse_type(&value)?)?,
            "title" => set_once(&mut title, "title", parse_title(value)?)?,
            _ if page.take(&name, &value)? => {}
            _ => return Err(unknown(&name)),
        }
    }
    Ok(ContentListQuery {
        space_key,
        kind: kind.unwrap_or_default(),
        title,
        start: page.page.start.unwrap_or(0),
        limit: page.page.limit.unwrap_or(DEFAULT_LIMIT),
        expand: page.expand.unwrap_or_default(),
    })
}

/// Parses the query of `content/{id}/child/page` and `content/{id}/descendant/page`.
pub(super) fn parse_page_tree(
    id: ContentId,
    raw: Option<&str>,
) -> Result<PageTreeQuery, QueryError> {
    let mut page = Paging::default();
    for (name, value) in pairs(raw)? {
        if !page.take(&name, &value)? {
            return Err(unknown(&name));
        }
    }
    Ok(PageTreeQuery {
        id,
        start: page.page.start.unwrap_or(0),
        limit: page.page.limit.unwrap_or(DEFAULT_LIMIT),
        expand: page.expand.unwrap_or_default(),
    })
}

/// Parses the query of `content/{id}/label`: `start` and `limit` (`1..=MAX_LABEL_LIMIT`).
pub(super) fn parse_labels(id: ContentId, raw: Option<&str>) -> Result<LabelsQuery, QueryError> {
    let mut page = StartLimit::new(MAX_LABEL_LIMIT);
    for (name, value) in pairs(raw)? {
        if !page.take(&name, &value)? {
            return Err(unknown(&name));
        }
    }
    Ok(LabelsQuery {
        id,
        start: page.start.unwrap_or(0),
        limit: page.limit,
    })
}

/// Parses the query of `GET /wiki/rest/api/space`: `start` and `limit` (`1..=MAX_LIMIT`).
pub(super) fn parse_spaces(raw: Option<&str>) -> Result<SpacesQuery, QueryError> {
    let mut page = StartLimit::new(MAX_LIMIT);
    for (name, value) in pairs(raw)? {
        if !page.take(&name, &value)? {
            return Err(unknown(&name));
        }
    }
    Ok(SpacesQuery {
        start: page.start.unwrap_or(0),
        limit: page.limit.unwrap_or(DEFAULT_LIMIT),
    })
}

/// Accepts only an absent or empty query (`GET /wiki/rest/api/space/{key}`).
pub(super) fn parse_no_parameters(raw: Option<&str>) -> Result<(), QueryError> {
    match pairs(raw)?.first() {
        Some((name, _)) => Err(unknown(name)),
        None => Ok(()),
    }
}

/// `start`, `limit` and `expand`, shared by the list routes.
struct Paging {
    page: StartLimit,
    expand: Option<Vec<ListExpand>>,
}

impl Default for Paging {
    fn default() -> Self {
        Paging {
            page: StartLimit::new(MAX_LIMIT),
            expand: None,
        }
    }
}

impl Paging {
    /// Takes the parameter if it is one of the three; `Ok(false)` when it is not.
    fn take(&mut self, name: &str, value: &str) -> Result<bool, QueryError> {
        if self.page.take(name, value)? {
            return Ok(true);
        }
        if name != "expand" {
            return Ok(false);
        }
        set_once(
            &mut self.expand,
            "expand",
            parse_expand(value, list_expand)?,
        )?;
        Ok(true)
    }
}

fn parse_type(value: &str) -> Result<ListType, QueryError> {
    match value {
        "page" => Ok(ListType::Page),
        "blogpost" => Ok(ListType::BlogPost),
        _ => Err(QueryError::BadValue {
            param: "type",
            why: "must be 'page' or 'blogpost'",
        }),
    }
}

fn parse_title(value: String) -> Result<String, QueryError> {
    parse_text("title", value, MAX_TITLE_BYTES, "is longer than 1024 bytes")
}

pub(super) fn list_expand(name: &str) -> Result<ListExpand, QueryError> {
    match name {
        "space" => Ok(ListExpand::Space),
        "metadata.labels" => Ok(ListExpand::MetadataLabels),
        "ancestors" => Ok(ListExpand::Ancestors),
        "version" => Ok(ListExpand::Version),
        other => Err(refused_expansion(other)),
    }
}
