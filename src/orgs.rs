//! Identity → organizations: from a token claim and from an email-domain map.
//!
//! Values that are not valid organization ids are ignored (and logged), never guessed at: a
//! customer whose sources name no valid organization sees shared articles only. Later sources
//! (groups, a static map, JSM customer organizations) plug in here.

use std::collections::BTreeMap;

use crate::ids::OrgId;
use crate::policy::OrgSet;

/// Maps verified identities to organizations.
#[derive(Clone, Debug, Default)]
pub struct OrgResolver {
    email_domains: BTreeMap<String, Vec<OrgId>>,
}

impl OrgResolver {
    /// A resolver using the configured email-domain map (lowercase domains).
    pub fn new(email_domains: BTreeMap<String, Vec<OrgId>>) -> Self {
        Self { email_domains }
    }

    /// The organizations of a customer: the union of the org-claim values and the organizations
    /// of their email's domain (exact, case-insensitive match).
    pub fn resolve(&self, org_claim: &[String], email: Option<&str>) -> OrgSet {
        let mut orgs = Vec::new();
        for value in org_claim {
            match OrgId::new(value) {
                Ok(org) => orgs.push(org),
                Err(e) => {
                    tracing::warn!(reason = "org_claim_value_invalid", error = %e, "ignored an organization claim value")
                }
            }
        }
        if let Some(domain) = email
            .and_then(|e| e.rsplit_once('@'))
            .map(|(_, d)| d.to_ascii_lowercase())
        {
            if let Some(mapped) = self.email_domains.get(&domain) {
                orgs.extend(mapped.iter().cloned());
            }
        }
        OrgSet::new(orgs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn org(s: &str) -> OrgId {
        OrgId::new(s).unwrap()
    }

    #[test]
    fn claims_and_email_domains_combine() {
        let r = OrgResolver::new([("acme.example".to_owned(), vec![org("acme")])].into());
        assert_eq!(
            r.resolve(&["globex".into()], Some("Alice@ACME.example")),
            OrgSet::new([org("acme"), org("globex")])
        );
        assert_eq!(
            r.resolve(&[], Some("bob@acme.example.evil")),
            OrgSet::default()
        );
        assert_eq!(r.resolve(&[], Some("no-at-sign")), OrgSet::default());
        assert_eq!(r.resolve(&[], None), OrgSet::default());
    }

    #[test]
    fn invalid_claim_values_are_ignored_not_guessed() {
        let r = OrgResolver::default();
        let got = r.resolve(
            &["Acme".into(), "acme\") OR (x".into(), "initech".into()],
            None,
        );
        assert_eq!(got, OrgSet::new([org("initech")]));
    }
}
