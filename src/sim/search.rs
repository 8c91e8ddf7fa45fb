//! `GET /wiki/rest/api/search`: CQL site search in the shape of `cloud-v1-search.json`, with
//! `start`/`limit` paging, opaque cursors, `_links.next`/`prev`, `excerpt=` modes and
//! `expand=content.…`.
//!
//! Guarantees: like Confluence, `cqlQuery` echoes the CQL, a CQL error answers 400 with a body
//! that echoes the CQL, excerpts and titles carry `@@@hl@@@…@@@endhl@@@` markers around matched
//! terms (default `excerpt=highlight`, HTML-escaped excerpt), and `totalSize` counts every match.
//! Deliberately not: Confluence's ranking, `cqlcontext`, or archived-space handling (ignored).

use base64::Engine as _;

use super::confluence::{error_body, search_result, Ctx, Expand};
use super::cql::Query;
use super::cql_eval::{word_hit, words};
use super::json::J;

/// Default page size.
pub const DEFAULT_LIMIT: usize = 25;
/// Largest page size honoured (larger requests are clamped).
pub const MAX_LIMIT: usize = 100;
/// Longest excerpt, in characters.
const EXCERPT_CHARS: usize = 300;
const HL_OPEN: &str = "@@@hl@@@";
const HL_CLOSE: &str = "@@@endhl@@@";

/// Query parameters of one request (first value wins).
pub(crate) struct Params(pub Vec<(String, String)>);

impl Params {
    /// Parses a raw query string.
    pub(crate) fn parse(query: Option<&str>) -> Self {
        Params(
            form_urlencoded::parse(query.unwrap_or("").as_bytes())
                .into_owned()
                .collect(),
        )
    }

