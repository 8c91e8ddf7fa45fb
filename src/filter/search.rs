//! Site search (`GET /wiki/rest/api/search`): scan the upstream answer, then render it for one
//! caller.
//!
//! Kept at the top level: `results` (visible ones only), `start`, `limit`, `size` (the kept
//! count), `totalSize` (upstream total minus the removed count; only if upstream sent one),
//! `searchDuration`, and kbgate's own `_links`. Dropped: `cqlQuery` (it echoes the wrapper, which
//! names other organizations' labels), `archivedResultCount`, anything unknown.
//!
//! Kept in a visible result: `content` (see `content.rs`), `title`, `excerpt`, `url`,
//! `entityType`, `iconCssClass`, `lastModified`, `friendlyLastModified`, `score`,
//! `resultGlobalContainer`, `resultParentContainer` (only when its `displayUrl` names a visible
//! content id) and the `breadcrumbs` whose `url` names a visible content id or a space root.
//!
//! A result is a candidate only when its `content` is a page or blog post with a usable id;
//! every other result (spaces, users, attachments, placeholders) is always removed.
//!
//! Deliberately not done here: deciding visibility (the caller's predicate does), building the
//! `next` link (the proxy does, from its own query), or checking that the results match the
//! query.

use std::borrow::Cow;

mod refs;

use crate::ids::ContentId;
use crate::policy::{Ancestors, ItemMeta};

use super::content::{keep_named, scan_content_object, ContentFacts, Ctx};
use super::json::{decode_token, Cursor, Span, Str};
use super::labels::links_have_next;
use super::memo::Memos;
use super::plan::{execute, write_links_and_close, write_paging, Cond, Op, Plan, SlotValues};
use super::urls::{classify, Target};
use super::{FilterError, Rendered, Res, SearchLinks};
use refs::{ref_id, referenced, RefAt};

/// The scan of one search answer: every result's metadata and the plan to render it.
#[derive(Debug)]
pub struct SearchScan {
    results: Vec<ResultScan>,
    /// Content ids named by parent containers and breadcrumbs, all results together.
    targets: Vec<ContentId>,
    ops: Vec<Op>,
    conds: Vec<Cond>,
    /// The referenced ids (deduplicated, sorted), as positions in `results` and `targets`.
    refs: Vec<RefAt>,
    start: u64,
    limit: u64,
    total_size: Option<u64>,
    duration: Option<Span>,
    has_next: bool,
    body_len: usize,
}

/// One upstream search result as scanned.
#[derive(Debug)]
pub struct ResultScan {
    meta: Option<ItemMeta>,
    /// The content's `body.storage.value` token, when upstream sent one.
    storage: Option<Str>,
    /// The content's `title` token.
    title: Option<Str>,
    /// This result's range in [`SearchScan::targets`].
    targets: std::ops::Range<usize>,
}

impl ResultScan {
    /// The result's policy metadata; `None` when it is not a page or blog post with a usable id
    /// (such a result is always removed).
    pub fn meta(&self) -> Option<&ItemMeta> {
        self.meta.as_ref()
    }

    /// The content's storage body, decoded; `body` must be the scanned body. `None` when
    /// upstream sent none (or it is unreadable). Never copied into an answer: search answers
    /// carry no bodies.
    pub fn storage_body<'b>(&self, body: &'b [u8]) -> Option<Cow<'b, str>> {
        decode_token(body, self.storage?).ok()
    }

    /// The content's title, decoded; `body` must be the scanned body. `None` when absent or
    /// unreadable. For kbgate's own metadata lookups only: never copied into an answer from here.
    pub fn title<'b>(&self, body: &'b [u8]) -> Option<Cow<'b, str>> {
        decode_token(body, self.title?).ok()
    }
}

impl SearchScan {
    /// Every upstream result, in upstream order.
    pub fn results(&self) -> &[ResultScan] {
        &self.results
    }

    /// The other content ids the candidate results mention (ancestors, breadcrumb targets,
    /// parent containers), deduplicated and sorted. Results that are always removed contribute
    /// nothing. The render asks the predicate about each of them.
    pub fn referenced_ids(&self) -> impl Iterator<Item = &ContentId> {
        self.refs
            .iter()
            .filter_map(|&at| ref_id(&self.results, &self.targets, at))
    }

    /// Upstream `start`.
    pub fn start(&self) -> u64 {
        self.start
    }

    /// Upstream `limit`.
    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// Upstream `totalSize`, if it sent one.
    pub fn total_size(&self) -> Option<u64> {
        self.total_size
    }

    /// True when upstream's `_links` had a `next` member (more results exist).
    pub fn has_next(&self) -> bool {
        self.has_next
    }
}

/// Scans a search answer: validates all of it and extracts what the policy and the render need.
pub fn scan_search(body: &[u8]) -> Result<SearchScan, FilterError> {
    scan_search_inner(body).map_err(|e| *e)
}

