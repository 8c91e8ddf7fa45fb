//! The resolver: each source on its own, the first-that-knows order, overage and JSM refusals.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use super::*;
use crate::config::{JsmOrgSettings, Secret};

fn org(s: &str) -> OrgId {
    OrgId::new(s).unwrap()
}

fn set(orgs: &[&str]) -> OrgSet {
    OrgSet::new(orgs.iter().map(|o| org(o)))
}

fn who(email: Option<&str>, claim: &[&str], groups: &[&str]) -> Identity {
    Identity {
        issuer: "https://idp.example/".into(),
        subject: "sub-1".into(),
        email: email.map(str::to_owned),
        org_claim: claim.iter().map(|s| (*s).to_owned()).collect(),
        groups: groups.iter().map(|s| (*s).to_owned()).collect(),
        groups_overage: false,
        group_orgs: None,
    }
}

fn settings(order: &[Source]) -> OrgSettings {
    OrgSettings {
        claim: Some("kb_orgs".into()),
        groups_claim: Some("groups".into()),
        groups: BTreeMap::from([
            ("0b7e-acme-guid".to_owned(), vec![org("acme")]),
            ("Initech Staff".to_owned(), vec![org("initech")]),
            ("Partners".to_owned(), vec![org("acme"), org("globex")]),
        ]),
        email_domains: BTreeMap::from([("globex.example".to_owned(), vec![org("globex")])]),
        static_map: Some(Arc::new(
            StaticMap::from_toml(
                "[emails]\n\"pat@static.example\" = [\"initech\"]\n\
                 [subjects.\"https://idp.example/\"]\n\"sub-9\" = [\"globex\"]\n",
            )
            .unwrap(),
        )),
        jsm: None,
        sources: order.to_vec(),
    }
}

async fn resolve(r: &OrgResolver, id: &Identity) -> Resolved {
    r.resolve(id).await.unwrap()
}

#[tokio::test]
async fn the_claim_source_keeps_valid_ids_and_ignores_the_rest() {
    let r = OrgResolver::new(&settings(&[Source::Claim]));
    let got = resolve(&r, &who(None, &["Acme", "acme\") OR (x", "initech"], &[])).await;
    assert_eq!(got.orgs, set(&["initech"]));
    assert_eq!(got.source, Some(Source::Claim));
}

#[tokio::test]
async fn groups_map_by_name_or_object_id_and_combine() {
    let r = OrgResolver::new(&settings(&[Source::Groups]));
    let got = resolve(
        &r,
        &who(None, &[], &["0b7e-acme-guid", "Initech Staff", "other"]),
    )
    .await;
    assert_eq!(got.orgs, set(&["acme", "initech"]));
    assert_eq!(got.source, Some(Source::Groups));
    let got = resolve(&r, &who(None, &[], &["Partners"])).await;
    assert_eq!(got.orgs, set(&["acme", "globex"]));
    // Group names match exactly: no case folding, no prefix match.
    let got = resolve(&r, &who(None, &[], &["initech staff", "0b7e-acme"])).await;
    assert_eq!(got.orgs, OrgSet::default());
}

#[tokio::test]
async fn email_domains_match_the_whole_domain_case_insensitively() {
    let r = OrgResolver::new(&settings(&[Source::EmailDomains]));
    let known = resolve(&r, &who(Some("Bob@GLOBEX.example"), &[], &[])).await;
    assert_eq!(known.orgs, set(&["globex"]));
    for email in [
        "bob@globex.example.evil",
        "bob@sub.globex.example",
        "no-at-sign",
    ] {
        let got = resolve(&r, &who(Some(email), &[], &[])).await;
        assert_eq!(got.orgs, OrgSet::default(), "{email}");
    }
}

#[tokio::test]
async fn the_static_map_answers_by_email_or_by_issuer_and_subject() {
    let r = OrgResolver::new(&settings(&[Source::Static]));
    let by_email = resolve(&r, &who(Some("PAT@static.example"), &[], &[])).await;
    assert_eq!(by_email.orgs, set(&["initech"]));
    let mut id = who(None, &[], &[]);
    id.subject = "sub-9".into();
    assert_eq!(resolve(&r, &id).await.orgs, set(&["globex"]));
    id.issuer = "https://other-idp.example/".into();
    assert_eq!(resolve(&r, &id).await.orgs, OrgSet::default());
}

#[tokio::test]
async fn the_first_source_that_knows_the_customer_wins_and_sources_never_mix() {
    let r = OrgResolver::new(&settings(&Source::DEFAULT_ORDER[..4]));
    // The claim knows acme; the email domain would say globex: the claim wins alone.
    let got = resolve(
        &r,
        &who(Some("bob@globex.example"), &["acme"], &["Initech Staff"]),
    )
    .await;
    assert_eq!(
        (got.orgs, got.source),
        (set(&["acme"]), Some(Source::Claim))
    );
    // No claim: the groups answer.
    let got = resolve(
        &r,
        &who(Some("bob@globex.example"), &[], &["Initech Staff"]),
    )
    .await;
    assert_eq!(
        (got.orgs, got.source),
        (set(&["initech"]), Some(Source::Groups))
    );
    // An invalid claim value and an unmapped group know nobody: the email domain answers.
    let got = resolve(&r, &who(Some("bob@globex.example"), &["Bad!"], &["x"])).await;
    assert_eq!(
        (got.orgs, got.source),
        (set(&["globex"]), Some(Source::EmailDomains))
    );
    // Nobody knows the customer: no organization, no source.
    let got = resolve(&r, &who(Some("dave@nowhere.example"), &[], &[])).await;
    assert_eq!((got.orgs, got.source), (OrgSet::default(), None));
}

