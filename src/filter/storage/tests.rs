//! Unit tests of the storage rewriter: a table of bodies for every rule, the canary page, byte
//! fidelity, Confluence samples and scanning. Refusals are in `tests_errors.rs`.

use std::cell::RefCell;

use super::*;

const SAMPLE_EXPANDED: &str =
    include_str!("testdata/cloud-v1-content-by-id-expanded.storage.xhtml");
const SAMPLE_PAGES_0: &str = include_str!("testdata/cloud-v1-space-content-pages-0.storage.xhtml");
const SAMPLE_PAGES_1: &str = include_str!("testdata/cloud-v1-space-content-pages-1.storage.xhtml");
const SHARED_ARTICLE: &str = include_str!("testdata/shared-article.storage.xhtml");

/// Hidden: titles with "Acme" or "CANARY", space `SECRET`, content id 666.
fn acme_hidden(r: &ContentRef) -> bool {
    match r {
        ContentRef::Page { title, space_key }
        | ContentRef::BlogPost {
            title, space_key, ..
        } => {
            !(title.contains("Acme")
                || title.contains("CANARY")
                || space_key.as_deref() == Some("SECRET"))
        }
        ContentRef::Id(id) => id != "666",
    }
}

fn everything(_: &ContentRef) -> bool {
    true
}

fn rewrite(body: &str) -> Rewritten {
    rewrite_storage(body, &acme_hidden).unwrap()
}

fn page(title: &str, space: Option<&str>) -> ContentRef {
    ContentRef::Page {
        title: title.to_owned(),
        space_key: space.map(str::to_owned),
    }
}

const HIDDEN_LINK: &str = r#"<ac:link><ri:page ri:content-title="Acme: secret runbook" ri:space-key="KB"/><ac:plain-text-link-body><![CDATA[the runbook]]></ac:plain-text-link-body></ac:link>"#;
const VISIBLE_LINK: &str = r#"<ac:link><ri:page ri:content-title="Shared: FAQ" ri:space-key="KB"/><ac:plain-text-link-body><![CDATA[the FAQ]]></ac:plain-text-link-body></ac:link>"#;

