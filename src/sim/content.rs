//! Content objects (pages, blog posts) in the shape of `cloud-v1-content-by-id*.json` and of
//! search results' `content`, with Confluence's expansions: `body.*`, `space`, `version`,
//! `history`, `ancestors`, `container`, `children.*`, `descendants.*`, `metadata.labels`
//! (nested expansions such as `ancestors.metadata.labels` are honoured).
//!
//! Guarantees: an expanded field is removed from `_expandable`, as Confluence does; unknown
//! expansions are ignored. Deliberately not: `operations`, `restrictions`.

use super::body;
use super::confluence::{history, labels, space, tinyui, version, webui, Ctx, Expand, Shape};
use super::corpus::SimItem;
use super::files_json;
use super::json::J;

/// A `{results,start,limit,size,_links}` page of content objects.
pub(crate) fn content_page(
    ctx: &Ctx<'_>,
    items: &[&SimItem],
    expand: &Expand,
    self_path: &str,
) -> J {
    let results: Vec<J> = items
        .iter()
        .map(|c| content(ctx, c, expand, Shape::ById))
        .collect();
    J::obj()
        .with("results", J::Arr(results))
        .with("start", 0u32)
        .with("limit", 25u32)
        .with("size", items.len())
        .with(
            "_links",
            J::obj()
                .with("self", format!("{}{self_path}", ctx.wiki()))
                .with("base", ctx.wiki())
                .with("context", "/wiki"),
        )
}

/// The `ContentChildren`/`ContentDescendants` map of `item` (`kind` = `child` or `descendant`):
/// each expanded type as a page of results, the others under `_expandable`. Descendant
/// attachments and comments are those of `item` itself (the simulator has no deeper ones).
pub(crate) fn tree(
    ctx: &Ctx<'_>,
    item: &SimItem,
    kind: &str,
    pages: &[&SimItem],
    expand: &Expand,
) -> J {
    let id = &item.id;
    let mut out = J::obj();
    let mut exp = J::obj();
    for name in ["page", "attachment", "comment"] {
        let path = format!("/rest/api/content/{id}/{kind}/{name}");
        if !expand.has(name) {
            exp.push(name, path);
            continue;
        }
        let sub = expand.sub(name);
        let list = match name {
            "page" => content_page(ctx, pages, &sub, &path),
            "attachment" => {
                let all = ctx
                    .corpus
                    .attachments(id)
                    .into_iter()
                    .map(|a| files_json::attachment(ctx, item, a))
                    .collect();
                files_json::paged(ctx, all, 0, 25, &path)
            }
            _ => {
                let all = ctx
                    .corpus
                    .comments(id)
                    .into_iter()
                    .map(|c| files_json::comment(ctx, item, c, &sub))
                    .collect();
                files_json::paged(ctx, all, 0, 25, &path)
            }
        };
        out.push(name, list);
    }
    out.with("_expandable", exp).with(
        "_links",
        J::obj().with(
            "self",
            format!("{}/rest/api/content/{id}/{kind}", ctx.wiki()),
        ),
    )
}

const BODY_FORMATS: &[&str] = &[
    "storage",
    "view",
    "export_view",
    "styled_view",
    "anonymous_export_view",
    "editor",
    "atlas_doc_format",
    "dynamic",
    "editor2",
];

fn body(ctx: &Ctx<'_>, item: &SimItem, expand: &Expand) -> J {
    let mut out = J::obj();
    let mut exp = J::obj();
    for &format in BODY_FORMATS {
        let value = match format {
            "storage" | "editor" => Some(body::storage(ctx.corpus, item)),
            "view" | "export_view" | "anonymous_export_view" => Some(body::view(ctx.corpus, item)),
            "styled_view" => Some(format!(
                "<html><head><style>body{{font-family:sans-serif}}</style></head><body>{}</body></html>",
                body::view(ctx.corpus, item)
            )),
            _ => None,
        };
        match value {
            Some(value) if expand.has(format) => out.push(
                format,
                J::obj()
                    .with("value", value)
                    .with("representation", format)
                    .with("embeddedContent", J::Arr(Vec::new()))
                    .with(
                        "_expandable",
                        J::obj().with("content", format!("/rest/api/content/{}", item.id)),
                    ),
            ),
            _ => exp.push(format, ""),
        }
    }
    out.with("_expandable", exp)
}

