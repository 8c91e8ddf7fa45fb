//! Which storage-format elements matter to the rewriter, what content an element names, and
//! (site mode) what a `children` / `contentbylabel` macro's parameters ask for.
//!
//! Guarantees: an element is classified from its name and attributes alone (no look-ahead);
//! attribute values are decoded (XML entities, character references, attribute-value
//! whitespace normalization) before use; duplicate or malformed attributes on an element the
//! rewriter reads are a syntax error. A reference element the rewriter cannot resolve is
//! [`Element::Unresolvable`], which the walker treats as hidden.
//!
//! Site mode ([`Candidate`]): the parameters of an outermost `children` / `contentbylabel`
//! macro are read into a [`SiteListing`] or the macro is rejected. Reading never fails the
//! body (a parameter the API mode would not even look at cannot make the site mode refuse
//! what the API mode accepts): anything unexpected rejects the macro instead. Only validated
//! labels and a number leave this module; no parameter text is ever written to the body.
//!
//! Deliberately not done: HTML named entities (`&eacute;`) in attribute values are kept
//! literally, since XML does not define them; other elements' attributes are not read;
//! label operators (`+a`, `-b`, `operator=AND`) are not honoured (a `-b` is simply not a
//! valid label), so a site listing may show more of the caller's visible pages than
//! Confluence would, never fewer restrictions on visibility.

use quick_xml::events::BytesStart;

// `super` is the storage module itself wherever it is mounted, so this path survives a move.
use super::{
    ContentRef, SiteListing, StorageError, SITE_LISTING_DEFAULT_MAX, SITE_LISTING_MAX,
    SITE_LISTING_MAX_LABELS, SITE_LISTING_PARAM_BYTES,
};

/// Macros removed whatever they contain: Confluence evaluates them server-side as the service
/// account (listing, including or reporting on other content) or they load other content.
/// Matched ASCII case-insensitively after trimming whitespace. The `multiexcerpt-*` names are
/// Appfire's include macros (see leak-surface.md §0).
pub const LISTING_MACROS: &[&str] = &[
    "children",
    "contentbylabel",
    "content-by-label",
    "pagetree",
    "pagetreesearch",
    "recently-updated",
    "recently-updated-dashboard",
    "blog-posts",
    "content-report-table",
    "page-index",
    "livesearch",
    "search",
    "related-labels",
    "popular-labels",
    "listlabels",
    "labels-list",
    "navmap",
    "index",
    "create-from-template",
    "excerpt-include",
    "include",
    "detailssummary",
    "task-report",
    "jira",
    "jiraissues",
    "rss",
    "html",
    "iframe",
    "widget",
    "multimedia",
    "multiexcerpt-include",
    "multiexcerpt-include-macro",
];

/// The kind of a removable container.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Container {
    /// `ac:link`.
    Link,
    /// `ac:image`.
    Image,
    /// `ac:structured-macro` or the older `ac:macro`; `listing` if its name is in
    /// [`LISTING_MACROS`].
    Macro { listing: Option<Listing> },
}

/// Which listing macro a macro is, as far as the site mode goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Listing {
    /// `children`: may become a site stub.
    Children,
    /// `contentbylabel` / `content-by-label`: may become a site stub.
    ByLabel,
    /// Any other name in [`LISTING_MACROS`]: always removed.
    Other,
}

/// What an element means to the rewriter.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Element {
    /// Anything the rewriter copies without looking inside (`p`, `ac:parameter`, `time`, …).
    Plain,
    /// A removable container.
    Container(Container),
    /// A `ri:` element naming other content (one or more ways of naming the same item).
    Ref(Vec<ContentRef>),
    /// A `ri:` element naming content the rewriter cannot resolve (no title, no id, or an
    /// unknown `ri:` element).
    Unresolvable,
    /// A `ri:` element that names no other content by itself (`ri:user`, `ri:url`,
    /// `ri:space`, `ri:shortcut`, or `ri:attachment`, whose `ri:page` child decides).
    RiOther,
}

