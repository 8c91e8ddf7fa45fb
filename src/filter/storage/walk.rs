//! The single pass over a storage-format body, shared by scanning and rewriting.
//!
//! The walker reads events with quick-xml's streaming reader (entities are not resolved) and
//! copies each kept event as its original bytes, taken from the input between the reader's
//! positions before and after the event. Removal needs no look-ahead: every open element
//! remembers the output length at its start tag (its *mark*); an element found to refer to
//! hidden content is marked *doomed*, and at its end tag the output is truncated back to its
//! mark. Each input byte is written at most once and truncated at most once, so the pass is
//! linear.
//!
//! Rules, in the order the walker applies them:
//! 1. A listing macro (`names::LISTING_MACROS`) is doomed at its start tag; references inside
//!    it are not asked about.
//! 2. A `ri:page` / `ri:blog-post` / `ri:content-entity` is hidden if the predicate rejects any
//!    of the ways it names its target, or if it names none (unresolvable; so is an unknown
//!    `ri:` element). A hidden reference dooms the smallest enclosing `ac:link`, `ac:image` or
//!    macro (this covers a `ri:page` inside a `ri:attachment`, i.e. an attachment of another
//!    page, and a `ri:page` macro parameter). With none of those around it, it dooms the
//!    outermost enclosing `ri:` element, or else itself.
//! 3. Everything else is copied, except processing instructions, XML declarations and
//!    doctypes, which are dropped.
//!
//! The predicate is asked about every reference outside listing macros, in document order,
//! whatever it answered before: scanning (a predicate that records and says yes) therefore sees
//! exactly the references rewriting asks about.
//!
//! Site mode (a `listings` vector is given) changes rule 1 only: an outermost `children` /
//! `contentbylabel` macro is still doomed at its start tag, but while it is open a
//! `names::Candidate` reads its parameters (elements and text are fed to it as they pass; it
//! keeps at most `SITE_LISTING_PARAM_BYTES`). At its end tag, after the truncation, the
//! candidate's listing (if any, and if there is room) is pushed and a stub written by kbgate
//! takes its place. Every frame remembers how many listings existed at its start tag, so a
//! doomed element truncates `listings` together with the output.

use quick_xml::errors::{Error as XmlError, IllFormedError};
use quick_xml::events::Event;
use quick_xml::Reader;

// `super` is the storage module itself wherever it is mounted, so these paths survive a move.
use quick_xml::events::BytesStart;

use super::names::{classify, Candidate, Container, Element};
use super::{
    ContentRef, SiteListing, StorageError, MAX_BODY_BYTES, MAX_DEPTH, MAX_SITE_LISTINGS,
    SITE_STUB_MACRO,
};

/// How many elements a pass removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Removed {
    /// `ac:link` / `ac:image` elements and bare references.
    pub(crate) links: usize,
    /// Macros.
    pub(crate) macros: usize,
}

impl Removed {
    fn add(&mut self, other: Removed) {
        self.links += other.links;
        self.macros += other.macros;
    }
}

/// What an open element is, as far as removal goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// Never removed by itself.
    Plain,
    /// `ac:link`, `ac:image` or a macro.
    Container(Container),
    /// A `ri:` element.
    Ri,
}

impl Kind {
    /// The count one removed element of this kind adds.
    fn one(self) -> Removed {
        match self {
            Kind::Container(Container::Macro { .. }) => Removed {
                links: 0,
                macros: 1,
            },
            Kind::Container(Container::Link | Container::Image) | Kind::Ri => Removed {
                links: 1,
                macros: 0,
            },
            // Plain elements are never doomed (`doom_target` never picks one).
            Kind::Plain => Removed::default(),
        }
    }
}

