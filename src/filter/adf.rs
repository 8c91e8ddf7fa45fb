//! Atlassian Document Format (ADF) body rewriting: removes what a page's ADF body says about
//! hidden content, like `filter::storage` does for storage format.
//!
//! An ADF body (`body.atlas_doc_format.value`, a JSON document as a string) names other pages
//! through the URLs of cards (`inlineCard`, `blockCard`, `embedCard`), of `link` marks (whose
//! text often repeats the linked title) and of media, lists or includes content through
//! extensions (macros run by Confluence as the service account), and shows other pages' files
//! through `media` nodes. [`scan_adf`] lists the content ids the URLs name (for one batched
//! lookup) and [`rewrite_adf`] rewrites the document against the caller's predicate.
//!
//! Rules (fail closed):
//! - a card, or any node carrying a `link` mark, whose URL names a page or blog post the
//!   predicate does not show — or any other Confluence URL kbgate cannot resolve to an id
//!   (tiny links, `/display/…`, space pages, relative links) — is removed whole, with its text;
//!   absolute URLs of other sites and non-HTTP schemes (`mailto:`) are kept;
//! - cards keep only `url`, `layout`, `width`, `originalWidth`, `originalHeight` (never the
//!   resolved `data`, which holds titles);
//! - every extension (`extension`, `bodiedExtension`, `inlineExtension`,
//!   `multiBodiedExtension`) is removed except the plain formatting ones in
//!   [`SAFE_EXTENSIONS`] — listing and include macros (children, include, excerpt-include,
//!   contentbylabel, pagetree, recently-updated, …) are removed whatever they name;
//! - `media` of type `file` is kept only in the page's own collection (`contentId-{page id}`),
//!   external media only when their URL is allowed; a `mediaSingle`/`mediaGroup` left empty
//!   is removed;
//! - node types outside [`KNOWN_NODES`] are removed.
//!
//! This is the one place kbgate builds a `serde_json::Value` on the request path: ADF is a
//! nested document inside a JSON string and has to be rebuilt. It is bounded: the document is
//! at most [`MAX_ADF_BYTES`] (and the upstream body cap), and serde_json refuses nesting deeper
//! than 128. Errors carry no document text.
//!
//! Deliberately not done: evaluating macros for the caller, validating ADF beyond the node
//! types it reads, titles written as plain text without a link.

use serde_json::{Map, Value};

#[cfg(test)]
#[path = "adf_tests.rs"]
mod tests;

/// Largest ADF document accepted, in bytes (8 MiB).
pub const MAX_ADF_BYTES: usize = 8 * 1024 * 1024;

/// Extensions kept: formatting only, they name no other content.
pub const SAFE_EXTENSIONS: &[&str] = &[
    "toc", "anchor", "info", "note", "tip", "warning", "panel", "expand", "code", "noformat",
    "status",
];

/// Node types kept (their `content` rewritten); cards, media and extensions have their own rules.
pub const KNOWN_NODES: &[&str] = &[
    "doc",
    "paragraph",
    "heading",
    "text",
    "hardBreak",
    "rule",
    "bulletList",
    "orderedList",
    "listItem",
    "blockquote",
    "codeBlock",
    "panel",
    "expand",
    "nestedExpand",
    "table",
    "tableRow",
    "tableHeader",
    "tableCell",
    "mention",
    "emoji",
    "date",
    "status",
    "placeholder",
    "taskList",
    "taskItem",
    "decisionList",
    "decisionItem",
    "layoutSection",
    "layoutColumn",
    "caption",
];

/// Why an ADF body was refused (the proxy answers 502). No variant carries document text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AdfError {
    /// The document is larger than [`MAX_ADF_BYTES`].
    #[error("ADF body is larger than {MAX_ADF_BYTES} bytes")]
    TooLarge,
    /// Not JSON, or nested deeper than serde_json accepts.
    #[error("ADF body is not valid JSON")]
    Syntax,
    /// JSON, but not a `doc` node with a `content` array.
    #[error("ADF body is not a document")]
    NotDocument,
}

/// What a URL in a document points at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AdfTarget {
    /// A page or blog post (by content id), or an attachment of one.
    Content(String),
    /// A Confluence URL kbgate cannot resolve to an id: treated as hidden.
    Unknown,
    /// Another site, or a non-HTTP scheme: kept.
    External,
}

