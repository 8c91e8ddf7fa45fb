//! The renderer against hostile bodies: the XSS corpus, malformed markup, listing stubs
//! (kbgate's own and forged ones), and generated nestings of hostile and Confluence elements
//! checked by the output validator.

use super::render::*;
use super::render_tests::{article_url, attachment_url, listings, render};
use crate::filter::storage::{rewrite_storage_for_site, SiteListing};

/// `PWN` marks a payload that must never reach the output in any form; `forbid` lists what
/// else must not appear (lowercase) for cases whose payload legitimately survives as text.
const CORPUS: &[(&str, &str, &[&str])] = &[
    (
        "script tag",
        "<p>a</p><script>PWN()</script>",
        &["pwn", "<script"],
    ),
    ("uppercase script tag", "<SCRIPT>PWN()</SCRIPT>", &["pwn"]),
    (
        "img onerror",
        r#"<p><img src="x" onerror="PWN()"/></p>"#,
        &["pwn", "onerror", "<img"],
    ),
    (
        "event handler on p",
        r#"<p onclick="PWN()">ok</p>"#,
        &["pwn", "onclick"],
    ),
    (
        "javascript href",
        r#"<a href="javascript:PWN()">x</a>"#,
        &["pwn", "javascript"],
    ),
    (
        "mixed-case javascript href",
        r#"<a href="JaVaScRiPt:PWN()">x</a>"#,
        &["pwn", "javascript"],
    ),
    (
        "decimal-entity scheme",
        r#"<a href="&#106;avascript:PWN()">x</a>"#,
        &["pwn", "javascript"],
    ),
    (
        "hex-entity scheme",
        r#"<a href="&#x6A;avascript&#x3A;PWN()">x</a>"#,
        &["pwn", "javascript"],
    ),
    (
        "tab inside scheme",
        r#"<a href="java&#9;script:PWN()">x</a>"#,
        &["pwn", "script"],
    ),
    (
        "leading space scheme",
        r#"<a href=" javascript:PWN()">x</a>"#,
        &["pwn", "javascript"],
    ),
    (
        "data url",
        r#"<a href="data:text/html,PWN">x</a>"#,
        &["pwn", "data:"],
    ),
    (
        "vbscript url",
        r#"<a href="vbscript:PWN">x</a>"#,
        &["pwn", "vbscript"],
    ),
    (
        "svg with handler",
        r#"<svg onload="PWN()"><script>PWN</script></svg>"#,
        &["pwn", "<svg"],
    ),
    (
        "iframe",
        r#"<iframe src="https://evil.example/PWN"></iframe>"#,
        &["pwn", "<iframe"],
    ),
    (
        "iframe srcdoc",
        r#"<iframe srcdoc="&lt;script&gt;PWN&lt;/script&gt;"/>"#,
        &["pwn"],
    ),
    (
        "style element",
        "<style>body{background:url(PWN)}</style><p>x</p>",
        &["pwn", "<style"],
    ),
    (
        "style attribute",
        r#"<p style="background:url(javascript:PWN)">x</p>"#,
        &["pwn", "style"],
    ),
    (
        "cdata script",
        "<p><![CDATA[<script>PWN()</script>]]></p>",
        &["<script"],
    ),
    (
        "cdata split around a real script",
        "<p><![CDATA[a]]><script>PWN</script><![CDATA[b]]></p>",
        &["pwn"],
    ),
    (
        "code body breaking out of cdata",
        r#"<ac:structured-macro ac:name="code"><ac:plain-text-body><![CDATA[a]]><script>PWN</script><![CDATA[b]]></ac:plain-text-body></ac:structured-macro>"#,
        &["pwn", "<script"],
    ),
    (
        "ri:url javascript",
        r#"<ac:link><ri:url ri:value="javascript:PWN()"/></ac:link>"#,
        &["pwn"],
    ),
    (
        "ri:url entity javascript",
        r#"<ac:link><ri:url ri:value="&#106;avascript:PWN()"/><ac:link-body>t</ac:link-body></ac:link>"#,
        &["pwn", "href"],
    ),
    (
        "external image",
        r#"<ac:image><ri:url ri:value="javascript:PWN"/></ac:image>"#,
        &["pwn", "<img"],
    ),
    (
        "object and embed",
        r#"<object data="PWN"></object><embed src="PWN"/>"#,
        &["pwn"],
    ),
    (
        "math mtext script",
        "<math><mtext><script>PWN</script></mtext></math>",
        &["pwn"],
    ),
    (
        "attribute breakout in a dropped attribute",
        r#"<p title="&quot;&gt;&lt;script&gt;PWN&lt;/script&gt;">x</p>"#,
        &["pwn"],
    ),
    (
        "panel title markup",
        r#"<ac:structured-macro ac:name="info"><ac:parameter ac:name="title">&lt;script&gt;PWN</ac:parameter><ac:rich-text-body><p>x</p></ac:rich-text-body></ac:structured-macro>"#,
        &["<script"],
    ),
    (
        "image alt breakout",
        r#"<ac:image ac:alt="&quot; onerror=&quot;PWN()"><ri:attachment ri:filename="a.png"/></ac:image>"#,
        &["onerror=\""],
    ),
    (
        "attachment file name breakout",
        r#"<ac:link><ri:attachment ri:filename="x&quot;&gt;&lt;script&gt;PWN.pdf"/></ac:link>"#,
        &["<script", "\">\"", "x\">"],
    ),
    (
        "escaped markup in text",
        "<p>&lt;script&gt;PWN&lt;/script&gt;</p>",
        &["<script"],
    ),
    (
        "handler next to a good href",
        r#"<a href="https://ok.example/" onclick="PWN()">x</a>"#,
        &["pwn", "onclick"],
    ),
    (
        "html macro",
        r#"<ac:structured-macro ac:name="HTML"><ac:plain-text-body><![CDATA[<script>PWN</script>]]></ac:plain-text-body></ac:structured-macro>"#,
        &["pwn"],
    ),
    (
        "href with quote and space",
        r#"<a href="https://x.example/&quot; onmouseover=&quot;PWN">x</a>"#,
        &["pwn", "onmouseover"],
    ),
    (
        "stylesheet link",
        r#"<link rel="stylesheet" href="https://evil.example/PWN.css"/>"#,
        &["pwn", "<link"],
    ),
    (
        "meta refresh",
        r#"<meta http-equiv="refresh" content="0;url=javascript:PWN"/>"#,
        &["pwn", "<meta"],
    ),
    (
        "base href",
        r#"<base href="https://evil.example/PWN"/>"#,
        &["pwn", "<base"],
    ),
    (
        "form and input",
        r#"<form action="https://evil.example/PWN"><input value="PWN"/></form>"#,
        &["pwn", "<form"],
    ),
    (
        "template script",
        "<div><template><script>PWN</script></template></div>",
        &["pwn"],
    ),
    (
        "namespaced href",
        r#"<a xlink:href="javascript:PWN">x</a>"#,
        &["pwn", "href"],
    ),
    (
        "script inside a visible link body",
        r#"<ac:link><ri:page ri:content-title="Visible x"/><ac:link-body><script>PWN</script>y</ac:link-body></ac:link>"#,
        &["pwn", "<script"],
    ),
    ("noscript", "<noscript><p>PWN</p></noscript>", &["pwn"]),
    (
        "processing instruction",
        "<?xml-stylesheet href=\"PWN.xsl\"?><p>x</p>",
        &["pwn"],
    ),
    ("comment", "<!--<script>PWN</script>--><p>x</p>", &["pwn"]),
];

