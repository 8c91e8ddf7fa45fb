//! Storage-format body → sanitized HTML, built by kbgate.
//!
//! One streaming pass over the body with quick-xml (no DOM). Each input element is mapped to
//! kbgate's own output: an allowlisted HTML element written fresh (only `colspan`/`rowspan`
//! kept, as validated numbers), a Confluence structure (`ac:link`, `ac:image`, a few macros)
//! rendered through the caller's callbacks, *unwrapped* (its text kept, the tag dropped), or
//! *suppressed* (nothing inside it is written). Text, CDATA and entities are decoded and
//! escaped again; comments, processing instructions and doctypes are dropped.
//!
//! Guarantees:
//! - `href` comes only from [`RenderContext`] callbacks or an absolute `http:`/`https:`/
//!   `mailto:` URL (checked after entity decoding); `src` only from `attachment_url`; classes
//!   only from kbgate's fixed names; no event handlers, `style`, `script` or `data:` URLs;
//! - a link whose target the callback refuses renders its body without an anchor, and nothing
//!   of the target (an empty body stays empty: a hidden title is never shown);
//! - listing and include macros (`contentbylabel`, `pagetree`, `include`, …) and every macro
//!   kbgate does not know render nothing; `children` lists only `RenderContext::children`;
//! - a listing stub (`kbgate-listing`, written by the storage rewriter's site mode,
//!   `crate::filter::storage::rewrite_storage_for_site`) with an `index` parameter `N`
//!   lists only `RenderContext::listings[N]`, the caller's own visible articles for that
//!   stub; a missing, malformed or out-of-range index, or an empty list, renders nothing, and
//!   nothing else inside the stub is ever shown. A stub written by a body's author can
//!   therefore only show lists the caller already sees;
//! - bounded: input over [`MAX_INPUT_BYTES`], nesting deeper than [`MAX_DEPTH`] or output
//!   over [`MAX_OUTPUT_BYTES`] is an error; the pass is linear. Errors carry no body text.
//!
//! Site mode, end to end: the site handler rewrites the body with
//! `rewrite_storage_for_site` (which replaces safe `children` / `contentbylabel` macros by
//! stubs and returns one `SiteListing` per stub), evaluates each listing against the
//! caller's visibility into a (title, url) list, and passes the lists as
//! [`RenderContext::listings`], index for index.
//!
//! Deliberately not done: evaluating listings (the caller does; `contentbylabel` in a body
//! that was not rewritten for the site renders nothing), rendering external images (`ri:url`
//! in `ac:image`), emoticons, user mentions (rendered as nothing), task lists beyond a plain
//! list, and layout beyond plain `div`s.

use quick_xml::errors::{Error as XmlError, IllFormedError};
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

mod elements;

use super::{decode_entities, escape_into, safe_href};
use crate::ids::{ContentId, SpaceKey};

/// Largest body accepted, in bytes (4 MiB).
pub const MAX_INPUT_BYTES: usize = 4 * 1024 * 1024;
/// Deepest element nesting accepted.
pub const MAX_DEPTH: usize = 64;
/// Largest HTML produced, in bytes (escaping and the `children` list make output larger than
/// input; beyond this the body is refused rather than rendered partially).
pub const MAX_OUTPUT_BYTES: usize = 32 * 1024 * 1024;
/// Longest macro parameter value kept (`title`, `language`).
const MAX_PARAM_BYTES: usize = 512;

/// What the renderer asks the caller about. The callbacks decide visibility; the renderer
/// never shows anything about a target a callback answers `None` for.
pub struct RenderContext<'a> {
    /// kbgate's URL of a visible article, or None when the caller may not see it / unknown.
    pub article_url: &'a dyn Fn(&LinkTarget) -> Option<String>,
    /// kbgate's URL of an attachment of a visible page (this page's, or another visible
    /// page's).
    pub attachment_url: &'a dyn Fn(&AttachmentRef) -> Option<String>,
    /// The visible children of this page, for the `children` macro (title, url), in order.
    pub children: &'a [(String, String)],
    /// For each listing stub index `N` (see the module documentation), the caller's visible
    /// articles (title, url) the stub lists, in order. Empty when the body has no stubs.
    pub listings: &'a [Vec<(String, String)>],
}

