//! Tests of the rewriter's site mode: stubs for `children` and `contentbylabel`, their
//! positions and indexes, label parsing, hostile and overreaching parameters, nesting and
//! bounds. Properties (site mode changes nothing but listing macros) are in
//! `tests_site_prop.rs`.

use super::*;

/// Hidden: titles with "Acme".
pub(super) fn acme_hidden(r: &ContentRef) -> bool {
    match r {
        ContentRef::Page { title, .. } | ContentRef::BlogPost { title, .. } => {
            !title.contains("Acme")
        }
        ContentRef::Id(id) => id != "666",
    }
}

fn site(body: &str) -> SiteRewritten {
    rewrite_storage_for_site(body, &acme_hidden).unwrap_or_else(|e| panic!("{e}: {body}"))
}

pub(super) fn stub(index: usize) -> String {
    format!(
        "<ac:structured-macro ac:name=\"kbgate-listing\"><ac:parameter ac:name=\"index\">{index}</ac:parameter></ac:structured-macro>"
    )
}

fn by_label(labels: &[&str], max: u32) -> SiteListing {
    SiteListing::ByLabel {
        labels: labels.iter().map(|l| (*l).to_owned()).collect(),
        max,
    }
}

fn macro_with(name: &str, params: &[(&str, &str)]) -> String {
    let params: String = params
        .iter()
        .map(|(k, v)| format!("<ac:parameter ac:name=\"{k}\">{v}</ac:parameter>"))
        .collect();
    format!("<ac:structured-macro ac:name=\"{name}\" ac:schema-version=\"1\" ac:macro-id=\"a-1\">{params}</ac:structured-macro>")
}

fn labels(text: &str) -> SiteListing {
    let out = site(&macro_with("contentbylabel", &[("labels", text)]));
    assert_eq!(out.body, stub(0), "{text}");
    out.listings.into_iter().next().unwrap()
}

#[test]
fn a_plain_children_macro_becomes_a_stub_in_every_spelling() {
    for body in [
        r#"<ac:structured-macro ac:name="children"/>"#.to_owned(),
        r#"<ac:structured-macro ac:name=" Children "></ac:structured-macro>"#.to_owned(),
        r#"<ac:macro ac:name="children"><ac:parameter ac:name="all">true</ac:parameter></ac:macro>"#
            .to_owned(),
        macro_with(
            "children",
            &[
                ("all", "true"),
                ("depth", "2"),
                ("sort", "title"),
                ("reverse", "false"),
                ("style", "h3"),
                ("first", "5"),
                ("excerptType", "simple"),
            ],
        ),
    ] {
        let out = site(&body);
        assert_eq!(out.body, stub(0), "{body}");
        assert_eq!(out.listings, vec![SiteListing::Children], "{body}");
        assert_eq!((out.removed_links, out.removed_macros), (0, 0), "{body}");
    }
}

#[test]
fn contentbylabel_in_both_names_becomes_a_label_stub_with_its_max() {
    for (name, params, want) in [
        (
            "contentbylabel",
            vec![("labels", "faq")],
            by_label(&["faq"], 10),
        ),
        (
            "content-by-label",
            vec![("label", "vpn")],
            by_label(&["vpn"], 10),
        ),
        (
            "ContentByLabel",
            vec![("labels", "a"), ("label", "b"), ("max", "25")],
            by_label(&["a", "b"], 25),
        ),
        (
            "contentbylabel",
            vec![("labels", "a"), ("max", "100")],
            by_label(&["a"], 50),
        ),
        (
            "contentbylabel",
            vec![("labels", "a"), ("max", "0")],
            by_label(&["a"], 10),
        ),
        (
            "contentbylabel",
            vec![("labels", "a"), ("max", "101")],
            by_label(&["a"], 10),
        ),
        (
            "contentbylabel",
            vec![("labels", "a"), ("max", "ten")],
            by_label(&["a"], 10),
        ),
        (
            "contentbylabel",
            vec![("labels", "a"), ("maxResults", " 7 ")],
            by_label(&["a"], 7),
        ),
        (
            "contentbylabel",
            vec![("labels", "a"), ("maxResults", "7"), ("max", "3")],
            by_label(&["a"], 3),
        ),
        (
            "contentbylabel",
            vec![
                ("labels", "a"),
                ("showLabels", "false"),
                ("sort", "title"),
                ("type", "page"),
            ],
            by_label(&["a"], 10),
        ),
        (
            "contentbylabel",
            vec![("labels", "a"), ("spaces", "")],
            by_label(&["a"], 10),
        ),
        (
            "contentbylabel",
            vec![("labels", "a"), ("spaces", "@self")],
            by_label(&["a"], 10),
        ),
        (
            "contentbylabel",
            vec![("labels", "a"), ("space", " currentSpace() ")],
            by_label(&["a"], 10),
        ),
    ] {
        let out = site(&macro_with(name, &params));
        assert_eq!(out.body, stub(0), "{name} {params:?}");
        assert_eq!(out.listings, vec![want], "{name} {params:?}");
        assert_eq!(out.removed_macros, 0);
    }
}

