//! A page's children, descendants and labels: a visible page shows exactly its visible child
//! pages and descendants (a hidden child under a visible parent is removed and counted out),
//! page after page; its labels come back in Confluence's shape with kbgate's links; and a
//! hidden page answers all three routes byte for byte like a page that does not exist.

use std::collections::BTreeSet;

use kbgate::sim::ContentKind;

use crate::content_lists::{all_pages, unique};
use crate::support::{Customer, Stack};

const MISSING: &str = "987654321";

/// The 404 a customer gets for `target` on a page that does not exist.
async fn missing(stack: &Stack, c: &Customer, tail: &str) -> Vec<u8> {
    let raw = c
        .get(stack, &format!("/wiki/rest/api/content/{MISSING}/{tail}"))
        .await;
    assert_eq!(raw.status, 404, "{} {tail} of a missing page", c.name);
    raw.body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn children_and_descendants_are_exactly_the_visible_pages_below_a_visible_page() {
    let stack = Stack::start().await;
    let corpus = stack.inner.sim.corpus();
    let items = corpus.items().to_vec();
    let (mut listed, mut removed_somewhere, mut refused) = (0, 0, 0);
    for c in stack.customers() {
        for relation in ["child", "descendant"] {
            let missing = missing(&stack, &c, &format!("{relation}/page")).await;
            for item in &items {
                let first = format!(
                    "/wiki/rest/api/content/{}/{relation}/page?limit=2&expand=space,version",
                    item.id
                );
                if !c.visible.contains(&item.id) {
                    let raw = c.get(&stack, &first).await;
                    assert_eq!(
                        raw.status, 404,
                        "{}: {relation} of hidden {}",
                        c.name, item.id
                    );
                    assert_eq!(
                        raw.body, missing,
                        "{}: {relation} of hidden {} looks exactly like a missing page",
                        c.name, item.id
                    );
                    refused += 1;
                    continue;
                }
                let below = match relation {
                    "child" => corpus.children(&item.id),
                    _ => corpus.descendants(&item.id),
                };
                let pages: Vec<&str> = below
                    .iter()
                    .filter(|i| i.kind == ContentKind::Page)
                    .map(|i| i.id.as_str())
                    .collect();
                let expected: BTreeSet<String> = pages
                    .iter()
                    .filter(|id| c.visible.contains(**id))
                    .map(|id| (*id).to_owned())
                    .collect();
                if expected.len() < pages.len() {
                    removed_somewhere += 1;
                }
                let got = unique(&c.name, &all_pages(&stack, &c, &first).await);
                assert_eq!(got, expected, "{}: {relation} pages of {}", c.name, item.id);
                listed += got.len();
            }
        }
    }
    assert!(listed > 0, "some visible page has visible pages below it");
    assert!(
        removed_somewhere > 0,
        "some visible page has a hidden page below it"
    );
    assert!(refused > 0, "some customer is refused some page");
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn labels_of_a_visible_page_are_listed_and_a_hidden_page_has_none() {
    let stack = Stack::start().await;
    let items = stack.inner.sim.corpus().items().to_vec();
    let base = format!("http://{}/wiki", stack.addr());
    for c in stack.customers() {
        let missing = missing(&stack, &c, "label").await;
        let (mut served, mut refused) = (0, 0);
        for item in &items {
            let target = format!("/wiki/rest/api/content/{}/label", item.id);
            let raw = c.get(&stack, &target).await;
            if !c.visible.contains(&item.id) {
                assert_eq!(raw.status, 404, "{}: labels of hidden {}", c.name, item.id);
                assert_eq!(raw.body, missing, "hidden looks exactly like missing");
                refused += 1;
                continue;
            }
            assert_eq!(raw.status, 200, "{}: labels of {}", c.name, item.id);
            let v = raw.json();
            let results = v["results"].as_array().expect("results");
            let names: Vec<&str> = results.iter().filter_map(|l| l["name"].as_str()).collect();
            let expected: Vec<&str> = item.labels.iter().map(String::as_str).collect();
            assert_eq!(names, expected, "{}: labels of {}", c.name, item.id);
            for label in results {
                let keys: BTreeSet<&str> = label
                    .as_object()
                    .expect("label object")
                    .keys()
                    .map(String::as_str)
                    .collect();
                assert!(keys.is_subset(&BTreeSet::from(["prefix", "name", "id", "label"])));
            }
            assert_eq!(v["size"].as_u64(), Some(results.len() as u64));
            assert_eq!(v["_links"]["base"].as_str(), Some(base.as_str()));
            assert_eq!(v["_links"]["context"], "/wiki");
            assert_eq!(
                v["_links"]["self"].as_str(),
                Some(format!("{base}/rest/api/content/{}/label?start=0", item.id).as_str())
            );
            served += 1;
        }
        assert!(
            served > 0 && refused > 0,
            "{}: {served} served, {refused} refused",
            c.name
        );
    }
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_page_tree_and_label_parameters_are_400_and_nothing_is_forwarded() {
    let stack = Stack::start().await;
    let alice = stack.customer("alice");
    stack.inner.sim.clear_requests();
    for target in [
        "/wiki/rest/api/content/200000/child/page?expand=body.view",
        "/wiki/rest/api/content/200000/child/page?expand=body.storage",
        "/wiki/rest/api/content/200000/child/page?parentVersion=1",
        "/wiki/rest/api/content/200000/descendant/page?limit=101",
        "/wiki/rest/api/content/200000/descendant/page?expand=children.page",
        "/wiki/rest/api/content/200000/label?prefix=global",
        "/wiki/rest/api/content/200000/label?limit=201",
    ] {
        let raw = alice.get(&stack, target).await;
        assert_eq!(raw.status, 400, "{target}");
    }
    let forwarded = stack.forwarded_paths();
    assert!(forwarded.is_empty(), "forwarded: {forwarded:?}");
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_for_an_undecided_page_share_one_metadata_lookup() {
    let stack = Stack::start().await;
    let alice = stack.customer("alice");
    let app = stack.inner.app.clone();
    let mut max_lookups = 0;
    for id in ["100002", "100007", "100017"] {
        app.metadata.forget_all();
        stack.inner.sim.clear_requests();
        let target = format!("/wiki/rest/api/content/{id}/label");
        let answers =
            futures_util::future::join_all((0..16).map(|_| alice.get(&stack, &target))).await;
        assert!(answers.iter().all(|a| a.status == 200), "{id}");
        let lookups = stack
            .forwarded()
            .iter()
            .filter(|r| {
                r.path_and_query
                    .starts_with("/wiki/rest/api/search?cql=id+in+%28")
            })
            .filter(|r| r.path_and_query.contains(id))
            .count();
        assert!(lookups >= 1, "the page was looked up");
        max_lookups = max_lookups.max(lookups);
    }
    assert_eq!(max_lookups, 1, "16 concurrent misses, one upstream lookup");
    assert_eq!(app.metadata.in_flight(), 0, "nothing left in flight");
}
