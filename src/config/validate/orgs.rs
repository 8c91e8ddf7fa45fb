//! `[orgs]`: where customers' organizations come from — token claim, groups claim and group
//! map, email domains, the static map file, JSM customer organizations — and in which order.
//!
//! Every organization named here joins the set of known organizations, except those of the
//! static map file: that file is data, so an organization it names must already be known
//! (`policy.orgs` or elsewhere in the configuration) — a typo there is reported, not silently
//! turned into a new organization ([`check_known`]).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;

use super::super::file::{FileJsmOrgs, FileOrgs};
use super::super::{JsmOrgSettings, OrgSettings, Secret};
use super::{duration, org_list, read_file, secret_env, Problems};
use crate::ids::OrgId;
use crate::orgs::{Source, StaticMap};

/// Claims kbgate reads for other purposes; neither organization claim may take their name.
const RESERVED_CLAIMS: [&str; 12] = [
    "iss",
    "sub",
    "aud",
    "exp",
    "nbf",
    "iat",
    "jti",
    "email",
    "email_verified",
    "_claim_names",
    "_claim_sources",
    "hasgroups",
];

/// Validates `[orgs]`; `upstream_base` is the default JSM site.
pub(super) fn orgs(
    p: &mut Problems,
    o: &FileOrgs,
    upstream_base: &str,
    base: &Path,
    env: &dyn Fn(&str) -> Option<String>,
    known: &mut BTreeSet<OrgId>,
) -> OrgSettings {
    for (path, claim) in [
        ("orgs.claim", &o.claim),
        ("orgs.groups_claim", &o.groups_claim),
    ] {
        if let Some(claim) = claim {
            if claim.is_empty() || claim.len() > 128 || RESERVED_CLAIMS.contains(&claim.as_str()) {
                p.add(
                    path,
                    "name the token claim, e.g. \"kb_orgs\" or \"groups\" (not a standard claim)",
                );
            }
        }
    }
    if o.claim.is_some() && o.claim == o.groups_claim {
        p.add(
            "orgs.groups_claim",
            "the groups claim must differ from orgs.claim",
        );
    }

    let mut groups = BTreeMap::new();
    for (group, orgs) in &o.groups {
        let path = format!("orgs.groups.{group:?}");
        if group.is_empty() || group.len() > 256 {
            p.add(
                &path,
                "write the group's name or object id as the token carries it",
            );
        }
        groups.insert(group.clone(), org_list(p, &path, orgs, known));
    }
    match (&o.groups_claim, groups.is_empty()) {
        (Some(_), true) => p.add(
            "orgs.groups",
            "map at least one group to organizations, or remove orgs.groups_claim",
        ),
        (None, false) => p.add(
            "orgs.groups_claim",
            "name the token claim holding groups (e.g. \"groups\") for [orgs.groups] to apply",
        ),
        _ => {}
    }

    let mut email_domains = BTreeMap::new();
    for (domain, orgs) in &o.email_domains {
        let path = format!("orgs.email_domains.{domain:?}");
        let valid = !domain.is_empty()
            && domain
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-');
        if !valid {
            p.add(
                &path,
                "write the domain in lowercase ASCII, e.g. \"acme.example\"",
            );
        }
        email_domains.insert(domain.clone(), org_list(p, &path, orgs, known));
    }

    let static_map = o
        .static_file
        .as_ref()
        .and_then(|f| static_file(p, f, base))
        .map(Arc::new);
    let jsm = o
        .jsm
        .as_ref()
        .and_then(|j| jsm(p, j, upstream_base, env, known));

    let configured = |s: Source| match s {
        Source::Claim => o.claim.is_some(),
        Source::Groups => o.groups_claim.is_some() || !o.groups.is_empty(),
        Source::EmailDomains => !o.email_domains.is_empty(),
        Source::Static => o.static_file.is_some(),
        Source::Jsm => o.jsm.is_some(),
    };
    let sources = match &o.sources {
        None => Source::DEFAULT_ORDER
            .into_iter()
            .filter(|s| configured(*s))
            .collect(),
        Some(names) => sources(p, names, &configured),
    };
    if sources.is_empty() && o.sources.is_none() {
        p.add(
            "orgs",
            "configure a source (claim, groups_claim, email_domains, static_file or [orgs.jsm]): \
             otherwise every customer sees shared articles only",
        );
    }
    OrgSettings {
        claim: o.claim.clone(),
        groups_claim: o.groups_claim.clone(),
        groups,
        email_domains,
        static_map,
        jsm,
        sources,
    }
}

/// `orgs.sources`: known names, no repeats, each configured, and every configured one listed.
fn sources(p: &mut Problems, names: &[String], configured: &dyn Fn(Source) -> bool) -> Vec<Source> {
    let mut out = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let path = format!("orgs.sources[{i}]");
        match Source::from_name(name) {
            None => p.add(
                path,
                format!(
                    "{name:?} is not a source: use \"claim\", \"groups\", \"email_domains\", \
                     \"static\" or \"jsm\""
                ),
            ),
            Some(s) if out.contains(&s) => p.add(path, format!("{name:?} is listed twice")),
            Some(s) if !configured(s) => p.add(
                path,
                format!("the {name:?} source is not configured: configure it or remove it here"),
            ),
            Some(s) => out.push(s),
        }
    }
    for s in Source::DEFAULT_ORDER {
        if configured(s) && !out.contains(&s) {
            p.add(
                "orgs.sources",
                format!(
                    "the {:?} source is configured but not listed: add it or remove its settings",
                    s.name()
                ),
            );
        }
    }
    if names.is_empty() {
        p.add("orgs.sources", "list at least one source");
    }
    out
}