#[test]
fn labels_are_split_trimmed_lowercased_validated_deduplicated_and_capped() {
    assert_eq!(
        labels("FAQ, vpn  how-to\tkb:x.y_z,,faq ,\u{a0}v2"),
        by_label(&["faq", "vpn", "how-to", "kb:x.y_z", "v2"], 10)
    );
    assert_eq!(
        labels("-minus, +plus, _under, .dot, caf\u{e9}, \u{212a}elvin, a/b, a&amp;b, ok"),
        by_label(&["ok"], 10)
    );
    let hundred = format!("a{}", "b".repeat(99));
    let too_long = format!("a{}", "b".repeat(100));
    assert_eq!(
        labels(&format!("{too_long},{hundred}")),
        SiteListing::ByLabel {
            labels: vec![hundred],
            max: 10
        }
    );
    let twelve: Vec<String> = (0..12).map(|i| format!("l{i}")).collect();
    let SiteListing::ByLabel { labels: kept, .. } = labels(&twelve.join(",")) else {
        panic!("not a label listing");
    };
    assert_eq!(kept, twelve[..SITE_LISTING_MAX_LABELS].to_vec());
    assert_eq!(labels("a&#44;b"), by_label(&["a", "b"], 10));
    assert_eq!(labels("<![CDATA[X, y]]>"), by_label(&["x", "y"], 10));
}

#[test]
fn stubs_keep_their_positions_and_are_numbered_in_document_order() {
    let body = format!(
        "<h1>T</h1>{}<p>mid</p>{}\
         <ac:structured-macro ac:name=\"info\"><ac:rich-text-body><p>{}</p></ac:rich-text-body></ac:structured-macro>\
         {}<p>end</p>",
        macro_with("children", &[]),
        macro_with("contentbylabel", &[("labels", "one")]),
        macro_with("content-by-label", &[("labels", "two"), ("max", "5")]),
        r#"<ac:structured-macro ac:name="children"/>"#,
    );
    let out = site(&body);
    assert_eq!(
        out.body,
        format!(
            "<h1>T</h1>{}<p>mid</p>{}\
             <ac:structured-macro ac:name=\"info\"><ac:rich-text-body><p>{}</p></ac:rich-text-body></ac:structured-macro>\
             {}<p>end</p>",
            stub(0),
            stub(1),
            stub(2),
            stub(3)
        )
    );
    assert_eq!(
        out.listings,
        vec![
            SiteListing::Children,
            by_label(&["one"], 10),
            by_label(&["two"], 5),
            SiteListing::Children
        ]
    );
}

#[test]
fn contentbylabel_written_as_simple_label_cql_becomes_a_stub_with_its_labels() {
    let body = r#"<p>a</p><ac:structured-macro ac:name="contentbylabel" ac:schema-version="3"><ac:parameter ac:name="cql">label = &quot;org-acme&quot; or label in (&quot;VPN&quot;, faq) and space = currentSpace()</ac:parameter><ac:parameter ac:name="max">4</ac:parameter></ac:structured-macro>"#;
    let out = rewrite_storage_for_site(body, &|_| true).unwrap();
    assert_eq!(out.listings, vec![by_label(&["org-acme", "vpn", "faq"], 4)]);
    assert!(
        !out.body.contains("org-acme"),
        "parameters are never copied: {}",
        out.body
    );
}

#[test]
fn contentbylabel_that_could_reach_beyond_this_space_or_names_no_label_is_removed() {
    for params in [
        vec![("cql", "title = \"faq\"")],
        vec![("cql", "label = \"faq\" and space = \"ACME\"")],
        vec![("labels", "faq"), ("cql", "")],
        vec![("labels", "faq"), ("CQL", "x")],
        vec![("labels", "faq"), ("spaces", "ACME")],
        vec![("labels", "faq"), ("space", "@all")],
        vec![("labels", "faq"), ("spaces", "@self,ACME")],
        vec![
            ("labels", "faq"),
            ("spaces", "<ri:space ri:space-key=\"KB\"/>"),
        ],
        vec![("labels", "faq"), ("spaces", "<![CDATA[ACME]]>")],
        vec![("labels", "")],
        vec![("labels", "-only, +bad")],
        vec![("labels", "faq<b>x</b>")],
        vec![("labels", "&#0;faq")],
        vec![("max", "5")],
        vec![],
    ] {
        let body = format!("<p>a</p>{}<p>b</p>", macro_with("contentbylabel", &params));
        let out = site(&body);
        assert_eq!(out.body, "<p>a</p><p>b</p>", "{params:?}");
        assert!(out.listings.is_empty(), "{params:?}");
        assert_eq!(out.removed_macros, 1, "{params:?}");
    }
}

