//! Storage-format body rewriting: removes what a shared page's body says about hidden content.
//!
//! Confluence returns a page body in *storage format* (Confluence XHTML). A shared page's body
//! can name another organization's page by title (`<ri:page ri:content-title="…"/>` inside an
//! `ac:link`), show an attachment of it, include it (`include`, `excerpt-include`) or list pages
//! (`children`, `contentbylabel`, …). This module finds those references ([`scan_storage`], so
//! the caller can look them all up in one batch) and rewrites the body against the caller's
//! visibility predicate: [`rewrite_storage`] for the API, [`rewrite_storage_for_site`] for
//! kbgate's own KB site.
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
//! - [`scan_storage`] returns exactly the references [`rewrite_storage`] and
//!   [`rewrite_storage_for_site`] ask the predicate about, whatever the predicate answers;
//! - one linear pass (quick-xml's streaming reader, no DOM, no regular expressions); input over
//!   [`MAX_BODY_BYTES`] or nesting deeper than [`MAX_DEPTH`] is refused; any syntax error or
//!   unbalanced tag is an error, never a partially rewritten body. Errors carry no body text.
//!
//! # Site mode
//! [`rewrite_storage_for_site`] applies the same rules, with one exception: an *outermost*
//! `children`, `contentbylabel` or `content-by-label` macro (structured or old `ac:macro`)
//! whose parameters are safe is replaced by a stub kbgate writes itself,
//! `<ac:structured-macro ac:name="kbgate-listing"><ac:parameter ac:name="index">N</ac:parameter></ac:structured-macro>`,
//! where `N` indexes [`SiteRewritten::listings`]: what the caller must list there, evaluated
//! against the caller's own visibility (the portal renderer renders the stub from that list).
//! Nothing of the macro's insides is copied. The macro is removed instead (as in the API) when:
//! - `children` has a parameter other than `all`, `depth`, `sort`, `reverse`, `style`,
//!   `first`, `excerptType` (e.g. `page`: it would list another page's children);
//! - `contentbylabel` has a `cql` parameter that is not one of the simple label forms the
//!   macro editor writes (`label_cql`: `label = "a"`, `label in (…)`, joined by `or`, with an
//!   optional `and space = currentSpace()`), a `spaces`/`space` parameter other than empty,
//!   `@self` or `currentSpace()`, or no valid label (`labels`/`label`, split on commas and
//!   whitespace, ASCII-lowercased, each matching `^[a-z0-9][a-z0-9_.:-]{0,99}$`; at most
//!   [`SITE_LISTING_MAX_LABELS`]); its `max` (or `maxResults`) is used if it is 1..=100, capped
//!   at [`SITE_LISTING_MAX`], else [`SITE_LISTING_DEFAULT_MAX`];
//! - it contains any element other than its direct `ac:parameter`s (a `ri:page`, a body, a
//!   nested macro), a parameter the reader cannot decode, or more than
//!   [`SITE_LISTING_PARAM_BYTES`] of kept parameter text;
//! - the body already has [`MAX_SITE_LISTINGS`] stubs.
//!
//! Listing macros nested inside a listing macro are never stubbed (the outer one decides).
//! A stub inside an element removed later (e.g. a panel naming a hidden page) goes with it,
//! and so does its entry in `listings`: stub indexes are always `0..listings.len()`, in
//! document order, one stub each. A stubbed macro is not counted as removed.
//!
//! Deliberately not done: evaluating listings (the caller does, with the caller's own
//! visibility), deciding visibility (the caller's predicate does), plain HTML `<a href>` links
//! whose URL names another page, titles written as plain text in the parameters of macros
//! outside the listing set, and HTML named entities (`&eacute;`) inside attribute values, which
//! are kept literally (so such a title matches no real title, and the caller should treat an
//! unknown title as hidden). A `kbgate-listing` macro already present in the input is copied
//! like any other macro (the renderer can only fill it with the caller's own lists).
//!
//! # Layout
//! - `names`: which elements and macros matter, the references an element names, and the
//!   site-mode reading of listing macro parameters.
//! - `walk`: the single pass shared by scanning and both rewriting modes.

mod label_cql;
mod names;
mod walk;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_errors;
#[cfg(test)]
mod tests_prop;
#[cfg(test)]
mod tests_site;
#[cfg(test)]
mod tests_site_prop;

use std::collections::HashSet;

pub use names::LISTING_MACROS;

/// Largest body accepted, in bytes (8 MiB).
pub const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

/// Deepest element nesting accepted.
pub const MAX_DEPTH: usize = 256;

/// Most listing stubs one body gets in site mode; listing macros past it are removed.
pub const MAX_SITE_LISTINGS: usize = 32;

/// Most labels one site label listing keeps (the first valid ones).
pub const SITE_LISTING_MAX_LABELS: usize = 10;

/// Most parameter text (raw bytes, over all kept parameters) read from one listing macro in
/// site mode; a macro with more is removed.
pub const SITE_LISTING_PARAM_BYTES: usize = 2 * 1024;

/// A label listing's `max` when the body gives none (or an unusable one).
pub const SITE_LISTING_DEFAULT_MAX: u32 = 10;

/// The largest `max` a label listing gets.
pub const SITE_LISTING_MAX: u32 = 50;

/// The name of the stub macro the site mode writes.
pub const SITE_STUB_MACRO: &str = "kbgate-listing";

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

/// A listing macro the site evaluates for the caller, in document order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SiteListing {
    /// `children`: the page's visible children.
    Children,
    /// `contentbylabel` / `content-by-label`: visible pages with any of these labels.
    ByLabel {
        /// Valid, ASCII-lowercase, distinct labels; 1..=[`SITE_LISTING_MAX_LABELS`] of them.
        labels: Vec<String>,
        /// How many pages to list at most: 1..=[`SITE_LISTING_MAX`].
        max: u32,
    },
}

/// A body rewritten for kbgate's KB site.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SiteRewritten {
    /// The body with references to hidden content removed and listing stubs in place.
    pub body: String,
    /// What stub `N` lists, at index `N`; as many entries as stubs in `body`.
    pub listings: Vec<SiteListing>,
    /// As [`Rewritten::removed_links`].
    pub removed_links: usize,
    /// As [`Rewritten::removed_macros`]; stubbed macros are not counted.
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
    walk::walk(xhtml, &mut record, None, None)?;
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
    let removed = walk::walk(xhtml, &mut ask, Some(&mut body), None)?;
    Ok(Rewritten {
        body,
        removed_links: removed.links,
        removed_macros: removed.macros,
    })
}

/// Rewrites a storage-format body for kbgate's KB site: as [`rewrite_storage`], except that
/// outermost `children` / `contentbylabel` macros with safe parameters become stubs the
/// caller fills from [`SiteRewritten::listings`] (rules in the module documentation).
///
/// `visible` is asked about exactly what [`rewrite_storage`] asks about (so [`scan_storage`]
/// still lists it), and the call fails exactly when [`rewrite_storage`] fails.
pub fn rewrite_storage_for_site(
    xhtml: &str,
    visible: &dyn Fn(&ContentRef) -> bool,
) -> Result<SiteRewritten, StorageError> {
    let mut body = String::with_capacity(xhtml.len());
    let mut listings = Vec::new();
    let mut ask = |r: &ContentRef| visible(r);
    let removed = walk::walk(xhtml, &mut ask, Some(&mut body), Some(&mut listings))?;
    Ok(SiteRewritten {
        body,
        listings,
        removed_links: removed.links,
        removed_macros: removed.macros,
    })
}
