//! The Confluence Content object: read its policy metadata and plan what of it to keep.
//!
//! Used for the `content` of every search result and for the whole content-by-id answer. It
//! extracts the id, type, space key, labels (with their completeness) and ancestor ids, and
//! writes a plan that keeps only the allowlisted members:
//! `id`, `type`, `status`, `title`, `space` (minus `_expandable` and `homepage`), `metadata`
//! (only `labels`), `ancestors` (each entry under its own visibility condition, reduced to
//! `id`, `type`, `status`, `title`, `_links{webui,tinyui}`), `version` (minus `content`,
//! `_expandable`, `collaborators`), `body` (only `storage{value,representation}`),
//! `extensions`, `childTypes`, `history` (content-by-id only: dates, `createdBy`, version
//! summaries), `_expandable` (values blanked), `_links` (per route).
//!
//! Guarantees: a rendered body representation fails the scan ([`FilterError::RenderedBody`]);
//! a kept display string that is not a string (or `null`, which is dropped) fails with
//! [`FilterError::Shape`]; every object walked here is checked for duplicate keys.
//!
//! Deliberately not done here: rewriting the storage body (links to hidden pages inside it are a
//! later stage's job) and any deep redaction of `children`, `descendants`, `container`,
//! `restrictions`, `operations` — those members are dropped whole (kbgate composes `children`,
//! `descendants` and `container` from its own decided answers).

mod ancestors;
mod history;

use crate::ids::{ContentId, SpaceKey};
use crate::policy::{Ancestors, ItemMeta, Labels};

use super::labels::scan_metadata;
use ancestors::scan_ancestors;
use history::{scan_history, scan_version};

use super::json::{Cursor, Str};
use super::keys::KeySet;
use super::memo::Memos;
use super::plan::{LinkSlot, Name, Op, Plan};
use super::{FilterError, Res};

/// Which route the content object belongs to (decides how `_links` is written).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Ctx {
    /// `content` inside a search result: `_links` keeps `webui`, `tinyui`, `self` as they are.
    Search,
    /// The top-level content-by-id object: `_links` gets kbgate's `self` and `base`.
    Single,
}

/// What the scan learned about one content object.
pub(super) struct ContentFacts {
    pub id: Option<ContentId>,
    /// The type is `page` or `blogpost`, the only types decided from their own metadata.
    pub page_like: bool,
    pub space: Option<SpaceKey>,
    pub labels: Labels,
    pub ancestors: Ancestors,
    /// The `body.storage.value` string, when present.
    pub storage: Option<Str>,
    /// The `title` string, when present.
    pub title: Option<Str>,
}

impl ContentFacts {
    /// The policy metadata, when the object is a page or blog post with a usable id.
    pub fn into_meta(self) -> Option<ItemMeta> {
        if !self.page_like {
            return None;
        }
        Some(ItemMeta {
            id: self.id?,
            space: self.space,
            labels: self.labels,
            ancestors: self.ancestors,
        })
    }
}

/// Keeps a display-string member; `null` drops it, any other type is the shape error `what`.
#[inline(always)]
pub(super) fn keep_string(
    cur: &mut Cursor<'_>,
    plan: &mut Plan<'_>,
    key: Str,
    what: &'static str,
) -> Res<()> {
    if let Some(s) = cur.string_or_null(what)? {
        plan.member(key.span.start(), s.span.end());
    }
    Ok(())
}

/// [`keep_string`] for a key the walker matched by name as `slot` ([`KeySet::once`]).
#[inline(always)]
pub(super) fn keep_named(
    cur: &mut Cursor<'_>,
    plan: &mut Plan<'_>,
    keys: &mut KeySet,
    slot: u32,
    key: Str,
    what: &'static str,
) -> Res<()> {
    keys.once(slot)?;
    keep_string(cur, plan, key, what)
}

