//! The policy as a table: one row per rule and combination.

use super::*;

fn org(s: &str) -> OrgId {
    OrgId::new(s).unwrap()
}

fn id(s: &str) -> ContentId {
    ContentId::new(s).unwrap()
}

fn policy(unmarked: Unmarked) -> Policy {
    Policy {
        spaces: [
            SpaceKey::new("KB").unwrap(),
            SpaceKey::new("ACMEKB").unwrap(),
        ]
        .into(),
        label_prefix: "org-".into(),
        internal_label: "kb-internal".into(),
        unmarked,
        subtrees: [(id("200000"), vec![org("initech")])].into(),
        space_orgs: [(SpaceKey::new("ACMEKB").unwrap(), vec![org("acme")])].into(),
        known_orgs: [org("acme"), org("globex"), org("initech")].into(),
    }
}

fn meta(space: &str, labels: &[&str], ancestors: &[&str]) -> ItemMeta {
    ItemMeta {
        id: id("100"),
        space: Some(SpaceKey::new(space).unwrap()),
        labels: Labels::Complete(labels.iter().map(|&l| l.into()).collect()),
        ancestors: Ancestors::Known(ancestors.iter().map(|a| id(a)).collect()),
    }
}

use HideReason::*;
use Visibility::{Hidden, Visible};
use VisibleBecause::{OwnOrg, Shared};

#[test]
fn decisions_follow_the_rules_in_order() {
    let p = policy(Unmarked::Shared);
    let acme = OrgSet::new([org("acme")]);
    let globex = OrgSet::new([org("globex")]);
    let initech = OrgSet::new([org("initech")]);
    let both = OrgSet::new([org("acme"), org("globex")]);
    let none = OrgSet::default();

    let rows: Vec<(&str, ItemMeta, &OrgSet, Visibility)> = vec![
        (
            "unmarked KB article is shared",
            meta("KB", &[], &[]),
            &none,
            Visible(Shared),
        ),
        (
            "unrelated labels do not restrict",
            meta("KB", &["vpn", "howto"], &[]),
            &globex,
            Visible(Shared),
        ),
        (
            "own org label",
            meta("KB", &["org-acme"], &[]),
            &acme,
            Visible(OwnOrg),
        ),
        (
            "other org label",
            meta("KB", &["org-acme"], &[]),
            &globex,
            Hidden(OtherOrgLabel),
        ),
        (
            "org label hides from no-org",
            meta("KB", &["org-acme"], &[]),
            &none,
            Hidden(OtherOrgLabel),
        ),
        (
            "two org labels: union",
            meta("KB", &["org-acme", "org-globex"], &[]),
            &globex,
            Visible(OwnOrg),
        ),
        (
            "two org labels, third org",
            meta("KB", &["org-acme", "org-globex"], &[]),
            &initech,
            Hidden(OtherOrgLabel),
        ),
        (
            "unknown org label still restricts",
            meta("KB", &["org-newco"], &[]),
            &acme,
            Hidden(OtherOrgLabel),
        ),
        (
            "prefix alone is not an org",
            meta("KB", &["org-"], &[]),
            &acme,
            Visible(Shared),
        ),
        (
            "member of several orgs",
            meta("KB", &["org-globex"], &[]),
            &both,
            Visible(OwnOrg),
        ),
        (
            "space outside KB",
            meta("ENG", &[], &[]),
            &acme,
            Hidden(SpaceNotInKb),
        ),
        (
            "space outside KB beats own label",
            meta("ENG", &["org-acme"], &[]),
            &acme,
            Hidden(SpaceNotInKb),
        ),
        (
            "internal beats own label",
            meta("KB", &["org-acme", "kb-internal"], &[]),
            &acme,
            Hidden(Internal),
        ),
        (
            "internal hides shared",
            meta("KB", &["kb-internal"], &[]),
            &none,
            Hidden(Internal),
        ),
        (
            "subtree: descendant of initech root",
            meta("KB", &[], &["1", "200000"]),
            &initech,
            Visible(OwnOrg),
        ),
        (
            "subtree: hidden from others",
            meta("KB", &[], &["1", "200000"]),
            &acme,
            Hidden(OtherOrgSubtree),
        ),
        (
            "subtree and label intersect: both must admit",
            meta("KB", &["org-acme"], &["200000"]),
            &acme,
            Hidden(OtherOrgSubtree),
        ),
        (
            "subtree and label intersect: label fails first",
            meta("KB", &["org-acme"], &["200000"]),
            &initech,
            Hidden(OtherOrgLabel),
        ),
        (
            "org space admits its org",
            meta("ACMEKB", &[], &[]),
            &acme,
            Visible(OwnOrg),
        ),
        (
            "org space hides from others",
            meta("ACMEKB", &[], &[]),
            &globex,
            Hidden(OtherOrgSpace),
        ),
    ];
    for (name, m, orgs, want) in rows {
        assert_eq!(p.decide(orgs, &m), want, "{name}");
    }
}

