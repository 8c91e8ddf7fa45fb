//! The parts only a single page or blog post has (`pages/{id}`, `blogposts/{id}`): its `body`,
//! its `labels` and its `directChildren`, scanned inside the item and written from kbgate's
//! decisions.
//!
//! Guarantees: a body holding a rendered format (`view`, `export_view`, `styled_view`,
//! `anonymous_export_view`, `editor`, `dynamic`) is refused ([`FilterError::RenderedBody`]); a
//! storage or ADF body is never copied, only written from the caller's rewritten text (an
//! answer that has one and gets none is refused); other formats are dropped. `labels` is
//! written from the labels kbgate fetched when upstream said there are more, with
//! `meta.hasMore:false` and kbgate's `self` link — never upstream's cursor; `labels` without a
//! `meta` counts as having more. `directChildren` keeps only pages and blog posts the caller's
//! predicate shows, with upstream's `hasMore` and kbgate's `self` link.
//!
//! Deliberately not done: fetching the missing labels or deciding anything (the proxy does).

use std::borrow::Cow;

use super::super::json::{decode_token, Cursor, Str};
use super::super::plan::write_json_str;
use super::super::{FilterError, Res};
use super::item::{scan_item, write_item, V2Item};
use super::shapes::ItemShape;
use super::RenderContext;

/// Which single-only part a member is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Part {
    Body,
    Labels,
    DirectChildren,
}

/// A nested list (`labels`, `directChildren`): its items and upstream's `hasMore`.
#[derive(Debug, Default)]
pub(super) struct Nested {
    pub items: Vec<V2Item>,
    pub has_more: bool,
}

/// What the single-only parts held.
#[derive(Debug, Default)]
pub(super) struct SingleExtras {
    /// The storage body's `value` string token.
    pub storage: Option<Str>,
    /// The ADF body's `value` string token (a JSON document as a string).
    pub adf: Option<Str>,
    pub labels: Option<Nested>,
    pub children: Option<Nested>,
}

/// The scan of a single page or blog post.
#[derive(Debug)]
pub struct V2SingleScan {
    pub(super) item: V2Item,
    pub(super) body_len: usize,
}

impl V2SingleScan {
    /// The item's id as upstream wrote it.
    pub fn id(&self) -> &str {
        self.item.id()
    }

    /// `parentId`, when present.
    pub fn parent_id(&self) -> Option<&str> {
        self.item.parent_id()
    }

    /// The storage body, decoded, when the answer has one.
    pub fn storage_body<'b>(&self, body: &'b [u8]) -> Result<Option<Cow<'b, str>>, FilterError> {
        self.decoded(body, self.extras().and_then(|e| e.storage))
    }

    /// The ADF body (a JSON document as a string), decoded, when the answer has one.
    pub fn adf_body<'b>(&self, body: &'b [u8]) -> Result<Option<Cow<'b, str>>, FilterError> {
        self.decoded(body, self.extras().and_then(|e| e.adf))
    }

    fn decoded<'b>(
        &self,
        body: &'b [u8],
        token: Option<Str>,
    ) -> Result<Option<Cow<'b, str>>, FilterError> {
        let Some(s) = token else {
            return Ok(None);
        };
        if body.len() != self.body_len {
            return Err(FilterError::Shape("body does not match its scan"));
        }
        decode_token(body, s).map(Some).map_err(|e| *e)
    }

    /// True when the answer has `labels` and upstream says more exist than it sent (or did
    /// not say).
    pub fn labels_have_more(&self) -> bool {
        self.labels().is_some_and(|l| l.has_more)
    }

    /// The names of the labels upstream sent inline (at most 50 on Cloud).
    pub fn label_names(&self) -> impl Iterator<Item = &str> {
        self.labels()
            .into_iter()
            .flat_map(|l| l.items.iter().filter_map(V2Item::name))
    }

    /// The ids of the direct children upstream sent that are pages or blog posts (the others
    /// are never written).
    pub fn direct_child_ids(&self) -> impl Iterator<Item = &str> {
        self.extras()
            .and_then(|e| e.children.as_ref())
            .into_iter()
            .flat_map(|c| c.items.iter())
            .filter(|i| i.is_page_or_blog_post())
            .map(V2Item::id)
    }

    fn extras(&self) -> Option<&SingleExtras> {
        self.item.extras.as_deref()
    }

    fn labels(&self) -> Option<&Nested> {
        self.extras().and_then(|e| e.labels.as_ref())
    }
}

