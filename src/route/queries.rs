//! The validated parameters of the v1 routes: one struct per route and the allowlisted
//! `expand` values, each with its wire name.
//!
//! Guarantees: a value of these types only exists after `classify` accepted it (every field
//! within its documented bounds). Deliberately not done: parsing (see `query.rs`, `list.rs`,
//! `tree.rs`).

use crate::ids::{ContentId, SpaceKey};

/// The validated parameters of a CQL search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchQuery {
    /// The client's CQL, decoded, non-empty, at most [`MAX_CQL_BYTES`](super::MAX_CQL_BYTES); not yet wrapped.
    pub cql: String,
    /// Offset of the first result, `0..=MAX_START`; default 0.
    pub start: u32,
    /// Page size, `1..=MAX_LIMIT`; default [`DEFAULT_LIMIT`](super::DEFAULT_LIMIT).
    pub limit: u32,
    /// Excerpt mode; default [`Excerpt::Highlight`].
    pub excerpt: Excerpt,
    /// Requested expansions, each at most once, in the client's order.
    pub expand: Vec<SearchExpand>,
}

/// The `excerpt` parameter of a search. `indexed` and anything else are refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Excerpt {
    /// `highlight` (the default).
    #[default]
    Highlight,
    /// `none`.
    None,
}

impl Excerpt {
    /// The parameter value on the wire.
    pub fn wire(&self) -> &'static str {
        match self {
            Excerpt::Highlight => "highlight",
            Excerpt::None => "none",
        }
    }
}

/// An allowed expansion of a search result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchExpand {
    /// `content.space`
    ContentSpace,
    /// `content.metadata.labels`
    ContentMetadataLabels,
    /// `content.ancestors`
    ContentAncestors,
    /// `content.version`
    ContentVersion,
}

impl SearchExpand {
    /// The expansion name on the wire.
    pub fn wire(&self) -> &'static str {
        match self {
            SearchExpand::ContentSpace => "content.space",
            SearchExpand::ContentMetadataLabels => "content.metadata.labels",
            SearchExpand::ContentAncestors => "content.ancestors",
            SearchExpand::ContentVersion => "content.version",
        }
    }
}

/// The validated parameters of a single-content read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentQuery {
    /// The content id from the path: 1–20 ASCII digits.
    pub id: ContentId,
    /// Requested expansions, each at most once, in the client's order.
    pub expand: Vec<ContentExpand>,
}

/// An allowed expansion of a content read. Rendered formats are never among them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentExpand {
    /// `body.storage`
    BodyStorage,
    /// `space`
    Space,
    /// `version`
    Version,
    /// `ancestors`
    Ancestors,
    /// `metadata.labels`
    MetadataLabels,
    /// `history` (reduced to dates, authors and version summaries)
    History,
    /// `container`: the page's space, composed by kbgate
    Container,
    /// `space.homepage`: the space with its (decided) home page, composed by kbgate
    SpaceHomepage,
    /// `children.page`, composed by kbgate from the child-page list
    ChildrenPage,
    /// `children.attachment`, composed by kbgate from the attachment list
    ChildrenAttachment,
    /// `children.comment`, composed by kbgate from the comment list
    ChildrenComment,
    /// `descendants.page`, composed by kbgate from the descendant-page list
    DescendantsPage,
}

impl ContentExpand {
    /// The expansion name on the wire.
    pub fn wire(&self) -> &'static str {
        match self {
            ContentExpand::BodyStorage => "body.storage",
            ContentExpand::Space => "space",
            ContentExpand::Version => "version",
            ContentExpand::Ancestors => "ancestors",
            ContentExpand::MetadataLabels => "metadata.labels",
            ContentExpand::History => "history",
            ContentExpand::Container => "container",
            ContentExpand::SpaceHomepage => "space.homepage",
            ContentExpand::ChildrenPage => "children.page",
            ContentExpand::ChildrenAttachment => "children.attachment",
            ContentExpand::ChildrenComment => "children.comment",
            ContentExpand::DescendantsPage => "descendants.page",
        }
    }

    /// True for expansions asked of upstream with the content; the others are composed by
    /// kbgate from its own, separately decided answers.
    pub fn forwarded(&self) -> bool {
        matches!(
            self,
            ContentExpand::BodyStorage
                | ContentExpand::Space
                | ContentExpand::Version
                | ContentExpand::Ancestors
                | ContentExpand::MetadataLabels
                | ContentExpand::History
        )
    }
}