/// One open element.
struct Frame {
    kind: Kind,
    /// Output length before the start tag.
    mark: usize,
    /// Removed at its end tag.
    doomed: bool,
    /// Removals inside it, counted only if it is kept.
    removed: Removed,
    /// Stack index of the innermost container enclosing or being this element.
    container: Option<usize>,
    /// Stack index of the outermost `ri:` element enclosing or being this element.
    outer_ri: Option<usize>,
    /// Site mode: how many listings existed before the start tag.
    listings: usize,
}

/// Site-mode state.
struct Site<'o> {
    /// One entry per stub written so far (and still in the output).
    listings: &'o mut Vec<SiteListing>,
    /// The outermost `children` / `contentbylabel` macro being read, if any.
    open: Option<Candidate>,
}

/// The state of one pass.
struct Walker<'o, 'p> {
    stack: Vec<Frame>,
    /// Open listing macros; references inside one are not asked about.
    listing: usize,
    /// Removals at the top level.
    removed: Removed,
    ask: &'p mut dyn FnMut(&ContentRef) -> bool,
    out: Option<&'o mut String>,
    /// Site mode, if on.
    site: Option<Site<'o>>,
}

/// Walks `xhtml`, asking `ask` about each reference outside listing macros, and appends the
/// rewritten body to `out` if given. With `listings` (site mode), outermost `children` /
/// `contentbylabel` macros become stubs and their listings are appended there. Returns what
/// was removed.
pub(crate) fn walk(
    xhtml: &str,
    ask: &mut dyn FnMut(&ContentRef) -> bool,
    out: Option<&mut String>,
    listings: Option<&mut Vec<SiteListing>>,
) -> Result<Removed, StorageError> {
    if xhtml.len() > MAX_BODY_BYTES {
        return Err(StorageError::TooLarge);
    }
    // quick-xml skips a leading byte order mark without counting it in its positions; copy it
    // here and parse the rest, so positions stay offsets into what is parsed.
    let (bom, xhtml) = match xhtml.strip_prefix('\u{FEFF}') {
        Some(rest) => ("\u{FEFF}", rest),
        None => ("", xhtml),
    };
    let mut reader = Reader::from_str(xhtml);
    let config = reader.config_mut();
    // A lone `&` in text is copied as is; refusing it would only refuse harmless bodies.
    config.allow_dangling_amp = true;
    config.allow_unmatched_ends = false;
    config.check_end_names = true;
    config.expand_empty_elements = false;
    config.trim_text(false);

    let mut w = Walker {
        stack: Vec::new(),
        listing: 0,
        removed: Removed::default(),
        ask,
        out,
        site: listings.map(|listings| Site {
            listings,
            open: None,
        }),
    };
    w.write(bom);
    let mut pos = 0usize;
    loop {
        let event = reader.read_event().map_err(xml_error)?;
        let end = usize::try_from(reader.buffer_position()).map_err(|_| StorageError::Syntax)?;
        let raw = xhtml.get(pos..end).ok_or(StorageError::Syntax)?;
        pos = end;
        match event {
            Event::Start(e) => {
                if w.stack.len() >= MAX_DEPTH {
                    return Err(StorageError::TooDeep);
                }
                let element = classify(&e)?;
                w.observe(&e, false);
                w.start(element, raw);
            }
            Event::Empty(e) => {
                let element = classify(&e)?;
                w.observe(&e, true);
                w.empty(element, raw);
            }
            Event::End(_) => w.end(raw)?,
            Event::Text(_) | Event::GeneralRef(_) => w.text(raw, raw, false),
            Event::CData(_) => {
                let inner = raw
                    .strip_prefix("<![CDATA[")
                    .and_then(|s| s.strip_suffix("]]>"))
                    .unwrap_or_default();
                w.text(raw, inner, true);
            }
            Event::Comment(_) => w.write(raw),
            // No place in a page body; dropping them loses nothing a reader sees.
            Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
            Event::Eof => break,
        }
    }
    if !w.stack.is_empty() {
        return Err(StorageError::Unbalanced);
    }
    if pos != xhtml.len() {
        return Err(StorageError::Syntax);
    }
    Ok(w.removed)
}

