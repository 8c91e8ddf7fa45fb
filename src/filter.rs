//! The response filter: the security boundary between Confluence's answers and a customer.
//!
//! kbgate calls Confluence as a service account that sees every organization's articles, so
//! every upstream byte is presumed secret until shown visible. The filter works in two phases
//! over the same upstream bytes, with no JSON DOM:
//!
//! 1. **scan** ([`scan_search`], [`scan_content`], [`scan_list`]): one validating pass (`filter/json.rs`) over
//!    the whole body. It refuses invalid UTF-8, nesting deeper than 64, any JSON syntax error,
//!    duplicate keys in the objects it reads, and unexpected shapes. It extracts each item's
//!    [`ItemMeta`](crate::policy::ItemMeta) and the other content ids the item mentions, and
//!    records a render plan (`filter/plan.rs`): spans of the body to keep, literals to write,
//!    and groups of output that depend on one content id's visibility.
//! 2. **render** ([`render_search`], [`render_content`], [`render_list`]): executes the plan against the caller's
//!    predicate `visible(&ContentId)`, copying kept values as raw slices into one `Vec` sized
//!    from the input, and writes kbgate's own counts and links.
//!
//! Guarantees: the render is an allowlist — a member reaches the output only if this module
//! names it (see `filter/search.rs` and `filter/content.rs`); the predicate is asked about every
//! item and every ancestor, breadcrumb and parent container kept; the output is valid JSON; an
//! error never carries upstream text. The filter never decides visibility itself.
//!
//! Deliberately not done: rewriting storage bodies (links and macros naming hidden pages), deep
//! redaction of `children`/`descendants`/`history` (they are dropped whole), other routes.
//!
//! # Layout
//! - `json`: the validating scanner (tokens, spans, depth); `expect`: typed value readers;
//!   `keys`: duplicate-key detection.
//! - `plan`: render operations and their executor.
//! - `content`: the Content object (both routes); `labels`: `metadata.labels` and completeness.
//! - `search`: site search; `single`: content by id; `list`: content lists (`content/search`,
//!   the `content` listing, a page's children and descendants); `label_list`: a page's labels;
//!   `space_list`: spaces (the list and one space), reduced to their plain fields;
//!   `file_list`: a page's attachments and comments, kept only when they belong to it.
//! - `v2`: Confluence v2 lists and single pages/blog posts; `adf`: the Atlassian Document
//!   Format body rewriter (v2 `atlas_doc_format`).
//! - `jsm`: JSM knowledge-base article pages.
//! - `splice`: adds kbgate's composed members to kbgate's own rendered JSON.
//! - `urls`: what a search display URL points at.

pub mod adf;
mod content;
mod expect;
mod file_list;
mod jsm;
mod json;
mod keys;
mod label_list;
mod labels;
mod list;
mod memo;
mod plan;
mod search;
mod single;
mod space_list;
mod splice;
pub mod storage;
mod urls;
mod v2;

#[cfg(test)]
mod test_fixtures;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_duplicates;
#[cfg(test)]
mod tests_memo;
#[cfg(test)]
mod tests_prop;
#[cfg(test)]
mod tests_prop_orgs;
#[cfg(test)]
mod tests_refusals;

pub use file_list::{render_file_list, scan_file_list, FileKind, FileListScan};
pub use jsm::{
    render_jsm_articles, scan_jsm_articles, JsmArticle, JsmArticleOut, JsmPageOut, JsmPageScan,
};
pub use label_list::{render_label_list, scan_label_list, LabelListScan};
pub use list::{render_list, scan_list, ListScan};
pub use plan::{context_of, write_links_and_close};
pub use search::{render_search, render_search_with, scan_search, ResultScan, SearchScan};
pub use single::{render_content, scan_content, ContentScan};
pub use space_list::{
    render_space, render_space_list, scan_space, scan_space_list, RenderedSpaces, SpaceListScan,
    SpaceScan,
};
pub use splice::{append_members, append_to_member};
pub use v2::{
    render_v2_single, scan_v2_list, scan_v2_single, ItemShape, RenderContext, V2Item, V2ListScan,
    V2ListWriter, V2SingleScan,
};

