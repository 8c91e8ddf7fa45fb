//! Unit tests of the route mix and the request plan.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;

use super::plan::*;
use crate::sim::Corpus;

#[test]
fn the_mix_parses_names_and_weights() {
    let m = Mix::parse("search=40, page=25,children=0,site=15").unwrap();
    assert_eq!(
        m.weights,
        vec![
            (RouteKind::Search, 40),
            (RouteKind::Page, 25),
            (RouteKind::Site, 15)
        ]
    );
    for bad in [
        "",
        "search",
        "search=x",
        "search=-1",
        "search=1,search=2",
        "pages=3",
        "search=0,page=0",
        "search=10001",
    ] {
        assert!(Mix::parse(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn round_robin_follows_the_weights_and_interleaves() {
    let order = smooth_round_robin(&[40, 25, 10, 10, 15]);
    assert_eq!(order.len(), 20, "weights divided by their gcd (5)");
    let count = |r| order.iter().filter(|&&x| x == r).count();
    assert_eq!(
        (count(0), count(1), count(2), count(3), count(4)),
        (8, 5, 2, 2, 3)
    );
    let longest_run = order
        .chunk_by(|a, b| a == b)
        .map(<[usize]>::len)
        .max()
        .unwrap();
    assert!(longest_run <= 2, "{order:?}");
    assert_eq!(smooth_round_robin(&[3]), vec![0]);
}

#[test]
fn each_customer_gets_mostly_visible_targets_and_some_hidden() {
    let corpus = Corpus::generate(7);
    let mix = Mix::parse(crate::loadtest::args::DEFAULT_MIX).unwrap();
    let orgs = vec![vec!["acme".to_owned()], vec![]];
    let plan = Plan::for_mix(&mix, &corpus, &orgs, "", "/wiki").unwrap();
    assert_eq!(
        plan.routes(),
        ["search", "page", "children", "attachment", "site"]
    );
    for (c, org) in orgs.iter().enumerate() {
        let orgs: Vec<&str> = org.iter().map(String::as_str).collect();
        let visible = corpus.visible_ids_for(&orgs);
        let mut cursor = plan.cursor(0);
        let (mut shown, mut hidden) = (0, 0);
        let mut routes = BTreeSet::new();
        for _ in 0..2_000 {
            let (route, p) = plan.next(c, &mut cursor).unwrap();
            routes.insert(route);
            let path = p.uri.path();
            let id = path
                .split('/')
                .find(|s| s.len() == 6 && s.bytes().all(|b| b.is_ascii_digit()));
            match p.expect {
                Expect::Missing => {
                    hidden += 1;
                    assert!(!visible.contains(&id.unwrap().to_owned()), "{path}");
                }
                Expect::Success => {
                    shown += 1;
                    if let Some(id) = id {
                        assert!(visible.contains(&id.to_owned()), "{path}");
                    }
                }
                Expect::NotError => panic!("mix targets have a precise expectation"),
            }
        }
        assert_eq!(routes.len(), 5);
        let total = hidden + shown;
        assert!(
            hidden * 100 >= total * 2 && hidden * 100 <= total * 20,
            "{hidden} hidden of {total}"
        );
    }
}

#[test]
fn targets_use_the_prefix_and_encode_file_names() {
    let corpus = Corpus::generate(7);
    let mix = Mix::parse("attachment=1,search=1").unwrap();
    let plan = Plan::for_mix(&mix, &corpus, &[vec![]], "/base", "").unwrap();
    let mut cursor = plan.cursor(0);
    let mut seen = Vec::new();
    for _ in 0..200 {
        let (_, p) = plan.next(0, &mut cursor).unwrap();
        seen.push(p.uri.to_string());
    }
    assert!(seen.iter().all(|s| s.starts_with("/base/")));
    assert!(seen
        .iter()
        .any(|s| s.starts_with("/base/download/attachments/") && s.contains("%20")));
    assert!(seen
        .iter()
        .any(|s| s.starts_with("/base/rest/api/search?cql=text+%7E+%22")));
}

#[test]
fn paths_go_round_robin() {
    let plan = Plan::for_paths("", &["/a".to_owned(), "/b?x=1".to_owned()]).unwrap();
    let mut cursor = plan.cursor(0);
    let got: Vec<String> = (0..4)
        .map(|_| plan.next(3, &mut cursor).unwrap().1.uri.to_string())
        .collect();
    assert_eq!(got, ["/a", "/b?x=1", "/a", "/b?x=1"]);
    assert!(Expect::NotError.admits(302) && !Expect::NotError.admits(404));
    assert!(Expect::Missing.admits(404) && !Expect::Missing.admits(200));
}
