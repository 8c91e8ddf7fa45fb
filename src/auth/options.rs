//! How kbgate is told whom to trust: the issuers, where their keys come from, and the settings
//! all issuers share.

use std::fmt;
use std::time::Duration;

use jsonwebtoken::Algorithm;

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
    /// Clock-skew allowance for `exp`, `nbf` and `iat`; at most [`super::MAX_LEEWAY`].
    pub leeway: Duration,
    /// Time between two background fetches of a fetched key set (JWKS URL or discovery);
    /// non-zero. Ignored for static keys.
    pub refresh_interval: Duration,
    /// Longest time the last good keys stay usable after the last successful fetch while
    /// fetches fail; then the issuer's tokens get 503. Non-zero. Ignored for static keys.
    pub max_key_staleness: Duration,
}

/// Where an issuer's verification keys come from.
#[derive(Clone)]
pub enum KeySource {
    /// A JWKS document, fetched at start-up, in the background and again on unknown `kid`.
    JwksUrl(http::Uri),
    /// OIDC discovery: `{issuer}/.well-known/openid-configuration` (its `issuer` must equal the
    /// configured one), then the JWKS at its `jwks_uri`; both refreshed together.
    Discovery,
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
            KeySource::Discovery => f.write_str("Discovery"),
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
    /// The claim holding the customer's groups (a string or an array of strings), e.g. `groups`.
    pub groups_claim: Option<String>,
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
            groups_claim: None,
            max_header_bytes: 8192,
            cache_capacity: 10_000,
            jwks_refresh_min_interval: Duration::from_secs(10),
            fetch_timeout: Duration::from_secs(5),
            max_jwks_bytes: 256 * 1024,
        }
    }
}