/// Classifies a start or empty-element tag.
pub(crate) fn classify(e: &BytesStart<'_>) -> Result<Element, StorageError> {
    let name = e.name();
    Ok(match name.as_ref() {
        b"ac:link" => Element::Container(Container::Link),
        b"ac:image" => Element::Container(Container::Image),
        b"ac:structured-macro" | b"ac:macro" => {
            let listing = match attr(e, b"ac:name")? {
                Some(n) => listing_kind(&n),
                None => None,
            };
            Element::Container(Container::Macro { listing })
        }
        b"ri:page" => {
            let title = attr(e, b"ri:content-title")?;
            let space_key = attr(e, b"ri:space-key")?;
            let id = attr(e, b"ri:content-id")?;
            refs(title.map(|title| ContentRef::Page { title, space_key }), id)
        }
        b"ri:blog-post" => {
            let title = attr(e, b"ri:content-title")?;
            let space_key = attr(e, b"ri:space-key")?;
            let posting_day = attr(e, b"ri:posting-day")?;
            let id = attr(e, b"ri:content-id")?;
            let post = title.map(|title| ContentRef::BlogPost {
                title,
                space_key,
                posting_day,
            });
            refs(post, id)
        }
        b"ri:content-entity" => refs(None, attr(e, b"ri:content-id")?),
        b"ri:user" | b"ri:url" | b"ri:space" | b"ri:shortcut" | b"ri:attachment" => {
            Element::RiOther
        }
        other if other.starts_with(b"ri:") => Element::Unresolvable,
        _ => Element::Plain,
    })
}

/// The references of one `ri:` element; none at all means unresolvable.
fn refs(by_title: Option<ContentRef>, id: Option<String>) -> Element {
    let list: Vec<ContentRef> = by_title.into_iter().chain(id.map(ContentRef::Id)).collect();
    if list.is_empty() {
        Element::Unresolvable
    } else {
        Element::Ref(list)
    }
}

/// Which listing macro a macro name is, if it is in [`LISTING_MACROS`] at all.
pub(crate) fn listing_kind(name: &str) -> Option<Listing> {
    let name = name.trim_matches(|c: char| c.is_ascii_whitespace());
    if !LISTING_MACROS.iter().any(|l| l.eq_ignore_ascii_case(name)) {
        return None;
    }
    Some(if name.eq_ignore_ascii_case("children") {
        Listing::Children
    } else if name.eq_ignore_ascii_case("contentbylabel")
        || name.eq_ignore_ascii_case("content-by-label")
    {
        Listing::ByLabel
    } else {
        Listing::Other
    })
}

/// The decoded value of attribute `key`, if present. Every attribute of the element is parsed
/// (so a duplicate or malformed attribute anywhere in it is an error).
fn attr(e: &BytesStart<'_>, key: &[u8]) -> Result<Option<String>, StorageError> {
    let mut found = None;
    for a in e.attributes() {
        let a = a.map_err(|_| StorageError::Syntax)?;
        if a.key.as_ref() == key {
            let raw = std::str::from_utf8(&a.value).map_err(|_| StorageError::Syntax)?;
            found = Some(unescape(raw)?);
        }
    }
    Ok(found)
}

