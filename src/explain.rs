//! `kbgate explain`: why a content item is visible to an organization, or not — the tool a
//! support engineer reaches for when a customer asks why an article is missing.
//!
//! It reads the item's metadata from Confluence exactly as the proxy does (same service
//! account, same lookups) and runs the same [`Policy::decide`]; it prints facts and the deciding
//! rule. It never changes anything.

use std::fmt::Write as _;

use crate::config::Config;
use crate::confluence::{MetadataIndex, Upstream, UpstreamError};
use crate::ids::{ContentId, OrgId};
use crate::policy::{
    Ancestors, HideReason, ItemMeta, Labels, OrgSet, Policy, Visibility, VisibleBecause,
};

/// Why an explanation could not be produced.
#[derive(Debug, thiserror::Error)]
pub enum ExplainError {
    #[error("{0:?} is not a content id")]
    BadId(String),
    #[error("{0:?} is not an organization id: {1}")]
    BadOrg(String, crate::ids::IdError),
    #[error("upstream client: {0}")]
    Client(#[from] crate::http_client::FetchError),
    #[error("Confluence lookup failed: {0}")]
    Upstream(#[from] UpstreamError),
}

/// Looks up `id` and explains the decision for a customer in `orgs`.
pub async fn explain(config: &Config, orgs: &[String], id: &str) -> Result<String, ExplainError> {
    let id = ContentId::new(id).map_err(|_| ExplainError::BadId(id.to_owned()))?;
    let orgs = orgs
        .iter()
        .map(|o| OrgId::new(o).map_err(|e| ExplainError::BadOrg(o.clone(), e)))
        .collect::<Result<Vec<_>, _>>()?;
    let orgs = OrgSet::new(orgs);
    let upstream = Upstream::new(&config.upstream)?;
    let index = MetadataIndex::new(&config.cache);
    let found = index
        .lookup(&upstream, std::slice::from_ref(&id), "explain")
        .await?;
    Ok(match found.get(&id) {
        Some(meta) => describe(&config.policy, &orgs, meta),
        None => format!(
            "content {id}: not found by the service account (missing, trashed, or not a page or blog post)\n\
             decision: hidden from every customer (uniform 404)\n"
        ),
    })
}

/// The facts about `meta` and the decision for `orgs`, one fact per line.
pub fn describe(policy: &Policy, orgs: &OrgSet, meta: &ItemMeta) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "content {}", meta.id);
    let _ = match &meta.space {
        Some(s) if policy.spaces.contains(s) => writeln!(out, "  space:     {s} (a KB space)"),
        Some(s) => writeln!(out, "  space:     {s} (not a KB space)"),
        None => writeln!(out, "  space:     unknown"),
    };
    let _ = match &meta.labels {
        Labels::Complete(labels) if labels.is_empty() => writeln!(out, "  labels:    none"),
        Labels::Complete(labels) => {
            let marked: Vec<String> = labels
                .iter()
                .map(|l| match policy.org_of_label(l) {
                    Some(org) => format!("{l} (organization {org})"),
                    None if *l == policy.internal_label => format!("{l} (internal)"),
                    None => l.to_string(),
                })
                .collect();
            writeln!(out, "  labels:    {}", marked.join(", "))
        }
        Labels::Incomplete => writeln!(out, "  labels:    not all returned (more than one page)"),
    };
    let _ = match &meta.ancestors {
        Ancestors::Known(a) if a.is_empty() => writeln!(out, "  ancestors: none (top level)"),
        Ancestors::Known(a) => {
            let chain: Vec<String> = a
                .iter()
                .map(|id| match policy.subtrees.get(id) {
                    Some(owners) => format!("{id} (subtree of {})", join(owners)),
                    None => id.to_string(),
                })
                .collect();
            writeln!(out, "  ancestors: {}", chain.join(" > "))
        }
        Ancestors::Unknown => writeln!(out, "  ancestors: unknown"),
    };
    if let Some(owners) = policy.subtrees.get(&meta.id) {
        let _ = writeln!(
            out,
            "  subtree:   this page is the root of a subtree of {}",
            join(owners)
        );
    }
    let who = if orgs.is_empty() {
        "a customer with no organization".to_owned()
    } else {
        format!("organizations {}", orgs.joined())
    };
    let verdict = match policy.decide(orgs, meta) {
        Visibility::Visible(VisibleBecause::Shared) => {
            "VISIBLE: no organization restriction applies (a shared article)"
        }
        Visibility::Visible(VisibleBecause::OwnOrg) => {
            "VISIBLE: every restriction names one of the customer's organizations"
        }
        Visibility::Hidden(reason) => match reason {
            HideReason::MetadataIncomplete => {
                "HIDDEN: labels, ancestors or space not fully known (fail closed)"
            }
            HideReason::SpaceNotInKb => "HIDDEN: the space is not one of policy.spaces",
            HideReason::Internal => "HIDDEN: it carries the internal label",
            HideReason::OtherOrgLabel => {
                "HIDDEN: its organization labels name none of the customer's organizations"
            }
            HideReason::OtherOrgSubtree => {
                "HIDDEN: it is in a subtree assigned to other organizations"
            }
            HideReason::OtherOrgSpace => "HIDDEN: its space is assigned to other organizations",
            HideReason::UnmarkedDenied => {
                "HIDDEN: it has no restriction and policy.unmarked = \"deny\""
            }
        },
    };
    let _ = writeln!(out, "decision for {who}: {verdict}");
    out
}

fn join(orgs: &[OrgId]) -> String {
    orgs.iter()
        .map(OrgId::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::SpaceKey;
    use crate::policy::Unmarked;

    #[test]
    fn the_explanation_names_the_facts_and_the_deciding_rule() {
        let org = |s: &str| OrgId::new(s).unwrap();
        let policy = Policy {
            spaces: [SpaceKey::new("KB").unwrap()].into(),
            label_prefix: "org-".into(),
            internal_label: "kb-internal".into(),
            unmarked: Unmarked::Shared,
            subtrees: [(ContentId::new("200000").unwrap(), vec![org("initech")])].into(),
            space_orgs: Default::default(),
            known_orgs: [org("acme"), org("initech")].into(),
        };
        let meta = ItemMeta {
            id: ContentId::new("200001").unwrap(),
            space: Some(SpaceKey::new("KB").unwrap()),
            labels: Labels::Complete(smallvec::smallvec!["org-acme".into(), "vpn".into()]),
            ancestors: Ancestors::Known(smallvec::smallvec![ContentId::new("200000").unwrap()]),
        };
        let text = describe(&policy, &OrgSet::new([org("acme")]), &meta);
        assert!(text.contains("org-acme (organization acme)"), "{text}");
        assert!(text.contains("200000 (subtree of initech)"), "{text}");
        assert!(
            text.contains("HIDDEN: it is in a subtree assigned to other organizations"),
            "{text}"
        );
        // Restrictions intersect (DESIGN §1 rule 3): {acme} ∩ {initech} admits nobody, not even
        // a caller in both organizations.
        let text = describe(&policy, &OrgSet::new([org("acme"), org("initech")]), &meta);
        assert!(text.contains("HIDDEN"), "{text}");
        let shared_with_initech = ItemMeta {
            labels: Labels::Complete(smallvec::smallvec!["org-acme".into(), "org-initech".into()]),
            ..meta
        };
        let text = describe(
            &policy,
            &OrgSet::new([org("initech")]),
            &shared_with_initech,
        );
        assert!(text.contains("VISIBLE"), "{text}");
    }
}
