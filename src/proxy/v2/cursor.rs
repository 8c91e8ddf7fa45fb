//! kbgate's own v2 paging cursor: an opaque, authenticated and encrypted position in an
//! upstream walk, bound to the route that issued it.
//!
//! A cursor is `base64url(nonce ‖ ciphertext ‖ tag)` (no padding): AES-256-GCM-SIV (the
//! `aes-gcm-siv` crate) over `version ‖ skip ‖ upstream cursor`, with the route binding as
//! associated data — the first 16 bytes of SHA-256 over the route's text (kind, path id and every
//! parameter that shapes the list, `limit` included). The nonce is synthetic (HMAC-SHA256 of
//! binding and plaintext under a separate key), so the same position of the same route always
//! yields the same cursor; GCM-SIV stays safe under such a deterministic nonce. So a client can
//! neither read the upstream cursor (Confluence's cursors name the id of the last item of a
//! page, which may be hidden) nor change any bit of a cursor, nor use one on another route, list
//! or page id: any of those is a [`CursorError`] (the proxy answers 400).
//!
//! Guarantees: the tag is checked by the AEAD before anything is read; a cursor longer than
//! [`MAX_CURSOR_BYTES`](crate::route::v2::MAX_CURSOR_BYTES) never reaches here (the route
//! refuses it). Deliberately not done: expiry (a cursor stays valid while the key does; every
//! item it leads to is decided afresh anyway) and key rotation (a fleet shares one secret via
//! [`CursorKey::from_secret`]).

use aes_gcm_siv::aead::{Aead, KeyInit, Payload};
use aes_gcm_siv::{Aes256GcmSiv, Nonce};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// Plaintext format version.
const VERSION: u8 = 1;
/// Bytes of the route binding kept in the payload.
const BINDING_BYTES: usize = 16;
/// Bytes of the AES-GCM-SIV nonce.
const NONCE_BYTES: usize = 12;
/// Longest upstream cursor a position may carry.
const MAX_UPSTREAM_BYTES: usize = 512;

/// Why a cursor was refused. Every variant is the client's doing (400).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CursorError {
    /// Not two base64url parts separated by one `.`.
    #[error("the cursor is not in kbgate's format")]
    Malformed,
    /// The tag does not verify: changed, truncated, made with another key, or issued for
    /// another route, list or page (the binding is authenticated data).
    #[error("the cursor does not verify")]
    BadTag,
    /// Valid tag but an unknown version or layout (never issued by this kbgate).
    #[error("the cursor payload is not understood")]
    BadPayload,
}

/// Where a walk resumes: an upstream page (`None`: the first) and how many of its items were
/// already served.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Position {
    /// Upstream's cursor for the page to fetch; `None` for the first page.
    pub upstream: Option<String>,
    /// Items at the start of that upstream page to skip.
    pub skip: u32,
}

/// The route binding of a cursor: the first bytes of SHA-256 over the route's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Binding([u8; BINDING_BYTES]);

impl Binding {
    /// Binds to `route_text` (kind, path id and the parameters that shape the list).
    pub fn of(route_text: &str) -> Binding {
        let digest = Sha256::digest(route_text.as_bytes());
        let mut out = [0u8; BINDING_BYTES];
        for (o, d) in out.iter_mut().zip(digest.iter()) {
            *o = *d;
        }
        Binding(out)
    }
}

/// The keys of kbgate's cursors: an AES-256-GCM-SIV key and a nonce key, derived from one
/// secret.
#[derive(Clone)]
pub struct CursorKey {
    aead: Aes256GcmSiv,
    nonce: HmacSha256,
}

impl std::fmt::Debug for CursorKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CursorKey(<redacted>)")
    }
}

impl CursorKey {
    /// A key from 32 fresh random bytes: cursors live as long as the process.
    pub fn random() -> CursorKey {
        let secret: [u8; 32] = rand::random();
        CursorKey::from_secret(&secret)
    }

    /// A key from a shared secret, so that every kbgate of a fleet accepts every cursor.
    /// The secret should be at least 32 random bytes.
    pub fn from_secret(secret: &[u8]) -> CursorKey {
        let aead_key = derive(secret, b"aead");
        let nonce_key = derive(secret, b"nonce");
        CursorKey {
            aead: Aes256GcmSiv::new(&aead_key.into()),
            nonce: hmac_key(&nonce_key),
        }
    }

    /// The cursor for `position` on the route bound by `binding`.
    pub fn seal(&self, position: &Position, binding: &Binding) -> String {
        let upstream = position.upstream.as_deref().unwrap_or("").as_bytes();
        let upstream = upstream.get(..MAX_UPSTREAM_BYTES).unwrap_or(upstream);
        let mut plain = Vec::with_capacity(1 + 4 + upstream.len());
        plain.push(VERSION);
        plain.extend_from_slice(&position.skip.to_be_bytes());
        plain.extend_from_slice(upstream);

        let mut mac = self.nonce.clone();
        mac.update(&binding.0);
        mac.update(&plain);
        let digest = mac.finalize().into_bytes();
        let mut nonce_bytes = [0u8; NONCE_BYTES];
        for (n, d) in nonce_bytes.iter_mut().zip(digest.iter()) {
            *n = *d;
        }
        let nonce = Nonce::from(nonce_bytes);
        let payload = Payload {
            msg: &plain,
            aad: &binding.0,
        };
        // Encryption of an in-memory buffer cannot fail for these sizes; an empty body would
        // only make the cursor unusable (400), never readable.
        let sealed = self.aead.encrypt(&nonce, payload).unwrap_or_default();
        let mut out = Vec::with_capacity(NONCE_BYTES + sealed.len());
        out.extend_from_slice(&nonce_bytes);
        out.extend_from_slice(&sealed);
        URL_SAFE_NO_PAD.encode(out)
    }

