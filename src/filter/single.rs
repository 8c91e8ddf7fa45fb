//! Single content (`GET /wiki/rest/api/content/{id}`): scan the upstream answer, then render it
//! for one caller.
//!
//! The whole answer is one Content object, filtered by the rules of `content.rs`; its `_links`
//! keeps `webui`, `tinyui`, `editui`, `collection`, `context` and gets kbgate's own `self` and
//! `base`.
//!
//! Guarantees: only a page or blog post with a usable id scans (anything else would be decided
//! from metadata that does not govern it — an attachment inherits from its page); the render
//! refuses an item the predicate does not show ([`FilterError::Hidden`]) even if the caller
//! forgot to check.
//!
//! The storage body is not copied: the caller rewrites it (`filter::storage`) and passes the
//! result to [`render_content`]; a body-bearing answer rendered without one is refused.

use crate::ids::ContentId;
use crate::policy::{Ancestors, ItemMeta};

use super::content::{scan_content_object, Ctx};
use super::memo::Memos;
use std::borrow::Cow;

use super::json::{decode_token, Cursor, Str};
use super::plan::{execute, Cond, Op, Plan, SlotValues};

/// Room in the plan: a content object needs a few dozen ops whatever its body size.
const PLAN_OPS: usize = 128;
use super::{ContentLinks, FilterError, Res};

/// The scan of one content-by-id answer.
#[derive(Debug)]
pub struct ContentScan {
    meta: ItemMeta,
    ops: Vec<Op>,
    conds: Vec<Cond>,
    refs: Vec<ContentId>,
    body_len: usize,
    storage: Option<Str>,
}

impl ContentScan {
    /// The item's policy metadata.
    pub fn meta(&self) -> &ItemMeta {
        &self.meta
    }

    /// The other content ids the item mentions (its ancestors), deduplicated and sorted.
    pub fn referenced_ids(&self) -> impl Iterator<Item = &ContentId> {
        self.refs.iter()
    }

    /// The decoded `body.storage.value`, when the answer has one. `body` must be the scanned body.
    pub fn storage_body<'b>(&self, body: &'b [u8]) -> Result<Option<Cow<'b, str>>, FilterError> {
        let Some(s) = self.storage else {
            return Ok(None);
        };
        if body.len() != self.body_len {
            return Err(FilterError::Shape("body does not match its scan"));
        }
        decode_token(body, s).map(Some).map_err(|e| *e)
    }
}

/// Scans a content-by-id answer: validates all of it and extracts the item's metadata.
pub fn scan_content(body: &[u8]) -> Result<ContentScan, FilterError> {
    scan_content_inner(body).map_err(|e| *e)
}

fn scan_content_inner(body: &[u8]) -> Res<ContentScan> {
    let mut cur = Cursor::new(body)?;
    let mut plan = Plan::new(body, PLAN_OPS);
    let facts = scan_content_object(&mut cur, &mut plan, Ctx::Single, 0, &mut Memos::default())?;
    let storage = facts.storage;
    cur.finish()?;
    if !facts.page_like {
        return Err(Box::new(FilterError::Shape(
            "content is not a page or blog post",
        )));
    }
    let meta = facts
        .into_meta()
        .ok_or(FilterError::Shape("content has no usable id"))?;
    let mut refs = match &meta.ancestors {
        Ancestors::Known(ids) => ids.to_vec(),
        Ancestors::Unknown => Vec::new(),
    };
    refs.sort_unstable();
    refs.dedup();
    Ok(ContentScan {
        meta,
        ops: plan.ops,
        conds: plan.conds,
        refs,
        body_len: body.len(),
        storage,
    })
}

/// Renders a scanned content-by-id answer for one caller: hidden ancestors removed, links
/// rewritten, the storage body replaced by `rewritten_storage`. Fails with
/// [`FilterError::Hidden`] when the item itself is not visible, and with a shape error when the
/// answer has a storage body and `rewritten_storage` is `None`.
pub fn render_content(
    scan: &ContentScan,
    body: &[u8],
    visible: &dyn Fn(&ContentId) -> bool,
    links: &ContentLinks<'_>,
    rewritten_storage: Option<&str>,
) -> Result<Vec<u8>, FilterError> {
    render_content_inner(scan, body, visible, links, rewritten_storage).map_err(|e| *e)
}

fn render_content_inner(
    scan: &ContentScan,
    body: &[u8],
    visible: &dyn Fn(&ContentId) -> bool,
    links: &ContentLinks<'_>,
    rewritten_storage: Option<&str>,
) -> Res<Vec<u8>> {
    if body.len() != scan.body_len {
        return Err(Box::new(FilterError::Shape("body does not match its scan")));
    }
    if !visible(&scan.meta.id) {
        return Err(Box::new(FilterError::Hidden));
    }
    let extra = rewritten_storage.map_or(0, str::len);
    let mut out =
        Vec::with_capacity(body.len() + extra + links.base.len() + links.self_link.len() + 64);
    let mut cond = |c: Cond| match (c, &scan.meta.ancestors) {
        (Cond::Ancestor(_, a), Ancestors::Known(ids)) => ids.get(a as usize).is_some_and(visible),
        _ => false,
    };
    let slots = SlotValues {
        self_link: links.self_link,
        base: links.base,
        storage: rewritten_storage,
    };
    execute(
        &scan.ops,
        &scan.conds,
        body,
        &mut out,
        false,
        &slots,
        &mut cond,
    )?;
    Ok(out)
}