/// Decodes an attribute value: `&quot; &amp; &lt; &gt; &apos;`, `&#N;` and `&#xH;`; literal
/// tab, CR, LF and CRLF become one space (XML attribute-value normalization). Other `&name;`
/// and a lone `&` are kept as written. A character reference to no valid character is an error.
pub(crate) fn unescape(raw: &str) -> Result<String, StorageError> {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(i) = rest.find(['&', '\t', '\r', '\n']) {
        let (before, from) = rest.split_at(i);
        out.push_str(before);
        let mut chars = from.chars();
        match chars.next() {
            Some('&') => {
                let (decoded, used) = reference(from)?;
                out.push_str(&decoded);
                rest = from.get(used..).ok_or(StorageError::Syntax)?;
            }
            Some('\r') if from.starts_with("\r\n") => {
                out.push(' ');
                rest = from.get(2..).ok_or(StorageError::Syntax)?;
            }
            _ => {
                out.push(' ');
                rest = chars.as_str();
            }
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// Decodes the reference at the start of `from` (which starts with `&`): the text it stands
/// for and how many bytes it used.
fn reference(from: &str) -> Result<(String, usize), StorageError> {
    // Entity names are short; a `;` further away means this `&` is not a reference.
    let semi = from
        .char_indices()
        .take(34)
        .find(|&(_, c)| c == ';')
        .map(|(i, _)| i);
    let Some(semi) = semi else {
        return Ok(("&".to_owned(), 1));
    };
    let name = from.get(1..semi).ok_or(StorageError::Syntax)?;
    let decoded = match name {
        "quot" => '"',
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "apos" => '\'',
        _ => match name.strip_prefix('#') {
            Some(num) => char_ref(num)?,
            None => return Ok(("&".to_owned(), 1)),
        },
    };
    Ok((decoded.to_string(), semi + 1))
}

/// Decodes the digits of a character reference (`N` or `xH`).
fn char_ref(num: &str) -> Result<char, StorageError> {
    let code = match num.strip_prefix(['x', 'X']) {
        Some(hex) if !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit()) => {
            u32::from_str_radix(hex, 16).map_err(|_| StorageError::Syntax)?
        }
        None if !num.is_empty() && num.bytes().all(|b| b.is_ascii_digit()) => {
            num.parse::<u32>().map_err(|_| StorageError::Syntax)?
        }
        _ => return Err(StorageError::Syntax),
    };
    match char::from_u32(code) {
        Some(c) if c != '\0' => Ok(c),
        _ => Err(StorageError::Syntax),
    }
}

/// The parameters a plain `children` macro may have (anything else may name another page).
const CHILDREN_PARAMS: &[&str] = &[
    "all",
    "depth",
    "sort",
    "reverse",
    "style",
    "first",
    "excerptType",
];

/// What a site candidate does with one parameter's text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Slot {
    /// `labels` / `label`: kept, parsed at the end.
    Labels,
    /// `max`.
    Max,
    /// `maxResults` (used when there is no `max`).
    MaxResults,
    /// `spaces` / `space`: must say "this space".
    Space,
    /// `cql`: must be one of the simple label forms (`label_cql`).
    Cql,
    /// A parameter the decision does not depend on; its text is not read.
    Ignored,
}

/// An outermost `children` / `contentbylabel` macro being read in site mode: the walker
/// feeds it the elements and text inside the macro, then asks it for the listing.
#[derive(Debug)]
pub(crate) struct Candidate {
    /// Stack index of the macro's own frame.
    pub(crate) depth: usize,
    /// `Listing::Children` or `Listing::ByLabel`.
    kind: Listing,
    /// The open parameter (a direct child of the macro) whose text is being read.
    slot: Option<Slot>,
    /// The open parameter's decoded text.
    value: String,
    /// Raw bytes of kept parameter text so far, over all parameters.
    read: usize,
    /// The `labels` / `label` texts, joined by commas.
    labels: String,
    max: Option<String>,
    max_results: Option<String>,
    /// Something unexpected was seen: the macro is removed, not stubbed.
    rejected: bool,
}

impl Candidate {
    /// A candidate for a macro at stack index `depth`; `None` for a listing macro the site
    /// never stubs.
    pub(crate) fn new(depth: usize, kind: Listing) -> Option<Candidate> {
        match kind {
            Listing::Children | Listing::ByLabel => Some(Candidate {
                depth,
                kind,
                slot: None,
                value: String::new(),
                read: 0,
                labels: String::new(),
                max: None,
                max_results: None,
                rejected: false,
            }),
            Listing::Other => None,
        }
    }

    /// An element starts inside the macro. `direct` if the macro is its parent; `empty` for
    /// an empty-element tag. Only direct `ac:parameter` / `ac:default-parameter` children are
    /// expected; any other element (a `ri:page`, a body, a nested macro) rejects the macro.
    pub(crate) fn element(&mut self, e: &BytesStart<'_>, direct: bool, empty: bool) {
        if self.rejected {
            return;
        }
        let name = match (direct, e.name().as_ref()) {
            // A bad or duplicate attribute rejects the macro rather than failing the body.
            (true, b"ac:parameter") => match attr(e, b"ac:name") {
                Ok(name) => name.unwrap_or_default(),
                Err(_) => return self.reject(),
            },
            (true, b"ac:default-parameter") => String::new(),
            _ => return self.reject(),
        };
        match self.slot_for(name.trim()) {
            Some(slot) => {
                self.slot = Some(slot);
                self.value.clear();
                if empty {
                    self.end_param();
                }
            }
            None => self.reject(),
        }
    }

    /// Text (`raw` as written, entities included) or CDATA (`cdata`, its inner text) inside
    /// the macro. Only text of an open, kept parameter is read; past
    /// [`SITE_LISTING_PARAM_BYTES`] the macro is rejected.
    pub(crate) fn text(&mut self, raw: &str, cdata: bool) {
        let Some(slot) = self.slot else {
            return;
        };
        if self.rejected || slot == Slot::Ignored {
            return;
        }
        self.read += raw.len();
        if self.read > SITE_LISTING_PARAM_BYTES {
            return self.reject();
        }
        if cdata {
            self.value.push_str(raw);
            return;
        }
        match unescape(raw) {
            Ok(text) => self.value.push_str(&text),
            Err(_) => self.reject(),
        }
    }

    /// The open parameter ends: keep what the decision needs from it.
    pub(crate) fn end_param(&mut self) {
        let value = std::mem::take(&mut self.value);
        match self.slot.take() {
            Some(Slot::Labels) => {
                self.labels.push(',');
                self.labels.push_str(&value);
            }
            Some(Slot::Max) => self.max = Some(value),
            Some(Slot::Cql) => match super::label_cql::labels_from_cql(&value) {
                Some(labels) => {
                    for label in labels {
                        self.labels.push(',');
                        self.labels.push_str(&label);
                    }
                }
                None => self.reject(),
            },
            Some(Slot::MaxResults) => self.max_results = Some(value),
            Some(Slot::Space) => {
                let space = value.trim();
                let this_space = space.is_empty()
                    || space == "@self"
                    || space.eq_ignore_ascii_case("currentSpace()");
                if !this_space {
                    self.reject();
                }
            }
            Some(Slot::Ignored) | None => {}
        }
    }

    /// The macro ends: the listing it becomes, or `None` if it is removed.
    pub(crate) fn finish(self) -> Option<SiteListing> {
        if self.rejected {
            return None;
        }
        match self.kind {
            Listing::Children => Some(SiteListing::Children),
            Listing::ByLabel => {
                let labels = parse_labels(&self.labels);
                if labels.is_empty() {
                    return None;
                }
                let max = parse_max(self.max.or(self.max_results).as_deref());
                Some(SiteListing::ByLabel { labels, max })
            }
            Listing::Other => None,
        }
    }

    fn reject(&mut self) {
        self.rejected = true;
        self.slot = None;
        self.value = String::new();
        self.labels = String::new();
    }

    /// What a parameter named `name` is; `None` rejects the macro.
    fn slot_for(&self, name: &str) -> Option<Slot> {
        let is = |n: &str| name.eq_ignore_ascii_case(n);
        match self.kind {
            Listing::Children if CHILDREN_PARAMS.iter().any(|p| is(p)) => Some(Slot::Ignored),
            Listing::Children | Listing::Other => None,
            Listing::ByLabel => Some(if is("labels") || is("label") {
                Slot::Labels
            } else if is("max") {
                Slot::Max
            } else if is("maxResults") {
                Slot::MaxResults
            } else if is("spaces") || is("space") {
                Slot::Space
            } else if is("cql") {
                Slot::Cql
            } else {
                Slot::Ignored
            }),
        }
    }
}

/// Splits label text on commas and whitespace, lowercases (ASCII), keeps valid labels only,
/// without duplicates, at most [`SITE_LISTING_MAX_LABELS`].
pub(crate) fn parse_labels(text: &str) -> Vec<String> {
    let mut labels: Vec<String> = Vec::new();
    for part in text.split(|c: char| c == ',' || c.is_whitespace()) {
        let label = part.trim().to_ascii_lowercase();
        if is_valid_label(&label) && !labels.contains(&label) {
            labels.push(label);
            if labels.len() == SITE_LISTING_MAX_LABELS {
                break;
            }
        }
    }
    labels
}

/// `^[a-z0-9][a-z0-9_.:-]{0,99}$`.
fn is_valid_label(label: &str) -> bool {
    let bytes = label.as_bytes();
    let Some((first, rest)) = bytes.split_first() else {
        return false;
    };
    bytes.len() <= 100
        && (first.is_ascii_lowercase() || first.is_ascii_digit())
        && rest
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_.:-".contains(b))
}

/// The `max` of a label listing: 1..=100 as written (capped at [`SITE_LISTING_MAX`]), else
/// [`SITE_LISTING_DEFAULT_MAX`].
fn parse_max(value: Option<&str>) -> u32 {
    match value.map(|v| v.trim().parse::<u32>()) {
        Some(Ok(n)) if (1..=100).contains(&n) => n.min(SITE_LISTING_MAX),
        _ => SITE_LISTING_DEFAULT_MAX,
    }
}
