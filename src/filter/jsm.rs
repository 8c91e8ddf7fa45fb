//! JSM knowledge-base search (`/rest/servicedeskapi/…/knowledgebase/article`): scan one upstream
//! page of articles, and render kbgate's own page from the articles the proxy kept.
//!
//! The upstream shape is `PagedDTOArticleDTO` (`jsm-kb-articles.json`):
//! `{"_expands":[],"size","start","limit","isLastPage","_links":{…},"values":[ArticleDTO…]}`
//! with `ArticleDTO = {"title","excerpt","source":{"type","pageId","spaceKey"},
//! "content":{"iframeSrc"}}`.
//!
//! Guarantees: the whole body is validated (UTF-8, depth, syntax); duplicate or escaped keys
//! are refused in every object read (top level, article, `source`, `content`); `values` and a
//! boolean `isLastPage` are required; `size`/`start`/`limit` must be counts when present; a
//! member read must have its JSON type (`title`/`excerpt`/`type`/`pageId`/`spaceKey` strings,
//! `excerpt` may be `null`, `source`/`content`/`_links` objects) or the answer is refused. An
//! article becomes a candidate ([`JsmArticle`]) only with a `confluence` source, a `pageId` of
//! 1–20 digits, a valid `spaceKey` and a `title`; anything else is counted as dropped, never
//! shown. The render ([`render_jsm_articles`]) is an allowlist: it writes only `title`,
//! `excerpt`, `source{type,pageId,spaceKey}` and `content{iframeSrc}` from values the caller
//! passes, plus kbgate's own paging and `_links`; no upstream byte is copied raw.
//!
//! Deliberately not done here: deciding visibility, walking upstream pages, checking excerpts
//! against linked pages, or building kbgate's URLs (the proxy does all of that).

use super::json::Cursor;
use super::plan::write_json_str;
use super::{FilterError, Res};
use crate::ids::{ContentId, SpaceKey};

/// One upstream article that may be shown if the policy says so: every member decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsmArticle {
    /// `source.pageId`: the Confluence page (or blog post) id, 1–20 digits.
    pub page_id: ContentId,
    /// `source.spaceKey` as upstream claims it (the proxy compares it with the metadata).
    pub space_key: SpaceKey,
    /// `title`, decoded (JSM's highlight markers included).
    pub title: String,
    /// `excerpt`, decoded; empty when upstream sent none or `null`.
    pub excerpt: String,
}

/// The scan of one upstream page of articles.
#[derive(Debug)]
pub struct JsmPageScan {
    articles: Vec<JsmArticle>,
    upstream_count: usize,
    is_last_page: bool,
}

impl JsmPageScan {
    /// The candidate articles, in upstream order.
    pub fn articles(&self) -> &[JsmArticle] {
        &self.articles
    }

    /// The candidate articles, in upstream order, by value.
    pub fn into_articles(self) -> Vec<JsmArticle> {
        self.articles
    }

    /// How many values upstream sent (candidates and dropped ones): the upstream offset of the
    /// next page advances by this much.
    pub fn upstream_count(&self) -> usize {
        self.upstream_count
    }

    /// How many values were not candidates (no or a non-`confluence` source, a malformed
    /// `pageId` or `spaceKey`, no title).
    pub fn dropped(&self) -> usize {
        self.upstream_count.saturating_sub(self.articles.len())
    }

    /// Upstream's `isLastPage`.
    pub fn is_last_page(&self) -> bool {
        self.is_last_page
    }
}

/// Scans one upstream page of JSM articles: validates all of it and decodes the candidates.
pub fn scan_jsm_articles(body: &[u8]) -> Result<JsmPageScan, FilterError> {
    scan_inner(body).map_err(|e| *e)
}

