//! Reading a bearer token before any cryptography: the one extraction rule, the compact-JWS
//! shape, the JOSE header and the claims, each parsed strictly.
//!
//! Extraction (threats.md J10): exactly one `Authorization` header, at most `max_header_bytes`,
//! scheme `Bearer` (ASCII case-insensitive), one space, then three non-empty base64url parts.
//! Header (J1, J3, J4, J9): duplicate names, `crit`, `jku`, `x5u`, `jwk`, `x5c`, a non-string or
//! over-long `kid` are refused; `alg` stays a string here so `none` in any spelling can be
//! named. Claims (J5, J8): duplicate names are refused; `exp`/`nbf`/`iat` must be integers,
//! `iss`/`sub` strings; the organization claim is a string or an array of strings.
//!
//! Deliberately not done: no signature check and no time check here — [`Claims`] read from an
//! unverified payload are used only to pick the issuer until the signature has been verified.
//! Tokens are never read from cookies or the query string.

use http::header::AUTHORIZATION;
use http::HeaderMap;
use serde_json::value::RawValue;

use super::json::members;
use super::jwks::MAX_KID_BYTES;
use super::keys::base64_url;
use super::{AuthError, MalformedReason as M, RejectReason as R};

/// Most members read from a JOSE header.
const MAX_HEADER_MEMBERS: usize = 16;
/// Most members read from a claims set.
const MAX_CLAIM_MEMBERS: usize = 128;
/// Most values accepted in an array-valued organization claim.
const MAX_ORG_VALUES: usize = 100;
/// Header parameters that point at keys or demand extensions; kbgate refuses them all.
const FORBIDDEN_HEADER_PARAMS: [&str; 5] = ["crit", "jku", "x5u", "jwk", "x5c"];

/// The three base64url parts of a compact JWS.
#[derive(Debug, Clone, Copy)]
pub(super) struct Parts<'a> {
    /// The whole token, as received.
    pub token: &'a str,
    /// The JOSE header part.
    pub header: &'a str,
    /// The payload part.
    pub payload: &'a str,
}

/// The JOSE header fields kbgate reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct JoseHeader {
    /// `alg`, as written.
    pub alg: String,
    /// `kid`, if present (a string of at most 256 bytes).
    pub kid: Option<String>,
    /// `typ`, if present.
    pub typ: Option<String>,
}

/// The claims kbgate reads, parsed strictly from the payload.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(super) struct Claims {
    pub iss: Option<String>,
    pub sub: Option<String>,
    pub exp: Option<u64>,
    pub iat: Option<u64>,
    pub email: Option<String>,
    /// `email_verified`, if present.
    pub email_verified: Option<bool>,
    /// The organization claim's values; empty when the claim is absent.
    pub orgs: Vec<String>,
}

/// Finds the one bearer token in `headers` and checks its compact-JWS shape.
pub(super) fn bearer(headers: &HeaderMap, max_header_bytes: usize) -> Result<Parts<'_>, AuthError> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let value = values.next().ok_or(AuthError::Missing)?;
    if values.next().is_some() {
        return Err(AuthError::Malformed(M::MultipleHeaders));
    }
    if value.len() > max_header_bytes {
        return Err(AuthError::Malformed(M::HeaderTooLong));
    }
    let text = value
        .to_str()
        .map_err(|_| AuthError::Malformed(M::NotAscii))?;
    let Some((scheme, token)) = text.split_once(' ') else {
        let reason = if text.eq_ignore_ascii_case("bearer") {
            M::BadShape
        } else {
            M::NotBearer
        };
        return Err(AuthError::Malformed(reason));
    };
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(AuthError::Malformed(M::NotBearer));
    }
    split(token)
}

/// Splits `header.payload.signature`, refusing anything but three non-empty base64url parts.
fn split(token: &str) -> Result<Parts<'_>, AuthError> {
    let alphabet = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.';
    if !token.bytes().all(alphabet) {
        return Err(AuthError::Malformed(M::BadShape));
    }
    let mut pieces = token.split('.');
    match (pieces.next(), pieces.next(), pieces.next(), pieces.next()) {
        (Some(header), Some(payload), Some(signature), None)
            if !header.is_empty() && !payload.is_empty() && !signature.is_empty() =>
        {
            Ok(Parts {
                token,
                header,
                payload,
            })
        }
        _ if token.bytes().filter(|b| *b == b'.').count() == 4 => {
            Err(AuthError::Malformed(M::Encrypted))
        }
        _ => Err(AuthError::Malformed(M::BadShape)),
    }
}

