//! Confluence Cloud REST v2 answers: scan upstream's lists and single items, then write only
//! the members each shape's allowlist names, for the items the caller decided to show.
//!
//! A v2 list is `{"results":[…],"_links":{"next":"/wiki/api/v2/…&cursor=…","base":"…"}}`
//! (`MultiEntityLinks`). [`scan_v2_list`] validates the whole body (UTF-8, depth, syntax,
//! duplicate keys in every object read, each member's type) and keeps per item the facts a
//! decision needs ([`V2Item`]: id, type, parent, page, key, home page) and the members to write;
//! it reads upstream's `next` cursor so the proxy can walk on, but never writes it. Items from
//! several upstream pages are written into one answer by a [`V2ListWriter`], which ends with
//! kbgate's own `_links` (`next` with kbgate's cursor, `base`). Single items
//! ([`scan_v2_single`], [`render_v2_single`]) add `body` (storage or ADF, rewritten by the
//! caller), `labels` and `directChildren` (`v2/single.rs`).
//!
//! Guarantees: an allowlist per shape (`v2/shapes.rs`, applied by `v2/item.rs`); the output is valid JSON; upstream's
//! `_links.next`, `_links.base`, `self` links, cursors and `meta.cursor` never reach the output;
//! an error never carries upstream text.
//!
//! Deliberately not done: deciding visibility (the caller's predicate and its choice of which
//! items to push), building kbgate's URLs (passed in), and rewriting bodies (`filter::storage`
//! and `filter::adf` do, called by the proxy).

mod item;
mod shapes;
mod single;

#[cfg(test)]
mod tests;

pub use item::V2Item;
pub use shapes::ItemShape;
pub use single::V2SingleScan;

use super::json::Cursor;
use super::plan::write_json_str;
use super::{FilterError, Res};

/// Longest upstream cursor accepted, in bytes (Confluence's are a few dozen).
pub const MAX_UPSTREAM_CURSOR_BYTES: usize = 512;

/// What the writer needs from the caller: decisions and kbgate's links.
pub struct RenderContext<'a> {
    /// True when the content id is visible to the caller (parents, home pages, children).
    pub visible: &'a dyn Fn(&str) -> bool,
    /// kbgate's download link for `(page id, file name)`.
    pub download: &'a dyn Fn(&str, &str) -> String,
    /// kbgate's `_links.base` (`{public_url}/wiki`).
    pub base: &'a str,
    /// The rewritten storage body of a single item.
    pub storage: Option<&'a str>,
    /// The rewritten ADF body (a JSON document as a string) of a single item.
    pub adf: Option<&'a str>,
    /// The label pages kbgate fetched for a single page (`None`: the inline labels).
    pub fetched_labels: Option<&'a [(&'a V2ListScan, &'a [u8])]>,
    /// kbgate's link to the page's labels (a single page's `labels._links.self`).
    pub labels_self: &'a str,
    /// kbgate's link to the page's direct children (`directChildren._links.self`).
    pub children_self: &'a str,
}

impl<'a> RenderContext<'a> {
    /// A context for list items: no body, no labels, no children links.
    pub fn list(
        visible: &'a dyn Fn(&str) -> bool,
        download: &'a dyn Fn(&str, &str) -> String,
        base: &'a str,
    ) -> Self {
        RenderContext {
            visible,
            download,
            base,
            storage: None,
            adf: None,
            fetched_labels: None,
            labels_self: "",
            children_self: "",
        }
    }
}

/// The scan of one upstream v2 list page.
#[derive(Debug)]
pub struct V2ListScan {
    items: Vec<V2Item>,
    next_cursor: Option<String>,
    body_len: usize,
}

impl V2ListScan {
    /// The items, in upstream order.
    pub fn items(&self) -> &[V2Item] {
        &self.items
    }

    /// Upstream's cursor for its next page (decoded from `_links.next`), if there is one.
    pub fn next_cursor(&self) -> Option<&str> {
        self.next_cursor.as_deref()
    }

    fn check_body(&self, body: &[u8]) -> Result<(), FilterError> {
        if body.len() == self.body_len {
            Ok(())
        } else {
            Err(FilterError::Shape("body does not match its scan"))
        }
    }
}

/// Scans an upstream v2 list whose items have `shape`.
pub fn scan_v2_list(body: &[u8], shape: ItemShape) -> Result<V2ListScan, FilterError> {
    scan_list_inner(body, shape).map_err(|e| *e)
}

fn scan_list_inner(body: &[u8], shape: ItemShape) -> Res<V2ListScan> {
    let mut cur = Cursor::new(body)?;
    cur.expect_object("v2 list is not an object")?;
    let mut keys = cur.keys_begin("v2 list");
    let (mut items, mut next_cursor) = (None, None);
    let mut first = true;
    while let Some(key) = cur.next_key(&mut first)? {
        cur.key_insert(&mut keys, key)?;
        match cur.raw_inner(key) {
            b"results" => {
                cur.expect_array("v2 results is not an array")?;
                let mut list = Vec::with_capacity((cur.remaining() / 256).clamp(1, 256));
                let mut first_elem = true;
                while cur.next_elem(&mut first_elem)? {
                    list.push(item::scan_item(&mut cur, shape)?);
                }
                items = Some(list);
            }
            b"_links" => next_cursor = scan_list_links(&mut cur)?,
            _ => {
                cur.skip_value()?;
            }
        }
    }
    cur.keys_end(keys);
    cur.finish()?;
    Ok(V2ListScan {
        items: items.ok_or(FilterError::Shape("v2 list without results"))?,
        next_cursor,
        body_len: body.len(),
    })
}

