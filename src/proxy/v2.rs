//! The Confluence Cloud REST v2 routes (`/wiki/api/v2/…`), served leak-proof: every page and
//! blog post in an answer is decided by its id (metadata index + policy), items are reduced to
//! an allowlist (`filter::v2`), and paging is kbgate's own (`walk.rs`, `cursor.rs`).
//!
//! Per route:
//! - `pages`, `blogposts`, `labels/{id}/pages`: a walk over upstream's list, each item decided
//!   (a label id nobody carries answers an empty list, like a label on hidden pages only);
//! - `pages/{id}` and `blogposts/{id}` (`single.rs`), `pages/{id}/…`: the page is decided first
//!   (hidden and missing are the same 404), then its children, descendants and ancestors each;
//!   its labels, attachments and footer comments belong to it;
//! - `spaces`, `spaces/{id}/pages` (`spaces.rs`): only the caller's KB spaces exist.
//!
//! Guarantees: upstream is asked with kbgate's own query built from the typed route, with
//! `status=current` on content lists; nothing from upstream reaches the client except through
//! `filter::v2`; upstream 404/403 on an item route is the uniform 404, any other upstream
//! failure 502/504. Deliberately not done: comment bodies, a space-id pre-filter on `pages`
//! (every page of the site is walked and decided; the walk's bound keeps a request short),
//! other v2 routes (404).

mod cursor;
mod single;
mod spaces;
mod walk;

use std::sync::Arc;

use crate::app::App;
use crate::filter::ItemShape;
use crate::ids::ContentId;
use crate::policy::{ItemMeta, OrgSet, Visibility};
use crate::route::v2::{ContentsQuery, LabelPagesQuery, RelatedQuery, Relation, V2Request};

use super::{Answer, ProxyError};
use walk::{walk, ListSpec, Missing, Rule};

pub use cursor::{Binding, CursorError, CursorKey, Position};
pub use spaces::SpaceKeyCache;
pub use walk::{MAX_UPSTREAM_CALLS, MIN_UPSTREAM_LIMIT};

/// Serves one v2 request for a caller with `orgs`.
pub async fn handle(
    app: &App,
    orgs: &OrgSet,
    req: &V2Request,
    request_id: &str,
) -> Result<Answer, ProxyError> {
    match req {
        V2Request::Contents(q) => {
            let (params, upstream_params) = contents_params(q);
            let list = ListSpec {
                name: req.name(),
                path: q.kind.segment().to_owned(),
                params,
                forward_params: true,
                upstream_params,
                shape: match q.kind {
                    crate::route::v2::V2Kind::Page => ItemShape::Page,
                    crate::route::v2::V2Kind::BlogPost => ItemShape::BlogPost,
                },
                rule: Rule::Content,
                missing: Missing::NotFound,
            };
            walk(app, orgs, &list, &q.paging, request_id).await
        }
        V2Request::SpacePages(q) => spaces::space_pages(app, orgs, q, request_id).await,
        V2Request::Single(q) => single::single(app, orgs, q, request_id).await,
        V2Request::Related(q) => {
            visible_meta(app, orgs, &q.id, request_id).await?;
            walk(app, orgs, &related(q), &q.paging, request_id).await
        }
        V2Request::Spaces(q) => spaces::spaces(app, orgs, q, request_id).await,
        V2Request::LabelPages(q) => walk(app, orgs, &label_pages(q), &q.paging, request_id).await,
    }
}

