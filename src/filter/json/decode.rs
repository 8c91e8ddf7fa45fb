//! Decoding string tokens the scanner has already validated: escapes to text, on demand.

use std::borrow::Cow;

use super::{utf8, Str};
use crate::filter::{FilterError, Res, SyntaxError, SyntaxKind};

/// The value of the four hex digits at `b[at..at + 4]`, if they are four hex digits.
pub(super) fn hex4(b: &[u8], at: usize) -> Option<u32> {
    let digits = b.get(at..at + 4)?;
    let mut v = 0u32;
    for &d in digits {
        v = v * 16 + char::from(d).to_digit(16)?;
    }
    Some(v)
}

/// The error for a string token that cannot be decoded.
pub(super) fn bad_escape(s: Str) -> FilterError {
    FilterError::Syntax(SyntaxError {
        kind: SyntaxKind::BadEscape,
        offset: s.span.start(),
    })
}

/// The decoded text of string token `s` of `body`, checking only the token's own bytes: for a
/// token kept from an earlier scan, without validating the whole body again.
pub(in crate::filter) fn decode_token(body: &[u8], s: Str) -> Res<Cow<'_, str>> {
    let inner = body
        .get(s.span.start() + 1..s.span.end().saturating_sub(1))
        .ok_or_else(|| bad_escape(s))?;
    let inner = utf8(inner)?;
    decode_inner(inner, s)
}

/// Decodes the text between the quotes of token `s`; borrowed unless it holds escapes.
pub(super) fn decode_inner(inner: &str, s: Str) -> Res<Cow<'_, str>> {
    let bad = || bad_escape(s);
    if !s.escaped {
        return Ok(Cow::Borrowed(inner));
    }
    let mut out = String::with_capacity(inner.len());
    let mut rest = inner;
    while let Some(at) = memchr::memchr(b'\\', rest.as_bytes()) {
        let (plain, tail) = rest.split_at(at);
        out.push_str(plain);
        let tb = tail.as_bytes();
        let (ch, used) = match tb.get(1).copied() {
            Some(b'"') => ('"', 2),
            Some(b'\\') => ('\\', 2),
            Some(b'/') => ('/', 2),
            Some(b'b') => ('\u{8}', 2),
            Some(b'f') => ('\u{c}', 2),
            Some(b'n') => ('\n', 2),
            Some(b'r') => ('\r', 2),
            Some(b't') => ('\t', 2),
            Some(b'u') => {
                let hi = hex4(tb, 2).ok_or_else(bad)?;
                if (0xD800..0xDC00).contains(&hi) {
                    let lo = hex4(tb, 8).ok_or_else(bad)?;
                    let cp = 0x10000 + ((hi - 0xD800) << 10) + lo.wrapping_sub(0xDC00);
                    (char::from_u32(cp).ok_or_else(bad)?, 12)
                } else {
                    (char::from_u32(hi).ok_or_else(bad)?, 6)
                }
            }
            _ => return Err(Box::new(bad())),
        };
        out.push(ch);
        rest = tail.get(used..).ok_or_else(bad)?;
    }
    out.push_str(rest);
    Ok(Cow::Owned(out))
}
