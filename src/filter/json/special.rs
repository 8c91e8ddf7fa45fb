//! Finding the bytes a JSON string cannot hold as they are (`"`, `\`, control characters),
//! sixteen bytes per step with safe SIMD (SSE2 on x86_64, NEON on aarch64, scalar elsewhere).
//! The scanner uses it to cross string tokens, the writer to find what to escape.

use wide::u8x16;

/// A mask whose set bits mark the bytes of `chunk` that are `"`, `\` or a control character
/// (bit `j` for byte `j`): one SIMD compare per class (SSE2 on x86_64, NEON on aarch64).
#[inline(always)]
pub(super) fn specials16(chunk: [u8; 16]) -> u32 {
    let x = u8x16::new(chunk);
    let quote = x.cmp_eq(u8x16::splat(b'"'));
    let backslash = x.cmp_eq(u8x16::splat(b'\\'));
    let control = x.min(u8x16::splat(0x1f)).cmp_eq(x);
    // Only the low 16 bits can be set: the sign bits of 16 lanes.
    (quote | backslash | control).move_mask() as u32
}

/// The 16 bytes of `b` at `at`, if there are that many.
#[inline(always)]
pub(super) fn chunk16(b: &[u8], at: usize) -> Option<[u8; 16]> {
    b.get(at..at + 16)
        .and_then(|c| <[u8; 16]>::try_from(c).ok())
}

/// The index of the first byte of `b` at or after `i` that is `"`, `\` or a control character
/// (the bytes a JSON string cannot hold as they are), or `b.len()` when there is none.
/// Sixteen bytes per step; the end of `b` is read as its last sixteen bytes, the ones already
/// passed masked off.
#[inline(always)]
pub(in crate::filter) fn next_special(b: &[u8], mut i: usize) -> usize {
    while let Some(chunk) = chunk16(b, i) {
        let mask = specials16(chunk);
        if mask != 0 {
            return i + mask.trailing_zeros() as usize;
        }
        i += 16;
    }
    next_special_tail(b, i)
}

/// [`next_special`] within the last sixteen bytes of `b`: read as one chunk, the bytes before
/// `i` masked off (one at a time when `b` is shorter than sixteen bytes).
#[inline(never)]
fn next_special_tail(b: &[u8], mut i: usize) -> usize {
    let tail_start = b.len().saturating_sub(16);
    if i < b.len() {
        if let Some(chunk) = chunk16(b, tail_start) {
            let mask = specials16(chunk) >> (i - tail_start);
            return if mask == 0 {
                b.len()
            } else {
                i + mask.trailing_zeros() as usize
            };
        }
    }
    while let Some(&c) = b.get(i) {
        if c == b'"' || c == b'\\' || c < 0x20 {
            return i;
        }
        i += 1;
    }
    i.min(b.len())
}