/// The validated parameters of `GET /wiki/rest/api/content/search`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentSearchQuery {
    /// The client's CQL, decoded, non-empty, at most [`MAX_CQL_BYTES`](super::MAX_CQL_BYTES); not yet wrapped.
    pub cql: String,
    /// Offset of the first item, `0..=MAX_START`; default 0.
    pub start: u32,
    /// Page size, `1..=MAX_LIMIT`; default [`DEFAULT_LIMIT`](super::DEFAULT_LIMIT).
    pub limit: u32,
    /// Requested expansions, each at most once, in the client's order.
    pub expand: Vec<ListExpand>,
}

/// The validated parameters of the content listing `GET /wiki/rest/api/content`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentListQuery {
    /// `spaceKey`, when given (a valid space key).
    pub space_key: Option<SpaceKey>,
    /// `type`; default [`ListType::Page`], as in Confluence.
    pub kind: ListType,
    /// `title`, when given: an exact-title lookup (non-empty, decoded).
    pub title: Option<String>,
    /// Offset of the first item, `0..=MAX_START`; default 0.
    pub start: u32,
    /// Page size, `1..=MAX_LIMIT`; default [`DEFAULT_LIMIT`](super::DEFAULT_LIMIT).
    pub limit: u32,
    /// Requested expansions, each at most once, in the client's order.
    pub expand: Vec<ListExpand>,
}

/// The validated parameters of `content/{id}/child/page` and `content/{id}/descendant/page`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageTreeQuery {
    /// The page whose children or descendants are listed (1–20 digits).
    pub id: ContentId,
    /// Offset of the first item, `0..=MAX_START`; default 0.
    pub start: u32,
    /// Page size, `1..=MAX_LIMIT`; default [`DEFAULT_LIMIT`](super::DEFAULT_LIMIT).
    pub limit: u32,
    /// Requested expansions, each at most once, in the client's order.
    pub expand: Vec<ListExpand>,
}

/// The validated parameters of `content/{id}/label`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelsQuery {
    /// The page whose labels are listed (1–20 digits).
    pub id: ContentId,
    /// Offset of the first label, `0..=MAX_START`; default 0.
    pub start: u32,
    /// Page size, `1..=MAX_LABEL_LIMIT`; `None` leaves Confluence's default (200).
    pub limit: Option<u32>,
}

/// The validated parameters of `GET /wiki/rest/api/space`. No `expand` is accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpacesQuery {
    /// Offset of the first space, `0..=MAX_START`; default 0.
    pub start: u32,
    /// Page size, `1..=MAX_LIMIT`; default [`DEFAULT_LIMIT`](super::DEFAULT_LIMIT).
    pub limit: u32,
}

/// The validated `GET /wiki/rest/api/space/{key}` (no parameters are accepted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpaceQuery {
    /// The space key from the path (a valid [`SpaceKey`]; any other segment is a 404).
    pub key: SpaceKey,
}

/// The `type` of a content listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ListType {
    /// `page` (the default).
    #[default]
    Page,
    /// `blogpost`.
    BlogPost,
}

impl ListType {
    /// The value on the wire (and in CQL).
    pub fn wire(&self) -> &'static str {
        match self {
            ListType::Page => "page",
            ListType::BlogPost => "blogpost",
        }
    }
}

/// An allowed expansion of a content-list item. Bodies are never among them: items in a list
/// are not rewritten one by one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListExpand {
    /// `space`
    Space,
    /// `metadata.labels`
    MetadataLabels,
    /// `ancestors`
    Ancestors,
    /// `version`
    Version,
}

impl ListExpand {
    /// The expansion name on the wire.
    pub fn wire(&self) -> &'static str {
        match self {
            ListExpand::Space => "space",
            ListExpand::MetadataLabels => "metadata.labels",
            ListExpand::Ancestors => "ancestors",
            ListExpand::Version => "version",
        }
    }
}
