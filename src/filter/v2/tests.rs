//! Tests for the v2 filters: the samples of `confluence-samples/` (copied to `testdata/`) and
//! hand-written hostile bodies.

use serde_json::Value;

use super::*;

const BASE: &str = "https://kb.example.com/wiki";

fn download(page: &str, file: &str) -> String {
    format!("/download/attachments/{page}/{}", file.replace(' ', "%20"))
}

/// Scans `body` as a list of `shape` and writes every item, with `visible` deciding parents.
fn render_all(body: &str, shape: ItemShape, visible: &dyn Fn(&str) -> bool) -> (V2ListScan, Value) {
    let scan = scan_v2_list(body.as_bytes(), shape).unwrap();
    let ctx = RenderContext::list(visible, &download, BASE);
    let mut w = V2ListWriter::new();
    for i in 0..scan.items().len() {
        w.push(&scan, body.as_bytes(), i, &ctx).unwrap();
    }
    assert_eq!(w.count(), scan.items().len());
    let out = w.finish(Some("/wiki/api/v2/pages?limit=1&cursor=KBGATE"), BASE);
    let v: Value = serde_json::from_slice(&out).unwrap();
    (scan, v)
}

/// The member names of an object, sorted (serde_json's map is sorted).
fn keys(v: &Value) -> Vec<&str> {
    v.as_object().unwrap().keys().map(String::as_str).collect()
}

/// `names`, sorted, to compare with [`keys`].
fn sorted<'a>(names: &[&'a str]) -> Vec<&'a str> {
    let mut names = names.to_vec();
    names.sort_unstable();
    names
}

const ALL: &dyn Fn(&str) -> bool = &|_| true;
const NONE: &dyn Fn(&str) -> bool = &|_| false;

#[test]
fn a_page_list_keeps_its_allowlist_and_drops_bodies_self_links_and_upstream_paging() {
    let body = include_str!("testdata/cloud-v2-pages.mock.json");
    let (scan, v) = render_all(body, ItemShape::Page, ALL);
    let ids: Vec<&str> = scan.items().iter().map(V2Item::id).collect();
    assert_eq!(ids, ["123456", "345678"]);
    assert_eq!(scan.next_cursor(), Some("next-page-token"));
    let first = &v["results"][0];
    assert_eq!(
        keys(first),
        sorted(&[
            "id",
            "title",
            "status",
            "spaceId",
            "parentId",
            "authorId",
            "createdAt",
            "version",
            "_links"
        ])
    );
    assert_eq!(keys(&first["_links"]), sorted(&["webui", "tinyui"]));
    assert_eq!(
        keys(&first["version"]),
        sorted(&["number", "message", "createdAt", "authorId"])
    );
    assert_eq!(
        v["_links"]["next"],
        "/wiki/api/v2/pages?limit=1&cursor=KBGATE"
    );
    assert_eq!(v["_links"]["base"], BASE);
    let text = v.to_string();
    assert!(!text.contains("next-page-token") && !text.contains("atlassian.net"));
    assert!(
        !text.contains("This is a test page content"),
        "no bodies in lists"
    );
}

#[test]
fn a_parent_is_named_only_when_it_is_visible() {
    let body = include_str!("testdata/cloud-v2-label-pages.synthetic.json");
    let (scan, v) = render_all(body, ItemShape::Page, ALL);
    assert_eq!(scan.items()[0].parent_id(), Some("1000"));
    assert_eq!(v["results"][0]["parentId"], "1000");
    assert_eq!(v["results"][0]["parentType"], "page");
    assert!(v["results"][0].get("ownerId").is_none());

    let (_, v) = render_all(body, ItemShape::Page, &|id| id != "1000");
    let item = &v["results"][0];
    assert!(item.get("parentId").is_none() && item.get("parentType").is_none());
    assert_eq!(item["id"], "1001");
    assert_eq!(item["position"], 3);
    assert_eq!(item["version"]["minorEdit"], false);
    assert!(!v.to_string().contains("eyJpZCI6MTAwMX0"));
}

