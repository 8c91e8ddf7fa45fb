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
    pub header_read_timeout: Option<String>,
    pub request_timeout: Option<String>,
    pub idle_timeout: Option<String>,
    pub drain_timeout: Option<String>,
    pub max_header_bytes: Option<usize>,
    pub max_uri_bytes: Option<usize>,
    pub cursor_secret_env: Option<String>,
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
    pub public_key_file: Option<String>,
    pub algorithms: Option<Vec<String>>,
    pub leeway: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileOrgs {
    pub claim: Option<String>,
    #[serde(default)]
    pub email_domains: BTreeMap<String, Vec<String>>,
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