#[test]
fn children_that_names_another_page_or_has_other_parameters_is_removed() {
    for inside in [
        r#"<ac:parameter ac:name="page"><ac:link><ri:page ri:content-title="Acme secret"/></ac:link></ac:parameter>"#,
        r#"<ac:parameter ac:name="page">Shared page</ac:parameter>"#,
        r#"<ac:parameter ac:name="all"><ri:page ri:content-title="Shared page"/>true</ac:parameter>"#,
        r#"<ac:parameter ac:name="all"><ri:content-entity ri:content-id="42"/></ac:parameter>"#,
        r#"<ac:parameter ac:name="spaces">KB</ac:parameter>"#,
        r#"<ac:parameter ac:name="">Acme secret</ac:parameter>"#,
        r#"<ac:parameter>x</ac:parameter>"#,
        r#"<ac:default-parameter>Acme secret</ac:default-parameter>"#,
        r#"<ac:rich-text-body><p>x</p></ac:rich-text-body>"#,
        r#"<ri:page ri:content-title="Shared page"/>"#,
        r#"<ac:parameter ac:name="all" ac:name="page">x</ac:parameter>"#,
        r#"<ac:parameter ac:name="all" bad>x</ac:parameter>"#,
    ] {
        for name in ["children", "CHILDREN"] {
            let body = format!(
                "<p>a</p><ac:structured-macro ac:name=\"{name}\">{inside}</ac:structured-macro><p>b</p>"
            );
            let out = site(&body);
            assert_eq!(out.body, "<p>a</p><p>b</p>", "{body}");
            assert!(out.listings.is_empty(), "{body}");
            assert_eq!(out.removed_macros, 1, "{body}");
        }
    }
}

#[test]
fn hostile_parameters_never_appear_in_the_output() {
    let body = r#"<ac:structured-macro ac:name="contentbylabel">
<ac:parameter ac:name="title"><![CDATA[<script>alert(1)</script>]]> Acme &lt;b&gt; &amp;&#x41;&nbsp;</ac:parameter>
<ac:parameter ac:name="labels">faq, &lt;script&gt;, "x" onload=y, Acme-Secret-Title</ac:parameter>
<ac:parameter ac:name="excerptType">&#60;img&#62;</ac:parameter>
<!-- Acme comment -->
</ac:structured-macro>"#;
    let out = site(body);
    assert_eq!(out.body, stub(0));
    assert_eq!(
        out.listings,
        vec![by_label(&["faq", "acme-secret-title"], 10)]
    );
    for dropped in [
        r#"<ac:structured-macro ac:name="children"><ac:parameter ac:name="page"><ri:page ri:content-title="Acme: Q3 plan"/></ac:parameter><ac:rich-text-body><script>x</script></ac:rich-text-body></ac:structured-macro>"#,
        r#"<ac:macro ac:name="contentbylabel"><ac:parameter ac:name="cql">title = "Acme"</ac:parameter><ac:plain-text-body><![CDATA[Acme]]></ac:plain-text-body></ac:macro>"#,
    ] {
        let out = site(dropped);
        assert_eq!(out.body, "", "{dropped}");
    }
}

#[test]
fn listing_macros_nested_in_a_listing_macro_are_never_stubbed() {
    let plain = r#"<ac:structured-macro ac:name="children"/>"#;
    for outer in [
        "include",
        "pagetree",
        "excerpt-include",
        "contentbylabel",
        "children",
    ] {
        let body = format!(
            "<p>a</p><ac:structured-macro ac:name=\"{outer}\"><ac:parameter ac:name=\"labels\">faq</ac:parameter>\
             <ac:rich-text-body>{plain}<ac:structured-macro ac:name=\"contentbylabel\"><ac:parameter ac:name=\"labels\">faq</ac:parameter></ac:structured-macro></ac:rich-text-body>\
             </ac:structured-macro><p>b</p>"
        );
        let out = site(&body);
        assert_eq!(out.body, "<p>a</p><p>b</p>", "{outer}");
        assert!(out.listings.is_empty(), "{outer}");
        assert_eq!(out.removed_macros, 1, "{outer}");
        let in_param = format!(
            "<ac:structured-macro ac:name=\"{outer}\"><ac:parameter ac:name=\"labels\">{plain}</ac:parameter></ac:structured-macro>"
        );
        assert!(site(&in_param).listings.is_empty(), "{outer}");
    }
}

