//! The v2 JSON objects: `PageBulk`/`PageSingle`, `BlogPostBulk`/`Single`, `ChildrenResponse`,
//! `DescendantsResponse`, `Ancestor`, `Label`, `AttachmentBulk`, `PageCommentModel`, `SpaceBulk`,
//! the error body — and the serializer that writes them (which, unlike [`J::to_json`], knows
//! `null`).
//!
//! Guarantees: key order and field names follow the spec's schemas and the `cloud-v2-*` samples;
//! every title-bearing place (`title`, `_links.webui` slugs, comment titles `Re: …`, attachment
//! file names in `webuiLink`/`downloadLink`) is filled from the corpus, so a leak through any of
//! them is visible. Label ids come from [`label_table`]: one id per distinct label name, the same
//! in every v2 answer. Deliberately not: the v1 label ids (`rest/api/…/label`), which the v1
//! builders derive on their own.

use std::collections::HashMap;

use super::super::body;
use super::super::confluence::{tinyui, webui, Ctx};
use super::super::corpus::{ContentKind, Corpus, SimItem, SimSpace};
use super::super::corpus_files::{SimAttachment, SimComment};
use super::super::dates;
use super::super::http::Reply;
use super::super::json::{write_str, J};
use super::adf;

/// Account id of every author and owner (the same writer as the v1 answers).
pub(super) const AUTHOR: &str = "557058:sim-writer";
/// Id of the first label in [`label_table`]; the others follow in order.
pub(super) const FIRST_LABEL_ID: u64 = 20_001;
/// When the simulated spaces were created.
const SPACE_CREATED: i64 = 1_700_470_800;

/// JSON `null`. [`J`] has no null, so a NaN float stands for it (JavaScript writes NaN as
/// `null` too); only [`encode`] knows, [`J::to_json`] would write `0`.
pub(super) fn null() -> J {
    J::Float(f64::NAN)
}

/// `value`, or `null`.
pub(super) fn or_null(value: Option<impl Into<J>>) -> J {
    value.map_or_else(null, Into::into)
}

/// Serializes `j` compactly, writing [`null`] as `null`.
pub(super) fn encode(j: &J) -> String {
    let mut out = String::new();
    write(j, &mut out);
    out
}

fn write(j: &J, out: &mut String) {
    match j {
        J::Float(f) if f.is_nan() => out.push_str("null"),
        J::Str(s) => write_str(s, out),
        J::Arr(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(item, out);
            }
            out.push(']');
        }
        J::Obj(entries) => {
            out.push('{');
            for (i, (k, v)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_str(k, out);
                out.push(':');
                write(v, out);
            }
            out.push('}');
        }
        other => out.push_str(&other.to_json()),
    }
}

/// A JSON answer serialized with [`encode`].
pub(super) fn json_reply(status: u16, body: &J) -> Reply {
    Reply {
        status,
        content_type: "application/json;charset=UTF-8",
        body: encode(body).into(),
        headers: Vec::new(),
    }
}

/// v2's error body: `{"errors":[{"status","code","title","detail":null}]}`.
pub(super) fn error_body(status: u16, code: &str, title: &str) -> J {
    let error = J::obj()
        .with("status", u32::from(status))
        .with("code", code)
        .with("title", title)
        .with("detail", null());
    J::obj().with("errors", J::Arr(vec![error]))
}

/// Every distinct label name of the site, in order of first appearance (items in table order,
/// each item's labels in its own order). The label at index `i` has id `FIRST_LABEL_ID + i`.
pub(super) fn label_table(corpus: &Corpus) -> Vec<&str> {
    let mut seen = std::collections::HashSet::new();
    corpus
        .items()
        .iter()
        .flat_map(|i| i.labels.iter())
        .map(String::as_str)
        .filter(|l| seen.insert(*l))
        .collect()
}

/// Label name → id, for every label of the site.
pub(super) fn label_ids(corpus: &Corpus) -> HashMap<&str, u64> {
    label_table(corpus)
        .into_iter()
        .zip(FIRST_LABEL_ID..)
        .collect()
}

/// A `Label`: `{id, name, prefix}`.
pub(super) fn label(id: u64, name: &str) -> J {
    J::obj()
        .with("id", id.to_string())
        .with("name", name)
        .with("prefix", "global")
}

/// The numeric id of the space with key `key` (0 when unknown, which the corpus never has).
pub(super) fn space_id(corpus: &Corpus, key: &str) -> u64 {
    corpus.space(key).map_or(0, |s| s.id)
}

/// An item's position among its siblings: same parent, or (for roots) same space and kind.
pub(super) fn position(corpus: &Corpus, item: &SimItem) -> usize {
    corpus
        .items()
        .iter()
        .filter(|i| {
            i.parent_id == item.parent_id && i.space_key == item.space_key && i.kind == item.kind
        })
        .position(|i| i.id == item.id)
        .unwrap_or(0)
}

