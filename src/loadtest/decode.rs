//! The forms of a response the leak oracle searches, each made in one pass over the bytes,
//! copying the runs between special bytes whole, and lower-cased on the way (ASCII; decoded
//! characters with Unicode rules).
//!
//! Guarantees: linear time, never panics, any input (not UTF-8 included); a form with nothing
//! to undo is the input itself (borrowed). Deliberately not: a full HTML or JSON parser — these
//! are disguise removers, applied everywhere in the text.

use std::borrow::Cow;

use aho_corasick::{AhoCorasick, BuildError};

/// Searchers for the special bytes of each form (memchr-fast through `aho_corasick`'s
/// prefilters, which matters: most of a response is runs between them).
#[derive(Debug)]
pub struct Finders {
    escape: AhoCorasick,
    entity: AhoCorasick,
    tag_open: AhoCorasick,
    tag_close: AhoCorasick,
    percent: AhoCorasick,
}

impl Finders {
    /// The searchers.
    pub fn new() -> Result<Finders, BuildError> {
        Ok(Finders {
            escape: AhoCorasick::new(["\\", "@"])?,
            entity: AhoCorasick::new(["&"])?,
            tag_open: AhoCorasick::new(["<"])?,
            tag_close: AhoCorasick::new([">"])?,
            percent: AhoCorasick::new(["%", "+"])?,
        })
    }

    /// Whether `s` holds a `<`.
    pub fn has_tag(&self, s: &[u8]) -> bool {
        find(&self.tag_open, s).is_some()
    }
}

/// Where the first match of `finder` in `s` starts.
fn find(finder: &AhoCorasick, s: &[u8]) -> Option<usize> {
    finder.try_find(s).ok().flatten().map(|m| m.start())
}

/// A copy with ASCII letters lower-cased.
pub fn lower(s: &[u8]) -> Vec<u8> {
    let mut v = s.to_vec();
    v.make_ascii_lowercase();
    v
}

/// Appends `c` lower-cased, as UTF-8.
fn push_char(out: &mut Vec<u8>, c: char) {
    let mut buf = [0u8; 4];
    for l in c.to_lowercase() {
        out.extend_from_slice(l.encode_utf8(&mut buf).as_bytes());
    }
}

/// Calls `special` at each match of `finder`, copying the runs in between; `special` gets the
/// rest of the input from the match and returns how many bytes it used (at least one). With
/// no match, the input itself.
fn rewrite<'a>(
    s: &'a [u8],
    finder: &AhoCorasick,
    mut special: impl FnMut(&mut Vec<u8>, &[u8]) -> usize,
) -> Cow<'a, [u8]> {
    let Some(first) = find(finder, s) else {
        return Cow::Borrowed(s);
    };
    let mut out = Vec::with_capacity(s.len());
    let mut rest = s;
    let mut next = Some(first);
    while let Some((run, tail)) = next.and_then(|at| rest.split_at_checked(at)) {
        out.extend_from_slice(run);
        let used = special(&mut out, tail).max(1);
        rest = tail.get(used..).unwrap_or_default();
        next = find(finder, rest);
    }
    out.extend_from_slice(rest);
    Cow::Owned(out)
}

fn hex4(s: Option<&[u8]>) -> Option<u32> {
    let s = s?;
    if s.len() != 4 || !s.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    u32::from_str_radix(std::str::from_utf8(s).ok()?, 16).ok()
}

/// Removes search highlight markers (`@@@hl@@@`, `@@@endhl@@@`) and undoes JSON string
/// escapes (`\u00e9`, surrogate pairs, `\"`, `\/`, `\n`, …) anywhere in the text. A broken
/// `\u` escape loses its `\u` and keeps the rest.
pub fn unescape_json<'a>(f: &Finders, s: &'a [u8]) -> Cow<'a, [u8]> {
    rewrite(s, &f.escape, |out, tail| match tail {
        [b'@', ..] if tail.starts_with(b"@@@hl@@@") => 8,
        [b'@', ..] if tail.starts_with(b"@@@endhl@@@") => 11,
        [b'\\', b'u', ..] => match hex4(tail.get(2..6)) {
            Some(hi @ 0xD800..=0xDBFF) if tail.get(6..8) == Some(b"\\u") => {
                match hex4(tail.get(8..12)) {
                    Some(lo @ 0xDC00..=0xDFFF) => {
                        let c = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                        if let Some(c) = char::from_u32(c) {
                            push_char(out, c);
                        }
                        12
                    }
                    _ => 6,
                }
            }
            Some(cp) => {
                if let Some(c) = char::from_u32(cp) {
                    push_char(out, c);
                }
                6
            }
            None => 2,
        },
        [b'\\', b'n', ..] => {
            out.push(b'\n');
            2
        }
        [b'\\', b't', ..] => {
            out.push(b'\t');
            2
        }
        [b'\\', b'r', ..] => {
            out.push(b'\r');
            2
        }
        [b'\\'] => 1,
        [b'\\', other, ..] => {
            out.push(other.to_ascii_lowercase());
            2
        }
        [first, ..] => {
            out.push(*first);
            1
        }
        [] => 1,
    })
}

