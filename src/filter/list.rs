//! Content lists (`GET /wiki/rest/api/content/search` and the listing `GET /wiki/rest/api/content`):
//! scan the upstream answer, then render it for one caller.
//!
//! The upstream shape is `{"results":[<Content>…],"start","limit","size","_links"}`
//! (`cloud-v1-content-list.json`). Kept at the top level: `results` (visible items only),
//! `start`, `limit`, `size` (the kept count) and kbgate's own `_links` (`base`, `context`,
//! `self`, `next`). Dropped: `totalSize`, `cqlQuery`, `searchDuration`, upstream `_links` and
//! anything unknown. Each item is a Content object planned by `content.rs` with the rules of a
//! search result's `content`: allowlisted members only, each ancestor under its own visibility
//! condition, `body` never copied, `_expandable` values blanked, `_links` reduced to `webui`,
//! `tinyui`, `self`.
//!
//! An item is a candidate only when it is a page or blog post with a usable id; every other
//! item is always removed.
//!
//! Deliberately not done here: deciding visibility (the caller's predicate does), building the
//! links (the proxy does, from its own query), or checking that the items match the query.

use crate::ids::ContentId;
use crate::policy::{Ancestors, ItemMeta};

use super::content::{scan_content_object, Ctx};
use super::json::Cursor;
use super::labels::links_have_next;
use super::memo::Memos;
use super::plan::{execute, write_links_and_close, write_paging, Cond, Op, Plan, SlotValues};
use super::{FilterError, Rendered, Res, SearchLinks};

/// The scan of one content-list answer: every item's metadata and the plan to render it.
#[derive(Debug)]
pub struct ListScan {
    /// Per upstream item: its metadata, or `None` when it is always removed.
    items: Vec<Option<ItemMeta>>,
    ops: Vec<Op>,
    conds: Vec<Cond>,
    /// Every ancestor of a candidate item, deduplicated and sorted.
    refs: Vec<ContentId>,
    start: u64,
    limit: u64,
    has_next: bool,
    body_len: usize,
}

impl ListScan {
    /// The metadata of every candidate item (pages and blog posts with a usable id), in
    /// upstream order.
    pub fn items(&self) -> impl Iterator<Item = &ItemMeta> {
        self.items.iter().flatten()
    }

    /// How many items upstream sent, candidates or not (for offset paging).
    pub fn upstream_count(&self) -> usize {
        self.items.len()
    }

    /// The ancestor ids of the candidate items, deduplicated and sorted. The render asks the
    /// predicate about each of them.
    pub fn referenced_ids(&self) -> impl Iterator<Item = &ContentId> {
        self.refs.iter()
    }

    /// Upstream `start`.
    pub fn start(&self) -> u64 {
        self.start
    }

    /// Upstream `limit`.
    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// True when upstream's `_links` had a `next` member (more items exist).
    pub fn has_next(&self) -> bool {
        self.has_next
    }
}

/// Scans a content-list answer: validates all of it and extracts what the policy and the render
/// need.
pub fn scan_list(body: &[u8]) -> Result<ListScan, FilterError> {
    scan_list_inner(body).map_err(|e| *e)
}

fn scan_list_inner(body: &[u8]) -> Res<ListScan> {
    let mut cur = Cursor::new(body)?;
    let mut plan = Plan::new(body, body.len() / 20 + 16);
    cur.expect_object("content list is not an object")?;
    let mut keys = cur.keys_begin("content list");
    let (mut items, mut start, mut limit, mut has_next) = (None, None, None, false);
    let mut first = true;
    while let Some(key) = cur.next_key(&mut first)? {
        cur.key_insert(&mut keys, key)?;
        match cur.raw_inner(key) {
            b"results" => items = Some(scan_items(&mut cur, &mut plan)?),
            b"start" => start = Some(cur.expect_u64("content list start is not a count")?),
            b"limit" => limit = Some(cur.expect_u64("content list limit is not a count")?),
            b"size" => {
                cur.expect_u64("content list size is not a count")?;
            }
            b"_links" => {
                has_next = links_have_next(&mut cur, "content list _links is not an object")?
            }
            _ => {
                cur.skip_value()?;
            }
        }
    }
    cur.keys_end(keys);
    cur.finish()?;
    let items = items.ok_or(FilterError::Shape("content list without results"))?;
    let start = start.ok_or(FilterError::Shape("content list without start"))?;
    let limit = limit.ok_or(FilterError::Shape("content list without limit"))?;
    let mut refs: Vec<ContentId> = items
        .iter()
        .flatten()
        .flat_map(|m: &ItemMeta| match &m.ancestors {
            Ancestors::Known(ids) => ids.as_slice(),
            Ancestors::Unknown => &[],
        })
        .cloned()
        .collect();
    refs.sort_unstable();
    refs.dedup();
    Ok(ListScan {
        items,
        ops: plan.ops,
        conds: plan.conds,
        refs,
        start,
        limit,
        has_next,
        body_len: body.len(),
    })
}