/// The page (or blog post) a link or attachment names.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum LinkTarget {
    /// `ri:content-id` on `ri:page`, `ri:blog-post` or `ri:content-entity`.
    ById(ContentId),
    /// `ri:content-title` (with `ri:space-key` if given; `None` means the body's own space).
    /// Blog posts are named this way too (their posting day is not passed on).
    ByTitle {
        /// The space key, if the body names one.
        space: Option<SpaceKey>,
        /// The title, entity-decoded.
        title: String,
    },
}

/// An attachment a body shows or links to.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct AttachmentRef {
    /// `ri:filename`, entity-decoded.
    pub file_name: String,
    /// The page it is attached to; `None` means the page being rendered.
    pub page: Option<LinkTarget>,
}

/// Why a body could not be rendered. No variant carries body text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    /// The body is larger than [`MAX_INPUT_BYTES`].
    #[error("storage body is larger than {MAX_INPUT_BYTES} bytes")]
    TooLarge,
    /// Elements nest deeper than [`MAX_DEPTH`].
    #[error("storage body nests deeper than {MAX_DEPTH} elements")]
    TooDeep,
    /// The rendered HTML would exceed [`MAX_OUTPUT_BYTES`].
    #[error("rendered body is larger than {MAX_OUTPUT_BYTES} bytes")]
    OutputTooLarge,
    /// The body is not well-formed XML (or not UTF-8 where it must be).
    #[error("storage body has a syntax error")]
    Syntax,
    /// An end tag without its start tag, a mismatched end tag, or an element left open.
    #[error("storage body has unbalanced tags")]
    Unbalanced,
}

/// Renders a storage-format body as sanitized HTML for the caller described by `ctx`.
///
/// The rules are in the module documentation. Fails (never partially) on malformed or
/// oversized input.
pub fn render_storage(xhtml: &str, ctx: &RenderContext<'_>) -> Result<String, RenderError> {
    if xhtml.len() > MAX_INPUT_BYTES {
        return Err(RenderError::TooLarge);
    }
    let xhtml = xhtml.strip_prefix('\u{FEFF}').unwrap_or(xhtml);
    let mut reader = Reader::from_str(xhtml);
    let config = reader.config_mut();
    config.allow_dangling_amp = true;
    config.allow_unmatched_ends = false;
    config.check_end_names = true;
    config.expand_empty_elements = false;
    config.trim_text(false);

    let mut r = Renderer {
        ctx,
        out: String::with_capacity(xhtml.len()),
        stack: Vec::new(),
        suppress: 0,
        anchor: None,
        in_attachment: false,
        capture: None,
    };
    let mut pos = 0usize;
    loop {
        let event = reader.read_event().map_err(xml_error)?;
        let end = usize::try_from(reader.buffer_position()).map_err(|_| RenderError::Syntax)?;
        let raw = xhtml.get(pos..end).ok_or(RenderError::Syntax)?;
        pos = end;
        match event {
            Event::Start(e) => {
                if r.stack.len() >= MAX_DEPTH {
                    return Err(RenderError::TooDeep);
                }
                r.start(&e, false)?;
            }
            Event::Empty(e) => r.start(&e, true)?,
            Event::End(_) => r.end()?,
            Event::Text(_) => r.text(raw),
            Event::GeneralRef(_) => r.text(&decode_entities(raw)),
            Event::CData(_) => {
                let inner = raw
                    .strip_prefix("<![CDATA[")
                    .and_then(|s| s.strip_suffix("]]>"))
                    .ok_or(RenderError::Syntax)?;
                r.text(inner);
            }
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
            Event::Eof => break,
        }
        if r.out.len() > MAX_OUTPUT_BYTES {
            return Err(RenderError::OutputTooLarge);
        }
    }
    if !r.stack.is_empty() {
        return Err(RenderError::Unbalanced);
    }
    if pos != xhtml.len() {
        return Err(RenderError::Syntax);
    }
    Ok(r.out)
}

