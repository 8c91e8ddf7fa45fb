//! How the renderer maps one start tag to kbgate's output: allowlisted HTML, Confluence
//! structures (`ac:link`, `ac:image`, `ri:` references, macros), unwrapped or suppressed.
//!
//! Guarantees: every tag written here is a fixed string; the only attribute values written
//! are validated numbers (`colspan`, `rowspan`), escaped URLs that passed `safe_href` or came
//! from the caller (`children`, listing stubs) and kbgate's own class names. Element names
//! are compared ASCII case-insensitively, so `<SCRIPT>` is `<script>`. A `kbgate-listing`
//! stub (site mode of the storage rewriter) reads only its `index` parameter and renders the
//! caller's list for it, as the `children` macro renders the caller's children.
//! Deliberately not done: any attribute not named above.

use quick_xml::events::BytesStart;

use super::{
    AttachmentRef, Close, ContentId, Frame, LinkTarget, MacroKind, ParamName, Params, RenderError,
    Renderer, SpaceKey, Target, MAX_PARAM_BYTES,
};
use crate::filter::storage::SITE_STUB_MACRO;
use crate::portal::{decode_entities, escape_into, language_class, safe_href};

/// Elements whose contents are never shown (code, styles, embedded documents, forms, media).
const SUPPRESSED_HTML: &[&str] = &[
    "script",
    "style",
    "svg",
    "math",
    "iframe",
    "frame",
    "frameset",
    "object",
    "embed",
    "applet",
    "template",
    "noscript",
    "noembed",
    "noframes",
    "textarea",
    "select",
    "option",
    "button",
    "input",
    "form",
    "title",
    "head",
    "meta",
    "link",
    "base",
    "img",
    "video",
    "audio",
    "source",
    "track",
    "canvas",
    "xmp",
    "plaintext",
    "portal",
    "slot",
    "picture",
    "map",
    "area",
];

/// Allowlisted HTML elements written as themselves (or a plain synonym).
fn plain_tag(name: &str) -> Option<&'static str> {
    Some(match name {
        "p" => "p",
        "h1" => "h1",
        "h2" => "h2",
        "h3" => "h3",
        "h4" => "h4",
        "h5" => "h5",
        "h6" => "h6",
        "ul" => "ul",
        "ol" => "ol",
        "li" => "li",
        "table" => "table",
        "thead" => "thead",
        "tbody" | "tfoot" => "tbody",
        "tr" => "tr",
        "strong" | "b" => "strong",
        "em" | "i" => "em",
        "u" | "ins" => "u",
        "s" | "del" | "strike" => "s",
        "sub" => "sub",
        "sup" => "sup",
        "code" | "tt" | "kbd" | "samp" => "code",
        "pre" => "pre",
        "blockquote" => "blockquote",
        "div" | "ac:layout" | "ac:layout-section" | "ac:layout-cell" => "div",
        "span" => "span",
        "details" => "details",
        "summary" => "summary",
        _ => return None,
    })
}

