//! Identifier newtypes that must never be mixed up: organizations, content, spaces.
//!
//! Each constructor validates the character set, so an id that reached a newtype can be put into a
//! CQL literal or a URL path without further escaping surprises. Ids of up to 24 bytes (every
//! Confluence content id and nearly every key) are stored inline: the filter makes thousands per
//! second and none of them allocates.

use std::fmt;

use compact_str::CompactString;

/// A map keyed by content id, hashed with foldhash (randomly seeded per map): a response's
/// decisions are looked up several times per item, and SipHash was a visible share of it.
pub type IdMap<V> = std::collections::HashMap<ContentId, V, foldhash::fast::RandomState>;

/// Why a string was refused as an identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("is empty")]
    Empty,
    #[error("is longer than {max} characters")]
    TooLong { max: usize },
    #[error("contains a character outside {allowed}")]
    BadChar { allowed: &'static str },
}

fn check(
    s: &str,
    max: usize,
    allowed: &'static str,
    ok: impl Fn(u8) -> bool,
) -> Result<(), IdError> {
    if s.is_empty() {
        return Err(IdError::Empty);
    }
    if s.len() > max {
        return Err(IdError::TooLong { max });
    }
    // Every allowed set is ASCII: a byte test is a character test (no byte of a multi-byte
    // character is ASCII, so such a character fails as it should).
    if !s.bytes().all(ok) {
        return Err(IdError::BadChar { allowed });
    }
    Ok(())
}

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(CompactString);

        impl $name {
            /// The identifier as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

string_id!(
    /// A customer organization, e.g. `acme`: lowercase letters, digits, `-` and `_`.
    OrgId
);
string_id!(
    /// A Confluence content id (page, blog post, attachment, comment): ASCII letters and digits.
    ContentId
);
string_id!(
    /// A Confluence space key, e.g. `KB`: ASCII letters, digits, `_` and `~` (personal spaces).
    SpaceKey
);

impl OrgId {
    /// Validates an organization id (1–64 characters of `[a-z0-9_-]`).
    pub fn new(s: &str) -> Result<Self, IdError> {
        check(s, 64, "a-z 0-9 - _", |c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-' || c == b'_'
        })?;
        Ok(Self(CompactString::new(s)))
    }
}

impl ContentId {
    /// Validates a content id (1–64 ASCII letters or digits).
    pub fn new(s: &str) -> Result<Self, IdError> {
        check(s, 64, "A-Z a-z 0-9", |c| c.is_ascii_alphanumeric())?;
        Ok(Self(CompactString::new(s)))
    }

    /// True when the id is all digits, as page and blog post ids are.
    pub fn is_numeric(&self) -> bool {
        self.0.bytes().all(|b| b.is_ascii_digit())
    }
}

impl SpaceKey {
    /// Validates a space key (1–255 characters of `[A-Za-z0-9_~]`).
    pub fn new(s: &str) -> Result<Self, IdError> {
        check(s, 255, "A-Z a-z 0-9 _ ~", |c| {
            c.is_ascii_alphanumeric() || c == b'_' || c == b'~'
        })?;
        Ok(Self(CompactString::new(s)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_reject_characters_that_could_escape_a_literal() {
        assert!(OrgId::new("acme").is_ok());
        assert!(OrgId::new("Acme").is_err());
        assert!(OrgId::new("acme\"").is_err());
        assert!(OrgId::new("").is_err());
        assert!(ContentId::new("12345").unwrap().is_numeric());
        assert!(!ContentId::new("att12").unwrap().is_numeric());
        assert!(ContentId::new("1 OR 1").is_err());
        assert!(SpaceKey::new("KB").is_ok());
        assert!(SpaceKey::new("K B").is_err());
        assert!(SpaceKey::new(&"K".repeat(256)).is_err());
    }
}
