//! Unit tests of the content-list filter: the real Confluence sample, hidden items and ancestors,
//! counts, kbgate's links, and refused shapes.

use serde_json::{json, Value};

use super::super::test_fixtures::{content_value, visible_set, Item, Ref, BASE};
use super::*;
use crate::policy::Labels;

const LIST: &[u8] = include_bytes!("testdata/cloud-v1-content-list.json");
const LEAK: &str = "SECRETLEAK";
const SELF: &str =
    "https://kb.example.com/wiki/rest/api/content/search?cql=space%3DKB&start=0&limit=25";
const NEXT: &str =
    "https://kb.example.com/wiki/rest/api/content/search?cql=space%3DKB&start=25&limit=25";

fn links(next: Option<&str>) -> SearchLinks<'_> {
    SearchLinks {
        base: BASE,
        self_link: SELF,
        next_link: next,
    }
}

fn id(s: &str) -> ContentId {
    ContentId::new(s).unwrap()
}

/// Scans and renders `body` for a caller who sees `ids`; the output must parse.
fn list_for(body: &[u8], ids: &[&str], next: Option<&str>) -> (Rendered, Value) {
    let vis = visible_set(ids);
    let scan = scan_list(body).unwrap();
    let rendered = render_list(&scan, body, &|i| vis.contains(i), &links(next)).unwrap();
    let value: Value = serde_json::from_slice(&rendered.body).expect("output is JSON");
    (rendered, value)
}

/// A content list of `items` with `leak` planted in every member the filter must drop.
fn list_body(items: &[Item], upstream_next: bool) -> Vec<u8> {
    let results: Vec<Value> = items.iter().map(|i| content_value(i, LEAK)).collect();
    let mut links = json!({
        "base": "https://site.atlassian.net/wiki", "context": "/wiki",
        "self": format!("https://site.atlassian.net/wiki/rest/api/content/search?cql={LEAK}")
    });
    if upstream_next {
        links["next"] = json!(format!("/rest/api/content/search?cql={LEAK}&cursor=abc"));
    }
    let size = results.len();
    serde_json::to_vec(&json!({
        "results": results, "start": 0, "limit": 25, "size": size, "totalSize": 99,
        "cqlQuery": LEAK, "_links": links
    }))
    .unwrap()
}

fn family() -> Vec<Item> {
    let root = Ref {
        id: "10".into(),
        title: "Shared root".into(),
    };
    let secret_parent = Ref {
        id: "11".into(),
        title: "Acme secret parent".into(),
    };
    let mut shared_child = Item::page("12", "Shared child");
    shared_child.ancestors = vec![root.clone(), secret_parent.clone()];
    shared_child.labels = vec!["howto".into()];
    let mut secret = Item::page("13", "Acme secret page");
    secret.ancestors = vec![root];
    secret.labels = vec!["org-acme".into()];
    vec![shared_child, secret, Item::page("14", "Plain shared")]
}

#[test]
fn the_real_list_sample_keeps_its_items_without_operations_and_with_kbgate_links() {
    let scan = scan_list(LIST).unwrap();
    assert_eq!(scan.items().count(), 4);
    assert_eq!(scan.upstream_count(), 4);
    let first = scan.items().next().unwrap();
    assert_eq!(first.id, id("196695"));
    assert_eq!(first.labels, Labels::Incomplete, "labels were not expanded");
    assert_eq!(
        (scan.start(), scan.limit(), scan.has_next()),
        (0, 25, false)
    );

    let (rendered, v) = list_for(LIST, &["196695", "64290817", "64290828", "65798145"], None);
    assert_eq!((rendered.kept, rendered.removed), (4, 0));
    assert_eq!(v["size"], 4);
    let item = &v["results"][2];
    assert_eq!(item["title"], "Confluence Page Title");
    assert!(item.get("operations").is_none());
    assert!(item.get("macroRenderedOutput").is_none());
    assert_eq!(item["_expandable"]["container"], "");
    assert_eq!(item["_links"]["tinyui"], "/x/DADVAw");
    assert!(item["_links"].get("editui").is_none());
    assert_eq!(
        v["_links"],
        json!({"base": BASE, "context": "/wiki", "self": SELF})
    );
}