/// Maps a reader error to a body-free [`StorageError`].
fn xml_error(e: XmlError) -> StorageError {
    match e {
        XmlError::IllFormed(
            IllFormedError::MismatchedEndTag { .. }
            | IllFormedError::UnmatchedEndTag(_)
            | IllFormedError::MissingEndTag(_),
        ) => StorageError::Unbalanced,
        _ => StorageError::Syntax,
    }
}

impl Walker<'_, '_> {
    fn write(&mut self, raw: &str) {
        if let Some(out) = self.out.as_deref_mut() {
            out.push_str(raw);
        }
    }

    fn out_len(&self) -> usize {
        self.out.as_deref().map_or(0, String::len)
    }

    /// Copies text (or CDATA, or an entity) and, in site mode, shows `content` (the CDATA's
    /// inner text, or the raw text) to the listing macro being read.
    fn text(&mut self, raw: &str, content: &str, cdata: bool) {
        self.write(raw);
        if let Some(candidate) = self.site.as_mut().and_then(|s| s.open.as_mut()) {
            candidate.text(content, cdata);
        }
    }

    /// Site mode: shows a start or empty-element tag to the listing macro being read, before
    /// the walker pushes it.
    fn observe(&mut self, e: &BytesStart<'_>, empty: bool) {
        let depth = self.stack.len();
        if let Some(candidate) = self.site.as_mut().and_then(|s| s.open.as_mut()) {
            candidate.element(e, depth == candidate.depth + 1, empty);
        }
    }

    /// Site mode: pushes `listing` and writes its stub, unless the body has
    /// [`MAX_SITE_LISTINGS`] already. Returns whether it did.
    fn stub(&mut self, listing: SiteListing) -> bool {
        let Some(site) = self.site.as_mut() else {
            return false;
        };
        let index = site.listings.len();
        if index >= MAX_SITE_LISTINGS {
            return false;
        }
        site.listings.push(listing);
        let stub = format!(
            "<ac:structured-macro ac:name=\"{SITE_STUB_MACRO}\">\
             <ac:parameter ac:name=\"index\">{index}</ac:parameter></ac:structured-macro>"
        );
        self.write(&stub);
        true
    }

    /// How many listings exist now (0 outside site mode).
    fn listings_len(&self) -> usize {
        self.site.as_ref().map_or(0, |s| s.listings.len())
    }

    /// The removal counter of the innermost open element (or the top level).
    fn removed_here(&mut self) -> &mut Removed {
        match self.stack.last_mut() {
            Some(frame) => &mut frame.removed,
            None => &mut self.removed,
        }
    }

    /// Whether a reference element names hidden content. Asks about every way it names its
    /// target (no short-circuit), unless inside a listing macro, where nothing is asked.
    fn hidden(&mut self, element: &Element) -> bool {
        match element {
            Element::Ref(refs) if self.listing == 0 => {
                let mut all_visible = true;
                for r in refs {
                    if !(self.ask)(r) {
                        all_visible = false;
                    }
                }
                !all_visible
            }
            // Inside a listing macro everything goes anyway.
            Element::Ref(_) => false,
            Element::Unresolvable => true,
            Element::Plain | Element::Container(_) | Element::RiOther => false,
        }
    }

    /// Dooms the element a hidden reference takes with it: the smallest enclosing container,
    /// else the outermost enclosing `ri:` element. Returns false if there is neither (the
    /// reference itself must go).
    fn doom_enclosing(&mut self) -> bool {
        // Kept per frame so this is O(1), not a walk down the stack for every reference.
        let target = self.stack.last().and_then(|f| f.container.or(f.outer_ri));
        match target.and_then(|i| self.stack.get_mut(i)) {
            Some(frame) => {
                frame.doomed = true;
                true
            }
            None => false,
        }
    }

