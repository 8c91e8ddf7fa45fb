//! The Confluence Cloud REST **v2** routes (`/wiki/api/v2/…`): canonical segments + raw query →
//! a typed [`V2Request`], or a typed refusal.
//!
//! Routes: `pages`, `pages/{id}`, `pages/{id}/children`, `…/direct-children`,
//! `…/descendants`, `…/ancestors`, `…/labels`, `…/attachments`, `…/footer-comments`, `spaces`,
//! `spaces/{id}/pages`, `labels/{id}/pages`, `blogposts` and `blogposts/{id}`.
//!
//! Guarantees: every route has its own parameter allowlist (`v2/params.rs`); an unknown or
//! repeated parameter is a [`QueryError`](super::QueryError) (400), never dropped; a path id
//! that is not 1–20 ASCII digits is [`RouteError::NotFound`], like any unknown route; `limit`
//! is `1..=250` (default 25); ids in the query (`space-id`, `ids`) must be numeric, `keys` must
//! be space keys; `body-format` accepts `storage` and `atlas_doc_format` on single items only
//! (kbgate rewrites both) — the rendered formats (`view`, `export_view`, …) are refused with
//! [`QueryError::RenderedFormat`](super::QueryError::RenderedFormat); list routes accept no
//! `body-format` at all. A `cursor` is only checked for its alphabet and length here: it is
//! kbgate's own, verified by `proxy::v2`.
//!
//! Deliberately not done: no upstream URI is built here, and no cursor is verified.

mod params;

use super::RouteError;
use crate::ids::{ContentId, SpaceKey};

/// Largest `limit` of a v2 list (Confluence's own cap).
pub const MAX_V2_LIMIT: u32 = 250;
/// `limit` of a v2 list when the client sends none (Confluence's default).
pub const DEFAULT_V2_LIMIT: u32 = 25;
/// Longest `cursor` accepted, in bytes (kbgate's cursors are far shorter).
pub const MAX_CURSOR_BYTES: usize = 1024;
/// Most ids in `space-id`, `ids` or `keys`.
pub const MAX_LIST_IDS: usize = 25;
/// Deepest `depth` of `pages/{id}/descendants`.
pub const MAX_DEPTH: u8 = 5;

/// A validated `/wiki/api/v2` request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum V2Request {
    /// `pages` or `blogposts`: a content list.
    Contents(ContentsQuery),
    /// `spaces/{id}/pages`: the pages of one space.
    SpacePages(SpacePagesQuery),
    /// `pages/{id}` or `blogposts/{id}`: one item.
    Single(SingleQuery),
    /// `pages/{id}/{relation}`: a list belonging to, or around, one page.
    Related(RelatedQuery),
    /// `spaces`: the spaces.
    Spaces(V2SpacesQuery),
    /// `labels/{id}/pages`: the pages carrying one label.
    LabelPages(LabelPagesQuery),
}

impl V2Request {
    /// A stable name for logs and metrics, e.g. `v2_pages`, `v2_page`, `v2_descendants`.
    pub fn name(&self) -> &'static str {
        match self {
            V2Request::Contents(q) => match q.kind {
                V2Kind::Page => "v2_pages",
                V2Kind::BlogPost => "v2_blogposts",
            },
            V2Request::SpacePages(_) => "v2_space_pages",
            V2Request::Single(q) => match q.kind {
                V2Kind::Page => "v2_page",
                V2Kind::BlogPost => "v2_blogpost",
            },
            V2Request::Related(q) => q.relation.name(),
            V2Request::Spaces(_) => "v2_spaces",
            V2Request::LabelPages(_) => "v2_label_pages",
        }
    }
}

/// Pages or blog posts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum V2Kind {
    /// `pages`
    Page,
    /// `blogposts`
    BlogPost,
}

impl V2Kind {
    /// The path segment (`pages` or `blogposts`).
    pub fn segment(self) -> &'static str {
        match self {
            V2Kind::Page => "pages",
            V2Kind::BlogPost => "blogposts",
        }
    }
}