/// The internal result: the error is boxed so a scanner result (a span, a token) fits in two
/// registers instead of going through memory on every call. Errors are rare; the box is free.
type Res<T> = Result<T, Box<FilterError>>;

/// Why the filter refused an upstream answer. No variant carries upstream text.
#[derive(Debug, thiserror::Error)]
pub enum FilterError {
    /// The body is not UTF-8.
    #[error("upstream body is not valid UTF-8")]
    Utf8(#[source] std::str::Utf8Error),
    /// Objects and arrays nest deeper than 64 levels.
    #[error("upstream JSON nests deeper than 64 levels")]
    TooDeep,
    /// The body is not valid JSON.
    #[error("upstream body is not valid JSON")]
    Syntax(#[source] SyntaxError),
    /// An object the filter reads has the same key twice (the argument names the object).
    #[error("duplicate key in an upstream {0} object")]
    DuplicateKey(&'static str),
    /// Valid JSON, but not the shape kbgate expects (the argument says what was wrong).
    #[error("unexpected upstream shape: {0}")]
    Shape(&'static str),
    /// The answer holds a body rendered by Confluence (`view`, `export_view`, …), which may
    /// show other organizations' content through macros.
    #[error("upstream answer holds a rendered body")]
    RenderedBody,
    /// [`render_content`] was asked to render an item the predicate does not show. The proxy
    /// should answer as for a missing item.
    #[error("the item is not visible to the caller")]
    Hidden,
}

/// Where and how the JSON was malformed (a byte offset, never content).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{kind} at byte {offset}")]
pub struct SyntaxError {
    /// What was wrong.
    pub kind: SyntaxKind,
    /// Byte offset in the body.
    pub offset: usize,
}

/// The kinds of JSON syntax error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyntaxKind {
    /// The body ended inside a value.
    UnexpectedEnd,
    /// A byte that cannot start a value here.
    UnexpectedByte,
    /// A key was expected.
    ExpectedString,
    /// `:` was expected after a key.
    ExpectedColon,
    /// `,` or the end of the container was expected.
    ExpectedCommaOrEnd,
    /// An invalid escape in a string.
    BadEscape,
    /// A `\u` escape of half a surrogate pair.
    LoneSurrogate,
    /// A raw control character in a string.
    ControlInString,
    /// A malformed number.
    BadNumber,
    /// A malformed `true`, `false` or `null`.
    BadLiteral,
    /// Something follows the top-level value.
    TrailingData,
}

impl std::fmt::Display for SyntaxKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SyntaxKind::UnexpectedEnd => "unexpected end of input",
            SyntaxKind::UnexpectedByte => "unexpected byte",
            SyntaxKind::ExpectedString => "expected a key",
            SyntaxKind::ExpectedColon => "expected ':'",
            SyntaxKind::ExpectedCommaOrEnd => "expected ',' or the end of the container",
            SyntaxKind::BadEscape => "invalid escape",
            SyntaxKind::LoneSurrogate => "unpaired surrogate escape",
            SyntaxKind::ControlInString => "control character in a string",
            SyntaxKind::BadNumber => "invalid number",
            SyntaxKind::BadLiteral => "invalid literal",
            SyntaxKind::TrailingData => "data after the JSON value",
        })
    }
}

/// A rendered answer and what the filter removed.
#[derive(Debug)]
pub struct Rendered {
    /// The filtered JSON.
    pub body: Vec<u8>,
    /// Results kept.
    pub kept: usize,
    /// Results removed (hidden, or not a page or blog post).
    pub removed: usize,
}

/// kbgate's links for a filtered search or content-list answer.
#[derive(Clone, Copy, Debug)]
pub struct SearchLinks<'a> {
    /// kbgate's public base including `/wiki`, e.g. `https://kb.example.com/wiki`.
    pub base: &'a str,
    /// This page of results, as kbgate serves it.
    pub self_link: &'a str,
    /// The next page as kbgate serves it; `None` when there is no next page.
    pub next_link: Option<&'a str>,
}

/// kbgate's links for a filtered content answer.
#[derive(Clone, Copy, Debug)]
pub struct ContentLinks<'a> {
    /// kbgate's public base including `/wiki`.
    pub base: &'a str,
    /// This item, as kbgate serves it.
    pub self_link: &'a str,
}
