//! Reading a bearer token before any cryptography: the one extraction rule, the compact-JWS
//! shape, the JOSE header and the claims, each parsed strictly.
//!
//! Extraction (threats.md J10): exactly one `Authorization` header, at most `max_header_bytes`,
//! scheme `Bearer` (ASCII case-insensitive), one space, then three non-empty base64url parts.
//! Header (J1, J3, J4, J9): duplicate names, `crit`, `jku`, `x5u`, `jwk`, `x5c`, a non-string or
//! over-long `kid` are refused; `alg` stays a string here so `none` in any spelling can be
//! named. Claims (J5, J8): duplicate names are refused; `exp`/`nbf`/`iat` must be integers,
//! `iss`/`sub` strings; the organization claim is a string or an array of strings; so is the
//! groups claim, and a token that names the groups claim in `_claim_names` (Entra ID's groups
//! overage: the list was too long to include), says `hasgroups: true`, or lists more than
//! [`MAX_GROUP_VALUES`] groups is marked [`Claims::groups_overage`] so the `orgs` module can deny.
//!
//! Deliberately not done: no signature check and no time check here — [`Claims`] read from an
//! unverified payload are used only to pick the issuer until the signature has been verified.
//! Tokens are never read from cookies or the query string.

use http::header::AUTHORIZATION;
use http::{HeaderMap, HeaderValue};
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
/// Most values accepted in the groups claim; more is treated as an overage (never truncated).
pub(super) const MAX_GROUP_VALUES: usize = 1000;
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
    /// The token carries `events` (RFC 8417 security-event and OIDC logout tokens).
    pub security_event: bool,
    pub email: Option<String>,
    /// `email_verified`, if present.
    pub email_verified: Option<bool>,
    /// The organization claim's values; empty when the claim is absent.
    pub orgs: Vec<String>,
    /// The groups claim's values; empty when the claim is absent or not configured.
    pub groups: Vec<String>,
    /// True when the token says its groups list was left out or is too long to use.
    pub groups_overage: bool,
}

/// The bytes after `Bearer ` of the one `Authorization` header, when it is one within
/// `max_header_bytes` with the bearer scheme; `None` otherwise. No shape check: it is the cache
/// lookup's key, and only tokens that passed [`bearer`] and verification are ever cached, so a
/// token that is found has the shape; one that is not goes through [`bearer`], whose errors are
/// the answer.
pub(super) fn cache_key_bytes(headers: &HeaderMap, max_header_bytes: usize) -> Option<&[u8]> {
    let bytes = one_header(headers, max_header_bytes).ok()?.as_bytes();
    let space = bytes.iter().position(|&b| b == b' ')?;
    let (scheme, rest) = bytes.split_at(space);
    scheme
        .eq_ignore_ascii_case(b"bearer")
        .then(|| rest.get(1..).unwrap_or_default())
}

/// Finds the one bearer token in `headers` and checks its compact-JWS shape.
pub(super) fn bearer(headers: &HeaderMap, max_header_bytes: usize) -> Result<Parts<'_>, AuthError> {
    let text = one_header(headers, max_header_bytes)?
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

/// The one `Authorization` header, within `max_header_bytes`.
fn one_header(headers: &HeaderMap, max_header_bytes: usize) -> Result<&HeaderValue, AuthError> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let value = values.next().ok_or(AuthError::Missing)?;
    if values.next().is_some() {
        return Err(AuthError::Malformed(M::MultipleHeaders));
    }
    if value.len() > max_header_bytes {
        return Err(AuthError::Malformed(M::HeaderTooLong));
    }
    Ok(value)
}

/// Splits `header.payload.signature`, refusing anything but three non-empty base64url parts.
fn split(token: &str) -> Result<Parts<'_>, AuthError> {
    // One pass: every byte is base64url or a dot, and the first two dots are remembered.
    let mut dots = [0usize; 2];
    let mut count = 0usize;
    for (i, &b) in token.as_bytes().iter().enumerate() {
        match JWS_BYTES.get(usize::from(b)) {
            Some(1) => {}
            Some(2) => {
                if let Some(slot) = dots.get_mut(count) {
                    *slot = i;
                }
                count += 1;
            }
            _ => return Err(AuthError::Malformed(M::BadShape)),
        }
    }
    let [first, second] = dots;
    let pieces = (
        token.get(..first),
        token.get(first + 1..second),
        token.get(second + 1..),
    );
    match (count, pieces) {
        (2, (Some(header), Some(payload), Some(signature)))
            if !header.is_empty() && !payload.is_empty() && !signature.is_empty() =>
        {
            Ok(Parts {
                token,
                header,
                payload,
            })
        }
        (4, _) => Err(AuthError::Malformed(M::Encrypted)),
        _ => Err(AuthError::Malformed(M::BadShape)),
    }
}

/// For each byte: 1 for the base64url alphabet, 2 for `.`, 0 for anything else.
static JWS_BYTES: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        if c.is_ascii_alphanumeric() || c == b'-' || c == b'_' {
            table[b] = 1;
        }
        b += 1;
    }
    table[b'.' as usize] = 2;
    table
};

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

/// Decodes the payload into [`Claims`]; `org_claim` and `groups_claim` name the organization
/// and groups claims, if configured.
pub(super) fn parse_claims(
    part: &str,
    org_claim: Option<&str>,
    groups_claim: Option<&str>,
) -> Result<Claims, AuthError> {
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
        groups: Vec::new(),
        groups_overage: false,
        security_event: m.get("events").is_some(),
    };
    // `nbf` is checked by jsonwebtoken; here only its type, so a string `nbf` cannot slip by.
    typed("nbf").map(number).transpose()?;
    if let Some(raw) = org_claim.and_then(typed) {
        claims.orgs = org_values(raw).ok_or(AuthError::Rejected(R::OrgClaimType))?;
    }
    if let Some(name) = groups_claim {
        (claims.groups, claims.groups_overage) = groups(typed(name), &m, name)?;
    }
    Ok(claims)
}

