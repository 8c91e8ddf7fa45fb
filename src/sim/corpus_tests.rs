//! Invariants of the simulated corpus: canaries everywhere they must be, nowhere they must not,
//! fixed ids, and agreement between `visible_ids_for` and `forbidden_canaries_for`.

use std::collections::HashSet;

use super::body;
use super::corpus::*;

fn corpus() -> Corpus {
    Corpus::generate(7)
}

#[test]
fn every_non_shared_item_carries_its_canary_in_title_body_excerpt_and_label() {
    let c = corpus();
    for item in c.items() {
        match (&item.audience, &item.canary) {
            (Audience::Shared, None) => {}
            (Audience::Shared, Some(_)) => panic!("shared {} has a canary", item.id),
            (_, None) => panic!("restricted {} has no canary", item.id),
            (_, Some(canary)) => {
                assert!(canary.starts_with("CANARY-"), "{canary}");
                assert!(item.title.contains(canary.as_str()), "{} title", item.id);
                assert!(
                    body::storage(&c, item).contains(canary.as_str()),
                    "{} body",
                    item.id
                );
                assert!(
                    item.text.starts_with(canary.as_str()),
                    "{} excerpt text",
                    item.id
                );
                assert!(
                    item.labels.contains(&canary.to_ascii_lowercase()),
                    "{} label",
                    item.id
                );
            }
        }
    }
}

#[test]
fn shared_items_carry_no_canary_except_the_documented_storage_link() {
    let c = corpus();
    for item in c.items().iter().filter(|i| i.audience == Audience::Shared) {
        let all = format!("{} {:?}", item.title, item.labels).to_lowercase();
        assert!(!all.contains("canary"), "{}", item.id);
        // The indexed text includes link text, as Confluence's does: the linking page's
        // excerpt source names the hidden page.
        assert_eq!(
            item.text.to_lowercase().contains("canary"),
            item.id == LINKS_TO_HIDDEN_ID,
            "{}",
            item.id
        );
        let storage = body::storage(&c, item);
        assert_eq!(
            storage.contains("CANARY"),
            item.id == LINKS_TO_HIDDEN_ID,
            "{}",
            item.id
        );
    }
    let hidden = c.get(ACME_UNDER_SHARED_ID).unwrap().canary.clone().unwrap();
    let links = body::storage(&c, c.get(LINKS_TO_HIDDEN_ID).unwrap());
    assert!(links.contains(&format!(
        "ri:content-title=\"Acme VPN gateway addresses {hidden}\""
    )));
}

#[test]
fn ids_and_canaries_are_unique_and_the_corpus_has_the_promised_size() {
    let c = corpus();
    let ids: HashSet<&str> = c.items().iter().map(|i| i.id.as_str()).collect();
    assert_eq!(ids.len(), c.items().len());
    let canaries = c.all_canaries();
    assert_eq!(
        canaries.iter().collect::<HashSet<_>>().len(),
        canaries.len()
    );
    assert!((40..=80).contains(&c.items().len()), "{}", c.items().len());
    for item in c.items() {
        if let Some(p) = &item.parent_id {
            assert!(c.get(p).is_some(), "{} has a dangling parent", item.id);
        }
    }
    assert!(
        c.items().iter().any(|i| c.ancestors(&i.id).len() >= 4),
        "a deep tree exists"
    );
    assert!(
        c.items()
            .iter()
            .filter(|i| i.kind == ContentKind::BlogPost)
            .count()
            >= 2
    );
}

#[test]
fn the_initech_subtree_is_rooted_at_200000_and_unlabelled() {
    let c = corpus();
    let root = c.get("200000").unwrap();
    assert_eq!(INITECH_ROOT_ID, "200000");
    assert_eq!(root.audience, Audience::Orgs(vec!["initech".to_owned()]));
    assert!(root.title.contains("CANARY-initech-"));
    assert_eq!(
        root.labels,
        vec![root.canary.clone().unwrap().to_ascii_lowercase()]
    );
    for child in c.descendants("200000") {
        let expected = if child.id == INITECH_CONFLICT_ID {
            Audience::Nobody
        } else {
            Audience::Orgs(vec!["initech".to_owned()])
        };
        assert_eq!(child.audience, expected, "{}", child.id);
    }
}

