//! The errors of the auth module: request-time [`AuthError`] with its typed reasons, and
//! start-up [`AuthInitError`].
//!
//! Request-time reasons exist for logs and metrics only; the client sees a bare 401 (or 503
//! for [`AuthError::KeysUnavailable`]) so that no reason helps an attacker tune a token.

use jsonwebtoken::Algorithm;

use super::keys::KeyError;

/// Why a request carries no usable identity. Missing/Malformed/Rejected → 401, KeysUnavailable → 503.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("no Authorization header")]
    Missing,
    #[error("malformed credentials: {}", .0.as_str())]
    Malformed(MalformedReason),
    #[error("token rejected: {}", .0.as_str())]
    Rejected(RejectReason),
    #[error("the issuer's keys are unavailable")]
    KeysUnavailable,
}

impl AuthError {
    /// A stable snake_case reason for logs, e.g. `expired` or `multiple_headers`.
    pub fn reason(&self) -> &'static str {
        match self {
            AuthError::Missing => "missing",
            AuthError::Malformed(r) => r.as_str(),
            AuthError::Rejected(r) => r.as_str(),
            AuthError::KeysUnavailable => "keys_unavailable",
        }
    }
}

/// Why the credentials could not even be read as one compact JWS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MalformedReason {
    /// More than one `Authorization` header.
    MultipleHeaders,
    /// The header is longer than `max_header_bytes`.
    HeaderTooLong,
    /// The header value is not visible ASCII.
    NotAscii,
    /// The scheme is not `Bearer`.
    NotBearer,
    /// Not `header.payload.signature` in base64url (spaces, padding, empty parts, …).
    BadShape,
    /// Five parts: an encrypted token (JWE), which kbgate does not accept.
    Encrypted,
    /// The JOSE header is not base64url of a JSON object with a string `alg`.
    BadHeader,
    /// The payload is not base64url of a JSON object.
    BadClaims,
    /// A header or claim name appears twice.
    DuplicateMember,
    /// The header or payload has more members than kbgate reads.
    TooManyMembers,
}

impl MalformedReason {
    /// A stable snake_case name.
    pub fn as_str(&self) -> &'static str {
        match self {
            MalformedReason::MultipleHeaders => "multiple_headers",
            MalformedReason::HeaderTooLong => "header_too_long",
            MalformedReason::NotAscii => "not_ascii",
            MalformedReason::NotBearer => "not_bearer",
            MalformedReason::BadShape => "bad_shape",
            MalformedReason::Encrypted => "encrypted_token",
            MalformedReason::BadHeader => "bad_header",
            MalformedReason::BadClaims => "bad_claims",
            MalformedReason::DuplicateMember => "duplicate_member",
            MalformedReason::TooManyMembers => "too_many_members",
        }
    }
}

/// Why a well-formed token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectReason {
    /// `alg: none` in any spelling.
    AlgNone,
    /// `alg` is not in the issuer's allowed list (or not supported at all).
    AlgNotAllowed,
    /// The header carries `crit`, `jku`, `x5u`, `jwk` or `x5c`.
    ForbiddenHeader,
    /// `typ` is present and is not `JWT` or `at+jwt`.
    TypNotAllowed,
    /// `kid` is longer than 256 bytes.
    KidTooLong,
    /// The issuer publishes a key set, and the token names no `kid`.
    KidMissing,
    /// No key with this `kid`, even after a refetch.
    UnknownKid,
    /// The key's family or pinned `alg` does not fit the header's `alg`.
    KeyAlgMismatch,
    /// The key could not be used (e.g. a malformed public key).
    KeyUnusable,
    /// The signature does not verify.
    BadSignature,
    /// `iss` names no configured issuer.
    UnknownIssuer,
    /// `iss` does not match (after selection; should not happen).
    WrongIssuer,
    /// `aud` names none of the issuer's audiences.
    WrongAudience,
    /// `exp` is past, beyond the leeway.
    Expired,
    /// `nbf` is in the future, beyond the leeway.
    NotYetValid,
    /// `iat` is in the future, beyond the leeway.
    IssuedInFuture,
    /// `exp` is further away than [`MAX_TOKEN_LIFETIME`](crate::auth::MAX_TOKEN_LIFETIME).
    LifetimeTooLong,
    /// The token carries `events` (a logout or other security-event token), not an access or
    /// ID token.
    NotAnAccessToken,
    /// No `exp`.
    MissingExp,
    /// No `iss`.
    MissingIss,
    /// No `aud`.
    MissingAud,
    /// No `sub`, or an empty one.
    MissingSub,
    /// A registered claim has the wrong type (e.g. `exp` as a string or a float).
    ClaimType,
    /// The organization claim is neither a string nor an array of strings.
    OrgClaimType,
    /// Any other refusal by the JWT library.
    Other,
}

