//! A tiny ordered JSON builder for the simulator's answers.
//!
//! `serde_json::Value` (without `preserve_order`) sorts object keys, so `_expandable` and
//! `_links` would come before `id` — unlike Confluence, which sends `id, type, status, title, …`
//! first. This builder keeps keys in insertion order, exactly as Confluence orders them, and can
//! (on purpose, for the `DuplicateKeys` fault) hold the same key twice.
//!
//! Guarantees: always writes syntactically valid JSON (strings escaped per RFC 8259 §7,
//! non-finite floats written as `0`). Deliberately not: parsing — tests use `serde_json` for that.

/// A JSON value whose objects keep insertion order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum J {
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Arr(Vec<J>),
    Obj(Vec<(String, J)>),
}

impl J {
    /// An empty object.
    pub(crate) fn obj() -> J {
        J::Obj(Vec::new())
    }

    /// Appends `key: value` (builder style). Does not check for an existing key.
    pub(crate) fn with(mut self, key: &str, value: impl Into<J>) -> J {
        self.push(key, value);
        self
    }

    /// Appends `key: value` to an object; no-op on other values.
    pub(crate) fn push(&mut self, key: &str, value: impl Into<J>) {
        if let J::Obj(entries) = self {
            entries.push((key.to_owned(), value.into()));
        }
    }

    /// Replaces the value of `key` in place, or appends it.
    pub(crate) fn set(&mut self, key: &str, value: impl Into<J>) {
        if let J::Obj(entries) = self {
            let value = value.into();
            match entries.iter_mut().find(|(k, _)| k == key) {
                Some(slot) => slot.1 = value,
                None => entries.push((key.to_owned(), value)),
            }
        }
    }

    /// Removes every entry named `key` from an object.
    pub(crate) fn remove(&mut self, key: &str) {
        if let J::Obj(entries) = self {
            entries.retain(|(k, _)| k != key);
        }
    }

    /// Serializes compactly.
    pub(crate) fn to_json(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut String) {
        match self {
            J::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            J::Int(i) => out.push_str(&i.to_string()),
            J::Float(f) if f.is_finite() => {
                let s = f.to_string();
                out.push_str(&s);
                if !s.contains(['.', 'e', 'E']) {
                    out.push_str(".0");
                }
            }
            J::Float(_) => out.push('0'),
            J::Str(s) => write_str(s, out),
            J::Arr(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write(out);
                }
                out.push(']');
            }
            J::Obj(entries) => {
                out.push('{');
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_str(k, out);
                    out.push(':');
                    v.write(out);
                }
                out.push('}');
            }
        }
    }
}

/// Writes `s` as a JSON string literal.
pub(crate) fn write_str(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

impl From<&str> for J {
    fn from(s: &str) -> J {
        J::Str(s.to_owned())
    }
}
impl From<String> for J {
    fn from(s: String) -> J {
        J::Str(s)
    }
}
impl From<&String> for J {
    fn from(s: &String) -> J {
        J::Str(s.clone())
    }
}
impl From<i64> for J {
    fn from(i: i64) -> J {
        J::Int(i)
    }
}
impl From<u32> for J {
    fn from(i: u32) -> J {
        J::Int(i64::from(i))
    }
}
impl From<usize> for J {
    fn from(i: usize) -> J {
        J::Int(i64::try_from(i).unwrap_or(i64::MAX))
    }
}
impl From<u64> for J {
    fn from(i: u64) -> J {
        J::Int(i64::try_from(i).unwrap_or(i64::MAX))
    }
}
impl From<f64> for J {
    fn from(f: f64) -> J {
        J::Float(f)
    }
}
impl From<bool> for J {
    fn from(b: bool) -> J {
        J::Bool(b)
    }
}
impl From<Vec<J>> for J {
    fn from(v: Vec<J>) -> J {
        J::Arr(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_keep_insertion_order_and_escape_strings() {
        let j = J::obj()
            .with("id", "1")
            .with("title", "a \"q\" \\ \n\u{1}")
            .with("n", 2i64);
        let s = j.to_json();
        assert_eq!(s, r#"{"id":"1","title":"a \"q\" \\ \n\u0001","n":2}"#);
        let parsed: serde_json::Value = serde_json::from_str(&s).unwrap();
        assert_eq!(parsed["title"], "a \"q\" \\ \n\u{1}");
    }

    #[test]
    fn set_replaces_and_remove_deletes() {
        let mut j = J::obj().with("a", 1i64).with("b", 2i64);
        j.set("a", 3i64);
        j.remove("b");
        j.set(
            "c",
            J::Arr(vec![J::Bool(true), J::Float(0.5), J::Float(1.0)]),
        );
        assert_eq!(j.to_json(), r#"{"a":3,"c":[true,0.5,1.0]}"#);
    }
}
