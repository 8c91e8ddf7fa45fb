//! v1 JSON of attachments and comments (`content/{id}/child/attachment`, `child/comment`), in the
//! shapes of `cloud-v1-content-child-attachment.json` and `cloud-v1-content-child-comment.json`.
//!
//! Guarantees: an attachment's `title` is its file name and its `_links.download` is
//! `/download/attachments/{pageId}/{file}`; a comment's `title` is `Re: <page title>` and its
//! `_expandable.container` names the page — the title-bearing places a filter must decide.
//! Deliberately not: attachment versions, comment replies, inline comments.

use super::body::escape_xml;
use super::confluence::{slug, Ctx, Expand};
use super::corpus::SimItem;
use super::corpus_files::{SimAttachment, SimComment};
use super::json::J;

/// Percent-encodes a file name for a URL path segment (unreserved characters kept).
pub(crate) fn encode_file_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn page_webui(page: &SimItem) -> String {
    format!(
        "/spaces/{}/pages/{}/{}",
        page.space_key,
        page.id,
        slug(&page.title)
    )
}

/// One attachment of `page`.
pub(crate) fn attachment(ctx: &Ctx<'_>, page: &SimItem, att: &SimAttachment) -> J {
    let number = att.id.trim_start_matches("att");
    let file = encode_file_name(&att.file_name);
    J::obj()
        .with("id", &att.id)
        .with("type", "attachment")
        .with("status", "current")
        .with("title", &att.file_name)
        .with("macroRenderedOutput", J::obj())
        .with("metadata", J::obj().with("mediaType", att.media_type))
        .with(
            "extensions",
            J::obj()
                .with("mediaType", att.media_type)
                .with("fileSize", att.data.len())
                .with("comment", "")
                .with("mediaTypeDescription", att.media_type)
                .with("fileId", format!("sim-file-{number}"))
                .with("collectionName", format!("contentId-{}", page.id)),
        )
        .with(
            "_expandable",
            J::obj()
                .with("container", format!("/rest/api/content/{}", page.id))
                .with("history", format!("/rest/api/content/{}/history", att.id))
                .with("space", format!("/rest/api/space/{}", page.space_key)),
        )
        .with(
            "_links",
            J::obj()
                .with(
                    "webui",
                    format!(
                        "{}?preview=%2F{}%2F{number}%2F{file}",
                        page_webui(page),
                        page.id
                    ),
                )
                .with(
                    "self",
                    format!("{}/rest/api/content/{}", ctx.wiki(), att.id),
                )
                .with(
                    "download",
                    format!(
                        "/download/attachments/{}/{file}?version=1&modificationDate={}000&api=v2",
                        page.id, page.last_modified
                    ),
                ),
        )
}

/// One footer comment on `page`; `expand` may ask for `body.storage` and `container`.
pub(crate) fn comment(ctx: &Ctx<'_>, page: &SimItem, c: &SimComment, expand: &Expand) -> J {
    let mut out = J::obj()
        .with("id", &c.id)
        .with("type", "comment")
        .with("status", "current")
        .with("title", &c.title)
        .with("macroRenderedOutput", J::obj())
        .with("extensions", J::obj().with("location", "footer"));
    if expand.has("body") {
        out.push(
            "body",
            J::obj().with(
                "storage",
                J::obj()
                    .with("value", format!("<p>{}</p>", escape_xml(&c.text)))
                    .with("representation", "storage"),
            ),
        );
    }
    out.with(
        "_expandable",
        J::obj()
            .with("container", format!("/rest/api/content/{}", page.id))
            .with("body", "")
            .with("version", "")
            .with("ancestors", ""),
    )
    .with(
        "_links",
        J::obj()
            .with(
                "webui",
                format!(
                    "{}?focusedCommentId={}#comment-{}",
                    page_webui(page),
                    c.id,
                    c.id
                ),
            )
            .with("self", format!("{}/rest/api/content/{}", ctx.wiki(), c.id)),
    )
}

/// A `{results,start,limit,size,_links}` page of already built objects, sliced by the request's
/// `start`/`limit` (default 25), with a `next` link when more remain.
pub(crate) fn paged(ctx: &Ctx<'_>, all: Vec<J>, start: usize, limit: usize, self_path: &str) -> J {
    let total = all.len();
    let page: Vec<J> = all.into_iter().skip(start).take(limit).collect();
    let size = page.len();
    let mut links = J::obj()
        .with("self", format!("{}{self_path}", ctx.wiki()))
        .with("base", ctx.wiki())
        .with("context", "/wiki");
    if start + size < total {
        links.push(
            "next",
            format!(
                "/rest/api{}?start={}&limit={limit}",
                self_path.trim_start_matches("/rest/api"),
                start + size
            ),
        );
    }
    J::obj()
        .with("results", J::Arr(page))
        .with("start", start)
        .with("limit", limit)
        .with("size", size)
        .with("_links", links)
}
