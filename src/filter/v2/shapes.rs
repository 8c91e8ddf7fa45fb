//! The allowlists of the v2 shapes: for each kind of object, the members kbgate keeps and how
//! each is checked (`How`). A member not named here never reaches a client.
//!
//! The members follow the 2026-02 v2 OpenAPI schemas (`PageBulk`, `BlogPostBulk`, `ChildPage`,
//! `ChildrenResponse`, `DescendantsResponse`, `Ancestor`, `Label`, `AttachmentBulk`,
//! `PageCommentModel`, `SpaceBulk`, `PageSingle`, `BlogPostSingle`) minus what may leak or is
//! not needed: `ownerId`/`lastOwnerId`, `subtype`, `body` in lists, comment bodies, `editui`,
//! upstream `self`/`base` links, space `description`/`icon`, attachment `blogPostId`/
//! `customContentId`.
//!
//! Deliberately not done: scanning (`item.rs`) or deciding anything.

/// The shape of the objects of a v2 answer: decides which members are kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ItemShape {
    /// `PageBulk` (`pages`, `spaces/{id}/pages`, `labels/{id}/pages`).
    Page,
    /// `BlogPostBulk` (`blogposts`).
    BlogPost,
    /// `ChildPage` (`pages/{id}/children`).
    ChildPage,
    /// `ChildrenResponse` (`pages/{id}/direct-children`, `directChildren`).
    DirectChild,
    /// `DescendantsResponse` (`pages/{id}/descendants`).
    Descendant,
    /// `Ancestor` (`pages/{id}/ancestors`).
    Ancestor,
    /// `Label` (`pages/{id}/labels`, `labels` of a page).
    Label,
    /// `AttachmentBulk` (`pages/{id}/attachments`).
    Attachment,
    /// `PageCommentModel` (`pages/{id}/footer-comments`), without its body.
    FooterComment,
    /// `SpaceBulk` (`spaces`, `spaces/{id}`).
    Space,
    /// `PageSingle` (`pages/{id}`).
    SinglePage,
    /// `BlogPostSingle` (`blogposts/{id}`).
    SingleBlogPost,
}

/// How one member is checked and kept.
#[derive(Clone, Copy, Debug)]
pub(super) enum How {
    /// The item's id: a non-empty string or a number; kept.
    Id,
    /// A string or `null`; kept.
    Str,
    /// A number or `null`; kept.
    Num,
    /// A string, a number or `null`; kept.
    StrOrNum,
    /// `true` or `false`; kept.
    Bool,
    /// `type`: a string, remembered; kept.
    Type,
    /// `title`: a string, remembered; kept.
    Title,
    /// A label's `name`: a string, remembered; kept.
    Name,
    /// A space's `key`: a string, remembered; kept.
    Key,
    /// `parentId`: an id or `null`, remembered; kept only when the parent is visible.
    ParentId,
    /// `parentType`: kept only when the parent is visible.
    ParentType,
    /// `pageId` of an attachment or comment: an id, remembered; kept.
    PageId,
    /// `homepageId` of a space: an id or `null`, remembered; kept only when it is visible.
    Homepage,
    /// A Confluence-relative link string; kept only when relative.
    RelLink,
    /// `downloadLink` (also inside `_links`): replaced by kbgate's link.
    Download,
    /// `version`: an object reduced to [`VERSION`].
    Version,
    /// `_links`: an object reduced to the link set.
    Links(&'static [(&'static [u8], How)], bool),
    /// `body` of a single item.
    Body,
    /// `labels` of a single page.
    Labels,
    /// `directChildren` of a single page.
    DirectChildren,
}

pub(super) type Fields = &'static [(&'static [u8], How)];

pub(super) const VERSION: Fields = &[
    (b"createdAt", How::Str),
    (b"message", How::Str),
    (b"number", How::Num),
    (b"minorEdit", How::Bool),
    (b"authorId", How::Str),
];
const LINKS_PAGE: Fields = &[(b"webui", How::RelLink), (b"tinyui", How::RelLink)];
const LINKS_WEB: Fields = &[(b"webui", How::RelLink)];
const LINKS_ATTACHMENT: Fields = &[(b"webui", How::RelLink), (b"download", How::Download)];

