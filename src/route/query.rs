//! Query-string allowlists for the search and content-by-id routes: raw query → typed
//! [`SearchQuery`] or [`ContentQuery`](super::ContentQuery) parameters, or a typed refusal. The
//! shared helpers here (decoding, `set_once`, numbers, `expand` lists) also serve `list.rs`.
//!
//! Guarantees: the query is at most [`MAX_QUERY_BYTES`]; every `k=v` pair is percent-decoded
//! exactly once (`+` is a space) and must be strict UTF-8 without control characters; a
//! parameter name appears at most once; names and values outside the allowlists are refused,
//! never dropped. Rendered body formats (`body.view`, `export_view`, …) are refused with their
//! own error because Confluence renders them as the service account (DESIGN.md §1).
//!
//! Deliberately not done: CQL is not parsed here (the `policy` module wraps it); nothing from
//! the raw query is kept except the typed values, so the forwarded query is rebuilt from them.

use super::{ContentExpand, Excerpt, SearchExpand, SearchQuery};
use crate::ids::ContentId;

/// Longest raw query string accepted, in bytes.
pub const MAX_QUERY_BYTES: usize = 4096;
/// Longest decoded `cql` value accepted, in bytes.
pub const MAX_CQL_BYTES: usize = 4096;
/// Largest `start` accepted.
pub const MAX_START: u32 = 100_000;
/// Largest `limit` accepted.
pub const MAX_LIMIT: u32 = 100;
/// `limit` when the client sends none.
pub const DEFAULT_LIMIT: u32 = 25;
/// Parameter names are cut to this many characters before they are reported.
const MAX_REPORTED_NAME: usize = 64;

/// Body formats that Confluence renders (running macros as the service account); refused.
const RENDERED_FORMATS: [&str; 8] = [
    "body.view",
    "body.export_view",
    "body.styled_view",
    "body.anonymous_export_view",
    "body.editor",
    "body.editor2",
    "body.dynamic",
    "body.atlas_doc_format",
];

/// Why a query string was refused. Every variant is a client error (400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error("unknown parameter {0:?}")]
    UnknownParameter(String),
    #[error("parameter {0:?} appears more than once")]
    Duplicate(String),
    #[error("parameter {param:?}: {why}")]
    BadValue {
        param: &'static str,
        why: &'static str,
    },
    #[error("required parameter {0:?} is missing")]
    Missing(&'static str),
    #[error("the query string is longer than {MAX_QUERY_BYTES} bytes")]
    TooLong,
    #[error("a parameter does not decode to UTF-8")]
    NotUtf8,
    #[error("a parameter contains '%' not followed by two hex digits")]
    BadEscape,
    #[error("the rendered format {0:?} is refused: kbgate fetches storage format only")]
    RenderedFormat(&'static str),
}

impl QueryError {
    /// A stable snake_case name for logs and metrics.
    pub fn reason(&self) -> &'static str {
        match self {
            QueryError::UnknownParameter(_) => "unknown_parameter",
            QueryError::Duplicate(_) => "duplicate_parameter",
            QueryError::BadValue { .. } => "bad_value",
            QueryError::Missing(_) => "missing_parameter",
            QueryError::TooLong => "query_too_long",
            QueryError::NotUtf8 => "not_utf8",
            QueryError::BadEscape => "bad_escape",
            QueryError::RenderedFormat(_) => "rendered_format",
        }
    }
}

/// Parses the query of `GET /wiki/rest/api/search`.
pub(super) fn parse_search(raw: Option<&str>) -> Result<SearchQuery, QueryError> {
    let mut cql = None;
    let mut page = StartLimit::new(MAX_LIMIT);
    let mut excerpt = None;
    let mut expand = None;
    for (name, value) in pairs(raw)? {
        match name.as_str() {
            "cql" => set_once(&mut cql, "cql", parse_cql(value)?)?,
            _ if page.take(&name, &value)? => {}
            "excerpt" => set_once(&mut excerpt, "excerpt", parse_excerpt(&value)?)?,
            "expand" => set_once(&mut expand, "expand", parse_expand(&value, search_expand)?)?,
            _ => return Err(unknown(&name)),
        }
    }
    Ok(SearchQuery {
        cql: cql.ok_or(QueryError::Missing("cql"))?,
        start: page.start.unwrap_or(0),
        limit: page.limit.unwrap_or(DEFAULT_LIMIT),
        excerpt: excerpt.unwrap_or(Excerpt::Highlight),
        expand: expand.unwrap_or_default(),
    })
}