fn scan_search_inner(body: &[u8]) -> Res<SearchScan> {
    let mut cur = Cursor::new(body)?;
    // About one op per 20 bytes of a search answer: sized so the plan rarely regrows.
    let mut plan = Plan::new(body, body.len() / 20 + 16);
    // About two link targets per ~1.5 KB result.
    let mut targets = Vec::with_capacity(body.len() / 700 + 4);
    cur.expect_object("search answer is not an object")?;
    let mut keys = cur.keys_begin("search answer");
    let (mut results, mut start, mut limit, mut total_size, mut duration, mut has_next) =
        (None, None, None, None, None, false);
    let mut first = true;
    while let Some(key) = cur.next_key(&mut first)? {
        cur.key_insert(&mut keys, key)?;
        match cur.raw_inner(key) {
            b"results" => results = Some(scan_results(&mut cur, &mut plan, &mut targets)?),
            b"start" => start = Some(cur.expect_u64("search start is not a count")?),
            b"limit" => limit = Some(cur.expect_u64("search limit is not a count")?),
            b"totalSize" => total_size = Some(cur.expect_u64("search totalSize is not a count")?),
            b"size" => {
                cur.expect_u64("search size is not a count")?;
            }
            b"searchDuration" => {
                duration = Some(cur.expect_number("searchDuration is not a number")?)
            }
            b"_links" => has_next = links_have_next(&mut cur, "search _links is not an object")?,
            _ => {
                cur.skip_value()?;
            }
        }
    }
    cur.keys_end(keys);
    cur.finish()?;
    let results = results.ok_or(FilterError::Shape("search answer without results"))?;
    let start = start.ok_or(FilterError::Shape("search answer without start"))?;
    let limit = limit.ok_or(FilterError::Shape("search answer without limit"))?;

    let refs = referenced(&results, &targets);
    Ok(SearchScan {
        results,
        targets,
        ops: plan.ops,
        conds: plan.conds,
        refs,
        start,
        limit,
        total_size,
        duration,
        has_next,
        body_len: body.len(),
    })
}

fn scan_results<'a>(
    cur: &mut Cursor<'a>,
    plan: &mut Plan<'a>,
    targets: &mut Vec<ContentId>,
) -> Res<Vec<ResultScan>> {
    cur.expect_array("search results is not an array")?;
    // Confluence sends ~1.5 KB per result; a close guess saves the regrowth copies.
    let mut results = Vec::with_capacity((cur.remaining() / 1500).clamp(1, 256));
    let mut memo = Memos::default();
    let mut first = true;
    while cur.next_elem(&mut first)? {
        let index =
            u32::try_from(results.len()).map_err(|_| FilterError::Shape("too many results"))?;
        results.push(scan_result(cur, plan, index, targets, &mut memo)?);
    }
    Ok(results)
}

const RESULT_FIELD: &str = "search result field is not a string";

fn scan_result<'a>(
    cur: &mut Cursor<'a>,
    plan: &mut Plan<'a>,
    r: u32,
    targets: &mut Vec<ContentId>,
    memo: &mut Memos,
) -> Res<ResultScan> {
    cur.expect_object("search result is not an object")?;
    let mut keys = cur.keys_begin("search result");
    let group = plan.open_if(Cond::Result(r))?;
    plan.push(Op::Elem);
    plan.push(Op::Open(b'{'));
    let mut content: Option<ContentFacts> = None;
    let targets_start = targets.len();
    let mut first = true;
    while let Some(key) = cur.next_key(&mut first)? {
        match cur.raw_inner(key) {
            b"content" => {
                keys.once(0)?;
                plan.push(Op::Key(key.span));
                content = Some(scan_content_object(cur, plan, Ctx::Search, r, memo)?);
            }
            // Confluence cuts excerpts from a page's indexed text, which includes the link text
            // of the pages its body links to: kept only when the caller says the body names
            // nothing hidden, otherwise blanked.
            b"excerpt" => {
                keys.once(1)?;
                if let Some(s) = cur.string_or_null("search result excerpt is not a string")? {
                    let kept = plan.open_if(Cond::ExcerptKept(r))?;
                    plan.push(Op::Member(Span::new(key.span.start(), s.span.end())));
                    plan.close_if(kept)?;
                    let withheld = plan.open_if(Cond::ExcerptWithheld(r))?;
                    plan.push(Op::BlankMember(key.span));
                    plan.close_if(withheld)?;
                }
            }
            b"title" => keep_named(cur, plan, &mut keys, 2, key, RESULT_FIELD)?,
            b"url" => keep_named(cur, plan, &mut keys, 3, key, RESULT_FIELD)?,
            b"entityType" => keep_named(cur, plan, &mut keys, 4, key, RESULT_FIELD)?,
            b"iconCssClass" => keep_named(cur, plan, &mut keys, 5, key, RESULT_FIELD)?,
            b"lastModified" => keep_named(cur, plan, &mut keys, 6, key, RESULT_FIELD)?,
            b"friendlyLastModified" => keep_named(cur, plan, &mut keys, 7, key, RESULT_FIELD)?,
            b"score" => {
                keys.once(8)?;
                let v = cur.expect_number("search result score is not a number")?;
                plan.member(key.span.start(), v.end());
            }
            b"resultGlobalContainer" => {
                keys.once(9)?;
                if cur.peek()? != b'{' {
                    return Err(Box::new(FilterError::Shape(
                        "resultGlobalContainer is not an object",
                    )));
                }
                let v = cur.skip_value()?;
                plan.member(key.span.start(), v.end());
            }
            b"resultParentContainer" => {
                keys.once(10)?;
                scan_parent(cur, plan, key, targets)?
            }
            b"breadcrumbs" => {
                keys.once(11)?;
                scan_breadcrumbs(cur, plan, key, targets, memo)?
            }
            _ => {
                cur.key_insert(&mut keys, key)?;
                cur.skip_value()?;
            }
        }
    }
    cur.keys_end(keys);
    plan.push(Op::Close(b'}'));
    plan.close_if(group)?;
    let title = content.as_ref().and_then(|c| c.title);
    let storage = content.as_ref().and_then(|c| c.storage);
    let meta = content.and_then(ContentFacts::into_meta);
    if meta.is_none() {
        plan.truncate(group);
        targets.truncate(targets_start);
    }
    Ok(ResultScan {
        meta,
        storage,
        title,
        targets: targets_start..targets.len(),
    })
}

