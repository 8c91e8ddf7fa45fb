//! The scan memo: sub-objects a search or listing answer repeats byte for byte are walked once.
//!
//! Confluence repeats itself inside one answer: every result of a knowledge-base search carries
//! the same `space` object, the same root ancestor, the same few category ancestors and
//! breadcrumbs, and the same `metadata.labels` for pages labelled alike. A [`Memo`] remembers,
//! for one walker, the last few values it walked: their bytes (a span of the body), the depth
//! they were at, the plan ops the walk wrote and what it returned. When the bytes at the cursor
//! repeat one of them exactly, the cursor steps over them and the ops are appended again,
//! shifted to the new position; the walker is not run.
//!
//! Why that is the same answer: a walker is a function of the bytes it reads and the depth it
//! starts at. It reads exactly its value (an object ends at its `}`; nothing after it is
//! looked at), its duplicate-key records are gone when it returns, and it succeeded the first
//! time. Equal bytes at an equal depth therefore give equal ops (relative to the value's
//! start) and an equal result. Only walks whose ops are self-contained are remembered: plain
//! copies, keys and containers, every span inside the value, no visibility group and no
//! caller-supplied link, and the op before them left as it was (no member merged across the
//! boundary). Anything else is simply walked again.
//!
//! Bounded: a few entries per walker, each holding at most [`MAX_OPS`] ops inline. An answer
//! whose sub-objects never repeat pays a sixteen-byte compare per entry and a copy of a few ops
//! per value.

use super::json::{Cursor, Span};
use super::plan::{Op, Plan};
use super::urls::Target;
use super::Res;
use crate::ids::{ContentId, SpaceKey};
use crate::policy::Labels;

/// The most ops one remembered walk may have written.
const MAX_OPS: usize = 16;

/// The memos of one scan (one body): offsets in them mean nothing for another body.
#[derive(Default)]
pub(super) struct Memos {
    /// `space` of a content object.
    pub space: Memo<Option<SpaceKey>, 2>,
    /// `metadata` of a content object.
    pub metadata: Memo<Labels, 4>,
    /// One element of a content object's `ancestors`.
    pub ancestor: Memo<ContentId, 8>,
    /// One element of a search result's `breadcrumbs`.
    pub breadcrumb: Memo<Target, 4>,
}

/// The last `N` values one walker walked, replaced oldest first. Parallel arrays: a miss
/// compares only `heads`.
pub(super) struct Memo<T, const N: usize> {
    /// Each entry's first sixteen bytes: most misses end at this one compare.
    heads: [u128; N],
    /// Each entry's bytes in the body, and the depth they were walked at (empty: no entry).
    values: [(Span, u32); N],
    /// Each entry's ops, spans as they were; `ops_len` of them are used.
    ops: [[Op; MAX_OPS]; N],
    ops_len: [usize; N],
    /// Each entry's result; `None` for an empty slot.
    results: [Option<T>; N],
    next: usize,
}

impl<T, const N: usize> Default for Memo<T, N> {
    fn default() -> Self {
        Memo {
            heads: [0; N],
            values: [(Span::new(0, 0), 0); N],
            ops: [[Op::Elem; MAX_OPS]; N],
            ops_len: [0; N],
            results: std::array::from_fn(|_| None),
            next: 0,
        }
    }
}

impl<T: Clone, const N: usize> Memo<T, N> {
    /// Runs `walk` on the value at the cursor, or replays an earlier walk of identical bytes.
    /// Values shorter than sixteen bytes are always walked.
    #[inline]
    pub fn scan<'c, 'p>(
        &mut self,
        cur: &mut Cursor<'c>,
        plan: &mut Plan<'p>,
        walk: impl FnOnce(&mut Cursor<'c>, &mut Plan<'p>) -> Res<T>,
    ) -> Res<T> {
        #[cfg(test)]
        if tests::OFF.with(std::cell::Cell::get) {
            return walk(cur, plan);
        }
        cur.peek()?;
        let Some(head) = cur.head() else {
            return walk(cur, plan);
        };
        let start = cur.pos();
        let depth = cur.depth();
        for (slot, &entry_head) in self.heads.iter().enumerate() {
            if entry_head != head {
                continue;
            }
            let (Some(&(value, at_depth)), Some(Some(result))) =
                (self.values.get(slot), self.results.get(slot))
            else {
                continue;
            };
            if at_depth == depth && cur.skip_repeat(value) {
                self.replay(slot, plan, start.saturating_sub(value.start()));
                return Ok(result.clone());
            }
        }
        let first = plan.ops.len();
        let before = plan.ops.last().copied();
        let result = walk(cur, plan)?;
        let value = Span::new(start, cur.pos());
        let (Some(kept), Some(ops)) = (plan.ops.get(..first), plan.ops.get(first..)) else {
            return Ok(result);
        };
        let untouched = kept.last().copied() == before;
        if untouched && ops.len() <= MAX_OPS && ops.iter().all(|&op| replayable(op, value)) {
            self.remember(head, value, depth, ops, &result);
        }
        Ok(result)
    }