/// Query parameters, in order.
type Params = Vec<(&'static str, String)>;

/// The shaping parameters of a content list (client-visible) and the upstream-only ones
/// (`status=current` when the client did not say it).
fn contents_params(q: &ContentsQuery) -> (Params, Params) {
    let mut params = Vec::new();
    if !q.space_ids.is_empty() {
        params.push(("space-id", q.space_ids.join(",")));
    }
    if let Some(title) = &q.title {
        params.push(("title", title.clone()));
    }
    if let Some(sort) = q.sort {
        params.push(("sort", sort.wire().to_owned()));
    }
    let status = ("status", "current".to_owned());
    if q.status_current {
        params.push(status);
        (params, Vec::new())
    } else {
        (params, vec![status])
    }
}

/// The list of `pages/{id}/{relation}`.
fn related(q: &RelatedQuery) -> ListSpec {
    let (shape, rule) = match q.relation {
        Relation::Children => (ItemShape::ChildPage, Rule::Content),
        Relation::DirectChildren => (ItemShape::DirectChild, Rule::Content),
        Relation::Descendants => (ItemShape::Descendant, Rule::Content),
        Relation::Ancestors => (ItemShape::Ancestor, Rule::Content),
        Relation::Labels => (ItemShape::Label, Rule::All),
        Relation::Attachments => (ItemShape::Attachment, Rule::OwnedBy(q.id.to_string())),
        Relation::FooterComments => (ItemShape::FooterComment, Rule::OwnedBy(q.id.to_string())),
    };
    ListSpec {
        name: q.relation.name(),
        path: format!("pages/{}/{}", q.id, q.relation.segment()),
        params: q
            .depth
            .map(|d| ("depth", d.to_string()))
            .into_iter()
            .collect(),
        forward_params: true,
        upstream_params: Vec::new(),
        shape,
        rule,
        missing: Missing::NotFound,
    }
}

/// The list of `labels/{id}/pages`: no label name is ever written, only its id.
fn label_pages(q: &LabelPagesQuery) -> ListSpec {
    ListSpec {
        name: "v2_label_pages",
        path: format!("labels/{}/pages", q.label_id),
        params: Vec::new(),
        forward_params: true,
        upstream_params: vec![("status", "current".to_owned())],
        shape: ItemShape::Page,
        rule: Rule::Content,
        missing: Missing::Empty,
    }
}

/// The metadata of `id` when the caller may see it; hidden and unknown are both
/// [`ProxyError::NotFound`] (`require_visible` semantics).
async fn visible_meta(
    app: &App,
    orgs: &OrgSet,
    id: &ContentId,
    request_id: &str,
) -> Result<Arc<ItemMeta>, ProxyError> {
    let metas = app
        .metadata
        .lookup(&app.upstream, std::slice::from_ref(id), request_id)
        .await?;
    let meta = metas.get(id).ok_or(ProxyError::NotFound)?;
    match app.decide(orgs, meta) {
        Visibility::Visible(_) => Ok(meta.clone()),
        Visibility::Hidden(_) => Err(ProxyError::NotFound),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::route::v2::{V2Kind, V2Paging, V2Sort};

    fn paging() -> V2Paging {
        V2Paging {
            limit: 2,
            cursor: None,
        }
    }

    #[test]
    fn content_lists_always_ask_upstream_for_current_content_only() {
        let q = ContentsQuery {
            kind: V2Kind::Page,
            space_ids: vec!["1".into(), "2".into()],
            title: Some("T".into()),
            status_current: false,
            sort: Some(V2Sort::TitleDesc),
            paging: paging(),
        };
        let (params, upstream) = contents_params(&q);
        assert_eq!(
            params,
            vec![
                ("space-id", "1,2".to_owned()),
                ("title", "T".to_owned()),
                ("sort", "-title".to_owned())
            ]
        );
        assert_eq!(upstream, vec![("status", "current".to_owned())]);
        let (params, upstream) = contents_params(&ContentsQuery {
            status_current: true,
            ..q
        });
        assert!(params.contains(&("status", "current".to_owned())) && upstream.is_empty());
    }

    #[test]
    fn a_pages_attachments_and_comments_must_name_that_page() {
        let q = RelatedQuery {
            id: ContentId::new("100001").unwrap(),
            relation: Relation::Attachments,
            depth: None,
            paging: paging(),
        };
        let list = related(&q);
        assert_eq!(list.path, "pages/100001/attachments");
        assert!(matches!(list.rule, Rule::OwnedBy(ref p) if p == "100001"));
        let list = related(&RelatedQuery {
            relation: Relation::Descendants,
            depth: Some(3),
            ..q
        });
        assert_eq!(list.params, vec![("depth", "3".to_owned())]);
        assert!(matches!(list.rule, Rule::Content));
    }
}
