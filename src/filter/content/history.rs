//! The `version` and `history` members of a Content object: dates and version summaries are
//! kept, the people in them without their links, and everything that names other content or
//! Confluence's own URLs is dropped (threats R11).

use crate::filter::json::Cursor;
use crate::filter::plan::{Op, Plan};
use crate::filter::Res;

/// Keeps a version summary minus `content`, `_expandable`, `collaborators` and `_links`; its
/// author (`by`) without the author's own links.
pub(super) fn scan_version(cur: &mut Cursor<'_>, plan: &mut Plan<'_>) -> Res<()> {
    cur.expect_object("version is not an object")?;
    let mut keys = cur.keys_begin("version");
    plan.push(Op::Open(b'{'));
    let mut first = true;
    while let Some(key) = cur.next_key(&mut first)? {
        match cur.raw_inner(key) {
            // The user, without `_links.self` (Confluence's own URL, threats R11).
            b"by" if cur.peek()? == b'{' => {
                keys.once(0)?;
                plan.push(Op::Key(key.span));
                copy_without_links(cur, plan, "version author")?;
            }
            // `content` is a whole Content object; `_expandable` URLs name content ids;
            // `_links.self` is Confluence's own URL.
            b"by" => {
                keys.once(0)?;
                cur.skip_value()?;
            }
            b"content" | b"_expandable" | b"collaborators" | b"_links" => {
                cur.key_insert(&mut keys, key)?;
                cur.skip_value()?;
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
    Ok(())
}

/// Keeps `latest`, `createdDate`, `createdBy`, and the version summaries `lastUpdated`,
/// `previousVersion`, `nextVersion` (each reduced like `version`); drops `contributors`,
/// `_expandable` and `_links`, which name other content and users' spaces.
pub(super) fn scan_history(cur: &mut Cursor<'_>, plan: &mut Plan<'_>) -> Res<()> {
    cur.expect_object("history is not an object")?;
    let mut keys = cur.keys_begin("history");
    plan.push(Op::Open(b'{'));
    let mut first = true;
    while let Some(key) = cur.next_key(&mut first)? {
        cur.key_insert(&mut keys, key)?;
        match cur.raw_inner(key) {
            b"createdBy" if cur.peek()? == b'{' => {
                plan.push(Op::Key(key.span));
                copy_without_links(cur, plan, "history author")?;
            }
            b"latest" | b"createdDate" => {
                let v = cur.skip_value()?;
                plan.member(key.span.start(), v.end());
            }
            b"lastUpdated" | b"previousVersion" | b"nextVersion" => {
                plan.push(Op::Key(key.span));
                scan_version(cur, plan)?;
            }
            _ => {
                cur.skip_value()?;
            }
        }
    }
    cur.keys_end(keys);
    plan.push(Op::Close(b'}'));
    Ok(())
}

/// Copies an object (a user) without its `_links` and `_expandable`, which carry Confluence's
/// own URLs (threats R11); everything else of it is kept as written.
fn copy_without_links(cur: &mut Cursor<'_>, plan: &mut Plan<'_>, what: &'static str) -> Res<()> {
    cur.expect_object(what)?;
    let mut keys = cur.keys_begin(what);
    plan.push(Op::Open(b'{'));
    let mut first = true;
    while let Some(key) = cur.next_key(&mut first)? {
        cur.key_insert(&mut keys, key)?;
        let v = cur.skip_value()?;
        if !matches!(cur.raw_inner(key), b"_links" | b"_expandable") {
            plan.member(key.span.start(), v.end());
        }
    }
    cur.keys_end(keys);
    plan.push(Op::Close(b'}'));
    Ok(())
}
