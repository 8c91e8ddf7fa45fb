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
//! Key sets come from a JWKS URL or OIDC discovery (`discovery.rs`: the document's `issuer`
//! must equal the configured one), a static public-key PEM, or (demo only) a shared secret.
//! A fetched set (`store.rs`, parsed by `jwks.rs`) is refetched on an unknown `kid` and on a
//! bad signature under a known `kid` (single-flight, rate-limited per issuer), refreshed in
//! the background every `refresh_interval`, and kept through IdP outages for at most
//! `max_key_staleness` — then the issuer's tokens get 503, never 200. Verified tokens are
//! cached by SHA-256 until their `exp` (`cache.rs`), and served from the cache only while the
//! key that verified them is still current and fresh. Issuers are built in `issuer.rs`.
//!
//! Deliberately not done here: OIDC login and session cookies, organization mapping (the
//! `orgs` module reads [`Identity::org_claim`] and [`Identity::email`]), and HTTP answers (the
//! caller maps [`AuthError`] to 401/503).

mod cache;
mod discovery;
mod error;
mod issuer;
mod json;
mod jwks;
mod keys;
mod options;
mod store;
mod token;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::Algorithm;

pub use discovery::{DiscoveryError, ProviderMetadata};
pub use error::{AuthError, AuthInitError, MalformedReason, RejectReason};
pub use issuer::{DEFAULT_MAX_KEY_STALENESS, DEFAULT_REFRESH_INTERVAL};
pub use jwks::JwksError;
pub use keys::KeyError;
pub use options::{AuthOptions, IssuerConfig, KeySource};

use cache::{unix_now, KeyBinding, TokenCache};
use issuer::{build_issuer, map_jwt_error, Issuer, IssuerKeys};
use keys::VerifyKey;
use store::Lookup;
use token::JoseHeader;
use RejectReason as R;

/// Longest a token may still be valid for: an `exp` further away is refused (threats J5: a
/// token that never expires cannot be revoked by waiting).
pub const MAX_TOKEN_LIFETIME: std::time::Duration = std::time::Duration::from_secs(366 * 24 * 3600);

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
    /// The groups claim's values (empty when the claim is absent or not configured).
    pub groups: Vec<String>,
    /// True when the token reports that its groups were left out for being too many (Entra ID
    /// `_claim_names`/`hasgroups`) or it lists more than 1,000; `groups` is then empty.
    pub groups_overage: bool,
    /// Organizations already mapped from the groups claim, when the groups themselves are not
    /// kept (a browser session stores these instead of the groups); the groups source then
    /// answers with them. `None` for bearer tokens.
    pub group_orgs: Option<Vec<String>>,
}

