//! `pages/{id}` and `blogposts/{id}`: one item, decided before anything is fetched, then its
//! labels (all of them), parent, direct children and storage body.
//!
//! Guarantees: a hidden item and a missing one are the same [`ProxyError::NotFound`]; with
//! `include-labels`, every label is fetched (following `pages/{id}/labels` when upstream says
//! there are more than it sent, at most [`MAX_LABEL_CALLS`] pages) and the item is decided again
//! with exactly those labels — a label kbgate's metadata did not know (another organization's,
//! or the internal one) hides the item; a label list kbgate cannot finish hides it too (fail
//! closed). The parent is named, and each direct child listed, only when visible; a storage
//! body goes through `body_rewrite::rewrite`, an ADF body through `filter::adf` with every id
//! its URLs name decided in one batch.
//!
//! Deliberately not done: versions, properties, operations and the other `include-*`
//! expansions (refused by the route).

use bytes::Bytes;

use crate::app::App;
use crate::confluence::UpstreamError;
use crate::filter::adf::{self, AdfError};
use crate::filter::{
    render_v2_single, scan_v2_list, scan_v2_single, FilterError, ItemShape, RenderContext,
    V2ListScan,
};
use crate::ids::ContentId;
use crate::policy::{ItemMeta, Labels, OrgSet};
use crate::route::v2::{SingleQuery, V2Kind};

use super::super::missing_on_404;
use super::super::{body_rewrite, Answer, ProxyError};
use super::visible_meta;
use super::walk::decide_ids;

/// Most `pages/{id}/labels` pages fetched to complete a page's labels (250 labels each).
pub const MAX_LABEL_CALLS: usize = 20;

/// `GET pages/{id}` or `GET blogposts/{id}`.
pub(super) async fn single(
    app: &App,
    orgs: &OrgSet,
    q: &SingleQuery,
    request_id: &str,
) -> Result<Answer, ProxyError> {
    let meta = visible_meta(app, orgs, &q.id, request_id).await?;
    let body = app
        .upstream
        .get_site_json(&upstream_path(q), request_id)
        .await
        .map_err(missing_on_404)?;
    let shape = match q.kind {
        V2Kind::Page => ItemShape::SinglePage,
        V2Kind::BlogPost => ItemShape::SingleBlogPost,
    };
    let scan = scan_v2_single(&body, shape)?;
    if scan.id() != q.id.as_str() {
        return Err(ProxyError::UpstreamMismatch);
    }

    let fetched = if q.include_labels && scan.labels_have_more() {
        Some(all_labels(app, &q.id, request_id).await?)
    } else {
        None
    };
    if q.include_labels {
        let names: crate::policy::LabelNames = match &fetched {
            Some(pages) => pages
                .iter()
                .flat_map(|(scan, _)| scan.items().iter().filter_map(|l| l.name()))
                .map(Into::into)
                .collect(),
            None => scan.label_names().map(Into::into).collect(),
        };
        let seen = ItemMeta {
            labels: Labels::Complete(names),
            ..(*meta).clone()
        };
        if !app.decide(orgs, &seen).is_visible() {
            tracing::info!(
                content.id = %q.id,
                reason = "labels_disagree_with_metadata",
                "hidden"
            );
            return Err(ProxyError::NotFound);
        }
    }

    let mut ids: Vec<ContentId> = scan
        .direct_child_ids()
        .chain(scan.parent_id())
        .filter_map(|id| ContentId::new(id).ok())
        .collect();
    ids.dedup();
    let decisions = decide_ids(app, orgs, &ids, request_id)
        .await
        .unwrap_or_else(|e| {
            // Undecided parent and children are hidden: the answer loses them, never leaks.
            tracing::warn!(reason = "metadata_lookup_failed", error = %e, "children hidden");
            Default::default()
        });
    let visible = |id: &str| decisions.get(id).copied().unwrap_or(false);

    let rewritten = match scan.storage_body(&body)? {
        Some(xhtml) => {
            let mode = body_rewrite::BodyMode::Api;
            let (body, _) =
                body_rewrite::rewrite(app, orgs, &xhtml, &meta, mode, request_id).await?;
            Some(body)
        }
        None => None,
    };
    let rewritten_adf = match scan.adf_body(&body)? {
        Some(doc) => Some(rewrite_adf(app, orgs, &doc, &q.id, request_id).await?),
        None => None,
    };
    let label_refs: Option<Vec<(&V2ListScan, &[u8])>> = fetched
        .as_ref()
        .map(|pages| pages.iter().map(|(s, b)| (s, b.as_ref())).collect());
    let base = app.links.v2_base();
    let download = |page: &str, file: &str| app.links.v2_download(page, file);
    let labels_self = app.links.v2_path(&format!("pages/{}/labels", q.id));
    let children_self = app
        .links
        .v2_path(&format!("pages/{}/direct-children", q.id));
    let ctx = RenderContext {
        visible: &visible,
        download: &download,
        base: &base,
        storage: rewritten.as_deref(),
        adf: rewritten_adf.as_deref(),
        fetched_labels: label_refs.as_deref(),
        labels_self: &labels_self,
        children_self: &children_self,
    };
    let out = render_v2_single(&scan, &body, &ctx)?;
    Ok(Answer {
        body: out,
        route: match q.kind {
            V2Kind::Page => "v2_page",
            V2Kind::BlogPost => "v2_blogpost",
        },
        ..Default::default()
    })
}

