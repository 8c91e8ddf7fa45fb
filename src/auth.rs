//! Bearer JWT verification: request headers → a verified [`Identity`], or a typed refusal.
//!
//! This is step 1 of DESIGN.md §2. jsonwebtoken's defaults are not safe as they stand
//! (threats.md §0.1, E1), so [`Verifier::authenticate`] wraps it in kbgate's own rules:
//! 1. one `Authorization: Bearer <jws>` header, size-capped, strict compact shape (`token.rs`);
//! 2. the JOSE header parsed strictly: duplicates, `crit`/`jku`/`x5u`/`jwk`/`x5c`, `alg: none`
//!    and over-long `kid` refused; `typ`, when present, is `JWT` or `at+jwt`;
//! 3. the claims parsed strictly (duplicates refused); the unverified `iss` only *selects* the
//!    issuer; `alg` must be in that issuer's list and fit the key chosen by (issuer, `kid`)
//!    (`keys.rs`: RS*/PS* only with RSA, ES256 only with P-256, HS256 only with a shared
//!    secret — so a public key is never an HMAC secret);
//! 4. jsonwebtoken checks the signature with `required_spec_claims = {exp, iss, aud, sub}`,
//!    `validate_nbf`, the issuer, the audiences and the configured leeway; kbgate then checks
//!    `iat ≤ now + leeway` and a non-empty `sub` itself.
//!
//! Key sets come from a JWKS URL (refetched on unknown `kid`, single-flight and rate-limited,
//! `jwks.rs`), a static public-key PEM, or (demo only) a shared secret. Verified tokens are
//! cached by SHA-256 until their `exp` (`cache.rs`).
//!
//! Deliberately not done here: OIDC login and session cookies, organization mapping (the
//! `orgs` module reads [`Identity::org_claim`] and [`Identity::email`]), and HTTP answers (the
//! caller maps [`AuthError`] to 401/503).

mod cache;
mod error;
mod json;
mod jwks;
mod keys;
mod token;

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Validation};

pub use error::{AuthError, AuthInitError, MalformedReason, RejectReason};
pub use jwks::JwksError;
pub use keys::KeyError;

use cache::{unix_now, TokenCache};
use jwks::{FetchSettings, JwksStore, Lookup};
use keys::{kind_for, KeyKind, VerifyKey};
use token::JoseHeader;
use RejectReason as R;

/// Largest leeway accepted for `exp`, `nbf` and `iat`.
pub const MAX_LEEWAY: Duration = Duration::from_secs(300);
/// Claim names the organization claim may not take (kbgate reads them for other purposes).
const RESERVED_CLAIMS: [&str; 9] = [
    "iss",
    "sub",
    "aud",
    "exp",
    "nbf",
    "iat",
    "jti",
    "email",
    "email_verified",
];
/// `typ` values accepted (ASCII case-insensitive) when a token carries one (RFC 9068 §2.1).
const ACCEPTED_TYP: [&str; 4] = ["JWT", "at+jwt", "application/jwt", "application/at+jwt"];

/// One trusted token issuer.
#[derive(Debug, Clone)]
pub struct IssuerConfig {
    /// The exact `iss` value, e.g. `https://idp.example.com/realms/kb`.
    pub issuer: String,
    /// Accepted `aud` values; a token must name at least one.
    pub audiences: Vec<String>,
    /// Where the issuer's keys come from.
    pub keys: KeySource,
    /// Accepted `alg` values; each must fit the key source.
    pub algorithms: Vec<Algorithm>,
    /// Clock-skew allowance for `exp`, `nbf` and `iat`; at most [`MAX_LEEWAY`].
    pub leeway: Duration,
}

/// Where an issuer's verification keys come from.
#[derive(Clone)]
pub enum KeySource {
    /// A JWKS document, fetched at start-up and again on unknown `kid`.
    JwksUrl(http::Uri),
    /// One RSA (2048–4096 bits) or EC P-256 public key in PEM; the token's `kid` is ignored.
    StaticPem {
        /// The PEM text (`PUBLIC KEY` or `RSA PUBLIC KEY`).
        pem: Vec<u8>,
    },
    /// An HS256 secret of at least 32 bytes; `kid` is ignored. Demo only: allowed only in
    /// `kbgate demo`.
    SharedSecret(Vec<u8>),
}

impl fmt::Debug for KeySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeySource::JwksUrl(uri) => f.debug_tuple("JwksUrl").field(uri).finish(),
            KeySource::StaticPem { pem } => write!(f, "StaticPem({} bytes)", pem.len()),
            KeySource::SharedSecret(_) => f.write_str("SharedSecret(<redacted>)"),
        }
    }
}