impl Renderer<'_, '_> {
    /// The frame for a start (or empty-element) tag outside any suppressed element; writes
    /// the element's opening HTML, if any.
    pub(super) fn frame_for(&mut self, e: &BytesStart<'_>) -> Result<Frame, RenderError> {
        let qname = e.name();
        if qname.as_ref().len() > 64 {
            return Ok(Frame::keep(Close::Nothing));
        }
        let name = String::from_utf8_lossy(qname.as_ref()).to_ascii_lowercase();
        if let Some(Frame {
            close: Close::Macro { kind, params },
            ..
        }) = self.stack.last()
        {
            let kind = *kind;
            let title = params.title.trim().to_owned();
            return self.macro_child(&name, kind, e, title);
        }
        if let Some(tag) = plain_tag(&name) {
            self.open(tag);
            return Ok(Frame::keep(Close::Tag(tag)));
        }
        Ok(match name.as_str() {
            "br" | "hr" => {
                self.out
                    .push_str(if name == "br" { "<br>" } else { "<hr>" });
                Frame::keep(Close::Nothing)
            }
            // Inside an `ac:link` the anchor is kbgate's; a nested one would split it.
            "a" if self.anchor.is_some() => Frame::keep(Close::Nothing),
            "a" => match attr(e, b"href")?.as_deref().and_then(safe_href) {
                Some(href) => {
                    self.out.push_str("<a href=\"");
                    escape_into(&mut self.out, href);
                    self.out.push_str("\">");
                    Frame::keep(Close::Tag("a"))
                }
                None => Frame::keep(Close::Nothing),
            },
            "th" | "td" => {
                let tag = if name == "th" { "th" } else { "td" };
                self.out.push('<');
                self.out.push_str(tag);
                for key in ["colspan", "rowspan"] {
                    let span = attr(e, key.as_bytes())?;
                    if let Some(n) = span.and_then(|v| v.trim().parse::<u16>().ok()) {
                        if (1..=1000).contains(&n) {
                            self.out.push_str(&format!(" {key}=\"{n}\""));
                        }
                    }
                }
                self.out.push('>');
                Frame::keep(Close::Tag(tag))
            }
            "ac:structured-macro" | "ac:macro" => self.macro_start(e)?,
            "ac:link" => {
                if self.anchor.is_some() {
                    // A link inside a link or an image: not rendered.
                    return Ok(Frame::suppressed(Close::Nothing));
                }
                let prev_anchor = self.anchor.replace(self.stack.len());
                Frame::keep(Close::Link {
                    mark: self.out.len(),
                    target: Target::Unset,
                    prev_anchor,
                })
            }
            "ac:image" => {
                let in_image = self
                    .anchor
                    .and_then(|i| self.stack.get(i))
                    .is_some_and(|f| matches!(f.close, Close::Image { .. }));
                if in_image {
                    return Ok(Frame::suppressed(Close::Nothing));
                }
                let mut alt = attr(e, b"ac:alt")?.unwrap_or_default();
                truncate_chars(&mut alt, MAX_PARAM_BYTES);
                let prev_anchor = self.anchor.replace(self.stack.len());
                Frame::keep(Close::Image {
                    alt,
                    target: Target::Unset,
                    prev_anchor,
                })
            }
            "ac:task-list" => {
                self.out.push_str("<ul class=\"kb-tasks\">");
                Frame::keep(Close::Tag("ul"))
            }
            "ac:task" => {
                self.open("li");
                Frame::keep(Close::Tag("li"))
            }
            n if n.starts_with("ri:") => {
                self.reference(n, e)?;
                if n == "ri:attachment" && self.anchor.is_some() {
                    // Not suppressing: its `ri:page` child names the page it belongs to.
                    self.in_attachment = true;
                    Frame::keep(Close::RiAttachment)
                } else {
                    Frame::suppressed(Close::Nothing)
                }
            }
            "ac:task-id"
            | "ac:task-status"
            | "ac:placeholder"
            | "ac:parameter"
            | "ac:default-parameter"
            | "ac:emoticon"
            | "ac:caption"
            | "ac:plain-text-body"
            | "ac:rich-text-body" => Frame::suppressed(Close::Nothing),
            n if SUPPRESSED_HTML.contains(&n) => Frame::suppressed(Close::Nothing),
            // Anything else (unknown HTML, `ac:link-body`, `ac:task-body`, …): its text only.
            _ => Frame::keep(Close::Nothing),
        })
    }

    fn open(&mut self, tag: &str) {
        self.out.push('<');
        self.out.push_str(tag);
        self.out.push('>');
    }

