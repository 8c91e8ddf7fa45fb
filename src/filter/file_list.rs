//! A page's attachments and comments (`content/{id}/child/attachment`, `child/comment`): scan
//! the upstream list, keep only what belongs to the page, render with kbgate's links.
//!
//! Upstream shapes: `cloud-v1-content-child-attachment.json` and
//! `cloud-v1-content-child-comment.json`. Kept per item, re-emitted member by member:
//! `id`, `type`, `status`, `title` (the file name, or `Re: <page title>`), for attachments
//! `metadata.mediaType` and `extensions.{mediaType,fileSize,comment,mediaTypeDescription}` and a
//! `_links.download` pointing at kbgate's download route; for comments `extensions.location`.
//! Dropped: bodies, versions, history, `_expandable`, upstream `_links` (`webui`, `self`) and every
//! member not named here.
//!
//! Guarantees: an item is kept only when it is of the listed type **and** provably belongs to
//! the page that was decided (an attachment's `_links.download` is under
//! `/download/attachments/{pageId}/`, a comment's `_expandable.container` is
//! `/rest/api/content/{pageId}`); anything else is removed and counted. `size` is the number kept.
//!
//! Deliberately not done here: deciding the page (the proxy does, before asking upstream).

use std::ops::Range;

use super::json::Cursor;
use super::labels::links_have_next;
use super::plan::{write_json_str, write_links_and_close, write_paging};
use super::{FilterError, Res, SearchLinks};
use crate::ids::ContentId;

/// Which child list is scanned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    /// `child/attachment`
    Attachment,
    /// `child/comment`
    Comment,
}

impl FileKind {
    fn type_name(self) -> &'static [u8] {
        match self {
            FileKind::Attachment => b"attachment",
            FileKind::Comment => b"comment",
        }
    }
}

/// One kept item: byte ranges of its plain members, nested members, and its file name.
#[derive(Debug)]
struct Kept {
    members: Vec<Range<usize>>,
    /// `"metadata":{…}`/`"extensions":{…}` rewritten to their allowlisted members.
    nested: Vec<(&'static str, Vec<Range<usize>>)>,
    /// The decoded title (an attachment's file name), for kbgate's download link.
    title: String,
    /// The decoded id.
    id: String,
}

/// The scan of one attachment or comment list.
#[derive(Debug)]
pub struct FileListScan {
    kind: FileKind,
    kept: Vec<Kept>,
    upstream_count: usize,
    start: u64,
    limit: u64,
    has_next: bool,
    body_len: usize,
}

impl FileListScan {
    /// How many items upstream sent (kept or not): the next page starts after them.
    pub fn upstream_count(&self) -> usize {
        self.upstream_count
    }

    /// How many items were removed because they did not provably belong to the page.
    pub fn removed(&self) -> usize {
        self.upstream_count - self.kept.len()
    }

    /// True when upstream's `_links` had a `next` member.
    pub fn has_next(&self) -> bool {
        self.has_next
    }