#[test]
fn fixed_ids_have_their_documented_audiences() {
    let c = corpus();
    let orgs = |v: &[&str]| Audience::Orgs(v.iter().map(|s| (*s).to_owned()).collect());
    let cases = [
        (KB_HOME_ID, Audience::Shared),
        (ACME_UNDER_SHARED_ID, orgs(&["acme"])),
        (ACME_GLOBEX_ID, orgs(&["acme", "globex"])),
        (ACME_PARENT_ID, orgs(&["acme"])),
        (SHARED_UNDER_ACME_ID, Audience::Shared),
        (INTERNAL_ID, Audience::Nobody),
        (LINKS_TO_HIDDEN_ID, Audience::Shared),
        ("100021", Audience::Nobody),
        ("100028", orgs(&["initech"])),
        (ENG_HOME_ID, Audience::Nobody),
        ("300004", Audience::Nobody),
    ];
    for (id, audience) in cases {
        assert_eq!(c.get(id).unwrap().audience, audience, "{id}");
    }
    let shared_parent = c.get(
        c.get(ACME_UNDER_SHARED_ID)
            .unwrap()
            .parent_id
            .as_deref()
            .unwrap(),
    );
    assert_eq!(shared_parent.unwrap().audience, Audience::Shared);
    let crumbs: Vec<&str> = c
        .ancestors(SHARED_UNDER_ACME_ID)
        .iter()
        .map(|a| a.id.as_str())
        .collect();
    assert_eq!(crumbs, vec![KB_HOME_ID, ACME_PARENT_ID]);
    assert!(c
        .get("300001")
        .unwrap()
        .canary
        .as_deref()
        .unwrap()
        .starts_with("CANARY-eng-"));
    assert!(c
        .get(INTERNAL_ID)
        .unwrap()
        .canary
        .as_deref()
        .unwrap()
        .starts_with("CANARY-internal-"));
}

#[test]
fn visible_ids_and_forbidden_canaries_agree_for_every_demo_customer() {
    let c = corpus();
    for customer in super::demo_customers() {
        let orgs: Vec<&str> = customer.orgs.iter().map(String::as_str).collect();
        let visible = c.visible_ids_for(&orgs);
        let forbidden = c.forbidden_canaries_for(&orgs);
        for item in c.items() {
            let seen = visible.contains(&item.id);
            assert_eq!(
                seen,
                item.space_key == KB_SPACE && item.audience.admits(&orgs)
            );
            if let Some(canary) = &item.canary {
                assert_eq!(
                    forbidden.contains(canary),
                    !seen,
                    "{} for {}",
                    item.id,
                    customer.name
                );
            }
        }
        assert!(
            !visible.iter().any(|id| id.starts_with('3')),
            "ENG is never visible"
        );
    }
    let shared: Vec<String> = c
        .items()
        .iter()
        .filter(|i| i.audience == Audience::Shared)
        .map(|i| i.id.clone())
        .collect();
    assert_eq!(c.visible_ids_for(&[]), shared);
    assert_eq!(c.forbidden_canaries_for(&[]), c.all_canaries());
    assert!(c
        .visible_ids_for(&["acme"])
        .contains(&ACME_GLOBEX_ID.to_owned()));
    assert!(c
        .visible_ids_for(&["globex"])
        .contains(&ACME_GLOBEX_ID.to_owned()));
    assert!(!c
        .visible_ids_for(&["initech"])
        .contains(&ACME_GLOBEX_ID.to_owned()));
}

#[test]
fn the_corpus_is_deterministic_per_seed_and_canaries_follow_the_seed() {
    let a = Corpus::generate(7);
    let b = Corpus::generate(7);
    let other = Corpus::generate(8);
    let titles = |c: &Corpus| {
        c.items()
            .iter()
            .map(|i| i.title.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(titles(&a), titles(&b));
    assert_ne!(a.all_canaries(), other.all_canaries());
    let ids = |c: &Corpus| c.items().iter().map(|i| i.id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&a), ids(&other));
}

#[test]
fn common_words_span_every_audience() {
    let c = corpus();
    for word in ["vpn", "invoice", "password"] {
        let mut kinds = HashSet::new();
        for item in c.items() {
            if item.text.to_lowercase().contains(word) || item.title.to_lowercase().contains(word) {
                kinds.insert(match &item.audience {
                    Audience::Shared => "shared".to_owned(),
                    Audience::Orgs(o) => o.join("-"),
                    Audience::Nobody => "nobody".to_owned(),
                });
            }
        }
        assert!(
            kinds.contains("shared") && kinds.contains("acme") && kinds.contains("nobody"),
            "{word}: {kinds:?}"
        );
        assert!(
            kinds.contains("globex") || kinds.contains("initech"),
            "{word}: {kinds:?}"
        );
    }
}

#[test]
fn rendered_view_lists_hidden_children_but_storage_does_not() {
    let c = corpus();
    let home = c.get(KB_HOME_ID).unwrap();
    let view = body::view(&c, home);
    let storage = body::storage(&c, home);
    let acme_parent = c.get(ACME_PARENT_ID).unwrap();
    assert!(view.contains(acme_parent.canary.as_deref().unwrap()));
    assert!(view.contains("childpages-macro"));
    assert!(!storage.contains("CANARY"));
    assert!(storage.contains("ac:name=\"children\""));
}
