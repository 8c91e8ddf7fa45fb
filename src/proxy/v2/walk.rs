//! The paging walk shared by every v2 list: resume at kbgate's cursor, fetch upstream pages,
//! decide every item, write the visible ones, and stop with a full page (or upstream's end).
//!
//! Guarantees:
//! - pages are kept full: an answer holds `limit` items unless upstream ran out or the walk hit
//!   its bound ([`MAX_UPSTREAM_CALLS`] upstream pages per request); after collecting `limit`
//!   items the walk looks on for the next visible one, so `next` is given only when one exists
//!   (within the bound), and kbgate's cursor points exactly at it;
//! - every content item is decided by its id (metadata lookup + policy, one batch per upstream
//!   page); no metadata, or a type other than page or blog post, is hidden; parents are named
//!   only when visible; a failed lookup fails the request (502), never shows anything;
//! - kbgate's cursor binds the route text, so a cursor of another route, list or page id is 400;
//!   upstream's cursor is never shown (it travels sealed inside kbgate's);
//! - upstream is asked with kbgate's own query (the typed parameters), never the client's.
//!
//! Deliberately not done: hiding how many items were skipped when the bound is hit (the answer
//! is then short, with a `next`); ordering of its own (upstream's order is kept).

use std::collections::HashMap;

use crate::app::App;
use crate::filter::{scan_v2_list, ItemShape, RenderContext, V2Item, V2ListWriter};
use crate::ids::{ContentId, SpaceKey};
use crate::policy::OrgSet;
use crate::route::v2::V2Paging;
use crate::route::{QueryError, RouteError};

use super::super::spaces::space_exists_for;
use super::super::{Answer, ProxyError};
use super::cursor::{Binding, Position};

/// Most upstream pages fetched for one answer.
pub const MAX_UPSTREAM_CALLS: usize = 10;
/// Smallest upstream page asked for: small client pages walk upstream in bigger steps.
pub const MIN_UPSTREAM_LIMIT: u32 = 25;

/// Which items of a list the caller may see.
#[derive(Debug, Clone)]
pub(super) enum Rule {
    /// Pages and blog posts, each decided by its id.
    Content,
    /// Items of one page (attachments, comments): kept when their `pageId` is that page, which
    /// the caller already decided.
    OwnedBy(String),
    /// Everything (a visible page's labels).
    All,
    /// Spaces: kept when their key is a KB space that exists for the caller.
    Spaces,
}

/// What upstream's 404 means for this list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Missing {
    /// The uniform 404 (a page or space that upstream does not know).
    NotFound,
    /// An empty list (a label id nobody carries looks like a label on hidden pages only).
    Empty,
}

/// One list route, as kbgate serves and fetches it.
#[derive(Debug, Clone)]
pub(super) struct ListSpec {
    /// The route name, for logs and the cursor binding.
    pub name: &'static str,
    /// The path below `/wiki/api/v2/`, e.g. `pages/100001/children`.
    pub path: String,
    /// The client's parameters that shape the list (typed, re-serialized): bound by the
    /// cursor, repeated in kbgate's next link.
    pub params: Vec<(&'static str, String)>,
    /// Whether [`ListSpec::params`] are sent upstream too (not for `spaces`, whose `keys` are
    /// replaced by the caller's allowed ones).
    pub forward_params: bool,
    /// Parameters sent upstream only (e.g. `status=current`, the allowed `keys`).
    pub upstream_params: Vec<(&'static str, String)>,
    /// The shape of the items.
    pub shape: ItemShape,
    /// Who sees which item.
    pub rule: Rule,
    /// What upstream's 404 means.
    pub missing: Missing,
}

impl ListSpec {
    /// The text the cursor binds: route, path, shaping parameters and limit.
    fn binding(&self, limit: u32) -> Binding {
        Binding::of(&format!(
            "{}|{}|{}|limit={limit}",
            self.name,
            self.path,
            encode(self.params.iter().map(|(k, v)| (*k, v.as_str())))
        ))
    }

    /// Upstream's URL (from the site root) for one page of `upstream_limit` items.
    fn upstream_path(&self, cursor: Option<&str>, upstream_limit: u32) -> String {
        let limit = upstream_limit.to_string();
        let forwarded = if self.forward_params {
            self.params.as_slice()
        } else {
            &[]
        };
        let pairs = forwarded
            .iter()
            .chain(&self.upstream_params)
            .map(|(k, v)| (*k, v.as_str()))
            .chain(std::iter::once(("limit", limit.as_str())))
            .chain(cursor.map(|c| ("cursor", c)));
        format!("/wiki/api/v2/{}?{}", self.path, encode(pairs))
    }

    /// kbgate's path and query of the page at `cursor`.
    fn next_path(&self, limit: u32, cursor: &str) -> String {
        let limit = limit.to_string();
        let pairs = self
            .params
            .iter()
            .map(|(k, v)| (*k, v.as_str()))
            .chain([("limit", limit.as_str()), ("cursor", cursor)]);
        format!("{}?{}", self.path, encode(pairs))
    }
}

fn encode<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)>) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        query.append_pair(k, v);
    }
    query.finish()
}

