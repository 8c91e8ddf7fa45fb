//! The scan memo: sub-objects a search or listing answer repeats byte for byte are walked once.
//!
//! Confluence repeats itself inside one answer: every result of a knowledge-base search carries
//! the same `space` object, the same root ancestor, the same few category ancestors, and the
//! same `metadata.labels` for pages labelled alike. A [`Memo`] remembers, for one walker, the
//! last few values it walked: their bytes (a span of the body), the depth they were at, the
//! plan ops the walk wrote and what it returned. When the bytes at the cursor repeat one of
//! them exactly, the cursor steps over them and the ops are appended again, shifted to the new
//! position; the walker is not run.
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
//! Bounded: a few entries per walker, each holding at most [`MAX_OPS`] ops inline; an answer
//! whose sub-objects never repeat pays one failed byte comparison per entry and value.

use smallvec::SmallVec;

use super::json::{Cursor, Span};
use super::plan::{Op, Plan};
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
}

/// The last `N` values one walker walked, replaced oldest first.
pub(super) struct Memo<T, const N: usize> {
    entries: [Option<Entry<T>>; N],
    next: usize,
}

impl<T, const N: usize> Default for Memo<T, N> {
    fn default() -> Self {
        Memo {
            entries: std::array::from_fn(|_| None),
            next: 0,
        }
    }
}

struct Entry<T> {
    /// The value's bytes in the body.
    value: Span,
    depth: u32,
    /// The ops the walk wrote, spans as they were.
    ops: SmallVec<[Op; MAX_OPS]>,
    result: T,
}

impl<T: Clone, const N: usize> Memo<T, N> {
    /// Runs `walk` on the value at the cursor, or replays an earlier walk of identical bytes.
    #[inline]
    pub fn scan<'c, 'p>(
        &mut self,
        cur: &mut Cursor<'c>,
        plan: &mut Plan<'p>,
        walk: impl FnOnce(&mut Cursor<'c>, &mut Plan<'p>) -> Res<T>,
    ) -> Res<T> {
        cur.peek()?;
        let start = cur.pos();
        let depth = cur.depth();
        for entry in self.entries.iter().flatten() {
            if entry.depth == depth && cur.skip_repeat(entry.value) {
                let by = start.saturating_sub(entry.value.start());
                plan.ops.extend(entry.ops.iter().map(|&op| shifted(op, by)));
                return Ok(entry.result.clone());
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
            let slot = self.next % N;
            if let Some(place) = self.entries.get_mut(slot) {
                *place = Some(Entry {
                    value,
                    depth,
                    ops: ops.iter().copied().collect(),
                    result: result.clone(),
                });
                self.next = (slot + 1) % N;
            }
        }
        Ok(result)
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