/// Settings shared by all issuers.
#[derive(Debug, Clone)]
pub struct AuthOptions {
    /// The claim holding organization ids (a string or an array of strings), e.g. `kb_orgs`.
    pub org_claim: Option<String>,
    /// Largest `Authorization` header accepted, in bytes.
    pub max_header_bytes: usize,
    /// Most verified tokens cached (0 disables the cache).
    pub cache_capacity: u64,
    /// Least time between two fetches of one issuer's JWKS.
    pub jwks_refresh_min_interval: Duration,
    /// Deadline for one JWKS fetch, body included.
    pub fetch_timeout: Duration,
    /// Largest JWKS body accepted, in bytes.
    pub max_jwks_bytes: usize,
}

impl Default for AuthOptions {
    fn default() -> Self {
        Self {
            org_claim: None,
            max_header_bytes: 8192,
            cache_capacity: 10_000,
            jwks_refresh_min_interval: Duration::from_secs(10),
            fetch_timeout: Duration::from_secs(5),
            max_jwks_bytes: 256 * 1024,
        }
    }
}

/// Who a verified token says the caller is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The issuer that signed the token (its configured `iss`).
    pub issuer: String,
    /// `sub`, non-empty.
    pub subject: String,
    /// `email`, unless absent, null, or marked `email_verified: false`.
    pub email: Option<String>,
    /// The organization claim's values (empty when the claim is absent or not configured).
    pub org_claim: Vec<String>,
}

/// Verifies bearer tokens against the configured issuers. Cheap to share behind an `Arc`.
pub struct Verifier {
    issuers: HashMap<String, Issuer>,
    org_claim: Option<String>,
    max_header_bytes: usize,
    cache: TokenCache,
    /// Signature verifications performed (cache hits do not count).
    signature_checks: AtomicU64,
}

struct Issuer {
    name: String,
    leeway_secs: u64,
    keys: IssuerKeys,
    /// One prepared validation per allowed algorithm.
    validations: Vec<(Algorithm, Validation)>,
}

enum IssuerKeys {
    Static(Arc<VerifyKey>),
    Jwks(Box<JwksStore>),
}

impl Verifier {
    /// Validates the configuration and fetches each JWKS once. A failed fetch is logged, not
    /// fatal: that issuer's keys are fetched again on demand.
    pub async fn new(
        issuers: Vec<IssuerConfig>,
        opts: AuthOptions,
        client: crate::http_client::HttpClient,
    ) -> Result<Verifier, AuthInitError> {
        check_options(&opts)?;
        if issuers.is_empty() {
            return Err(AuthInitError::NoIssuers);
        }
        let mut map = HashMap::new();
        for config in issuers {
            let name = config.issuer.clone();
            let issuer = build_issuer(config, &opts, &client)?;
            if map.insert(name.clone(), issuer).is_some() {
                return Err(AuthInitError::DuplicateIssuer(name));
            }
        }
        let first_fetches = map.values().filter_map(|issuer| match &issuer.keys {
            IssuerKeys::Jwks(store) => Some(store.refresh_after(store.attempts())),
            IssuerKeys::Static(_) => None,
        });
        futures_util::future::join_all(first_fetches).await;
        Ok(Verifier {
            issuers: map,
            org_claim: opts.org_claim,
            max_header_bytes: opts.max_header_bytes,
            cache: TokenCache::new(opts.cache_capacity),
            signature_checks: AtomicU64::new(0),
        })
    }

    /// Verifies the request's bearer token and returns who it names.
    pub async fn authenticate(&self, headers: &http::HeaderMap) -> Result<Identity, AuthError> {
        let parts = token::bearer(headers, self.max_header_bytes)?;
        let digest = cache::digest(parts.token);
        if let Some(identity) = self.cache.get(&digest).await {
            return Ok(identity);
        }
        let header = token::parse_header(parts.header)?;
        let claims = token::parse_claims(parts.payload, self.org_claim.as_deref())?;
        // Unverified: `iss` only selects whose keys and rules apply; jsonwebtoken re-checks it.
        let iss = claims
            .iss
            .as_deref()
            .ok_or(AuthError::Rejected(R::MissingIss))?;
        let issuer = self
            .issuers
            .get(iss)
            .ok_or(AuthError::Rejected(R::UnknownIssuer))?;
        let alg = issuer.algorithm(&header.alg)?;
        if let Some(typ) = header.typ.as_deref() {
            if !ACCEPTED_TYP.iter().any(|t| t.eq_ignore_ascii_case(typ)) {
                return Err(AuthError::Rejected(R::TypNotAllowed));
            }
        }
        self.verify_signature(issuer, &header, alg, parts.token)
            .await?;

        // The payload is now authentic: the claims parsed above are the signed ones.
        let now = unix_now();
        if claims
            .iat
            .is_some_and(|iat| iat > now.saturating_add(issuer.leeway_secs))
        {
            return Err(AuthError::Rejected(R::IssuedInFuture));
        }
        let subject = claims
            .sub
            .filter(|s| !s.is_empty())
            .ok_or(AuthError::Rejected(R::MissingSub))?;
        let exp = claims.exp.ok_or(AuthError::Rejected(R::MissingExp))?;
        let email = if claims.email_verified == Some(false) {
            None
        } else {
            claims.email
        };
        let identity = Identity {
            issuer: issuer.name.clone(),
            subject,
            email,
            org_claim: claims.orgs,
        };
        self.cache.insert(digest, identity.clone(), exp).await;
        Ok(identity)
    }

