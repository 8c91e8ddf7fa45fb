//! Query allowlists of a page's other children and of space content:
//! `content/{id}/child` and `content/{id}/descendant` (the typed maps), `child/attachment` and
//! `child/comment`, `space/{key}/content[/{type}]`, and the attachment download
//! `/wiki/download/attachments/{pageId}/{file}`.
//!
//! Guarantees: the same strict decoding and refusals as `query.rs`; the maps accept only
//! `expand` of `page`, `attachment`, `comment` (descendants: `page` only); the child lists only
//! paging (and `filename` for attachments); comment bodies and every other expansion are
//! refused; a download's file name is one decoded path segment (no `/`), at most 255 bytes, and
//! only `version` (digits) is kept from its query — Confluence's cache-busting parameters
//! (`modificationDate`, `cacheVersion`, `api`) are accepted and dropped.
//!
//! Deliberately not done: `depth=root` of space content (CQL cannot say "root"), comment
//! `location`/`parentVersion`, attachment `mediaType` filters — refused.

use super::query::{
    pairs, parse_expand, parse_number, parse_text, set_once, unknown, QueryError, StartLimit,
};
use super::query::{DEFAULT_LIMIT, MAX_LIMIT};
use super::{ListExpand, ListType};
use crate::ids::{ContentId, SpaceKey};

/// A child type named in the `expand` of `content/{id}/child` or `descendant`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChildType {
    /// `page`
    Page,
    /// `attachment`
    Attachment,
    /// `comment`
    Comment,
}

impl ChildType {
    /// The type name on the wire.
    pub fn wire(&self) -> &'static str {
        match self {
            ChildType::Page => "page",
            ChildType::Attachment => "attachment",
            ChildType::Comment => "comment",
        }
    }
}

/// `content/{id}/child` or `content/{id}/descendant`: which typed lists to include.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildMapQuery {
    /// The page (1–20 digits).
    pub id: ContentId,
    /// The expanded types, each at most once, in the client's order.
    pub expand: Vec<ChildType>,
}

/// `content/{id}/child/attachment` or `child/comment`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildFilesQuery {
    /// The page (1–20 digits).
    pub id: ContentId,
    /// Attachments or comments (never [`ChildType::Page`]).
    pub kind: ChildType,
    /// Offset of the first item, `0..=MAX_START`; default 0.
    pub start: u32,
    /// Page size, `1..=MAX_LIMIT`; default [`DEFAULT_LIMIT`].
    pub limit: u32,
    /// `filename` (attachments only): the one file with this name.
    pub filename: Option<String>,
}

/// `space/{key}/content` (both types) or `space/{key}/content/{page|blogpost}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpaceContentQuery {
    /// The space (a valid key; decided before anything is forwarded).
    pub key: SpaceKey,
    /// One type, or `None` for the map of both.
    pub kind: Option<ListType>,
    /// Offset of the first item, `0..=MAX_START`; default 0.
    pub start: u32,
    /// Page size, `1..=MAX_LIMIT`; default [`DEFAULT_LIMIT`].
    pub limit: u32,
    /// Expansions of each item (as in content lists).
    pub expand: Vec<ListExpand>,
}

/// `GET /wiki/rest/api/content/{pageId}/child/attachment/{attachmentId}/download`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentDownloadQuery {
    /// The page the attachment must belong to.
    pub page: ContentId,
    /// The attachment id: `att` and 1–20 digits, or 1–20 digits.
    pub attachment: String,
}

/// Checks an attachment id segment.
pub(super) fn attachment_id(segment: &str) -> Option<String> {
    let digits = segment.strip_prefix("att").unwrap_or(segment);
    ((1..=20).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| segment.to_owned())
}

/// `GET /wiki/download/attachments/{pageId}/{file}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownloadQuery {
    /// The page the file is attached to.
    pub page: ContentId,
    /// The decoded file name.
    pub file_name: String,
    /// `version`, when asked for (digits).
    pub version: Option<u32>,
}

const MAX_FILE_NAME_BYTES: usize = 255;

