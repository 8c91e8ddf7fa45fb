//! The simulated identity provider: the demo RSA key (checked in under `testdata/keys/`), its
//! JWKS and OpenID discovery document, and token minting for tests — valid customer tokens and
//! deliberately bad ones (foreign key, wrong algorithm, `alg: none`, HS256 keyed with the public
//! key) so kbgate's verifier can be attacked.
//!
//! Key rotation and outages live in [`ring`]: the served JWKS is the [`KeyRing`]'s, which starts
//! with the demo key and can rotate to the checked-in `rot-*.pem` keys, re-key a kid, go down
//! (503) and count fetches.
//!
//! Guarantees: tokens minted with [`SigningKey::DemoRsa`] verify against the served JWK
//! (`kid` [`DEMO_KID`]) until a rotation drops it; the JWK is derived from the private key
//! itself, so the two cannot drift. Deliberately not: secrecy — these keys are public.

mod ring;

pub use ring::{KeyRing, MAX_PUBLISHED};

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use jsonwebtoken::jwk::{AlgorithmParameters, Jwk};
use jsonwebtoken::{Algorithm, EncodingKey, Header};

use super::json::J;
use super::DemoCustomer;

/// `kid` of the demo RSA key in the served JWKS.
pub const DEMO_KID: &str = "demo-rsa-1";
/// Name of the organizations claim in minted tokens.
pub const ORGS_CLAIM: &str = "kb_orgs";
/// The demo RSA private key (PKCS#8 PEM).
pub const DEMO_RSA_PRIVATE_PEM: &[u8] = include_bytes!("../../testdata/keys/demo-rsa.pem");
/// The demo RSA public key (SubjectPublicKeyInfo PEM).
pub const DEMO_RSA_PUBLIC_PEM: &[u8] = include_bytes!("../../testdata/keys/demo-rsa.pub.pem");
const OTHER_RSA_PRIVATE_PEM: &[u8] = include_bytes!("../../testdata/keys/other-rsa.pem");
const DEMO_EC_PRIVATE_PEM: &[u8] = include_bytes!("../../testdata/keys/demo-ec.pem");

/// Why a token or key document could not be produced.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// A checked-in key did not load.
    #[error("cannot load the {key} key")]
    Key {
        key: &'static str,
        #[source]
        source: jsonwebtoken::errors::Error,
    },
    /// Signing failed.
    #[error("cannot sign the token")]
    Sign(#[source] jsonwebtoken::errors::Error),
    /// The key is not an RSA key, so it has no JWK here.
    #[error("the demo key is not an RSA key")]
    NotRsa,
}

/// Which key signs a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigningKey {
    /// The demo RSA key, published in the JWKS (RS256).
    DemoRsa,
    /// Another RSA key, never published (RS256): signatures must fail to verify.
    OtherRsa,
    /// The demo P-256 key, never published (ES256): wrong algorithm for `demo-rsa-1`.
    DemoEc,
}

fn encoding_key(key: SigningKey) -> Result<(EncodingKey, Algorithm), TokenError> {
    let (loaded, name, alg) = match key {
        SigningKey::DemoRsa => (
            EncodingKey::from_rsa_pem(DEMO_RSA_PRIVATE_PEM),
            "demo RSA",
            Algorithm::RS256,
        ),
        SigningKey::OtherRsa => (
            EncodingKey::from_rsa_pem(OTHER_RSA_PRIVATE_PEM),
            "other RSA",
            Algorithm::RS256,
        ),
        SigningKey::DemoEc => (
            EncodingKey::from_ec_pem(DEMO_EC_PRIVATE_PEM),
            "demo EC",
            Algorithm::ES256,
        ),
    };
    let loaded = loaded.map_err(|source| TokenError::Key { key: name, source })?;
    Ok((loaded, alg))
}

/// Signs `claims` (any JSON, including expired or malformed claim sets) with `key`; `kid` is put
/// in the header when given.
pub fn try_mint_with_key(
    claims: &serde_json::Value,
    kid: Option<&str>,
    key: SigningKey,
) -> Result<String, TokenError> {
    let (encoding, alg) = encoding_key(key)?;
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, &encoding).map_err(TokenError::Sign)
}

/// A string that is certainly not a valid token, naming why minting failed. Minting uses
/// checked-in keys and cannot fail in practice (the unit tests prove it); test helpers get a
/// `String` without a panic path, and a failure shows up as a refused token with a reason.
pub(super) fn failed(error: &TokenError) -> String {
    let reason: String = error
        .to_string()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    format!("sim-mint-failed.{reason}.x")
}