    /// Finds the key for (issuer, `kid`) and checks the signature and the standard claims.
    async fn verify_signature(
        &self,
        issuer: &Issuer,
        header: &JoseHeader,
        alg: Algorithm,
        token: &str,
    ) -> Result<(), AuthError> {
        let store = match &issuer.keys {
            IssuerKeys::Static(key) => return self.check(issuer, key, alg, token),
            IssuerKeys::Jwks(store) => store,
        };
        let kid = header
            .kid
            .as_deref()
            .ok_or(AuthError::Rejected(R::KidMissing))?;
        let (key, seen) = match store.lookup(kid).await {
            Lookup::Found { key, seen } => (key, seen),
            Lookup::Unknown => return Err(AuthError::Rejected(R::UnknownKid)),
            Lookup::NoKeys => return Err(AuthError::KeysUnavailable),
        };
        match self.check(issuer, &key, alg, token) {
            Err(AuthError::Rejected(R::BadSignature)) => {
                // The issuer may have replaced the key under the same kid: one (rate-limited)
                // refetch, and a second check only if the key actually changed.
                store.refresh_after(seen).await;
                match store.current().get(kid) {
                    Some(fresh) if !Arc::ptr_eq(&fresh, &key) => {
                        self.check(issuer, &fresh, alg, token)
                    }
                    _ => Err(AuthError::Rejected(R::BadSignature)),
                }
            }
            other => other,
        }
    }

    fn check(
        &self,
        issuer: &Issuer,
        key: &VerifyKey,
        alg: Algorithm,
        token: &str,
    ) -> Result<(), AuthError> {
        if !key.accepts(alg) {
            return Err(AuthError::Rejected(R::KeyAlgMismatch));
        }
        let validation = issuer
            .validations
            .iter()
            .find_map(|(a, v)| (*a == alg).then_some(v))
            .ok_or(AuthError::Rejected(R::AlgNotAllowed))?;
        self.signature_checks.fetch_add(1, Ordering::Relaxed);
        jsonwebtoken::decode::<serde::de::IgnoredAny>(token, &key.key, validation)
            .map(|_| ())
            .map_err(|e| map_jwt_error(e.kind()))
    }

    /// Signature verifications performed so far.
    #[cfg(test)]
    fn signature_checks(&self) -> u64 {
        self.signature_checks.load(Ordering::Relaxed)
    }
}

impl Issuer {
    /// The header's `alg`, if this issuer accepts it. `none` in any spelling is named as such.
    fn algorithm(&self, name: &str) -> Result<Algorithm, AuthError> {
        if name.eq_ignore_ascii_case("none") {
            return Err(AuthError::Rejected(R::AlgNone));
        }
        let alg: Algorithm = name
            .parse()
            .map_err(|_| AuthError::Rejected(R::AlgNotAllowed))?;
        if self.validations.iter().any(|(a, _)| *a == alg) {
            Ok(alg)
        } else {
            Err(AuthError::Rejected(R::AlgNotAllowed))
        }
    }
}

fn check_options(opts: &AuthOptions) -> Result<(), AuthInitError> {
    if opts.max_header_bytes == 0 {
        return Err(AuthInitError::ZeroOption("max_header_bytes"));
    }
    if opts.max_jwks_bytes == 0 {
        return Err(AuthInitError::ZeroOption("max_jwks_bytes"));
    }
    if opts.fetch_timeout.is_zero() {
        return Err(AuthInitError::ZeroOption("fetch_timeout"));
    }
    if let Some(name) = &opts.org_claim {
        if name.is_empty() || RESERVED_CLAIMS.contains(&name.as_str()) {
            return Err(AuthInitError::OrgClaimName(name.clone()));
        }
    }
    Ok(())
}

