//! Reading JSM customer organizations: `GET /rest/servicedeskapi/organization` page by page,
//! then `GET /rest/servicedeskapi/organization/{id}/user` for every organization kbgate maps,
//! into a fresh [`Index`] (email and accountId → organizations).
//!
//! Guarantees: every answer is read through [`crate::http_client::fetch`] (deadline, body cap)
//! and parsed into typed structs; organization ids must be digits before they go into a path;
//! paging stops on `isLastPage`, and an empty page that claims more is an error (no endless
//! loop); organizations and users are capped ([`Limits`]) — past a cap the rest is left out and
//! the index says so. A fetch either builds a whole index or fails: never half an index.
//! Deliberately not: retries (the caller refreshes again later) and JSM's `accountId` filter.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use futures_util::stream::{self, StreamExt, TryStreamExt};
use http::header::{ACCEPT, AUTHORIZATION};
use http::{HeaderMap, HeaderValue, Uri};
use serde::Deserialize;

use crate::http_client::{self, FetchError, HttpClient};
use crate::ids::OrgId;

/// Largest JSM answer read, in bytes (a page of 50 users is about 100 KiB).
const MAX_PAGE_BYTES: usize = 4 * 1024 * 1024;
/// Organizations whose users are fetched at the same time.
const CONCURRENCY: usize = 4;

/// Why the index could not be rebuilt.
#[derive(Debug, thiserror::Error)]
pub enum JsmFetchError {
    #[error("the JSM URL could not be built")]
    Url(#[source] http::uri::InvalidUri),
    #[error("the JSM request failed")]
    Fetch(#[source] FetchError),
    #[error("JSM refused the agent credentials (HTTP {0}): check orgs.jsm.email_env/token_env and that the account is a JSM agent")]
    Refused(u16),
    #[error("JSM answered HTTP {0}")]
    Status(u16),
    #[error("JSM answered JSON kbgate cannot read")]
    Parse(#[source] serde_json::Error),
    #[error("JSM sent an empty page that claims more pages")]
    NoProgress,
    #[error("JSM sent an organization id that is not a number")]
    BadOrgId,
}

/// What one rebuild may read.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Most organizations read.
    pub max_organizations: usize,
    /// Most distinct customers indexed.
    pub max_users: usize,
    /// `limit` of each page request.
    pub page_size: usize,
}

/// Where and how to read.
pub struct Target<'a> {
    pub client: &'a HttpClient,
    /// Site URL without a trailing slash.
    pub base_url: &'a str,
    /// The `Authorization` value.
    pub credentials: &'a HeaderValue,
    pub timeout: Duration,
    pub org_map: &'a BTreeMap<String, OrgId>,
    pub limits: &'a Limits,
}

/// One index of customers to organizations, as JSM said at `loaded_at`.
#[derive(Debug, Default)]
pub struct Index {
    /// Lowercased email → organizations.
    pub by_email: HashMap<String, Vec<OrgId>>,
    /// Atlassian accountId → organizations.
    pub by_account: HashMap<String, Vec<OrgId>>,
    /// Figures of the rebuild.
    pub stats: IndexStats,
}

/// Figures of one rebuild.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IndexStats {
    /// JSM organizations seen.
    pub organizations: usize,
    /// Organizations mapped to a kbgate organization (their users were read).
    pub mapped: usize,
    /// Distinct customers indexed.
    pub users: usize,
    /// HTTP requests made.
    pub requests: usize,
    /// True when a cap left organizations or customers out.
    pub truncated: bool,
}

#[derive(Deserialize)]
struct Page<T> {
    /// `None` when JSM leaves it out: an empty page then ends the list.
    #[serde(rename = "isLastPage")]
    is_last_page: Option<bool>,
    #[serde(default = "Vec::new")]
    values: Vec<T>,
}

#[derive(Deserialize)]
struct JsmOrganization {
    id: String,
    name: String,
}

#[derive(Deserialize)]
struct JsmUser {
    #[serde(rename = "accountId")]
    account_id: Option<String>,
    #[serde(rename = "emailAddress")]
    email_address: Option<String>,
    active: Option<bool>,
}