/// Scans the content object at the cursor and plans its kept members. `item` is the index
/// used in [`Cond::Ancestor`](super::plan::Cond::Ancestor) (the search result index, or 0 for
/// content-by-id); `memo` holds this body's repeated `space`, `metadata` and ancestors
/// (`memo.rs`).
pub(super) fn scan_content_object<'a>(
    cur: &mut Cursor<'a>,
    plan: &mut Plan<'a>,
    ctx: Ctx,
    item: u32,
    memo: &mut Memos,
) -> Res<ContentFacts> {
    cur.expect_object("content is not an object")?;
    let mut keys = cur.keys_begin("content");
    plan.push(Op::Open(b'{'));
    let mut facts = ContentFacts {
        id: None,
        page_like: false,
        space: None,
        labels: Labels::Incomplete,
        ancestors: Ancestors::Unknown,
        storage: None,
        title: None,
    };
    let mut saw_links = false;
    let mut first = true;
    while let Some(key) = cur.next_key(&mut first)? {
        let ks = key.span.start();
        match cur.raw_inner(key) {
            b"id" => {
                keys.once(0)?;
                let s = cur.expect_string("content id is not a string")?;
                facts.id = ContentId::new(&cur.decode(s)?).ok();
                plan.member(ks, s.span.end());
            }
            b"type" => {
                keys.once(1)?;
                let s = cur.expect_string("content type is not a string")?;
                facts.page_like = matches!(cur.raw_inner(s), b"page" | b"blogpost");
                plan.member(ks, s.span.end());
            }
            b"status" => keep_named(
                cur,
                plan,
                &mut keys,
                2,
                key,
                "content status is not a string",
            )?,
            b"title" => {
                keys.once(3)?;
                if let Some(s) = cur.string_or_null("content title is not a string")? {
                    plan.member(key.span.start(), s.span.end());
                    facts.title = Some(s);
                }
            }
            b"space" => {
                keys.once(4)?;
                plan.push(Op::Key(key.span));
                facts.space = memo.space.scan(cur, plan, scan_space)?;
            }
            b"metadata" => {
                keys.once(5)?;
                plan.push(Op::Key(key.span));
                facts.labels = memo.metadata.scan(cur, plan, scan_metadata)?;
            }
            b"ancestors" => {
                keys.once(6)?;
                plan.push(Op::Key(key.span));
                facts.ancestors = Ancestors::Known(scan_ancestors(cur, plan, item, memo)?);
            }
            b"version" => {
                keys.once(7)?;
                plan.push(Op::Key(key.span));
                scan_version(cur, plan)?;
            }
            b"history" if ctx == Ctx::Single => {
                keys.once(8)?;
                plan.push(Op::Key(key.span));
                scan_history(cur, plan)?;
            }
            // A body in a search result is never copied (unrewritten, it could name hidden
            // pages); its storage value is kept aside so the caller can check the excerpt.
            b"body" if ctx == Ctx::Search => {
                keys.once(9)?;
                facts.storage = find_storage(cur)?;
            }
            b"body" => {
                keys.once(9)?;
                plan.push(Op::Key(key.span));
                facts.storage = scan_body(cur, plan)?;
            }
            name @ (b"extensions" | b"childTypes") => {
                keys.once(if name == b"extensions" { 10 } else { 11 })?;
                if cur.peek()? != b'{' {
                    return Err(Box::new(FilterError::Shape(
                        "content extensions or childTypes is not an object",
                    )));
                }
                let v = cur.skip_value()?;
                plan.member(ks, v.end());
            }
            b"_expandable" => {
                keys.once(12)?;
                plan.push(Op::Key(key.span));
                scan_expandable(cur, plan)?;
            }
            b"_links" => {
                keys.once(13)?;
                plan.push(Op::Key(key.span));
                scan_links(
                    cur,
                    plan,
                    if ctx == Ctx::Single {
                        LinksKind::Single
                    } else {
                        LinksKind::Item
                    },
                )?;
                saw_links = true;
            }
            _ => {
                cur.key_insert(&mut keys, key)?;
                cur.skip_value()?;
            }
        }
    }
    cur.keys_end(keys);
    if ctx == Ctx::Single && !saw_links {
        plan.push(Op::Named(Name::Links));
        plan.push(Op::Open(b'{'));
        push_own_links(plan);
        plan.push(Op::Close(b'}'));
    }
    plan.push(Op::Close(b'}'));
    Ok(facts)
}