/// (what, input, expected output, removed links, removed macros)
const TABLE: &[(&str, &str, &str, usize, usize)] = &[
    (
        "rule 1: a visible page link stays",
        VISIBLE_LINK,
        VISIBLE_LINK,
        0,
        0,
    ),
    (
        "rule 1: a hidden page link goes with its body",
        concat!(
            "<p>See ",
            r#"<ac:link><ri:page ri:content-title="Acme: secret runbook" ri:space-key="KB"/><ac:plain-text-link-body><![CDATA[the runbook]]></ac:plain-text-link-body></ac:link>"#,
            ".</p>"
        ),
        "<p>See .</p>",
        1,
        0,
    ),
    (
        "rule 1: a rich link body goes too",
        r#"<p><ac:link><ri:page ri:content-title="Acme runbook"></ri:page><ac:link-body><strong>Acme</strong> runbook</ac:link-body></ac:link></p>"#,
        "<p></p>",
        1,
        0,
    ),
    (
        "rule 1: a hidden blog post link goes",
        r#"<ac:link><ri:blog-post ri:content-title="Acme news" ri:posting-day="2024/01/02"/></ac:link>x"#,
        "x",
        1,
        0,
    ),
    (
        "rule 1: a hidden content entity goes",
        r#"<ac:link><ri:content-entity ri:content-id="666"/></ac:link>x"#,
        "x",
        1,
        0,
    ),
    (
        "rule 1: a visible content entity stays",
        r#"<ac:link><ri:content-entity ri:content-id="42"/></ac:link>"#,
        r#"<ac:link><ri:content-entity ri:content-id="42"/></ac:link>"#,
        0,
        0,
    ),
    (
        "rule 1: a hidden space key hides the page",
        r#"<ac:link><ri:page ri:content-title="Home" ri:space-key="SECRET"/></ac:link>"#,
        "",
        1,
        0,
    ),
    (
        "rule 1: a hidden content id on a page hides it even with a shown title",
        r#"<ac:link><ri:page ri:content-title="Shared" ri:content-id="666"/></ac:link>"#,
        "",
        1,
        0,
    ),
    (
        "rule 1: user, url, space, anchor and own attachment links stay",
        r#"<ac:link><ri:user ri:account-id="u1"/></ac:link><ac:link><ri:url ri:value="https://x.example/a?b=1&amp;c=2"/></ac:link><ac:link><ri:space ri:space-key="KB"/></ac:link><ac:link ac:anchor="top"><ac:plain-text-link-body><![CDATA[top]]></ac:plain-text-link-body></ac:link><ac:link><ri:attachment ri:filename="a.pdf"/></ac:link>"#,
        r#"<ac:link><ri:user ri:account-id="u1"/></ac:link><ac:link><ri:url ri:value="https://x.example/a?b=1&amp;c=2"/></ac:link><ac:link><ri:space ri:space-key="KB"/></ac:link><ac:link ac:anchor="top"><ac:plain-text-link-body><![CDATA[top]]></ac:plain-text-link-body></ac:link><ac:link><ri:attachment ri:filename="a.pdf"/></ac:link>"#,
        0,
        0,
    ),
    (
        "rule 2: an attachment of a hidden page goes with its link",
        r#"<ac:link><ri:attachment ri:filename="plan.pdf"><ri:page ri:content-title="Acme plan"/></ri:attachment><ac:plain-text-link-body><![CDATA[plan]]></ac:plain-text-link-body></ac:link>"#,
        "",
        1,
        0,
    ),
    (
        "rule 2: an image of a hidden blog post goes",
        r#"<ac:image ac:width="10"><ri:attachment ri:filename="x.png"><ri:blog-post ri:content-title="Acme" ri:posting-day="2024/01/01"/></ri:attachment></ac:image>y"#,
        "y",
        1,
        0,
    ),
    (
        "rule 2: an image of a visible page stays",
        r#"<ac:image><ri:attachment ri:filename="x.png"><ri:page ri:content-title="Shared"/></ri:attachment></ac:image>"#,
        r#"<ac:image><ri:attachment ri:filename="x.png"><ri:page ri:content-title="Shared"/></ri:attachment></ac:image>"#,
        0,
        0,
    ),
    (
        "rule 3: a children macro goes whatever it names",
        r#"<p>a</p><ac:structured-macro ac:name="children" ac:schema-version="2"><ac:parameter ac:name="all">true</ac:parameter></ac:structured-macro><p>b</p>"#,
        "<p>a</p><p>b</p>",
        0,
        1,
    ),
    (
        "rule 3: a self-closing listing macro goes",
        r#"a<ac:structured-macro ac:name="recently-updated"/>b"#,
        "ab",
        0,
        1,
    ),
    (
        "rule 3: an old-style ac:macro goes",
        r#"a<ac:macro ac:name="children"></ac:macro>b"#,
        "ab",
        0,
        1,
    ),
    (
        "rule 3: macro names match ignoring case, padding and character references",
        r#"<ac:structured-macro ac:name=" Children "/><ac:structured-macro ac:name="chil&#100;ren"/><ac:structured-macro ac:name="INCLUDE"/>"#,
        "",
        0,
        3,
    ),
    (
        "rule 3: an include of a visible page still goes",
        r#"<ac:structured-macro ac:name="include"><ac:parameter ac:name=""><ac:link><ri:page ri:content-title="Shared"/></ac:link></ac:parameter></ac:structured-macro>"#,
        "",
        0,
        1,
    ),
    (
        "rule 3: a hidden link inside an info macro goes, the macro stays",
        concat!(
            r#"<ac:structured-macro ac:name="info"><ac:rich-text-body><p>x "#,
            r#"<ac:link><ri:page ri:content-title="Acme: secret runbook" ri:space-key="KB"/><ac:plain-text-link-body><![CDATA[the runbook]]></ac:plain-text-link-body></ac:link>"#,
            r#"</p></ac:rich-text-body></ac:structured-macro>"#
        ),
        r#"<ac:structured-macro ac:name="info"><ac:rich-text-body><p>x </p></ac:rich-text-body></ac:structured-macro>"#,
        1,
        0,
    ),
    (
        "rule 3: a listing macro inside a kept macro goes alone",
        r#"<ac:structured-macro ac:name="panel"><ac:rich-text-body><ac:structured-macro ac:name="contentbylabel"><ac:parameter ac:name="labels">org-acme</ac:parameter></ac:structured-macro></ac:rich-text-body></ac:structured-macro>"#,
        r#"<ac:structured-macro ac:name="panel"><ac:rich-text-body></ac:rich-text-body></ac:structured-macro>"#,
        0,
        1,
    ),
    (
        "rule 3: a hidden page parameter takes its kept macro",
        r#"<ac:structured-macro ac:name="note"><ac:parameter ac:name="page"><ri:page ri:content-title="Acme"/></ac:parameter><ac:rich-text-body>n</ac:rich-text-body></ac:structured-macro>z"#,
        "z",
        0,
        1,
    ),
    (
        "rule 3: a visible page parameter keeps its macro",
        r#"<ac:structured-macro ac:name="note"><ac:parameter ac:name="page"><ri:page ri:content-title="Shared"/></ac:parameter></ac:structured-macro>"#,
        r#"<ac:structured-macro ac:name="note"><ac:parameter ac:name="page"><ri:page ri:content-title="Shared"/></ac:parameter></ac:structured-macro>"#,
        0,
        0,
    ),
    (
        "rule 4: a bare hidden reference in a macro body takes the smallest macro",
        r#"<ac:structured-macro ac:name="panel"><ac:rich-text-body><ac:structured-macro ac:name="tip"><ac:rich-text-body><p><ri:page ri:content-title="Acme"/></p></ac:rich-text-body></ac:structured-macro></ac:rich-text-body></ac:structured-macro>"#,
        r#"<ac:structured-macro ac:name="panel"><ac:rich-text-body></ac:rich-text-body></ac:structured-macro>"#,
        0,
        1,
    ),
    (
        "rule 4: a bare hidden reference outside containers goes alone",
        r#"<p>a<ri:page ri:content-title="Acme"/>b<ri:page ri:content-title="Acme"></ri:page>c</p>"#,
        "<p>abc</p>",
        2,
        0,
    ),
    (
        "rule 4: a bare attachment of a hidden page goes whole",
        r#"<p><ri:attachment ri:filename="f"><ri:page ri:content-title="Acme"/></ri:attachment></p>"#,
        "<p></p>",
        1,
        0,
    ),
    (
        "rule 4: an unresolvable or unknown reference counts as hidden",
        r#"<ac:link><ri:page ri:space-key="KB"/></ac:link><ac:link><ri:future-thing ri:x="1"/></ac:link>"#,
        "",
        2,
        0,
    ),
    (
        "rule 5: processing instructions, declarations and doctypes are dropped",
        r#"<?xml version="1.0"?><!DOCTYPE html><p>a<?php echo 1; ?></p>"#,
        "<p>a</p>",
        0,
        0,
    ),
    (
        "rule 5: comments, entities and CDATA are copied",
        "<!-- c --><p>&nbsp;&rsquo;&amp;<![CDATA[<x>&]]> & </p>",
        "<!-- c --><p>&nbsp;&rsquo;&amp;<![CDATA[<x>&]]> & </p>",
        0,
        0,
    ),
    (
        "a link nested in a removed macro is not counted twice",
        r#"<ac:structured-macro ac:name="tip"><ac:parameter ac:name="p"><ri:page ri:content-title="Acme"/></ac:parameter><ac:rich-text-body><ac:link><ri:page ri:content-title="Acme 2"/></ac:link></ac:rich-text-body></ac:structured-macro>"#,
        "",
        0,
        1,
    ),
];