const PAGE: Fields = &[
    (b"id", How::Id),
    (b"status", How::Str),
    (b"title", How::Title),
    (b"spaceId", How::StrOrNum),
    (b"parentId", How::ParentId),
    (b"parentType", How::ParentType),
    (b"position", How::Num),
    (b"authorId", How::Str),
    (b"createdAt", How::Str),
    (b"version", How::Version),
    (b"_links", How::Links(LINKS_PAGE, false)),
];
const BLOG_POST: Fields = &[
    (b"id", How::Id),
    (b"status", How::Str),
    (b"title", How::Title),
    (b"spaceId", How::StrOrNum),
    (b"authorId", How::Str),
    (b"createdAt", How::Str),
    (b"version", How::Version),
    (b"_links", How::Links(LINKS_PAGE, false)),
];
const CHILD_PAGE: Fields = &[
    (b"id", How::Id),
    (b"status", How::Str),
    (b"title", How::Title),
    (b"spaceId", How::StrOrNum),
    (b"childPosition", How::Num),
    (b"_links", How::Links(LINKS_PAGE, false)),
];
const DIRECT_CHILD: Fields = &[
    (b"id", How::Id),
    (b"status", How::Str),
    (b"title", How::Title),
    (b"type", How::Type),
    (b"spaceId", How::StrOrNum),
    (b"childPosition", How::Num),
];
const DESCENDANT: Fields = &[
    (b"id", How::Id),
    (b"status", How::Str),
    (b"title", How::Title),
    (b"type", How::Type),
    (b"parentId", How::ParentId),
    (b"depth", How::Num),
    (b"childPosition", How::Num),
];
const ANCESTOR: Fields = &[(b"id", How::Id), (b"type", How::Type)];
const LABEL: Fields = &[
    (b"id", How::Id),
    (b"name", How::Name),
    (b"prefix", How::Str),
];
const ATTACHMENT: Fields = &[
    (b"id", How::Id),
    (b"status", How::Str),
    (b"title", How::Title),
    (b"createdAt", How::Str),
    (b"pageId", How::PageId),
    (b"mediaType", How::Str),
    (b"mediaTypeDescription", How::Str),
    (b"comment", How::Str),
    (b"fileId", How::Str),
    (b"fileSize", How::Num),
    (b"webuiLink", How::RelLink),
    (b"downloadLink", How::Download),
    (b"version", How::Version),
    (b"_links", How::Links(LINKS_ATTACHMENT, false)),
];
const FOOTER_COMMENT: Fields = &[
    (b"id", How::Id),
    (b"status", How::Str),
    (b"title", How::Title),
    (b"pageId", How::PageId),
    (b"version", How::Version),
    (b"_links", How::Links(LINKS_WEB, false)),
];
const SPACE: Fields = &[
    (b"id", How::Id),
    (b"key", How::Key),
    (b"name", How::Str),
    (b"type", How::Str),
    (b"status", How::Str),
    (b"authorId", How::Str),
    (b"createdAt", How::Str),
    (b"homepageId", How::Homepage),
    (b"_links", How::Links(LINKS_WEB, false)),
];
const SINGLE_PAGE: Fields = &[
    (b"id", How::Id),
    (b"status", How::Str),
    (b"title", How::Title),
    (b"spaceId", How::StrOrNum),
    (b"parentId", How::ParentId),
    (b"parentType", How::ParentType),
    (b"position", How::Num),
    (b"authorId", How::Str),
    (b"createdAt", How::Str),
    (b"version", How::Version),
    (b"body", How::Body),
    (b"labels", How::Labels),
    (b"directChildren", How::DirectChildren),
    (b"_links", How::Links(LINKS_PAGE, true)),
];
const SINGLE_BLOG_POST: Fields = &[
    (b"id", How::Id),
    (b"status", How::Str),
    (b"title", How::Title),
    (b"spaceId", How::StrOrNum),
    (b"authorId", How::Str),
    (b"createdAt", How::Str),
    (b"version", How::Version),
    (b"body", How::Body),
    (b"_links", How::Links(LINKS_PAGE, true)),
];

impl ItemShape {
    /// The allowlist of this shape.
    pub(super) fn fields(self) -> Fields {
        match self {
            ItemShape::Page => PAGE,
            ItemShape::BlogPost => BLOG_POST,
            ItemShape::ChildPage => CHILD_PAGE,
            ItemShape::DirectChild => DIRECT_CHILD,
            ItemShape::Descendant => DESCENDANT,
            ItemShape::Ancestor => ANCESTOR,
            ItemShape::Label => LABEL,
            ItemShape::Attachment => ATTACHMENT,
            ItemShape::FooterComment => FOOTER_COMMENT,
            ItemShape::Space => SPACE,
            ItemShape::SinglePage => SINGLE_PAGE,
            ItemShape::SingleBlogPost => SINGLE_BLOG_POST,
        }
    }
}
