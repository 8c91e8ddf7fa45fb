//! `ancestors` of a Content object: each entry under its own visibility condition, reduced to
//! `id`, `type`, `status`, `title` and `_links{webui,tinyui}`; repeated entries (the space's
//! root page, shared category pages) are walked once per answer (`memo.rs`).

use crate::ids::ContentId;
use crate::policy::AncestorIds;

use super::super::json::Cursor;
use super::super::memo::Memos;
use super::super::plan::{Cond, Op, Plan};
use super::super::{FilterError, Res};
use super::{keep_named, scan_links, LinksKind};

const ANCESTOR_FIELD: &str = "ancestor field is not a string";

pub(super) fn scan_ancestors(
    cur: &mut Cursor<'_>,
    plan: &mut Plan<'_>,
    item: u32,
    memo: &mut Memos,
) -> Res<AncestorIds> {
    cur.expect_array("ancestors is not an array")?;
    plan.push(Op::Open(b'['));
    let mut ids = AncestorIds::new();
    let mut first = true;
    while cur.next_elem(&mut first)? {
        let index =
            u32::try_from(ids.len()).map_err(|_| FilterError::Shape("too many ancestors"))?;
        let group = plan.open_if(Cond::Ancestor(item, index))?;
        plan.push(Op::Elem);
        ids.push(memo.ancestor.scan(cur, plan, scan_ancestor)?);
        plan.close_if(group)?;
    }
    plan.push(Op::Close(b']'));
    Ok(ids)
}

/// One ancestor object: plans its kept members and returns its id.
#[inline(never)]
fn scan_ancestor(cur: &mut Cursor<'_>, plan: &mut Plan<'_>) -> Res<ContentId> {
    cur.expect_object("ancestor is not an object")?;
    let mut keys = cur.keys_begin("ancestor");
    plan.push(Op::Open(b'{'));
    let mut id = None;
    let mut first_key = true;
    while let Some(key) = cur.next_key(&mut first_key)? {
        match cur.raw_inner(key) {
            b"id" => {
                keys.once(0)?;
                let s = cur.expect_string("ancestor id is not a string")?;
                let parsed = ContentId::new(&cur.decode(s)?);
                id = Some(
                    parsed.map_err(|_| FilterError::Shape("ancestor id is not a content id"))?,
                );
                plan.member(key.span.start(), s.span.end());
            }
            b"type" => keep_named(cur, plan, &mut keys, 1, key, ANCESTOR_FIELD)?,
            b"status" => keep_named(cur, plan, &mut keys, 2, key, ANCESTOR_FIELD)?,
            b"title" => keep_named(cur, plan, &mut keys, 3, key, ANCESTOR_FIELD)?,
            b"_links" => {
                keys.once(4)?;
                plan.push(Op::Key(key.span));
                scan_links(cur, plan, LinksKind::Item)?;
            }
            _ => {
                cur.key_insert(&mut keys, key)?;
                cur.skip_value()?;
            }
        }
    }
    cur.keys_end(keys);
    plan.push(Op::Close(b'}'));
    Ok(id.ok_or(FilterError::Shape("ancestor without an id"))?)
}