    /// The kept items' ids and titles (an attachment's title is its file name).
    pub fn items(&self) -> impl Iterator<Item = (&str, &str)> {
        self.kept.iter().map(|k| (k.id.as_str(), k.title.as_str()))
    }
}

/// Scans an attachment or comment list of page `page`.
pub fn scan_file_list(
    body: &[u8],
    kind: FileKind,
    page: &ContentId,
) -> Result<FileListScan, FilterError> {
    scan_inner(body, kind, page).map_err(|e| *e)
}

fn scan_inner(body: &[u8], kind: FileKind, page: &ContentId) -> Res<FileListScan> {
    let mut cur = Cursor::new(body)?;
    cur.expect_object("child list is not an object")?;
    let mut keys = cur.keys_begin("child list");
    let (mut items, mut start, mut limit, mut has_next) = (None, None, None, false);
    let mut first = true;
    while let Some(key) = cur.next_key(&mut first)? {
        cur.key_insert(&mut keys, key)?;
        match cur.raw_inner(key) {
            b"results" => items = Some(scan_results(&mut cur, kind, page)?),
            b"start" => start = Some(cur.expect_u64("child list start is not a count")?),
            b"limit" => limit = Some(cur.expect_u64("child list limit is not a count")?),
            b"size" => {
                cur.expect_u64("child list size is not a count")?;
            }
            b"_links" => {
                has_next = links_have_next(&mut cur, "child list _links is not an object")?
            }
            _ => {
                cur.skip_value()?;
            }
        }
    }
    cur.keys_end(keys);
    cur.finish()?;
    let (kept, upstream_count) = items.ok_or(FilterError::Shape("child list without results"))?;
    // Some answers (comment lists) leave paging out: a single, complete page.
    Ok(FileListScan {
        kind,
        kept,
        upstream_count,
        start: start.unwrap_or(0),
        limit: limit.unwrap_or(upstream_count as u64),
        has_next,
        body_len: body.len(),
    })
}

fn scan_results(cur: &mut Cursor<'_>, kind: FileKind, page: &ContentId) -> Res<(Vec<Kept>, usize)> {
    cur.expect_array("child list results is not an array")?;
    let mut kept = Vec::with_capacity((cur.remaining() / 512).clamp(1, 256));
    let mut count = 0;
    let mut first = true;
    while cur.next_elem(&mut first)? {
        count += 1;
        if let Some(item) = scan_item(cur, kind, page)? {
            kept.push(item);
        }
    }
    Ok((kept, count))
}

/// One item; `None` when it is not of `kind` or does not belong to `page`.
fn scan_item(cur: &mut Cursor<'_>, kind: FileKind, page: &ContentId) -> Res<Option<Kept>> {
    cur.expect_object("child item is not an object")?;
    let mut keys = cur.keys_begin("child item");
    let mut item = Kept {
        members: Vec::with_capacity(4),
        nested: Vec::new(),
        title: String::new(),
        id: String::new(),
    };
    let (mut right_type, mut owned, mut has_id) = (false, false, false);
    let mut first = true;
    while let Some(key) = cur.next_key(&mut first)? {
        cur.key_insert(&mut keys, key)?;
        let from = key.span.start();
        match cur.raw_inner(key) {
            b"id" => {
                let s = cur.expect_string("child item id is not a string")?;
                item.id = cur.decode(s)?.into_owned();
                has_id = true;
                item.members.push(from..cur.pos());
            }
            b"type" => {
                let s = cur.expect_string("child item type is not a string")?;
                right_type = cur.raw_inner(s) == kind.type_name();
                item.members.push(from..cur.pos());
            }
            b"status" => {
                cur.expect_string("child item status is not a string")?;
                item.members.push(from..cur.pos());
            }
            b"title" => {
                let s = cur.expect_string("child item title is not a string")?;
                item.title = cur.decode(s)?.into_owned();
                item.members.push(from..cur.pos());
            }
            b"metadata" if kind == FileKind::Attachment => {
                let kept = scan_strings(cur, &[b"mediaType"], "attachment metadata")?;
                item.nested.push(("metadata", kept));
            }
            b"extensions" => {
                let allowed: &[&[u8]] = match kind {
                    FileKind::Attachment => &[
                        b"mediaType",
                        b"fileSize",
                        b"comment",
                        b"mediaTypeDescription",
                    ],
                    FileKind::Comment => &[b"location"],
                };
                let kept = scan_strings(cur, allowed, "child item extensions")?;
                item.nested.push(("extensions", kept));
            }
            b"_links" if kind == FileKind::Attachment => {
                owned |= cur
                    .string_member("child item links are not an object", b"download")?
                    .is_some_and(|path| download_belongs_to(&path, page));
            }
            b"_expandable" if kind == FileKind::Comment => {
                owned |= cur
                    .string_member("child item links are not an object", b"container")?
                    .is_some_and(|path| path == format!("/rest/api/content/{page}"));
            }
            _ => {
                cur.skip_value()?;
            }
        }
    }
    cur.keys_end(keys);
    Ok((right_type && owned && has_id).then_some(item))
}

fn download_belongs_to(path: &str, page: &ContentId) -> bool {
    path.strip_prefix("/download/attachments/")
        .and_then(|rest| rest.strip_prefix(page.as_str()))
        .is_some_and(|rest| rest.starts_with('/'))
}

/// Scans an object and keeps the members named in `allowed` (strings or numbers only).
fn scan_strings(
    cur: &mut Cursor<'_>,
    allowed: &[&[u8]],
    what: &'static str,
) -> Res<Vec<Range<usize>>> {
    cur.expect_object(what)?;
    let mut keys = cur.keys_begin(what);
    let mut kept = Vec::new();
    let mut first = true;
    while let Some(key) = cur.next_key(&mut first)? {
        cur.key_insert(&mut keys, key)?;
        let from = key.span.start();
        if allowed.contains(&cur.raw_inner(key)) {
            match cur.peek()? {
                b'"' => {
                    cur.string()?;
                }
                b'-' | b'0'..=b'9' => {
                    cur.number()?;
                }
                _ => return Err(Box::new(FilterError::Shape(what))),
            }
            kept.push(from..cur.pos());
        } else {
            cur.skip_value()?;
        }
    }
    cur.keys_end(keys);
    Ok(kept)
}

/// Renders a scanned list: kept items, upstream paging with `size` = kept, kbgate's `_links`.
/// `download_link(file_name)` gives kbgate's download URL of an attachment.
pub fn render_file_list(
    scan: &FileListScan,
    body: &[u8],
    links: &SearchLinks<'_>,
    download_link: &dyn Fn(&str) -> String,
) -> Result<Vec<u8>, FilterError> {
    if body.len() != scan.body_len {
        return Err(FilterError::Shape("body does not match its scan"));
    }
    let slice = |r: &Range<usize>| {
        body.get(r.clone())
            .ok_or(FilterError::Shape("body does not match its scan"))
    };
    let mut out = Vec::with_capacity(body.len() / 2 + 256);
    out.extend_from_slice(b"{\"results\":[");
    for (i, item) in scan.kept.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.push(b'{');
        let mut first = true;
        for member in &item.members {
            if !std::mem::take(&mut first) {
                out.push(b',');
            }
            out.extend_from_slice(slice(member)?);
        }
        for (name, members) in &item.nested {
            if !std::mem::take(&mut first) {
                out.push(b',');
            }
            write_json_str(&mut out, name);
            out.extend_from_slice(b":{");
            for (j, member) in members.iter().enumerate() {
                if j > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(slice(member)?);
            }
            out.push(b'}');
        }
        if scan.kind == FileKind::Attachment {
            out.extend_from_slice(b",\"_links\":{\"download\":");
            write_json_str(&mut out, &download_link(&item.title));
            out.push(b'}');
        }
        out.push(b'}');
    }
    write_paging(&mut out, scan.start, scan.limit, scan.kept.len());
    write_links_and_close(&mut out, links);
    Ok(out)
}

#[cfg(test)]
#[path = "file_list_tests.rs"]
mod tests;
