//! The simulated IdP's signing keys over time: which keys its JWKS publishes, which one signs
//! new tokens, and the outage switch — so tests can rotate keys and take the IdP down.
//!
//! The ring starts with the demo RSA key under [`DEMO_KID`]. [`KeyRing::rotate`] publishes the
//! next checked-in rotation key (`testdata/keys/rot-*.pem`) under a new kid `sim-rsa-<n>` and
//! signs with it from then on, keeping or dropping the older keys; [`KeyRing::rekey`] puts
//! the next key under the *current* kid (a provider that re-keys without a new kid). Every
//! JWKS answer is counted, and while the ring is down the JWKS and discovery endpoints answer
//! 503. The published JWKs are derived from the private keys, so they cannot drift.
//!
//! Guarantees: at most [`MAX_PUBLISHED`] keys are published; the JWKS text is rebuilt on each
//! change, never per request. Deliberately not: EC keys in the ring, or secrecy (the keys are
//! public test keys).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use jsonwebtoken::jwk::{AlgorithmParameters, Jwk};
use jsonwebtoken::{Algorithm, EncodingKey, Header};

use super::{TokenError, DEMO_KID, DEMO_RSA_PRIVATE_PEM};
use crate::sim::json::J;

/// The RSA keys the ring signs with, in rotation order (the demo key first).
const RING_KEYS: [(&str, &[u8]); 4] = [
    ("demo RSA", DEMO_RSA_PRIVATE_PEM),
    ("rot-1", include_bytes!("../../../testdata/keys/rot-1.pem")),
    ("rot-2", include_bytes!("../../../testdata/keys/rot-2.pem")),
    ("rot-3", include_bytes!("../../../testdata/keys/rot-3.pem")),
];

/// Most keys the JWKS publishes at once (the oldest is dropped first).
pub const MAX_PUBLISHED: usize = 4;

/// One published key: its kid and which of [`RING_KEYS`] it is.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Published {
    kid: String,
    key: usize,
}

#[derive(Debug)]
struct RingState {
    /// Oldest first; the last one signs new tokens.
    published: Vec<Published>,
    /// Rotations and re-keys so far (names the next kid and picks the next key).
    changes: usize,
    /// The served JWKS text for `published`.
    jwks: String,
}

/// The simulated IdP's keys, outage switch and fetch counter. Shared by the server and the handle.
#[derive(Debug)]
pub struct KeyRing {
    state: Mutex<RingState>,
    down: AtomicBool,
    jwks_fetches: AtomicU64,
    /// When set, the discovery document names this `issuer` instead of the real one.
    discovery_issuer: Mutex<Option<String>>,
}

impl KeyRing {
    /// A ring publishing only the demo key under [`DEMO_KID`].
    pub fn new() -> Result<KeyRing, TokenError> {
        let published = vec![Published {
            kid: DEMO_KID.to_owned(),
            key: 0,
        }];
        let jwks = jwks_for(&published)?;
        Ok(KeyRing {
            state: Mutex::new(RingState {
                published,
                changes: 0,
                jwks,
            }),
            down: AtomicBool::new(false),
            jwks_fetches: AtomicU64::new(0),
            discovery_issuer: Mutex::new(None),
        })
    }

    fn lock(&self) -> MutexGuard<'_, RingState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Publishes the next key under a new kid `sim-rsa-<n>` and signs with it from now on;
    /// the older keys stay published when `keep_old`, else only the new one is. Returns the
    /// new kid.
    pub fn rotate(&self, keep_old: bool) -> Result<String, TokenError> {
        let mut state = self.lock();
        let changes = state.changes + 1;
        let next = Published {
            kid: format!("sim-rsa-{changes}"),
            key: changes % RING_KEYS.len(),
        };
        let mut published = if keep_old {
            state.published.clone()
        } else {
            Vec::new()
        };
        published.push(next.clone());
        if published.len() > MAX_PUBLISHED {
            published.remove(0);
        }
        state.jwks = jwks_for(&published)?;
        state.published = published;
        state.changes = changes;
        Ok(next.kid)
    }

    /// Replaces the signing key under the current kid with the next key (same kid, new key
    /// material). Returns the kid.
    pub fn rekey(&self) -> Result<String, TokenError> {
        let mut state = self.lock();
        let changes = state.changes + 1;
        let mut published = state.published.clone();
        let Some(current) = published.last_mut() else {
            return Err(TokenError::NotRsa);
        };
        current.key = changes % RING_KEYS.len();
        let kid = current.kid.clone();
        state.jwks = jwks_for(&published)?;
        state.published = published;
        state.changes = changes;
        Ok(kid)
    }

    /// The kid new tokens are signed under.
    pub fn current_kid(&self) -> String {
        self.lock()
            .published
            .last()
            .map_or_else(|| DEMO_KID.to_owned(), |p| p.kid.clone())
    }

    /// The kids the JWKS publishes, oldest first.
    pub fn published_kids(&self) -> Vec<String> {
        self.lock()
            .published
            .iter()
            .map(|p| p.kid.clone())
            .collect()
    }

    /// Signs `claims` (RS256) with the current key under its kid.
    pub fn mint(&self, claims: &serde_json::Value) -> Result<String, TokenError> {
        let current = self.lock().published.last().cloned().unwrap_or(Published {
            kid: DEMO_KID.to_owned(),
            key: 0,
        });
        let key = ring_key(current.key)?;
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(current.kid);
        jsonwebtoken::encode(&header, claims, &key).map_err(TokenError::Sign)
    }