fn push_own_links(plan: &mut Plan<'_>) {
    plan.push(Op::Named(Name::SelfLink));
    plan.push(Op::Link(LinkSlot::SelfLink));
    plan.push(Op::Named(Name::Base));
    plan.push(Op::Link(LinkSlot::Base));
}

#[inline(never)]
fn scan_space(cur: &mut Cursor<'_>, plan: &mut Plan<'_>) -> Res<Option<SpaceKey>> {
    cur.expect_object("space is not an object")?;
    let mut keys = cur.keys_begin("space");
    plan.push(Op::Open(b'{'));
    let mut space = None;
    let mut first = true;
    while let Some(key) = cur.next_key(&mut first)? {
        match cur.raw_inner(key) {
            b"key" => {
                keys.once(0)?;
                let s = cur.expect_string("space key is not a string")?;
                space = SpaceKey::new(&cur.decode(s)?).ok();
                plan.member(key.span.start(), s.span.end());
            }
            // `_expandable.homepage` and `homepage` name another content item.
            name @ (b"_expandable" | b"homepage") => {
                keys.once(if name == b"homepage" { 1 } else { 2 })?;
                cur.skip_value()?;
            }
            // `self` is Confluence's own URL (threats R11); `webui`/`tinyui` are relative.
            b"_links" => {
                keys.once(3)?;
                plan.push(Op::Key(key.span));
                scan_links(cur, plan, LinksKind::Item)?;
            }
            _ => {
                cur.key_insert(&mut keys, key)?;
                let v = cur.skip_value()?;
                plan.member(key.span.start(), v.end());
            }
        }
    }
    cur.keys_end(keys);
    plan.push(Op::Close(b'}'));
    Ok(space)
}

/// Validates a body object without planning it; returns its `storage.value` token, if any.
fn find_storage(cur: &mut Cursor<'_>) -> Res<Option<Str>> {
    cur.expect_object("body is not an object")?;
    let mut keys = cur.keys_begin("body");
    let mut storage = None;
    let mut first = true;
    while let Some(key) = cur.next_key(&mut first)? {
        cur.key_insert(&mut keys, key)?;
        if cur.raw_inner(key) != b"storage" {
            cur.skip_value()?;
            continue;
        }
        cur.expect_object("body storage is not an object")?;
        let mut inner = cur.keys_begin("storage");
        let mut first_inner = true;
        while let Some(k) = cur.next_key(&mut first_inner)? {
            cur.key_insert(&mut inner, k)?;
            if cur.raw_inner(k) == b"value" {
                storage = Some(cur.expect_string("body storage value is not a string")?);
            } else {
                cur.skip_value()?;
            }
        }
        cur.keys_end(inner);
    }
    cur.keys_end(keys);
    Ok(storage)
}

/// Plans the body; returns the storage value's string token, which the render replaces with the
/// caller's rewritten body ([`LinkSlot::Storage`]).
fn scan_body(cur: &mut Cursor<'_>, plan: &mut Plan<'_>) -> Res<Option<Str>> {
    cur.expect_object("body is not an object")?;
    let mut storage = None;
    let mut keys = cur.keys_begin("body");
    plan.push(Op::Open(b'{'));
    let mut first = true;
    while let Some(key) = cur.next_key(&mut first)? {
        cur.key_insert(&mut keys, key)?;
        match cur.raw_inner(key) {
            b"storage" => {
                plan.push(Op::Key(key.span));
                storage = scan_storage(cur, plan)?;
            }
            // Rendered by Confluence as the service account: macros in them list other
            // organizations' content. An empty object (not expanded) is harmless.
            b"view"
            | b"export_view"
            | b"styled_view"
            | b"anonymous_export_view"
            | b"dynamic"
            | b"editor"
            | b"editor2" => match cur.peek()? {
                b'{' => {
                    cur.begin_object()?;
                    if cur.next_key(&mut true)?.is_some() {
                        return Err(Box::new(FilterError::RenderedBody));
                    }
                }
                b'n' => {
                    cur.skip_value()?;
                }
                _ => {
                    return Err(Box::new(FilterError::Shape(
                        "body representation is not an object",
                    )))
                }
            },
            _ => {
                cur.skip_value()?;
            }
        }
    }
    cur.keys_end(keys);
    plan.push(Op::Close(b'}'));
    Ok(storage)
}

