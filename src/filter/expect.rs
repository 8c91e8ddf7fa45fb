//! Typed value readers on the scanner: "this member must be a string (or null), a number, a
//! count, an object, an array".
//!
//! Guarantees: a value of another JSON type is refused with [`FilterError::Shape`] naming the
//! member — never passed through, never coerced. A count must be a plain non-negative integer
//! that fits `u64` (no sign, fraction or exponent).
//!
//! Deliberately not done here: any grammar checking (the cursor in `json.rs` does it).

use super::json::{Cursor, Span, Str};
use super::{FilterError, Res};

impl<'a> Cursor<'a> {
    /// Reads a string value; any other value type is the shape error `what`.
    #[inline(always)]
    pub fn expect_string(&mut self, what: &'static str) -> Res<Str> {
        if self.peek()? == b'"' {
            self.string_here()
        } else {
            Err(Box::new(FilterError::Shape(what)))
        }
    }

    /// Reads a string value or `null` (`None`); any other value type is the shape error `what`.
    #[inline(always)]
    pub fn string_or_null(&mut self, what: &'static str) -> Res<Option<Str>> {
        match self.peek()? {
            b'"' => self.string_here().map(Some),
            b'n' => self.literal(b"null").map(|()| None),
            _ => Err(Box::new(FilterError::Shape(what))),
        }
    }

    /// Reads a number value; any other value type is the shape error `what`.
    pub fn expect_number(&mut self, what: &'static str) -> Res<Span> {
        match self.peek()? {
            b'-' | b'0'..=b'9' => self.number(),
            _ => Err(Box::new(FilterError::Shape(what))),
        }
    }

    /// Reads a non-negative integer that fits `u64`; anything else is the shape error `what`.
    pub fn expect_u64(&mut self, what: &'static str) -> Res<u64> {
        let span = self.expect_number(what)?;
        let digits = self.text(span).ok_or(FilterError::Shape(what))?;
        // The scanner has checked the number's grammar: only a sign, a fraction, an exponent
        // or an overflow can still make it something other than a count.
        let mut value = 0u64;
        for d in digits.bytes() {
            if !d.is_ascii_digit() {
                return Err(Box::new(FilterError::Shape(what)));
            }
            value = value
                .checked_mul(10)
                .and_then(|v| v.checked_add(u64::from(d - b'0')))
                .ok_or(FilterError::Shape(what))?;
        }
        Ok(value)
    }

    /// Enters an object value; any other value type is the shape error `what`.
    pub fn expect_object(&mut self, what: &'static str) -> Res<()> {
        if self.peek()? == b'{' {
            self.enter()
        } else {
            Err(Box::new(FilterError::Shape(what)))
        }
    }

    /// Reads an object value (anything else is the shape error `what`), checking its keys for
    /// duplicates, and returns its string member `name`, decoded, if it has one.
    pub fn string_member(&mut self, what: &'static str, name: &[u8]) -> Res<Option<String>> {
        self.expect_object(what)?;
        let mut keys = self.keys_begin(what);
        let mut found = None;
        let mut first = true;
        while let Some(key) = self.next_key(&mut first)? {
            self.key_insert(&mut keys, key)?;
            if self.raw_inner(key) == name && self.peek()? == b'"' {
                let s = self.string_here()?;
                found = Some(self.decode(s)?.into_owned());
            } else {
                self.skip_value()?;
            }
        }
        self.keys_end(keys);
        Ok(found)
    }

    /// Enters an array value; any other value type is the shape error `what`.
    pub fn expect_array(&mut self, what: &'static str) -> Res<()> {
        if self.peek()? == b'[' {
            self.enter()
        } else {
            Err(Box::new(FilterError::Shape(what)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(json: &str) -> Option<u64> {
        Cursor::new(json.as_bytes())
            .and_then(|mut c| c.expect_u64("count"))
            .ok()
    }

    #[test]
    fn counts_are_plain_non_negative_integers_that_fit_u64() {
        assert_eq!(count("0"), Some(0));
        assert_eq!(count("25"), Some(25));
        assert_eq!(count(" 7"), Some(7));
        assert_eq!(count("18446744073709551615"), Some(u64::MAX));
        for bad in [
            "18446744073709551616",
            "99999999999999999999",
            "-1",
            "-0",
            "1.0",
            "1e3",
            "2E0",
            "\"3\"",
            "null",
        ] {
            assert_eq!(count(bad), None, "{bad}");
        }
    }
}
