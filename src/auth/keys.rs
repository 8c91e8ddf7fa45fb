//! Verification keys and the rule that pins each key to the algorithms it may verify.
//!
//! A [`VerifyKey`] knows its family ([`KeyKind`]) and, when a JWK said so, its one `alg`.
//! [`VerifyKey::accepts`] is the only place that decides whether a header `alg` may be checked
//! with a key: RSA keys only for RS*/PS*, P-256 keys only for ES256, shared secrets only for
//! HS256. This is what defeats RS256→HS256 key confusion (threats.md J2): a public key is
//! never used as an HMAC secret.
//!
//! Guarantees: RSA keys are 2048–4096 bits; EC keys are uncompressed P-256 points; a static
//! PEM must be a *public* key; a shared secret has at least 32 bytes. Deliberately not done:
//! EdDSA, ES384 and HS384/512 are not supported (no configured issuer needs them).

use jsonwebtoken::jwk::{AlgorithmParameters, Jwk};
use jsonwebtoken::{Algorithm, DecodingKey};

/// Smallest RSA modulus accepted, in bits.
pub(super) const MIN_RSA_BITS: usize = 2048;
/// Largest RSA modulus accepted, in bits: the `rsa` crate behind jsonwebtoken refuses bigger
/// keys at verification time, so they are refused up front instead.
pub(super) const MAX_RSA_BITS: usize = 4096;
/// Shortest HS256 secret accepted, in bytes.
pub(super) const MIN_SECRET_BYTES: usize = 32;

/// The family of a verification key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum KeyKind {
    /// An RSA public key: RS256/384/512, PS256/384/512.
    Rsa,
    /// An EC P-256 public key: ES256.
    EcP256,
    /// A shared secret: HS256 (demo issuers only).
    Hmac,
}

/// Why a configured key was refused.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("the PEM holds no RSA or EC public key")]
    NotPublicKeyPem(#[source] jsonwebtoken::errors::Error),
    #[error("the RSA key has {bits} bits; {MIN_RSA_BITS}–{MAX_RSA_BITS} are accepted")]
    RsaSize { bits: usize },
    #[error("the EC key is not on P-256")]
    UnsupportedCurve,
    #[error("the shared secret is shorter than {MIN_SECRET_BYTES} bytes")]
    SecretTooShort,
}

/// One key an issuer may sign with.
#[derive(Debug)]
pub(super) struct VerifyKey {
    /// The key's family.
    pub kind: KeyKind,
    /// The one algorithm this key is pinned to (a JWK's `alg`), if any.
    pub alg: Option<Algorithm>,
    /// The key material in the form jsonwebtoken verifies with.
    pub key: DecodingKey,
    /// SHA-256 of the public key material (RSA `n`/`e`, EC `x`/`y`, or the PEM): two fetches
    /// that publish the same key under a `kid` give equal fingerprints. Zero for shared secrets
    /// (never hashed, never compared).
    pub fingerprint: [u8; 32],
}

impl VerifyKey {
    /// True when a token whose header says `alg` may be verified with this key.
    pub fn accepts(&self, alg: Algorithm) -> bool {
        let family = matches!(
            (self.kind, alg),
            (
                KeyKind::Rsa,
                Algorithm::RS256
                    | Algorithm::RS384
                    | Algorithm::RS512
                    | Algorithm::PS256
                    | Algorithm::PS384
                    | Algorithm::PS512
            ) | (KeyKind::EcP256, Algorithm::ES256)
                | (KeyKind::Hmac, Algorithm::HS256)
        );
        family && self.alg.is_none_or(|pinned| pinned == alg)
    }

    /// Loads an RSA or EC P-256 public key from PEM (`PUBLIC KEY` or `RSA PUBLIC KEY`).
    pub fn from_public_pem(pem: &[u8]) -> Result<VerifyKey, KeyError> {
        match DecodingKey::from_rsa_pem(pem) {
            Ok(key) => {
                // Converting to a JWK parses the key as a *public* key: a private-key PEM fails here.
                let jwk = Jwk::from_decoding_key(&key, None).map_err(KeyError::NotPublicKeyPem)?;
                let AlgorithmParameters::RSA(params) = &jwk.algorithm else {
                    return Err(KeyError::UnsupportedCurve);
                };
                let n = base64_url(&params.n).ok_or(KeyError::RsaSize { bits: 0 })?;
                check_rsa_bits(&n)?;
                Ok(VerifyKey {
                    kind: KeyKind::Rsa,
                    alg: None,
                    key,
                    fingerprint: fingerprint(&[b"pem", pem]),
                })
            }
            Err(rsa_err) => match DecodingKey::from_ec_pem(pem) {
                Ok(key) => {
                    let point = key.try_get_as_bytes().map_err(KeyError::NotPublicKeyPem)?;
                    if !is_p256_point(point) {
                        return Err(KeyError::UnsupportedCurve);
                    }
                    Ok(VerifyKey {
                        kind: KeyKind::EcP256,
                        alg: None,
                        key,
                        fingerprint: fingerprint(&[b"pem", pem]),
                    })
                }
                Err(_) => Err(KeyError::NotPublicKeyPem(rsa_err)),
            },
        }
    }