#[test]
fn hostile_bodies_render_only_kbgates_own_safe_markup() {
    assert!(CORPUS.len() >= 25);
    for (name, body, forbid) in CORPUS {
        // `render` also runs the structural validator on the output.
        let html = render(body).to_ascii_lowercase();
        for f in *forbid {
            assert!(!html.contains(f), "{name}: {f:?} in {html}");
        }
    }
}

#[test]
fn hostile_bodies_that_are_not_well_formed_are_refused_not_repaired() {
    for body in [
        "<p><script>PWN</p></script>",
        "<img src=x onerror=PWN()>",
        "<p><![CDATA[<script>PWN</script></p>",
        "<<script>PWN</script>",
    ] {
        let ctx = RenderContext {
            article_url: &|_| None,
            attachment_url: &|_| None,
            children: &[],
            listings: &[],
        };
        assert!(render_storage(body, &ctx).is_err(), "{body}");
    }
}

fn stub(index: &str) -> String {
    format!(
        "<ac:structured-macro ac:name=\"kbgate-listing\"><ac:parameter ac:name=\"index\">{index}</ac:parameter></ac:structured-macro>"
    )
}

const LIST_0: &str = "<ul class=\"kb-children kb-listing\">\
    <li><a href=\"/kb/articles/301?a=1&amp;b=2\">Listed &lt;one&gt; &amp; &quot;q&quot;</a></li>\
    <li><a href=\"/kb/articles/302\">Listed two</a></li></ul>";