/// A `"key": "string"` pair read from a small object, for members planned after the object.
type Pair = (Str, Str);

/// Reads the string members named in `wanted` of a small object (others are skipped).
fn read_pairs<const N: usize>(
    cur: &mut Cursor<'_>,
    what: &'static str,
    wanted: [&'static [u8]; N],
) -> Res<[Option<Pair>; N]> {
    cur.expect_object(what)?;
    let mut keys = cur.keys_begin(what);
    let mut found = [None; N];
    let mut first = true;
    while let Some(key) = cur.next_key(&mut first)? {
        let name = cur.raw_inner(key);
        let at = (0u32..)
            .zip(wanted.iter().zip(found.iter_mut()))
            .find(|(_, (w, _))| **w == name);
        match at {
            Some((i, (_, slot))) => {
                keys.once(i)?;
                *slot = cur.string_or_null(what)?.map(|v| (key, v));
            }
            None => {
                cur.key_insert(&mut keys, key)?;
                cur.skip_value()?;
            }
        }
    }
    cur.keys_end(keys);
    Ok(found)
}

/// Plans the kept pairs as members of a new object.
fn plan_pairs(plan: &mut Plan<'_>, pairs: &[Option<Pair>]) {
    plan.push(Op::Open(b'{'));
    for (k, v) in pairs.iter().flatten() {
        plan.member(k.span.start(), v.span.end());
    }
    plan.push(Op::Close(b'}'));
}

/// The index the next link target pushed will have.
fn next_target(targets: &[ContentId]) -> Res<u32> {
    Ok(u32::try_from(targets.len()).map_err(|_| FilterError::Shape("too many breadcrumbs"))?)
}

fn push_target(targets: &mut Vec<ContentId>, id: ContentId) -> Res<u32> {
    let index = next_target(targets)?;
    targets.push(id);
    Ok(index)
}

/// `resultParentContainer{title, displayUrl}`: kept only when `displayUrl` names a content id,
/// and then only if that id is visible.
fn scan_parent(
    cur: &mut Cursor<'_>,
    plan: &mut Plan<'_>,
    key: Str,
    targets: &mut Vec<ContentId>,
) -> Res<()> {
    let pairs = read_pairs(cur, "resultParentContainer", [b"title", b"displayUrl"])?;
    let [_, Some((_, url))] = pairs else {
        return Ok(());
    };
    let Target::Content(id) = classify(&cur.decode(url)?) else {
        return Ok(());
    };
    let group = plan.open_if(Cond::Target(push_target(targets, id)?))?;
    plan.push(Op::Key(key.span));
    plan_pairs(plan, &pairs);
    plan.close_if(group)
}

/// `breadcrumbs[{label, url, separator}]`: an entry is kept when its `url` names a visible
/// content id or a space root; any other entry is dropped. Each entry's group is opened before
/// the entry is read, on the target index the entry's id will get, so a repeated entry is
/// replayed by the memo.
fn scan_breadcrumbs(
    cur: &mut Cursor<'_>,
    plan: &mut Plan<'_>,
    key: Str,
    targets: &mut Vec<ContentId>,
    memo: &mut Memos,
) -> Res<()> {
    cur.expect_array("breadcrumbs is not an array")?;
    plan.push(Op::Key(key.span));
    plan.push(Op::Open(b'['));
    let mut first = true;
    while cur.next_elem(&mut first)? {
        let group = plan.open_if(Cond::Target(next_target(targets)?))?;
        plan.push(Op::Elem);
        match memo.breadcrumb.scan(cur, plan, scan_breadcrumb)? {
            Target::Content(id) => {
                targets.push(id);
                plan.close_if(group)?;
            }
            Target::SpaceRoot => plan.unwrap_if(group)?,
            Target::Unknown => plan.truncate(group),
        }
    }
    plan.push(Op::Close(b']'));
    Ok(())
}

/// One breadcrumb entry: plans its kept pairs and returns what its `url` names.
#[inline(never)]
fn scan_breadcrumb(cur: &mut Cursor<'_>, plan: &mut Plan<'_>) -> Res<Target> {
    let pairs = read_pairs(cur, "breadcrumb", [b"label", b"url", b"separator"])?;
    let target = match &pairs {
        [_, Some((_, url)), _] => classify(&cur.decode(*url)?),
        _ => Target::Unknown,
    };
    if target != Target::Unknown {
        plan_pairs(plan, &pairs);
    }
    Ok(target)
}

/// Renders a scanned search answer for one caller: only results whose id is `visible`, and in
/// them only visible ancestors, breadcrumbs and parent containers; counts and links rewritten.
pub fn render_search(
    scan: &SearchScan,
    body: &[u8],
    visible: &dyn Fn(&ContentId) -> bool,
    links: &SearchLinks<'_>,
) -> Result<Rendered, FilterError> {
    render_search_inner(scan, body, visible, &|_| true, links).map_err(|e| *e)
}

/// [`render_search`], with excerpts kept only for the results (by index in
/// [`SearchScan::results`]) for which `excerpt_ok` is true; the others get `"excerpt":""`.
pub fn render_search_with(
    scan: &SearchScan,
    body: &[u8],
    visible: &dyn Fn(&ContentId) -> bool,
    excerpt_ok: &dyn Fn(usize) -> bool,
    links: &SearchLinks<'_>,
) -> Result<Rendered, FilterError> {
    render_search_inner(scan, body, visible, excerpt_ok, links).map_err(|e| *e)
}

fn render_search_inner(
    scan: &SearchScan,
    body: &[u8],
    visible: &dyn Fn(&ContentId) -> bool,
    excerpt_ok: &dyn Fn(usize) -> bool,
    links: &SearchLinks<'_>,
) -> Res<Rendered> {
    if body.len() != scan.body_len {
        return Err(Box::new(FilterError::Shape("body does not match its scan")));
    }
    let extra = links.base.len() + links.self_link.len() + links.next_link.map_or(0, str::len);
    let mut out = Vec::with_capacity(body.len() + extra + 160);
    out.extend_from_slice(b"{\"results\":[");
    let meta = |r: u32| scan.results.get(r as usize).and_then(|x| x.meta.as_ref());
    let mut cond = |c: Cond| match c {
        Cond::Result(r) => meta(r).is_some_and(|m| visible(&m.id)),
        Cond::Ancestor(r, a) => match meta(r).map(|m| &m.ancestors) {
            Some(Ancestors::Known(ids)) => ids.get(a as usize).is_some_and(visible),
            _ => false,
        },
        Cond::Target(t) => scan.targets.get(t as usize).is_some_and(visible),
        Cond::ExcerptKept(r) => excerpt_ok(r as usize),
        Cond::ExcerptWithheld(r) => !excerpt_ok(r as usize),
    };
    // Bodies in search results are never planned (see `content.rs`).
    let slots = SlotValues {
        self_link: links.self_link,
        base: links.base,
        storage: None,
    };
    let kept = execute(
        &scan.ops,
        &scan.conds,
        body,
        &mut out,
        true,
        &slots,
        &mut cond,
    )?;
    let removed = scan.results.len().saturating_sub(kept);

    write_paging(&mut out, scan.start, scan.limit, kept);
    if let Some(total) = scan.total_size {
        let removed = u64::try_from(removed).unwrap_or(u64::MAX);
        out.extend_from_slice(b",\"totalSize\":");
        out.extend_from_slice(total.saturating_sub(removed).to_string().as_bytes());
    }
    if let Some(d) = scan.duration {
        out.extend_from_slice(b",\"searchDuration\":");
        out.extend_from_slice(
            body.get(d.range())
                .ok_or(FilterError::Shape("body does not match its scan"))?,
        );
    }
    write_links_and_close(&mut out, links);
    Ok(Rendered {
        body: out,
        kept,
        removed,
    })
}
