//! A small validating JSON pull scanner over a byte slice, built for the filter's single pass.
//!
//! What it guarantees: every value it steps over (read or skipped) is checked against the JSON
//! grammar of RFC 8259 — strings (escapes, surrogate pairs, no raw control characters), numbers,
//! literals, separators — and nesting never exceeds [`MAX_DEPTH`]. The whole body is checked to
//! be UTF-8 once, up front, so any span between two structural characters is valid UTF-8 and
//! any span covering a whole value is valid JSON on its own. It hands out byte spans, never
//! copies, and decodes a string only when asked (and allocates only when it holds escapes).
//!
//! Duplicate-key detection lives in `keys.rs`, the typed value readers in `expect.rs` and escape
//! decoding in `json/decode.rs`; the cursor hands them the bytes they need.
//!
//! What it deliberately does not do: build values, know any Confluence shape, or accept any JSON
//! extension (comments, `NaN`, trailing commas, single quotes).

use std::borrow::Cow;

mod decode;
mod repeat;
mod special;
#[cfg(test)]
mod tests;

use super::keys::{KeySet, KeyTracker};
use super::{FilterError, Res, SyntaxError, SyntaxKind};
pub(super) use decode::decode_token;
use decode::{bad_escape, decode_inner, hex4};
pub(super) use special::next_special;
use special::{chunk16, specials16};

/// The deepest nesting of objects and arrays accepted (the top-level value is depth 1).
pub(super) const MAX_DEPTH: u32 = 64;

/// A byte range of the body: `start..end` (32-bit: [`Cursor::new`] refuses bodies of 4 GiB).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Span {
    start: u32,
    end: u32,
}

impl Span {
    /// A span of a body shorter than 4 GiB (checked once by [`Cursor::new`]).
    #[inline(always)]
    pub fn new(start: usize, end: usize) -> Self {
        Span {
            start: start as u32,
            end: end as u32,
        }
    }

    /// Where the span starts.
    #[inline(always)]
    pub fn start(self) -> usize {
        self.start as usize
    }

    /// Where the span ends (exclusive).
    #[inline(always)]
    pub fn end(self) -> usize {
        self.end as usize
    }

    /// The span as a range for slicing.
    #[inline(always)]
    pub fn range(self) -> std::ops::Range<usize> {
        self.start()..self.end()
    }
}

/// A string token: its span including both quotes, and whether it holds any escape.
#[derive(Clone, Copy, Debug)]
pub(super) struct Str {
    pub span: Span,
    pub escaped: bool,
}

/// The scanner: a position in the body and the current nesting depth.
pub(super) struct Cursor<'a> {
    text: &'a str,
    b: &'a [u8],
    pos: usize,
    depth: u32,
    /// Duplicate detection for the objects walked key by key.
    keys: KeyTracker,
}

impl<'a> Cursor<'a> {
    /// Starts a scan; fails when the body is not UTF-8.
    pub fn new(body: &'a [u8]) -> Res<Self> {
        if u32::try_from(body.len()).is_err() {
            return Err(Box::new(FilterError::Shape("body of 4 GiB or more")));
        }
        let text = utf8(body)?;
        Ok(Cursor {
            text,
            b: body,
            pos: 0,
            depth: 0,
            keys: KeyTracker::new(),
        })
    }

    #[cold]
    #[inline(never)]
    fn err(&self, kind: SyntaxKind) -> Box<FilterError> {
        Box::new(FilterError::Syntax(SyntaxError {
            kind,
            offset: self.pos,
        }))
    }

    /// The current byte offset.
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// How many bytes are left after the current offset.
    pub fn remaining(&self) -> usize {
        self.b.len().saturating_sub(self.pos)
    }