/// Reads a list's `_links`: the `cursor` of `next`, if any.
fn scan_list_links(cur: &mut Cursor<'_>) -> Res<Option<String>> {
    cur.expect_object("v2 _links is not an object")?;
    let mut keys = cur.keys_begin("v2 _links");
    let mut next = None;
    let mut first = true;
    while let Some(key) = cur.next_key(&mut first)? {
        cur.key_insert(&mut keys, key)?;
        if cur.raw_inner(key) == b"next" {
            let s = cur.expect_string("v2 next link is not a string")?;
            next = Some(cursor_of(&cur.decode(s)?)?);
        } else {
            cur.skip_value()?;
        }
    }
    cur.keys_end(keys);
    Ok(next)
}

/// The `cursor` query parameter of a next link, decoded; refused when absent, empty, repeated
/// or longer than [`MAX_UPSTREAM_CURSOR_BYTES`].
fn cursor_of(link: &str) -> Res<String> {
    let query = link.split_once('?').map(|(_, q)| q).unwrap_or("");
    let query = query.split_once('#').map(|(q, _)| q).unwrap_or(query);
    let mut found = None;
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        if name == "cursor" {
            if found.is_some() {
                return Err(Box::new(FilterError::Shape("v2 next link repeats cursor")));
            }
            found = Some(value.into_owned());
        }
    }
    match found {
        Some(c) if !c.is_empty() && c.len() <= MAX_UPSTREAM_CURSOR_BYTES => Ok(c),
        _ => Err(Box::new(FilterError::Shape(
            "v2 next link without a usable cursor",
        ))),
    }
}

/// Collects the items kbgate shows, from one or several upstream pages, into one v2 list.
pub struct V2ListWriter {
    out: Vec<u8>,
    count: usize,
}

impl Default for V2ListWriter {
    fn default() -> Self {
        Self::new()
    }
}

impl V2ListWriter {
    /// An empty list.
    pub fn new() -> Self {
        let mut out = Vec::with_capacity(4096);
        out.extend_from_slice(b"{\"results\":[");
        V2ListWriter { out, count: 0 }
    }

    /// Appends item `index` of `scan` (scanned from `body`), reduced to its allowlist.
    pub fn push(
        &mut self,
        scan: &V2ListScan,
        body: &[u8],
        index: usize,
        ctx: &RenderContext<'_>,
    ) -> Result<(), FilterError> {
        scan.check_body(body)?;
        let item = scan
            .items
            .get(index)
            .ok_or(FilterError::Shape("no such item"))?;
        if self.count > 0 {
            self.out.push(b',');
        }
        item::write_item(&mut self.out, body, item, ctx)?;
        self.count += 1;
        Ok(())
    }

    /// How many items were pushed.
    pub fn count(&self) -> usize {
        self.count
    }

    /// Closes the list with kbgate's `_links`: `next` (when given) and `base`.
    pub fn finish(mut self, next: Option<&str>, base: &str) -> Vec<u8> {
        self.out.extend_from_slice(b"],\"_links\":{");
        if let Some(next) = next {
            self.out.extend_from_slice(b"\"next\":");
            write_json_str(&mut self.out, next);
            self.out.push(b',');
        }
        self.out.extend_from_slice(b"\"base\":");
        write_json_str(&mut self.out, base);
        self.out.extend_from_slice(b"}}");
        self.out
    }
}

/// Scans a single page (`pages/{id}`, shape [`ItemShape::SinglePage`]), blog post
/// ([`ItemShape::SingleBlogPost`]) or space ([`ItemShape::Space`]) answer.
pub fn scan_v2_single(body: &[u8], shape: ItemShape) -> Result<V2SingleScan, FilterError> {
    single::scan_single(body, shape).map_err(|e| *e)
}

impl V2SingleScan {
    /// The scanned object, for its facts (`key` of a space, say).
    pub fn item(&self) -> &V2Item {
        &self.item
    }
}

/// Renders a scanned single item. The caller has decided the item itself; `ctx` decides its
/// parent and children and supplies the rewritten body and fetched labels.
pub fn render_v2_single(
    scan: &V2SingleScan,
    body: &[u8],
    ctx: &RenderContext<'_>,
) -> Result<Vec<u8>, FilterError> {
    if body.len() != scan.body_len {
        return Err(FilterError::Shape("body does not match its scan"));
    }
    let mut out = Vec::with_capacity(body.len() + ctx.storage.map_or(0, str::len) + 256);
    item::write_item(&mut out, body, &scan.item, ctx)?;
    Ok(out)
}