#[test]
fn every_rule_in_the_table_gives_the_expected_body_and_counts() {
    for &(what, input, expected, links, macros) in TABLE {
        let out = rewrite_storage(input, &acme_hidden).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(out.body, expected, "{what}");
        assert_eq!(
            (out.removed_links, out.removed_macros),
            (links, macros),
            "{what}: counts"
        );
    }
}

#[test]
fn every_listing_macro_is_removed_even_when_everything_is_visible() {
    for name in LISTING_MACROS {
        let body = format!(
            r#"<p>a</p><ac:structured-macro ac:name="{name}"><ac:parameter ac:name="x">MARK</ac:parameter></ac:structured-macro>"#
        );
        let out = rewrite_storage(&body, &everything).unwrap();
        assert_eq!(out.body, "<p>a</p>", "{name}");
        assert_eq!(out.removed_macros, 1, "{name}");
    }
}

#[test]
fn ordinary_macros_are_kept_when_everything_is_visible() {
    for name in [
        "info", "note", "warning", "tip", "panel", "code", "expand", "toc", "status", "anchor",
        "excerpt", "noformat", "details", "section", "column",
    ] {
        let body = format!(
            r#"<ac:structured-macro ac:name="{name}"><ac:parameter ac:name="x">y</ac:parameter><ac:rich-text-body><p>z</p></ac:rich-text-body></ac:structured-macro>"#
        );
        assert_eq!(
            rewrite_storage(&body, &everything).unwrap().body,
            body,
            "{name}"
        );
    }
}