fn scan_inner(body: &[u8]) -> Res<JsmPageScan> {
    let mut cur = Cursor::new(body)?;
    cur.expect_object("JSM article page is not an object")?;
    let mut keys = cur.keys_begin("JSM article page");
    let (mut values, mut is_last_page) = (None, None);
    let mut first = true;
    while let Some(key) = cur.next_key(&mut first)? {
        cur.key_insert(&mut keys, key)?;
        match cur.raw_inner(key) {
            b"values" => values = Some(scan_values(&mut cur)?),
            b"isLastPage" => is_last_page = Some(expect_bool(&mut cur, "isLastPage")?),
            b"size" => {
                cur.expect_u64("JSM size is not a count")?;
            }
            b"start" => {
                cur.expect_u64("JSM start is not a count")?;
            }
            b"limit" => {
                cur.expect_u64("JSM limit is not a count")?;
            }
            b"_links" => {
                cur.expect_object("JSM _links is not an object")?;
                skip_members(&mut cur, "JSM _links")?;
            }
            _ => {
                cur.skip_value()?;
            }
        }
    }
    cur.keys_end(keys);
    cur.finish()?;
    let (articles, upstream_count) =
        values.ok_or(FilterError::Shape("JSM article page without values"))?;
    Ok(JsmPageScan {
        articles,
        upstream_count,
        is_last_page: is_last_page
            .ok_or(FilterError::Shape("JSM article page without isLastPage"))?,
    })
}

/// Reads `true` or `false`; any other value is a shape error naming `what`.
fn expect_bool(cur: &mut Cursor<'_>, what: &'static str) -> Res<bool> {
    match cur.peek()? {
        b't' => cur.literal(b"true").map(|()| true),
        b'f' => cur.literal(b"false").map(|()| false),
        _ => Err(Box::new(FilterError::Shape(what))),
    }
}

/// Steps over the members of an entered object, refusing duplicate keys.
fn skip_members(cur: &mut Cursor<'_>, what: &'static str) -> Res<()> {
    let mut keys = cur.keys_begin(what);
    let mut first = true;
    while let Some(key) = cur.next_key(&mut first)? {
        cur.key_insert(&mut keys, key)?;
        cur.skip_value()?;
    }
    cur.keys_end(keys);
    Ok(())
}

/// The `values` array: the candidates and how many values there were.
fn scan_values(cur: &mut Cursor<'_>) -> Res<(Vec<JsmArticle>, usize)> {
    cur.expect_array("JSM values is not an array")?;
    let mut articles = Vec::with_capacity((cur.remaining() / 256).clamp(1, 128));
    let mut count = 0usize;
    let mut first = true;
    while cur.next_elem(&mut first)? {
        count += 1;
        if let Some(article) = scan_article(cur)? {
            articles.push(article);
        }
    }
    Ok((articles, count))
}

/// What a `source` object said, decoded.
#[derive(Default)]
struct Source {
    kind: Option<String>,
    page_id: Option<String>,
    space_key: Option<String>,
}

/// One `ArticleDTO`; `None` when it is not a candidate.
fn scan_article(cur: &mut Cursor<'_>) -> Res<Option<JsmArticle>> {
    cur.expect_object("JSM article is not an object")?;
    let mut keys = cur.keys_begin("JSM article");
    let (mut title, mut excerpt, mut source) = (None, None, None);
    let mut first = true;
    while let Some(key) = cur.next_key(&mut first)? {
        cur.key_insert(&mut keys, key)?;
        match cur.raw_inner(key) {
            b"title" => {
                let s = cur.expect_string("JSM article title is not a string")?;
                title = Some(cur.decode(s)?.into_owned());
            }
            b"excerpt" => {
                if let Some(s) = cur.string_or_null("JSM article excerpt is not a string")? {
                    excerpt = Some(cur.decode(s)?.into_owned());
                }
            }
            b"source" => source = Some(scan_source(cur)?),
            b"content" => {
                cur.expect_object("JSM article content is not an object")?;
                skip_members(cur, "JSM article content")?;
            }
            _ => {
                cur.skip_value()?;
            }
        }
    }
    cur.keys_end(keys);
    let Some(Source {
        kind: Some(kind),
        page_id: Some(page_id),
        space_key: Some(space_key),
    }) = source
    else {
        return Ok(None);
    };
    let page_id = numeric_id(&page_id);
    let space_key = SpaceKey::new(&space_key).ok();
    Ok(match (kind.as_str(), page_id, space_key, title) {
        ("confluence", Some(page_id), Some(space_key), Some(title)) => Some(JsmArticle {
            page_id,
            space_key,
            title,
            excerpt: excerpt.unwrap_or_default(),
        }),
        _ => None,
    })
}