/// Parses the query of `GET /wiki/rest/api/content/{id}`; returns the allowed expansions.
pub(super) fn parse_content(raw: Option<&str>) -> Result<Vec<ContentExpand>, QueryError> {
    let mut expand = None;
    let mut status = None;
    for (name, value) in pairs(raw)? {
        match name.as_str() {
            "expand" => set_once(&mut expand, "expand", parse_expand(&value, content_expand)?)?,
            "status" => {
                if value != "current" {
                    return Err(QueryError::BadValue {
                        param: "status",
                        why: "only 'current' is allowed",
                    });
                }
                set_once(&mut status, "status", ())?;
            }
            _ => return Err(unknown(&name)),
        }
    }
    Ok(expand.unwrap_or_default())
}

/// `start` and `limit` of a paged route, each accepted at most once.
pub(super) struct StartLimit {
    /// `start`, `0..=MAX_START`.
    pub start: Option<u32>,
    /// `limit`, `1..=max_limit`.
    pub limit: Option<u32>,
    max_limit: u32,
}

impl StartLimit {
    /// Paging with `limit` bounded by `max_limit`.
    pub fn new(max_limit: u32) -> Self {
        Self {
            start: None,
            limit: None,
            max_limit,
        }
    }

    /// Takes `name=value` when it is `start` or `limit` (true); any other name is left to the
    /// caller (false).
    pub fn take(&mut self, name: &str, value: &str) -> Result<bool, QueryError> {
        match name {
            "start" => set_once(
                &mut self.start,
                "start",
                parse_number("start", value, 0, MAX_START)?,
            )?,
            "limit" => set_once(
                &mut self.limit,
                "limit",
                parse_number("limit", value, 1, self.max_limit)?,
            )?,
            _ => return Ok(false),
        }
        Ok(true)
    }
}

/// Checks that a content id segment is 1–20 ASCII digits and wraps it.
pub(super) fn numeric_content_id(segment: &str) -> Option<ContentId> {
    let ok = (1..=20).contains(&segment.len()) && segment.bytes().all(|b| b.is_ascii_digit());
    if ok {
        ContentId::new(segment).ok()
    } else {
        None
    }
}

/// Splits and decodes the raw query into (name, value) pairs, refusing anything ambiguous.
pub(super) fn pairs(raw: Option<&str>) -> Result<Vec<(String, String)>, QueryError> {
    let raw = match raw {
        None | Some("") => return Ok(Vec::new()),
        Some(raw) => raw,
    };
    if raw.len() > MAX_QUERY_BYTES {
        return Err(QueryError::TooLong);
    }
    raw.split('&')
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            Ok((decode_component(name)?, decode_component(value)?))
        })
        .collect()
}

/// Decodes one `application/x-www-form-urlencoded` component exactly once, strictly.
fn decode_component(raw: &str) -> Result<String, QueryError> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok());
                let byte = hex
                    .filter(|h| h.bytes().all(|c| c.is_ascii_hexdigit()))
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or(QueryError::BadEscape)?;
                out.push(byte);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    let text = String::from_utf8(out).map_err(|_| QueryError::NotUtf8)?;
    if text.chars().any(char::is_control) {
        return Err(QueryError::BadValue {
            param: "query",
            why: "contains a control character",
        });
    }
    Ok(text)
}

pub(super) fn set_once<T>(
    slot: &mut Option<T>,
    name: &'static str,
    value: T,
) -> Result<(), QueryError> {
    if slot.is_some() {
        return Err(QueryError::Duplicate(name.to_owned()));
    }
    *slot = Some(value);
    Ok(())
}

pub(super) fn unknown(name: &str) -> QueryError {
    QueryError::UnknownParameter(name.chars().take(MAX_REPORTED_NAME).collect())
}

