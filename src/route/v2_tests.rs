//! Tests for the v2 route table: every route with its allowlist, and the refusals.

use http::{Method, Uri};

use super::super::{classify as classify_route, Route, RouteError};
use super::*;

fn classify(target: &str) -> Result<V2Request, RouteError> {
    let uri: Uri = target.parse().expect("test target");
    match classify_route(&Method::GET, &uri)? {
        Route::V2(r) => Ok(r),
        other => panic!("{target} is not a v2 route: {}", other.name()),
    }
}

/// The route name, or the refusal's reason.
fn outcome(target: &str) -> String {
    match classify(target) {
        Ok(r) => r.name().to_owned(),
        Err(e) => e.reason().to_owned(),
    }
}

const V2: &str = "/wiki/api/v2";

#[test]
fn every_v2_route_is_recognised_with_its_own_name() {
    for (tail, name) in [
        ("pages", "v2_pages"),
        ("blogposts", "v2_blogposts"),
        ("pages/100001", "v2_page"),
        ("blogposts/100040", "v2_blogpost"),
        ("pages/100001/children", "v2_children"),
        ("pages/100001/direct-children", "v2_direct_children"),
        ("pages/100001/descendants", "v2_descendants"),
        ("pages/100001/ancestors", "v2_ancestors"),
        ("pages/100001/labels", "v2_labels"),
        ("pages/100001/attachments", "v2_attachments"),
        ("pages/100001/footer-comments", "v2_footer_comments"),
        ("spaces", "v2_spaces"),
        ("spaces/196609/pages", "v2_space_pages"),
        ("labels/7/pages", "v2_label_pages"),
    ] {
        assert_eq!(outcome(&format!("{V2}/{tail}")), name, "{tail}");
    }
}

#[test]
fn unknown_v2_paths_and_non_numeric_ids_are_not_found() {
    for tail in [
        "",
        "page",
        "pages/abc",
        "pages/123456789012345678901",
        "pages/-1",
        "pages/100001/versions",
        "pages/100001/inline-comments",
        "pages/100001/properties",
        "pages/100001/likes/count",
        "pages/100001/children/x",
        "blogposts/100040/labels",
        "spaces/KB",
        "spaces/KB/pages",
        "spaces/196609",
        "spaces/196609/blogposts",
        "labels",
        "labels/org-acme/pages",
        "labels/7/blogposts",
        "footer-comments",
        "attachments/att1",
        "custom-content",
        "whiteboards/1",
        "folders/1/direct-children",
    ] {
        let target = if tail.is_empty() {
            V2.to_owned()
        } else {
            format!("{V2}/{tail}")
        };
        let uri: Uri = target.parse().unwrap();
        assert_eq!(
            classify_route(&Method::GET, &uri).err(),
            Some(RouteError::NotFound),
            "{target}"
        );
    }
}

#[test]
fn only_get_and_head_reach_a_v2_route() {
    let uri: Uri = format!("{V2}/pages").parse().unwrap();
    assert!(matches!(
        classify_route(&Method::HEAD, &uri),
        Ok(Route::V2(_))
    ));
    for m in [Method::POST, Method::PUT, Method::DELETE, Method::PATCH] {
        assert_eq!(
            classify_route(&m, &uri).err(),
            Some(RouteError::MethodNotAllowed)
        );
    }
}

#[test]
fn page_lists_parse_their_filters_and_default_the_limit() {
    let r = classify(&format!(
        "{V2}/pages?space-id=196609,196610&title=VPN+setup&status=current&sort=-id&limit=7&cursor=abc.DEF_-1"
    ))
    .unwrap();
    let V2Request::Contents(q) = r else {
        panic!("not a content list")
    };
    assert_eq!(q.kind, V2Kind::Page);
    assert_eq!(q.space_ids, vec!["196609", "196610"]);
    assert_eq!(q.title.as_deref(), Some("VPN setup"));
    assert!(q.status_current);
    assert_eq!(q.sort, Some(V2Sort::IdDesc));
    assert_eq!(q.paging.limit, 7);
    assert_eq!(q.paging.cursor.as_deref(), Some("abc.DEF_-1"));

    let V2Request::Contents(q) = classify(&format!("{V2}/blogposts")).unwrap() else {
        panic!("not a content list")
    };
    assert_eq!(q.kind, V2Kind::BlogPost);
    assert_eq!(q.paging.limit, DEFAULT_V2_LIMIT);
    assert!(q.paging.cursor.is_none() && q.space_ids.is_empty() && !q.status_current);
}

