//! Storage-format body rewriting: removes what a shared page's body says about hidden content.
//!
//! Confluence returns a page body in *storage format* (Confluence XHTML). A shared page's body
//! can name another organization's page by title (`<ri:page ri:content-title="…"/>` inside an
//! `ac:link`), show an attachment of it, include it (`include`, `excerpt-include`) or list pages
//! (`children`, `contentbylabel`, …). This module finds those references ([`scan_storage`], so
//! the caller can look them all up in one batch) and rewrites the body against the caller's
//! visibility predicate ([`rewrite_storage`]).
//!
//! Guarantees (fail closed):
//! - an `ac:link`, `ac:image` or macro that refers to hidden content is removed whole, with its
//!   link body (which often repeats the hidden title); a bare reference outside any of them is
//!   removed itself;
//! - macros that list, include or render other content server-side (see [`LISTING_MACROS`]) are
//!   removed whatever they name; their insides are not even looked up;
//! - references the module cannot resolve (a `ri:page` with no title or id, an unknown `ri:`
//!   element) count as hidden;
//! - everything else is copied byte for byte (text, entities such as `&nbsp;`, CDATA,
//!   comments, whitespace), except processing instructions, XML declarations and `<!DOCTYPE`,
//!   which are dropped;
//! - [`scan_storage`] returns exactly the references [`rewrite_storage`] asks the predicate
//!   about, whatever the predicate answers;
//! - one linear pass (quick-xml's streaming reader, no DOM, no regular expressions); input over
//!   [`MAX_BODY_BYTES`] or nesting deeper than [`MAX_DEPTH`] is refused; any syntax error or
//!   unbalanced tag is an error, never a partially rewritten body. Errors carry no body text.
//!
//! Deliberately not done: evaluating listing macros for the caller (a later issue), deciding
//! visibility (the caller's predicate does), plain HTML `<a href>` links whose URL names another
//! page, titles written as plain text in the parameters of macros outside the listing set, and
//! HTML named entities (`&eacute;`) inside attribute values, which are kept literally (so such a
//! title matches no real title, and the caller should treat an unknown title as hidden).
//!
//! # Layout
//! - `names`: which elements and macros matter, and the references an element names.
//! - `walk`: the single pass shared by scanning and rewriting.

mod names;
mod walk;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_errors;
#[cfg(test)]
mod tests_prop;

use std::collections::HashSet;

pub use names::LISTING_MACROS;

/// Largest body accepted, in bytes (8 MiB).
pub const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

/// Deepest element nesting accepted.
pub const MAX_DEPTH: usize = 256;

/// A reference from a body to another content item.
///
/// Strings are attribute values with XML entities and character references decoded, as they
/// are compared with Confluence titles, space keys and ids.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ContentRef {
    /// `<ri:page ri:content-title="…" ri:space-key="…"/>`; no space key means the body's own
    /// space.
    Page {
        /// The page title.
        title: String,
        /// The space key, if the body names one.
        space_key: Option<String>,
    },
    /// `<ri:blog-post ri:content-title="…" ri:posting-day="…" ri:space-key="…"/>`.
    BlogPost {
        /// The blog post title.
        title: String,
        /// The space key, if the body names one.
        space_key: Option<String>,
        /// The posting day (`YYYY/MM/DD` as Confluence writes it), if the body names one.
        posting_day: Option<String>,
    },
    /// A content id: `<ri:content-entity ri:content-id="…"/>`, or `ri:content-id` on a
    /// `ri:page` / `ri:blog-post`.
    Id(String),
}

/// The references a body makes, as [`scan_storage`] finds them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StorageRefs {
    /// Deduplicated, in order of first appearance.
    pub refs: Vec<ContentRef>,
}

/// A rewritten body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rewritten {
    /// The body with references to hidden content removed.
    pub body: String,
    /// How many `ac:link` / `ac:image` elements (or bare references) were removed. Elements
    /// inside a removed macro or link are not counted again.
    pub removed_links: usize,
    /// How many macros were removed (listing macros, and macros naming hidden content).
    pub removed_macros: usize,
}

/// Why a body was refused. No variant carries body text: the proxy answers 502 and logs the
/// variant only. (quick-xml's own errors are not kept as a source because they quote tag
/// names and entity names from the body.)
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StorageError {
    /// The body is not parseable as storage format (bad markup, bad attribute, bad character
    /// reference in an attribute read by the rewriter).
    #[error("storage body has a syntax error")]
    Syntax,
    /// Elements nest deeper than [`MAX_DEPTH`].
    #[error("storage body nests deeper than {MAX_DEPTH} elements")]
    TooDeep,
    /// The body is larger than [`MAX_BODY_BYTES`].
    #[error("storage body is larger than {MAX_BODY_BYTES} bytes")]
    TooLarge,
    /// An end tag without its start tag, a mismatched end tag, or an element left open.
    #[error("storage body has unbalanced tags")]
    Unbalanced,
}

/// Lists the references to other content that [`rewrite_storage`] would ask its predicate
/// about, deduplicated, in order of first appearance.
///
/// References inside listing macros are not listed: those macros are removed whatever they
/// name. Fails exactly when [`rewrite_storage`] fails.
pub fn scan_storage(xhtml: &str) -> Result<StorageRefs, StorageError> {
    let mut seen: HashSet<ContentRef> = HashSet::new();
    let mut refs = Vec::new();
    let mut record = |r: &ContentRef| {
        if !seen.contains(r) {
            seen.insert(r.clone());
            refs.push(r.clone());
        }
        true
    };
    walk::walk(xhtml, &mut record, None)?;
    Ok(StorageRefs { refs })
}

/// Rewrites a storage-format body so that it names no content `visible` rejects.
///
/// `visible` is asked about every reference [`scan_storage`] lists (possibly more than once
/// for a repeated reference). The removal rules are in the module documentation and
/// `storage/walk.rs`.
pub fn rewrite_storage(
    xhtml: &str,
    visible: &dyn Fn(&ContentRef) -> bool,
) -> Result<Rewritten, StorageError> {
    let mut body = String::with_capacity(xhtml.len());
    let mut ask = |r: &ContentRef| visible(r);
    let removed = walk::walk(xhtml, &mut ask, Some(&mut body))?;
    Ok(Rewritten {
        body,
        removed_links: removed.links,
        removed_macros: removed.macros,
    })
}