/// Scans `body` of a single item: `storage` kept as a token, rendered formats refused.
pub(super) fn scan_body(cur: &mut Cursor<'_>, extras: &mut SingleExtras) -> Res<Part> {
    cur.expect_object("v2 body is not an object")?;
    let mut keys = cur.keys_begin("v2 body");
    let mut first = true;
    while let Some(key) = cur.next_key(&mut first)? {
        cur.key_insert(&mut keys, key)?;
        match cur.raw_inner(key) {
            b"storage" => extras.storage = Some(scan_representation(cur, b"storage")?),
            b"atlas_doc_format" => {
                extras.adf = Some(scan_representation(cur, b"atlas_doc_format")?)
            }
            b"view"
            | b"export_view"
            | b"styled_view"
            | b"anonymous_export_view"
            | b"editor"
            | b"dynamic" => return Err(Box::new(FilterError::RenderedBody)),
            _ => {
                cur.skip_value()?;
            }
        }
    }
    cur.keys_end(keys);
    Ok(Part::Body)
}

/// `{"representation":"<format>","value":"…"}` → the value token; another representation is
/// refused as rendered.
fn scan_representation(cur: &mut Cursor<'_>, format: &[u8]) -> Res<Str> {
    cur.expect_object("v2 body format is not an object")?;
    let mut keys = cur.keys_begin("v2 body format");
    let mut value = None;
    let mut first = true;
    while let Some(key) = cur.next_key(&mut first)? {
        cur.key_insert(&mut keys, key)?;
        match cur.raw_inner(key) {
            b"value" => value = Some(cur.expect_string("v2 storage value is not a string")?),
            b"representation" => {
                let s = cur.expect_string("v2 representation is not a string")?;
                if cur.raw_inner(s) != format {
                    return Err(Box::new(FilterError::RenderedBody));
                }
            }
            _ => {
                cur.skip_value()?;
            }
        }
    }
    cur.keys_end(keys);
    Ok(value.ok_or(FilterError::Shape("v2 body format without a value"))?)
}

/// Scans `labels` of a single page.
pub(super) fn scan_labels(cur: &mut Cursor<'_>, extras: &mut SingleExtras) -> Res<Part> {
    extras.labels = Some(scan_nested(cur, ItemShape::Label)?);
    Ok(Part::Labels)
}

/// Scans `directChildren` of a single page.
pub(super) fn scan_children(cur: &mut Cursor<'_>, extras: &mut SingleExtras) -> Res<Part> {
    extras.children = Some(scan_nested(cur, ItemShape::DirectChild)?);
    Ok(Part::DirectChildren)
}

/// `{"results":[…],"meta":{"hasMore":…,"cursor":…},"_links":{…}}`; no `meta` → has more.
fn scan_nested(cur: &mut Cursor<'_>, shape: ItemShape) -> Res<Nested> {
    cur.expect_object("v2 nested list is not an object")?;
    let mut keys = cur.keys_begin("v2 nested list");
    let (mut items, mut has_more) = (None, None);
    let mut first = true;
    while let Some(key) = cur.next_key(&mut first)? {
        cur.key_insert(&mut keys, key)?;
        match cur.raw_inner(key) {
            b"results" => {
                cur.expect_array("v2 nested results is not an array")?;
                let mut list = Vec::new();
                let mut first_elem = true;
                while cur.next_elem(&mut first_elem)? {
                    list.push(scan_item(cur, shape)?);
                }
                items = Some(list);
            }
            b"meta" => has_more = Some(scan_meta(cur)?),
            _ => {
                cur.skip_value()?;
            }
        }
    }
    cur.keys_end(keys);
    Ok(Nested {
        items: items.ok_or(FilterError::Shape("v2 nested list without results"))?,
        has_more: has_more.unwrap_or(true),
    })
}

