//! Identity → organizations (step 2 of DESIGN.md §2), from the configured sources in order:
//! the token's organization claim, the groups claim through `[orgs.groups]`, the email-domain
//! map, the static map file (`static_map`) and JSM customer organizations (`jsm`).
//!
//! **First source that knows the customer wins**: sources are asked in `orgs.sources` order
//! (default: claim, groups, email_domains, static, jsm — those configured) and the first one
//! that returns a non-empty set is the answer; later sources are not asked, so a customer's
//! organizations never mix two sources. Nobody knows the customer → no organization (shared
//! articles only).
//!
//! Refusals instead of guesses: a token whose groups were left out for being too many (Entra ID
//! groups overage) is denied whenever the groups source is configured ([`OrgsError::GroupsOverage`]),
//! whatever the other sources say; when the JSM source is reached and has no usable index, the
//! customer is denied ([`OrgsError::JsmUnavailable`]) rather than answered from later sources.
//! Values that are not valid organization ids are ignored (and logged), never guessed at.
//!
//! Deliberately not: reading groups from Microsoft Graph on overage, and any per-request
//! network call (JSM is an index refreshed in the background, see `jsm`).

pub mod jsm;
mod jsm_fetch;
pub mod static_map;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use crate::auth::Identity;
use crate::config::OrgSettings;
use crate::ids::OrgId;
use crate::policy::OrgSet;

pub use jsm::{JsmOrgs, Unavailable};
pub use jsm_fetch::{IndexStats, JsmFetchError};
pub use static_map::StaticMap;

/// Longest `App::build` waits for the first JSM index before serving (the load goes on).
pub const JSM_FIRST_LOAD_WAIT: Duration = Duration::from_secs(10);

/// One place organizations come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Source {
    /// The token claim named by `orgs.claim`.
    Claim,
    /// The token claim named by `orgs.groups_claim`, through `[orgs.groups]`.
    Groups,
    /// The email's domain, through `[orgs.email_domains]`.
    EmailDomains,
    /// The static map file `orgs.static_file`.
    Static,
    /// JSM customer organizations, `[orgs.jsm]`.
    Jsm,
}

impl Source {
    /// The order used when `orgs.sources` is not set (unconfigured sources are skipped).
    pub const DEFAULT_ORDER: [Source; 5] = [
        Source::Claim,
        Source::Groups,
        Source::EmailDomains,
        Source::Static,
        Source::Jsm,
    ];

    /// The name used in `orgs.sources` and in logs.
    pub fn name(self) -> &'static str {
        match self {
            Source::Claim => "claim",
            Source::Groups => "groups",
            Source::EmailDomains => "email_domains",
            Source::Static => "static",
            Source::Jsm => "jsm",
        }
    }

    /// The source of an `orgs.sources` entry.
    pub fn from_name(name: &str) -> Option<Source> {
        Source::DEFAULT_ORDER.into_iter().find(|s| s.name() == name)
    }
}

/// Why a customer's organizations could not be decided; the customer is denied.
#[derive(Debug, thiserror::Error)]
pub enum OrgsError {
    /// The token says its groups were left out for being too many (Entra ID `_claim_names`).
    #[error("the token's groups were left out for being too many (groups overage)")]
    GroupsOverage,
    /// JSM had to answer and has no usable index.
    #[error("JSM organizations are unavailable: {0}")]
    JsmUnavailable(#[source] Unavailable),
}

impl OrgsError {
    /// Stable snake_case reason for logs and metrics.
    pub fn reason(&self) -> &'static str {
        match self {
            OrgsError::GroupsOverage => "groups_overage",
            OrgsError::JsmUnavailable(Unavailable::NeverLoaded) => "jsm_orgs_never_loaded",
            OrgsError::JsmUnavailable(Unavailable::Stale { .. }) => "jsm_orgs_stale",
        }
    }
}

/// Why the resolver could not be built.
#[derive(Debug, thiserror::Error)]
pub enum OrgsInitError {
    /// The JSM credentials are not a valid header value (the config check prevents this).
    #[error("the JSM credentials cannot be sent in a header")]
    JsmCredentials(#[source] http::header::InvalidHeaderValue),
}

/// A customer's organizations and the source that knew them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The organizations (empty: shared articles only).
    pub orgs: OrgSet,
    /// The source that answered; `None` when no source knew the customer.
    pub source: Option<Source>,
}

