//! One v2 object (a page, blog post, child, descendant, ancestor, label, attachment, footer
//! comment or space): scanned against its shape's allowlist, then written with only the members
//! that allowlist names.
//!
//! Guarantees: every member kept is named in the shape's table (`shapes.rs`) and has the JSON type the
//! table says (a string where a string is due, `null` allowed only where noted) — anything else
//! is [`FilterError::Shape`]; a repeated or escaped key in any object read is refused
//! (`keys.rs`); an item without an `id` is refused. `parentId` and `parentType` are written only
//! when the caller's predicate says the parent is visible, `homepageId` only when the home page
//! is; links are kept only when Confluence-relative (`/…`, not `//…`); an attachment's
//! `downloadLink` and `_links.download` are never copied but written from the caller's link
//! builder with the attachment's `pageId` and `title`.
//!
//! Deliberately not done: deciding whether an item is visible (the caller does, by id), and
//! `body`, `labels` and `directChildren` of single items, which `single.rs` scans and writes.

use std::ops::Range;

use super::super::json::{Cursor, Str};
use super::super::plan::write_json_str;
use super::super::{FilterError, Res};
use super::shapes::{Fields, How, ItemShape, VERSION};
use super::single::{self, SingleExtras};
use super::RenderContext;

/// A member to write, in upstream order.
#[derive(Debug)]
pub(super) enum Member {
    /// `"key":value` copied as scanned.
    Raw(Range<usize>),
    /// Copied only when the item's parent is visible.
    IfParent(Range<usize>),
    /// Copied only when the space's home page is visible.
    IfHomepage(Range<usize>),
    /// The key (a span of the body) and an object reduced to `inner`.
    Object(Range<usize>, Vec<Member>),
    /// The key, and kbgate's download link as the value.
    Download(Range<usize>),
    /// kbgate's `"base"` link (in a single item's `_links`).
    Base,
    /// `body`, `labels` or `directChildren` of a single item.
    Single(single::Part),
}

/// One scanned v2 object: the facts the caller decides on, and what to write.
#[derive(Debug, Default)]
pub struct V2Item {
    id: String,
    kind: Option<String>,
    title: Option<String>,
    name: Option<String>,
    key: Option<String>,
    parent_id: Option<String>,
    page_id: Option<String>,
    homepage_id: Option<String>,
    pub(super) members: Vec<Member>,
    pub(super) extras: Option<Box<SingleExtras>>,
}

impl V2Item {
    /// The item's id as upstream wrote it (decoded).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Its `type` (`page`, `blogpost`, `folder`, …), when the shape has one.
    pub fn kind(&self) -> Option<&str> {
        self.kind.as_deref()
    }

    /// True unless its `type` names something other than a page or a blog post.
    pub fn is_page_or_blog_post(&self) -> bool {
        matches!(self.kind(), None | Some("page" | "blogpost"))
    }

    /// A label's `name`.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// A space's `key`.
    pub fn key(&self) -> Option<&str> {
        self.key.as_deref()
    }

    /// `parentId`, when present and not `null`.
    pub fn parent_id(&self) -> Option<&str> {
        self.parent_id.as_deref()
    }

    /// `pageId` of an attachment or comment.
    pub fn page_id(&self) -> Option<&str> {
        self.page_id.as_deref()
    }

    /// `homepageId` of a space, when present and not `null`.
    pub fn homepage_id(&self) -> Option<&str> {
        self.homepage_id.as_deref()
    }
}

/// Scans one object of `shape` at the cursor.
pub(super) fn scan_item(cur: &mut Cursor<'_>, shape: ItemShape) -> Res<V2Item> {
    let mut item = V2Item::default();
    let mut has_id = false;
    item.members = scan_object(cur, shape.fields(), &mut item, &mut has_id, "v2 item")?;
    if !has_id {
        return Err(Box::new(FilterError::Shape("v2 item without an id")));
    }
    Ok(item)
}

/// Scans an object against `fields`; returns its kept members.
fn scan_object(
    cur: &mut Cursor<'_>,
    fields: Fields,
    item: &mut V2Item,
    has_id: &mut bool,
    what: &'static str,
) -> Res<Vec<Member>> {
    cur.expect_object("v2 object is not an object")?;
    let mut keys = cur.keys_begin(what);
    let mut members = Vec::with_capacity(fields.len());
    let mut first = true;
    while let Some(key) = cur.next_key(&mut first)? {
        cur.key_insert(&mut keys, key)?;
        let name = cur.raw_inner(key);
        match fields.iter().find(|(n, _)| *n == name) {
            Some(&(_, how)) => {
                if let Some(m) = scan_member(cur, key, how, item, has_id)? {
                    members.push(m);
                }
            }
            None => {
                cur.skip_value()?;
            }
        }
    }
    cur.keys_end(keys);
    Ok(members)
}