fn scan_items<'a>(cur: &mut Cursor<'a>, plan: &mut Plan<'a>) -> Res<Vec<Option<ItemMeta>>> {
    cur.expect_array("content list results is not an array")?;
    let mut items = Vec::with_capacity((cur.remaining() / 1500).clamp(1, 256));
    let mut memo = Memos::default();
    let mut first = true;
    while cur.next_elem(&mut first)? {
        let index =
            u32::try_from(items.len()).map_err(|_| FilterError::Shape("too many results"))?;
        let group = plan.open_if(Cond::Result(index))?;
        plan.push(Op::Elem);
        // Search rules: `body` is validated but never copied, item `_links` keep upstream's
        // `webui`, `tinyui` and `self` only.
        let facts = scan_content_object(cur, plan, Ctx::Search, index, &mut memo)?;
        plan.close_if(group)?;
        let meta = facts.into_meta();
        if meta.is_none() {
            plan.truncate(group);
        }
        items.push(meta);
    }
    Ok(items)
}

/// Renders a scanned content list for one caller: only items whose id is `visible`, and in them
/// only visible ancestors; `size` recomputed and `_links` replaced by kbgate's.
pub fn render_list(
    scan: &ListScan,
    body: &[u8],
    visible: &dyn Fn(&ContentId) -> bool,
    links: &SearchLinks<'_>,
) -> Result<Rendered, FilterError> {
    render_list_inner(scan, body, visible, links).map_err(|e| *e)
}

fn render_list_inner(
    scan: &ListScan,
    body: &[u8],
    visible: &dyn Fn(&ContentId) -> bool,
    links: &SearchLinks<'_>,
) -> Res<Rendered> {
    if body.len() != scan.body_len {
        return Err(Box::new(FilterError::Shape("body does not match its scan")));
    }
    let extra = links.base.len() + links.self_link.len() + links.next_link.map_or(0, str::len);
    let mut out = Vec::with_capacity(body.len() + extra + 128);
    out.extend_from_slice(b"{\"results\":[");
    let meta = |r: u32| scan.items.get(r as usize).and_then(Option::as_ref);
    let mut cond = |c: Cond| match c {
        Cond::Result(r) => meta(r).is_some_and(|m| visible(&m.id)),
        Cond::Ancestor(r, a) => match meta(r).map(|m| &m.ancestors) {
            Some(Ancestors::Known(ids)) => ids.get(a as usize).is_some_and(visible),
            _ => false,
        },
        // Lists plan no breadcrumbs, parent containers or excerpts.
        Cond::Target(_) | Cond::ExcerptKept(_) | Cond::ExcerptWithheld(_) => false,
    };
    let slots = SlotValues {
        self_link: links.self_link,
        base: links.base,
        storage: None,
    };
    let kept = execute(
        &scan.ops,
        &scan.conds,
        body,
        &mut out,
        true,
        &slots,
        &mut cond,
    )?;
    let removed = scan.items.len().saturating_sub(kept);
    write_paging(&mut out, scan.start, scan.limit, kept);
    write_links_and_close(&mut out, links);
    Ok(Rendered {
        body: out,
        kept,
        removed,
    })
}

#[cfg(test)]
#[path = "tests_list.rs"]
mod tests;