#[test]
fn descendants_report_their_type_and_parent_and_folders_are_recognised() {
    let body = include_str!("testdata/cloud-v2-page-descendants.synthetic.json");
    let (scan, v) = render_all(body, ItemShape::Descendant, &|id| id == "1001");
    let facts: Vec<(&str, Option<&str>, Option<&str>, bool)> = scan
        .items()
        .iter()
        .map(|i| (i.id(), i.kind(), i.parent_id(), i.is_page_or_blog_post()))
        .collect();
    assert_eq!(
        facts,
        [
            ("1002", Some("page"), Some("1001"), true),
            ("1003", Some("page"), Some("1001"), true),
            ("1004", Some("folder"), Some("1002"), false),
        ]
    );
    assert_eq!(scan.next_cursor(), Some("eyJpZCI6MTAwNH0"));
    assert_eq!(v["results"][0]["parentId"], "1001");
    assert!(
        v["results"][2].get("parentId").is_none(),
        "1002 is not visible"
    );
    assert_eq!(
        keys(&v["results"][0]),
        sorted(&[
            "id",
            "status",
            "title",
            "type",
            "parentId",
            "depth",
            "childPosition"
        ])
    );
}

#[test]
fn direct_children_ancestors_children_and_labels_keep_their_own_members() {
    let body = include_str!("testdata/cloud-v2-page-direct-children.synthetic.json");
    let (scan, v) = render_all(body, ItemShape::DirectChild, ALL);
    assert_eq!(scan.next_cursor(), Some("eyJpZCI6MTAwM30"));
    assert_eq!(
        keys(&v["results"][1]),
        sorted(&["id", "status", "title", "type", "spaceId", "childPosition"])
    );

    let body = include_str!("testdata/cloud-v2-page-ancestors.synthetic.json");
    let (scan, v) = render_all(body, ItemShape::Ancestor, ALL);
    assert!(scan.next_cursor().is_none());
    assert_eq!(
        v["results"][0],
        serde_json::json!({"id":"65537","type":"page"})
    );

    let body = include_str!("testdata/cloud-v2-pages-children.mock.json");
    let (_, v) = render_all(body, ItemShape::ChildPage, ALL);
    assert_eq!(
        keys(&v["results"][0]),
        sorted(&["id", "title", "status", "spaceId", "_links"])
    );
    assert_eq!(keys(&v["results"][0]["_links"]), sorted(&["webui"]));

    let body = include_str!("testdata/cloud-v2-page-labels.mock.json");
    let (scan, v) = render_all(body, ItemShape::Label, ALL);
    let names: Vec<Option<&str>> = scan.items().iter().map(V2Item::name).collect();
    assert_eq!(names, [Some("test-label"), Some("another-label")]);
    assert_eq!(scan.next_cursor(), Some("next-page-token"));
    assert_eq!(keys(&v["results"][0]), sorted(&["id", "name", "prefix"]));
}

#[test]
fn attachment_download_links_are_kbgates_and_never_upstreams() {
    let body = include_str!("testdata/cloud-v2-page-attachments.synthetic.json");
    let (scan, v) = render_all(body, ItemShape::Attachment, ALL);
    assert_eq!(scan.items()[0].page_id(), Some("1001"));
    let a = &v["results"][0];
    assert_eq!(a["downloadLink"], "/download/attachments/1001/acme-vpn.pdf");
    assert_eq!(
        a["_links"]["download"],
        "/download/attachments/1001/acme-vpn.pdf"
    );
    assert_eq!(
        a["webuiLink"],
        "/spaces/KB/pages/1001/Acme+VPN+setup?preview=%2F1001%2F3001%2Facme-vpn.pdf"
    );
    assert_eq!(a["title"], "acme-vpn.pdf");
    assert_eq!(a["fileSize"], 160955);
    assert!(!v.to_string().contains("modificationDate"));
}

