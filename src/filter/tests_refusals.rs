//! Unit tests of the filter's refusals: rendered bodies, duplicate keys, malformed JSON,
//! truncation, unexpected shapes, hidden items, mismatched bodies — and that no error message
//! carries upstream text.

use super::test_fixtures::{BASE, SELF};
use super::*;

const SEARCH: &[u8] = include_bytes!("testdata/cloud-v1-search.json");
const SEARCH_PLACEHOLDERS: &[u8] =
    include_bytes!("testdata/cloud-v1-search-full-shape-placeholders.json");
const CONTENT: &[u8] = include_bytes!("testdata/cloud-v1-content-by-id.json");
const CONTENT_EXPANDED: &[u8] = include_bytes!("testdata/cloud-v1-content-by-id-expanded.json");

#[test]
fn bodies_in_search_results_rendered_or_not_are_dropped_unread() {
    let scan = scan_search(SEARCH_PLACEHOLDERS).unwrap();
    let links = SearchLinks {
        base: BASE,
        self_link: SELF,
        next_link: None,
    };
    let out = render_search(&scan, SEARCH_PLACEHOLDERS, &|_| true, &links).unwrap();
    let text = String::from_utf8(out.body).unwrap();
    assert!(!text.contains("\"body\""), "{text}");
    assert!(
        !text.contains("export_view") && !text.contains("styled_view"),
        "{text}"
    );
    // The storage value stays available to the caller, for checking the excerpt.
    assert!(scan.results()[0]
        .storage_body(SEARCH_PLACEHOLDERS)
        .is_some());
}

#[test]
fn withheld_excerpts_are_blanked_and_the_others_kept() {
    let scan = scan_search(SEARCH).unwrap();
    let links = SearchLinks {
        base: BASE,
        self_link: SELF,
        next_link: None,
    };
    let kept = render_search_with(&scan, SEARCH, &|_| true, &|_| true, &links).unwrap();
    let blanked = render_search_with(&scan, SEARCH, &|_| true, &|_| false, &links).unwrap();
    let excerpt = |body: &[u8]| {
        let v: serde_json::Value = serde_json::from_slice(body).unwrap();
        v["results"][0]["excerpt"].as_str().unwrap().to_owned()
    };
    assert!(excerpt(&kept.body).contains("Participants"));
    assert_eq!(excerpt(&blanked.body), "");
    assert_eq!((kept.kept, blanked.kept), (1, 1));
}

#[test]
fn a_rendered_body_in_a_content_answer_is_refused() {
    let body = br#"{"id":"1","type":"page","title":"t","body":{"view":{"value":"<p>x</p>","representation":"view"}},"_links":{}}"#;
    assert!(matches!(scan_content(body), Err(FilterError::RenderedBody)));
}