/// `meta.hasMore` (a missing `hasMore` counts as true).
fn scan_meta(cur: &mut Cursor<'_>) -> Res<bool> {
    cur.expect_object("v2 meta is not an object")?;
    let mut keys = cur.keys_begin("v2 meta");
    let mut has_more = true;
    let mut first = true;
    while let Some(key) = cur.next_key(&mut first)? {
        cur.key_insert(&mut keys, key)?;
        match cur.raw_inner(key) {
            b"hasMore" => {
                has_more = match cur.peek()? {
                    b't' => cur.literal(b"true").map(|()| true)?,
                    b'f' => cur.literal(b"false").map(|()| false)?,
                    _ => return Err(Box::new(FilterError::Shape("v2 hasMore is not a boolean"))),
                }
            }
            _ => {
                cur.skip_value()?;
            }
        }
    }
    cur.keys_end(keys);
    Ok(has_more)
}

/// Writes `"body":…`, `"labels":…` or `"directChildren":…` of `item`.
pub(super) fn write_part(
    out: &mut Vec<u8>,
    body: &[u8],
    item: &V2Item,
    part: Part,
    ctx: &RenderContext<'_>,
) -> Result<(), FilterError> {
    let extras = item
        .extras
        .as_deref()
        .ok_or(FilterError::Shape("body does not match its scan"))?;
    match part {
        Part::Body => {
            out.extend_from_slice(b"\"body\":{");
            let formats = [
                ("storage", extras.storage.is_some(), ctx.storage),
                ("atlas_doc_format", extras.adf.is_some(), ctx.adf),
            ];
            let mut first = true;
            for (name, present, rewritten) in formats {
                if !present {
                    continue;
                }
                let value = rewritten.ok_or(FilterError::Shape("body not rewritten"))?;
                if !std::mem::take(&mut first) {
                    out.push(b',');
                }
                write_json_str(out, name);
                out.extend_from_slice(b":{\"representation\":");
                write_json_str(out, name);
                out.extend_from_slice(b",\"value\":");
                write_json_str(out, value);
                out.push(b'}');
            }
            out.push(b'}');
        }
        Part::Labels => {
            let labels = extras
                .labels
                .as_ref()
                .ok_or(FilterError::Shape("body does not match its scan"))?;
            out.extend_from_slice(b"\"labels\":{\"results\":[");
            let mut n = 0usize;
            let mut put = |out: &mut Vec<u8>, body: &[u8], label: &V2Item| {
                if n > 0 {
                    out.push(b',');
                }
                n += 1;
                write_item(out, body, label, ctx)
            };
            match ctx.fetched_labels {
                Some(pages) => {
                    for (scan, page_body) in pages {
                        scan.check_body(page_body)?;
                        for label in scan.items() {
                            put(out, page_body, label)?;
                        }
                    }
                }
                None if labels.has_more => {
                    return Err(FilterError::Shape("labels incomplete and none fetched"))
                }
                None => {
                    for label in &labels.items {
                        put(out, body, label)?;
                    }
                }
            }
            out.extend_from_slice(b"],\"meta\":{\"hasMore\":false},\"_links\":{\"self\":");
            write_json_str(out, ctx.labels_self);
            out.extend_from_slice(b"}}");
        }
        Part::DirectChildren => {
            let children = extras
                .children
                .as_ref()
                .ok_or(FilterError::Shape("body does not match its scan"))?;
            out.extend_from_slice(b"\"directChildren\":{\"results\":[");
            let kept = children
                .items
                .iter()
                .filter(|c| c.is_page_or_blog_post() && (ctx.visible)(c.id()));
            for (i, child) in kept.enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_item(out, body, child, ctx)?;
            }
            out.extend_from_slice(b"],\"meta\":{\"hasMore\":");
            out.extend_from_slice(if children.has_more { b"true" } else { b"false" });
            out.extend_from_slice(b"},\"_links\":{\"self\":");
            write_json_str(out, ctx.children_self);
            out.extend_from_slice(b"}}");
        }
    }
    Ok(())
}

/// Scans a single page (`single_page`) or blog post answer.
pub(super) fn scan_single(body: &[u8], shape: ItemShape) -> Res<V2SingleScan> {
    let mut cur = Cursor::new(body)?;
    let item = scan_item(&mut cur, shape)?;
    cur.finish()?;
    Ok(V2SingleScan {
        item,
        body_len: body.len(),
    })
}
