//! The renderer against hostile bodies: the XSS corpus, malformed markup, and generated
//! nestings of hostile and Confluence elements checked by the output validator.

use super::render::*;
use super::render_tests::render;

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
        };
        assert!(render_storage(body, &ctx).is_err(), "{body}");
    }
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
