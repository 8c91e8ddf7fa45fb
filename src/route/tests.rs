//! Tests for the route table: a table of hostile paths and queries (threats.md H3, H6, H7),
//! and properties of the canonicalizer.

use http::{Method, Uri};
use proptest::prelude::*;

use super::*;

/// Classifies `target` and names the outcome: the route name, or the error's reason.
fn outcome(method: &str, target: &str) -> String {
    let method = Method::from_bytes(method.as_bytes()).expect("test method");
    let uri: Uri = target
        .parse()
        .unwrap_or_else(|e| panic!("test target {target:?}: {e}"));
    match classify(&method, &uri) {
        Ok(route) => route.name().to_owned(),
        Err(e) => e.reason().to_owned(),
    }
}

const S: &str = "/wiki/rest/api/search";
const C: &str = "/wiki/rest/api/content/123";

/// (method, request target, expected route name or error reason).
const CASES: &[(&str, &str, &str)] = &[
    // The two routes, plainly.
    ("GET", "/wiki/rest/api/search?cql=type%3Dpage", "search"),
    ("HEAD", "/wiki/rest/api/search?cql=type%3Dpage", "search"),
    ("GET", "/wiki/rest/api/content/123", "content"),
    ("GET", "/wiki/rest/api/content/98765432109876543210", "content"),
    ("GET", "/wiki/rest/api/c%6Fntent/123", "content"),
    // Methods (H6).
    ("POST", "/wiki/rest/api/search?cql=x", "method_not_allowed"),
    ("get", "/wiki/rest/api/search?cql=x", "method_not_allowed"),
    ("PUT", "/wiki/rest/api/content/123", "method_not_allowed"),
    ("DELETE", "/wiki/rest/api/content/123", "method_not_allowed"),
    ("PATCH", "/wiki/rest/api/content/123", "method_not_allowed"),
    ("OPTIONS", "/wiki/rest/api/content/123", "method_not_allowed"),
    ("TRACE", "/wiki/rest/api/content/123", "method_not_allowed"),
    ("PROPFIND", "/wiki/rest/api/content/123", "method_not_allowed"),
    ("POST", "/nowhere", "method_not_allowed"),
    // Dot segments in every spelling (H3).
    ("GET", "/wiki/rest/api/%2e%2e/admin", "path_dot_segment"),
    ("GET", "/wiki/rest/api/%2E%2e/admin", "path_dot_segment"),
    ("GET", "/wiki/rest/api/../api/search?cql=x", "path_dot_segment"),
    ("GET", "/wiki/./rest/api/search?cql=x", "path_dot_segment"),
    ("GET", "/wiki/rest/api/%2e/search?cql=x", "path_dot_segment"),
    ("GET", "/wiki/rest/api/.%2e/search", "path_dot_segment"),
    ("GET", "/wiki/rest/api/search/.", "path_dot_segment"),
    // Double encoding.
    ("GET", "/wiki/rest/api/%252e%252e/admin", "path_double_encoding"),
    ("GET", "/wiki/rest/api/%252Fsearch", "path_double_encoding"),
    ("GET", "/wiki/rest/api/content/%2531", "path_double_encoding"),
    // Encoded separators.
    ("GET", "/wiki/rest/api/..%2fadmin", "path_encoded_slash"),
    ("GET", "/wiki/rest/api%2Fsearch", "path_encoded_slash"),
    ("GET", "/wiki/rest%2fapi/search", "path_encoded_slash"),
    ("GET", "/wiki/rest/api/%5Csearch", "path_backslash"),
    ("GET", "/wiki/rest/api/content/123%5c", "path_backslash"),
    ("GET", "/wiki/rest/api/content/123%00", "path_encoded_nul"),
    ("GET", "/wiki/rest/api/search%00.json", "path_encoded_nul"),
    ("GET", "/wiki/rest/api/content/123%0a", "path_control_char"),
    ("GET", "/wiki/rest/api/search%3Fcql=x", "path_query_or_fragment"),
    ("GET", "/wiki/rest/api/search%23frag", "path_query_or_fragment"),
    // Empty segments and trailing slashes.
    ("GET", "//wiki/rest/api/search?cql=x", "path_empty_segment"),
    ("GET", "/wiki//rest/api/search?cql=x", "path_empty_segment"),
    ("GET", "/wiki///rest/api/search?cql=x", "path_empty_segment"),
    ("GET", "/wiki/rest/api/search/?cql=x", "path_empty_segment"),
    ("GET", "/wiki/rest/api/content/123/", "path_empty_segment"),
    // Tomcat path parameters.
    ("GET", "/wiki/rest/api/content/123;jsessionid=x", "path_semicolon"),
    ("GET", "/wiki/rest/api/..;/admin", "path_semicolon"),
    ("GET", "/wiki;x=1/rest/api/search", "path_semicolon"),
    ("GET", "/wiki/rest/api/content/123%3Bx", "path_semicolon"),
    // Malformed escapes, overlong and non-ASCII forms.
    ("GET", "/wiki/rest/api/%zzsearch", "path_bad_percent"),
    ("GET", "/wiki/rest/api/search%2", "path_bad_percent"),
    ("GET", "/wiki/rest/api/%c0%af", "path_not_utf8"),
    ("GET", "/wiki/rest/api/%c0%ae%c0%ae/admin", "path_not_utf8"),
    ("GET", "/wiki/rest/api/%ff", "path_not_utf8"),
    ("GET", "/wiki/rest/api%EF%BC%8Fsearch", "path_non_ascii"),
    ("GET", "/wiki/rest/api/caf%C3%A9", "path_non_ascii"),
    // Case and shape of the route table.
    ("GET", "/WIKI/rest/api/search?cql=x", "not_found"),
    ("GET", "/wiki/Rest/API/search?cql=x", "not_found"),
    ("GET", "/wiki/rest/api/Search?cql=x", "not_found"),
    ("GET", "/wiki/rest/api/search.?cql=x", "not_found"),
    ("GET", "/rest/api/search?cql=x", "not_found"),
    ("GET", "/", "not_found"),
    ("GET", "/wiki/rest/api/content/123abc", "not_found"),
    ("GET", "/wiki/rest/api/content/-1", "not_found"),
    ("GET", "/wiki/rest/api/content/123456789012345678901", "not_found"),
    ("GET", "/wiki/rest/api/content/123/child", "child_map"),
    ("GET", "/wiki/rest/api/content/123/child/blogpost", "not_found"),
    ("GET", "/wiki/rest/api/content/123/child/attachment", "child_attachments"),
    ("GET", "/wiki/rest/api/content/123/child/attachment/att1", "not_found"),
    ("GET", "/wiki/rest/api/content/123/child/attachment/att1/download", "attachment_download"),
    ("GET", "/wiki/rest/api/content/123/child/attachment/..att/download", "not_found"),
    ("GET", "/wiki/download/attachments/123/a%20b.png?version=2", "download"),
    ("GET", "/wiki/download/attachments/123/a.png?token=x", "query_unknown_parameter"),
    ("GET", "/wiki/download/attachments/abc/a.png", "not_found"),
    ("GET", "/wiki/rest/api/content/123/child/Page", "not_found"),
    ("GET", "/wiki/rest/api/content/123/descendant/comment", "not_found"),
    ("GET", "/wiki/rest/api/content/123/labels", "not_found"),
    ("GET", "/wiki/rest/api/content/12a/label", "not_found"),
    ("GET", "/wiki/rest/api/content/search/child/page", "not_found"),
    ("GET", "/wiki/rest/api/content/123/descendant", "descendant_map"),
    ("GET", "/wiki/rest/api/content/123/descendant?expand=comment", "query_bad_value"),
    ("GET", "/wiki/rest/api/content/search/x?cql=x", "not_found"),
    ("GET", "/wiki/rest/api/content/Search?cql=x", "not_found"),
    ("GET", "/wiki/rest/api/Content?spaceKey=KB", "not_found"),
    ("GET", "/wiki/rest/api/space/KB/content", "space_content"),
    ("GET", "/wiki/rest/api/space/KB/content/comment", "not_found"),
    ("GET", "/wiki/api/v2/pages/123", "v2_page"),
    ("GET", "/wiki/rest/api/label?name=org-acme", "not_found"),
    ("GET", "/wiki/rest/api/content/123/pdfexport", "not_found"),
    ("GET", "*", "path_not_absolute"),
    // Search queries.
    ("GET", S, "query_missing_parameter"),
    ("GET", "/wiki/rest/api/search?cql=", "query_bad_value"),
    ("GET", "/wiki/rest/api/search?cql=+", "query_bad_value"),
    ("GET", "/wiki/rest/api/search?cql=a&cql=b", "query_duplicate_parameter"),
    ("GET", "/wiki/rest/api/search?cql=a&cqlcontext=%7B%7D", "query_unknown_parameter"),
    ("GET", "/wiki/rest/api/search?cql=a&includeArchivedSpaces=true", "query_unknown_parameter"),
    ("GET", "/wiki/rest/api/search?cql=a&_method=DELETE", "query_unknown_parameter"),
    ("GET", "/wiki/rest/api/search?cql=a&access_token=x", "query_unknown_parameter"),
    ("GET", "/wiki/rest/api/search?cql=a&cursor=abc", "query_unknown_parameter"),
    ("GET", "/wiki/rest/api/search?cql=a&CQL=b", "query_unknown_parameter"),
    ("GET", "/wiki/rest/api/search?cql=a&&limit=5", "query_unknown_parameter"),
    ("GET", "/wiki/rest/api/search?cql=a&limit=0", "query_bad_value"),
    ("GET", "/wiki/rest/api/search?cql=a&limit=101", "query_bad_value"),
    ("GET", "/wiki/rest/api/search?cql=a&limit=%2B5", "query_bad_value"),
    ("GET", "/wiki/rest/api/search?cql=a&start=-1", "query_bad_value"),
    ("GET", "/wiki/rest/api/search?cql=a&start=100001", "query_bad_value"),
    ("GET", "/wiki/rest/api/search?cql=a&start=99999999999999", "query_bad_value"),
    ("GET", "/wiki/rest/api/search?cql=a&excerpt=indexed", "query_bad_value"),
    ("GET", "/wiki/rest/api/search?cql=a&expand=content.body.view", "query_rendered_format"),
    ("GET", "/wiki/rest/api/search?cql=a&expand=content.body.export_view", "query_rendered_format"),
    ("GET", "/wiki/rest/api/search?cql=a&expand=content.children", "query_bad_value"),
    ("GET", "/wiki/rest/api/search?cql=a&expand=content.descendants", "query_bad_value"),
    ("GET", "/wiki/rest/api/search?cql=a&expand=content.body.storage", "query_bad_value"),
    ("GET", "/wiki/rest/api/search?cql=a&expand=content.space,", "query_bad_value"),
    ("GET", "/wiki/rest/api/search?cql=a&expand=content.space,content.space", "query_bad_value"),
    ("GET", "/wiki/rest/api/search?cql=a&expand=content.space&expand=content.version", "query_duplicate_parameter"),
    ("GET", "/wiki/rest/api/search?cql=%ff", "query_not_utf8"),
    ("GET", "/wiki/rest/api/search?cql=%c0%af", "query_not_utf8"),
    ("GET", "/wiki/rest/api/search?cql=a%zz", "query_bad_escape"),
    ("GET", "/wiki/rest/api/search?cql=a%00", "query_bad_value"),
    ("GET", "/wiki/rest/api/search?cql=a&limit=5&start=10&excerpt=none&expand=content.space", "search"),
    // Content queries.
    ("GET", "/wiki/rest/api/content/123?expand=body.view", "query_rendered_format"),
    ("GET", "/wiki/rest/api/content/123?expand=body.export_view", "query_rendered_format"),
    ("GET", "/wiki/rest/api/content/123?expand=body.styled_view", "query_rendered_format"),
    ("GET", "/wiki/rest/api/content/123?expand=body.anonymous_export_view", "query_rendered_format"),
    ("GET", "/wiki/rest/api/content/123?expand=body.editor", "query_rendered_format"),
    ("GET", "/wiki/rest/api/content/123?expand=body.atlas_doc_format", "query_rendered_format"),
    ("GET", "/wiki/rest/api/content/123?expand=body.view.value", "query_rendered_format"),
    ("GET", "/wiki/rest/api/content/123?expand=space,body.storage%2Cbody.view", "query_rendered_format"),
    ("GET", "/wiki/rest/api/content/123?expand=children.page", "content"),
    ("GET", "/wiki/rest/api/content/123?expand=children.page.space", "query_bad_value"),
    ("GET", "/wiki/rest/api/content/123?expand=space.homepage", "content"),
    ("GET", "/wiki/rest/api/content/123?expand=space.homepage.body.storage", "query_bad_value"),
    ("GET", "/wiki/rest/api/content/123?expand=history", "content"),
    ("GET", "/wiki/rest/api/content/123?expand=history.contributors", "query_bad_value"),
    ("GET", "/wiki/rest/api/content/123?status=draft", "query_bad_value"),
    ("GET", "/wiki/rest/api/content/123?status=current&status=current", "query_duplicate_parameter"),
    ("GET", "/wiki/rest/api/content/123?version=3", "query_unknown_parameter"),
    ("GET", "/wiki/rest/api/content/123?cql=x", "query_unknown_parameter"),
    ("GET", "/wiki/rest/api/content/123?expand=body.storage,space,version,ancestors,metadata.labels&status=current", "content"),
    // Content search.
    ("GET", "/wiki/rest/api/content/search?cql=space%3DKB", "content_search"),
    ("HEAD", "/wiki/rest/api/content/search?cql=x&start=5&limit=100&expand=space,metadata.labels,ancestors,version", "content_search"),
    ("GET", "/wiki/rest/api/content/search", "query_missing_parameter"),
    ("GET", "/wiki/rest/api/content/search?cql=", "query_bad_value"),
    ("GET", "/wiki/rest/api/content/search?cql=a&cql=b", "query_duplicate_parameter"),
    ("GET", "/wiki/rest/api/content/search?cql=a&cursor=abc", "query_unknown_parameter"),
    ("GET", "/wiki/rest/api/content/search?cql=a&cqlcontext=%7B%7D", "query_unknown_parameter"),
    ("GET", "/wiki/rest/api/content/search?cql=a&excerpt=none", "query_unknown_parameter"),
    ("GET", "/wiki/rest/api/content/search?cql=a&limit=0", "query_bad_value"),
    ("GET", "/wiki/rest/api/content/search?cql=a&limit=101", "query_bad_value"),
    ("GET", "/wiki/rest/api/content/search?cql=a&start=100001", "query_bad_value"),
    ("GET", "/wiki/rest/api/content/search?cql=a&limit=5&limit=6", "query_duplicate_parameter"),
    ("GET", "/wiki/rest/api/content/search?cql=a&expand=body.view", "query_rendered_format"),
    ("GET", "/wiki/rest/api/content/search?cql=a&expand=body.export_view.value", "query_rendered_format"),
    ("GET", "/wiki/rest/api/content/search?cql=a&expand=body.storage", "query_bad_value"),
    ("GET", "/wiki/rest/api/content/search?cql=a&expand=children.page", "query_bad_value"),
    ("GET", "/wiki/rest/api/content/search?cql=a&expand=space.homepage", "query_bad_value"),
    ("GET", "/wiki/rest/api/content/search?cql=a&expand=history", "query_bad_value"),
    ("GET", "/wiki/rest/api/content/search?cql=a&expand=content.space", "query_bad_value"),
    ("GET", "/wiki/rest/api/content/search?cql=a&expand=space,space", "query_bad_value"),
    // The content listing.
    ("GET", "/wiki/rest/api/content", "content_list"),
    ("GET", "/wiki/rest/api/content?spaceKey=KB&type=page", "content_list"),
    ("GET", "/wiki/rest/api/content?spaceKey=KB&type=blogpost&title=How+to&start=0&limit=1&expand=version", "content_list"),
    ("GET", "/wiki/rest/api/content?spaceKey=K%20B", "query_bad_value"),
    ("GET", "/wiki/rest/api/content?spaceKey=KB%22", "query_bad_value"),
    ("GET", "/wiki/rest/api/content?spaceKey=", "query_bad_value"),
    ("GET", "/wiki/rest/api/content?spaceKey=KB&spaceKey=ENG", "query_duplicate_parameter"),
    ("GET", "/wiki/rest/api/content?type=attachment", "query_bad_value"),
    ("GET", "/wiki/rest/api/content?type=comment", "query_bad_value"),
    ("GET", "/wiki/rest/api/content?type=Page", "query_bad_value"),
    ("GET", "/wiki/rest/api/content?title=", "query_bad_value"),
    ("GET", "/wiki/rest/api/content?title=a&title=b", "query_duplicate_parameter"),
    ("GET", "/wiki/rest/api/content?status=trashed", "query_unknown_parameter"),
    ("GET", "/wiki/rest/api/content?postingDay=2024-01-01", "query_unknown_parameter"),
    ("GET", "/wiki/rest/api/content?orderby=title", "query_unknown_parameter"),
    ("GET", "/wiki/rest/api/content?trigger=viewed", "query_unknown_parameter"),
    ("GET", "/wiki/rest/api/content?cql=x", "query_unknown_parameter"),
    ("GET", "/wiki/rest/api/content?expand=body.styled_view", "query_rendered_format"),
    ("GET", "/wiki/rest/api/content?expand=body.storage", "query_bad_value"),
    ("GET", "/wiki/rest/api/content?expand=children.page", "query_bad_value"),
    ("GET", "/wiki/rest/api/content?limit=101", "query_bad_value"),
    // A page's children, descendants and labels.
    ("GET", "/wiki/rest/api/content/123/child/page", "child_pages"),
    ("HEAD", "/wiki/rest/api/content/123/child/page?start=2&limit=100&expand=space,metadata.labels,ancestors,version", "child_pages"),
    ("GET", "/wiki/rest/api/content/123/child/p%61ge", "child_pages"),
    ("GET", "/wiki/rest/api/content/123/child/page?parentVersion=1", "query_unknown_parameter"),
    ("GET", "/wiki/rest/api/content/123/child/page?cql=x", "query_unknown_parameter"),
    ("GET", "/wiki/rest/api/content/123/child/page?expand=body.view", "query_rendered_format"),
    ("GET", "/wiki/rest/api/content/123/child/page?expand=body.storage", "query_bad_value"),
    ("GET", "/wiki/rest/api/content/123/child/page?expand=children.page", "query_bad_value"),
    ("GET", "/wiki/rest/api/content/123/child/page?limit=101", "query_bad_value"),
    ("GET", "/wiki/rest/api/content/123/child/page?start=1&start=2", "query_duplicate_parameter"),
    ("GET", "/wiki/rest/api/content/123/descendant/page", "descendant_pages"),
    ("GET", "/wiki/rest/api/content/123/descendant/page?limit=1&expand=version", "descendant_pages"),
    ("GET", "/wiki/rest/api/content/123/descendant/page?expand=body.export_view", "query_rendered_format"),
    ("GET", "/wiki/rest/api/content/123/descendant/page?depth=all", "query_unknown_parameter"),
    ("GET", "/wiki/rest/api/content/123/label", "labels"),
    ("HEAD", "/wiki/rest/api/content/123/label?start=0&limit=200", "labels"),
    ("GET", "/wiki/rest/api/content/123/label?limit=201", "query_bad_value"),
    ("GET", "/wiki/rest/api/content/123/label?limit=0", "query_bad_value"),
    ("GET", "/wiki/rest/api/content/123/label?prefix=global", "query_unknown_parameter"),
    ("GET", "/wiki/rest/api/content/123/label?expand=space", "query_unknown_parameter"),
    ("GET", "/wiki/rest/api/content/123/label?name=org-acme", "query_unknown_parameter"),
    // Spaces: paging only for the list, nothing at all for one space; no expansions.
    ("GET", "/wiki/rest/api/space", "spaces"),
    ("HEAD", "/wiki/rest/api/space?start=5&limit=100", "spaces"),
    ("GET", "/wiki/rest/api/space?limit=0", "query_bad_value"),
    ("GET", "/wiki/rest/api/space?limit=101", "query_bad_value"),
    ("GET", "/wiki/rest/api/space?start=1&start=1", "query_duplicate_parameter"),
    ("GET", "/wiki/rest/api/space?expand=homepage", "query_unknown_parameter"),
    ("GET", "/wiki/rest/api/space?spaceKey=ENG", "query_unknown_parameter"),
    ("GET", "/wiki/rest/api/space?type=personal", "query_unknown_parameter"),
    ("GET", "/wiki/rest/api/space/KB", "space"),
    ("HEAD", "/wiki/rest/api/space/~user1", "space"),
    ("GET", "/wiki/rest/api/space/KB?", "space"),
    ("GET", "/wiki/rest/api/space/KB?expand=description.plain", "query_unknown_parameter"),
    ("GET", "/wiki/rest/api/space/KB?start=0", "query_unknown_parameter"),
    ("GET", "/wiki/rest/api/space/K-B", "not_found"),
    ("GET", "/wiki/rest/api/space/K%22B", "not_found"),
    ("GET", "/wiki/rest/api/space/KB/content", "space_content"),
    ("GET", "/wiki/rest/api/space/KB/content/comment", "not_found"),
    ("POST", "/wiki/rest/api/space", "method_not_allowed"),
];