/// Maps verified identities to organizations. Cheap to share; clones share the JSM index.
#[derive(Clone, Debug, Default)]
pub struct OrgResolver {
    order: Vec<Source>,
    groups: BTreeMap<String, Vec<OrgId>>,
    email_domains: BTreeMap<String, Vec<OrgId>>,
    static_map: Option<Arc<StaticMap>>,
    jsm: Option<Arc<JsmOrgs>>,
}

impl OrgResolver {
    /// A resolver for `settings` without its JSM source (see [`OrgResolver::with_jsm`] and
    /// [`OrgResolver::start`]); no network I/O.
    pub fn new(settings: &OrgSettings) -> Self {
        Self {
            order: settings.sources.clone(),
            groups: settings.groups.clone(),
            email_domains: settings.email_domains.clone(),
            static_map: settings.static_map.clone(),
            jsm: None,
        }
    }

    /// Uses `jsm` as the JSM source.
    pub fn with_jsm(mut self, jsm: Arc<JsmOrgs>) -> Self {
        self.jsm = Some(jsm);
        self
    }

    /// Builds the resolver and, with `[orgs.jsm]`, loads the JSM index (waiting at most
    /// [`JSM_FIRST_LOAD_WAIT`]) and starts its background refresh.
    pub async fn start(
        settings: &OrgSettings,
        client: crate::http_client::HttpClient,
    ) -> Result<Self, OrgsInitError> {
        let resolver = Self::new(settings);
        let Some(jsm_settings) = &settings.jsm else {
            return Ok(resolver);
        };
        let jsm = JsmOrgs::new(jsm_settings, client).map_err(OrgsInitError::JsmCredentials)?;
        jsm.start(JSM_FIRST_LOAD_WAIT).await;
        Ok(resolver.with_jsm(jsm))
    }

    /// The JSM source, if configured (for figures and tests).
    pub fn jsm(&self) -> Option<&Arc<JsmOrgs>> {
        self.jsm.as_ref()
    }

    /// The organizations of a customer: those of the first source, in order, that knows them.
    pub async fn resolve(&self, identity: &Identity) -> Result<Resolved, OrgsError> {
        if identity.groups_overage && self.order.contains(&Source::Groups) {
            return Err(OrgsError::GroupsOverage);
        }
        for &source in &self.order {
            let orgs = match source {
                Source::Claim => valid_ids(&identity.org_claim),
                Source::Groups => match &identity.group_orgs {
                    Some(mapped) => mapped.iter().filter_map(|o| OrgId::new(o).ok()).collect(),
                    None => self.orgs_of_groups(&identity.groups),
                },
                Source::EmailDomains => self.orgs_of_email_domain(identity.email.as_deref()),
                Source::Static => self.static_map.as_ref().map_or_else(Vec::new, |m| {
                    m.lookup(
                        &identity.issuer,
                        &identity.subject,
                        identity.email.as_deref(),
                    )
                }),
                Source::Jsm => match &self.jsm {
                    Some(jsm) => jsm
                        .lookup(identity.email.as_deref(), &identity.subject)
                        .await
                        .map_err(OrgsError::JsmUnavailable)?,
                    None => Vec::new(),
                },
            };
            if !orgs.is_empty() {
                tracing::debug!(orgs.source = source.name(), "organizations resolved");
                return Ok(Resolved {
                    orgs: OrgSet::new(orgs),
                    source: Some(source),
                });
            }
        }
        Ok(Resolved {
            orgs: OrgSet::default(),
            source: None,
        })
    }

    /// The organizations `groups` map to through `[orgs.groups]` (empty when the groups source
    /// is not configured). A browser session stores these at sign-in instead of the groups.
    pub fn orgs_of_groups(&self, groups: &[String]) -> Vec<OrgId> {
        groups
            .iter()
            .filter_map(|g| self.groups.get(g))
            .flatten()
            .cloned()
            .collect()
    }

    fn orgs_of_email_domain(&self, email: Option<&str>) -> Vec<OrgId> {
        email
            .and_then(|e| e.rsplit_once('@'))
            .map(|(_, d)| d.to_ascii_lowercase())
            .and_then(|domain| self.email_domains.get(&domain))
            .cloned()
            .unwrap_or_default()
    }
}

/// The claim values that are valid organization ids; the others are logged and ignored.
fn valid_ids(values: &[String]) -> Vec<OrgId> {
    let mut orgs = Vec::new();
    for value in values {
        match OrgId::new(value) {
            Ok(org) => orgs.push(org),
            Err(e) => {
                tracing::warn!(reason = "org_claim_value_invalid", error = %e, "ignored an organization claim value")
            }
        }
    }
    orgs
}

#[cfg(test)]
mod jsm_tests;
#[cfg(test)]
mod tests;