#[test]
fn a_shared_body_never_shows_the_canary_page_in_any_form() {
    let body = concat!(
        r#"<p>Intro <ac:link><ri:page ri:content-title="Acme: CANARY-acme-1 runbook" ri:space-key="KB" /><ac:plain-text-link-body><![CDATA[Acme: CANARY-acme-1 runbook]]></ac:plain-text-link-body></ac:link></p>"#,
        r#"<ac:structured-macro ac:name="include" ac:schema-version="1"><ac:parameter ac:name=""><ac:link><ri:page ri:content-title="Acme: CANARY-acme-1 runbook" /></ac:link></ac:parameter></ac:structured-macro>"#,
        r#"<ac:structured-macro ac:name="excerpt-include"><ac:parameter ac:name="nopanel">true</ac:parameter><ac:parameter ac:name=""><ac:link><ri:page ri:content-title="Acme: CANARY-acme-1 runbook" ri:space-key="KB" /></ac:link></ac:parameter></ac:structured-macro>"#,
        r#"<ac:structured-macro ac:name="children"><ac:parameter ac:name="page"><ac:link><ri:page ri:content-title="Acme: CANARY-acme-1 runbook" /></ac:link></ac:parameter></ac:structured-macro>"#,
        r#"<ac:image><ri:attachment ri:filename="canary.png"><ri:page ri:content-title="Acme: CANARY&#45;acme-1 runbook" /></ri:attachment></ac:image>"#,
        r#"<p>Shared text stays.</p>"#,
    );
    let out = rewrite(body);
    assert_eq!(out.body, "<p>Intro </p><p>Shared text stays.</p>");
    for needle in ["CANARY", "canary", "Acme", "acme", "runbook", "&#45;"] {
        assert!(!out.body.contains(needle), "{needle} leaked");
    }
    assert_eq!((out.removed_links, out.removed_macros), (2, 3));
}

#[test]
fn visible_links_entities_cdata_emoji_and_quoted_attributes_survive_byte_for_byte() {
    let body = concat!(
        "<p>Caf\u{e9} &nbsp;&rsquo;&#8217;&#x1F680; \u{1F680}\u{1F469}\u{200D}\u{1F4BB}</p>",
        r#"<ac:link><ri:page ri:content-title="Say &quot;hi&quot; &amp; &lt;go&gt;" ri:space-key="KB"/><ac:plain-text-link-body><![CDATA[a < b && c]]></ac:plain-text-link-body></ac:link>"#,
        "<p title='single &apos;quoted&apos;'  class = \"x\" >\r\n\ttabs</p>",
        r#"<ac:structured-macro ac:name="code"><ac:plain-text-body><![CDATA[</p><ri:page ri:content-title="Acme"/>]]></ac:plain-text-body></ac:structured-macro>"#,
    );
    let out = rewrite(body);
    assert_eq!(out.body, body);
    assert_eq!((out.removed_links, out.removed_macros), (0, 0));
}

#[test]
fn a_hidden_link_goes_at_the_start_middle_and_end_of_a_body() {
    for body in [
        format!("{HIDDEN_LINK}<p>x</p>"),
        format!("<p>x{HIDDEN_LINK}</p>"),
        format!("<p>x</p>{HIDDEN_LINK}"),
    ] {
        let out = rewrite(&body);
        assert_eq!(out.body.replace("x</p>", ""), "<p>", "{body}");
        assert!(!out.body.contains("runbook"));
    }
}

#[test]
fn self_closing_and_open_close_forms_are_judged_alike() {
    for hidden in [
        r#"<ri:page ri:content-title="Acme"/>"#,
        r#"<ri:page ri:content-title="Acme" />"#,
        r#"<ri:page ri:content-title="Acme"></ri:page>"#,
    ] {
        let body = format!("<p><ac:link>{hidden}</ac:link>ok</p>");
        assert_eq!(rewrite(&body).body, "<p>ok</p>", "{hidden}");
    }
    let kept =
        r#"<ac:link><ri:page ri:content-title="Shared"></ri:page></ac:link><ac:link/><ac:image/>"#;
    assert_eq!(rewrite(kept).body, kept);
}