    fn start(&mut self, element: Element, raw: &str) {
        let mark = self.out_len();
        self.write(raw);
        let (kind, doomed) = match element {
            Element::Plain => (Kind::Plain, false),
            Element::Container(c) => {
                let listing = match c {
                    Container::Macro { listing } => listing,
                    Container::Link | Container::Image => None,
                };
                if let Some(kind) = listing {
                    if self.listing == 0 {
                        let index = self.stack.len();
                        if let Some(site) = self.site.as_mut() {
                            site.open = Candidate::new(index, kind);
                        }
                    }
                    self.listing += 1;
                }
                (Kind::Container(c), listing.is_some())
            }
            Element::RiOther => (Kind::Ri, false),
            Element::Ref(_) | Element::Unresolvable => {
                let doomed = self.hidden(&element) && !self.doom_enclosing();
                (Kind::Ri, doomed)
            }
        };
        let index = self.stack.len();
        let parent = self.stack.last();
        let container = match kind {
            Kind::Container(_) => Some(index),
            Kind::Plain | Kind::Ri => parent.and_then(|p| p.container),
        };
        let outer_ri = match (parent.and_then(|p| p.outer_ri), kind) {
            (Some(i), _) => Some(i),
            (None, Kind::Ri) => Some(index),
            (None, Kind::Plain | Kind::Container(_)) => None,
        };
        let listings = self.listings_len();
        self.stack.push(Frame {
            kind,
            mark,
            doomed,
            removed: Removed::default(),
            container,
            outer_ri,
            listings,
        });
    }

    fn empty(&mut self, element: Element, raw: &str) {
        let drop_self = match element {
            Element::Container(Container::Macro {
                listing: Some(kind),
            }) => {
                // Outermost in site mode: a macro without parameters.
                let candidate = match (&self.site, self.listing) {
                    (Some(_), 0) => Candidate::new(self.stack.len(), kind),
                    _ => None,
                };
                let stubbed = match candidate.and_then(Candidate::finish) {
                    Some(listing) => self.stub(listing),
                    None => false,
                };
                if !stubbed {
                    self.removed_here().macros += 1;
                }
                true
            }
            Element::Ref(_) | Element::Unresolvable => {
                let gone = self.hidden(&element) && !self.doom_enclosing();
                if gone {
                    self.removed_here().links += 1;
                }
                gone
            }
            Element::Plain | Element::Container(_) | Element::RiOther => false,
        };
        if !drop_self {
            self.write(raw);
        }
    }

    fn end(&mut self, raw: &str) -> Result<(), StorageError> {
        let frame = self.stack.pop().ok_or(StorageError::Unbalanced)?;
        if matches!(
            frame.kind,
            Kind::Container(Container::Macro { listing: Some(_) })
        ) {
            self.listing = self.listing.saturating_sub(1);
        }
        let listing = self.end_site();
        let counted = if frame.doomed {
            if let Some(out) = self.out.as_deref_mut() {
                out.truncate(frame.mark);
            }
            if let Some(site) = self.site.as_mut() {
                site.listings.truncate(frame.listings);
            }
            let stubbed = match listing {
                Some(listing) => self.stub(listing),
                None => false,
            };
            if stubbed {
                Removed::default()
            } else {
                frame.kind.one()
            }
        } else {
            self.write(raw);
            frame.removed
        };
        self.removed_here().add(counted);
        Ok(())
    }

    /// Site mode, after an end tag popped its frame: ends the parameter being read if the
    /// frame was one, or, if the frame was the listing macro being read, the listing it
    /// becomes.
    fn end_site(&mut self) -> Option<SiteListing> {
        let depth = self.stack.len();
        let site = self.site.as_mut()?;
        let candidate = site.open.as_mut()?;
        if depth == candidate.depth + 1 {
            candidate.end_param();
        }
        if depth == candidate.depth {
            return site.open.take().and_then(Candidate::finish);
        }
        None
    }
}
