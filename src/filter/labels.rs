//! `metadata.labels` of a Content object: the label names, and whether they are all of them.
//!
//! Guarantees: [`Labels::Complete`] only when the labels object has `results`, a `size` equal to
//! the number of results, no `_links.next`, and `size < limit` when a `limit` is given — so an
//! `org-x` label on a page kbgate did not fetch can never be missed; anything less is
//! [`Labels::Incomplete`], which the policy treats as hidden. A label entry without a string
//! `name`, or labels in any other shape, fails the scan.
//!
//! The plan keeps `metadata` with only `labels` inside, and in it `results`, `start`, `limit`,
//! `size` (label `_links` and every other metadata member are dropped).

use crate::policy::{LabelNames, Labels};

use super::json::Cursor;
use super::plan::{Op, Plan};
use super::{FilterError, Res};

/// Scans `metadata` and plans it with only its `labels`.
#[inline(never)]
pub(super) fn scan_metadata(cur: &mut Cursor<'_>, plan: &mut Plan<'_>) -> Res<Labels> {
    cur.expect_object("metadata is not an object")?;
    let mut keys = cur.keys_begin("metadata");
    plan.push(Op::Open(b'{'));
    let mut labels = Labels::Incomplete;
    let mut first = true;
    while let Some(key) = cur.next_key(&mut first)? {
        if cur.raw_inner(key) == b"labels" {
            keys.once(0)?;
            plan.push(Op::Key(key.span));
            labels = scan_labels(cur, plan)?;
        } else {
            cur.key_insert(&mut keys, key)?;
            cur.skip_value()?;
        }
    }
    cur.keys_end(keys);
    plan.push(Op::Close(b'}'));
    Ok(labels)
}

/// Reads `metadata.labels`; complete only with `results`, `size == results.len()`, no
/// `_links.next`, and `size < limit` when a limit is given.
fn scan_labels(cur: &mut Cursor<'_>, plan: &mut Plan<'_>) -> Res<Labels> {
    cur.expect_object("labels is not an object")?;
    let mut keys = cur.keys_begin("labels");
    plan.push(Op::Open(b'{'));
    let (mut names, mut size, mut limit, mut has_next) = (None, None, None, false);
    let mut first = true;
    while let Some(key) = cur.next_key(&mut first)? {
        match cur.raw_inner(key) {
            b"results" => {
                keys.once(0)?;
                names = Some(scan_label_results(cur)?);
                plan.member(key.span.start(), cur.pos());
            }
            b"start" => {
                keys.once(1)?;
                let v = cur.expect_number("labels start is not a number")?;
                plan.member(key.span.start(), v.end());
            }
            b"limit" => {
                keys.once(2)?;
                limit = Some(cur.expect_u64("labels limit is not a count")?);
                plan.member(key.span.start(), cur.pos());
            }
            b"size" => {
                keys.once(3)?;
                size = Some(cur.expect_u64("labels size is not a count")?);
                plan.member(key.span.start(), cur.pos());
            }
            b"_links" => {
                keys.once(4)?;
                has_next = links_have_next(cur, "labels _links is not an object")?;
            }
            _ => {
                cur.key_insert(&mut keys, key)?;
                cur.skip_value()?;
            }
        }
    }
    cur.keys_end(keys);
    plan.push(Op::Close(b'}'));
    let Some(names) = names else {
        return Ok(Labels::Incomplete);
    };
    let counted = u64::try_from(names.len()).ok();
    let complete =
        size.is_some() && size == counted && !has_next && limit.is_none_or(|l| size < Some(l));
    Ok(if complete {
        Labels::Complete(names)
    } else {
        Labels::Incomplete
    })
}

fn scan_label_results(cur: &mut Cursor<'_>) -> Res<LabelNames> {
    cur.expect_array("label results is not an array")?;
    let mut names = LabelNames::new();
    let mut first = true;
    while cur.next_elem(&mut first)? {
        cur.expect_object("label is not an object")?;
        let mut keys = cur.keys_begin("label");
        let mut name = None;
        let mut first_key = true;
        while let Some(key) = cur.next_key(&mut first_key)? {
            match cur.raw_inner(key) {
                b"name" => {
                    keys.once(0)?;
                    let s = cur.expect_string("label name is not a string")?;
                    name = Some(compact_str::CompactString::from(cur.decode(s)?));
                }
                // Read past by name too: the cheaper duplicate check.
                b"prefix" => {
                    keys.once(1)?;
                    cur.skip_value()?;
                }
                b"id" => {
                    keys.once(2)?;
                    cur.skip_value()?;
                }
                b"label" => {
                    keys.once(3)?;
                    cur.skip_value()?;
                }
                _ => {
                    cur.key_insert(&mut keys, key)?;
                    cur.skip_value()?;
                }
            }
        }
        cur.keys_end(keys);
        names.push(name.ok_or(FilterError::Shape("label without a name"))?);
    }
    Ok(names)
}

/// Steps over a `_links` object and says whether it has a `next` member (of any value).
pub(super) fn links_have_next(cur: &mut Cursor<'_>, what: &'static str) -> Res<bool> {
    cur.expect_object(what)?;
    let mut keys = cur.keys_begin("_links");
    let mut has_next = false;
    let mut first = true;
    while let Some(key) = cur.next_key(&mut first)? {
        cur.key_insert(&mut keys, key)?;
        has_next |= cur.raw_inner(key) == b"next";
        cur.skip_value()?;
    }
    cur.keys_end(keys);
    Ok(has_next)
}