#[tokio::test]
async fn the_configured_order_decides_who_is_asked_first() {
    let r = OrgResolver::new(&settings(&[Source::EmailDomains, Source::Claim]));
    let got = resolve(&r, &who(Some("bob@globex.example"), &["acme"], &[])).await;
    assert_eq!(
        (got.orgs, got.source),
        (set(&["globex"]), Some(Source::EmailDomains))
    );
}

#[tokio::test]
async fn a_groups_overage_denies_even_when_another_source_knows_the_customer() {
    let r = OrgResolver::new(&settings(&Source::DEFAULT_ORDER[..4]));
    let mut id = who(Some("bob@globex.example"), &["acme"], &[]);
    id.groups_overage = true;
    let err = r.resolve(&id).await.unwrap_err();
    assert!(matches!(err, OrgsError::GroupsOverage), "{err}");
    assert_eq!(err.reason(), "groups_overage");
    // Without the groups source, the overage flag is irrelevant.
    let r = OrgResolver::new(&settings(&[Source::Claim]));
    assert_eq!(resolve(&r, &id).await.orgs, set(&["acme"]));
}

fn jsm_settings(base_url: &str) -> JsmOrgSettings {
    JsmOrgSettings {
        base_url: base_url.to_owned(),
        credentials: Secret::new("Basic eDp5".into()),
        refresh_interval: Duration::from_secs(60),
        max_staleness: Duration::from_secs(600),
        timeout: Duration::from_secs(2),
        org_map: BTreeMap::new(),
        max_organizations: 10,
        max_users: 10,
    }
}

#[tokio::test]
async fn an_unreachable_jsm_denies_only_customers_no_earlier_source_knows() {
    // Nothing listens on a port the test bound and released: every JSM fetch fails.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client = crate::http_client::build(&Default::default()).unwrap();
    let jsm = JsmOrgs::new(&jsm_settings(&format!("http://127.0.0.1:{port}")), client).unwrap();
    let r = OrgResolver::new(&settings(&[Source::Claim, Source::Jsm])).with_jsm(jsm.clone());
    let known = resolve(&r, &who(None, &["acme"], &[])).await;
    assert_eq!(known.orgs, set(&["acme"]));
    let err = r
        .resolve(&who(Some("alice@acme.example"), &[], &[]))
        .await
        .unwrap_err();
    assert!(
        matches!(err, OrgsError::JsmUnavailable(Unavailable::NeverLoaded)),
        "{err}"
    );
    assert_eq!(jsm.last_attempt().count, 1, "the request tried one rebuild");
    // A second request within the on-demand interval does not hit JSM again.
    assert!(r.resolve(&who(None, &[], &[])).await.is_err());
    assert_eq!(jsm.last_attempt().count, 1);
}

#[test]
fn source_names_round_trip() {
    for s in Source::DEFAULT_ORDER {
        assert_eq!(Source::from_name(s.name()), Some(s));
    }
    assert_eq!(Source::from_name("groups_claim"), None);
}

#[tokio::test]
async fn a_session_answers_the_groups_source_with_the_orgs_its_groups_mapped_to() {
    let r = OrgResolver::new(&settings(&Source::DEFAULT_ORDER[..4]));
    // At sign-in the groups mapped to initech; the session keeps only that.
    let mapped: Vec<String> = r
        .orgs_of_groups(&["Initech Staff".to_owned(), "other".to_owned()])
        .into_iter()
        .map(|o| o.as_str().to_owned())
        .collect();
    assert_eq!(mapped, vec!["initech".to_owned()]);
    let mut session = who(Some("bob@globex.example"), &[], &[]);
    session.group_orgs = Some(mapped);
    let got = resolve(&r, &session).await;
    assert_eq!(
        (got.orgs, got.source),
        (set(&["initech"]), Some(Source::Groups))
    );
    // Mapped to nothing: the next source (the email domain) answers, as for a token.
    session.group_orgs = Some(Vec::new());
    let got = resolve(&r, &session).await;
    assert_eq!(
        (got.orgs, got.source),
        (set(&["globex"]), Some(Source::EmailDomains))
    );
    // Invalid ids in a (forged-then-signed) session are ignored, never guessed at.
    session.group_orgs = Some(vec!["Initech Staff".into()]);
    assert_eq!(
        resolve(&r, &session).await.source,
        Some(Source::EmailDomains)
    );
}