#[test]
fn refused_list_parameters_are_400_with_a_reason() {
    for (tail, reason) in [
        ("pages?body-format=storage", "query_bad_value"),
        ("pages?body-format=view", "query_rendered_format"),
        ("pages?body-format=export_view", "query_rendered_format"),
        ("pages?space-id=KB", "query_bad_value"),
        ("pages?space-id=1,,2", "query_bad_value"),
        ("pages?space-id=1&space-id=2", "query_duplicate_parameter"),
        ("pages?status=trashed", "query_bad_value"),
        ("pages?status=any", "query_bad_value"),
        ("pages?sort=secret", "query_bad_value"),
        ("pages?limit=0", "query_bad_value"),
        ("pages?limit=251", "query_bad_value"),
        ("pages?limit=25&limit=25", "query_duplicate_parameter"),
        ("pages?cursor=", "query_bad_value"),
        ("pages?cursor=a%2Fb", "query_bad_value"),
        ("pages?cursor=a+b", "query_bad_value"),
        ("pages?title=", "query_bad_value"),
        ("pages?id=100001", "query_unknown_parameter"),
        ("pages?subtype=live", "query_unknown_parameter"),
        (
            "pages?serialize-ids-as-strings=true",
            "query_unknown_parameter",
        ),
        ("spaces/196609/pages?space-id=1", "query_unknown_parameter"),
        ("spaces/196609/pages?body-format=storage", "query_bad_value"),
        (
            "labels/7/pages?body-format=storage",
            "query_unknown_parameter",
        ),
        ("labels/7/pages?space-id=1", "query_unknown_parameter"),
        ("spaces?ids=abc", "query_bad_value"),
        ("spaces?keys=K%22B", "query_bad_value"),
        ("spaces?labels=x", "query_unknown_parameter"),
        ("spaces?type=personal", "query_unknown_parameter"),
        ("pages/1/children?sort=id", "query_unknown_parameter"),
        ("pages/1/children?depth=2", "query_unknown_parameter"),
        ("pages/1/descendants?depth=0", "query_bad_value"),
        ("pages/1/descendants?depth=6", "query_bad_value"),
        ("pages/1/labels?prefix=global", "query_unknown_parameter"),
        ("pages/1/attachments?filename=x", "query_unknown_parameter"),
        (
            "pages/1/footer-comments?body-format=storage",
            "query_bad_value",
        ),
        (
            "pages/1/footer-comments?body-format=view",
            "query_rendered_format",
        ),
        ("pages/1/ancestors?limit=300", "query_bad_value"),
    ] {
        assert_eq!(outcome(&format!("{V2}/{tail}")), reason, "{tail}");
    }
}

#[test]
fn the_long_cursor_is_refused_and_a_long_enough_one_passes() {
    let ok = "a".repeat(MAX_CURSOR_BYTES);
    assert_eq!(outcome(&format!("{V2}/pages?cursor={ok}")), "v2_pages");
    let long = "a".repeat(MAX_CURSOR_BYTES + 1);
    assert_eq!(
        outcome(&format!("{V2}/pages?cursor={long}")),
        "query_bad_value"
    );
}

#[test]
fn a_single_page_takes_storage_and_the_include_flags() {
    let r = classify(&format!(
        "{V2}/pages/100036?body-format=storage&include-labels=true&include-direct-children=true&include-version=false"
    ))
    .unwrap();
    let V2Request::Single(q) = r else {
        panic!("not a single item")
    };
    assert_eq!(q.id.as_str(), "100036");
    assert_eq!(q.body_format, Some(V2BodyFormat::Storage));
    assert!(q.include_labels && q.include_direct_children && !q.include_version);

    let V2Request::Single(q) = classify(&format!("{V2}/pages/1")).unwrap() else {
        panic!("not a single item")
    };
    assert!(q.body_format.is_none() && !q.include_labels && q.include_version);
}

