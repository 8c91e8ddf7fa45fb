//! Configuration: TOML on disk → [`file::FileConfig`] → validated [`Config`].
//!
//! Loading reports **every** problem at once, each with its key path and what to change
//! ([`ConfigError`]). Secrets never live in the file: it names environment variables, read here.
//! `KBGATE_*` environment variables override a few scalar keys (see [`ENV_OVERRIDES`]).
//! This module does no network I/O; files it names (TLS, CA, public keys) are read here so a
//! bad path is a configuration error, not a runtime one.

pub mod file;
mod validate;

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::ids::OrgId;
use crate::policy::Policy;

pub use validate::parse_duration;

/// Environment variables that override one key each: `(variable, section, key)`.
pub const ENV_OVERRIDES: &[(&str, &str, &str)] = &[
    ("KBGATE_LISTEN", "server", "listen"),
    ("KBGATE_ADMIN_LISTEN", "server", "admin_listen"),
    ("KBGATE_PUBLIC_URL", "server", "public_url"),
    ("KBGATE_UPSTREAM_BASE_URL", "upstream", "base_url"),
    ("KBGATE_UPSTREAM_TIMEOUT", "upstream", "timeout"),
    ("KBGATE_LOG_FORMAT", "log", "format"),
    ("KBGATE_LOG_LEVEL", "log", "level"),
];

/// The validated configuration.
#[derive(Clone, Debug)]
pub struct Config {
    pub server: ServerSettings,
    pub upstream: UpstreamSettings,
    pub auth: AuthSettings,
    pub orgs: OrgSettings,
    pub policy: Policy,
    pub cache: CacheSettings,
    pub log: LogSettings,
    /// `[login]`: browser sign-in; `None` when the section is absent (login routes answer 404).
    pub login: Option<LoginSettings>,
    /// `[site]`: the customer KB site at `/` and its branding (defaults when absent).
    pub site: SiteSettings,
    /// The runtime canary probe, when `[probe]` is configured.
    pub probe: Option<ProbeSettings>,
}

/// `[probe]`: kbgate asks itself, as a customer of each organization, a search for every
/// canary, and counts any canary of another organization in the answer as a leak.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeSettings {
    /// Time between rounds (default 5 minutes).
    pub interval: Duration,
    /// Each organization probed as, with the canary strings only its own articles contain.
    pub canaries: Vec<(OrgId, Vec<String>)>,
}

/// `[server]`.
#[derive(Clone, Debug)]
pub struct ServerSettings {
    pub listen: SocketAddr,
    /// `/healthz`, `/readyz`, `/metrics`: default `127.0.0.1:9090`; `"off"` disables.
    pub admin_listen: Option<SocketAddr>,
    /// How often the configuration file is checked for changes (`None`: only SIGHUP reloads).
    pub reload_watch_interval: Option<Duration>,
    /// Public base URL without a trailing slash, e.g. `https://kb.example.com`.
    pub public_url: String,
    /// The `Host` values (lower-case `host[:port]`) kbgate answers; any other is a 400
    /// (threats H2). The public URL's host first, then `server.allowed_hosts`.
    pub allowed_hosts: Vec<String>,
    /// PEM certificate chain and key, when kbgate terminates TLS.
    pub tls: Option<TlsFiles>,
    pub http2: bool,
    pub max_connections: usize,
    /// API requests answered at once (upstream fetch + filter); others wait their turn within
    /// `request_timeout`. Each holds at most one upstream body, so this bounds their memory.
    pub max_in_flight: usize,
    pub header_read_timeout: Duration,
    pub request_timeout: Duration,
    pub idle_timeout: Duration,
    pub drain_timeout: Duration,
    pub max_header_bytes: usize,
    pub max_uri_bytes: usize,
    /// Secret that seals kbgate's v2 paging cursors; `None`: a random key per process (a cursor
    /// is then accepted only by the replica that issued it).
    pub cursor_secret: Option<Secret>,
}

/// TLS material, already read from disk.
#[derive(Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert_pem: Vec<u8>,
    pub key_pem: Vec<u8>,
}

impl fmt::Debug for TlsFiles {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TlsFiles { <redacted> }")
    }
}