    /// Wraps an HS256 shared secret (demo issuers only).
    pub fn from_secret(secret: &[u8]) -> Result<VerifyKey, KeyError> {
        if secret.len() < MIN_SECRET_BYTES {
            return Err(KeyError::SecretTooShort);
        }
        Ok(VerifyKey {
            kind: KeyKind::Hmac,
            alg: Some(Algorithm::HS256),
            key: DecodingKey::from_secret(secret),
            fingerprint: [0; 32],
        })
    }

    /// Builds an RSA key from big-endian `n` and `e`, checking the modulus size.
    pub fn from_rsa_parts(
        n: &[u8],
        e: &[u8],
        alg: Option<Algorithm>,
    ) -> Result<VerifyKey, KeyError> {
        check_rsa_bits(n)?;
        Ok(VerifyKey {
            kind: KeyKind::Rsa,
            alg,
            key: DecodingKey::from_rsa_raw_components(n, e),
            fingerprint: fingerprint(&[b"RSA", n, e]),
        })
    }

    /// Builds a P-256 key from base64url `x` and `y` (32 bytes each).
    pub fn from_p256_parts(
        x: &str,
        y: &str,
        alg: Option<Algorithm>,
    ) -> Result<VerifyKey, KeyError> {
        let (Some(xb), Some(yb)) = (base64_url(x), base64_url(y)) else {
            return Err(KeyError::UnsupportedCurve);
        };
        if xb.len() != 32 || yb.len() != 32 {
            return Err(KeyError::UnsupportedCurve);
        }
        let key = DecodingKey::from_ec_components(x, y).map_err(|_| KeyError::UnsupportedCurve)?;
        Ok(VerifyKey {
            kind: KeyKind::EcP256,
            alg,
            key,
            fingerprint: fingerprint(&[b"EC", &xb, &yb]),
        })
    }
}

/// The family an algorithm needs, or `None` when kbgate does not support it.
pub(super) fn kind_for(alg: Algorithm) -> Option<KeyKind> {
    match alg {
        Algorithm::RS256
        | Algorithm::RS384
        | Algorithm::RS512
        | Algorithm::PS256
        | Algorithm::PS384
        | Algorithm::PS512 => Some(KeyKind::Rsa),
        Algorithm::ES256 => Some(KeyKind::EcP256),
        Algorithm::HS256 => Some(KeyKind::Hmac),
        _ => None,
    }
}

/// Strict unpadded base64url, as JOSE uses everywhere.
pub(super) fn base64_url(text: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .ok()
}

/// SHA-256 over length-prefixed parts, so `("ab","c")` and `("a","bc")` differ.
fn fingerprint(parts: &[&[u8]]) -> [u8; 32] {
    use sha2::{Digest as _, Sha256};
    let mut hash = Sha256::new();
    for part in parts {
        hash.update((part.len() as u64).to_be_bytes());
        hash.update(part);
    }
    hash.finalize().into()
}

fn check_rsa_bits(n: &[u8]) -> Result<(), KeyError> {
    let bits = bit_length(n);
    if (MIN_RSA_BITS..=MAX_RSA_BITS).contains(&bits) {
        Ok(())
    } else {
        Err(KeyError::RsaSize { bits })
    }
}

/// Bit length of a big-endian unsigned integer (leading zero bytes ignored).
fn bit_length(n: &[u8]) -> usize {
    let mut digits = n.iter().skip_while(|b| **b == 0);
    match digits.next() {
        None => 0,
        Some(first) => (8 - first.leading_zeros() as usize) + 8 * digits.count(),
    }
}

