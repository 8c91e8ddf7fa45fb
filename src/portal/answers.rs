//! Reads the *filtered* JSON answers the site asked the proxy for into the few fields its pages
//! show: typed serde structs (no `serde_json::Value`), unknown members ignored.
//!
//! Guarantees: only what the filter already let through is read; an answer that does not have
//! the expected shape is an error (the page becomes kbgate's error page), never a partial page.
//! Search markup (`@@@hl@@@`) is turned into [`Fragment`]s and HTML entities in excerpts are
//! decoded, so templates escape plain text once.
//!
//! Deliberately not: deciding anything (the proxy did), or reading bodies other than storage.

use serde::Deserialize;

use super::model::{ArticleLink, Fragment};

const HL_OPEN: &str = "@@@hl@@@";
const HL_CLOSE: &str = "@@@endhl@@@";

/// A filtered answer had an unexpected shape.
#[derive(Debug, thiserror::Error)]
#[error("filtered answer has an unexpected shape")]
pub struct ShapeError(#[source] serde_json::Error);

fn parse<'a, T: Deserialize<'a>>(body: &'a [u8]) -> Result<T, ShapeError> {
    serde_json::from_slice(body).map_err(ShapeError)
}

/// kbgate's URL of an article.
pub fn article_url(id: &str) -> String {
    format!("/articles/{id}")
}

/// A v1 search answer (`/search`).
#[derive(Deserialize)]
pub struct SearchAnswer {
    /// The results the filter kept.
    pub results: Vec<SearchResult>,
    #[serde(rename = "_links", default)]
    links: NextLink,
}

impl SearchAnswer {
    /// Parses a filtered search answer.
    pub fn parse(body: &[u8]) -> Result<SearchAnswer, ShapeError> {
        parse(body)
    }

    /// The results that are articles (pages and blog posts), each with its content.
    pub fn articles(&self) -> impl Iterator<Item = (&SearchResult, &ContentSummary)> {
        self.results
            .iter()
            .filter_map(|r| Some((r, r.content.as_ref().filter(|c| c.is_article())?)))
    }

    /// Whether kbgate offered a next page.
    pub fn has_next(&self) -> bool {
        self.links.next.is_some()
    }
}

#[derive(Deserialize, Default)]
struct NextLink {
    next: Option<String>,
}

/// One search result.
#[derive(Deserialize)]
pub struct SearchResult {
    /// The content (absent for non-content results, which the site skips).
    pub content: Option<ContentSummary>,
    /// The excerpt with Confluence's highlight markers, HTML-escaped; empty when withheld.
    #[serde(default)]
    pub excerpt: String,
    /// When it was last modified (ISO 8601), if given.
    #[serde(rename = "lastModified")]
    pub last_modified: Option<String>,
}

/// A content item as a search or list result describes it.
#[derive(Deserialize)]
pub struct ContentSummary {
    /// The id.
    pub id: String,
    /// `page`, `blogpost`, …
    #[serde(rename = "type", default)]
    pub kind: String,
    /// The title.
    pub title: String,
    /// The visible ancestors, root first (when expanded).
    #[serde(default)]
    pub ancestors: Vec<Titled>,
    /// The version (when expanded).
    pub version: Option<Version>,
}

impl ContentSummary {
    /// The article link of this item.
    pub fn link(&self) -> ArticleLink {
        ArticleLink {
            title: self.title.clone(),
            url: article_url(&self.id),
        }
    }

    /// Whether the site shows this kind of item as an article.
    pub fn is_article(&self) -> bool {
        matches!(self.kind.as_str(), "page" | "blogpost")
    }
}

/// An item with an id and a title (an ancestor, a child).
#[derive(Deserialize)]
pub struct Titled {
    /// The id.
    pub id: String,
    /// The title.
    pub title: String,
}

impl Titled {
    /// The article link of this item.
    pub fn link(&self) -> ArticleLink {
        ArticleLink {
            title: self.title.clone(),
            url: article_url(&self.id),
        }
    }
}

/// A version stamp.
#[derive(Deserialize)]
pub struct Version {
    /// When (ISO 8601).
    pub when: Option<String>,
}

/// A list answer (`content/{id}/child/page`, `content/search`).
#[derive(Deserialize)]
pub struct ListAnswer {
    /// The items the filter kept.
    pub results: Vec<ContentSummary>,
}

impl ListAnswer {
    /// Parses a filtered list answer.
    pub fn parse(body: &[u8]) -> Result<ListAnswer, ShapeError> {
        parse(body)
    }
}

/// A content answer (`content/{id}` with the site's expansions).
#[derive(Deserialize)]
pub struct ContentAnswer {
    /// Title, id, ancestors and version.
    #[serde(flatten)]
    pub summary: ContentSummary,
    /// The rewritten storage body, when expanded.
    pub body: Option<BodyMember>,
    /// The composed children, when expanded.
    pub children: Option<Children>,
    /// The space, when expanded.
    pub space: Option<SpaceMember>,
}

/// `space` of a content answer.
#[derive(Deserialize)]
pub struct SpaceMember {
    /// The space key.
    pub key: String,
}

impl ContentAnswer {
    /// Parses a filtered content answer.
    pub fn parse(body: &[u8]) -> Result<ContentAnswer, ShapeError> {
        parse(body)
    }

    /// The key of the content's space, when expanded.
    pub fn space_key(&self) -> Option<&str> {
        self.space.as_ref().map(|s| s.key.as_str())
    }

    /// The storage body, or `""`.
    pub fn storage(&self) -> &str {
        self.body
            .as_ref()
            .and_then(|b| b.storage.as_ref())
            .map_or("", |s| s.value.as_str())
    }
}

/// `body` of a content answer.
#[derive(Deserialize)]
pub struct BodyMember {
    /// `body.storage`.
    pub storage: Option<StorageMember>,
}

/// `body.storage`.
#[derive(Deserialize)]
pub struct StorageMember {
    /// The XHTML.
    pub value: String,
}

/// `children` of a content answer.
#[derive(Deserialize)]
pub struct Children {
    /// `children.page`.
    pub page: Option<TitledList>,
    /// `children.attachment`.
    pub attachment: Option<AttachmentList>,
}

/// A list of titled items.
#[derive(Deserialize)]
pub struct TitledList {
    /// The items.
    pub results: Vec<Titled>,
}

/// `children.attachment`.
#[derive(Deserialize)]
pub struct AttachmentList {
    /// The attachments.
    pub results: Vec<Attachment>,
}

/// One attachment.
#[derive(Deserialize)]
pub struct Attachment {
    /// The file name.
    pub title: String,
    /// `extensions.fileSize`.
    pub extensions: Option<AttachmentExtensions>,
}

/// `extensions` of an attachment.
#[derive(Deserialize)]
pub struct AttachmentExtensions {
    /// Size in bytes.
    #[serde(rename = "fileSize")]
    pub file_size: Option<u64>,
}

/// `2026-11-20` from an ISO 8601 timestamp, if it starts with a date.
pub fn day_of(timestamp: Option<&str>) -> Option<String> {
    let day = timestamp?.get(..10)?;
    let ok = day.bytes().enumerate().all(|(i, b)| match i {
        4 | 7 => b == b'-',
        _ => b.is_ascii_digit(),
    });
    ok.then(|| day.to_owned())
}

/// An excerpt with Confluence's highlight markers, HTML-escaped, as plain-text fragments.
/// When upstream marked nothing, the words of `query` are marked (case-insensitive).
pub fn fragments(excerpt: &str, query: &str) -> Vec<Fragment> {
    let mut out = Vec::new();
    let mut rest = excerpt;
    let mut marked = false;
    while let Some(open) = rest.find(HL_OPEN) {
        push(&mut out, rest.get(..open).unwrap_or(""), false);
        let after = rest.get(open + HL_OPEN.len()..).unwrap_or("");
        let close = after.find(HL_CLOSE).unwrap_or(after.len());
        push(&mut out, after.get(..close).unwrap_or(""), true);
        marked = true;
        rest = after.get(close + HL_CLOSE.len()..).unwrap_or("");
    }
    push(&mut out, rest, false);
    if marked {
        return out;
    }
    let text: String = out.into_iter().map(|f| f.text).collect();
    mark_words(&text, query)
}

fn push(out: &mut Vec<Fragment>, escaped: &str, highlight: bool) {
    if escaped.is_empty() {
        return;
    }
    out.push(Fragment {
        text: super::decode_entities(escaped),
        highlight,
    });
}

/// Marks every occurrence of the query's words (2+ characters, ASCII case-insensitive).
fn mark_words(text: &str, query: &str) -> Vec<Fragment> {
    let words: Vec<String> = query
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= 2)
        .map(|w| w.to_lowercase())
        .collect();
    let lower = text.to_lowercase();
    if words.is_empty() || lower.len() != text.len() {
        return plain(text);
    }
    let mut out = Vec::new();
    let mut at = 0;
    while at < text.len() {
        let hit = words
            .iter()
            .filter_map(|w| {
                lower
                    .get(at..)
                    .and_then(|l| l.find(w.as_str()))
                    .map(|i| (i, w.len()))
            })
            .min_by_key(|&(i, len)| (i, usize::MAX - len));
        let Some((i, len)) = hit else { break };
        let (start, end) = (at + i, at + i + len);
        if let (Some(before), Some(matched)) = (text.get(at..start), text.get(start..end)) {
            if !before.is_empty() {
                out.extend(plain(before));
            }
            out.push(Fragment {
                text: matched.to_owned(),
                highlight: true,
            });
        } else {
            break;
        }
        at = end;
    }
    if let Some(tail) = text.get(at..).filter(|t| !t.is_empty()) {
        out.extend(plain(tail));
    }
    out
}