/// Maps a reader error to a body-free [`RenderError`] (quick-xml's errors quote the body).
fn xml_error(e: XmlError) -> RenderError {
    match e {
        XmlError::IllFormed(
            IllFormedError::MismatchedEndTag { .. }
            | IllFormedError::UnmatchedEndTag(_)
            | IllFormedError::MissingEndTag(_),
        ) => RenderError::Unbalanced,
        _ => RenderError::Syntax,
    }
}

/// What an `ac:link` or `ac:image` points at, as far as its `ri:` children said.
#[derive(Debug)]
enum Target {
    /// No `ri:` child (yet), or one that names nothing (`ri:user`, `ri:space`).
    Unset,
    /// A target kbgate cannot name (bad id, missing title or file name): treated as hidden.
    Unresolvable,
    Page(LinkTarget),
    Attachment(AttachmentRef),
    Url(String),
}

/// The macros kbgate renders (everything else renders as nothing).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum MacroKind {
    Code,
    NoFormat,
    /// A panel, with its fixed class.
    Panel(&'static str),
    Expand,
    /// A `kbgate-listing` stub: renders `RenderContext::listings[index]` at its end tag.
    Listing,
}

/// A rendered macro's parameters, as far as kbgate uses them.
#[derive(Debug, Default)]
struct Params {
    language: String,
    title: String,
    /// A listing stub's `index`.
    index: String,
}

/// Which parameter an `ac:parameter` is collecting text for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ParamName {
    Language,
    Title,
    Index,
}