    /// Appends entry `slot`'s ops, moved `by` bytes later.
    fn replay(&self, slot: usize, plan: &mut Plan<'_>, by: usize) {
        let len = self.ops_len.get(slot).copied().unwrap_or(0);
        let ops = self
            .ops
            .get(slot)
            .and_then(|o| o.get(..len))
            .unwrap_or_default();
        plan.ops.extend(ops.iter().map(|&op| shifted(op, by)));
    }

    /// Remembers a successful walk in the oldest slot.
    fn remember(&mut self, head: u128, value: Span, depth: u32, ops: &[Op], result: &T) {
        let slot = self.next % N;
        let (Some(h), Some(place), Some(stored), Some(len), Some(res)) = (
            self.heads.get_mut(slot),
            self.values.get_mut(slot),
            self.ops.get_mut(slot).and_then(|o| o.get_mut(..ops.len())),
            self.ops_len.get_mut(slot),
            self.results.get_mut(slot),
        ) else {
            return;
        };
        stored.copy_from_slice(ops);
        *len = ops.len();
        *res = Some(result.clone());
        *place = (value, depth);
        *h = head;
        self.next = (slot + 1) % N;
    }
}

/// Whether `op` may be written again elsewhere: it copies bytes of `value` only, and depends
/// on nothing but them.
fn replayable(op: Op, value: Span) -> bool {
    let inside = |s: Span| s.start() >= value.start() && s.end() <= value.end();
    match op {
        Op::Open(_) | Op::Close(_) | Op::Named(_) | Op::Elem => true,
        Op::Member(s) | Op::Key(s) | Op::BlankMember(s) => inside(s),
        Op::Link(_) | Op::If { .. } => false,
    }
}

/// `op` with its span moved `by` bytes later.
fn shifted(op: Op, by: usize) -> Op {
    let move_span = |s: Span| Span::new(s.start() + by, s.end() + by);
    match op {
        Op::Member(s) => Op::Member(move_span(s)),
        Op::Key(s) => Op::Key(move_span(s)),
        Op::BlankMember(s) => Op::BlankMember(move_span(s)),
        other => other,
    }
}

#[cfg(test)]
pub(super) mod tests {
    use std::cell::Cell;

    use super::*;

    thread_local! {
        /// Set by tests that compare a scan with the memo against one without it.
        pub static OFF: Cell<bool> = const { Cell::new(false) };
    }

    /// Runs `f` with the memo switched off on this thread.
    pub fn without_memo<R>(f: impl FnOnce() -> R) -> R {
        OFF.with(|off| off.set(true));
        let out = f();
        OFF.with(|off| off.set(false));
        out
    }

    /// Walks every element of the top-level array through one memo, counting real walks; the
    /// walker keeps each object whole.
    fn walk_all(body: &str) -> (Vec<Op>, Vec<u32>, usize) {
        let mut cur = Cursor::new(body.as_bytes()).unwrap();
        let mut plan = Plan::new(body.as_bytes(), 16);
        let mut memo: Memo<u32, 2> = Memo::default();
        let mut walks = 0;
        let mut results = Vec::new();
        cur.begin_array().unwrap();
        let mut first = true;
        while cur.next_elem(&mut first).unwrap() {
            let r = memo.scan(&mut cur, &mut plan, |cur, plan| {
                walks += 1;
                let v = cur.skip_value()?;
                plan.push(Op::Open(b'{'));
                plan.member(v.start() + 1, v.end() - 1);
                plan.push(Op::Close(b'}'));
                Ok(u32::try_from(v.end() - v.start()).unwrap_or(0))
            });
            results.push(r.unwrap());
        }
        (plan.ops, results, walks)
    }