#[test]
fn absolute_or_protocol_relative_links_are_dropped() {
    let body = r#"{"results":[{"id":"1","title":"t","_links":{"webui":"https://evil.example/x","tinyui":"//evil.example/y"}},
        {"id":"2","title":"u","_links":{"webui":"/spaces/KB/pages/2/u","tinyui":"/x/Ab"}}]}"#;
    let (_, v) = render_all(body, ItemShape::Page, ALL);
    assert_eq!(v["results"][0]["_links"], serde_json::json!({}));
    assert_eq!(v["results"][1]["_links"]["tinyui"], "/x/Ab");
}

#[test]
fn a_space_keeps_its_home_page_only_when_visible() {
    let body = r#"{"results":[{"id":"196609","key":"KB","name":"Customer KB","type":"global","status":"current",
        "authorId":"a","createdAt":"2024-01-01T00:00:00.000Z","homepageId":"100001","description":null,"icon":null,
        "_links":{"webui":"/spaces/KB"}}],"_links":{"base":"https://site.atlassian.net/wiki"}}"#;
    let (scan, v) = render_all(body, ItemShape::Space, ALL);
    assert_eq!(scan.items()[0].key(), Some("KB"));
    assert_eq!(scan.items()[0].homepage_id(), Some("100001"));
    assert_eq!(v["results"][0]["homepageId"], "100001");
    assert!(v["results"][0].get("description").is_none() && v["results"][0].get("icon").is_none());
    let (_, v) = render_all(body, ItemShape::Space, NONE);
    assert!(v["results"][0].get("homepageId").is_none());
}

fn single_ctx<'a>(
    visible: &'a dyn Fn(&str) -> bool,
    storage: Option<&'a str>,
    fetched: Option<&'a [(&'a V2ListScan, &'a [u8])]>,
) -> RenderContext<'a> {
    RenderContext {
        visible,
        download: &download,
        base: BASE,
        storage,
        adf: None,
        fetched_labels: fetched,
        labels_self: "/wiki/api/v2/pages/1001/labels",
        children_self: "/wiki/api/v2/pages/1001/direct-children",
    }
}

#[test]
fn a_single_page_gets_the_rewritten_body_its_labels_and_only_visible_children() {
    let body =
        include_str!("testdata/cloud-v2-page-by-id-include-labels-direct-children.synthetic.json");
    let scan = scan_v2_single(body.as_bytes(), ItemShape::SinglePage).unwrap();
    assert_eq!(scan.id(), "1001");
    assert_eq!(scan.parent_id(), Some("1000"));
    assert!(!scan.labels_have_more());
    assert_eq!(scan.label_names().collect::<Vec<_>>(), ["org-acme", "kb"]);
    assert_eq!(scan.direct_child_ids().collect::<Vec<_>>(), ["1002"]);
    let storage = scan.storage_body(body.as_bytes()).unwrap().unwrap();
    assert!(storage.contains("children"));

    let ctx = single_ctx(
        &|id| id != "1002" && id != "1000",
        Some("<p>rewritten</p>"),
        None,
    );
    let out = render_v2_single(&scan, body.as_bytes(), &ctx).unwrap();
    let v: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(
        v["body"],
        serde_json::json!({"storage":{"representation":"storage","value":"<p>rewritten</p>"}})
    );
    assert!(v.get("parentId").is_none() && v.get("parentType").is_none());
    assert_eq!(v["labels"]["results"].as_array().unwrap().len(), 2);
    assert_eq!(v["labels"]["meta"], serde_json::json!({"hasMore": false}));
    assert_eq!(
        v["labels"]["_links"]["self"],
        "/wiki/api/v2/pages/1001/labels"
    );
    assert_eq!(v["directChildren"]["results"], serde_json::json!([]));
    assert_eq!(v["directChildren"]["meta"]["hasMore"], false);
    assert_eq!(keys(&v["_links"]), sorted(&["webui", "tinyui", "base"]));
    assert_eq!(v["_links"]["base"], BASE);
    assert!(v.get("lastOwnerId").is_none() && v.get("ownerId").is_none());
    let text = String::from_utf8(out).unwrap();
    assert!(!text.contains("Acme: VPN on macOS") && !text.contains("resumedraft"));
    assert!(!text.contains("example.atlassian.net"));

    let ctx = single_ctx(ALL, None, None);
    assert!(
        render_v2_single(&scan, body.as_bytes(), &ctx).is_err(),
        "a storage body is never copied unrewritten"
    );
}

