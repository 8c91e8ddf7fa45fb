//! The configuration file as written on disk: plain serde structs, unknown keys refused.
//!
//! Nothing here is validated beyond TOML types; `validate` turns a [`FileConfig`] into a
//! [`super::Config`] and reports every problem at once.

use std::collections::BTreeMap;

use serde::Deserialize;

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub server: FileServer,
    pub upstream: FileUpstream,
    pub auth: FileAuth,
    #[serde(default)]
    pub orgs: FileOrgs,
    pub policy: FilePolicy,
    #[serde(default)]
    pub cache: FileCache,
    #[serde(default)]
    pub log: FileLog,
    /// `[login]`: browser sign-in (OIDC code + PKCE); absent = the login routes answer 404.
    pub login: Option<FileLogin>,
    /// `[site]`: the customer KB site at `/`; absent = enabled with the default branding.
    #[serde(default)]
    pub site: FileSite,
    /// `[probe]`: the runtime canary probe; absent = off.
    pub probe: Option<FileProbe>,
}

/// `[probe]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileProbe {
    pub interval: Option<String>,
    pub canaries: Vec<FileCanary>,
}

/// One `[[probe.canaries]]` entry: an organization and strings only its articles contain.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileCanary {
    pub org: String,
    pub text: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileServer {
    pub listen: String,
    pub admin_listen: Option<String>,
    pub public_url: String,
    pub tls_cert: Option<String>,
    pub tls_key: Option<String>,
    #[serde(default)]
    pub http2: bool,
    pub max_connections: Option<usize>,
    pub max_in_flight: Option<usize>,
    pub header_read_timeout: Option<String>,
    pub request_timeout: Option<String>,
    pub idle_timeout: Option<String>,
    pub drain_timeout: Option<String>,
    pub max_header_bytes: Option<usize>,
    pub max_uri_bytes: Option<usize>,
    pub cursor_secret_env: Option<String>,
    pub allowed_hosts: Option<Vec<String>>,
    pub reload_watch_interval: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileUpstream {
    pub base_url: String,
    pub flavor: Option<String>,
    pub auth: FileUpstreamAuth,
    pub timeout: Option<String>,
    pub connect_timeout: Option<String>,
    pub max_body_bytes: Option<usize>,
    pub max_idle_connections: Option<usize>,
    pub max_connections: Option<usize>,
    pub ca_file: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, tag = "kind", rename_all = "lowercase")]
pub enum FileUpstreamAuth {
    /// Confluence Cloud: account email + API token.
    Basic { email: String, token_env: String },
    /// Data Center: a personal access token.
    Bearer { token_env: String },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileAuth {
    #[serde(default)]
    pub issuers: Vec<FileIssuer>,
    pub token_cache_capacity: Option<u64>,
    pub max_header_bytes: Option<usize>,
    pub jwks_refresh_min_interval: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileIssuer {
    pub issuer: String,
    pub audiences: Vec<String>,
    pub jwks_url: Option<String>,
    /// Find the JWKS through `{issuer}/.well-known/openid-configuration` (instead of `jwks_url`).
    #[serde(default)]
    pub discovery: bool,
    pub public_key_file: Option<String>,
    pub algorithms: Option<Vec<String>>,
    pub leeway: Option<String>,
    /// Background refetch of the key set, default "10m", 1m–24h.
    pub refresh_interval: Option<String>,
    /// How long the last good keys serve while the IdP is down, default "24h", 1m–7d.
    pub max_key_staleness: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileOrgs {
    pub claim: Option<String>,
    pub groups_claim: Option<String>,
    #[serde(default)]
    pub groups: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub email_domains: BTreeMap<String, Vec<String>>,
    pub static_file: Option<String>,
    pub sources: Option<Vec<String>>,
    pub jsm: Option<FileJsmOrgs>,
}

/// `[orgs.jsm]`: JSM customer organizations.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileJsmOrgs {
    pub base_url: Option<String>,
    pub email_env: Option<String>,
    pub token_env: String,
    pub refresh_interval: Option<String>,
    pub max_staleness: Option<String>,
    pub timeout: Option<String>,
    #[serde(default)]
    pub org_map: BTreeMap<String, String>,
    pub max_organizations: Option<usize>,
    pub max_users: Option<usize>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilePolicy {
    pub spaces: Vec<String>,
    pub label_prefix: Option<String>,
    pub internal_label: Option<String>,
    pub unmarked: Option<String>,
    #[serde(default)]
    pub orgs: Vec<String>,
    #[serde(default)]
    pub subtrees: Vec<FileSubtree>,
    #[serde(default)]
    pub space_orgs: BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSubtree {
    pub root: String,
    pub orgs: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileCache {
    pub metadata_ttl: Option<String>,
    pub metadata_capacity: Option<u64>,
    pub webhook_secret_env: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileLog {
    pub format: Option<String>,
    pub level: Option<String>,
}

/// `[login]`: browser sign-in with OpenID Connect (authorization code + PKCE S256).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileLogin {
    /// One of `auth.issuers[].issuer`; its key set verifies the ID tokens.
    pub issuer: String,
    /// The client registered at the provider; must be one of that issuer's `audiences`.
    pub client_id: String,
    /// Environment variable holding the client secret (confidential clients only).
    pub client_secret_env: Option<String>,
    /// Requested scopes; default `["openid", "email", "profile"]`.
    pub scopes: Option<Vec<String>>,
    /// Environment variable holding the cookie-signing secret (at least 32 characters).
    pub session_secret_env: String,
    /// Session lifetime, default "8h".
    pub session_ttl: Option<String>,
    /// Overrides the discovered authorization endpoint.
    pub authorization_endpoint: Option<String>,
    /// Overrides the discovered token endpoint.
    pub token_endpoint: Option<String>,
    /// Overrides the discovered end-session (logout) endpoint.
    pub end_session_endpoint: Option<String>,
    /// Default `{server.public_url}/_kbgate/callback`.
    pub redirect_uri: Option<String>,
}

/// `[site]`: the customer KB site's switch and branding.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSite {
    /// Serve the KB site at `/`; default true.
    pub enabled: Option<bool>,
    /// Site title; default "Knowledge base"; 1–80 characters, no control characters.
    pub title: Option<String>,
    /// Logo: an absolute `https://` URL or a path on kbgate starting with `/`.
    pub logo_url: Option<String>,
    /// Header color, `#rrggbb`; default "#0b5cad".
    pub primary_color: Option<String>,
    /// Where customers get help (absolute http(s) URL), shown in the footer.
    pub support_url: Option<String>,
    /// The support link's text; default "Contact support".
    pub support_label: Option<String>,
    /// How many recently updated articles the home page lists, 1–50; default 8.
    pub recent_count: Option<i64>,
}
