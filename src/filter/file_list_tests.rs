use super::*;

const LINKS: SearchLinks<'static> = SearchLinks {
    base: "https://kb.example.com/wiki",
    self_link: "https://kb.example.com/wiki/rest/api/content/76513281/child/attachment",
    next_link: None,
};

fn page(id: &str) -> ContentId {
    ContentId::new(id).unwrap()
}

fn download(name: &str) -> String {
    format!("https://kb.example.com/wiki/download/attachments/76513281/{name}")
}

/// The `attachment` list inside the real `child?expand=attachment` sample.
fn attachment_list() -> String {
    let v: serde_json::Value = serde_json::from_str(include_str!(
        "testdata/cloud-v1-content-child-attachment-expanded.json"
    ))
    .unwrap();
    v["attachment"].to_string()
}

fn render(body: &str, kind: FileKind, id: &str) -> (FileListScan, serde_json::Value) {
    let scan = scan_file_list(body.as_bytes(), kind, &page(id)).unwrap();
    let out = render_file_list(&scan, body.as_bytes(), &LINKS, &download).unwrap();
    (scan, serde_json::from_slice(&out).unwrap())
}

#[test]
fn the_sample_attachments_keep_their_plain_fields_and_get_kbgate_download_links() {
    let body = attachment_list();
    let (scan, v) = render(&body, FileKind::Attachment, "76513281");
    assert_eq!(scan.removed(), 0);
    let first = &v["results"][0];
    assert_eq!(first["title"], "mock-00.png");
    assert_eq!(first["type"], "attachment");
    assert_eq!(first["extensions"]["fileSize"], 160955);
    assert_eq!(first["metadata"]["mediaType"], "image/png");
    assert!(first["extensions"].get("collectionName").is_none());
    assert_eq!(
        first["_links"]["download"],
        download("mock-00.png").as_str()
    );
    assert_eq!(first.as_object().unwrap().len(), 7, "{first}");
    assert_eq!(v["size"], v["results"].as_array().unwrap().len());
    let text = v.to_string();
    assert!(
        !text.contains("ctreminiom") && !text.contains("_expandable"),
        "{text}"
    );
    assert_eq!(v["_links"]["self"], LINKS.self_link);
}

#[test]
fn attachments_of_another_page_are_removed_and_counted() {
    let body = attachment_list();
    let (scan, v) = render(&body, FileKind::Attachment, "999");
    assert_eq!(scan.removed(), scan.upstream_count());
    assert!(scan.upstream_count() > 0);
    assert_eq!(v["size"], 0);
    // A prefix of the page id is not the page.
    assert!(!download_belongs_to(
        "/download/attachments/7651328100/x",
        &page("76513281")
    ));
    assert!(download_belongs_to(
        "/download/attachments/76513281/x",
        &page("76513281")
    ));
}

#[test]
fn comments_keep_title_and_location_and_must_name_their_page() {
    let body = include_str!("testdata/cloud-v1-content-child-comment.json");
    let (scan, v) = render(body, FileKind::Comment, "123456789");
    assert_eq!((scan.upstream_count(), scan.removed()), (1, 0));
    let c = &v["results"][0];
    assert_eq!(c["title"], "Re: Technical Design Document");
    assert!(c.get("body").is_none() && c.get("version").is_none() && c.get("_links").is_none());
    let (_, other) = render(body, FileKind::Comment, "1");
    assert_eq!(other["size"], 0);
    // A comment list is not an attachment list.
    let (_, as_attachments) = render(body, FileKind::Attachment, "123456789");
    assert_eq!(as_attachments["size"], 0);
}

#[test]
fn malformed_lists_are_refused() {
    for body in [
        r#"{"results":{}}"#,
        r#"{"start":0}"#,
        r#"{"results":[1]}"#,
        r#"{"results":[{"id":1}]}"#,
        r#"{"results":[{"id":"1","id":"2"}]}"#,
        r#"{"results":[{"id":"1","extensions":{"fileSize":{}}}]}"#,
        r#"{"results":[]} x"#,
    ] {
        assert!(
            scan_file_list(body.as_bytes(), FileKind::Attachment, &page("1")).is_err(),
            "{body}"
        );
    }
}
