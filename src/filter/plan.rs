//! The render plan: what the scan decided to keep, as a flat list of operations over the body.
//!
//! The scan writes the plan; the render only executes it. Every byte that reaches the output is
//! either a span the scan validated as a whole JSON value (or as a run of whole `"key": value`
//! members), a literal written by kbgate, or a kbgate-supplied link string escaped here.
//! Visibility enters only through [`Op::If`]: a group of operations is skipped unless the
//! caller's predicate says its content id is visible.
//!
//! Separators are written by the executor, which tracks "first member" per open container, so
//! dropping any group never leaves a stray comma.
//!
//! What it deliberately does not do: look inside spans, or decide anything about visibility.

use super::json::{next_special, Span};
use super::{FilterError, Res};

/// A key kbgate writes itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Name {
    SelfLink,
    Base,
    Links,
}

impl Name {
    fn quoted(self) -> &'static [u8] {
        match self {
            Name::SelfLink => b"\"self\":",
            Name::Base => b"\"base\":",
            Name::Links => b"\"_links\":",
        }
    }
}

/// A link string supplied by the caller at render time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum LinkSlot {
    SelfLink,
    Base,
    /// The rewritten storage body of a content-by-id answer.
    Storage,
}

/// The content id a conditional group depends on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Cond {
    /// The search result with this index (its own id).
    Result(u32),
    /// Ancestor `.1` of item `.0` (a search result index, or 0 for content-by-id).
    Ancestor(u32, u32),
    /// Link target `.0` (a breadcrumb or parent container) of a search answer.
    Target(u32),
    /// The excerpt of search result `.0` may be shown (its body names nothing hidden).
    ExcerptKept(u32),
    /// The excerpt of search result `.0` must be blanked.
    ExcerptWithheld(u32),
}

/// One render step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Op {
    /// Opens a container (`{` or `[`).
    Open(u8),
    /// Closes the innermost container (`}` or `]`).
    Close(u8),
    /// A separator if needed, then raw `"key": value` members (one or several adjacent ones).
    Member(Span),
    /// A separator if needed, then a raw key and `:`; the value follows as further ops.
    Key(Span),
    /// A separator if needed, then a raw key and `:""` (the value is blanked).
    BlankMember(Span),
    /// A separator if needed, then a key written by kbgate and `:`.
    Named(Name),
    /// A separator if needed before an array element.
    Elem,
    /// A caller-supplied link as a JSON string.
    Link(LinkSlot),
    /// Skip the next `len` ops unless condition `cond` (an index into [`Plan::conds`]) names a
    /// visible content id. Kept out of line so an op stays 12 bytes.
    If { cond: u32, len: u32 },
}

/// Collects ops during the scan, merging adjacent kept members into one span.
pub(super) struct Plan<'a> {
    body: &'a [u8],
    pub ops: Vec<Op>,
    /// The conditions of the [`Op::If`] groups.
    pub conds: Vec<Cond>,
}

impl<'a> Plan<'a> {
    /// An empty plan for `body` with room for `ops` operations.
    pub fn new(body: &'a [u8], ops: usize) -> Self {
        Plan {
            body,
            ops: Vec::with_capacity(ops),
            conds: Vec::with_capacity(ops / 8),
        }
    }

    /// Appends an op.
    pub fn push(&mut self, op: Op) {
        self.ops.push(op);
    }

    /// Appends a kept member spanning `key_start..value_end`, merged into the previous member
    /// when only a comma and whitespace lie between them (the previous op is then a member of
    /// the same object, and the merged span is still a run of whole members). Merging never
    /// crosses an [`Op::If`] group: every group ends with an [`Op::Close`].
    #[inline(always)]
    pub fn member(&mut self, key_start: usize, value_end: usize) {
        if let Some(Op::Member(prev)) = self.ops.last_mut() {
            let gap = self.body.get(prev.end()..key_start).unwrap_or(b"x");
            // Compact JSON (what Confluence sends) has exactly `,` between members.
            let adjacent = gap == b","
                || (gap.iter().filter(|&&c| c == b',').count() == 1
                    && gap
                        .iter()
                        .all(|&c| matches!(c, b',' | b' ' | b'\n' | b'\r' | b'\t')));
            if adjacent {
                *prev = Span::new(prev.start(), value_end);
                return;
            }
        }
        self.ops.push(Op::Member(Span::new(key_start, value_end)));
    }

    /// Opens a conditional group at the current position; close it with [`Plan::close_if`].
    pub fn open_if(&mut self, cond: Cond) -> Res<usize> {
        let index = u32::try_from(self.conds.len())
            .map_err(|_| FilterError::Shape("response too large"))?;
        self.conds.push(cond);
        let at = self.ops.len();
        self.ops.push(Op::If {
            cond: index,
            len: 0,
        });
        Ok(at)
    }

