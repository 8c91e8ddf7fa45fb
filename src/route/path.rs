//! The one path canonicalizer: raw request path → decoded segments, or a typed refusal.
//!
//! kbgate authorizes and forwards from the same [`CanonicalPath`], so there is no second parser
//! whose reading could differ (threats.md H3, §0.8). The rule is to *reject* every ambiguous
//! spelling instead of normalizing it: a path is split on raw `/`, each segment is
//! percent-decoded exactly once, and the request is refused when any segment is empty, a dot
//! segment in any encoding, or holds `/ \ ; % ? #`, a control character or non-ASCII text
//! after decoding (which covers double encoding, Tomcat path parameters, encoded slashes and
//! overlong UTF-8).
//!
//! Guarantees: a [`CanonicalPath`] never holds a segment that is empty, `.`, `..`, or contains
//! `/`, `\`, `%`, `;`, `?`, `#`, a control character or a non-ASCII character; its
//! [`Display`](fmt::Display) form canonicalizes back to the same segments.
//!
//! Deliberately not done: no merging of `//`, no resolution of `..`, no case folding, no
//! Unicode normalization. Route matching lives in the parent module.

use std::borrow::Cow;
use std::fmt;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC};

/// Longest raw path accepted, in bytes.
pub const MAX_PATH_BYTES: usize = 2048;
/// Most segments accepted.
pub const MAX_SEGMENTS: usize = 32;

/// Bytes [`CanonicalPath`]'s `Display` leaves unencoded: RFC 3986 `unreserved` only.
const SEGMENT_ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Why a raw path was refused. Every variant is a client error (400).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    #[error("the path does not start with '/'")]
    NotAbsolute,
    #[error("the path is longer than {MAX_PATH_BYTES} bytes")]
    TooLong,
    #[error("the path has more than {MAX_SEGMENTS} segments")]
    TooManySegments,
    #[error("the path has an empty segment ('//' or a trailing '/')")]
    EmptySegment,
    #[error("the path has a '.' or '..' segment")]
    DotSegment,
    #[error("the path contains a backslash, raw or encoded")]
    Backslash,
    #[error("the path contains ';', raw or encoded (path parameters are refused)")]
    Semicolon,
    #[error("the path contains a control character, raw or encoded")]
    ControlChar,
    #[error("the path contains a raw non-ASCII byte or decodes to non-ASCII text")]
    NonAscii,
    #[error("the path contains a character that is not allowed in a path")]
    InvalidChar,
    #[error("the path contains '%' not followed by two hex digits")]
    BadPercent,
    #[error("the path contains an encoded '/'")]
    EncodedSlash,
    #[error("the path contains an encoded NUL")]
    EncodedNul,
    #[error("the path is percent-encoded twice (a decoded segment still contains '%')")]
    DoubleEncoding,
    #[error("the path contains '?' or '#' inside a segment")]
    QueryOrFragment,
    #[error("the path decodes to bytes that are not UTF-8 (or an overlong form)")]
    NotUtf8,
}

impl PathError {
    /// A stable snake_case name for logs and metrics.
    pub fn reason(&self) -> &'static str {
        match self {
            PathError::NotAbsolute => "not_absolute",
            PathError::TooLong => "too_long",
            PathError::TooManySegments => "too_many_segments",
            PathError::EmptySegment => "empty_segment",
            PathError::DotSegment => "dot_segment",
            PathError::Backslash => "backslash",
            PathError::Semicolon => "semicolon",
            PathError::ControlChar => "control_char",
            PathError::NonAscii => "non_ascii",
            PathError::InvalidChar => "invalid_char",
            PathError::BadPercent => "bad_percent",
            PathError::EncodedSlash => "encoded_slash",
            PathError::EncodedNul => "encoded_nul",
            PathError::DoubleEncoding => "double_encoding",
            PathError::QueryOrFragment => "query_or_fragment",
            PathError::NotUtf8 => "not_utf8",
        }
    }
}

/// A path that passed [`canonicalize`]: its decoded segments, in order.
///
/// `Display` re-encodes every byte outside RFC 3986 `unreserved` and joins with `/`, so the
/// printed form is exactly what kbgate would forward for these segments.
/// A segment without a percent escape borrows the raw path; only decoded ones are owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CanonicalPath<'a> {
    segments: Vec<Cow<'a, str>>,
}

impl<'a> CanonicalPath<'a> {
    /// The decoded segments; empty for the root path `/`.
    pub fn segments(&self) -> &[Cow<'a, str>] {
        &self.segments
    }

    /// Builds a path without checks, so tests can feed `Display` arbitrary segments.
    #[cfg(test)]
    pub(super) fn from_segments_unchecked(segments: Vec<String>) -> Self {
        Self {
            segments: segments.into_iter().map(Cow::Owned).collect(),
        }
    }
}