fn static_file(p: &mut Problems, file: &str, base: &Path) -> Option<StaticMap> {
    let path = "orgs.static_file";
    let bytes = read_file(p, path, file, base)?;
    if bytes.len() > crate::orgs::static_map::MAX_FILE_BYTES {
        p.add(path, "the file is larger than 16 MiB");
        return None;
    }
    let Ok(text) = String::from_utf8(bytes) else {
        p.add(path, format!("{file} is not UTF-8 text"));
        return None;
    };
    match StaticMap::from_toml(&text) {
        Ok(map) => Some(map),
        Err(problems) => {
            for problem in problems {
                let at = if problem.path.is_empty() {
                    String::new()
                } else {
                    format!(" at {}", problem.path)
                };
                p.add(path, format!("{file}{at}: {}", problem.message));
            }
            None
        }
    }
}

fn jsm(
    p: &mut Problems,
    j: &FileJsmOrgs,
    upstream_base: &str,
    env: &dyn Fn(&str) -> Option<String>,
    known: &mut BTreeSet<OrgId>,
) -> Option<JsmOrgSettings> {
    let base_url = j
        .base_url
        .as_deref()
        .unwrap_or(upstream_base)
        .trim_end_matches('/')
        .to_owned();
    match base_url.parse::<http::Uri>() {
        Ok(uri)
            if matches!(uri.scheme_str(), Some("http" | "https"))
                && uri.authority().is_some()
                && uri.query().is_none() => {}
        _ => p.add(
            "orgs.jsm.base_url",
            "write the Jira site URL, e.g. \"https://example.atlassian.net\"",
        ),
    }
    let token = secret_env(p, "orgs.jsm.token_env", &j.token_env, env);
    let credentials = match &j.email_env {
        Some(var) => {
            let email = secret_env(p, "orgs.jsm.email_env", var, env);
            if email.as_ref().is_some_and(|e| !e.contains('@')) {
                p.add(
                    "orgs.jsm.email_env",
                    format!("{var} must hold the agent's email address"),
                );
            }
            email.zip(token).map(|(email, token)| {
                let raw = format!("{email}:{token}");
                format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(raw)
                )
            })
        }
        None => token.map(|t| format!("Bearer {t}")),
    };
    if credentials
        .as_ref()
        .is_some_and(|c| http::HeaderValue::from_str(c).is_err())
    {
        p.add(
            "orgs.jsm.token_env",
            "the credentials hold characters not allowed in an HTTP header",
        );
    }
    let day = Duration::from_secs(24 * 3600);
    let refresh_interval = duration(
        p,
        "orgs.jsm.refresh_interval",
        &j.refresh_interval,
        Duration::from_secs(300),
        day,
    );
    let max_staleness = duration(
        p,
        "orgs.jsm.max_staleness",
        &j.max_staleness,
        Duration::from_secs(3600),
        Duration::from_secs(7 * 24 * 3600),
    );
    if max_staleness < refresh_interval {
        p.add(
            "orgs.jsm.max_staleness",
            "must be at least orgs.jsm.refresh_interval (the index would expire between refreshes)",
        );
    }
    let timeout = duration(
        p,
        "orgs.jsm.timeout",
        &j.timeout,
        Duration::from_secs(10),
        Duration::from_secs(600),
    );
    let mut org_map = BTreeMap::new();
    for (name, org) in &j.org_map {
        let path = format!("orgs.jsm.org_map.{name:?}");
        if name.is_empty() {
            p.add(&path, "write the JSM organization's name exactly");
        }
        match OrgId::new(org) {
            Ok(o) => {
                known.insert(o.clone());
                org_map.insert(name.clone(), o);
            }
            Err(e) => p.add(path, format!("organization {org:?} {e}")),
        }
    }
    let max_organizations = j.max_organizations.unwrap_or(10_000);
    if !(1..=100_000).contains(&max_organizations) {
        p.add("orgs.jsm.max_organizations", "must be between 1 and 100000");
    }
    let max_users = j.max_users.unwrap_or(200_000);
    if !(1..=2_000_000).contains(&max_users) {
        p.add("orgs.jsm.max_users", "must be between 1 and 2000000");
    }
    Some(JsmOrgSettings {
        base_url,
        credentials: Secret::new(credentials?),
        refresh_interval,
        max_staleness,
        timeout,
        org_map,
        max_organizations,
        max_users,
    })
}

/// Every organization the static map file names must be known to the configuration.
pub(super) fn check_known(p: &mut Problems, orgs: &OrgSettings, known: &BTreeSet<OrgId>) {
    let Some(map) = &orgs.static_map else { return };
    let mut unknown: BTreeMap<&str, String> = BTreeMap::new();
    for (at, org) in map.orgs() {
        if !known.contains(org) {
            unknown.entry(org.as_str()).or_insert(at);
        }
    }
    for (org, at) in unknown {
        p.add(
            "orgs.static_file",
            format!(
                "{at} names organization {org:?}, which the configuration does not know: \
                 add it to policy.orgs or fix the typo"
            ),
        );
    }
}

#[cfg(test)]
mod tests;
