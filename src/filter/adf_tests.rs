//! Tests for the ADF rewriter: URL classification, each node rule, and the simulator's shape.

use serde_json::{json, Value};

use super::*;

fn doc(content: Value) -> String {
    json!({"type": "doc", "version": 1, "content": content}).to_string()
}

fn rewrite(content: Value, visible: &dyn Fn(&str) -> bool) -> (Value, usize) {
    let out = rewrite_adf(&doc(content), "100025", visible).unwrap();
    (serde_json::from_str(&out.body).unwrap(), out.removed)
}

const ACME_URL: &str = "https://site.atlassian.net/wiki/spaces/KB/pages/100005/Acme+VPN+CANARY";
const SHARED_URL: &str = "https://site.atlassian.net/wiki/spaces/KB/pages/100004/Shared";

fn not_acme(id: &str) -> bool {
    id != "100005"
}

#[test]
fn urls_are_resolved_to_content_ids_or_treated_as_unknown() {
    use AdfTarget::*;
    for (url, expected) in [
        (ACME_URL, Content("100005".into())),
        ("/wiki/spaces/KB/pages/42", Content("42".into())),
        ("/spaces/KB/pages/42/Title", Content("42".into())),
        (
            "https://x/wiki/spaces/KB/blog/2024/01/05/100040/Post",
            Content("100040".into()),
        ),
        (
            "https://x/wiki/pages/viewpage.action?pageId=77",
            Content("77".into()),
        ),
        (
            "/wiki/download/attachments/9/f.png?version=1",
            Content("9".into()),
        ),
        ("https://x/wiki/x/AbCd", Unknown),
        ("https://x/wiki/display/KB/Secret+title", Unknown),
        ("https://x/wiki/spaces/ENG/overview", Unknown),
        ("https://x/wiki/pages/viewpage.action?pageId=abc", Unknown),
        ("relative/page", Unknown),
        ("/some/site/path", Unknown),
        ("https://example.com/docs/vpn", External),
        ("https://example.com", External),
        ("mailto:help@example.com", External),
        ("HTTPS://X/WIKI/spaces/KB/pages/5", Content("5".into())),
    ] {
        assert_eq!(classify_url(url), expected, "{url}");
    }
}

#[test]
fn cards_and_linked_text_naming_a_hidden_page_are_removed_whole() {
    let content = json!([{"type": "paragraph", "content": [
        {"type": "inlineCard", "attrs": {"url": ACME_URL, "data": {"name": "CANARY title"}}},
        {"type": "text", "text": " "},
        {"type": "text", "text": "Acme VPN CANARY", "marks": [{"type": "link", "attrs": {"href": ACME_URL}}]},
        {"type": "inlineCard", "attrs": {"url": SHARED_URL, "data": {"name": "resolved"}}},
        {"type": "text", "text": "plain", "marks": [{"type": "strong"}]}
    ]}]);
    let (v, removed) = rewrite(content.clone(), &not_acme);
    let text = v.to_string();
    assert!(
        !text.contains("CANARY") && !text.contains("100005"),
        "{text}"
    );
    assert!(!text.contains("resolved"), "card data is never kept");
    assert_eq!(removed, 2);
    assert_eq!(
        v["content"][0]["content"][1]["attrs"],
        json!({"url": SHARED_URL})
    );
    assert_eq!(v["content"][0]["content"][2]["marks"][0]["type"], "strong");

    let (v, removed) = rewrite(content, &|_| true);
    assert_eq!(removed, 0);
    assert!(
        v.to_string().contains("Acme VPN CANARY"),
        "visible links stay"
    );
}