#[test]
fn a_stub_inside_an_element_removed_later_goes_with_its_listing() {
    let body = format!(
        "<ac:structured-macro ac:name=\"note\"><ac:rich-text-body>{}{}</ac:rich-text-body>\
         <ac:parameter ac:name=\"x\"><ri:page ri:content-title=\"Acme secret\"/></ac:parameter></ac:structured-macro>\
         <p>{}</p>",
        macro_with("children", &[]),
        macro_with("contentbylabel", &[("labels", "gone")]),
        macro_with("contentbylabel", &[("labels", "kept")]),
    );
    let out = site(&body);
    assert_eq!(out.body, format!("<p>{}</p>", stub(0)));
    assert_eq!(out.listings, vec![by_label(&["kept"], 10)]);
    assert_eq!((out.removed_links, out.removed_macros), (0, 1));
}

#[test]
fn other_listing_macros_are_removed_exactly_as_in_the_api() {
    for name in [
        "pagetree",
        "include",
        "recently-updated",
        "blog-posts",
        "search",
    ] {
        let body = format!("<p>a</p>{}<p>b</p>", macro_with(name, &[("labels", "faq")]));
        let out = site(&body);
        let api = rewrite_storage(&body, &acme_hidden).unwrap();
        assert_eq!(out.body, api.body, "{name}");
        assert!(out.listings.is_empty(), "{name}");
        assert_eq!(out.removed_macros, 1, "{name}");
    }
}

#[test]
fn parameter_text_is_read_up_to_its_bound_and_the_number_of_stubs_is_capped() {
    // Exactly at the bound: "a," repeated, 2 KiB in all.
    let at_bound = "a,".repeat(SITE_LISTING_PARAM_BYTES / 2);
    assert_eq!(labels(&at_bound), by_label(&["a"], 10));
    let over = format!("{at_bound}b");
    let out = site(&macro_with("contentbylabel", &[("labels", &over)]));
    assert_eq!((out.body.as_str(), out.listings.len()), ("", 0));
    // Split over two parameters, the bound is for the whole macro.
    let half = "a,".repeat(SITE_LISTING_PARAM_BYTES / 4 + 1);
    let out = site(&macro_with(
        "contentbylabel",
        &[("labels", &half), ("label", &half)],
    ));
    assert_eq!(out.listings.len(), 0);
    // Ignored parameters are not read, so they do not count.
    let big_title = "t".repeat(3 * SITE_LISTING_PARAM_BYTES);
    let out = site(&macro_with(
        "contentbylabel",
        &[("title", &big_title), ("labels", "a")],
    ));
    assert_eq!(out.listings, vec![by_label(&["a"], 10)]);

    let many = r#"<ac:structured-macro ac:name="children"/>"#.repeat(MAX_SITE_LISTINGS + 3);
    let out = site(&many);
    assert_eq!(out.listings.len(), MAX_SITE_LISTINGS);
    assert_eq!(
        out.body,
        (0..MAX_SITE_LISTINGS).map(stub).collect::<String>()
    );
    assert_eq!(out.removed_macros, 3);
}

#[test]
fn site_mode_refuses_exactly_what_the_api_refuses() {
    for body in [
        "<p>x",
        "</p>",
        "<p>x</div>",
        r#"<ac:structured-macro ac:name="children" ac:name="x"/>"#,
        r#"<ac:link><ri:page ri:content-title="a" ri:content-title="b"/></ac:link>"#,
        r#"<ac:structured-macro ac:name="children"><ac:parameter ac:name="all">x</ac:structured-macro>"#,
    ] {
        let api = rewrite_storage(body, &acme_hidden).map(|_| ());
        let site = rewrite_storage_for_site(body, &acme_hidden).map(|_| ());
        assert!(api.is_err(), "{body}");
        assert_eq!(site, api, "{body}");
    }
    // Parameters the API never reads cannot make the site refuse a body.
    for body in [
        r#"<ac:structured-macro ac:name="contentbylabel"><ac:parameter ac:name="labels" ac:name="x">a</ac:parameter></ac:structured-macro>"#,
        r#"<ac:structured-macro ac:name="contentbylabel"><ac:parameter ac:name="labels">&#0;&#xD800;</ac:parameter></ac:structured-macro>"#,
    ] {
        assert!(rewrite_storage(body, &acme_hidden).is_ok(), "{body}");
        assert_eq!(site(body).body, "", "{body}");
    }
    let deep = "<p>".repeat(MAX_DEPTH + 1) + &"</p>".repeat(MAX_DEPTH + 1);
    assert_eq!(
        rewrite_storage_for_site(&deep, &acme_hidden),
        Err(StorageError::TooDeep)
    );
}
