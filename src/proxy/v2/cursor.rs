//! kbgate's own v2 paging cursor: an opaque, authenticated and encrypted position in an
//! upstream walk, bound to the route that issued it.
//!
//! A cursor is `base64url(nonce ‖ ciphertext) "." base64url(tag)` (no padding), where the
//! plaintext is `version ‖ binding ‖ skip ‖ upstream cursor`: `binding` is the first 16 bytes of
//! SHA-256 over the route's text (kind, path id and every parameter that shapes the list,
//! `limit` included), `skip` the number of items of that upstream page already served, and the
//! upstream cursor (absent for the first page). Encryption is SIV-style with HMAC-SHA256 as the
//! PRF: `nonce = HMAC(k_siv, plaintext)[..16]`, the keystream is `HMAC(k_enc, nonce ‖ counter)`
//! blocks, and `tag = HMAC(k_mac, nonce ‖ ciphertext)`; the three keys are derived from one
//! secret. So a client can neither read the upstream cursor (Confluence's cursors name the id of
//! the last item of a page, which may be hidden) nor change any bit of a cursor, nor use one on
//! another route, list or page id: any of those is a [`CursorError`] (the proxy answers 400).
//!
//! Guarantees: the same position of the same route always yields the same cursor for one key
//! (deterministic encryption reveals only equality); the tag is compared in constant time; a
//! cursor longer than [`MAX_CURSOR_BYTES`](crate::route::v2::MAX_CURSOR_BYTES) never reaches
//! here (the route refuses it). Deliberately not done: expiry (a cursor stays valid while the
//! key does; every item it leads to is decided afresh anyway) and key rotation (a fleet shares
//! one secret via [`CursorKey::from_secret`]).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// Plaintext format version.
const VERSION: u8 = 1;
/// Bytes of the route binding kept in the payload.
const BINDING_BYTES: usize = 16;
/// Bytes of the nonce.
const NONCE_BYTES: usize = 16;
/// Longest upstream cursor a position may carry.
const MAX_UPSTREAM_BYTES: usize = 512;

/// Why a cursor was refused. Every variant is the client's doing (400).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CursorError {
    /// Not two base64url parts separated by one `.`.
    #[error("the cursor is not in kbgate's format")]
    Malformed,
    /// The tag does not verify: changed, truncated or made with another key.
    #[error("the cursor does not verify")]
    BadTag,
    /// Valid, but issued for another route, list or page.
    #[error("the cursor belongs to another list")]
    OtherRoute,
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