impl fmt::Display for CanonicalPath<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.segments.is_empty() {
            return f.write_str("/");
        }
        for segment in &self.segments {
            f.write_str("/")?;
            write!(
                f,
                "{}",
                percent_encoding::utf8_percent_encode(segment, SEGMENT_ENCODE)
            )?;
        }
        Ok(())
    }
}

/// Canonicalizes a raw request path (the part before `?`), refusing every ambiguous spelling.
///
/// `/` is the root (no segments). Anything else is split on raw `/`; each segment is decoded
/// once and checked as described in the module documentation.
pub fn canonicalize(raw_path: &str) -> Result<CanonicalPath<'_>, PathError> {
    if raw_path.len() > MAX_PATH_BYTES {
        return Err(PathError::TooLong);
    }
    let Some(rest) = raw_path.strip_prefix('/') else {
        return Err(PathError::NotAbsolute);
    };
    if rest.is_empty() {
        return Ok(CanonicalPath {
            segments: Vec::new(),
        });
    }
    // Counting first keeps the allocation below bounded by MAX_SEGMENTS.
    if rest.bytes().filter(|&b| b == b'/').count() >= MAX_SEGMENTS {
        return Err(PathError::TooManySegments);
    }
    let segments = rest
        .split('/')
        .map(decode_segment)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(CanonicalPath { segments })
}

/// Decodes one raw segment exactly once, refusing anything ambiguous. A segment without `%`
/// decodes to itself and is borrowed; it passes the same checks in the same order.
fn decode_segment(raw: &str) -> Result<Cow<'_, str>, PathError> {
    if raw.is_empty() {
        return Err(PathError::EmptySegment);
    }
    let bytes = raw.as_bytes();
    if !bytes.contains(&b'%') {
        // One table lookup per byte; the first refused byte, if any, names the error.
        if !bytes.iter().all(|&b| PLAIN_PCHAR[usize::from(b)]) {
            bytes.iter().try_for_each(|&b| check_raw_byte(b))?;
        }
        return checked_text(raw).map(Cow::Borrowed);
    }
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let (Some(&hi), Some(&lo)) = (bytes.get(i + 1), bytes.get(i + 2)) else {
                return Err(PathError::BadPercent);
            };
            let (Some(hi), Some(lo)) = (hex_value(hi), hex_value(lo)) else {
                return Err(PathError::BadPercent);
            };
            let byte = (hi << 4) | lo;
            check_decoded_byte(byte)?;
            decoded.push(byte);
            i += 3;
        } else {
            check_raw_byte(b)?;
            decoded.push(b);
            i += 1;
        }
    }
    let text = String::from_utf8(decoded).map_err(|_| PathError::NotUtf8)?;
    checked_text(&text)?;
    Ok(Cow::Owned(text))
}

/// The checks on a decoded segment's text: ASCII, and not a dot segment.
fn checked_text(text: &str) -> Result<&str, PathError> {
    if !text.is_ascii() {
        return Err(PathError::NonAscii);
    }
    if text == "." || text == ".." {
        return Err(PathError::DotSegment);
    }
    Ok(text)
}

/// Checks a byte that appeared literally in the raw path.
const fn check_raw_byte(b: u8) -> Result<(), PathError> {
    match b {
        b'\\' => Err(PathError::Backslash),
        b';' => Err(PathError::Semicolon),
        b'?' | b'#' => Err(PathError::QueryOrFragment),
        0x00..=0x1f | 0x7f => Err(PathError::ControlChar),
        0x80..=0xff => Err(PathError::NonAscii),
        // RFC 3986 pchar, minus ';' (refused above) and '%' (handled by the caller).
        b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' => Ok(()),
        b'-' | b'.' | b'_' | b'~' | b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*' | b'+'
        | b',' | b'=' | b':' | b'@' => Ok(()),
        _ => Err(PathError::InvalidChar),
    }
}

/// The bytes [`check_raw_byte`] accepts, as a table built from it at compile time.
static PLAIN_PCHAR: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = check_raw_byte(b as u8).is_ok();
        b += 1;
    }
    table
};

/// Checks a byte produced by decoding `%XX`. Bytes ≥ 0x80 are checked later, as UTF-8.
fn check_decoded_byte(b: u8) -> Result<(), PathError> {
    match b {
        b'/' => Err(PathError::EncodedSlash),
        b'\\' => Err(PathError::Backslash),
        b';' => Err(PathError::Semicolon),
        b'%' => Err(PathError::DoubleEncoding),
        b'?' | b'#' => Err(PathError::QueryOrFragment),
        0x00 => Err(PathError::EncodedNul),
        0x01..=0x1f | 0x7f => Err(PathError::ControlChar),
        _ => Ok(()),
    }
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod table_tests {
    use super::*;

    #[test]
    fn the_plain_byte_table_accepts_exactly_what_the_byte_check_accepts() {
        for b in 0..=255u8 {
            assert_eq!(
                PLAIN_PCHAR[usize::from(b)],
                check_raw_byte(b).is_ok(),
                "byte {b:#04x}"
            );
        }
    }
}