pub(super) fn parse_child_map(
    id: ContentId,
    raw: Option<&str>,
    types: &[ChildType],
) -> Result<ChildMapQuery, QueryError> {
    let mut expand = None;
    for (name, value) in pairs(raw)? {
        match name.as_str() {
            "expand" => {
                let parsed = parse_expand(&value, child_type)?;
                if parsed.iter().any(|t| !types.contains(t)) {
                    return Err(QueryError::BadValue {
                        param: "expand",
                        why: "names a child type that is not allowed here",
                    });
                }
                set_once(&mut expand, "expand", parsed)?
            }
            _ => return Err(unknown(&name)),
        }
    }
    Ok(ChildMapQuery {
        id,
        expand: expand.unwrap_or_default(),
    })
}

fn child_type(name: &str) -> Result<ChildType, QueryError> {
    match name {
        "page" => Ok(ChildType::Page),
        "attachment" => Ok(ChildType::Attachment),
        "comment" => Ok(ChildType::Comment),
        _ => Err(QueryError::BadValue {
            param: "expand",
            why: "names a child type that is not allowed here",
        }),
    }
}

pub(super) fn parse_child_files(
    id: ContentId,
    kind: ChildType,
    raw: Option<&str>,
) -> Result<ChildFilesQuery, QueryError> {
    let (mut page, mut filename) = (StartLimit::new(MAX_LIMIT), None);
    for (name, value) in pairs(raw)? {
        match name.as_str() {
            _ if page.take(&name, &value)? => {}
            // Some clients repeat the page id as a parameter (atlassian-python-api does).
            "id" if value == id.as_str() => {}
            "filename" if kind == ChildType::Attachment => {
                let name = parse_text(
                    "filename",
                    value,
                    MAX_FILE_NAME_BYTES,
                    "is longer than 255 bytes",
                )?;
                set_once(&mut filename, "filename", name)?
            }
            _ => return Err(unknown(&name)),
        }
    }
    Ok(ChildFilesQuery {
        id,
        kind,
        start: page.start.unwrap_or(0),
        limit: page.limit.unwrap_or(DEFAULT_LIMIT),
        filename,
    })
}

pub(super) fn parse_space_content(
    key: SpaceKey,
    kind: Option<ListType>,
    raw: Option<&str>,
) -> Result<SpaceContentQuery, QueryError> {
    let (mut page, mut expand) = (StartLimit::new(MAX_LIMIT), None);
    for (name, value) in pairs(raw)? {
        match name.as_str() {
            _ if page.take(&name, &value)? => {}
            "expand" => set_once(
                &mut expand,
                "expand",
                parse_expand(&value, super::list::list_expand)?,
            )?,
            "depth" if value == "all" => {}
            _ => return Err(unknown(&name)),
        }
    }
    Ok(SpaceContentQuery {
        key,
        kind,
        start: page.start.unwrap_or(0),
        limit: page.limit.unwrap_or(DEFAULT_LIMIT),
        expand: expand.unwrap_or_default(),
    })
}

/// The download route; `None` for a file-name segment that is not a plain file name.
pub(super) fn parse_download(
    page: ContentId,
    file: &str,
    raw: Option<&str>,
) -> Result<Option<DownloadQuery>, QueryError> {
    let plain = !file.is_empty()
        && file.len() <= MAX_FILE_NAME_BYTES
        && !file.contains(['/', '\\'])
        && !file.chars().any(char::is_control);
    if !plain {
        return Ok(None);
    }
    let mut version = None;
    for (name, value) in pairs(raw)? {
        match name.as_str() {
            "version" => set_once(
                &mut version,
                "version",
                parse_number("version", &value, 1, 1_000_000)?,
            )?,
            "modificationDate" | "cacheVersion" if value.bytes().all(|b| b.is_ascii_digit()) => {}
            "api" if value == "v2" => {}
            _ => return Err(unknown(&name)),
        }
    }
    Ok(Some(DownloadQuery {
        page,
        file_name: file.to_owned(),
        version,
    }))
}