/// `limit` and kbgate's `cursor`, shared by every list route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V2Paging {
    /// Page size, `1..=MAX_V2_LIMIT`; default [`DEFAULT_V2_LIMIT`].
    pub limit: u32,
    /// kbgate's opaque cursor, unverified (base64url and `.` only, at most
    /// [`MAX_CURSOR_BYTES`]).
    pub cursor: Option<String>,
}

/// The `sort` of a content list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum V2Sort {
    /// `id`
    Id,
    /// `-id`
    IdDesc,
    /// `title`
    Title,
    /// `-title`
    TitleDesc,
    /// `created-date`
    Created,
    /// `-created-date`
    CreatedDesc,
    /// `modified-date`
    Modified,
    /// `-modified-date`
    ModifiedDesc,
}

impl V2Sort {
    /// The value on the wire.
    pub fn wire(self) -> &'static str {
        match self {
            V2Sort::Id => "id",
            V2Sort::IdDesc => "-id",
            V2Sort::Title => "title",
            V2Sort::TitleDesc => "-title",
            V2Sort::Created => "created-date",
            V2Sort::CreatedDesc => "-created-date",
            V2Sort::Modified => "modified-date",
            V2Sort::ModifiedDesc => "-modified-date",
        }
    }
}

/// The filters of a content list (`pages`, `blogposts`, `spaces/{id}/pages`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentsQuery {
    /// Pages or blog posts.
    pub kind: V2Kind,
    /// `space-id`: numeric space ids (comma-separated on the wire), possibly none.
    pub space_ids: Vec<String>,
    /// `title`: an exact-title filter (non-empty, decoded).
    pub title: Option<String>,
    /// `status=current` was given (the only status accepted).
    pub status_current: bool,
    /// `sort`, when given.
    pub sort: Option<V2Sort>,
    /// Paging.
    pub paging: V2Paging,
}

/// `spaces/{id}/pages`: the space id from the path and the list filters (no `space-id`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpacePagesQuery {
    /// The numeric space id from the path.
    pub space_id: String,
    /// The list filters (`space_ids` is always empty).
    pub query: ContentsQuery,
}

/// The body format of a single item: the two formats kbgate rewrites (never a rendered one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum V2BodyFormat {
    /// `storage`
    Storage,
    /// `atlas_doc_format` (ADF)
    AtlasDocFormat,
}

impl V2BodyFormat {
    /// The value on the wire.
    pub fn wire(self) -> &'static str {
        match self {
            V2BodyFormat::Storage => "storage",
            V2BodyFormat::AtlasDocFormat => "atlas_doc_format",
        }
    }
}

/// `pages/{id}` or `blogposts/{id}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SingleQuery {
    /// Page or blog post.
    pub kind: V2Kind,
    /// The id from the path (1–20 digits).
    pub id: ContentId,
    /// `body-format`, when given.
    pub body_format: Option<V2BodyFormat>,
    /// `include-labels=true` (pages only).
    pub include_labels: bool,
    /// `include-direct-children=true` (pages only).
    pub include_direct_children: bool,
    /// `include-version`; default true, as in Confluence.
    pub include_version: bool,
}

/// What a `pages/{id}/…` list holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    /// `children` (deprecated in Confluence, still served).
    Children,
    /// `direct-children`
    DirectChildren,
    /// `descendants`
    Descendants,
    /// `ancestors`
    Ancestors,
    /// `labels`
    Labels,
    /// `attachments`
    Attachments,
    /// `footer-comments`
    FooterComments,
}