#[test]
fn the_subtree_root_itself_is_restricted() {
    let p = policy(Unmarked::Shared);
    let mut m = meta("KB", &[], &[]);
    m.id = id("200000");
    assert_eq!(
        p.decide(&OrgSet::new([org("globex")]), &m),
        Hidden(OtherOrgSubtree)
    );
    assert_eq!(
        p.decide(&OrgSet::new([org("initech")]), &m),
        Visible(OwnOrg)
    );
}

#[test]
fn incomplete_metadata_is_hidden_from_everyone() {
    let p = policy(Unmarked::Shared);
    let acme = OrgSet::new([org("acme")]);
    let mut m = meta("KB", &[], &[]);
    m.labels = Labels::Incomplete;
    assert_eq!(p.decide(&acme, &m), Hidden(MetadataIncomplete));
    let mut m = meta("KB", &[], &[]);
    m.ancestors = Ancestors::Unknown;
    assert_eq!(p.decide(&acme, &m), Hidden(MetadataIncomplete));
    let mut m = meta("KB", &[], &[]);
    m.space = None;
    assert_eq!(p.decide(&acme, &m), Hidden(MetadataIncomplete));
}

#[test]
fn unmarked_deny_hides_unrestricted_articles_only() {
    let p = policy(Unmarked::Deny);
    let acme = OrgSet::new([org("acme")]);
    assert_eq!(
        p.decide(&acme, &meta("KB", &[], &[])),
        Hidden(UnmarkedDenied)
    );
    assert_eq!(
        p.decide(&acme, &meta("KB", &["org-acme"], &[])),
        Visible(OwnOrg)
    );
}

#[test]
fn org_labels_map_both_ways() {
    let p = policy(Unmarked::Shared);
    assert_eq!(p.org_of_label("org-acme"), Some("acme"));
    assert_eq!(p.org_of_label("ORG-acme"), Some("acme"));
    assert_eq!(p.org_of_label("org"), None);
    assert_eq!(p.org_of_label("orgacme"), None);
    assert_eq!(p.org_of_label("é"), None);
    assert_eq!(p.label_of_org(&org("globex")), "org-globex");
}

#[test]
fn restrictions_intersect_per_organization_for_a_caller_in_several() {
    let p = policy(Unmarked::Shared);
    let both = OrgSet::new([org("acme"), org("initech")]);
    // `org-acme` under initech's subtree: the audience is {acme} ∩ {initech} = nobody, even for
    // a caller in both organizations (DESIGN §1 rule 3).
    let split = meta("KB", &["org-acme"], &["100001", "200000"]);
    assert_eq!(p.decide(&both, &split), Hidden(OtherOrgSubtree));
    // `org-acme` and `org-initech` under initech's subtree: initech is in both restrictions.
    let joint = meta("KB", &["org-acme", "org-initech"], &["100001", "200000"]);
    assert_eq!(p.decide(&both, &joint), Visible(OwnOrg));
    assert_eq!(
        p.decide(&OrgSet::new([org("acme")]), &joint),
        Hidden(OtherOrgSubtree)
    );
}