/// A rewritten document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdfRewritten {
    /// The document, as a JSON string.
    pub body: String,
    /// Nodes removed.
    pub removed: usize,
}

/// The content ids the document's URLs name, deduplicated, in order of first appearance.
pub fn scan_adf(doc: &str, page_id: &str) -> Result<Vec<String>, AdfError> {
    let mut ids = Vec::new();
    let mut record = |id: &str| {
        if !ids.iter().any(|i: &String| i == id) {
            ids.push(id.to_owned());
        }
        true
    };
    let root = parse(doc)?;
    {
        let mut walker = Walker {
            page_id,
            visible: &mut record,
            removed: 0,
        };
        walker.document(&root)?;
    }
    Ok(ids)
}

/// Rewrites the document of page `page_id` so that it names no content `visible` rejects.
pub fn rewrite_adf(
    doc: &str,
    page_id: &str,
    visible: &dyn Fn(&str) -> bool,
) -> Result<AdfRewritten, AdfError> {
    let root = parse(doc)?;
    let mut ask = |id: &str| visible(id);
    let mut walker = Walker {
        page_id,
        visible: &mut ask,
        removed: 0,
    };
    let out = walker.document(&root)?;
    let body = serde_json::to_string(&out).map_err(|_| AdfError::Syntax)?;
    Ok(AdfRewritten {
        body,
        removed: walker.removed,
    })
}

fn parse(doc: &str) -> Result<Value, AdfError> {
    if doc.len() > MAX_ADF_BYTES {
        return Err(AdfError::TooLarge);
    }
    serde_json::from_str(doc).map_err(|_| AdfError::Syntax)
}

/// What a URL names.
pub fn classify_url(url: &str) -> AdfTarget {
    let url = url.trim();
    let lower = url.to_ascii_lowercase();
    let (absolute, rest) = if let Some(rest) = ["https://", "http://", "//"]
        .iter()
        .find_map(|scheme| lower.starts_with(scheme).then(|| url.get(scheme.len()..)))
        .flatten()
    {
        match rest.find(['/', '?', '#']) {
            Some(at) => (true, rest.get(at..).unwrap_or("")),
            None => return AdfTarget::External,
        }
    } else if url.starts_with('/') {
        (false, url)
    } else if url.contains(':') && !url.starts_with('#') {
        // `mailto:`, `tel:` and other schemes (a scheme comes before any `/`).
        let scheme_ok = url
            .split(':')
            .next()
            .is_some_and(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric()));
        return if scheme_ok {
            AdfTarget::External
        } else {
            AdfTarget::Unknown
        };
    } else {
        return AdfTarget::Unknown;
    };
    let (path, query) = match rest.split_once('?') {
        Some((p, q)) => (p, q.split('#').next().unwrap_or("")),
        None => (rest.split('#').next().unwrap_or(""), ""),
    };
    // Paths are matched case-insensitively (ids are digits), as servers route them.
    let path = path.to_ascii_lowercase();
    let wiki = path == "/wiki" || path.starts_with("/wiki/");
    let path = path.strip_prefix("/wiki").unwrap_or(&path);
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    const CONFLUENCE: &[&str] = &[
        "spaces", "pages", "display", "x", "download", "plugins", "rest", "label", "api",
    ];
    let confluence = wiki || segments.first().is_some_and(|s| CONFLUENCE.contains(s));
    if !confluence {
        return if absolute {
            AdfTarget::External
        } else {
            AdfTarget::Unknown
        };
    }
    let numeric = |s: &str| (1..=20).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit());
    let id: Option<String> = match segments.as_slice() {
        ["spaces", _, "pages", id, ..] if numeric(id) => Some((*id).to_owned()),
        ["spaces", _, "blog", _, _, _, id, ..] if numeric(id) => Some((*id).to_owned()),
        ["download", "attachments", id, ..] if numeric(id) => Some((*id).to_owned()),
        ["pages", "viewpage.action"] => form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == "pageId")
            .map(|(_, v)| v.into_owned())
            .filter(|v| numeric(v)),
        _ => None,
    };
    match id {
        Some(id) => AdfTarget::Content(id),
        None => AdfTarget::Unknown,
    }
}