#[test]
fn the_confluence_samples_round_trip_unchanged_when_everything_is_visible() {
    for sample in [
        SAMPLE_EXPANDED,
        SAMPLE_PAGES_0,
        SAMPLE_PAGES_1,
        SHARED_ARTICLE,
    ] {
        let out = rewrite_storage(sample, &everything).unwrap();
        assert_eq!(out.body, sample);
        assert_eq!((out.removed_links, out.removed_macros), (0, 0));
    }
}

#[test]
fn the_shared_article_loses_only_what_names_a_hidden_page() {
    let hide_branding = |r: &ContentRef| *r != page("Shared: Branding", None);
    let out = rewrite_storage(SHARED_ARTICLE, &hide_branding).unwrap();
    let image = r#"<ac:image><ri:attachment ri:filename="logo.png"><ri:page ri:content-title="Shared: Branding" /></ri:attachment></ac:image>"#;
    assert!(SHARED_ARTICLE.contains(image));
    assert_eq!(out.body, SHARED_ARTICLE.replacen(image, "", 1));
    assert_eq!((out.removed_links, out.removed_macros), (1, 0));
}

#[test]
fn scanning_lists_each_reference_once_in_order_with_decoded_values() {
    let body = concat!(
        r#"<ac:link><ri:page ri:content-title="Say &quot;hi&quot; &amp; &#233;&#x263A;" ri:space-key="KB"/></ac:link>"#,
        r#"<ac:link><ri:blog-post ri:content-title="News" ri:posting-day="2024/02/29"/></ac:link>"#,
        r#"<ac:link><ri:page ri:content-title="Say &quot;hi&quot; &amp; &#233;&#x263A;" ri:space-key="KB"/></ac:link>"#,
        r#"<ac:image><ri:attachment ri:filename="f"><ri:page ri:content-title="Att&eacute;"/></ri:attachment></ac:image>"#,
        r#"<ri:content-entity ri:content-id="42"/><ri:page ri:content-title="Both" ri:content-id="7"/>"#,
        r#"<ac:structured-macro ac:name="children"><ac:parameter ac:name="page"><ri:page ri:content-title="Never asked"/></ac:parameter></ac:structured-macro>"#,
        r#"<ac:link><ri:user ri:account-id="u"/></ac:link><ri:page ri:space-key="KB"/>"#,
    );
    let refs = scan_storage(body).unwrap().refs;
    assert_eq!(
        refs,
        vec![
            page("Say \"hi\" & \u{e9}\u{263a}", Some("KB")),
            ContentRef::BlogPost {
                title: "News".into(),
                space_key: None,
                posting_day: Some("2024/02/29".into())
            },
            page("Att&eacute;", None),
            ContentRef::Id("42".into()),
            page("Both", None),
            ContentRef::Id("7".into()),
        ]
    );
}

#[test]
fn the_rewriter_asks_about_exactly_the_scanned_references_whatever_the_answers() {
    let bodies = TABLE.iter().map(|row| row.1).chain([SHARED_ARTICLE]);
    for sample in bodies {
        let scanned = scan_storage(sample).unwrap().refs;
        for answer in [true, false] {
            let asked = RefCell::new(Vec::<ContentRef>::new());
            let record = |r: &ContentRef| {
                let mut asked = asked.borrow_mut();
                if !asked.contains(r) {
                    asked.push(r.clone());
                }
                answer
            };
            rewrite_storage(sample, &record).unwrap();
            assert_eq!(asked.into_inner(), scanned);
        }
    }
    assert!(!scan_storage(SHARED_ARTICLE).unwrap().refs.is_empty());
}

#[test]
fn a_byte_order_mark_and_crlf_line_ends_are_copied() {
    let body =
        "\u{FEFF}<p>a\r\nb</p>\r\n<ac:link><ri:page ri:content-title=\"Acme\"/></ac:link>\r\n";
    let out = rewrite(body);
    assert_eq!(out.body, "\u{FEFF}<p>a\r\nb</p>\r\n\r\n");
}