#[test]
fn labels_with_more_are_written_only_from_the_fetched_pages() {
    let body = r#"{"id":"7","title":"t","labels":{"results":[{"id":"1","name":"a","prefix":"global"}],
        "meta":{"hasMore":true,"cursor":"UPSTREAM-CURSOR"},"_links":{"self":"/wiki/api/v2/pages/7/labels"}},
        "_links":{"webui":"/spaces/KB/pages/7/t"}}"#;
    let scan = scan_v2_single(body.as_bytes(), ItemShape::SinglePage).unwrap();
    assert!(scan.labels_have_more());
    assert!(render_v2_single(&scan, body.as_bytes(), &single_ctx(ALL, None, None)).is_err());

    let page1 = r#"{"results":[{"id":"1","name":"a","prefix":"global"},{"id":"2","name":"b","prefix":"global"}],
        "_links":{"next":"/wiki/api/v2/pages/7/labels?cursor=X2"}}"#;
    let page2 = r#"{"results":[{"id":"3","name":"org-acme","prefix":"global"}],"_links":{}}"#;
    let s1 = scan_v2_list(page1.as_bytes(), ItemShape::Label).unwrap();
    let s2 = scan_v2_list(page2.as_bytes(), ItemShape::Label).unwrap();
    assert_eq!((s1.next_cursor(), s2.next_cursor()), (Some("X2"), None));
    let fetched = [(&s1, page1.as_bytes()), (&s2, page2.as_bytes())];
    let out = render_v2_single(
        &scan,
        body.as_bytes(),
        &single_ctx(ALL, None, Some(&fetched)),
    )
    .unwrap();
    let v: Value = serde_json::from_slice(&out).unwrap();
    let names: Vec<&str> = v["labels"]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["a", "b", "org-acme"]);
    assert_eq!(v["labels"]["meta"]["hasMore"], false);
    assert!(!String::from_utf8(out).unwrap().contains("UPSTREAM-CURSOR"));

    let no_meta = r#"{"id":"7","labels":{"results":[]}}"#;
    let scan = scan_v2_single(no_meta.as_bytes(), ItemShape::SinglePage).unwrap();
    assert!(
        scan.labels_have_more(),
        "labels without meta may be incomplete"
    );
}