/// The ADF body `doc` of page `id`, rewritten for a caller with `orgs`: every content id its
/// URLs name decided in one batch (a failed lookup hides them all).
async fn rewrite_adf(
    app: &App,
    orgs: &OrgSet,
    doc: &str,
    id: &ContentId,
    request_id: &str,
) -> Result<String, ProxyError> {
    let refused = |e: AdfError| {
        tracing::warn!(reason = "adf_body_refused", error = %e, "ADF body refused");
        ProxyError::Filter(FilterError::Shape("ADF body refused"))
    };
    let ids: Vec<ContentId> = adf::scan_adf(doc, id.as_str())
        .map_err(refused)?
        .iter()
        .filter_map(|i| ContentId::new(i).ok())
        .collect();
    let decisions = decide_ids(app, orgs, &ids, request_id)
        .await
        .unwrap_or_else(|e| {
            tracing::warn!(reason = "metadata_lookup_failed", error = %e, "ADF links hidden");
            Default::default()
        });
    let visible = |i: &str| decisions.get(i).copied().unwrap_or(false);
    let rewritten = adf::rewrite_adf(doc, id.as_str(), &visible).map_err(refused)?;
    if rewritten.removed > 0 {
        tracing::debug!(content.id = %id, filter.removed_nodes = rewritten.removed, "ADF rewritten");
    }
    Ok(rewritten.body)
}

/// Upstream's URL for the item, from the typed query.
fn upstream_path(q: &SingleQuery) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    if let Some(format) = q.body_format {
        query.append_pair("body-format", format.wire());
    }
    if q.include_labels {
        query.append_pair("include-labels", "true");
    }
    if q.include_direct_children {
        query.append_pair("include-direct-children", "true");
    }
    query.append_pair(
        "include-version",
        if q.include_version { "true" } else { "false" },
    );
    format!(
        "/wiki/api/v2/{}/{}?{}",
        q.kind.segment(),
        q.id,
        query.finish()
    )
}

/// Every label of page `id`, page by page; more than [`MAX_LABEL_CALLS`] pages is
/// [`ProxyError::NotFound`] (labels kbgate cannot see in full hide the page).
async fn all_labels(
    app: &App,
    id: &ContentId,
    request_id: &str,
) -> Result<Vec<(V2ListScan, Bytes)>, ProxyError> {
    let mut pages = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..MAX_LABEL_CALLS {
        let path = labels_path(id, cursor.as_deref());
        let body = app
            .upstream
            .get_site_json(&path, request_id)
            .await
            .map_err(|e| match e {
                UpstreamError::Status(s) if s == http::StatusCode::NOT_FOUND => {
                    ProxyError::NotFound
                }
                other => ProxyError::Upstream(other),
            })?;
        let scan = scan_v2_list(&body, ItemShape::Label)?;
        cursor = scan.next_cursor().map(str::to_owned);
        pages.push((scan, body));
        if cursor.is_none() {
            return Ok(pages);
        }
    }
    app.hidden(id, "labels_beyond_bound");
    Err(ProxyError::NotFound)
}

/// Upstream's URL of one page of 250 labels of page `id`.
fn labels_path(id: &ContentId, cursor: Option<&str>) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    query.append_pair("limit", "250");
    if let Some(c) = cursor {
        query.append_pair("cursor", c);
    }
    format!("/wiki/api/v2/pages/{id}/labels?{}", query.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::route::v2::V2BodyFormat;

    #[test]
    fn upstream_is_asked_for_storage_and_the_includes_the_client_named() {
        let q = SingleQuery {
            kind: V2Kind::Page,
            id: ContentId::new("100036").unwrap(),
            body_format: Some(V2BodyFormat::Storage),
            include_labels: true,
            include_direct_children: false,
            include_version: true,
        };
        assert_eq!(
            upstream_path(&q),
            "/wiki/api/v2/pages/100036?body-format=storage&include-labels=true&include-version=true"
        );
        let q = SingleQuery {
            kind: V2Kind::BlogPost,
            body_format: None,
            include_labels: false,
            include_version: false,
            ..q
        };
        assert_eq!(
            upstream_path(&q),
            "/wiki/api/v2/blogposts/100036?include-version=false"
        );
    }
}
