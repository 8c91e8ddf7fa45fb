//! Spaces (`GET /wiki/rest/api/space` and `GET /wiki/rest/api/space/{key}`): scan the upstream
//! answer, then render only the spaces the caller decides to keep, reduced to their plain
//! fields, with kbgate's links.
//!
//! The upstream shapes are a space object `{id,key,alias,name,type,status,_expandable,_links}`
//! and a list of them `{"results":[…],"start","limit","size","_links"}`
//! (`cloud-v1-spaces.json`). Kept in each space: only `id`, `key`, `alias`, `name`, `type` and
//! `status` (copied as upstream wrote them, after validation), then kbgate's own
//! `_links.self`. Dropped: `_expandable` (its `homepage` names a content id), `homepage`,
//! `description`, `icon`, upstream `_links` and every other member. A list keeps upstream
//! `start` and `limit`, `size` = the spaces kept, and kbgate's `_links`.
//!
//! Guarantees: the whole body is validated (UTF-8, depth, syntax, duplicate keys in the objects
//! read); every space has a string `key`; `id` is a string or a number, the other kept members
//! strings; the output is valid JSON; a space is written only when the caller's `keep` says so.
//!
//! Deliberately not done here: deciding which spaces a customer may see (the proxy keeps the
//! configured KB spaces) or building kbgate's URLs (the caller passes them in).

use std::ops::Range;

use super::json::Cursor;
use super::labels::links_have_next;
use super::plan::{write_json_str, write_links_and_close, write_paging};
use super::{FilterError, Res, SearchLinks};

/// One scanned space: its decoded key and the byte ranges of its kept members.
#[derive(Debug)]
struct ScannedSpace {
    key: String,
    members: Vec<Range<usize>>,
    /// The home page id named by `_expandable.homepage` or `homepage.id` (never rendered).
    homepage: Option<crate::ids::ContentId>,
}

/// The scan of one space answer (`space/{key}`).
#[derive(Debug)]
pub struct SpaceScan {
    space: ScannedSpace,
    body_len: usize,
}

impl SpaceScan {
    /// The space key upstream answered with (decoded).
    pub fn key(&self) -> &str {
        &self.space.key
    }

    /// The space's home page id, when upstream named one (to be decided before any use).
    pub fn homepage_id(&self) -> Option<&crate::ids::ContentId> {
        self.space.homepage.as_ref()
    }
}

/// The scan of one space-list answer (`space`).
#[derive(Debug)]
pub struct SpaceListScan {
    spaces: Vec<ScannedSpace>,
    start: u64,
    limit: u64,
    has_next: bool,
    body_len: usize,
}

impl SpaceListScan {
    /// How many spaces upstream sent (kept or not).
    pub fn upstream_count(&self) -> usize {
        self.spaces.len()
    }

    /// True when upstream's `_links` had a `next` member (more spaces exist).
    pub fn has_next(&self) -> bool {
        self.has_next
    }
}

/// A rendered space list and how many spaces were removed.
#[derive(Debug)]
pub struct RenderedSpaces {
    /// The JSON to send.
    pub body: Vec<u8>,
    /// Spaces upstream sent that `keep` refused.
    pub removed: usize,
}

/// Scans a single space answer: validates all of it and records the members to keep.
pub fn scan_space(body: &[u8]) -> Result<SpaceScan, FilterError> {
    let inner = || -> Res<SpaceScan> {
        let mut cur = Cursor::new(body)?;
        let space = scan_one(&mut cur)?;
        cur.finish()?;
        Ok(SpaceScan {
            space,
            body_len: body.len(),
        })
    };
    inner().map_err(|e| *e)
}

/// Scans a space-list answer: validates all of it and records the members to keep.
pub fn scan_space_list(body: &[u8]) -> Result<SpaceListScan, FilterError> {
    scan_list_inner(body).map_err(|e| *e)
}

fn scan_list_inner(body: &[u8]) -> Res<SpaceListScan> {
    let mut cur = Cursor::new(body)?;
    cur.expect_object("space list is not an object")?;
    let mut keys = cur.keys_begin("space list");
    let (mut spaces, mut start, mut limit, mut has_next) = (None, None, None, false);
    let mut first = true;
    while let Some(key) = cur.next_key(&mut first)? {
        cur.key_insert(&mut keys, key)?;
        match cur.raw_inner(key) {
            b"results" => {
                cur.expect_array("space list results is not an array")?;
                let mut list = Vec::with_capacity((cur.remaining() / 256).clamp(1, 128));
                let mut first_elem = true;
                while cur.next_elem(&mut first_elem)? {
                    list.push(scan_one(&mut cur)?);
                }
                spaces = Some(list);
            }
            b"start" => start = Some(cur.expect_u64("space list start is not a count")?),
            b"limit" => limit = Some(cur.expect_u64("space list limit is not a count")?),
            b"size" => {
                cur.expect_u64("space list size is not a count")?;
            }
            b"_links" => {
                has_next = links_have_next(&mut cur, "space list _links is not an object")?
            }
            _ => {
                cur.skip_value()?;
            }
        }
    }
    cur.keys_end(keys);
    cur.finish()?;
    Ok(SpaceListScan {
        spaces: spaces.ok_or(FilterError::Shape("space list without results"))?,
        start: start.ok_or(FilterError::Shape("space list without start"))?,
        limit: limit.ok_or(FilterError::Shape("space list without limit"))?,
        has_next,
        body_len: body.len(),
    })
}