    /// Sets the length of the group opened at `at` to cover every op pushed since.
    pub fn close_if(&mut self, at: usize) -> Res<()> {
        let len = self.ops.len().saturating_sub(at + 1);
        let len = u32::try_from(len).map_err(|_| FilterError::Shape("response too large"))?;
        match self.ops.get_mut(at) {
            Some(Op::If { len: l, .. }) => {
                *l = len;
                Ok(())
            }
            _ => Err(Box::new(FilterError::Shape("internal plan error"))),
        }
    }

    /// Removes the group opened at `at`, the last one opened, keeping its ops unconditional.
    pub fn unwrap_if(&mut self, at: usize) -> Res<()> {
        match self.ops.get(at) {
            Some(&Op::If { cond, .. }) if cond as usize + 1 == self.conds.len() => {
                self.conds.truncate(cond as usize);
                self.ops.remove(at);
                Ok(())
            }
            _ => Err(Box::new(FilterError::Shape("internal plan error"))),
        }
    }

    /// Drops every op from `at` on (a result that is hidden whatever the caller decides).
    pub fn truncate(&mut self, at: usize) {
        if let Some(Op::If { cond, .. }) = self.ops.get(at) {
            self.conds.truncate(*cond as usize);
        }
        self.ops.truncate(at);
    }
}

/// The caller's links for [`LinkSlot`]s.
pub(super) struct SlotValues<'l> {
    pub self_link: &'l str,
    pub base: &'l str,
    /// The rewritten storage body; a plan that needs it and lacks it is refused.
    pub storage: Option<&'l str>,
}

/// Executes `ops` over `body`, appending to `out`. `in_container` says whether the output is
/// already inside an open container whose first member is still to come (the search results
/// array). `visible` answers every [`Cond`]. Returns how many [`Cond::Result`] groups were kept.
pub(super) fn execute(
    ops: &[Op],
    conds: &[Cond],
    body: &[u8],
    out: &mut Vec<u8>,
    in_container: bool,
    slots: &SlotValues<'_>,
    visible: &mut dyn FnMut(Cond) -> bool,
) -> Res<usize> {
    let span = |s: Span| {
        body.get(s.range())
            .ok_or(FilterError::Shape("body does not match its scan"))
    };
    let mut first = FirstFlags::default();
    if in_container {
        first.open()?;
    }
    let mut kept = 0usize;
    let mut i = 0usize;
    while let Some(&op) = ops.get(i) {
        i += 1;
        match op {
            Op::Open(c) => {
                out.push(c);
                first.open()?;
            }
            Op::Close(c) => {
                out.push(c);
                first.close();
            }
            Op::Member(s) => {
                first.sep(out);
                out.extend_from_slice(span(s)?);
            }
            Op::Key(s) => {
                first.sep(out);
                out.extend_from_slice(span(s)?);
                out.push(b':');
            }
            Op::BlankMember(s) => {
                first.sep(out);
                out.extend_from_slice(span(s)?);
                out.extend_from_slice(b":\"\"");
            }
            Op::Named(n) => {
                first.sep(out);
                out.extend_from_slice(n.quoted());
            }
            Op::Elem => first.sep(out),
            Op::Link(LinkSlot::SelfLink) => write_json_str(out, slots.self_link),
            Op::Link(LinkSlot::Base) => write_json_str(out, slots.base),
            Op::Link(LinkSlot::Storage) => match slots.storage {
                Some(body) => write_json_str(out, body),
                None => return Err(Box::new(FilterError::Shape("storage body not rewritten"))),
            },
            Op::If { cond, len } => match conds.get(cond as usize) {
                Some(&c) if visible(c) => kept += usize::from(matches!(c, Cond::Result(_))),
                _ => i += len as usize,
            },
        }
    }
    Ok(kept)
}

/// For each open container of the output, innermost in bit 0: set while it has had no member.
/// 128 levels: more than the scan's depth limit ([`super::json::MAX_DEPTH`]) plus the container
/// the caller may have opened.
#[derive(Default)]
struct FirstFlags {
    bits: u128,
    depth: u32,
}

impl FirstFlags {
    fn open(&mut self) -> Res<()> {
        if self.depth >= u128::BITS {
            return Err(Box::new(FilterError::TooDeep));
        }
        self.bits = self.bits << 1 | 1;
        self.depth += 1;
        Ok(())
    }

    fn close(&mut self) {
        self.bits >>= 1;
        self.depth = self.depth.saturating_sub(1);
    }