#[test]
fn listing_macros_and_unknown_nodes_are_removed_and_formatting_kept() {
    let content = json!([
        {"type": "extension", "attrs": {"extensionKey": "children", "extensionType": "com.atlassian.confluence.macro.core"}},
        {"type": "extension", "attrs": {"extensionKey": "include", "parameters": {"macroParams": {"": {"value": "Secret page"}}}}},
        {"type": "inlineExtension", "attrs": {"extensionKey": "contentbylabel"}},
        {"type": "bodiedExtension", "attrs": {"extensionKey": "excerpt-include"}, "content": []},
        {"type": "extension", "attrs": {"extensionKey": "toc"}},
        {"type": "bodiedExtension", "attrs": {"extensionKey": "info"}, "content": [
            {"type": "paragraph", "content": [{"type": "inlineCard", "attrs": {"url": ACME_URL}}]}
        ]},
        {"type": "someFutureNode", "attrs": {"title": "Secret page"}},
        {"type": "heading", "attrs": {"level": 2}, "content": [{"type": "text", "text": "Kept"}]}
    ]);
    let (v, _) = rewrite(content, &not_acme);
    let text = v.to_string();
    assert!(
        !text.contains("Secret page") && !text.contains("children") && !text.contains("100005")
    );
    let kinds: Vec<&str> = v["content"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["extension", "bodiedExtension", "heading"]);
    assert_eq!(v["content"][1]["content"][0]["content"], json!([]));
}

#[test]
fn media_of_other_pages_is_removed_and_empty_wrappers_with_it() {
    let content = json!([
        {"type": "mediaSingle", "content": [{"type": "media", "attrs": {"type": "file", "id": "f1", "collection": "contentId-100005", "alt": "CANARY.png"}}]},
        {"type": "mediaSingle", "content": [{"type": "media", "attrs": {"type": "file", "id": "f2", "collection": "contentId-100025"}}]},
        {"type": "mediaGroup", "content": [
            {"type": "media", "attrs": {"type": "external", "url": "https://x/wiki/download/attachments/100005/CANARY.png"}},
            {"type": "media", "attrs": {"type": "external", "url": "https://cdn.example.com/logo.png"}}
        ]},
        {"type": "mediaSingle", "marks": [{"type": "link", "attrs": {"href": ACME_URL}}], "content": [
            {"type": "media", "attrs": {"type": "file", "id": "f3", "collection": "contentId-100025"}}
        ]}
    ]);
    let (v, _) = rewrite(content, &not_acme);
    let text = v.to_string();
    assert!(
        !text.contains("CANARY") && !text.contains("100005"),
        "{text}"
    );
    let nodes = v["content"].as_array().unwrap();
    assert_eq!(nodes.len(), 2);
    assert_eq!(nodes[0]["content"][0]["attrs"]["id"], "f2");
    assert_eq!(nodes[1]["content"].as_array().unwrap().len(), 1);
}

#[test]
fn scanning_lists_every_id_the_urls_name_once() {
    let body = doc(json!([{"type": "paragraph", "content": [
        {"type": "inlineCard", "attrs": {"url": ACME_URL}},
        {"type": "text", "text": "x", "marks": [{"type": "link", "attrs": {"href": ACME_URL}}]},
        {"type": "blockCard", "attrs": {"url": SHARED_URL}},
        {"type": "inlineCard", "attrs": {"url": "https://example.com"}}
    ]}]));
    assert_eq!(scan_adf(&body, "1").unwrap(), ["100005", "100004"]);
}

#[test]
fn malformed_or_oversized_documents_are_refused() {
    assert_eq!(
        rewrite_adf("not json", "1", &|_| true),
        Err(AdfError::Syntax)
    );
    assert_eq!(
        rewrite_adf("{\"type\":\"paragraph\"}", "1", &|_| true),
        Err(AdfError::NotDocument)
    );
    assert_eq!(
        rewrite_adf("{\"type\":\"doc\"}", "1", &|_| true),
        Err(AdfError::NotDocument)
    );
    let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
    assert_eq!(rewrite_adf(&deep, "1", &|_| true), Err(AdfError::Syntax));
    let big = format!(
        "{{\"type\":\"doc\",\"content\":[],\"x\":\"{}\"}}",
        "a".repeat(MAX_ADF_BYTES)
    );
    assert_eq!(rewrite_adf(&big, "1", &|_| true), Err(AdfError::TooLarge));
}