    /// A macro's start tag: the macros kbgate renders get a frame collecting parameters;
    /// `children` writes the caller's visible children; everything else is suppressed.
    fn macro_start(&mut self, e: &BytesStart<'_>) -> Result<Frame, RenderError> {
        let name = attr(e, b"ac:name")?.unwrap_or_default();
        let name = name.trim().to_ascii_lowercase();
        let kind = match name.as_str() {
            "code" => MacroKind::Code,
            "noformat" => MacroKind::NoFormat,
            "info" => MacroKind::Panel("kb-panel kb-panel-info"),
            "note" => MacroKind::Panel("kb-panel kb-panel-note"),
            "warning" => MacroKind::Panel("kb-panel kb-panel-warning"),
            "tip" => MacroKind::Panel("kb-panel kb-panel-tip"),
            "panel" => MacroKind::Panel("kb-panel"),
            "expand" => MacroKind::Expand,
            "children" => {
                self.write_list(self.ctx.children, "kb-children");
                return Ok(Frame::suppressed(Close::Nothing));
            }
            // Rendered at its end tag, once its `index` parameter has been read.
            n if n == SITE_STUB_MACRO => MacroKind::Listing,
            _ => return Ok(Frame::suppressed(Close::Nothing)),
        };
        Ok(Frame::keep(Close::Macro {
            kind,
            params: Params::default(),
        }))
    }

    /// A direct child of a rendered macro: a parameter (collected), a body (rendered if the
    /// macro has that kind of body) or anything else (suppressed).
    fn macro_child(
        &mut self,
        name: &str,
        kind: MacroKind,
        e: &BytesStart<'_>,
        title: String,
    ) -> Result<Frame, RenderError> {
        let macro_index = self.stack.len().saturating_sub(1);
        match (name, kind) {
            ("ac:parameter", _) => {
                let param = attr(e, b"ac:name")?.unwrap_or_default();
                let wanted = match (param.trim(), kind) {
                    ("language", MacroKind::Code) => Some(ParamName::Language),
                    ("index", MacroKind::Listing) => Some(ParamName::Index),
                    (_, MacroKind::Listing) => None,
                    ("title", _) => Some(ParamName::Title),
                    _ => None,
                };
                self.capture = wanted.map(|p| (macro_index, p));
                Ok(Frame::suppressed(Close::Param))
            }
            ("ac:default-parameter", MacroKind::Code) => {
                self.capture = Some((macro_index, ParamName::Language));
                Ok(Frame::suppressed(Close::Param))
            }
            ("ac:plain-text-body", MacroKind::Code) => {
                let language = match self.stack.last() {
                    Some(Frame {
                        close: Close::Macro { params, .. },
                        ..
                    }) => language_class(&params.language),
                    _ => None,
                };
                self.out.push_str("<pre class=\"kb-code\"><code");
                if let Some(class) = language {
                    self.out.push_str(" class=\"");
                    self.out.push_str(class);
                    self.out.push('"');
                }
                self.out.push('>');
                Ok(Frame::keep(Close::Body("</code></pre>")))
            }
            ("ac:plain-text-body", MacroKind::NoFormat) => {
                self.out.push_str("<pre class=\"kb-noformat\">");
                Ok(Frame::keep(Close::Body("</pre>")))
            }
            ("ac:rich-text-body", MacroKind::Panel(class)) => {
                self.out.push_str("<div class=\"");
                self.out.push_str(class);
                self.out.push_str("\">");
                if !title.is_empty() {
                    self.out.push_str("<p class=\"kb-panel-title\">");
                    escape_into(&mut self.out, &title);
                    self.out.push_str("</p>");
                }
                Ok(Frame::keep(Close::Body("</div>")))
            }
            ("ac:rich-text-body", MacroKind::Expand) => {
                self.out.push_str("<details class=\"kb-expand\"><summary>");
                if title.is_empty() {
                    self.out.push_str("Click here to expand...");
                } else {
                    escape_into(&mut self.out, &title);
                }
                self.out.push_str("</summary>");
                Ok(Frame::keep(Close::Body("</details>")))
            }
            _ => Ok(Frame::suppressed(Close::Nothing)),
        }
    }

    /// A listing stub's end: the caller's list for `index` (digits only), if there is one.
    pub(super) fn write_listing(&mut self, index: &str) {
        let index = index.trim();
        if index.is_empty() || index.len() > 6 || !index.bytes().all(|b| b.is_ascii_digit()) {
            return;
        }
        let list = index
            .parse::<usize>()
            .ok()
            .and_then(|n| self.ctx.listings.get(n));
        if let Some(list) = list {
            self.write_list(list, "kb-children kb-listing");
        }
    }