/// The 400 for a cursor that does not verify.
pub(super) fn bad_cursor() -> ProxyError {
    ProxyError::Route(RouteError::BadQuery(QueryError::BadValue {
        param: "cursor",
        why: "is not a valid cursor for this list",
    }))
}

/// Serves one page of `list` for a caller with `orgs`.
pub(super) async fn walk(
    app: &App,
    orgs: &OrgSet,
    list: &ListSpec,
    paging: &V2Paging,
    request_id: &str,
) -> Result<Answer, ProxyError> {
    let binding = list.binding(paging.limit);
    let mut pos = match &paging.cursor {
        Some(c) => app.cursor_key.open(c, &binding).map_err(|e| {
            tracing::debug!(reason = %e, "cursor refused");
            bad_cursor()
        })?,
        None => Position::default(),
    };
    let limit = usize::try_from(paging.limit).unwrap_or(usize::MAX);
    let upstream_limit = paging.limit.max(MIN_UPSTREAM_LIMIT);
    let base = app.links.v2_base();
    let download = |page: &str, file: &str| app.links.v2_download(page, file);
    let mut writer = V2ListWriter::new();
    let mut next = None;
    let mut removed = 0usize;
    let mut calls = 0usize;
    'walk: loop {
        if calls == MAX_UPSTREAM_CALLS {
            next = Some(pos);
            break;
        }
        calls += 1;
        let path = list.upstream_path(pos.upstream.as_deref(), upstream_limit);
        let body = match app.upstream.get_site_json(&path, request_id).await {
            Ok(body) => body,
            Err(e) if e.is_missing() => match list.missing {
                Missing::NotFound => return Err(ProxyError::NotFound),
                Missing::Empty => break,
            },
            Err(e) => return Err(ProxyError::Upstream(e)),
        };
        let scan = scan_v2_list(&body, list.shape)?;
        let decisions = decide(app, orgs, list, scan.items(), request_id).await?;
        let visible = |id: &str| decisions.get(id).copied().unwrap_or(false);
        let ctx = RenderContext::list(&visible, &download, &base);
        let skip = usize::try_from(pos.skip).unwrap_or(usize::MAX);
        for (i, item) in scan.items().iter().enumerate().skip(skip) {
            if !keeps(app, orgs, &list.rule, item, &visible) {
                removed += 1;
                continue;
            }
            if writer.count() >= limit {
                next = Some(Position {
                    upstream: pos.upstream.clone(),
                    skip: u32::try_from(i).unwrap_or(u32::MAX),
                });
                break 'walk;
            }
            writer.push(&scan, &body, i, &ctx)?;
        }
        match scan.next_cursor() {
            Some(c) => {
                pos = Position {
                    upstream: Some(c.to_owned()),
                    skip: 0,
                }
            }
            None => break,
        }
    }
    let next_link = next.map(|p| {
        let cursor = app.cursor_key.seal(&p, &binding);
        app.links.v2_path(&list.next_path(paging.limit, &cursor))
    });
    tracing::Span::current().record("filter.removed", removed);
    Ok(Answer {
        body: writer.finish(next_link.as_deref(), &base),
        route: list.name,
        removed,
        link_next: next_link,
        ..Default::default()
    })
}