    /// Writes the separator a member needs: none for the first one of its container.
    #[inline(always)]
    fn sep(&mut self, out: &mut Vec<u8>) {
        if self.depth > 0 {
            if self.bits & 1 == 0 {
                out.push(b',');
            }
            self.bits &= !1;
        }
    }
}

/// Closes a results array and writes the paging members every list answer carries:
/// `],"start":S,"limit":L,"size":N` (the top-level object stays open).
pub(super) fn write_paging(out: &mut Vec<u8>, start: u64, limit: u64, size: usize) {
    out.extend_from_slice(b"],\"start\":");
    out.extend_from_slice(start.to_string().as_bytes());
    out.extend_from_slice(b",\"limit\":");
    out.extend_from_slice(limit.to_string().as_bytes());
    out.extend_from_slice(b",\"size\":");
    out.extend_from_slice(size.to_string().as_bytes());
}

/// `_links.context` for a `_links.base`: `/wiki` on Cloud, empty on Data Center (as kbgate
/// serves it).
pub fn context_of(base: &str) -> &'static str {
    if base.ends_with("/wiki") {
        "/wiki"
    } else {
        ""
    }
}

/// Writes `,"_links":{base,context,self[,next]}` (kbgate's own links) and closes the object
/// being written.
pub fn write_links_and_close(out: &mut Vec<u8>, links: &super::SearchLinks<'_>) {
    out.extend_from_slice(b",\"_links\":{\"base\":");
    write_json_str(out, links.base);
    out.extend_from_slice(b",\"context\":");
    write_json_str(out, context_of(links.base));
    out.extend_from_slice(b",\"self\":");
    write_json_str(out, links.self_link);
    if let Some(next) = links.next_link {
        out.extend_from_slice(b",\"next\":");
        write_json_str(out, next);
    }
    out.extend_from_slice(b"}}");
}

/// Appends `s` as a JSON string (quotes, backslashes and control characters escaped). Runs of
/// plain bytes are found sixteen at a time and copied whole.
pub(super) fn write_json_str(out: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let b = s.as_bytes();
    out.reserve(b.len() + 2);
    out.push(b'"');
    let mut plain = 0;
    loop {
        let i = next_special(b, plain);
        let Some(&c) = b.get(i) else { break };
        out.extend_from_slice(b.get(plain..i).unwrap_or_default());
        match c {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            _ => {
                out.extend_from_slice(b"\\u00");
                out.push(HEX.get(usize::from(c >> 4)).copied().unwrap_or(b'0'));
                out.push(HEX.get(usize::from(c & 15)).copied().unwrap_or(b'0'));
            }
        }
        plain = i + 1;
    }
    out.extend_from_slice(b.get(plain..).unwrap_or_default());
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(plan: &Plan<'_>, body: &[u8], visible: bool) -> String {
        let slots = SlotValues {
            self_link: "",
            base: "",
            storage: None,
        };
        let mut out = Vec::new();
        execute(
            &plan.ops,
            &plan.conds,
            body,
            &mut out,
            false,
            &slots,
            &mut |_| visible,
        )
        .unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn an_unwrapped_group_keeps_its_ops_unconditional() {
        let body = br#"[{"a":1},{"b":2}]"#;
        let mut plan = Plan::new(body, 16);
        plan.push(Op::Open(b'['));
        let object = |plan: &mut Plan<'_>, member: Span| {
            plan.push(Op::Elem);
            plan.push(Op::Open(b'{'));
            plan.push(Op::Member(member));
            plan.push(Op::Close(b'}'));
        };
        let a = plan.open_if(Cond::Target(0)).unwrap();
        object(&mut plan, Span::new(2, 7));
        plan.close_if(a).unwrap();
        let b = plan.open_if(Cond::Target(1)).unwrap();
        object(&mut plan, Span::new(10, 15));
        plan.unwrap_if(b).unwrap();
        plan.push(Op::Close(b']'));
        assert_eq!(plan.conds, [Cond::Target(0)]);
        assert_eq!(render(&plan, body, true), r#"[{"a":1},{"b":2}]"#);
        assert_eq!(render(&plan, body, false), r#"[{"b":2}]"#);
    }

    #[test]
    fn only_the_last_group_opened_can_be_unwrapped() {
        let body = b"[]";
        let mut plan = Plan::new(body, 8);
        let a = plan.open_if(Cond::Target(0)).unwrap();
        plan.push(Op::Elem);
        let b = plan.open_if(Cond::Target(1)).unwrap();
        assert!(plan.unwrap_if(a).is_err());
        assert!(plan.unwrap_if(a + 1).is_err());
        plan.unwrap_if(b).unwrap();
        plan.unwrap_if(a).unwrap();
        assert_eq!(plan.ops, [Op::Elem]);
        assert!(plan.conds.is_empty());
    }
}