fn plain(text: &str) -> Vec<Fragment> {
    vec![Fragment {
        text: text.to_owned(),
        highlight: false,
    }]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(f: &[Fragment]) -> String {
        f.iter()
            .map(|f| {
                if f.highlight {
                    format!("[{}]", f.text)
                } else {
                    f.text.clone()
                }
            })
            .collect()
    }

    #[test]
    fn confluence_markers_become_highlighted_fragments_and_entities_are_decoded() {
        let f = fragments("Connect to the @@@hl@@@VPN@@@endhl@@@ &amp; sign in", "vpn");
        assert_eq!(shown(&f), "Connect to the [VPN] & sign in");
    }

    #[test]
    fn without_markers_the_query_words_are_marked_case_insensitively() {
        let f = fragments("Use the vpn client; VPN gateways", "VPN");
        assert_eq!(shown(&f), "Use the [vpn] client; [VPN] gateways");
    }

    #[test]
    fn an_unclosed_marker_highlights_to_the_end_and_markup_stays_text() {
        let f = fragments("a @@@hl@@@<b>x", "");
        assert_eq!(shown(&f), "a [<b>x]");
    }

    #[test]
    fn days_come_only_from_well_formed_timestamps() {
        assert_eq!(
            day_of(Some("2026-11-20T10:00:00.000Z")).as_deref(),
            Some("2026-11-20")
        );
        assert_eq!(day_of(Some("20261120")), None);
        assert_eq!(day_of(Some("<script>alert")), None);
        assert_eq!(day_of(None), None);
    }

    #[test]
    fn a_search_answer_reads_results_ancestors_and_the_next_link() {
        let body = br#"{"results":[{"content":{"id":"1","type":"page","title":"T",
            "ancestors":[{"id":"9","title":"Root"}],"version":{"when":"2026-01-02T00:00:00Z"}},
            "title":"@@@hl@@@T@@@endhl@@@","excerpt":"x","lastModified":"2026-01-02T00:00:00Z"}],
            "start":5,"limit":10,"size":1,"_links":{"next":"/x"}}"#;
        let a = SearchAnswer::parse(body).unwrap();
        assert!(a.has_next());
        let c = a.results[0].content.as_ref().unwrap();
        assert_eq!(c.link().url, "/articles/1");
        assert_eq!(c.ancestors[0].title, "Root");
    }

    #[test]
    fn a_content_answer_without_results_is_refused() {
        assert!(SearchAnswer::parse(br#"{"size":1}"#).is_err());
        assert!(ContentAnswer::parse(br#"{"id":"1"}"#).is_err());
    }

    #[test]
    fn a_content_answer_reads_body_children_and_attachments() {
        let body = br#"{"id":"1","type":"page","title":"T","body":{"storage":{"value":"<p>x</p>","representation":"storage"}},
            "children":{"page":{"results":[{"id":"2","title":"C"}]},"attachment":{"results":[{"id":"att1","title":"a.txt","extensions":{"fileSize":12}}]}}}"#;
        let a = ContentAnswer::parse(body).unwrap();
        assert_eq!(a.storage(), "<p>x</p>");
        let ch = a.children.unwrap();
        assert_eq!(ch.page.unwrap().results[0].title, "C");
        let att = &ch.attachment.unwrap().results[0];
        assert_eq!(att.title, "a.txt");
        assert_eq!(att.extensions.as_ref().unwrap().file_size, Some(12));
    }
}