/// Scans one space object at the cursor.
fn scan_one(cur: &mut Cursor<'_>) -> Res<ScannedSpace> {
    cur.expect_object("space is not an object")?;
    let mut keys = cur.keys_begin("space");
    let mut members = Vec::with_capacity(6);
    let mut space_key = None;
    let mut homepage = None;
    let mut first = true;
    while let Some(key) = cur.next_key(&mut first)? {
        cur.key_insert(&mut keys, key)?;
        match cur.raw_inner(key) {
            b"key" => {
                let value = cur.expect_string("space key is not a string")?;
                space_key = Some(cur.decode(value)?.into_owned());
            }
            b"alias" | b"name" | b"type" | b"status" => {
                cur.expect_string("space member is not a string")?;
            }
            b"id" => {
                if cur.peek()? == b'"' {
                    cur.string()?;
                } else {
                    cur.expect_number("space id is not a string or number")?;
                }
            }
            b"_expandable" | b"homepage" => {
                let (what, member, prefix): (_, &[u8], _) = match cur.raw_inner(key) {
                    b"homepage" => ("space homepage", b"id", ""),
                    _ => ("space _expandable", b"homepage", "/rest/api/content/"),
                };
                if let Some(id) = string_member(cur, what, member)? {
                    homepage = id
                        .strip_prefix(prefix)
                        .and_then(|id| crate::ids::ContentId::new(id).ok())
                        .or(homepage);
                }
                continue;
            }
            _ => {
                cur.skip_value()?;
                continue;
            }
        }
        members.push(key.span.start()..cur.pos());
    }
    cur.keys_end(keys);
    Ok(ScannedSpace {
        key: space_key.ok_or(FilterError::Shape("space without a key"))?,
        members,
        homepage,
    })
}

/// Like [`Cursor::string_member`], but `null` is no object and no member.
fn string_member(cur: &mut Cursor<'_>, what: &'static str, name: &[u8]) -> Res<Option<String>> {
    if cur.peek()? == b'n' {
        cur.skip_value()?;
        return Ok(None);
    }
    cur.string_member(what, name)
}

/// Writes one kept space: its kept members and kbgate's `_links.self`.
fn write_space(
    out: &mut Vec<u8>,
    body: &[u8],
    space: &ScannedSpace,
    self_link: &str,
) -> Result<(), FilterError> {
    out.push(b'{');
    for member in &space.members {
        let raw = body
            .get(member.clone())
            .ok_or(FilterError::Shape("body does not match its scan"))?;
        out.extend_from_slice(raw);
        out.push(b',');
    }
    out.extend_from_slice(b"\"_links\":{\"self\":");
    write_json_str(out, self_link);
    out.extend_from_slice(b"}}");
    Ok(())
}

/// Renders a scanned single space with `self_link` as its `_links.self`. The caller has
/// decided the space (by [`SpaceScan::key`]) before calling.
pub fn render_space(
    scan: &SpaceScan,
    body: &[u8],
    self_link: &str,
) -> Result<Vec<u8>, FilterError> {
    if body.len() != scan.body_len {
        return Err(FilterError::Shape("body does not match its scan"));
    }
    let mut out = Vec::with_capacity(256 + self_link.len());
    write_space(&mut out, body, &scan.space, self_link)?;
    Ok(out)
}

/// Renders a scanned space list: the spaces whose key `keep` accepts (each with
/// `space_link(key)` as its `_links.self`), upstream `start` and `limit`, `size` = the spaces
/// kept, and kbgate's `_links`.
pub fn render_space_list(
    scan: &SpaceListScan,
    body: &[u8],
    keep: &dyn Fn(&str) -> bool,
    space_link: &dyn Fn(&str) -> String,
    links: &SearchLinks<'_>,
) -> Result<RenderedSpaces, FilterError> {
    if body.len() != scan.body_len {
        return Err(FilterError::Shape("body does not match its scan"));
    }
    let mut out = Vec::with_capacity(512 + links.self_link.len());
    out.extend_from_slice(b"{\"results\":[");
    let mut kept = 0usize;
    for space in scan.spaces.iter().filter(|s| keep(&s.key)) {
        if kept > 0 {
            out.push(b',');
        }
        write_space(&mut out, body, space, &space_link(&space.key))?;
        kept += 1;
    }
    write_paging(&mut out, scan.start, scan.limit, kept);
    write_links_and_close(&mut out, links);
    Ok(RenderedSpaces {
        body: out,
        removed: scan.spaces.len().saturating_sub(kept),
    })
}

#[cfg(test)]
#[path = "space_list_tests.rs"]
mod tests;
