//! The cursor primitives the scan memo (`filter/memo.rs`) needs: the nesting depth, the next
//! sixteen bytes as one word, and stepping over bytes that repeat an earlier value exactly.

use super::{Cursor, Span};

impl Cursor<'_> {
    /// The current nesting depth (the top-level value is depth 1 once entered).
    #[inline(always)]
    pub fn depth(&self) -> u32 {
        self.depth
    }

    /// The sixteen bytes at the cursor as one word, if the body has that many left.
    #[inline(always)]
    pub fn head(&self) -> Option<u128> {
        self.b
            .get(self.pos..self.pos + 16)
            .and_then(|w| <[u8; 16]>::try_from(w).ok())
            .map(u128::from_ne_bytes)
    }

    /// When the bytes at the cursor begin with an exact copy of `earlier` (a span that ends at
    /// or before the cursor), steps over the copy and returns true; otherwise moves nothing.
    ///
    /// Only the bytes are compared: the caller must know that `earlier` is one whole value
    /// that was scanned successfully at this same depth.
    #[inline]
    pub fn skip_repeat(&mut self, earlier: Span) -> bool {
        let len = earlier.end().saturating_sub(earlier.start());
        if len == 0 || earlier.end() > self.pos {
            return false;
        }
        let here = self.b.get(self.pos..self.pos + len);
        if here.is_some() && here == self.b.get(earlier.range()) {
            self.pos += len;
            return true;
        }
        false
    }
}
