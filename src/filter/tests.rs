//! Unit tests of the filter: Confluence samples, allowlists, visibility of nested references,
//! counts, and every way an upstream answer is refused.

use std::collections::HashSet;

use serde_json::Value;

use super::test_fixtures::{search_body, slug, visible_set, Crumb, Item, Ref, BASE, SELF};
use super::*;
use crate::ids::{ContentId, SpaceKey};
use crate::policy::{Ancestors, Labels};

const SEARCH: &[u8] = include_bytes!("testdata/cloud-v1-search.json");
const SEARCH_PLACEHOLDERS: &[u8] =
    include_bytes!("testdata/cloud-v1-search-full-shape-placeholders.json");
const CONTENT: &[u8] = include_bytes!("testdata/cloud-v1-content-by-id.json");
const CONTENT_EXPANDED: &[u8] = include_bytes!("testdata/cloud-v1-content-by-id-expanded.json");

const LEAK: &str = "SECRETLEAK";

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

/// Scans and renders a search answer for a caller who sees `ids`; the output must parse.
fn search_for(body: &[u8], ids: &[&str]) -> (Rendered, Value) {
    let vis = visible_set(ids);
    let scan = scan_search(body).unwrap();
    let rendered = render_search(&scan, body, &|i| vis.contains(i), &links(None)).unwrap();
    let value: Value = serde_json::from_slice(&rendered.body).expect("output is JSON");
    (rendered, value)
}

fn content_for(body: &[u8], ids: &[&str]) -> Value {
    let vis = visible_set(ids);
    let scan = scan_content(body).unwrap();
    let links = ContentLinks {
        base: BASE,
        self_link: "https://kb.example.com/wiki/rest/api/content/1",
    };
    let storage = scan.storage_body(body).unwrap();
    let out = render_content(
        &scan,
        body,
        &|i| vis.contains(i),
        &links,
        storage.as_deref(),
    )
    .unwrap();
    serde_json::from_slice(&out).expect("output is JSON")
}

fn text(v: &Value) -> String {
    v.to_string()
}

#[test]
fn the_real_search_sample_keeps_its_visible_result_and_drops_the_query_echo() {
    let scan = scan_search(SEARCH).unwrap();
    let meta = scan.results()[0].meta().unwrap();
    assert_eq!(meta.id, id("123456789"));
    assert_eq!(meta.space, None);
    assert_eq!(meta.labels, Labels::Incomplete);
    assert_eq!(meta.ancestors, Ancestors::Unknown);
    assert_eq!(
        (
            scan.start(),
            scan.limit(),
            scan.total_size(),
            scan.has_next()
        ),
        (0, 50, Some(1), false)
    );

    let (rendered, v) = search_for(SEARCH, &["123456789"]);
    assert_eq!((rendered.kept, rendered.removed), (1, 0));
    assert_eq!(v["size"], 1);
    assert_eq!(v["totalSize"], 1);
    assert_eq!(v["searchDuration"], 156);
    assert!(v.get("cqlQuery").is_none());
    let r = &v["results"][0];
    assert_eq!(r["title"], "2024-01-01: Team Progress Meeting 01");
    assert_eq!(r["excerpt"].as_str().unwrap().lines().count(), 7);
    assert_eq!(r["content"]["_expandable"]["history"], "");
    assert_eq!(r["content"]["_expandable"]["space"], "");
    assert!(r["content"].get("restrictions").is_none());
    assert!(r["content"].get("macroRenderedOutput").is_none());
    assert_eq!(r["content"]["_links"]["tinyui"], "/x/ABC123");
    assert_eq!(
        v["_links"],
        serde_json::json!({"base": BASE, "context": "/wiki", "self": SELF})
    );
}

#[test]
fn a_hidden_result_disappears_with_its_counts() {
    let (rendered, v) = search_for(SEARCH, &[]);
    assert_eq!((rendered.kept, rendered.removed), (0, 1));
    assert_eq!(v["results"], serde_json::json!([]));
    assert_eq!(v["size"], 0);
    assert_eq!(v["totalSize"], 0);
    assert!(!String::from_utf8_lossy(&rendered.body).contains("Team Progress"));
}

