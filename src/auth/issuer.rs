//! Building one issuer from its configuration, and mapping jsonwebtoken's refusals to
//! kbgate's reasons.
//!
//! Guarantees: an issuer has audiences, algorithms that fit its keys (never HS256 for a
//! fetched key set), a leeway of at most [`MAX_LEEWAY`], key URLs that are `https` (plain
//! `http` only to loopback) and, for fetched key sets, a non-zero refresh interval and
//! staleness bound. Deliberately not done: fetching (the verifier does it once all issuers
//! are built) and the config-file bounds on intervals (`config::validate` checks them).

use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Validation};

use super::discovery::{discovery_url, url_allowed};
use super::keys::{kind_for, KeyKind, VerifyKey};
use super::store::{FetchSettings, JwksStore, Source};
use super::{
    AuthError, AuthInitError, AuthOptions, IssuerConfig, KeySource, MalformedReason,
    RejectReason as R, MAX_LEEWAY,
};

/// One configured issuer, ready to verify its tokens.
pub(super) struct Issuer {
    /// The exact `iss` value.
    pub name: String,
    /// The leeway on `exp`, `nbf` and `iat`, in seconds.
    pub leeway_secs: u64,
    /// Where its keys are.
    pub keys: IssuerKeys,
    /// One prepared validation per allowed algorithm.
    pub validations: Vec<(Algorithm, Validation)>,
}

/// An issuer's keys: fixed, or a fetched and refreshed set.
pub(super) enum IssuerKeys {
    /// A static PEM or a shared secret.
    Static(Arc<VerifyKey>),
    /// A JWKS (by URL or through discovery), shared with its background refresh task.
    Jwks(Arc<JwksStore>),
}

impl Issuer {
    /// The header's `alg`, if this issuer accepts it. `none` in any spelling is named as such.
    pub fn algorithm(&self, name: &str) -> Result<Algorithm, AuthError> {
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

pub(super) fn build_issuer(
    config: IssuerConfig,
    opts: &AuthOptions,
    client: &crate::http_client::HttpClient,
) -> Result<Issuer, AuthInitError> {
    let name = config.issuer;
    let intervals = (config.refresh_interval, config.max_key_staleness);
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
    let refresh_error = || AuthInitError::Refresh {
        issuer: name.clone(),
    };
    let keys = match config.keys {
        KeySource::StaticPem { pem } => IssuerKeys::Static(Arc::new(
            VerifyKey::from_public_pem(&pem).map_err(key_error)?,
        )),
        KeySource::SharedSecret(secret) => IssuerKeys::Static(Arc::new(
            VerifyKey::from_secret(&secret).map_err(key_error)?,
        )),
        KeySource::JwksUrl(uri) => {
            if !url_allowed(&uri) {
                return Err(AuthInitError::JwksUrl { issuer: name });
            }
            let settings = fetch_settings(intervals, opts, client).ok_or(refresh_error())?;
            IssuerKeys::Jwks(Arc::new(JwksStore::new(
                name.clone(),
                Source::Jwks(uri),
                settings,
            )))
        }
        KeySource::Discovery => {
            let url = discovery_url(&name).ok_or(AuthInitError::DiscoveryUrl {
                issuer: name.clone(),
            })?;
            let settings = fetch_settings(intervals, opts, client).ok_or(refresh_error())?;
            IssuerKeys::Jwks(Arc::new(JwksStore::new(
                name.clone(),
                Source::Discovery(url),
                settings,
            )))
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

/// Maps jsonwebtoken's refusal to kbgate's reason.
pub(super) fn map_jwt_error(kind: &ErrorKind) -> AuthError {
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

/// How a fetched key set is fetched and refreshed; `None` when an interval is zero.
fn fetch_settings(
    (refresh_interval, max_staleness): (Duration, Duration),
    opts: &AuthOptions,
    client: &crate::http_client::HttpClient,
) -> Option<FetchSettings> {
    if refresh_interval.is_zero() || max_staleness.is_zero() {
        return None;
    }
    Some(FetchSettings {
        client: client.clone(),
        timeout: opts.fetch_timeout,
        max_bytes: opts.max_jwks_bytes,
        min_interval: opts.jwks_refresh_min_interval,
        refresh_interval,
        max_staleness,
    })
}

/// Default time between two background fetches of a key set.
pub const DEFAULT_REFRESH_INTERVAL: Duration = Duration::from_secs(600);
/// Default bound on how long the last good keys are used while fetches fail.
pub const DEFAULT_MAX_KEY_STALENESS: Duration = Duration::from_secs(24 * 3600);