fn build_issuer(
    config: IssuerConfig,
    opts: &AuthOptions,
    client: &crate::http_client::HttpClient,
) -> Result<Issuer, AuthInitError> {
    let name = config.issuer;
    if name.is_empty() {
        return Err(AuthInitError::EmptyIssuer);
    }
    if config.audiences.is_empty() {
        return Err(AuthInitError::NoAudiences { issuer: name });
    }
    if config.algorithms.is_empty() {
        return Err(AuthInitError::NoAlgorithms { issuer: name });
    }
    if config.leeway > MAX_LEEWAY {
        return Err(AuthInitError::LeewayTooLarge { issuer: name });
    }
    let bad_alg = |alg, why| AuthInitError::Algorithm {
        issuer: name.clone(),
        alg,
        why,
    };
    let key_error = |source| AuthInitError::Key {
        issuer: name.clone(),
        source,
    };
    let keys = match config.keys {
        KeySource::StaticPem { pem } => IssuerKeys::Static(Arc::new(
            VerifyKey::from_public_pem(&pem).map_err(key_error)?,
        )),
        KeySource::SharedSecret(secret) => IssuerKeys::Static(Arc::new(
            VerifyKey::from_secret(&secret).map_err(key_error)?,
        )),
        KeySource::JwksUrl(uri) => {
            if !jwks_url_allowed(&uri) {
                return Err(AuthInitError::JwksUrl { issuer: name });
            }
            let settings = FetchSettings {
                client: client.clone(),
                timeout: opts.fetch_timeout,
                max_bytes: opts.max_jwks_bytes,
                min_interval: opts.jwks_refresh_min_interval,
            };
            IssuerKeys::Jwks(Box::new(JwksStore::new(name.clone(), uri, settings)))
        }
    };
    let mut validations = Vec::new();
    for alg in config.algorithms {
        let fits = match (&keys, kind_for(alg)) {
            (_, None) => return Err(bad_alg(alg, "is not supported")),
            (IssuerKeys::Static(key), Some(_)) => key.accepts(alg),
            (IssuerKeys::Jwks(_), Some(kind)) => kind != KeyKind::Hmac,
        };
        if !fits {
            return Err(bad_alg(
                alg,
                "does not fit the issuer's key (HS256 needs a shared secret)",
            ));
        }
        let mut validation = Validation::new(alg);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.validate_aud = true;
        validation.leeway = config.leeway.as_secs();
        validation.set_issuer(&[name.as_str()]);
        validation.set_audience(&config.audiences);
        validations.push((alg, validation));
    }
    Ok(Issuer {
        leeway_secs: config.leeway.as_secs(),
        name,
        keys,
        validations,
    })
}

/// `https`, or plain `http` to a loopback host only (tests and local IdPs).
fn jwks_url_allowed(uri: &http::Uri) -> bool {
    match uri.scheme_str() {
        Some("https") => uri.host().is_some(),
        Some("http") => matches!(
            uri.host(),
            Some("127.0.0.1" | "localhost" | "[::1]" | "::1")
        ),
        _ => false,
    }
}

/// Maps jsonwebtoken's refusal to kbgate's reason.
fn map_jwt_error(kind: &ErrorKind) -> AuthError {
    let reason = match kind {
        ErrorKind::InvalidSignature => R::BadSignature,
        ErrorKind::ExpiredSignature => R::Expired,
        ErrorKind::ImmatureSignature => R::NotYetValid,
        ErrorKind::InvalidIssuer => R::WrongIssuer,
        ErrorKind::InvalidAudience => R::WrongAudience,
        ErrorKind::MissingRequiredClaim(claim) => match claim.as_str() {
            "exp" => R::MissingExp,
            "iss" => R::MissingIss,
            "aud" => R::MissingAud,
            "sub" => R::MissingSub,
            _ => R::ClaimType,
        },
        ErrorKind::InvalidClaimFormat(_) | ErrorKind::InvalidSubject => R::ClaimType,
        ErrorKind::InvalidAlgorithm
        | ErrorKind::MissingAlgorithm
        | ErrorKind::UnsupportedAlgorithm
        | ErrorKind::InvalidAlgorithmName => R::AlgNotAllowed,
        ErrorKind::InvalidEcdsaKey
        | ErrorKind::InvalidEddsaKey
        | ErrorKind::InvalidRsaKey(_)
        | ErrorKind::InvalidKeyFormat => R::KeyUnusable,
        ErrorKind::InvalidToken
        | ErrorKind::Base64(_)
        | ErrorKind::Json(_)
        | ErrorKind::Utf8(_) => return AuthError::Malformed(MalformedReason::BadShape),
        _ => R::Other,
    };
    AuthError::Rejected(reason)
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_claims;
#[cfg(test)]
mod tests_jwks;