/// What to do at an element's end tag.
#[derive(Debug)]
enum Close {
    /// Unwrapped or void element: nothing.
    Nothing,
    /// Write `</tag>`.
    Tag(&'static str),
    /// `ac:link`: wrap what its body wrote since `mark` in an anchor, or not.
    Link {
        mark: usize,
        target: Target,
        prev_anchor: Option<usize>,
    },
    /// `ac:image`: write an `img` if the attachment is visible.
    Image {
        alt: String,
        target: Target,
        prev_anchor: Option<usize>,
    },
    /// A rendered macro, collecting parameters until a body starts.
    Macro { kind: MacroKind, params: Params },
    /// A rendered macro's body: write this closing HTML.
    Body(&'static str),
    /// `ac:parameter`: stop collecting.
    Param,
    /// `ri:attachment` inside a link or image.
    RiAttachment,
}

/// One open element.
#[derive(Debug)]
struct Frame {
    close: Close,
    /// Nothing inside this element is written.
    suppresses: bool,
}

impl Frame {
    /// A frame whose insides are rendered.
    fn keep(close: Close) -> Self {
        Frame {
            close,
            suppresses: false,
        }
    }

    /// A frame whose insides are not written at all.
    fn suppressed(close: Close) -> Self {
        Frame {
            close,
            suppresses: true,
        }
    }
}

/// The state of one rendering pass.
struct Renderer<'c, 'a> {
    ctx: &'c RenderContext<'a>,
    out: String,
    stack: Vec<Frame>,
    /// How many open frames suppress output.
    suppress: usize,
    /// Stack index of the innermost open `ac:link` / `ac:image`.
    anchor: Option<usize>,
    /// Inside a `ri:attachment` of the innermost anchor (its `ri:page` names the page).
    in_attachment: bool,
    /// Stack index of the macro and the parameter whose text is being collected.
    capture: Option<(usize, ParamName)>,
}

impl Renderer<'_, '_> {
    fn start(&mut self, e: &BytesStart<'_>, empty: bool) -> Result<(), RenderError> {
        let frame = if self.suppress > 0 {
            // Inside a suppressed element only balance matters.
            Frame::keep(Close::Nothing)
        } else {
            self.frame_for(e)?
        };
        if frame.suppresses {
            self.suppress += 1;
        }
        self.stack.push(frame);
        if empty {
            self.end()?;
        }
        Ok(())
    }

    fn end(&mut self) -> Result<(), RenderError> {
        let frame = self.stack.pop().ok_or(RenderError::Unbalanced)?;
        if frame.suppresses {
            self.suppress = self.suppress.saturating_sub(1);
        }
        match frame.close {
            Close::Macro {
                kind: MacroKind::Listing,
                params,
            } => self.write_listing(&params.index),
            Close::Nothing | Close::Macro { .. } => {}
            Close::Tag(tag) => {
                self.out.push_str("</");
                self.out.push_str(tag);
                self.out.push('>');
            }
            Close::Body(html) => self.out.push_str(html),
            Close::Param => self.capture = None,
            Close::RiAttachment => self.in_attachment = false,
            Close::Link {
                mark,
                target,
                prev_anchor,
            } => {
                self.anchor = prev_anchor;
                self.in_attachment = false;
                self.finish_link(mark, target);
            }
            Close::Image {
                alt,
                target,
                prev_anchor,
            } => {
                self.anchor = prev_anchor;
                self.in_attachment = false;
                if let Target::Attachment(a) = target {
                    if let Some(src) = (self.ctx.attachment_url)(&a) {
                        self.out.push_str("<img src=\"");
                        escape_into(&mut self.out, &src);
                        self.out.push_str("\" alt=\"");
                        escape_into(&mut self.out, &alt);
                        self.out.push_str("\">");
                    }
                }
            }
        }
        Ok(())
    }

    fn text(&mut self, text: &str) {
        if let Some((index, name)) = self.capture {
            if let Some(Frame {
                close: Close::Macro { params, .. },
                ..
            }) = self.stack.get_mut(index)
            {
                let value = match name {
                    ParamName::Language => &mut params.language,
                    ParamName::Title => &mut params.title,
                    ParamName::Index => &mut params.index,
                };
                if value.len() + text.len() <= MAX_PARAM_BYTES {
                    value.push_str(text);
                }
            }
        }
        if self.suppress > 0 {
            return;
        }
        // Whitespace between a macro's parameters or inside an image is not content.
        if matches!(
            self.stack.last(),
            Some(Frame {
                close: Close::Macro { .. } | Close::Image { .. } | Close::RiAttachment,
                ..
            })
        ) {
            return;
        }
        escape_into(&mut self.out, text);
    }

    /// Wraps a link body in an anchor if its target is visible; otherwise leaves the body as
    /// text. An empty body becomes the target's name only when the target is visible.
    fn finish_link(&mut self, mark: usize, target: Target) {
        let (href, fallback) = match &target {
            Target::Page(t) => {
                let href = (self.ctx.article_url)(t);
                let name = match t {
                    LinkTarget::ByTitle { title, .. } => Some(title.clone()),
                    LinkTarget::ById(_) => None,
                };
                (href, name)
            }
            Target::Attachment(a) => ((self.ctx.attachment_url)(a), Some(a.file_name.clone())),
            Target::Url(u) => (safe_href(u).map(str::to_owned), Some(u.clone())),
            Target::Unset | Target::Unresolvable => (None, None),
        };
        let body_empty = self.out.get(mark..).is_none_or(|b| b.trim().is_empty());
        let Some(href) = href else {
            if body_empty {
                self.out.truncate(mark);
            }
            return;
        };
        if body_empty {
            self.out.truncate(mark);
            escape_into(&mut self.out, fallback.as_deref().unwrap_or(&href));
        }
        let mut open = String::from("<a href=\"");
        escape_into(&mut open, &href);
        open.push_str("\">");
        self.out.insert_str(mark, &open);
        self.out.push_str("</a>");
    }
}