#[test]
fn rendered_bodies_are_refused_and_adf_is_written_only_rewritten() {
    for body in [
        r#"{"id":"1","body":{"view":{"representation":"view","value":"<p>x</p>"}}}"#,
        r#"{"id":"1","body":{"export_view":{"value":"x"}}}"#,
        r#"{"id":"1","body":{"storage":{"representation":"view","value":"x"}}}"#,
        r#"{"id":"1","body":{"atlas_doc_format":{"representation":"view","value":"x"}}}"#,
    ] {
        assert!(
            matches!(
                scan_v2_single(body.as_bytes(), ItemShape::SinglePage),
                Err(FilterError::RenderedBody)
            ),
            "{body}"
        );
    }
    let adf = r#"{"id":"1","body":{"atlas_doc_format":{"representation":"atlas_doc_format","value":"{\"CANARY\":1}"},"editor2":{"value":"CANARY"}}}"#;
    let scan = scan_v2_single(adf.as_bytes(), ItemShape::SingleBlogPost).unwrap();
    assert_eq!(
        scan.adf_body(adf.as_bytes()).unwrap().as_deref(),
        Some(r#"{"CANARY":1}"#)
    );
    assert!(render_v2_single(&scan, adf.as_bytes(), &single_ctx(ALL, None, None)).is_err());
    let ctx = RenderContext {
        adf: Some(r#"{"type":"doc"}"#),
        ..single_ctx(ALL, None, None)
    };
    let out = render_v2_single(&scan, adf.as_bytes(), &ctx).unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        r#"{"id":"1","body":{"atlas_doc_format":{"representation":"atlas_doc_format","value":"{\"type\":\"doc\"}"}}}"#
    );
    let empty = r#"{"id":"1","body":{}}"#;
    let scan = scan_v2_single(empty.as_bytes(), ItemShape::SinglePage).unwrap();
    let out = render_v2_single(&scan, empty.as_bytes(), &single_ctx(ALL, None, None)).unwrap();
    assert_eq!(out, empty.as_bytes());
}

#[test]
fn malformed_or_ambiguous_lists_are_refused() {
    for body in [
        r#"{"results":[{"title":"no id"}]}"#,
        r#"{"results":[{"id":null}]}"#,
        r#"{"results":[{"id":""}]}"#,
        r#"{"results":[{"id":{}}]}"#,
        r#"{"results":[{"id":"1","id":"2"}]}"#,
        r#"{"results":[{"id":"1","\u0069d":"2"}]}"#,
        r#"{"results":[{"id":"1","title":7}]}"#,
        r#"{"results":[{"id":"1","parentId":[]}]}"#,
        r#"{"results":[{"id":"1","version":{"number":"x"}}]}"#,
        r#"{"results":[{"id":"1","version":{"minorEdit":"no"}}]}"#,
        r#"{"results":[{"id":"1","_links":{"webui":1}}]}"#,
        r#"{"results":[],"results":[]}"#,
        r#"{"results":{}}"#,
        r#"{"_links":{}}"#,
        r#"{"results":[],"_links":{"next":"/wiki/api/v2/pages?limit=1"}}"#,
        r#"{"results":[],"_links":{"next":"/wiki/api/v2/pages?cursor=a&cursor=b"}}"#,
        r#"{"results":[],"_links":{"next":"/wiki/api/v2/pages?cursor="}}"#,
        r#"{"results":[],"_links":{"next":7}}"#,
        r#"{"results":[]} trailing"#,
        r#"[]"#,
    ] {
        assert!(
            scan_v2_list(body.as_bytes(), ItemShape::Page).is_err(),
            "{body}"
        );
    }
    let long = format!(
        r#"{{"results":[],"_links":{{"next":"/x?cursor={}"}}}}"#,
        "a".repeat(MAX_UPSTREAM_CURSOR_BYTES + 1)
    );
    assert!(scan_v2_list(long.as_bytes(), ItemShape::Page).is_err());
}

#[test]
fn an_escaped_cursor_is_decoded_and_unknown_members_never_pass() {
    let body = r#"{"results":[{"id":"5","secret":"CANARY-x","title":"t","body":{"storage":{"value":"CANARY-y"}},
        "ownerId":"CANARY-z","_links":{"webui":"/p","editui":"/CANARY-e","self":"https://x/CANARY-s"}}],
        "_links":{"next":"/wiki/api/v2/pages?limit=1&cursor=a%2Bb%3D","base":"https://CANARY-b"}}"#;
    let (scan, v) = render_all(body, ItemShape::Page, ALL);
    assert_eq!(scan.next_cursor(), Some("a+b="));
    assert!(!v.to_string().contains("CANARY"), "{v}");
}

#[test]
fn a_body_that_is_not_the_scanned_one_is_refused() {
    let body = br#"{"results":[{"id":"1"}]}"#;
    let scan = scan_v2_list(body, ItemShape::Page).unwrap();
    let ctx = RenderContext::list(ALL, &download, BASE);
    let mut w = V2ListWriter::new();
    assert!(w.push(&scan, b"{}", 0, &ctx).is_err());
    assert!(w.push(&scan, body, 1, &ctx).is_err(), "no such item");
    w.push(&scan, body, 0, &ctx).unwrap();
    assert_eq!(
        w.finish(None, BASE),
        br#"{"results":[{"id":"1"}],"_links":{"base":"https://kb.example.com/wiki"}}"#
    );
}
