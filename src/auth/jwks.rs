//! One issuer's JSON Web Key Set document, parsed strictly into its usable keys (the store
//! that fetches and refreshes it is `store.rs`).
//!
//! Parsing (threats.md J11): the body is capped by the fetch (`max_jwks_bytes`); at most
//! [`MAX_KEYS`] entries; a key is dropped (with a warning) when it is `kty: oct`, `use: enc`,
//! not for `verify`, RSA outside 2048–4096 bits, EC off P-256, without a `kid`, has a
//! duplicate member, or shares its `kid` with another usable key. A set with no usable key is
//! an error, so the previous keys stay in place.
//!
//! Deliberately not done: no fetching here, no `Cache-Control` handling.

use std::collections::HashMap;
use std::sync::Arc;

use http::StatusCode;
use jsonwebtoken::Algorithm;
use serde_json::value::RawValue;

use super::json::{members, Members};
use super::keys::{base64_url, VerifyKey};
use crate::http_client::FetchError;

/// Most entries a key set may have; a bigger set is refused as a whole.
pub(super) const MAX_KEYS: usize = 100;
/// Longest `kid` accepted, in bytes (tokens and key sets alike).
pub(super) const MAX_KID_BYTES: usize = 256;

/// Why a key set could not be used.
#[derive(Debug, thiserror::Error)]
pub enum JwksError {
    #[error("the key set could not be fetched")]
    Fetch(#[source] FetchError),
    #[error("the key set answer had status {0}")]
    Status(StatusCode),
    #[error("the key set is not a JSON object with a `keys` array")]
    NotJwks,
    #[error("the key set has more than {MAX_KEYS} keys")]
    TooManyKeys,
    #[error("the key set has no usable signing key")]
    NoUsableKeys,
    #[error("the discovery document could not be used")]
    Discovery(#[source] super::discovery::DiscoveryError),
}

/// A key that was left out of a set, and why (for the log).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Dropped {
    pub kid: Option<String>,
    pub why: &'static str,
}

/// Usable keys by `kid`.
#[derive(Debug, Default)]
pub(super) struct KeySet {
    keys: HashMap<String, Arc<VerifyKey>>,
}

impl KeySet {
    /// The key with this `kid`.
    pub fn get(&self, kid: &str) -> Option<Arc<VerifyKey>> {
        self.keys.get(kid).cloned()
    }

    /// True when no key is usable.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// How many keys are usable.
    pub fn len(&self) -> usize {
        self.keys.len()
    }
}

/// Parses a JWKS document into its usable keys plus the list of dropped entries.
pub(super) fn parse_jwks(body: &[u8]) -> Result<(KeySet, Vec<Dropped>), JwksError> {
    let top = members(body, 16).ok_or(JwksError::NotJwks)?;
    if top.duplicate {
        return Err(JwksError::NotJwks);
    }
    let raw_keys = top.get("keys").ok_or(JwksError::NotJwks)?;
    let entries: Vec<&RawValue> =
        serde_json::from_str(raw_keys.get()).map_err(|_| JwksError::NotJwks)?;
    if entries.len() > MAX_KEYS {
        return Err(JwksError::TooManyKeys);
    }
    let mut dropped = Vec::new();
    let mut by_kid: HashMap<String, Vec<VerifyKey>> = HashMap::new();
    for entry in entries {
        match parse_jwk(entry) {
            Ok((kid, key)) => by_kid.entry(kid).or_default().push(key),
            Err(d) => dropped.push(d),
        }
    }
    let mut set = KeySet::default();
    for (kid, mut copies) in by_kid {
        // Two usable keys under one kid: which one the IdP signs with is ambiguous; drop both.
        match (copies.pop(), copies.is_empty()) {
            (Some(key), true) => {
                set.keys.insert(kid, Arc::new(key));
            }
            _ => dropped.push(Dropped {
                kid: Some(kid),
                why: "kid shared by several keys",
            }),
        }
    }
    if set.is_empty() {
        return Err(JwksError::NoUsableKeys);
    }
    Ok((set, dropped))
}

/// Parses one JWK, or says why it is left out.
fn parse_jwk(raw: &RawValue) -> Result<(String, VerifyKey), Dropped> {
    let drop = |kid: Option<&str>, why| Dropped {
        kid: kid.map(str::to_owned),
        why,
    };
    let m = members(raw.get().as_bytes(), 32).ok_or_else(|| drop(None, "not a JSON object"))?;
    let kid = string(&m, "kid").map_err(|_| drop(None, "kid is not a string"))?;
    let kid = kid.as_deref();
    if m.duplicate || m.too_many {
        return Err(drop(kid, "duplicate or too many members"));
    }
    let Some(kid) = kid.filter(|k| !k.is_empty() && k.len() <= MAX_KID_BYTES) else {
        return Err(drop(kid, "no usable kid"));
    };
    let field = |name| string(&m, name).map_err(|_| drop(Some(kid), "a member has the wrong type"));
    if field("use")?.is_some_and(|u| u != "sig") {
        return Err(drop(Some(kid), "not a signature key (use)"));
    }
    if let Some(ops) = m.get("key_ops") {
        let ops: Vec<String> =
            serde_json::from_str(ops.get()).map_err(|_| drop(Some(kid), "key_ops malformed"))?;
        if !ops.iter().any(|op| op == "verify") {
            return Err(drop(Some(kid), "not a verification key (key_ops)"));
        }
    }
    let alg = match field("alg")? {
        None => None,
        Some(name) => Some(
            name.parse::<Algorithm>()
                .map_err(|_| drop(Some(kid), "unsupported alg"))?,
        ),
    };
    let key = match field("kty")?.as_deref() {
        Some("RSA") => {
            let n = field("n")?.as_deref().and_then(base64_url);
            let e = field("e")?.as_deref().and_then(base64_url);
            let (Some(n), Some(e)) = (n, e) else {
                return Err(drop(Some(kid), "RSA key without n and e"));
            };
            if e.is_empty() || e.len() > 8 {
                return Err(drop(Some(kid), "RSA exponent out of range"));
            }
            VerifyKey::from_rsa_parts(&n, &e, alg)
                .map_err(|_| drop(Some(kid), "RSA key size out of range"))?
        }
        Some("EC") => {
            if field("crv")?.as_deref() != Some("P-256") {
                return Err(drop(Some(kid), "EC key not on P-256"));
            }
            let (Some(x), Some(y)) = (field("x")?, field("y")?) else {
                return Err(drop(Some(kid), "EC key without x and y"));
            };
            VerifyKey::from_p256_parts(&x, &y, alg)
                .map_err(|_| drop(Some(kid), "EC point malformed"))?
        }
        Some("oct") => return Err(drop(Some(kid), "symmetric key (kty oct)")),
        _ => return Err(drop(Some(kid), "unsupported kty")),
    };
    if let Some(alg) = alg {
        if !key.accepts(alg) {
            return Err(drop(Some(kid), "alg does not fit the key type"));
        }
    }
    Ok((kid.to_owned(), key))
}

/// A string member: `Ok(None)` when absent, `Err` when present with another type.
fn string(m: &Members<'_>, name: &str) -> Result<Option<String>, ()> {
    match m.get(name) {
        None => Ok(None),
        Some(raw) => serde_json::from_str::<String>(raw.get())
            .map(Some)
            .map_err(|_| ()),
    }
}

/// An error and its sources, `: `-separated, for one log field.
pub(super) fn chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