/// The character an entity name (between `&` and `;`) stands for.
fn entity(name: &[u8]) -> Option<char> {
    let number = |digits: &[u8], radix: u32| {
        let text = std::str::from_utf8(digits).ok()?;
        if text.is_empty() || !text.chars().all(|c| c.is_digit(radix)) {
            return None;
        }
        u32::from_str_radix(text, radix)
            .ok()
            .and_then(char::from_u32)
    };
    match name {
        b"amp" => Some('&'),
        b"lt" => Some('<'),
        b"gt" => Some('>'),
        b"quot" => Some('"'),
        b"apos" => Some('\''),
        b"nbsp" => Some(' '),
        [b'#', b'x' | b'X', hex @ ..] => number(hex, 16),
        [b'#', dec @ ..] => number(dec, 10),
        _ => None,
    }
}

/// Decodes HTML character references (`&amp;`, `&lt;`, `&#45;`, `&#x2d;`, …) in one pass, so
/// `&amp;lt;` becomes `&lt;`.
pub fn decode_entities<'a>(f: &Finders, s: &'a [u8]) -> Cow<'a, [u8]> {
    rewrite(s, &f.entity, |out, tail| {
        let end = tail.iter().take(12).position(|&b| b == b';');
        match end.and_then(|e| Some((e, entity(tail.get(1..e)?)?))) {
            Some((e, c)) => {
                push_char(out, c);
                e + 1
            }
            None => {
                out.push(b'&');
                1
            }
        }
    })
}

/// Removes tags: everything from a `<` to the next `>` (an unclosed `<` hides the rest), as a
/// reader of the page would not see them (a `<mark>` may split a canary).
pub fn strip_tags<'a>(f: &Finders, s: &'a [u8]) -> Cow<'a, [u8]> {
    rewrite(s, &f.tag_open, |_, tail| {
        find(&f.tag_close, tail).map_or(tail.len(), |gt| gt + 1)
    })
}

/// Decodes `%XX` (lower-casing the result) and `+` as a space; a `%` without two hex digits
/// stays.
pub fn percent_decode<'a>(f: &Finders, s: &'a [u8]) -> Cow<'a, [u8]> {
    rewrite(s, &f.percent, |out, tail| match tail {
        [b'+', ..] => {
            out.push(b' ');
            1
        }
        [b'%', hi, lo, ..] if hi.is_ascii_hexdigit() && lo.is_ascii_hexdigit() => {
            let digit = |d: u8| (d as char).to_digit(16).unwrap_or(0) as u8;
            out.push(((digit(*hi) << 4) | digit(*lo)).to_ascii_lowercase());
            3
        }
        _ => {
            out.push(b'%');
            1
        }
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn s(v: Cow<'_, [u8]>) -> String {
        String::from_utf8_lossy(&v).into_owned()
    }

    #[test]
    fn json_escapes_and_markers_are_undone() {
        let f = Finders::new().unwrap();
        assert_eq!(
            s(unescape_json(&f, br#"a\u0043b \"q\" \/ \\n x\ny"#)),
            "acb \"q\" / \\n x\ny"
        );
        assert_eq!(s(unescape_json(&f, br"caf\u00e9 \ud83d\ude00")), "café 😀");
        assert_eq!(
            s(unescape_json(&f, b"@@@hl@@@ca@@@endhl@@@nary a@b")),
            "canary a@b"
        );
        assert_eq!(s(unescape_json(&f, br"\u00zz \")), "00zz ");
        assert_eq!(
            s(unescape_json(&f, br"\ud800x")),
            "x",
            "a lone surrogate is dropped"
        );
    }

    #[test]
    fn entities_tags_and_percent_encoding_are_undone() {
        let f = Finders::new().unwrap();
        assert_eq!(
            s(decode_entities(
                &f,
                b"r&amp;d &lt;b&gt; &#45;&#x2D;&#X41; &amp;lt; &bogus; &"
            )),
            "r&d <b> --a &lt; &bogus; &"
        );
        assert_eq!(
            s(strip_tags(&f, b"<p>canary-<mark>acme</mark>-1</p> a<b")),
            "canary-acme-1 a"
        );
        assert_eq!(s(percent_decode(&f, b"a%2Db+c %zz%4")), "a-b c %zz%4");
        assert_eq!(lower(b"CANARY-\xc3\x89"), "canary-\u{c9}".as_bytes());
    }

    #[test]
    fn nothing_to_undo_borrows_the_input() {
        let f = Finders::new().unwrap();
        let plain = b"plain text, nothing special";
        for form in [
            unescape_json(&f, plain),
            decode_entities(&f, plain),
            strip_tags(&f, plain),
            percent_decode(&f, plain),
        ] {
            assert!(matches!(form, Cow::Borrowed(_)));
        }
        assert!(f.has_tag(b"a<b") && !f.has_tag(b"a>b"));
    }
}