/// The keys of kbgate's cursors (three HMAC-SHA256 keys derived from one secret).
#[derive(Clone)]
pub struct CursorKey {
    siv: HmacSha256,
    enc: HmacSha256,
    mac: HmacSha256,
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
        CursorKey {
            siv: derive(secret, b"siv"),
            enc: derive(secret, b"enc"),
            mac: derive(secret, b"mac"),
        }
    }

    /// The cursor for `position` on the route bound by `binding`.
    pub fn seal(&self, position: &Position, binding: &Binding) -> String {
        let upstream = position.upstream.as_deref().unwrap_or("").as_bytes();
        let upstream = upstream.get(..MAX_UPSTREAM_BYTES).unwrap_or(upstream);
        let mut plain = Vec::with_capacity(1 + BINDING_BYTES + 4 + upstream.len());
        plain.push(VERSION);
        plain.extend_from_slice(&binding.0);
        plain.extend_from_slice(&position.skip.to_be_bytes());
        plain.extend_from_slice(upstream);

        let nonce = prf(&self.siv, &[&plain]);
        let nonce = nonce.get(..NONCE_BYTES).unwrap_or(&nonce);
        let mut sealed = Vec::with_capacity(NONCE_BYTES + plain.len());
        sealed.extend_from_slice(nonce);
        sealed.extend_from_slice(&plain);
        if let Some((nonce, body)) = sealed.split_at_mut_checked(NONCE_BYTES) {
            self.keystream_xor(nonce, body);
        }
        let tag = prf(&self.mac, &[&sealed]);
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(&sealed),
            URL_SAFE_NO_PAD.encode(tag)
        )
    }

    /// The position a cursor stands for on the route bound by `binding`.
    pub fn open(&self, cursor: &str, binding: &Binding) -> Result<Position, CursorError> {
        let (sealed, tag) = cursor.split_once('.').ok_or(CursorError::Malformed)?;
        let mut sealed = URL_SAFE_NO_PAD
            .decode(sealed)
            .map_err(|_| CursorError::Malformed)?;
        let tag = URL_SAFE_NO_PAD
            .decode(tag)
            .map_err(|_| CursorError::Malformed)?;
        let mut mac = self.mac.clone();
        mac.update(&sealed);
        mac.verify_slice(&tag).map_err(|_| CursorError::BadTag)?;

        let (nonce, body) = sealed
            .split_at_mut_checked(NONCE_BYTES)
            .ok_or(CursorError::BadPayload)?;
        self.keystream_xor(nonce, body);
        let (version, rest) = body.split_first().ok_or(CursorError::BadPayload)?;
        if *version != VERSION {
            return Err(CursorError::BadPayload);
        }
        let (bound, rest) = rest
            .split_at_checked(BINDING_BYTES)
            .ok_or(CursorError::BadPayload)?;
        if bound != binding.0 {
            return Err(CursorError::OtherRoute);
        }
        let (skip, upstream) = rest.split_at_checked(4).ok_or(CursorError::BadPayload)?;
        let skip: [u8; 4] = skip.try_into().map_err(|_| CursorError::BadPayload)?;
        let upstream = std::str::from_utf8(upstream).map_err(|_| CursorError::BadPayload)?;
        Ok(Position {
            upstream: (!upstream.is_empty()).then(|| upstream.to_owned()),
            skip: u32::from_be_bytes(skip),
        })
    }

    /// XORs `data` with the keystream of `nonce`: `HMAC(k_enc, nonce ‖ counter)` blocks.
    fn keystream_xor(&self, nonce: &[u8], data: &mut [u8]) {
        for (counter, chunk) in (0u32..).zip(data.chunks_mut(32)) {
            let block = prf(&self.enc, &[nonce, &counter.to_be_bytes()]);
            for (d, k) in chunk.iter_mut().zip(block.iter()) {
                *d ^= *k;
            }
        }
    }
}

/// One HMAC-SHA256 over the concatenation of `parts`.
fn prf(key: &HmacSha256, parts: &[&[u8]]) -> [u8; 32] {
    let mut mac = key.clone();
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// An HMAC key for `purpose`: 64 bytes of SHA-256(purpose ‖ n ‖ secret), n = 1, 2.
fn derive(secret: &[u8], purpose: &[u8]) -> HmacSha256 {
    let mut key = [0u8; 64];
    for (n, half) in (1u8..).zip(key.chunks_mut(32)) {
        let digest = Sha256::new()
            .chain_update(b"kbgate v2 cursor ")
            .chain_update(purpose)
            .chain_update([n])
            .chain_update(secret)
            .finalize();
        for (k, d) in half.iter_mut().zip(digest.iter()) {
            *k = *d;
        }
    }
    <HmacSha256 as hmac::digest::KeyInit>::new(&key.into())
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
        let (sealed, _) = c.split_once('.').unwrap();
        let raw = URL_SAFE_NO_PAD.decode(sealed).unwrap();
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
        assert_eq!(key.open("nodot", &route), Err(CursorError::Malformed));
        assert_eq!(key.open("a.b.c", &route), Err(CursorError::Malformed));
    }

    #[test]
    fn a_cursor_of_another_route_or_key_is_refused() {
        let key = CursorKey::from_secret(b"one secret of thirty-two bytes!!");
        let children_1 = Binding::of("v2_children|pages/100001/children|limit=1");
        let children_2 = Binding::of("v2_children|pages/100002/children|limit=1");
        let c = key.seal(&at(None, 1), &children_1);
        assert_eq!(key.open(&c, &children_2), Err(CursorError::OtherRoute));
        let other = CursorKey::from_secret(b"another secret of thirty-two b!!");
        assert_eq!(other.open(&c, &children_1), Err(CursorError::BadTag));
        assert_eq!(
            format!("{key:?}"),
            "CursorKey(<redacted>)",
            "keys never print"
        );
    }
}
