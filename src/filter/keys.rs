//! Duplicate-key detection for the objects the filter walks key by key.
//!
//! Two parsers that disagree about `{"id":"1","id":"2"}` are a classic way past a filter, so
//! every object on the policy path (top level, result, content, space, metadata, labels, label
//! entries, ancestors, links, body) refuses a repeated key ([`FilterError::DuplicateKey`]). A key
//! written with escapes is refused outright on those objects ([`FilterError::Shape`]):
//! Confluence never escapes its keys, and refusing them makes "raw bytes equal" mean "keys
//! equal", so `"\u0069d"` cannot pose as a second `"id"`.
//!
//! Two ways to record a key, one contract. A walker that matches a key by name marks it with
//! [`KeySet::once`] and the slot that name has in that walker: one bit test, no fingerprint.
//! Every other key goes through [`KeyTracker::insert`]: one fingerprint and one bloom-bit test;
//! a real comparison only on a bloom hit; a key of at most 8 bytes compared as one word. The two
//! never need comparing with each other: a named key and an unnamed one differ in their bytes,
//! and an escaped key never matches a name, so it reaches `insert`, which refuses it.
//!
//! Deliberately not done here: objects the filter skips or copies whole as a value (inside them,
//! keys are not read, so nothing kbgate decides can depend on which duplicate wins).

use super::json::Str;
use super::{FilterError, Res};

/// The keys seen so far in one object.
pub(super) struct KeySet {
    /// One bit per named key slot ([`KeySet::once`]).
    named: u64,
    /// One bit per key hash: a key whose bit is clear cannot be a duplicate.
    bloom: u64,
    /// Where this object's keys start in [`KeyTracker::recs`].
    base: usize,
    /// Names the object in the error, e.g. `"content"`.
    what: &'static str,
}

impl KeySet {
    /// Records the key the walker matched by name as `slot` (0..64, one per name in that
    /// walker): refuses its second occurrence. Keys not matched by name go to
    /// [`KeyTracker::insert`] instead.
    #[inline(always)]
    pub fn once(&mut self, slot: u32) -> Res<()> {
        let bit = 1u64 << (slot & 63);
        if self.named & bit != 0 {
            return Err(Box::new(FilterError::DuplicateKey(self.what)));
        }
        self.named |= bit;
        Ok(())
    }
}

/// A recorded key: a fingerprint that is the whole key when it is at most 8 bytes long, and its
/// position.
#[derive(Clone, Copy)]
struct KeyRec {
    fp: u64,
    start: usize,
    len: usize,
}

/// The keys of every object currently open under a [`KeySet`], innermost last; one buffer
/// reused for the whole scan.
pub(super) struct KeyTracker {
    recs: Vec<KeyRec>,
}

impl KeyTracker {
    /// An empty tracker with room for a few nested objects.
    pub fn new() -> Self {
        KeyTracker {
            recs: Vec::with_capacity(64),
        }
    }

    /// Starts tracking an object.
    #[inline(always)]
    pub fn begin(&self, what: &'static str) -> KeySet {
        KeySet {
            named: 0,
            bloom: 0,
            base: self.recs.len(),
            what,
        }
    }

    /// Records `key` (a token of `body`) in `set`: refuses an escaped key and a repeated one.
    #[inline(always)]
    pub fn insert(&mut self, body: &[u8], set: &mut KeySet, key: Str) -> Res<()> {
        if key.escaped {
            return Err(Box::new(FilterError::Shape(
                "escaped key in an object kbgate reads",
            )));
        }
        let start = key.span.start() + 1;
        let len = key.span.end().saturating_sub(start + 1);
        let fp = fingerprint(body, start, len);
        let bit = 1u64 << (fp.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 58);
        if set.bloom & bit != 0 && self.seen_before(body, set, fp, start, len) {
            return Err(Box::new(FilterError::DuplicateKey(set.what)));
        }
        set.bloom |= bit;
        self.recs.push(KeyRec { fp, start, len });
        Ok(())
    }

    /// The slow half of [`KeyTracker::insert`], after a bloom hit: compares for real.
    #[inline(never)]
    fn seen_before(&self, body: &[u8], set: &KeySet, fp: u64, start: usize, len: usize) -> bool {
        let same = |k: &KeyRec| {
            k.fp == fp
                && k.len == len
                && (len <= 8 || body.get(k.start..k.start + len) == body.get(start..start + len))
        };
        self.recs
            .get(set.base..)
            .unwrap_or_default()
            .iter()
            .any(same)
    }

    /// Stops tracking an object.
    #[inline(always)]
    pub fn end(&mut self, set: KeySet) {
        self.recs.truncate(set.base);
    }
}

/// The bytes `start..start + len` as a little-endian word when `len <= 8` (keys hold no NUL, so
/// the word is the key), else a mix of the first and last 8 bytes and the length.
#[inline(always)]
fn fingerprint(body: &[u8], start: usize, len: usize) -> u64 {
    let word = |at: usize| {
        body.get(at..at + 8)
            .and_then(|c| <[u8; 8]>::try_from(c).ok())
            .map(u64::from_le_bytes)
    };
    if len > 8 {
        return word(start).unwrap_or(0)
            ^ word(start + len - 8).unwrap_or(0).rotate_left(29)
            ^ len as u64;
    }
    match word(start) {
        Some(w) if len == 8 => w,
        Some(w) => w & ((1u64 << (len * 8)) - 1),
        // Too close to the end of the body for one load.
        None => {
            let raw = body.get(start..start + len).unwrap_or_default();
            raw.iter().rev().fold(0, |acc, &c| acc << 8 | u64::from(c))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::json::Cursor;

    /// Inserts every key of a flat object; returns the error, if any.
    fn keys_of(json: &str) -> Res<()> {
        let mut cur = Cursor::new(json.as_bytes())?;
        cur.begin_object()?;
        let mut set = cur.keys_begin("test");
        let mut first = true;
        while let Some(key) = cur.next_key(&mut first)? {
            cur.key_insert(&mut set, key)?;
            cur.skip_value()?;
        }
        cur.keys_end(set);
        Ok(())
    }

    #[test]
    fn distinct_keys_of_every_length_pass_and_any_repeat_is_caught() {
        let names: Vec<String> = (1..=20).map(|n| "k".repeat(n)).collect();
        let distinct: Vec<String> = names.iter().map(|n| format!("\"{n}\":1")).collect();
        assert!(keys_of(&format!("{{{}}}", distinct.join(","))).is_ok());
        for n in &names {
            let repeated = format!("{{{},\"{n}\":2}}", distinct.join(","));
            assert!(
                matches!(
                    keys_of(&repeated).map_err(|e| *e),
                    Err(FilterError::DuplicateKey("test"))
                ),
                "{n}"
            );
        }
    }

    #[test]
    fn long_keys_that_share_a_fingerprint_shape_are_told_apart() {
        // Same length, same first and last 8 bytes: only the middle differs.
        assert!(keys_of(r#"{"abcdefghXijklmnop":1,"abcdefghYijklmnop":2}"#).is_ok());
        assert!(keys_of(r#"{"abcdefghXijklmnop":1,"abcdefghXijklmnop":2}"#).is_err());
    }

    #[test]
    fn a_key_at_the_very_end_of_the_body_is_still_compared() {
        // The last key is too close to the end for a word load; both paths must agree.
        assert!(keys_of(r#"{"ab":1,"ab":2}"#).is_err());
        assert!(keys_of(r#"{"ab":1,"ba":2}"#).is_ok());
    }
}