/// Decodes and checks the JOSE header.
pub(super) fn parse_header(part: &str) -> Result<JoseHeader, AuthError> {
    let bytes = base64_url(part).ok_or(AuthError::Malformed(M::BadHeader))?;
    let m = members(&bytes, MAX_HEADER_MEMBERS).ok_or(AuthError::Malformed(M::BadHeader))?;
    if m.duplicate {
        return Err(AuthError::Malformed(M::DuplicateMember));
    }
    if m.too_many {
        return Err(AuthError::Malformed(M::TooManyMembers));
    }
    if m.list
        .iter()
        .any(|(name, _)| FORBIDDEN_HEADER_PARAMS.contains(&name.as_str()))
    {
        return Err(AuthError::Rejected(R::ForbiddenHeader));
    }
    let text = |raw: &RawValue| {
        serde_json::from_str::<String>(raw.get()).map_err(|_| AuthError::Malformed(M::BadHeader))
    };
    let alg = text(m.get("alg").ok_or(AuthError::Malformed(M::BadHeader))?)?;
    let kid = m.get("kid").map(text).transpose()?;
    if kid.as_ref().is_some_and(|k| k.len() > MAX_KID_BYTES) {
        return Err(AuthError::Rejected(R::KidTooLong));
    }
    let typ = m.get("typ").map(text).transpose()?;
    Ok(JoseHeader { alg, kid, typ })
}

/// Decodes the payload into [`Claims`]; `org_claim` names the organization claim, if any.
pub(super) fn parse_claims(part: &str, org_claim: Option<&str>) -> Result<Claims, AuthError> {
    let bytes = base64_url(part).ok_or(AuthError::Malformed(M::BadClaims))?;
    let m = members(&bytes, MAX_CLAIM_MEMBERS).ok_or(AuthError::Malformed(M::BadClaims))?;
    if m.duplicate {
        return Err(AuthError::Malformed(M::DuplicateMember));
    }
    if m.too_many {
        return Err(AuthError::Malformed(M::TooManyMembers));
    }
    let typed = |name: &str| m.get(name).map(|raw| raw.get());
    let mut claims = Claims {
        iss: typed("iss").map(string).transpose()?,
        sub: typed("sub").map(string).transpose()?,
        exp: typed("exp").map(number).transpose()?,
        iat: typed("iat").map(number).transpose()?,
        email: typed("email").map(nullable_string).transpose()?.flatten(),
        email_verified: typed("email_verified").map(boolean).transpose()?,
        orgs: Vec::new(),
    };
    // `nbf` is checked by jsonwebtoken; here only its type, so a string `nbf` cannot slip by.
    typed("nbf").map(number).transpose()?;
    if let Some(raw) = org_claim.and_then(typed) {
        claims.orgs = org_values(raw).ok_or(AuthError::Rejected(R::OrgClaimType))?;
    }
    Ok(claims)
}

fn string(raw: &str) -> Result<String, AuthError> {
    serde_json::from_str(raw).map_err(|_| AuthError::Rejected(R::ClaimType))
}

fn nullable_string(raw: &str) -> Result<Option<String>, AuthError> {
    serde_json::from_str(raw).map_err(|_| AuthError::Rejected(R::ClaimType))
}

/// A NumericDate as kbgate accepts it: a non-negative integer (no float, no string).
fn number(raw: &str) -> Result<u64, AuthError> {
    serde_json::from_str(raw).map_err(|_| AuthError::Rejected(R::ClaimType))
}

fn boolean(raw: &str) -> Result<bool, AuthError> {
    serde_json::from_str(raw).map_err(|_| AuthError::Rejected(R::ClaimType))
}

/// A string, or an array of at most [`MAX_ORG_VALUES`] strings.
fn org_values(raw: &str) -> Option<Vec<String>> {
    if let Ok(one) = serde_json::from_str::<String>(raw) {
        return Some(vec![one]);
    }
    serde_json::from_str::<Vec<String>>(raw)
        .ok()
        .filter(|v| v.len() <= MAX_ORG_VALUES)
}