#[test]
fn hidden_items_and_hidden_ancestors_disappear_and_size_counts_what_is_left() {
    let body = list_body(&family(), false);
    let scan = scan_list(&body).unwrap();
    let referenced: Vec<&str> = scan.referenced_ids().map(ContentId::as_str).collect();
    assert_eq!(
        referenced,
        ["10", "11"],
        "ancestors deduplicated and sorted"
    );

    let (rendered, v) = list_for(&body, &["10", "12", "14"], None);
    assert_eq!((rendered.kept, rendered.removed), (2, 1));
    assert_eq!(v["size"], 2);
    let ids: Vec<&str> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["12", "14"]);
    let ancestors: Vec<&str> = v["results"][0]["ancestors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(ancestors, ["10"], "the hidden parent is removed");
    let out = String::from_utf8(rendered.body).unwrap();
    assert!(!out.contains("Acme secret"), "{out}");
    assert!(!out.contains(LEAK), "{out}");
}

#[test]
fn upstream_counts_query_echo_and_bodies_never_reach_the_output() {
    let body = list_body(&family(), true);
    let scan = scan_list(&body).unwrap();
    assert!(scan.has_next());
    let (_, v) = list_for(&body, &["10", "11", "12", "13", "14"], Some(NEXT));
    assert!(v.get("totalSize").is_none());
    assert!(v.get("cqlQuery").is_none());
    assert!(v["results"][0].get("body").is_none());
    assert_eq!(v["_links"]["next"], NEXT);
    assert_eq!(v["_links"]["self"], SELF);
    assert_eq!(v["size"], 3);
}

#[test]
fn items_that_are_not_pages_or_blog_posts_are_always_removed() {
    let mut attachment = content_value(&Item::page("20", "report.pdf"), LEAK);
    attachment["type"] = json!("attachment");
    let mut no_id = content_value(&Item::page("21", "No id"), LEAK);
    no_id.as_object_mut().unwrap().remove("id");
    let page = content_value(&Item::page("22", "A page"), LEAK);
    let body = serde_json::to_vec(&json!({
        "results": [attachment, no_id, page], "start": 0, "limit": 25, "size": 3,
        "_links": {}
    }))
    .unwrap();
    let scan = scan_list(&body).unwrap();
    assert_eq!(scan.upstream_count(), 3);
    assert_eq!(scan.items().count(), 1);
    let (rendered, v) = list_for(&body, &["20", "21", "22"], None);
    assert_eq!((rendered.kept, rendered.removed), (1, 2));
    assert_eq!(v["results"][0]["id"], "22");
    assert!(!String::from_utf8(rendered.body)
        .unwrap()
        .contains("report.pdf"));
}

#[test]
fn an_empty_list_renders_the_same_shape() {
    let body =
        br#"{"results":[],"start":0,"limit":25,"size":0,"_links":{"base":"x","context":"/wiki"}}"#;
    let (rendered, _) = list_for(body, &[], None);
    let expected = format!(
        "{{\"results\":[],\"start\":0,\"limit\":25,\"size\":0,\"_links\":{{\"base\":\"{BASE}\",\"context\":\"/wiki\",\"self\":\"{SELF}\"}}}}"
    );
    assert_eq!(String::from_utf8(rendered.body).unwrap(), expected);
}

#[test]
fn malformed_lists_are_refused() {
    let cases: &[&[u8]] = &[
        b"[]",
        br#"{"start":0,"limit":25}"#,
        br#"{"results":{},"start":0,"limit":25}"#,
        br#"{"results":[],"limit":25}"#,
        br#"{"results":[],"start":0}"#,
        br#"{"results":[],"start":0,"start":0,"limit":25}"#,
        br#"{"results":["x"],"start":0,"limit":25}"#,
        br#"{"results":[{"id":"1","id":"2","type":"page"}],"start":0,"limit":25}"#,
        br#"{"results":[],"start":-1,"limit":25}"#,
        br#"{"results":[],"start":0,"limit":25,"_links":[]}"#,
        br#"{"results":[],"start":0,"limit":25} x"#,
    ];
    for body in cases {
        assert!(
            scan_list(body).is_err(),
            "accepted {}",
            String::from_utf8_lossy(body)
        );
    }
}

#[test]
fn a_body_that_does_not_match_its_scan_is_refused() {
    let body = list_body(&family(), false);
    let scan = scan_list(&body).unwrap();
    let shorter = &body[..body.len() - 1];
    assert!(render_list(&scan, shorter, &|_| true, &links(None)).is_err());
}