#[test]
fn placeholder_results_without_a_usable_id_are_always_removed() {
    let mut v: Value = serde_json::from_slice(SEARCH_PLACEHOLDERS).unwrap();
    let body = v["results"][0]["content"]["body"].as_object_mut().unwrap();
    for rendered in [
        "view",
        "export_view",
        "styled_view",
        "editor",
        "editor2",
        "anonymous_export_view",
        "dynamic",
    ] {
        body.remove(rendered);
    }
    let bytes = serde_json::to_vec(&v).unwrap();
    let scan = scan_search(&bytes).unwrap();
    assert!(scan.results()[0].meta().is_none());
    let (rendered, out) = search_for(&bytes, &[]);
    assert_eq!((rendered.kept, rendered.removed), (0, 1));
    assert_eq!(out["totalSize"], 2153);
    assert!(out.get("archivedResultCount").is_none());
    assert!(!String::from_utf8_lossy(&rendered.body).contains("<string>"));
}

#[test]
fn the_real_content_sample_gets_blank_expandables_and_kbgate_links() {
    let scan = scan_content(CONTENT).unwrap();
    assert_eq!(scan.meta().id, id("64290828"));
    assert_eq!(scan.referenced_ids().count(), 0);
    let v = content_for(CONTENT, &["64290828"]);
    assert_eq!(v["title"], "Confluence Page Title");
    assert_eq!(v["extensions"]["position"], 1196);
    let expandable = v["_expandable"].as_object().unwrap();
    assert_eq!(expandable.len(), 13);
    assert!(expandable.values().all(|x| x == ""));
    assert_eq!(
        v["_links"]["self"],
        "https://kb.example.com/wiki/rest/api/content/1"
    );
    assert_eq!(v["_links"]["base"], BASE);
    assert_eq!(
        v["_links"]["editui"],
        "/pages/resumedraft.action?draftId=64290828"
    );
    assert_eq!(v["_links"]["context"], "/wiki");
    assert!(v.get("macroRenderedOutput").is_none());
    assert!(!text(&v).contains("ctreminiom.atlassian.net"));
}

#[test]
fn the_expanded_content_sample_loses_homepage_children_and_version_content() {
    let scan = scan_content(CONTENT_EXPANDED).unwrap();
    assert_eq!(scan.meta().space, Some(SpaceKey::new("PROJ").unwrap()));
    let v = content_for(CONTENT_EXPANDED, &["987654321"]);
    let s = text(&v);
    assert!(
        !s.contains("/rest/api/content/11111111"),
        "space homepage leaked"
    );
    assert!(
        !s.contains("att105348") && !s.contains("stockmaster"),
        "children leaked"
    );
    assert!(v["version"].get("_expandable").is_none());
    assert_eq!(v["version"]["number"], 1);
    assert_eq!(v["version"]["by"]["accountId"], "user123");
    assert_eq!(v["space"]["key"], "PROJ");
    assert!(v["space"].get("_expandable").is_none());
    assert!(v["body"]["storage"]["value"]
        .as_str()
        .unwrap()
        .starts_with("<h2>"));
    assert_eq!(v["body"]["storage"].as_object().unwrap().len(), 2);
    assert_eq!(v["body"].as_object().unwrap().len(), 1);
    assert!(v["_links"].get("edituiv2").is_none());
}

fn family() -> Vec<Item> {
    let root = Ref {
        id: "100".into(),
        title: "KB root".into(),
    };
    let acme = Ref {
        id: "200".into(),
        title: "Acme secret SECRETANCESTOR".into(),
    };
    let mut a = Item::page("1", "Shared article");
    a.ancestors = vec![root.clone(), acme.clone()];
    a.crumbs = vec![
        Crumb::SpaceRoot,
        Crumb::Page(root.clone()),
        Crumb::Page(acme.clone()),
        Crumb::ByTitle("By title SECRETCRUMB".into()),
    ];
    a.parent = Some(acme);
    let mut b = Item::page("2", "Second visible");
    b.parent = Some(root);
    let c = Item::page("3", "Globex plans SECRETRESULT");
    vec![a, b, c]
}

