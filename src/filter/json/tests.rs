//! Unit tests of the scanner's SIMD string steps against byte-at-a-time references.

use super::super::plan::write_json_str;
use super::special::{next_special, specials16};
use super::Cursor;

fn is_special(c: u8) -> bool {
    c == b'"' || c == b'\\' || c < 0x20
}

fn reference_next_special(b: &[u8], from: usize) -> usize {
    (from..b.len())
        .find(|&i| is_special(b[i]))
        .unwrap_or(b.len())
}

#[test]
fn the_chunk_mask_marks_exactly_quotes_backslashes_and_control_bytes_in_every_lane() {
    for c in 0..=255u8 {
        for lane in 0..16 {
            let mut chunk = [b'a'; 16];
            chunk[lane] = c;
            let want = if is_special(c) { 1u32 << lane } else { 0 };
            assert_eq!(specials16(chunk), want, "byte {c:#04x} in lane {lane}");
        }
    }
}

#[test]
fn next_special_agrees_with_a_byte_scan_from_every_start_in_bodies_of_every_short_length() {
    // Bodies of 0..=50 bytes (whole chunks, the tail chunk, and bodies shorter than one chunk),
    // with one or two special bytes planted anywhere, multi-byte UTF-8 around them.
    let filler = "é-x".repeat(20);
    for len in 0..=50usize {
        let base: Vec<u8> = filler.as_bytes()[..len].to_vec();
        for (p, q) in [
            (None, None),
            (Some(0), None),
            (Some(len / 2), Some(len.saturating_sub(1))),
        ]
        .into_iter()
        .chain((0..len).map(|p| (Some(p), None)))
        {
            for special in [b'"', b'\\', b'\n', 0x00, 0x1f] {
                let mut b = base.clone();
                for at in [p, q].into_iter().flatten().filter(|&at| at < len) {
                    b[at] = special;
                }
                for from in 0..=len + 1 {
                    assert_eq!(
                        next_special(&b, from),
                        reference_next_special(&b, from),
                        "len {len}, special {special:#04x} at {p:?}/{q:?}, from {from}"
                    );
                }
            }
        }
    }
}

/// Whether the scanner takes `doc` as one valid JSON value.
fn scans(doc: &[u8]) -> bool {
    Cursor::new(doc)
        .and_then(|mut c| {
            c.skip_value()?;
            c.finish()
        })
        .is_ok()
}

#[test]
fn a_string_is_judged_as_serde_json_judges_it_wherever_its_special_byte_falls() {
    // One string of 0..40 plain bytes with an escape, a raw control byte, a stray backslash or
    // its closing quote at each offset: inside a chunk, on a chunk boundary, and in the body's
    // last fifteen bytes (read one at a time).
    for plain in 0..40 {
        for special in [
            &b"\\\""[..],
            b"\\u00e9",
            b"\\ud83d\\ude00",
            b"\x01",
            b"\\x",
            b"\\ud83d",
        ] {
            for after in 0..20 {
                let mut doc = b"\"".to_vec();
                doc.extend(std::iter::repeat_n(b'a', plain));
                doc.extend_from_slice(special);
                doc.extend(std::iter::repeat_n(b'b', after));
                doc.push(b'"');
                let theirs = serde_json::from_slice::<serde_json::Value>(&doc).is_ok();
                assert_eq!(scans(&doc), theirs, "{}", String::from_utf8_lossy(&doc));
            }
        }
        // Unterminated: the scan must run off the end and say so, not stop early.
        let mut doc = b"\"".to_vec();
        doc.extend(std::iter::repeat_n(b'a', plain));
        assert!(!scans(&doc));
    }
}

#[test]
fn written_strings_read_back_as_themselves() {
    let mut texts: Vec<String> = (0u8..0x20)
        .map(|c| format!("ab{}cd", char::from(c)))
        .collect();
    texts.extend(
        [
            "",
            "plain",
            "a \"quoted\" \\ path",
            "seventeen bytes!!\"",
            "é/ü — 😀 \n\t\r",
        ]
        .map(String::from),
    );
    texts.push("x".repeat(40) + "\"" + &"y".repeat(15));
    for text in texts {
        let mut out = Vec::new();
        write_json_str(&mut out, &text);
        let back: String = serde_json::from_slice(&out).unwrap();
        assert_eq!(back, text);
    }
}