fn version(item: &SimItem) -> J {
    J::obj()
        .with("createdAt", dates::iso8601(item.last_modified))
        .with("message", "")
        .with("number", item.version)
        .with("minorEdit", false)
        .with("authorId", AUTHOR)
}

/// A body of `format` (`None` → `{}`), as a `BodyType` map keyed by the representation.
pub(super) fn body(ctx: &Ctx<'_>, item: &SimItem, format: Option<&str>) -> J {
    let value = match format {
        None => return J::obj(),
        Some("atlas_doc_format") => encode(&adf::document(ctx, item)),
        Some("view" | "export_view" | "anonymous_export_view") => body::view(ctx.corpus, item),
        Some("styled_view") => format!(
            "<html><head><style>body{{font-family:sans-serif}}</style></head><body>{}</body></html>",
            body::view(ctx.corpus, item)
        ),
        Some(_) => body::storage(ctx.corpus, item),
    };
    let name = format.unwrap_or("storage");
    J::obj().with(
        name,
        J::obj().with("representation", name).with("value", value),
    )
}

/// `PageBulk` (or `BlogPostBulk` for a blog post) with the body in `format`; `include_version`
/// false drops `version` (only `pages/{id}` and `blogposts/{id}` allow that).
pub(super) fn content(
    ctx: &Ctx<'_>,
    item: &SimItem,
    format: Option<&str>,
    include_version: bool,
) -> J {
    let corpus = ctx.corpus;
    let mut out = J::obj()
        .with("id", &item.id)
        .with("status", "current")
        .with("title", &item.title)
        .with("spaceId", space_id(corpus, &item.space_key).to_string());
    if item.kind == ContentKind::Page {
        out.push("parentId", or_null(item.parent_id.as_ref()));
        out.push(
            "parentType",
            or_null(item.parent_id.as_ref().map(|_| "page")),
        );
        out.push("position", position(corpus, item));
    }
    out.push("authorId", AUTHOR);
    if item.kind == ContentKind::Page {
        out.push("ownerId", AUTHOR);
        out.push("lastOwnerId", null());
    }
    out.push("createdAt", dates::iso8601(item.created));
    if include_version {
        out.push("version", version(item));
    }
    out.with("body", body(ctx, item, format))
        .with("_links", content_links(item))
}

/// `_links` of a page or blog post: `webui` (title slug), `editui`, `tinyui`.
pub(super) fn content_links(item: &SimItem) -> J {
    J::obj()
        .with("webui", webui(item))
        .with(
            "editui",
            format!("/pages/resumedraft.action?draftId={}", item.id),
        )
        .with("tinyui", tinyui(&item.id))
}

/// A `ChildrenResponse` (`direct-children`, `directChildren`).
pub(super) fn child(corpus: &Corpus, item: &SimItem) -> J {
    J::obj()
        .with("id", &item.id)
        .with("status", "current")
        .with("title", &item.title)
        .with("type", "page")
        .with("spaceId", space_id(corpus, &item.space_key).to_string())
        .with("childPosition", position(corpus, item))
}

/// A `ChildPage` of the deprecated `pages/{id}/children`, with the extra fields client mocks show
/// (`parentId`, `authorId`, `_links.webui`/`self`).
pub(super) fn child_page(ctx: &Ctx<'_>, item: &SimItem) -> J {
    let corpus = ctx.corpus;
    J::obj()
        .with("id", &item.id)
        .with("status", "current")
        .with("title", &item.title)
        .with("spaceId", space_id(corpus, &item.space_key).to_string())
        .with("childPosition", position(corpus, item))
        .with("parentId", or_null(item.parent_id.as_ref()))
        .with("authorId", AUTHOR)
        .with(
            "_links",
            J::obj()
                .with("webui", webui(item))
                .with("self", format!("{}/api/v2/pages/{}", ctx.wiki(), item.id)),
        )
}

/// A `DescendantsResponse` at `depth` below the asked page.
pub(super) fn descendant(corpus: &Corpus, item: &SimItem, depth: usize) -> J {
    J::obj()
        .with("id", &item.id)
        .with("status", "current")
        .with("title", &item.title)
        .with("type", "page")
        .with("parentId", or_null(item.parent_id.as_ref()))
        .with("depth", depth)
        .with("childPosition", position(corpus, item))
}

/// An `Ancestor`: id and type only.
pub(super) fn ancestor(item: &SimItem) -> J {
    J::obj().with("id", &item.id).with("type", "page")
}

/// Percent-encodes a file name for a URL path segment (unreserved characters kept).
pub(super) fn encode_file(name: &str) -> String {
    const KEEP: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    percent_encoding::utf8_percent_encode(name, KEEP).to_string()
}