#[test]
fn every_hostile_path_and_query_gets_its_expected_answer() {
    let mut failures = Vec::new();
    for (method, target, expected) in CASES {
        let got = outcome(method, target);
        if got != *expected {
            failures.push(format!("{method} {target}: expected {expected}, got {got}"));
        }
    }
    assert!(CASES.len() >= 60);
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Raw bytes that hyper may hand over but that cannot be written as a `Uri` literal here.
#[test]
fn raw_bytes_the_uri_parser_might_pass_are_refused_by_the_canonicalizer() {
    let cases: &[(&str, PathError)] = &[
        ("/wiki\\rest/api/search", PathError::Backslash),
        ("/wiki/rest/api/search\\..\\admin", PathError::Backslash),
        ("/wiki/rest/api／search", PathError::NonAscii),
        ("/wiki/rest/api/café", PathError::NonAscii),
        ("/wiki/rest/api/search?x", PathError::QueryOrFragment),
        ("/wiki/rest/api/search#x", PathError::QueryOrFragment),
        ("/wiki/rest/api/sea rch", PathError::InvalidChar),
        ("/wiki/rest/api/{x}", PathError::InvalidChar),
        ("/wiki/rest/api/search\t", PathError::ControlChar),
        ("/wiki/rest/api/search\0", PathError::ControlChar),
        ("wiki/rest/api/search", PathError::NotAbsolute),
        ("", PathError::NotAbsolute),
    ];
    for (raw, expected) in cases {
        assert_eq!(canonicalize(raw), Err(*expected), "{raw:?}");
    }
}

#[test]
fn limits_on_path_length_segment_count_and_query_length_hold() {
    let long = format!("/{}", "a".repeat(MAX_PATH_BYTES));
    assert_eq!(canonicalize(&long), Err(PathError::TooLong));
    let at_limit = format!("/{}", "a".repeat(MAX_PATH_BYTES - 1));
    assert!(canonicalize(&at_limit).is_ok());
    let many = "/a".repeat(MAX_SEGMENTS + 1);
    assert_eq!(canonicalize(&many), Err(PathError::TooManySegments));
    assert_eq!(
        canonicalize(&"/a".repeat(MAX_SEGMENTS)).map(|p| p.segments().len()),
        Ok(MAX_SEGMENTS)
    );
    let query = format!("{S}?cql={}", "a".repeat(MAX_QUERY_BYTES));
    assert_eq!(outcome("GET", &query), "query_too_long");
    let many_params = format!("{S}?{}", "x=1&".repeat(2000));
    assert_eq!(outcome("GET", &many_params), "query_too_long");
}

#[test]
fn search_parameters_are_decoded_once_with_defaults() {
    let uri: Uri = "/wiki/rest/api/search?cql=type%3Dpage+and+text~%22%2525%22"
        .parse()
        .unwrap();
    let Ok(Route::Search(q)) = classify(&Method::GET, &uri) else {
        panic!("not a search")
    };
    assert_eq!(q.cql, "type=page and text~\"%25\"");
    assert_eq!(
        (q.start, q.limit, q.excerpt),
        (0, DEFAULT_LIMIT, Excerpt::Highlight)
    );
    assert!(q.expand.is_empty());

    let uri: Uri = "/wiki/rest/api/search?expand=content.version,content.space&limit=100&start=100000&excerpt=none&cql=x"
        .parse()
        .unwrap();
    let Ok(Route::Search(q)) = classify(&Method::HEAD, &uri) else {
        panic!("not a search")
    };
    assert_eq!((q.start, q.limit, q.excerpt), (100_000, 100, Excerpt::None));
    assert_eq!(
        q.expand,
        vec![SearchExpand::ContentVersion, SearchExpand::ContentSpace]
    );
    let wires: Vec<_> = q.expand.iter().map(SearchExpand::wire).collect();
    assert_eq!(wires, ["content.version", "content.space"]);
}

#[test]
fn content_route_carries_the_numeric_id_and_expansions() {
    let uri: Uri = "/wiki/rest/api/content/0042?expand=metadata.labels,body.storage"
        .parse()
        .unwrap();
    let Ok(Route::Content(q)) = classify(&Method::GET, &uri) else {
        panic!("not content")
    };
    assert_eq!(q.id.as_str(), "0042");
    assert_eq!(
        q.expand,
        vec![ContentExpand::MetadataLabels, ContentExpand::BodyStorage]
    );
    assert_eq!(
        q.expand.iter().map(ContentExpand::wire).collect::<Vec<_>>(),
        ["metadata.labels", "body.storage"]
    );
}

#[test]
fn list_routes_carry_their_typed_parameters_with_defaults() {
    let uri: Uri = "/wiki/rest/api/content/search?cql=label+%3D+vpn&expand=version,space"
        .parse()
        .unwrap();
    let Ok(Route::ContentSearch(q)) = classify(&Method::GET, &uri) else {
        panic!("not a content search")
    };
    assert_eq!(q.cql, "label = vpn");
    assert_eq!((q.start, q.limit), (0, DEFAULT_LIMIT));
    assert_eq!(q.expand, vec![ListExpand::Version, ListExpand::Space]);

    let uri: Uri = "/wiki/rest/api/content?title=A+%22quoted%22+title&spaceKey=KB&start=3&limit=7"
        .parse()
        .unwrap();
    let Ok(Route::ContentList(q)) = classify(&Method::GET, &uri) else {
        panic!("not a listing")
    };
    assert_eq!(q.space_key.as_ref().map(SpaceKey::as_str), Some("KB"));
    assert_eq!(q.kind, ListType::Page, "type defaults to page");
    assert_eq!(q.title.as_deref(), Some("A \"quoted\" title"));
    assert_eq!((q.start, q.limit), (3, 7));
    assert!(q.expand.is_empty());

    let Ok(Route::ContentList(bare)) =
        classify(&Method::GET, &"/wiki/rest/api/content".parse().unwrap())
    else {
        panic!("not a listing")
    };
    assert_eq!((bare.space_key, bare.title), (None, None));
}

#[test]
fn page_tree_and_label_routes_carry_the_id_and_their_parameters() {
    let uri: Uri = "/wiki/rest/api/content/4711/child/page?limit=7&expand=version"
        .parse()
        .unwrap();
    let Ok(Route::ChildPages(q)) = classify(&Method::GET, &uri) else {
        panic!("not child pages")
    };
    assert_eq!(q.id.as_str(), "4711");
    assert_eq!((q.start, q.limit), (0, 7));
    assert_eq!(q.expand, vec![ListExpand::Version]);

    let uri: Uri = "/wiki/rest/api/content/42/descendant/page".parse().unwrap();
    let Ok(Route::DescendantPages(q)) = classify(&Method::GET, &uri) else {
        panic!("not descendant pages")
    };
    assert_eq!((q.id.as_str(), q.start, q.limit), ("42", 0, DEFAULT_LIMIT));
    assert!(q.expand.is_empty());

    let uri: Uri = "/wiki/rest/api/content/42/label?start=3".parse().unwrap();
    let Ok(Route::Labels(q)) = classify(&Method::GET, &uri) else {
        panic!("not labels")
    };
    assert_eq!((q.id.as_str(), q.start, q.limit), ("42", 3, None));
    let uri: Uri = "/wiki/rest/api/content/42/label?limit=200".parse().unwrap();
    let Ok(Route::Labels(q)) = classify(&Method::GET, &uri) else {
        panic!("not labels")
    };
    assert_eq!(q.limit, Some(MAX_LABEL_LIMIT));
}

#[test]
fn space_routes_carry_their_paging_and_key() {
    let uri: Uri = "/wiki/rest/api/space?start=4".parse().unwrap();
    assert_eq!(
        classify(&Method::GET, &uri),
        Ok(Route::Spaces(SpacesQuery {
            start: 4,
            limit: DEFAULT_LIMIT
        }))
    );
    let uri: Uri = "/wiki/rest/api/space/KB".parse().unwrap();
    let Ok(Route::Space(q)) = classify(&Method::GET, &uri) else {
        panic!("not a space")
    };
    assert_eq!(q.key.as_str(), "KB");
}

#[test]
fn list_routes_refuse_rendered_formats_by_name() {
    for target in [
        "/wiki/rest/api/content/search?cql=x&expand=body.anonymous_export_view",
        "/wiki/rest/api/content?expand=space,body.anonymous_export_view",
    ] {
        assert_eq!(
            classify(&Method::GET, &target.parse().unwrap()),
            Err(RouteError::BadQuery(QueryError::RenderedFormat(
                "body.anonymous_export_view"
            ))),
            "{target}"
        );
    }
}

#[test]
fn unknown_parameter_names_are_reported_truncated() {
    let uri: Uri = format!("{C}?{}=1", "n".repeat(500)).parse().unwrap();
    match classify(&Method::GET, &uri) {
        Err(RouteError::BadQuery(QueryError::UnknownParameter(name))) => assert_eq!(name.len(), 64),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn rendered_format_errors_name_the_format() {
    let uri: Uri = "/wiki/rest/api/search?cql=x&expand=content.body.styled_view"
        .parse()
        .unwrap();
    assert_eq!(
        classify(&Method::GET, &uri),
        Err(RouteError::BadQuery(QueryError::RenderedFormat(
            "body.styled_view"
        )))
    );
}

#[test]
fn canonical_display_re_encodes_everything_outside_unreserved() {
    let path = canonicalize("/a%20b/c%2Bd/~x_y-z.w/%41").unwrap();
    assert_eq!(path.segments(), ["a b", "c+d", "~x_y-z.w", "A"]);
    assert_eq!(path.to_string(), "/a%20b/c%2Bd/~x_y-z.w/A");
    assert_eq!(canonicalize("/").unwrap().to_string(), "/");
    assert!(canonicalize("/").unwrap().segments().is_empty());
}

/// Characters that make the generated paths interesting for the canonicalizer.
fn raw_path() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "/",
        "/",
        "a",
        "b",
        "1",
        ".",
        "..",
        "%",
        "%2",
        "%2e",
        "%2E",
        "%2f",
        "%2F",
        "%5c",
        "%25",
        "%00",
        "%3b",
        ";",
        "\\",
        "%c0%af",
        "%41",
        "%20",
        "+",
        "~",
        "-",
        "_",
        "?",
        "#",
        "é",
        "／",
        "%ef%bc%8f",
        "\t",
        ":",
        "@",
        "=",
        "&",
        "%7e",
        "%2525",
    ]);
    prop::collection::vec(pieces, 0..24).prop_map(|v| v.concat())
}