/// Scans the value of one allowlisted member; `None` when nothing is to be written.
fn scan_member(
    cur: &mut Cursor<'_>,
    key: Str,
    how: How,
    item: &mut V2Item,
    has_id: &mut bool,
) -> Res<Option<Member>> {
    let start = key.span.start();
    let raw = |cur: &Cursor<'_>| Some(Member::Raw(start..cur.pos()));
    Ok(match how {
        How::Id => {
            item.id = id_value(cur, "v2 id is not a string or number")?
                .ok_or(FilterError::Shape("v2 id is null"))?;
            *has_id = true;
            raw(cur)
        }
        How::Str => {
            cur.string_or_null("v2 member is not a string")?;
            raw(cur)
        }
        How::Num => {
            if cur.peek()? == b'n' {
                cur.literal(b"null")?;
            } else {
                cur.expect_number("v2 member is not a number")?;
            }
            raw(cur)
        }
        How::StrOrNum => {
            id_value(cur, "v2 member is not a string or number")?;
            raw(cur)
        }
        How::Bool => {
            match cur.peek()? {
                b't' => cur.literal(b"true")?,
                b'f' => cur.literal(b"false")?,
                _ => return Err(Box::new(FilterError::Shape("v2 member is not a boolean"))),
            }
            raw(cur)
        }
        How::Type | How::Title | How::Name | How::Key => {
            let s = cur.expect_string("v2 member is not a string")?;
            let text = Some(cur.decode(s)?.into_owned());
            match how {
                How::Type => item.kind = text,
                How::Title => item.title = text,
                How::Name => item.name = text,
                _ => item.key = text,
            }
            raw(cur)
        }
        How::ParentId => {
            item.parent_id = id_value(cur, "v2 parentId is not a string or number")?;
            Some(Member::IfParent(start..cur.pos()))
        }
        How::ParentType => {
            cur.string_or_null("v2 parentType is not a string")?;
            Some(Member::IfParent(start..cur.pos()))
        }
        How::PageId => {
            item.page_id = id_value(cur, "v2 pageId is not a string or number")?;
            raw(cur)
        }
        How::Homepage => {
            item.homepage_id = id_value(cur, "v2 homepageId is not a string or number")?;
            Some(Member::IfHomepage(start..cur.pos()))
        }
        How::RelLink => match cur.string_or_null("v2 link is not a string")? {
            Some(s) if is_relative(&cur.decode(s)?) => raw(cur),
            _ => None,
        },
        How::Download => {
            cur.string_or_null("v2 download link is not a string")?;
            Some(Member::Download(key.span.range()))
        }
        How::Version => {
            let inner = scan_object(cur, VERSION, item, has_id, "v2 version")?;
            Some(Member::Object(key.span.range(), inner))
        }
        How::Links(fields, with_base) => {
            let mut inner = scan_object(cur, fields, item, has_id, "v2 _links")?;
            if with_base {
                inner.push(Member::Base);
            }
            Some(Member::Object(key.span.range(), inner))
        }
        How::Body | How::Labels | How::DirectChildren => {
            let extras = item.extras.get_or_insert_with(Box::default);
            let part = match how {
                How::Body => single::scan_body(cur, extras)?,
                How::Labels => single::scan_labels(cur, extras)?,
                _ => single::scan_children(cur, extras)?,
            };
            Some(Member::Single(part))
        }
    })
}

/// A string or number id (decoded), or `None` for `null`.
fn id_value(cur: &mut Cursor<'_>, what: &'static str) -> Res<Option<String>> {
    match cur.peek()? {
        b'"' => {
            let s = cur.string()?;
            let text = cur.decode(s)?;
            if text.is_empty() {
                return Err(Box::new(FilterError::Shape(what)));
            }
            Ok(Some(text.into_owned()))
        }
        b'n' => cur.literal(b"null").map(|()| None),
        _ => {
            let span = cur.expect_number(what)?;
            Ok(Some(
                cur.text(span).ok_or(FilterError::Shape(what))?.to_owned(),
            ))
        }
    }
}

/// True for a Confluence-relative link: `/…` but not `//…`, no backslash.
fn is_relative(link: &str) -> bool {
    link.starts_with('/') && !link.starts_with("//") && !link.contains('\\')
}

/// Writes `item` (scanned from `body`) with its kept members.
pub(super) fn write_item(
    out: &mut Vec<u8>,
    body: &[u8],
    item: &V2Item,
    ctx: &RenderContext<'_>,
) -> Result<(), FilterError> {
    write_members(out, body, item, &item.members, ctx)
}

fn write_members(
    out: &mut Vec<u8>,
    body: &[u8],
    item: &V2Item,
    members: &[Member],
    ctx: &RenderContext<'_>,
) -> Result<(), FilterError> {
    let slice = |r: &Range<usize>| {
        body.get(r.clone())
            .ok_or(FilterError::Shape("body does not match its scan"))
    };
    let visible = |id: Option<&str>| id.is_some_and(|id| (ctx.visible)(id));
    out.push(b'{');
    let mut first = true;
    let mut sep = |out: &mut Vec<u8>| {
        if !std::mem::take(&mut first) {
            out.push(b',');
        }
    };
    for member in members {
        match member {
            Member::Raw(r) => {
                sep(out);
                out.extend_from_slice(slice(r)?);
            }
            Member::IfParent(r) if visible(item.parent_id()) => {
                sep(out);
                out.extend_from_slice(slice(r)?);
            }
            Member::IfHomepage(r) if visible(item.homepage_id()) => {
                sep(out);
                out.extend_from_slice(slice(r)?);
            }
            Member::IfParent(_) | Member::IfHomepage(_) => {}
            Member::Object(key, inner) => {
                sep(out);
                out.extend_from_slice(slice(key)?);
                out.push(b':');
                write_members(out, body, item, inner, ctx)?;
            }
            Member::Download(key) => {
                if let (Some(page), Some(file)) = (item.page_id(), item.title.as_deref()) {
                    sep(out);
                    out.extend_from_slice(slice(key)?);
                    out.push(b':');
                    write_json_str(out, &(ctx.download)(page, file));
                }
            }
            Member::Base => {
                sep(out);
                out.extend_from_slice(b"\"base\":");
                write_json_str(out, ctx.base);
            }
            Member::Single(part) => {
                sep(out);
                single::write_part(out, body, item, *part, ctx)?;
            }
        }
    }
    out.push(b'}');
    Ok(())
}