/// Like [`try_mint_with_key`], returning a never-valid marker string on failure.
pub fn mint_with_key(claims: &serde_json::Value, kid: Option<&str>, key: SigningKey) -> String {
    try_mint_with_key(claims, kid, key).unwrap_or_else(|e| failed(&e))
}

/// Signs `claims` with the demo RSA key (RS256) under `kid`.
pub fn mint_with(claims: &serde_json::Value, kid: &str) -> String {
    mint_with_key(claims, Some(kid), SigningKey::DemoRsa)
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// An unsigned token (`alg: none`, empty signature) — must always be refused.
pub fn mint_unsigned(claims: &serde_json::Value) -> String {
    let header = format!(r#"{{"alg":"none","typ":"JWT","kid":"{DEMO_KID}"}}"#);
    format!(
        "{}.{}.",
        b64(header.as_bytes()),
        b64(claims.to_string().as_bytes())
    )
}

/// An HS256 token whose HMAC secret is the demo **public** key PEM (the classic key-confusion
/// attack) under `kid` [`DEMO_KID`] — must always be refused.
pub fn mint_hs256_with_public_key(claims: &serde_json::Value) -> String {
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(DEMO_KID.to_owned());
    let key = EncodingKey::from_secret(DEMO_RSA_PUBLIC_PEM);
    jsonwebtoken::encode(&header, claims, &key)
        .map_err(TokenError::Sign)
        .unwrap_or_else(|e| failed(&e))
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The claims of a valid customer token: `iss, aud, sub, email, iat, nbf, exp, kb_orgs`.
pub fn customer_claims(
    customer: &DemoCustomer,
    issuer: &str,
    audience: &str,
    ttl: Duration,
) -> serde_json::Value {
    let now = unix_now();
    serde_json::json!({
        "iss": issuer,
        "aud": audience,
        "sub": customer.subject,
        "email": customer.email,
        "iat": now,
        "nbf": now,
        "exp": now.saturating_add(ttl.as_secs()),
        ORGS_CLAIM: customer.orgs,
    })
}

/// `(n, e)` of the demo RSA key, base64url without padding.
pub fn demo_rsa_components() -> Result<(String, String), TokenError> {
    let (key, _) = encoding_key(SigningKey::DemoRsa)?;
    let jwk = Jwk::from_encoding_key(&key, Algorithm::RS256).map_err(|source| TokenError::Key {
        key: "demo RSA",
        source,
    })?;
    match jwk.algorithm {
        AlgorithmParameters::RSA(p) => Ok((p.n, p.e)),
        _ => Err(TokenError::NotRsa),
    }
}

/// The served JWKS document: `{"keys":[{kty,use,alg,kid,n,e}]}`.
pub fn jwks_json() -> Result<String, TokenError> {
    let (n, e) = demo_rsa_components()?;
    let jwk = J::obj()
        .with("kty", "RSA")
        .with("use", "sig")
        .with("alg", "RS256")
        .with("kid", DEMO_KID)
        .with("n", n)
        .with("e", e);
    Ok(J::obj().with("keys", J::Arr(vec![jwk])).to_json())
}

/// The OpenID discovery document for `issuer`; `named_issuer` overrides the `issuer` member
/// (a provider whose document does not match its configured issuer).
pub(crate) fn openid_configuration(issuer: &str, named_issuer: Option<&str>) -> String {
    J::obj()
        .with("issuer", named_issuer.unwrap_or(issuer))
        .with("authorization_endpoint", format!("{issuer}/authorize"))
        .with("token_endpoint", format!("{issuer}/token"))
        .with("jwks_uri", format!("{issuer}/.well-known/jwks.json"))
        .with("response_types_supported", J::Arr(vec!["code".into()]))
        .with("subject_types_supported", J::Arr(vec!["public".into()]))
        .with(
            "id_token_signing_alg_values_supported",
            J::Arr(vec!["RS256".into()]),
        )
        .to_json()
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{decode, decode_header, DecodingKey, Validation};

    fn alice() -> DemoCustomer {
        super::super::demo_customers().into_iter().next().unwrap()
    }

    fn served_key() -> DecodingKey {
        let doc: serde_json::Value = serde_json::from_str(&jwks_json().unwrap()).unwrap();
        let jwk = &doc["keys"][0];
        assert_eq!(jwk["kid"], DEMO_KID);
        assert_eq!(jwk["kty"], "RSA");
        assert_eq!(jwk["use"], "sig");
        assert_eq!(jwk["alg"], "RS256");
        DecodingKey::from_rsa_components(jwk["n"].as_str().unwrap(), jwk["e"].as_str().unwrap())
            .unwrap()
    }

    fn validation(aud: &str, iss: &str) -> Validation {
        let mut v = Validation::new(Algorithm::RS256);
        v.set_audience(&[aud]);
        v.set_issuer(&[iss]);
        v
    }

    #[test]
    fn a_minted_customer_token_verifies_against_the_served_jwk() {
        let claims = customer_claims(
            &alice(),
            "http://127.0.0.1:1/idp",
            "kbgate",
            Duration::from_secs(300),
        );
        let token = mint_with(&claims, DEMO_KID);
        assert_eq!(
            decode_header(&token).unwrap().kid.as_deref(),
            Some(DEMO_KID)
        );
        let data = decode::<serde_json::Value>(
            &token,
            &served_key(),
            &validation("kbgate", "http://127.0.0.1:1/idp"),
        )
        .unwrap();
        assert_eq!(data.claims["email"], "alice@acme.example");
        assert_eq!(data.claims[ORGS_CLAIM], serde_json::json!(["acme"]));
        assert!(data.claims["exp"].as_u64().unwrap() > data.claims["iat"].as_u64().unwrap());
    }

    #[test]
    fn the_served_jwk_matches_the_checked_in_public_key() {
        let claims = serde_json::json!({"sub": "x", "exp": unix_now() + 60});
        let token = mint_with(&claims, DEMO_KID);
        let from_pem = DecodingKey::from_rsa_pem(DEMO_RSA_PUBLIC_PEM).unwrap();
        let mut v = Validation::new(Algorithm::RS256);
        v.required_spec_claims.clear();
        v.validate_aud = false;
        decode::<serde_json::Value>(&token, &from_pem, &v).unwrap();
        decode::<serde_json::Value>(&token, &served_key(), &v).unwrap();
    }

    #[test]
    fn tokens_from_foreign_keys_do_not_verify() {
        let claims = serde_json::json!({"sub": "x", "exp": unix_now() + 60});
        let mut v = Validation::new(Algorithm::RS256);
        v.required_spec_claims.clear();
        v.validate_aud = false;
        let other = try_mint_with_key(&claims, Some(DEMO_KID), SigningKey::OtherRsa).unwrap();
        assert!(decode::<serde_json::Value>(&other, &served_key(), &v).is_err());
        let ec = try_mint_with_key(&claims, Some(DEMO_KID), SigningKey::DemoEc).unwrap();
        assert_eq!(decode_header(&ec).unwrap().alg, Algorithm::ES256);
        assert!(decode::<serde_json::Value>(&ec, &served_key(), &v).is_err());
        let hs = mint_hs256_with_public_key(&claims);
        assert!(!hs.starts_with("sim-mint-failed"));
        assert!(decode::<serde_json::Value>(&hs, &served_key(), &v).is_err());
        let none = mint_unsigned(&claims);
        assert!(none.ends_with('.'));
        assert!(decode::<serde_json::Value>(&none, &served_key(), &v).is_err());
    }

    #[test]
    fn discovery_names_the_jwks_uri_under_the_issuer() {
        let doc: serde_json::Value =
            serde_json::from_str(&openid_configuration("http://127.0.0.1:9/idp", None)).unwrap();
        assert_eq!(doc["issuer"], "http://127.0.0.1:9/idp");
        assert_eq!(
            doc["jwks_uri"],
            "http://127.0.0.1:9/idp/.well-known/jwks.json"
        );
        assert_eq!(doc["id_token_signing_alg_values_supported"][0], "RS256");
        assert_eq!(
            doc["authorization_endpoint"],
            "http://127.0.0.1:9/idp/authorize"
        );
        assert_eq!(doc["token_endpoint"], "http://127.0.0.1:9/idp/token");
        let other: serde_json::Value = serde_json::from_str(&openid_configuration(
            "http://127.0.0.1:9/idp",
            Some("https://evil.example"),
        ))
        .unwrap();
        assert_eq!(other["issuer"], "https://evil.example");
        assert_eq!(other["jwks_uri"], doc["jwks_uri"]);
    }
}