/// Verifies bearer tokens against the configured issuers. Cheap to share behind an `Arc`.
pub struct Verifier {
    issuers: HashMap<String, Issuer>,
    org_claim: Option<String>,
    groups_claim: Option<String>,
    max_header_bytes: usize,
    cache: TokenCache,
    /// Signature verifications performed (cache hits do not count).
    signature_checks: AtomicU64,
    /// Background key-set refreshes, one per fetched key set; aborted when the verifier drops.
    refresh_tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for Verifier {
    fn drop(&mut self) {
        for task in &self.refresh_tasks {
            task.abort();
        }
    }
}

impl Verifier {
    /// Validates the configuration, fetches each key set once and starts one background refresh
    /// task per fetched key set (stopped when the verifier drops). A failed fetch is logged,
    /// not fatal: that issuer's tokens get 503 while the background task and on-demand
    /// refetches (rate-limited) retry.
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
            IssuerKeys::Jwks(store) => Some(store.refresh_after(store.attempts(), true)),
            IssuerKeys::Static(_) => None,
        });
        futures_util::future::join_all(first_fetches).await;
        let refresh_tasks = map
            .values()
            .filter_map(|issuer| match &issuer.keys {
                IssuerKeys::Jwks(store) => {
                    Some(tokio::spawn(store::run_refresh(Arc::clone(store))))
                }
                IssuerKeys::Static(_) => None,
            })
            .collect();
        Ok(Verifier {
            issuers: map,
            org_claim: opts.org_claim,
            groups_claim: opts.groups_claim,
            max_header_bytes: opts.max_header_bytes,
            cache: TokenCache::new(opts.cache_capacity),
            signature_checks: AtomicU64::new(0),
            refresh_tasks,
        })
    }

    /// Verifies the request's bearer token and returns who it names.
    /// The identity is shared with the token cache (a cache hit copies nothing).
    pub async fn authenticate(
        &self,
        headers: &http::HeaderMap,
    ) -> Result<Arc<Identity>, AuthError> {
        // A cached token is found by its bytes alone; only a miss pays for the shape checks.
        let digest = token::cache_key_bytes(headers, self.max_header_bytes).map(cache::digest);
        if let Some(digest) = &digest {
            if let Some((identity, binding)) = self.cache.get(digest).await {
                // Served only while the key that verified it is still current and fresh.
                if self.still_bound(&identity.issuer, binding.as_deref()) {
                    return Ok(identity);
                }
            }
        }
        let parts = token::bearer(headers, self.max_header_bytes)?;
        let digest = digest.unwrap_or_else(|| cache::digest(parts.token.as_bytes()));
        let header = token::parse_header(parts.header)?;
        let claims = token::parse_claims(
            parts.payload,
            self.org_claim.as_deref(),
            self.groups_claim.as_deref(),
        )?;
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
        let binding = self
            .verify_signature(issuer, &header, alg, parts.token)
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
        if exp > now.saturating_add(MAX_TOKEN_LIFETIME.as_secs()) {
            return Err(AuthError::Rejected(R::LifetimeTooLong));
        }
        if claims.security_event {
            return Err(AuthError::Rejected(R::NotAnAccessToken));
        }
        let email = if claims.email_verified == Some(false) {
            None
        } else {
            claims.email
        };
        let identity = Arc::new(Identity {
            issuer: issuer.name.clone(),
            subject,
            email,
            org_claim: claims.orgs,
            groups: claims.groups,
            groups_overage: claims.groups_overage,
            group_orgs: None,
        });
        self.cache
            .insert(digest, Arc::clone(&identity), binding, exp)
            .await;
        Ok(identity)
    }

    /// Finds the key for (issuer, `kid`) and checks the signature and the standard claims;
    /// returns the fetched key that verified it (`None` for a static key).
    async fn verify_signature(
        &self,
        issuer: &Issuer,
        header: &JoseHeader,
        alg: Algorithm,
        token: &str,
    ) -> Result<Option<KeyBinding>, AuthError> {
        let store = match &issuer.keys {
            IssuerKeys::Static(key) => return self.check(issuer, key, alg, token).map(|()| None),
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
        let bound = |key: &VerifyKey| {
            Some(KeyBinding {
                kid: kid.to_owned(),
                fingerprint: key.fingerprint,
            })
        };
        match self.check(issuer, &key, alg, token) {
            Err(AuthError::Rejected(R::BadSignature)) => {
                // The issuer may have replaced the key under the same kid: one (single-flight,
                // rate-limited) refetch, and a second check only if the key actually changed.
                store.refresh_after(seen, false).await;
                match store.fresh().and_then(|set| set.get(kid)) {
                    Some(fresh) if fresh.fingerprint != key.fingerprint => self
                        .check(issuer, &fresh, alg, token)
                        .map(|()| bound(&fresh)),
                    _ => Err(AuthError::Rejected(R::BadSignature)),
                }
            }
            other => other.map(|()| bound(&key)),
        }
    }

    /// True when a cached token of `issuer`, verified with `binding`, may be served: a static
    /// key, or the same key still current under its `kid` and within its staleness bound.
    fn still_bound(&self, issuer: &str, binding: Option<&KeyBinding>) -> bool {
        match self.issuers.get(issuer).map(|i| &i.keys) {
            Some(IssuerKeys::Static(_)) => true,
            Some(IssuerKeys::Jwks(store)) => binding.is_some_and(|b| {
                store
                    .fresh()
                    .and_then(|set| set.get(&b.kid))
                    .is_some_and(|key| key.fingerprint == b.fingerprint)
            }),
            None => false,
        }
    }

    /// The provider metadata of an issuer configured with `discovery = true`, as of the last
    /// successful fetch; `None` for other issuers or before the first success.
    pub fn discovery(&self, issuer: &str) -> Option<Arc<ProviderMetadata>> {
        match &self.issuers.get(issuer)?.keys {
            IssuerKeys::Jwks(store) => store.metadata(),
            IssuerKeys::Static(_) => None,
        }
    }

    /// Like [`Verifier::discovery`], but when no document was accepted yet, first refetches
    /// (single-flight and rate-limited like a key miss; waits for that fetch).
    pub async fn discovery_or_fetch(&self, issuer: &str) -> Option<Arc<ProviderMetadata>> {
        let IssuerKeys::Jwks(store) = &self.issuers.get(issuer)?.keys else {
            return None;
        };
        if let Some(found) = store.metadata() {
            return Some(found);
        }
        store.refresh_after(store.attempts(), false).await;
        store.metadata()
    }

    /// Each issuer and the age of its usable keys (time since the last successful fetch),
    /// sorted by issuer: `None` when it has none (never fetched, or dropped as stale — its
    /// tokens get 503); `Some(ZERO)` for static keys. For readiness checks.
    pub fn key_status(&self) -> Vec<(String, Option<Duration>)> {
        let mut status: Vec<_> = self
            .issuers
            .values()
            .map(|issuer| {
                let age = match &issuer.keys {
                    IssuerKeys::Static(_) => Some(Duration::ZERO),
                    IssuerKeys::Jwks(store) => store.age(),
                };
                (issuer.name.clone(), age)
            })
            .collect();
        status.sort();
        status
    }

    /// Key-set refreshes per issuer (JWKS issuers only), and the token cache's figures.
    pub async fn figures(
        &self,
    ) -> (
        Vec<crate::metrics::KeyFigures>,
        crate::metrics::CacheFigures,
    ) {
        let mut keys: Vec<_> = self
            .issuers
            .values()
            .filter_map(|issuer| match &issuer.keys {
                IssuerKeys::Jwks(store) => {
                    let (refreshed, failed) = store.outcomes();
                    Some(crate::metrics::KeyFigures {
                        issuer: issuer.name.clone(),
                        refreshed,
                        failed,
                    })
                }
                IssuerKeys::Static(_) => None,
            })
            .collect();
        keys.sort_by(|a, b| a.issuer.cmp(&b.issuer));
        let (entries, hits, misses) = self.cache.figures().await;
        let tokens = crate::metrics::CacheFigures {
            name: "tokens",
            entries,
            hits,
            misses,
        };
        (keys, tokens)
    }

    /// Key-set documents fetched so far for `issuer` (attempts, failed ones included).
    pub fn jwks_fetches(&self, issuer: &str) -> Option<u64> {
        match &self.issuers.get(issuer)?.keys {
            IssuerKeys::Jwks(store) => Some(store.jwks_fetches()),
            IssuerKeys::Static(_) => None,
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

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_claims;
#[cfg(test)]
mod tests_jwks;
#[cfg(test)]
mod tests_prop;
#[cfg(test)]
mod tests_refresh;