/// The `source` object of an article.
fn scan_source(cur: &mut Cursor<'_>) -> Res<Source> {
    cur.expect_object("JSM article source is not an object")?;
    let mut keys = cur.keys_begin("JSM article source");
    let mut source = Source::default();
    let mut first = true;
    while let Some(key) = cur.next_key(&mut first)? {
        cur.key_insert(&mut keys, key)?;
        let slot = match cur.raw_inner(key) {
            b"type" => &mut source.kind,
            b"pageId" => &mut source.page_id,
            b"spaceKey" => &mut source.space_key,
            _ => {
                cur.skip_value()?;
                continue;
            }
        };
        let s = cur.expect_string("JSM article source member is not a string")?;
        *slot = Some(cur.decode(s)?.into_owned());
    }
    cur.keys_end(keys);
    Ok(source)
}

/// A page id of 1–20 ASCII digits.
fn numeric_id(text: &str) -> Option<ContentId> {
    let ok = (1..=20).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_digit());
    ok.then(|| ContentId::new(text).ok()).flatten()
}

/// One article as kbgate writes it: every member chosen by the caller.
#[derive(Clone, Copy, Debug)]
pub struct JsmArticleOut<'a> {
    /// The title to show.
    pub title: &'a str,
    /// The excerpt to show (`""` when withheld).
    pub excerpt: &'a str,
    /// The page id (`source.pageId`).
    pub page_id: &'a ContentId,
    /// The page's space (`source.spaceKey`).
    pub space_key: &'a SpaceKey,
    /// kbgate's own view of the article (`content.iframeSrc`).
    pub iframe_src: &'a str,
}

/// kbgate's page of articles: the kept values, paging in visible articles, and kbgate's links.
#[derive(Clone, Copy, Debug)]
pub struct JsmPageOut<'a> {
    /// The articles of this page, in order.
    pub values: &'a [JsmArticleOut<'a>],
    /// Offset of the first article (in visible articles).
    pub start: u32,
    /// The page size asked for.
    pub limit: u32,
    /// True when no visible article follows this page.
    pub is_last_page: bool,
    /// `_links.base`, e.g. `https://kb.example.com/rest/servicedeskapi`.
    pub base: &'a str,
    /// kbgate's URL of the next page, if any.
    pub next: Option<&'a str>,
    /// kbgate's URL of the previous page, if any.
    pub prev: Option<&'a str>,
}

/// Renders kbgate's answer in JSM's shape (and key order): `_expands`, `size` (= the values
/// written), `start`, `limit`, `isLastPage`, `_links{base,context:"",next?,prev?}`, `values`.
pub fn render_jsm_articles(page: &JsmPageOut<'_>) -> Vec<u8> {
    let mut out = Vec::with_capacity(256 + page.values.len() * 384);
    out.extend_from_slice(b"{\"_expands\":[],\"size\":");
    out.extend_from_slice(page.values.len().to_string().as_bytes());
    out.extend_from_slice(b",\"start\":");
    out.extend_from_slice(page.start.to_string().as_bytes());
    out.extend_from_slice(b",\"limit\":");
    out.extend_from_slice(page.limit.to_string().as_bytes());
    out.extend_from_slice(b",\"isLastPage\":");
    out.extend_from_slice(if page.is_last_page { b"true" } else { b"false" });
    out.extend_from_slice(b",\"_links\":{\"base\":");
    write_json_str(&mut out, page.base);
    out.extend_from_slice(b",\"context\":\"\"");
    for (name, link) in [("next", page.next), ("prev", page.prev)] {
        if let Some(link) = link {
            out.extend_from_slice(b",\"");
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b"\":");
            write_json_str(&mut out, link);
        }
    }
    out.extend_from_slice(b"},\"values\":[");
    for (i, a) in page.values.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"title\":");
        write_json_str(&mut out, a.title);
        out.extend_from_slice(b",\"excerpt\":");
        write_json_str(&mut out, a.excerpt);
        out.extend_from_slice(b",\"source\":{\"type\":\"confluence\",\"pageId\":");
        write_json_str(&mut out, a.page_id.as_str());
        out.extend_from_slice(b",\"spaceKey\":");
        write_json_str(&mut out, a.space_key.as_str());
        out.extend_from_slice(b"},\"content\":{\"iframeSrc\":");
        write_json_str(&mut out, a.iframe_src);
        out.extend_from_slice(b"}}");
    }
    out.extend_from_slice(b"]}");
    out
}

#[cfg(test)]
mod tests;