#[test]
fn hidden_ancestors_breadcrumbs_and_parents_go_while_visible_ones_stay() {
    let body = search_body(&family(), Some(10), false, LEAK);
    let scan = scan_search(&body).unwrap();
    let refs: Vec<&str> = scan.referenced_ids().map(ContentId::as_str).collect();
    assert_eq!(refs, ["100", "200"]);
    let (rendered, v) = search_for(&body, &["1", "2", "100"]);
    let out = String::from_utf8(rendered.body.clone()).unwrap();
    assert!(!out.contains("SECRET"), "{out}");
    assert_eq!((rendered.kept, rendered.removed), (2, 1));
    assert_eq!(v["totalSize"], 9);
    let a = &v["results"][0];
    let ancestors = a["content"]["ancestors"].as_array().unwrap();
    assert_eq!(ancestors.len(), 1);
    assert_eq!(ancestors[0]["id"], "100");
    assert_eq!(ancestors[0].as_object().unwrap().len(), 5);
    let links = ancestors[0]["_links"].as_object().unwrap();
    assert_eq!(
        links.len(),
        2,
        "webui and tinyui; no absolute upstream self: {links:?}"
    );
    assert!(links.get("self").is_none());
    let crumbs: Vec<&str> = a["breadcrumbs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["url"].as_str().unwrap())
        .collect();
    assert_eq!(crumbs, ["/spaces/KB", "/spaces/KB/pages/100/KB+root"]);
    assert!(a.get("resultParentContainer").is_none());
    let b = &v["results"][1];
    assert_eq!(
        b["resultParentContainer"]["displayUrl"],
        format!("/spaces/KB/pages/100/{}", slug("KB root"))
    );
    assert_eq!(b["resultParentContainer"].as_object().unwrap().len(), 2);
}

#[test]
fn visible_nested_references_are_all_kept() {
    let body = search_body(&family(), None, true, LEAK);
    let (rendered, v) = search_for(&body, &["1", "2", "3", "100", "200"]);
    assert_eq!((rendered.kept, rendered.removed), (3, 0));
    assert!(v.get("totalSize").is_none());
    let a = &v["results"][0];
    assert_eq!(a["content"]["ancestors"].as_array().unwrap().len(), 2);
    assert_eq!(
        a["breadcrumbs"].as_array().unwrap().len(),
        3,
        "the by-title crumb is never kept"
    );
    assert_eq!(
        a["resultParentContainer"]["title"],
        "Acme secret SECRETANCESTOR"
    );
}

#[test]
fn members_outside_the_allowlists_never_reach_the_output() {
    let body = search_body(&family(), Some(3), true, LEAK);
    let (rendered, v) = search_for(&body, &["1", "2", "3", "100", "200"]);
    let out = String::from_utf8(rendered.body).unwrap();
    assert!(!out.contains(LEAK), "{out}");
    let content = v["results"][0]["content"].as_object().unwrap();
    let mut keys: Vec<&str> = content.keys().map(String::as_str).collect();
    keys.sort_unstable();
    let want = [
        "_expandable",
        "_links",
        "ancestors",
        "childTypes",
        "extensions",
        "id",
        "metadata",
        "space",
        "status",
        "title",
        "type",
        "version",
    ];
    assert_eq!(keys, want);
    assert_eq!(
        v["results"][0]["content"]["metadata"]
            .as_object()
            .unwrap()
            .len(),
        1
    );
    assert!(
        v["_links"].get("next").is_none(),
        "no next link unless kbgate supplies one"
    );
}

#[test]
fn kbgate_next_link_is_written_when_given() {
    let body = search_body(&family(), Some(3), true, LEAK);
    let scan = scan_search(&body).unwrap();
    assert!(scan.has_next());
    let next = "https://kb.example.com/wiki/rest/api/search?cql=x&start=25 \"q\"";
    let rendered = render_search(&scan, &body, &|_| true, &links(Some(next))).unwrap();
    let v: Value = serde_json::from_slice(&rendered.body).unwrap();
    assert_eq!(v["_links"]["next"], next);
}

#[test]
fn labels_are_complete_only_when_every_label_was_returned() {
    let mut item = Item::page("1", "x");
    item.labels = vec!["org-acme".into(), "how-to".into()];
    let scan = scan_search(&search_body(std::slice::from_ref(&item), None, false, LEAK)).unwrap();
    let want = Labels::Complete(smallvec::smallvec!["org-acme".into(), "how-to".into()]);
    assert_eq!(scan.results()[0].meta().unwrap().labels, want);

    item.labels_complete = false;
    let scan = scan_search(&search_body(&[item], None, false, LEAK)).unwrap();
    assert_eq!(scan.results()[0].meta().unwrap().labels, Labels::Incomplete);

    let labels = |json: &str| {
        let body = format!(r#"{{"id":"5","type":"page","metadata":{{"labels":{json}}}}}"#);
        scan_content(body.as_bytes()).map(|s| s.meta().labels.clone())
    };
    let a = r#"{"name":"a"}"#;
    assert_eq!(
        labels(&format!(r#"{{"results":[{a}],"size":1}}"#)).unwrap(),
        Labels::Complete(smallvec::smallvec!["a".into()])
    );
    assert_eq!(
        labels(&format!(r#"{{"results":[{a}],"size":1,"limit":1}}"#)).unwrap(),
        Labels::Incomplete
    );
    assert_eq!(
        labels(&format!(r#"{{"results":[{a}],"size":2,"limit":5}}"#)).unwrap(),
        Labels::Incomplete
    );
    assert_eq!(
        labels(&format!(r#"{{"results":[{a}]}}"#)).unwrap(),
        Labels::Incomplete
    );
    assert_eq!(labels(r#"{"size":0}"#).unwrap(), Labels::Incomplete);
    assert!(matches!(labels("[]"), Err(FilterError::Shape(_))));
    assert!(matches!(
        labels(r#"{"results":[{"name":1}],"size":1}"#),
        Err(FilterError::Shape(_))
    ));
    assert!(matches!(
        labels(r#"{"results":[{"prefix":"global"}],"size":1}"#),
        Err(FilterError::Shape(_))
    ));
    let no_metadata = scan_content(br#"{"id":"5","type":"page"}"#).unwrap();
    assert_eq!(no_metadata.meta().labels, Labels::Incomplete);
}

#[test]
fn escaped_label_names_are_decoded() {
    let body = br#"{"id":"5","type":"page","metadata":{"labels":{"results":[{"name":"org-\u0061cme"}],"size":1}}}"#;
    let scan = scan_content(body).unwrap();
    assert_eq!(
        scan.meta().labels,
        Labels::Complete(smallvec::smallvec!["org-acme".into()])
    );
}

#[test]
fn results_that_are_not_pages_or_blog_posts_are_always_removed() {
    let body = br#"{"results":[
        {"content":{"id":"1","type":"attachment","title":"a.pdf"}},
        {"content":{"id":"2","type":"blogpost","title":"Post"}},
        {"space":{"key":"KB"},"title":"Space result","entityType":"space"},
        {"content":{"id":"not an id","type":"page"}}
    ],"start":0,"limit":25,"totalSize":4}"#;
    let scan = scan_search(body).unwrap();
    let metas: Vec<bool> = scan.results().iter().map(|r| r.meta().is_some()).collect();
    assert_eq!(metas, [false, true, false, false]);
    let (rendered, v) = search_for(body, &["1", "2"]);
    assert_eq!((rendered.kept, rendered.removed), (1, 3));
    assert_eq!(v["results"][0]["content"]["id"], "2");
    assert_eq!(v["totalSize"], 1);
}

#[test]
fn content_by_id_keeps_only_visible_ancestors() {
    let body = br#"{"id":"5","type":"page","title":"T","ancestors":[
        {"id":"1","type":"page","title":"Root","_links":{"webui":"/spaces/KB/pages/1/Root"}},
        {"id":"2","type":"page","title":"SECRET parent","children":{}}]}"#;
    let scan = scan_content(body).unwrap();
    let refs: Vec<&str> = scan.referenced_ids().map(ContentId::as_str).collect();
    assert_eq!(refs, ["1", "2"]);
    let v = content_for(body, &["5", "1"]);
    assert_eq!(
        v["ancestors"],
        serde_json::json!([{"id":"1","type":"page","title":"Root","_links":{"webui":"/spaces/KB/pages/1/Root"}}])
    );
    assert_eq!(
        v["_links"],
        serde_json::json!({"self": "https://kb.example.com/wiki/rest/api/content/1", "base": BASE})
    );
}

#[test]
fn kept_strings_with_escapes_survive_byte_for_byte() {
    let title = r#"Quote \" back \\ slash \u00e9 \ud83d\ude00 \/ tab\t"#;
    let body = format!(
        r#"{{"results":[{{"content":{{"id":"1","type":"page","title":"{title}"}},"title":"{title}"}}],"start":0,"limit":1}}"#
    );
    let (rendered, v) = search_for(body.as_bytes(), &["1"]);
    assert!(String::from_utf8(rendered.body).unwrap().contains(title));
    assert_eq!(
        v["results"][0]["title"],
        "Quote \" back \\ slash \u{e9} \u{1F600} / tab\t"
    );
}

#[test]
fn null_display_strings_are_dropped() {
    let body = br#"{"results":[{"content":{"id":"1","type":"page","title":null},"excerpt":null,"title":"t"}],"start":0,"limit":1}"#;
    let (_, v) = search_for(body, &["1"]);
    assert!(v["results"][0].get("excerpt").is_none());
    assert!(v["results"][0]["content"].get("title").is_none());
    assert_eq!(v["results"][0]["title"], "t");
}

#[test]
fn whitespace_and_key_order_do_not_matter() {
    let body = b" {\n \"limit\" : 5 ,\"_links\":{\"next\":\"/x\"}, \"results\" : [ { \"title\" : \"t\" , \"content\" : { \"type\" : \"page\" , \"id\" : \"9\" } } ] , \"start\" : 0 }\n";
    let scan = scan_search(body).unwrap();
    assert!(scan.has_next());
    let (rendered, v) = search_for(body, &["9"]);
    assert_eq!(rendered.kept, 1);
    assert_eq!(v["results"][0]["content"]["id"], "9");
    assert_eq!(v["limit"], 5);
    let unique: HashSet<&ContentId> = scan.referenced_ids().collect();
    assert!(unique.is_empty());
}

#[test]
fn keys_read_the_same_with_whitespace_around_every_separator() {
    // The compact `,"key":` form takes a fast path; every other spacing takes the general one.
    let compact =
        br#"{"results":[{"title":"t","content":{"type":"page","id":"9"}}],"start":0,"limit":5}"#;
    let spaced = b"{\"results\":[{\"title\":\"t\",\"content\" :{\"type\"\t: \"page\", \"id\"\n:\"9\"}}] ,\"start\" :0,\r\"limit\":5 }";
    for body in [&compact[..], &spaced[..]] {
        let (rendered, v) = search_for(body, &["9"]);
        assert_eq!(rendered.kept, 1);
        assert_eq!(v["results"][0]["content"]["id"], "9");
        assert_eq!(v["limit"], 5);
    }
    for bad in [
        &br#"{"a":1,"b"2}"#[..],
        br#"{"a":1,"b" 2}"#,
        br#"{"a":1,"b""#,
        br#"{"a":1,"b"#,
    ] {
        let mut cur = json::Cursor::new(bad).unwrap();
        assert!(
            cur.skip_value().is_err(),
            "{}",
            String::from_utf8_lossy(bad)
        );
    }
}

#[test]
fn a_render_op_stays_small() {
    // The plan holds ~1 op per 20 bytes of a search answer; 12 bytes each keeps it well under
    // the size of the body.
    assert!(std::mem::size_of::<super::plan::Op>() <= 12);
}