const LIST_2: &str = "<ul class=\"kb-children kb-listing\">\
    <li><a href=\"/kb/articles/303\">Listed three</a></li></ul>";

#[test]
fn a_listing_stub_renders_the_callers_list_for_its_index_escaped() {
    assert_eq!(render(&stub("0")), LIST_0);
    assert_eq!(
        render(&format!("<p>{}</p>", stub(" 2 "))),
        format!("<p>{LIST_2}</p>")
    );
    let in_panel = render(&format!(
        "<ac:structured-macro ac:name=\"info\"><ac:rich-text-body>{}</ac:rich-text-body></ac:structured-macro>",
        stub("2")
    ));
    assert_eq!(
        in_panel,
        format!("<div class=\"kb-panel kb-panel-info\">{LIST_2}</div>")
    );
    let old_format = render(
        r#"<ac:macro ac:name="KBGATE-LISTING"><ac:parameter ac:name="index">0</ac:parameter></ac:macro>"#,
    );
    assert_eq!(old_format, LIST_0);
}

#[test]
fn a_listing_stub_with_a_bad_or_out_of_range_index_or_an_empty_list_renders_nothing() {
    for index in [
        "1", "3", "99999999", "-1", "0x1", "", "1e0", "0.0", "zero", "+0", "0 2", "&#48;x",
    ] {
        let html = render(&format!("<p>a</p>{}<p>b</p>", stub(index)));
        assert_eq!(html, "<p>a</p><p>b</p>", "index {index:?}");
    }
    for body in [
        r#"<ac:structured-macro ac:name="kbgate-listing"/>"#,
        r#"<ac:structured-macro ac:name="kbgate-listing"><ac:parameter ac:name="idx">0</ac:parameter></ac:structured-macro>"#,
        r#"<ac:structured-macro ac:name="kbgate-listing"><ac:default-parameter>0</ac:default-parameter></ac:structured-macro>"#,
    ] {
        assert_eq!(render(body), "", "{body}");
    }
    // A caller with no lists gets nothing for any index.
    let ctx = RenderContext {
        article_url: &article_url,
        attachment_url: &attachment_url,
        children: &[],
        listings: &[],
    };
    assert_eq!(render_storage(&stub("0"), &ctx).unwrap(), "");
}

#[test]
fn a_stub_forged_in_the_body_shows_only_the_callers_own_lists_and_nothing_it_contains() {
    let forged = r#"<p>a</p><ac:structured-macro ac:name="kbgate-listing">SECRET text
        <ac:parameter ac:name="title">SECRET title</ac:parameter>
        <ac:parameter ac:name="index"><ri:page ri:content-title="SECRET page"/>0</ac:parameter>
        <ac:parameter ac:name="page"><ac:link><ri:page ri:content-title="Visible x"/><ac:link-body>SECRET link</ac:link-body></ac:link></ac:parameter>
        <ac:rich-text-body><p>SECRET body</p><script>PWN()</script></ac:rich-text-body>
        <ac:plain-text-body><![CDATA[<script>PWN()</script> SECRET]]></ac:plain-text-body>
        <ac:structured-macro ac:name="kbgate-listing"><ac:parameter ac:name="index">2</ac:parameter></ac:structured-macro>
        </ac:structured-macro><p>b</p>"#;
    let html = render(forged);
    assert_eq!(html, format!("<p>a</p>{LIST_0}<p>b</p>"));
    let lower = html.to_ascii_lowercase();
    assert!(
        !lower.contains("secret") && !lower.contains("pwn"),
        "{html}"
    );
}

#[test]
fn a_body_rewritten_for_the_site_renders_each_stub_from_its_own_list() {
    let body = r#"<p>Intro</p><ac:structured-macro ac:name="contentbylabel"><ac:parameter ac:name="labels">faq, vpn</ac:parameter><ac:parameter ac:name="title">Acme secret</ac:parameter></ac:structured-macro>
<ac:structured-macro ac:name="children"><ac:parameter ac:name="page"><ri:page ri:content-title="Acme secret"/></ac:parameter></ac:structured-macro>
<ac:structured-macro ac:name="children"><ac:parameter ac:name="all">true</ac:parameter></ac:structured-macro>"#;
    let site = rewrite_storage_for_site(body, &|_| true).unwrap();
    assert_eq!(
        site.listings,
        vec![
            SiteListing::ByLabel {
                labels: vec!["faq".to_owned(), "vpn".to_owned()],
                max: 10
            },
            SiteListing::Children
        ]
    );
    // The caller evaluates listing 0 into `listings()[0]`; listing 1 is `listings()[2]` here
    // only to tell them apart, so pass a slice where index 1 holds that list.
    let mut lists = listings();
    lists.swap(1, 2);
    let ctx = RenderContext {
        article_url: &article_url,
        attachment_url: &attachment_url,
        children: &[],
        listings: &lists[..2],
    };
    let html = render_storage(&site.body, &ctx).unwrap();
    assert_eq!(html, format!("<p>Intro</p>{LIST_0}\n\n{LIST_2}"));
    assert!(!html.contains("Acme"));
}