/// An `AttachmentBulk` of `page`.
pub(super) fn attachment(page: &SimItem, att: &SimAttachment) -> J {
    let number = att.id.trim_start_matches("att");
    let file = encode_file(&att.file_name);
    let webui_link = format!("{}?preview=%2F{}%2F{number}%2F{file}", webui(page), page.id);
    let download = format!(
        "/download/attachments/{}/{file}?version=1&modificationDate={}000&api=v2",
        page.id, page.last_modified
    );
    J::obj()
        .with("id", &att.id)
        .with("status", "current")
        .with("title", &att.file_name)
        .with("createdAt", dates::iso8601(page.created))
        .with("pageId", &page.id)
        .with("mediaType", att.media_type)
        .with("mediaTypeDescription", media_description(att.media_type))
        .with("comment", "")
        .with("fileId", format!("sim-file-{number}"))
        .with("fileSize", att.data.len())
        .with("webuiLink", webui_link.clone())
        .with("downloadLink", download.clone())
        .with(
            "version",
            J::obj()
                .with("createdAt", dates::iso8601(page.created))
                .with("message", "")
                .with("number", 1u32)
                .with("minorEdit", false)
                .with("authorId", AUTHOR),
        )
        .with(
            "_links",
            J::obj()
                .with("webui", webui_link)
                .with("download", download),
        )
}

fn media_description(media_type: &str) -> &'static str {
    match media_type {
        "image/png" => "PNG Image",
        "application/pdf" => "PDF Document",
        _ => "Text File",
    }
}

/// A footer comment (`PageCommentModel`) on `page`, body in `format` (`None` → `{}`).
pub(super) fn comment(page: &SimItem, c: &SimComment, format: Option<&str>) -> J {
    let body = match format {
        None => J::obj(),
        Some("atlas_doc_format") => J::obj().with(
            "atlas_doc_format",
            J::obj()
                .with("representation", "atlas_doc_format")
                .with("value", encode(&adf::plain_document(&c.text))),
        ),
        Some(_) => J::obj().with(
            "storage",
            J::obj()
                .with("representation", "storage")
                .with("value", format!("<p>{}</p>", body::escape_xml(&c.text))),
        ),
    };
    J::obj()
        .with("id", &c.id)
        .with("status", "current")
        .with("title", &c.title)
        .with("pageId", &page.id)
        .with(
            "version",
            J::obj()
                .with("createdAt", dates::iso8601(page.last_modified + 3_600))
                .with("message", "")
                .with("number", 1u32)
                .with("minorEdit", false)
                .with("authorId", AUTHOR),
        )
        .with("body", body)
        .with(
            "_links",
            J::obj().with(
                "webui",
                format!("{}?focusedCommentId={}#comment-{}", webui(page), c.id, c.id),
            ),
        )
}

/// A `SpaceBulk`; `description` is `null` unless `description_format` (`plain`/`view`) asks.
pub(super) fn space(space: &SimSpace, description_format: Option<&str>) -> J {
    let description = match description_format {
        None => null(),
        Some(format) => {
            let text = format!("{}: articles and notes.", space.name);
            let value = if format == "view" {
                format!("<p>{}</p>", body::escape_xml(&text))
            } else {
                text
            };
            J::obj().with(
                format,
                J::obj().with("representation", format).with("value", value),
            )
        }
    };
    J::obj()
        .with("id", space.id.to_string())
        .with("key", &space.key)
        .with("name", &space.name)
        .with("type", "global")
        .with("status", "current")
        .with("authorId", AUTHOR)
        .with("createdAt", dates::iso8601(SPACE_CREATED))
        .with("homepageId", &space.homepage_id)
        .with("description", description)
        .with("icon", null())
        .with(
            "_links",
            J::obj().with("webui", format!("/spaces/{}", space.key)),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_writes_nan_as_null_and_everything_else_like_to_json() {
        let j = J::obj()
            .with("a", null())
            .with("b", J::Arr(vec![J::Int(1), J::Float(0.5), J::Bool(true)]))
            .with("c", "x\"y");
        assert_eq!(encode(&j), r#"{"a":null,"b":[1,0.5,true],"c":"x\"y"}"#);
        assert_eq!(encode(&or_null(Some("v"))), r#""v""#);
    }

    #[test]
    fn label_ids_are_distinct_and_follow_first_appearance() {
        let corpus = Corpus::generate(7);
        let table = label_table(&corpus);
        let ids = label_ids(&corpus);
        assert_eq!(ids.len(), table.len(), "no two names share an id");
        assert_eq!(ids.get(table[0]), Some(&FIRST_LABEL_ID));
        let again = Corpus::generate(7);
        assert_eq!(label_table(&again), table, "stable for a seed");
    }

    #[test]
    fn file_names_are_encoded_for_a_path_segment() {
        assert_eq!(
            encode_file("diagram a/b é.png"),
            "diagram%20a%2Fb%20%C3%A9.png"
        );
    }
}