    /// Takes the IdP down (JWKS and discovery answer 503) or brings it back.
    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }

    /// True while the IdP is down.
    pub fn is_down(&self) -> bool {
        self.down.load(Ordering::SeqCst)
    }

    /// Makes the discovery document name `issuer` (a misconfigured or hostile provider), or
    /// with `None` the real issuer again.
    pub fn set_discovery_issuer(&self, issuer: Option<String>) {
        *self
            .discovery_issuer
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = issuer;
    }

    /// The `issuer` the discovery document should name, when overridden.
    pub fn discovery_issuer(&self) -> Option<String> {
        self.discovery_issuer
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The JWKS answer, counted as one fetch: `None` while the IdP is down.
    pub fn serve_jwks(&self) -> Option<String> {
        self.jwks_fetches.fetch_add(1, Ordering::SeqCst);
        (!self.is_down()).then(|| self.lock().jwks.clone())
    }

    /// JWKS requests answered so far (while down too).
    pub fn jwks_fetches(&self) -> u64 {
        self.jwks_fetches.load(Ordering::SeqCst)
    }
}

fn ring_key(index: usize) -> Result<EncodingKey, TokenError> {
    let (name, pem) = RING_KEYS.get(index).copied().ok_or(TokenError::NotRsa)?;
    EncodingKey::from_rsa_pem(pem).map_err(|source| TokenError::Key { key: name, source })
}

/// `{"keys":[…]}` for the published keys, each `{kty,use,alg,kid,n,e}`.
fn jwks_for(published: &[Published]) -> Result<String, TokenError> {
    let mut keys = Vec::new();
    for p in published {
        let key = ring_key(p.key)?;
        let jwk =
            Jwk::from_encoding_key(&key, Algorithm::RS256).map_err(|source| TokenError::Key {
                key: "ring",
                source,
            })?;
        let AlgorithmParameters::RSA(rsa) = jwk.algorithm else {
            return Err(TokenError::NotRsa);
        };
        keys.push(
            J::obj()
                .with("kty", "RSA")
                .with("use", "sig")
                .with("alg", "RS256")
                .with("kid", p.kid.as_str())
                .with("n", rsa.n)
                .with("e", rsa.e),
        );
    }
    Ok(J::obj().with("keys", J::Arr(keys)).to_json())
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{decode, decode_header, DecodingKey, Validation};

    fn served(ring: &KeyRing) -> serde_json::Value {
        serde_json::from_str(&ring.serve_jwks().unwrap()).unwrap()
    }

    fn verifies(ring: &KeyRing, token: &str) -> bool {
        let kid = decode_header(token).unwrap().kid.unwrap();
        let doc = served(ring);
        let Some(jwk) = doc["keys"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["kid"] == kid)
        else {
            return false;
        };
        let key = DecodingKey::from_rsa_components(
            jwk["n"].as_str().unwrap(),
            jwk["e"].as_str().unwrap(),
        )
        .unwrap();
        let mut v = Validation::new(Algorithm::RS256);
        v.required_spec_claims.clear();
        v.validate_aud = false;
        decode::<serde_json::Value>(token, &key, &v).is_ok()
    }

    fn claims() -> serde_json::Value {
        serde_json::json!({"sub": "x", "exp": 4_000_000_000u64})
    }

    #[test]
    fn rotation_publishes_a_new_kid_that_signs_and_keeps_or_drops_the_old_one() {
        let ring = KeyRing::new().unwrap();
        let old = ring.mint(&claims()).unwrap();
        assert!(verifies(&ring, &old));
        assert_eq!(ring.rotate(true).unwrap(), "sim-rsa-1");
        let new = ring.mint(&claims()).unwrap();
        assert_eq!(
            decode_header(&new).unwrap().kid.as_deref(),
            Some("sim-rsa-1")
        );
        assert!(verifies(&ring, &new) && verifies(&ring, &old));
        assert_eq!(ring.rotate(false).unwrap(), "sim-rsa-2");
        assert_eq!(ring.published_kids(), ["sim-rsa-2"]);
        assert!(!verifies(&ring, &old) && !verifies(&ring, &new));
        assert!(verifies(&ring, &ring.mint(&claims()).unwrap()));
    }

    #[test]
    fn rekeying_keeps_the_kid_but_old_signatures_stop_verifying() {
        let ring = KeyRing::new().unwrap();
        let before = ring.mint(&claims()).unwrap();
        assert_eq!(ring.rekey().unwrap(), DEMO_KID);
        let after = ring.mint(&claims()).unwrap();
        assert_eq!(
            decode_header(&after).unwrap().kid.as_deref(),
            Some(DEMO_KID)
        );
        assert!(verifies(&ring, &after));
        assert!(!verifies(&ring, &before));
    }

    #[test]
    fn a_down_ring_serves_nothing_but_counts_every_fetch_and_never_publishes_too_many() {
        let ring = KeyRing::new().unwrap();
        ring.set_down(true);
        assert!(ring.serve_jwks().is_none());
        ring.set_down(false);
        assert!(ring.serve_jwks().is_some());
        assert_eq!(ring.jwks_fetches(), 2);
        for _ in 0..10 {
            ring.rotate(true).unwrap();
        }
        assert_eq!(ring.published_kids().len(), MAX_PUBLISHED);
        assert_eq!(ring.current_kid(), "sim-rsa-10");
    }
}