fn scan_storage(cur: &mut Cursor<'_>, plan: &mut Plan<'_>) -> Res<Option<Str>> {
    cur.expect_object("body storage is not an object")?;
    let mut keys = cur.keys_begin("storage");
    plan.push(Op::Open(b'{'));
    let mut first = true;
    let mut value = None;
    while let Some(key) = cur.next_key(&mut first)? {
        cur.key_insert(&mut keys, key)?;
        match cur.raw_inner(key) {
            b"value" => {
                value = Some(cur.expect_string("body storage value is not a string")?);
                plan.push(Op::Key(key.span));
                plan.push(Op::Link(LinkSlot::Storage));
            }
            b"representation" => keep_string(cur, plan, key, "body storage field is not a string")?,
            _ => {
                cur.skip_value()?;
            }
        }
    }
    cur.keys_end(keys);
    plan.push(Op::Close(b'}'));
    Ok(value)
}

/// Keeps every key of `_expandable` with its value blanked: the values are URLs naming other
/// content ids and space keys.
fn scan_expandable(cur: &mut Cursor<'_>, plan: &mut Plan<'_>) -> Res<()> {
    cur.expect_object("_expandable is not an object")?;
    let mut keys = cur.keys_begin("_expandable");
    plan.push(Op::Open(b'{'));
    let mut first = true;
    while let Some(key) = cur.next_key(&mut first)? {
        cur.key_insert(&mut keys, key)?;
        cur.skip_value()?;
        plan.push(Op::BlankMember(key.span));
    }
    cur.keys_end(keys);
    plan.push(Op::Close(b'}'));
    Ok(())
}

/// Which `_links` members survive.
#[derive(Clone, Copy, PartialEq, Eq)]
enum LinksKind {
    /// A search result's content or an ancestor: `webui` and `tinyui` as they are (relative to
    /// the site). `self` is dropped: it is an absolute URL naming the upstream host.
    Item,
    /// Content-by-id: `webui`, `tinyui`, `editui`, `collection`, `context`, then kbgate's
    /// `self` and `base`.
    Single,
}

fn scan_links(cur: &mut Cursor<'_>, plan: &mut Plan<'_>, kind: LinksKind) -> Res<()> {
    cur.expect_object("_links is not an object")?;
    let mut keys = cur.keys_begin("_links");
    plan.push(Op::Open(b'{'));
    let mut first = true;
    while let Some(key) = cur.next_key(&mut first)? {
        // (slot, kept) of the names read here; `self` is dropped (see `LinksKind::Item`).
        let named = match (kind, cur.raw_inner(key)) {
            (_, b"webui") => Some((0, true)),
            (_, b"tinyui") => Some((1, true)),
            (_, b"self") => Some((2, false)),
            (LinksKind::Single, b"editui") => Some((3, true)),
            (LinksKind::Single, b"collection") => Some((4, true)),
            (LinksKind::Single, b"context") => Some((5, true)),
            _ => None,
        };
        match named {
            Some((slot, kept)) => {
                keys.once(slot)?;
                if kept {
                    keep_string(cur, plan, key, "link is not a string")?;
                } else {
                    cur.skip_value()?;
                }
            }
            None => {
                cur.key_insert(&mut keys, key)?;
                cur.skip_value()?;
            }
        }
    }
    cur.keys_end(keys);
    if kind == LinksKind::Single {
        push_own_links(plan);
    }
    plan.push(Op::Close(b'}'));
    Ok(())
}