/// True when the caller may see `item` under `rule`.
fn keeps(
    app: &App,
    orgs: &OrgSet,
    rule: &Rule,
    item: &V2Item,
    visible: &dyn Fn(&str) -> bool,
) -> bool {
    match rule {
        Rule::Content => item.is_page_or_blog_post() && visible(item.id()),
        Rule::OwnedBy(page) => item.page_id() == Some(page.as_str()),
        Rule::All => true,
        Rule::Spaces => item.key().is_some_and(|key| {
            SpaceKey::new(key).is_ok_and(|key| space_exists_for(&app.policy, orgs, &key))
        }),
    }
}

/// Decides every content id the items name (themselves under [`Rule::Content`], parents,
/// home pages) in one batch: id → visible.
async fn decide(
    app: &App,
    orgs: &OrgSet,
    list: &ListSpec,
    items: &[V2Item],
    request_id: &str,
) -> Result<HashMap<String, bool>, ProxyError> {
    let mut ids: Vec<ContentId> = Vec::new();
    let mut add = |id: Option<&str>| {
        if let Some(id) = id.and_then(|id| ContentId::new(id).ok()) {
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
    };
    for item in items {
        if matches!(list.rule, Rule::Content) && item.is_page_or_blog_post() {
            add(Some(item.id()));
        }
        add(item.parent_id());
        add(item.homepage_id());
    }
    decide_ids(app, orgs, &ids, request_id).await
}

/// Looks up and decides `ids` for a caller with `orgs`; ids without metadata are absent
/// (hidden).
pub(super) async fn decide_ids(
    app: &App,
    orgs: &OrgSet,
    ids: &[ContentId],
    request_id: &str,
) -> Result<HashMap<String, bool>, ProxyError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let metas = app.metadata.lookup(&app.upstream, ids, request_id).await?;
    Ok(metas
        .iter()
        .map(|(id, meta)| (id.as_str().to_owned(), app.decide(orgs, meta).is_visible()))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(params: Vec<(&'static str, String)>) -> ListSpec {
        ListSpec {
            name: "v2_pages",
            path: "pages".into(),
            params,
            forward_params: true,
            upstream_params: vec![("status", "current".into())],
            shape: ItemShape::Page,
            rule: Rule::Content,
            missing: Missing::NotFound,
        }
    }

    #[test]
    fn upstream_gets_kbgates_query_with_its_own_limit_and_cursor() {
        let s = spec(vec![("title", "A & B".into())]);
        assert_eq!(
            s.upstream_path(None, 25),
            "/wiki/api/v2/pages?title=A+%26+B&status=current&limit=25"
        );
        assert_eq!(
            s.upstream_path(Some("x+y="), 30),
            "/wiki/api/v2/pages?title=A+%26+B&status=current&limit=30&cursor=x%2By%3D"
        );
        assert_eq!(
            s.next_path(2, "K.T"),
            "pages?title=A+%26+B&limit=2&cursor=K.T",
            "the client's next link carries no upstream-only parameter"
        );
    }

    #[test]
    fn the_binding_changes_with_every_parameter_that_shapes_the_list() {
        let plain = spec(Vec::new());
        let titled = spec(vec![("title", "x".into())]);
        let mut other_path = spec(Vec::new());
        other_path.path = "pages/1/children".into();
        let all = [
            plain.binding(2),
            plain.binding(3),
            titled.binding(2),
            other_path.binding(2),
        ];
        for (i, a) in all.iter().enumerate() {
            for b in all.iter().skip(i + 1) {
                assert_ne!(a, b);
            }
        }
        assert_eq!(plain.binding(2), spec(Vec::new()).binding(2));
    }
}