#[test]
fn single_items_refuse_rendered_bodies_and_unknown_includes_and_take_adf() {
    for (tail, reason) in [
        ("pages/1?body-format=view", "query_rendered_format"),
        ("pages/1?body-format=export_view", "query_rendered_format"),
        ("pages/1?body-format=styled_view", "query_rendered_format"),
        (
            "pages/1?body-format=anonymous_export_view",
            "query_rendered_format",
        ),
        ("pages/1?body-format=editor", "query_rendered_format"),
        ("pages/1?body-format=adf", "query_bad_value"),
        (
            "pages/1?body-format=storage&body-format=storage",
            "query_duplicate_parameter",
        ),
        ("pages/1?include-labels=yes", "query_bad_value"),
        ("pages/1?include-properties=true", "query_unknown_parameter"),
        ("pages/1?include-operations=true", "query_unknown_parameter"),
        ("pages/1?include-versions=true", "query_unknown_parameter"),
        ("pages/1?get-draft=true", "query_unknown_parameter"),
        ("pages/1?version=2", "query_unknown_parameter"),
        ("pages/1?status=draft", "query_unknown_parameter"),
        ("blogposts/1?include-labels=true", "query_unknown_parameter"),
        (
            "blogposts/1?include-direct-children=true",
            "query_unknown_parameter",
        ),
        ("blogposts/1?body-format=view", "query_rendered_format"),
    ] {
        assert_eq!(outcome(&format!("{V2}/{tail}")), reason, "{tail}");
    }
    assert_eq!(
        outcome(&format!(
            "{V2}/blogposts/1?body-format=storage&include-version=true"
        )),
        "v2_blogpost"
    );
}

#[test]
fn related_lists_carry_the_page_relation_depth_and_paging() {
    let V2Request::Related(q) =
        classify(&format!("{V2}/pages/42/descendants?depth=3&limit=2")).unwrap()
    else {
        panic!("not a related list")
    };
    assert_eq!(
        (q.id.as_str(), q.relation, q.depth, q.paging.limit),
        ("42", Relation::Descendants, Some(3), 2)
    );
    let V2Request::Related(q) = classify(&format!("{V2}/pages/42/attachments")).unwrap() else {
        panic!("not a related list")
    };
    assert_eq!((q.relation, q.depth), (Relation::Attachments, None));
}

#[test]
fn spaces_parse_ids_and_keys_and_label_and_space_pages_their_path_ids() {
    let V2Request::Spaces(q) = classify(&format!("{V2}/spaces?ids=1,2&keys=KB,ENG")).unwrap()
    else {
        panic!("not spaces")
    };
    assert_eq!(q.ids, vec!["1", "2"]);
    let keys: Vec<&str> = q.keys.iter().map(SpaceKey::as_str).collect();
    assert_eq!(keys, vec!["KB", "ENG"]);

    let V2Request::SpacePages(q) =
        classify(&format!("{V2}/spaces/196609/pages?title=FAQ&limit=3")).unwrap()
    else {
        panic!("not space pages")
    };
    assert_eq!(q.space_id, "196609");
    assert_eq!(q.query.title.as_deref(), Some("FAQ"));
    assert!(q.query.space_ids.is_empty());

    let V2Request::LabelPages(q) = classify(&format!("{V2}/labels/12/pages?limit=1")).unwrap()
    else {
        panic!("not label pages")
    };
    assert_eq!((q.label_id.as_str(), q.paging.limit), ("12", 1));
}

#[test]
fn too_many_ids_in_one_list_are_refused() {
    let ids: Vec<String> = (1..=MAX_LIST_IDS + 1).map(|i| i.to_string()).collect();
    assert_eq!(
        outcome(&format!("{V2}/pages?space-id={}", ids.join(","))),
        "query_bad_value"
    );
    assert_eq!(
        outcome(&format!("{V2}/pages?space-id={}", ids[1..].join(","))),
        "v2_pages"
    );
}