    /// The first value of `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// An opaque cursor for `start` within the result list of `cql`.
pub(crate) fn make_cursor(cql: &str, start: usize) -> String {
    let raw = format!("sim1:{start}:{:016x}", fnv(cql));
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

/// The `start` a cursor stands for, if it was issued for `cql`.
pub(crate) fn read_cursor(cql: &str, cursor: &str) -> Option<usize> {
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()?;
    let raw = String::from_utf8(raw).ok()?;
    let mut parts = raw.split(':');
    let (tag, start, hash) = (parts.next()?, parts.next()?, parts.next()?);
    if tag != "sim1" || parts.next().is_some() || hash != format!("{:016x}", fnv(cql)) {
        return None;
    }
    start.parse().ok()
}

pub(super) fn parse_count(params: &Params, name: &str, default: usize) -> Result<usize, String> {
    match params.get(name) {
        None | Some("") => Ok(default),
        Some(v) => v
            .trim()
            .parse::<usize>()
            .map_err(|_| format!("Invalid {name} parameter: {v}")),
    }
}

fn escape_html(s: &str) -> String {
    super::body::escape_xml(s)
}

/// Marks every word of `text` that matches a term; escapes HTML when `escape`.
pub(crate) fn highlight(text: &str, terms: &[String], mark: bool, escape: bool) -> String {
    let esc = |s: &str| if escape { escape_html(s) } else { s.to_owned() };
    let mut out = String::with_capacity(text.len() + 16);
    let mut rest = text;
    while !rest.is_empty() {
        let word_len: usize = rest
            .chars()
            .take_while(|c| c.is_alphanumeric())
            .map(char::len_utf8)
            .sum();
        if word_len == 0 {
            let gap: usize = rest
                .chars()
                .take_while(|c| !c.is_alphanumeric())
                .map(char::len_utf8)
                .sum();
            let (g, r) = rest.split_at(gap);
            out.push_str(&esc(g));
            rest = r;
            continue;
        }
        let (w, r) = rest.split_at(word_len);
        if mark && terms.iter().any(|t| words(w).any(|x| word_hit(x, t))) {
            out.push_str(HL_OPEN);
            out.push_str(&esc(w));
            out.push_str(HL_CLOSE);
        } else {
            out.push_str(&esc(w));
        }
        rest = r;
    }
    out
}

fn excerpt(text: &str, terms: &[String], mode: &str) -> String {
    let cut: String = text.chars().take(EXCERPT_CHARS).collect();
    let suffix = if cut.len() < text.len() { "..." } else { "" };
    let body = match mode {
        "none" => return String::new(),
        "indexed" => highlight(&cut, terms, false, true),
        "indexed_unescaped" => cut,
        "highlight_unescaped" => highlight(&cut, terms, true, false),
        _ => highlight(&cut, terms, true, true),
    };
    format!("{body}{suffix}")
}

fn link(kind: &str, cql: &str, start: usize, limit: usize, expand: Option<&str>) -> String {
    let enc = |v: &str| form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>();
    let mut out = format!(
        "/rest/api/search?{kind}=true&cursor={}&limit={limit}&start={start}&cql={}",
        make_cursor(cql, start),
        enc(cql)
    );
    if let Some(e) = expand {
        out.push_str("&expand=");
        out.push_str(&enc(e));
    }
    out
}

/// Answers a search request: `(status, body)`.
pub(crate) fn search(ctx: &Ctx<'_>, params: &Params) -> (u16, J) {
    let Some(cql) = params.get("cql").filter(|c| !c.trim().is_empty()) else {
        return (400, error_body(400, "CQL query parameter is required"));
    };
    let query = match Query::parse(cql) {
        Ok(q) => q,
        Err(_) => {
            return (
                400,
                error_body(400, &format!("Could not parse cql : {cql}")),
            )
        }
    };
    let limit = match parse_count(params, "limit", DEFAULT_LIMIT) {
        Ok(l) => l.min(MAX_LIMIT),
        Err(msg) => return (400, error_body(400, &msg)),
    };
    let mut start = match parse_count(params, "start", 0) {
        Ok(s) => s,
        Err(msg) => return (400, error_body(400, &msg)),
    };
    if let Some(cursor) = params.get("cursor").filter(|c| !c.is_empty()) {
        match read_cursor(cql, cursor) {
            Some(s) => start = s,
            None => return (400, error_body(400, "Invalid cursor")),
        }
    }
    let expand_raw = params.get("expand").filter(|e| !e.is_empty());
    let content_expand = Expand::parse(expand_raw.unwrap_or("")).sub("content");
    let mode = params.get("excerpt").unwrap_or("highlight");
    let terms = query.text_terms();
    let hits = query.run(ctx.corpus);
    let total = hits.len();
    let page: Vec<J> = hits
        .iter()
        .skip(start)
        .take(limit)
        .map(|(item, score)| {
            let mark = !matches!(mode, "indexed" | "indexed_unescaped" | "none");
            let title = highlight(&item.title, &terms, mark, false);
            search_result(
                ctx,
                item,
                &content_expand,
                title,
                excerpt(&item.text, &terms, mode),
                *score,
            )
        })
        .collect();
    let size = page.len();
    let enc: String = form_urlencoded::byte_serialize(cql.as_bytes()).collect();
    let mut links = J::obj().with("base", ctx.wiki()).with("context", "/wiki");
    let end = start.saturating_add(size);
    if end < total && size > 0 {
        links.push("next", link("next", cql, end, limit, expand_raw));
    }
    if start > 0 && limit > 0 {
        links.push(
            "prev",
            link("prev", cql, start.saturating_sub(limit), limit, expand_raw),
        );
    }
    links.push("self", format!("{}/rest/api/search?cql={enc}", ctx.wiki()));
    let body = J::obj()
        .with("results", J::Arr(page))
        .with("start", start)
        .with("limit", limit)
        .with("size", size)
        .with("totalSize", total)
        .with("cqlQuery", cql)
        .with("searchDuration", 17u32 + (total as u32 % 50))
        .with("_links", links);
    (200, body)
}