/// A content object (page or blog post) with the requested expansions.
pub(crate) fn content(ctx: &Ctx<'_>, item: &SimItem, expand: &Expand, shape: Shape) -> J {
    let id = &item.id;
    let key = &item.space_key;
    let mut out = J::obj()
        .with("id", id)
        .with("type", item.kind.as_str())
        .with("status", "current")
        .with("title", &item.title);
    let mut exp = match shape {
        Shape::ById => J::obj()
            .with("container", format!("/rest/api/space/{key}"))
            .with("metadata", "")
            .with(
                "restrictions",
                format!("/rest/api/content/{id}/restriction/byOperation"),
            )
            .with("history", format!("/rest/api/content/{id}/history"))
            .with("body", "")
            .with("version", "")
            .with("descendants", format!("/rest/api/content/{id}/descendant"))
            .with("space", format!("/rest/api/space/{key}"))
            .with("childTypes", "")
            .with("operations", "")
            .with("schedulePublishDate", "")
            .with("children", format!("/rest/api/content/{id}/child"))
            .with("ancestors", ""),
        Shape::Search => J::obj()
            .with("container", "")
            .with("metadata", "")
            .with("extensions", "")
            .with("operations", "")
            .with("children", "")
            .with("history", format!("/rest/api/content/{id}/history"))
            .with("ancestors", "")
            .with("body", "")
            .with("version", "")
            .with("descendants", "")
            .with("space", format!("/rest/api/space/{key}")),
    };
    let space_obj = ctx.corpus.space(key);
    for name in [
        "space",
        "history",
        "version",
        "ancestors",
        "container",
        "children",
        "descendants",
        "body",
        "metadata",
    ] {
        if !expand.has(name) {
            continue;
        }
        let sub = expand.sub(name);
        let value = match name {
            "space" | "container" => match space_obj {
                Some(s) => space(ctx, s, &sub),
                None => continue,
            },
            "history" => history(ctx, item),
            "version" => version(ctx, item),
            "ancestors" => J::Arr(
                ctx.corpus
                    .ancestors(id)
                    .iter()
                    .map(|a| content(ctx, a, &sub, Shape::ById))
                    .collect(),
            ),
            "children" => tree(ctx, item, "child", &ctx.corpus.children(id), &sub),
            "descendants" => tree(ctx, item, "descendant", &ctx.corpus.descendants(id), &sub),
            "body" => body(ctx, item, &sub),
            _ => {
                let mut meta = J::obj();
                let mut meta_exp = J::obj();
                if sub.has("labels") {
                    meta.push("labels", labels(ctx, item, false));
                } else {
                    meta_exp.push("labels", "");
                }
                for k in [
                    "currentuser",
                    "comments",
                    "simple",
                    "properties",
                    "frontend",
                    "likes",
                ] {
                    meta_exp.push(k, "");
                }
                meta.with("_expandable", meta_exp)
            }
        };
        out.push(name, value);
        exp.remove(name);
    }
    let links = J::obj().with("webui", webui(item));
    match shape {
        Shape::ById => out
            .with("macroRenderedOutput", J::obj())
            .with(
                "extensions",
                J::obj().with("position", item.id.parse::<i64>().unwrap_or(0) % 4096),
            )
            .with("_expandable", exp)
            .with(
                "_links",
                J::obj()
                    .with("editui", format!("/pages/resumedraft.action?draftId={id}"))
                    .with("webui", webui(item))
                    .with("context", "/wiki")
                    .with("self", format!("{}/rest/api/content/{id}", ctx.wiki()))
                    .with("tinyui", tinyui(id))
                    .with("collection", "/rest/api/content")
                    .with("base", ctx.wiki()),
            ),
        Shape::Search => out
            .with("childTypes", J::obj())
            .with("macroRenderedOutput", J::obj())
            .with("restrictions", J::obj())
            .with("_expandable", exp)
            .with(
                "_links",
                links
                    .with("self", format!("{}/rest/api/content/{id}", ctx.wiki()))
                    .with("tinyui", tinyui(id)),
            ),
    }
}