/// An uncompressed SEC1 point of P-256 is 65 bytes starting with 0x04.
fn is_p256_point(point: &[u8]) -> bool {
    point.len() == 65 && point.first() == Some(&0x04)
}

#[cfg(test)]
mod tests {
    use super::*;

    const RSA_PUB: &[u8] = include_bytes!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/testdata/keys/demo-rsa.pub.pem"
    ));
    const RSA_PRIVATE: &[u8] = include_bytes!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/testdata/keys/demo-rsa.pem"
    ));
    const EC_PUB: &[u8] = include_bytes!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/testdata/keys/demo-ec.pub.pem"
    ));
    const EC_PRIVATE: &[u8] = include_bytes!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/testdata/keys/demo-ec.pem"
    ));

    #[test]
    fn public_pems_load_with_their_family_and_private_pems_are_refused() {
        assert_eq!(
            VerifyKey::from_public_pem(RSA_PUB).unwrap().kind,
            KeyKind::Rsa
        );
        assert_eq!(
            VerifyKey::from_public_pem(EC_PUB).unwrap().kind,
            KeyKind::EcP256
        );
        assert!(VerifyKey::from_public_pem(RSA_PRIVATE).is_err());
        assert!(VerifyKey::from_public_pem(EC_PRIVATE).is_err());
        assert!(VerifyKey::from_public_pem(b"not a pem").is_err());
    }

    #[test]
    fn each_key_family_accepts_only_its_own_algorithms() {
        let rsa = VerifyKey::from_public_pem(RSA_PUB).unwrap();
        assert!(rsa.accepts(Algorithm::RS256) && rsa.accepts(Algorithm::PS512));
        assert!(!rsa.accepts(Algorithm::HS256) && !rsa.accepts(Algorithm::ES256));
        let ec = VerifyKey::from_public_pem(EC_PUB).unwrap();
        assert!(
            ec.accepts(Algorithm::ES256)
                && !ec.accepts(Algorithm::HS256)
                && !ec.accepts(Algorithm::RS256)
        );
        let secret = VerifyKey::from_secret(&[7; 32]).unwrap();
        assert!(secret.accepts(Algorithm::HS256) && !secret.accepts(Algorithm::RS256));
        let pinned = VerifyKey {
            alg: Some(Algorithm::RS256),
            ..VerifyKey::from_public_pem(RSA_PUB).unwrap()
        };
        assert!(pinned.accepts(Algorithm::RS256) && !pinned.accepts(Algorithm::PS256));
    }

    #[test]
    fn small_rsa_moduli_and_short_secrets_are_refused() {
        let n1024 = [0xc5u8; 128];
        assert!(matches!(
            VerifyKey::from_rsa_parts(&n1024, &[1, 0, 1], None),
            Err(KeyError::RsaSize { bits: 1024 })
        ));
        let mut n2047 = vec![0u8; 257];
        n2047[1] = 0x40;
        assert!(matches!(
            VerifyKey::from_rsa_parts(&n2047, &[3], None),
            Err(KeyError::RsaSize { bits: 2047 })
        ));
        assert!(VerifyKey::from_rsa_parts(&[0x80; 256], &[1, 0, 1], None).is_ok());
        assert!(VerifyKey::from_rsa_parts(&[0x80; 512], &[1, 0, 1], None).is_ok());
        assert!(matches!(
            VerifyKey::from_rsa_parts(&[0x80; 513], &[1, 0, 1], None),
            Err(KeyError::RsaSize { bits: 4104 })
        ));
        assert!(VerifyKey::from_secret(&[1; 31]).is_err());
    }

    #[test]
    fn fingerprints_tell_key_material_apart_and_match_for_equal_keys() {
        let a = VerifyKey::from_rsa_parts(&[0x80; 256], &[1, 0, 1], None).unwrap();
        let same = VerifyKey::from_rsa_parts(&[0x80; 256], &[1, 0, 1], Some(Algorithm::RS256));
        let other_n = VerifyKey::from_rsa_parts(&[0x81; 256], &[1, 0, 1], None).unwrap();
        let other_e = VerifyKey::from_rsa_parts(&[0x80; 256], &[3], None).unwrap();
        assert_eq!(a.fingerprint, same.unwrap().fingerprint);
        assert_ne!(a.fingerprint, other_n.fingerprint);
        assert_ne!(a.fingerprint, other_e.fingerprint);
        assert_ne!(fingerprint(&[b"ab", b"c"]), fingerprint(&[b"a", b"bc"]));
    }
}