/// The state of one walk.
struct Walker<'v> {
    page_id: &'v str,
    visible: &'v mut dyn FnMut(&str) -> bool,
    removed: usize,
}

impl Walker<'_> {
    fn document(&mut self, root: &Value) -> Result<Value, AdfError> {
        let is_doc = root.get("type").and_then(Value::as_str) == Some("doc")
            && root.get("content").is_some_and(Value::is_array);
        if !is_doc {
            return Err(AdfError::NotDocument);
        }
        self.node(root).ok_or(AdfError::NotDocument)
    }

    /// True when `url` may be shown.
    fn allowed(&mut self, url: &str) -> bool {
        match classify_url(url) {
            AdfTarget::External => true,
            AdfTarget::Unknown => false,
            AdfTarget::Content(id) => (self.visible)(&id),
        }
    }

    /// True when every `link` mark of the node points somewhere allowed.
    fn marks_allowed(&mut self, node: &Map<String, Value>) -> bool {
        let Some(marks) = node.get("marks") else {
            return true;
        };
        let Some(marks) = marks.as_array() else {
            return false;
        };
        marks.iter().all(|m| {
            if m.get("type").and_then(Value::as_str) != Some("link") {
                return true;
            }
            m.get("attrs")
                .and_then(|a| a.get("href"))
                .and_then(Value::as_str)
                .is_some_and(|href| self.allowed(href))
        })
    }

    /// The rewritten node, or `None` when it is removed.
    fn node(&mut self, value: &Value) -> Option<Value> {
        let kept = self.node_inner(value);
        if kept.is_none() {
            self.removed += 1;
        }
        kept
    }

    fn node_inner(&mut self, value: &Value) -> Option<Value> {
        let obj = value.as_object()?;
        let kind = obj.get("type")?.as_str()?;
        if !self.marks_allowed(obj) {
            return None;
        }
        match kind {
            "inlineCard" | "blockCard" | "embedCard" => {
                let attrs = obj.get("attrs")?.as_object()?;
                let url = attrs.get("url")?.as_str()?;
                if !self.allowed(url) {
                    return None;
                }
                let mut kept = Map::new();
                for key in ["url", "layout", "width", "originalWidth", "originalHeight"] {
                    if let Some(v) = attrs.get(key) {
                        kept.insert(key.to_owned(), v.clone());
                    }
                }
                let mut out = Map::new();
                out.insert("type".to_owned(), Value::from(kind));
                out.insert("attrs".to_owned(), Value::Object(kept));
                Some(Value::Object(out))
            }
            "extension" | "bodiedExtension" | "inlineExtension" | "multiBodiedExtension" => {
                let key = obj
                    .get("attrs")
                    .and_then(|a| a.get("extensionKey"))
                    .and_then(Value::as_str)?;
                if SAFE_EXTENSIONS.contains(&key) {
                    self.copy(obj)
                } else {
                    None
                }
            }
            "media" | "mediaInline" => {
                let attrs = obj.get("attrs")?.as_object()?;
                let ok = match attrs.get("type").and_then(Value::as_str) {
                    Some("file") => {
                        attrs.get("collection").and_then(Value::as_str)
                            == Some(format!("contentId-{}", self.page_id).as_str())
                    }
                    Some("external" | "link") => attrs
                        .get("url")
                        .and_then(Value::as_str)
                        .is_some_and(|u| self.allowed(u)),
                    _ => false,
                };
                if ok {
                    self.copy(obj)
                } else {
                    None
                }
            }
            "mediaSingle" | "mediaGroup" => {
                let out = self.copy(obj)?;
                let empty = out
                    .get("content")
                    .and_then(Value::as_array)
                    .is_none_or(|c| c.is_empty());
                (!empty).then_some(out)
            }
            known if KNOWN_NODES.contains(&known) => self.copy(obj),
            _ => None,
        }
    }

    /// The node with every member copied and its `content` rewritten.
    fn copy(&mut self, obj: &Map<String, Value>) -> Option<Value> {
        let mut out = Map::new();
        for (key, value) in obj {
            if key == "content" {
                let children = value.as_array()?;
                let kept: Vec<Value> = children.iter().filter_map(|c| self.node(c)).collect();
                out.insert(key.clone(), Value::Array(kept));
            } else {
                out.insert(key.clone(), value.clone());
            }
        }
        Some(Value::Object(out))
    }
}