impl RejectReason {
    /// A stable snake_case name.
    pub fn as_str(&self) -> &'static str {
        match self {
            RejectReason::AlgNone => "alg_none",
            RejectReason::AlgNotAllowed => "alg_not_allowed",
            RejectReason::ForbiddenHeader => "forbidden_header",
            RejectReason::TypNotAllowed => "typ_not_allowed",
            RejectReason::KidTooLong => "kid_too_long",
            RejectReason::KidMissing => "kid_missing",
            RejectReason::UnknownKid => "unknown_kid",
            RejectReason::KeyAlgMismatch => "key_alg_mismatch",
            RejectReason::KeyUnusable => "key_unusable",
            RejectReason::BadSignature => "bad_signature",
            RejectReason::UnknownIssuer => "unknown_issuer",
            RejectReason::WrongIssuer => "wrong_issuer",
            RejectReason::WrongAudience => "wrong_audience",
            RejectReason::Expired => "expired",
            RejectReason::NotYetValid => "not_yet_valid",
            RejectReason::IssuedInFuture => "issued_in_future",
            RejectReason::LifetimeTooLong => "lifetime_too_long",
            RejectReason::NotAnAccessToken => "not_an_access_token",
            RejectReason::MissingExp => "missing_exp",
            RejectReason::MissingIss => "missing_iss",
            RejectReason::MissingAud => "missing_aud",
            RejectReason::MissingSub => "missing_sub",
            RejectReason::ClaimType => "claim_type",
            RejectReason::OrgClaimType => "org_claim_type",
            RejectReason::Other => "other",
        }
    }
}

/// Why the verifier could not be built. Every variant names what to change in the config.
#[derive(Debug, thiserror::Error)]
pub enum AuthInitError {
    #[error("no token issuer is configured")]
    NoIssuers,
    #[error("an issuer has an empty `issuer` value")]
    EmptyIssuer,
    #[error("issuer {0:?} is configured twice")]
    DuplicateIssuer(String),
    #[error("issuer {issuer:?} lists no audiences")]
    NoAudiences { issuer: String },
    #[error("issuer {issuer:?} lists no algorithms")]
    NoAlgorithms { issuer: String },
    #[error("issuer {issuer:?}: algorithm {alg:?} {why}")]
    Algorithm {
        issuer: String,
        alg: Algorithm,
        why: &'static str,
    },
    #[error("issuer {issuer:?}: leeway must be at most 300 s")]
    LeewayTooLarge { issuer: String },
    #[error("issuer {issuer:?}: the key cannot be used")]
    Key {
        issuer: String,
        #[source]
        source: KeyError,
    },
    #[error("issuer {issuer:?}: the JWKS URL must be https (plain http only to a loopback host)")]
    JwksUrl { issuer: String },
    #[error("issuer {issuer:?}: discovery needs an https issuer URL (plain http only to a loopback host)")]
    DiscoveryUrl { issuer: String },
    #[error("issuer {issuer:?}: refresh_interval and max_key_staleness must be greater than zero")]
    Refresh { issuer: String },
    #[error("org claim name {0:?} is empty or collides with a registered claim")]
    OrgClaimName(String),
    #[error("auth option {0} must be greater than zero")]
    ZeroOption(&'static str),
}