/// Reads every organization and its users. Started at `Instant::now()`, which becomes the
/// index's age.
pub async fn fetch_index(t: &Target<'_>) -> Result<(Index, Instant), JsmFetchError> {
    let started = Instant::now();
    let mut stats = IndexStats::default();
    let mut mapped: Vec<(String, OrgId)> = Vec::new();
    let mut unmapped: Vec<String> = Vec::new();
    let mut unmapped_count = 0usize;
    let mut start = 0usize;
    loop {
        let path = format!(
            "/rest/servicedeskapi/organization?start={start}&limit={}",
            t.limits.page_size
        );
        let page: Page<JsmOrganization> = get(t, &path).await?;
        stats.requests += 1;
        let n = page.values.len();
        for org in page.values {
            if stats.organizations >= t.limits.max_organizations {
                stats.truncated = true;
                break;
            }
            stats.organizations += 1;
            if org.id.is_empty() || org.id.len() > 10 || !org.id.bytes().all(|b| b.is_ascii_digit())
            {
                return Err(JsmFetchError::BadOrgId);
            }
            match kbgate_org(t.org_map, &org.name) {
                Some(kb) => mapped.push((org.id, kb)),
                None => {
                    if unmapped.len() < 5 {
                        unmapped.push(org.id);
                    }
                    unmapped_count += 1;
                }
            }
        }
        match (page.is_last_page, n) {
            (Some(true), _) | (None, 0) => break,
            _ if stats.truncated => break,
            (Some(false), 0) => return Err(JsmFetchError::NoProgress),
            _ => {}
        }
        start += n;
    }
    stats.mapped = mapped.len();
    if unmapped_count > 0 {
        tracing::info!(
            reason = "jsm_org_unmapped",
            jsm.unmapped = unmapped_count,
            jsm.examples = ?unmapped,
            "JSM organizations that map to no kbgate organization (add them to orgs.jsm.org_map); their customers are not indexed from them"
        );
    }

    // Merged as they arrive: at most CONCURRENCY organizations' users are held at once.
    let mut per_org = stream::iter(mapped)
        .map(|(id, kb)| async move {
            let (users, requests, truncated) = org_users(t, &id).await?;
            Ok::<_, JsmFetchError>((kb, users, requests, truncated))
        })
        .buffered(CONCURRENCY);
    let mut index = Index::default();
    while let Some((org, users, requests, truncated)) = per_org.try_next().await? {
        stats.requests += requests;
        stats.truncated |= truncated;
        for user in users {
            if user.active == Some(false) {
                continue;
            }
            let email = user
                .email_address
                .map(|e| e.trim().to_lowercase())
                .filter(|e| e.contains('@'));
            let account = user.account_id.filter(|a| !a.is_empty());
            let known = email
                .as_ref()
                .is_some_and(|e| index.by_email.contains_key(e))
                || account
                    .as_ref()
                    .is_some_and(|a| index.by_account.contains_key(a));
            if !known {
                if stats.users >= t.limits.max_users {
                    stats.truncated = true;
                    continue;
                }
                stats.users += 1;
            }
            if let Some(e) = email {
                add(index.by_email.entry(e).or_default(), &org);
            }
            if let Some(a) = account {
                add(index.by_account.entry(a).or_default(), &org);
            }
        }
    }
    index.stats = stats;
    Ok((index, started))
}

/// The kbgate organization of a JSM organization name: the configured mapping, else the name
/// lowercased when that is a valid organization id.
pub fn kbgate_org(org_map: &BTreeMap<String, OrgId>, name: &str) -> Option<OrgId> {
    match org_map.get(name) {
        Some(org) => Some(org.clone()),
        None => OrgId::new(&name.to_lowercase()).ok(),
    }
}

fn add(orgs: &mut Vec<OrgId>, org: &OrgId) {
    if !orgs.contains(org) {
        orgs.push(org.clone());
    }
}

/// Every user of one organization: (users, requests made, truncated).
async fn org_users(t: &Target<'_>, id: &str) -> Result<(Vec<JsmUser>, usize, bool), JsmFetchError> {
    let mut users = Vec::new();
    let mut requests = 0;
    let mut start = 0usize;
    loop {
        let path = format!(
            "/rest/servicedeskapi/organization/{id}/user?start={start}&limit={}",
            t.limits.page_size
        );
        let page: Page<JsmUser> = get(t, &path).await?;
        requests += 1;
        let n = page.values.len();
        users.extend(page.values);
        if users.len() > t.limits.max_users {
            users.truncate(t.limits.max_users);
            return Ok((users, requests, true));
        }
        match (page.is_last_page, n) {
            (Some(true), _) | (None, 0) => return Ok((users, requests, false)),
            (Some(false), 0) => return Err(JsmFetchError::NoProgress),
            _ => {}
        }
        start += n;
    }
}

async fn get<T: serde::de::DeserializeOwned>(
    t: &Target<'_>,
    path_and_query: &str,
) -> Result<T, JsmFetchError> {
    let uri: Uri = format!("{}{path_and_query}", t.base_url)
        .parse()
        .map_err(JsmFetchError::Url)?;
    let mut headers = HeaderMap::new();
    headers.insert(AUTHORIZATION, t.credentials.clone());
    headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
    let fetched = http_client::fetch(t.client, uri, headers, MAX_PAGE_BYTES, t.timeout)
        .await
        .map_err(JsmFetchError::Fetch)?;
    match fetched.status.as_u16() {
        200 => serde_json::from_slice(&fetched.body).map_err(JsmFetchError::Parse),
        s @ (401 | 403) => Err(JsmFetchError::Refused(s)),
        s => Err(JsmFetchError::Status(s)),
    }
}
