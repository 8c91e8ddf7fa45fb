//! Strict reading of one JSON object: its members as (name, raw value) pairs, with duplicate
//! names detected.
//!
//! JWT headers, JWT claims and JWKs are all read through [`members`], so a name that appears
//! twice (`{"sub":"a","sub":"b"}`, threats.md J8) is seen as such instead of silently taking
//! the last value, and each value is then parsed into an exact type by the caller.
//!
//! Guarantees: at most `max` members are kept (the rest are read and dropped, and reported);
//! values are borrowed, never copied. Deliberately not done: nested objects are not checked
//! for duplicates here; callers parse the values they use into typed structs.

use std::fmt;

use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;

/// The members of one JSON object, in document order.
pub(super) struct Members<'a> {
    /// (name, raw value) pairs, at most `max` of them.
    pub list: Vec<(String, &'a RawValue)>,
    /// True when some name appeared more than once.
    pub duplicate: bool,
    /// True when the object had more than `max` members.
    pub too_many: bool,
}

impl<'a> Members<'a> {
    /// The raw value of `name`, if present.
    pub fn get(&self, name: &str) -> Option<&'a RawValue> {
        self.list.iter().find(|(n, _)| n == name).map(|(_, v)| *v)
    }
}

/// Reads `json` as one object; `None` when it is not valid JSON or not an object.
pub(super) fn members(json: &[u8], max: usize) -> Option<Members<'_>> {
    let mut de = serde_json::Deserializer::from_slice(json);
    let members = de.deserialize_map(MembersVisitor { max }).ok()?;
    de.end().ok()?;
    Some(members)
}

struct MembersVisitor {
    max: usize,
}

impl<'de> Visitor<'de> for MembersVisitor {
    type Value = Members<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = Members {
            list: Vec::new(),
            duplicate: false,
            too_many: false,
        };
        while let Some(name) = map.next_key::<String>()? {
            if out.list.len() >= self.max {
                out.too_many = true;
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            if out.list.iter().any(|(n, _)| *n == name) {
                out.duplicate = true;
            }
            let value: &'de RawValue = map.next_value()?;
            out.list.push((name, value));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_names_are_reported_even_when_escaped_differently() {
        let m = members(br#"{"sub":"a","s\u0075b":"b"}"#, 8).unwrap();
        assert!(m.duplicate);
        let m = members(br#"{"sub":"a","aud":"b"}"#, 8).unwrap();
        assert!(!m.duplicate && !m.too_many);
        assert_eq!(m.get("aud").map(|v| v.get()), Some(r#""b""#));
    }

    #[test]
    fn non_objects_and_trailing_garbage_are_refused() {
        assert!(members(b"[1,2]", 8).is_none());
        assert!(members(b"\"x\"", 8).is_none());
        assert!(members(br#"{"a":1} {"b":2}"#, 8).is_none());
        assert!(members(br#"{"a":1"#, 8).is_none());
    }

    #[test]
    fn members_beyond_the_cap_are_dropped_and_reported() {
        let m = members(br#"{"a":1,"b":2,"c":{"x":[1,2]}}"#, 2).unwrap();
        assert!(m.too_many);
        assert_eq!(m.list.len(), 2);
    }
}