    /// The bytes between the quotes of a string token, undecoded (empty if the token is not
    /// from this body, which cannot happen for tokens this cursor produced).
    #[inline(always)]
    pub fn raw_inner(&self, s: Str) -> &'a [u8] {
        self.b
            .get(s.span.start() + 1..s.span.end().saturating_sub(1))
            .unwrap_or_default()
    }

    #[inline(always)]
    fn skip_ws(&mut self) {
        // Compact JSON (what Confluence sends) has no whitespace: one test decides it.
        if self.b.get(self.pos).is_some_and(|&c| c > b' ') {
            return;
        }
        self.skip_ws_slow();
    }

    #[inline(never)]
    fn skip_ws_slow(&mut self) {
        while let Some(&c) = self.b.get(self.pos) {
            if matches!(c, b' ' | b'\n' | b'\r' | b'\t') {
                self.pos += 1;
            } else {
                break;
            }
        }
    }

    /// Skips whitespace and returns the next byte without consuming it.
    #[inline(always)]
    pub fn peek(&mut self) -> Res<u8> {
        self.skip_ws();
        self.b
            .get(self.pos)
            .copied()
            .ok_or_else(|| self.err(SyntaxKind::UnexpectedEnd))
    }

    /// Starts duplicate detection for an object the caller walks key by key.
    #[inline(always)]
    pub fn keys_begin(&self, what: &'static str) -> KeySet {
        self.keys.begin(what)
    }

    /// Records `key` in `set`: refuses an escaped key and a key already seen in this object.
    #[inline(always)]
    pub fn key_insert(&mut self, set: &mut KeySet, key: Str) -> Res<()> {
        self.keys.insert(self.b, set, key)
    }

    /// Ends duplicate detection for an object.
    #[inline(always)]
    pub fn keys_end(&mut self, set: KeySet) {
        self.keys.end(set);
    }

    /// The text of a span, if it lies in the body on character boundaries.
    pub fn text(&self, span: Span) -> Option<&'a str> {
        self.text.get(span.range())
    }

    /// Checks that only whitespace follows the top-level value.
    pub fn finish(&mut self) -> Res<()> {
        self.skip_ws();
        if self.pos == self.b.len() {
            Ok(())
        } else {
            Err(self.err(SyntaxKind::TrailingData))
        }
    }

    /// Consumes the `{` or `[` at the cursor and enters the container (depth-checked).
    pub fn enter(&mut self) -> Res<()> {
        if self.depth >= MAX_DEPTH {
            return Err(Box::new(FilterError::TooDeep));
        }
        self.depth += 1;
        self.pos += 1;
        Ok(())
    }

    fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
        self.pos += 1;
    }

    /// Reads the string token at the cursor (after whitespace).
    // Inlined so the token comes back in registers: returned through memory, its reload
    // stalled on store forwarding and cost a third of the scan.
    #[inline(always)]
    pub fn string(&mut self) -> Res<Str> {
        self.skip_ws();
        if self.b.get(self.pos) != Some(&b'"') {
            return Err(self.err(SyntaxKind::ExpectedString));
        }
        self.string_here()
    }

    /// Reads the string token whose opening quote is at the cursor (the caller has checked it:
    /// after a `peek` that returned `"`).
    #[inline(always)]
    pub fn string_here(&mut self) -> Res<Str> {
        let start = self.pos;
        let mut i = start + 1;
        let mut escaped = false;
        loop {
            // Sixteen bytes at a time until one of them needs a closer look; the last fifteen
            // bytes of the body go one at a time through the match below (kept out of
            // `next_special`: its tail call costs the callers' register allocation more).
            while let Some(chunk) = chunk16(self.b, i) {
                let mask = specials16(chunk);
                if mask != 0 {
                    i += mask.trailing_zeros() as usize;
                    break;
                }
                i += 16;
            }
            match self.b.get(i).copied() {
                None => {
                    self.pos = i;
                    return Err(self.err(SyntaxKind::UnexpectedEnd));
                }
                Some(b'"') => {
                    self.pos = i + 1;
                    return Ok(Str {
                        span: Span::new(start, i + 1),
                        escaped,
                    });
                }
                Some(b'\\') => {
                    escaped = true;
                    // Storage bodies are full of `\"`: keep the common escapes in the loop.
                    match self.b.get(i + 1) {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => i += 2,
                        _ => i = self.escape(i)?,
                    }
                }
                Some(c) if c < 0x20 => {
                    self.pos = i;
                    return Err(self.err(SyntaxKind::ControlInString));
                }
                Some(_) => i += 1,
            }
        }
    }

    /// Validates the escape starting at the backslash at `i`; returns the index after it.
    #[inline(never)]
    fn escape(&mut self, i: usize) -> Res<usize> {
        let fail = |this: &mut Self, kind| {
            this.pos = i;
            Err(this.err(kind))
        };
        match self.b.get(i + 1).copied() {
            Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => Ok(i + 2),
            Some(b'u') => match hex4(self.b, i + 2) {
                Some(0xD800..=0xDBFF) => {
                    let low = (self.b.get(i + 6..i + 8) == Some(b"\\u"))
                        .then(|| hex4(self.b, i + 8))
                        .flatten();
                    match low {
                        Some(0xDC00..=0xDFFF) => Ok(i + 12),
                        _ => fail(self, SyntaxKind::LoneSurrogate),
                    }
                }
                Some(0xDC00..=0xDFFF) => fail(self, SyntaxKind::LoneSurrogate),
                Some(_) => Ok(i + 6),
                None => fail(self, SyntaxKind::BadEscape),
            },
            _ => fail(self, SyntaxKind::BadEscape),
        }
    }

    /// The decoded text of a string token; borrowed unless it holds escapes.
    pub fn decode(&self, s: Str) -> Res<Cow<'a, str>> {
        let range = s.span.start() + 1..s.span.end().saturating_sub(1);
        let inner = self.text.get(range).ok_or_else(|| bad_escape(s))?;
        decode_inner(inner, s)
    }

    /// Reads the number at the cursor (after whitespace) and returns its span.
    pub fn number(&mut self) -> Res<Span> {
        self.skip_ws();
        let start = self.pos;
        let b = self.b;
        let digit = |i: usize| b.get(i).is_some_and(u8::is_ascii_digit);
        let mut i = start;
        if b.get(i) == Some(&b'-') {
            i += 1;
        }
        match b.get(i) {
            Some(b'0') => i += 1,
            Some(b'1'..=b'9') => {
                while digit(i) {
                    i += 1;
                }
            }
            _ => {
                self.pos = i;
                return Err(self.err(SyntaxKind::BadNumber));
            }
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            if !digit(i) {
                self.pos = i;
                return Err(self.err(SyntaxKind::BadNumber));
            }
            while digit(i) {
                i += 1;
            }
        }
        if matches!(b.get(i), Some(b'e' | b'E')) {
            i += 1;
            if matches!(b.get(i), Some(b'+' | b'-')) {
                i += 1;
            }
            if !digit(i) {
                self.pos = i;
                return Err(self.err(SyntaxKind::BadNumber));
            }
            while digit(i) {
                i += 1;
            }
        }
        self.pos = i;
        Ok(Span::new(start, i))
    }

    /// Consumes `word` (`true`, `false`, `null`) at the cursor.
    pub fn literal(&mut self, word: &'static [u8]) -> Res<()> {
        if self.b.get(self.pos..self.pos + word.len()) == Some(word) {
            self.pos += word.len();
            Ok(())
        } else {
            Err(self.err(SyntaxKind::BadLiteral))
        }
    }

    /// Validates and steps over any value; returns its span.
    pub fn skip_value(&mut self) -> Res<Span> {
        let c = self.peek()?;
        let start = self.pos;
        match c {
            b'"' => {
                self.string_here()?;
            }
            b'{' => {
                self.begin_object()?;
                let mut first = true;
                while self.next_key(&mut first)?.is_some() {
                    self.skip_value()?;
                }
            }
            b'[' => {
                self.begin_array()?;
                let mut first = true;
                while self.next_elem(&mut first)? {
                    self.skip_value()?;
                }
            }
            b't' => self.literal(b"true")?,
            b'f' => self.literal(b"false")?,
            b'n' => self.literal(b"null")?,
            b'-' | b'0'..=b'9' => {
                self.number()?;
            }
            _ => return Err(self.err(SyntaxKind::UnexpectedByte)),
        }
        Ok(Span::new(start, self.pos))
    }

    /// Consumes `{` (after whitespace) and enters the object.
    pub fn begin_object(&mut self) -> Res<()> {
        if self.peek()? != b'{' {
            return Err(self.err(SyntaxKind::UnexpectedByte));
        }
        self.enter()
    }

    /// Consumes `[` (after whitespace) and enters the array.
    pub fn begin_array(&mut self) -> Res<()> {
        if self.peek()? != b'[' {
            return Err(self.err(SyntaxKind::UnexpectedByte));
        }
        self.enter()
    }

    /// The next key of the current object and its `:`, or `None` after consuming the `}`.
    /// The caller must consume exactly one value after each key.
    #[inline(always)]
    pub fn next_key(&mut self, first: &mut bool) -> Res<Option<Str>> {
        // Compact JSON (what Confluence sends) has `,"key":` with nothing in between: read it
        // without the whitespace checks. Anything else takes the general path below.
        if !*first && self.b.get(self.pos..self.pos + 2) == Some(b",\"") {
            self.pos += 1;
            let key = self.string_here()?;
            return self.colon_after(key);
        }
        let c = self.peek()?;
        // A `}` right after a `,` cannot reach here: the `,` branch below reads a key at once.
        if c == b'}' {
            self.leave();
            return Ok(None);
        }
        if *first {
            *first = false;
        } else if c == b',' {
            self.pos += 1;
        } else {
            return Err(self.err(SyntaxKind::ExpectedCommaOrEnd));
        }
        let key = self.string()?;
        self.colon_after(key)
    }

    /// Consumes the `:` (after whitespace) that follows `key`; a `:` right after it (compact
    /// JSON) is taken without the whitespace check.
    #[inline(always)]
    fn colon_after(&mut self, key: Str) -> Res<Option<Str>> {
        if self.b.get(self.pos) == Some(&b':') {
            self.pos += 1;
            return Ok(Some(key));
        }
        if self.peek()? != b':' {
            return Err(self.err(SyntaxKind::ExpectedColon));
        }
        self.pos += 1;
        Ok(Some(key))
    }

    /// True when another element follows in the current array (the cursor is then before it);
    /// false after consuming the `]`. The caller must consume exactly one value per `true`.
    #[inline(always)]
    pub fn next_elem(&mut self, first: &mut bool) -> Res<bool> {
        let c = self.peek()?;
        if *first {
            *first = false;
            if c == b']' {
                self.leave();
                return Ok(false);
            }
            return Ok(true);
        }
        match c {
            b']' => {
                self.leave();
                Ok(false)
            }
            b',' => {
                self.pos += 1;
                Ok(true)
            }
            _ => Err(self.err(SyntaxKind::ExpectedCommaOrEnd)),
        }
    }
}

/// `bytes` as text: SIMD-checked (several times faster than the standard library's check on
/// mostly-ASCII answers); only a failure asks the standard library, for its error's detail.
pub(super) fn utf8(bytes: &[u8]) -> Res<&str> {
    match simdutf8::basic::from_utf8(bytes) {
        Ok(text) => Ok(text),
        Err(_) => Err(Box::new(match std::str::from_utf8(bytes) {
            Err(e) => FilterError::Utf8(e),
            Ok(_) => FilterError::Shape("body is not UTF-8"),
        })),
    }
}