/// The groups claim's values and whether the token reports a groups overage. Entra ID leaves
/// `groups` out and names it in `_claim_names` (with `_claim_sources`) when a user is in more
/// groups than fit in a token, or sets `hasgroups: true` in implicit-flow ID tokens.
fn groups(
    raw: Option<&str>,
    m: &super::json::Members<'_>,
    name: &str,
) -> Result<(Vec<String>, bool), AuthError> {
    let named_elsewhere = match m.get("_claim_names") {
        Some(names) => serde_json::from_str::<
            std::collections::BTreeMap<String, serde::de::IgnoredAny>,
        >(names.get())
        .map_err(|_| AuthError::Rejected(R::ClaimType))?
        .contains_key(name),
        None => false,
    };
    let has_groups = match m.get("hasgroups") {
        Some(flag) => boolean(flag.get())?,
        None => false,
    };
    let values = match raw {
        None => Vec::new(),
        Some(raw) => match serde_json::from_str::<String>(raw) {
            Ok(one) => vec![one],
            Err(_) => serde_json::from_str::<Vec<String>>(raw)
                .map_err(|_| AuthError::Rejected(R::ClaimType))?,
        },
    };
    if values.len() > MAX_GROUP_VALUES {
        return Ok((Vec::new(), true));
    }
    let overage = named_elsewhere || (raw.is_none() && has_groups);
    Ok((if overage { Vec::new() } else { values }, overage))
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

#[cfg(test)]
mod tests {
    use base64::Engine as _;

    use super::*;

    fn claims(json: &str, groups_claim: Option<&str>) -> Result<Claims, AuthError> {
        let part = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json);
        parse_claims(&part, Some("kb_orgs"), groups_claim)
    }

    #[test]
    fn the_cache_key_is_the_bearer_token_the_shape_check_would_read() {
        let one = |v: &'static str| {
            let mut h = HeaderMap::new();
            h.insert(AUTHORIZATION, http::HeaderValue::from_static(v));
            h
        };
        for v in ["Bearer a.b.c", "bearer a.b.c", "BEARER a.b.c"] {
            let h = one(v);
            let key = cache_key_bytes(&h, 100).unwrap();
            assert_eq!(key, bearer(&h, 100).unwrap().token.as_bytes(), "{v}");
        }
        assert_eq!(
            cache_key_bytes(&one("Bearer  a.b.c"), 100),
            Some(&b" a.b.c"[..])
        );
        assert_eq!(cache_key_bytes(&one("Basic a.b.c"), 100), None);
        assert_eq!(cache_key_bytes(&one("Bearer"), 100), None);
        assert_eq!(cache_key_bytes(&one("Bearer a.b.c"), 5), None);
        let mut two = one("Bearer a.b.c");
        two.append(
            AUTHORIZATION,
            http::HeaderValue::from_static("Bearer a.b.c"),
        );
        assert_eq!(cache_key_bytes(&two, 100), None);
        assert_eq!(cache_key_bytes(&HeaderMap::new(), 100), None);
    }

    #[test]
    fn the_groups_claim_is_read_only_when_configured_as_a_string_or_array() {
        let c = claims(r#"{"sub":"s","groups":["a","b"]}"#, Some("groups")).unwrap();
        assert_eq!(
            (c.groups, c.groups_overage),
            (vec!["a".into(), "b".into()], false)
        );
        let c = claims(r#"{"sub":"s","groups":"one"}"#, Some("groups")).unwrap();
        assert_eq!(c.groups, vec!["one".to_owned()]);
        let c = claims(r#"{"sub":"s","groups":["a"]}"#, None).unwrap();
        assert!(c.groups.is_empty() && !c.groups_overage);
        for bad in [
            r#"{"groups":[1,2]}"#,
            r#"{"groups":{"a":1}}"#,
            r#"{"groups":null}"#,
        ] {
            assert!(claims(bad, Some("groups")).is_err(), "{bad}");
        }
    }

    #[test]
    fn an_entra_groups_overage_is_flagged_and_never_read_as_groups() {
        let overage = r#"{"sub":"s","_claim_names":{"groups":"src1"},
            "_claim_sources":{"src1":{"endpoint":"https://graph.microsoft.com/v1.0/users/x/getMemberObjects"}}}"#;
        let c = claims(overage, Some("groups")).unwrap();
        assert!(c.groups_overage && c.groups.is_empty());
        // `_claim_names` naming another claim is not an overage of ours.
        let other = r#"{"sub":"s","_claim_names":{"roles":"src1"},"groups":["g"]}"#;
        let c = claims(other, Some("groups")).unwrap();
        assert!(!c.groups_overage);
        assert_eq!(c.groups, vec!["g".to_owned()]);
        // Implicit-flow ID tokens say `hasgroups: true` instead.
        let c = claims(r#"{"sub":"s","hasgroups":true}"#, Some("groups")).unwrap();
        assert!(c.groups_overage);
        // Too many groups to use is treated the same way, never truncated.
        let many: Vec<String> = (0..=MAX_GROUP_VALUES)
            .map(|i| format!("\"g{i}\""))
            .collect();
        let json = format!(r#"{{"sub":"s","groups":[{}]}}"#, many.join(","));
        let c = claims(&json, Some("groups")).unwrap();
        assert!(c.groups_overage && c.groups.is_empty());
        assert!(claims(r#"{"_claim_names":"groups"}"#, Some("groups")).is_err());
    }
}