fn check_invariants(path: &CanonicalPath) {
    for segment in path.segments() {
        assert!(!segment.is_empty(), "empty segment in {path:?}");
        assert!(segment != "." && segment != "..", "dot segment in {path:?}");
        for forbidden in ['/', '\\', '%', ';', '\0', '?', '#'] {
            assert!(!segment.contains(forbidden), "{forbidden:?} in {path:?}");
        }
        assert!(
            segment.is_ascii() && !segment.chars().any(|c| c.is_ascii_control()),
            "{path:?}"
        );
    }
}

proptest! {
    #[test]
    fn canonicalize_is_idempotent_and_never_yields_a_dangerous_segment(raw in raw_path()) {
        if let Ok(path) = canonicalize(&raw) {
            check_invariants(&path);
            let printed = path.to_string();
            let again = canonicalize(&printed);
            prop_assert_eq!(again.as_ref(), Ok(&path), "display form {} of {:?}", path, raw);
        }
    }

    #[test]
    fn canonicalize_is_idempotent_on_arbitrary_strings(raw in "/[ -~]{0,80}") {
        if let Ok(path) = canonicalize(&raw) {
            check_invariants(&path);
            let printed = path.to_string();
            prop_assert_eq!(canonicalize(&printed), Ok(path));
        }
    }

    #[test]
    fn every_printable_segment_list_round_trips_through_display(
        // Printable ASCII except the six characters a canonical segment never holds.
        segments in prop::collection::vec(r#"[ !"$&-.0-:<->@-\[\]-~]{1,12}"#, 1..8)
    ) {
        prop_assume!(segments.iter().all(|s| s != "." && s != ".."));
        let path = CanonicalPath::from_segments_unchecked(segments.clone());
        let printed = path.to_string();
        let again = canonicalize(&printed).map(|p| p.segments().iter().map(|s| s.to_string()).collect());
        prop_assert_eq!(again, Ok(segments));
    }
}