pub(super) fn parse_cql(value: String) -> Result<String, QueryError> {
    parse_text("cql", value, MAX_CQL_BYTES, "is longer than 4096 bytes")
}

/// A free-text parameter: not blank, at most `max` bytes (`too_long` says the limit).
pub(super) fn parse_text(
    param: &'static str,
    value: String,
    max: usize,
    too_long: &'static str,
) -> Result<String, QueryError> {
    if value.trim().is_empty() {
        return Err(QueryError::BadValue {
            param,
            why: "must not be empty",
        });
    }
    if value.len() > max {
        return Err(QueryError::BadValue {
            param,
            why: too_long,
        });
    }
    Ok(value)
}

/// Parses a decimal number of plain ASCII digits (no sign, no spaces) within `min..=max`.
pub(super) fn parse_number(
    param: &'static str,
    value: &str,
    min: u32,
    max: u32,
) -> Result<u32, QueryError> {
    if value.is_empty() || value.len() > 10 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(QueryError::BadValue {
            param,
            why: "must be a decimal number",
        });
    }
    match value.parse::<u32>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(QueryError::BadValue {
            param,
            why: "is out of range",
        }),
    }
}

fn parse_excerpt(value: &str) -> Result<Excerpt, QueryError> {
    match value {
        "highlight" => Ok(Excerpt::Highlight),
        "none" => Ok(Excerpt::None),
        _ => Err(QueryError::BadValue {
            param: "excerpt",
            why: "must be 'highlight' or 'none'",
        }),
    }
}

/// Parses a comma-separated `expand` list with `item` deciding each entry.
pub(super) fn parse_expand<T: PartialEq>(
    value: &str,
    item: fn(&str) -> Result<T, QueryError>,
) -> Result<Vec<T>, QueryError> {
    let mut out = Vec::new();
    for name in value.split(',') {
        if name.is_empty() {
            return Err(QueryError::BadValue {
                param: "expand",
                why: "has an empty item",
            });
        }
        let parsed = item(name)?;
        if out.contains(&parsed) {
            return Err(QueryError::BadValue {
                param: "expand",
                why: "names an expansion twice",
            });
        }
        out.push(parsed);
    }
    Ok(out)
}

fn search_expand(name: &str) -> Result<SearchExpand, QueryError> {
    match name {
        "content.space" => Ok(SearchExpand::ContentSpace),
        "content.metadata.labels" => Ok(SearchExpand::ContentMetadataLabels),
        "content.ancestors" => Ok(SearchExpand::ContentAncestors),
        "content.version" => Ok(SearchExpand::ContentVersion),
        other => {
            // Rendered formats are recognised with or without the search's `content.` prefix.
            Err(refused_expansion(
                other.strip_prefix("content.").unwrap_or(other),
            ))
        }
    }
}

fn content_expand(name: &str) -> Result<ContentExpand, QueryError> {
    match name {
        "body.storage" => Ok(ContentExpand::BodyStorage),
        "space" => Ok(ContentExpand::Space),
        "version" => Ok(ContentExpand::Version),
        "ancestors" => Ok(ContentExpand::Ancestors),
        "metadata.labels" => Ok(ContentExpand::MetadataLabels),
        "history" => Ok(ContentExpand::History),
        "container" => Ok(ContentExpand::Container),
        "space.homepage" => Ok(ContentExpand::SpaceHomepage),
        "children.page" => Ok(ContentExpand::ChildrenPage),
        "children.attachment" => Ok(ContentExpand::ChildrenAttachment),
        "children.comment" => Ok(ContentExpand::ChildrenComment),
        "descendants.page" => Ok(ContentExpand::DescendantsPage),
        other => Err(refused_expansion(other)),
    }
}

/// The error for an expansion outside the allowlist: rendered formats get their own variant.
pub(super) fn refused_expansion(name: &str) -> QueryError {
    let rendered = RENDERED_FORMATS.iter().find(|format| {
        name == **format
            || name
                .strip_prefix(**format)
                .is_some_and(|r| r.starts_with('.'))
    });
    match rendered {
        Some(format) => QueryError::RenderedFormat(format),
        None => QueryError::BadValue {
            param: "expand",
            why: "names an expansion that is not allowed",
        },
    }
}