#[test]
fn content_by_id_refuses_hidden_items_and_non_pages() {
    let scan = scan_content(CONTENT).unwrap();
    let links = ContentLinks {
        base: BASE,
        self_link: SELF,
    };
    assert!(matches!(
        render_content(&scan, CONTENT, &|_| false, &links, None),
        Err(FilterError::Hidden)
    ));
    let attachment = br#"{"id":"att1","type":"attachment","title":"x.pdf"}"#;
    assert!(matches!(
        scan_content(attachment),
        Err(FilterError::Shape(_))
    ));
    assert!(matches!(
        scan_content(br#"{"type":"page"}"#),
        Err(FilterError::Shape(_))
    ));
}

#[test]
fn rendered_bodies_are_refused_but_empty_ones_are_not() {
    let with = |body: &str| {
        scan_content(format!(r#"{{"id":"5","type":"page","body":{body}}}"#).as_bytes()).map(|_| ())
    };
    for rep in [
        "view",
        "export_view",
        "styled_view",
        "anonymous_export_view",
        "dynamic",
        "editor",
        "editor2",
    ] {
        let err = with(&format!(
            r#"{{"{rep}":{{"value":"<p>x</p>","representation":"view"}}}}"#
        ));
        assert!(matches!(err, Err(FilterError::RenderedBody)), "{rep}");
        assert!(with(&format!(r#"{{"{rep}":{{}}}}"#)).is_ok(), "{rep}");
    }
    assert!(matches!(
        with(r#"{"view":"<p>x</p>"}"#),
        Err(FilterError::Shape(_))
    ));
    assert!(with(
        r#"{"wiki":{"value":"x"},"storage":{"value":"<p/>","representation":"storage"}}"#
    )
    .is_ok());
}

#[test]
fn duplicate_keys_on_the_policy_path_are_refused() {
    let cases = [
        r#"{"results":[],"results":[],"start":0,"limit":1}"#,
        r#"{"results":[{"title":"a","title":"b"}],"start":0,"limit":1}"#,
        r#"{"results":[{"content":{"id":"1","id":"2","type":"page"}}],"start":0,"limit":1}"#,
        r#"{"results":[{"content":{"id":"1","type":"page","space":{"key":"KB","key":"X"}}}],"start":0,"limit":1}"#,
        r#"{"results":[{"content":{"id":"1","type":"page","metadata":{"labels":{"results":[{"name":"a","name":"org-b"}],"size":1}}}}],"start":0,"limit":1}"#,
        r#"{"results":[{"content":{"id":"1","type":"page","metadata":{"labels":{"results":[],"size":0,"size":0}}}}],"start":0,"limit":1}"#,
        r#"{"results":[{"content":{"id":"1","type":"page","ancestors":[{"id":"2","id":"3"}]}}],"start":0,"limit":1}"#,
        r#"{"results":[{"content":{"id":"1","type":"page","metadata":{"labels":{},"labels":{}}}}],"start":0,"limit":1}"#,
        r#"{"results":[],"start":0,"limit":1,"start":5}"#,
    ];
    for case in cases {
        assert!(
            matches!(
                scan_search(case.as_bytes()),
                Err(FilterError::DuplicateKey(_))
            ),
            "{case}"
        );
    }
    // Escaped keys cannot sneak a duplicate past the byte comparison.
    let escaped =
        br#"{"results":[{"content":{"id":"1","\u0069d":"2","type":"page"}}],"start":0,"limit":1}"#;
    assert!(matches!(scan_search(escaped), Err(FilterError::Shape(_))));
}

#[test]
fn malformed_json_is_refused_with_the_right_error() {
    let deep = format!(
        r#"{{"results":[],"start":0,"limit":1,"x":{}}}"#,
        "[".repeat(10_000)
    );
    assert!(matches!(
        scan_search(deep.as_bytes()),
        Err(FilterError::TooDeep)
    ));
    let ok_depth = format!(
        r#"{{"results":[],"start":0,"limit":1,"x":{}{}}}"#,
        "[".repeat(63),
        "]".repeat(63)
    );
    assert!(scan_search(ok_depth.as_bytes()).is_ok());
    let too_deep = format!(
        r#"{{"results":[],"start":0,"limit":1,"x":{}{}}}"#,
        "[".repeat(64),
        "]".repeat(64)
    );
    assert!(matches!(
        scan_search(too_deep.as_bytes()),
        Err(FilterError::TooDeep)
    ));
    assert!(matches!(
        scan_search(b"{\"results\":[],\"start\":0,\"limit\":1,\"x\":\"\xff\"}"),
        Err(FilterError::Utf8(_))
    ));
    for bad in [
        r#"{"results":[],"start":0,"limit":1,}"#,
        r#"{"results":[],"start":0,"limit":1} x"#,
        r#"{"results":[],"start":0,"limit":1,"x":[1,]}"#,
        r#"{"results":[],"start":0,"limit":1,"x":01}"#,
        r#"{"results":[],"start":0,"limit":1,"x":1.}"#,
        r#"{"results":[],"start":0,"limit":1,"x":"\ud800"}"#,
        r#"{"results":[],"start":0,"limit":1,"x":"\x"}"#,
        "{\"results\":[],\"start\":0,\"limit\":1,\"x\":\"a\u{1}\"}",
        r#"{"results":[],"start":0,"limit":1,"x":tru}"#,
        r#"{"results":[],"start":0,"limit":1,"x":NaN}"#,
        r#"{"results":[] "start":0}"#,
        r#"{"results"[]}"#,
        "",
    ] {
        assert!(
            matches!(scan_search(bad.as_bytes()), Err(FilterError::Syntax(_))),
            "{bad}"
        );
    }
}

#[test]
fn every_truncation_of_a_real_answer_is_refused() {
    for body in [SEARCH, CONTENT_EXPANDED] {
        let end = body.iter().rposition(|c| !c.is_ascii_whitespace()).unwrap();
        for cut in 0..=end {
            let part = &body[..cut];
            assert!(
                scan_search(part).is_err() && scan_content(part).is_err(),
                "prefix of {cut} bytes accepted"
            );
        }
    }
}

#[test]
fn unexpected_shapes_are_refused() {
    for bad in [
        r#"[]"#,
        r#"{"results":{},"start":0,"limit":1}"#,
        r#"{"results":[1],"start":0,"limit":1}"#,
        r#"{"results":[{"content":{"id":1,"type":"page"}}],"start":0,"limit":1}"#,
        r#"{"results":[{"content":[]}],"start":0,"limit":1}"#,
        r#"{"results":[{"content":{"id":"1","type":"page","metadata":"x"}}],"start":0,"limit":1}"#,
        r#"{"results":[{"content":{"id":"1","type":"page","metadata":{"labels":[]}}}],"start":0,"limit":1}"#,
        r#"{"results":[{"content":{"id":"1","type":"page","ancestors":{}}}],"start":0,"limit":1}"#,
        r#"{"results":[{"content":{"id":"1","type":"page","ancestors":[{"title":"no id"}]}}],"start":0,"limit":1}"#,
        r#"{"results":[{"content":{"id":"1","type":"page","title":7}}],"start":0,"limit":1}"#,
        r#"{"results":[{"title":["x"]}],"start":0,"limit":1}"#,
        r#"{"results":[{"breadcrumbs":{}}],"start":0,"limit":1}"#,
        r#"{"results":[{"breadcrumbs":[{"url":5}]}],"start":0,"limit":1}"#,
        r#"{"results":[{"resultParentContainer":"x"}],"start":0,"limit":1}"#,
        r#"{"results":[{"content":{"id":"1","type":"page","_expandable":[]}}],"start":0,"limit":1}"#,
        r#"{"results":[],"start":-1,"limit":1}"#,
        r#"{"results":[],"start":0,"limit":1.5}"#,
        r#"{"results":[],"start":0}"#,
        r#"{"start":0,"limit":1}"#,
    ] {
        assert!(
            matches!(scan_search(bad.as_bytes()), Err(FilterError::Shape(_))),
            "{bad}"
        );
    }
}

#[test]
fn a_render_against_other_bytes_is_refused() {
    let scan = scan_search(SEARCH).unwrap();
    let other = [b' '; 10];
    let links = SearchLinks {
        base: BASE,
        self_link: SELF,
        next_link: None,
    };
    assert!(render_search(&scan, &other, &|_| true, &links).is_err());
}

#[test]
fn errors_never_echo_upstream_text() {
    let body = br#"{"results":[{"content":{"id":"1","type":"page","SECRET":1,"SECRET":2,"title":{"SECRET":1}}}],"start":0,"limit":1}"#;
    let err = scan_search(body).unwrap_err();
    assert!(!format!("{err} {err:?}").contains("SECRET"));
    let err = scan_search(b"{\"SECRET\" 1}").unwrap_err();
    assert!(
        !format!("{err} {err:?} {}", std::error::Error::source(&err).unwrap()).contains("SECRET")
    );
}