/// Which Confluence kbgate fronts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavor {
    /// Confluence Cloud: REST under `/wiki/rest/api`.
    Cloud,
    /// Confluence Data Center: REST under `/rest/api` (served from a later release).
    DataCenter,
}

/// `[upstream]`.
#[derive(Clone, Debug)]
pub struct UpstreamSettings {
    /// Scheme and authority (and optional path prefix), no trailing slash.
    pub base_url: String,
    pub flavor: Flavor,
    /// The service account's `Authorization` value.
    pub credentials: Secret,
    pub timeout: Duration,
    pub connect_timeout: Duration,
    pub max_body_bytes: usize,
    pub max_idle_connections: usize,
    /// Most requests in flight to Confluence at once; more wait (within the timeout).
    pub max_connections: usize,
    pub ca_pem: Option<Vec<u8>>,
}

/// A secret that never prints.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: String) -> Self {
        Self(value)
    }

    /// The secret itself: call only where it is sent.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// `[auth]`.
#[derive(Clone, Debug)]
pub struct AuthSettings {
    pub issuers: Vec<IssuerSettings>,
    pub token_cache_capacity: u64,
    pub max_header_bytes: usize,
    pub jwks_refresh_min_interval: Duration,
}

/// One `[[auth.issuers]]`.
#[derive(Clone, Debug)]
pub struct IssuerSettings {
    pub issuer: String,
    pub audiences: Vec<String>,
    pub keys: IssuerKeys,
    pub algorithms: Vec<jsonwebtoken::Algorithm>,
    pub leeway: Duration,
    /// Time between two background fetches of the key set (fetched keys only).
    pub refresh_interval: Duration,
    /// How long the last good keys serve while fetches fail (fetched keys only).
    pub max_key_staleness: Duration,
}

/// Where an issuer's keys come from.
#[derive(Clone, Debug)]
pub enum IssuerKeys {
    JwksUrl(http::Uri),
    /// OIDC discovery at `{issuer}/.well-known/openid-configuration`.
    Discovery,
    PublicKeyPem(Vec<u8>),
}

/// `[orgs]`.
#[derive(Clone, Debug, Default)]
pub struct OrgSettings {
    /// Token claim holding organization ids (string or array).
    pub claim: Option<String>,
    /// Token claim holding the customer's groups (string or array), e.g. `groups`.
    pub groups_claim: Option<String>,
    /// Group name or object id → organizations (`[orgs.groups]`).
    pub groups: BTreeMap<String, Vec<OrgId>>,
    /// Lowercase email domain → organizations.
    pub email_domains: BTreeMap<String, Vec<OrgId>>,
    /// The static map file (`orgs.static_file`), already read and checked.
    pub static_map: Option<std::sync::Arc<crate::orgs::StaticMap>>,
    /// The JSM customer organizations source (`[orgs.jsm]`).
    pub jsm: Option<JsmOrgSettings>,
    /// The sources, in the order they are asked (`orgs.sources`).
    pub sources: Vec<crate::orgs::Source>,
}

/// `[orgs.jsm]`: JSM customer organizations, read with an agent's credentials.
#[derive(Clone, Debug)]
pub struct JsmOrgSettings {
    /// Jira site URL without a trailing slash (default: `upstream.base_url`).
    pub base_url: String,
    /// The agent's `Authorization` value (Basic email:token, or Bearer token).
    pub credentials: Secret,
    /// Time between two background refreshes of the index.
    pub refresh_interval: Duration,
    /// Longest time the last good index is used while refreshes fail.
    pub max_staleness: Duration,
    /// Deadline of one JSM request, body included.
    pub timeout: Duration,
    /// JSM organization name → kbgate organization (default: the name lowercased, if valid).
    pub org_map: BTreeMap<String, OrgId>,
    /// Most JSM organizations read; the rest are left out (and logged).
    pub max_organizations: usize,
    /// Most customers indexed; the rest are left out (and logged).
    pub max_users: usize,
}