mod generated {
    use proptest::prelude::*;

    use super::*;

    /// Self-balanced wrappers: ordinary, Confluence and hostile elements.
    const WRAPPERS: &[(&str, &str)] = &[
        ("<p>", "</p>"),
        ("<ul><li>", "</li></ul>"),
        ("<td colspan=\"2\" onclick=\"x\">", "</td>"),
        ("<script>", "</script>"),
        ("<svg onload=\"x\">", "</svg>"),
        ("<style>", "</style>"),
        ("<a href=\"javascript:x\">", "</a>"),
        ("<a href=\"https://ok.example/\">", "</a>"),
        ("<ac:link>", "</ac:link>"),
        ("<ac:link-body>", "</ac:link-body>"),
        (
            "<ac:structured-macro ac:name=\"info\">",
            "</ac:structured-macro>",
        ),
        (
            "<ac:structured-macro ac:name=\"expand\">",
            "</ac:structured-macro>",
        ),
        (
            "<ac:structured-macro ac:name=\"code\">",
            "</ac:structured-macro>",
        ),
        (
            "<ac:structured-macro ac:name=\"include\">",
            "</ac:structured-macro>",
        ),
        ("<ac:rich-text-body>", "</ac:rich-text-body>"),
        ("<ac:plain-text-body>", "</ac:plain-text-body>"),
        ("<ac:parameter ac:name=\"title\">", "</ac:parameter>"),
        ("<ac:parameter ac:name=\"language\">", "</ac:parameter>"),
        (
            "<ac:image ac:alt=\"&quot; onerror=&quot;x\">",
            "</ac:image>",
        ),
        (
            "<ri:attachment ri:filename=\"secret.png\">",
            "</ri:attachment>",
        ),
        ("<ri:attachment ri:filename=\"ok.png\">", "</ri:attachment>"),
        (
            "<ac:structured-macro ac:name=\"kbgate-listing\">",
            "</ac:structured-macro>",
        ),
        ("<ac:parameter ac:name=\"index\">", "</ac:parameter>"),
    ];

    const LEAVES: &[&str] = &[
        "text",
        " ",
        "\"'>",
        "&lt;script&gt;",
        "&amp;",
        "&#106;avascript:",
        "&nbsp;",
        "<![CDATA[<b onclick=\"x\">']]>",
        "<ri:page ri:content-title=\"Secret plan\"/>",
        "<ri:page ri:content-title=\"Visible a\"/>",
        "<ri:page ri:content-id=\"999\"/>",
        "<ri:url ri:value=\"javascript:y\"/>",
        "<ri:url ri:value=\"https://ok.example/\"/>",
        "<ac:structured-macro ac:name=\"children\"/>",
        "<ac:structured-macro ac:name=\"kbgate-listing\"><ac:parameter ac:name=\"index\">0</ac:parameter></ac:structured-macro>",
        "0",
        "<br/>",
        "<img src=\"x\" onerror=\"y\"/>",
    ];

    fn body() -> impl Strategy<Value = String> {
        let leaf = prop::sample::select(LEAVES).prop_map(str::to_owned);
        leaf.prop_recursive(6, 64, 4, |inner| {
            (
                prop::sample::select(WRAPPERS),
                prop::collection::vec(inner, 0..4),
            )
                .prop_map(|((open, close), kids)| format!("{open}{}{close}", kids.concat()))
        })
    }

    proptest! {
        #[test]
        fn any_nesting_of_hostile_and_confluence_elements_renders_safely(b in body()) {
            // `render` panics unless the body renders and the output passes the validator.
            let html = render(&b).to_ascii_lowercase();
            prop_assert!(!html.contains("secret"), "{}", html);
            prop_assert!(!html.contains("=\"javascript"), "{}", html);
            prop_assert!(!html.contains("onerror=\""), "{}", html);
        }
    }
}