impl Relation {
    /// The path segment after `pages/{id}/`.
    pub fn segment(self) -> &'static str {
        match self {
            Relation::Children => "children",
            Relation::DirectChildren => "direct-children",
            Relation::Descendants => "descendants",
            Relation::Ancestors => "ancestors",
            Relation::Labels => "labels",
            Relation::Attachments => "attachments",
            Relation::FooterComments => "footer-comments",
        }
    }

    /// The route name for logs.
    pub fn name(self) -> &'static str {
        match self {
            Relation::Children => "v2_children",
            Relation::DirectChildren => "v2_direct_children",
            Relation::Descendants => "v2_descendants",
            Relation::Ancestors => "v2_ancestors",
            Relation::Labels => "v2_labels",
            Relation::Attachments => "v2_attachments",
            Relation::FooterComments => "v2_footer_comments",
        }
    }

    fn from_segment(segment: &str) -> Option<Relation> {
        [
            Relation::Children,
            Relation::DirectChildren,
            Relation::Descendants,
            Relation::Ancestors,
            Relation::Labels,
            Relation::Attachments,
            Relation::FooterComments,
        ]
        .into_iter()
        .find(|r| r.segment() == segment)
    }
}

/// `pages/{id}/{relation}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelatedQuery {
    /// The page from the path (1–20 digits).
    pub id: ContentId,
    /// Which list.
    pub relation: Relation,
    /// `depth` of `descendants` (`1..=MAX_DEPTH`), when given.
    pub depth: Option<u8>,
    /// Paging.
    pub paging: V2Paging,
}

/// `spaces`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V2SpacesQuery {
    /// `ids`: numeric space ids, possibly none.
    pub ids: Vec<String>,
    /// `keys`: space keys, possibly none.
    pub keys: Vec<SpaceKey>,
    /// Paging.
    pub paging: V2Paging,
}

/// `labels/{id}/pages`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelPagesQuery {
    /// The numeric label id from the path.
    pub label_id: String,
    /// Paging.
    pub paging: V2Paging,
}

/// Classifies the segments after `/wiki/api/v2` with the raw query.
pub(super) fn classify(rest: &[&str], raw: Option<&str>) -> Result<V2Request, RouteError> {
    let bad = RouteError::BadQuery;
    match rest {
        ["pages"] => Ok(V2Request::Contents(
            params::contents(V2Kind::Page, raw, true).map_err(bad)?,
        )),
        ["blogposts"] => Ok(V2Request::Contents(
            params::contents(V2Kind::BlogPost, raw, true).map_err(bad)?,
        )),
        [kind @ ("pages" | "blogposts"), id] => {
            let kind = if *kind == "pages" {
                V2Kind::Page
            } else {
                V2Kind::BlogPost
            };
            let id = path_content_id(id)?;
            Ok(V2Request::Single(
                params::single(kind, id, raw).map_err(bad)?,
            ))
        }
        ["pages", id, relation] => {
            let relation = Relation::from_segment(relation).ok_or(RouteError::NotFound)?;
            let id = path_content_id(id)?;
            Ok(V2Request::Related(
                params::related(id, relation, raw).map_err(bad)?,
            ))
        }
        ["spaces"] => Ok(V2Request::Spaces(params::spaces(raw).map_err(bad)?)),
        ["spaces", id, "pages"] => {
            let space_id = path_number(id)?;
            let query = params::contents(V2Kind::Page, raw, false).map_err(bad)?;
            Ok(V2Request::SpacePages(SpacePagesQuery { space_id, query }))
        }
        ["labels", id, "pages"] => {
            let label_id = path_number(id)?;
            let paging = params::paging_only(raw).map_err(bad)?;
            Ok(V2Request::LabelPages(LabelPagesQuery { label_id, paging }))
        }
        _ => Err(RouteError::NotFound),
    }
}

/// True for 1–20 ASCII digits.
fn is_number(s: &str) -> bool {
    (1..=20).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
}

fn path_number(segment: &str) -> Result<String, RouteError> {
    if is_number(segment) {
        Ok(segment.to_owned())
    } else {
        Err(RouteError::NotFound)
    }
}

fn path_content_id(segment: &str) -> Result<ContentId, RouteError> {
    super::query::numeric_content_id(segment).ok_or(RouteError::NotFound)
}
#[cfg(test)]
#[path = "v2_tests.rs"]
mod tests;