/// The rules written as plainly as possible: every restriction that applies narrows the
/// audience, in order (labels, subtrees root first, space); the first one that leaves the caller
/// out hides the item with its reason.
fn reference(p: &Policy, orgs: &OrgSet, m: &ItemMeta) -> Visibility {
    let (Labels::Complete(labels), Ancestors::Known(ancestors), Some(space)) =
        (&m.labels, &m.ancestors, &m.space)
    else {
        return Hidden(MetadataIncomplete);
    };
    if !p.spaces.contains(space) {
        return Hidden(SpaceNotInKb);
    }
    if labels.iter().any(|l| *l == p.internal_label) {
        return Hidden(Internal);
    }
    let set = |orgs: &[OrgId]| -> BTreeSet<String> { orgs.iter().map(|o| o.to_string()).collect() };
    let mut restrictions: Vec<(HideReason, BTreeSet<String>)> = Vec::new();
    let label_orgs: BTreeSet<String> = labels
        .iter()
        .filter_map(|l| p.org_of_label(l))
        .map(str::to_owned)
        .collect();
    if !label_orgs.is_empty() {
        restrictions.push((OtherOrgLabel, label_orgs));
    }
    for node in ancestors.iter().chain([&m.id]) {
        if let Some(allowed) = p.subtrees.get(node) {
            restrictions.push((OtherOrgSubtree, set(allowed)));
        }
    }
    if let Some(allowed) = p.space_orgs.get(space) {
        restrictions.push((OtherOrgSpace, set(allowed)));
    }
    let mut audience: Option<BTreeSet<String>> = None;
    for (reason, allowed) in restrictions {
        let next: BTreeSet<String> = match audience {
            None => allowed,
            Some(prev) => prev.intersection(&allowed).cloned().collect(),
        };
        if !orgs.iter().any(|o| next.contains(o.as_str())) {
            return Hidden(reason);
        }
        audience = Some(next);
    }
    match (audience.is_some(), p.unmarked) {
        (true, _) => Visible(OwnOrg),
        (false, Unmarked::Shared) => Visible(Shared),
        (false, Unmarked::Deny) => Hidden(UnmarkedDenied),
    }
}

#[test]
fn every_combination_of_labels_subtree_space_and_caller_decides_as_the_plain_rules_do() {
    let label_sets: [&[&str]; 8] = [
        &[],
        &["howto"],
        &["org-acme"],
        &["org-globex", "howto"],
        &["org-initech"],
        &["org-acme", "org-globex"],
        &["ORG-Acme"],
        &["org-", "kb-internal"],
    ];
    let callers = [
        OrgSet::default(),
        OrgSet::new([org("acme")]),
        OrgSet::new([org("globex")]),
        OrgSet::new([org("initech")]),
        OrgSet::new([org("acme"), org("globex")]),
        OrgSet::new([org("acme"), org("initech")]),
    ];
    let mut checked = 0;
    for unmarked in [Unmarked::Shared, Unmarked::Deny] {
        let p = policy(unmarked);
        for space in ["KB", "ACMEKB", "OTHER"] {
            for ancestors in [&[][..], &["1"], &["200000"], &["1", "200000", "3"]] {
                for labels in label_sets {
                    for caller in &callers {
                        let m = meta(space, labels, ancestors);
                        assert_eq!(
                            p.decide(caller, &m),
                            reference(&p, caller, &m),
                            "{unmarked:?} {space} {ancestors:?} {labels:?} {caller:?}"
                        );
                        checked += 1;
                    }
                }
            }
        }
    }
    assert_eq!(checked, 2 * 3 * 4 * 8 * 6);
}