    /// The position a cursor stands for on the route bound by `binding`.
    pub fn open(&self, cursor: &str, binding: &Binding) -> Result<Position, CursorError> {
        let raw = URL_SAFE_NO_PAD
            .decode(cursor)
            .map_err(|_| CursorError::Malformed)?;
        let (nonce, sealed) = raw
            .split_at_checked(NONCE_BYTES)
            .ok_or(CursorError::Malformed)?;
        let nonce: [u8; NONCE_BYTES] = nonce.try_into().map_err(|_| CursorError::Malformed)?;
        let plain = self
            .aead
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: sealed,
                    aad: &binding.0,
                },
            )
            .map_err(|_| CursorError::BadTag)?;
        let (version, rest) = plain.split_first().ok_or(CursorError::BadPayload)?;
        if *version != VERSION {
            return Err(CursorError::BadPayload);
        }
        let (skip, upstream) = rest.split_at_checked(4).ok_or(CursorError::BadPayload)?;
        let skip: [u8; 4] = skip.try_into().map_err(|_| CursorError::BadPayload)?;
        let upstream = std::str::from_utf8(upstream).map_err(|_| CursorError::BadPayload)?;
        Ok(Position {
            upstream: (!upstream.is_empty()).then(|| upstream.to_owned()),
            skip: u32::from_be_bytes(skip),
        })
    }
}

/// An HMAC-SHA256 key from 32 bytes (HMAC zero-pads keys to its 64-byte block).
fn hmac_key(key: &[u8; 32]) -> HmacSha256 {
    let mut block = [0u8; 64];
    for (b, k) in block.iter_mut().zip(key.iter()) {
        *b = *k;
    }
    <HmacSha256 as KeyInit>::new(&block.into())
}

/// A 32-byte key for `purpose`: SHA-256("kbgate v2 cursor " ‖ purpose ‖ 0 ‖ secret).
fn derive(secret: &[u8], purpose: &[u8]) -> [u8; 32] {
    Sha256::new()
        .chain_update(b"kbgate v2 cursor ")
        .chain_update(purpose)
        .chain_update([0u8])
        .chain_update(secret)
        .finalize()
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(upstream: Option<&str>, skip: u32) -> Position {
        Position {
            upstream: upstream.map(str::to_owned),
            skip,
        }
    }

    #[test]
    fn a_cursor_round_trips_on_its_own_route_and_is_stable() {
        let key = CursorKey::from_secret(b"0123456789abcdef0123456789abcdef");
        let route = Binding::of("v2_pages|pages|limit=2");
        for p in [
            at(None, 0),
            at(Some("eyJvZmZzZXQiOjI1fQ"), 7),
            at(Some("x"), u32::MAX),
        ] {
            let c = key.seal(&p, &route);
            assert_eq!(key.open(&c, &route), Ok(p.clone()));
            assert_eq!(c, key.seal(&p, &route), "deterministic");
            assert!(c
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)));
            assert!(c.len() <= crate::route::v2::MAX_CURSOR_BYTES);
        }
    }

    #[test]
    fn the_upstream_cursor_cannot_be_read_from_kbgates_cursor() {
        let key = CursorKey::random();
        let upstream = "eyJpZCI6MTAwMDV9"; // {"id":10005}: the id of the page's last item
        let c = key.seal(&at(Some(upstream), 3), &Binding::of("r"));
        assert!(!c.contains(upstream));
        let raw = URL_SAFE_NO_PAD.decode(&c).unwrap();
        assert!(!raw
            .windows(upstream.len())
            .any(|w| w == upstream.as_bytes()));
        assert!(!String::from_utf8_lossy(&raw).contains("10005"));
    }

    #[test]
    fn every_flipped_bit_and_every_truncation_is_refused() {
        let key = CursorKey::from_secret(b"secret secret secret secret 1234");
        let route = Binding::of("v2_children|pages/100001/children|limit=1");
        let c = key.seal(&at(Some("abc"), 1), &route);
        let bytes = c.as_bytes();
        for i in 0..bytes.len() {
            for flip in [1u8, 0x20] {
                let mut changed = bytes.to_vec();
                changed[i] ^= flip;
                let Ok(changed) = String::from_utf8(changed) else {
                    continue;
                };
                if changed == c {
                    continue;
                }
                assert!(key.open(&changed, &route).is_err(), "{changed}");
            }
        }
        for n in 0..bytes.len() {
            assert!(key.open(&c[..n], &route).is_err(), "truncated to {n}");
        }
        assert_eq!(key.open("short", &route), Err(CursorError::Malformed));
        assert_eq!(key.open("a.b.c", &route), Err(CursorError::Malformed));
    }

    #[test]
    fn a_cursor_of_another_route_or_key_is_refused() {
        let key = CursorKey::from_secret(b"one secret of thirty-two bytes!!");
        let children_1 = Binding::of("v2_children|pages/100001/children|limit=1");
        let children_2 = Binding::of("v2_children|pages/100002/children|limit=1");
        let c = key.seal(&at(None, 1), &children_1);
        assert_eq!(key.open(&c, &children_2), Err(CursorError::BadTag));
        let other = CursorKey::from_secret(b"another secret of thirty-two b!!");
        assert_eq!(other.open(&c, &children_1), Err(CursorError::BadTag));
        assert_eq!(
            format!("{key:?}"),
            "CursorKey(<redacted>)",
            "keys never print"
        );
    }
}
