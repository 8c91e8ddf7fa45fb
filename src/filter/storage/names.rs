//! Which storage-format elements matter to the rewriter, and what content an element names.
//!
//! Guarantees: an element is classified from its name and attributes alone (no look-ahead);
//! attribute values are decoded (XML entities, character references, attribute-value
//! whitespace normalization) before use; duplicate or malformed attributes on an element the
//! rewriter reads are a syntax error. A reference element the rewriter cannot resolve is
//! [`Element::Unresolvable`], which the walker treats as hidden.
//!
//! Deliberately not done: HTML named entities (`&eacute;`) in attribute values are kept
//! literally, since XML does not define them; other elements' attributes are not read.

use quick_xml::events::BytesStart;

// `super` is the storage module itself wherever it is mounted, so this path survives a move.
use super::{ContentRef, StorageError};

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
    Macro { listing: bool },
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
                Some(n) => is_listing(&n),
                None => false,
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

/// Whether a macro name is in [`LISTING_MACROS`].
pub(crate) fn is_listing(name: &str) -> bool {
    let name = name.trim_matches(|c: char| c.is_ascii_whitespace());
    LISTING_MACROS.iter().any(|l| l.eq_ignore_ascii_case(name))
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