    /// Where each `"name"` key of `body` starts.
    fn name_keys(body: &str) -> Vec<usize> {
        body.match_indices(r#""name""#).map(|(i, _)| i).collect()
    }

    #[test]
    fn a_repeated_value_is_walked_once_and_its_ops_are_replayed_at_its_own_place() {
        let body = r#"[{"name":"alpha-one"},{"name":"bravo-two2"},{"name":"alpha-one"}, {"name":"alpha-one"}]"#;
        let (ops, results, walks) = walk_all(body);
        assert_eq!(walks, 2, "only the two distinct objects are walked");
        assert_eq!(results, vec![20, 21, 20, 20]);
        let members: Vec<(usize, &str)> = ops
            .iter()
            .filter_map(|op| match op {
                Op::Member(s) => Some((s.start(), &body[s.range()])),
                _ => None,
            })
            .collect();
        let starts: Vec<usize> = members.iter().map(|m| m.0).collect();
        assert_eq!(
            starts,
            name_keys(body),
            "replayed spans point at the repeat itself"
        );
        let texts: Vec<&str> = members.iter().map(|m| m.1).collect();
        let (a, b) = (r#""name":"alpha-one""#, r#""name":"bravo-two2""#);
        assert_eq!(texts, vec![a, b, a, a]);
    }

    #[test]
    fn a_near_repeat_or_a_short_value_is_walked_again() {
        // Same length, one byte different; a longer value that starts with the first; a true
        // repeat of the second (the first has left the two-entry memo by then); then a value
        // shorter than sixteen bytes, twice: never remembered.
        let body = r#"[{"name":"alpha-one"},{"name":"alpha-onf"},{"name":"alpha-one","b":2},{"name":"alpha-onf"},{"a":1},{"a":1}]"#;
        let (_, results, walks) = walk_all(body);
        assert_eq!(walks, 5);
        assert_eq!(results, vec![20, 20, 26, 20, 7, 7]);
    }

    #[test]
    fn skip_repeat_needs_an_exact_earlier_copy_and_moves_nothing_otherwise() {
        let body = br#"[{"a":1},{"a":1},{"a":"#;
        let mut cur = Cursor::new(body).unwrap();
        let earlier = Span::new(1, 8);
        assert!(
            !cur.skip_repeat(earlier),
            "the span does not end before the cursor"
        );
        cur.begin_array().unwrap();
        cur.skip_value().unwrap();
        cur.next_elem(&mut false).unwrap();
        assert_eq!(cur.pos(), 9);
        assert!(cur.skip_repeat(earlier));
        assert_eq!(cur.pos(), 16);
        cur.next_elem(&mut false).unwrap();
        assert!(
            !cur.skip_repeat(earlier),
            "a cut copy at the end of the body"
        );
        assert_eq!(cur.pos(), 17);
        assert!(!cur.skip_repeat(Span::new(3, 3)), "an empty span");
    }

    #[test]
    fn a_walk_that_merged_into_the_op_before_it_is_not_remembered() {
        let body = br#"{"x":0,"a":"0123456789abcdef","y":[3],"a":"0123456789abcdef"}"#;
        let mut cur = Cursor::new(body).unwrap();
        let mut plan = Plan::new(body, 16);
        let mut memo: Memo<(), 2> = Memo::default();
        cur.begin_object().unwrap();
        let mut first = true;
        let mut walks = 0;
        while let Some(key) = cur.next_key(&mut first).unwrap() {
            let k = key.span.start();
            memo.scan(&mut cur, &mut plan, |cur, plan| {
                walks += 1;
                let v = cur.skip_value()?;
                plan.member(k, v.end());
                Ok(())
            })
            .unwrap();
        }
        // Every member merges into the one before it, so the first "a" walk wrote no op of its
        // own and changed the op before it: not remembered, and the second "a" (same bytes) is
        // walked again rather than replayed as nothing.
        assert_eq!(walks, 4);
        assert_eq!(plan.ops, vec![Op::Member(Span::new(1, body.len() - 1))]);
    }

    #[test]
    fn a_walk_with_a_caller_link_a_group_or_a_span_outside_its_value_is_not_remembered() {
        let body = br#"[{"name":"alpha-one"},{"name":"alpha-one"},{"name":"alpha-one"}]"#;
        let extras: [fn(&mut Plan<'_>) -> Op; 3] = [
            |_| Op::Link(super::super::plan::LinkSlot::SelfLink),
            |plan| {
                let at = plan.open_if(super::super::plan::Cond::Result(0)).unwrap();
                plan.close_if(at).unwrap();
                Op::Elem
            },
            |_| Op::Member(Span::new(0, 1)),
        ];
        for extra in extras {
            let mut cur = Cursor::new(body).unwrap();
            let mut plan = Plan::new(body, 16);
            let mut memo: Memo<(), 2> = Memo::default();
            let mut walks = 0;
            cur.begin_array().unwrap();
            let mut first = true;
            while cur.next_elem(&mut first).unwrap() {
                memo.scan(&mut cur, &mut plan, |cur, plan| {
                    walks += 1;
                    cur.skip_value()?;
                    plan.push(Op::Open(b'{'));
                    let op = extra(plan);
                    plan.push(op);
                    plan.push(Op::Close(b'}'));
                    Ok(())
                })
                .unwrap();
            }
            assert_eq!(walks, 3);
        }
    }
}
