//! Tests of the space filter against the real Cloud sample and hostile variants.

use std::collections::BTreeSet;

use super::*;

const LINKS: SearchLinks<'static> = SearchLinks {
    base: "https://kb.example.com/wiki",
    self_link: "https://kb.example.com/wiki/rest/api/space?start=0&limit=5",
    next_link: None,
};

const SAMPLE: &str = include_str!("testdata/cloud-v1-spaces.json");

fn link(key: &str) -> String {
    format!("https://kb.example.com/wiki/rest/api/space/{key}")
}

fn render(body: &str, keep: &dyn Fn(&str) -> bool) -> (serde_json::Value, String, usize) {
    let scan = scan_space_list(body.as_bytes()).unwrap();
    let out = render_space_list(&scan, body.as_bytes(), keep, &link, &LINKS).unwrap();
    let text = String::from_utf8(out.body).unwrap();
    (serde_json::from_str(&text).unwrap(), text, out.removed)
}

fn keys_of(v: &serde_json::Value) -> BTreeSet<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

#[test]
fn the_sample_keeps_only_the_kept_space_with_its_plain_fields_and_kbgate_links() {
    let (v, text, removed) = render(SAMPLE, &|key| key == "PROJ");
    assert_eq!(removed, 1);
    assert_eq!(v["size"], 1);
    assert_eq!(
        (v["start"].as_u64(), v["limit"].as_u64()),
        (Some(0), Some(5))
    );
    let space = &v["results"][0];
    assert_eq!(space["key"], "PROJ");
    assert_eq!(space["id"], 22222222);
    assert_eq!(space["name"], "Project Space");
    assert_eq!(
        keys_of(space),
        ["id", "key", "alias", "name", "type", "status", "_links"]
            .map(String::from)
            .into()
    );
    assert_eq!(space["_links"]["self"], link("PROJ"));
    assert_eq!(keys_of(&space["_links"]).len(), 1);
    assert_eq!(v["_links"]["self"], LINKS.self_link);
    assert!(v["_links"].get("next").is_none(), "only kbgate's own next");
    for gone in [
        "~user1",
        "User One",
        "11111111",
        "22222223",
        "_expandable",
        "atlassian.net",
    ] {
        assert!(!text.contains(gone), "{gone} in {text}");
    }
}

#[test]
fn a_list_with_no_kept_space_has_size_zero_and_upstream_paging_is_reported() {
    let scan = scan_space_list(SAMPLE.as_bytes()).unwrap();
    assert_eq!(scan.upstream_count(), 2);
    assert!(scan.has_next());
    let (v, text, removed) = render(SAMPLE, &|_| false);
    assert_eq!((v["size"].as_u64(), removed), (Some(0), 2));
    assert_eq!(v["results"].as_array().map(Vec::len), Some(0));
    assert!(!text.contains("PROJ"));
}

#[test]
fn a_single_space_is_reduced_to_its_plain_fields() {
    let body = r#"{"id":"196609","key":"KB","alias":"KB","name":"Customer KB","type":"global",
        "status":"current","homepage":{"id":"100001","title":"secret home"},
        "description":{"plain":{"value":"secret"}},"icon":{"path":"/x.png"},
        "_expandable":{"homepage":"/rest/api/content/100001"},"_links":{"self":"u","webui":"w"}}"#;
    let scan = scan_space(body.as_bytes()).unwrap();
    assert_eq!(scan.key(), "KB");
    let out = render_space(&scan, body.as_bytes(), &link("KB")).unwrap();
    let text = String::from_utf8(out).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        keys_of(&v),
        ["id", "key", "alias", "name", "type", "status", "_links"]
            .map(String::from)
            .into()
    );
    assert_eq!(v["id"], "196609");
    assert_eq!(v["_links"]["self"], link("KB"));
    for gone in ["100001", "secret", "x.png", "\"u\"", "\"w\""] {
        assert!(!text.contains(gone), "{gone} in {text}");
    }
}

#[test]
fn an_escaped_key_is_decided_by_its_decoded_text() {
    let body = r#"{"id":1,"key":"K\u0042"}"#;
    assert_eq!(scan_space(body.as_bytes()).unwrap().key(), "KB");
}

#[test]
fn malformed_spaces_are_refused() {
    for body in [
        r#"{"id":1,"name":"no key"}"#,
        r#"{"id":1,"key":7}"#,
        r#"{"id":{},"key":"KB"}"#,
        r#"{"key":"KB","name":1}"#,
        r#"{"key":"KB","key":"ENG"}"#,
        r#"{"key":"KB"} x"#,
        r#"[]"#,
    ] {
        assert!(scan_space(body.as_bytes()).is_err(), "{body}");
    }
    for body in [
        r#"{"results":[{"name":"no key"}],"start":0,"limit":1}"#,
        r#"{"results":{},"start":0,"limit":1}"#,
        r#"{"results":[],"limit":1}"#,
        r#"{"results":[],"start":0}"#,
        r#"{"results":[],"results":[],"start":0,"limit":1}"#,
        r#"{"results":[],"start":0,"limit":1,"_links":[]}"#,
    ] {
        assert!(scan_space_list(body.as_bytes()).is_err(), "{body}");
    }
}

#[test]
fn a_body_that_is_not_the_scanned_one_is_refused() {
    let scan = scan_space_list(SAMPLE.as_bytes()).unwrap();
    assert!(render_space_list(&scan, b"{}", &|_| true, &link, &LINKS).is_err());
    let scan = scan_space(br#"{"key":"KB"}"#).unwrap();
    assert!(render_space(&scan, b"{}", "x").is_err());
}
