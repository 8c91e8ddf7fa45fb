//! `GET pages/{id}` and `GET blogposts/{id}`: `PageSingle` / `BlogPostSingle` with
//! `body-format` (the rendered `view` family included — it runs the children macro as the
//! service account, as Confluence does), `include-version` (default true), `include-labels` and
//! (pages) `include-direct-children`.
//!
//! Guarantees: `include-labels` holds at most 50 labels in the page's own label order, with
//! `meta.hasMore` and a `meta.cursor` for `_links.self` (`/wiki/api/v2/pages/{id}/labels`) when
//! more remain — so the 60-label page 100036 hides its `org-acme` label (55th) beyond the cap;
//! `directChildren` likewise holds at most 50 children. A blog post id on `pages/{id}` (or a page
//! id on `blogposts/{id}`) answers 404, as Cloud does. Deliberately not: `include-properties`,
//! `-operations`, `-likes`, `-versions`, `-collaborators` (accepted, ignored), `get-draft`,
//! `version` (always the current version).

use super::super::corpus::{ContentKind, SimItem};
use super::super::json::J;
use super::paging;
use super::shapes::{self, json_reply};
use super::{item_of, Req, V2Result};

/// Body formats allowed on single objects.
const SINGLE_FORMATS: &[&str] = &[
    "storage",
    "atlas_doc_format",
    "view",
    "export_view",
    "anonymous_export_view",
    "styled_view",
    "editor",
];

/// The `labels` include of `item` (whose own labels list is at `pages/{id}/labels` or
/// `blogposts/{id}/labels`).
fn labels_include(req: &Req<'_>, item: &SimItem, collection: &str) -> J {
    let ids = shapes::label_ids(req.ctx.corpus);
    let labels: Vec<(u64, &str)> = item
        .labels
        .iter()
        .map(|l| (ids.get(l.as_str()).copied().unwrap_or(0), l.as_str()))
        .collect();
    let route = format!("{collection}/{}/labels", item.id);
    paging::included(&route, &labels, |(id, name)| shapes::label(*id, name))
}

fn single(req: &Req<'_>, item: &SimItem, collection: &str) -> V2Result {
    let format = req.body_format(SINGLE_FORMATS)?;
    let include_version = req.flag("include-version", true)?;
    let with_labels = req.flag("include-labels", false)?;
    let with_children =
        item.kind == ContentKind::Page && req.flag("include-direct-children", false)?;
    let mut out = shapes::content(req.ctx, item, format, include_version);
    out.remove("_links");
    if with_labels {
        out.push("labels", labels_include(req, item, collection));
    }
    if with_children {
        let corpus = req.ctx.corpus;
        let children = corpus.children(&item.id);
        let route = format!("pages/{}/direct-children", item.id);
        out.push(
            "directChildren",
            paging::included(&route, &children, |c| shapes::child(corpus, c)),
        );
    }
    out.push(
        "_links",
        shapes::content_links(item).with("base", req.ctx.wiki()),
    );
    Ok(json_reply(200, &out))
}

/// `GET pages/{id}`.
pub(super) fn page(req: &Req<'_>, raw: &str) -> V2Result {
    let item = item_of(req.ctx, raw, ContentKind::Page)?;
    single(req, item, "pages")
}

/// `GET blogposts/{id}`.
pub(super) fn blogpost(req: &Req<'_>, raw: &str) -> V2Result {
    let item = item_of(req.ctx, raw, ContentKind::BlogPost)?;
    single(req, item, "blogposts")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::confluence::Ctx;
    use crate::sim::corpus::{Corpus, MANY_LABELS_ID};
    use crate::sim::search::Params;

    #[test]
    fn the_labels_include_of_the_sixty_label_page_stops_before_its_org_label() {
        let corpus = Corpus::generate(7);
        let ctx = Ctx {
            corpus: &corpus,
            base_url: "http://127.0.0.1:9",
        };
        let params = Params::parse(Some("include-labels=true"));
        let req = Req {
            ctx: &ctx,
            route: "pages/100036",
            params: &params,
        };
        let item = corpus.get(MANY_LABELS_ID).unwrap();
        let v: serde_json::Value =
            serde_json::from_str(&shapes::encode(&labels_include(&req, item, "pages"))).unwrap();
        let names: Vec<&str> = v["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["name"].as_str().unwrap())
            .collect();
        assert_eq!(names.len(), 50);
        assert!(!names.contains(&"org-acme"));
        assert_eq!(v["meta"]["hasMore"], true);
        assert_eq!(v["_links"]["self"], "/wiki/api/v2/pages/100036/labels");
        let cursor = v["meta"]["cursor"].as_str().unwrap();
        assert_eq!(
            paging::read_cursor("pages/100036/labels", cursor).unwrap(),
            50
        );
    }
}