    /// The caller's (title, url) list as kbgate links, under one of kbgate's fixed classes;
    /// an empty list writes nothing.
    fn write_list(&mut self, items: &[(String, String)], class: &'static str) {
        if items.is_empty() {
            return;
        }
        self.out.push_str("<ul class=\"");
        self.out.push_str(class);
        self.out.push_str("\">");
        for (title, url) in items {
            self.out.push_str("<li><a href=\"");
            escape_into(&mut self.out, url);
            self.out.push_str("\">");
            escape_into(&mut self.out, title);
            self.out.push_str("</a></li>");
        }
        self.out.push_str("</ul>");
    }

    /// Records what a `ri:` element names on the innermost open link or image (if any).
    fn reference(&mut self, name: &str, e: &BytesStart<'_>) -> Result<(), RenderError> {
        let Some(index) = self.anchor else {
            return Ok(());
        };
        let new = match name {
            "ri:page" | "ri:blog-post" | "ri:content-entity" => Some(page_target(e)?),
            "ri:attachment" => Some(match attr(e, b"ri:filename")? {
                Some(file_name) if !file_name.trim().is_empty() => {
                    Target::Attachment(AttachmentRef {
                        file_name,
                        page: None,
                    })
                }
                _ => Target::Unresolvable,
            }),
            "ri:url" => Some(match attr(e, b"ri:value")? {
                Some(url) => Target::Url(url),
                None => Target::Unresolvable,
            }),
            // `ri:user`, `ri:space`, …: name nothing kbgate links to.
            _ => None,
        };
        let in_attachment = self.in_attachment;
        let Some(Frame {
            close: Close::Link { target, .. } | Close::Image { target, .. },
            ..
        }) = self.stack.get_mut(index)
        else {
            return Ok(());
        };
        match (new, in_attachment, &mut *target) {
            (Some(Target::Page(page)), true, Target::Attachment(a)) => a.page = Some(page),
            // Inside `ri:attachment` only a page reference makes sense; anything else (or an
            // attachment without a file name) leaves the target unresolvable, never a page.
            (Some(_), true, _) => *target = Target::Unresolvable,
            (Some(new), _, _) => *target = new,
            (None, _, _) => {}
        }
        Ok(())
    }
}

/// The page a `ri:page` / `ri:blog-post` / `ri:content-entity` names; an id wins over a
/// title. A bad id or space key, or no title, is unresolvable.
fn page_target(e: &BytesStart<'_>) -> Result<Target, RenderError> {
    if let Some(id) = attr(e, b"ri:content-id")? {
        return Ok(match ContentId::new(id.trim()) {
            Ok(id) => Target::Page(LinkTarget::ById(id)),
            Err(_) => Target::Unresolvable,
        });
    }
    let Some(title) = attr(e, b"ri:content-title")?.filter(|t| !t.trim().is_empty()) else {
        return Ok(Target::Unresolvable);
    };
    let space = match attr(e, b"ri:space-key")? {
        None => None,
        Some(s) => match SpaceKey::new(s.trim()) {
            Ok(key) => Some(key),
            Err(_) => return Ok(Target::Unresolvable),
        },
    };
    Ok(Target::Page(LinkTarget::ByTitle { space, title }))
}

/// The entity-decoded value of attribute `key`. Every attribute is parsed, so a malformed or
/// duplicate attribute is a syntax error.
fn attr(e: &BytesStart<'_>, key: &[u8]) -> Result<Option<String>, RenderError> {
    let mut found = None;
    for a in e.attributes() {
        let a = a.map_err(|_| RenderError::Syntax)?;
        if a.key.as_ref().eq_ignore_ascii_case(key) {
            let raw = std::str::from_utf8(&a.value).map_err(|_| RenderError::Syntax)?;
            found = Some(decode_entities(raw));
        }
    }
    Ok(found)
}

/// Cuts `s` to at most `max` bytes on a character boundary.
fn truncate_chars(s: &mut String, max: usize) {
    if s.len() > max {
        let mut cut = max;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
    }
}