/// `[login]`: browser sign-in with OpenID Connect (authorization code + PKCE S256).
#[derive(Clone, Debug)]
pub struct LoginSettings {
    /// The issuer users sign in with; one of `auth.issuers`, whose keys verify the ID tokens.
    pub issuer: String,
    /// The OAuth client id; one of the issuer's audiences.
    pub client_id: String,
    /// The client secret of a confidential client; `None` for a public client (PKCE only).
    pub client_secret: Option<Secret>,
    /// Scopes requested; always includes `openid`.
    pub scopes: Vec<String>,
    /// Signs the session and login cookies (at least 32 characters); the same on every replica.
    pub session_secret: Secret,
    /// How long a session lasts.
    pub session_ttl: Duration,
    /// Overrides the discovered authorization endpoint.
    pub authorization_endpoint: Option<http::Uri>,
    /// Overrides the discovered token endpoint.
    pub token_endpoint: Option<http::Uri>,
    /// Overrides the discovered end-session endpoint.
    pub end_session_endpoint: Option<http::Uri>,
    /// kbgate's callback URL as registered at the provider.
    pub redirect_uri: String,
    /// `server.public_url`, where logout ends and relative redirects are resolved.
    pub public_url: String,
}

/// `[site]`: the customer KB site.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SiteSettings {
    /// Whether kbgate serves the KB site at `/` (false: those routes answer 404).
    pub enabled: bool,
    /// Title, logo, validated `#rrggbb` color and support link.
    pub branding: crate::portal::model::Branding,
    /// How many recently updated articles the home page lists (1–50).
    pub recent_count: u32,
}

/// `[cache]`.
#[derive(Clone, Debug)]
pub struct CacheSettings {
    pub metadata_ttl: Duration,
    pub metadata_capacity: u64,
    /// Shared secret of `POST /_kbgate/hooks/confluence`; `None` disables the endpoint.
    pub webhook_secret: Option<Secret>,
}

/// `[log]`.
#[derive(Clone, Debug)]
pub struct LogSettings {
    pub format: LogFormat,
    /// An `EnvFilter` directive, e.g. `info` or `kbgate=debug`.
    pub level: String,
}

/// How logs are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

/// One problem in a configuration file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// Key path, e.g. `auth.issuers[0].jwks_url`.
    pub path: String,
    /// What is wrong and what to change.
    pub message: String,
}

/// Why a configuration could not be loaded: every problem found.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not valid kbgate TOML: {message}")]
    Syntax { path: PathBuf, message: String },
    #[error("{} problem(s) in {}:\n{}", .problems.len(), .path.display(), render_problems(.problems))]
    Invalid {
        path: PathBuf,
        problems: Vec<Problem>,
    },
}

fn render_problems(problems: &[Problem]) -> String {
    let lines: Vec<String> = problems
        .iter()
        .map(|p| format!("  - {}: {}", p.path, p.message))
        .collect();
    lines.join("\n")
}

impl Config {
    /// Reads, parses and validates a configuration file, applying `KBGATE_*` overrides from
    /// the process environment.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::from_toml(&text, path, &|name| std::env::var(name).ok())
    }

    /// Parses and validates TOML text. `env` looks up environment variables (overrides and
    /// secrets); relative file paths in the config are resolved against `path`'s folder.
    pub fn from_toml(
        text: &str,
        path: &Path,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let syntax = |message: String| ConfigError::Syntax {
            path: path.to_owned(),
            message,
        };
        let mut doc: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| syntax(e.to_string()))?;
        apply_env_overrides(&mut doc, env);
        let file: file::FileConfig = doc
            .try_into()
            .map_err(|e: toml::de::Error| syntax(e.to_string()))?;
        let base_dir = path.parent().unwrap_or_else(|| Path::new("."));
        validate::validate(file, base_dir, env).map_err(|problems| ConfigError::Invalid {
            path: path.to_owned(),
            problems,
        })
    }
}

fn apply_env_overrides(doc: &mut toml::Table, env: &dyn Fn(&str) -> Option<String>) {
    for (var, section, key) in ENV_OVERRIDES {
        if let Some(value) = env(var) {
            let table = doc
                .entry(section.to_string())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            if let toml::Value::Table(t) = table {
                t.insert(key.to_string(), toml::Value::String(value));
            }
        }
    }
}

#[cfg(test)]
mod tests;
